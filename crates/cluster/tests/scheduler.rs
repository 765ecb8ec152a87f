//! The scheduler on SQLite and — with `VAULT365_TEST_POSTGRES` set — PostgreSQL: three nodes (each its own
//! connection pool to one catalog, each its own scheduler) tick at the same simulated instants; every due run becomes
//! exactly one task, runs missed while no node ran become one, and a run due while the organization's backup is
//! queued joins it.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use cluster::*;
use engine::job::{JobSettings, Retry, Schedule};
use repo::catalog::{Catalog, JobDefinition, NewOrganization};
use repo::catalog::{SessionCounters, SessionStatus};
use serde_json::json;
use test_support::{fresh_postgres_database, test_server_var};
use uuid::Uuid;

/// The URL of one fresh catalog per available backend. Keep the guard alive.
async fn catalog_urls() -> (Vec<String>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut urls = vec![format!("sqlite://{}?mode=rwc", dir.path().join("catalog.db").display())];
    if let Some(base) = test_server_var("VAULT365_TEST_POSTGRES", "PostgreSQL half of the scheduler tests") {
        urls.push(fresh_postgres_database(&base, "scheduler_test").await);
    }
    (urls, dir)
}

fn at(minute: i64, second: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap() + chrono::Duration::seconds(minute * 60 + second)
}

/// An organization with a job running every `minutes`, first due at `first`.
async fn every(cat: &Catalog, name: &str, minutes: u32, first: DateTime<Utc>) -> (Uuid, Uuid) {
    every_with(cat, name, minutes, first, Retry { enabled: false, number: 0, wait_minutes: 1 }).await
}

async fn every_with(cat: &Catalog, name: &str, minutes: u32, first: DateTime<Utc>, retry: Retry) -> (Uuid, Uuid) {
    let org = cat
        .create_organization(&NewOrganization {
            name: name.into(),
            tenant_id: Uuid::new_v4().to_string(),
            tenant_domain: format!("{name}.example"),
            config: json!({}),
        })
        .await
        .unwrap();
    let settings = JobSettings {
        schedule: Schedule::Periodically { every_minutes: minutes, offset_minutes: 0, window: None },
        retry,
        ..JobSettings::default()
    };
    let definition = JobDefinition {
        name: "scheduled".into(),
        description: String::new(),
        settings: settings.to_stored(),
        enabled: true,
        next_run_at: Some(first),
    };
    (org.id, cat.create_job_with(org.id, &definition).await.unwrap().id)
}

/// The worker's part: takes every queued task and completes it.
async fn work_off(queue: &TaskQueue) -> usize {
    let mut n = 0;
    while let Some(c) = queue.claim("worker", Duration::from_secs(60), 3).await.unwrap() {
        queue.complete(c.task.id, "worker", &json!({})).await.unwrap();
        n += 1;
    }
    n
}

#[tokio::test]
async fn three_nodes_start_each_due_run_exactly_once() {
    let (urls, _dir) = catalog_urls().await;
    for url in urls {
        // Connected one after the other: the first connection creates the catalog (the ticks are what race).
        let mut nodes = Vec::new();
        for _ in 0..3 {
            nodes.push(Catalog::connect(&url).await.unwrap());
        }
        let (_, job) = every(&nodes[0], "contoso", 1, at(1, 0)).await;
        let mut schedulers = Vec::new();
        for n in &nodes {
            schedulers.push(Scheduler::open(n, Tz::UTC).await.unwrap());
        }
        let queue = TaskQueue::open(&nodes[0]).await.unwrap();
        // Ten minutes, every node ticking every 15 s at the same instants.
        let mut runs: BTreeMap<DateTime<Utc>, Vec<usize>> = BTreeMap::new();
        for minute in 0..10 {
            for second in [0, 15, 30, 45] {
                let now = at(minute, second) + chrono::Duration::seconds(1);
                let ticks = schedulers.iter().map(|s| s.tick(now));
                for (node, started) in futures::future::join_all(ticks).await.into_iter().enumerate() {
                    for s in started.unwrap() {
                        assert_eq!(s.job, job);
                        assert!(!s.joined, "{url}: the previous run was done");
                        runs.entry(s.due).or_default().push(node);
                    }
                }
            }
            assert!(work_off(&queue).await <= 1, "{url}: one task per minute");
        }
        let dues: Vec<DateTime<Utc>> = runs.keys().copied().collect();
        assert_eq!(dues, (1..10).map(|m| at(m, 0)).collect::<Vec<_>>(), "{url}: every minute once: {runs:?}");
        assert!(runs.values().all(|nodes| nodes.len() == 1), "{url}: one node per run: {runs:?}");
        assert_eq!(nodes[1].job(job).await.unwrap().unwrap().next_run_at, Some(at(10, 0)));
    }
}

