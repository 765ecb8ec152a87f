//! Job sessions (backup runs), their logs, restore points and delta links.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

use super::error::constraint;
use super::{from_micros, from_micros_opt, micros, parse_uuid, truncate, Catalog, CatalogError, Result};

/// State of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    /// In progress (or crashed; see [`Catalog::fail_stale_sessions`]).
    Running,
    /// Finished, everything backed up.
    Success,
    /// Finished with warnings (some items skipped); still produces a restore point.
    Warning,
    /// Finished without a restore point.
    Failed,
    /// Stopped on request at a checkpoint: what it committed stays (the next run resumes from it), no restore point.
    Stopped,
}

impl SessionStatus {
    /// Stored label.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Running => "running",
            SessionStatus::Success => "success",
            SessionStatus::Warning => "warning",
            SessionStatus::Failed => "failed",
            SessionStatus::Stopped => "stopped",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "running" => SessionStatus::Running,
            "success" => SessionStatus::Success,
            "warning" => SessionStatus::Warning,
            "failed" => SessionStatus::Failed,
            "stopped" => SessionStatus::Stopped,
            other => return Err(CatalogError::Corrupt(format!("unknown session status {other:?}"))),
        })
    }
}

/// Progress counters of a session, owned by the engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionCounters {
    /// Items backed up (new or changed).
    pub processed_items: i64,
    /// Bytes read from the tenant.
    pub processed_bytes: i64,
    /// Number of warnings.
    pub warnings: i64,
    /// Number of errors.
    pub errors: i64,
}

/// One run of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Catalog id.
    pub id: Uuid,
    /// The job that ran.
    pub job_id: Uuid,
    /// The organization it backed up (the job's).
    pub organization_id: Uuid,
    /// Start = the backup instant: every state recorded by this session uses it as `at`, and its restore point's
    /// `backup_time` equals it.
    pub started_at: DateTime<Utc>,
    /// End, once finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// Current state.
    pub status: SessionStatus,
    /// Latest counters.
    pub counters: SessionCounters,
}

/// A job's running session as another run sees it: whether it is alive shows in its heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningSession {
    /// Catalog id.
    pub id: Uuid,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Its last sign of life (start, log line, counter update).
    pub heartbeat_at: DateTime<Utc>,
}

/// Severity of a log entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Progress information.
    Info,
    /// Something was skipped or degraded.
    Warning,
    /// Something failed.
    Error,
}

impl LogLevel {
    /// Stored label.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Info => "info",
            LogLevel::Warning => "warning",
            LogLevel::Error => "error",
        }
    }

    pub(super) fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "info" => LogLevel::Info,
            "warning" => LogLevel::Warning,
            "error" => LogLevel::Error,
            other => return Err(CatalogError::Corrupt(format!("unknown log level {other:?}"))),
        })
    }
}

/// One line of a session log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Position in the session's log, from 1.
    pub seq: i64,
    /// When it was logged.
    pub at: DateTime<Utc>,
    /// Severity.
    pub level: LogLevel,
    /// Human-readable text.
    pub message: String,
    /// The item concerned (free form, e.g. `container/item id` or a path), if any.
    pub item_ref: Option<String>,
}

/// Statistics of a restore point, supplied by the engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestorePointStats {
    /// Containers (OneDrives, sites, lists) covered.
    pub containers: i64,
    /// Items covered.
    pub items: i64,
    /// Bytes covered.
    pub bytes: i64,
}

/// Input of [`Catalog::finish_session`] for a session that produces a restore point.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRestorePoint {
    /// Full backup (`true`) or incremental (delta) backup.
    pub is_full: bool,
    /// Statistics.
    pub stats: RestorePointStats,
}

/// A consistent point in time of an organization, produced by a successful or warning session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestorePoint {
    /// Catalog id.
    pub id: Uuid,
    /// Organization.
    pub organization_id: Uuid,
    /// Job whose session produced it.
    pub job_id: Uuid,
    /// The session that produced it.
    pub session_id: Uuid,
    /// The backup instant (the session's `started_at`): browse with this as `at`.
    pub backup_time: DateTime<Utc>,
    /// Full or incremental.
    pub is_full: bool,
    /// Statistics.
    pub stats: RestorePointStats,
}

