//! Several nodes on loopback sharing one PostgreSQL catalog and one S3 bucket: a backup task queued with
//! `vault365 backup --enqueue` is claimed by worker A, A is killed with SIGKILL mid-backup, and one of two fresh
//! nodes (B and C, each `serve --worker`, racing for it) takes the task over and completes it. Then a second task
//! runs incrementally on whichever node is free, `repo check --read-data` is clean, and a restore session opened
//! through B's API is browsed through C's.
//!
//! Needs `VAULT365_TEST_POSTGRES` and `VAULT365_TEST_S3` (set by `scripts/test.sh`); unset: skipped with a note;
//! set but unreachable: the test fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::Row;

use crate::common::{fresh_postgres_database, output_ok, tenant, test_server_var, PASSWORD};

/// Takeover delay of the workers (the minimum: three engine session heartbeats).
const STALE_SECS: u64 = 6;

struct Node {
    config: PathBuf,
}

/// A worker process, killed when dropped (a failing assertion must not leave workers running).
struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Node {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = crate::common::vault365();
        c.arg("--config").arg(&self.config).args(args).env("VAULT365_REPO_PASSWORD", PASSWORD);
        c
    }

    fn run_ok(&self, args: &[&str]) -> String {
        output_ok(self.cmd(args))
    }

    /// `serve --worker` (API + worker) on a free loopback port; returns the process and the API's base URL.
    fn serve_worker(&self, name: &str, log: &Path) -> (Worker, String) {
        use std::io::BufRead;
        let log = std::fs::File::create(log).unwrap();
        let mut child = self
            .cmd(&[
                "serve",
                "--worker",
                "--node",
                name,
                "--stale-after-secs",
                &STALE_SECS.to_string(),
                "--worker-concurrency",
                "2",
            ])
            .env("RUST_LOG", "info")
            .env("VAULT365_API_LISTEN", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let worker = Worker(child);
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line).unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("https://"))
            .unwrap_or_else(|| panic!("node {name} did not start the API: {line:?}"))
            .to_string();
        (worker, url)
    }

    fn worker(&self, name: &str, log: &Path) -> Worker {
        let log = std::fs::File::create(log).unwrap();
        Worker(
            self.cmd(&[
                "worker",
                "--node",
                name,
                "--stale-after-secs",
                &STALE_SECS.to_string(),
                "--worker-concurrency",
                "2",
            ])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
        )
    }
}

