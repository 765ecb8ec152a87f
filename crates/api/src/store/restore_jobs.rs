//! Restore jobs: restores that run in the background (v8 answers `{sessionId}` at once) and the per-item events
//! every restore leaves on its restore session.
//!
//! # Jobs
//! A v8 restore creates a *restore operation session* ([`start_operation`]: a child of the exploring session, same
//! owner, organization and point in time) and runs the work in a tokio task ([`spawn_job`]). Clients poll
//! `GET /RestoreSessions/{sessionId}` until `state` is `Stopped`, then read `…/Events` and `…/Statistics`:
//! * while running the session is `Working` and gains one `Restore` event per item as soon as the item is done
//!   (through the [`ItemSink`] handed to the work);
//! * at the end it is `Stopped` with the result `Success`, `Warning` (some items failed or lost sharing) or `Failed`
//!   (every item failed, or the restore could not run: then `details` says why and a `None` event carries it).
//!
//! # Stop
//! `POST …/stop` on the job's session (or on the exploring session it came from) marks the job's row `Stopping`
//! and cancels its [`crate::store::restore_stop::StopWatch`] (at once on this node, within a second from another node).
//! The engine starts no further item; the job then records the items it did process, a `None` event with status
//! `Cancelled` ("Restore stopped"), and ends the session `Stopped` with `details` saying it was stopped by the user.
//! The result is `Warning` — the vendor's v8 `RESTRestoreSession.result` knows only `Success`, `Warning` and
//! `Failed`, and a stopped restore did not do all it was asked — or `Failed` when every item it processed failed.
//!
//! The work is any `FnOnce(ItemSink) -> Future<Output = Result<RestoreStats, String>>`, so every product (OneDrive
//! here, SharePoint in `resources::sp_restore`) runs through the same machinery.
//!
//! # Restart safety
//! Each job has a row in `api_restore_jobs` (catalog database, portable SQL): the session, the server node (a
//! random id kept in `{data_dir}/node-id`, so it survives restarts), the process instance (random per start),
//! `Running`/`Stopping`/`Finished` and a heartbeat written every [`HEARTBEAT`] (node and instance:
//! [`AppState::node`]). Starting the server (`api::start`) runs [`recover`]: a job still `Running` (or `Stopping`) that belongs to an earlier instance of this
//! node, or whose heartbeat is older than [`STALE_AFTER`] (another node that died), is marked `Failed` with
//! [`INTERRUPTED_MESSAGE`], so no session stays "running" forever. A job that finds its row taken over (a heartbeat
//! or the final update touching no row) stops quietly and leaves the session as recovery left it.
//!
//! Credentials never reach this module: the work closure owns its signed-in client.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use engine::restore::{ItemOutcome, ItemStatus, RestoreStats};
use sqlx::Row;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::ctx::auth::CurrentUser;
use crate::state::AppState;
use crate::store::restore_stop::{self, StopWatch, Watch};
use crate::store::sessions::{self, NewEvent, NewSession, Outcome, RestoreSession};
use crate::store::StoreResult;

/// How often a running job proves it is alive.
pub const HEARTBEAT: StdDuration = StdDuration::from_secs(10);

/// A running job of another node whose heartbeat is older than this is taken for dead.
pub const STALE_AFTER: StdDuration = StdDuration::from_secs(120);

/// Why a job left running by a stopped server is failed.
pub const INTERRUPTED_MESSAGE: &str = "The restore was interrupted: the server stopped while it was running. Items \
    restored before that stay restored; start the restore again for the rest.";

const RUNNING: &str = "Running";
/// A running job asked to stop ([`request_stop`]); it is still running until its work has ended.
const STOPPING: &str = restore_stop::JOB_STOPPING;
const FINISHED: &str = "Finished";

fn micros_now() -> i64 {
    Utc::now().timestamp_micros()
}

