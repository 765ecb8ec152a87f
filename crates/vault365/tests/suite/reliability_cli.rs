//! Reliability suite (issue #7): the server process killed with SIGKILL in the middle of work, then restarted, and
//! restores under an emulator fault storm.
//!
//! * `kill_dash_nine_during_a_save_download`: `vault365 serve` streams a ZIP of a whole OneDrive to a client that
//!   reads slowly; SIGKILL; `repo check --read-data` is clean; a restarted server still lists every restore point,
//!   browses them and delivers a complete archive.
//! * `kill_dash_nine_during_a_v8_restore_job`: the restore job that was running is reported `Failed` after the restart, nothing committed is lost.
//! * `restore_under_a_fault_storm_loses_no_item`: 429 (with and without Retry-After), 503 and latency on the
//!   emulator's Graph and upload routes while a whole OneDrive is restored through the API: every backed-up file is
//!   back with its backed-up content.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::common::{output_ok_async, tenant, PASSWORD};

const ADMIN: &str = "DOMAIN\\admin";
const ADMIN_PASSWORD: &str = "admin pa$$ phrase";

fn vault365(data: &Path, args: &[&str]) -> Command {
    let mut c = crate::common::vault365_at(data, PASSWORD, args);
    c.env("VAULT365_API_LISTEN", "127.0.0.1:0");
    c
}

async fn run_ok(data: &Path, args: &[&str]) -> String {
    output_ok_async(vault365(data, args)).await
}

/// An organization on the emulator, two backups (so there are two restore points) and an API account.
async fn prepare(data: &Path, emu: &emulator::RunningEmulator) {
    run_ok(data, &["org", "add", "--name", "contoso", "--emulator", &emu.base_url()]).await;
    run_ok(data, &["backup", "--org", "contoso", "--quiet"]).await;
    run_ok(data, &["backup", "--org", "contoso", "--quiet"]).await;
    run_ok(data, &["user", "add", "--name", ADMIN, "--password", ADMIN_PASSWORD]).await;
}

