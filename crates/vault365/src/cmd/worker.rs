//! Cluster work: `vault365 worker` (or `serve --worker`) runs backup tasks from the queue in the catalog database;
//! `vault365 backup --enqueue` and `vault365 task` put work there and look at it. See `cluster` for the protocol.

use std::time::Duration;

use anyhow::{bail, Context};
use cluster::{ClaimedTask, Task, TaskQueue, WorkerOptions, BACKUP_TASK};
use repo::catalog::{Backend, Catalog, LogLevel, SessionStatus};
use repo::store::Repository;
use serde_json::json;
use uuid::Uuid;

use crate::config::Config;
use crate::setup;

/// Worker settings from the command line.
#[derive(Debug, Clone)]
pub struct WorkerArgs {
    /// Node name (default: host name + process id).
    pub node: Option<String>,
    /// Take over a task whose node sent no heartbeat for this long.
    pub stale_after: Duration,
    /// Items processed in parallel by one backup.
    pub concurrency: usize,
}

fn default_node_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
    let host = if host.is_empty() { "node".to_string() } else { host };
    format!("{host}-{}", std::process::id())
}

/// Worker options checked against the engine's session heartbeat: a takeover delay shorter than a few session
/// heartbeats would fail live sessions of other nodes.
pub fn worker_options(args: &WorkerArgs) -> anyhow::Result<WorkerOptions> {
    let min = engine::SESSION_HEARTBEAT * 3;
    if args.stale_after < min {
        bail!("--stale-after must be at least {}s (three session heartbeats)", min.as_secs());
    }
    let node = args.node.clone().unwrap_or_else(default_node_name);
    Ok(WorkerOptions {
        heartbeat: (args.stale_after / 4).min(Duration::from_secs(5)),
        stale_after: args.stale_after,
        poll: Duration::from_secs(1),
        ..WorkerOptions::new(node)
    })
}

/// `vault365 worker`: works the queue until SIGTERM / Ctrl-C.
pub async fn run(cfg: &Config, args: &WorkerArgs) -> anyhow::Result<()> {
    let catalog = setup::catalog(cfg).await?;
    let repo = setup::repository(cfg).await?;
    let options = worker_options(args)?;
    println!("worker {} ready (takeover after {}s)", options.node, options.stale_after.as_secs());
    work(cfg, catalog, repo, options, args.concurrency, crate::shutdown::signal()).await
}

/// The worker loop with the backup handler, until `shutdown`.
pub async fn work(
    cfg: &Config,
    catalog: Catalog,
    repo: Repository,
    options: WorkerOptions,
    concurrency: usize,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    if catalog.backend() == Backend::Sqlite {
        tracing::warn!("the catalog is SQLite: a worker then only shares work with processes on this machine");
    }
    let queue = TaskQueue::open(&catalog).await?;
    let stale_after = options.stale_after;
    cluster::run_worker(&queue, &options, shutdown, |claimed: ClaimedTask| {
        let (cfg, catalog, repo) = (cfg.clone(), catalog.clone(), repo.clone());
        async move {
            match claimed.task.kind.as_str() {
                BACKUP_TASK => backup_task(&cfg, catalog, repo, &claimed, stale_after, concurrency).await,
                other => bail!("unknown task kind {other:?}"),
            }
        }
    })
    .await?;
    Ok(())
}

