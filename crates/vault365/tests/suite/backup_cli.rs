//! The CLI end to end against a running emulator: org add, backup, repo check, export; a wrong
//! repository password; `kill -9` in the middle of a backup followed by check and resume; concurrent backups; `org test`.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::common::{field, output_ok, tenant, PASSWORD};

fn vault365(data: &Path, password: &str, args: &[&str]) -> Command {
    crate::common::vault365_at(data, password, args)
}

/// Every file and directory below `root` (and `root`) is its owner's only: no group or other permission bits.
fn owner_only(root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut stack = vec![root.to_path_buf()];
    let mut seen = 0;
    while let Some(p) = stack.pop() {
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{} is mode {:o}", p.display(), mode & 0o777);
        seen += 1;
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        }
    }
    assert!(seen > 5, "{seen} entries below {}", root.display());
}

fn run_ok(data: &Path, args: &[&str]) -> String {
    output_ok(vault365(data, PASSWORD, args))
}

#[tokio::test(flavor = "multi_thread")]
async fn org_backup_check_export_and_wrong_password() {
    let dir = tempfile::tempdir().unwrap();
    let emu = tenant(dir.path(), "users=2,files=20,versions=2,sites=1,items=2").await;
    let data = dir.path().join("data");
    let url = emu.base_url();
    let d = data.clone();
    let out = tokio::task::spawn_blocking(move || {
        let zero =
            vault365(&d, PASSWORD, &["org", "add", "--name", "x", "--emulator", &url, "--requests-per-minute", "0"])
                .output()
                .unwrap();
        assert!(!zero.status.success());
        assert!(String::from_utf8_lossy(&zero.stderr).contains("--requests-per-minute must be at least 1"));
        // A per-tenant request budget the backup has to keep under.
        run_ok(&d, &["org", "add", "--name", "contoso", "--emulator", &url, "--requests-per-minute", "6000"]);
        let first = vault365(&d, PASSWORD, &["backup", "--org", "contoso", "--quiet"]).output().unwrap();
        assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
        // The run that creates the repository says so, once, with where the password comes from.
        let said = String::from_utf8_lossy(&first.stderr).into_owned();
        assert!(said.contains("CREATED A NEW REPOSITORY") && said.contains("VAULT365_REPO_PASSWORD"), "{said}");
        assert!(said.contains("cannot be recovered"), "{said}");
        let first = String::from_utf8(first.stdout).unwrap();
        let again = vault365(&d, PASSWORD, &["backup", "--org", "contoso", "--quiet"]).output().unwrap();
        assert!(!String::from_utf8_lossy(&again.stderr).contains("NEW REPOSITORY"), "said once");
        let second = String::from_utf8(again.stdout).unwrap();
        let check = run_ok(&d, &["repo", "check", "--read-data"]);
        (first, second, check)
    })
    .await
    .unwrap();
    let (first, second, check) = out;
    assert!(first.starts_with("backup success"), "{first}");
    assert_eq!(field(&second, "bytes_read"), "0", "{second}");
    // Everything written holds tenant data or secrets: only its owner may read it, whatever the umask of the test.
    owner_only(&data);
    assert!(check.contains("repo check ok"), "{check}");

    let rp = field(&first, "restore_point").to_string();
    let export_dir = dir.path().join("export");
    let d = data.clone();
    let e = export_dir.clone();
    let export = tokio::task::spawn_blocking(move || {
        run_ok(&d, &["export", "--restore-point", &rp, "--to", e.to_str().unwrap()])
    })
    .await
    .unwrap();
    assert!(export.starts_with("export ok"), "{export}");
    assert!(export_dir.join("manifest.json").exists());
    let files: usize = field(&export, "files").parse().unwrap();
    assert!(files >= 20, "{export}");

    // The wrong password is refused clearly and changes nothing.
    let d = data.clone();
    let out: Output = tokio::task::spawn_blocking(move || {
        vault365(&d, "not the password", &["backup", "--org", "contoso"]).output().unwrap()
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("wrong repository password"), "{err}");
    // A missing organization is a clear error too.
    let d = data.clone();
    let out =
        tokio::task::spawn_blocking(move || vault365(&d, PASSWORD, &["backup", "--org", "nope"]).output().unwrap())
            .await
            .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no organization named 'nope'"));
    emu.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_dash_nine_mid_backup_then_check_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let emu = tenant(dir.path(), "users=3,files=150,versions=1").await;
    let data = dir.path().join("data");
    let url = emu.base_url();
    let d = data.clone();
    tokio::task::spawn_blocking(move || run_ok(&d, &["org", "add", "--name", "contoso", "--emulator", &url]))
        .await
        .unwrap();
    // Slow every download so the backup is still running when it is killed.
    reqwest::Client::new()
        .post(format!("{}/_emulator/faults", emu.base_url()))
        .json(&json!({"path": "/_dl", "latencyMs": 25}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let mut child = vault365(
        &data,
        PASSWORD,
        &["backup", "--org", "contoso", "--quiet", "--concurrency", "2", "--checkpoint-items", "10"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // Let it commit some checkpoints (files recorded in the catalog, so their content was flushed before), then
    // SIGKILL it.
    let committed = committed_files(&data).await;
    assert!(committed > 0, "no checkpoint was committed");
    assert!(child.try_wait().unwrap().is_none(), "backup finished before it could be killed");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    reqwest::Client::new().delete(format!("{}/_emulator/faults", emu.base_url())).send().await.unwrap();

    let d = data.clone();
    let (check1, resumed, check2) = tokio::task::spawn_blocking(move || {
        let check1 = run_ok(&d, &["repo", "check", "--read-data"]);
        let out = vault365(&d, PASSWORD, &["backup", "--org", "contoso", "--quiet"]).output().unwrap();
        let check2 = run_ok(&d, &["repo", "check", "--read-data"]);
        (check1, out, check2)
    })
    .await
    .unwrap();
    assert!(check1.contains("repo check ok"), "after kill -9: {check1}");
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    let line = String::from_utf8_lossy(&resumed.stdout).to_string();
    assert!(line.starts_with("backup success"), "{line}");
    assert!(String::from_utf8_lossy(&resumed.stderr).contains("interrupted earlier; marked failed"));
    // The killed run's durable work was re-used: the resumed run read less than the whole tenant.
    let total: u64 = {
        let st = emu.emu.state();
        st.items.values().filter(|i| !i.is_folder && i.deleted.is_none()).map(|i| i.size).sum()
    };
    let read: u64 = field(&line, "bytes_read").parse().unwrap();
    assert!(read < total, "resumed run read {read} of {total}");
    assert!(check2.contains("repo check ok"), "{check2}");

    // `session list|show` tell the story: the killed run failed (and why), the resumed one succeeded.
    let d = data.clone();
    let (list, shown) = tokio::task::spawn_blocking(move || {
        let list = run_ok(&d, &["session", "list", "--org", "contoso"]);
        let killed = list.lines().next().and_then(|l| l.split_whitespace().nth(1)).unwrap().to_string();
        let shown = run_ok(&d, &["session", "show", killed.trim_start_matches("id=")]);
        (list, shown)
    })
    .await
    .unwrap();
    let statuses: Vec<&str> =
        list.lines().filter_map(|l| l.split_whitespace().find(|w| w.starts_with("status="))).collect();
    assert_eq!(statuses, ["status=failed", "status=success"], "{list}");
    assert!(shown.lines().next().unwrap().contains("status=failed"), "{shown}");
    assert!(shown.contains("error session interrupted (no activity; process stopped?)"), "{shown}");
    emu.shutdown().await.unwrap();
}

/// Two cron entries firing at once on the default SQLite catalog: backups of two organizations run side by side and
/// both succeed (an earlier build's second run failed the first's live session); a second backup of an organization
/// being backed up is refused with a clear message and leaves the running one alone.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_backups_on_the_sqlite_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let emu = tenant(dir.path(), "users=2,files=40,versions=1").await;
    let data = dir.path().join("data");
    let (d, url) = (data.clone(), emu.base_url());
    tokio::task::spawn_blocking(move || {
        run_ok(&d, &["org", "add", "--name", "north", "--emulator", &url]);
        run_ok(&d, &["org", "add", "--name", "south", "--emulator", &url]);
    })
    .await
    .unwrap();
    // Slow downloads so that the runs overlap for several heartbeats.
    reqwest::Client::new()
        .post(format!("{}/_emulator/faults", emu.base_url()))
        .json(&json!({"path": "/_dl", "latencyMs": 400}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let start = |org: &str| {
        vault365(&data, PASSWORD, &["backup", "--org", org, "--quiet", "--concurrency", "2"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let north = start("north");
    let south = start("south");
    assert!(running_sessions(&data, 2).await, "the two backups did not run at the same time");
    let d = data.clone();
    let again =
        tokio::task::spawn_blocking(move || vault365(&d, PASSWORD, &["backup", "--org", "north", "--quiet"]).output())
            .await
            .unwrap()
            .unwrap();
    assert_eq!(again.status.code(), Some(4), "a refused backup exits 4");
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("backup refused: this organization is being backed up right now by session"), "{err}");
    reqwest::Client::new().delete(format!("{}/_emulator/faults", emu.base_url())).send().await.unwrap();

    for (org, child) in [("north", north), ("south", south)] {
        let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
        let line = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "{org}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(line.starts_with("backup success"), "{org}: {line}");
    }
    // The catalog agrees: two sessions, both successful, and no failed one.
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=ro", data.join("catalog.db").display());
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let statuses: Vec<String> =
        sqlx::query_scalar("SELECT status FROM sessions ORDER BY started_at").fetch_all(&pool).await.unwrap();
    assert_eq!(statuses, ["success", "success"]);
    let d = data.clone();
    let check = tokio::task::spawn_blocking(move || run_ok(&d, &["repo", "check", "--read-data"])).await.unwrap();
    assert!(check.contains("repo check ok"), "{check}");
    emu.shutdown().await.unwrap();
}

/// Waits (up to 60 s) until the catalog shows `n` running backup sessions at once.
async fn running_sessions(data: &Path, n: i64) -> bool {
    count_until(data, "SELECT COUNT(*) FROM sessions WHERE status = 'running'", n).await >= n
}

/// `org test`: an organization registered right reads fine; a wrong secret, and a site permission the app lacks, are
/// named in the refusal.
#[tokio::test(flavor = "multi_thread")]
async fn org_test_names_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let emu = tenant(dir.path(), "users=2,files=2,versions=1,sites=1").await;
    let data = dir.path().join("data");
    let creds: serde_json::Value =
        reqwest::get(format!("{}/_emulator/credentials", emu.base_url())).await.unwrap().json().await.unwrap();
    let text = |k: &str| creds[k].as_str().unwrap().to_string();
    let (tenant_id, client_id, base, graph) =
        (text("tenantId"), text("clientId"), text("baseUrl"), text("graphBaseUrl"));
    let d = data.clone();
    let (good, wrong) = tokio::task::spawn_blocking(move || {
        run_ok(&d, &["org", "add", "--name", "good", "--emulator", &base]);
        let wrong_secret = [
            "org",
            "add",
            "--name",
            "wrong",
            "--tenant",
            &tenant_id,
            "--client-id",
            &client_id,
            "--client-secret",
            "not the secret",
            "--authority",
            &base,
            "--graph",
            &graph,
        ];
        run_ok(&d, &wrong_secret);
        let good = run_ok(&d, &["org", "test", "--name", "good"]);
        let wrong = vault365(&d, PASSWORD, &["org", "test", "--name", "wrong"]).output().unwrap();
        (good, wrong)
    })
    .await
    .unwrap();
    assert!(good.starts_with("org test ok name=good users=readable sites=readable"), "{good}");
    assert!(!wrong.status.success());
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(err.contains("organization 'wrong': the tenant refused the app's credentials"), "{err}");

    // `org edit` fixes the mistyped secret (no SQL needed): the organization then reads fine under its new name.
    let (d, secret) = (data.clone(), text("clientSecret"));
    let (edited, tested) = tokio::task::spawn_blocking(move || {
        let edited = run_ok(&d, &["org", "edit", "--name", "wrong", "--client-secret", &secret, "--rename", "fixed"]);
        (edited, run_ok(&d, &["org", "test", "--name", "fixed"]))
    })
    .await
    .unwrap();
    assert!(edited.starts_with("organization changed name=fixed"), "{edited}");
    assert!(edited.contains("changed=credentials,name"), "{edited}");
    assert!(tested.starts_with("org test ok name=fixed"), "{tested}");
    // One credentials file per organization: the replaced one is gone.
    assert_eq!(std::fs::read_dir(data.join("credentials")).unwrap().count(), 2);

    // The app loses its site permission: the refusal names the permission to grant.
    reqwest::Client::new()
        .post(format!("{}/_emulator/faults", emu.base_url()))
        .json(&json!({"path": "/v1.0/sites", "status": 403}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let d = data.clone();
    let out = tokio::task::spawn_blocking(move || vault365(&d, PASSWORD, &["org", "test", "--name", "good"]).output())
        .await
        .unwrap()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("reading sites was refused: grant the app the application permission Sites.Read.All"),
        "{err}"
    );
    emu.shutdown().await.unwrap();
}

/// For cron: a backup that finishes with warnings exits 3 (its restore point exists), and without a terminal the run
/// prints progress lines on standard error.
#[tokio::test(flavor = "multi_thread")]
async fn warnings_exit_3_and_progress_lines_without_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let emu = tenant(dir.path(), "users=2,files=16,versions=1").await;
    let data = dir.path().join("data");
    let (d, url) = (data.clone(), emu.base_url());
    tokio::task::spawn_blocking(move || run_ok(&d, &["org", "add", "--name", "contoso", "--emulator", &url]))
        .await
        .unwrap();
    let faults = format!("{}/_emulator/faults", emu.base_url());
    let http = reqwest::Client::new();
    // Slow downloads (the run lasts a few seconds), and version lists that fail: each such file is a warning.
    for rule in
        [json!({"path": "/_dl", "latencyMs": 150}), json!({"pathContains": "/versions", "status": 403, "count": 2})]
    {
        http.post(&faults).json(&rule).send().await.unwrap().error_for_status().unwrap();
    }
    let d = data.clone();
    let out = tokio::task::spawn_blocking(move || {
        vault365(&d, PASSWORD, &["backup", "--org", "contoso", "--concurrency", "1", "--progress-every", "1"]).output()
    })
    .await
    .unwrap()
    .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(3), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.starts_with("backup warning"), "{stdout}");
    assert_ne!(field(&stdout, "restore_point"), "-", "{stdout}");
    assert!(stderr.contains("backup finished with") && stderr.contains("vault365 session show"), "{stderr}");
    let progress: Vec<&str> = stderr.lines().filter(|l| l.starts_with("progress elapsed=")).collect();
    assert!(!progress.is_empty(), "no progress line: {stderr}");
    assert!(progress.iter().all(|l| l.contains(" items=") && l.contains(" rate_mb_s=")), "{progress:?}");
    emu.shutdown().await.unwrap();
}

/// Waits (up to 60 s) until the catalog holds at least one backed-up file and returns how many it holds: a checkpoint
/// was committed (store flush first, catalog commit second).
async fn committed_files(data: &Path) -> i64 {
    count_until(data, "SELECT COUNT(*) FROM item_states WHERE is_folder = 0", 1).await
}

/// Polls the count `sql` of the catalog (read-only, beside the running process) until it reaches `at_least`, for up
/// to 60 s; the last count read (0 when none could be).
async fn count_until(data: &Path, sql: &str, at_least: i64) -> i64 {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=ro", data.join("catalog.db").display());
    let mut last = 0;
    for _ in 0..600 {
        if let Ok(pool) = sqlx::AnyPool::connect(&url).await {
            let n: Result<i64, _> = sqlx::query_scalar(sql).fetch_one(&pool).await;
            pool.close().await;
            last = n.unwrap_or(last);
            if last >= at_least {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}
