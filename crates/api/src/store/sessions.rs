//! Restore sessions and their events: the shared store every browse/restore module looks sessions up in.
//!
//! # Storage
//! Two tables in the catalog database (portable SQL: `$n` placeholders, `TEXT`/`BIGINT` only, times as Unix
//! microseconds, flags as 0/1), created by the catalog's migrations:
//! * `api_restore_sessions` — one row per session: owner (the [`CurrentUser`] id), organization, kind, the requested
//!   point in time, the restore point shown (`restore_point_id`, `browse_at`; both `NULL` for an empty session),
//!   options, state/result, creation/end/last-use instants, a display name, an eTag counter and, for v8 restore
//!   operations, the parent (exploring) session;
//! * `api_restore_session_events` — the events of a session, ordered by `seq` (the `order` property).
//!
//! Because everything lives in the database, a server restart (or another server node on the same database) keeps
//! every session usable.
//!
//! # Idle sessions
//! A `Working` session not used for [`AppState::session_idle_timeout`] (default [`DEFAULT_IDLE_TIMEOUT`], 8 hours)
//! is stopped *lazily*: the next lookup finds it idle, marks it `Stopped` with the end time
//! `last use + timeout`, and answers as for any stopped session. Every successful [`require_working`] refreshes the
//! last-use instant (written at most once a minute per session, or every quarter of a shorter timeout).
//!
//! # Lookup contract for browse modules
//! * [`require_working`]: [`StoreError::NotFound`] (404) for a malformed or unknown id **and for another user's
//!   session**; [`StoreError::SessionStopped`] for a stopped session, which `ctx::working` answers in the
//!   request's era.
//! * [`find`]: the session whatever its state (for GET of the session itself, stop, events).
//! * [`add_event`] / [`record_event`] / [`finish_event`]: events of actions (save, export, restore, send).

use chrono::{DateTime, Duration, Utc};
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use crate::ctx::auth::CurrentUser;
use crate::state::AppState;
pub use crate::state::DEFAULT_IDLE_TIMEOUT;
use crate::store::{StoreError, StoreResult};

/// The message of the error for a stopped session.
pub const STOPPED_MESSAGE: &str = "Restore session is stopped.";

/// The message of the 404 for unknown or foreign sessions.
pub const NOT_FOUND_MESSAGE: &str = "Restore session not found.";

/// What a session restores from: Exchange, OneDrive for Business, SharePoint, Teams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionKind {
    /// Exchange (`vex`).
    Vex,
    /// OneDrive for Business (`veod`).
    Veod,
    /// SharePoint (`vesp`).
    Vesp,
    /// Teams (`vet`).
    Vet,
}

impl SessionKind {
    /// Output spelling (`Vex`, `Veod`, `Vesp`, `Vet`).
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Vex => "Vex",
            SessionKind::Veod => "Veod",
            SessionKind::Vesp => "Vesp",
            SessionKind::Vet => "Vet",
        }
    }

    /// Parses any case of `vex`/`veod`/`vesp`/`vet` (also `Exchange`, `OneDrive`, `SharePoint`, `Teams`).
    pub fn parse(s: &str) -> Option<SessionKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "vex" | "exchange" => Some(SessionKind::Vex),
            "veod" | "onedrive" | "onedriveforbusiness" => Some(SessionKind::Veod),
            "vesp" | "sharepoint" => Some(SessionKind::Vesp),
            "vet" | "teams" => Some(SessionKind::Vet),
            _ => None,
        }
    }

    /// Human name used in session names (`OneDrive for Business restore (…)`).
    pub fn product(self) -> &'static str {
        match self {
            SessionKind::Vex => "Exchange",
            SessionKind::Veod => "OneDrive for Business",
            SessionKind::Vesp => "SharePoint",
            SessionKind::Vet => "Teams",
        }
    }
}

/// Lifecycle state (v6+ enum: `Working`, `Stopped`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Usable.
    Working,
    /// Stopped by the API, by idleness, or finished (restore operations).
    Stopped,
}

impl SessionState {
    /// Output spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Working => "Working",
            SessionState::Stopped => "Stopped",
        }
    }
}

