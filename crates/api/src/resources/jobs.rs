//! Managing backup jobs over the API: create (`POST /Jobs`, v8), change (`PUT /Jobs/{id}`: what the body leaves out
//! keeps its value), remove (`DELETE /Jobs/{id}`), enable and disable, start and stop (v6+). Reading them is in
//! [`crate::resources::organizations`] (`GET /Jobs`, `/Jobs/{id}`, `/Organizations/{id}/Jobs`).
//!
//! A job's schedule is validated here ([`crate::wire::job::SchedulePolicy`]) and its next run computed in the
//! server's time zone ([`crate::AppState::time_zone`]); `vault365 serve` runs the due jobs. Decisions: a job backs
//! up its whole organization or the users' OneDrives and sites it selects (`backupType` `SelectedItems`), less what
//! it excludes (`excludedItems`; users and sites, a site with its subsites; other item types are refused); `runNow`
//! is refused (start a run with `vault365 backup`); a change made by another client
//! since the job was read is not overwritten when the body's `eTag` is stale (409); removing a job that ran keeps
//! its backups restorable (the job disappears from the listings, its restore points stay).

use axum::extract::{MatchedPath, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use engine::job::{BackupType, JobItem, JobSettings};
use repo::catalog::{CatalogError, Job, JobDefinition};

use crate::edge::error::ApiError;
use crate::edge::lenient::LenientJson;
use crate::edge::paging::{json_response, Hrefs};
use crate::edge::version::ApiVersion;
use crate::resources::organizations::{job_by_id, job_resource, repository_uuid};
use crate::state::{AppState, StartRefused};
use crate::wire::job::{JobBody, JobItemBody, StartOptions};
use crate::wire::job_session::{JobSessionView, SessionContext};
use crate::wire::organization::JobView;
use crate::wire::{Done, Json};

/// A catalog refusal as the API answers it.
fn refused(e: CatalogError, name: &str) -> ApiError {
    match e {
        CatalogError::AlreadyExists(_) => {
            ApiError::conflict(format!("The organization already has a job named '{name}'; 'name' must be unique."))
        }
        CatalogError::InvalidState(m) => ApiError::conflict(format!("The job changed meanwhile ({m}); read it again.")),
        CatalogError::NotFound(_) => ApiError::not_found("Job not found."),
        other => other.into(),
    }
}

/// A `SelectedItems` job selects something; an `EntireOrganization` job selects nothing (it backs up everything).
pub(crate) fn check_selection(settings: &JobSettings) -> Result<(), ApiError> {
    match settings.backup_type {
        BackupType::SelectedItems if settings.selected_items.is_empty() => Err(ApiError::bad_request(
            "'selectedItems' must name at least one user or site when 'backupType' is SelectedItems",
        )),
        BackupType::EntireOrganization if !settings.selected_items.is_empty() => Err(ApiError::bad_request(
            "'selectedItems' goes with 'backupType' SelectedItems (EntireOrganization backs up everything)",
        )),
        _ => Ok(()),
    }
}

/// Stores `settings` as `job`'s (everything else unchanged), unless another client changed the job meanwhile (409).
pub(crate) async fn save_settings(state: &AppState, job: &Job, settings: &JobSettings) -> Result<(), ApiError> {
    check_selection(settings)?;
    let definition = JobDefinition { settings: settings.to_stored(), ..JobDefinition::from(job) };
    state.catalog.update_job(job.id, job.revision, &definition).await.map_err(|e| refused(e, &job.name))?;
    Ok(())
}

/// The definition `body` makes of `current` (a new job when `None`). Errors name the field.
fn definition(state: &AppState, body: &JobBody, current: Option<&Job>) -> Result<JobDefinition, ApiError> {
    let current_settings = current.map(|j| JobSettings::from_stored(&j.settings).unwrap_or_default());
    let name = match (&body.name, current) {
        (Some(n), _) => n.trim().to_string(),
        (None, Some(j)) => j.name.clone(),
        (None, None) => return Err(ApiError::bad_request("'name' is required")),
    };
    if name.is_empty() || name.chars().count() > 255 {
        return Err(ApiError::bad_request("'name' must be 1 to 255 characters"));
    }
    let mut settings = current_settings.clone().unwrap_or_default();
    if let Some(t) = &body.backup_type {
        settings.backup_type = match t.trim() {
            t if t.eq_ignore_ascii_case("EntireOrganization") => BackupType::EntireOrganization,
            t if t.eq_ignore_ascii_case("SelectedItems") => BackupType::SelectedItems,
            _ => return Err(ApiError::bad_request("'backupType' must be one of EntireOrganization, SelectedItems")),
        };
    }
    let items = |field: &str, list: &[JobItemBody]| -> Result<Vec<JobItem>, ApiError> {
        list.iter().enumerate().map(|(i, item)| item.to_item(&format!("{field}[{i}]"))).collect()
    };
    if let Some(list) = &body.selected_items {
        settings.selected_items = items("selectedItems", list)?;
    }
    if let Some(list) = &body.excluded_items {
        settings.excluded_items = items("excludedItems", list)?;
    }
    check_selection(&settings)?;
    if let Some(repo) = body.repository_id {
        if repository_uuid(state) != Some(repo) {
            return Err(ApiError::bad_request(format!("'repositoryId' {repo} is not a repository of this server")));
        }
    }
    if body.run_now == Some(true) {
        return Err(ApiError::bad_request(
            "'runNow' is not supported yet: start a backup with `vault365 backup --org NAME`",
        ));
    }
    if let Some(policy) = &body.schedule_policy {
        (settings.schedule, settings.retry) = policy.to_schedule()?;
    }
    let enabled = body.is_enabled.or(current.map(|j| j.enabled)).unwrap_or(true);
    // The next run moves only when what decides it changed: a run due right now is not skipped by an edit of the
    // description.
    let unchanged = current.is_some_and(|j| j.enabled == enabled)
        && current_settings.as_ref().is_some_and(|s| s.schedule == settings.schedule);
    let next_run_at = match (unchanged, current) {
        (true, Some(j)) => j.next_run_at,
        _ => settings.schedule.next_after(Utc::now(), state.time_zone),
    };
    let description = body.description.clone().or(current.map(|j| j.description.clone())).unwrap_or_default();
    Ok(JobDefinition { name, description, settings: settings.to_stored(), enabled, next_run_at })
}

/// Create a backup job of an organization: its name, description and schedule (`schedulePolicy`).
#[utoipa::path(
    post,
    path = "/{version}/Jobs",
    tag = "Job",
    params(("version" = String, Path, description = "API version: v8")),
    request_body = JobBody,
    responses(
        (status = 201, description = "The job", body = JobView),
        (status = 400, description = "A field is missing or invalid (named)", body = crate::openapi::RestExceptionInfo),
        (status = 409, description = "The organization has a job of that name", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn create_job(
    State(state): State<AppState>,
    hrefs: Hrefs,
    LenientJson(body): LenientJson<JobBody>,
) -> Result<Response, ApiError> {
    let org = body.organization_id.ok_or_else(|| ApiError::bad_request("'organizationId' is required"))?;
    let org = state.catalog.organization(org).await?.ok_or_else(|| {
        ApiError::bad_request(format!("'organizationId' {org} is not an organization of this server"))
    })?;
    let d = definition(&state, &body, None)?;
    let job = state.catalog.create_job_with(org.id, &d).await.map_err(|e| refused(e, &d.name))?;
    tracing::info!(job = %job.id, name = %job.name, organization = %org.name, "backup job created");
    Ok(json_response(StatusCode::CREATED, &job_resource(&state, &hrefs, &job).await?))
}

/// Change a backup job: what the body names (name, description, schedule, enabled); the rest keeps its value.
#[utoipa::path(
    put,
    path = "/{version}/Jobs/{id}",
    tag = "Job",
    params(("version" = String, Path, description = "API version: v6 … v8"), ("id" = String, Path, description = "Job id")),
    request_body(content = JobBody, description = "RESTEditBackupJob: what changes; `organizationId` cannot"),
    responses(
        (status = 200, description = "Changed (v6/v7)"),
        (status = 204, description = "Changed (v8)"),
        (status = 400, description = "A field is invalid (named)", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown job", body = crate::openapi::RestExceptionInfo),
        (status = 409, description = "Name taken, or the job changed meanwhile", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn edit_job(
    State(state): State<AppState>,
    version: ApiVersion,
    Path((_v, id)): Path<(String, String)>,
    LenientJson(body): LenientJson<JobBody>,
) -> Result<Done, ApiError> {
    let job = job_by_id(&state, &id).await?;
    if body.organization_id.is_some_and(|o| o != job.organization_id) {
        return Err(ApiError::bad_request("'organizationId' cannot change: create a job of the other organization"));
    }
    let d = definition(&state, &body, Some(&job))?;
    state.catalog.update_job(job.id, job.revision, &d).await.map_err(|e| refused(e, &d.name))?;
    Ok(Done(version))
}

/// Remove a backup job. Its backups stay restorable (restore points and sessions are kept).
#[utoipa::path(
    delete,
    path = "/{version}/Jobs/{id}",
    tag = "Job",
    params(("version" = String, Path, description = "API version: v6 … v8"), ("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "Removed (v6/v7)"),
        (status = 204, description = "Removed (v8)"),
        (status = 404, description = "Unknown job", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn remove_job(
    State(state): State<AppState>,
    version: ApiVersion,
    Path((_v, id)): Path<(String, String)>,
) -> Result<Done, ApiError> {
    let job = job_by_id(&state, &id).await?;
    state.catalog.remove_job(job.id).await.map_err(|e| refused(e, &job.name))?;
    tracing::info!(job = %job.id, name = %job.name, "backup job removed; its backups stay restorable");
    Ok(Done(version))
}

/// Start a run of a job now (on this server); answers the new job session, whose progress `GET /JobSessions/{id}`
/// shows. A backup of the organization already running refuses it (409).
#[utoipa::path(
    post,
    path = "/{version}/Jobs/{id}/start",
    tag = "Job",
    params(("version" = String, Path, description = "API version: v6 … v8"), ("id" = String, Path, description = "Job id")),
    request_body(content = StartOptions, description = "RESTStartJobOptions (optional)"),
    responses(
        (status = 200, description = "The run's job session", body = JobSessionView),
        (status = 400, description = "`full` asked for (every backup after the first is incremental)", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown job", body = crate::openapi::RestExceptionInfo),
        (status = 409, description = "A backup of the organization is running", body = crate::openapi::RestExceptionInfo),
        (status = 503, description = "This server does not start backups, or the organization cannot be backed up now", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn start_job(
    State(state): State<AppState>,
    hrefs: Hrefs,
    Path((_v, id)): Path<(String, String)>,
    LenientJson(options): LenientJson<StartOptions>,
) -> Result<Json<JobSessionView>, ApiError> {
    let job = job_by_id(&state, &id).await?;
    if options.full == Some(true) {
        return Err(ApiError::bad_request(
            "'full' is not supported: a backup reads everything only the first time, then changes (forever incremental)",
        ));
    }
    let unavailable = |m: String| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, m);
    let backups = state.backups.clone().ok_or_else(|| unavailable("This server does not start backups.".into()))?;
    let session = backups.start(job).await.map_err(|e| match e {
        StartRefused::Busy(m) => ApiError::conflict(m),
        StartRefused::Failed(m) => unavailable(m),
    })?;
    let context = SessionContext { first_of_job: false, repository_id: repository_uuid(&state), now: Utc::now() };
    Ok(Json(JobSessionView::new(&hrefs, &session, context)))
}

/// Stop the running backup of a job at its next checkpoint (on whichever node runs it): its session ends `Stopped`,
/// what it committed stays and the next run resumes from there. A job that is not running: nothing to do.
#[utoipa::path(
    post,
    path = "/{version}/Jobs/{id}/stop",
    tag = "Job",
    params(("version" = String, Path, description = "API version: v6 … v8"), ("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "Stop requested (v6/v7)"),
        (status = 204, description = "Stop requested (v8)"),
        (status = 404, description = "Unknown job", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn stop_job(
    State(state): State<AppState>,
    version: ApiVersion,
    Path((_v, id)): Path<(String, String)>,
) -> Result<Done, ApiError> {
    let job = job_by_id(&state, &id).await?;
    // The organization's running backup, if it is this job's.
    if let Some(running) = state.catalog.running_session(job.id).await? {
        if state.catalog.session(running.id).await?.is_some_and(|s| s.job_id == job.id) {
            state.catalog.request_stop(running.id).await?;
            tracing::info!(job = %job.id, session = %running.id, "stop of the running backup requested");
        }
    }
    Ok(Done(version))
}

/// The backup copy job of a job: there are none on this server (copies of a repository to another are not made), so
/// a known job answers 404 naming that.
#[utoipa::path(
    get,
    path = "/{version}/Jobs/{id}/CopyJob",
    tag = "Job",
    params(("version" = String, Path, description = "API version: v6 … v8"), ("id" = String, Path, description = "Job id")),
    responses((status = 404, description = "Unknown job, or (always) no backup copy job", body = crate::openapi::RestExceptionInfo)),
    security(("bearer" = []))
)]
pub async fn get_copy_job(
    State(state): State<AppState>,
    Path((_v, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let job = job_by_id(&state, &id).await?;
    Err(ApiError::not_found(format!("Job '{}' has no backup copy job: this server makes no backup copies.", job.name)))
}

/// Enable a job (the scheduler runs it from its next scheduled time on) or disable it (no scheduled runs).
#[utoipa::path(
    post,
    path = "/{version}/Jobs/{id}/enable",
    tag = "Job",
    params(("version" = String, Path, description = "API version: v6 … v8"), ("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "Done (v6/v7)"),
        (status = 204, description = "Done (v8)"),
        (status = 404, description = "Unknown job", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn set_job_enabled(
    State(state): State<AppState>,
    version: ApiVersion,
    path: MatchedPath,
    Path((_v, id)): Path<(String, String)>,
) -> Result<Done, ApiError> {
    let enabled = path.as_str().ends_with("/enable");
    let job = job_by_id(&state, &id).await?;
    let body = JobBody { is_enabled: Some(enabled), ..JobBody::default() };
    let d = definition(&state, &body, Some(&job))?;
    state.catalog.update_job(job.id, job.revision, &d).await.map_err(|e| refused(e, &job.name))?;
    Ok(Done(version))
}
