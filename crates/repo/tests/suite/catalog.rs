//! Catalog behaviour: schema, organizations, sessions, point-in-time item history, versions, lists, delta links,
//! crash convergence.
//!
//! Runs on a fresh SQLite file per test. With `VAULT365_TEST_POSTGRES=postgres://user@host:port` set, each test runs
//! on a fresh PostgreSQL database on that server instead (portability check).

use chrono::{DateTime, Duration, TimeZone, Utc};
use futures::TryStreamExt;
use repo::catalog::*;
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

/// A catalog in a fresh database; the guard keeps the SQLite directory alive.
async fn fresh() -> (Catalog, Option<tempfile::TempDir>) {
    let (url, dir) = fresh_url().await;
    (Catalog::connect(&url).await.unwrap(), dir)
}

/// The URL of a fresh, empty database (and the guard of its SQLite directory).
async fn fresh_url() -> (String, Option<tempfile::TempDir>) {
    if let Ok(base) = std::env::var("VAULT365_TEST_POSTGRES") {
        return (test_support::fresh_postgres_database(&base, "catalog_test").await, None);
    }
    let dir = tempfile::tempdir().unwrap();
    (format!("sqlite://{}?mode=rwc", dir.path().join("catalog.db").display()), Some(dir))
}

/// Backup instant number `n` (hours after a fixed epoch).
fn t(n: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 8, 0, 0).unwrap() + Duration::hours(n)
}

fn new_org(name: &str) -> NewOrganization {
    NewOrganization {
        name: name.into(),
        tenant_id: Uuid::new_v4().to_string(),
        tenant_domain: format!("{name}.onmicrosoft.com"),
        config: json!({"graph": "https://graph.microsoft.com", "credential": "cert:1"}),
    }
}

async fn org_and_drive(cat: &Catalog) -> (Organization, Uuid) {
    let org = cat.create_organization(&new_org("contoso")).await.unwrap();
    let info = ContainerInfo::OneDrive(OneDriveInfo {
        user_id: "u1".into(),
        upn: "adele@contoso.com".into(),
        display_name: "Adele Vance".into(),
        drive_id: "b!drive1".into(),
    });
    let (drive, change) = cat.record_container(org.id, &info, t(1)).await.unwrap();
    assert_eq!(change, StateChange::Recorded);
    (org, drive)
}

fn file(name: &str, parent: Option<&str>, size: i64) -> ItemState {
    ItemState {
        name: name.into(),
        parent_id: parent.map(Into::into),
        size,
        quick_xor_hash: Some(format!("hash-{name}-{size}")),
        content_ref: Some(format!("ref:{name}:{size}").into_bytes()),
        metadata: json!({"file": {"mimeType": "text/plain"}, "x": 1}),
        ..Default::default()
    }
}

fn folder(name: &str, parent: Option<&str>) -> ItemState {
    ItemState { name: name.into(), parent_id: parent.map(Into::into), is_folder: true, ..Default::default() }
}

async fn count(cat: &Catalog, table: &str) -> i64 {
    sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}")).fetch_one(cat.pool()).await.unwrap().get("n")
}

fn names(page: &Page<ItemRow>) -> Vec<(String, bool)> {
    page.rows.iter().map(|r| (r.state.name.clone(), r.deleted)).collect()
}

#[tokio::test]
async fn schema_is_created_on_a_fresh_file_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("catalog.db").display());
    let cat = Catalog::connect(&url).await.unwrap();
    assert_eq!(cat.backend(), Backend::Sqlite);
    assert_eq!(cat.schema_version().await.unwrap(), SCHEMA_VERSION);
    let mode: String = sqlx::query("PRAGMA journal_mode").fetch_one(cat.pool()).await.unwrap().get(0);
    assert_eq!(mode.to_lowercase(), "wal");
    let fk: i64 = sqlx::query("PRAGMA foreign_keys").fetch_one(cat.pool()).await.unwrap().get(0);
    assert_eq!(fk, 1);
    let org = cat.create_organization(&new_org("contoso")).await.unwrap();
    cat.close().await;

    // Reopen: migrations are not re-applied and the data is there.
    let cat = Catalog::connect(&url).await.unwrap();
    assert_eq!(cat.schema_version().await.unwrap(), SCHEMA_VERSION);
    assert_eq!(count(&cat, "schema_version").await, SCHEMA_VERSION);
    assert_eq!(cat.organization(org.id).await.unwrap(), Some(org));

    // A database from a newer build is refused instead of being misread.
    sqlx::query("INSERT INTO schema_version (version, applied_at) VALUES ($1, 0)")
        .bind(SCHEMA_VERSION + 1)
        .execute(cat.pool())
        .await
        .unwrap();
    cat.close().await;
    match Catalog::connect(&url).await {
        Err(CatalogError::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION))
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

#[tokio::test]
async fn bad_urls_are_rejected() {
    assert!(matches!(Catalog::connect("mysql://localhost/x").await, Err(CatalogError::UnsupportedUrl(_))));
    let dir = tempfile::tempdir().unwrap();
    // Without mode=rwc a missing file is not created.
    let url = format!("sqlite://{}", dir.path().join("missing.db").display());
    assert!(matches!(Catalog::connect(&url).await, Err(CatalogError::Database(_))));
    // In memory (one connection, so every query sees the same database).
    let mem = Catalog::connect("sqlite::memory:").await.unwrap();
    let org = mem.create_organization(&new_org("m")).await.unwrap();
    assert_eq!(mem.organizations().await.unwrap(), vec![org]);
}

#[tokio::test]
async fn organizations_crud_and_uniqueness() {
    let (cat, _dir) = fresh().await;
    let a = cat.create_organization(&new_org("alpha")).await.unwrap();
    let b = cat.create_organization(&new_org("beta")).await.unwrap();
    assert!(matches!(cat.create_organization(&new_org("alpha")).await, Err(CatalogError::AlreadyExists(_))));

    assert_eq!(cat.organization(a.id).await.unwrap().as_ref(), Some(&a));
    assert_eq!(cat.organization_by_name("beta").await.unwrap().map(|o| o.id), Some(b.id));
    assert_eq!(cat.organization(Uuid::new_v4()).await.unwrap(), None);
    assert_eq!(
        cat.organizations().await.unwrap().iter().map(|o| o.name.as_str()).collect::<Vec<_>>(),
        ["alpha", "beta"]
    );

    let mut changed = a.clone();
    changed.name = "alpha2".into();
    changed.config = json!({"graph": "http://127.0.0.1:1"});
    cat.update_organization(&changed).await.unwrap();
    assert_eq!(cat.organization(a.id).await.unwrap(), Some(changed.clone()));
    changed.name = "beta".into();
    assert!(matches!(cat.update_organization(&changed).await, Err(CatalogError::AlreadyExists(_))));
    let mut ghost = a.clone();
    ghost.id = Uuid::new_v4();
    assert!(matches!(cat.update_organization(&ghost).await, Err(CatalogError::NotFound(_))));

    // Jobs: unique per organization, and they pin their organization.
    let job = cat.create_job(b.id, "daily").await.unwrap();
    assert!(matches!(cat.create_job(b.id, "daily").await, Err(CatalogError::AlreadyExists(_))));
    cat.create_job(a.id, "daily").await.unwrap();
    assert!(matches!(cat.create_job(Uuid::new_v4(), "x").await, Err(CatalogError::NotFound(_))));
    assert_eq!(cat.jobs(b.id).await.unwrap(), vec![job.clone()]);
    assert_eq!(cat.job(job.id).await.unwrap(), Some(job.clone()));
    assert!(matches!(cat.delete_organization(b.id).await, Err(CatalogError::InUse(_))));
    cat.delete_job(job.id).await.unwrap();
    cat.delete_organization(b.id).await.unwrap();
    assert!(matches!(cat.delete_organization(b.id).await, Err(CatalogError::NotFound(_))));
    assert_eq!(cat.organization(b.id).await.unwrap(), None);
}

/// A job runs once at a time: a second running session is refused while the first runs, a stale one can be failed by
/// its unchanged heartbeat, and other jobs are not held up.
#[tokio::test]
async fn one_running_session_per_job() {
    let (cat, _dir) = fresh().await;
    let a = cat.create_organization(&new_org("a")).await.unwrap();
    let b = cat.create_organization(&new_org("b")).await.unwrap();
    let (ja, jb) = (cat.create_job(a.id, "daily").await.unwrap(), cat.create_job(b.id, "daily").await.unwrap());
    assert_eq!(cat.running_session(ja.id).await.unwrap(), None);
    let first = cat.start_session(ja.id, t(1)).await.unwrap();
    let other = cat.start_session(jb.id, t(1)).await.unwrap();
    let e = cat.start_session(ja.id, t(2)).await.unwrap_err();
    assert!(matches!(e, CatalogError::Busy(_)), "{e:?}");
    assert_eq!(cat.sessions(ja.id).await.unwrap().len(), 1, "the refused start left no row");

    let running = cat.running_session(ja.id).await.unwrap().unwrap();
    assert_eq!((running.id, running.started_at), (first.id, t(1)));
    // A heartbeat that moved since it was seen: the session is alive and stays running.
    cat.update_session_counters(first.id, &SessionCounters::default()).await.unwrap();
    assert!(!cat.fail_idle_session(first.id, running.heartbeat_at).await.unwrap());
    assert_eq!(cat.session(first.id).await.unwrap().unwrap().status, SessionStatus::Running);
    // Unchanged: failed (with a log line), and the job can start again.
    let seen = cat.running_session(ja.id).await.unwrap().unwrap();
    assert!(cat.fail_idle_session(first.id, seen.heartbeat_at).await.unwrap());
    assert_eq!(cat.session(first.id).await.unwrap().unwrap().status, SessionStatus::Failed);
    assert_eq!(cat.session_log(first.id, 0, 10).await.unwrap().rows.len(), 1);
    let second = cat.start_session(ja.id, t(2)).await.unwrap();
    cat.finish_session(second.id, SessionStatus::Success, &SessionCounters::default(), None).await.unwrap();
    cat.start_session(ja.id, t(3)).await.unwrap();
    // The other organization's job ran beside all of it.
    assert_eq!(cat.session(other.id).await.unwrap().unwrap().status, SessionStatus::Running);
}

