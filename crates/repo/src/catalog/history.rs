//! Reading backup history: the job sessions of every job with the filters of the Veeam `/JobSessions` API, and a
//! session's log by page, severity and order, or one entry by its position.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use super::sessions::{session_from_row, SESSION_COLS};
use super::sql::Sql;
use super::{from_micros, micros, Catalog, LogEntry, LogLevel, Page, Result, Session, SessionStatus};

/// The `item_ref` of a session log entry about item `item` of container `container` ([`Catalog::describe_item`]
/// reads it back).
pub fn item_ref(container: Uuid, item: &str) -> String {
    format!("{container}/{item}")
}

/// What a processed object is: the unit a backup reports on, as the vendor's `ProcessedObjects` do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A user (their OneDrive).
    User,
    /// A site (its lists and libraries).
    Site,
}

/// How the backup of one object went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectStatus {
    Success,
    /// Backed up, with warnings (items or parts that could not be read).
    Warning,
    /// The run failed while backing it up.
    Failed,
}

/// An object a backup session processed (see [`Catalog::processed_objects`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessedObject {
    pub kind: ObjectKind,
    /// The user's Entra id or the site's Graph id.
    pub id: String,
    /// The user's name or the site's title, as the run saw it.
    pub name: String,
    pub status: ObjectStatus,
}

const KINDS: [(ObjectKind, &str); 2] = [(ObjectKind::User, "user"), (ObjectKind::Site, "site")];
const STATUSES: [(ObjectStatus, &str); 3] =
    [(ObjectStatus::Success, "success"), (ObjectStatus::Warning, "warning"), (ObjectStatus::Failed, "failed")];

