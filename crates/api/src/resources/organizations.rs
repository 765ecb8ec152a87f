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

use std::collections::HashMap;

use axum::extract::{FromRequestParts, MatchedPath, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use repo::catalog::{ContainerKind, ContainerQuery, Job, Organization, RestorePoint};
use uuid::Uuid;

use crate::ctx::auth::CurrentUser;
use crate::edge::era::Era;
use crate::edge::error::ApiError;
use crate::edge::paging::{json_response, Hrefs, Listing, PageContext};
use crate::edge::query::{LenientQuery, Query};
use crate::edge::version::ApiVersion;
use crate::state::AppState;
use crate::store::sessions::{self, NewSession};
use crate::wire::organization::{
    ExploreBody, ExploreOptions, JobQuery, JobRuns, JobView, LoggedInOrganization, OrganizationQuery, OrganizationView,
    RestorePointContent, RestorePointQuery, RestorePointView,
};
use crate::wire::session::{us_time, RestoreSessionView};

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

/// Extractor: the organization an explore path names — `/Organizations/{id}/…`, the job's organization for
/// `/Jobs/{id}/…`, or the only one for the tenant path `/Organization/…` (404 when there are none or several).
pub struct ExploredOrganization(Organization);

impl FromRequestParts<AppState> for ExploredOrganization {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let template = parts.extensions.get::<MatchedPath>().map(|m| m.as_str().to_owned()).unwrap_or_default();
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("Invalid path: {e}")))?;
        let id = params.get("id").map_or("", String::as_str);
        let org = match template.split('/').nth(2) {
            Some("Organizations") => organization_by_id(state, id).await?,
            Some("Jobs") => {
                let job = job_by_id(state, id).await?;
                state.catalog.organization(job.organization_id).await?.ok_or_else(org_not_found)?
            }
            _ => single_organization(state).await?,
        };
        Ok(ExploredOrganization(org))
    }
}

/// The repository id as a UUID (the repository's own id when it is one, else a name-based UUID of it).
pub fn repository_uuid(state: &AppState) -> Option<Uuid> {
    state.repo.as_ref().map(|r| {
        let id = r.id();
        Uuid::parse_str(id).unwrap_or_else(|_| Uuid::new_v5(&Uuid::NAMESPACE_OID, id.as_bytes()))
    })
}