/// Jobs with their definitions: created, changed only at the revision the caller saw, a scheduled run claimed by one
/// caller, removed (hidden once it ran, its sessions kept; deleted when it never ran). One backup per organization
/// runs at a time, whichever of its jobs it belongs to.
#[tokio::test]
async fn jobs_definitions_schedule_claims_removal_and_one_backup_per_organization() {
    let (cat, _dir) = fresh().await;
    let org = cat.create_organization(&new_org("contoso")).await.unwrap();
    let other_org = cat.create_organization(&new_org("fabrikam")).await.unwrap();
    let def = |name: &str, next: Option<i64>| JobDefinition {
        name: name.into(),
        description: format!("{name} backups"),
        settings: json!({"backupType": "EntireOrganization"}),
        enabled: true,
        next_run_at: next.map(t),
    };
    let nightly = cat.create_job_with(org.id, &def("nightly", Some(10))).await.unwrap();
    assert_eq!(cat.job(nightly.id).await.unwrap().unwrap(), nightly);
    assert_eq!((nightly.revision, nightly.next_run_at), (1, Some(t(10))));
    assert!(matches!(cat.create_job_with(org.id, &def("nightly", None)).await, Err(CatalogError::AlreadyExists(_))));
    let hourly = cat.create_job_with(org.id, &def("hourly", Some(5))).await.unwrap();
    let elsewhere = cat.create_job_with(other_org.id, &def("nightly", Some(1))).await.unwrap();

    // A change at a stale revision is refused; at the current one it lands and moves the revision.
    let changed =
        cat.update_job(nightly.id, 1, &JobDefinition { enabled: false, ..def("nightly", Some(20)) }).await.unwrap();
    assert_eq!((changed.revision, changed.enabled, changed.next_run_at), (2, false, Some(t(20))));
    let stale = cat.update_job(nightly.id, 1, &def("nightly", None)).await;
    assert!(matches!(stale, Err(CatalogError::InvalidState(_))), "{stale:?}");
    assert!(matches!(cat.update_job(nightly.id, 2, &def("hourly", None)).await, Err(CatalogError::AlreadyExists(_))));

    // Due: enabled jobs whose run is due, earliest first.
    let due: Vec<Uuid> = cat.due_jobs(t(10)).await.unwrap().iter().map(|j| j.id).collect();
    assert_eq!(due, vec![elsewhere.id, hourly.id], "the disabled job is not due");
    // Of two claims of the same due run, one wins; a claim of a run that is not the stored one loses.
    assert!(cat.claim_scheduled_run(hourly.id, t(5), Some(t(65))).await.unwrap());
    assert!(!cat.claim_scheduled_run(hourly.id, t(5), Some(t(65))).await.unwrap());
    assert!(!cat.claim_scheduled_run(nightly.id, t(20), Some(t(30))).await.unwrap(), "disabled");
    assert_eq!(cat.job(hourly.id).await.unwrap().unwrap().next_run_at, Some(t(65)));

    // One running backup per organization, across its jobs; other organizations run beside it.
    let running = cat.start_session(hourly.id, t(6)).await.unwrap();
    assert!(matches!(cat.start_session(nightly.id, t(7)).await, Err(CatalogError::Busy(_))));
    assert_eq!(cat.running_session(nightly.id).await.unwrap().unwrap().id, running.id, "the organization's run");
    let beside = cat.start_session(elsewhere.id, t(7)).await.unwrap();
    assert_eq!(beside.status, SessionStatus::Running);
    assert!(matches!(cat.start_session(Uuid::new_v4(), t(8)).await, Err(CatalogError::NotFound(_))));
    cat.finish_session(running.id, SessionStatus::Success, &SessionCounters::default(), None).await.unwrap();
    cat.start_session(nightly.id, t(9)).await.unwrap();

    // Removal: a job that ran is hidden, keeps its sessions and frees its name; one that never ran is deleted.
    cat.remove_job(hourly.id).await.unwrap();
    assert!(cat.job(hourly.id).await.unwrap().is_none());
    assert_eq!(cat.sessions(hourly.id).await.unwrap().len(), 1);
    assert!(cat.due_jobs(t(100)).await.unwrap().iter().all(|j| j.id != hourly.id));
    cat.create_job_with(org.id, &def("hourly", None)).await.unwrap();
    let never = cat.create_job_with(org.id, &def("spare", None)).await.unwrap();
    cat.remove_job(never.id).await.unwrap();
    assert!(matches!(cat.delete_job(never.id).await, Err(CatalogError::NotFound(_))), "deleted, not hidden");
    assert!(matches!(cat.remove_job(hourly.id).await, Err(CatalogError::NotFound(_))));
    let names: Vec<String> = cat.jobs(org.id).await.unwrap().into_iter().map(|j| j.name).collect();
    assert_eq!(names, ["hourly", "nightly"]);
}

/// Backup history as the `/JobSessions` API reads it: filters by job, state and end time, newest first, paged; a
/// session's log by severity and in either order, and one entry by position.
#[tokio::test]
async fn job_session_history_filters_and_log_pages() {
    let (cat, _dir) = fresh().await;
    let org = cat.create_organization(&new_org("contoso")).await.unwrap();
    let (daily, hourly) =
        (cat.create_job(org.id, "daily").await.unwrap(), cat.create_job(org.id, "hourly").await.unwrap());
    let none = SessionCounters::default();
    let a = cat.start_session(daily.id, t(1)).await.unwrap();
    cat.finish_session(a.id, SessionStatus::Success, &none, None).await.unwrap();
    let b = cat.start_session(hourly.id, t(2)).await.unwrap();
    cat.finish_session(b.id, SessionStatus::Failed, &none, None).await.unwrap();
    let c = cat.start_session(daily.id, t(3)).await.unwrap();
    let ids = |p: Page<Session>| p.rows.iter().map(|s| s.id).collect::<Vec<_>>();

    let all = cat.job_sessions(&SessionFilter::default(), 0, 10).await.unwrap();
    assert_eq!(all.total, 3);
    assert_eq!(ids(all), vec![c.id, b.id, a.id], "newest first");
    assert_eq!(ids(cat.job_sessions(&SessionFilter::default(), 1, 1).await.unwrap()), vec![b.id]);
    let of_daily = SessionFilter { job_id: Some(daily.id), ..SessionFilter::default() };
    assert_eq!(ids(cat.job_sessions(&of_daily, 0, 10).await.unwrap()), vec![c.id, a.id]);
    let failed = SessionFilter { status: Some(SessionStatus::Failed), ..SessionFilter::default() };
    assert_eq!(ids(cat.job_sessions(&failed, 0, 10).await.unwrap()), vec![b.id]);
    let both =
        SessionFilter { job_id: Some(daily.id), status: Some(SessionStatus::Running), ..SessionFilter::default() };
    assert_eq!(ids(cat.job_sessions(&both, 0, 10).await.unwrap()), vec![c.id]);
    // End-time bounds leave out the running session (no end yet).
    let ended = cat.session(b.id).await.unwrap().unwrap().finished_at.unwrap();
    let from = SessionFilter { ended_from: Some(ended), ..SessionFilter::default() };
    assert_eq!(ids(cat.job_sessions(&from, 0, 10).await.unwrap()), vec![b.id]);
    let to = SessionFilter { ended_to: Some(ended - chrono::Duration::microseconds(1)), ..SessionFilter::default() };
    let before = cat.job_sessions(&to, 0, 10).await.unwrap();
    assert!(before.rows.iter().all(|s| s.id == a.id), "{before:?}");

    for (level, text) in [(LogLevel::Info, "one"), (LogLevel::Warning, "two"), (LogLevel::Info, "three")] {
        cat.log(c.id, level, text, None).await.unwrap();
    }
    let texts = |p: Page<LogEntry>| p.rows.iter().map(|e| e.message.clone()).collect::<Vec<_>>();
    let desc = LogFilter { level: None, ascending: false };
    assert_eq!(texts(cat.log_page(c.id, &desc, 0, 2).await.unwrap()), ["three", "two"]);
    let info = LogFilter { level: Some(LogLevel::Info), ascending: true };
    let page = cat.log_page(c.id, &info, 1, 5).await.unwrap();
    assert_eq!((page.total, texts(page)), (2, vec!["three".to_string()]));
    assert_eq!(cat.log_entry(c.id, 2).await.unwrap().unwrap().message, "two");
    assert!(cat.log_entry(c.id, 4).await.unwrap().is_none());
    assert!(cat.log_entry(a.id, 2).await.unwrap().is_none(), "another session's position");

    // Processed objects: users before sites, by name; a second record of one object replaces the first.
    let object =
        |kind, id: &str, name: &str, status| ProcessedObject { kind, id: id.into(), name: name.into(), status };
    cat.record_processed_object(c.id, &object(ObjectKind::Site, "s1", "Marketing", ObjectStatus::Success))
        .await
        .unwrap();
    cat.record_processed_object(c.id, &object(ObjectKind::User, "u2", "zoe", ObjectStatus::Failed)).await.unwrap();
    cat.record_processed_object(c.id, &object(ObjectKind::User, "u1", "adele", ObjectStatus::Success)).await.unwrap();
    cat.record_processed_object(c.id, &object(ObjectKind::User, "u2", "zoe", ObjectStatus::Warning)).await.unwrap();
    let page = cat.processed_objects(c.id, 0, 10).await.unwrap();
    let seen: Vec<(&str, ObjectStatus)> = page.rows.iter().map(|o| (o.id.as_str(), o.status)).collect();
    assert_eq!(seen, [("u1", ObjectStatus::Success), ("u2", ObjectStatus::Warning), ("s1", ObjectStatus::Success)]);
    assert_eq!((page.total, cat.processed_objects(a.id, 0, 10).await.unwrap().total), (3, 0));
}