/// Fails the jobs no process is running any more (see the module docs). Called once per start, before the server
/// answers any request.
pub async fn recover(state: &AppState) -> StoreResult<()> {
    let pool = state.pool();
    let reg = &state.node;
    let stale = micros_now() - stale_after_micros();
    let rows = sqlx::query(
        "SELECT session_id FROM api_restore_jobs
         WHERE state IN ($1, $5) AND instance <> $2 AND (node = $3 OR heartbeat < $4)",
    )
    .bind(RUNNING)
    .bind(&reg.instance)
    .bind(&reg.node)
    .bind(stale)
    .bind(STOPPING)
    .fetch_all(pool)
    .await?;
    for row in rows {
        let id: String = row.try_get("session_id")?;
        if let Ok(session) = Uuid::parse_str(&id) {
            fail_interrupted(state, session).await?;
        }
    }
    Ok(())
}

/// Fails the job of `session` as interrupted, unless another node claimed it first.
async fn fail_interrupted(state: &AppState, session: Uuid) -> StoreResult<()> {
    // Claim the row first, so two nodes do not both fail (and annotate) the same job.
    let claimed = sqlx::query(
        "UPDATE api_restore_jobs SET state = $1, ended_at = $2 WHERE session_id = $3 AND state IN ($4, $5)",
    )
    .bind(FINISHED)
    .bind(micros_now())
    .bind(session.to_string())
    .bind(RUNNING)
    .bind(STOPPING)
    .execute(state.pool())
    .await?
    .rows_affected();
    if claimed == 1 {
        tracing::warn!(session = %session, "restore job interrupted by a server stop; marked failed");
        sessions::record_event(state, session, interrupted_event()).await?;
        sessions::finish(state, session, Outcome::Failed, Some(INTERRUPTED_MESSAGE), true).await?;
    }
    Ok(())
}

/// Stops `session` and the restores running from it (`POST …/stop`, v2–v5 `…/Action {"stop": null}`): a running
/// job stops its own session when its work has ended (so a client that sees `Stopped` reads final statistics); any
/// other session stops now. Restores of this node are cancelled at once, those of other nodes within
/// [`restore_stop::POLL`]. Idempotent.
pub async fn stop(state: &AppState, session: &RestoreSession) -> StoreResult<()> {
    let jobs = request_stop(state, session.id).await?;
    restore_stop::cancel_local(state, std::iter::once(session.id).chain(jobs.iter().copied()));
    if !jobs.contains(&session.id) {
        sessions::stop(state, session.id).await?;
    }
    Ok(())
}

/// Asks the running jobs of `session` — its own job, and the jobs started from it when it is an exploring session —
/// to stop (their rows become `Stopping`; each job's [`StopWatch`] sees it). Returns the sessions of the jobs still
/// running. A job whose node stopped heart-beating (see [`STALE_AFTER`]) cannot stop itself; it is failed as
/// interrupted here instead.
async fn request_stop(state: &AppState, session: Uuid) -> StoreResult<Vec<Uuid>> {
    let pool = state.pool();
    const MINE: &str = "(session_id = $2 OR session_id IN (SELECT id FROM api_restore_sessions WHERE parent_id = $2))";
    sqlx::query(&format!("UPDATE api_restore_jobs SET state = $1 WHERE state = $3 AND {MINE}"))
        .bind(STOPPING)
        .bind(session.to_string())
        .bind(RUNNING)
        .execute(pool)
        .await?;
    let rows = sqlx::query(&format!("SELECT session_id, heartbeat FROM api_restore_jobs WHERE state = $1 AND {MINE}"))
        .bind(STOPPING)
        .bind(session.to_string())
        .fetch_all(pool)
        .await?;
    let stale = micros_now() - stale_after_micros();
    let mut running = Vec::with_capacity(rows.len());
    for row in rows {
        let Ok(id) = Uuid::parse_str(&row.try_get::<String, _>("session_id")?) else { continue };
        if row.try_get::<i64, _>("heartbeat")? < stale {
            fail_interrupted(state, id).await?;
        } else {
            running.push(id);
        }
    }
    Ok(running)
}

fn stale_after_micros() -> i64 {
    Duration::from_std(STALE_AFTER).unwrap_or(Duration::zero()).num_microseconds().unwrap_or(0)
}

fn interrupted_event() -> NewEvent {
    NewEvent {
        kind: "None".into(),
        status: Some(Outcome::Failed),
        title: "Restore interrupted".into(),
        message: INTERRUPTED_MESSAGE.into(),
        ..NewEvent::default()
    }
}