async fn backup_task(
    cfg: &Config,
    catalog: Catalog,
    repo: Repository,
    claimed: &ClaimedTask,
    stale_after: Duration,
    concurrency: usize,
) -> anyhow::Result<serde_json::Value> {
    let org_id: Uuid = claimed.task.payload["organizationId"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .context("backup task without a valid organizationId")?;
    let org = catalog.organization(org_id).await?.with_context(|| format!("organization {org_id} not found"))?;
    // A scheduled or started run names its job; `backup --enqueue` runs the organization's default job.
    let named = claimed.task.payload["jobId"].as_str().and_then(|s| s.parse::<Uuid>().ok());
    let job = match named {
        Some(id) => catalog
            .job(id)
            .await?
            .filter(|j| j.organization_id == org.id)
            .with_context(|| format!("job {id} of organization {} not found (removed?)", org.name))?,
        None => setup::job_of(&catalog, &org, None).await?,
    };
    // Sessions of nodes that died are still "running": fail them (their staged delta links are dropped, so this
    // run resumes from the last completed backup and re-uses what they stored). Live sessions refresh their
    // heartbeat every SESSION_HEARTBEAT, so the cutoff spares them.
    let cutoff = chrono::Utc::now() - chrono::Duration::from_std(stale_after)?;
    for s in catalog.fail_stale_sessions(cutoff).await? {
        tracing::warn!("backup session {s} was interrupted on another node; marked failed");
    }
    if let Some(prev) = &claimed.previous_node {
        // Taken over: the dead node's session may have heartbeated after its last task heartbeat, so the cutoff
        // above can miss it. This node owns the organization's only backup task (dedup key), so the
        // organization's running session, of whichever job, is that dead run.
        let running = match catalog.running_session(job.id).await? {
            Some(r) => catalog.session(r.id).await?,
            None => None,
        };
        if let Some(s) = running.filter(|s| s.status == SessionStatus::Running) {
            catalog.log(s.id, LogLevel::Error, &format!("node {prev} stopped; the task was taken over"), None).await?;
            match catalog.finish_session(s.id, SessionStatus::Failed, &s.counters, None).await {
                Ok(_) => tracing::warn!("backup session {} of node {prev} marked failed", s.id),
                // It finished or was failed in the meantime: nothing left to do.
                Err(repo::catalog::CatalogError::InvalidState(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    // Packs other nodes stored since this node opened the repository (e.g. by the dead node before its last
    // checkpoint) are then deduplicated against instead of stored again.
    repo.refresh_index().await?;
    let ctx = setup::backup_context(cfg, &catalog, &repo, (&org, &job), concurrency)?;
    let report = match engine::run_backup(&ctx).await {
        Ok(report) => report,
        Err(e) => {
            // A job's run (scheduled, or started for the job) is retried as its schedule says.
            if named.is_some() {
                retry_later(cfg, &ctx.catalog, job.id).await;
            }
            return Err(e);
        }
    };
    Ok(json!({
        "organization": org.name,
        "sessionId": report.session_id,
        "status": format!("{:?}", report.status),
        "restorePointId": report.restore_point.as_ref().map(|r| r.id),
        "items": report.items,
        "bytesRead": report.bytes_read,
        "bytesStored": report.bytes_stored,
        "warnings": report.warnings,
    }))
}

/// Brings the job's next run forward to its retry, if its schedule retries (a failure here is only logged: the run's
/// own failure is what the task reports).
async fn retry_later(cfg: &Config, catalog: &Catalog, job: Uuid) {
    let retried = async {
        let tz = cfg.api.schedule_time_zone().map_err(anyhow::Error::msg)?;
        cluster::Scheduler::open(catalog, tz).await?.schedule_retry(job, chrono::Utc::now()).await
    };
    if let Err(e) = retried.await {
        tracing::warn!(job = %job, "could not schedule a retry: {e:#}");
    }
}

/// `vault365 backup --org NAME [--job JOB] --enqueue`: queues a backup for whichever worker is free (or returns the one
/// already queued or running for that organization).
pub async fn enqueue_backup(cfg: &Config, org_name: &str, job: Option<&str>) -> anyhow::Result<()> {
    let catalog = setup::catalog(cfg).await?;
    let org = setup::organization(&catalog, org_name).await?;
    let job = setup::job_of(&catalog, &org, job).await?;
    let queue = TaskQueue::open(&catalog).await?;
    let (task, added) = queue.enqueue(&cluster::backup_task(org.id, Some(job.id))).await?;
    println!("{} task={} org={}", if added { "queued" } else { "already-queued" }, task.id, org.name);
    Ok(())
}

fn describe(t: &Task) -> String {
    format!(
        "task={} kind={} status={} node={} attempts={} result={} error={}",
        t.id,
        t.kind,
        t.status.as_str(),
        t.node.as_deref().unwrap_or("-"),
        t.attempts,
        t.result.as_ref().map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
        t.error.as_deref().unwrap_or("-")
    )
}

/// `vault365 task show ID`.
pub async fn show(cfg: &Config, id: &str) -> anyhow::Result<()> {
    let id: Uuid = id.parse().with_context(|| format!("{id:?} is not a task id"))?;
    let catalog = setup::catalog(cfg).await?;
    let queue = TaskQueue::open(&catalog).await?;
    let task = queue.get(id).await?.with_context(|| format!("no task {id}"))?;
    println!("{}", describe(&task));
    Ok(())
}

/// `vault365 task list`: queued and running tasks.
pub async fn list(cfg: &Config) -> anyhow::Result<()> {
    let catalog = setup::catalog(cfg).await?;
    let queue = TaskQueue::open(&catalog).await?;
    for t in queue.active().await? {
        println!("{}", describe(&t));
    }
    Ok(())
}