#[tokio::test]
async fn sessions_logs_restore_points_and_stale_sessions() {
    let (cat, _dir) = fresh().await;
    let org = cat.create_organization(&new_org("contoso")).await.unwrap();
    let job = cat.create_job(org.id, "daily").await.unwrap();
    assert!(matches!(cat.start_session(Uuid::new_v4(), t(0)).await, Err(CatalogError::NotFound(_))));

    let s1 = cat.start_session(job.id, t(1)).await.unwrap();
    assert_eq!(s1.status, SessionStatus::Running);
    cat.log(s1.id, LogLevel::Info, "started", None).await.unwrap();
    cat.log(s1.id, LogLevel::Warning, "skipped locked file", Some("drive/item-7")).await.unwrap();
    cat.log(s1.id, LogLevel::Info, "done", None).await.unwrap();
    assert!(matches!(cat.log(Uuid::new_v4(), LogLevel::Info, "x", None).await, Err(CatalogError::NotFound(_))));
    let page = cat.session_log(s1.id, 1, 1).await.unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(page.rows.len(), 1);
    assert_eq!((page.rows[0].seq, page.rows[0].level), (2, LogLevel::Warning));
    assert_eq!(page.rows[0].item_ref.as_deref(), Some("drive/item-7"));

    let counters = SessionCounters { processed_items: 10, processed_bytes: 1000, warnings: 1, errors: 0 };
    cat.update_session_counters(s1.id, &counters).await.unwrap();
    assert!(matches!(
        cat.finish_session(s1.id, SessionStatus::Running, &counters, None).await,
        Err(CatalogError::InvalidState(_))
    ));
    let rp = NewRestorePoint { is_full: true, stats: RestorePointStats { containers: 1, items: 10, bytes: 1000 } };
    assert!(matches!(
        cat.finish_session(s1.id, SessionStatus::Failed, &counters, Some(rp)).await,
        Err(CatalogError::InvalidState(_))
    ));
    let point = cat.finish_session(s1.id, SessionStatus::Warning, &counters, Some(rp)).await.unwrap().unwrap();
    assert_eq!((point.backup_time, point.is_full, point.session_id), (t(1), true, s1.id));
    assert!(matches!(
        cat.finish_session(s1.id, SessionStatus::Success, &counters, None).await,
        Err(CatalogError::InvalidState(_))
    ));
    assert!(matches!(cat.update_session_counters(s1.id, &counters).await, Err(CatalogError::InvalidState(_))));
    let s1 = cat.session(s1.id).await.unwrap().unwrap();
    assert_eq!((s1.status, s1.counters), (SessionStatus::Warning, counters));
    assert!(s1.finished_at.is_some());

    // A session left running by a crash.
    let s2 = cat.start_session(job.id, t(2)).await.unwrap();
    assert!(cat.fail_stale_sessions(Utc::now() - Duration::hours(1)).await.unwrap().is_empty());
    assert_eq!(cat.fail_stale_sessions(Utc::now() + Duration::seconds(1)).await.unwrap(), vec![s2.id]);
    let s2 = cat.session(s2.id).await.unwrap().unwrap();
    assert_eq!(s2.status, SessionStatus::Failed);
    let log = cat.session_log(s2.id, 0, 10).await.unwrap();
    assert_eq!(log.rows.iter().map(|e| e.level).collect::<Vec<_>>(), [LogLevel::Error]);
    assert!(cat.fail_stale_sessions(Utc::now() + Duration::seconds(1)).await.unwrap().is_empty());

    let s3 = cat.start_session(job.id, t(3)).await.unwrap();
    let rp3 = NewRestorePoint { is_full: false, stats: RestorePointStats::default() };
    let point3 =
        cat.finish_session(s3.id, SessionStatus::Success, &SessionCounters::default(), Some(rp3)).await.unwrap();

    assert_eq!(cat.sessions(job.id).await.unwrap().iter().map(|s| s.id).collect::<Vec<_>>(), [s1.id, s2.id, s3.id]);
    let points = cat.restore_points(org.id).await.unwrap();
    assert_eq!(points.iter().map(|p| p.backup_time).collect::<Vec<_>>(), [t(1), t(3)]);
    assert_eq!(cat.restore_point(point.id).await.unwrap(), Some(point.clone()));
    assert_eq!(cat.restore_point_at(org.id, t(0)).await.unwrap(), None);
    assert_eq!(cat.restore_point_at(org.id, t(1)).await.unwrap(), Some(point.clone()));
    assert_eq!(cat.restore_point_at(org.id, t(2)).await.unwrap(), Some(point));
    assert_eq!(cat.restore_point_at(org.id, t(9)).await.unwrap(), point3);
}

#[tokio::test]
async fn item_history_is_queried_at_each_instant() {
    let (cat, _dir) = fresh().await;
    let (_org, drive) = org_and_drive(&cat).await;

    // t1: F/ {B: b.txt}, A: a.txt, C: c.txt, D: d.txt
    for (id, state) in [
        ("F", folder("F", None)),
        ("A", file("a.txt", None, 1)),
        ("B", file("b.txt", Some("F"), 2)),
        ("C", file("c.txt", None, 3)),
        ("D", file("d.txt", None, 4)),
    ] {
        assert_eq!(cat.record_item_state(drive, id, &state, t(1)).await.unwrap(), StateChange::Recorded);
    }
    // t2: A edited, B renamed, C moved into F, D deleted; F unchanged.
    let a2 = ItemState { modified_by: Some("Adele".into()), ..file("a.txt", None, 11) };
    assert_eq!(cat.record_item_state(drive, "A", &a2, t(2)).await.unwrap(), StateChange::Recorded);
    assert_eq!(
        cat.record_item_state(drive, "B", &file("b2.txt", Some("F"), 2), t(2)).await.unwrap(),
        StateChange::Recorded
    );
    assert_eq!(
        cat.record_item_state(drive, "C", &file("c.txt", Some("F"), 3), t(2)).await.unwrap(),
        StateChange::Recorded
    );
    assert_eq!(cat.record_item_deleted(drive, "D", t(2)).await.unwrap(), StateChange::Closed);
    assert_eq!(cat.record_item_state(drive, "F", &folder("F", None), t(2)).await.unwrap(), StateChange::Unchanged);
    // t3: A deleted, D re-created with the same id (restored from the recycle bin) under a new name.
    assert_eq!(cat.record_item_deleted(drive, "A", t(3)).await.unwrap(), StateChange::Closed);
    assert_eq!(cat.record_item_deleted(drive, "A", t(3)).await.unwrap(), StateChange::Unchanged);
    assert_eq!(cat.record_item_deleted(drive, "nope", t(3)).await.unwrap(), StateChange::Unchanged);
    assert_eq!(
        cat.record_item_state(drive, "D", &file("d-restored.txt", None, 4), t(3)).await.unwrap(),
        StateChange::Recorded
    );

    let root = |at, deleted| ItemQuery::new(drive, at).show_deleted(deleted);
    let in_f = |at, deleted| ItemQuery::new(drive, at).parent("F").show_deleted(deleted);
    let list = |q: ItemQuery| {
        let cat = cat.clone();
        async move { names(&cat.items_at(&q).await.unwrap()) }
    };
    let live = |v: &[&str]| v.iter().map(|n| (n.to_string(), false)).collect::<Vec<_>>();

    // Before the first backup nothing existed.
    assert_eq!(list(root(t(0), true)).await, live(&[]));
    // t1 (and until t2).
    assert_eq!(list(root(t(1), false)).await, live(&["F", "a.txt", "c.txt", "d.txt"]));
    assert_eq!(list(root(t(1), true)).await, live(&["F", "a.txt", "c.txt", "d.txt"]));
    assert_eq!(list(in_f(t(1), false)).await, live(&["b.txt"]));
    assert_eq!(list(root(t(1) + Duration::minutes(30), false)).await, live(&["F", "a.txt", "c.txt", "d.txt"]));
    // t2: C left the root (not shown there even with deleted items), D deleted.
    assert_eq!(list(root(t(2), false)).await, live(&["F", "a.txt"]));
    assert_eq!(
        list(root(t(2), true)).await,
        vec![("F".into(), false), ("a.txt".into(), false), ("d.txt".into(), true)]
    );
    assert_eq!(list(in_f(t(2), false)).await, live(&["b2.txt", "c.txt"]));
    // t3: A deleted (its last state is the edited one), D back.
    assert_eq!(list(root(t(3), false)).await, live(&["F", "d-restored.txt"]));
    let deleted = cat.items_at(&root(t(3), true)).await.unwrap();
    assert_eq!(names(&deleted), vec![("F".into(), false), ("a.txt".into(), true), ("d-restored.txt".into(), false)]);
    assert_eq!(deleted.total, 3);
    assert_eq!(deleted.rows[1].state, a2);
    assert_eq!((deleted.rows[1].valid_from, deleted.rows[1].valid_to), (t(2), Some(t(3))));

    // Single items and kinds.
    let a1 = cat.item_at(drive, "A", t(1)).await.unwrap().unwrap();
    assert_eq!((a1.state.size, a1.deleted), (1, false));
    let a3 = cat.item_at(drive, "A", t(3)).await.unwrap().unwrap();
    assert_eq!((a3.state.size, a3.deleted), (11, true));
    assert_eq!(cat.item_at(drive, "A", t(0)).await.unwrap(), None);
    assert_eq!(list(root(t(1), false).kind(ItemKind::Folder)).await, live(&["F"]));
    assert_eq!(list(root(t(1), false).kind(ItemKind::File)).await, live(&["a.txt", "c.txt", "d.txt"]));

    // Paths follow moves and renames.
    assert_eq!(cat.path_of(drive, "C", t(1)).await.unwrap(), ["c.txt"]);
    assert_eq!(cat.path_of(drive, "C", t(2)).await.unwrap(), ["F", "c.txt"]);
    assert_eq!(cat.path_of(drive, "B", t(2)).await.unwrap(), ["F", "b2.txt"]);
    assert_eq!(cat.path_of(drive, "A", t(3)).await.unwrap(), ["a.txt"]);
    assert!(matches!(cat.path_of(drive, "A", t(0)).await, Err(CatalogError::NotFound(_))));

    let mut current = cat.current_item_ids(drive).await.unwrap();
    current.sort();
    assert_eq!(current, ["B", "C", "D", "F"]);

    // Instants must not go backwards.
    assert!(matches!(
        cat.record_item_state(drive, "B", &file("older.txt", Some("F"), 2), t(1)).await,
        Err(CatalogError::InvalidState(_))
    ));
    assert!(matches!(cat.record_item_deleted(drive, "B", t(1)).await, Err(CatalogError::InvalidState(_))));
}

