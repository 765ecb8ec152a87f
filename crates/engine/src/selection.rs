//! What a restore session shows of the catalog, and what a save or send selects from it.
//!
//! [`SessionView`] is the catalog as one restore session sees it: at its instant, with or without deleted items and
//! earlier versions. A [`Selection`] names what to hand out: whole containers or folders ([`Tree`], everything
//! below them) or single files ([`FileRef`]: a document, one of its versions, a list-item attachment). The API
//! resolves request ids into rows (its id formats and its 404s); `save::plan` and `send::attachments`
//! turn a selection into archive entries or mail attachments, so which blobs go out under which names is decided
//! here, once.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use repo::catalog::{Attachment, Catalog, CatalogError, ItemKind, ItemQuery, ItemRow, VersionRow};
use repo::store::BlobRef;
use uuid::Uuid;

/// Rows fetched per catalog query when a listing is assembled in memory.
const FETCH_CHUNK: i64 = 5_000;

/// Largest number of rows a recursive listing assembles (guards memory on huge drives).
pub const MAX_RECURSIVE_ROWS: usize = 1_000_000;

/// Why a selection cannot be handed out.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    /// The catalog could not be read.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// A tree has [`MAX_RECURSIVE_ROWS`] items or more: an archive must never silently lose entries.
    #[error("More than {} items: save smaller folders or several documents.", MAX_RECURSIVE_ROWS)]
    TooMany,
    /// A file has no backed-up content.
    #[error("No content was backed up for '{name}' ({id}).")]
    NoContent {
        /// Id of the file (item id, or the hex of an attachment's file name).
        id: String,
        /// Its name.
        name: String,
    },
    /// The document has no version with that ordinal.
    #[error("Version {version} of document {item_id} was not found.")]
    UnknownVersion {
        /// Microsoft id of the document.
        item_id: String,
        /// The ordinal asked for.
        version: i32,
    },
    /// An earlier version, in a session that shows the latest versions only.
    #[error(
        "Version {version} of document {item_id} is not available: this restore session shows the latest versions \
         only (explore with showAllVersions)."
    )]
    HiddenVersion {
        /// Microsoft id of the document.
        item_id: String,
        /// The ordinal asked for.
        version: i32,
    },
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
) -> Result<Vec<NumberedVersion>, CatalogError> {
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
) -> Result<Vec<ItemRow>, CatalogError> {
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
) -> Result<Vec<ItemRow>, CatalogError> {
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

/// The catalog as one restore session shows it (see the [module docs](self)).
#[derive(Clone, Copy)]
pub struct SessionView<'a> {
    /// The catalog.
    pub catalog: &'a Catalog,
    /// The session's instant.
    pub at: DateTime<Utc>,
    /// Items deleted at or before the instant are shown (and part of every tree).
    pub show_deleted: bool,
    /// Earlier versions of documents may be handed out, not only the one current at the instant.
    pub show_all_versions: bool,
}

impl SessionView<'_> {
    /// The items below `tree`, depth first (see [`walk_tree`]).
    pub async fn walk(&self, tree: &Tree, kind: ItemKind) -> Result<Vec<ItemRow>, CatalogError> {
        let start = tree.folder.as_ref().map(|f| f.item_id.as_str());
        walk_tree(self.catalog, tree.container, start, self.at, self.show_deleted, kind).await
    }

    /// Version `version` (1-based ordinal, oldest first) of document `row`; the document itself is its one version
    /// when no versions were recorded. Earlier versions need `show_all_versions`.
    pub async fn document_version(&self, row: &ItemRow, version: i32) -> Result<FileRef, SelectError> {
        let versions = numbered_versions(self.catalog, row.container_id, &row.item_id, self.at).await?;
        let unknown = || SelectError::UnknownVersion { item_id: row.item_id.clone(), version };
        let Some(current) = versions.last().map(|v| v.id) else {
            return if version == 1 { Ok(FileRef::of(row)) } else { Err(unknown()) };
        };
        let v = versions.iter().find(|v| v.id == version).ok_or_else(unknown)?;
        if v.id != current && !self.show_all_versions {
            return Err(SelectError::HiddenVersion { item_id: row.item_id.clone(), version });
        }
        let info = &v.row.version;
        Ok(FileRef {
            id: row.item_id.clone(),
            name: row.state.name.clone(),
            size: info.size,
            content_ref: info.content_ref.clone(),
            modified: info.modified_at,
        })
    }
}

/// A whole container (`folder: None`) or one of its folders, with everything below it.
#[derive(Debug, Clone)]
pub struct Tree {
    /// Catalog id of the container (a OneDrive or a document library).
    pub container: Uuid,
    /// The folder; `None` for the whole container.
    pub folder: Option<ItemRow>,
}

/// One file to hand out: a document as the session shows it, one of its versions, or a list-item attachment.
#[derive(Debug, Clone)]
pub struct FileRef {
    /// Id named in errors (item id, or the hex of an attachment's file name).
    pub id: String,
    /// File name.
    pub name: String,
    /// Size recorded in the catalog.
    pub size: i64,
    /// Compact content reference; `None` when nothing was backed up (or the file is empty).
    pub content_ref: Option<Vec<u8>>,
    /// Last modification.
    pub modified: Option<DateTime<Utc>>,
}

impl FileRef {
    /// Document `row` in its state at the session's instant.
    pub fn of(row: &ItemRow) -> FileRef {
        let s = &row.state;
        FileRef {
            id: row.item_id.clone(),
            name: s.name.clone(),
            size: s.size,
            content_ref: s.content_ref.clone(),
            modified: s.modified_at,
        }
    }

    /// Attachment `a` of list item `item`.
    pub fn attachment(item: &ItemRow, a: &Attachment) -> FileRef {
        FileRef {
            id: a.file_name.bytes().map(|b| format!("{b:02x}")).collect(),
            name: a.file_name.clone(),
            size: a.size,
            content_ref: a.content_ref.clone(),
            modified: item.state.modified_at,
        }
    }

    /// Whether the backup holds what the file needs: content, or nothing at all for an empty file.
    pub fn has_content(&self) -> bool {
        self.content_ref.is_some() || self.size <= 0
    }

    fn no_content(&self) -> SelectError {
        SelectError::NoContent { id: self.id.clone(), name: self.name.clone() }
    }

    /// The blob holding the file's bytes; `None` for an empty file without one.
    pub fn blob(&self) -> Result<Option<BlobRef>, SelectError> {
        match self.content_ref.as_deref().map(BlobRef::from_compact) {
            Some(Ok(blob)) => Ok(Some(blob)),
            None if self.size == 0 => Ok(None),
            _ => Err(self.no_content()),
        }
    }

    /// [`Self::has_content`], or the error naming the file.
    pub fn require_content(&self) -> Result<(), SelectError> {
        if self.has_content() {
            Ok(())
        } else {
            Err(self.no_content())
        }
    }
}

/// What a save or send hands out.
#[derive(Debug, Clone)]
pub enum Selection {
    /// Containers or folders with everything below them, arranged as in the catalog. A save leaves out (and counts)
    /// files without backed-up content.
    Trees(Vec<Tree>),
    /// Single files, side by side. A file without backed-up content fails a save; a send leaves it out only when
    /// asked to skip such files.
    Files(Vec<FileRef>),
}
