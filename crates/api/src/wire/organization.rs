//! Organizations, their jobs and restore points, and the explore options that start a restore session.

use axum::extract::{FromRequest, MatchedPath, Request};
use chrono::{DateTime, Utc};
use repo::catalog::{Job, Organization, RestorePoint, SessionStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::edge::error::ApiError;
use crate::edge::lenient::datetime::StatedTime;
use crate::edge::lenient::{datetime, de, LenientJson, Obj};
use crate::edge::paging::{Hrefs, Links};
use crate::store::sessions::{dotnet_time, SessionKind};
use crate::wire::job::SchedulePolicy;
use crate::wire::job_session::status_label;
use engine::job::{BackupType, JobSettings};

/// The product a restore session explores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum ExploreType {
    Vex,
    Veod,
    Vesp,
    Vet,
}

impl From<ExploreType> for SessionKind {
    fn from(t: ExploreType) -> SessionKind {
        match t {
            ExploreType::Vex => SessionKind::Vex,
            ExploreType::Veod => SessionKind::Veod,
            ExploreType::Vesp => SessionKind::Vesp,
            ExploreType::Vet => SessionKind::Vet,
        }
    }
}

/// Explore options (`RESTExploreOptions`); v2–v5 wrap them as `{"explore": {…}}`. Names in any case, booleans as
/// strings, enums in any case.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTExploreOptions)]
pub struct ExploreOptions {
    /// Required: `Vex`, `Veod`, `Vesp`, `Vet` (any case).
    #[schema(value_type = String)]
    r#type: Option<ExploreType>,
    /// Point in time (ISO 8601, `yyyy.MM.dd HH:mm[:ss]`, `yyyy-MM-dd HH:mm:ss[.fff]`, …); omitted = latest.
    // Errors name it as the vendor's v2 documentation spelled it: 'datetime'.
    #[serde(rename(deserialize = "datetime"))]
    #[schema(value_type = Option<String>)]
    pub date_time: Option<StatedTime>,
    /// v8; accepted and ignored (one repository).
    #[serde(default, deserialize_with = "de::guid::option")]
    #[schema(value_type = Option<String>)]
    pub repository_id: Option<Uuid>,
    pub show_deleted: Option<bool>,
    pub show_all_versions: Option<bool>,
    /// v6+: free text kept with the session.
    #[serde(default, deserialize_with = "de::text")]
    pub reason: Option<String>,
}

/// The v2–v5 `POST …/Action` body of an organization or job: `{"explore": {…}}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ExploreAction {
    Explore(ExploreOptions),
}

/// Extractor: the explore options of a request. On a v2–v5 `…/Action` path the body is the action
/// `{"explore": {…}}`; on a v6+ `…/explore` path the bare options, or the v2–v5 wrapping (unwrapped).
#[derive(Debug)]
pub struct ExploreBody(pub ExploreOptions);

impl<S: Send + Sync> FromRequest<S> for ExploreBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let action = req.extensions().get::<MatchedPath>().is_some_and(|m| m.as_str().ends_with("/Action"));
        let LenientJson(body) = LenientJson::<Obj>::from_request(req, state).await?;
        if action {
            let ExploreAction::Explore(o) = body.to_typed()?;
            return Ok(ExploreBody(o));
        }
        ExploreOptions::from_verb_body(&body).map(ExploreBody)
    }
}

impl ExploreOptions {
    /// The required `type`.
    pub fn kind(&self) -> Result<SessionKind, ApiError> {
        self.r#type
            .map(SessionKind::from)
            .ok_or_else(|| ApiError::bad_request("'type' is required: one of Vex, Veod, Vesp, Vet".to_string()))
    }

    fn from_verb_body(body: &Obj) -> Result<ExploreOptions, ApiError> {
        let keys: Vec<&str> = body.keys().collect();
        if keys.len() == 1 && keys[0].eq_ignore_ascii_case("explore") {
            let ExploreAction::Explore(o) = body.to_typed()?;
            return Ok(o);
        }
        body.to_typed()
    }
}

/// `GET /Organizations` and `/Organizations/{id}` query: `extendedView` is accepted (and validated) only.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationQuery {
    pub extended_view: Option<bool>,
    /// v8: tenant id filter.
    pub msid: Option<String>,
    /// v8: organization id filter.
    pub backed_up_organization_id: Option<String>,
}