#[tokio::test]
async fn unchanged_state_writes_nothing() {
    let (cat, _dir) = fresh().await;
    let (_org, drive) = org_and_drive(&cat).await;
    let mut state = file("a.txt", None, 5);
    state.modified_at = Some(t(0) + Duration::nanoseconds(1_000_123));
    state.metadata = json!({"a": 1, "b": {"c": 2, "d": 3}});
    assert_eq!(cat.record_item_state(drive, "A", &state, t(1)).await.unwrap(), StateChange::Recorded);

    // Same state: JSON keys in another order, sub-microsecond noise in an instant.
    let mut same = state.clone();
    same.modified_at = Some(t(0) + Duration::nanoseconds(1_000_999));
    same.metadata = json!({"b": {"d": 3, "c": 2}, "a": 1});
    for at in [t(1), t(2), t(3)] {
        assert_eq!(cat.record_item_state(drive, "A", &same, at).await.unwrap(), StateChange::Unchanged);
    }
    assert_eq!(count(&cat, "item_states").await, 1);
    let row = cat.item_at(drive, "A", t(3)).await.unwrap().unwrap();
    assert_eq!((row.valid_from, row.valid_to), (t(1), None));
    assert_eq!(row.state.modified_at, Some(t(0) + Duration::microseconds(1000)));

    // A real change writes exactly one new row.
    let mut changed = same.clone();
    changed.metadata = json!({"a": 2});
    assert_eq!(cat.record_item_state(drive, "A", &changed, t(4)).await.unwrap(), StateChange::Recorded);
    assert_eq!(count(&cat, "item_states").await, 2);
}

#[tokio::test]
async fn versions_are_inserted_once_and_filtered_by_instant() {
    let (cat, _dir) = fresh().await;
    let (_org, drive) = org_and_drive(&cat).await;
    let v = |label: &str, minute: i64| VersionInfo {
        label: label.into(),
        size: minute * 10,
        modified_at: Some(t(0) + Duration::minutes(minute)),
        modified_by: Some("Adele".into()),
        content_ref: Some(label.as_bytes().to_vec()),
        content_hash: format!("h{label}-{minute}"),
    };
    assert!(cat.record_version(drive, "A", &v("1.0", 1), t(1)).await.unwrap());
    assert!(cat.record_version(drive, "A", &v("2.0", 2), t(1)).await.unwrap());
    // Seen again by the next backup: not stored twice.
    assert!(!cat.record_version(drive, "A", &v("1.0", 1), t(2)).await.unwrap());
    assert!(!cat.record_version(drive, "A", &v("2.0", 2), t(2)).await.unwrap());
    assert!(cat.record_version(drive, "A", &v("3.0", 3), t(2)).await.unwrap());
    // A restored old label with different content is a different version.
    assert!(cat.record_version(drive, "A", &v("1.0", 4), t(3)).await.unwrap());
    assert_eq!(count(&cat, "item_versions").await, 4);

    let labels = |rows: Vec<VersionRow>| rows.into_iter().map(|r| r.version.label).collect::<Vec<_>>();
    assert_eq!(labels(cat.versions_at(drive, "A", t(0), true).await.unwrap()), Vec::<String>::new());
    assert_eq!(labels(cat.versions_at(drive, "A", t(1), true).await.unwrap()), ["2.0", "1.0"]);
    assert_eq!(labels(cat.versions_at(drive, "A", t(1), false).await.unwrap()), ["2.0"]);
    assert_eq!(labels(cat.versions_at(drive, "A", t(2), true).await.unwrap()), ["3.0", "2.0", "1.0"]);
    let latest = cat.versions_at(drive, "A", t(3), false).await.unwrap();
    assert_eq!((latest[0].version.size, latest[0].first_seen), (40, t(3)));
    assert_eq!(latest[0].version, v("1.0", 4));

    // Equal modification times: labels order numerically, "10.0" after "9.0".
    let mut nine = v("9.0", 5);
    let mut ten = v("10.0", 5);
    nine.content_hash = "n".into();
    ten.content_hash = "t".into();
    cat.record_version(drive, "B", &nine, t(1)).await.unwrap();
    cat.record_version(drive, "B", &ten, t(1)).await.unwrap();
    assert_eq!(labels(cat.versions_at(drive, "B", t(1), true).await.unwrap()), ["10.0", "9.0"]);
}

#[tokio::test]
async fn listing_pages_report_the_total() {
    let (cat, _dir) = fresh().await;
    let (_org, drive) = org_and_drive(&cat).await;
    let mut batch = cat.begin().await.unwrap();
    for i in 0..25 {
        // Mixed case: ordering is case-insensitive.
        let name = if i % 2 == 0 { format!("File{i:02}.txt") } else { format!("file{i:02}.txt") };
        batch.record_item_state(drive, &format!("I{i}"), &file(&name, None, i), t(1)).await.unwrap();
    }
    batch.record_item_state(drive, "Z", &folder("zeta", None), t(1)).await.unwrap();
    batch.commit().await.unwrap();

    let page = cat.items_at(&ItemQuery::new(drive, t(1)).page(0, 10)).await.unwrap();
    assert_eq!((page.rows.len(), page.total), (10, 26));
    assert_eq!(page.rows[0].state.name, "zeta"); // folders first
    assert_eq!(page.rows[1].state.name, "File00.txt");
    assert_eq!(page.rows[2].state.name, "file01.txt");
    let page = cat.items_at(&ItemQuery::new(drive, t(1)).page(20, 10)).await.unwrap();
    assert_eq!((page.rows.len(), page.total), (6, 26));
    assert_eq!(page.rows.last().unwrap().state.name, "File24.txt");
    let page = cat.items_at(&ItemQuery::new(drive, t(1)).page(30, 10)).await.unwrap();
    assert_eq!((page.rows.len(), page.total), (0, 26));
    let page = cat.items_at(&ItemQuery::new(drive, t(1)).kind(ItemKind::File).page(0, 5)).await.unwrap();
    assert_eq!((page.rows.len(), page.total), (5, 25));
    // All pages together are all items, each once.
    let mut seen = Vec::new();
    for offset in (0..26).step_by(7) {
        seen.extend(cat.items_at(&ItemQuery::new(drive, t(1)).page(offset, 7)).await.unwrap().rows);
    }
    let mut ids: Vec<_> = seen.iter().map(|r| r.item_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 26);
}