/// Outcome of a session or event (`Success`, `Warning`, `Failed`; events also `Running`, `Cancelled`, `Skipped`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Still in progress (events only).
    Running,
    /// Succeeded.
    Success,
    /// Succeeded with warnings.
    Warning,
    /// Failed.
    Failed,
    /// Cancelled (v6+ events).
    Cancelled,
    /// Skipped (v6+ events).
    Skipped,
}

impl Outcome {
    /// Output spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Running => "Running",
            Outcome::Success => "Success",
            Outcome::Warning => "Warning",
            Outcome::Failed => "Failed",
            Outcome::Cancelled => "Cancelled",
            Outcome::Skipped => "Skipped",
        }
    }

    /// Parses the output spelling (any case); unknown → `Success`.
    pub fn parse(s: &str) -> Outcome {
        match s.to_ascii_lowercase().as_str() {
            "running" => Outcome::Running,
            "warning" => Outcome::Warning,
            "failed" => Outcome::Failed,
            "cancelled" => Outcome::Cancelled,
            "skipped" => Outcome::Skipped,
            _ => Outcome::Success,
        }
    }
}

/// A restore session.
#[derive(Debug, Clone, PartialEq)]
pub struct RestoreSession {
    /// Session id.
    pub id: Uuid,
    /// Owner: [`CurrentUser::id`] of the creator.
    pub owner: String,
    /// Owner's account name at creation (`initiatedBy`).
    pub owner_name: String,
    /// Catalog organization.
    pub organization_id: Uuid,
    /// Exchange / OneDrive / SharePoint / Teams.
    pub kind: SessionKind,
    /// Display name.
    pub name: String,
    /// The point in time the client asked for (`None`: latest).
    pub requested_at: Option<DateTime<Utc>>,
    /// `backup_time` of the restore point the session shows; `None` = empty session (explore before the first backup).
    pub browse_at: Option<DateTime<Utc>>,
    /// The restore point shown.
    pub restore_point_id: Option<Uuid>,
    /// Include items deleted before the point in time.
    pub show_deleted: bool,
    /// Include all versions of modified items.
    pub show_all_versions: bool,
    /// Working or stopped.
    pub state: SessionState,
    /// `Success`, `Warning` or `Failed`.
    pub result: Outcome,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// End instant (stopped sessions).
    pub ended_at: Option<DateTime<Utc>>,
    /// Last use (lookups through [`require_working`]).
    pub last_used: DateTime<Utc>,
    /// Modification counter (v8 `eTag`).
    pub etag: i64,
    /// The exploring session of a v8 restore operation.
    pub parent_id: Option<Uuid>,
    /// Free-text details (v6+ `details`).
    pub details: Option<String>,
    /// Reason given by the client (v6+ `reason`).
    pub reason: Option<String>,
}

impl RestoreSession {
    /// Whether the session can be browsed.
    pub fn is_working(&self) -> bool {
        self.state == SessionState::Working
    }

    /// Whether the session shows nothing (explored before the first backup).
    pub fn is_empty(&self) -> bool {
        self.browse_at.is_none()
    }
}

/// Input of [`create`].
#[derive(Debug, Clone)]
pub struct NewSession {
    /// Creator.
    pub owner: CurrentUser,
    /// Organization.
    pub organization_id: Uuid,
    /// Kind.
    pub kind: SessionKind,
    /// Requested point in time.
    pub requested_at: Option<DateTime<Utc>>,
    /// Restore point shown (`None`: empty session).
    pub restore_point_id: Option<Uuid>,
    /// Its backup time.
    pub browse_at: Option<DateTime<Utc>>,
    /// Option.
    pub show_deleted: bool,
    /// Option.
    pub show_all_versions: bool,
    /// Display name (`None`: derived from kind, organization name and point in time by the caller or
    /// `"<product> restore"`).
    pub name: Option<String>,
    /// Parent session (v8 restore operations).
    pub parent_id: Option<Uuid>,
    /// Reason (v6+).
    pub reason: Option<String>,
}

