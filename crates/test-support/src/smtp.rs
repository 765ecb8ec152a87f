//! A real SMTP server for the email tests: `tests/python/smtp_server.py` (aiosmtpd, from PyPI) run as a child process on
//! 127.0.0.1, storing what it accepts in a Maildir. The interpreter is `$VAULT365_PYTHON` (scripts/test.sh points it
//! at the workspace venv where tests/python/requirements.txt is installed; a relative path is taken from the workspace
//! root). An unset variable, a missing interpreter or a missing aiosmtpd **fails** the test with the way to fix it: the
//! email tests never skip.
//!
//! Used by the send and email tests of `engine` and `api`.
//!
//! ```ignore
//! let smtp = SmtpServer::start();                       // plain, no AUTH
//! // … send to 127.0.0.1:smtp.port …
//! let m = smtp.last();                                  // envelope + the DATA exactly as received
//! smtp.assert_nothing_partial();                        // the Maildir holds complete messages only
//! ```

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// How long the server may take to start (an interpreter start on a loaded 2-core machine).
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Connection security of the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Security {
    /// Plain text.
    #[default]
    Plain,
    /// STARTTLS offered and required before MAIL.
    StartTls,
    /// Implicit TLS from the first byte.
    Ssl,
}

/// What kind of server to start.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Connection security; TLS uses a fresh self-signed certificate for `localhost`.
    pub security: Security,
    /// Require AUTH (PLAIN or LOGIN) with this user and password.
    pub auth: Option<(String, String)>,
    /// Answer the end of DATA with 554: the transaction is refused, nothing is stored.
    pub reject_data: bool,
    /// Die once DATA has been received, before replying or storing: the server goes down mid-transaction.
    pub crash_in_data: bool,
}

/// One message the server accepted.
#[derive(Debug, Clone)]
pub struct Received {
    /// Envelope sender (MAIL FROM).
    pub mail_from: String,
    /// Envelope recipients (RCPT TO), in order.
    pub rcpt: Vec<String>,
    /// The authenticated user, if the client used AUTH.
    pub user: Option<String>,
    /// The message (DATA, dot-unstuffed) byte for byte.
    pub data: Vec<u8>,
}

