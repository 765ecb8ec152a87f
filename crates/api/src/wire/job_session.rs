//! Job sessions (`RESTJobSession`) and their log (`RESTLogItem`): the backup runs of every job, however started
//! (scheduled, `vault365 backup`, the API), as the catalog records them.
//!
//! Eras: v6 shows `id, details, creationTime, endTime, retryCount, progress, status, statistics`; v7 adds
//! `repositoryId, jobWillBeRetried, jobType`; v8 adds `jobId, jobSessionConfigType, eTag`. Log items are
//! `{id, usn, title, creationTime, endTime}` before v8 and `{id, usn, type, message, creationTime, endTime}` in v8.

use chrono::{DateTime, Utc};
use repo::catalog::{LogEntry, LogLevel, ObjectKind, ObjectStatus, ProcessedObject, Session, SessionStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::edge::error::ApiError;
use crate::edge::lenient::{datetime, de};
use crate::edge::paging::{Hrefs, Links};
use crate::store::sessions::dotnet_time;

/// `GET /JobSessions` filters (`offset`/`limit` are read by the paging).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSessionQuery {
    #[serde(default, deserialize_with = "de::guid::option")]
    pub job_id: Option<Uuid>,
    pub job_type: Option<JobType>,
    #[serde(default, deserialize_with = "datetime::option")]
    pub end_time_lower_bound: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "datetime::option")]
    pub end_time_upper_bound: Option<DateTime<Utc>>,
    pub status: Option<StatusFilter>,
}

/// `jobType`: every session here is a backup; `Copy` (backup copy jobs) matches none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum JobType {
    Backup,
    Copy,
}

/// The `status` filter's spelling (`Succeeded`, where a session's own status says `Success`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum StatusFilter {
    Stopped,
    Running,
    Succeeded,
    Failed,
    Warning,
}

impl StatusFilter {
    /// The catalog state it selects.
    pub fn status(self) -> SessionStatus {
        match self {
            StatusFilter::Stopped => SessionStatus::Stopped,
            StatusFilter::Running => SessionStatus::Running,
            StatusFilter::Succeeded => SessionStatus::Success,
            StatusFilter::Failed => SessionStatus::Failed,
            StatusFilter::Warning => SessionStatus::Warning,
        }
    }
}

/// `GET /JobSessions/{id}/LogItems` filters.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogItemQuery {
    pub r#type: Option<LogItemType>,
    pub order_asc: Option<bool>,
}

/// `type` of a log item: `Success` for progress lines, `Warning`, `Error`; `Running` and `Stop` select none here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum LogItemType {
    Running,
    Warning,
    Error,
    Success,
    Stop,
}

impl LogItemType {
    fn of(level: LogLevel) -> LogItemType {
        match level {
            LogLevel::Info => LogItemType::Success,
            LogLevel::Warning => LogItemType::Warning,
            LogLevel::Error => LogItemType::Error,
        }
    }

    /// The log level it selects; `None` for the types no entry has.
    pub fn level(self) -> Option<LogLevel> {
        match self {
            LogItemType::Success => Some(LogLevel::Info),
            LogItemType::Warning => Some(LogLevel::Warning),
            LogItemType::Error => Some(LogLevel::Error),
            LogItemType::Running | LogItemType::Stop => None,
        }
    }
}

/// The vendor's name of a run's state (`RESTJobSession.status`, `RESTJob.lastStatus`).
pub fn status_label(status: SessionStatus) -> &'static str {
    match status {
        SessionStatus::Running => "Running",
        SessionStatus::Success => "Success",
        SessionStatus::Warning => "Warning",
        SessionStatus::Failed => "Failed",
        SessionStatus::Stopped => "Stopped",
    }
}

