//! Helpers shared by the CLI tests: the `vault365` binary with an environment of the test's own, commands that must
//! succeed, `key=value` fields of output lines, an emulated tenant, `vault365 demo` as a child process, and (from
//! `test_support`) the PostgreSQL / S3 servers `scripts/test.sh` provides.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use emulator::EmulatorConfig;

pub use test_support::{fresh_postgres_database, test_server_var};

/// The repository password of the tests' repositories.
pub const PASSWORD: &str = "s3cret repository password";

/// Settings a developer's shell may export; a test passes its own or none.
const INHERITED_SETTINGS: [&str; 5] = [
    "VAULT365_DATA_DIR",
    "VAULT365_CATALOG_URL",
    "VAULT365_REPOSITORY",
    "VAULT365_REPOSITORY_S3",
    "VAULT365_REPO_PASSWORD",
];

/// The `vault365` binary, quiet (`RUST_LOG=warn`), no stdin, none of the inherited vault365 settings.
pub fn vault365() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vault365"));
    for v in INHERITED_SETTINGS {
        c.env_remove(v);
    }
    c.env("RUST_LOG", "warn").stdin(Stdio::null());
    c
}

/// `vault365 ARGS` on data directory `data` with repository password `password`.
pub fn vault365_at(data: &Path, password: &str, args: &[&str]) -> Command {
    let mut c = vault365();
    c.args(args).env("VAULT365_DATA_DIR", data).env("VAULT365_REPO_PASSWORD", password);
    c
}

/// Runs `cmd` to completion and returns its stdout; fails the test with both outputs when it does not succeed.
pub fn output_ok(mut cmd: Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// [`output_ok`] from async code (on a blocking thread).
pub async fn output_ok_async(cmd: Command) -> String {
    tokio::task::spawn_blocking(move || output_ok(cmd)).await.unwrap()
}

/// The value of `key=value` in an output line.
pub fn field<'a>(line: &'a str, key: &str) -> &'a str {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("{key} in {line}"))
}

/// Every `key=value` of an output line.
pub fn fields(line: &str) -> HashMap<String, String> {
    line.split_whitespace().filter_map(|w| w.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// An in-process emulated tenant seeded with `seed`, its state under `dir/tenant`.
pub async fn tenant(dir: &Path, seed: &str) -> emulator::RunningEmulator {
    emulator::start(EmulatorConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        state_dir: dir.join("tenant"),
        seed: Some(seed.into()),
        public_url: None,
    })
    .await
    .unwrap()
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `vault365 demo` process; stopped (SIGTERM, then SIGKILL) when dropped, so a failing assertion leaves nothing
/// running.
pub struct Demo(Child);

impl Demo {
    /// Starts `vault365 demo --dir DIR --port PORT` and waits (up to `ready_within`) for its ready line; returns the
    /// process and the line's fields (url, user, password, organization, …).
    pub fn start(dir: &Path, port: u16, ready_within: Duration) -> (Demo, HashMap<String, String>) {
        let mut child = vault365()
            .args(["demo", "--dir", dir.to_str().unwrap(), "--port", &port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let demo = Demo(child);
        let (tx, rx) = mpsc::channel();
        // Keeps reading (and discarding) after the ready line so the demo never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("vault365 demo ready") {
                    let _ = tx.send(line);
                }
            }
        });
        let line = rx.recv_timeout(ready_within).expect("the demo printed its ready line");
        (demo, fields(&line))
    }

    /// SIGTERM and wait: `true` when the demo exited within 20 seconds.
    fn terminate(&mut self) -> bool {
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Stops the demo with SIGTERM; fails the test unless it shuts down cleanly.
    pub fn stop(mut self) {
        assert!(self.terminate(), "the demo did not stop on SIGTERM");
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        if !matches!(self.0.try_wait(), Ok(Some(_))) && !self.terminate() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
