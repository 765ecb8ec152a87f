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
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::{OpenApi, ToSchema};

use crate::ctx::auth::CurrentUser;
use crate::edge::error::ApiError;
use crate::edge::lenient::LenientJson;
use crate::edge::paging::{json_response, Hrefs, Links, Page, PageContext, Paging};
use crate::edge::query::LenientQuery;
use crate::edge::version::ApiVersion;
use crate::state::AppState;
use crate::store::restore_jobs;
use crate::store::sessions::{self, dotnet_duration, dotnet_time, ListFilter, Outcome, RestoreSession, SessionEvent};

/// Authenticated routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/{version}/RestoreSessions", get(list))
        .route("/{version}/RestoreSessions/{id}", get(get_one))
        .route("/{version}/RestoreSessions/{id}/Action", post(action))
        .route("/{version}/RestoreSessions/{id}/stop", post(stop))
        .route("/{version}/RestoreSessions/{id}/Organization", get(organization))
        .route("/{version}/RestoreSessions/{id}/Events", get(events))
        .route("/{version}/RestoreSessions/{id}/Events/{event_id}", get(event))
        .route("/{version}/RestoreSessions/{id}/Statistics", get(statistics))
}

#[derive(OpenApi)]
#[openapi(
    paths(list, get_one, action, stop, organization, events, event, statistics),
    components(schemas(RestoreSessionDoc, RestoreSessionEventDoc, RestoreSessionStatisticsDoc, BackupOrganizationDoc)),
    tags((name = "RestoreSession", description = "Restore sessions, their events and statistics"))
)]
struct RestoreSessionsDoc;

/// Documented paths.
pub fn openapi() -> utoipa::openapi::OpenApi {
    RestoreSessionsDoc::openapi()
}

// ---------------------------------------------------------------------------------------------------------------
// Documentation-only schemas (handlers build JSON per era).

/// `RESTRestoreSession`.
#[derive(Serialize, ToSchema)]
#[schema(as = RESTRestoreSession)]
#[allow(dead_code)]
pub(crate) struct RestoreSessionDoc {
    id: String,
    name: String,
    /// Organization name.
    organization: String,
    /// `Vex`, `Veod`, `Vesp`, `Vet`.
    r#type: String,
    #[serde(rename = "creationTime")]
    creation_time: String,
    #[serde(rename = "endTime")]
    end_time: Option<String>,
    /// `Working` or `Stopped`.
    state: String,
    /// `Success`, `Warning` or `Failed`.
    result: String,
    #[serde(rename = "initiatedBy")]
    initiated_by: String,
    /// `"N items processed (S success, W warnings, F failed)"`.
    details: String,
    reason: Option<String>,
    /// v8: modification counter.
    #[serde(rename = "eTag")]
    e_tag: Option<i64>,
    /// `self`, `organization`, `restoreSessionEvents`.
    #[schema(value_type = Object)]
    _links: Value,
}

/// `RESTRestoreSessionEvent`.
#[derive(Serialize, ToSchema)]
#[schema(as = RESTRestoreSessionEvent)]
#[allow(dead_code)]
struct RestoreSessionEventDoc {
    id: String,
    /// `None`, `Save`, `Export`, `Send`, `Restore`, `View`.
    r#type: String,
    /// `Running`, `Success`, `Warning`, `Failed`, `Cancelled`, `Skipped`.
    status: String,
    #[serde(rename = "startTime")]
    start_time: String,
    #[serde(rename = "endTime")]
    end_time: Option<String>,
    /// .NET TimeSpan, `hh:mm:ss.fffffff`.
    duration: String,
    title: String,
    message: String,
    order: i32,
    /// v6+.
    #[serde(rename = "itemName")]
    item_name: Option<String>,
    /// v6+.
    #[serde(rename = "itemType")]
    item_type: Option<String>,
    /// v6+.
    #[serde(rename = "itemSizeBytes")]
    item_size_bytes: Option<i64>,
    /// v6+.
    source: Option<String>,
    /// v6+.
    target: Option<String>,
    #[schema(value_type = Object)]
    _links: Value,
}