#[tokio::test]
async fn sites_lists_list_items_and_attachments() {
    let (cat, _dir) = fresh().await;
    let org = cat.create_organization(&new_org("contoso")).await.unwrap();
    let site =
        SiteInfo { site_id: "s1".into(), url: "https://c/sites/hr".into(), title: "HR".into(), parent_site_id: None };
    let sub =
        SiteInfo { parent_site_id: Some("s1".into()), site_id: "s2".into(), title: "Payroll".into(), ..site.clone() };
    let list = ListInfo {
        list_id: "L1".into(),
        site_id: "s1".into(),
        title: "Issues".into(),
        template: "genericList".into(),
        is_document_library: false,
        drive_id: None,
    };
    let library = ListInfo {
        list_id: "L2".into(),
        title: "Documents".into(),
        template: "documentLibrary".into(),
        is_document_library: true,
        drive_id: Some("b!lib".into()),
        ..list.clone()
    };
    let (site_id, _) = cat.record_container(org.id, &ContainerInfo::Site(site.clone()), t(1)).await.unwrap();
    cat.record_container(org.id, &ContainerInfo::Site(sub), t(1)).await.unwrap();
    let (list_id, _) = cat.record_container(org.id, &ContainerInfo::List(list.clone()), t(1)).await.unwrap();
    let (lib_id, _) = cat.record_container(org.id, &ContainerInfo::List(library), t(1)).await.unwrap();
    assert_eq!(cat.container_id(org.id, ContainerKind::List, "L1").await.unwrap(), Some(list_id));
    assert_eq!(cat.container_id(org.id, ContainerKind::Site, "L1").await.unwrap(), None);

    // The list is renamed at t2, the library deleted at t3.
    let renamed = ListInfo { title: "Tickets".into(), ..list.clone() };
    let (same_id, change) = cat.record_container(org.id, &ContainerInfo::List(renamed), t(2)).await.unwrap();
    assert_eq!((same_id, change), (list_id, StateChange::Recorded));
    let (_, change) = cat.record_container(org.id, &ContainerInfo::Site(site), t(2)).await.unwrap();
    assert_eq!(change, StateChange::Unchanged);
    assert_eq!(cat.record_container_deleted(lib_id, t(3)).await.unwrap(), StateChange::Closed);

    let titles = |page: Page<ContainerRow>| {
        page.rows.iter().map(|r| (r.info.title().to_string(), r.deleted)).collect::<Vec<_>>()
    };
    let lists_of_s1 =
        |at, deleted| ContainerQuery::new(org.id, at).kind(ContainerKind::List).parent_ref("s1").show_deleted(deleted);
    assert_eq!(
        titles(cat.containers_at(&lists_of_s1(t(1), false)).await.unwrap()),
        [("Documents".into(), false), ("Issues".into(), false)]
    );
    assert_eq!(
        titles(cat.containers_at(&lists_of_s1(t(2), false)).await.unwrap()),
        [("Documents".into(), false), ("Tickets".into(), false)]
    );
    assert_eq!(titles(cat.containers_at(&lists_of_s1(t(3), false)).await.unwrap()), [("Tickets".into(), false)]);
    assert_eq!(
        titles(cat.containers_at(&lists_of_s1(t(3), true)).await.unwrap()),
        [("Documents".into(), true), ("Tickets".into(), false)]
    );
    let sites = cat.containers_at(&ContainerQuery::new(org.id, t(3)).kind(ContainerKind::Site)).await.unwrap();
    assert_eq!(titles(sites), [("HR".into(), false), ("Payroll".into(), false)]);
    let subsites = ContainerQuery::new(org.id, t(3)).kind(ContainerKind::Site).parent_ref("s1");
    assert_eq!(titles(cat.containers_at(&subsites).await.unwrap()), [("Payroll".into(), false)]);
    let all = cat.containers_at(&ContainerQuery::new(org.id, t(1)).page(1, 2)).await.unwrap();
    assert_eq!((all.rows.len(), all.total), (2, 4));
    let at1 = cat.container_at(list_id, t(1)).await.unwrap().unwrap();
    assert_eq!(at1.info, ContainerInfo::List(list));
    assert_eq!(cat.container_at(site_id, t(0)).await.unwrap(), None);
    assert!(cat.container_at(lib_id, t(3)).await.unwrap().unwrap().deleted);

    // List items: fields and attachments, versioned with the item state.
    let att = |name: &str, size: i64| Attachment {
        file_name: name.into(),
        size,
        content_ref: Some(format!("att:{name}:{size}").into_bytes()),
    };
    let item = |title: &str, attachments: Vec<Attachment>| ItemState {
        name: title.into(),
        fields: Some(json!({"Title": title, "Priority": 2})),
        attachments,
        ..Default::default()
    };
    let one = item("Broken printer", vec![att("photo.jpg", 100), att("log.txt", 5)]);
    cat.record_item_state(list_id, "1", &one, t(1)).await.unwrap();
    cat.record_item_state(list_id, "2", &item("No coffee", vec![]), t(1)).await.unwrap();
    // Same attachments given in another order: unchanged.
    let reordered = item("Broken printer", vec![att("log.txt", 5), att("photo.jpg", 100)]);
    assert_eq!(cat.record_item_state(list_id, "1", &reordered, t(2)).await.unwrap(), StateChange::Unchanged);
    // An attachment replaced at t3.
    let newer = item("Broken printer", vec![att("log.txt", 7), att("photo.jpg", 100)]);
    assert_eq!(cat.record_item_state(list_id, "1", &newer, t(3)).await.unwrap(), StateChange::Recorded);
    assert!(matches!(
        cat.record_item_state(list_id, "3", &item("dup", vec![att("a", 1), att("a", 2)]), t(3)).await,
        Err(CatalogError::InvalidState(_))
    ));

    let page = cat.items_at(&ItemQuery::new(list_id, t(1))).await.unwrap();
    assert_eq!(page.rows.iter().map(|r| r.state.name.as_str()).collect::<Vec<_>>(), ["Broken printer", "No coffee"]);
    assert_eq!(page.rows[0].state.attachments, vec![att("log.txt", 5), att("photo.jpg", 100)]);
    assert_eq!(page.rows[0].state.fields, Some(json!({"Title": "Broken printer", "Priority": 2})));
    assert!(page.rows[1].state.attachments.is_empty());
    let page = cat.items_at(&ItemQuery::new(list_id, t(3))).await.unwrap();
    assert_eq!(page.rows[0].state.attachments, vec![att("log.txt", 7), att("photo.jpg", 100)]);
    assert_eq!(cat.item_at(list_id, "1", t(2)).await.unwrap().unwrap().state.attachments[0], att("log.txt", 5));

    // Every content reference is reported once.
    cat.record_item_state(lib_id, "doc", &file("a.docx", None, 9), t(1)).await.unwrap();
    cat.record_item_state(lib_id, "doc2", &file("a.docx", None, 9), t(1)).await.unwrap();
    cat.record_version(
        lib_id,
        "doc",
        &VersionInfo {
            label: "1.0".into(),
            size: 9,
            modified_at: None,
            modified_by: None,
            content_ref: Some(b"ref:old".to_vec()),
            content_hash: "x".into(),
        },
        t(1),
    )
    .await
    .unwrap();
    let mut refs: Vec<String> =
        cat.referenced_content().map_ok(|r| String::from_utf8(r).unwrap()).try_collect().await.unwrap();
    refs.sort();
    assert_eq!(refs, ["att:log.txt:5", "att:log.txt:7", "att:photo.jpg:100", "ref:a.docx:9", "ref:old"]);
}

#[tokio::test]
async fn permissions_follow_validity_and_end_with_the_item() {
    let (cat, _dir) = fresh().await;
    let (_org, drive) = org_and_drive(&cat).await;
    cat.record_item_state(drive, "A", &file("a.txt", None, 1), t(1)).await.unwrap();
    let p1 = json!([{"id": "p1", "roles": ["read"], "grantedTo": {"user": {"id": "u2"}}}]);
    let p2 = json!([{"id": "p1", "roles": ["write"], "grantedTo": {"user": {"id": "u2"}}}]);
    assert_eq!(cat.record_permissions(drive, "A", &p1, t(1)).await.unwrap(), StateChange::Recorded);
    assert_eq!(cat.record_permissions(drive, "A", &p1, t(2)).await.unwrap(), StateChange::Unchanged);
    assert_eq!(cat.record_permissions(drive, "A", &p2, t(3)).await.unwrap(), StateChange::Recorded);
    assert_eq!(cat.permissions_at(drive, "A", t(0)).await.unwrap(), None);
    assert_eq!(cat.permissions_at(drive, "A", t(2)).await.unwrap(), Some(p1));
    assert_eq!(cat.permissions_at(drive, "A", t(3)).await.unwrap(), Some(p2.clone()));
    cat.record_item_deleted(drive, "A", t(4)).await.unwrap();
    assert_eq!(cat.permissions_at(drive, "A", t(4)).await.unwrap(), None);
    assert_eq!(cat.permissions_at(drive, "A", t(3)).await.unwrap(), Some(p2));
}

