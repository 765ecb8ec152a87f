//! Graph mail: sendMail with inline attachments, validation failures, drafts, small attachments,
//! the large-attachment upload session, send, permissions, and the `/_emulator/outbox`.

use crate::common;

use base64::Engine;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn message(to: &str, attachments: Value) -> Value {
    json!({
        "subject": "Restored: report.docx",
        "body": {"contentType": "Text", "content": "Here is the restored file."},
        "toRecipients": [{"emailAddress": {"address": to, "name": "Recipient"}}],
        "attachments": attachments,
    })
}

fn file_att(name: &str, data: &[u8]) -> Value {
    json!({"@odata.type": "#microsoft.graph.fileAttachment", "name": name, "contentType": "text/plain", "contentBytes": b64(data)})
}

async fn outbox(t: &TestTenant) -> Vec<Value> {
    let resp = t.http.get(format!("{}/_emulator/outbox", t.base)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    v["value"].as_array().unwrap().clone()
}

/// App-only Graph token of a fresh app holding only `roles`.
fn token_with_roles(t: &TestTenant, roles: &[&str]) -> String {
    let emu = &t.emu.emu;
    let mut st = emu.state();
    let client_id = "22222222-2222-4333-8444-555555555555".to_string();
    st.apps.insert(
        client_id.clone(),
        emulator::state::App {
            client_id: client_id.clone(),
            display_name: "no mail".into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            ..Default::default()
        },
    );
    let req = emulator::auth::TokenRequest {
        client_id: &client_id,
        user_id: None,
        audience: emulator::auth::Audience::Graph,
        appidacr: "2",
        scopes: Vec::new(),
    };
    emulator::auth::issue_access_token(emu, &st, &req).0
}

#[tokio::test]
async fn send_mail_with_inline_attachment_and_failures() {
    let t = TestTenant::start("users=2").await;
    let tok = t.graph_token().await;
    let (_, upn, _) = t.user(0);
    let send = format!("/users/{upn}/sendMail");

    let data = b"restored bytes \x00\x01\x02".to_vec();
    let body = json!({"message": message("meganb@contoso.com", json!([file_att("report.txt", &data)])), "saveToSentItems": false});
    let (s, v) = t.call(&tok, Method::POST, &send, Some(body)).await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(v, Value::Null, "202 has an empty body");

    let out = outbox(&t).await;
    assert_eq!(out.len(), 1);
    let m = &out[0];
    assert_eq!(m["subject"], "Restored: report.docx");
    assert_eq!(m["toRecipients"][0]["emailAddress"]["address"], "meganb@contoso.com");
    assert_eq!(m["from"]["emailAddress"]["address"], upn.as_str());
    assert_eq!(m["body"]["content"], "Here is the restored file.");
    assert!(m["sentDateTime"].is_string());
    assert_eq!(m["attachments"][0]["name"], "report.txt");
    assert_eq!(m["attachments"][0]["contentType"], "text/plain");
    assert_eq!(m["attachments"][0]["size"], data.len());
    assert_eq!(m["attachments"][0]["contentBytes"], b64(&data));

    // Failures: nothing more reaches the outbox.
    let too_big = vec![7u8; 3 * 1024 * 1024 + 1];
    let cases = [
        (json!({"message": {"subject": "no recipients"}}), 400, "ErrorInvalidRecipients"),
        (json!({"message": message("not-an-address", json!([]))}), 400, "ErrorInvalidRecipients"),
        (json!({"saveToSentItems": true}), 400, "ErrorInvalidRequest"),
        (
            json!({"message": message("a@b.com", json!([{"@odata.type": "#microsoft.graph.fileAttachment", "name": "x", "contentBytes": "%%%not base64"}]))}),
            400,
            "RequestBodyRead",
        ),
        (
            json!({"message": message("a@b.com", json!([{"@odata.type": "#microsoft.graph.itemAttachment", "name": "x"}]))}),
            400,
            "ErrorInvalidParameter",
        ),
        (json!({"message": {"subjectt": "typo", "toRecipients": []}}), 400, "RequestBodyRead"),
        (
            json!({"message": message("a@b.com", json!([file_att("big.bin", &too_big)]))}),
            413,
            "ErrorMessageSizeExceeded",
        ),
    ];
    for (body, status, code) in cases {
        let (s, v) = t.call(&tok, Method::POST, &send, Some(body.clone())).await;
        assert_eq!(s.as_u16(), status, "{body}: {v}");
        assert_graph_error(&v, code);
    }
    let (s, v) = t
        .call(
            &tok,
            Method::POST,
            "/users/nobody@contoso.onmicrosoft.com/sendMail",
            Some(json!({"message": message("a@b.com", json!([]))})),
        )
        .await;
    assert_eq!(s, 404);
    assert_graph_error(&v, "ErrorInvalidUser");
    let (s, v) =
        t.call(&tok, Method::POST, "/me/sendMail", Some(json!({"message": message("a@b.com", json!([]))}))).await;
    assert_eq!(s, 400, "/me is delegated-only: {v}");
    assert_eq!(outbox(&t).await.len(), 1);

    // App without Mail.Send.
    let limited = token_with_roles(&t, &["Files.Read.All"]);
    let (s, v) = t.call(&limited, Method::POST, &send, Some(json!({"message": message("a@b.com", json!([]))}))).await;
    assert_eq!(s, 403);
    assert_graph_error(&v, "ErrorAccessDenied");

    // Delegated: own mailbox only.
    let (_, other_upn, _) = t.user(1);
    let user = t.user_token(&upn, &TestTenant::password_of(&upn), "https://graph.microsoft.com/.default").await;
    let (s, _) =
        t.call(&user, Method::POST, "/me/sendMail", Some(json!({"message": message("a@b.com", json!([]))}))).await;
    assert_eq!(s, 202);
    let (s, v) = t
        .call(
            &user,
            Method::POST,
            &format!("/users/{other_upn}/sendMail"),
            Some(json!({"message": message("a@b.com", json!([]))})),
        )
        .await;
    assert_eq!(s, 403);
    assert_graph_error(&v, "ErrorAccessDenied");
    assert_eq!(outbox(&t).await.len(), 2);

    // Clearing the outbox.
    let resp = t.http.delete(format!("{}/_emulator/outbox", t.base)).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    assert!(outbox(&t).await.is_empty());
}

async fn put_chunk(t: &TestTenant, url: &str, data: &[u8], start: usize, total: usize) -> reqwest::Response {
    let end = start + data.len() - 1;
    t.http
        .put(url)
        .header("Content-Type", "application/octet-stream")
        .header("Content-Range", format!("bytes {start}-{end}/{total}"))
        .body(data.to_vec())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn draft_with_large_attachment_then_send() {
    let t = TestTenant::start("users=1").await;
    let tok = t.graph_token().await;
    let (uid, upn, _) = t.user(0);
    let msgs = format!("/users/{uid}/messages");

    // Draft with a small inline attachment.
    let (s, draft) =
        t.call(&tok, Method::POST, &msgs, Some(message("lee@contoso.com", json!([file_att("a.txt", b"aaa")])))).await;
    assert_eq!(s, 201, "{draft}");
    let id = draft["id"].as_str().unwrap().to_string();
    assert_eq!(draft["isDraft"], true);
    assert_eq!(draft["hasAttachments"], true);
    assert_eq!(draft["subject"], "Restored: report.docx");
    assert_eq!(draft["from"]["emailAddress"]["address"], upn.as_str());

    // Small attachment added afterwards.
    let (s, att) =
        t.call(&tok, Method::POST, &format!("{msgs}/{id}/attachments"), Some(file_att("b.txt", b"bbbb"))).await;
    assert_eq!(s, 201, "{att}");
    assert_eq!(att["name"], "b.txt");
    assert_eq!(att["size"], 4);
    assert_eq!(att["@odata.type"], "#microsoft.graph.fileAttachment");
    let (s, _) = t
        .call(
            &tok,
            Method::POST,
            &format!("{msgs}/{id}/attachments"),
            Some(json!({"name": "untyped", "contentBytes": "AA=="})),
        )
        .await;
    assert_eq!(s, 400);

    // Upload session for 5 MB + 3 bytes: 4 MiB chunk, then the rest.
    let big: Vec<u8> = (0..(5 * 1024 * 1024 + 3)).map(|i| (i % 251) as u8).collect();
    let create = format!("{msgs}/{id}/attachments/createUploadSession");
    let (s, v) = t
        .call(
            &tok,
            Method::POST,
            &create,
            Some(json!({"AttachmentItem": {"attachmentType": "file", "name": "big.bin"}})),
        )
        .await;
    assert_eq!(s, 400, "size is required: {v}");
    let (s, v) = t
        .call(
            &tok,
            Method::POST,
            &create,
            Some(json!({"AttachmentItem": {"attachmentType": "file", "name": "huge", "size": 200u64 << 20}})),
        )
        .await;
    assert_eq!(s, 413, "{v}");
    let (s, v) = t
        .call(
            &tok,
            Method::POST,
            &format!("{msgs}/unknown-id/attachments/createUploadSession"),
            Some(json!({"AttachmentItem": {"attachmentType": "file", "name": "x", "size": 10}})),
        )
        .await;
    assert_eq!(s, 404);
    assert_graph_error(&v, "ErrorItemNotFound");
    let (s, session) = t
        .call(
            &tok,
            Method::POST,
            &create,
            Some(json!({"AttachmentItem": {"attachmentType": "file", "name": "big.bin", "size": big.len()}})),
        )
        .await;
    assert_eq!(s, 201, "{session}");
    assert_eq!(session["nextExpectedRanges"], json!(["0-"]));
    assert!(session["expirationDateTime"].is_string());
    let url = session["uploadUrl"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{}/_mailup/", t.base)));

    let chunk = 4 * 1024 * 1024;
    // Out of order, wrong total, oversize, missing Content-Range — all refused.
    assert_eq!(put_chunk(&t, &url, &big[10..20], 10, big.len()).await.status(), 416);
    assert_eq!(put_chunk(&t, &url, &big[..10], 0, big.len() + 1).await.status(), 400);
    assert_eq!(put_chunk(&t, &url, &big[..chunk + 1], 0, big.len()).await.status(), 413);
    let r = t.http.put(&url).body(big[..10].to_vec()).send().await.unwrap();
    assert_eq!(r.status(), 400);

    let r = put_chunk(&t, &url, &big[..chunk], 0, big.len()).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["nextExpectedRanges"], json!([chunk.to_string()]));
    assert_eq!(put_chunk(&t, &url, &big[..10], 0, big.len()).await.status(), 416, "overlap");
    let r = put_chunk(&t, &url, &big[chunk..], chunk, big.len()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains(&id) && location.contains("/attachments('"), "{location}");
    assert_eq!(put_chunk(&t, &url, &big[..1], 0, big.len()).await.status(), 404, "session is finished");

    // Not sent yet: outbox empty, message readable with its attachments.
    assert!(outbox(&t).await.is_empty());
    let (s, got) = t.get(&tok, &format!("{msgs}/{id}?$expand=attachments")).await;
    assert_eq!(s, 200);
    let names: Vec<&str> = got["attachments"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["a.txt", "b.txt", "big.bin"]);
    let (_, list) = t.get(&tok, &msgs).await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1);

    // Send.
    let (s, _) = t.call(&tok, Method::POST, &format!("{msgs}/{id}/send"), None).await;
    assert_eq!(s, 202);
    let out = outbox(&t).await;
    assert_eq!(out.len(), 1);
    let atts = out[0]["attachments"].as_array().unwrap();
    assert_eq!(atts[2]["size"], big.len());
    assert_eq!(
        base64::engine::general_purpose::STANDARD.decode(atts[2]["contentBytes"].as_str().unwrap()).unwrap(),
        big
    );
    let (_, sent) = t.get(&tok, &format!("{msgs}/{id}")).await;
    assert_eq!(sent["isDraft"], false);
    assert!(sent["sentDateTime"].is_string());
    let (s, v) = t.call(&tok, Method::POST, &format!("{msgs}/{id}/send"), None).await;
    assert_eq!(s, 400);
    assert_graph_error(&v, "ErrorInvalidOperation");
    let (s, _) =
        t.call(&tok, Method::POST, &format!("{msgs}/{id}/attachments"), Some(file_att("late.txt", b"x"))).await;
    assert_eq!(s, 400);

    // A draft without recipients cannot be sent; a cancelled session is gone.
    let (_, d2) = t.call(&tok, Method::POST, &msgs, Some(json!({"subject": "nobody"}))).await;
    let id2 = d2["id"].as_str().unwrap();
    let (s, v) = t.call(&tok, Method::POST, &format!("{msgs}/{id2}/send"), None).await;
    assert_eq!(s, 400);
    assert_graph_error(&v, "ErrorInvalidRecipients");
    let (_, s2) = t
        .call(
            &tok,
            Method::POST,
            &format!("{msgs}/{id2}/attachments/createUploadSession"),
            Some(json!({"AttachmentItem": {"attachmentType": "file", "name": "c", "size": 10}})),
        )
        .await;
    let url2 = s2["uploadUrl"].as_str().unwrap();
    assert_eq!(t.http.delete(url2).send().await.unwrap().status(), 204);
    assert_eq!(put_chunk(&t, url2, &[0u8; 10], 0, 10).await.status(), 404);
    let (s, _) = t.get(&tok, &format!("{msgs}/not-a-message")).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn outbox_is_not_subject_to_fault_injection() {
    let t = TestTenant::start("users=1").await;
    let tok = t.graph_token().await;
    let (uid, _, _) = t.user(0);
    let (_, draft) = t.call(&tok, Method::POST, &format!("/users/{uid}/messages"), Some(json!({"subject": "s"}))).await;
    let (_, session) = t
        .call(
            &tok,
            Method::POST,
            &format!("/users/{uid}/messages/{}/attachments/createUploadSession", draft["id"].as_str().unwrap()),
            Some(json!({"AttachmentItem": {"attachmentType": "file", "name": "c", "size": 10}})),
        )
        .await;
    let resp = t.http.post(format!("{}/_emulator/faults", t.base)).json(&json!({"status": 503})).send().await.unwrap();
    assert!(resp.status().is_success(), "{:?}", resp.text().await);
    assert_eq!(t.http.get(format!("{}/_emulator/outbox", t.base)).send().await.unwrap().status(), 200);
    let url = session["uploadUrl"].as_str().unwrap();
    assert_eq!(put_chunk(&t, url, &[0u8; 10], 0, 10).await.status(), 503, "upload URLs are tenant-facing");
}