/// Creates the restore operation session of a v8 restore started from the exploring session `parent`.
pub async fn start_operation(
    state: &AppState,
    user: &CurrentUser,
    parent: &RestoreSession,
) -> StoreResult<RestoreSession> {
    sessions::create(
        state,
        NewSession {
            owner: user.clone(),
            organization_id: parent.organization_id,
            kind: parent.kind,
            requested_at: parent.requested_at,
            restore_point_id: parent.restore_point_id,
            browse_at: parent.browse_at,
            show_deleted: parent.show_deleted,
            show_all_versions: parent.show_all_versions,
            name: Some(format!("{} (restore operation)", parent.name)),
            parent_id: Some(parent.id),
            reason: parent.reason.clone(),
        },
    )
    .await
}

/// Where a running job reports items as they complete (each becomes a `Restore` event at once).
#[derive(Clone)]
pub struct ItemSink {
    tx: mpsc::UnboundedSender<ItemOutcome>,
    stop: CancellationToken,
}

impl ItemSink {
    /// Cancelled when the job is stopped: hand it to the engine, which then starts no further item.
    pub fn stop_token(&self) -> &CancellationToken {
        &self.stop
    }

    /// Whether the job was stopped.
    pub fn is_stopped(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// Resolves when the job is stopped (to give up waiting, e.g. for a device-code approval).
    pub async fn stopped(&self) {
        self.stop.cancelled().await
    }

    /// Reports one item.
    pub fn item(&self, outcome: &ItemOutcome) {
        // The recorder only goes away when the job has ended; nothing is lost before that.
        let _ = self.tx.send(outcome.clone());
    }

    /// An observer for [`engine::restore::restore_onedrive_observed`].
    pub fn observer(&self) -> impl Fn(&ItemOutcome) + Send + Sync + '_ {
        move |o| self.item(o)
    }
}

/// Runs `work` in the background for the restore operation session `session_id` of `user` (made by
/// [`start_operation`]) and returns at once. Items reported to the [`ItemSink`] become events while the job runs;
/// items of the final [`RestoreStats`] beyond those reported are recorded at the end (a work that never uses the
/// sink gets all its events then). `Err(message)` fails the session with that message.
pub async fn spawn_job<F, Fut>(state: &AppState, session_id: Uuid, user: &CurrentUser, work: F) -> StoreResult<()>
where
    F: FnOnce(ItemSink) -> Fut + Send + 'static,
    Fut: Future<Output = Result<RestoreStats, String>> + Send + 'static,
{
    // Only the owner may run work on a session.
    let session = sessions::find(state, user, &session_id.to_string()).await?;
    let reg = &state.node;
    let pool = state.pool();
    let now = micros_now();
    sqlx::query(
        "INSERT INTO api_restore_jobs (session_id, node, instance, state, started_at, heartbeat, ended_at)
         VALUES ($1, $2, $3, $4, $5, $6, NULL)",
    )
    .bind(session.id.to_string())
    .bind(&reg.node)
    .bind(&reg.instance)
    .bind(RUNNING)
    .bind(now)
    .bind(now)
    .execute(pool)
    .await?;
    let watch = restore_stop::watch(state, session.id, Watch::Job);
    let state = state.clone();
    tokio::spawn(async move { supervise(state, session.id, watch, work).await });
    Ok(())
}

