//! `vault365 emulator` as a process: prints a ready line, serves the control API, persists its
//! state on SIGTERM and comes back with the same tenant; a bad seed spec is a clear start-up error.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::free_port;

fn scratch_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    std::env::temp_dir().join(format!("v365-{tag}-{}-{nanos}", std::process::id()))
}

/// Start the emulator and wait for its ready line (returned).
fn spawn(state: &Path, port: u16, seed: Option<&str>) -> (Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vault365"));
    cmd.args(["emulator", "--listen", &format!("127.0.0.1:{port}"), "--state"]).arg(state);
    if let Some(s) = seed {
        cmd.args(["--seed", s]);
    }
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next().expect("a ready line").unwrap();
    assert!(line.contains("ready") && line.contains(&format!("127.0.0.1:{port}")), "{line}");
    (child, line)
}

/// Minimal HTTP/1.1 client (std only): status and body.
fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp.get(9..12).and_then(|c| c.parse().ok()).expect("HTTP status line");
    (status, resp.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

/// The string value of `"key":"…"` in a flat JSON text.
fn json_str(body: &str, key: &str) -> String {
    let pat = format!("\"{key}\":\"");
    let start = body.find(&pat).unwrap_or_else(|| panic!("{key} missing in {body}")) + pat.len();
    body[start..].split('"').next().unwrap().to_string()
}

fn terminate(mut child: Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            assert!(st.success(), "emulator exited with {st}");
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("emulator did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn emulator_process_persists_across_sigterm() {
    let dir = scratch_dir("cli");
    let port = free_port();
    let (child, ready) = spawn(&dir, port, Some("users=2,files=6,sites=1"));
    let (s, creds) = http(port, "GET", "/_emulator/credentials", "");
    assert_eq!(s, 200, "{creds}");
    let tenant = json_str(&creds, "tenantId");
    assert!(ready.contains(&format!("tenant={tenant}")), "{ready}");
    assert!(ready.contains(&format!("client_secret={}", json_str(&creds, "clientSecret"))));
    assert_eq!(creds.matches("\"userPrincipalName\"").count(), 2);
    let (s, body) = http(port, "PATCH", "/_emulator/settings", r#"{"page_size": 9}"#);
    assert_eq!(s, 200, "{body}");
    // Shut down right away: SIGTERM must persist even changes the debounced flusher has not written.
    terminate(child);
    assert!(dir.join("state.json").exists());

    let port = free_port();
    let (child, _) = spawn(&dir, port, None);
    let (s, creds) = http(port, "GET", "/_emulator/credentials", "");
    assert_eq!(s, 200);
    assert_eq!(json_str(&creds, "tenantId"), tenant);
    let (_, settings) = http(port, "GET", "/_emulator/settings", "");
    assert!(settings.contains("\"page_size\":9"), "{settings}");
    let (_, summary) = http(port, "GET", "/_emulator/summary", "");
    assert!(summary.contains("\"files\":6"), "{summary}");
    terminate(child);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_seed_is_a_clear_error() {
    let dir = scratch_dir("badseed");
    let out = Command::new(env!("CARGO_BIN_EXE_vault365"))
        .args(["emulator", "--listen", &format!("127.0.0.1:{}", free_port()), "--seed", "users=2,flies=3", "--state"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown seed option 'flies'"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
