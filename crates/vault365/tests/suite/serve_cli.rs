//! `vault365 user add` and `vault365 serve` end to end: an account created from standard input logs on over HTTPS,
//! and SIGTERM stops the server cleanly.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn vault365(dir: &Path, args: &[&str]) -> Command {
    let mut c = crate::common::vault365();
    c.arg("--config").arg(dir.join("vault365.toml")).args(args).env("VAULT365_REPO_PASSWORD", "repo password");
    c
}

#[tokio::test]
async fn user_add_then_serve_and_log_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("vault365.toml"),
        format!("data_dir = {:?}\n[api]\nlisten = \"127.0.0.1:0\"\n", dir.path().join("data")),
    )
    .unwrap();

    // Password from standard input.
    let mut add = vault365(dir.path(), &["user", "add", "--name", "TECH\\admin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(b"pa ss phrase\n").unwrap();
    let out = add.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("user added name=TECH\\admin"));
    // Duplicate names (any case) are refused.
    let dup = vault365(dir.path(), &["user", "add", "--name", "tech\\ADMIN", "--password", "another pa ss phrase"])
        .output()
        .unwrap();
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));

    let mut serve = vault365(dir.path(), &["serve"]).stdout(Stdio::piped()).stdin(Stdio::null()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(serve.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.split_whitespace().find_map(|w| w.strip_prefix("https://")).expect("listening line").to_string();

    let client = reqwest::Client::builder().tls_danger_accept_invalid_certs(true).build().unwrap();
    let url = format!("https://{addr}/v6/token");
    let ok = client.post(&url).form(&[("username", "tech\\admin"), ("password", "pa ss phrase")]).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let body: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(body["userName"], "TECH\\admin");
    let bad =
        client.post(&url).form(&[("username", "tech\\admin"), ("password", "pa ss phrase!")]).send().await.unwrap();
    assert_eq!(bad.status(), 400);

    let term = Command::new("kill").args(["-TERM", &serve.id().to_string()]).status().unwrap();
    assert!(term.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = serve.try_wait().unwrap() {
            assert!(status.success(), "serve exited with {status}");
            break;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
