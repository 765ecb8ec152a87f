//! Conversions shared by the browse modules (OneDrive, SharePoint): output time formats, `parentId` selection,
//! version ordinals, paging over catalog listings (including recursive ones) and the deleted-item marker.
//!
//! Conventions (veeam-api-notes §1, §4, §7):
//! * item times are shown without a zone (`2026-01-05T09:00:00`, [`item_time`]); session/event times use the .NET
//!   round-trip form with 7 fractional digits (`2026-01-05T09:00:00.0000000Z`, [`round_trip_time`]);
//! * `versionId` is the 1-based ordinal of a version in the item's history, oldest → newest ([`numbered_versions`]);
//!   `version` is that version's label;
//! * `parentId`: omitted/empty = everything recursively, `root` (v6+) or `null` (v4–v5; both accepted in every
//!   version) = top level, anything else = a folder id ([`ParentSel`]);
//! * pages carry `totalCount` in v6–v7 only (the schemas of those versions have it) ([`page_of`]);
//! * deleted items (listed only when the session has `showDeleted`) carry `"isDeleted": true` ([`DELETED_MARKER`],
//!   the vendor's own name for that flag on restore points and Teams posts); other items do not carry the field.

use chrono::{DateTime, Utc};
// Catalog walks and version ordinals are the engine's (save and send plan from them); browse lists with the same.
pub use engine::selection::{all_children, numbered_versions, walk_tree, NumberedVersion, MAX_RECURSIVE_ROWS};
use repo::catalog::ItemRow;
use serde_json::{Map, Value};

use crate::edge::error::ApiError;
use crate::edge::paging::{Page, PageContext, Paging};
use crate::edge::query::LenientQuery;
use crate::edge::version::ApiVersion;

/// The property marking a deleted item in listings and by-id answers (`true`; absent on live items).
/// The version label of a folder: folders have no versions in Microsoft 365, yet the vendor schema makes `version` a
/// non-nullable string, and its clients browse a folder's one "version".
pub const FOLDER_VERSION_LABEL: &str = "1.0";
/// The `versionId` of that one folder version.
pub const FOLDER_VERSION_ID: i32 = 1;

/// 404 unless `version_id` names the one version a folder has ([`FOLDER_VERSION_ID`]).
pub fn check_folder_version(folder_id: &str, version_id: &str) -> Result<(), ApiError> {
    if version_id.trim().parse::<i32>().ok() == Some(FOLDER_VERSION_ID) {
        return Ok(());
    }
    Err(ApiError::not_found(format!("Version {version_id} of folder {folder_id} was not found.")))
}

pub const DELETED_MARKER: &str = "isDeleted";

/// An item time as the vendor shows OneDrive/SharePoint item times: `2026-01-05T09:00:00` (UTC, no zone).
pub fn item_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// The .NET round-trip form with 7 fractional digits: `2026-01-05T09:00:00.1234567Z`.
pub fn round_trip_time(t: DateTime<Utc>) -> String {
    format!("{}{:07}Z", t.format("%Y-%m-%dT%H:%M:%S."), t.timestamp_subsec_nanos() / 100)
}

/// `creationTime` and `modificationTime` of an item state, in [`item_time`] form. Missing values fall back to each
/// other, then to the instant the state was first backed up (both fields are required by the schemas).
pub fn item_times(row: &ItemRow) -> (String, String) {
    let created = row.state.created_at.or(row.state.modified_at).unwrap_or(row.valid_from);
    let modified = row.state.modified_at.unwrap_or(created);
    (item_time(created), item_time(modified))
}

/// A required "who" field (`createdBy`, `modifiedBy`): the recorded name or an empty string.
pub fn who(name: &Option<String>) -> String {
    name.clone().unwrap_or_default()
}

/// `inheritedPermissions`: `false` when the backup saw the item shared with its own permissions.
pub fn inherited_permissions(row: &ItemRow) -> bool {
    row.state.metadata.get("shared").and_then(Value::as_bool) != Some(true)
}

/// Adds [`DELETED_MARKER`] to an output object when `deleted`.
pub fn mark_deleted(obj: &mut Map<String, Value>, deleted: bool) {
    if deleted {
        obj.insert(DELETED_MARKER.into(), Value::Bool(true));
    }
}

/// What a `parentId` query parameter selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParentSel {
    /// Omitted (or empty): every item, recursively.
    All,
    /// `root` or `null` (any case): the top level.
    Root,
    /// A folder id.
    Folder(String),
}

impl ParentSel {
    /// Reads `parentId` (any case) from the query.
    pub fn from_query(q: &LenientQuery) -> ParentSel {
        match q.get_non_empty("parentId").map(str::trim) {
            None | Some("") => ParentSel::All,
            Some(v) if v.eq_ignore_ascii_case("root") || v.eq_ignore_ascii_case("null") => ParentSel::Root,
            Some(v) => ParentSel::Folder(v.to_string()),
        }
    }
}

/// The value of the `parentId` query that lists the top level in `version` (`null` in v2–v5, `root` in v6+).
pub fn root_parent_value(version: ApiVersion) -> &'static str {
    if version.is_action_era() {
        "null"
    } else {
        "root"
    }
}

/// The page's window of an in-memory list (owned).
pub fn window<T>(all: Vec<T>, paging: Paging) -> Vec<T> {
    let start = usize::try_from(paging.offset).unwrap_or(usize::MAX);
    let take = usize::try_from(paging.limit).unwrap_or(usize::MAX);
    all.into_iter().skip(start).take(take).collect()
}

/// A page envelope for `version`: `totalCount` in v6–v7 (their schemas have it), otherwise only the exact `next`
/// link decided from `total`.
pub fn page_of<T>(ctx: &PageContext, paging: Paging, results: Vec<T>, total: u64, version: ApiVersion) -> Page<T> {
    let more = paging.offset.saturating_add(results.len() as u64) < total;
    let page = Page::new(ctx, paging, results);
    match version.number() {
        6 | 7 => page.with_total_count(total),
        _ => page.with_more(more),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn time_formats() {
        let t = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap() + chrono::Duration::microseconds(123_456);
        assert_eq!(item_time(t), "2026-01-05T09:00:00");
        assert_eq!(round_trip_time(t), "2026-01-05T09:00:00.1234560Z");
        assert_eq!(round_trip_time(Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap()), "2026-01-05T09:00:00.0000000Z");
    }

    #[test]
    fn parent_selection() {
        let p = |q: &str| ParentSel::from_query(&LenientQuery::parse(q).unwrap());
        assert_eq!(p(""), ParentSel::All);
        assert_eq!(p("parentId="), ParentSel::All);
        assert_eq!(p("parentID=null"), ParentSel::Root);
        assert_eq!(p("parentid=Root"), ParentSel::Root);
        assert_eq!(p("parentId=01ABC"), ParentSel::Folder("01ABC".into()));
        assert_eq!(root_parent_value(ApiVersion(5)), "null");
        assert_eq!(root_parent_value(ApiVersion(6)), "root");
    }

    #[test]
    fn windows() {
        let v: Vec<u32> = (0..5).collect();
        assert_eq!(window(v.clone(), Paging { offset: 3, limit: 30 }), vec![3, 4]);
        assert_eq!(window(v, Paging { offset: u64::MAX, limit: 30 }), Vec::<u32>::new());
    }
}
