//! The job scheduler: every node of a cluster (every `vault365 serve`) runs [`Scheduler::run`]; each tick turns the
//! jobs whose scheduled run is due ([`repo::catalog::Catalog::due_jobs`]) into backup tasks of the queue, which the
//! workers run.
//!
//! Exactly once: a node first moves the job's `next_run_at` from the due instant to the next one with a
//! compare-and-set ([`repo::catalog::Catalog::claim_scheduled_run`]); only the node whose update landed enqueues, so
//! however many nodes tick at once, a due run becomes one task. Runs missed while every node was down become one run:
//! the next instant is computed from now, not from the missed one. A run due while a backup of the organization is
//! queued or running joins it (the task's dedup key is the organization), so a job never runs twice at once.
//! A failed run is retried as the job's schedule says ([`Scheduler::schedule_retry`], called by the worker).

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use engine::job::JobSettings;
use repo::catalog::{Catalog, Job};
use serde_json::json;
use uuid::Uuid;

use crate::queue::{NewTask, TaskQueue};

/// The kind of a backup task; its payload is `{"organizationId": "…", "jobId": "…"}` (`jobId` may be absent: the
/// organization's first job).
pub const BACKUP_TASK: &str = "backup";

/// The backup task of `organization` (its job `job`, or its first): at most one is queued or running per
/// organization.
pub fn backup_task(organization: Uuid, job: Option<Uuid>) -> NewTask {
    let mut payload = json!({ "organizationId": organization });
    if let Some(job) = job {
        payload["jobId"] = json!(job);
    }
    NewTask { kind: BACKUP_TASK.into(), payload, dedup_key: Some(format!("backup:{organization}")) }
}

/// What one tick did with a due job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// The job.
    pub job: Uuid,
    /// The run's due instant.
    pub due: DateTime<Utc>,
    /// The task that runs it (an already queued or running backup of the organization when `joined`).
    pub task: Uuid,
    /// The organization had a backup queued or running: this run is that one.
    pub joined: bool,
}

/// Turns due scheduled runs into backup tasks (see the module docs).
#[derive(Clone)]
pub struct Scheduler {
    catalog: Catalog,
    queue: TaskQueue,
    time_zone: Tz,
}

impl Scheduler {
    /// A scheduler of the jobs of `catalog`, whose schedules are in `time_zone`.
    pub async fn open(catalog: &Catalog, time_zone: Tz) -> anyhow::Result<Scheduler> {
        Ok(Scheduler { catalog: catalog.clone(), queue: TaskQueue::open(catalog).await?, time_zone })
    }

    /// Claims and enqueues every run due at `now`; returns the runs this node started.
    pub async fn tick(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<Started>> {
        let mut started = Vec::new();
        for job in self.catalog.due_jobs(now).await? {
            let Some(due) = job.next_run_at else { continue };
            let next = match JobSettings::from_stored(&job.settings) {
                Ok(settings) => settings.schedule.next_after(now, self.time_zone),
                Err(e) => {
                    // Unscheduled rather than reported every tick; saving the job again schedules it.
                    tracing::error!(job = %job.id, "job {:?} has unreadable settings ({e}); its schedule is off", job.name);
                    None
                }
            };
            if !self.catalog.claim_scheduled_run(job.id, due, next).await? {
                continue; // another node claimed it
            }
            started.push(self.enqueue(&job, due).await?);
        }
        Ok(started)
    }

    async fn enqueue(&self, job: &Job, due: DateTime<Utc>) -> anyhow::Result<Started> {
        let (task, added) = self.queue.enqueue(&backup_task(job.organization_id, Some(job.id))).await?;
        if added {
            tracing::info!(job = %job.id, task = %task.id, "scheduled run of job {:?} due at {due} queued", job.name);
        } else {
            tracing::info!(job = %job.id, task = %task.id, "job {:?}: a backup of its organization is already queued or running; the run due at {due} joins it", job.name);
        }
        Ok(Started { job: job.id, due, task: task.id, joined: !added })
    }

    /// After a failed run of `job` at `now`: brings its next scheduled run forward to a retry `wait_minutes` later when
    /// its schedule retries and fewer than `number` runs in a row have failed (a success resets the count; a job run
    /// by hand only is not retried). Returns the retry's instant.
    pub async fn schedule_retry(&self, job: Uuid, now: DateTime<Utc>) -> anyhow::Result<Option<DateTime<Utc>>> {
        let Some(j) = self.catalog.job(job).await? else { return Ok(None) };
        let (Some(next), Ok(settings)) = (j.next_run_at, JobSettings::from_stored(&j.settings)) else {
            return Ok(None);
        };
        let retry = settings.retry;
        let failed_in_a_row = self
            .catalog
            .sessions(job)
            .await?
            .iter()
            .rev()
            .take_while(|s| s.status == repo::catalog::SessionStatus::Failed)
            .count();
        if !retry.enabled || failed_in_a_row == 0 || failed_in_a_row > retry.number as usize {
            return Ok(None);
        }
        let at = now + chrono::Duration::minutes(i64::from(retry.wait_minutes));
        if at >= next || !self.catalog.claim_scheduled_run(job, next, Some(at)).await? {
            return Ok(None); // the regular run comes first, or the job changed meanwhile
        }
        tracing::info!(job = %job, "run {failed_in_a_row} of {} failed; retry at {at}", retry.number);
        Ok(Some(at))
    }

    /// Ticks every `every` until `shutdown` (a failed tick is logged and the next one tries again).
    pub async fn run(self, every: Duration, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.tick(Utc::now()).await {
                tracing::warn!("scheduler: {e:#}");
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(every) => {}
            }
        }
    }
}