/// `RESTRestoreSessionStatistics` (v8).
#[derive(Serialize, ToSchema)]
#[schema(as = RESTRestoreSessionStatistics)]
#[allow(dead_code)]
struct RestoreSessionStatisticsDoc {
    #[serde(rename = "totalItemsCount")]
    total_items_count: i64,
    #[serde(rename = "restoredItemsCount")]
    restored_items_count: i64,
    #[serde(rename = "failedItemsCount")]
    failed_items_count: i64,
    #[serde(rename = "skippedItemsCount")]
    skipped_items_count: i64,
    warnings: Vec<String>,
    errors: Vec<String>,
    /// `RESTItemRestoreDetailsComposed` per restored item.
    #[schema(value_type = Vec<Object>)]
    items: Vec<Value>,
}

/// `RESTBackupOrganization`: the organization of a restore session.
#[derive(Serialize, ToSchema)]
#[schema(as = RESTBackupOrganization)]
#[allow(dead_code)]
struct BackupOrganizationDoc {
    id: String,
    /// `"<organization> (<point in time>)"`.
    name: String,
    /// `Office365`.
    r#type: String,
    #[schema(value_type = Object)]
    _links: Value,
}

// ---------------------------------------------------------------------------------------------------------------
// Representations shared with the organizations module.

/// A point in time as C#'s `DateTime.ToString()` in en-US: `6/26/2017 3:07:39 PM`.
pub(crate) fn us_time(t: DateTime<Utc>) -> String {
    t.format("%-m/%-d/%Y %-I:%M:%S %p").to_string()
}

/// Counts of a session's restore events.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    total: i64,
    success: i64,
    warning: i64,
    failed: i64,
    skipped: i64,
}

fn is_restore_event(e: &SessionEvent) -> bool {
    e.kind.eq_ignore_ascii_case("Restore")
}

fn count(events: &[SessionEvent]) -> Counts {
    let mut c = Counts::default();
    for e in events.iter().filter(|e| is_restore_event(e)) {
        c.total += 1;
        match e.status {
            Outcome::Success => c.success += 1,
            Outcome::Warning => c.warning += 1,
            Outcome::Failed => c.failed += 1,
            Outcome::Skipped | Outcome::Cancelled => c.skipped += 1,
            Outcome::Running => {}
        }
    }
    c
}

/// Every event of a session (bounded).
async fn all_events(state: &AppState, session: uuid::Uuid) -> Result<Vec<SessionEvent>, ApiError> {
    Ok(sessions::list_events(state, session, 0, 100_000).await?.0)
}

fn session_links(hrefs: &Hrefs, s: &RestoreSession) -> Links {
    Links::new()
        .with("self", hrefs.href(&format!("RestoreSessions/{}", s.id)))
        .with("organization", hrefs.href(&format!("RestoreSessions/{}/Organization", s.id)))
        .with("restoreSessionEvents", hrefs.href(&format!("RestoreSessions/{}/Events", s.id)))
}

/// The session resource (§6.2) for `hrefs`' version.
pub(crate) async fn session_resource(state: &AppState, hrefs: &Hrefs, s: &RestoreSession) -> Result<Value, ApiError> {
    let org_name = state.catalog.organization(s.organization_id).await?.map(|o| o.name).unwrap_or_default();
    let events = all_events(state, s.id).await?;
    Ok(session_json(hrefs, s, &org_name, &events))
}

fn session_json(hrefs: &Hrefs, s: &RestoreSession, org_name: &str, events: &[SessionEvent]) -> Value {
    let c = count(events);
    let details = s.details.clone().unwrap_or_else(|| {
        format!("{} items processed ({} success, {} warnings, {} failed)", c.total, c.success, c.warning, c.failed)
    });
    let mut m = Map::new();
    m.insert("id".into(), json!(s.id));
    m.insert("name".into(), json!(s.name));
    m.insert("organization".into(), json!(org_name));
    m.insert("type".into(), json!(s.kind.as_str()));
    m.insert("creationTime".into(), json!(dotnet_time(s.created_at)));
    m.insert("endTime".into(), json!(s.ended_at.map(dotnet_time)));
    m.insert("state".into(), json!(s.state.as_str()));
    m.insert("result".into(), json!(s.result.as_str()));
    m.insert("initiatedBy".into(), json!(s.owner_name));
    m.insert("details".into(), json!(details));
    // A string in the vendor schema (not nullable): omitted when the client gave none.
    if let (true, Some(reason)) = (hrefs.version().is_verb_era(), &s.reason) {
        m.insert("reason".into(), json!(reason));
    }
    if hrefs.version().is_v8() {
        m.insert("eTag".into(), json!(s.etag));
    }
    m.insert("_links".into(), serde_json::to_value(session_links(hrefs, s)).unwrap_or(Value::Null));
    Value::Object(m)
}

