//! What the browse modules (OneDrive, SharePoint) share beyond their contexts and wire types: `parentId` selection,
//! paging over catalog listings (including recursive ones), the folder-version check and the deleted marker of
//! the SharePoint JSON builders. The field conventions live in [`crate::wire::item_fields`], the catalog walks in
//! [`crate::ctx::catalog_view`]; both are re-exported here for the operations that use them with these.
//!
//! * `parentId`: omitted/empty = everything recursively, `root` (v6+) or `null` (v4–v5; both accepted in every
//!   version) = top level, anything else = a folder id ([`ParentSel`]);
//! * pages carry `totalCount` in v6–v7 only (the schemas of those versions have it) ([`page_of`]).

use serde_json::{Map, Value};

use crate::edge::error::ApiError;
use crate::edge::paging::{Page, PageContext, Paging};
use crate::edge::query::LenientQuery;
use crate::edge::version::ApiVersion;

pub use crate::ctx::catalog_view::{all_children, numbered_versions, walk_tree, NumberedVersion, MAX_RECURSIVE_ROWS};
pub use crate::wire::item_fields::{
    inherited_permissions, item_time, item_times, root_parent_value, round_trip_time, who, DELETED_MARKER,
    FOLDER_VERSION_ID, FOLDER_VERSION_LABEL,
};

/// 404 unless `version_id` names the one version a folder has ([`FOLDER_VERSION_ID`]).
pub fn check_folder_version(folder_id: &str, version_id: &str) -> Result<(), ApiError> {
    if version_id.trim().parse::<i32>().ok() == Some(FOLDER_VERSION_ID) {
        return Ok(());
    }
    Err(ApiError::not_found(format!("Version {version_id} of folder {folder_id} was not found.")))
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

    #[test]
    fn parent_selection() {
        let p = |q: &str| ParentSel::from_query(&LenientQuery::parse(q).unwrap());
        assert_eq!(p(""), ParentSel::All);
        assert_eq!(p("parentId="), ParentSel::All);
        assert_eq!(p("parentID=null"), ParentSel::Root);
        assert_eq!(p("parentid=Root"), ParentSel::Root);
        assert_eq!(p("parentId=01ABC"), ParentSel::Folder("01ABC".into()));
    }

    #[test]
    fn windows() {
        let v: Vec<u32> = (0..5).collect();
        assert_eq!(window(v.clone(), Paging { offset: 3, limit: 30 }), vec![3, 4]);
        assert_eq!(window(v, Paging { offset: u64::MAX, limit: 30 }), Vec::<u32>::new());
    }
}
