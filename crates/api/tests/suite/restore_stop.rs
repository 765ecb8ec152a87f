//! Stopping running restores over HTTPS against the emulated tenant: every upload is slowed by an emulator latency
//! fault, a whole OneDrive is copied into a new folder, and a Stop arrives after a few files — on the v8 restore
//! operation, on the exploring session it came from, from another server node on the same catalog, and on a v7
//! session whose restore runs in another request. Each time the tenant's write counters stop growing and the tenant
//! holds exactly the files the statistics report.

use crate::common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Two users, 24 small files each (fewer than 50 files: no large file, so every file is one simple upload).
const SEED: &str = "users=2,files=48,versions=1,sites=0";

/// Where the copies go.
const FOLDER: &str = "Stopped copy";

/// Files of the first user's OneDrive at the second backup.
const FILES: usize = 24;

async fn fault(s: &TestServer, rule: Value) {
    let r =
        s.tenant.http.post(format!("{}/_emulator/faults", s.tenant.emu.base_url())).json(&rule).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

/// Requests that change the tenant so far (every route but GETs and sign-ins), from the emulator's counters.
async fn writes(s: &TestServer) -> u64 {
    let stats: Value = s
        .tenant
        .http
        .get(format!("{}/_emulator/stats", s.tenant.emu.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let routes = stats["routes"].as_object().expect("routes");
    routes
        .iter()
        .filter(|(k, _)| !k.starts_with("GET ") && !k.contains("/oauth2/"))
        .map(|(_, v)| v["total"].as_u64().unwrap())
        .sum()
}

/// The live files below the live folder [`FOLDER`] of the first user's drive, as paths relative to it.
fn copied_files(s: &TestServer) -> BTreeSet<String> {
    let st = s.tenant.emu.emu.state();
    let Some(root) = st
        .items
        .values()
        .find(|i| i.name == FOLDER && i.is_folder && i.deleted.is_none() && i.drive_id == s.changes.drive_id)
        .map(|i| i.id.clone())
    else {
        return BTreeSet::new();
    };
    let mut out = BTreeSet::new();
    for i in st.items.values().filter(|i| !i.is_folder && i.deleted.is_none()) {
        let mut names = vec![i.name.clone()];
        let mut parent = i.parent_id.clone();
        while let Some(p) = parent {
            if p == root {
                names.reverse();
                out.insert(names.join("/"));
                break;
            }
            let Some(item) = st.items.get(&p) else { break };
            names.push(item.name.clone());
            parent = item.parent_id.clone();
        }
    }
    out
}

async fn restore_events(s: &TestServer, version: u8, id: &str) -> Vec<Value> {
    let (st, b) = s.get(&format!("/v{version}/RestoreSessions/{id}/Events?limit=1000"), Some(&s.token)).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    b["results"].as_array().unwrap().clone()
}

/// Waits until the session has at least `n` `Restore` events.
async fn wait_restored(s: &TestServer, id: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let count = restore_events(s, 8, id).await.iter().filter(|e| e["type"] == "Restore").count();
        if count >= n {
            return;
        }
        assert!(Instant::now() < deadline, "only {count} items restored");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls the v8 session until it is stopped, for at most `limit`.
async fn wait_stopped_within(s: &TestServer, id: &str, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let (st, b) = s.get(&format!("/v8/RestoreSessions/{id}"), Some(&s.token)).await;
        assert_eq!(st, StatusCode::OK, "{b}");
        if b["state"] == "Stopped" {
            return b;
        }
        assert!(Instant::now() < deadline, "the restore did not stop within {limit:?}: {b}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The tenant stops changing: the write counters read twice, two seconds apart, are equal.
async fn assert_writes_stopped(s: &TestServer) {
    let before = writes(s).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(writes(s).await, before, "the tenant is still being written to after the stop");
}

/// The paths the session's statistics report as restored; checks that they are all the session reports.
async fn restored_paths(s: &TestServer, version: u8, id: &str) -> BTreeSet<String> {
    let (st, stats) = s.get(&format!("/v{version}/RestoreSessions/{id}/Statistics"), Some(&s.token)).await;
    assert_eq!(st, StatusCode::OK, "{stats}");
    let items = stats["items"].as_array().unwrap();
    assert!(items.iter().all(|i| i["status"] == "Success"), "{stats}");
    let paths: BTreeSet<String> = items.iter().map(|i| i["path"].as_str().unwrap().to_string()).collect();
    assert_eq!(stats["restoredItemsCount"], json!(paths.len()), "{stats}");
    assert_eq!(stats["totalItemsCount"], json!(paths.len()), "{stats}");
    paths
}

/// Starts a v8 copy of the first user's whole OneDrive into [`FOLDER`], every upload slowed; returns the exploring
/// session and the restore operation session once a few files are restored.
async fn start_slow_v8_copy(s: &TestServer, password: &str) -> (String, String) {
    let sid = s.explore(8, "Veod", None).await;
    let od = s.changes.onedrive;
    fault(s, json!({"method": "PUT", "latencyMs": 300})).await;
    let body = json!({"userName": s.changes.upn, "userPassword": password, "folder": FOLDER});
    let (st, b) =
        s.post(&format!("/v8/RestoreSessions/{sid}/Organization/OneDrives/{od}/copyTo"), Some(&s.token), body).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let op = b["sessionId"].as_str().unwrap().to_string();
    wait_restored(s, &op, 3).await;
    (sid, op)
}

/// The end state every stopped v8 job must reach: `Stopped`, result `Warning`, a `Cancelled` event, the tenant quiet
/// and holding exactly the files the statistics report — fewer than the OneDrive has. Returns how many.
async fn assert_job_stopped(s: &TestServer, op: &str) -> usize {
    let session = wait_stopped_within(s, op, Duration::from_secs(10)).await;
    assert_eq!(session["result"], "Warning", "{session}");
    assert!(session["details"].as_str().unwrap().contains("stopped by the user"), "{session}");
    assert!(session["endTime"].is_string(), "{session}");
    assert_writes_stopped(s).await;
    let reported = restored_paths(s, 8, op).await;
    assert_eq!(copied_files(s), reported, "the tenant holds exactly what the statistics report");
    assert!(reported.len() >= 3 && reported.len() < FILES, "stopped part-way: {}", reported.len());
    let evs = restore_events(s, 8, op).await;
    assert!(
        evs.iter().any(|e| e["type"] == "None" && e["status"] == "Cancelled" && e["title"] == "Restore stopped"),
        "{evs:?}"
    );
    reported.len()
}

#[tokio::test]
async fn stop_cancels_a_v8_restore_within_one_item() {
    let s = TestServer::start(SEED).await;
    let password = prepare(&s);
    let (sid, op) = start_slow_v8_copy(&s, &password).await;

    let (st, b) = s.post_empty(&format!("/v8/RestoreSessions/{op}/stop"), Some(&s.token)).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
    // This node runs the job: it was cancelled before the answer, so at most the upload in flight completes.
    let at_stop = copied_files(&s).len();
    let restored = assert_job_stopped(&s, &op).await;
    assert!(restored <= at_stop + 1, "{restored} files restored, {at_stop} when the stop was answered");

    // Stopping again is harmless; the exploring session was not stopped and serves another restore.
    let (st, _) = s.post_empty(&format!("/v8/RestoreSessions/{op}/stop"), Some(&s.token)).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, explore) = s.get(&format!("/v8/RestoreSessions/{sid}"), Some(&s.token)).await;
    assert_eq!(explore["state"], "Working", "{explore}");
}

#[tokio::test]
async fn stopping_the_exploring_session_stops_its_restore_jobs() {
    let s = TestServer::start(SEED).await;
    let password = prepare(&s);
    let (sid, op) = start_slow_v8_copy(&s, &password).await;

    let (st, b) = s.post_empty(&format!("/v8/RestoreSessions/{sid}/stop"), Some(&s.token)).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
    let at_stop = copied_files(&s).len();
    let restored = assert_job_stopped(&s, &op).await;
    assert!(restored <= at_stop + 1, "{restored} files restored, {at_stop} when the stop was answered");
    let (_, explore) = s.get(&format!("/v8/RestoreSessions/{sid}"), Some(&s.token)).await;
    assert_eq!(explore["state"], "Stopped", "{explore}");
}

/// Two nodes on one catalog: the Stop reaches the node that does not run the job and travels through the catalog.
#[tokio::test]
async fn a_stop_sent_to_another_node_stops_the_job() {
    let s = TestServer::start(SEED).await;
    let password = prepare(&s);
    let other = api::start(
        &api::ApiConfig::listening_on(SocketAddr::from(([127, 0, 0, 1], 0))),
        api::AppState::new(s.catalog.clone(), Some(s.repo.clone()), s.dir.path().join("api-node-2")),
    )
    .await
    .unwrap();
    let (_, op) = start_slow_v8_copy(&s, &password).await;

    // Tokens live in the catalog, so the admin's token serves on the other node too.
    let r = s.client.post(format!("{}/v8/RestoreSessions/{op}/stop", other.base_url())).bearer_auth(&s.token);
    assert_eq!(r.send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_job_stopped(&s, &op).await;
    other.shutdown().await;
}

/// v7 runs a restore inside its request; a Stop of the session from another request cuts it short, and the
/// restore's request answers v7's stopped-session error.
#[tokio::test]
async fn stop_from_another_request_cancels_a_v7_restore() {
    let s = TestServer::start(SEED).await;
    let password = prepare(&s);
    let sid = s.explore(7, "Veod", None).await;
    let od = s.changes.onedrive;
    fault(&s, json!({"method": "PUT", "latencyMs": 300})).await;
    let body = json!({"userName": s.changes.upn, "userPassword": password, "folder": FOLDER});
    let path = format!("/v7/RestoreSessions/{sid}/Organization/OneDrives/{od}/copyTo");
    let restore = s.post(&path, Some(&s.token), body);
    let stop = async {
        let deadline = Instant::now() + Duration::from_secs(60);
        while copied_files(&s).len() < 3 {
            assert!(Instant::now() < deadline, "the restore does not progress");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let answer = s.post_empty(&format!("/v7/RestoreSessions/{sid}/stop"), Some(&s.token)).await;
        (answer, copied_files(&s).len(), Instant::now())
    };
    let ((st, b), ((stop_status, _), at_stop, stopped_at)) = tokio::join!(restore, stop);
    assert_eq!(stop_status, StatusCode::OK);
    assert!(stopped_at.elapsed() < Duration::from_secs(5), "the restore request did not end soon after the stop");
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR, "{b}");
    let message = b["message"].as_str().unwrap();
    assert!(message.starts_with("Restore session is stopped.") && message.contains("stopped by the user"), "{b}");

    assert_writes_stopped(&s).await;
    let reported = restored_paths(&s, 7, &sid).await;
    assert_eq!(copied_files(&s), reported, "the tenant holds exactly what the statistics report");
    assert!(
        reported.len() < FILES && reported.len() <= at_stop + 1,
        "{} restored, {at_stop} at the stop",
        reported.len()
    );
    let (_, session) = s.get(&format!("/v7/RestoreSessions/{sid}"), Some(&s.token)).await;
    assert_eq!(session["state"], "Stopped", "{session}");
}