/// Runs the work beside a heartbeat and an event recorder, then finishes the session.
async fn supervise<F, Fut>(state: AppState, session: Uuid, watch: StopWatch, work: F)
where
    F: FnOnce(ItemSink) -> Fut + Send + 'static,
    Fut: Future<Output = Result<RestoreStats, String>> + Send + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<ItemOutcome>();
    // Set when the job row was taken over: the work is stopped and the session left alone.
    let lost = Arc::new(AtomicBool::new(false));
    let recorder = {
        let (state, lost) = (state.clone(), lost.clone());
        tokio::spawn(async move {
            let mut recorded = 0usize;
            while let Some(item) = rx.recv().await {
                if lost.load(Ordering::Relaxed) {
                    continue;
                }
                if let Err(e) = sessions::add_event(&state, session, item_event(&item)).await {
                    tracing::warn!(session = %session, "restore job: recording an event failed: {e}");
                }
                recorded += 1;
            }
            recorded
        })
    };
    let mut task = tokio::spawn(work(ItemSink { tx, stop: watch.token().clone() }));
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.tick().await; // the first tick is immediate
    let result = loop {
        tokio::select! {
            r = &mut task => break r,
            _ = tick.tick() => {
                if !heartbeat(&state, session).await {
                    lost.store(true, Ordering::Relaxed);
                    task.abort();
                }
            }
        }
    };
    // The work's sink is gone with the task, so the recorder ends after the last reported item.
    let recorded = recorder.await.unwrap_or(0);
    // Read once the work has ended: a Stop that came later changes nothing.
    let stopped = watch.is_stopped();
    drop(watch);
    if lost.load(Ordering::Relaxed) {
        tracing::warn!(session = %session, "restore job taken over by recovery; its results are discarded");
        return;
    }
    let outcome = match result {
        Ok(r) => r,
        Err(e) if e.is_panic() => Err("The restore stopped on an internal error.".to_string()),
        Err(_) => Err("The restore was cancelled.".to_string()),
    };
    if let Err(e) = finish(&state, session, outcome, recorded, stopped).await {
        tracing::warn!(session = %session, "restore job: finishing the session failed: {e}");
    }
}

/// Refreshes the heartbeat; `false` when the row is no longer this instance's running job.
async fn heartbeat(state: &AppState, session: Uuid) -> bool {
    let r = sqlx::query(
        "UPDATE api_restore_jobs SET heartbeat = $1 WHERE session_id = $2 AND instance = $3 AND state IN ($4, $5)",
    )
    .bind(micros_now())
    .bind(session.to_string())
    .bind(&state.node.instance)
    .bind(RUNNING)
    .bind(STOPPING)
    .execute(state.pool())
    .await;
    match r {
        Ok(done) => done.rows_affected() == 1,
        // A database hiccup is not a takeover; the next beat tries again.
        Err(e) => {
            tracing::warn!(session = %session, "restore job heartbeat failed: {e}");
            true
        }
    }
}

/// Writes the outcome to the session, then marks the job finished: if the database fails half-way, the row stays
/// `Running` and a later [`recover`] fails the session instead of leaving it `Working` for ever.
async fn finish(
    state: &AppState,
    session: Uuid,
    outcome: Result<RestoreStats, String>,
    recorded: usize,
    stopped: bool,
) -> StoreResult<()> {
    let ours = sqlx::query(
        "SELECT session_id FROM api_restore_jobs WHERE session_id = $1 AND instance = $2 AND state IN ($3, $4)",
    )
    .bind(session.to_string())
    .bind(&state.node.instance)
    .bind(RUNNING)
    .bind(STOPPING)
    .fetch_optional(state.pool())
    .await?
    .is_some();
    if !ours {
        return Ok(());
    }
    match outcome {
        Ok(stats) => {
            for item in stats.items.iter().skip(recorded) {
                sessions::add_event(state, session, item_event(item)).await?;
            }
            if stopped {
                let summary = restore_stop::stopped_summary(&stats);
                sessions::add_event(state, session, stopped_event(&summary)).await?;
                sessions::finish(state, session, result_of_stopped(&stats), Some(&summary), true).await?;
            } else {
                sessions::finish(state, session, result_of(&stats), None, true).await?;
            }
        }
        Err(message) => {
            let ev = NewEvent {
                kind: "None".into(),
                status: Some(Outcome::Failed),
                title: "Restore failed".into(),
                message: message.clone(),
                ..NewEvent::default()
            };
            sessions::add_event(state, session, ev).await?;
            sessions::finish(state, session, Outcome::Failed, Some(&message), true).await?;
        }
    }
    sqlx::query("UPDATE api_restore_jobs SET state = $1, ended_at = $2 WHERE session_id = $3 AND instance = $4")
        .bind(FINISHED)
        .bind(micros_now())
        .bind(session.to_string())
        .bind(&state.node.instance)
        .execute(state.pool())
        .await?;
    Ok(())
}

/// The session result of a completed restore: `Failed` when nothing but failures happened, `Warning` when some
/// item failed or lost its sharing, `Success` otherwise.
pub fn result_of(stats: &RestoreStats) -> Outcome {
    if stats.failed > 0 && stats.restored == 0 && stats.skipped == 0 {
        Outcome::Failed
    } else if stats.failed > 0 || stats.permissions_failed > 0 {
        Outcome::Warning
    } else {
        Outcome::Success
    }
}