pub(super) const SESSION_COLS: &str =
    "id, job_id, organization_id, started_at, finished_at, status, processed_items, processed_bytes, warnings, errors";
const RP_COLS: &str = "id, organization_id, job_id, session_id, backup_time, is_full, containers, items, bytes";

pub(super) fn session_from_row(row: &AnyRow) -> Result<Session> {
    Ok(Session {
        id: parse_uuid(&row.try_get::<String, _>("id")?)?,
        job_id: parse_uuid(&row.try_get::<String, _>("job_id")?)?,
        organization_id: parse_uuid(&row.try_get::<String, _>("organization_id")?)?,
        started_at: from_micros(row.try_get("started_at")?)?,
        finished_at: from_micros_opt(row.try_get("finished_at")?)?,
        status: SessionStatus::parse(&row.try_get::<String, _>("status")?)?,
        counters: SessionCounters {
            processed_items: row.try_get("processed_items")?,
            processed_bytes: row.try_get("processed_bytes")?,
            warnings: row.try_get("warnings")?,
            errors: row.try_get("errors")?,
        },
    })
}

fn restore_point_from_row(row: &AnyRow) -> Result<RestorePoint> {
    Ok(RestorePoint {
        id: parse_uuid(&row.try_get::<String, _>("id")?)?,
        organization_id: parse_uuid(&row.try_get::<String, _>("organization_id")?)?,
        job_id: parse_uuid(&row.try_get::<String, _>("job_id")?)?,
        session_id: parse_uuid(&row.try_get::<String, _>("session_id")?)?,
        backup_time: from_micros(row.try_get("backup_time")?)?,
        is_full: row.try_get::<i64, _>("is_full")? != 0,
        stats: RestorePointStats {
            containers: row.try_get("containers")?,
            items: row.try_get("items")?,
            bytes: row.try_get("bytes")?,
        },
    })
}

/// Fails running session `id` as interrupted (its process stopped): status and end, its staged delta links dropped,
/// a log line saying why. With `heartbeat_at`, only if its heartbeat is still that one. Whether it was failed.
async fn fail_interrupted(tx: &mut AnyConnection, id: Uuid, heartbeat_at: Option<i64>) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE sessions SET status = $2, finished_at = $3 WHERE id = $1 AND status = $4 \
         AND ($5 IS NULL OR heartbeat_at = $5)",
    )
    .bind(id.to_string())
    .bind(SessionStatus::Failed.as_str())
    .bind(micros(Utc::now()))
    .bind(SessionStatus::Running.as_str())
    .bind(heartbeat_at)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM staged_delta_links WHERE session_id = $1").bind(id.to_string()).execute(&mut *tx).await?;
    insert_log(tx, id, LogLevel::Error, "session interrupted (no activity; process stopped?)", None).await?;
    Ok(true)
}

/// Appends a log line; the sequence number is the session's next one.
async fn insert_log(
    conn: &mut AnyConnection,
    session: Uuid,
    level: LogLevel,
    message: &str,
    item_ref: Option<&str>,
) -> std::result::Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO session_log (session_id, seq, at, level, message, item_ref) \
         SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5 FROM session_log WHERE session_id = $1",
    )
    .bind(session.to_string())
    .bind(micros(Utc::now()))
    .bind(level.as_str())
    .bind(message)
    .bind(item_ref)
    .execute(conn)
    .await?;
    Ok(())
}

