//! [`TaskQueue`]: the `cluster_tasks` table and its claim / heartbeat / completion protocol.

use std::time::Duration;

use chrono::{DateTime, Utc};
use repo::catalog::{Backend, Catalog};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Row, Transaction};
use uuid::Uuid;

/// Errors of the queue.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The database reported an error (connection, I/O, SQL).
    #[error("task queue database error: {0}")]
    Database(#[from] sqlx::Error),
    /// This node no longer owns the task: another node took it over (our heartbeat was stale) or it was finished.
    #[error("task {0} is no longer owned by this node (taken over or finished)")]
    Lost(Uuid),
    /// A row cannot be interpreted (bad id, unknown status, bad JSON).
    #[error("corrupt task row: {0}")]
    Corrupt(String),
}

/// Result type of the queue.
pub type Result<T, E = QueueError> = std::result::Result<T, E>;

/// Life cycle of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    /// Waiting for a worker.
    Queued,
    /// Claimed by a node (which refreshes `heartbeat_at`).
    Running,
    /// Finished successfully (`result` set).
    Done,
    /// Finished with an error, or abandoned too often (`error` set).
    Failed,
}

impl TaskStatus {
    /// The stored label.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Queued => "queued",
            TaskStatus::Running => "running",
            TaskStatus::Done => "done",
            TaskStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<TaskStatus> {
        Ok(match s {
            "queued" => TaskStatus::Queued,
            "running" => TaskStatus::Running,
            "done" => TaskStatus::Done,
            "failed" => TaskStatus::Failed,
            other => return Err(QueueError::Corrupt(format!("unknown task status {other:?}"))),
        })
    }
}

/// A task to enqueue.
#[derive(Debug, Clone)]
pub struct NewTask {
    /// What to do, e.g. `"backup"`; the worker's handler dispatches on it.
    pub kind: String,
    /// Parameters for the handler.
    pub payload: serde_json::Value,
    /// While a queued or running task has this key, [`TaskQueue::enqueue`] returns it instead of adding another.
    pub dedup_key: Option<String>,
}

/// A stored task.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Id.
    pub id: Uuid,
    /// What to do.
    pub kind: String,
    /// Parameters.
    pub payload: serde_json::Value,
    /// Current status.
    pub status: TaskStatus,
    /// The node that claimed it last (`None` while never claimed).
    pub node: Option<String>,
    /// How many times it was claimed (1 = first run, 2 = taken over once, ...).
    pub attempts: i64,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// Last heartbeat of the claiming node.
    pub heartbeat_at: Option<DateTime<Utc>>,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// The handler's result (`Done`).
    pub result: Option<serde_json::Value>,
    /// The error (`Failed`).
    pub error: Option<String>,
}

/// A task this node has just claimed.
#[derive(Debug, Clone)]
pub struct ClaimedTask {
    /// The task as it is now (status `Running`, `node` = this node).
    pub task: Task,
    /// Set when the task was taken over from a node whose heartbeat went stale.
    pub previous_node: Option<String>,
}

/// The queue on the catalog database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct TaskQueue {
    pool: AnyPool,
    backend: Backend,
}

const COLS: &str = "id, kind, payload, status, node, attempts, created_at, heartbeat_at, finished_at, result, error";

/// Stored instants are Unix microseconds, like the catalog's.
fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn from_micros(us: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(us).ok_or_else(|| QueueError::Corrupt(format!("timestamp {us} out of range")))
}

fn task_from_row(row: &AnyRow) -> Result<Task> {
    let id: String = row.try_get("id")?;
    let json = |s: String| serde_json::from_str(&s).map_err(|e| QueueError::Corrupt(format!("task {id}: {e}")));
    Ok(Task {
        id: Uuid::parse_str(&id).map_err(|_| QueueError::Corrupt(format!("task id {id:?}")))?,
        kind: row.try_get("kind")?,
        payload: json(row.try_get("payload")?)?,
        status: TaskStatus::parse(&row.try_get::<String, _>("status")?)?,
        node: row.try_get("node")?,
        attempts: row.try_get("attempts")?,
        created_at: from_micros(row.try_get("created_at")?)?,
        heartbeat_at: row.try_get::<Option<i64>, _>("heartbeat_at")?.map(from_micros).transpose()?,
        finished_at: row.try_get::<Option<i64>, _>("finished_at")?.map(from_micros).transpose()?,
        result: row.try_get::<Option<String>, _>("result")?.map(json).transpose()?,
        error: row.try_get("error")?,
    })
}

impl TaskQueue {
    /// The queue on `catalog`'s database (its table is part of the catalog's versioned schema, migration V6).
    pub async fn open(catalog: &Catalog) -> Result<TaskQueue> {
        Ok(TaskQueue { pool: catalog.pool().clone(), backend: catalog.backend() })
    }

    /// A write transaction; on SQLite it takes the write lock up front (see `Catalog`).
    async fn tx(&self) -> Result<Transaction<'static, Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Adds a task, or returns the queued/running task that already has the same `dedup_key`.
    /// The boolean is `true` when a new task was added.
    pub async fn enqueue(&self, new: &NewTask) -> Result<(Task, bool)> {
        let id = Uuid::new_v4();
        let mut tx = self.tx().await?;
        // ON CONFLICT DO NOTHING on the unique dedup_key: concurrent enqueuers on several nodes agree on one task.
        let inserted = sqlx::query(
            "INSERT INTO cluster_tasks (id, kind, payload, dedup_key, status, attempts, created_at) \
             VALUES ($1, $2, $3, $4, $5, 0, $6) ON CONFLICT DO NOTHING",
        )
        .bind(id.to_string())
        .bind(&new.kind)
        .bind(new.payload.to_string())
        .bind(new.dedup_key.as_deref())
        .bind(TaskStatus::Queued.as_str())
        .bind(micros(Utc::now()))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        let row = if inserted {
            sqlx::query(&format!("SELECT {COLS} FROM cluster_tasks WHERE id = $1"))
                .bind(id.to_string())
                .fetch_one(&mut *tx)
                .await?
        } else {
            sqlx::query(&format!("SELECT {COLS} FROM cluster_tasks WHERE dedup_key = $1"))
                .bind(new.dedup_key.as_deref())
                .fetch_one(&mut *tx)
                .await?
        };
        tx.commit().await?;
        Ok((task_from_row(&row)?, inserted))
    }