/// A running aiosmtpd process; killed when dropped.
pub struct SmtpServer {
    /// The port on 127.0.0.1.
    pub port: u16,
    child: Child,
    // Held open: the server stops when it reads end of file, i.e. when this process goes away without dropping us.
    _stdin: ChildStdin,
    dir: tempfile::TempDir,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

const HOW_TO_INSTALL: &str = "python3 -m venv .venv && .venv/bin/pip install -r tests/python/requirements.txt, \
     then run scripts/test.sh or set VAULT365_PYTHON=$PWD/.venv/bin/python";

/// The interpreter of `$VAULT365_PYTHON`; panics (the test fails) when it is unset or does not exist.
pub fn python() -> PathBuf {
    let Some(p) = std::env::var_os("VAULT365_PYTHON") else {
        panic!("VAULT365_PYTHON is not set: the email tests need a Python with aiosmtpd ({HOW_TO_INSTALL})");
    };
    let p = workspace_root().join(p);
    assert!(p.exists(), "VAULT365_PYTHON={} does not exist ({HOW_TO_INSTALL})", p.display());
    p
}

/// Writes a self-signed certificate for `localhost` and its key as PEM files into `dir`.
fn write_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap().self_signed(&key).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

impl SmtpServer {
    /// A plain server without AUTH.
    pub fn start() -> SmtpServer {
        SmtpServer::start_with(Options::default())
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start_with(o: Options) -> SmtpServer {
        let py = python();
        let dir = tempfile::tempdir().unwrap();
        let script = workspace_root().join("tests/python/smtp_server.py");
        let mut cmd = Command::new(&py);
        cmd.arg(&script).arg("--dir").arg(dir.path().join("server"));
        let security = match o.security {
            Security::Plain => "plain",
            Security::StartTls => "starttls",
            Security::Ssl => "ssl",
        };
        cmd.args(["--security", security]);
        if o.security != Security::Plain {
            let (cert, key) = write_certificate(dir.path());
            cmd.arg("--cert").arg(cert).arg("--key").arg(key);
        }
        if let Some((user, password)) = &o.auth {
            cmd.arg("--auth").arg(format!("{user}:{password}"));
        }
        if o.reject_data {
            cmd.arg("--reject-data");
        }
        if o.crash_in_data {
            cmd.arg("--crash-in-data");
        }
        let stderr_path = dir.path().join("stderr.log");
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {} ({e}): {HOW_TO_INSTALL}", py.display()));
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        // The ready line is read on a thread so that a server that never prints it cannot hang the test.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(port) = line.strip_prefix("READY ") {
                    let _ = tx.send(port.trim().parse::<u16>().ok());
                }
            }
        });
        let port = match rx.recv_timeout(READY_TIMEOUT) {
            Ok(Some(port)) => port,
            other => {
                let _ = child.kill();
                let status = child.wait().ok();
                let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                panic!(
                    "the SMTP test server ({} {}) did not start ({other:?}, exit {status:?}):\n{stderr}\n\
                     It needs aiosmtpd: {HOW_TO_INSTALL}",
                    py.display(),
                    script.display()
                );
            }
        };
        SmtpServer { port, child, _stdin: stdin, dir }
    }

    fn server_dir(&self) -> PathBuf {
        self.dir.path().join("server")
    }

    /// Everything the server logged so far (`connect`, `auth`, `delivered`, `rejected`, `crash`), in order.
    pub fn events(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.server_dir().join("events.jsonl")).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("event line {l:?}: {e}"))).collect()
    }

    fn events_of(&self, kind: &str) -> Vec<Value> {
        self.events().into_iter().filter(|e| e["event"] == kind).collect()
    }

    /// How many SMTP sessions were opened (STARTTLS upgrades are not counted twice).
    pub fn connections(&self) -> usize {
        self.events_of("connect").len()
    }

    /// `(user, accepted)` of each AUTH attempt.
    pub fn auth_attempts(&self) -> Vec<(String, bool)> {
        self.events_of("auth")
            .iter()
            .map(|e| (e["user"].as_str().unwrap_or_default().to_string(), e["ok"] == true))
            .collect()
    }

    /// The messages stored in the Maildir, in delivery order.
    pub fn messages(&self) -> Vec<Received> {
        let strings = |v: &Value| -> Vec<String> {
            v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
        };
        self.events_of("delivered")
            .iter()
            .map(|e| {
                let key = e["key"].as_str().expect("a Maildir key");
                let path = self.server_dir().join("maildir/new").join(key);
                Received {
                    mail_from: e["mail_from"].as_str().unwrap_or_default().to_string(),
                    rcpt: strings(&e["rcpt_tos"]),
                    user: e["user"].as_str().map(str::to_string),
                    data: std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display())),
                }
            })
            .collect()
    }

    /// Number of messages stored.
    pub fn count(&self) -> usize {
        self.events_of("delivered").len()
    }

    /// The last message stored.
    pub fn last(&self) -> Received {
        self.messages().pop().expect("the SMTP server received a message")
    }

    /// Files anywhere in the Maildir (`tmp/`, `new/`, `cur/`).
    fn maildir_files(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for sub in ["tmp", "new", "cur"] {
            if let Ok(rd) = std::fs::read_dir(self.server_dir().join("maildir").join(sub)) {
                files.extend(rd.map(|e| e.unwrap().path()));
            }
        }
        files
    }

    /// Asserts that the Maildir holds exactly the delivered messages: nothing half-written in `tmp/`, no file that the
    /// server did not report as a completed delivery.
    pub fn assert_nothing_partial(&self) {
        let files = self.maildir_files();
        assert_eq!(files.len(), self.count(), "Maildir files {files:?} vs. delivered {:?}", self.events());
        assert!(files.iter().all(|f| f.parent().unwrap().ends_with("new")), "{files:?}");
    }

    /// Whether the server process ends within a few seconds (a `crash_in_data` server does, after its first DATA).
    /// Waits because a client sees the connection drop while the dying process is still being torn down.
    pub fn exits(&mut self) -> bool {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            if self.child.try_wait().unwrap().is_some() {
                return true;
            }
            if std::time::Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server: from now on its port refuses connections. The Maildir stays readable.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The server's stderr so far (for assertion messages).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