async fn organization_resource(
    state: &AppState,
    hrefs: &Hrefs,
    org: &Organization,
) -> Result<OrganizationView, ApiError> {
    let rps = state.catalog.restore_points(org.id).await?;
    Ok(OrganizationView::new(hrefs, org, &rps))
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
        (status = 200, description = "v2–v7: array; v8: page", body = [OrganizationView]),
        (status = 401, description = "Not authenticated", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list_organizations(
    State(state): State<AppState>,
    version: ApiVersion,
    hrefs: Hrefs,
    ctx: PageContext,
    q: LenientQuery,
) -> Result<Response, ApiError> {
    let f: OrganizationQuery = q.typed()?;
    let mut orgs = state.catalog.organizations().await?;
    if let Some(msid) = f.msid {
        orgs.retain(|o| o.tenant_id.eq_ignore_ascii_case(msid.trim()));
    }
    if let Some(id) = f.backed_up_organization_id {
        orgs.retain(|o| o.id.to_string().eq_ignore_ascii_case(id.trim()));
    }
    let listing = Listing::of(version, Era::V8, &q)?;
    let mut out = Vec::new();
    for row in listing.window(&orgs) {
        out.push(organization_resource(&state, &hrefs, row).await?);
    }
    Ok(listing.answer(&ctx, out, orgs.len()))
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
        (status = 200, description = "The organization", body = OrganizationView),
        (status = 404, description = "Unknown id", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_organization(
    State(state): State<AppState>,
    hrefs: Hrefs,
    Query(_): Query<OrganizationQuery>,
    Path((_v, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
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
        (status = 200, description = "The organization", body = LoggedInOrganization),
        (status = 404, description = "No organization, or several", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn current_organization(State(state): State<AppState>, hrefs: Hrefs) -> Result<Response, ApiError> {
    let org = single_organization(&state).await?;
    let rps = state.catalog.restore_points(org.id).await?;
    Ok(json_response(StatusCode::OK, &LoggedInOrganization::new(&hrefs, &org, &rps)))
}

// ---------------------------------------------------------------------------------------------------------------
// Explore.

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

/// Start a restore session: explore an organization at a point in time (`datetime`, default the latest restore
/// point), with `type` (Veod, Vesp, Vex, Vet), `showDeleted`, `showAllVersions`. v6/v7 answer 200, v8 and the v2–v5
/// `…/Action {"explore": {…}}` 201.
#[utoipa::path(
    post,
    path = "/{version}/Organizations/{id}/explore",
    tag = "Organization",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Organization id (…/Organizations/{id}) or job id (…/Jobs/{id})")
    ),
    request_body(content = ExploreOptions, description = "The options; on the v2–v5 `…/Action` paths wrapped as `{\"explore\": {…}}`"),
    responses(
        (status = 200, description = "Session started (v6, v7)", body = RestoreSessionView),
        (status = 201, description = "Session started (v8, and v2–v5 …/Action)", body = RestoreSessionView),
        (status = 400, description = "Bad body, unknown action or missing 'type'", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown organization or job; no or several organizations for …/Organization", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn explore(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    ExploredOrganization(org): ExploredOrganization,
    ExploreBody(o): ExploreBody,
) -> Result<Response, ApiError> {
    let (state, user, hrefs, org) = (&state, &user, &hrefs, &org);
    let kind = o.kind()?;
    let requested = o.date_time.as_ref().map(|t| t.at);
    let bound = o.date_time.as_ref().map(|t| inclusive_bound(&t.text, t.at));
    let rp = match bound {
        None => state.catalog.restore_points(org.id).await?.pop(),
        Some(t) => state.catalog.restore_point_at(org.id, t).await?,
    };
    let when = rp.as_ref().map(|r| r.backup_time).or(requested).unwrap_or_else(Utc::now);
    let name = format!("{} restore ({} - {})", kind.product(), org.name, us_time(when));
    let s = sessions::create(
        state,
        NewSession {
            owner: user.clone(),
            organization_id: org.id,
            kind,
            requested_at: requested,
            restore_point_id: rp.as_ref().map(|r| r.id),
            browse_at: rp.as_ref().map(|r| r.backup_time),
            show_deleted: o.show_deleted.unwrap_or(false),
            show_all_versions: o.show_all_versions.unwrap_or(false),
            name: Some(name),
            parent_id: None,
            reason: o.reason,
        },
    )
    .await?;
    tracing::info!(
        session = %s.id, user = %user.name, organization = %org.name, kind = kind.as_str(),
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

// ---------------------------------------------------------------------------------------------------------------
// Jobs.

fn job_not_found() -> ApiError {
    ApiError::not_found("Job not found.")
}

pub async fn job_by_id(state: &AppState, id: &str) -> Result<Job, ApiError> {
    let uuid = Uuid::parse_str(id.trim()).map_err(|_| job_not_found())?;
    state.catalog.job(uuid).await?.ok_or_else(job_not_found)
}

pub async fn job_resource(state: &AppState, hrefs: &Hrefs, job: &Job) -> Result<JobView, ApiError> {
    let runs = state.catalog.sessions(job.id).await?;
    let last = runs.last();
    let last_backup = state
        .catalog
        .restore_points(job.organization_id)
        .await?
        .into_iter()
        .filter(|r| r.job_id == job.id)
        .map(|r| r.backup_time)
        .max();
    let runs = JobRuns { last_run: last.map(|s| s.started_at), last_status: last.map(|s| s.status), last_backup };
    Ok(JobView::new(hrefs, job, repository_uuid(state), runs))
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
        (status = 200, description = "v2–v7 array; v8 page", body = [JobView]),
        (status = 401, description = "Not authenticated", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list_jobs(
    State(state): State<AppState>,
    version: ApiVersion,
    hrefs: Hrefs,
    ctx: PageContext,
    q: LenientQuery,
) -> Result<Response, ApiError> {
    let f: JobQuery = q.typed()?;
    let mut jobs = jobs_of(&state, f.organization_id).await?;
    if let Some(repo) = f.repository_id {
        if repository_uuid(&state) != Some(repo) {
            jobs.clear();
        }
    }
    let listing = Listing::of(version, Era::V8, &q)?;
    let mut out = Vec::new();
    for row in listing.window(&jobs) {
        out.push(job_resource(&state, &hrefs, row).await?);
    }
    Ok(listing.answer(&ctx, out, jobs.len()))
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
        (status = 200, description = "Jobs", body = [JobView]),
        (status = 404, description = "Unknown organization", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn organization_jobs(
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
        (status = 200, description = "The job", body = JobView),
        (status = 404, description = "Unknown job", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_job(
    State(state): State<AppState>,
    hrefs: Hrefs,
    Path((_v, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let job = job_by_id(&state, &id).await?;
    Ok(json_response(StatusCode::OK, &job_resource(&state, &hrefs, &job).await?))
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

async fn restore_point_resource(
    state: &AppState,
    hrefs: &Hrefs,
    rp: &RestorePoint,
) -> Result<RestorePointView, ApiError> {
    let content = RestorePointContent {
        one_drive: has_containers(state, rp.organization_id, rp.backup_time, &[ContainerKind::OneDrive]).await?,
        share_point: has_containers(
            state,
            rp.organization_id,
            rp.backup_time,
            &[ContainerKind::Site, ContainerKind::List],
        )
        .await?,
    };
    Ok(RestorePointView::new(hrefs, rp, repository_uuid(state), content))
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
        (status = 200, description = "Restore points", body = [RestorePointView]),
        (status = 400, description = "Bad filter", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list_restore_points(
    State(state): State<AppState>,
    version: ApiVersion,
    hrefs: Hrefs,
    ctx: PageContext,
    q: LenientQuery,
) -> Result<Response, ApiError> {
    let f: RestorePointQuery = q.typed()?;
    let (org, job, from, to, at) = (f.organization_id, f.job_id, f.from, f.to, f.backup_time);
    let asc = f.order_asc.unwrap_or(false);
    let none = f.repository_id.is_some_and(|r| repository_uuid(&state) != Some(r)) || f.asks_for_copies();
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
    let listing = Listing::of(version, Era::new(7, ApiVersion::MAX), &q)?;
    let mut out = Vec::new();
    for row in listing.window(&rps) {
        out.push(restore_point_resource(&state, &hrefs, row).await?);
    }
    Ok(listing.answer(&ctx, out, rps.len()))
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
        (status = 200, description = "The restore point", body = RestorePointView),
        (status = 404, description = "Unknown id", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_restore_point(
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
}
