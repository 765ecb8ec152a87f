//! Organizations, backup jobs, restore points, and starting restore sessions ("explore"; veeam-api-notes §5).
//!
//! * `GET /Organizations` — v2–v7 a plain array, v8 a page (`msid`, `backedUpOrganizationId` filters). `extendedView`
//!   is accepted (and validated); the backup fields are always present because no proxy can be offline here.
//! * `GET /Organizations/{id}` — `RestOrganizationComposed` (§5.3) built from the catalog organization and its
//!   restore points.
//! * `GET /Organization` — the single-organization convenience of tenant logons: the only organization in the
//!   catalog; **404 when there is none or several** (this server has no tenant logons that would pick one).
//! * Explore: v2–v5 `POST /Organizations/{id}/Action {"explore":{…}}` and `/Organization/Action`; v6+
//!   `POST /Organizations/{id}/explore` and `/Organization/Explore`; also `POST /Jobs/{id}/explore` (v6+) and
//!   `/Jobs/{id}/Action` (v5 client). Both styles are accepted in every version, and a v6+ body wrapped in
//!   `{"explore":{…}}` is unwrapped. Answer: the session with **201** in v2–v5 and v8 (the PHP portal checks for
//!   201), **200** in v6/v7 — their specs say 200 and clients generated from them (PyPI `veeam-365`) accept nothing
//!   else.
//! * `GET /Jobs`, `GET /Jobs/{id}`, `GET /Organizations/{id}/Jobs` — v2–v7 arrays, v8 `/Jobs` a page.
//! * `GET /RestorePoints` (v2–v6 array, v7+ page; filters `organizationId`, `jobId`, `from`, `to`, `backupTime`,
//!   `orderAsc`, `repositoryId`, `isLongTermCopy`/`isCopy`/`isRetrieved`) and `GET /RestorePoints/{id}`. The v6+
//!   paths are served in v2–v5 as an extension.
//!
//! # Point in time of an explore
//! The restore point shown is the latest one at or before `datetime` (omitted: the latest). The given time counts
//! up to the end of its stated precision: `2021.04.27 10:49` means "up to 10:49:59.999999", `…10:49:33` up to
//! `…10:49:33.999999`, a bare date up to the end of that day — so a client that formats `lastBackuptime` without
//! seconds or fractions (the PHP portal sends `Y.m.d H:i`) still gets that backup. A time before the first backup
//! gives an empty session (`browse_at` = none).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use repo::catalog::{ContainerKind, ContainerQuery, Job, Organization, RestorePoint, SessionStatus};
use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::ctx::auth::CurrentUser;
use crate::edge::error::ApiError;
use crate::edge::lenient::{LenientJson, Obj};
use crate::edge::paging::{json_response, Hrefs, Links, Page, PageContext, Paging};
use crate::edge::query::LenientQuery;
use crate::edge::version::ApiVersion;
use crate::state::AppState;
use crate::store::sessions::{self, dotnet_time, NewSession, SessionKind};

/// Authenticated routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/{version}/Organizations", get(list_organizations))
        .route("/{version}/Organizations/{id}", get(get_organization))
        .route("/{version}/Organization", get(current_organization))
        .route("/{version}/Organizations/{id}/Action", post(organization_action))
        .route("/{version}/Organizations/{id}/explore", post(organization_explore))
        .route("/{version}/Organization/Action", post(current_organization_action))
        .route("/{version}/Organization/explore", post(current_organization_explore))
        .route("/{version}/Organizations/{id}/Jobs", get(organization_jobs))
        .route("/{version}/Jobs", get(list_jobs))
        .route("/{version}/Jobs/{id}", get(get_job))
        .route("/{version}/Jobs/{id}/Action", post(job_action))
        .route("/{version}/Jobs/{id}/explore", post(job_explore))
        .route("/{version}/RestorePoints", get(list_restore_points))
        .route("/{version}/RestorePoints/{id}", get(get_restore_point))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_organizations,
        get_organization,
        current_organization,
        organization_action,
        organization_explore,
        current_organization_action,
        current_organization_explore,
        organization_jobs,
        list_jobs,
        get_job,
        job_action,
        job_explore,
        list_restore_points,
        get_restore_point
    ),
    components(schemas(OrganizationDoc, LoggedInOrganizationDoc, ExploreOptionsDoc, JobDoc, RestorePointDoc)),
    tags(
        (name = "Organization", description = "Organizations and starting restore sessions"),
        (name = "Job", description = "Backup jobs"),
        (name = "RestorePoint", description = "Restore points")
    )
)]
struct OrganizationsDoc;

/// Documented paths.
pub fn openapi() -> utoipa::openapi::OpenApi {
    OrganizationsDoc::openapi()
}

// ---------------------------------------------------------------------------------------------------------------
// Documentation-only schemas.

/// `RestOrganizationComposed` (the fields this server fills).
#[derive(Serialize, ToSchema)]
#[schema(as = RestOrganizationComposed)]
#[allow(dead_code)]
struct OrganizationDoc {
    id: String,
    name: String,
    #[serde(rename = "officeName")]
    office_name: String,
    /// v7+.
    description: Option<String>,
    /// `Office365`.
    r#type: String,
    /// `Worldwide`.
    region: String,
    #[serde(rename = "isBackedup")]
    is_backedup: bool,
    #[serde(rename = "firstBackuptime")]
    first_backuptime: Option<String>,
    #[serde(rename = "lastBackuptime")]
    last_backuptime: Option<String>,
    #[serde(rename = "isExchangeOnline")]
    is_exchange_online: bool,
    #[serde(rename = "isSharePointOnline")]
    is_share_point_online: bool,
    #[serde(rename = "isTeamsOnline")]
    is_teams_online: bool,
    /// v8: the tenant id.
    msid: Option<String>,
    /// v8.
    #[serde(rename = "backedUpOrganizationId")]
    backed_up_organization_id: Option<String>,
    /// `self`, `jobs`, `explore`, `restorePoints`.
    #[schema(value_type = Object)]
    _links: Value,
}