/// `GET /Jobs` filters.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobQuery {
    #[serde(default, deserialize_with = "de::guid::option")]
    pub organization_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::guid::option")]
    pub repository_id: Option<Uuid>,
}

/// `GET /RestorePoints` filters.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestorePointQuery {
    #[serde(default, deserialize_with = "de::guid::option")]
    pub organization_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::guid::option")]
    pub job_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::guid::option")]
    pub repository_id: Option<Uuid>,
    #[serde(default, deserialize_with = "datetime::option")]
    pub from: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "datetime::option")]
    pub to: Option<DateTime<Utc>>,
    /// v6: the restore point in force at that time.
    #[serde(default, deserialize_with = "datetime::option")]
    pub backup_time: Option<DateTime<Utc>>,
    pub order_asc: Option<bool>,
    pub is_long_term_copy: Option<bool>,
    pub is_copy: Option<bool>,
    pub is_retrieved: Option<bool>,
}

impl RestorePointQuery {
    /// Only `false` matches the copy flags: there are no copies here.
    pub fn asks_for_copies(&self) -> bool {
        [self.is_long_term_copy, self.is_copy, self.is_retrieved].iter().any(|f| f.unwrap_or(false))
    }
}

/// An empty `_actions` object.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct NoActions {}

/// `RestOrganizationComposed` (the fields this server fills). Times are .NET round-trip strings.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RestOrganizationComposed)]
pub struct OrganizationView {
    /// `Office365`.
    pub r#type: &'static str,
    /// `Worldwide`.
    pub region: &'static str,
    #[schema(value_type = String)]
    pub id: Uuid,
    pub name: String,
    pub office_name: String,
    /// v7+.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'static str>,
    pub is_exchange_online: bool,
    pub is_share_point_online: bool,
    pub is_teams_online: bool,
    /// v6+.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_teams_chats_online: Option<bool>,
    pub is_backedup: bool,
    pub first_backuptime: Option<String>,
    pub last_backuptime: Option<String>,
    /// v8: the tenant id (null when it is no GUID).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub msid: Option<Option<Uuid>>,
    /// v8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backed_up_organization_id: Option<String>,
    /// `self`, `jobs`, `explore`, `restorePoints`.
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    pub links: Links,
    #[serde(rename = "_actions")]
    pub actions: NoActions,
}

impl OrganizationView {
    /// `rps`: the organization's restore points, oldest first.
    pub fn new(hrefs: &Hrefs, org: &Organization, rps: &[RestorePoint]) -> OrganizationView {
        let era = hrefs.version();
        let explore = if era.is_action_era() { "Action" } else { "explore" };
        OrganizationView {
            r#type: "Office365",
            region: "Worldwide",
            id: org.id,
            name: org.name.clone(),
            office_name: org.tenant_domain.clone(),
            description: (era.number() >= 7).then_some(""),
            is_exchange_online: false,
            is_share_point_online: true,
            is_teams_online: false,
            is_teams_chats_online: (era.number() >= 6).then_some(false),
            is_backedup: !rps.is_empty(),
            first_backuptime: rps.first().map(|r| dotnet_time(r.backup_time)),
            last_backuptime: rps.last().map(|r| dotnet_time(r.backup_time)),
            msid: era.is_v8().then(|| Uuid::parse_str(&org.tenant_id).ok()),
            backed_up_organization_id: era.is_v8().then(|| org.id.to_string()),
            links: Links::new()
                .with("self", hrefs.href(&format!("Organizations/{}", org.id)))
                .with("jobs", hrefs.href(&format!("Organizations/{}/Jobs", org.id)))
                .with("explore", hrefs.href(&format!("Organizations/{}/{explore}", org.id)))
                .with("restorePoints", hrefs.href(&format!("RestorePoints?organizationId={}", org.id))),
            actions: NoActions {},
        }
    }
}

/// `RESTLoggedInOrganization`: the only organization (`GET /Organization`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTLoggedInOrganization)]
pub struct LoggedInOrganization {
    pub id: String,
    pub name: String,
    /// v8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'static str>,
    pub r#type: &'static str,
    pub is_backedup: bool,
    pub first_backuptime: Option<String>,
    pub last_backuptime: Option<String>,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    pub links: Links,
    #[serde(rename = "_actions")]
    pub actions: LoggedInActions,
}