    /// The task with `id`, if any.
    pub async fn get(&self, id: Uuid) -> Result<Option<Task>> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM cluster_tasks WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(task_from_row).transpose()
    }

    /// Tasks not finished yet (queued or running), oldest first.
    pub async fn active(&self) -> Result<Vec<Task>> {
        let rows =
            sqlx::query(&format!("SELECT {COLS} FROM cluster_tasks WHERE status IN ($1, $2) ORDER BY created_at, id"))
                .bind(TaskStatus::Queued.as_str())
                .bind(TaskStatus::Running.as_str())
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(task_from_row).collect()
    }

    /// Claims the oldest queued task, or a running one whose heartbeat is older than `stale_after` (takeover), for
    /// `node`. Running tasks already claimed `max_attempts` times and stale are failed instead. `None`: no work.
    pub async fn claim(&self, node: &str, stale_after: Duration, max_attempts: i64) -> Result<Option<ClaimedTask>> {
        let now = Utc::now();
        let stale_before = micros(now) - i64::try_from(stale_after.as_micros()).unwrap_or(i64::MAX);
        let mut tx = self.tx().await?;
        // Give up on tasks that keep killing (or losing) their workers.
        sqlx::query(
            "UPDATE cluster_tasks SET status = $1, finished_at = $2, dedup_key = NULL, \
             error = 'abandoned: its node stopped sending heartbeats ' || CAST(attempts AS TEXT) || ' time(s)' \
             WHERE status = $3 AND heartbeat_at < $4 AND attempts >= $5",
        )
        .bind(TaskStatus::Failed.as_str())
        .bind(micros(now))
        .bind(TaskStatus::Running.as_str())
        .bind(stale_before)
        .bind(max_attempts)
        .execute(&mut *tx)
        .await?;
        // SKIP LOCKED: a row another node is claiming right now is passed over, not waited for.
        let lock = if self.backend == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let candidate = sqlx::query(&format!(
            "SELECT id, node FROM cluster_tasks WHERE status = $1 OR (status = $2 AND heartbeat_at < $3) \
             ORDER BY created_at, id LIMIT 1{lock}"
        ))
        .bind(TaskStatus::Queued.as_str())
        .bind(TaskStatus::Running.as_str())
        .bind(stale_before)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(candidate) = candidate else {
            tx.commit().await?;
            return Ok(None);
        };
        let id: String = candidate.try_get("id")?;
        let previous_node: Option<String> = candidate.try_get("node")?;
        sqlx::query(
            "UPDATE cluster_tasks SET status = $2, node = $3, attempts = attempts + 1, claimed_at = $4, \
             heartbeat_at = $4 WHERE id = $1",
        )
        .bind(&id)
        .bind(TaskStatus::Running.as_str())
        .bind(node)
        .bind(micros(now))
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(&format!("SELECT {COLS} FROM cluster_tasks WHERE id = $1"))
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(ClaimedTask { task: task_from_row(&row)?, previous_node }))
    }

    /// Refreshes the heartbeat of a task `node` runs. [`QueueError::Lost`] when the node no longer owns it.
    pub async fn heartbeat(&self, id: Uuid, node: &str) -> Result<()> {
        let touched =
            sqlx::query("UPDATE cluster_tasks SET heartbeat_at = $3 WHERE id = $1 AND node = $2 AND status = $4")
                .bind(id.to_string())
                .bind(node)
                .bind(micros(Utc::now()))
                .bind(TaskStatus::Running.as_str())
                .execute(&self.pool)
                .await?;
        if touched.rows_affected() == 0 {
            return Err(QueueError::Lost(id));
        }
        Ok(())
    }

    /// Records success. [`QueueError::Lost`] when `node` no longer owns the task (its result is then dropped: the
    /// node that took over produces its own).
    pub async fn complete(&self, id: Uuid, node: &str, result: &serde_json::Value) -> Result<()> {
        self.finish(id, node, TaskStatus::Done, Some(result.to_string()), None).await
    }

    /// Records failure (the task is not retried). [`QueueError::Lost`] as for [`TaskQueue::complete`].
    pub async fn fail(&self, id: Uuid, node: &str, error: &str) -> Result<()> {
        self.finish(id, node, TaskStatus::Failed, None, Some(error)).await
    }

    async fn finish(
        &self,
        id: Uuid,
        node: &str,
        status: TaskStatus,
        result: Option<String>,
        error: Option<&str>,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE cluster_tasks SET status = $3, finished_at = $4, result = $5, error = $6, dedup_key = NULL \
             WHERE id = $1 AND node = $2 AND status = $7",
        )
        .bind(id.to_string())
        .bind(node)
        .bind(status.as_str())
        .bind(micros(Utc::now()))
        .bind(result)
        .bind(error)
        .bind(TaskStatus::Running.as_str())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(QueueError::Lost(id));
        }
        Ok(())
    }
}
