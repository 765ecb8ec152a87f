//! Acceptance with a real third-party client: the PyPI package `veeam-365` (generated from the vendor's OpenAPI
//! documents), used unchanged for v6, v7 and v8 against `vault365 demo` — log on, organizations, explore, browse,
//! save, send, restore, copyTo, events, statistics, stop, and in v8 a backup job created, started and followed through
//! its job session (tests/python/veeam_client_acceptance.py).
//!
//! The interpreter is `$VAULT365_PYTHON` (scripts/test.sh sets it to `.venv/bin/python` after installing
//! tests/python/requirements.txt). Unset, or without the packages, the test fails: it must never pass by skipping.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{free_port, Demo};

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn python() -> PathBuf {
    let Some(p) = std::env::var_os("VAULT365_PYTHON") else {
        panic!(
            "VAULT365_PYTHON is not set: this acceptance test runs the `veeam-365` client with it. Run scripts/test.sh, \
             or: python3 -m venv .venv && .venv/bin/pip install -r tests/python/requirements.txt && \
             VAULT365_PYTHON=$PWD/.venv/bin/python cargo test -p vault365 --test suite veeam_client::"
        )
    };
    let py = workspace_root().join(p);
    let import = Command::new(&py).args(["-c", "import veeam_365.client, aiosmtpd, httpx"]).output();
    let import = import.unwrap_or_else(|e| panic!("cannot run VAULT365_PYTHON={}: {e}", py.display()));
    assert!(
        import.status.success(),
        "veeam-365 or aiosmtpd is not installed for {}: pip install -r tests/python/requirements.txt\n{}",
        py.display(),
        String::from_utf8_lossy(&import.stderr)
    );
    py
}

/// Starts `vault365 demo` and returns it with the fields of its ready line (url, user, password, emulator, …).
fn start_demo(dir: &std::path::Path) -> (Demo, std::collections::HashMap<String, String>) {
    Demo::start(dir, free_port(), Duration::from_secs(300))
}

/// Runs the script to completion (bounded), returning (success, stdout + stderr).
fn run_script(py: &std::path::Path, f: &std::collections::HashMap<String, String>) -> (bool, String) {
    let script = workspace_root().join("tests/python/veeam_client_acceptance.py");
    let mut child = Command::new(py)
        .arg(&script)
        .args(["--url", &f["url"], "--user", &f["user"], "--password", &f["password"], "--emulator", &f["emulator"]])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read both pipes on threads so a chatty script cannot block on a full pipe.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || std::io::read_to_string(&mut out).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(&mut err).unwrap_or_default());
    let deadline = Instant::now() + Duration::from_secs(600);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let text = format!("{}\n{}", out.join().unwrap(), err.join().unwrap());
    match status {
        Some(st) => (st.success(), text),
        None => (false, format!("the script timed out after 600 s\n{text}")),
    }
}

#[test]
fn veeam_365_client_works_unchanged_for_v6_v7_v8() {
    let py = python();
    let dir = tempfile::tempdir().unwrap();
    let (_demo, fields) = start_demo(dir.path());
    let (ok, output) = run_script(&py, &fields);
    assert!(ok, "the veeam-365 acceptance script failed:\n{output}");
    // The script's own summary: every check ran and passed (a script that stopped early would not print it).
    assert!(output.contains(" checks passed, 0 failed"), "{output}");
    for v in ["v6", "v7", "v8"] {
        for step in ["restore to original", "copy arrived", "email settings + send", "stop"] {
            assert!(output.contains(&format!("ok   {v} {step}")), "{v} {step} did not pass:\n{output}");
        }
    }
    let job_step = "ok   v8 create, start and remove a job; read its session and log";
    assert!(output.contains(job_step), "the v8 job lifecycle did not pass:\n{output}");
}