#[tokio::test]
async fn delta_links_are_stored_only_when_a_session_commits() {
    let (cat, _dir) = fresh().await;
    let (org, drive) = org_and_drive(&cat).await;
    let job = cat.create_job(org.id, "daily").await.unwrap();
    let done = |full| Some(NewRestorePoint { is_full: full, stats: RestorePointStats::default() });
    let zero = SessionCounters::default();

    let s1 = cat.start_session(job.id, t(1)).await.unwrap();
    cat.set_delta_link(s1.id, drive, "delta-1a").await.unwrap();
    cat.set_delta_link(s1.id, drive, "delta-1").await.unwrap(); // the last one staged wins
    assert_eq!(cat.get_delta_link(drive).await.unwrap(), None);
    assert!(matches!(cat.set_delta_link(s1.id, Uuid::new_v4(), "x").await, Err(CatalogError::NotFound(_))));
    cat.finish_session(s1.id, SessionStatus::Success, &zero, done(true)).await.unwrap();
    assert_eq!(cat.get_delta_link(drive).await.unwrap().as_deref(), Some("delta-1"));
    assert!(matches!(cat.set_delta_link(s1.id, drive, "late").await, Err(CatalogError::InvalidState(_))));

    // A failed session does not move the link.
    let s2 = cat.start_session(job.id, t(2)).await.unwrap();
    cat.set_delta_link(s2.id, drive, "delta-2").await.unwrap();
    cat.finish_session(s2.id, SessionStatus::Failed, &zero, None).await.unwrap();
    assert_eq!(cat.get_delta_link(drive).await.unwrap().as_deref(), Some("delta-1"));

    // Nor does a crashed one.
    let s3 = cat.start_session(job.id, t(3)).await.unwrap();
    cat.set_delta_link(s3.id, drive, "delta-3").await.unwrap();
    cat.fail_stale_sessions(Utc::now() + Duration::seconds(1)).await.unwrap();
    assert_eq!(cat.get_delta_link(drive).await.unwrap().as_deref(), Some("delta-1"));
    assert_eq!(count(&cat, "staged_delta_links").await, 0);

    // A warning session commits its link.
    let s4 = cat.start_session(job.id, t(4)).await.unwrap();
    cat.set_delta_link(s4.id, drive, "delta-4").await.unwrap();
    cat.finish_session(s4.id, SessionStatus::Warning, &zero, done(false)).await.unwrap();
    assert_eq!(cat.get_delta_link(drive).await.unwrap().as_deref(), Some("delta-4"));
}

/// One backup batch at instant `at`: the same writes whenever it is run.
async fn batch(cat: &Catalog, drive: Uuid, at: DateTime<Utc>) -> Vec<String> {
    let mut b = cat.begin().await.unwrap();
    let mut out = Vec::new();
    out.push(format!("{:?}", b.record_item_state(drive, "A", &file("a.txt", None, 2), at).await.unwrap()));
    out.push(format!("{:?}", b.record_item_state(drive, "N", &file("new.txt", Some("F"), 1), at).await.unwrap()));
    out.push(format!("{:?}", b.record_item_deleted(drive, "C", at).await.unwrap()));
    out.push(format!("{:?}", b.record_permissions(drive, "A", &json!([{"id": "p"}]), at).await.unwrap()));
    let v = VersionInfo {
        label: "2.0".into(),
        size: 2,
        modified_at: None,
        modified_by: None,
        content_ref: None,
        content_hash: "h2".into(),
    };
    out.push(format!("{:?}", b.record_version(drive, "A", &v, at).await.unwrap()));
    b.commit().await.unwrap();
    out
}

async fn table_counts(cat: &Catalog) -> Vec<i64> {
    let mut out = Vec::new();
    for table in ["item_states", "item_permissions", "item_versions", "item_attachments", "restore_points"] {
        out.push(count(cat, table).await);
    }
    out
}

#[tokio::test]
async fn rerunning_a_batch_or_a_crashed_backup_converges() {
    let (cat, _dir) = fresh().await;
    let (org, drive) = org_and_drive(&cat).await;
    let job = cat.create_job(org.id, "daily").await.unwrap();
    let zero = SessionCounters::default();
    let point = Some(NewRestorePoint { is_full: true, stats: RestorePointStats::default() });

    let s1 = cat.start_session(job.id, t(1)).await.unwrap();
    cat.record_item_state(drive, "F", &folder("F", None), s1.started_at).await.unwrap();
    cat.record_item_state(drive, "A", &file("a.txt", None, 1), s1.started_at).await.unwrap();
    cat.record_item_state(drive, "C", &file("c.txt", None, 1), s1.started_at).await.unwrap();
    cat.finish_session(s1.id, SessionStatus::Success, &zero, point).await.unwrap();

    // A rolled-back batch leaves nothing.
    let before = table_counts(&cat).await;
    let mut b = cat.begin().await.unwrap();
    b.record_item_state(drive, "X", &file("x", None, 1), t(2)).await.unwrap();
    b.rollback().await.unwrap();
    assert_eq!(table_counts(&cat).await, before);
    assert_eq!(cat.item_at(drive, "X", t(2)).await.unwrap(), None);

    // Session 2 commits a batch, then crashes before finishing.
    let s2 = cat.start_session(job.id, t(2)).await.unwrap();
    assert_eq!(batch(&cat, drive, s2.started_at).await, ["Recorded", "Recorded", "Closed", "Recorded", "true"]);
    let after_first = table_counts(&cat).await;
    // The same batch again (retry) writes nothing.
    assert_eq!(batch(&cat, drive, s2.started_at).await, ["Unchanged", "Unchanged", "Unchanged", "Unchanged", "false"]);
    assert_eq!(table_counts(&cat).await, after_first);
    cat.fail_stale_sessions(Utc::now() + Duration::seconds(1)).await.unwrap();
    assert_eq!(cat.restore_points(org.id).await.unwrap().len(), 1, "a crashed backup leaves no restore point");

    // The re-run (new session, new instant) sees the same changes: nothing new to write, and it commits.
    let s3 = cat.start_session(job.id, t(3)).await.unwrap();
    assert_eq!(batch(&cat, drive, s3.started_at).await, ["Unchanged", "Unchanged", "Unchanged", "Unchanged", "false"]);
    let rp = cat.finish_session(s3.id, SessionStatus::Success, &zero, point).await.unwrap().unwrap();
    assert_eq!(table_counts(&cat).await[..4], after_first[..4]);

    // Browsing the two restore points shows the two consistent states.
    let names_at = |at| {
        let cat = cat.clone();
        async move {
            let mut out = Vec::new();
            for q in [ItemQuery::new(drive, at), ItemQuery::new(drive, at).parent("F")] {
                out.extend(cat.items_at(&q).await.unwrap().rows.into_iter().map(|r| (r.state.name, r.state.size)));
            }
            out
        }
    };
    assert_eq!(names_at(t(1)).await, [("F".to_string(), 0), ("a.txt".into(), 1), ("c.txt".into(), 1)]);
    assert_eq!(names_at(rp.backup_time).await, [("F".to_string(), 0), ("a.txt".into(), 2), ("new.txt".into(), 1)]);

    // Within one instant, a later observation replaces an earlier one, and a deletion removes it: no empty ranges.
    let s4 = t(4);
    cat.record_item_state(drive, "A", &file("a.txt", None, 3), s4).await.unwrap();
    cat.record_item_state(drive, "A", &file("a.txt", None, 4), s4).await.unwrap();
    assert_eq!(cat.item_at(drive, "A", s4).await.unwrap().unwrap().state.size, 4);
    cat.record_item_state(drive, "T", &file("tmp", None, 1), s4).await.unwrap();
    cat.record_item_deleted(drive, "T", s4).await.unwrap();
    assert_eq!(cat.item_at(drive, "T", s4).await.unwrap(), None);
    let empty: i64 = sqlx::query("SELECT COUNT(*) AS n FROM item_states WHERE valid_to = valid_from")
        .fetch_one(cat.pool())
        .await
        .unwrap()
        .get("n");
    assert_eq!(empty, 0);
    // Deleted and seen again unchanged within the same instant: the old range is reopened, not duplicated.
    let rows_before = count(&cat, "item_states").await;
    cat.record_item_deleted(drive, "F", s4).await.unwrap();
    assert_eq!(cat.record_item_state(drive, "F", &folder("F", None), s4).await.unwrap(), StateChange::Recorded);
    assert_eq!(count(&cat, "item_states").await, rows_before);
    let f = cat.item_at(drive, "F", s4).await.unwrap().unwrap();
    assert_eq!((f.valid_from, f.valid_to, f.deleted), (t(1), None, false));
}

#[tokio::test]
async fn corrupted_rows_are_reported_not_panicked_on() {
    let (cat, _dir) = fresh().await;
    let (_org, drive) = org_and_drive(&cat).await;
    cat.record_item_state(drive, "A", &file("a.txt", None, 1), t(1)).await.unwrap();
    sqlx::query("UPDATE item_states SET metadata = $1").bind("{not json").execute(cat.pool()).await.unwrap();
    assert!(matches!(cat.items_at(&ItemQuery::new(drive, t(1))).await, Err(CatalogError::Corrupt(_))));
    assert!(matches!(cat.item_at(drive, "A", t(1)).await, Err(CatalogError::Corrupt(_))));

    // A parent cycle.
    cat.record_item_state(drive, "P", &folder("p", Some("Q")), t(1)).await.unwrap();
    cat.record_item_state(drive, "Q", &folder("q", Some("P")), t(1)).await.unwrap();
    assert!(matches!(cat.path_of(drive, "P", t(1)).await, Err(CatalogError::Corrupt(_))));

    let org = cat.organizations().await.unwrap().remove(0);
    let job = cat.create_job(org.id, "daily").await.unwrap();
    let session = cat.start_session(job.id, t(1)).await.unwrap();
    sqlx::query("UPDATE sessions SET status = 'exploded'").execute(cat.pool()).await.unwrap();
    assert!(matches!(cat.session(session.id).await, Err(CatalogError::Corrupt(_))));
    sqlx::query("UPDATE organizations SET config = 'nope'").execute(cat.pool()).await.unwrap();
    assert!(matches!(cat.organization(org.id).await, Err(CatalogError::Corrupt(_))));
}

