//! Send over real HTTPS: email settings, OneDrive and SharePoint sends to a real SMTP server over TCP (aiosmtpd, run by
//! the `test_support::smtp` helper, messages read back from its Maildir) and to Microsoft 365 through the
//! emulator's Graph (`/_emulator/outbox`), and the failure paths (server down, refusing, dying mid-message), none of
//! which leaves anything half-sent.

use crate::common;
use crate::email_security::restart_allowing_plaintext_mail;

use base64::Engine as _;
use common::{TestServer, DEFAULT_SEED};
use mail_parser::{MessageParser, MimeHeaders};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::smtp::{Options, Security, SmtpServer};

/// (name, bytes) of every attachment of a MIME message.
fn attachments(data: &[u8]) -> (mail_parser::Message<'_>, Vec<(String, Vec<u8>)>) {
    let m = MessageParser::default().parse(data).expect("a parseable message");
    let atts = m
        .attachments()
        .map(|a| (a.attachment_name().unwrap_or_default().to_string(), a.contents().to_vec()))
        .collect::<Vec<_>>();
    (m, atts)
}

fn od_path(s: &TestServer, sid: &str) -> String {
    format!("/RestoreSessions/{sid}/Organization/OneDrives/{}", s.changes.onedrive)
}

async fn put_settings(s: &TestServer, v: u8, res: &str, body: Value) {
    let (st, b) = s.call(Method::PUT, &format!("/v{v}/{res}"), Some(&s.token), Some(body.to_string().as_bytes())).await;
    assert_eq!(st, if v == 8 { StatusCode::NO_CONTENT } else { StatusCode::OK }, "{b}");
}