/// `RESTJobStatistics`: rates over the session's duration (up to now while it runs).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTJobStatistics)]
pub struct JobStatistics {
    /// Bytes read from Microsoft 365 per second.
    #[serde(rename = "processingRateBytesPS")]
    pub processing_rate_bytes_ps: i64,
    /// Items backed up per second.
    #[serde(rename = "processingRateItemsPS")]
    pub processing_rate_items_ps: i64,
    /// Bytes read from the source per second (the same reading as the processing rate).
    #[serde(rename = "readRateBytesPS")]
    pub read_rate_bytes_ps: i64,
    /// Bytes handed to the repository per second, before deduplication and compression.
    #[serde(rename = "writeRateBytesPS")]
    pub write_rate_bytes_ps: i64,
    /// Bytes read from the source.
    pub transferred_data_bytes: i64,
    /// Items backed up (new or changed).
    pub processed_objects: i64,
}

impl JobStatistics {
    fn of(s: &Session, now: DateTime<Utc>) -> JobStatistics {
        let end = s.finished_at.unwrap_or(now);
        let seconds = (end - s.started_at).num_milliseconds().max(1) as f64 / 1000.0;
        let per_second = |n: i64| (n as f64 / seconds.max(1.0)).round() as i64;
        let bytes = s.counters.processed_bytes;
        JobStatistics {
            processing_rate_bytes_ps: per_second(bytes),
            processing_rate_items_ps: per_second(s.counters.processed_items),
            read_rate_bytes_ps: per_second(bytes),
            write_rate_bytes_ps: per_second(bytes),
            transferred_data_bytes: bytes,
            processed_objects: s.counters.processed_items,
        }
    }
}

/// `RESTJobSession`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTJobSession)]
pub struct JobSessionView {
    #[schema(value_type = String)]
    pub id: Uuid,
    /// v8.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub job_id: Option<Uuid>,
    /// v7+.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub repository_id: Option<Uuid>,
    /// The counts of warnings and errors, when there are any.
    pub details: Option<String>,
    pub creation_time: String,
    pub end_time: Option<String>,
    pub retry_count: i32,
    /// v7+.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_will_be_retried: Option<bool>,
    /// Items backed up so far.
    pub progress: i64,
    /// v7+: `Backup`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_type: Option<&'static str>,
    /// v8: `Full` (the job's first run) or `Incremental`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_session_config_type: Option<&'static str>,
    /// `Running`, `Success`, `Warning`, `Failed`, `Stopped`.
    pub status: &'static str,
    pub statistics: JobStatistics,
    /// v8: changes whenever the session's counters or state change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e_tag: Option<i64>,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    pub links: Links,
}

/// What a session's resource needs besides the session: whether it was its job's first run, and the repository.
#[derive(Debug, Clone, Copy)]
pub struct SessionContext {
    pub first_of_job: bool,
    pub repository_id: Option<Uuid>,
    pub now: DateTime<Utc>,
}

impl JobSessionView {
    pub fn new(hrefs: &Hrefs, s: &Session, cx: SessionContext) -> JobSessionView {
        let era = hrefs.version();
        let from_v7 = era.number() >= 7;
        let c = &s.counters;
        let details = match (c.warnings, c.errors) {
            (0, 0) => None,
            (w, e) => Some(format!("{w} warning(s), {e} error(s)")),
        };
        let tag = [
            c.processed_items,
            c.processed_bytes,
            c.warnings,
            c.errors,
            s.finished_at.map_or(0, |t| t.timestamp_micros()),
        ];
        JobSessionView {
            id: s.id,
            job_id: era.is_v8().then_some(s.job_id),
            repository_id: if from_v7 { cx.repository_id } else { None },
            details,
            creation_time: dotnet_time(s.started_at),
            end_time: s.finished_at.map(dotnet_time),
            retry_count: 0,
            job_will_be_retried: from_v7.then_some(false),
            progress: c.processed_items,
            job_type: from_v7.then_some("Backup"),
            job_session_config_type: era.is_v8().then_some(if cx.first_of_job { "Full" } else { "Incremental" }),
            status: status_label(s.status),
            statistics: JobStatistics::of(s, cx.now),
            e_tag: era.is_v8().then(|| tag.iter().fold(1i64, |h, v| h.wrapping_mul(31).wrapping_add(*v)).abs()),
            links: Links::new()
                .with("self", hrefs.href(&format!("JobSessions/{}", s.id)))
                .with("job", hrefs.href(&format!("Jobs/{}", s.job_id)))
                .with("logItems", hrefs.href(&format!("JobSessions/{}/LogItems", s.id))),
        }
    }
}

