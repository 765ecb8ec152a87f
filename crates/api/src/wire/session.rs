//! Restore sessions: the session, its events, statistics and organization, the list filter and the stop action.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::edge::error::ApiError;
use crate::edge::lenient::{datetime, parse_enum};
use crate::edge::paging::{Hrefs, Links};
use crate::store::sessions::{dotnet_duration, dotnet_time, Outcome, RestoreSession, SessionEvent, SessionKind};

/// A point in time as C#'s `DateTime.ToString()` in en-US: `6/26/2017 3:07:39 PM`.
pub fn us_time(t: DateTime<Utc>) -> String {
    t.format("%-m/%-d/%Y %-I:%M:%S %p").to_string()
}

/// The v2–v5 `POST …/RestoreSessions/{id}/Action` body: `{"stop": null}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SessionAction {
    Stop,
}

/// `GET /RestoreSessions` filters (every version).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionListQuery {
    #[serde(default, deserialize_with = "datetime::option")]
    pub start_time_from: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "datetime::option")]
    pub start_time_to: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "datetime::option")]
    pub end_time_from: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "datetime::option")]
    pub end_time_to: Option<DateTime<Utc>>,
    order_by: Option<String>,
    pub order_asc: Option<bool>,
}

impl SessionListQuery {
    /// `orderBy=EndTime` (any case); `CreationTime` is the default.
    pub fn order_by_end(&self) -> Result<bool, ApiError> {
        match self.order_by.as_deref().map(|v| parse_enum(v, &["CreationTime", "EndTime"])) {
            None => Ok(false),
            Some(Some(order)) => Ok(order == "EndTime"),
            Some(None) => Err(ApiError::bad_request("'orderBy' must be one of: CreationTime, EndTime")),
        }
    }
}

/// Counts of a session's restore events.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub total: i64,
    pub success: i64,
    pub warning: i64,
    pub failed: i64,
    pub skipped: i64,
}

fn is_restore_event(e: &SessionEvent) -> bool {
    e.kind.eq_ignore_ascii_case("Restore")
}

impl Counts {
    pub fn of(events: &[SessionEvent]) -> Counts {
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
}

/// `RESTRestoreSession`. Times are .NET round-trip strings (`…T09:00:00.0000000Z`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTRestoreSession)]
pub struct RestoreSessionView {
    #[schema(value_type = String)]
    pub id: Uuid,
    pub name: String,
    /// Organization name.
    pub organization: String,
    /// `Vex`, `Veod`, `Vesp`, `Vet`.
    pub r#type: &'static str,
    pub creation_time: String,
    pub end_time: Option<String>,
    /// `Working` or `Stopped`.
    pub state: &'static str,
    /// `Success`, `Warning` or `Failed`.
    pub result: &'static str,
    pub initiated_by: String,
    /// `"N items processed (S success, W warnings, F failed)"`.
    pub details: String,
    /// v6+, when the client gave one (a string in the vendor schema, not nullable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// v8: modification counter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e_tag: Option<i64>,
    /// `self`, `organization`, `restoreSessionEvents`.
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    pub links: Links,
}

impl RestoreSessionView {
    pub fn new(hrefs: &Hrefs, s: &RestoreSession, org_name: &str, events: &[SessionEvent]) -> RestoreSessionView {
        let era = hrefs.version();
        let c = Counts::of(events);
        let details = s.details.clone().unwrap_or_else(|| {
            format!("{} items processed ({} success, {} warnings, {} failed)", c.total, c.success, c.warning, c.failed)
        });
        RestoreSessionView {
            id: s.id,
            name: s.name.clone(),
            organization: org_name.to_string(),
            r#type: s.kind.as_str(),
            creation_time: dotnet_time(s.created_at),
            end_time: s.ended_at.map(dotnet_time),
            state: s.state.as_str(),
            result: s.result.as_str(),
            initiated_by: s.owner_name.clone(),
            details,
            reason: s.reason.clone().filter(|_| era.is_verb_era()),
            e_tag: era.is_v8().then_some(s.etag),
            links: Links::new()
                .with("self", hrefs.href(&format!("RestoreSessions/{}", s.id)))
                .with("organization", hrefs.href(&format!("RestoreSessions/{}/Organization", s.id)))
                .with("restoreSessionEvents", hrefs.href(&format!("RestoreSessions/{}/Events", s.id))),
        }
    }
}

/// `RESTRestoreSessionEvent`. Fields present from v6 may be null; absent before.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTRestoreSessionEvent)]
pub struct SessionEventView {
    #[schema(value_type = String)]
    pub id: Uuid,
    /// `None`, `Save`, `Export`, `Send`, `Restore`, `View`.
    pub r#type: String,
    /// `Running`, `Success`, `Warning`, `Failed`, `Cancelled`, `Skipped`.
    pub status: &'static str,
    pub start_time: String,
    pub end_time: Option<String>,
    /// .NET TimeSpan, `hh:mm:ss.fffffff`.
    pub duration: String,
    pub title: String,
    pub message: String,
    pub order: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub item_name: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub item_type: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub item_size_bytes: Option<Option<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub source: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub target: Option<Option<String>>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub v8: Option<EventIdsV8>,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    pub links: Links,
}

/// The ids a v8 event adds.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventIdsV8 {
    #[schema(value_type = String)]
    pub organization_id: Uuid,
    pub backed_up_organization_id: String,
    pub user_id: Option<String>,
    pub group_id: Option<String>,
    pub site_id: Option<String>,
    pub team_id: Option<String>,
}

