//! Backup job definitions as the API reads and shows them: `RESTCreateBackupJob` / `RESTEditBackupJob` (the body
//! of `POST /Jobs` and `PUT /Jobs/{id}`) and `RESTJobSchedulePolicy`, translated to and from the engine's
//! [`JobSettings`] and [`Schedule`].
//!
//! Schedule policy ↔ schedule: `type` `ManualOnly` (or `scheduleEnabled: false`) runs by hand only; `Daily` needs
//! `dailyType` and `dailyTime` (`HH:MM` or `HH:MM:SS`, the server's time zone) and honours `backupWindowEnabled` +
//! `backupWindowSettings.backupWindow`; `Periodically` needs `periodicallyEvery` (`Minutes5` … `Hours12`) and
//! honours `periodicallyOffsetMinutes` and `periodicallyWindowEnabled` + `periodicallyWindowSettings`. Retries:
//! `retryEnabled`, `retryNumber`, `retryWaitInterval` (minutes).

use chrono::NaiveTime;
use engine::job::{JobItem, JobItemType, JobSettings, Retry, Schedule, Window, DAILY_TYPES, PERIODS};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::edge::error::ApiError;
use crate::edge::lenient::de;
use crate::edge::paging::{Hrefs, Links};

/// `RESTCreateBackupJob` (`POST /Jobs`) and `RESTEditBackupJob` (`PUT /Jobs/{id}`: what is absent keeps its value).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTCreateBackupJob)]
pub struct JobBody {
    /// Required by `POST`; cannot change.
    #[serde(default, deserialize_with = "de::guid::option")]
    #[schema(value_type = Option<String>)]
    pub organization_id: Option<Uuid>,
    /// This server's repository (the one it has).
    #[serde(default, deserialize_with = "de::guid::option")]
    #[schema(value_type = Option<String>)]
    pub repository_id: Option<Uuid>,
    /// Required by `POST`; unique within the organization.
    pub name: Option<String>,
    pub description: Option<String>,
    /// `EntireOrganization` or `SelectedItems` (then `selectedItems` names what is backed up).
    pub backup_type: Option<String>,
    /// Users (`{"type": "User", "user": {"id": …}}`: their OneDrive) and sites (`{"type": "Site", "site": {"id": …}}`,
    /// with their subsites) a `SelectedItems` job backs up.
    pub selected_items: Option<Vec<JobItemBody>>,
    /// Users and sites the job leaves out (same shape).
    pub excluded_items: Option<Vec<JobItemBody>>,
    pub schedule_policy: Option<SchedulePolicy>,
    /// Whether the scheduler runs the job (default true).
    pub is_enabled: Option<bool>,
    /// Start a run at once: refused (starting jobs over the API is not served yet).
    pub run_now: Option<bool>,
}

/// `RESTJobItemComposed`, the parts this server reads: `type` and the user's or site's `id`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTJobItemComposed)]
pub struct JobItemBody {
    /// `User` (the user's OneDrive) or `Site`; the vendor's other types (groups, teams, …) are refused.
    pub r#type: Option<String>,
    pub user: Option<ItemId>,
    pub site: Option<ItemId>,
}

/// `{"id": …}` of a job item's user or site.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ItemId {
    pub id: Option<String>,
}