fn send_body(extra: Value) -> Value {
    let mut b = json!({"from": "backup@contoso.com", "to": "r.clark@contoso.com", "subject": "Restored files", "text": "Here they are"});
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_send_settings_and_failures() {
    let mut s = TestServer::start(DEFAULT_SEED).await;
    // The v3–v5 settings below store AUTH over aiosmtpd's plain connection: a trusted relay, which the server
    // configuration must allow.
    restart_allowing_plaintext_mail(&mut s, true).await;
    let smtp = SmtpServer::start();
    let sid = s.explore(6, "Veod", None).await;
    let od = od_path(&s, &sid);
    let doc = format!("/v6{od}/Documents/{}/send", s.changes.edited);

    // No settings yet → 400 naming the settings to configure; nothing recorded as sent.
    let (st, b) = s.post(&doc, Some(&s.token), send_body(json!({}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(b["message"].as_str().unwrap().contains("VeodEmailSettings"), "{b}");

    // Settings: v3–v5 spelling (`smtpServer`, `userName`, `password`), secrets never returned.
    put_settings(
        &s,
        5,
        "VEODEmailSettings",
        json!({"enableNotification": "true", "smtpServer": "127.0.0.1", "port": smtp.port, "useSSL": false,
               "useAuthentication": true, "userName": "mailer", "password": "hunter2-secret", "from": "backup@contoso.com"}),
    )
    .await;
    let (st, g) = s.get("/v6/VeodEmailSettings", Some(&s.token)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(g["server"], "127.0.0.1");
    assert_eq!(g["port"], smtp.port);
    assert_eq!(g["username"], "mailer");
    assert!(!g.to_string().contains("hunter2"), "{g}");
    // v6 spelling (`server`), partial update: authentication off, the rest unchanged.
    put_settings(&s, 8, "VeodEmailSettings", json!({"server": "127.0.0.1", "useAuthentication": false})).await;
    let (_, g) = s.get("/v8/VeodEmailSettings", Some(&s.token)).await;
    assert_eq!(g["from"], "backup@contoso.com");
    assert_eq!(g["useAuthentication"], false);

    // Unauthenticated → 401; another user's session → 404.
    let (st, _) = s.post(&doc, None, send_body(json!({}))).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = s.post(&doc, Some(&s.other_token), send_body(json!({}))).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.get("/v6/VeodEmailSettings", None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    // One document (v6 → 200 empty): the attachment is byte-identical to the backed-up content.
    let (st, b) = s.post(&doc, Some(&s.token), send_body(json!({}))).await;
    assert_eq!((st, &b), (StatusCode::OK, &Value::Null));
    assert_eq!(smtp.count(), 1);
    let got = smtp.last();
    assert!(got.mail_from.contains("backup@contoso.com"));
    assert_eq!(got.rcpt.len(), 1);
    let (m, atts) = attachments(&got.data);
    assert_eq!(m.subject(), Some("Restored files"));
    assert_eq!(m.from().unwrap().first().unwrap().address(), Some("backup@contoso.com"));
    assert_eq!(m.to().unwrap().first().unwrap().address(), Some("r.clark@contoso.com"));
    assert!(m.body_text(0).unwrap().contains("Here they are"));
    assert_eq!(atts.len(), 1);
    assert_eq!(atts[0].0, s.changes.edited_name);
    assert_eq!(atts[0].1, s.changes.edited_content);

    // Several documents, v8 → 204; two recipients.
    let (st, b) = s
        .post(
            &format!("/v8{od}/Documents/send"),
            Some(&s.token),
            send_body(json!({"to": "a@contoso.com; b@contoso.com",
                             "documents": [{"id": s.changes.edited}, {"Id": s.changes.created}]})),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
    let got = smtp.last();
    assert_eq!(got.rcpt.len(), 2);
    let (_, atts) = attachments(&got.data);
    let mut contents: Vec<Vec<u8>> = atts.into_iter().map(|a| a.1).collect();
    contents.sort();
    let mut want = vec![s.changes.edited_content.clone(), b"a brand new file".to_vec()];
    want.sort();
    assert_eq!(contents, want);

    // The whole OneDrive (v7): every backed-up file, content as in the repository.
    let (st, b) = s.post(&format!("/v7{od}/send"), Some(&s.token), send_body(json!({}))).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (_, atts) = attachments(&smtp.last().data);
    assert!(atts.len() >= 3, "{}", atts.len());
    assert!(atts.iter().any(|a| a.1 == s.changes.edited_content));
    assert!(atts.iter().any(|a| a.0 == "new-file.txt" && a.1 == b"a brand new file"));
    let sent = smtp.count();
    let connections = smtp.connections();

    // Header injection → 400, nothing sent.
    for bad in [
        json!({"subject": "hi\r\nBcc: evil@example.com"}),
        json!({"to": "r.clark@contoso.com\nBcc: evil@example.com"}),
        json!({"to": "not an address"}),
    ] {
        let (st, b) = s.post(&doc, Some(&s.token), send_body(bad)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    }
    // Malformed bodies → 400 naming the field.
    let (st, b) =
        s.post(&format!("/v6{od}/Documents/send"), Some(&s.token), send_body(json!({"documents": [{"x": 1}]}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(b["message"].as_str().unwrap().contains("documents[0].id"), "{b}");
    let (st, b) = s.post(&doc, Some(&s.token), json!({"from": "a@contoso.com"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(b["message"].as_str().unwrap().contains("'to'"), "{b}");
    // Unknown document → 404; the verb path in v5 → 404.
    let (st, _) = s.post(&format!("/v6{od}/Documents/nope/send"), Some(&s.token), send_body(json!({}))).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) =
        s.post(&format!("/v5{od}/Documents/{}/send", s.changes.edited), Some(&s.token), send_body(json!({}))).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(smtp.count(), sent);

    // Size limit below the document's size → 400 naming the limit, before anything is sent.
    put_settings(&s, 6, "VeodEmailSettings", json!({"maxMessageSizeBytes": 100})).await;
    let (st, b) = s.post(&doc, Some(&s.token), send_body(json!({}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(b["message"].as_str().unwrap().contains("limit of 100 bytes"), "{b}");
    assert_eq!(smtp.count(), sent);

    // None of the refused requests above even connected to the server.
    assert_eq!(smtp.connections(), connections, "{:?}", smtp.events());
    smtp.assert_nothing_partial();

    // SMTP server down → a clear error naming the server; nothing sent anywhere; a failed Send event.
    let mut down = SmtpServer::start();
    down.stop();
    put_settings(&s, 6, "VeodEmailSettings", json!({"maxMessageSizeBytes": 35_000_000, "port": down.port})).await;
    let (st, b) = s.post(&doc, Some(&s.token), send_body(json!({}))).await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR, "{b}");
    assert!(b["message"].as_str().unwrap().contains(&format!("127.0.0.1:{}", down.port)), "{b}");
    assert_eq!(down.count(), 0);
    down.assert_nothing_partial();
    assert_eq!(smtp.count(), sent);

    // The server goes down in the middle of the transaction (it dies once it has the whole message, before it
    // answers or stores anything) → 500 naming it, and its Maildir holds no partial message.
    let mut crashing = SmtpServer::start_with(Options { crash_in_data: true, ..Options::default() });
    put_settings(&s, 6, "VeodEmailSettings", json!({"port": crashing.port})).await;
    let (st, b) = s.post(&doc, Some(&s.token), send_body(json!({}))).await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR, "{b}");
    assert!(b["message"].as_str().unwrap().contains(&format!("127.0.0.1:{}", crashing.port)), "{b}");
    assert!(crashing.events().iter().any(|e| e["event"] == "crash"), "{:?}", crashing.events());
    assert!(crashing.exits(), "the crashing server is still running");
    assert_eq!(crashing.count(), 0);
    crashing.assert_nothing_partial();

    // The server refuses the message at the end of DATA → 500 carrying its 554 reply; nothing stored.
    let rejecting = SmtpServer::start_with(Options { reject_data: true, ..Options::default() });
    put_settings(&s, 6, "VeodEmailSettings", json!({"port": rejecting.port})).await;
    let (st, b) = s.post(&doc, Some(&s.token), send_body(json!({}))).await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR, "{b}");
    assert!(b["message"].as_str().unwrap().contains("554"), "{b}");
    assert_eq!(rejecting.count(), 0);
    rejecting.assert_nothing_partial();
    assert_eq!(smtp.count(), sent);
    put_settings(&s, 6, "VeodEmailSettings", json!({"port": down.port})).await;

    // Test email endpoint: against the dead server → 500; back to the live one → 200 and a message arrives.
    let (st, _) =
        s.post("/v6/VeodEmailSettings/SendTestEmail", Some(&s.token), json!({"email": "t@contoso.com"})).await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
    put_settings(&s, 6, "VeodEmailSettings", json!({"port": smtp.port})).await;
    let (st, b) =
        s.post("/v6/VeodEmailSettings/SendTestEmail", Some(&s.token), json!({"email": "t@contoso.com"})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(smtp.count(), sent + 1);
    assert!(smtp.last().rcpt[0].contains("t@contoso.com"));

    // Disabled → 400.
    put_settings(&s, 6, "VeodEmailSettings", json!({"enableNotification": false})).await;
    let (st, b) = s.post(&doc, Some(&s.token), send_body(json!({}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(b["message"].as_str().unwrap().contains("enableNotification"), "{b}");
    put_settings(&s, 6, "VeodEmailSettings", json!({"enableNotification": true})).await;

    // The seed's sendTo content (v3/v5 docs), posted to the verb endpoint, is accepted.
    let seed = r#"{"from": "j_smith@bestsupport.onmicrosoft.com", "to": "r.clark@bestsupport.onmicrosoft.com", "subject": "Support Ticket", "text": "Please find attached the files you requested" }"#;
    let (st, b) = s.post_raw(&doc, Some(&s.token), seed).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let last = smtp.last();
    let (m, _) = attachments(&last.data);
    assert_eq!(m.subject(), Some("Support Ticket"));

    // A previous version of a document: the same bytes as that version's save.
    let (_, vers) = s.get(&format!("/v6{od}/Documents/{}/Versions", s.changes.edited), Some(&s.token)).await;
    let vid = vers["results"][0]["versionId"].as_i64().expect("a previous version");
    let (st, b) = s
        .post(
            &format!("/v6{od}/Documents/{}/Versions/{vid}/send", s.changes.edited),
            Some(&s.token),
            send_body(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let saved = s
        .client
        .post(s.url(&format!("/v6{od}/Documents/{}/Versions/{vid}/save", s.changes.edited)))
        .bearer_auth(&s.token)
        .json(&json!({"asZip": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::OK);
    let saved = saved.bytes().await.unwrap().to_vec();
    let last = smtp.last();
    let (_, atts) = attachments(&last.data);
    assert_eq!(atts[0].1, saved);
    assert_ne!(atts[0].1, s.changes.edited_content);
    let (st, _) = s
        .post(
            &format!("/v6{od}/Documents/{}/Versions/999/send", s.changes.edited),
            Some(&s.token),
            send_body(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // v2–v5 `/Action` (the dispatcher of routes::save): the seed bodies — `{"sendTo": {…}}` (v5) and the bare
    // `{from, to, subject, text}` of seed 000 (v3) — and a v4 bulk `documents` list; 200 with an empty body.
    let sid5 = s.explore(5, "Veod", None).await;
    let od5 = od_path(&s, &sid5);
    let seed5 = r#"{ "sendTo": {"from": "j_smith@bestsupport.onmicrosoft.com", "to": "r.clark@bestsupport.onmicrosoft.com", "subject": "Support Ticket", "text": "Please find attached the files you requested" } }"#;
    let before = smtp.count();
    let (st, b) = s.post_raw(&format!("/v5{od5}/Documents/{}/Action", s.changes.edited), Some(&s.token), seed5).await;
    assert_eq!((st, &b), (StatusCode::OK, &Value::Null));
    let (st, b) = s.post_raw(&format!("/v3{od5}/Documents/{}/Action", s.changes.edited), Some(&s.token), seed).await;
    assert_eq!((st, &b), (StatusCode::OK, &Value::Null));
    let (st, b) = s
        .post(
            &format!("/v4{od5}/Documents/Action"),
            Some(&s.token),
            json!({"sendTo": send_body(json!({"documents": [{"id": s.changes.created}]}))}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(smtp.count(), before + 3);
    let last = smtp.last();
    let (_, atts) = attachments(&last.data);
    assert_eq!(atts, vec![("new-file.txt".to_string(), b"a brand new file".to_vec())]);
    // Malformed: `sendTo` not an object → 400; `/Action` in v6 → 404.
    let (st, _) = s.post(&format!("/v5{od5}/Action"), Some(&s.token), json!({"sendTo": 5})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = s.post(&format!("/v6{od}/Action"), Some(&s.token), json!({"sendTo": send_body(json!({}))})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Send events are recorded in the session (successes and the failure).
    let (st, ev) = s.get(&format!("/v6/RestoreSessions/{sid}/Events?limit=100"), Some(&s.token)).await;
    assert_eq!(st, StatusCode::OK, "{ev}");
    let sends: Vec<&Value> =
        ev["results"].as_array().unwrap().iter().filter(|e| e.to_string().contains("\"Send\"")).collect();
    assert!(sends.len() >= 4, "{ev}");
    assert!(sends.iter().any(|e| e.to_string().contains("Failed")), "{ev}");

    // Through the settings: STARTTLS and implicit TLS (`connectionSecurity`) with AUTH against servers that require
    // both. A self-signed certificate is refused unless `acceptInvalidCertificates`; a wrong password is refused by
    // the server; in both cases nothing is stored. The right settings deliver, authenticated as the configured user.
    for (security, name) in [(Security::StartTls, "StartTls"), (Security::Ssl, "Ssl")] {
        let auth = Some(("mailer".to_string(), "hunter2-secret".to_string()));
        let tls = SmtpServer::start_with(Options { security, auth, ..Options::default() });
        put_settings(
            &s,
            8,
            "VeodEmailSettings",
            json!({"server": "localhost", "port": tls.port, "connectionSecurity": name,
                   "acceptInvalidCertificates": false, "useAuthentication": true, "username": "mailer",
                   "userPassword": "hunter2-secret"}),
        )
        .await;
        let (st, b) = s.post(&doc, Some(&s.token), send_body(json!({}))).await;
        assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR, "{name}: {b}");
        assert_eq!(tls.count(), 0);
        put_settings(&s, 8, "VeodEmailSettings", json!({"acceptInvalidCertificates": true, "userPassword": "wrong"}))
            .await;
        let (st, b) = s.post(&doc, Some(&s.token), send_body(json!({}))).await;
        assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR, "{name}: {b}");
        assert_eq!(tls.auth_attempts(), vec![("mailer".to_string(), false)], "{name}");
        assert_eq!(tls.count(), 0);
        put_settings(&s, 8, "VeodEmailSettings", json!({"userPassword": "hunter2-secret"})).await;
        let (st, b) = s.post(&doc, Some(&s.token), send_body(json!({}))).await;
        assert_eq!(st, StatusCode::OK, "{name}: {b}\n{}", tls.stderr());
        let got = tls.last();
        assert_eq!(got.user.as_deref(), Some("mailer"), "{name}");
        assert_eq!(attachments(&got.data).1, vec![(s.changes.edited_name.clone(), s.changes.edited_content.clone())]);
        tls.assert_nothing_partial();
        // The password reached the catalog only sealed with the repository key.
        let stored = stored_settings(&s, "veod").await;
        assert!(!stored.contains("hunter2"), "{stored}");
        assert!(stored.contains("\"sealed_password\"") && !stored.contains("\"password\""), "{stored}");
    }

    // A sealed password that no longer opens (the catalog now serves another repository) reads as not configured:
    // the settings still load, sending is refused with a 400 naming the field, and a PUT sets it again.
    let stored = stored_settings(&s, "veod").await;
    let mut v: Value = serde_json::from_str(&stored).unwrap();
    v["sealed_password"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    sqlx::query("UPDATE api_email_settings SET settings = $1 WHERE explorer = $2")
        .bind(v.to_string())
        .bind("veod")
        .execute(s.state.pool())
        .await
        .unwrap();
    let (st, g) = s.get("/v8/VeodEmailSettings", Some(&s.token)).await;
    assert_eq!((st, &g["username"]), (StatusCode::OK, &json!("mailer")), "{g}");
    let (st, b) = s.post(&doc, Some(&s.token), send_body(json!({}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(b["message"].as_str().unwrap().contains("'userPassword'"), "{b}");
    put_settings(&s, 8, "VeodEmailSettings", json!({"userPassword": "hunter2-secret"})).await;
    assert!(stored_settings(&s, "veod").await.contains("\"sealed_password\""));
}

/// The raw catalog row of an explorer's email settings.
async fn stored_settings(s: &TestServer, explorer: &str) -> String {
    sqlx::query_scalar("SELECT settings FROM api_email_settings WHERE explorer = $1")
        .bind(explorer)
        .fetch_one(s.state.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsoft365_transport_through_graph() {
    let mut s = TestServer::start(DEFAULT_SEED).await;
    // The emulator's Graph and token endpoints are plain HTTP on loopback.
    restart_allowing_plaintext_mail(&mut s, true).await;
    // A > 3 MB file on the first user's OneDrive, backed up.
    let big: Vec<u8> = (0..3_500_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    s.graph(Method::PUT, &format!("/drives/{}/root:/big.bin:/content", s.changes.drive_id), None, Some(big.clone()))
        .await;
    let big_id = s.graph(Method::GET, &format!("/drives/{}/root:/big.bin", s.changes.drive_id), None, None).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.backup().await;

    let (tenant, app) = {
        let st = s.tenant.emu.emu.state();
        (st.tenant.id.clone(), emulator::seed::default_app(&st))
    };
    let base = s.tenant.emu.base_url();
    put_settings(
        &s,
        8,
        "VeodEmailSettings",
        json!({"enableNotification": true, "authenticationType": "Microsoft365", "tenantId": tenant,
               "clientId": app.client_id, "clientSecret": app.secret.clone().unwrap(), "userId": s.changes.upn,
               "mailApiUrl": format!("{base}/v1.0"), "authorityUrl": base, "from": s.changes.upn}),
    )
    .await;
    let (_, g) = s.get("/v8/VeodEmailSettings", Some(&s.token)).await;
    assert_eq!(g["authenticationType"], "Microsoft365");
    assert!(!g.to_string().contains(app.secret.as_deref().unwrap()), "{g}");
    let stored = stored_settings(&s, "veod").await;
    assert!(!stored.contains(app.secret.as_deref().unwrap()) && stored.contains("sealed_client_secret"), "{stored}");

    let sid = s.explore(8, "Veod", None).await;
    let od = od_path(&s, &sid);
    let http = reqwest::Client::new();
    let outbox = || async {
        let v: Value = http.get(format!("{base}/_emulator/outbox")).send().await.unwrap().json().await.unwrap();
        v["value"].as_array().unwrap().clone()
    };

    // Small: inline sendMail.
    let (st, b) = s
        .post(
            &format!("/v8{od}/Documents/{}/send", s.changes.edited),
            Some(&s.token),
            json!({"to": "r.clark@contoso.com", "subject": "small"}),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
    let sent = outbox().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["subject"], "small");
    assert_eq!(sent[0]["toRecipients"][0]["emailAddress"]["address"], "r.clark@contoso.com");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(sent[0]["attachments"][0]["contentBytes"].as_str().unwrap())
        .unwrap();
    assert_eq!(bytes, s.changes.edited_content);

    // Large (> 3 MB) plus a small one: draft + upload session + send.
    let (st, b) = s
        .post(
            &format!("/v8{od}/Documents/send"),
            Some(&s.token),
            json!({"to": "r.clark@contoso.com", "subject": "large", "documents": [{"id": big_id}, {"id": s.changes.created}]}),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
    let sent = outbox().await;
    assert_eq!(sent.len(), 2);
    let m = &sent[1];
    assert_eq!(m["subject"], "large");
    let atts = m["attachments"].as_array().unwrap();
    assert_eq!(atts.len(), 2);
    for a in atts {
        let data = base64::engine::general_purpose::STANDARD.decode(a["contentBytes"].as_str().unwrap()).unwrap();
        match a["name"].as_str().unwrap() {
            "big.bin" => assert!(data == big, "big attachment differs"),
            "new-file.txt" => assert_eq!(data, b"a brand new file"),
            other => panic!("unexpected attachment {other}"),
        }
    }

    // Graph failure (wrong secret) → 500, nothing sent.
    put_settings(&s, 8, "VeodEmailSettings", json!({"clientSecret": "wrong"})).await;
    let (st, b) = s
        .post(
            &format!("/v8{od}/Documents/{}/send", s.changes.edited),
            Some(&s.token),
            json!({"to": "r.clark@contoso.com"}),
        )
        .await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR, "{b}");
    assert_eq!(outbox().await.len(), 2);
}

/// The backed-up bytes of a content reference.
async fn backed_up(s: &TestServer, content_ref: &[u8]) -> Vec<u8> {
    let blob = repo::store::BlobRef::from_compact(content_ref).unwrap();
    s.repo.read_blob(&blob.chunks).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharepoint_documents_and_attachments() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let smtp = SmtpServer::start();
    let sid = s.explore(6, "Vesp", None).await;
    let sites = format!("/v6/RestoreSessions/{sid}/Organization/Sites");
    let (_, page) = s.get(&format!("{sites}?limit=100"), Some(&s.token)).await;
    let mut found = None;
    for site in page["results"].as_array().unwrap() {
        let site = site["id"].as_str().unwrap().to_string();
        let (_, docs) = s.get(&format!("{sites}/{site}/Documents?limit=100"), Some(&s.token)).await;
        if docs["results"].as_array().is_some_and(|d| !d.is_empty()) {
            found = Some((site, docs));
            break;
        }
    }
    let (site, docs) = found.expect("a site with documents");
    let site_path = format!("{sites}/{site}");
    let doc = docs["results"][0].clone();
    let doc_id = doc["id"].as_str().unwrap().to_string();

    // No Vesp settings → 400 naming VespEmailSettings (the Veod settings are not used for SharePoint).
    put_settings(
        &s,
        6,
        "VeodEmailSettings",
        json!({"enableNotification": true, "server": "127.0.0.1", "port": smtp.port}),
    )
    .await;
    let (st, b) = s.post(&format!("{site_path}/Documents/{doc_id}/send"), Some(&s.token), send_body(json!({}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(b["message"].as_str().unwrap().contains("VespEmailSettings"), "{b}");
    put_settings(
        &s,
        6,
        "VespEmailSettings",
        json!({"enableNotification": true, "smtpServer": "127.0.0.1", "port": smtp.port, "from": "sp@contoso.com"}),
    )
    .await;

    // One document: byte-identical to the backed-up content.
    let (st, b) =
        s.post(&format!("{site_path}/Documents/{doc_id}/send"), Some(&s.token), json!({"to": "x@contoso.com"})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let got = smtp.last();
    assert!(got.mail_from.contains("sp@contoso.com"));
    let (_, atts) = attachments(&got.data);
    assert_eq!(atts.len(), 1);
    assert_eq!(atts[0].0, doc["name"].as_str().unwrap());
    // Find the backed-up state of the document in the site's libraries.
    let site_uuid: uuid::Uuid = site.parse().unwrap();
    let site_row = s.catalog.container_at(site_uuid, s.t2 + chrono::Duration::seconds(1)).await.unwrap().unwrap();
    let site_graph_id = match site_row.info {
        repo::catalog::ContainerInfo::Site(i) => i.site_id,
        _ => unreachable!(),
    };
    let q = repo::catalog::ContainerQuery::new(s.org_id, chrono::Utc::now())
        .kind(repo::catalog::ContainerKind::List)
        .parent_ref(site_graph_id)
        .page(0, 1000);
    let lists = s.catalog.containers_at(&q).await.unwrap().rows;
    let mut expected = None;
    for l in &lists {
        if let Some(r) = s.catalog.item_at(l.id, &doc_id, chrono::Utc::now()).await.unwrap() {
            expected = Some(backed_up(&s, r.state.content_ref.as_ref().unwrap()).await);
        }
    }
    assert_eq!(Some(atts[0].1.clone()), expected);

    // Several documents (v8 → 204).
    let ids: Vec<Value> = docs["results"].as_array().unwrap().iter().take(2).map(|d| json!({"id": d["id"]})).collect();
    let v8_site = site_path.replacen("/v6/", "/v8/", 1).replace(&sid, &s.explore(8, "Vesp", None).await);
    let (st, b) = s
        .post(&format!("{v8_site}/Documents/send"), Some(&s.token), json!({"to": "x@contoso.com", "documents": ids}))
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
    assert_eq!(attachments(&smtp.last().data).1.len(), ids.len());

    // A list item's attachments (if the seed gave one).
    let (_, items) = s.get(&format!("{site_path}/Items?limit=100"), Some(&s.token)).await;
    let mut sent_attachment = false;
    for it in items["results"].as_array().unwrap() {
        let item_id = it["id"].as_str().unwrap();
        let (_, ap) = s.get(&format!("{site_path}/Items/{item_id}/Attachments"), Some(&s.token)).await;
        let Some(a) = ap["results"].as_array().and_then(|v| v.first()).cloned() else { continue };
        let att_id = a["id"].as_str().unwrap();
        let (st, b) = s
            .post(
                &format!("{site_path}/Items/{item_id}/Attachments/{att_id}/send"),
                Some(&s.token),
                json!({"to": "x@contoso.com"}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{b}");
        let last = smtp.last();
        let (_, atts) = attachments(&last.data);
        assert_eq!(atts[0].0, a["name"].as_str().unwrap());
        assert_eq!(atts[0].1.len() as u64, a["sizeBytes"].as_u64().or(a["size"].as_u64()).unwrap());
        let (st, b) = s
            .post(
                &format!("{site_path}/Items/{item_id}/Attachments/send"),
                Some(&s.token),
                json!({"to": "x@contoso.com", "attachments": [{"id": att_id}]}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{b}");
        // The v2–v5 form: `{"sendTo": {…}}` on the item's `Attachments/Action` (seed 004), in a v5 session.
        let v5_item = format!(
            "/v5/RestoreSessions/{}/Organization/Sites/{site}/Items/{item_id}/Attachments/Action",
            s.explore(5, "Vesp", None).await
        );
        let before = smtp.count();
        let body = json!({"sendTo": {"from": "sp@contoso.com", "to": "r.clark@contoso.com", "subject": "Ticket",
            "text": "attached", "attachments": [{"id": att_id}]}});
        let (st, b) = s.post(&v5_item, Some(&s.token), body).await;
        assert_eq!(st, StatusCode::OK, "{b}");
        assert_eq!(smtp.count(), before + 1);
        let last = smtp.last();
        assert!(last.rcpt.iter().any(|r| r.contains("r.clark@contoso.com")), "{:?}", last.rcpt);
        assert_eq!(attachments(&last.data).1[0].0, a["name"].as_str().unwrap());
        // Seed 004's body: whole attachment objects whose `id` is in the vendor's format, not ours; the name finds
        // the attachment, as it does for save.
        let vendor_id = "ef10cefb-d29a-4dac-827a-d3702fc4ac8f6d7caa6b-bad0-4e67-9736-8bf5b0b55ebd0801b635";
        let body = json!({"sendto": {"from": "sp@contoso.com", "to": "r.clark@contoso.com", "subject": "Ticket",
            "Attachments": [{"id": vendor_id, "name": a["name"], "size": a["sizeBytes"], "url": "/sites/x/a.txt"}]}});
        let (st, b) = s.post(&v5_item, Some(&s.token), body.clone()).await;
        assert_eq!(st, StatusCode::OK, "{b}");
        assert_eq!(smtp.count(), before + 2);
        let seed_sent = attachments(&smtp.last().data).1;
        assert_eq!(seed_sent.len(), 1);
        assert_eq!(seed_sent[0].0, a["name"].as_str().unwrap());
        // The same body saves the same attachment.
        let save = json!({"save": {"Attachments": body["sendto"]["Attachments"].clone()}});
        let r = s.client.post(s.url(&v5_item)).bearer_auth(&s.token).json(&save).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(crate::save::unzip(&r.bytes().await.unwrap()), seed_sent);
        // An entry that names no attachment: 404 naming it, nothing sent.
        let body =
            json!({"sendTo": {"to": "r.clark@contoso.com", "attachments": [{"id": vendor_id, "name": "nope.txt"}]}});
        let (st, b) = s.post(&v5_item, Some(&s.token), body).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{b}");
        assert!(b["message"].as_str().unwrap().contains(vendor_id), "{b}");
        assert_eq!(smtp.count(), before + 2);
        sent_attachment = true;
        break;
    }
    assert!(sent_attachment, "the seed has no list item attachment");

    // A whole library and a folder-less bulk folder request.
    let (_, libs) = s.get(&format!("{site_path}/Libraries?limit=100"), Some(&s.token)).await;
    let mut library_sent = 0;
    for l in libs["results"].as_array().unwrap() {
        let (st, b) = s
            .post(
                &format!("{site_path}/Libraries/{}/send", l["id"].as_str().unwrap()),
                Some(&s.token),
                json!({"to": "x@contoso.com"}),
            )
            .await;
        if st == StatusCode::OK {
            library_sent += attachments(&smtp.last().data).1.len();
        } else {
            assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
            assert!(b["message"].as_str().unwrap().contains("nothing to send"), "{b}");
        }
    }
    assert_eq!(library_sent, docs["results"].as_array().unwrap().len());
    let (st, b) = s
        .post(&format!("{site_path}/Folders/send"), Some(&s.token), json!({"to": "x@contoso.com", "folders": []}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    // v5 verb path → 404.
    let (st, _) = s
        .post(
            &format!("{}/Documents/{doc_id}/send", site_path.replacen("/v6/", "/v5/", 1)),
            Some(&s.token),
            json!({"to": "x@contoso.com"}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // A OneDrive session cannot send SharePoint items; another user's session → 404; unknown document → 404.
    let (st, _) = s
        .post(&format!("{site_path}/Documents/{doc_id}/send"), Some(&s.other_token), json!({"to": "x@contoso.com"}))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) =
        s.post(&format!("{site_path}/Documents/nope/send"), Some(&s.token), json!({"to": "x@contoso.com"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

/// The Exchange and Teams explorers' settings (`VexEmailSettings`, `VetEmailSettings`) are kept apart from the
/// OneDrive ones, never return secrets, and their test-email endpoints (v6/v7 `SendTest`, v8 `SendTestEmail`) send
/// through the configured server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchange_and_teams_settings_and_test_email() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let smtp = SmtpServer::start();
    // Not configured yet: the test email is refused with the resource named.
    let (st, b) = s.post("/v6/VexEmailSettings/SendTest", Some(&s.token), json!({"email": "t@contoso.com"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(b["message"].as_str().unwrap().contains("VexEmailSettings"), "{b}");

    put_settings(
        &s,
        6,
        "VexEmailSettings",
        json!({"enableNotification": true, "smtpServer": "127.0.0.1", "port": smtp.port, "from": "vex@contoso.com",
            "userName": "mailer", "userPassword": "s3cret"}),
    )
    .await;
    put_settings(
        &s,
        8,
        "VetEmailSettings",
        json!({"enableNotification": true, "server": "127.0.0.1", "port": smtp.port, "from": "vet@contoso.com"}),
    )
    .await;
    let (st, vex) = s.get("/v7/vexemailsettings", Some(&s.token)).await;
    assert_eq!(st, StatusCode::OK, "{vex}");
    assert!(!vex.to_string().contains("s3cret"), "{vex}");
    let (_, vet) = s.get("/v8/VetEmailSettings", Some(&s.token)).await;
    assert_ne!(vex, vet);
    // The OneDrive settings are still unset.
    let (_, veod) = s.get("/v6/VeodEmailSettings", Some(&s.token)).await;
    assert!(!veod.to_string().contains("vex@contoso.com"), "{veod}");

    // Test emails: v6 spelling `SendTest` (Vex; credentials stored but `useAuthentication` off), v8 `SendTestEmail`
    // (Vet, 204).
    let (st, b) = s.post("/v6/VexEmailSettings/SendTest", Some(&s.token), json!({"email": "a@contoso.com"})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert!(smtp.last().mail_from.contains("vex@contoso.com"));
    let (st, b) = s.post("/v8/VetEmailSettings/SendTestEmail", Some(&s.token), json!({"email": "b@contoso.com"})).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
    let last = smtp.last();
    assert!(last.mail_from.contains("vet@contoso.com"));
    assert!(last.rcpt[0].contains("b@contoso.com"));
    assert_eq!(smtp.count(), 2);
}

/// `…/Folders/{folderId}/Versions/{versionId}/send` (OneDrive and SharePoint, v6–v8): a folder has one version, 1,
/// which sends what the folder's own send sends; any other version is a 404 and sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folder_versions_send_the_folder() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let smtp = SmtpServer::start();
    for res in ["VeodEmailSettings", "VespEmailSettings"] {
        put_settings(
            &s,
            8,
            res,
            json!({"enableNotification": true, "server": "127.0.0.1", "port": smtp.port,
            "from": "backup@contoso.com"}),
        )
        .await;
    }
    let od_sid = s.explore(8, "Veod", None).await;
    let sp_sid = s.explore(7, "Vesp", None).await;
    let (_, sites) = s.get(&format!("/v7/RestoreSessions/{sp_sid}/Organization/Sites?limit=100"), Some(&s.token)).await;
    let mut folder_paths = vec![format!("/v8{}", od_path(&s, &od_sid))];
    for site in sites["results"].as_array().unwrap() {
        folder_paths.push(format!("/v7/RestoreSessions/{sp_sid}/Organization/Sites/{}", site["id"].as_str().unwrap()));
    }
    let (mut onedrive_sent, mut sharepoint_sent) = (0, 0);
    for base in folder_paths {
        let (_, folders) = s.get(&format!("{base}/Folders?limit=100"), Some(&s.token)).await;
        for f in folders["results"].as_array().unwrap() {
            let folder = format!("{base}/Folders/{}", f["id"].as_str().unwrap());
            let before = smtp.count();
            let (st, b) = s.post(&format!("{folder}/send"), Some(&s.token), send_body(json!({}))).await;
            if st == StatusCode::BAD_REQUEST {
                // An empty folder: nothing to send either way.
                let (st, _) = s.post(&format!("{folder}/Versions/1/send"), Some(&s.token), send_body(json!({}))).await;
                assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
                continue;
            }
            assert!(st.is_success(), "{folder}/send: {b}");
            let whole = attachments(&smtp.last().data).1;
            let (st, b) = s.post(&format!("{folder}/Versions/1/send"), Some(&s.token), send_body(json!({}))).await;
            assert!(st.is_success(), "{folder}/Versions/1/send: {b}");
            assert_eq!(smtp.count(), before + 2);
            assert_eq!(attachments(&smtp.last().data).1, whole);
            let (st, b) = s.post(&format!("{folder}/Versions/2/send"), Some(&s.token), send_body(json!({}))).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "{b}");
            assert!(b["message"].as_str().unwrap().contains("Version 2"), "{b}");
            // Another user's session: 404 as for the folder itself.
            let (st, _) =
                s.post(&format!("{folder}/Versions/1/send"), Some(&s.other_token), send_body(json!({}))).await;
            assert_eq!(st, StatusCode::NOT_FOUND);
            assert_eq!(smtp.count(), before + 2);
            *if base.contains("/OneDrives/") { &mut onedrive_sent } else { &mut sharepoint_sent } += 1;
        }
    }
    assert!(onedrive_sent > 0 && sharepoint_sent > 0, "the seed gives folders with files in both");
}