impl SessionEventView {
    pub fn new(hrefs: &Hrefs, s: &RestoreSession, e: &SessionEvent) -> SessionEventView {
        let era = hrefs.version();
        let end_or_now = e.ended_at.unwrap_or_else(Utc::now);
        let v6 = |v: &Option<String>| era.is_verb_era().then(|| v.clone());
        SessionEventView {
            id: e.id,
            r#type: if e.kind.is_empty() { "None".to_string() } else { e.kind.clone() },
            status: e.status.as_str(),
            start_time: dotnet_time(e.started_at),
            end_time: e.ended_at.map(dotnet_time),
            duration: dotnet_duration(end_or_now - e.started_at),
            title: e.title.clone(),
            message: e.message.clone(),
            order: e.order,
            item_name: v6(&e.item_name),
            item_type: v6(&e.item_type),
            item_size_bytes: era.is_verb_era().then_some(e.item_size),
            source: v6(&e.source),
            target: v6(&e.target),
            v8: era.is_v8().then(|| EventIdsV8 {
                organization_id: s.organization_id,
                backed_up_organization_id: s.organization_id.to_string(),
                user_id: e.user_id.clone(),
                group_id: e.group_id.clone(),
                site_id: e.site_id.clone(),
                team_id: e.team_id.clone(),
            }),
            links: Links::new()
                .with("self", hrefs.href(&format!("RestoreSessions/{}/Events/{}", s.id, e.id)))
                .with("restoreSession", hrefs.href(&format!("RestoreSessions/{}", s.id))),
        }
    }
}

/// `RESTRestoreSessionStatistics` (v8; served in every version).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTRestoreSessionStatistics)]
pub struct SessionStatistics {
    pub total_items_count: i64,
    pub restored_items_count: i64,
    pub failed_items_count: i64,
    pub skipped_items_count: i64,
    pub warnings: Vec<String>,
    pub errors: Vec<String>,
    pub items: Vec<ItemRestoreDetails>,
}

/// `RESTItemRestoreDetailsComposed`: one restored item.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTItemRestoreDetailsComposed)]
pub struct ItemRestoreDetails {
    pub id: String,
    /// Always `Item`.
    pub item_restore_details_type: &'static str,
    pub title: String,
    pub error: Option<String>,
    pub name: Option<String>,
    pub item_type: &'static str,
    /// `Success`, `Warning`, `Failed`, `Skipped`.
    pub status: &'static str,
    pub path: Option<String>,
    pub warnings: Vec<String>,
    /// Always empty.
    #[schema(value_type = Vec<Object>)]
    pub child_items: Vec<ItemRestoreDetails>,
}

