//! Restore sessions: list, get, stop (`/Action {"stop":null}` in v2–v5, `/Stop` in v6+), the session's organization,
//! events and (v8) statistics (veeam-api-notes §6).
//!
//! * `GET /RestoreSessions` — only the caller's sessions; a plain array in v2–v4, a page from v5 (with
//!   `totalCount`). Filters `startTimeFrom`/`startTimeTo`, `endTimeFrom`/`endTimeTo`, `orderBy`
//!   (`CreationTime`|`EndTime`), `orderAsc` (default false: newest first) are accepted in every version.
//! * `GET /RestoreSessions/{id}` — the session resource (§6.2), in any state.
//! * Stop: v2–v5 `POST …/Action {"stop":null}` → 200 with no body; v6/v7 `POST …/Stop` → 200; v8 → 204. Stopping a
//!   stopped session succeeds again (idempotent). Both spellings are accepted in every version. A Stop also stops
//!   the restores running from the session, on any node ([`crate::store::restore_stop`]): a v8 restore operation ends
//!   `Stopped` by itself once its current item is done.
//! * `GET …/Organization` — the browse root (§6.1): requires a working session.
//! * `GET …/Events`, `…/Events/{eventId}` — a page in every version, events in order; also for stopped sessions.
//! * `GET …/Statistics` — totals of the session's `Restore` events (zeros for a browse-only session); documented for
//!   v8, served in every version.
//!
//! Another user's session is 404 everywhere. Times are .NET round-trip strings (`…T09:00:00.0000000Z`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::ctx::auth::CurrentUser;
use crate::edge::era::Era;
use crate::edge::error::ApiError;
use crate::edge::lenient::LenientJson;
use crate::edge::paging::{json_response, Hrefs, Listing, Page, PageContext, Paging};
use crate::edge::query::LenientQuery;
use crate::edge::version::ApiVersion;
use crate::state::AppState;
use crate::store::restore_jobs;
use crate::store::sessions::{self, ListFilter, RestoreSession, SessionEvent};
use crate::wire::session::{
    BackupOrganization, RestoreSessionView, SessionAction, SessionEventView, SessionListQuery, SessionStatistics,
};
use crate::wire::Done;

/// Every event of a session (bounded).
async fn all_events(state: &AppState, session: uuid::Uuid) -> Result<Vec<SessionEvent>, ApiError> {
    Ok(sessions::list_events(state, session, 0, 100_000).await?.0)
}

/// The session resource (§6.2) for `hrefs`' version.
pub(crate) async fn session_resource(
    state: &AppState,
    hrefs: &Hrefs,
    s: &RestoreSession,
) -> Result<RestoreSessionView, ApiError> {
    let org_name = state.catalog.organization(s.organization_id).await?.map(|o| o.name).unwrap_or_default();
    let events = all_events(state, s.id).await?;
    Ok(RestoreSessionView::new(hrefs, s, &org_name, &events))
}

// ---------------------------------------------------------------------------------------------------------------
// Handlers.

fn list_filter(f: &SessionListQuery) -> Result<ListFilter, ApiError> {
    Ok(ListFilter {
        start_from: f.start_time_from,
        start_to: f.start_time_to,
        end_from: f.end_time_from,
        end_to: f.end_time_to,
        order_by_end: f.order_by_end()?,
        ascending: f.order_asc.unwrap_or(false),
    })
}