impl JobItemBody {
    /// The engine's item; `field` (`selectedItems[2]`) names it in errors.
    pub fn to_item(&self, field: &str) -> Result<JobItem, ApiError> {
        let kind =
            self.r#type.as_deref().ok_or_else(|| ApiError::bad_request(format!("'{field}.type' is required")))?;
        let (kind, part) = match kind.trim() {
            t if t.eq_ignore_ascii_case("User") => (JobItemType::User, ("user", &self.user)),
            t if t.eq_ignore_ascii_case("Site") => (JobItemType::Site, ("site", &self.site)),
            other => {
                return Err(ApiError::bad_request(format!(
                    "'{field}.type' {other} is not supported: User (the user's OneDrive) or Site"
                )))
            }
        };
        let id = part.1.as_ref().and_then(|i| i.id.as_deref()).map(str::trim).filter(|i| !i.is_empty());
        let id = id.ok_or_else(|| ApiError::bad_request(format!("'{field}.{}.id' is required", part.0)))?;
        Ok(JobItem { r#type: kind, id: id.to_string() })
    }
}

/// The API id of a job's item: stable for its type and Microsoft id, opaque and URL-safe (site ids hold commas).
pub fn job_item_id(item: &JobItem) -> Uuid {
    let kind = match item.r#type {
        JobItemType::User => "User",
        JobItemType::Site => "Site",
    };
    Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("vault365 job item {kind}/{}", item.id).as_bytes())
}

/// `RESTJobItemComposed` as the API shows a job's selected or excluded item.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobItemView {
    #[schema(value_type = String)]
    pub id: Uuid,
    /// `User` or `Site`.
    pub r#type: &'static str,
    /// Users: their OneDrive is backed up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_drive: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<ItemIdView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<ItemIdView>,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    pub links: Links,
}

/// `{"id": …}` of a shown item.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemIdView {
    pub id: String,
}

impl JobItemView {
    /// Item `item` of the job's list at `list_href` (`Jobs/{id}/SelectedItems`).
    pub fn new(hrefs: &Hrefs, list_href: &str, item: &JobItem) -> JobItemView {
        let id = job_item_id(item);
        let part = Some(ItemIdView { id: item.id.clone() });
        let (r#type, one_drive, user, site) = match item.r#type {
            JobItemType::User => ("User", Some(true), part, None),
            JobItemType::Site => ("Site", None, None, part),
        };
        JobItemView {
            id,
            r#type,
            one_drive,
            user,
            site,
            links: Links::new().with("self", hrefs.href(&format!("{list_href}/{id}"))),
        }
    }
}

/// `RESTStartJobOptions` (`POST /Jobs/{id}/start`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTStartJobOptions)]
pub struct StartOptions {
    /// An active full backup: refused (backups are forever incremental).
    pub full: Option<bool>,
}

/// `RESTBackupWindowSettings`: 168 hourly flags from Sunday 00:00.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTBackupWindowSettings)]
pub struct WindowSettings {
    pub backup_window: Vec<bool>,
    /// Accepted; the flags are read in the server's time zone.
    pub minute_offset: Option<i32>,
}

/// `RESTJobSchedulePolicy`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTJobSchedulePolicy)]
pub struct SchedulePolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_enabled: Option<bool>,
    /// `Periodically`, `Daily` or `ManualOnly`.
    pub r#type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub periodically_every: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub periodically_offset_minutes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_window_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_window_settings: Option<WindowSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub periodically_window_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub periodically_window_settings: Option<WindowSettings>,
    pub retry_enabled: Option<bool>,
    pub retry_number: Option<u32>,
    pub retry_wait_interval: Option<u32>,
}

fn bad(field: &str, what: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("'schedulePolicy.{field}' {what}"))
}

/// `name` of `allowed`, matched case-insensitively.
fn one_of<'a>(field: &str, value: &str, allowed: &[&'a str]) -> Result<&'a str, ApiError> {
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(value.trim()))
        .copied()
        .ok_or_else(|| bad(field, format!("must be one of {}", allowed.join(", "))))
}

fn window(field: &str, enabled: Option<bool>, settings: &Option<WindowSettings>) -> Result<Option<Window>, ApiError> {
    if enabled != Some(true) {
        return Ok(None);
    }
    let hours = settings.as_ref().map(|s| s.backup_window.clone()).ok_or_else(|| bad(field, "is required"))?;
    Window::try_from(hours).map(Some).map_err(|e| bad(&format!("{field}.backupWindow"), format!("is invalid: {e}")))
}