/// The API id of log entry `seq` of session `session`: the session id's first eight bytes and the position, so the
/// entry is found again from the id alone ([`log_item_seq`]).
pub fn log_item_id(session: Uuid, seq: i64) -> Uuid {
    let mut bytes = *session.as_bytes();
    bytes[8..].copy_from_slice(&seq.to_be_bytes());
    Uuid::from_bytes(bytes)
}

/// The position of the log entry `id` names in `session`'s log, if it is one of its ids.
pub fn log_item_seq(session: Uuid, id: &str) -> Option<i64> {
    let id = Uuid::parse_str(id.trim()).ok()?;
    let (b, s) = (id.as_bytes(), session.as_bytes());
    (b[..8] == s[..8]).then(|| i64::from_be_bytes(b[8..].try_into().expect("eight bytes")))
}

/// `RESTLogItem`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTLogItem)]
pub struct LogItemView {
    #[schema(value_type = String)]
    pub id: Uuid,
    /// The entry's position in the session's log (from 1).
    pub usn: i64,
    /// v8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<LogItemType>,
    /// Before v8: the text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// v8: the text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub creation_time: String,
    pub end_time: String,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    pub links: Links,
}

impl LogItemView {
    /// Entry `e` of `session`'s log; `item` is what its item reference names (path and container,
    /// [`repo::catalog::Catalog::describe_item`]).
    pub fn new(hrefs: &Hrefs, session: Uuid, e: &LogEntry, item: Option<&str>) -> LogItemView {
        let v8 = hrefs.version().is_v8();
        let id = log_item_id(session, e.seq);
        let text = match item {
            Some(item) => format!("{} ({item})", e.message),
            None => e.message.clone(),
        };
        LogItemView {
            id,
            usn: e.seq,
            r#type: v8.then(|| LogItemType::of(e.level)),
            title: (!v8).then(|| text.clone()),
            message: v8.then_some(text),
            creation_time: dotnet_time(e.at),
            end_time: dotnet_time(e.at),
            links: Links::new()
                .with("self", hrefs.href(&format!("JobSessions/{session}/LogItems/{id}")))
                .with("jobSession", hrefs.href(&format!("JobSessions/{session}"))),
        }
    }
}

/// `RESTJobSessionObject`: a user or site a run processed, and how it went.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTJobSessionObject)]
pub struct ProcessedObjectView {
    /// The user's or site's Microsoft id.
    pub id: String,
    /// `User` or `Site`.
    pub r#type: &'static str,
    /// `Success`, `Warning` or `Failed`.
    pub status: &'static str,
    /// The user's name or the site's title (an addition to the vendor's shape).
    pub name: String,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    pub links: Links,
}

impl ProcessedObjectView {
    pub fn new(hrefs: &Hrefs, session: Uuid, o: &ProcessedObject) -> ProcessedObjectView {
        ProcessedObjectView {
            id: o.id.clone(),
            r#type: match o.kind {
                ObjectKind::User => "User",
                ObjectKind::Site => "Site",
            },
            status: match o.status {
                ObjectStatus::Success => "Success",
                ObjectStatus::Warning => "Warning",
                ObjectStatus::Failed => "Failed",
            },
            name: o.name.clone(),
            links: Links::new().with("jobSession", hrefs.href(&format!("JobSessions/{session}"))),
        }
    }
}

/// 404 for a session id that names no job session.
pub fn session_not_found() -> ApiError {
    ApiError::not_found("Job session not found.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_item_ids_round_trip_within_their_session() {
        let session = Uuid::new_v4();
        for seq in [1, 2, 4096, i64::MAX] {
            let id = log_item_id(session, seq);
            assert_eq!(log_item_seq(session, &id.to_string()), Some(seq));
            assert_eq!(log_item_seq(Uuid::new_v4(), &id.to_string()), None, "another session's id");
        }
        assert_eq!(log_item_seq(session, "not-a-uuid"), None);
    }
}
