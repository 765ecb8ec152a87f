//! `vault365 demo` end to end: one command gives a ready API with a backed-up organization; a
//! second start in the same directory reuses everything.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Start the demo and wait for its ready line; returns the child and the line's fields.
fn start(dir: &std::path::Path, port: u16) -> (Child, std::collections::HashMap<String, String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vault365"))
        .args(["demo", "--dir", dir.to_str().unwrap(), "--port", &port.to_string()])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("vault365 demo ready") {
                let _ = tx.send(line);
            }
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(180)).expect("demo ready line");
    let fields = line
        .split_whitespace()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (child, fields)
}

fn stop(mut child: Child) {
    // SIGTERM: the demo shuts down cleanly and keeps its state.
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    panic!("demo did not stop on SIGTERM");
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
    tokio::task::spawn_blocking(move || stop(child)).await.unwrap();

    // Second start: same account password, no new backups needed, ready again.
    let d = dir.path().to_path_buf();
    let (child, f2) = tokio::task::spawn_blocking(move || start(&d, port)).await.unwrap();
    assert_eq!(f2["password"], f["password"]);
    logon(&f2["url"], "admin", &f2["password"]).await;
    tokio::task::spawn_blocking(move || stop(child)).await.unwrap();
}