/// The caller's restore sessions (v2–v4 array, v5+ page).
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions",
    tag = "RestoreSession",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("offset" = Option<u64>, Query, description = "Rows to skip (v5+)"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000; v5+)"),
        ("startTimeFrom" = Option<String>, Query, description = "Created at or after (UTC)"),
        ("startTimeTo" = Option<String>, Query, description = "Created at or before (UTC)"),
        ("endTimeFrom" = Option<String>, Query, description = "Ended at or after (v8)"),
        ("endTimeTo" = Option<String>, Query, description = "Ended at or before (v8)"),
        ("orderBy" = Option<String>, Query, description = "CreationTime (default) or EndTime (v8)"),
        ("orderAsc" = Option<bool>, Query, description = "Ascending order (default false; v8)")
    ),
    responses(
        (status = 200, description = "v2–v4: array; v5+: page of sessions", body = [RestoreSessionView]),
        (status = 400, description = "Bad filter", body = crate::openapi::RestExceptionInfo),
        (status = 401, description = "Not authenticated", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    hrefs: Hrefs,
    ctx: PageContext,
    q: LenientQuery,
) -> Result<Response, ApiError> {
    let filter = list_filter(&q.typed()?)?;
    let listing = Listing::of(version, Era::new(5, ApiVersion::MAX), &q)?;
    let (offset, limit) = listing.offset_limit();
    let (rows, total) = sessions::list(&state, &user.id, &filter, offset, limit).await?;
    let mut org_names = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for s in &rows {
        if let std::collections::hash_map::Entry::Vacant(slot) = org_names.entry(s.organization_id) {
            slot.insert(state.catalog.organization(s.organization_id).await?.map(|o| o.name).unwrap_or_default());
        }
        let events = all_events(&state, s.id).await?;
        out.push(RestoreSessionView::new(&hrefs, s, &org_names[&s.organization_id], &events));
    }
    Ok(listing.answer(&ctx, out, total.max(0) as usize))
}

/// One of the caller's restore sessions, in any state.
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}",
    tag = "RestoreSession",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id")
    ),
    responses(
        (status = 200, description = "The session", body = RestoreSessionView),
        (status = 404, description = "Unknown id or another user's session", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_one(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    Path((_v, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let s = sessions::find(&state, &user, &id).await?;
    Ok(json_response(StatusCode::OK, &session_resource(&state, &hrefs, &s).await?))
}

/// v2–v5: `{"stop": null}` stops the session (200, no body).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Action",
    tag = "RestoreSession",
    params(
        ("version" = String, Path, description = "API version: v2 … v5"),
        ("id" = String, Path, description = "Restore session id")
    ),
    request_body(content = Object, description = "`{\"stop\": null}`"),
    responses(
        (status = 200, description = "Stopped (also when already stopped)"),
        (status = 400, description = "Missing or unknown action", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown id or another user's session", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn action(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path((_v, id)): Path<(String, String)>,
    LenientJson(SessionAction::Stop): LenientJson<SessionAction>,
) -> Result<Done, ApiError> {
    let s = sessions::find(&state, &user, &id).await?;
    restore_jobs::stop(&state, &s).await?;
    Ok(Done(version))
}

/// v6+: stops the session (v6/v7 200, v8 204; idempotent).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/stop",
    tag = "RestoreSession",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id")
    ),
    responses(
        (status = 200, description = "Stopped (v6/v7)"),
        (status = 204, description = "Stopped (v8)"),
        (status = 404, description = "Unknown id or another user's session", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn stop(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path((_v, id)): Path<(String, String)>,
) -> Result<Done, ApiError> {
    let s = sessions::find(&state, &user, &id).await?;
    restore_jobs::stop(&state, &s).await?;
    Ok(Done(version))
}

/// The organization of a working session: the root of browsing.
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization",
    tag = "RestoreSession",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id")
    ),
    responses(
        (status = 200, description = "The organization as of the session's point in time", body = BackupOrganization),
        (status = 404, description = "Unknown id or another user's session", body = crate::openapi::RestExceptionInfo),
        (status = 409, description = "v8: the session is stopped", body = crate::openapi::RestExceptionInfo),
        (status = 500, description = "v2–v7: the session is stopped", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn organization(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    Path((_v, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let s = crate::ctx::working::session(&state, &user, &id).await?;
    let org = state
        .catalog
        .organization(s.organization_id)
        .await?
        .ok_or_else(|| ApiError::not_found("The organization of this restore session no longer exists."))?;
    Ok(json_response(StatusCode::OK, &BackupOrganization::new(&hrefs, &s, &org)))
}

/// The events of a session, in order (a page in every version).
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Events",
    tag = "RestoreSession",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    responses(
        (status = 200, description = "Page of events", body = [SessionEventView]),
        (status = 404, description = "Unknown id or another user's session", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn events(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    ctx: PageContext,
    paging: Paging,
    Path((_v, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let s = sessions::find(&state, &user, &id).await?;
    let (rows, total) = sessions::list_events(&state, s.id, paging.offset_i64(), paging.limit_i64()).await?;
    let out: Vec<SessionEventView> = rows.iter().map(|e| SessionEventView::new(&hrefs, &s, e)).collect();
    Ok(Page::new(&ctx, paging, out).with_total_count(total.max(0) as u64).into_response())
}

/// One event of a session.
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Events/{event_id}",
    tag = "RestoreSession",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id"),
        ("event_id" = String, Path, description = "Event id")
    ),
    responses(
        (status = 200, description = "The event", body = SessionEventView),
        (status = 404, description = "Unknown session or event", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn event(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    Path((_v, id, event_id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let s = sessions::find(&state, &user, &id).await?;
    let e = sessions::get_event(&state, s.id, &event_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Restore session event not found."))?;
    Ok(json_response(StatusCode::OK, &SessionEventView::new(&hrefs, &s, &e)))
}

/// Restore statistics: totals of the session's `Restore` events (v8; zeros for a browse-only session).
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Statistics",
    tag = "RestoreSession",
    params(
        ("version" = String, Path, description = "API version: v8 (served in every version)"),
        ("id" = String, Path, description = "Restore session id")
    ),
    responses(
        (status = 200, description = "Statistics", body = SessionStatistics),
        (status = 404, description = "Unknown id or another user's session", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn statistics(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((_v, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let s = sessions::find(&state, &user, &id).await?;
    let events = all_events(&state, s.id).await?;
    Ok(json_response(StatusCode::OK, &SessionStatistics::new(s.kind, &events)))
}
