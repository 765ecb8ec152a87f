//! `vault365 job …` end to end on the default SQLite catalog: jobs added, listed, changed, disabled and enabled,
//! started (a worker process runs the queued run) and removed, each step read back from the catalog itself.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{Timelike, Utc};
use engine::job::{JobSettings, Schedule};
use repo::catalog::{Catalog, SessionStatus};
use uuid::Uuid;

use crate::common::{field, output_ok, tenant, vault365_at, PASSWORD};

fn run_ok(data: &Path, args: &[&str]) -> String {
    output_ok(vault365_at(data, PASSWORD, args))
}

fn run_err(data: &Path, args: &[&str]) -> String {
    let out = vault365_at(data, PASSWORD, args).output().unwrap();
    assert!(!out.status.success(), "{args:?} succeeded: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn catalog(data: &Path) -> Catalog {
    Catalog::connect(&format!("sqlite://{}?mode=rw", data.join("catalog.db").display())).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let emu = tenant(dir.path(), "users=2,files=10,versions=1").await;
    let data = dir.path().join("data");
    let (d, url) = (data.clone(), emu.base_url());
    let (added, refusals, edited) = tokio::task::spawn_blocking(move || {
        run_ok(&d, &["org", "add", "--name", "contoso", "--emulator", &url]);
        let added = run_ok(
            &d,
            &["job", "add", "--org", "contoso", "--name", "nightly", "--daily", "22:00", "--days", "workdays"],
        );
        let refusals = [
            run_err(&d, &["job", "add", "--org", "contoso", "--name", "nightly"]),
            run_err(&d, &["job", "add", "--org", "contoso", "--name", "x", "--daily", "25:00"]),
            run_err(&d, &["job", "add", "--org", "contoso", "--name", "x", "--every", "Minutes7"]),
            run_err(&d, &["job", "add", "--org", "contoso", "--name", "x", "--daily", "1:00", "--every", "Hours1"]),
            run_err(&d, &["job", "add", "--org", "nope", "--name", "x"]),
        ];
        let id = field(&added, "id").to_string();
        let edited = run_ok(&d, &["job", "edit", &id, "--every", "Minutes15", "--description", "often"]);
        (added, refusals, edited)
    })
    .await
    .unwrap();
    assert!(added.starts_with("added job"), "{added}");
    for (err, says) in refusals.iter().zip([
        "already has a job named",
        "--daily",
        "--every",
        "exclude each other",
        "no organization named 'nope'",
    ]) {
        assert!(err.contains(says), "{says}: {err}");
    }
    let id: Uuid = field(&added, "id").parse().unwrap();

    // The catalog holds what the commands said.
    let cat = catalog(&data).await;
    let job = cat.job(id).await.unwrap().expect("in the catalog");
    assert_eq!((job.name.as_str(), job.description.as_str(), job.revision), ("nightly", "often", 2), "{edited}");
    let schedule = JobSettings::from_stored(&job.settings).unwrap().schedule;
    assert_eq!(schedule, Schedule::Periodically { every_minutes: 15, offset_minutes: 0, window: None });
    let next = job.next_run_at.expect("scheduled");
    assert!(next > Utc::now() && next <= Utc::now() + chrono::Duration::minutes(15) && next.minute() % 15 == 0);
    assert!(edited.contains("schedule=\"every 15 min (+0)\""), "{edited}");
    assert!(added.contains("schedule=\"daily 22:00 Workdays\""), "{added}");

    // Disable / enable; start queues a run that a worker process runs; remove keeps the run's history.
    let d = data.clone();
    let sid = id.to_string();
    let (disabled, listed, started) = tokio::task::spawn_blocking(move || {
        let disabled = run_ok(&d, &["job", "disable", &sid]);
        let listed = run_ok(&d, &["job", "list", "--org", "contoso"]);
        run_ok(&d, &["job", "enable", &sid]);
        let started = run_ok(&d, &["job", "start", &sid]);
        (disabled, listed, started)
    })
    .await
    .unwrap();
    assert!(disabled.contains("enabled=false") && disabled.contains("next=-"), "{disabled}");
    assert!(listed.contains(&format!("id={id}")) && listed.contains("enabled=false"), "{listed}");
    assert!(cat.job(id).await.unwrap().unwrap().enabled);
    assert!(started.starts_with("queued task="), "{started}");
    let task = field(&started, "task").to_string();

    let mut worker: std::process::Child = {
        let mut c: Command = vault365_at(&data, PASSWORD, &["worker", "--node", "w"]);
        c.stdout(Stdio::null()).stderr(Stdio::null());
        c.spawn().unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    let shown = loop {
        let d = data.clone();
        let t = task.clone();
        let shown = tokio::task::spawn_blocking(move || run_ok(&d, &["task", "show", &t])).await.unwrap();
        if shown.contains("status=done") || shown.contains("status=failed") || Instant::now() > deadline {
            break shown;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let _ = worker.kill();
    let _ = worker.wait();
    assert!(shown.contains("status=done"), "{shown}");
    let runs = cat.sessions(id).await.unwrap();
    assert_eq!(runs.len(), 1, "the started job ran once");
    assert_eq!(runs[0].status, SessionStatus::Success);

    // `backup --org` runs the organization's default job (the whole organization), whatever other jobs exist;
    // `--job` names one.
    let d = data.clone();
    let (default_run, named_run, unknown) = tokio::task::spawn_blocking(move || {
        (
            run_ok(&d, &["backup", "--org", "contoso", "--quiet"]),
            run_ok(&d, &["backup", "--org", "contoso", "--job", "nightly", "--quiet"]),
            run_err(&d, &["backup", "--org", "contoso", "--job", "nope"]),
        )
    })
    .await
    .unwrap();
    let jobs = cat.jobs(job.organization_id).await.unwrap();
    let default = jobs.iter().find(|j| j.name == "default").expect("created by backup --org");
    let session_of = |line: &str| field(line, "session").parse::<Uuid>().unwrap();
    assert_eq!(cat.session(session_of(&default_run)).await.unwrap().unwrap().job_id, default.id, "{default_run}");
    assert_eq!(cat.session(session_of(&named_run)).await.unwrap().unwrap().job_id, id, "{named_run}");
    assert!(unknown.contains("no job named 'nope'"), "{unknown}");

    let d = data.clone();
    let sid = id.to_string();
    let (stop, removed, after, sessions) = tokio::task::spawn_blocking(move || {
        let stop = run_ok(&d, &["job", "stop", &sid]);
        let removed = run_ok(&d, &["job", "remove", &sid]);
        (stop, removed, run_ok(&d, &["job", "list"]), run_ok(&d, &["session", "list", "--org", "contoso"]))
    })
    .await
    .unwrap();
    assert!(stop.starts_with("not running"), "{stop}");
    assert!(removed.starts_with("removed job"), "{removed}");
    assert!(!after.contains(&id.to_string()), "{after}");
    assert!(cat.job(id).await.unwrap().is_none());
    assert!(sessions.contains(&runs[0].id.to_string()), "the removed job's run stays listed: {sessions}");
    assert_eq!(sessions.lines().count(), 3, "{sessions}");
    let points = cat.restore_points(job.organization_id).await.unwrap();
    assert_eq!(points.len(), 3, "the restore points of the removed job's runs stay");
    let d = data.clone();
    let listed =
        tokio::task::spawn_blocking(move || run_ok(&d, &["restore-point", "list", "--org", "contoso"])).await.unwrap();
    let line = listed.lines().next().unwrap_or_default();
    assert_eq!(field(line, "id"), points[0].id.to_string(), "{listed}");
    assert_eq!(
        (field(line, "kind"), field(line, "items")),
        ("full", points[0].stats.items.to_string().as_str()),
        "{listed}"
    );
    emu.shutdown().await.unwrap();
}