fn event_json(hrefs: &Hrefs, s: &RestoreSession, e: &SessionEvent) -> Value {
    let v = hrefs.version();
    let end_or_now = e.ended_at.unwrap_or_else(Utc::now);
    let mut m = Map::new();
    m.insert("id".into(), json!(e.id));
    m.insert("type".into(), json!(if e.kind.is_empty() { "None" } else { e.kind.as_str() }));
    m.insert("status".into(), json!(e.status.as_str()));
    m.insert("startTime".into(), json!(dotnet_time(e.started_at)));
    m.insert("endTime".into(), json!(e.ended_at.map(dotnet_time)));
    m.insert("duration".into(), json!(dotnet_duration(end_or_now - e.started_at)));
    m.insert("title".into(), json!(e.title));
    m.insert("message".into(), json!(e.message));
    m.insert("order".into(), json!(e.order));
    if v.is_verb_era() {
        m.insert("itemName".into(), json!(e.item_name));
        m.insert("itemType".into(), json!(e.item_type));
        m.insert("itemSizeBytes".into(), json!(e.item_size));
        m.insert("source".into(), json!(e.source));
        m.insert("target".into(), json!(e.target));
    }
    if v.is_v8() {
        m.insert("organizationId".into(), json!(s.organization_id));
        m.insert("backedUpOrganizationId".into(), json!(s.organization_id.to_string()));
        m.insert("userId".into(), json!(e.user_id));
        m.insert("groupId".into(), json!(e.group_id));
        m.insert("siteId".into(), json!(e.site_id));
        m.insert("teamId".into(), json!(e.team_id));
    }
    let links = Links::new()
        .with("self", hrefs.href(&format!("RestoreSessions/{}/Events/{}", s.id, e.id)))
        .with("restoreSession", hrefs.href(&format!("RestoreSessions/{}", s.id)));
    m.insert("_links".into(), serde_json::to_value(links).unwrap_or(Value::Null));
    Value::Object(m)
}

// ---------------------------------------------------------------------------------------------------------------
// Handlers.

