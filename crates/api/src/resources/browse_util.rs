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

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use repo::catalog::{Catalog, ItemKind, ItemQuery, ItemRow, VersionRow};
use serde_json::{Map, Value};
use uuid::Uuid;

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

/// Rows fetched per catalog query when a listing has to be assembled in memory.
const FETCH_CHUNK: i64 = 5_000;

/// Largest number of rows a recursive listing assembles (guards memory on huge drives).
pub const MAX_RECURSIVE_ROWS: usize = 1_000_000;

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

/// A version with its ordinal (`versionId`).
#[derive(Debug, Clone, PartialEq)]
pub struct NumberedVersion {
    /// 1-based position in the item's history, oldest → newest.
    pub id: i32,
    /// The stored version.
    pub row: VersionRow,
}

/// Every version of an item known at `at`, oldest first, numbered 1…n. The ordinals do not depend on the session's
/// `showAllVersions` (filter afterwards), so a `versionId` means the same version in every session.
pub async fn numbered_versions(
    catalog: &Catalog,
    container: Uuid,
    item_id: &str,
    at: DateTime<Utc>,
) -> Result<Vec<NumberedVersion>, ApiError> {
    let mut rows = catalog.versions_at(container, item_id, at, true).await?;
    rows.reverse(); // versions_at: newest first
    Ok(rows.into_iter().enumerate().map(|(i, row)| NumberedVersion { id: i as i32 + 1, row }).collect())
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

/// Every child of `parent` (`None` = top level) of a container at `at`, in catalog order (folders first, then by
/// name), fetched in chunks.
pub async fn all_children(
    catalog: &Catalog,
    container: Uuid,
    parent: Option<&str>,
    at: DateTime<Utc>,
    show_deleted: bool,
    kind: ItemKind,
) -> Result<Vec<ItemRow>, ApiError> {
    let mut out = Vec::new();
    let mut offset = 0i64;
    loop {
        let mut q = ItemQuery::new(container, at).show_deleted(show_deleted).kind(kind).page(offset, FETCH_CHUNK);
        if let Some(p) = parent {
            q = q.parent(p);
        }
        let page = catalog.items_at(&q).await?;
        let n = page.rows.len() as i64;
        out.extend(page.rows);
        offset += n;
        if n < FETCH_CHUNK || offset >= page.total || out.len() >= MAX_RECURSIVE_ROWS {
            return Ok(out);
        }
    }
}

/// Every item of a container at `at` below `start` (`None` = the whole tree), depth first: each folder is followed
/// by its contents (folders first, then by name). Only folders visible in the listing are descended into, so with
/// `show_deleted` off the contents of a deleted folder do not appear. `kind` filters the output, not the walk.
pub async fn walk_tree(
    catalog: &Catalog,
    container: Uuid,
    start: Option<&str>,
    at: DateTime<Utc>,
    show_deleted: bool,
    kind: ItemKind,
) -> Result<Vec<ItemRow>, ApiError> {
    let mut out = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    // Stack of pending sibling lists (reversed, so pop() yields them in order).
    let mut stack: Vec<Vec<ItemRow>> = Vec::new();
    let mut first = all_children(catalog, container, start, at, show_deleted, ItemKind::Any).await?;
    first.reverse();
    stack.push(first);
    while let Some(level) = stack.last_mut() {
        let Some(row) = level.pop() else {
            stack.pop();
            continue;
        };
        let descend = row.state.is_folder && seen.insert(row.item_id.clone());
        let id = row.item_id.clone();
        let keep = match kind {
            ItemKind::Any => true,
            ItemKind::Folder => row.state.is_folder,
            ItemKind::File => !row.state.is_folder,
        };
        if keep {
            out.push(row);
            if out.len() >= MAX_RECURSIVE_ROWS {
                break;
            }
        }
        if descend {
            let mut children = all_children(catalog, container, Some(&id), at, show_deleted, ItemKind::Any).await?;
            children.reverse();
            stack.push(children);
        }
    }
    Ok(out)
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
