//! The catalog as a restore session sees it: the children of a folder, the whole tree below one, and an item's
//! numbered version history, all as of the session's instant. Shared by the OneDrive and SharePoint contexts and
//! the operations built on them (browse, save, send, restore).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use repo::catalog::{Catalog, ItemKind, ItemQuery, ItemRow, VersionRow};
use uuid::Uuid;

use crate::edge::error::ApiError;

/// Rows fetched per catalog query when a listing has to be assembled in memory.
const FETCH_CHUNK: i64 = 5_000;

/// Largest number of rows a recursive listing assembles (guards memory on huge drives).
pub const MAX_RECURSIVE_ROWS: usize = 1_000_000;

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
