//! The `/_emulator` control API: credentials, re-seeding, state dump, settings, clock, token expiry,
//! flush — success and failure paths, over real HTTP.

use crate::common;

use common::*;
use serde_json::{json, Value};

impl TestTenant {
    async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (reqwest::StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}/_emulator{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let bytes = resp.bytes().await.unwrap();
        (status, if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() })
    }
}

use reqwest::Method;

fn assert_control_error(v: &Value, needle: &str) {
    assert_eq!(v["error"]["code"], "invalidRequest", "{v}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains(needle), "message '{msg}' lacks '{needle}'");
}

#[tokio::test]
async fn credentials_sign_in() {
    let t = TestTenant::start("users=3").await;
    let (s, c) = t.control(Method::GET, "/credentials", None).await;
    assert_eq!(s, 200);
    assert_eq!(c["tenantId"], t.tenant_id());
    assert_eq!(c["domain"], "contoso.onmicrosoft.com");
    assert_eq!(c["clientId"], t.client_id);
    assert_eq!(c["clientSecret"], t.secret);
    assert_eq!(c["graphBaseUrl"], format!("{}/v1.0", t.base));
    let users = c["users"].as_array().unwrap();
    assert_eq!(users.len(), 3);
    assert!(users.iter().all(|u| u["password"].as_str().is_some_and(|p| !p.is_empty())));
    // The advertised token endpoint and secret work.
    let resp = t
        .http
        .post(c["tokenEndpoint"].as_str().unwrap())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", c["clientId"].as_str().unwrap()),
            ("client_secret", c["clientSecret"].as_str().unwrap()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn reseed_replaces_the_tenant() {
    let t = TestTenant::start("users=1").await;
    let old_token = t.graph_token().await;
    let (s, v) = t.control(Method::POST, "/seed", Some(json!({"spec": "users=4,files=9,sites=1,items=2"}))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["summary"]["users"], 4);
    assert_eq!(v["summary"]["files"], 9);
    assert_eq!(v["summary"]["listItems"], 2);
    assert_eq!(t.emu.emu.state().users.len(), 4);
    // A fresh state has a fresh signing key: tokens of the old tenant are refused.
    let (s, body) = t.get(&old_token, "/users").await;
    assert_eq!(s, 401);
    assert_graph_error(&body, "InvalidAuthenticationToken");
    let (s, sum) = t.control(Method::GET, "/summary", None).await;
    assert_eq!((s, sum["files"].as_u64()), (reqwest::StatusCode::OK, Some(9)));

    for (body, needle) in [
        (json!({"spec": "users=1,bogus=2"}), "unknown seed option 'bogus'"),
        (json!({"spec": 5}), "'spec' must be a string"),
        (json!({"spec": "users=1", "extra": 1}), "Unknown property 'extra'"),
        (json!([1]), "JSON object"),
    ] {
        let (s, v) = t.control(Method::POST, "/seed", Some(body)).await;
        assert_eq!(s, 400);
        assert_control_error(&v, needle);
    }
    let resp = t.http.post(format!("{}/_emulator/seed", t.base)).body("{not json").send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(t.emu.emu.state().users.len(), 4, "failed seeds change nothing");
}

#[tokio::test]
async fn state_dump_and_sections() {
    let t = TestTenant::start("users=2,files=4").await;
    let (s, v) = t.control(Method::GET, "/state", None).await;
    assert_eq!(s, 200);
    assert_eq!(v["users"].as_object().unwrap().len(), 2);
    assert_eq!(v["tenant"]["name"], "contoso");
    let files: Vec<&Value> = v["items"].as_object().unwrap().values().filter(|i| i["is_folder"] == false).collect();
    assert_eq!(files.len(), 4);
    assert_eq!(files[0]["versions"][0]["content"]["kind"], "synthetic", "content is referenced, not inlined");
    let (s, v) = t.control(Method::GET, "/state?only=users,settings", None).await;
    assert_eq!(s, 200);
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["users", "settings"]);
    let (s, v) = t.control(Method::GET, "/state?only=nope", None).await;
    assert_eq!(s, 400);
    assert_control_error(&v, "Unknown state section 'nope'");
}

#[tokio::test]
async fn settings_get_and_patch() {
    let t = TestTenant::start("users=1").await;
    let (s, v) = t.control(Method::GET, "/settings", None).await;
    assert_eq!(s, 200);
    assert_eq!(v["page_size"], 200);
    assert_eq!(v["strict_fragments"], true);
    let patch =
        json!({"page_size": 5, "strict_fragments": false, "token_lifetime_secs": 120, "upload_session_secs": 30});
    let (s, v) = t.control(Method::PATCH, "/settings", Some(patch)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!((v["page_size"].as_u64(), v["strict_fragments"].as_bool()), (Some(5), Some(false)));
    {
        let st = t.emu.emu.state();
        assert_eq!(
            (st.settings.page_size, st.settings.token_lifetime_secs, st.settings.upload_session_secs),
            (5, 120, 30)
        );
    }
    // Issued tokens follow the new lifetime.
    let resp = t
        .http
        .post(format!("{}/{}/oauth2/v2.0/token", t.base, t.tenant_id()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &t.client_id),
            ("client_secret", &t.secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap();
    let tok: Value = resp.json().await.unwrap();
    assert_eq!(tok["expires_in"], 120);
    for (body, needle) in [
        (json!({"page_size": 0}), "'page_size'"),
        (json!({"page_size": 3, "strict_fragments": "yes"}), "'strict_fragments'"),
        (json!({"token_lifetime_secs": -1}), "'token_lifetime_secs'"),
        (json!({"token_epoch": 9}), "Unknown or read-only setting 'token_epoch'"),
        (json!("x"), "JSON object"),
    ] {
        let (s, v) = t.control(Method::PATCH, "/settings", Some(body)).await;
        assert_eq!(s, 400);
        assert_control_error(&v, needle);
    }
    assert_eq!(t.emu.emu.state().settings.page_size, 5, "a rejected patch changes nothing");
}

#[tokio::test]
async fn clock_advance_expires_tokens() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (s, _) = t.get(&token, "/users").await;
    assert_ne!(s, 401);
    let before = t.emu.emu.now();
    let (s, v) = t.control(Method::POST, "/clock/advance", Some(json!({"seconds": 3600}))).await;
    assert_eq!(s, 200);
    assert_eq!(v["clockOffsetSecs"], 3600);
    assert!(t.emu.emu.now() - before >= chrono::Duration::seconds(3600));
    let (s, body) = t.get(&token, "/users").await;
    assert_eq!(s, 401);
    assert_eq!(body["error"]["innerError"]["code"], "expiredToken", "{body}");
    // A token issued on the advanced clock works.
    let fresh = t.graph_token().await;
    assert_ne!(t.get(&fresh, "/users").await.0, 401);
    for body in [json!({}), json!({"seconds": "10"}), json!({"seconds": 1.5})] {
        let (s, v) = t.control(Method::POST, "/clock/advance", Some(body)).await;
        assert_eq!(s, 400);
        assert_control_error(&v, "seconds");
    }
    assert_eq!(t.emu.emu.state().settings.clock_offset_secs, 3600);
}

#[tokio::test]
async fn tokens_expire_on_demand() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    assert_ne!(t.get(&token, "/users").await.0, 401);
    let (s, v) = t.control(Method::POST, "/tokens/expire", None).await;
    assert_eq!((s, v["tokenEpoch"].as_u64()), (reqwest::StatusCode::OK, Some(1)));
    let (s, body) = t.get(&token, "/users").await;
    assert_eq!(s, 401);
    assert_graph_error(&body, "InvalidAuthenticationToken");
    let fresh = t.graph_token().await;
    assert_ne!(t.get(&fresh, "/users").await.0, 401);
}

#[tokio::test]
async fn flush_writes_state_json() {
    let t = TestTenant::start("users=1").await;
    let (s, _) = t.control(Method::PATCH, "/settings", Some(json!({"page_size": 42}))).await;
    assert_eq!(s, 200);
    let (s, _) = t.control(Method::POST, "/flush", None).await;
    assert_eq!(s, 204);
    let on_disk: Value = serde_json::from_slice(&std::fs::read(t.dir.path().join("state.json")).unwrap()).unwrap();
    assert_eq!(on_disk["settings"]["page_size"], 42);
    let (s, _) = t.control(Method::GET, "/flush", None).await;
    assert_eq!(s, 405);
}

/// Follow nextLinks of a delta round; returns the deltaLink.
async fn delta_link(t: &TestTenant, token: &str, first: &str) -> String {
    let mut url = t.graph(first);
    for _ in 0..100 {
        let (s, v) = t.get(token, &url).await;
        assert_eq!(s, 200, "{v}");
        if let Some(d) = v["@odata.deltaLink"].as_str() {
            return d.to_string();
        }
        url = v["@odata.nextLink"].as_str().expect("nextLink or deltaLink").to_string();
    }
    panic!("delta never ended");
}

#[tokio::test]
async fn delta_resync_is_forced() {
    let t = TestTenant::start("users=2,files=6").await;
    let token = t.graph_token().await;
    let (_, _, d0) = t.user(0);
    let (_, _, d1) = t.user(1);
    let link0 = delta_link(&t, &token, &format!("/drives/{d0}/root/delta")).await;
    let link1 = delta_link(&t, &token, &format!("/drives/{d1}/root/delta")).await;
    let (s, v) = t.control(Method::POST, "/delta/resync", Some(json!({"driveId": d0}))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["drives"], json!([d0]));
    let (s, body) = t.get(&token, &link0).await;
    assert_eq!(s, 410, "{body}");
    assert_graph_error(&body, "resyncRequired");
    assert_eq!(t.get(&token, &link1).await.0, 200, "other drives keep their tokens");
    // Without a drive id every drive resyncs.
    let (s, _) = t.control(Method::POST, "/delta/resync", None).await;
    assert_eq!(s, 200);
    assert_eq!(t.get(&token, &link1).await.0, 410);
    let (s, v) = t.control(Method::POST, "/delta/resync", Some(json!({"driveId": "b!nope"}))).await;
    assert_eq!(s, 404);
    assert_eq!(v["error"]["code"], "itemNotFound");
    let (s, v) = t.control(Method::POST, "/delta/resync", Some(json!({"driveId": 3}))).await;
    assert_eq!(s, 400);
    assert_control_error(&v, "'driveId'");
}

#[tokio::test]
async fn upload_sessions_expire_on_demand() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let (s, v) = t
        .call(&token, Method::POST, &format!("/drives/{drive}/root:/big.bin:/createUploadSession"), Some(json!({})))
        .await;
    assert_eq!(s, 200, "{v}");
    let url = v["uploadUrl"].as_str().unwrap().to_string();
    assert_eq!(t.http.get(&url).send().await.unwrap().status(), 200);
    let (s, v) = t.control(Method::POST, "/uploads/expire", None).await;
    assert_eq!((s, v["expired"].as_u64()), (reqwest::StatusCode::OK, Some(1)));
    let resp = t.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 404);
}