impl SchedulePolicy {
    /// The schedule and retries it describes. Errors name the field.
    pub fn to_schedule(&self) -> Result<(Schedule, Retry), ApiError> {
        let default_retry = Retry::default();
        let retry = Retry {
            enabled: self.retry_enabled.unwrap_or(default_retry.enabled),
            number: self.retry_number.unwrap_or(default_retry.number),
            wait_minutes: self.retry_wait_interval.unwrap_or(default_retry.wait_minutes),
        };
        if retry.enabled && !(1..=777).contains(&retry.number) {
            return Err(bad("retryNumber", "must be between 1 and 777"));
        }
        if retry.enabled && !(1..=999).contains(&retry.wait_minutes) {
            return Err(bad("retryWaitInterval", "must be between 1 and 999 minutes"));
        }
        let kind = match &self.r#type {
            None => "ManualOnly",
            Some(t) => one_of("type", t, &["Periodically", "Daily", "ManualOnly"])?,
        };
        let schedule = match (kind, self.schedule_enabled) {
            (_, Some(false)) | ("ManualOnly", _) => Schedule::ManualOnly,
            ("Daily", _) => {
                let names: Vec<&str> = DAILY_TYPES.iter().map(|(n, _)| *n).collect();
                let day_name = self.daily_type.as_deref().ok_or_else(|| bad("dailyType", "is required for Daily"))?;
                let day_name = one_of("dailyType", day_name, &names)?;
                let days = DAILY_TYPES.iter().find(|(n, _)| *n == day_name).map(|(_, d)| *d).expect("listed");
                let time = self.daily_time.as_deref().ok_or_else(|| bad("dailyTime", "is required for Daily"))?;
                let time = NaiveTime::parse_from_str(time.trim(), "%H:%M:%S")
                    .or_else(|_| NaiveTime::parse_from_str(time.trim(), "%H:%M"))
                    .map_err(|_| bad("dailyTime", "must be a time of day, HH:MM or HH:MM:SS"))?;
                let window = window("backupWindowSettings", self.backup_window_enabled, &self.backup_window_settings)?;
                Schedule::Daily { days, time, window }
            }
            _ => {
                let names: Vec<&str> = PERIODS.iter().map(|(n, _)| *n).collect();
                let every = self
                    .periodically_every
                    .as_deref()
                    .ok_or_else(|| bad("periodicallyEvery", "is required for Periodically"))?;
                let every = one_of("periodicallyEvery", every, &names)?;
                let every_minutes = PERIODS.iter().find(|(n, _)| *n == every).map(|(_, m)| *m).expect("listed");
                let offset_minutes = self.periodically_offset_minutes.unwrap_or(0);
                if offset_minutes >= every_minutes.min(60) {
                    return Err(bad("periodicallyOffsetMinutes", format!("must be below {}", every_minutes.min(60))));
                }
                let window = window(
                    "periodicallyWindowSettings",
                    self.periodically_window_enabled,
                    &self.periodically_window_settings,
                )?;
                Schedule::Periodically { every_minutes, offset_minutes, window }
            }
        };
        Ok((schedule, retry))
    }

    /// The policy of stored settings, as `GET /Jobs` shows it.
    pub fn of(settings: &JobSettings) -> SchedulePolicy {
        let r = &settings.retry;
        let mut p = SchedulePolicy {
            retry_enabled: Some(r.enabled),
            retry_number: Some(r.number),
            retry_wait_interval: Some(r.wait_minutes),
            ..SchedulePolicy::default()
        };
        let hours =
            |w: &Option<Window>| w.clone().map(|w| WindowSettings { backup_window: w.into(), minute_offset: Some(0) });
        match &settings.schedule {
            Schedule::ManualOnly => {
                p.r#type = Some("ManualOnly".into());
                p.schedule_enabled = Some(false);
            }
            Schedule::Daily { days, time, window } => {
                p.r#type = Some("Daily".into());
                p.schedule_enabled = Some(true);
                p.daily_type = DAILY_TYPES.iter().find(|(_, d)| d == days).map(|(n, _)| n.to_string());
                p.daily_time = Some(time.format("%H:%M:%S").to_string());
                p.backup_window_enabled = Some(window.is_some());
                p.backup_window_settings = hours(window);
            }
            Schedule::Periodically { every_minutes, offset_minutes, window } => {
                p.r#type = Some("Periodically".into());
                p.schedule_enabled = Some(true);
                p.periodically_every = PERIODS.iter().find(|(_, m)| m == every_minutes).map(|(n, _)| n.to_string());
                p.periodically_offset_minutes = Some(*offset_minutes);
                p.periodically_window_enabled = Some(window.is_some());
                p.periodically_window_settings = hours(window);
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::job::DailyType;

    fn policy(json: &str) -> Result<(Schedule, Retry), ApiError> {
        crate::edge::lenient::Body::parse(json.as_bytes()).unwrap().to_typed::<SchedulePolicy>()?.to_schedule()
    }

    #[test]
    fn policies_read_and_show_back() {
        let (s, r) =
            policy(r#"{"type":"daily","dailyType":"workdays","dailyTime":"22:30","retryEnabled":false}"#).unwrap();
        let time = NaiveTime::from_hms_opt(22, 30, 0).unwrap();
        assert_eq!(s, Schedule::Daily { days: DailyType::Workdays, time, window: None });
        assert!(!r.enabled);
        let shown = SchedulePolicy::of(&JobSettings { schedule: s, retry: r, ..JobSettings::default() });
        assert_eq!((shown.daily_type.as_deref(), shown.daily_time.as_deref()), (Some("Workdays"), Some("22:30:00")));
        let (p, _) =
            policy(r#"{"type":"Periodically","periodicallyEvery":"Minutes15","periodicallyOffsetMinutes":5}"#).unwrap();
        assert_eq!(p, Schedule::Periodically { every_minutes: 15, offset_minutes: 5, window: None });
        assert_eq!(policy(r#"{"type":"Daily","scheduleEnabled":false}"#).unwrap().0, Schedule::ManualOnly);
        assert_eq!(policy("{}").unwrap().0, Schedule::ManualOnly);
    }

    #[test]
    fn bad_policies_name_the_field() {
        for (json, field) in [
            (r#"{"type":"Hourly"}"#, "schedulePolicy.type"),
            (r#"{"type":"Daily","dailyTime":"22:00"}"#, "schedulePolicy.dailyType"),
            (r#"{"type":"Daily","dailyType":"Everyday"}"#, "schedulePolicy.dailyTime"),
            (r#"{"type":"Daily","dailyType":"Everyday","dailyTime":"25:00"}"#, "schedulePolicy.dailyTime"),
            (r#"{"type":"Periodically","periodicallyEvery":"Minutes7"}"#, "schedulePolicy.periodicallyEvery"),
            (
                r#"{"type":"Periodically","periodicallyEvery":"Minutes5","periodicallyOffsetMinutes":5}"#,
                "periodicallyOffsetMinutes",
            ),
            (
                r#"{"type":"Daily","dailyType":"Everyday","dailyTime":"1:00","backupWindowEnabled":true}"#,
                "backupWindowSettings",
            ),
            (
                r#"{"type":"Daily","dailyType":"Everyday","dailyTime":"1:00","backupWindowEnabled":true,"backupWindowSettings":{"backupWindow":[true]}}"#,
                "backupWindowSettings.backupWindow",
            ),
            (r#"{"retryEnabled":true,"retryNumber":0}"#, "retryNumber"),
        ] {
            let e = policy(json).unwrap_err();
            assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST, "{json}");
            assert!(e.message.contains(field), "{json}: {}", e.message);
        }
    }
}