#[tokio::test]
async fn missed_runs_become_one_and_a_busy_organization_joins() {
    let (urls, _dir) = catalog_urls().await;
    for url in urls {
        let cat = Catalog::connect(&url).await.unwrap();
        let scheduler = Scheduler::open(&cat, Tz::UTC).await.unwrap();
        let queue = TaskQueue::open(&cat).await.unwrap();
        let (org, job) = every(&cat, "contoso", 5, at(5, 0)).await;
        // Down from minute 4 to 62: eleven runs missed, one run now, the next at the next five-minute mark.
        let started = scheduler.tick(at(62, 30)).await.unwrap();
        assert_eq!(started.len(), 1, "{url}: {started:?}");
        assert_eq!(started[0].due, at(5, 0));
        assert_eq!(cat.job(job).await.unwrap().unwrap().next_run_at, Some(at(65, 0)));
        assert!(scheduler.tick(at(63, 0)).await.unwrap().is_empty(), "{url}: nothing due until 65");
        // Still queued at the next run: that run is the queued backup of the organization.
        let joined = scheduler.tick(at(65, 1)).await.unwrap();
        assert_eq!((joined.len(), joined[0].joined, joined[0].task), (1, true, started[0].task), "{url}");
        let task = queue.get(started[0].task).await.unwrap().unwrap();
        assert_eq!(task.payload, json!({"organizationId": org, "jobId": job}));
        assert_eq!(work_off(&queue).await, 1, "{url}: one backup ran for both");
        // A disabled job is not run.
        let mut j = cat.job(job).await.unwrap().unwrap();
        let off = JobDefinition { enabled: false, ..JobDefinition::from(&j) };
        j = cat.update_job(job, j.revision, &off).await.unwrap();
        assert!(scheduler.tick(at(200, 0)).await.unwrap().is_empty(), "{url}: {j:?}");
    }
}

#[tokio::test]
async fn failed_runs_are_retried_as_the_schedule_says() {
    let (urls, _dir) = catalog_urls().await;
    for url in urls {
        let cat = Catalog::connect(&url).await.unwrap();
        let scheduler = Scheduler::open(&cat, Tz::UTC).await.unwrap();
        let retry = Retry { enabled: true, number: 2, wait_minutes: 10 };
        let (_, job) = every_with(&cat, "contoso", 720, at(60, 0), retry).await;
        let run = |ok: bool, minute: i64| {
            let cat = cat.clone();
            async move {
                let s = cat.start_session(job, at(minute, 0)).await.unwrap();
                let status = if ok { SessionStatus::Success } else { SessionStatus::Failed };
                cat.finish_session(s.id, status, &SessionCounters::default(), None).await.unwrap();
            }
        };
        // Nothing failed: no retry.
        run(true, 1).await;
        assert_eq!(scheduler.schedule_retry(job, at(2, 0)).await.unwrap(), None, "{url}");
        // Two failures in a row: each brings a retry ten minutes later.
        run(false, 3).await;
        assert_eq!(scheduler.schedule_retry(job, at(4, 0)).await.unwrap(), Some(at(14, 0)), "{url}");
        assert_eq!(cat.job(job).await.unwrap().unwrap().next_run_at, Some(at(14, 0)));
        assert_eq!(scheduler.tick(at(14, 1)).await.unwrap().len(), 1, "{url}: the retry runs");
        run(false, 15).await;
        assert_eq!(scheduler.schedule_retry(job, at(16, 0)).await.unwrap(), Some(at(26, 0)), "{url}");
        scheduler.tick(at(26, 1)).await.unwrap();
        // The third failure in a row is past `number`: the next run is the regular one.
        run(false, 27).await;
        assert_eq!(scheduler.schedule_retry(job, at(28, 0)).await.unwrap(), None, "{url}");
        assert_eq!(cat.job(job).await.unwrap().unwrap().next_run_at, Some(at(120, 0)), "12:00, the regular run");
    }
}