/// `{"explore": {"uri": …, "method": "Post"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoggedInActions {
    pub explore: ActionLink,
}

/// An action's target.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionLink {
    pub uri: String,
    /// `Post`.
    pub method: &'static str,
}

impl LoggedInOrganization {
    pub fn new(hrefs: &Hrefs, org: &Organization, rps: &[RestorePoint]) -> LoggedInOrganization {
        let era = hrefs.version();
        let explore = if era.is_action_era() { "Organization/Action" } else { "Organization/explore" };
        LoggedInOrganization {
            id: org.id.to_string(),
            name: org.name.clone(),
            description: era.is_v8().then_some(""),
            r#type: "Office365",
            is_backedup: !rps.is_empty(),
            first_backuptime: rps.first().map(|r| dotnet_time(r.backup_time)),
            last_backuptime: rps.last().map(|r| dotnet_time(r.backup_time)),
            links: Links::new().with("self", hrefs.href("Organization")),
            actions: LoggedInActions { explore: ActionLink { uri: hrefs.href(explore), method: "Post" } },
        }
    }
}

/// `RESTJob` (the fields this server fills).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTJob)]
pub struct JobView {
    #[schema(value_type = String)]
    pub id: Uuid,
    #[schema(value_type = String)]
    pub organization_id: Uuid,
    #[schema(value_type = Option<String>)]
    pub repository_id: Option<Uuid>,
    pub name: String,
    pub description: String,
    /// `EntireOrganization`.
    pub backup_type: &'static str,
    /// v8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_policy: Option<SchedulePolicy>,
    pub last_run: Option<String>,
    /// The next scheduled run (none while the job is disabled or runs by hand only).
    pub next_run: Option<String>,
    /// v8.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub last_backup: Option<Option<String>>,
    /// v8: the job definition's revision (changes with every change of the job).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e_tag: Option<i64>,
    pub is_enabled: bool,
    /// `Stopped`, `Running`, `Success`, `Failed`, `Warning`.
    pub last_status: &'static str,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    pub links: Links,
}

/// What a job's resource shows of its runs.
#[derive(Debug, Clone, Copy)]
pub struct JobRuns {
    /// Start of the last run.
    pub last_run: Option<DateTime<Utc>>,
    pub last_status: Option<SessionStatus>,
    /// Backup time of the job's newest restore point.
    pub last_backup: Option<DateTime<Utc>>,
}

impl JobView {
    pub fn new(hrefs: &Hrefs, job: &Job, repository_id: Option<Uuid>, runs: JobRuns) -> JobView {
        let era = hrefs.version();
        let explore = if era.is_action_era() { "Action" } else { "explore" };
        // A job that never ran shows `Stopped`, as the vendor's does.
        let last_status = runs.last_status.map_or("Stopped", status_label);
        // A job stored before jobs had settings reads as the defaults; unreadable settings too (the API shows the job
        // rather than failing its listing; the scheduler reports them).
        let settings = JobSettings::from_stored(&job.settings).unwrap_or_default();
        JobView {
            id: job.id,
            organization_id: job.organization_id,
            repository_id,
            name: job.name.clone(),
            description: job.description.clone(),
            backup_type: match settings.backup_type {
                BackupType::EntireOrganization => "EntireOrganization",
                BackupType::SelectedItems => "SelectedItems",
            },
            schedule_policy: era.is_v8().then(|| SchedulePolicy::of(&settings)),
            last_run: runs.last_run.map(dotnet_time),
            next_run: job.next_run_at.filter(|_| job.enabled).map(dotnet_time),
            last_backup: era.is_v8().then(|| runs.last_backup.map(dotnet_time)),
            e_tag: era.is_v8().then_some(job.revision),
            is_enabled: job.enabled,
            last_status,
            links: Links::new()
                .with("self", hrefs.href(&format!("Jobs/{}", job.id)))
                .with("organization", hrefs.href(&format!("Organizations/{}", job.organization_id)))
                .with("explore", hrefs.href(&format!("Jobs/{}/{explore}", job.id)))
                .with("restorePoints", hrefs.href(&format!("RestorePoints?jobId={}", job.id))),
        }
    }
}