/// The session result of a stopped restore: never `Success` (it did not do all it was asked), `Failed` when every
/// item it processed failed.
pub fn result_of_stopped(stats: &RestoreStats) -> Outcome {
    match result_of(stats) {
        Outcome::Failed => Outcome::Failed,
        _ => Outcome::Warning,
    }
}

fn stopped_event(summary: &str) -> NewEvent {
    NewEvent {
        kind: "None".into(),
        status: Some(Outcome::Cancelled),
        title: "Restore stopped".into(),
        message: summary.into(),
        ..NewEvent::default()
    }
}

/// The `Restore` event of one item.
pub fn item_event(item: &ItemOutcome) -> NewEvent {
    let name = item.path.rsplit('/').next().unwrap_or(&item.path).to_string();
    let (status, title) = match item.status {
        ItemStatus::Restored if item.warnings.is_empty() => (Outcome::Success, "Item is successfully restored"),
        ItemStatus::Restored => (Outcome::Warning, "Item is restored with warnings"),
        ItemStatus::Failed => (Outcome::Failed, "Item restore failed"),
        ItemStatus::Skipped => (Outcome::Skipped, "Item is skipped"),
    };
    let mut message = match (&item.message, item.status) {
        (Some(m), _) => format!("{}: {m}", item.path),
        (None, _) => item.path.clone(),
    };
    if !item.warnings.is_empty() {
        message = format!("{message} ({})", item.warnings.join("; "));
    }
    NewEvent {
        kind: "Restore".into(),
        status: Some(status),
        title: title.into(),
        message,
        item_name: Some(name),
        source: Some(item.path.clone()),
        target: item.target_name.clone(),
        ..NewEvent::default()
    }
}

/// Records the events of a restore that ran in the request (v2–v7) on the session it ran from.
pub async fn record_items(state: &AppState, session: Uuid, stats: &RestoreStats) -> StoreResult<()> {
    for item in &stats.items {
        sessions::add_event(state, session, item_event(item)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(status: ItemStatus, warnings: Vec<String>) -> ItemOutcome {
        ItemOutcome {
            item_id: "01ABC".into(),
            path: "Docs/a.txt".into(),
            status,
            target_item_id: None,
            target_name: Some("a.txt".into()),
            versions_written: 1,
            message: None,
            warnings,
        }
    }

    #[test]
    fn item_events() {
        let e = item_event(&item(ItemStatus::Restored, vec![]));
        assert_eq!(
            (e.kind.as_str(), e.status, e.item_name.as_deref()),
            ("Restore", Some(Outcome::Success), Some("a.txt"))
        );
        let e = item_event(&item(ItemStatus::Restored, vec!["owner not re-granted".into()]));
        assert_eq!(e.status, Some(Outcome::Warning));
        assert!(e.message.contains("owner not re-granted"));
        let mut f = item(ItemStatus::Failed, vec![]);
        f.message = Some("boom".into());
        let e = item_event(&f);
        assert_eq!((e.status, e.message.as_str()), (Some(Outcome::Failed), "Docs/a.txt: boom"));
        assert_eq!(item_event(&item(ItemStatus::Skipped, vec![])).status, Some(Outcome::Skipped));
    }

    #[test]
    fn results() {
        let mut s = RestoreStats::default();
        assert_eq!(result_of(&s), Outcome::Success);
        s.failed = 1;
        assert_eq!(result_of(&s), Outcome::Failed);
        s.restored = 2;
        assert_eq!(result_of(&s), Outcome::Warning);
        s.failed = 0;
        s.permissions_failed = 1;
        assert_eq!(result_of(&s), Outcome::Warning);
        // Stopped: never a success; a failure only when every processed item failed.
        assert_eq!(result_of_stopped(&RestoreStats::default()), Outcome::Warning);
        assert_eq!(result_of_stopped(&s), Outcome::Warning);
        let failed = RestoreStats { failed: 2, ..RestoreStats::default() };
        assert_eq!(result_of_stopped(&failed), Outcome::Failed);
    }
}