impl SessionStatistics {
    pub fn new(kind: SessionKind, events: &[SessionEvent]) -> SessionStatistics {
        let c = Counts::of(events);
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
            let mut error = None;
            match e.status {
                Outcome::Warning => {
                    warnings.push(e.message.clone());
                    item_warnings.push(e.message.clone());
                }
                Outcome::Failed => {
                    errors.push(e.message.clone());
                    error = Some(e.message.clone());
                }
                _ => {}
            }
            items.push(ItemRestoreDetails {
                id: e.id.to_string(),
                item_restore_details_type: "Item",
                title: e.title.clone(),
                error,
                name: e.item_name.clone(),
                item_type: restore_item_type(kind, e.item_type.as_deref()),
                status,
                path: e.source.clone(),
                warnings: item_warnings,
                child_items: Vec::new(),
            });
        }
        SessionStatistics {
            total_items_count: c.total,
            restored_items_count: c.success + c.warning,
            failed_items_count: c.failed,
            skipped_items_count: c.skipped,
            warnings,
            errors,
            items,
        }
    }
}

fn restore_item_type(kind: SessionKind, item_type: Option<&str>) -> &'static str {
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
    if let Some(t) = item_type.and_then(|t| parse_enum(t, TYPES)) {
        return t;
    }
    match kind {
        SessionKind::Veod => "OneDriveItem",
        SessionKind::Vesp => "SharePointItem",
        SessionKind::Vex => "ExchangeMailbox",
        SessionKind::Vet => "TeamsFile",
    }
}

/// `RESTBackupOrganization`: the organization of a restore session, the root of browsing.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RESTBackupOrganization)]
pub struct BackupOrganization {
    #[schema(value_type = String)]
    pub id: Uuid,
    /// `"<organization> (<point in time>)"`.
    pub name: String,
    /// `Office365`.
    pub r#type: &'static str,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    pub links: Links,
}

impl BackupOrganization {
    pub fn new(hrefs: &Hrefs, s: &RestoreSession, org: &repo::catalog::Organization) -> BackupOrganization {
        let when = s.browse_at.or(s.requested_at).unwrap_or(s.created_at);
        let base = format!("RestoreSessions/{}/Organization", s.id);
        let mut links = Links::new().with("self", hrefs.href(&base));
        match s.kind {
            SessionKind::Veod => links.insert("onedrives", hrefs.href(&format!("{base}/OneDrives"))),
            SessionKind::Vesp => links.insert("sites", hrefs.href(&format!("{base}/Sites"))),
            SessionKind::Vex => links.insert("mailboxes", hrefs.href(&format!("{base}/Mailboxes"))),
            SessionKind::Vet => links.insert("teams", hrefs.href(&format!("{base}/Teams"))),
        }
        links.insert("restoreSession", hrefs.href(&format!("RestoreSessions/{}", s.id)));
        BackupOrganization { id: org.id, name: format!("{} ({})", org.name, us_time(when)), r#type: "Office365", links }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn us_times() {
        let t = Utc.with_ymd_and_hms(2017, 6, 26, 15, 7, 39).unwrap();
        assert_eq!(us_time(t), "6/26/2017 3:07:39 PM");
        let t = Utc.with_ymd_and_hms(2023, 3, 23, 0, 16, 40).unwrap();
        assert_eq!(us_time(t), "3/23/2023 12:16:40 AM");
    }

    #[test]
    fn item_types() {
        assert_eq!(restore_item_type(SessionKind::Veod, None), "OneDriveItem");
        assert_eq!(restore_item_type(SessionKind::Vesp, Some("sharepointlist")), "SharePointList");
        assert_eq!(restore_item_type(SessionKind::Vesp, Some("Document")), "SharePointItem");
    }
}