/// `RESTLoggedInOrganization`.
#[derive(Serialize, ToSchema)]
#[schema(as = RESTLoggedInOrganization)]
#[allow(dead_code)]
struct LoggedInOrganizationDoc {
    id: String,
    name: String,
    description: Option<String>,
    r#type: String,
    #[serde(rename = "isBackedup")]
    is_backedup: bool,
    #[serde(rename = "firstBackuptime")]
    first_backuptime: Option<String>,
    #[serde(rename = "lastBackuptime")]
    last_backuptime: Option<String>,
    #[schema(value_type = Object)]
    _actions: Value,
}

/// Explore options (`RESTExploreOptions`); v2–v5 wrap them as `{"explore": {…}}`. Names in any case, booleans as
/// strings, enums in any case.
#[derive(Serialize, ToSchema)]
#[schema(as = RESTExploreOptions)]
#[allow(dead_code)]
struct ExploreOptionsDoc {
    /// Point in time (ISO 8601, `yyyy.MM.dd HH:mm[:ss]`, `yyyy-MM-dd HH:mm:ss[.fff]`, …); omitted = latest.
    #[serde(rename = "dateTime")]
    date_time: Option<String>,
    /// Required: `Vex`, `Veod`, `Vesp`, `Vet` (any case).
    r#type: String,
    #[serde(rename = "showDeleted")]
    show_deleted: Option<bool>,
    #[serde(rename = "showAllVersions")]
    show_all_versions: Option<bool>,
    /// v8; accepted and ignored (one repository).
    #[serde(rename = "repositoryId")]
    repository_id: Option<String>,
}

/// `RESTJob` (the fields this server fills).
#[derive(Serialize, ToSchema)]
#[schema(as = RESTJob)]
#[allow(dead_code)]
struct JobDoc {
    id: String,
    #[serde(rename = "organizationId")]
    organization_id: String,
    #[serde(rename = "repositoryId")]
    repository_id: Option<String>,
    name: String,
    description: String,
    /// `EntireOrganization`.
    #[serde(rename = "backupType")]
    backup_type: String,
    #[serde(rename = "lastRun")]
    last_run: Option<String>,
    #[serde(rename = "nextRun")]
    next_run: Option<String>,
    /// v8.
    #[serde(rename = "lastBackup")]
    last_backup: Option<String>,
    #[serde(rename = "isEnabled")]
    is_enabled: bool,
    /// `Stopped`, `Running`, `Success`, `Failed`, `Warning`.
    #[serde(rename = "lastStatus")]
    last_status: String,
    #[schema(value_type = Object)]
    _links: Value,
}