/// `RESTRestorePoint` (the fields this server fills), with two extensions: `isFull` and `itemsCount`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTRestorePoint)]
pub struct RestorePointView {
    pub id: String,
    /// v8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_deleted: Option<bool>,
    #[schema(value_type = Option<String>)]
    pub repository_id: Option<Uuid>,
    pub backup_time: String,
    #[schema(value_type = String)]
    pub job_id: Uuid,
    #[schema(value_type = String)]
    pub organization_id: Uuid,
    pub is_exchange: bool,
    pub is_share_point: bool,
    pub is_one_drive: bool,
    pub is_teams: bool,
    pub is_long_term_copy: bool,
    /// v7+.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_copy: Option<bool>,
    pub is_retrieved: bool,
    /// v8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e_tag: Option<i64>,
    /// v8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objects_etag: Option<i64>,
    /// v8: always null.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub immutability_expires_on: Option<Option<String>>,
    /// Extension: a full (not incremental) backup.
    pub is_full: bool,
    /// Extension: items in the restore point.
    pub items_count: i64,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    pub links: Links,
}

/// The products a restore point holds.
#[derive(Debug, Clone, Copy)]
pub struct RestorePointContent {
    pub one_drive: bool,
    pub share_point: bool,
}

impl RestorePointView {
    pub fn new(
        hrefs: &Hrefs,
        rp: &RestorePoint,
        repository_id: Option<Uuid>,
        content: RestorePointContent,
    ) -> RestorePointView {
        let era = hrefs.version();
        let v8 = era.is_v8();
        RestorePointView {
            id: rp.id.to_string(),
            is_deleted: v8.then_some(false),
            repository_id,
            backup_time: dotnet_time(rp.backup_time),
            job_id: rp.job_id,
            organization_id: rp.organization_id,
            is_exchange: false,
            is_share_point: content.share_point,
            is_one_drive: content.one_drive,
            is_teams: false,
            is_long_term_copy: false,
            is_copy: (era.number() >= 7).then_some(false),
            is_retrieved: false,
            e_tag: v8.then_some(1),
            objects_etag: v8.then_some(1),
            immutability_expires_on: v8.then_some(None),
            is_full: rp.is_full,
            items_count: rp.stats.items,
            links: Links::new()
                .with("self", hrefs.href(&format!("RestorePoints/{}", rp.id)))
                .with("organization", hrefs.href(&format!("Organizations/{}", rp.organization_id)))
                .with("job", hrefs.href(&format!("Jobs/{}", rp.job_id))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::lenient::Body;

    fn verb(s: &str) -> Result<ExploreOptions, ApiError> {
        ExploreOptions::from_verb_body(&Body::parse(s.as_bytes()).unwrap())
    }

    #[test]
    fn explore_options() {
        let p = verb(r#"{"DateTime":"2021.04.27 10:49","TYPE":"veod","ShowDeleted":"True"}"#).unwrap();
        assert_eq!(p.kind().unwrap(), SessionKind::Veod);
        assert_eq!(p.date_time.unwrap().text, "2021.04.27 10:49");
        assert_eq!((p.show_deleted, p.show_all_versions), (Some(true), None));
        assert_eq!(
            verb(r#"{"showDeleted":true}"#).unwrap().kind().unwrap_err().message,
            "'type' is required: one of Vex, Veod, Vesp, Vet"
        );
        assert_eq!(
            verb(r#"{"type":"x"}"#).unwrap_err().message,
            "'type' must be one of: Vex, Veod, Vesp, Vet (got 'x')"
        );
        assert_eq!(verb(r#"{"explore":{"type":"Vesp"}}"#).unwrap().kind().unwrap(), SessionKind::Vesp);
        assert_eq!(
            verb(r#"{"explore":{"type":"x"}}"#).unwrap_err().message,
            "'explore.type' must be one of: Vex, Veod, Vesp, Vet (got 'x')"
        );
        assert!(verb(r#"{"type":"veod","datetime":"yesterday"}"#)
            .unwrap_err()
            .message
            .starts_with("'datetime' is not a valid date and time: 'yesterday'"));
        assert_eq!(verb(r#"{"type":"veod","repositoryId":"x"}"#).unwrap_err().message, "'repositoryId' must be a GUID");
        assert_eq!(verb(r#"{"type":"veod","reason":""}"#).unwrap().reason.as_deref(), Some(""));
        assert!(verb(r#"{"type":"veod","dateTime":" "}"#).unwrap().date_time.is_none());
    }
}