#[tokio::test]
async fn concurrent_writers_do_not_lose_log_lines_or_states() {
    let (cat, _dir) = fresh().await;
    let (org, drive) = org_and_drive(&cat).await;
    let job = cat.create_job(org.id, "daily").await.unwrap();
    let session = cat.start_session(job.id, t(1)).await.unwrap();
    let mut tasks = Vec::new();
    for w in 0..4 {
        let cat = cat.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                cat.log(session.id, LogLevel::Info, &format!("w{w} line {i}"), None).await.unwrap();
                let mut b = cat.begin().await.unwrap();
                b.record_item_state(drive, &format!("{w}-{i}"), &file("f", None, i), t(1)).await.unwrap();
                b.commit().await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let log = cat.session_log(session.id, 0, 100).await.unwrap();
    assert_eq!(log.total, 40);
    assert_eq!(log.rows.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=40).collect::<Vec<_>>());
    assert_eq!(cat.items_at(&ItemQuery::new(drive, t(1))).await.unwrap().total, 40);
}

#[tokio::test]
async fn concurrent_batches_logging_into_one_session_all_commit() {
    // Parallel containers of one backup each log inside their own checkpoint batch; on PostgreSQL two batches must
    // not compute the same next sequence number (that aborted a backup before batches locked the session row).
    let (cat, _dir) = fresh().await;
    let (org, drive) = org_and_drive(&cat).await;
    let job = cat.create_job(org.id, "daily").await.unwrap();
    let session = cat.start_session(job.id, t(1)).await.unwrap();
    let mut tasks = Vec::new();
    for w in 0..4 {
        let cat = cat.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..8 {
                let mut b = cat.begin().await.unwrap();
                b.record_item_state(drive, &format!("{w}-{i}"), &file("f", None, i), t(1)).await.unwrap();
                b.log(session.id, LogLevel::Info, &format!("w{w} item {i}"), Some(&format!("{w}-{i}"))).await.unwrap();
                tokio::task::yield_now().await;
                b.log(session.id, LogLevel::Info, &format!("w{w} item {i} done"), None).await.unwrap();
                b.commit().await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let log = cat.session_log(session.id, 0, 100).await.unwrap();
    assert_eq!(log.total, 64);
    assert_eq!(log.rows.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=64).collect::<Vec<_>>());
    let mut b = cat.begin().await.unwrap();
    let err = b.log(Uuid::new_v4(), LogLevel::Info, "nobody", None).await.unwrap_err();
    assert!(matches!(err, CatalogError::NotFound(_)), "{err}");
}

/// Migrations V2 (`api_logon_failures`, the API's logon throttle) and V3 (search columns) upgrade a version-1 catalog
/// in place, keep its data, and the throttle's atomic count (`INSERT … ON CONFLICT … RETURNING`) works on the backend.
#[tokio::test]
async fn a_v1_catalog_upgrades_in_place_to_the_current_version() {
    let (url, _dir) = fresh_url().await;
    let cat = Catalog::connect(&url).await.unwrap();
    let org = cat.create_organization(&new_org("contoso")).await.unwrap();
    // Turn the fresh catalog back into a version-1 one: undo every later version.
    for undo in UNDO_V6 {
        sqlx::query(undo).execute(cat.pool()).await.unwrap();
    }
    for undo in [
        "DROP INDEX item_states_name",
        "ALTER TABLE item_states DROP COLUMN name_folded",
        "ALTER TABLE item_states DROP COLUMN created_by_folded",
        "ALTER TABLE item_states DROP COLUMN modified_by_folded",
        "DROP TABLE api_logon_failures",
        "DROP TABLE api_users",
        "DROP TABLE api_tokens",
        "DROP TABLE api_restore_sessions",
        "DROP TABLE api_restore_session_events",
        "DROP TABLE api_restore_jobs",
        "DROP TABLE api_device_codes",
        "DROP TABLE api_email_settings",
        "DROP INDEX sessions_one_running_per_job",
        "DELETE FROM schema_version WHERE version > 1",
    ] {
        sqlx::query(undo).execute(cat.pool()).await.unwrap();
    }
    assert_eq!(cat.schema_version().await.unwrap(), 1);
    cat.close().await;

    let cat = Catalog::connect(&url).await.unwrap();
    assert_eq!(cat.schema_version().await.unwrap(), SCHEMA_VERSION);
    assert_eq!(cat.organization(org.id).await.unwrap(), Some(org));
    let count_failure = |now: i64| {
        sqlx::query(
            "INSERT INTO api_logon_failures (subject, failures, locked_until, last_failure) VALUES ($1, 1, 0, $2)
             ON CONFLICT (subject) DO UPDATE SET
               failures = CASE WHEN api_logon_failures.last_failure < $3 THEN 1 ELSE api_logon_failures.failures + 1 END,
               last_failure = $2
             RETURNING failures",
        )
        .bind("user:admin")
        .bind(now)
        .bind(now - 3_600_000_000)
    };
    let mut counts = Vec::new();
    for now in [10_000_000_000i64, 10_000_000_001, 10_000_000_002, 20_000_000_000] {
        counts.push(count_failure(now).fetch_one(cat.pool()).await.unwrap().get::<i64, _>("failures"));
    }
    // Three failures in the window count up; one an hour later starts again.
    assert_eq!(counts, [1, 2, 3, 1]);
}

/// The API's own tables (migration V4), with one row each in the layout the API writes.
const API_ROWS: [(&str, &str); 7] = [
    ("api_users", "INSERT INTO api_users VALUES ('u1', 'Admin', 'admin', 'hash', 1, 0)"),
    ("api_tokens", "INSERT INTO api_tokens VALUES ('t1', 'access', 'u1', 'f1', 1, 2, 0)"),
    (
        "api_restore_sessions",
        "INSERT INTO api_restore_sessions VALUES ('s1', 'u1', 'Admin', 'o1', 'Veod', 'n', NULL, 5, 'rp', 0, 0, \
         'Working', 'Success', 1, NULL, 1, 1, NULL, NULL, NULL)",
    ),
    (
        "api_restore_session_events",
        "INSERT INTO api_restore_session_events VALUES ('s1', 1, 'e1', 'Restore', 'Success', 1, 2, 'title', 'msg', \
         NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    ),
    ("api_restore_jobs", "INSERT INTO api_restore_jobs VALUES ('s1', 'node', 'inst', 'Running', 1, 1, NULL)"),
    ("api_device_codes", "INSERT INTO api_device_codes VALUES ('ABCD', 'u1', 'o1', 'app', 0, '{}', 9)"),
    ("api_email_settings", "INSERT INTO api_email_settings VALUES ('veod', '{}')"),
];

/// A fresh catalog has the API's tables: the API creates none itself.
#[tokio::test]
async fn a_fresh_catalog_has_the_api_tables() {
    let (cat, _dir) = fresh().await;
    for (table, insert) in API_ROWS {
        assert_eq!(count(&cat, table).await, 0, "{table}");
        sqlx::query(insert).execute(cat.pool()).await.unwrap();
        assert_eq!(count(&cat, table).await, 1, "{table}");
    }
}

/// What migration V6 added, taken away again (to make an older catalog out of a current one).
const UNDO_V6: &[&str] = &[
    "DROP TABLE session_objects",
    "DROP TABLE cluster_tasks",
    "DROP INDEX sessions_one_running_per_organization",
    "DROP INDEX jobs_due",
    "ALTER TABLE sessions DROP COLUMN organization_id",
    "ALTER TABLE sessions DROP COLUMN stop_requested_at",
    "ALTER TABLE jobs DROP COLUMN description",
    "ALTER TABLE jobs DROP COLUMN settings",
    "ALTER TABLE jobs DROP COLUMN enabled",
    "ALTER TABLE jobs DROP COLUMN next_run_at",
    "ALTER TABLE jobs DROP COLUMN revision",
    "ALTER TABLE jobs DROP COLUMN removed_at",
];

/// Builds before migration V4 created the API's tables themselves (`CREATE TABLE IF NOT EXISTS`, same layout as V4) in
/// a version-3 catalog. Such a catalog upgrades to the current version and keeps the rows of those tables.
#[tokio::test]
async fn api_tables_an_earlier_build_created_upgrade_and_keep_their_rows() {
    let (url, _dir) = fresh_url().await;
    let cat = Catalog::connect(&url).await.unwrap();
    // A version-3 catalog in which the API made its tables and wrote to them.
    // The cluster's queue table stays: builds before V6 created it themselves; the upgrade keeps it.
    let undo = UNDO_V6.iter().filter(|u| !u.contains("cluster_tasks"));
    for undo in undo.chain(&["DROP INDEX sessions_one_running_per_job"]) {
        sqlx::query(undo).execute(cat.pool()).await.unwrap();
    }
    sqlx::query("DELETE FROM schema_version WHERE version > 3").execute(cat.pool()).await.unwrap();
    for (_, insert) in API_ROWS {
        sqlx::query(insert).execute(cat.pool()).await.unwrap();
    }
    assert_eq!(cat.schema_version().await.unwrap(), 3);
    cat.close().await;

    let cat = Catalog::connect(&url).await.unwrap();
    assert_eq!(cat.schema_version().await.unwrap(), SCHEMA_VERSION);
    for (table, _) in API_ROWS {
        assert_eq!(count(&cat, table).await, 1, "{table}");
    }
    let name: String = sqlx::query("SELECT name FROM api_users WHERE name_key = 'admin'")
        .fetch_one(cat.pool())
        .await
        .unwrap()
        .get("name");
    assert_eq!(name, "Admin");
}

/// Names of a search page, in order.
async fn found(cat: &Catalog, q: &SearchQuery) -> Vec<(String, bool)> {
    names(&cat.search_items(q).await.unwrap())
}

#[tokio::test]
async fn search_matches_names_authors_extensions_and_sizes_at_an_instant() {
    let (cat, _dir) = fresh().await;
    let (org, drive) = org_and_drive(&cat).await;
    let other_info = ContainerInfo::OneDrive(OneDriveInfo {
        user_id: "u2".into(),
        upn: "bob@contoso.com".into(),
        display_name: "Bob".into(),
        drive_id: "b!drive2".into(),
    });
    let (other, _) = cat.record_container(org.id, &other_info, t(1)).await.unwrap();
    let by = |state: ItemState, author: &str, editor: &str| ItemState {
        created_by: Some(author.into()),
        modified_by: Some(editor.into()),
        ..state
    };
    // t1: Reports/ {Q1/ {Quarterly Report.docx, 50%_done.xlsx}, Über Plan.PDF}, report-old.txt, Deep/…/report.md
    let mut batch = cat.begin().await.unwrap();
    for (id, state) in [
        ("R", folder("Reports", None)),
        ("Q1", folder("Q1", Some("R"))),
        ("QR", by(file("Quarterly Report.docx", Some("Q1"), 100), "Adele Vance", "Bob Stone")),
        ("PCT", by(file("50%_done.xlsx", Some("Q1"), 200), "Bob Stone", "Adele Vance")),
        ("UP", by(file("Über Plan.PDF", Some("R"), 300), "Zoë Ünal", "Zoë Ünal")),
        ("OLD", by(file("report-old.txt", None, 400), "Adele Vance", "Adele Vance")),
        ("D1", folder("Deep", None)),
    ] {
        batch.record_item_state(drive, id, &state, t(1)).await.unwrap();
    }
    // A chain 30 folders deep with a report at the bottom.
    let mut parent = "D1".to_string();
    for i in 0..30 {
        let id = format!("D1-{i}");
        batch.record_item_state(drive, &id, &folder(&format!("level {i}"), Some(&parent)), t(1)).await.unwrap();
        parent = id;
    }
    batch.record_item_state(drive, "DEEP", &file("deep report.md", Some(&parent), 5), t(1)).await.unwrap();
    batch.record_item_state(other, "X", &file("Report of Bob.txt", None, 7), t(1)).await.unwrap();
    batch.commit().await.unwrap();
    // t2: the quarterly report renamed, report-old.txt deleted, a new report created, the PDF moved to the root.
    let mut batch = cat.begin().await.unwrap();
    let qr2 = by(file("Q1 summary.docx", Some("Q1"), 100), "Adele Vance", "Bob Stone");
    batch.record_item_state(drive, "QR", &qr2, t(2)).await.unwrap();
    batch.record_item_deleted(drive, "OLD", t(2)).await.unwrap();
    batch.record_item_state(drive, "NEW", &file("new report.txt", Some("R"), 9), t(2)).await.unwrap();
    batch
        .record_item_state(drive, "UP", &by(file("Über Plan.PDF", None, 300), "Zoë Ünal", "Zoë Ünal"), t(2))
        .await
        .unwrap();
    batch.commit().await.unwrap();

    let both = SearchScope::Containers(vec![drive, other]);
    let one = SearchScope::Containers(vec![drive]);
    let q = |scope: &SearchScope, at, terms: Vec<SearchTerm>| SearchQuery::new(scope.clone(), at, terms);
    let name = |s: &str| SearchTerm::Name(s.into());
    let live = |v: &[&str]| v.iter().map(|n| (n.to_string(), false)).collect::<Vec<_>>();

    // Substring, case-insensitive, folders first then by name; all terms must hold.
    assert_eq!(
        found(&cat, &q(&both, t(1), vec![name("REPORT")])).await,
        live(&["Reports", "deep report.md", "Quarterly Report.docx", "Report of Bob.txt", "report-old.txt"])
    );
    assert_eq!(
        found(&cat, &q(&one, t(1), vec![name("report"), name("quart")])).await,
        live(&["Quarterly Report.docx"])
    );
    assert_eq!(found(&cat, &q(&one, t(1), vec![name("quarterly report")])).await, live(&["Quarterly Report.docx"]));
    // Unicode case folding; LIKE wildcards in the text are literal.
    assert_eq!(found(&cat, &q(&one, t(1), vec![name("über")])).await, live(&["Über Plan.PDF"]));
    assert_eq!(found(&cat, &q(&one, t(1), vec![name("50%_")])).await, live(&["50%_done.xlsx"]));
    assert_eq!(found(&cat, &q(&one, t(1), vec![name("0%d")])).await, live(&[]));
    // Authors and editors, extensions (files only, with or without the dot), sizes.
    let author = |s: &str| SearchTerm::CreatedBy(s.into());
    assert_eq!(
        found(&cat, &q(&one, t(1), vec![author("adele")])).await,
        live(&["Quarterly Report.docx", "report-old.txt"])
    );
    assert_eq!(found(&cat, &q(&one, t(1), vec![SearchTerm::ModifiedBy("ZOË".into())])).await, live(&["Über Plan.PDF"]));
    assert_eq!(found(&cat, &q(&one, t(1), vec![SearchTerm::Extension(".pdf".into())])).await, live(&["Über Plan.PDF"]));
    assert_eq!(
        found(&cat, &q(&one, t(1), vec![SearchTerm::Extension("DOCX".into())])).await,
        live(&["Quarterly Report.docx"])
    );
    assert_eq!(
        found(&cat, &q(&one, t(1), vec![SearchTerm::Size(SizeOp::Ge, 300)])).await,
        live(&["report-old.txt", "Über Plan.PDF"])
    );
    assert_eq!(found(&cat, &q(&one, t(1), vec![SearchTerm::Size(SizeOp::Eq, 5)])).await, live(&["deep report.md"]));

    // Point in time: the name valid at the instant; deleted items only with show_deleted.
    assert_eq!(found(&cat, &q(&one, t(1), vec![name("summary")])).await, live(&[]));
    assert_eq!(found(&cat, &q(&one, t(2), vec![name("summary")])).await, live(&["Q1 summary.docx"]));
    assert_eq!(found(&cat, &q(&one, t(2), vec![name("quarterly")])).await, live(&[]));
    assert_eq!(found(&cat, &q(&one, t(1), vec![name("new report")])).await, live(&[]));
    assert_eq!(found(&cat, &q(&one, t(2), vec![name("old")])).await, live(&[]));
    assert_eq!(
        found(&cat, &q(&one, t(2), vec![name("old")]).show_deleted(true)).await,
        vec![("report-old.txt".to_string(), true)]
    );
    assert_eq!(found(&cat, &q(&one, t(1), vec![name("old")]).show_deleted(true)).await, live(&["report-old.txt"]));

    // Kinds.
    assert_eq!(found(&cat, &q(&one, t(1), vec![name("report")]).kind(ItemKind::Folder)).await, live(&["Reports"]));
    assert_eq!(found(&cat, &q(&one, t(1), vec![name("level 2")]).kind(ItemKind::File)).await, live(&[]));

    // Folder subtrees, at any depth, as they were at the instant (the PDF left Reports at t2).
    let reports = SearchScope::Folder { container: drive, folder: "R".into() };
    assert_eq!(
        found(&cat, &q(&reports, t(1), vec![]).kind(ItemKind::File)).await,
        live(&["50%_done.xlsx", "Quarterly Report.docx", "Über Plan.PDF"])
    );
    assert_eq!(
        found(&cat, &q(&reports, t(2), vec![]).kind(ItemKind::File)).await,
        live(&["50%_done.xlsx", "new report.txt", "Q1 summary.docx"])
    );
    let deep = SearchScope::Folder { container: drive, folder: "D1".into() };
    assert_eq!(found(&cat, &q(&deep, t(1), vec![name("report")])).await, live(&["deep report.md"]));
    let deep_total = cat.search_items(&q(&deep, t(1), vec![])).await.unwrap().total;
    assert_eq!(deep_total, 31, "30 folders and the file below Deep, not Deep itself");
    let q1 = SearchScope::Folder { container: drive, folder: "Q1".into() };
    assert_eq!(found(&cat, &q(&q1, t(1), vec![name("report")])).await, live(&["Quarterly Report.docx"]));
    let unknown = SearchScope::Folder { container: drive, folder: "nope".into() };
    assert_eq!(found(&cat, &q(&unknown, t(1), vec![])).await, live(&[]));
    assert_eq!(found(&cat, &q(&SearchScope::Containers(vec![]), t(1), vec![])).await, live(&[]));

    // Paging: pages in order, each item once, the total of all matches.
    let all = cat.search_items(&q(&both, t(2), vec![]).page(0, 1000)).await.unwrap();
    assert_eq!(all.total as usize, all.rows.len());
    let mut paged = Vec::new();
    for offset in (0..all.total).step_by(4) {
        let page = cat.search_items(&q(&both, t(2), vec![]).page(offset, 4)).await.unwrap();
        assert_eq!(page.total, all.total);
        paged.extend(page.rows);
    }
    assert_eq!(paged, all.rows);
    let past = cat.search_items(&q(&both, t(2), vec![]).page(all.total, 4)).await.unwrap();
    assert_eq!((past.rows.len(), past.total), (0, all.total));
}
