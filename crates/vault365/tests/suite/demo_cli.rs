//! `vault365 demo` end to end: one command gives a ready API with a backed-up organization; a
//! second start in the same directory reuses everything.

use std::time::Duration;

use crate::common::{free_port, Demo};

fn start(dir: &std::path::Path, port: u16) -> (Demo, std::collections::HashMap<String, String>) {
    Demo::start(dir, port, Duration::from_secs(180))
}

async fn logon(url: &str, user: &str, password: &str) -> (reqwest::Client, String) {
    let http = reqwest::Client::builder().danger_accept_invalid_certs(true).build().unwrap();
    let resp = http
        .post(format!("{url}/v8/token"))
        .form(&[("grant_type", "password"), ("username", user), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: serde_json::Value = resp.json().await.unwrap();
    (http, v["access_token"].as_str().unwrap().to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_is_ready_with_a_backed_up_organization_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let d = dir.path().to_path_buf();
    let (child, f) = tokio::task::spawn_blocking(move || start(&d, port)).await.unwrap();
    assert_eq!(f["url"], format!("https://127.0.0.1:{port}"));
    assert_eq!(f["user"], "admin");
    assert_eq!(f["organization"], "contoso");
    let (http, token) = logon(&f["url"], &f["user"], &f["password"]).await;
    let orgs: serde_json::Value = http
        .get(format!("{}/v8/Organizations", f["url"]))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = orgs.to_string();
    assert!(text.contains("contoso"), "organizations: {text}");
    tokio::task::spawn_blocking(move || child.stop()).await.unwrap();

    // Second start: same account password, no new backups needed, ready again.
    let d = dir.path().to_path_buf();
    let (child, f2) = tokio::task::spawn_blocking(move || start(&d, port)).await.unwrap();
    assert_eq!(f2["password"], f["password"]);
    logon(&f2["url"], "admin", &f2["password"]).await;
    tokio::task::spawn_blocking(move || child.stop()).await.unwrap();
}