/// Input of [`add_event`] / [`record_event`].
#[derive(Debug, Clone, Default)]
pub struct NewEvent {
    /// `None|Save|Export|Send|Restore|View` (free text, stored as given).
    pub kind: String,
    /// Status; `None` = `Success`.
    pub status: Option<Outcome>,
    /// Start (`None`: now).
    pub started_at: Option<DateTime<Utc>>,
    /// End (`None`: now unless the status is `Running`).
    pub ended_at: Option<DateTime<Utc>>,
    /// Title, e.g. "Item is successfully restored".
    pub title: String,
    /// Message.
    pub message: String,
    /// Item name.
    pub item_name: Option<String>,
    /// Item type (e.g. `OneDriveItem`, `SharePointItem`, `Document`, `Folder`).
    pub item_type: Option<String>,
    /// Item size in bytes.
    pub item_size: Option<i64>,
    /// Source (path, URL).
    pub source: Option<String>,
    /// Target.
    pub target: Option<String>,
    /// v8 ids.
    pub user_id: Option<String>,
    /// v8 ids.
    pub group_id: Option<String>,
    /// v8 ids.
    pub site_id: Option<String>,
    /// v8 ids.
    pub team_id: Option<String>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEvent {
    /// Event id.
    pub id: Uuid,
    /// Session.
    pub session_id: Uuid,
    /// 1-based order within the session.
    pub order: i64,
    /// Type.
    pub kind: String,
    /// Status.
    pub status: Outcome,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub ended_at: Option<DateTime<Utc>>,
    /// Title.
    pub title: String,
    /// Message.
    pub message: String,
    /// Item name.
    pub item_name: Option<String>,
    /// Item type.
    pub item_type: Option<String>,
    /// Item size.
    pub item_size: Option<i64>,
    /// Source.
    pub source: Option<String>,
    /// Target.
    pub target: Option<String>,
    /// v8 ids.
    pub user_id: Option<String>,
    /// v8 ids.
    pub group_id: Option<String>,
    /// v8 ids.
    pub site_id: Option<String>,
    /// v8 ids.
    pub team_id: Option<String>,
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn from_micros(v: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_micros(v).unwrap_or_default()
}

fn opt_micros(v: Option<i64>) -> Option<DateTime<Utc>> {
    v.map(from_micros)
}

fn parse_uuid_col(s: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(s).map_err(|_| StoreError::Internal("A stored restore session id is corrupt.".into()))
}

fn kind_of(s: &str) -> SessionKind {
    SessionKind::parse(s).unwrap_or(SessionKind::Veod)
}

const SESSION_COLS: &str = "id, owner, owner_name, organization_id, kind, name, requested_at, browse_at, \
    restore_point_id, show_deleted, show_all_versions, state, result, created_at, ended_at, last_used, etag, \
    parent_id, details, reason";

fn session_from_row(r: &AnyRow) -> StoreResult<RestoreSession> {
    let opt_uuid = |col: &str| -> StoreResult<Option<Uuid>> {
        match r.try_get::<Option<String>, _>(col)? {
            Some(s) => Ok(Some(parse_uuid_col(&s)?)),
            None => Ok(None),
        }
    };
    Ok(RestoreSession {
        id: parse_uuid_col(&r.try_get::<String, _>("id")?)?,
        owner: r.try_get("owner")?,
        owner_name: r.try_get("owner_name")?,
        organization_id: parse_uuid_col(&r.try_get::<String, _>("organization_id")?)?,
        kind: kind_of(&r.try_get::<String, _>("kind")?),
        name: r.try_get("name")?,
        requested_at: opt_micros(r.try_get("requested_at")?),
        browse_at: opt_micros(r.try_get("browse_at")?),
        restore_point_id: opt_uuid("restore_point_id")?,
        show_deleted: r.try_get::<i64, _>("show_deleted")? != 0,
        show_all_versions: r.try_get::<i64, _>("show_all_versions")? != 0,
        state: if r.try_get::<String, _>("state")? == "Stopped" {
            SessionState::Stopped
        } else {
            SessionState::Working
        },
        result: Outcome::parse(&r.try_get::<String, _>("result")?),
        created_at: from_micros(r.try_get("created_at")?),
        ended_at: opt_micros(r.try_get("ended_at")?),
        last_used: from_micros(r.try_get("last_used")?),
        etag: r.try_get("etag")?,
        parent_id: opt_uuid("parent_id")?,
        details: r.try_get("details")?,
        reason: r.try_get("reason")?,
    })
}

/// Creates a working session.
pub async fn create(state: &AppState, new: NewSession) -> StoreResult<RestoreSession> {
    // Microsecond precision, as stored.
    let now = from_micros(micros(Utc::now()));
    let id = Uuid::new_v4();
    let name = new.name.clone().unwrap_or_else(|| format!("{} restore", new.kind.product()));
    sqlx::query(
        "INSERT INTO api_restore_sessions (id, owner, owner_name, organization_id, kind, name, requested_at, browse_at,
            restore_point_id, show_deleted, show_all_versions, state, result, created_at, ended_at, last_used, etag,
            parent_id, details, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL, $15, $16, $17, NULL, $18)",
    )
    .bind(id.to_string())
    .bind(&new.owner.id)
    .bind(&new.owner.name)
    .bind(new.organization_id.to_string())
    .bind(new.kind.as_str())
    .bind(&name)
    .bind(new.requested_at.map(micros))
    .bind(new.browse_at.map(micros))
    .bind(new.restore_point_id.map(|u| u.to_string()))
    .bind(new.show_deleted as i64)
    .bind(new.show_all_versions as i64)
    .bind(SessionState::Working.as_str())
    .bind(Outcome::Success.as_str())
    .bind(micros(now))
    .bind(micros(now))
    .bind(1_i64)
    .bind(new.parent_id.map(|u| u.to_string()))
    .bind(&new.reason)
    .execute(state.pool())
    .await?;
    Ok(RestoreSession {
        id,
        owner: new.owner.id,
        owner_name: new.owner.name,
        organization_id: new.organization_id,
        kind: new.kind,
        name,
        requested_at: new.requested_at.map(|t| from_micros(micros(t))),
        browse_at: new.browse_at.map(|t| from_micros(micros(t))),
        restore_point_id: new.restore_point_id,
        show_deleted: new.show_deleted,
        show_all_versions: new.show_all_versions,
        state: SessionState::Working,
        result: Outcome::Success,
        created_at: now,
        ended_at: None,
        last_used: now,
        etag: 1,
        parent_id: new.parent_id,
        details: None,
        reason: new.reason,
    })
}

/// The session with `id` (any owner, any state), with the idle rule applied.
pub async fn get(state: &AppState, id: Uuid) -> StoreResult<Option<RestoreSession>> {
    let row = sqlx::query(&format!("SELECT {SESSION_COLS} FROM api_restore_sessions WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(state.pool())
        .await?;
    let Some(row) = row else { return Ok(None) };
    let s = session_from_row(&row)?;
    Ok(Some(expire_if_idle(state, s).await?))
}

/// Stops `s` when it has been idle too long (lazily, at lookup).
async fn expire_if_idle(state: &AppState, mut s: RestoreSession) -> StoreResult<RestoreSession> {
    if s.state != SessionState::Working {
        return Ok(s);
    }
    let timeout = Duration::from_std(state.session_idle_timeout.get()).unwrap_or(Duration::MAX);
    let Some(deadline) = s.last_used.checked_add_signed(timeout) else { return Ok(s) };
    if deadline > Utc::now() {
        return Ok(s);
    }
    sqlx::query(
        "UPDATE api_restore_sessions SET state = $1, ended_at = $2, etag = etag + 1 WHERE id = $3 AND state = $4",
    )
    .bind(SessionState::Stopped.as_str())
    .bind(micros(deadline))
    .bind(s.id.to_string())
    .bind(SessionState::Working.as_str())
    .execute(state.pool())
    .await?;
    s.state = SessionState::Stopped;
    s.ended_at = Some(deadline);
    s.etag += 1;
    Ok(s)
}

/// Parses a session id from a URL; `None` when it is not a GUID (any of the usual GUID spellings).
pub fn parse_id(id: &str) -> Option<Uuid> {
    Uuid::parse_str(id.trim()).ok()
}

/// The caller's session `id` in any state. 404 for a malformed or unknown id and for another user's session.
pub async fn find(state: &AppState, user: &CurrentUser, id: &str) -> StoreResult<RestoreSession> {
    let not_found = || StoreError::NotFound(NOT_FOUND_MESSAGE.into());
    let uuid = parse_id(id).ok_or_else(not_found)?;
    match get(state, uuid).await? {
        Some(s) if s.owner == user.id => Ok(s),
        _ => Err(not_found()),
    }
}

/// The caller's working session `id`, refreshing its last use. [`StoreError::NotFound`] for unknown ids or another
/// user's session, [`StoreError::SessionStopped`] for a stopped one.
pub async fn require_working(state: &AppState, user: &CurrentUser, id: &str) -> StoreResult<RestoreSession> {
    let mut s = find(state, user, id).await?;
    if s.state != SessionState::Working {
        return Err(StoreError::SessionStopped);
    }
    let now = Utc::now();
    // Refreshed at most once a minute (or a quarter of a shorter timeout) to spare the database writes.
    let every =
        Duration::from_std(state.session_idle_timeout.get() / 4).unwrap_or(Duration::MAX).min(Duration::seconds(60));
    if now - s.last_used > every {
        sqlx::query("UPDATE api_restore_sessions SET last_used = $1 WHERE id = $2")
            .bind(micros(now))
            .bind(s.id.to_string())
            .execute(state.pool())
            .await?;
        s.last_used = from_micros(micros(now));
    }
    Ok(s)
}

/// Filters of [`list`].
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Creation at or after.
    pub start_from: Option<DateTime<Utc>>,
    /// Creation at or before.
    pub start_to: Option<DateTime<Utc>>,
    /// End at or after.
    pub end_from: Option<DateTime<Utc>>,
    /// End at or before.
    pub end_to: Option<DateTime<Utc>>,
    /// Order by end time instead of creation time.
    pub order_by_end: bool,
    /// Ascending (default: descending).
    pub ascending: bool,
}

/// The sessions of `owner` matching `filter`, a page of them and the total count.
pub async fn list(
    state: &AppState,
    owner: &str,
    filter: &ListFilter,
    offset: i64,
    limit: i64,
) -> StoreResult<(Vec<RestoreSession>, i64)> {
    let mut cond = String::from("owner = $1");
    let mut binds: Vec<i64> = Vec::new();
    for (col, op, v) in [
        ("created_at", ">=", filter.start_from),
        ("created_at", "<=", filter.start_to),
        ("ended_at", ">=", filter.end_from),
        ("ended_at", "<=", filter.end_to),
    ] {
        if let Some(v) = v {
            binds.push(micros(v));
            cond.push_str(&format!(" AND {col} {op} ${}", binds.len() + 1));
        }
    }
    let col = if filter.order_by_end { "ended_at" } else { "created_at" };
    let dir = if filter.ascending { "ASC" } else { "DESC" };
    let sql = format!(
        "SELECT {SESSION_COLS} FROM api_restore_sessions WHERE {cond} ORDER BY {col} {dir}, id {dir} LIMIT ${} OFFSET ${}",
        binds.len() + 2,
        binds.len() + 3
    );
    let mut q = sqlx::query(&sql).bind(owner);
    for b in &binds {
        q = q.bind(*b);
    }
    let rows = q.bind(limit).bind(offset).fetch_all(state.pool()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(expire_if_idle(state, session_from_row(r)?).await?);
    }
    let csql = format!("SELECT COUNT(*) AS n FROM api_restore_sessions WHERE {cond}");
    let mut cq = sqlx::query(&csql).bind(owner);
    for b in &binds {
        cq = cq.bind(*b);
    }
    let total: i64 = cq.fetch_one(state.pool()).await?.try_get("n")?;
    Ok((out, total))
}

/// Stops a session (idempotent: stopping a stopped session changes nothing). Returns the session afterwards.
pub async fn stop(state: &AppState, id: Uuid) -> StoreResult<()> {
    sqlx::query(
        "UPDATE api_restore_sessions SET state = $1, ended_at = $2, etag = etag + 1 WHERE id = $3 AND state = $4",
    )
    .bind(SessionState::Stopped.as_str())
    .bind(micros(Utc::now()))
    .bind(id.to_string())
    .bind(SessionState::Working.as_str())
    .execute(state.pool())
    .await?;
    Ok(())
}

/// Sets the result, the details text and (when `stop`) stops the session — for restore operations that finish.
pub async fn finish(state: &AppState, id: Uuid, result: Outcome, details: Option<&str>, stop: bool) -> StoreResult<()> {
    let pool = state.pool();
    let now = micros(Utc::now());
    sqlx::query(
        "UPDATE api_restore_sessions SET result = $1, details = COALESCE($2, details), etag = etag + 1,
            state = CASE WHEN $3 = 1 THEN $4 ELSE state END,
            ended_at = CASE WHEN $3 = 1 AND ended_at IS NULL THEN $5 ELSE ended_at END
         WHERE id = $6",
    )
    .bind(result.as_str())
    .bind(details)
    .bind(stop as i64)
    .bind(SessionState::Stopped.as_str())
    .bind(now)
    .bind(id.to_string())
    .execute(pool)
    .await?;
    Ok(())
}

const EVENT_COLS: &str = "session_id, seq, id, kind, status, started_at, ended_at, title, message, item_name, \
    item_type, item_size, source, target, user_id, group_id, site_id, team_id";

fn event_from_row(r: &AnyRow) -> StoreResult<SessionEvent> {
    Ok(SessionEvent {
        id: parse_uuid_col(&r.try_get::<String, _>("id")?)?,
        session_id: parse_uuid_col(&r.try_get::<String, _>("session_id")?)?,
        order: r.try_get("seq")?,
        kind: r.try_get("kind")?,
        status: Outcome::parse(&r.try_get::<String, _>("status")?),
        started_at: from_micros(r.try_get("started_at")?),
        ended_at: opt_micros(r.try_get("ended_at")?),
        title: r.try_get("title")?,
        message: r.try_get("message")?,
        item_name: r.try_get("item_name")?,
        item_type: r.try_get("item_type")?,
        item_size: r.try_get("item_size")?,
        source: r.try_get("source")?,
        target: r.try_get("target")?,
        user_id: r.try_get("user_id")?,
        group_id: r.try_get("group_id")?,
        site_id: r.try_get("site_id")?,
        team_id: r.try_get("team_id")?,
    })
}

/// Appends an event to `session` (and bumps the session's eTag).
pub async fn add_event(state: &AppState, session: Uuid, ev: NewEvent) -> StoreResult<()> {
    record_event(state, session, ev).await.map(|_| ())
}

/// Appends an event and returns it (its id serves [`finish_event`]).
pub async fn record_event(state: &AppState, session: Uuid, ev: NewEvent) -> StoreResult<SessionEvent> {
    let pool = state.pool();
    let now = from_micros(micros(Utc::now()));
    let status = ev.status.unwrap_or(Outcome::Success);
    let started = from_micros(micros(ev.started_at.unwrap_or(now)));
    let ended = match (ev.ended_at, status) {
        (Some(t), _) => Some(from_micros(micros(t))),
        (None, Outcome::Running) => None,
        (None, _) => Some(now),
    };
    let id = Uuid::new_v4();
    // The next order number; retried when two writers race for the same one.
    for _ in 0..8 {
        let next: i64 =
            sqlx::query("SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM api_restore_session_events WHERE session_id = $1")
                .bind(session.to_string())
                .fetch_one(pool)
                .await?
                .try_get("n")?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO api_restore_session_events ({EVENT_COLS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        ))
        .bind(session.to_string())
        .bind(next)
        .bind(id.to_string())
        .bind(&ev.kind)
        .bind(status.as_str())
        .bind(micros(started))
        .bind(ended.map(micros))
        .bind(&ev.title)
        .bind(&ev.message)
        .bind(&ev.item_name)
        .bind(&ev.item_type)
        .bind(ev.item_size)
        .bind(&ev.source)
        .bind(&ev.target)
        .bind(&ev.user_id)
        .bind(&ev.group_id)
        .bind(&ev.site_id)
        .bind(&ev.team_id)
        .execute(pool)
        .await;
        match inserted {
            Ok(_) => {
                sqlx::query("UPDATE api_restore_sessions SET etag = etag + 1 WHERE id = $1")
                    .bind(session.to_string())
                    .execute(pool)
                    .await?;
                return Ok(SessionEvent {
                    id,
                    session_id: session,
                    order: next,
                    kind: ev.kind,
                    status,
                    started_at: started,
                    ended_at: ended,
                    title: ev.title,
                    message: ev.message,
                    item_name: ev.item_name,
                    item_type: ev.item_type,
                    item_size: ev.item_size,
                    source: ev.source,
                    target: ev.target,
                    user_id: ev.user_id,
                    group_id: ev.group_id,
                    site_id: ev.site_id,
                    team_id: ev.team_id,
                });
            }
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Internal("Could not record the restore session event.".into()))
}

/// Sets the final status (and message, when given) of a running event.
pub async fn finish_event(
    state: &AppState,
    session: Uuid,
    event: Uuid,
    status: Outcome,
    message: Option<&str>,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE api_restore_session_events SET status = $1, ended_at = $2, message = COALESCE($3, message)
         WHERE session_id = $4 AND id = $5",
    )
    .bind(status.as_str())
    .bind(micros(Utc::now()))
    .bind(message)
    .bind(session.to_string())
    .bind(event.to_string())
    .execute(state.pool())
    .await?;
    sqlx::query("UPDATE api_restore_sessions SET etag = etag + 1 WHERE id = $1")
        .bind(session.to_string())
        .execute(state.pool())
        .await?;
    Ok(())
}

/// A page of the events of `session` in order, and their total.
pub async fn list_events(
    state: &AppState,
    session: Uuid,
    offset: i64,
    limit: i64,
) -> StoreResult<(Vec<SessionEvent>, i64)> {
    let rows = sqlx::query(&format!(
        "SELECT {EVENT_COLS} FROM api_restore_session_events WHERE session_id = $1 ORDER BY seq LIMIT $2 OFFSET $3"
    ))
    .bind(session.to_string())
    .bind(limit)
    .bind(offset)
    .fetch_all(state.pool())
    .await?;
    let events = rows.iter().map(event_from_row).collect::<Result<Vec<_>, _>>()?;
    let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM api_restore_session_events WHERE session_id = $1")
        .bind(session.to_string())
        .fetch_one(state.pool())
        .await?
        .try_get("n")?;
    Ok((events, total))
}

/// One event of `session`; `None` for a malformed or unknown id.
pub async fn get_event(state: &AppState, session: Uuid, event: &str) -> StoreResult<Option<SessionEvent>> {
    let Some(eid) = parse_id(event) else { return Ok(None) };
    let row =
        sqlx::query(&format!("SELECT {EVENT_COLS} FROM api_restore_session_events WHERE session_id = $1 AND id = $2"))
            .bind(session.to_string())
            .bind(eid.to_string())
            .fetch_optional(state.pool())
            .await?;
    row.as_ref().map(event_from_row).transpose()
}

/// .NET round-trip format with 7 fractional digits: `2026-01-05T09:00:00.0000000Z`.
pub fn dotnet_time(t: DateTime<Utc>) -> String {
    format!("{}.{:07}Z", t.format("%Y-%m-%dT%H:%M:%S"), t.timestamp_subsec_nanos() / 100)
}

/// A .NET `TimeSpan` string `hh:mm:ss.fffffff` (days as `d.hh:mm:ss.fffffff`).
pub fn dotnet_duration(d: Duration) -> String {
    let d = if d < Duration::zero() { Duration::zero() } else { d };
    let total_ticks = d.num_microseconds().unwrap_or(i64::MAX) * 10;
    let ticks = total_ticks % 10_000_000;
    let secs = total_ticks / 10_000_000;
    let (days, h, m, s) = (secs / 86_400, (secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    if days > 0 {
        format!("{days}.{h:02}:{m:02}:{s:02}.{ticks:07}")
    } else {
        format!("{h:02}:{m:02}:{s:02}.{ticks:07}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn kinds_parse_any_case() {
        assert_eq!(SessionKind::parse("VEOD"), Some(SessionKind::Veod));
        assert_eq!(SessionKind::parse("vesp"), Some(SessionKind::Vesp));
        assert_eq!(SessionKind::parse("Vex"), Some(SessionKind::Vex));
        assert_eq!(SessionKind::parse("vet"), Some(SessionKind::Vet));
        assert_eq!(SessionKind::parse("x"), None);
    }

    #[test]
    fn dotnet_formats() {
        let t = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap() + Duration::microseconds(1234);
        assert_eq!(dotnet_time(t), "2026-01-05T09:00:00.0012340Z");
        assert_eq!(dotnet_duration(Duration::milliseconds(61_500)), "00:01:01.5000000");
        assert_eq!(dotnet_duration(Duration::hours(26)), "1.02:00:00.0000000");
        assert_eq!(dotnet_duration(Duration::seconds(-3)), "00:00:00.0000000");
    }
}