/// `RESTRestorePoint` (the fields this server fills).
#[derive(Serialize, ToSchema)]
#[schema(as = RESTRestorePoint)]
#[allow(dead_code)]
struct RestorePointDoc {
    id: String,
    #[serde(rename = "repositoryId")]
    repository_id: Option<String>,
    #[serde(rename = "backupTime")]
    backup_time: String,
    #[serde(rename = "jobId")]
    job_id: String,
    #[serde(rename = "organizationId")]
    organization_id: String,
    #[serde(rename = "isExchange")]
    is_exchange: bool,
    #[serde(rename = "isSharePoint")]
    is_share_point: bool,
    #[serde(rename = "isOneDrive")]
    is_one_drive: bool,
    #[serde(rename = "isTeams")]
    is_teams: bool,
    #[schema(value_type = Object)]
    _links: Value,
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers.

fn org_not_found() -> ApiError {
    ApiError::not_found("Organization not found.")
}

async fn organization_by_id(state: &AppState, id: &str) -> Result<Organization, ApiError> {
    let uuid = Uuid::parse_str(id.trim()).map_err(|_| org_not_found())?;
    state.catalog.organization(uuid).await?.ok_or_else(org_not_found)
}

/// The only organization (404 when there are none or several).
async fn single_organization(state: &AppState) -> Result<Organization, ApiError> {
    let mut orgs = state.catalog.organizations().await?;
    match orgs.len() {
        1 => Ok(orgs.remove(0)),
        0 => Err(ApiError::not_found("No organization has been added.")),
        _ => Err(ApiError::not_found("Several organizations are protected; use /Organizations/{id} to choose one.")),
    }
}

/// The repository id as a UUID (the repository's own id when it is one, else a name-based UUID of it).
fn repository_uuid(state: &AppState) -> Option<Uuid> {
    state.repo.as_ref().map(|r| {
        let id = r.id();
        Uuid::parse_str(id).unwrap_or_else(|_| Uuid::new_v5(&Uuid::NAMESPACE_OID, id.as_bytes()))
    })
}

fn organization_json(v: ApiVersion, hrefs: &Hrefs, org: &Organization, rps: &[RestorePoint]) -> Value {
    let first = rps.first().map(|r| dotnet_time(r.backup_time));
    let last = rps.last().map(|r| dotnet_time(r.backup_time));
    let explore = if v.is_action_era() {
        hrefs.href(&format!("Organizations/{}/Action", org.id))
    } else {
        hrefs.href(&format!("Organizations/{}/explore", org.id))
    };
    let links = Links::new()
        .with("self", hrefs.href(&format!("Organizations/{}", org.id)))
        .with("jobs", hrefs.href(&format!("Organizations/{}/Jobs", org.id)))
        .with("explore", explore)
        .with("restorePoints", hrefs.href(&format!("RestorePoints?organizationId={}", org.id)));
    let mut m = Map::new();
    m.insert("type".into(), json!("Office365"));
    m.insert("region".into(), json!("Worldwide"));
    m.insert("id".into(), json!(org.id));
    m.insert("name".into(), json!(org.name));
    m.insert("officeName".into(), json!(org.tenant_domain));
    if v.number() >= 7 {
        m.insert("description".into(), json!(""));
    }
    m.insert("isExchangeOnline".into(), json!(false));
    m.insert("isSharePointOnline".into(), json!(true));
    m.insert("isTeamsOnline".into(), json!(false));
    if v.number() >= 6 {
        m.insert("isTeamsChatsOnline".into(), json!(false));
    }
    m.insert("isBackedup".into(), json!(!rps.is_empty()));
    m.insert("firstBackuptime".into(), json!(first));
    m.insert("lastBackuptime".into(), json!(last));
    if v.is_v8() {
        m.insert("msid".into(), json!(Uuid::parse_str(&org.tenant_id).ok()));
        m.insert("backedUpOrganizationId".into(), json!(org.id.to_string()));
    }
    m.insert("_links".into(), serde_json::to_value(links).unwrap_or(Value::Null));
    m.insert("_actions".into(), json!({}));
    Value::Object(m)
}

async fn organization_resource(state: &AppState, hrefs: &Hrefs, org: &Organization) -> Result<Value, ApiError> {
    let rps = state.catalog.restore_points(org.id).await?;
    Ok(organization_json(hrefs.version(), hrefs, org, &rps))
}

fn check_extended_view(q: &LenientQuery) -> Result<(), ApiError> {
    q.get_bool("extendedView").map(|_| ())
}

// ---------------------------------------------------------------------------------------------------------------
// Organizations.

/// Protected organizations (v2–v7 array, v8 page).
#[utoipa::path(
    get,
    path = "/{version}/Organizations",
    tag = "Organization",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("extendedView" = Option<bool>, Query, description = "Accepted; backup fields are always present"),
        ("msid" = Option<String>, Query, description = "v8: tenant id filter"),
        ("backedUpOrganizationId" = Option<String>, Query, description = "v8: organization id filter"),
        ("offset" = Option<u64>, Query, description = "v8: rows to skip"),
        ("limit" = Option<u64>, Query, description = "v8: page size")
    ),
    responses(
        (status = 200, description = "v2–v7: array; v8: page", body = [OrganizationDoc]),
        (status = 401, description = "Not authenticated", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn list_organizations(
    State(state): State<AppState>,
    version: ApiVersion,
    hrefs: Hrefs,
    ctx: PageContext,
    q: LenientQuery,
) -> Result<Response, ApiError> {
    check_extended_view(&q)?;
    let mut orgs = state.catalog.organizations().await?;
    if let Some(msid) = q.get_non_empty("msid") {
        orgs.retain(|o| o.tenant_id.eq_ignore_ascii_case(msid.trim()));
    }
    if let Some(id) = q.get_non_empty("backedUpOrganizationId") {
        orgs.retain(|o| o.id.to_string().eq_ignore_ascii_case(id.trim()));
    }
    if version.is_v8() {
        let paging = Paging::from_query(&q)?;
        let total = orgs.len() as u64;
        let mut out = Vec::new();
        for o in paging.slice(&orgs) {
            out.push(organization_resource(&state, &hrefs, o).await?);
        }
        return Ok(Page::new(&ctx, paging, out).with_total_count(total).into_response());
    }
    let mut out = Vec::with_capacity(orgs.len());
    for o in &orgs {
        out.push(organization_resource(&state, &hrefs, o).await?);
    }
    Ok(json_response(StatusCode::OK, &out))
}

/// One organization.
#[utoipa::path(
    get,
    path = "/{version}/Organizations/{id}",
    tag = "Organization",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Organization id"),
        ("extendedView" = Option<bool>, Query, description = "Accepted")
    ),
    responses(
        (status = 200, description = "The organization", body = OrganizationDoc),
        (status = 404, description = "Unknown id", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn get_organization(
    State(state): State<AppState>,
    hrefs: Hrefs,
    q: LenientQuery,
    Path((_v, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    check_extended_view(&q)?;
    let org = organization_by_id(&state, &id).await?;
    Ok(json_response(StatusCode::OK, &organization_resource(&state, &hrefs, &org).await?))
}

/// The only organization (`RESTLoggedInOrganization`); 404 when there are none or several.
#[utoipa::path(
    get,
    path = "/{version}/Organization",
    tag = "Organization",
    params(("version" = String, Path, description = "API version: v2 … v8")),
    responses(
        (status = 200, description = "The organization", body = LoggedInOrganizationDoc),
        (status = 404, description = "No organization, or several", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn current_organization(
    State(state): State<AppState>,
    version: ApiVersion,
    hrefs: Hrefs,
) -> Result<Response, ApiError> {
    let org = single_organization(&state).await?;
    let rps = state.catalog.restore_points(org.id).await?;
    let explore =
        if version.is_action_era() { hrefs.href("Organization/Action") } else { hrefs.href("Organization/explore") };
    let mut m = Map::new();
    m.insert("id".into(), json!(org.id.to_string()));
    m.insert("name".into(), json!(org.name));
    if version.is_v8() {
        m.insert("description".into(), json!(""));
    }
    m.insert("type".into(), json!("Office365"));
    m.insert("isBackedup".into(), json!(!rps.is_empty()));
    m.insert("firstBackuptime".into(), json!(rps.first().map(|r| dotnet_time(r.backup_time))));
    m.insert("lastBackuptime".into(), json!(rps.last().map(|r| dotnet_time(r.backup_time))));
    m.insert("_links".into(), json!({ "self": { "href": hrefs.href("Organization") } }));
    m.insert("_actions".into(), json!({ "explore": { "uri": explore, "method": "Post" } }));
    Ok(json_response(StatusCode::OK, &Value::Object(m)))
}

// ---------------------------------------------------------------------------------------------------------------
// Explore.

const KINDS: &[&str] = &["Vex", "Veod", "Vesp", "Vet"];

/// The instant up to which a client's `datetime` reaches: the parsed instant plus the rest of its stated precision
/// (see the module docs).
fn inclusive_bound(raw: &str, parsed: DateTime<Utc>) -> DateTime<Utc> {
    let s = raw.trim();
    // RFC 1123 and the other space-separated forms: the token holding the time has ':'; ISO has it after 'T'.
    let time = s
        .split_whitespace()
        .find(|t| t.contains(':'))
        .map(|t| t.split_once('T').map(|(_, b)| b).unwrap_or(t))
        .or_else(|| s.split_once('T').map(|(_, b)| b));
    let Some(time) = time else {
        return parsed + Duration::days(1) - Duration::microseconds(1);
    };
    // Cut a zone suffix.
    let time = time.split(['Z', 'z', '+', '-']).next().unwrap_or(time);
    if time.contains('.') {
        return parsed;
    }
    match time.matches(':').count() {
        0 => parsed + Duration::hours(1) - Duration::microseconds(1),
        1 => parsed + Duration::minutes(1) - Duration::microseconds(1),
        _ => parsed + Duration::seconds(1) - Duration::microseconds(1),
    }
}

/// Parsed explore options.
#[derive(Debug)]
struct ExploreOptions {
    kind: SessionKind,
    requested: Option<DateTime<Utc>>,
    bound: Option<DateTime<Utc>>,
    show_deleted: bool,
    show_all_versions: bool,
    reason: Option<String>,
}

fn parse_options(opts: &Obj) -> Result<ExploreOptions, ApiError> {
    let kind = opts
        .enum_of("type", KINDS)?
        .and_then(SessionKind::parse)
        .ok_or_else(|| ApiError::bad_request(format!("'type' is required: one of {}", KINDS.join(", "))))?;
    let requested = opts.datetime("datetime")?;
    let bound = match (requested, opts.str("datetime")?) {
        (Some(t), Some(raw)) => Some(inclusive_bound(&raw, t)),
        _ => None,
    };
    opts.uuid("repositoryId")?;
    Ok(ExploreOptions {
        kind,
        requested,
        bound,
        show_deleted: opts.bool("showDeleted")?.unwrap_or(false),
        show_all_versions: opts.bool("showAllVersions")?.unwrap_or(false),
        reason: opts.str("reason")?,
    })
}

/// v6+ bodies are bare options; a v2–v5 style `{"explore": {…}}` body is unwrapped.
fn verb_options(body: Obj) -> Result<Obj, ApiError> {
    let keys: Vec<&str> = body.keys().collect();
    if keys.len() == 1 && keys[0].eq_ignore_ascii_case("explore") {
        let (_, opts) = body.action(&["explore"])?;
        return Ok(opts);
    }
    Ok(body)
}

/// Creates the session for `org` and answers it with the era's status (see the module docs).
async fn explore(
    state: &AppState,
    user: &CurrentUser,
    hrefs: &Hrefs,
    org: &Organization,
    opts: &Obj,
) -> Result<Response, ApiError> {
    let o = parse_options(opts)?;
    let rp = match o.bound {
        None => state.catalog.restore_points(org.id).await?.pop(),
        Some(t) => state.catalog.restore_point_at(org.id, t).await?,
    };
    let when = rp.as_ref().map(|r| r.backup_time).or(o.requested).unwrap_or_else(Utc::now);
    let name = format!("{} restore ({} - {})", o.kind.product(), org.name, super::restore_sessions::us_time(when));
    let s = sessions::create(
        state,
        NewSession {
            owner: user.clone(),
            organization_id: org.id,
            kind: o.kind,
            requested_at: o.requested,
            restore_point_id: rp.as_ref().map(|r| r.id),
            browse_at: rp.as_ref().map(|r| r.backup_time),
            show_deleted: o.show_deleted,
            show_all_versions: o.show_all_versions,
            name: Some(name),
            parent_id: None,
            reason: o.reason,
        },
    )
    .await?;
    tracing::info!(
        session = %s.id, user = %user.name, organization = %org.name, kind = o.kind.as_str(),
        point_in_time = ?s.browse_at, show_deleted = s.show_deleted, show_all_versions = s.show_all_versions,
        "restore session started"
    );
    let body = super::restore_sessions::session_resource(state, hrefs, &s).await?;
    Ok(json_response(explore_status(hrefs.version()), &body))
}

/// 200 in v6/v7 (their specs), 201 elsewhere.
fn explore_status(v: ApiVersion) -> StatusCode {
    if matches!(v.number(), 6 | 7) {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    }
}

/// v2–v5: `{"explore": {datetime, type, showDeleted, showAllVersions}}` starts a restore session (201).
#[utoipa::path(
    post,
    path = "/{version}/Organizations/{id}/Action",
    tag = "Organization",
    params(
        ("version" = String, Path, description = "API version: v2 … v5"),
        ("id" = String, Path, description = "Organization id")
    ),
    request_body(content = Object, description = "`{\"explore\": RESTExploreOptions}`"),
    responses(
        (status = 201, description = "Session started", body = super::restore_sessions::RestoreSessionDoc),
        (status = 400, description = "Bad body, unknown action, missing 'type'", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown organization", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn organization_action(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    Path((_v, id)): Path<(String, String)>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    let org = organization_by_id(&state, &id).await?;
    let (_, opts) = body.action(&["explore"])?;
    explore(&state, &user, &hrefs, &org, &opts).await
}

/// v6+: starts a restore session (v6/v7 200, v8 201).
#[utoipa::path(
    post,
    path = "/{version}/Organizations/{id}/explore",
    tag = "Organization",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Organization id")
    ),
    request_body = ExploreOptionsDoc,
    responses(
        (status = 200, description = "Session started (v6, v7)", body = super::restore_sessions::RestoreSessionDoc),
        (status = 201, description = "Session started (v8)", body = super::restore_sessions::RestoreSessionDoc),
        (status = 400, description = "Bad body or missing 'type'", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown organization", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn organization_explore(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    Path((_v, id)): Path<(String, String)>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    let org = organization_by_id(&state, &id).await?;
    explore(&state, &user, &hrefs, &org, &verb_options(body)?).await
}

/// v3–v5 tenant path: explore the only organization.
#[utoipa::path(
    post,
    path = "/{version}/Organization/Action",
    tag = "Organization",
    params(("version" = String, Path, description = "API version: v2 … v5")),
    request_body(content = Object, description = "`{\"explore\": RESTExploreOptions}`"),
    responses(
        (status = 201, description = "Session started", body = super::restore_sessions::RestoreSessionDoc),
        (status = 400, description = "Bad body", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "No organization, or several", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn current_organization_action(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    let org = single_organization(&state).await?;
    let (_, opts) = body.action(&["explore"])?;
    explore(&state, &user, &hrefs, &org, &opts).await
}

/// v6+ tenant path: explore the only organization.
#[utoipa::path(
    post,
    path = "/{version}/Organization/explore",
    tag = "Organization",
    params(("version" = String, Path, description = "API version: v6 … v8")),
    request_body = ExploreOptionsDoc,
    responses(
        (status = 200, description = "Session started (v6, v7)", body = super::restore_sessions::RestoreSessionDoc),
        (status = 201, description = "Session started (v8)", body = super::restore_sessions::RestoreSessionDoc),
        (status = 400, description = "Bad body", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "No organization, or several", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn current_organization_explore(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    let org = single_organization(&state).await?;
    explore(&state, &user, &hrefs, &org, &verb_options(body)?).await
}

// ---------------------------------------------------------------------------------------------------------------
// Jobs.

fn job_not_found() -> ApiError {
    ApiError::not_found("Job not found.")
}

async fn job_by_id(state: &AppState, id: &str) -> Result<Job, ApiError> {
    let uuid = Uuid::parse_str(id.trim()).map_err(|_| job_not_found())?;
    state.catalog.job(uuid).await?.ok_or_else(job_not_found)
}

async fn job_resource(state: &AppState, hrefs: &Hrefs, job: &Job) -> Result<Value, ApiError> {
    let v = hrefs.version();
    let runs = state.catalog.sessions(job.id).await?;
    let last = runs.last();
    let last_status = match last.map(|s| s.status) {
        None => "Stopped",
        Some(SessionStatus::Running) => "Running",
        Some(SessionStatus::Success) => "Success",
        Some(SessionStatus::Warning) => "Warning",
        Some(SessionStatus::Failed) => "Failed",
    };
    let last_backup = state
        .catalog
        .restore_points(job.organization_id)
        .await?
        .into_iter()
        .filter(|r| r.job_id == job.id)
        .map(|r| r.backup_time)
        .max();
    let explore = if v.is_action_era() {
        hrefs.href(&format!("Jobs/{}/Action", job.id))
    } else {
        hrefs.href(&format!("Jobs/{}/explore", job.id))
    };
    let links = Links::new()
        .with("self", hrefs.href(&format!("Jobs/{}", job.id)))
        .with("organization", hrefs.href(&format!("Organizations/{}", job.organization_id)))
        .with("explore", explore)
        .with("restorePoints", hrefs.href(&format!("RestorePoints?jobId={}", job.id)));
    let mut m = Map::new();
    m.insert("id".into(), json!(job.id));
    m.insert("organizationId".into(), json!(job.organization_id));
    m.insert("repositoryId".into(), json!(repository_uuid(state)));
    m.insert("name".into(), json!(job.name));
    m.insert("description".into(), json!(""));
    m.insert("backupType".into(), json!("EntireOrganization"));
    m.insert("lastRun".into(), json!(last.map(|s| dotnet_time(s.started_at))));
    m.insert("nextRun".into(), Value::Null);
    if v.is_v8() {
        m.insert("lastBackup".into(), json!(last_backup.map(dotnet_time)));
        m.insert("eTag".into(), json!(runs.len() as i64 + 1));
    }
    m.insert("isEnabled".into(), json!(true));
    m.insert("lastStatus".into(), json!(last_status));
    m.insert("_links".into(), serde_json::to_value(links).unwrap_or(Value::Null));
    Ok(Value::Object(m))
}

async fn jobs_of(state: &AppState, org: Option<Uuid>) -> Result<Vec<Job>, ApiError> {
    let mut out = Vec::new();
    for o in state.catalog.organizations().await? {
        if org.is_none_or(|id| id == o.id) {
            out.extend(state.catalog.jobs(o.id).await?);
        }
    }
    Ok(out)
}

fn uuid_query(q: &LenientQuery, name: &str) -> Result<Option<Uuid>, ApiError> {
    match q.get_non_empty(name) {
        None => Ok(None),
        Some(v) => {
            Uuid::parse_str(v.trim()).map(Some).map_err(|_| ApiError::bad_request(format!("'{name}' must be a GUID")))
        }
    }
}

/// Backup jobs (v2–v7 array, v8 page).
#[utoipa::path(
    get,
    path = "/{version}/Jobs",
    tag = "Job",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("organizationId" = Option<String>, Query, description = "Organization filter"),
        ("repositoryId" = Option<String>, Query, description = "Repository filter"),
        ("offset" = Option<u64>, Query, description = "v8: rows to skip"),
        ("limit" = Option<u64>, Query, description = "v8: page size")
    ),
    responses(
        (status = 200, description = "v2–v7 array; v8 page", body = [JobDoc]),
        (status = 401, description = "Not authenticated", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn list_jobs(
    State(state): State<AppState>,
    version: ApiVersion,
    hrefs: Hrefs,
    ctx: PageContext,
    q: LenientQuery,
) -> Result<Response, ApiError> {
    let org = uuid_query(&q, "organizationId")?;
    let mut jobs = jobs_of(&state, org).await?;
    if let Some(repo) = uuid_query(&q, "repositoryId")? {
        if repository_uuid(&state) != Some(repo) {
            jobs.clear();
        }
    }
    if version.is_v8() {
        let paging = Paging::from_query(&q)?;
        let mut out = Vec::new();
        for j in paging.slice(&jobs) {
            out.push(job_resource(&state, &hrefs, j).await?);
        }
        return Ok(Page::new(&ctx, paging, out).with_total_count(jobs.len() as u64).into_response());
    }
    let mut out = Vec::new();
    for j in &jobs {
        out.push(job_resource(&state, &hrefs, j).await?);
    }
    Ok(json_response(StatusCode::OK, &out))
}

/// The jobs of one organization (array).
#[utoipa::path(
    get,
    path = "/{version}/Organizations/{id}/Jobs",
    tag = "Job",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Organization id")
    ),
    responses(
        (status = 200, description = "Jobs", body = [JobDoc]),
        (status = 404, description = "Unknown organization", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn organization_jobs(
    State(state): State<AppState>,
    hrefs: Hrefs,
    Path((_v, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let org = organization_by_id(&state, &id).await?;
    let mut out = Vec::new();
    for j in state.catalog.jobs(org.id).await? {
        out.push(job_resource(&state, &hrefs, &j).await?);
    }
    Ok(json_response(StatusCode::OK, &out))
}

/// One backup job.
#[utoipa::path(
    get,
    path = "/{version}/Jobs/{id}",
    tag = "Job",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Job id")
    ),
    responses(
        (status = 200, description = "The job", body = JobDoc),
        (status = 404, description = "Unknown job", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn get_job(
    State(state): State<AppState>,
    hrefs: Hrefs,
    Path((_v, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let job = job_by_id(&state, &id).await?;
    Ok(json_response(StatusCode::OK, &job_resource(&state, &hrefs, &job).await?))
}

/// v5 client style: `{"explore": {…}}` on a job explores its organization (201).
#[utoipa::path(
    post,
    path = "/{version}/Jobs/{id}/Action",
    tag = "Job",
    params(
        ("version" = String, Path, description = "API version: v4 … v5"),
        ("id" = String, Path, description = "Job id")
    ),
    request_body(content = Object, description = "`{\"explore\": RESTExploreOptions}`"),
    responses(
        (status = 201, description = "Session started", body = super::restore_sessions::RestoreSessionDoc),
        (status = 400, description = "Bad body", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown job", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn job_action(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    Path((_v, id)): Path<(String, String)>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    let job = job_by_id(&state, &id).await?;
    let org = state.catalog.organization(job.organization_id).await?.ok_or_else(org_not_found)?;
    let (_, opts) = body.action(&["explore"])?;
    explore(&state, &user, &hrefs, &org, &opts).await
}

/// v6+: explores the job's organization (v6/v7 200, v8 201).
#[utoipa::path(
    post,
    path = "/{version}/Jobs/{id}/explore",
    tag = "Job",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Job id")
    ),
    request_body = ExploreOptionsDoc,
    responses(
        (status = 200, description = "Session started (v6, v7)", body = super::restore_sessions::RestoreSessionDoc),
        (status = 201, description = "Session started (v8)", body = super::restore_sessions::RestoreSessionDoc),
        (status = 400, description = "Bad body", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown job", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn job_explore(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    Path((_v, id)): Path<(String, String)>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    let job = job_by_id(&state, &id).await?;
    let org = state.catalog.organization(job.organization_id).await?.ok_or_else(org_not_found)?;
    explore(&state, &user, &hrefs, &org, &verb_options(body)?).await
}

// ---------------------------------------------------------------------------------------------------------------
// Restore points.

async fn has_containers(
    state: &AppState,
    org: Uuid,
    at: DateTime<Utc>,
    kinds: &[ContainerKind],
) -> Result<bool, ApiError> {
    for k in kinds {
        let page = state.catalog.containers_at(&ContainerQuery::new(org, at).kind(*k).page(0, 1)).await?;
        if page.total > 0 || !page.rows.is_empty() {
            return Ok(true);
        }
    }
    Ok(false)
}

async fn restore_point_resource(state: &AppState, hrefs: &Hrefs, rp: &RestorePoint) -> Result<Value, ApiError> {
    let v = hrefs.version();
    let is_onedrive = has_containers(state, rp.organization_id, rp.backup_time, &[ContainerKind::OneDrive]).await?;
    let is_sharepoint =
        has_containers(state, rp.organization_id, rp.backup_time, &[ContainerKind::Site, ContainerKind::List]).await?;
    let links = Links::new()
        .with("self", hrefs.href(&format!("RestorePoints/{}", rp.id)))
        .with("organization", hrefs.href(&format!("Organizations/{}", rp.organization_id)))
        .with("job", hrefs.href(&format!("Jobs/{}", rp.job_id)));
    let mut m = Map::new();
    m.insert("id".into(), json!(rp.id.to_string()));
    if v.is_v8() {
        m.insert("isDeleted".into(), json!(false));
    }
    m.insert("repositoryId".into(), json!(repository_uuid(state)));
    m.insert("backupTime".into(), json!(dotnet_time(rp.backup_time)));
    m.insert("jobId".into(), json!(rp.job_id));
    m.insert("organizationId".into(), json!(rp.organization_id));
    m.insert("isExchange".into(), json!(false));
    m.insert("isSharePoint".into(), json!(is_sharepoint));
    m.insert("isOneDrive".into(), json!(is_onedrive));
    m.insert("isTeams".into(), json!(false));
    m.insert("isLongTermCopy".into(), json!(false));
    if v.number() >= 7 {
        m.insert("isCopy".into(), json!(false));
    }
    m.insert("isRetrieved".into(), json!(false));
    if v.is_v8() {
        m.insert("eTag".into(), json!(1));
        m.insert("objectsEtag".into(), json!(1));
        m.insert("immutabilityExpiresOn".into(), Value::Null);
    }
    // Extensions: full/incremental and the engine's statistics.
    m.insert("isFull".into(), json!(rp.is_full));
    m.insert("itemsCount".into(), json!(rp.stats.items));
    m.insert("_links".into(), serde_json::to_value(links).unwrap_or(Value::Null));
    Ok(Value::Object(m))
}

/// Restore points (v2–v6 array, v7+ page), newest first unless `orderAsc=true`.
#[utoipa::path(
    get,
    path = "/{version}/RestorePoints",
    tag = "RestorePoint",
    params(
        ("version" = String, Path, description = "API version: v6 … v8 (served in every version)"),
        ("organizationId" = Option<String>, Query, description = "Organization filter"),
        ("jobId" = Option<String>, Query, description = "Job filter"),
        ("repositoryId" = Option<String>, Query, description = "Repository filter"),
        ("from" = Option<String>, Query, description = "Backup time at or after"),
        ("to" = Option<String>, Query, description = "Backup time at or before"),
        ("backupTime" = Option<String>, Query, description = "v6: the restore point in force at that time"),
        ("orderAsc" = Option<bool>, Query, description = "Oldest first (default false)"),
        ("isLongTermCopy" = Option<bool>, Query, description = "Only `false` matches"),
        ("isCopy" = Option<bool>, Query, description = "Only `false` matches"),
        ("isRetrieved" = Option<bool>, Query, description = "Only `false` matches"),
        ("offset" = Option<u64>, Query, description = "v7+: rows to skip"),
        ("limit" = Option<u64>, Query, description = "v7+: page size")
    ),
    responses(
        (status = 200, description = "Restore points", body = [RestorePointDoc]),
        (status = 400, description = "Bad filter", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn list_restore_points(
    State(state): State<AppState>,
    version: ApiVersion,
    hrefs: Hrefs,
    ctx: PageContext,
    q: LenientQuery,
) -> Result<Response, ApiError> {
    let org = uuid_query(&q, "organizationId")?;
    let job = uuid_query(&q, "jobId")?;
    let repo = uuid_query(&q, "repositoryId")?;
    let from = q.get_datetime("from")?;
    let to = q.get_datetime("to")?;
    let at = q.get_datetime("backupTime")?;
    let asc = q.get_bool("orderAsc")?.unwrap_or(false);
    let mut none = repo.is_some_and(|r| repository_uuid(&state) != Some(r));
    for flag in ["isLongTermCopy", "isCopy", "isRetrieved"] {
        none |= q.get_bool(flag)?.unwrap_or(false);
    }
    let mut rps = Vec::new();
    if !none {
        for o in state.catalog.organizations().await? {
            if org.is_none_or(|id| id == o.id) {
                rps.extend(state.catalog.restore_points(o.id).await?);
            }
        }
    }
    rps.retain(|r| {
        job.is_none_or(|j| j == r.job_id)
            && from.is_none_or(|f| r.backup_time >= f)
            && to.is_none_or(|t| r.backup_time <= t)
    });
    if let Some(at) = at {
        // The restore point in force at `at`, per organization.
        let mut keep: Vec<RestorePoint> = Vec::new();
        for r in rps.iter().filter(|r| r.backup_time <= at) {
            match keep.iter_mut().find(|k| k.organization_id == r.organization_id) {
                Some(k) if k.backup_time < r.backup_time => *k = r.clone(),
                Some(_) => {}
                None => keep.push(r.clone()),
            }
        }
        rps = keep;
    }
    rps.sort_by(|a, b| a.backup_time.cmp(&b.backup_time).then(a.id.cmp(&b.id)));
    if !asc {
        rps.reverse();
    }
    if version.number() >= 7 {
        let paging = Paging::from_query(&q)?;
        let mut out = Vec::new();
        for r in paging.slice(&rps) {
            out.push(restore_point_resource(&state, &hrefs, r).await?);
        }
        return Ok(Page::new(&ctx, paging, out).with_total_count(rps.len() as u64).into_response());
    }
    let mut out = Vec::new();
    for r in &rps {
        out.push(restore_point_resource(&state, &hrefs, r).await?);
    }
    Ok(json_response(StatusCode::OK, &out))
}

/// One restore point.
#[utoipa::path(
    get,
    path = "/{version}/RestorePoints/{id}",
    tag = "RestorePoint",
    params(
        ("version" = String, Path, description = "API version: v6 … v8 (served in every version)"),
        ("id" = String, Path, description = "Restore point id")
    ),
    responses(
        (status = 200, description = "The restore point", body = RestorePointDoc),
        (status = 404, description = "Unknown id", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn get_restore_point(
    State(state): State<AppState>,
    hrefs: Hrefs,
    Path((_v, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::not_found("Restore point not found.");
    let uuid = Uuid::parse_str(id.trim()).map_err(|_| not_found())?;
    let rp = state.catalog.restore_point(uuid).await?.ok_or_else(not_found)?;
    Ok(json_response(StatusCode::OK, &restore_point_resource(&state, &hrefs, &rp).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::paths::canonical_route;
    use chrono::TimeZone;

    #[test]
    fn routes_are_canonical() {
        for p in [
            "/{version}/Organizations",
            "/{version}/Organizations/{id}",
            "/{version}/Organization",
            "/{version}/Organizations/{id}/Action",
            "/{version}/Organizations/{id}/explore",
            "/{version}/Organization/Action",
            "/{version}/Organization/explore",
            "/{version}/Organizations/{id}/Jobs",
            "/{version}/Jobs",
            "/{version}/Jobs/{id}",
            "/{version}/Jobs/{id}/Action",
            "/{version}/Jobs/{id}/explore",
            "/{version}/RestorePoints",
            "/{version}/RestorePoints/{id}",
        ] {
            assert_eq!(canonical_route(p), p);
        }
    }

    #[test]
    fn precision_of_datetimes() {
        let check = |raw: &str, want: DateTime<Utc>| {
            let parsed = crate::edge::lenient::parse_datetime(raw).unwrap();
            assert_eq!(inclusive_bound(raw, parsed), want, "{raw}");
        };
        let us = Duration::microseconds;
        let t = Utc.with_ymd_and_hms(2021, 4, 27, 10, 49, 0).unwrap();
        check("2021.04.27 10:49", t + Duration::minutes(1) - us(1));
        check("2021.04.27 10:49:33", t + Duration::seconds(34) - us(1));
        check("2021-04-27T10:49:33Z", t + Duration::seconds(34) - us(1));
        check("2021-04-27T10:49Z", t + Duration::minutes(1) - us(1));
        check("2021-04-27T12:49:33+02:00", t + Duration::seconds(34) - us(1));
        check("2021-04-27T10:49:33.5Z", t + Duration::milliseconds(33_500));
        check("2021.04.27", Utc.with_ymd_and_hms(2021, 4, 28, 0, 0, 0).unwrap() - us(1));
        check("4/27/2021 10:49:33 AM", t + Duration::seconds(34) - us(1));
        check("Tue, 27 Apr 2021 10:49:33 GMT", t + Duration::seconds(34) - us(1));
    }

    #[test]
    fn explore_options() {
        let o =
            crate::edge::lenient::Body::parse(br#"{"DateTime":"2021.04.27 10:49","TYPE":"veod","ShowDeleted":"True"}"#)
                .unwrap();
        let p = parse_options(&o).unwrap();
        assert_eq!(p.kind, SessionKind::Veod);
        assert!(p.show_deleted);
        assert!(!p.show_all_versions);
        let o = crate::edge::lenient::Body::parse(br#"{"showDeleted":true}"#).unwrap();
        assert!(parse_options(&o).unwrap_err().message.contains("'type'"));
        let o = crate::edge::lenient::Body::parse(br#"{"type":"x"}"#).unwrap();
        assert!(parse_options(&o).unwrap_err().message.contains("'type'"));
        let o = crate::edge::lenient::Body::parse(br#"{"explore":{"type":"Vesp"}}"#).unwrap();
        assert_eq!(parse_options(&verb_options(o).unwrap()).unwrap().kind, SessionKind::Vesp);
    }
}
