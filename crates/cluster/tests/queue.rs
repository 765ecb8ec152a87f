//! The task queue and the worker loop, on SQLite and — with `VAULT365_TEST_POSTGRES` set (scripts/test.sh sets it) —
//! on PostgreSQL too, where claiming uses `FOR UPDATE SKIP LOCKED`. A set but unreachable server fails the tests.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cluster::*;
use repo::catalog::Catalog;
use serde_json::json;

use test_support::{fresh_postgres_database, test_server_var};

/// One catalog per available backend: SQLite always, PostgreSQL when configured. Keep the guard alive.
async fn catalogs() -> (Vec<Catalog>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let sqlite =
        Catalog::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("catalog.db").display())).await.unwrap();
    let mut out = vec![sqlite];
    if let Some(base) = test_server_var("VAULT365_TEST_POSTGRES", "PostgreSQL half of this queue") {
        out.push(Catalog::connect(&fresh_postgres_database(&base, "queue_test").await).await.unwrap());
    }
    (out, dir)
}

fn backup_of(org: &str) -> NewTask {
    NewTask { kind: "backup".into(), payload: json!({"org": org}), dedup_key: Some(format!("backup:{org}")) }
}

const STALE: Duration = Duration::from_millis(300);

#[tokio::test]
async fn enqueue_deduplicates_claim_and_complete() {
    let (catalogs, _dir) = catalogs().await;
    for cat in catalogs {
        let q = TaskQueue::open(&cat).await.unwrap();
        TaskQueue::open(&cat).await.unwrap(); // idempotent
        let (t, added) = q.enqueue(&backup_of("contoso")).await.unwrap();
        assert!(added);
        assert_eq!((t.status, t.attempts, t.node.clone()), (TaskStatus::Queued, 0, None));
        let (again, added) = q.enqueue(&backup_of("contoso")).await.unwrap();
        assert!(!added, "a queued backup of the same organization is reused");
        assert_eq!(again.id, t.id);
        let (other, added) = q.enqueue(&backup_of("fabrikam")).await.unwrap();
        assert!(added);

        let c = q.claim("a", STALE, 3).await.unwrap().unwrap();
        assert_eq!((c.task.id, c.task.status, c.task.attempts), (t.id, TaskStatus::Running, 1));
        assert_eq!((c.task.node.as_deref(), c.previous_node), (Some("a"), None));
        assert_eq!(c.task.payload, json!({"org": "contoso"}));
        // Still running: enqueueing the same organization again returns the running task.
        assert_eq!(q.enqueue(&backup_of("contoso")).await.unwrap().0.id, t.id);
        let c2 = q.claim("b", STALE, 3).await.unwrap().unwrap();
        assert_eq!(c2.task.id, other.id);
        assert!(q.claim("c", STALE, 3).await.unwrap().is_none(), "nothing left");

        q.heartbeat(t.id, "a").await.unwrap();
        assert!(matches!(q.heartbeat(t.id, "b").await, Err(QueueError::Lost(_))), "b does not own it");
        q.complete(t.id, "a", &json!({"restorePoint": "rp1"})).await.unwrap();
        q.fail(other.id, "b", "tenant unreachable").await.unwrap();
        let done = q.get(t.id).await.unwrap().unwrap();
        assert_eq!((done.status, done.result), (TaskStatus::Done, Some(json!({"restorePoint": "rp1"}))));
        assert!(done.finished_at.is_some());
        let failed = q.get(other.id).await.unwrap().unwrap();
        assert_eq!((failed.status, failed.error.as_deref()), (TaskStatus::Failed, Some("tenant unreachable")));
        assert!(matches!(q.complete(t.id, "a", &json!(null)).await, Err(QueueError::Lost(_))), "finished once");
        assert!(q.active().await.unwrap().is_empty());
        // Finished: the organization can be queued again.
        let (next, added) = q.enqueue(&backup_of("contoso")).await.unwrap();
        assert!(added && next.id != t.id);
        assert!(q.get(uuid::Uuid::new_v4()).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn a_stale_task_is_taken_over_and_the_old_owner_is_refused() {
    let (catalogs, _dir) = catalogs().await;
    for cat in catalogs {
        let q = TaskQueue::open(&cat).await.unwrap();
        let (t, _) = q.enqueue(&backup_of("contoso")).await.unwrap();
        q.claim("a", STALE, 3).await.unwrap().unwrap();
        // Fresh heartbeat: nobody else may take it.
        assert!(q.claim("b", STALE, 3).await.unwrap().is_none());
        tokio::time::sleep(STALE + Duration::from_millis(100)).await;
        let c = q.claim("b", STALE, 3).await.unwrap().expect("stale task taken over");
        assert_eq!((c.task.id, c.task.attempts, c.previous_node.as_deref()), (t.id, 2, Some("a")));
        // Node a comes back: its heartbeat and its result are refused.
        assert!(matches!(q.heartbeat(t.id, "a").await, Err(QueueError::Lost(_))));
        assert!(matches!(q.complete(t.id, "a", &json!("late")).await, Err(QueueError::Lost(_))));
        q.complete(t.id, "b", &json!("ok")).await.unwrap();
        assert_eq!(q.get(t.id).await.unwrap().unwrap().result, Some(json!("ok")));
    }
}

#[tokio::test]
async fn a_task_abandoned_too_often_is_failed_not_claimed_again() {
    let (catalogs, _dir) = catalogs().await;
    for cat in catalogs {
        let q = TaskQueue::open(&cat).await.unwrap();
        let (t, _) = q.enqueue(&backup_of("contoso")).await.unwrap();
        q.claim("a", STALE, 2).await.unwrap().unwrap();
        tokio::time::sleep(STALE + Duration::from_millis(100)).await;
        q.claim("b", STALE, 2).await.unwrap().unwrap();
        tokio::time::sleep(STALE + Duration::from_millis(100)).await;
        assert!(q.claim("c", STALE, 2).await.unwrap().is_none());
        let failed = q.get(t.id).await.unwrap().unwrap();
        assert_eq!(failed.status, TaskStatus::Failed);
        assert!(failed.error.as_deref().unwrap().contains("2 time(s)"), "{failed:?}");
        assert!(q.enqueue(&backup_of("contoso")).await.unwrap().1, "the organization can be queued again");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claimers_never_share_a_task() {
    let (catalogs, _dir) = catalogs().await;
    for cat in catalogs {
        let q = TaskQueue::open(&cat).await.unwrap();
        for i in 0..24 {
            q.enqueue(&NewTask { kind: "k".into(), payload: json!(i), dedup_key: None }).await.unwrap();
        }
        let mut nodes = Vec::new();
        for n in 0..4 {
            let q = q.clone();
            nodes.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                while let Some(c) = q.claim(&format!("n{n}"), Duration::from_secs(60), 3).await.unwrap() {
                    mine.push(c.task.id);
                }
                mine
            }));
        }
        let mut owners: HashMap<uuid::Uuid, usize> = HashMap::new();
        for n in nodes {
            for id in n.await.unwrap() {
                *owners.entry(id).or_default() += 1;
            }
        }
        assert_eq!(owners.len(), 24, "every task claimed");
        assert!(owners.values().all(|&n| n == 1), "no task claimed twice: {owners:?}");
    }
}

#[tokio::test]
async fn the_worker_records_results_and_drops_a_run_it_no_longer_owns() {
    let (catalogs, _dir) = catalogs().await;
    for cat in catalogs {
        let q = TaskQueue::open(&cat).await.unwrap();
        let (ok, _) = q.enqueue(&NewTask { kind: "ok".into(), payload: json!(1), dedup_key: None }).await.unwrap();
        let (bad, _) = q.enqueue(&NewTask { kind: "bad".into(), payload: json!(2), dedup_key: None }).await.unwrap();
        let (hang, _) = q.enqueue(&NewTask { kind: "hang".into(), payload: json!(3), dedup_key: None }).await.unwrap();
        let opts = WorkerOptions {
            poll: Duration::from_millis(20),
            heartbeat: Duration::from_millis(50),
            ..WorkerOptions::new("w1")
        };
        let dropped = Arc::new(AtomicBool::new(false));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let worker = {
            let (q, opts, dropped) = (q.clone(), opts.clone(), dropped.clone());
            tokio::spawn(async move {
                run_worker(&q, &opts, async { stop_rx.await.unwrap_or(()) }, move |c: ClaimedTask| {
                    let dropped = dropped.clone();
                    async move {
                        match c.task.kind.as_str() {
                            "ok" => Ok(json!({"doubled": c.task.payload.as_i64().unwrap() * 2})),
                            "bad" => anyhow::bail!("cannot do it"),
                            _ => {
                                // Runs until dropped; the guard records that it was.
                                struct Guard(Arc<AtomicBool>);
                                impl Drop for Guard {
                                    fn drop(&mut self) {
                                        self.0.store(true, Ordering::SeqCst);
                                    }
                                }
                                let _g = Guard(dropped);
                                std::future::pending::<()>().await;
                                unreachable!()
                            }
                        }
                    }
                })
                .await
            })
        };
        let wait_for = |id, status| {
            let q = q.clone();
            async move {
                for _ in 0..200 {
                    let t = q.get(id).await.unwrap().unwrap();
                    if t.status == status {
                        return t;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                panic!("task {id} never reached {status:?}");
            }
        };
        assert_eq!(wait_for(ok.id, TaskStatus::Done).await.result, Some(json!({"doubled": 2})));
        assert_eq!(wait_for(bad.id, TaskStatus::Failed).await.error.as_deref(), Some("cannot do it"));
        let running = wait_for(hang.id, TaskStatus::Running).await;
        assert_eq!(running.node.as_deref(), Some("w1"));
        // Another node takes the task (as after a stale heartbeat): the worker notices and drops its run.
        sqlx::query("UPDATE cluster_tasks SET node = 'w2' WHERE id = $1")
            .bind(hang.id.to_string())
            .execute(cat.pool())
            .await
            .unwrap();
        for _ in 0..100 {
            if dropped.load(Ordering::SeqCst) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(dropped.load(Ordering::SeqCst), "the lost run was dropped");
        assert_eq!(q.get(hang.id).await.unwrap().unwrap().node.as_deref(), Some("w2"));
        stop_tx.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), worker).await.unwrap().unwrap().unwrap();
    }
}
