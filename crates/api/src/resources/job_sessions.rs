//! Backup history over the API (v6–v8): `/JobSessions` (every job's runs, newest first; also
//! `/Jobs/{jobId}/JobSessions`), one session, the users and sites it processed (`…/ProcessedObjects`, v7+), and its
//! log (`…/LogItems`, one by id; an item is named by its path and
//! container, `item 'q3.xlsx' backed up (OneDrive of Adele Vance: /Reports/q3.xlsx)`). Every backup is a job session
//! whether the scheduler, `vault365 backup` or the API started it; the answers read the catalog's sessions and
//! session log ([`repo::catalog::Catalog::job_sessions`], [`repo::catalog::Catalog::log_page`]).
//!
//! Decisions: unknown ids are 404; `jobType=Copy` matches no session (there are no backup copy jobs);
//! `type=Running`/`Stop` match no log item. A log item's id
//! encodes its position in the session's log (see [`crate::wire::job_session::log_item_id`]).

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use repo::catalog::{LogEntry, LogFilter, Page as CatalogPage, Session, SessionFilter, SessionStatus};
use uuid::Uuid;

use crate::edge::error::ApiError;
use crate::edge::paging::{Hrefs, Page, PageContext, Paging};
use crate::edge::query::LenientQuery;
use crate::resources::organizations::{job_by_id, repository_uuid};
use crate::state::AppState;
use crate::wire::job_session::{
    log_item_seq, session_not_found, JobSessionQuery, JobSessionView, JobType, LogItemQuery, LogItemType, LogItemView,
    ProcessedObjectView, SessionContext, StatusFilter,
};
use crate::wire::Json;

/// What a log entry is about, by path and container as of the session's backup (not by Graph id).
async fn described(state: &AppState, s: &Session, e: &LogEntry) -> Result<Option<String>, ApiError> {
    match &e.item_ref {
        Some(r) => Ok(state.catalog.describe_item(r, s.started_at).await?),
        None => Ok(None),
    }
}

/// The session `id` names (404 otherwise).
async fn session_by_id(state: &AppState, id: &str) -> Result<Session, ApiError> {
    let id = Uuid::parse_str(id.trim()).map_err(|_| session_not_found())?;
    state.catalog.session(id).await?.ok_or_else(session_not_found)
}

/// The resources of `sessions`, each knowing whether an earlier run of its job left a backup (else it is `Full`).
async fn views(state: &AppState, hrefs: &Hrefs, sessions: &[Session]) -> Result<Vec<JobSessionView>, ApiError> {
    let mut runs_of_job: HashMap<Uuid, Vec<Session>> = HashMap::new();
    let (repository_id, now) = (repository_uuid(state), Utc::now());
    let mut out = Vec::with_capacity(sessions.len());
    for s in sessions {
        if let Entry::Vacant(slot) = runs_of_job.entry(s.job_id) {
            slot.insert(state.catalog.sessions(s.job_id).await?);
        }
        let earlier = runs_of_job[&s.job_id].iter().take_while(|r| r.id != s.id);
        let first_of_job =
            !earlier.into_iter().any(|r| matches!(r.status, SessionStatus::Success | SessionStatus::Warning));
        out.push(JobSessionView::new(hrefs, s, SessionContext { first_of_job, repository_id, now }));
    }
    Ok(out)
}

