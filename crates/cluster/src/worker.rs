//! [`run_worker`]: claim, heartbeat, run, record — until shut down.

use std::future::Future;
use std::time::Duration;

use crate::queue::{ClaimedTask, QueueError, TaskQueue};

/// How a node works the queue.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// This node's name, unique in the cluster (recorded as the task's owner).
    pub node: String,
    /// Pause between claim attempts while the queue is empty.
    pub poll: Duration,
    /// How often a running task's heartbeat is refreshed.
    pub heartbeat: Duration,
    /// A running task whose heartbeat is older than this is taken over. Must be several `heartbeat`s.
    pub stale_after: Duration,
    /// A task abandoned this many times is failed instead of claimed again.
    pub max_attempts: i64,
}

impl WorkerOptions {
    /// Defaults for `node`: poll 2 s, heartbeat 5 s, takeover after 60 s, 3 attempts.
    pub fn new(node: impl Into<String>) -> WorkerOptions {
        WorkerOptions {
            node: node.into(),
            poll: Duration::from_secs(2),
            heartbeat: Duration::from_secs(5),
            stale_after: Duration::from_secs(60),
            max_attempts: 3,
        }
    }
}

/// Works the queue until `shutdown` resolves: claims a task, runs `handler` on it while a heartbeat keeps the claim
/// alive, and records the handler's `Ok(result)` / `Err(error)`. If the claim is lost (this node was too slow to
/// heartbeat and another node took the task over), the handler's future is dropped — the task is the other node's
/// now. On shutdown a running handler is dropped too; its task is taken over once its heartbeat is stale.
///
/// Returns only on shutdown or on a database error outside a task (connection lost): the caller decides whether to
/// restart it.
pub async fn run_worker<H, Fut>(
    queue: &TaskQueue,
    options: &WorkerOptions,
    shutdown: impl Future<Output = ()>,
    mut handler: H,
) -> Result<(), QueueError>
where
    H: FnMut(ClaimedTask) -> Fut,
    Fut: Future<Output = anyhow::Result<serde_json::Value>>,
{
    tokio::pin!(shutdown);
    loop {
        let claimed = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            c = queue.claim(&options.node, options.stale_after, options.max_attempts) => c?,
        };
        let Some(claimed) = claimed else {
            tokio::select! {
                _ = &mut shutdown => return Ok(()),
                _ = tokio::time::sleep(options.poll) => continue,
            }
        };
        let id = claimed.task.id;
        match &claimed.previous_node {
            Some(prev) => tracing::warn!(
                "task {id} ({}): taken over from node {prev} (no heartbeat for {:?}), attempt {}",
                claimed.task.kind,
                options.stale_after,
                claimed.task.attempts
            ),
            None => tracing::info!("task {id} ({}): claimed", claimed.task.kind),
        }
        let work = handler(claimed);
        tokio::pin!(work);
        let mut ticker = tokio::time::interval(options.heartbeat);
        ticker.tick().await; // the first tick is immediate; the claim itself was the first heartbeat
        let outcome = loop {
            tokio::select! {
                _ = &mut shutdown => {
                    tracing::warn!("task {id}: shutting down mid-task; another node will take it over");
                    return Ok(());
                }
                r = &mut work => break Some(r),
                _ = ticker.tick() => match queue.heartbeat(id, &options.node).await {
                    Ok(()) => {}
                    Err(QueueError::Lost(_)) => break None,
                    // A failed heartbeat is not yet a lost claim: keep working, the next one may pass.
                    Err(e) => tracing::warn!("task {id}: heartbeat failed: {e}"),
                },
            }
        };
        let recorded = match outcome {
            None => {
                tracing::warn!("task {id}: taken over by another node; abandoning this run");
                continue;
            }
            Some(Ok(result)) => queue.complete(id, &options.node, &result).await,
            Some(Err(e)) => {
                tracing::warn!("task {id} failed: {e:#}");
                queue.fail(id, &options.node, &format!("{e:#}")).await
            }
        };
        match recorded {
            Ok(()) => tracing::info!("task {id}: finished"),
            Err(QueueError::Lost(_)) => tracing::warn!("task {id}: finished here, but another node owns it now"),
            Err(e) => return Err(e),
        }
    }
}