/// A running `vault365 serve` and its HTTPS base URL.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(data: &Path) -> Server {
        let mut child = vault365(data, &["serve"]).stdout(Stdio::piped()).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).unwrap();
            line
        })
        .await
        .unwrap();
        let addr = line.split_whitespace().find_map(|w| w.strip_prefix("https://")).expect("listening line");
        Server { child, base: format!("https://{addr}") }
    }

    /// SIGKILL: no shutdown code runs, exactly like a crash or the OOM killer.
    fn kill_dash_nine(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> Client {
    Client::builder().danger_accept_invalid_certs(true).build().unwrap()
}

async fn logon(c: &Client, base: &str) -> String {
    let r = c
        .post(format!("{base}/v6/token"))
        .form(&[("grant_type", "password"), ("username", ADMIN), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
}

async fn get(c: &Client, url: &str, token: &str) -> (StatusCode, Value) {
    let r = c.get(url).bearer_auth(token).send().await.unwrap();
    let st = r.status();
    (st, r.json().await.unwrap_or(Value::Null))
}

async fn post(c: &Client, url: &str, token: &str, body: Value) -> (StatusCode, Value) {
    let r = c.post(url).bearer_auth(token).json(&body).send().await.unwrap();
    let st = r.status();
    (st, r.json().await.unwrap_or(Value::Null))
}

/// Restore point ids the API lists (all pages).
async fn restore_points(c: &Client, base: &str, token: &str) -> Vec<String> {
    let (st, b) = get(c, &format!("{base}/v6/RestorePoints?limit=1000"), token).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let list = b.as_array().or_else(|| b["results"].as_array()).expect("a list of restore points");
    let mut ids: Vec<String> = list.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids
}

/// A v6 OneDrive restore session on the organization, its first OneDrive id and that OneDrive's document count.
async fn explore_onedrive(c: &Client, base: &str, token: &str) -> (String, String, usize) {
    let (st, orgs) = get(c, &format!("{base}/v6/Organizations"), token).await;
    assert_eq!(st, StatusCode::OK, "{orgs}");
    let org = orgs.as_array().or_else(|| orgs["results"].as_array()).unwrap()[0]["id"].as_str().unwrap().to_string();
    let (st, s) = post(c, &format!("{base}/v6/Organizations/{org}/explore"), token, json!({"type": "Veod"})).await;
    assert_eq!(st, StatusCode::OK, "{s}");
    let sid = s["id"].as_str().unwrap().to_string();
    let (st, ods) = get(c, &format!("{base}/v6/RestoreSessions/{sid}/Organization/OneDrives"), token).await;
    assert_eq!(st, StatusCode::OK, "{ods}");
    let od = ods["results"][0]["id"].as_str().unwrap().to_string();
    let (st, docs) =
        get(c, &format!("{base}/v6/RestoreSessions/{sid}/Organization/OneDrives/{od}/Documents?limit=1000"), token)
            .await;
    assert_eq!(st, StatusCode::OK, "{docs}");
    let n = docs["results"].as_array().unwrap().len();
    (sid, od, n)
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_dash_nine_during_a_save_download() {
    let dir = tempfile::tempdir().unwrap();
    let emu = tenant(dir.path(), "users=1,files=40,versions=1").await;
    let data = dir.path().join("data");
    prepare(&data, &emu).await;

    let server = Server::start(&data).await;
    let c = client();
    let token = logon(&c, &server.base).await;
    let points = restore_points(&c, &server.base, &token).await;
    assert_eq!(points.len(), 2, "{points:?}");
    let (sid, od, docs) = explore_onedrive(&c, &server.base, &token).await;
    assert!(docs > 0);

    // Start a ZIP of the whole OneDrive and read only its first piece: the server's producer is now blocked on the
    // bounded channel in the middle of the archive.
    let save = format!("{}/v6/RestoreSessions/{sid}/Organization/OneDrives/{od}/save", server.base);
    let r = c.post(&save).bearer_auth(&token).json(&json!({"asZip": true})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let total: u64 = r.headers()["content-length"].to_str().unwrap().parse().unwrap();
    let mut r = r;
    let first = r.chunk().await.unwrap().expect("a first piece");
    assert!((first.len() as u64) < total, "the whole archive came in one piece; nothing was in flight");
    server.kill_dash_nine();
    // The client sees a broken transfer, never an archive that looks complete.
    let mut got = first.len() as u64;
    let mut broken = false;
    loop {
        match r.chunk().await {
            Ok(Some(p)) => got += p.len() as u64,
            Ok(None) => break,
            Err(_) => {
                broken = true;
                break;
            }
        }
    }
    assert!(broken || got < total, "got {got} of {total} bytes without an error");

    let check = run_ok(&data, &["repo", "check", "--read-data"]).await;
    assert!(check.contains("repo check ok"), "after kill -9: {check}");

    // Restarted: every committed restore point is still there and browsable, the old session too, and a new
    // download completes.
    let server = Server::start(&data).await;
    let token = logon(&c, &server.base).await;
    assert_eq!(restore_points(&c, &server.base, &token).await, points);
    let (st, old) = get(&c, &format!("{}/v6/RestoreSessions/{sid}", server.base), &token).await;
    assert_eq!(st, StatusCode::OK, "{old}");
    let (sid2, od2, docs2) = explore_onedrive(&c, &server.base, &token).await;
    assert_eq!((od2.as_str(), docs2), (od.as_str(), docs));
    let save = format!("{}/v6/RestoreSessions/{sid2}/Organization/OneDrives/{od}/save", server.base);
    let r = c.post(&save).bearer_auth(&token).json(&json!({"asZip": true})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let zip = r.bytes().await.unwrap();
    assert_eq!(zip.len() as u64, total, "the same archive, complete");
    // End of central directory record at the end.
    assert_eq!(&zip[zip.len() - 22..zip.len() - 18], b"PK\x05\x06");
    let check = run_ok(&data, &["repo", "check", "--read-data"]).await;
    assert!(check.contains("repo check ok"), "{check}");
    drop(server);
    emu.shutdown().await.unwrap();
}

/// A v8 restore (`POST …/restore` → `{sessionId}`, run as a background job) to the organization's own tenant (an
/// `--emulator` organization).
///
/// Then: SIGKILL while the job runs; after a restart the operation session is `Stopped` with result `Failed` and
/// the interruption message; `repo check` is clean; every restore point is still there.
#[tokio::test(flavor = "multi_thread")]
async fn kill_dash_nine_during_a_v8_restore_job() {
    let dir = tempfile::tempdir().unwrap();
    let emu = tenant(dir.path(), "users=1,files=60,versions=1").await;
    let data = dir.path().join("data");
    prepare(&data, &emu).await;
    let (upn, user_password) = {
        let st = emu.emu.state();
        let u = st.users.values().next().unwrap();
        (u.user_principal_name.clone(), u.password.clone())
    };
    // Slow every upload so the job is still running when the server is killed. The tenant still holds what was
    // backed up, so a last-version restore would skip every file as unchanged without writing: the restore writes
    // all versions (`documentVersion: all`), which uploads every file.
    fault(&emu, json!({"pathContains": "/content", "latencyMs": 300})).await;
    fault(&emu, json!({"path": "/_up", "latencyMs": 300})).await;

    let server = Server::start(&data).await;
    let c = client();
    let token = logon(&c, &server.base).await;
    let points = restore_points(&c, &server.base, &token).await;
    let (sid, od, _) = explore_onedrive(&c, &server.base, &token).await;
    let url = format!("{}/v8/RestoreSessions/{sid}/Organization/OneDrives/{od}/restore", server.base);
    let (st, b) = post(
        &c,
        &url,
        &token,
        json!({"userName": upn, "userPassword": user_password, "documentAction": "overwrite",
               "documentVersion": "all", "changedItems": true, "deletedItems": true}),
    )
    .await;
    assert!(st.is_success(), "{st} {b}");
    let op = b["sessionId"].as_str().expect("v8 answers the restore operation's session id").to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, s) = get(&c, &format!("{}/v8/RestoreSessions/{op}", server.base), &token).await;
        assert_eq!(s["state"], "Working", "the restore ended before it could be killed: {s}");
        let (_, ev) = get(&c, &format!("{}/v8/RestoreSessions/{op}/Events", server.base), &token).await;
        if ev["results"].as_array().is_some_and(|a| !a.is_empty()) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.kill_dash_nine();
    clear_faults(&emu).await;

    let check = run_ok(&data, &["repo", "check", "--read-data"]).await;
    assert!(check.contains("repo check ok"), "{check}");
    let server = Server::start(&data).await;
    let token = logon(&c, &server.base).await;
    let (st, s) = get(&c, &format!("{}/v8/RestoreSessions/{op}", server.base), &token).await;
    assert_eq!(st, StatusCode::OK, "{s}");
    assert_eq!(s["state"], "Stopped", "{s}");
    assert_eq!(s["result"], "Failed", "{s}");
    assert!(s["details"].as_str().unwrap_or_default().contains("interrupted"), "{s}");
    assert_eq!(restore_points(&c, &server.base, &token).await, points);
    explore_onedrive(&c, &server.base, &token).await;
    drop(server);
    emu.shutdown().await.unwrap();
}

async fn fault(emu: &emulator::RunningEmulator, rule: Value) {
    Client::new()
        .post(format!("{}/_emulator/faults", emu.base_url()))
        .json(&rule)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
}

async fn clear_faults(emu: &emulator::RunningEmulator) {
    Client::new().delete(format!("{}/_emulator/faults", emu.base_url())).send().await.unwrap();
}

/// An application token for Graph on the emulator (client credentials of the seeded app).
async fn graph_token(emu: &emulator::RunningEmulator) -> String {
    let (tenant, app) = {
        let st = emu.emu.state();
        (st.tenant.id.clone(), emulator::seed::default_app(&st))
    };
    let r: Value = Client::new()
        .post(format!("{}/{tenant}/oauth2/v2.0/token", emu.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.secret.as_deref().unwrap()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().unwrap().to_string()
}

/// (name, quickXorHash) of the live files of a drive in the emulator.
fn tenant_files(emu: &emulator::RunningEmulator, drive: &str) -> Vec<(String, String)> {
    let st = emu.emu.state();
    let mut v: Vec<(String, String)> = st
        .items
        .values()
        .filter(|i| i.drive_id == drive && !i.is_folder && i.deleted.is_none())
        .map(|i| {
            let folder = st.folder_path(i.parent_id.as_deref().unwrap_or_default());
            (format!("{folder}/{}", i.name), i.versions.last().unwrap().quick_xor.clone())
        })
        .collect();
    v.sort();
    v
}

/// The API in this process (so restores can be pointed at the emulator) over the CLI's catalog and repository;
/// the tenant is damaged (files deleted and overwritten), then a whole OneDrive is restored to the original location
/// while the emulator throttles and fails: every file comes back with its backed-up content.
#[tokio::test(flavor = "multi_thread")]
async fn restore_under_a_fault_storm_loses_no_item() {
    let dir = tempfile::tempdir().unwrap();
    let emu = tenant(dir.path(), "users=1,files=30,versions=1").await;
    let data = dir.path().join("data");
    prepare(&data, &emu).await;
    let (upn, user_password, drive, client_id) = {
        let st = emu.emu.state();
        let u = st.users.values().next().unwrap();
        (
            u.user_principal_name.clone(),
            u.password.clone(),
            u.drive_id.clone().unwrap(),
            emulator::seed::default_app(&st).client_id,
        )
    };
    let before = tenant_files(&emu, &drive);
    assert!(before.len() >= 10, "{before:?}");

    // Damage through Graph, as users would: a third of the files deleted, a third overwritten.
    let graph = graph_token(&emu).await;
    let ids: Vec<String> = {
        let st = emu.emu.state();
        let mut v: Vec<_> = st
            .items
            .values()
            .filter(|i| i.drive_id == drive && !i.is_folder && i.deleted.is_none())
            .map(|i| i.id.clone())
            .collect();
        v.sort();
        v
    };
    for (n, id) in ids.iter().enumerate() {
        let url = format!("{}/v1.0/drives/{drive}/items/{id}", emu.base_url());
        let rq = match n % 3 {
            0 => Client::new().delete(url),
            1 => Client::new().put(format!("{url}/content")).body(format!("damaged {n}")),
            _ => continue,
        };
        rq.bearer_auth(&graph).send().await.unwrap().error_for_status().unwrap();
    }
    assert_ne!(tenant_files(&emu, &drive), before);

    // The API over the CLI's data, restores pointed at the emulator.
    let catalog = repo::catalog::Catalog::connect(&format!("sqlite://{}?mode=rwc", data.join("catalog.db").display()))
        .await
        .unwrap();
    let store = repo::store::local_store(&data.join("repository")).unwrap();
    let repository = repo::store::Repository::open(store, PASSWORD).await.unwrap();
    let state = api::AppState::new(catalog, Some(repository), data.join("api"));
    state
        .restore_access
        .set(api::RestoreAccess { endpoints: m365::Endpoints::emulator(&emu.base_url()), client_id: Some(client_id) });
    let running =
        api::start(&api::ApiConfig::listening_on(SocketAddr::from(([127, 0, 0, 1], 0))), state).await.unwrap();
    let base = running.base_url();
    let c = client();
    let token = logon(&c, &base).await;
    let (sid, od, _) = explore_onedrive(&c, &base, &token).await;

    // The storm: throttling with and without Retry-After, unavailability, latency — on reads and on writes.
    for rule in [
        // Budgets small enough to be used up by a restore that costs about one request per file.
        json!({"path": "/v1.0", "status": 429, "everyNth": 3, "count": 8, "retryAfter": 1}),
        json!({"path": "/v1.0", "status": 503, "everyNth": 5, "count": 3, "noRetryAfter": true}),
        json!({"pathContains": "/content", "status": 503, "everyNth": 4, "count": 6}),
        json!({"path": "/_up", "status": 429, "everyNth": 3, "count": 4}),
        json!({"path": "/v1.0", "latencyMs": 20}),
    ] {
        fault(&emu, rule).await;
    }
    let url = format!("{base}/v7/RestoreSessions/{sid}/Organization/OneDrives/{od}/restore");
    let (st, b) = post(
        &c,
        &url,
        &token,
        json!({"userName": upn, "userPassword": user_password, "documentAction": "overwrite",
               "documentVersion": "all", "changedItems": true, "deletedItems": true}),
    )
    .await;
    // The storm really hit the restore: a rule with a budget disappears once it has fired that many times, so no
    // error rule on Graph may be left (the upload-session one only fires for files large enough to need a session).
    let rules: Value =
        Client::new().get(format!("{}/_emulator/faults", emu.base_url())).send().await.unwrap().json().await.unwrap();
    let left: Vec<&Value> = rules["value"]
        .as_array()
        .expect("fault rules")
        .iter()
        .filter(|r| r["status"].is_u64() && r["path"] != "/_up")
        .collect();
    assert!(left.is_empty(), "injected errors were not all met: {left:?}");
    clear_faults(&emu).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["failedItemsCount"], 0, "{b}");
    assert!(b["restoredItemsCount"].as_u64().unwrap() >= (before.len() as u64 * 2) / 3 - 1, "{b}");
    assert_eq!(tenant_files(&emu, &drive), before, "after the restore under faults");
    running.shutdown().await;
    emu.shutdown().await.unwrap();
}