/// Job sessions, newest first: every backup run, with its progress, statistics and state.
#[utoipa::path(
    get,
    path = "/{version}/JobSessions",
    tag = "JobSession",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("jobId" = Option<String>, Query, description = "Sessions of this job"),
        ("jobType" = Option<JobType>, Query, description = "Backup (Copy: none)"),
        ("status" = Option<String>, Query, description = "Running, Succeeded, Warning, Failed, Stopped"),
        ("endTimeLowerBound" = Option<String>, Query, description = "Ended at or after (UTC)"),
        ("endTimeUpperBound" = Option<String>, Query, description = "Ended at or before (UTC)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    responses(
        (status = 200, description = "Page of job sessions", body = [JobSessionView]),
        (status = 400, description = "Bad filter (named)", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown job (…/Jobs/{jobId}/JobSessions)", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list_job_sessions(
    State(state): State<AppState>,
    hrefs: Hrefs,
    ctx: PageContext,
    paging: Paging,
    Path(path): Path<HashMap<String, String>>,
    q: LenientQuery,
) -> Result<Response, ApiError> {
    let f: JobSessionQuery = q.typed()?;
    let job_id = match path.get("jobId") {
        Some(id) => Some(job_by_id(&state, id).await?.id),
        None => f.job_id,
    };
    let filter = SessionFilter {
        job_id,
        status: f.status.map(StatusFilter::status),
        ended_from: f.end_time_lower_bound,
        ended_to: f.end_time_upper_bound,
        organization_id: None,
    };
    let matches_none = f.job_type == Some(JobType::Copy);
    let page = match matches_none {
        true => CatalogPage { rows: Vec::new(), total: 0 },
        false => state.catalog.job_sessions(&filter, paging.offset_i64(), paging.limit_i64()).await?,
    };
    let out = views(&state, &hrefs, &page.rows).await?;
    Ok(Page::new(&ctx, paging, out).with_total_count(page.total.max(0) as u64).into_response())
}

/// One job session.
#[utoipa::path(
    get,
    path = "/{version}/JobSessions/{jobSessionsId}",
    tag = "JobSession",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("jobSessionsId" = String, Path, description = "Job session id")
    ),
    responses(
        (status = 200, description = "The session", body = JobSessionView),
        (status = 404, description = "Unknown session", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_job_session(
    State(state): State<AppState>,
    hrefs: Hrefs,
    Path((_v, id)): Path<(String, String)>,
) -> Result<Json<JobSessionView>, ApiError> {
    let s = session_by_id(&state, &id).await?;
    let mut one = views(&state, &hrefs, std::slice::from_ref(&s)).await?;
    Ok(Json(one.remove(0)))
}

/// The log of a job session: what it backed up, skipped or failed, in order (`orderAsc=false`: newest first).
#[utoipa::path(
    get,
    path = "/{version}/JobSessions/{sessionId}/LogItems",
    tag = "JobSession",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("sessionId" = String, Path, description = "Job session id"),
        ("type" = Option<String>, Query, description = "Success, Warning or Error (Running, Stop: none)"),
        ("orderAsc" = Option<bool>, Query, description = "Oldest first (default true)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    responses(
        (status = 200, description = "Page of log items", body = [LogItemView]),
        (status = 400, description = "Bad filter (named)", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list_log_items(
    State(state): State<AppState>,
    hrefs: Hrefs,
    ctx: PageContext,
    paging: Paging,
    Path((_v, id)): Path<(String, String)>,
    q: LenientQuery,
) -> Result<Response, ApiError> {
    let s = session_by_id(&state, &id).await?;
    let f: LogItemQuery = q.typed()?;
    let page = match f.r#type {
        Some(t) if t.level().is_none() => CatalogPage { rows: Vec::new(), total: 0 },
        t => {
            let filter = LogFilter { level: t.and_then(LogItemType::level), ascending: f.order_asc.unwrap_or(true) };
            state.catalog.log_page(s.id, &filter, paging.offset_i64(), paging.limit_i64()).await?
        }
    };
    let mut out = Vec::with_capacity(page.rows.len());
    for e in &page.rows {
        let item = described(&state, &s, e).await?;
        out.push(LogItemView::new(&hrefs, s.id, e, item.as_deref()));
    }
    Ok(Page::new(&ctx, paging, out).with_total_count(page.total.max(0) as u64).into_response())
}

/// The users and sites a job session processed, and how each went (v7+).
#[utoipa::path(
    get,
    path = "/{version}/JobSessions/{sessionId}/ProcessedObjects",
    tag = "JobSession",
    params(
        ("version" = String, Path, description = "API version: v7 … v8"),
        ("sessionId" = String, Path, description = "Job session id"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    responses(
        (status = 200, description = "Page of processed objects: users, then sites", body = [ProcessedObjectView]),
        (status = 404, description = "Unknown session", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list_processed_objects(
    State(state): State<AppState>,
    hrefs: Hrefs,
    ctx: PageContext,
    paging: Paging,
    Path((_v, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let s = session_by_id(&state, &id).await?;
    let page = state.catalog.processed_objects(s.id, paging.offset_i64(), paging.limit_i64()).await?;
    let out: Vec<ProcessedObjectView> = page.rows.iter().map(|o| ProcessedObjectView::new(&hrefs, s.id, o)).collect();
    Ok(Page::new(&ctx, paging, out).with_total_count(page.total.max(0) as u64).into_response())
}

/// One log item of a job session.
#[utoipa::path(
    get,
    path = "/{version}/JobSessions/{sessionId}/LogItems/{logItemId}",
    tag = "JobSession",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("sessionId" = String, Path, description = "Job session id"),
        ("logItemId" = String, Path, description = "Log item id")
    ),
    responses(
        (status = 200, description = "The log item", body = LogItemView),
        (status = 404, description = "Unknown session or log item", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_log_item(
    State(state): State<AppState>,
    hrefs: Hrefs,
    Path((_v, id, item)): Path<(String, String, String)>,
) -> Result<Json<LogItemView>, ApiError> {
    let s = session_by_id(&state, &id).await?;
    let not_found = || ApiError::not_found("Log item not found.");
    let seq = log_item_seq(s.id, &item).ok_or_else(not_found)?;
    let entry = state.catalog.log_entry(s.id, seq).await?.ok_or_else(not_found)?;
    let item = described(&state, &s, &entry).await?;
    Ok(Json(LogItemView::new(&hrefs, s.id, &entry, item.as_deref())))
}
