//! Field conventions shared by the OneDrive and SharePoint item shapes (veeam-api-notes §1, §4, §7):
//! * item times are shown without a zone (`2026-01-05T09:00:00`, [`item_time`]); session/event times use the .NET
//!   round-trip form with 7 fractional digits (`2026-01-05T09:00:00.0000000Z`, [`round_trip_time`]);
//! * deleted items (listed only when the session has `showDeleted`) carry `"isDeleted": true` ([`DELETED_MARKER`],
//!   the vendor's own name for that flag on restore points and Teams posts); other items do not carry the field;
//! * the top level of a OneDrive or library is `parentId=null` in v2–v5 and `parentId=root` in v6+.

use chrono::{DateTime, Utc};
use repo::catalog::ItemRow;
use serde_json::Value;

use crate::edge::version::ApiVersion;

/// The version label of a folder: folders have no versions in Microsoft 365, yet the vendor schema makes `version` a
/// non-nullable string, and its clients browse a folder's one "version".
pub const FOLDER_VERSION_LABEL: &str = "1.0";
/// The `versionId` of that one folder version.
pub const FOLDER_VERSION_ID: i32 = 1;

/// The property marking a deleted item in listings and by-id answers (`true`; absent on live items).
pub const DELETED_MARKER: &str = "isDeleted";

/// `Some(true)` for a deleted item, `None` (the field is omitted) otherwise: [`DELETED_MARKER`] as a wire field.
pub fn deleted_marker(deleted: bool) -> Option<bool> {
    deleted.then_some(true)
}

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

/// The value of the `parentId` query that lists the top level in `version` (`null` in v2–v5, `root` in v6+).
pub fn root_parent_value(version: ApiVersion) -> &'static str {
    if version.is_action_era() {
        "null"
    } else {
        "root"
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
    fn top_level_parent() {
        assert_eq!(root_parent_value(ApiVersion(5)), "null");
        assert_eq!(root_parent_value(ApiVersion(6)), "root");
    }
}