/// The task row as (status, node, attempts, result).
async fn task(db: &sqlx::AnyPool, id: &str) -> (String, Option<String>, i64, Option<Value>) {
    let row = sqlx::query("SELECT status, node, attempts, result FROM cluster_tasks WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap();
    let result: Option<String> = row.get("result");
    (row.get("status"), row.get("node"), row.get("attempts"), result.map(|r| serde_json::from_str(&r).unwrap()))
}

async fn wait_done(db: &sqlx::AnyPool, id: &str, logs: &Path) -> (Option<String>, i64, Value) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (status, node, attempts, result) = task(db, id).await;
        match status.as_str() {
            "done" => return (node, attempts, result.unwrap()),
            "failed" => panic!("task {id} failed: {result:?}\n{}", read_logs(logs)),
            _ if Instant::now() > deadline => panic!("task {id} still {status} on {node:?}\n{}", read_logs(logs)),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

fn read_logs(dir: &Path) -> String {
    let mut out = String::new();
    for n in ["a", "b", "c"] {
        let text = std::fs::read_to_string(dir.join(format!("worker-{n}.log"))).unwrap_or_default();
        out.push_str(&format!("--- worker {n}\n{text}\n"));
    }
    out
}

fn task_id(line: &str) -> String {
    line.split_whitespace().find_map(|w| w.strip_prefix("task=")).unwrap_or_else(|| panic!("task= in {line}")).into()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_node_has_its_backup_taken_over_by_another() {
    let (Some(pg), Some(s3)) =
        (test_server_var("VAULT365_TEST_POSTGRES", "cluster"), test_server_var("VAULT365_TEST_S3", "cluster"))
    else {
        return;
    };
    let catalog_url = fresh_postgres_database(&pg, "cluster_test").await;

    let dir = tempfile::tempdir().unwrap();
    let emu = tenant(dir.path(), "users=3,files=150,versions=1").await;
    // One configuration for every node: the same catalog and bucket. The data directory (organization credentials)
    // is shared here because the nodes run on one machine; a real cluster distributes it.
    let s3cfg = repo::store::S3Config::from_url(&s3).unwrap();
    let config = dir.path().join("vault365.toml");
    std::fs::write(dir.path().join("s3.secret"), &s3cfg.secret_key).unwrap();
    std::fs::write(
        &config,
        format!(
            "data_dir = {data:?}\ncatalog_url = {catalog_url:?}\n[repository.s3]\nbucket = {bucket:?}\n\
             endpoint = {endpoint:?}\naccess_key = {ak:?}\nsecret_key_file = {sk:?}\nallow_http = true\n\
             prefix = {prefix:?}\n",
            data = dir.path().join("data").display().to_string(),
            bucket = s3cfg.bucket,
            endpoint = s3cfg.endpoint.clone().unwrap(),
            ak = s3cfg.access_key,
            sk = dir.path().join("s3.secret").display().to_string(),
            prefix = format!("cluster-test-{}", uuid::Uuid::new_v4().simple()),
        ),
    )
    .unwrap();
    let node = Node { config };
    let url = emu.base_url();
    let first = {
        let node = Node { config: node.config.clone() };
        tokio::task::spawn_blocking(move || {
            node.run_ok(&["org", "add", "--name", "contoso", "--emulator", &url]);
            node.run_ok(&["backup", "--org", "contoso", "--enqueue"])
        })
        .await
        .unwrap()
    };
    assert!(first.starts_with("queued task="), "{first}");
    let id = task_id(&first);
    let db = sqlx::AnyPool::connect(&catalog_url).await.unwrap();

    // Slow every download so that the backup is still running when its node is killed.
    let http = reqwest::Client::new();
    http.post(format!("{}/_emulator/faults", emu.base_url()))
        .json(&json!({"path": "/_dl", "latencyMs": 40}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let logs = dir.path();
    let mut a = node.worker("a", &logs.join("worker-a.log"));
    // Wait until A has committed a checkpoint (content flushed to the bucket, states in the catalog), then kill it.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let states: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM item_states").fetch_one(&db).await.map(|r| r.get("n")).unwrap_or(0);
        if states > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "worker a never checkpointed\n{}", read_logs(logs));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, owner, attempts, _) = task(&db, &id).await;
    assert_eq!((status.as_str(), owner.as_deref(), attempts), ("running", Some("a"), 1), "{}", read_logs(logs));
    a.0.kill().unwrap(); // SIGKILL: no chance to clean up
    a.0.wait().unwrap();
    let killed_at = Instant::now();
    http.delete(format!("{}/_emulator/faults", emu.base_url())).send().await.unwrap();

    // Two fresh nodes (API + worker each) race for the orphaned task: exactly one takes it over once A's heartbeat
    // is stale. B starts first so that it creates the shared self-signed certificate C then reuses.
    let api_user = {
        let node = Node { config: node.config.clone() };
        tokio::task::spawn_blocking(move || node.run_ok(&["user", "add", "--name", "admin", "--password", PASSWORD]))
            .await
            .unwrap()
    };
    assert!(api_user.starts_with("user added"), "{api_user}");
    let (b, api_b) = node.serve_worker("b", &logs.join("worker-b.log"));
    let (c, api_c) = node.serve_worker("c", &logs.join("worker-c.log"));
    let (owner, attempts, result) = wait_done(&db, &id, logs).await;
    assert!(killed_at.elapsed() >= Duration::from_secs(STALE_SECS - 2), "taken over only once stale");
    assert!(matches!(owner.as_deref(), Some("b") | Some("c")), "{owner:?}");
    assert_eq!(attempts, 2, "claimed by A, then taken over once: {}", read_logs(logs));
    assert_eq!(result["status"], "Success", "{result}");
    let rp = result["restorePointId"].as_str().expect("a restore point").to_string();
    assert!(result["items"].as_u64().unwrap() > 0);
    let log_text = read_logs(logs);
    assert!(log_text.contains("taken over from node a"), "{log_text}");

    // A's session was failed, the new one succeeded; there is exactly one restore point.
    let sessions: Vec<String> = sqlx::query("SELECT status FROM sessions ORDER BY started_at")
        .fetch_all(&db)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("status"))
        .collect();
    assert_eq!(sessions, ["failed", "success"], "{log_text}");
    let rps: i64 = sqlx::query("SELECT COUNT(*) AS n FROM restore_points").fetch_one(&db).await.unwrap().get("n");
    assert_eq!(rps, 1);

    // A second backup goes to whichever node is free and is incremental: nothing new to read.
    let second = {
        let node = Node { config: node.config.clone() };
        tokio::task::spawn_blocking(move || node.run_ok(&["backup", "--org", "contoso", "--enqueue"])).await.unwrap()
    };
    let (owner2, attempts2, result2) = wait_done(&db, &task_id(&second), logs).await;
    assert!(matches!(owner2.as_deref(), Some("b") | Some("c")) && attempts2 == 1, "{owner2:?} {attempts2}");
    assert_eq!(result2["bytesRead"], 0, "{result2}");
    assert_ne!(result2["restorePointId"].as_str().unwrap(), rp);

    // Any node reads the restore point: the repository in the bucket checks clean, the export is complete.
    let (check, show, export) = {
        let node = Node { config: node.config.clone() };
        let (id, to) = (id.clone(), dir.path().join("export"));
        tokio::task::spawn_blocking(move || {
            (
                node.run_ok(&["repo", "check", "--read-data"]),
                node.run_ok(&["task", "show", &id]),
                node.run_ok(&["export", "--restore-point", &rp, "--to", to.to_str().unwrap()]),
            )
        })
        .await
        .unwrap()
    };
    assert!(check.contains("repo check ok"), "{check}");
    assert!(show.contains("status=done") && show.contains("attempts=2"), "{show}");
    assert!(export.starts_with("export ok"), "{export}");
    let expected_files = emu.emu.state().items.values().filter(|i| !i.is_folder && i.deleted.is_none()).count();
    let files: usize = export
        .split_whitespace()
        .find_map(|w| w.strip_prefix("files="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("files= in {export}"));
    assert!(files >= expected_files, "exported {files} of {expected_files} files: {export}");

    // A restore session opened through node B's API is usable through node C's (sessions, accounts and tokens live
    // in PostgreSQL, the content in the bucket).
    let https = reqwest::Client::builder().danger_accept_invalid_certs(true).build().unwrap();
    let token: Value = https
        .post(format!("{api_b}/v6/token"))
        .form(&[("grant_type", "password"), ("username", "admin"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap_or_else(|| panic!("logon on node b: {token}")).to_string();
    let org_id: String = sqlx::query("SELECT id FROM organizations").fetch_one(&db).await.unwrap().get("id");
    let explore = https
        .post(format!("{api_b}/v6/Organizations/{org_id}/explore"))
        .bearer_auth(&token)
        .json(&json!({"type": "Veod", "showDeleted": true, "showAllVersions": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(explore.status(), reqwest::StatusCode::OK, "v6 explore answers 200");
    let session: Value = explore.json().await.unwrap();
    let sid = session["id"].as_str().unwrap().to_string();
    let on_c = |path: String| {
        let (https, token, api_c) = (https.clone(), token.clone(), api_c.clone());
        async move {
            let r = https.get(format!("{api_c}{path}")).bearer_auth(&token).send().await.unwrap();
            let status = r.status();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            assert_eq!(status, reqwest::StatusCode::OK, "{path} on node c: {body}");
            body
        }
    };
    let seen = on_c(format!("/v6/RestoreSessions/{sid}")).await;
    assert_eq!(seen["id"].as_str(), Some(sid.as_str()), "{seen}");
    let drives = on_c(format!("/v6/RestoreSessions/{sid}/Organization/OneDrives")).await;
    let listed = drives["results"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(listed, 3, "the three users' OneDrives, browsed through node c: {drives}");

    // A job created through node B's API with a schedule runs when due: both nodes' schedulers see it due, one
    // queues it (with its job id), a worker runs it, and node C's API shows the run.
    let created = https
        .post(format!("{api_b}/v8/Jobs"))
        .bearer_auth(&token)
        .json(&json!({"organizationId": org_id, "name": "every five minutes",
                      "schedulePolicy": {"type": "Periodically", "periodicallyEvery": "Minutes5"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), reqwest::StatusCode::CREATED);
    let job: Value = created.json().await.unwrap();
    let job_id = job["id"].as_str().unwrap().to_string();
    assert!(job["nextRun"].is_string(), "{job}");
    // Its first run becomes due now (instead of at the next five-minute mark).
    sqlx::query("UPDATE jobs SET next_run_at = $1 WHERE id = $2")
        .bind(chrono::Utc::now().timestamp_micros())
        .bind(&job_id)
        .execute(&db)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let scheduled = loop {
        let ids: Vec<String> = sqlx::query("SELECT id FROM cluster_tasks WHERE payload LIKE $1")
            .bind(format!("%{job_id}%"))
            .fetch_all(&db)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("id"))
            .collect();
        if !ids.is_empty() {
            assert_eq!(ids.len(), 1, "one task for the due run, whichever node queued it");
            break ids[0].clone();
        }
        assert!(Instant::now() < deadline, "the scheduled run was never queued\n{}", read_logs(logs));
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let (_, _, ran) = wait_done(&db, &scheduled, logs).await;
    assert_eq!(ran["status"], "Success", "{ran}");
    let next: i64 = sqlx::query("SELECT next_run_at FROM jobs WHERE id = $1")
        .bind(&job_id)
        .fetch_one(&db)
        .await
        .unwrap()
        .get("next_run_at");
    assert!(next > chrono::Utc::now().timestamp_micros(), "the next run is ahead");
    let runs = on_c(format!("/v8/JobSessions?jobId={job_id}")).await;
    assert_eq!(runs["totalCount"], 1, "{runs}");
    assert_eq!(runs["results"][0]["id"], ran["sessionId"], "{runs}");
    assert_eq!(runs["results"][0]["status"], "Success");

    drop((b, c));
    emu.shutdown().await.unwrap();
}