fn label<T: PartialEq + Copy>(table: &[(T, &'static str)], v: T) -> &'static str {
    table.iter().find(|(t, _)| *t == v).map(|(_, l)| *l).expect("every value is labelled")
}

fn parse_label<T: Copy>(table: &[(T, &'static str)], s: &str) -> Result<T> {
    table
        .iter()
        .find(|(_, l)| *l == s)
        .map(|(t, _)| *t)
        .ok_or_else(|| super::CatalogError::Corrupt(format!("unknown processed-object label {s:?}")))
}

/// Which job sessions to list (every field narrows; the default lists all).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionFilter {
    /// Sessions of this job.
    pub job_id: Option<Uuid>,
    /// Sessions of this organization (of any of its jobs, removed ones included).
    pub organization_id: Option<Uuid>,
    /// Sessions in this state.
    pub status: Option<SessionStatus>,
    /// Sessions that ended at or after this instant.
    pub ended_from: Option<DateTime<Utc>>,
    /// Sessions that ended at or before this instant.
    pub ended_to: Option<DateTime<Utc>>,
}

/// Which entries of a session log to read, and in which order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogFilter {
    /// Entries of this severity only.
    pub level: Option<LogLevel>,
    /// Oldest first (the default) or newest first.
    pub ascending: bool,
}

impl Default for LogFilter {
    fn default() -> LogFilter {
        LogFilter { level: None, ascending: true }
    }
}

fn log_entry_from_row(row: &AnyRow) -> Result<LogEntry> {
    Ok(LogEntry {
        seq: row.try_get("seq")?,
        at: from_micros(row.try_get("at")?)?,
        level: LogLevel::parse(&row.try_get::<String, _>("level")?)?,
        message: row.try_get("message")?,
        item_ref: row.try_get("item_ref")?,
    })
}

/// The `WHERE` of a session filter, its values bound in `sql`.
fn session_conditions(f: &SessionFilter, sql: &mut Sql) -> String {
    let mut conds = Vec::new();
    if let Some(job) = f.job_id {
        conds.push(format!("job_id = {}", sql.text(job.to_string())));
    }
    if let Some(org) = f.organization_id {
        conds.push(format!("organization_id = {}", sql.text(org.to_string())));
    }
    if let Some(status) = f.status {
        conds.push(format!("status = {}", sql.text(status.as_str())));
    }
    if let Some(t) = f.ended_from {
        conds.push(format!("finished_at >= {}", sql.int(micros(t))));
    }
    if let Some(t) = f.ended_to {
        conds.push(format!("finished_at <= {}", sql.int(micros(t))));
    }
    if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    }
}

impl Catalog {
    /// A page of the job sessions matching `filter`, newest first.
    pub async fn job_sessions(&self, filter: &SessionFilter, offset: i64, limit: i64) -> Result<Page<Session>> {
        let mut sql = Sql::default();
        let cond = session_conditions(filter, &mut sql);
        let count = format!("SELECT COUNT(*) AS n FROM sessions{cond}");
        let total: i64 = sql.bind(sqlx::query(&count)).fetch_one(&self.pool).await?.try_get("n")?;
        let (limit, offset) = (sql.int(limit.max(0)), sql.int(offset.max(0)));
        let page = format!(
            "SELECT {SESSION_COLS} FROM sessions{cond} ORDER BY started_at DESC, id DESC LIMIT {limit} OFFSET {offset}"
        );
        let rows = sql.bind(sqlx::query(&page)).fetch_all(&self.pool).await?;
        Ok(Page { rows: rows.iter().map(session_from_row).collect::<Result<_>>()?, total })
    }

    /// A page of a session's log in order.
    pub async fn session_log(&self, session: Uuid, offset: i64, limit: i64) -> Result<Page<LogEntry>> {
        self.log_page(session, &LogFilter::default(), offset, limit).await
    }

    /// A page of a session's log entries matching `filter`, in its order.
    pub async fn log_page(&self, session: Uuid, filter: &LogFilter, offset: i64, limit: i64) -> Result<Page<LogEntry>> {
        let mut sql = Sql::default();
        let mut cond = format!("session_id = {}", sql.text(session.to_string()));
        if let Some(level) = filter.level {
            cond.push_str(&format!(" AND level = {}", sql.text(level.as_str())));
        }
        let count = format!("SELECT COUNT(*) AS n FROM session_log WHERE {cond}");
        let total: i64 = sql.bind(sqlx::query(&count)).fetch_one(&self.pool).await?.try_get("n")?;
        let order = if filter.ascending { "ASC" } else { "DESC" };
        let (limit, offset) = (sql.int(limit.max(0)), sql.int(offset.max(0)));
        let page = format!(
            "SELECT seq, at, level, message, item_ref FROM session_log WHERE {cond} \
             ORDER BY seq {order} LIMIT {limit} OFFSET {offset}"
        );
        let rows = sql.bind(sqlx::query(&page)).fetch_all(&self.pool).await?;
        Ok(Page { rows: rows.iter().map(log_entry_from_row).collect::<Result<_>>()?, total })
    }

    /// What a log entry's `item_ref` names, as of `at`: the item's path in its container and the container (`OneDrive
    /// of Adele Vance: /Reports/q3.xlsx`). `None` when the reference is not one of [`item_ref`]'s or the item is
    /// unknown (e.g. a reference to a user or site).
    pub async fn describe_item(&self, item_ref: &str, at: DateTime<Utc>) -> Result<Option<String>> {
        let Some((container, item)) = item_ref.split_once('/') else { return Ok(None) };
        let Ok(container) = Uuid::parse_str(container) else { return Ok(None) };
        let Some(row) = self.container_at(container, at).await? else { return Ok(None) };
        let path = match self.path_of(container, item, at).await {
            Ok(names) => names.join("/"),
            Err(super::CatalogError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(Some(format!("{}: /{path}", row.info.describe())))
    }

    /// Records how the backup of one object went in `session` (a later record of the same object replaces it).
    pub async fn record_processed_object(&self, session: Uuid, o: &ProcessedObject) -> Result<()> {
        sqlx::query(
            "INSERT INTO session_objects (session_id, kind, object_id, name, status) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (session_id, kind, object_id) DO UPDATE SET name = excluded.name, status = excluded.status",
        )
        .bind(session.to_string())
        .bind(label(&KINDS, o.kind))
        .bind(&o.id)
        .bind(&o.name)
        .bind(label(&STATUSES, o.status))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A page of the objects `session` processed: users, then sites, by name.
    pub async fn processed_objects(&self, session: Uuid, offset: i64, limit: i64) -> Result<Page<ProcessedObject>> {
        let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM session_objects WHERE session_id = $1")
            .bind(session.to_string())
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        let rows = sqlx::query(
            "SELECT kind, object_id, name, status FROM session_objects WHERE session_id = $1 \
             ORDER BY kind DESC, name, object_id LIMIT $2 OFFSET $3",
        )
        .bind(session.to_string())
        .bind(limit.max(0))
        .bind(offset.max(0))
        .fetch_all(&self.pool)
        .await?;
        let rows = rows
            .iter()
            .map(|r| {
                Ok(ProcessedObject {
                    kind: parse_label(&KINDS, &r.try_get::<String, _>("kind")?)?,
                    id: r.try_get("object_id")?,
                    name: r.try_get("name")?,
                    status: parse_label(&STATUSES, &r.try_get::<String, _>("status")?)?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Page { rows, total })
    }

    /// Entry `seq` (from 1) of a session's log.
    pub async fn log_entry(&self, session: Uuid, seq: i64) -> Result<Option<LogEntry>> {
        let row =
            sqlx::query("SELECT seq, at, level, message, item_ref FROM session_log WHERE session_id = $1 AND seq = $2")
                .bind(session.to_string())
                .bind(seq)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(log_entry_from_row).transpose()
    }
}