impl Catalog {
    /// Starts a session of `job` whose backup instant is `started_at` (truncated to microseconds; read it back from
    /// the returned session). Error: [`CatalogError::NotFound`] for an unknown job.
    ///
    /// Error [`CatalogError::Busy`] when the job's organization already has a running session, of this job or
    /// another (one backup of an organization at a time; see [`Catalog::running_session`]).
    pub async fn start_session(&self, job_id: Uuid, started_at: DateTime<Utc>) -> Result<Session> {
        let organization: String = sqlx::query("SELECT organization_id FROM jobs WHERE id = $1")
            .bind(job_id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| CatalogError::NotFound(format!("job {job_id}")))?
            .try_get("organization_id")?;
        let session = Session {
            id: Uuid::new_v4(),
            job_id,
            organization_id: parse_uuid(&organization)?,
            started_at: truncate(started_at),
            finished_at: None,
            status: SessionStatus::Running,
            counters: SessionCounters::default(),
        };
        let done = sqlx::query(&format!(
            "INSERT INTO sessions ({SESSION_COLS}, heartbeat_at) VALUES ($1, $2, $3, $4, NULL, $5, 0, 0, 0, 0, $6)"
        ))
        .bind(session.id.to_string())
        .bind(job_id.to_string())
        .bind(&organization)
        .bind(micros(session.started_at))
        .bind(SessionStatus::Running.as_str())
        .bind(micros(Utc::now()))
        .execute(&self.pool)
        .await
        .map_err(|e| {
            constraint(
                e,
                // The id is new: the unique rule violated is one running session per organization.
                || CatalogError::Busy(format!("the organization of job {job_id} already has a running backup session")),
                || CatalogError::NotFound(format!("job {job_id}")),
            )
        })?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::NotFound(format!("job {job_id}")));
        }
        Ok(session)
    }

    /// Asks running session `session` to stop at its next checkpoint (whichever node runs it sees the request). False
    /// when it is not running.
    pub async fn request_stop(&self, session: Uuid) -> Result<bool> {
        sqlx::query("UPDATE sessions SET stop_requested_at = $2 WHERE id = $1 AND stop_requested_at IS NULL")
            .bind(session.to_string())
            .bind(micros(Utc::now()))
            .execute(&self.pool)
            .await?;
        Ok(self.session(session).await?.is_some_and(|s| s.status == SessionStatus::Running))
    }

    /// Whether a stop of `session` was asked for ([`Catalog::request_stop`]).
    pub async fn stop_requested(&self, session: Uuid) -> Result<bool> {
        let row = sqlx::query("SELECT stop_requested_at FROM sessions WHERE id = $1")
            .bind(session.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => r.try_get::<Option<i64>, _>("stop_requested_at")?.is_some(),
            None => false,
        })
    }

    /// The running session of the job's organization (of this job or another), if any, with its last heartbeat.
    pub async fn running_session(&self, job_id: Uuid) -> Result<Option<RunningSession>> {
        let row = sqlx::query(
            "SELECT id, started_at, heartbeat_at FROM sessions WHERE status = $2 \
             AND organization_id = (SELECT organization_id FROM jobs WHERE id = $1)",
        )
        .bind(job_id.to_string())
        .bind(SessionStatus::Running.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(RunningSession {
                id: parse_uuid(&r.try_get::<String, _>("id")?)?,
                started_at: from_micros(r.try_get("started_at")?)?,
                heartbeat_at: from_micros(r.try_get("heartbeat_at")?)?,
            })
        })
        .transpose()
    }

    /// Fails running session `session` if its heartbeat is still `heartbeat_at` (its process stopped refreshing it),
    /// discarding its staged delta links and logging why. Returns whether it was failed.
    pub async fn fail_idle_session(&self, session: Uuid, heartbeat_at: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.tx().await?;
        let failed = fail_interrupted(&mut tx, session, Some(micros(heartbeat_at))).await?;
        tx.commit().await?;
        Ok(failed)
    }

    /// The session with `id`, if any.
    pub async fn session(&self, id: Uuid) -> Result<Option<Session>> {
        let row = sqlx::query(&format!("SELECT {SESSION_COLS} FROM sessions WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    /// The sessions of a job, oldest first.
    pub async fn sessions(&self, job_id: Uuid) -> Result<Vec<Session>> {
        let rows =
            sqlx::query(&format!("SELECT {SESSION_COLS} FROM sessions WHERE job_id = $1 ORDER BY started_at, id"))
                .bind(job_id.to_string())
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(session_from_row).collect()
    }

    /// Stores the counters of a running session and refreshes its heartbeat.
    pub async fn update_session_counters(&self, session: Uuid, counters: &SessionCounters) -> Result<()> {
        let done = sqlx::query(
            "UPDATE sessions SET processed_items = $2, processed_bytes = $3, warnings = $4, errors = $5, \
             heartbeat_at = $6 WHERE id = $1 AND status = $7",
        )
        .bind(session.to_string())
        .bind(counters.processed_items)
        .bind(counters.processed_bytes)
        .bind(counters.warnings)
        .bind(counters.errors)
        .bind(micros(Utc::now()))
        .bind(SessionStatus::Running.as_str())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::InvalidState(format!("session {session} is not running")));
        }
        Ok(())
    }

    /// Appends a line to a session's log and refreshes its heartbeat. Error: [`CatalogError::NotFound`] for an
    /// unknown session.
    pub async fn log(&self, session: Uuid, level: LogLevel, message: &str, item_ref: Option<&str>) -> Result<()> {
        // The heartbeat update comes first: it locks the session row (PostgreSQL) or the database (SQLite's
        // BEGIN IMMEDIATE), so concurrent loggers of one session take turns computing the next sequence number.
        // The retry is a second line of defence should two writers still collide on the primary key.
        let mut attempts = 0;
        loop {
            let mut tx = self.tx().await?;
            let touched = sqlx::query(
                "UPDATE sessions SET heartbeat_at = CASE WHEN status = $3 THEN $2 ELSE heartbeat_at END WHERE id = $1",
            )
            .bind(session.to_string())
            .bind(micros(Utc::now()))
            .bind(SessionStatus::Running.as_str())
            .execute(&mut *tx)
            .await?;
            if touched.rows_affected() == 0 {
                return Err(CatalogError::NotFound(format!("session {session}")));
            }
            match insert_log(&mut tx, session, level, message, item_ref).await {
                Ok(()) => {
                    tx.commit().await?;
                    return Ok(());
                }
                Err(e) => {
                    let e = constraint(
                        e,
                        || CatalogError::AlreadyExists("log sequence number".into()),
                        || CatalogError::NotFound(format!("session {session}")),
                    );
                    attempts += 1;
                    if !matches!(e, CatalogError::AlreadyExists(_)) || attempts >= 5 {
                        return Err(e);
                    }
                }
            }
        }
    }

    /// Ends a running session.
    ///
    /// In one transaction: stores status and counters; for `Success`/`Warning` promotes the delta links staged by
    /// [`Catalog::set_delta_link`] and, when `restore_point` is given, inserts the restore point (last, so a crash
    /// before commit leaves none); for `Failed` discards the staged links. Returns the restore point created.
    ///
    /// Errors: [`CatalogError::NotFound`]; [`CatalogError::InvalidState`] when the session is not running, when
    /// `status` is `Running`, or when a failed session is given a restore point.
    pub async fn finish_session(
        &self,
        session: Uuid,
        status: SessionStatus,
        counters: &SessionCounters,
        restore_point: Option<NewRestorePoint>,
    ) -> Result<Option<RestorePoint>> {
        if status == SessionStatus::Running {
            return Err(CatalogError::InvalidState("a session cannot finish as running".into()));
        }
        let produced = matches!(status, SessionStatus::Success | SessionStatus::Warning);
        if !produced && restore_point.is_some() {
            return Err(CatalogError::InvalidState(format!(
                "a {} session cannot produce a restore point",
                status.as_str()
            )));
        }
        let mut tx = self.tx().await?;
        let row = sqlx::query(
            "SELECT s.status, s.started_at, s.job_id, j.organization_id FROM sessions s \
             JOIN jobs j ON j.id = s.job_id WHERE s.id = $1",
        )
        .bind(session.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| CatalogError::NotFound(format!("session {session}")))?;
        let current = SessionStatus::parse(&row.try_get::<String, _>("status")?)?;
        if current != SessionStatus::Running {
            return Err(CatalogError::InvalidState(format!(
                "session {session} already finished ({})",
                current.as_str()
            )));
        }
        let started_at: i64 = row.try_get("started_at")?;
        let job_id = parse_uuid(&row.try_get::<String, _>("job_id")?)?;
        let organization_id = parse_uuid(&row.try_get::<String, _>("organization_id")?)?;
        let now = micros(Utc::now());
        let updated = sqlx::query(
            "UPDATE sessions SET status = $2, finished_at = $3, heartbeat_at = $3, processed_items = $4, \
             processed_bytes = $5, warnings = $6, errors = $7 WHERE id = $1 AND status = $8",
        )
        .bind(session.to_string())
        .bind(status.as_str())
        .bind(now)
        .bind(counters.processed_items)
        .bind(counters.processed_bytes)
        .bind(counters.warnings)
        .bind(counters.errors)
        .bind(SessionStatus::Running.as_str())
        .execute(&mut *tx)
        .await?;
        // Re-checked by the update itself: a concurrent finish (or stale-session sweep) may have won meanwhile.
        if updated.rows_affected() == 0 {
            return Err(CatalogError::InvalidState(format!("session {session} already finished")));
        }
        if produced {
            let staged = sqlx::query("SELECT container_id, delta_link FROM staged_delta_links WHERE session_id = $1")
                .bind(session.to_string())
                .fetch_all(&mut *tx)
                .await?;
            for link in &staged {
                sqlx::query(
                    "INSERT INTO delta_links (container_id, delta_link, session_id, updated_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (container_id) DO UPDATE SET \
                     delta_link = excluded.delta_link, session_id = excluded.session_id, \
                     updated_at = excluded.updated_at",
                )
                .bind(link.try_get::<String, _>("container_id")?)
                .bind(link.try_get::<String, _>("delta_link")?)
                .bind(session.to_string())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        sqlx::query("DELETE FROM staged_delta_links WHERE session_id = $1")
            .bind(session.to_string())
            .execute(&mut *tx)
            .await?;
        let point = match restore_point {
            Some(new) => {
                let point = RestorePoint {
                    id: Uuid::new_v4(),
                    organization_id,
                    job_id,
                    session_id: session,
                    backup_time: from_micros(started_at)?,
                    is_full: new.is_full,
                    stats: new.stats,
                };
                sqlx::query(&format!(
                    "INSERT INTO restore_points ({RP_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                ))
                .bind(point.id.to_string())
                .bind(organization_id.to_string())
                .bind(job_id.to_string())
                .bind(session.to_string())
                .bind(started_at)
                .bind(i64::from(new.is_full))
                .bind(new.stats.containers)
                .bind(new.stats.items)
                .bind(new.stats.bytes)
                .execute(&mut *tx)
                .await?;
                Some(point)
            }
            None => None,
        };
        tx.commit().await?;
        Ok(point)
    }

    /// Marks as failed every running session whose heartbeat (start, last log line or counter update) is older
    /// than `heartbeat_before`, discarding their staged delta links and logging why. On a single node, call it at
    /// start-up with "now". Returns the ids of the sessions failed.
    pub async fn fail_stale_sessions(&self, heartbeat_before: DateTime<Utc>) -> Result<Vec<Uuid>> {
        let mut tx = self.tx().await?;
        let rows = sqlx::query("SELECT id FROM sessions WHERE status = $1 AND heartbeat_at < $2 ORDER BY started_at")
            .bind(SessionStatus::Running.as_str())
            .bind(micros(heartbeat_before))
            .fetch_all(&mut *tx)
            .await?;
        let mut failed = Vec::with_capacity(rows.len());
        for row in &rows {
            let id = parse_uuid(&row.try_get::<String, _>("id")?)?;
            if fail_interrupted(&mut tx, id, None).await? {
                failed.push(id);
            }
        }
        tx.commit().await?;
        Ok(failed)
    }

    /// The restore points of an organization, oldest first.
    pub async fn restore_points(&self, organization_id: Uuid) -> Result<Vec<RestorePoint>> {
        let rows = sqlx::query(&format!(
            "SELECT {RP_COLS} FROM restore_points WHERE organization_id = $1 ORDER BY backup_time, id"
        ))
        .bind(organization_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(restore_point_from_row).collect()
    }

    /// The restore point with `id`, if any.
    pub async fn restore_point(&self, id: Uuid) -> Result<Option<RestorePoint>> {
        let row = sqlx::query(&format!("SELECT {RP_COLS} FROM restore_points WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(restore_point_from_row).transpose()
    }

    /// The latest restore point of an organization at or before `at`, if any.
    pub async fn restore_point_at(&self, organization_id: Uuid, at: DateTime<Utc>) -> Result<Option<RestorePoint>> {
        let row = sqlx::query(&format!(
            "SELECT {RP_COLS} FROM restore_points WHERE organization_id = $1 AND backup_time <= $2 \
             ORDER BY backup_time DESC, id DESC LIMIT 1"
        ))
        .bind(organization_id.to_string())
        .bind(micros(at))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(restore_point_from_row).transpose()
    }

    /// Stages the delta link with which `session` finished reading `container`. It becomes visible to
    /// [`Catalog::get_delta_link`] only when the session finishes successfully ([`Catalog::finish_session`]).
    /// Errors: [`CatalogError::InvalidState`] when the session is not running, [`CatalogError::NotFound`] for an
    /// unknown container.
    pub async fn set_delta_link(&self, session: Uuid, container: Uuid, delta_link: &str) -> Result<()> {
        let mut tx = self.tx().await?;
        let status = sqlx::query("SELECT status FROM sessions WHERE id = $1")
            .bind(session.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| CatalogError::NotFound(format!("session {session}")))?
            .try_get::<String, _>("status")?;
        if SessionStatus::parse(&status)? != SessionStatus::Running {
            return Err(CatalogError::InvalidState(format!("session {session} is not running")));
        }
        sqlx::query(
            "INSERT INTO staged_delta_links (session_id, container_id, delta_link) VALUES ($1, $2, $3) \
             ON CONFLICT (session_id, container_id) DO UPDATE SET delta_link = excluded.delta_link",
        )
        .bind(session.to_string())
        .bind(container.to_string())
        .bind(delta_link)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            constraint(
                e,
                || CatalogError::Corrupt("staged delta link conflict".into()),
                || CatalogError::NotFound(format!("container {container}")),
            )
        })?;
        tx.commit().await?;
        Ok(())
    }

    /// The delta link committed by the last successful session that read `container`, if any.
    pub async fn get_delta_link(&self, container: Uuid) -> Result<Option<String>> {
        let row = sqlx::query("SELECT delta_link FROM delta_links WHERE container_id = $1")
            .bind(container.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get::<String, _>("delta_link")).transpose()?)
    }
}

impl super::Batch {
    /// [`Catalog::log`] inside this batch: the line becomes visible with the batch's other writes.
    ///
    /// On PostgreSQL the batch holds the session row's lock from its first log line until it ends: batches of one
    /// session logging concurrently (parallel containers) take turns computing the next sequence number instead of
    /// colliding on it, which would abort the whole batch. (SQLite batches are serialised anyway.)
    pub async fn log(&mut self, session: Uuid, level: LogLevel, message: &str, item_ref: Option<&str>) -> Result<()> {
        let touched = sqlx::query(
            "UPDATE sessions SET heartbeat_at = CASE WHEN status = $3 THEN $2 ELSE heartbeat_at END WHERE id = $1",
        )
        .bind(session.to_string())
        .bind(micros(Utc::now()))
        .bind(SessionStatus::Running.as_str())
        .execute(&mut *self.tx)
        .await?;
        if touched.rows_affected() == 0 {
            return Err(CatalogError::NotFound(format!("session {session}")));
        }
        insert_log(&mut self.tx, session, level, message, item_ref).await?;
        Ok(())
    }
}
