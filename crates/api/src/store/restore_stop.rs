//! Stopping running restores: `POST …/stop` (v6+) and `…/Action {"stop": null}` (v2–v5) call `restore_jobs::stop`,
//! which marks the catalog and cancels this node's tokens through [`cancel_local`].
//!
//! What a Stop stops:
//! * on a **v8 restore operation** session (a background job): its job. The job finishes its session
//!   itself — `Stopped`, with the events and statistics of exactly the items it processed — so a client that sees
//!   `Stopped` reads final numbers; until then the session stays `Working`;
//! * on an **exploring** session: the session, every v8 job started from it, and every v2–v7 restore running in a
//!   request on it (that request then answers the era's "stopped session" error, see
//!   `ctx::working::stopped_restore_error`).
//!
//! # How a running restore learns it must stop
//! A running restore holds a [`StopWatch`]: a cancellation token that the engine checks before each item (the item
//! in progress finishes: nothing half-written stays visible, see `engine::restore`). The token is cancelled
//! * at once when the Stop reaches the node running the restore: [`AppState::running_restores`], a registry of
//!   tokens by session id;
//! * within [`POLL`] when the Stop reached another node (cluster): the watch reads the catalog — for a v8 job its row
//!   in `api_restore_jobs` turning [`JOB_STOPPING`], for a v2–v7 restore its exploring session
//!   turning `Stopped`. Both are values of existing columns, so no schema change was needed.

use std::sync::Arc;
use std::time::Duration;

use engine::restore::RestoreStats;
use sqlx::Row;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::state::AppState;
use crate::store::running_restores::RunningRestores;
use crate::store::sessions::SessionState;

/// How often a running restore reads the catalog for a Stop handled by another node.
pub const POLL: Duration = Duration::from_secs(1);

/// The `api_restore_jobs.state` of a job asked to stop (by a Stop on any node).
pub(crate) const JOB_STOPPING: &str = "Stopping";

/// What a [`StopWatch`] watches in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    /// A v8 job: its own session id; stopped when its row in `api_restore_jobs` is `Stopping`.
    Job,
    /// A v2–v7 restore running in its request: the exploring session's id; stopped when that session is `Stopped`.
    Request,
}

/// The stop signal of one running restore (see the module docs); unregisters itself when dropped.
pub struct StopWatch {
    token: CancellationToken,
    session: Uuid,
    id: u64,
    registry: Arc<RunningRestores>,
    poller: JoinHandle<()>,
}

impl StopWatch {
    /// The token to hand to the engine.
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// Whether a Stop arrived.
    pub fn is_stopped(&self) -> bool {
        self.token.is_cancelled()
    }
}

impl Drop for StopWatch {
    fn drop(&mut self) {
        self.poller.abort();
        self.registry.unregister(self.session, self.id);
    }
}

/// Starts watching for a Stop of `session` (`kind` says which session id that is).
pub fn watch(state: &AppState, session: Uuid, kind: Watch) -> StopWatch {
    let registry = state.running_restores.clone();
    let token = CancellationToken::new();
    let id = registry.register(session, token.clone());
    let poller = {
        let (state, token) = (state.clone(), token.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = token.cancelled() => return,
                    _ = tokio::time::sleep(POLL) => {}
                }
                match stop_requested(&state, session, kind).await {
                    Ok(true) => {
                        token.cancel();
                        return;
                    }
                    Ok(false) => {}
                    // A database hiccup is not a Stop; the next poll tries again.
                    Err(e) => tracing::warn!(session = %session, "restore stop watch: {e}"),
                }
            }
        })
    };
    StopWatch { token, session, id, registry, poller }
}

async fn stop_requested(state: &AppState, session: Uuid, kind: Watch) -> Result<bool, sqlx::Error> {
    let (sql, stopped) = match kind {
        Watch::Job => ("SELECT state FROM api_restore_jobs WHERE session_id = $1", JOB_STOPPING),
        Watch::Request => ("SELECT state FROM api_restore_sessions WHERE id = $1", SessionState::Stopped.as_str()),
    };
    let row = sqlx::query(sql).bind(session.to_string()).fetch_optional(state.pool()).await?;
    Ok(match row {
        Some(r) => r.try_get::<String, _>("state")? == stopped,
        None => false,
    })
}

/// Cancels, at once, the restores of this process running under these sessions (exploring sessions and jobs).
pub fn cancel_local(state: &AppState, sessions: impl IntoIterator<Item = Uuid>) {
    for session in sessions {
        state.running_restores.cancel(session);
    }
}

/// `"The restore was stopped by the user after N items (R restored, F failed, S skipped)."`
pub fn stopped_summary(stats: &RestoreStats) -> String {
    format!(
        "The restore was stopped by the user after {} items ({} restored, {} failed, {} skipped).",
        stats.items.len(),
        stats.restored,
        stats.failed,
        stats.skipped
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::restore::ItemStatus;

    #[test]
    fn summaries_count_items() {
        let mut s = RestoreStats::default();
        for status in [ItemStatus::Restored, ItemStatus::Restored, ItemStatus::Failed] {
            s.count(status);
            s.items.push(engine::restore::ItemOutcome {
                item_id: "x".into(),
                path: "a".into(),
                status,
                target_item_id: None,
                target_name: None,
                versions_written: 0,
                message: None,
                warnings: vec![],
            });
        }
        assert_eq!(
            stopped_summary(&s),
            "The restore was stopped by the user after 3 items (2 restored, 1 failed, 0 skipped)."
        );
    }
}