fn list_filter(q: &LenientQuery) -> Result<ListFilter, ApiError> {
    let order_by_end = match q.get_non_empty("orderBy") {
        None => false,
        Some(v) => match crate::edge::lenient::parse_enum(v, &["CreationTime", "EndTime"]) {
            Some("EndTime") => true,
            Some(_) => false,
            None => return Err(ApiError::bad_request("'orderBy' must be one of: CreationTime, EndTime")),
        },
    };
    Ok(ListFilter {
        start_from: q.get_datetime("startTimeFrom")?,
        start_to: q.get_datetime("startTimeTo")?,
        end_from: q.get_datetime("endTimeFrom")?,
        end_to: q.get_datetime("endTimeTo")?,
        order_by_end,
        ascending: q.get_bool("orderAsc")?.unwrap_or(false),
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
        (status = 200, description = "v2–v4: array; v5+: page of sessions", body = [RestoreSessionDoc]),
        (status = 400, description = "Bad filter", body = crate::openapi::RestExceptionInfo),
        (status = 401, description = "Not authenticated", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    hrefs: Hrefs,
    ctx: PageContext,
    q: LenientQuery,
) -> Result<Response, ApiError> {
    let filter = list_filter(&q)?;
    let paged = version.number() >= 5;
    let paging = if paged { Paging::from_query(&q)? } else { Paging { offset: 0, limit: 100_000 } };
    let (rows, total) = sessions::list(&state, &user.id, &filter, paging.offset_i64(), paging.limit_i64()).await?;
    let mut org_names = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for s in &rows {
        if let std::collections::hash_map::Entry::Vacant(slot) = org_names.entry(s.organization_id) {
            slot.insert(state.catalog.organization(s.organization_id).await?.map(|o| o.name).unwrap_or_default());
        }
        let events = all_events(&state, s.id).await?;
        out.push(session_json(&hrefs, s, &org_names[&s.organization_id], &events));
    }
    if paged {
        Ok(Page::new(&ctx, paging, out).with_total_count(total.max(0) as u64).into_response())
    } else {
        Ok(json_response(StatusCode::OK, &out))
    }
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
        (status = 200, description = "The session", body = RestoreSessionDoc),
        (status = 404, description = "Unknown id or another user's session", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn get_one(
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
async fn action(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path((_v, id)): Path<(String, String)>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    let s = sessions::find(&state, &user, &id).await?;
    body.action(&["stop"])?;
    restore_jobs::stop(&state, &s).await?;
    Ok(stopped_response(version))
}

fn stopped_response(version: ApiVersion) -> Response {
    if version.is_v8() {
        StatusCode::NO_CONTENT.into_response()
    } else {
        StatusCode::OK.into_response()
    }
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
async fn stop(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path((_v, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let s = sessions::find(&state, &user, &id).await?;
    restore_jobs::stop(&state, &s).await?;
    Ok(stopped_response(version))
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
        (status = 200, description = "The organization as of the session's point in time", body = BackupOrganizationDoc),
        (status = 404, description = "Unknown id or another user's session", body = crate::openapi::RestExceptionInfo),
        (status = 409, description = "v8: the session is stopped", body = crate::openapi::RestExceptionInfo),
        (status = 500, description = "v2–v7: the session is stopped", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn organization(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    hrefs: Hrefs,
    Path((_v, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let s = crate::ctx::working::session(&state, &user, &id, version).await?;
    let org = state
        .catalog
        .organization(s.organization_id)
        .await?
        .ok_or_else(|| ApiError::not_found("The organization of this restore session no longer exists."))?;
    let when = s.browse_at.or(s.requested_at).unwrap_or(s.created_at);
    let base = format!("RestoreSessions/{}/Organization", s.id);
    let mut links = Links::new().with("self", hrefs.href(&base));
    match s.kind {
        sessions::SessionKind::Veod => links.insert("onedrives", hrefs.href(&format!("{base}/OneDrives"))),
        sessions::SessionKind::Vesp => links.insert("sites", hrefs.href(&format!("{base}/Sites"))),
        sessions::SessionKind::Vex => links.insert("mailboxes", hrefs.href(&format!("{base}/Mailboxes"))),
        sessions::SessionKind::Vet => links.insert("teams", hrefs.href(&format!("{base}/Teams"))),
    }
    links.insert("restoreSession", hrefs.href(&format!("RestoreSessions/{}", s.id)));
    let body = json!({
        "id": org.id,
        "name": format!("{} ({})", org.name, us_time(when)),
        "type": "Office365",
        "_links": links,
    });
    Ok(json_response(StatusCode::OK, &body))
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
        (status = 200, description = "Page of events", body = [RestoreSessionEventDoc]),
        (status = 404, description = "Unknown id or another user's session", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn events(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    ctx: PageContext,
    paging: Paging,
    Path((_v, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let s = sessions::find(&state, &user, &id).await?;
    let (rows, total) = sessions::list_events(&state, s.id, paging.offset_i64(), paging.limit_i64()).await?;
    let out: Vec<Value> = rows.iter().map(|e| event_json(&hrefs, &s, e)).collect();
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
        (status = 200, description = "The event", body = RestoreSessionEventDoc),
        (status = 404, description = "Unknown session or event", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn event(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    Path((_v, id, event_id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let s = sessions::find(&state, &user, &id).await?;
    let e = sessions::get_event(&state, s.id, &event_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Restore session event not found."))?;
    Ok(json_response(StatusCode::OK, &event_json(&hrefs, &s, &e)))
}

fn restore_item_type(kind: sessions::SessionKind, item_type: Option<&str>) -> &'static str {
    const TYPES: &[&str] = &[
        "TeamsTeam",
        "TeamsPostsTab",
        "TeamsPost",
        "TeamsTeamApp",
        "TeamsChannel",
        "TeamsTab",
        "TeamsFile",
        "SharePointSite",
        "SharePointList",
        "SharePointItem",
        "OneDriveItem",
        "ExchangeMailbox",
    ];
    if let Some(t) = item_type.and_then(|t| crate::edge::lenient::parse_enum(t, TYPES)) {
        return t;
    }
    match kind {
        sessions::SessionKind::Veod => "OneDriveItem",
        sessions::SessionKind::Vesp => "SharePointItem",
        sessions::SessionKind::Vex => "ExchangeMailbox",
        sessions::SessionKind::Vet => "TeamsFile",
    }
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
        (status = 200, description = "Statistics", body = RestoreSessionStatisticsDoc),
        (status = 404, description = "Unknown id or another user's session", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn statistics(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((_v, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let s = sessions::find(&state, &user, &id).await?;
    let events = all_events(&state, s.id).await?;
    let c = count(&events);
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    let mut items = Vec::new();
    for e in events.iter().filter(|e| is_restore_event(e)) {
        let status = match e.status {
            Outcome::Failed => "Failed",
            Outcome::Warning => "Warning",
            Outcome::Skipped | Outcome::Cancelled => "Skipped",
            Outcome::Success | Outcome::Running => "Success",
        };
        let mut item_warnings = Vec::new();
        let mut error = Value::Null;
        match e.status {
            Outcome::Warning => {
                warnings.push(e.message.clone());
                item_warnings.push(e.message.clone());
            }
            Outcome::Failed => {
                errors.push(e.message.clone());
                error = json!(e.message);
            }
            _ => {}
        }
        items.push(json!({
            "id": e.id.to_string(),
            "itemRestoreDetailsType": "Item",
            "title": e.title,
            "error": error,
            "name": e.item_name,
            "itemType": restore_item_type(s.kind, e.item_type.as_deref()),
            "status": status,
            "path": e.source,
            "warnings": item_warnings,
            "childItems": [],
        }));
    }
    let body = json!({
        "totalItemsCount": c.total,
        "restoredItemsCount": c.success + c.warning,
        "failedItemsCount": c.failed,
        "skippedItemsCount": c.skipped,
        "warnings": warnings,
        "errors": errors,
        "items": items,
    });
    Ok(json_response(StatusCode::OK, &body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::paths::canonical_route;
    use chrono::TimeZone;

    #[test]
    fn routes_are_canonical() {
        for p in [
            "/{version}/RestoreSessions",
            "/{version}/RestoreSessions/{id}",
            "/{version}/RestoreSessions/{id}/Action",
            "/{version}/RestoreSessions/{id}/stop",
            "/{version}/RestoreSessions/{id}/Organization",
            "/{version}/RestoreSessions/{id}/Events",
            "/{version}/RestoreSessions/{id}/Events/{event_id}",
            "/{version}/RestoreSessions/{id}/Statistics",
        ] {
            assert_eq!(canonical_route(p), p);
        }
    }

    #[test]
    fn us_times() {
        let t = Utc.with_ymd_and_hms(2017, 6, 26, 15, 7, 39).unwrap();
        assert_eq!(us_time(t), "6/26/2017 3:07:39 PM");
        let t = Utc.with_ymd_and_hms(2023, 3, 23, 0, 16, 40).unwrap();
        assert_eq!(us_time(t), "3/23/2023 12:16:40 AM");
    }

    #[test]
    fn item_types() {
        assert_eq!(restore_item_type(sessions::SessionKind::Veod, None), "OneDriveItem");
        assert_eq!(restore_item_type(sessions::SessionKind::Vesp, Some("sharepointlist")), "SharePointList");
        assert_eq!(restore_item_type(sessions::SessionKind::Vesp, Some("Document")), "SharePointItem");
    }
}
