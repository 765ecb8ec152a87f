//! Restore: backed-up OneDrive documents and folders written back to the tenant, to their original location or
//! copied into another OneDrive ("copyTo").
//!
//! [`restore_onedrive`] restores a [`Selection`] of one backed-up OneDrive as it was at an instant (a restore
//! session's point in time):
//!
//! * **Where.** [`Destination::Original`]: items are matched by id. An item that still has its original id goes back
//!   into that item, at its backed-up name and folder; when that item is gone, to its original path (the original
//!   parent if it still exists, else the missing folders are created top-down from the drive's root).
//!   [`Destination::CopyTo`]: into another drive, under `folder` (created when missing), keeping the folder structure
//!   below the drive root.
//! * **Existing items, original location** ([`DocumentAction`]): `Overwrite` writes the backed-up content into the
//!   existing item (same id, same sharing, one more version); an item renamed or moved since the backup (a file or
//!   a folder) is first renamed/moved back (`PATCH` with `name` and `parentReference`: id and history stay), and its
//!   content is written only when it differs. `Keep` leaves the existing item untouched and writes the restored copy
//!   at the original path as `"<stem> (Restored <yyyy-MM-dd HH-mm-ss>)<.ext>"` (the restore's start time, UTC; if
//!   even that name is taken, ` (2)`, ` (3)`, … is appended to the stem); a folder found elsewhere is left there and
//!   the restored items go to a folder at the original path.
//! * **Existing items, copyTo** ([`LastVersionAction`]): `Overwrite` replaces the existing file (it is deleted and the
//!   restored file uploaded anew: only the restored history remains); `Merge` adds the restored content as new
//!   versions on top of the existing file (same id).
//! * **Versions** ([`VersionMode`]): `Last` writes the content of the item at the instant; `All` uploads every backed-up
//!   version oldest → newest into the one item (so the item's version history grows by that many versions).
//!   [`Selection::Version`] writes one chosen earlier version of a document (skipped when the tenant already holds
//!   exactly that content).
//! * **Deleted items** (`show_deleted`, a restore session that shows deleted items): items deleted at or before the
//!   instant can be selected and are part of a whole-OneDrive or folder restore; they go back to their original path
//!   (missing folders re-created), or are copied like any other item.
//! * **Filters**: an item whose current content, name and folder in the tenant equal the backup is skipped as
//!   unchanged. `deleted_items: false` skips items deleted in the backup (at or before the instant) and, at the
//!   original location, items gone from the tenant since. `changed_items: false` skips items the destination holds
//!   with other content (at the original location: items that still exist there, found by id or by path).
//! * **Sharing** (`restore_permissions`): on items the restore *creates* (deleted items, `Keep` copies, copies), the
//!   backed-up permissions are re-created: direct grants by invitation (`sendInvitation` =
//!   `send_shared_links_notification`), sharing links by `createLink` (same type and scope), links for named people
//!   as direct grants to those people. Inherited permissions come with the folder; the owner is never re-granted;
//!   what cannot be re-created (owner, unresolvable principal, refused link) is a warning of the item and counts in
//!   [`RestoreStats::permissions_failed`]. Items written in place keep their sharing.
//! * **Failures** are per item: one failing item is counted and reported in [`RestoreStats::items`] and the restore
//!   goes on. Only failures that make the whole restore pointless (unknown OneDrive, catalog errors, an unreachable
//!   target drive) abort it.
//!
//! **Progress**: [`restore_onedrive_observed`] tells an observer about each item as soon as its outcome is known, so
//! background restores can publish per-item events while they run.
//!
//! **Stop**: [`restore_onedrive_observed`] takes an optional cancellation token, checked before each file: once it
//! is cancelled no further file is started; the file in progress is finished (a simple upload is atomic, an upload
//! session only becomes a visible file with its last range), so nothing half-written stays visible, and the
//! statistics returned count exactly the files processed.
//!
//! The Graph client is given by the caller (built from whatever credentials the request carried); this module never
//! logs or stores credentials.

use std::collections::HashMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use m365::write::{self, Conflict};
use m365::{GraphClient, M365Error};
use repo::catalog::{Catalog, CatalogError, ContainerInfo, ItemKind, ItemQuery, ItemRow};
use repo::store::{BlobRef, Repository};
use serde::Serialize;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::restore_view::DriveView;

/// Rows fetched per catalog page while walking folders.
const PAGE: i64 = 500;

/// From this many files written back to their original drive, the drive is listed once (delta) instead of looking
/// each file up (see [`crate::restore_view`]).
const FULL_LISTING_MIN_FILES: usize = 32;

/// What is restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every item of the OneDrive.
    Whole,
    /// These items (documents or folders, by Microsoft id); a folder brings everything below it.
    Items(Vec<String>),
    /// One earlier version of a document: `version` is its 1-based ordinal in the document's history, oldest →
    /// newest, over every version known at the instant (the API's `versionId`). Only that version's content is
    /// written, whatever [`VersionMode`] says.
    Version {
        /// Microsoft id of the document.
        item_id: String,
        /// 1-based ordinal of the version.
        version: u32,
    },
}

/// Existing item at the original location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DocumentAction {
    /// Write the restored content into the existing item.
    #[default]
    Overwrite,
    /// Leave the existing item; write the restored copy beside it under a new name.
    Keep,
}

/// Existing item at a copyTo destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LastVersionAction {
    /// Replace the existing file.
    #[default]
    Overwrite,
    /// Add the restored content as new versions of the existing file.
    Merge,
}

/// Which versions are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VersionMode {
    /// The content at the instant.
    #[default]
    Last,
    /// Every backed-up version, oldest first.
    All,
}

/// Where restored items go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Back where they were.
    Original {
        /// What to do with items that exist.
        action: DocumentAction,
    },
    /// Into another drive, under a folder.
    CopyTo {
        /// Graph id of the target drive.
        drive_id: String,
        /// `/`-separated folder path under the target drive's root (empty: the root).
        folder: String,
        /// What to do with files that exist.
        action: LastVersionAction,
    },
}

/// Options of [`restore_onedrive`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreOptions {
    /// Destination and clash handling.
    pub destination: Destination,
    /// Versions written.
    pub versions: VersionMode,
    /// Restore items the destination holds with other content (original location: items that still exist, changed,
    /// renamed or moved); `false`: skip them.
    pub changed_items: bool,
    /// Restore deleted items: items deleted in the backup (at or before the instant; see `show_deleted`) and, at the
    /// original location, items gone from the tenant since; `false`: skip them.
    pub deleted_items: bool,
    /// The backup's view includes items deleted at or before the instant (a restore session with `showDeleted`):
    /// they may be selected and a whole-OneDrive or folder restore includes them. Without it they are unknown.
    pub show_deleted: bool,
    /// Start of the restore (names `Keep` copies).
    pub started_at: DateTime<Utc>,
    /// Re-create the backed-up sharing on items the restore creates (see [`restore_permissions`]).
    pub restore_permissions: bool,
    /// Let the service notify the people the restored sharing names.
    pub send_shared_links_notification: bool,
}

impl RestoreOptions {
    /// To the original location with `action`, last version, all items.
    pub fn original(action: DocumentAction) -> Self {
        RestoreOptions {
            destination: Destination::Original { action },
            versions: VersionMode::Last,
            changed_items: true,
            deleted_items: true,
            show_deleted: false,
            started_at: Utc::now(),
            restore_permissions: false,
            send_shared_links_notification: false,
        }
    }
}

/// Outcome of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ItemStatus {
    /// Written to the tenant.
    Restored,
    /// Could not be written.
    Failed,
    /// Not written (unchanged, or filtered out).
    Skipped,
}

/// What happened to one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemOutcome {
    /// Backed-up Microsoft id.
    pub item_id: String,
    /// Original path (names from the drive root, `/`-separated).
    pub path: String,
    /// Outcome.
    pub status: ItemStatus,
    /// Id of the item written in the tenant.
    pub target_item_id: Option<String>,
    /// Name it has there.
    pub target_name: Option<String>,
    /// Versions uploaded.
    pub versions_written: u32,
    /// Why it failed or was skipped.
    pub message: Option<String>,
    /// Sharing that could not be restored (owner, unresolvable principals, refused links).
    pub warnings: Vec<String>,
}

/// Statistics of a restore.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreStats {
    /// Files restored.
    pub restored: u64,
    /// Files that failed.
    pub failed: u64,
    /// Files skipped.
    pub skipped: u64,
    /// Folders created on the way.
    pub folders_created: u64,
    /// Bytes uploaded.
    pub bytes: u64,
    /// Permissions re-created.
    pub permissions_restored: u64,
    /// Permissions that could not be re-created (each has a warning in its item).
    pub permissions_failed: u64,
    /// Per-item details (files).
    pub items: Vec<ItemOutcome>,
}

impl RestoreStats {
    /// Counts one item's outcome.
    pub fn count(&mut self, status: ItemStatus) {
        match status {
            ItemStatus::Restored => self.restored += 1,
            ItemStatus::Failed => self.failed += 1,
            ItemStatus::Skipped => self.skipped += 1,
        }
    }

    /// Adds the counts and items of another restore (several OneDrives or lists reported as one).
    pub fn add(&mut self, other: RestoreStats) {
        self.restored += other.restored;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.folders_created += other.folders_created;
        self.bytes += other.bytes;
        self.permissions_restored += other.permissions_restored;
        self.permissions_failed += other.permissions_failed;
        self.items.extend(other.items);
    }
}

/// Why a whole restore could not run.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The OneDrive is not in the catalog at the instant.
    #[error("the OneDrive {0} is not in the backup at this point in time")]
    UnknownOneDrive(Uuid),
    /// An item of the selection is not in the backup.
    #[error("item {0} is not in the backup at this point in time")]
    UnknownItem(String),
    /// The selected version of a document is not in the backup.
    #[error("version {1} of item {0} is not in the backup at this point in time")]
    UnknownVersion(String, u32),
    /// The catalog failed.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The target drive could not be used.
    #[error("target drive: {0}")]
    Target(M365Error),
}

/// Told about every item as soon as its outcome is known (the same values end up in [`RestoreStats::items`]), so
/// a caller can report progress while a long restore runs.
pub type ItemObserver<'a> = &'a (dyn Fn(&ItemOutcome) + Send + Sync);

/// Restores `selection` of OneDrive container `container` as of `at` (see the [module docs](self)).
pub async fn restore_onedrive(
    catalog: &Catalog,
    repo: &Repository,
    client: &GraphClient,
    container: Uuid,
    at: DateTime<Utc>,
    selection: &Selection,
    opts: &RestoreOptions,
) -> Result<RestoreStats, RestoreError> {
    restore_onedrive_observed(catalog, repo, client, container, at, selection, opts, None, None).await
}

/// [`restore_onedrive`], telling `observer` about each item as it completes; when `stop` is cancelled, no further
/// file is started and the statistics of the files processed so far are returned.
#[allow(clippy::too_many_arguments)]
pub async fn restore_onedrive_observed(
    catalog: &Catalog,
    repo: &Repository,
    client: &GraphClient,
    container: Uuid,
    at: DateTime<Utc>,
    selection: &Selection,
    opts: &RestoreOptions,
    observer: Option<ItemObserver<'_>>,
    stop: Option<&CancellationToken>,
) -> Result<RestoreStats, RestoreError> {
    let row = catalog.container_at(container, at).await?.ok_or(RestoreError::UnknownOneDrive(container))?;
    // A document library's items are drive items too, so `sp_restore` restores libraries through this function.
    let source_drive = match &row.info {
        ContainerInfo::OneDrive(info) => info.drive_id.clone(),
        ContainerInfo::List(repo::catalog::ListInfo { drive_id: Some(d), .. }) => d.clone(),
        _ => return Err(RestoreError::UnknownOneDrive(container)),
    };
    let target_drive = match &opts.destination {
        Destination::Original { .. } => source_drive,
        Destination::CopyTo { drive_id, .. } => drive_id.clone(),
    };
    let mut r = Restorer {
        catalog,
        repo,
        client,
        container,
        at,
        opts,
        view: DriveView::empty(&target_drive),
        drive: target_drive,
        folders: HashMap::new(),
        placed: HashMap::new(),
        root_id: None,
        base: Vec::new(),
        stats: RestoreStats::default(),
        pinned: None,
        observer,
    };
    if let Destination::CopyTo { folder, .. } = &opts.destination {
        r.base = folder.split('/').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect();
        // The destination folder must be usable, otherwise nothing can be restored.
        let base = r.base.clone();
        r.ensure_path(&base).await.map_err(RestoreError::Target)?;
    }
    // Expand the selection into files (folders are walked).
    let mut files = Vec::new();
    // Folders met on the walk (original location: put back in place when renamed or moved).
    let mut walked_folders = Vec::new();
    let mut pending: Vec<Option<String>> = Vec::new();
    match selection {
        Selection::Whole => pending.push(None),
        Selection::Version { item_id, version } => {
            let unknown = || RestoreError::UnknownVersion(item_id.clone(), *version);
            let item = catalog
                .item_at(container, item_id, at)
                .await?
                .filter(|i| (!i.deleted || opts.show_deleted) && !i.state.is_folder)
                .ok_or_else(|| RestoreError::UnknownItem(item_id.clone()))?;
            // versions_at lists newest first; the ordinal counts oldest first.
            let mut versions = catalog.versions_at(container, item_id, at, true).await?;
            versions.reverse();
            let index = usize::try_from(*version).ok().and_then(|v| v.checked_sub(1)).ok_or_else(unknown)?;
            let row = versions.into_iter().nth(index).ok_or_else(unknown)?;
            r.pinned = Some((item.item_id.clone(), row.version));
            files.push(item);
        }
        Selection::Items(ids) => {
            for id in ids {
                let item = catalog
                    .item_at(container, id, at)
                    .await?
                    .filter(|i| !i.deleted || opts.show_deleted)
                    .ok_or_else(|| RestoreError::UnknownItem(id.clone()))?;
                if item.state.is_folder {
                    pending.push(Some(item.item_id.clone()));
                    // The selected folder itself is restored even when empty (unless deleted ones are excluded).
                    if !item.deleted || opts.deleted_items {
                        let path = catalog.path_of(container, &item.item_id, at).await?;
                        r.folder_for(&item, &path).await.ok();
                    }
                } else {
                    files.push(item);
                }
            }
        }
    }
    while let Some(parent) = pending.pop() {
        let mut offset = 0;
        loop {
            let mut q =
                ItemQuery::new(container, at).show_deleted(opts.show_deleted).kind(ItemKind::Any).page(offset, PAGE);
            q.parent = parent.clone();
            let page = catalog.items_at(&q).await?;
            let n = page.rows.len() as i64;
            for item in page.rows {
                if item.state.is_folder {
                    pending.push(Some(item.item_id.clone()));
                    walked_folders.push(item);
                } else {
                    files.push(item);
                }
            }
            offset += n;
            if n == 0 || offset >= page.total {
                break;
            }
        }
    }
    let original = matches!(opts.destination, Destination::Original { .. });
    if original && (matches!(selection, Selection::Whole) || files.len() >= FULL_LISTING_MIN_FILES) {
        // When the listing cannot be taken, each file is looked up on its own instead (slower, same result).
        if let Ok(view) = DriveView::full(client, &r.drive).await {
            r.view = view;
        }
    }
    if original {
        r.put_back_folders(&walked_folders).await;
    }
    for item in files {
        if stop.is_some_and(CancellationToken::is_cancelled) {
            break;
        }
        let path = match catalog.path_of(container, &item.item_id, at).await {
            Ok(p) => p,
            Err(e) => {
                let path = vec![item.state.name.clone()];
                r.record(&item, path, ItemStatus::Failed, None, 0, Some(e.to_string()), Vec::new());
                continue;
            }
        };
        r.restore_file(&item, path).await;
    }
    Ok(r.stats)
}

struct Restorer<'a> {
    catalog: &'a Catalog,
    repo: &'a Repository,
    client: &'a GraphClient,
    container: Uuid,
    at: DateTime<Utc>,
    opts: &'a RestoreOptions,
    /// Target drive id.
    drive: String,
    /// What is known of the target drive without asking Graph.
    view: DriveView,
    /// Folder path (target, from the drive root) → id.
    folders: HashMap<Vec<String>, String>,
    /// Backed-up folder id → the folder that stands for it in the tenant (original location only).
    placed: HashMap<String, String>,
    /// Id of the target drive's root item, once needed (`"root"` is an alias of it).
    root_id: Option<String>,
    /// copyTo folder path.
    base: Vec<String>,
    stats: RestoreStats,
    /// A document restored as one of its versions ([`Selection::Version`]): its id and that version.
    pinned: Option<(String, repo::catalog::VersionInfo)>,
    observer: Option<ItemObserver<'a>>,
}

/// Why one item failed.
type ItemResult<T> = std::result::Result<T, String>;

/// A written file: target id, name, versions and bytes written, whether the restore created the item.
type Written = (String, String, u32, u64, bool);

impl Restorer<'_> {
    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        item: &ItemRow,
        path: Vec<String>,
        status: ItemStatus,
        target: Option<(String, String)>,
        versions: u32,
        message: Option<String>,
        warnings: Vec<String>,
    ) {
        self.stats.count(status);
        if status == ItemStatus::Failed {
            tracing::warn!(item = %item.item_id, "restore: {}", message.as_deref().unwrap_or(""));
        }
        let (target_item_id, target_name) = target.map_or((None, None), |(i, n)| (Some(i), Some(n)));
        let outcome = ItemOutcome {
            item_id: item.item_id.clone(),
            path: path.join("/"),
            status,
            target_item_id,
            target_name,
            versions_written: versions,
            message,
            warnings,
        };
        if let Some(observer) = self.observer {
            observer(&outcome);
        }
        self.stats.items.push(outcome);
    }

    /// The version written for `item` when it is pinned to one ([`Selection::Version`]).
    fn pinned_version(&self, item: &ItemRow) -> Option<&repo::catalog::VersionInfo> {
        self.pinned.as_ref().filter(|(id, _)| *id == item.item_id).map(|(_, v)| v)
    }

    /// The id of the target folder at `path` (from the drive root), creating missing folders top-down.
    async fn ensure_path(&mut self, path: &[String]) -> Result<String, M365Error> {
        let mut id = "root".to_string();
        for depth in 1..=path.len() {
            let key = path[..depth].to_vec();
            if let Some(known) = self.folders.get(&key) {
                id = known.clone();
                continue;
            }
            let (folder, created) = self.view.ensure_folder(self.client, &id, &path[depth - 1]).await?;
            id = folder;
            if created {
                self.stats.folders_created += 1;
            }
            self.folders.insert(key, id.clone());
        }
        Ok(id)
    }

    /// The target folder for a restored folder or for the parent of a restored file (`path` = the item's original
    /// path; the last name is the item itself).
    async fn folder_for(&mut self, item: &ItemRow, path: &[String]) -> Result<String, M365Error> {
        let parents = &path[..path.len().saturating_sub(1)];
        match &self.opts.destination {
            Destination::CopyTo { .. } => {
                let mut full = self.base.clone();
                full.extend_from_slice(if item.state.is_folder { path } else { parents });
                self.ensure_path(&full).await
            }
            Destination::Original { .. } => {
                if item.state.is_folder {
                    return self.place_folder(&item.item_id, path).await;
                }
                match &item.state.parent_id {
                    Some(parent) if !parents.is_empty() => self.place_folder(parent, parents).await,
                    _ => Ok("root".to_string()),
                }
            }
        }
    }

    /// Original location: the tenant folder that stands for backed-up folder `id` (at `path`, names from the drive
    /// root), with its ancestors placed first. A folder that still exists and sits at its backed-up name and parent
    /// is used as it is; one renamed or moved since is moved back (`Overwrite`, same id) or left alone for a folder
    /// at the original path (`Keep`); one that is gone is re-created by path.
    async fn place_folder(&mut self, id: &str, path: &[String]) -> Result<String, M365Error> {
        // The backed-up folders from `id` up to the first one already placed or the drive root, with their depth.
        let mut chain: Vec<(String, usize)> = Vec::new();
        let mut above = "root".to_string();
        let mut current = id.to_string();
        let mut depth = path.len();
        loop {
            if let Some(target) = self.placed.get(&current) {
                above = target.clone();
                break;
            }
            let row = self
                .catalog
                .item_at(self.container, &current, self.at)
                .await
                .map_err(|e| M365Error::Invalid(format!("reading the backup: {e}")))?;
            // An ancestor never recorded is the drive root.
            let Some(row) = row.filter(|_| depth > 0) else { break };
            chain.push((current.clone(), depth));
            match row.state.parent_id {
                Some(parent) => {
                    current = parent;
                    depth -= 1;
                }
                None => break,
            }
        }
        for (folder, depth) in chain.into_iter().rev() {
            let target = self.place_one_folder(&folder, &above, &path[..depth]).await?;
            self.placed.insert(folder, target.clone());
            above = target;
        }
        Ok(above)
    }

    /// [`Self::place_folder`] for one folder whose parent stands as `above`.
    async fn place_one_folder(&mut self, id: &str, above: &str, path: &[String]) -> Result<String, M365Error> {
        let live = self
            .view
            .item(self.client, id)
            .await?
            .filter(|v| v.get("folder").is_some() && v.get("deleted").is_none() && v.get("root").is_none());
        let (Some(live), Some(name)) = (live, path.last()) else {
            return self.ensure_path(path).await;
        };
        if self.in_place(&live, above, name).await? {
            return Ok(id.to_string());
        }
        match self.opts.destination {
            Destination::Original { action: DocumentAction::Overwrite } => {
                self.move_back(id, above, name).await?;
                Ok(id.to_string())
            }
            _ => self.ensure_path(path).await,
        }
    }

    /// Original location: puts walked folders that still exist back at their backed-up name and parent (files put
    /// their own folders in place; this covers folders without files). A folder that cannot be placed is left for
    /// its files to report.
    async fn put_back_folders(&mut self, folders: &[ItemRow]) {
        for folder in folders.iter().filter(|f| !f.deleted) {
            let alive =
                matches!(self.view.item(self.client, &folder.item_id).await, Ok(Some(v)) if v.get("deleted").is_none());
            if !alive {
                continue;
            }
            if let Ok(path) = self.catalog.path_of(self.container, &folder.item_id, self.at).await {
                if let Err(e) = self.place_folder(&folder.item_id, &path).await {
                    tracing::warn!(item = %folder.item_id, "restore: folder not put back: {e}");
                }
            }
        }
    }

    /// Whether tenant item `live` is named `name` under folder `parent` (`"root"` for the drive's root).
    async fn in_place(&mut self, live: &Value, parent: &str, name: &str) -> Result<bool, M365Error> {
        if live.get("name").and_then(Value::as_str) != Some(name) {
            return Ok(false);
        }
        let Some(actual) = live.pointer("/parentReference/id").and_then(Value::as_str) else {
            return Ok(true);
        };
        Ok(actual == parent || (parent == "root" && actual == self.root_id().await?))
    }

    /// The target drive's root item id.
    async fn root_id(&mut self) -> Result<String, M365Error> {
        if let Some(id) = self.root_id.clone().or_else(|| self.view.root_id().map(str::to_string)) {
            self.root_id = Some(id.clone());
            return Ok(id);
        }
        let root = write::get_item(self.client, &self.drive, "root").await?;
        let id = root
            .as_ref()
            .and_then(|v| v.get("id"))
            .and_then(Value::as_str)
            .ok_or_else(|| M365Error::Invalid("the drive has no root item".into()))?
            .to_string();
        self.root_id = Some(id.clone());
        Ok(id)
    }

    /// Renames/moves tenant item `id` back to `name` under `parent` (same id and history).
    async fn move_back(&mut self, id: &str, parent: &str, name: &str) -> Result<Value, M365Error> {
        let parent_id = if parent == "root" { self.root_id().await? } else { parent.to_string() };
        let moved = write::move_item(self.client, &self.drive, id, name, &parent_id).await?;
        self.view.moved(parent, &moved);
        Ok(moved)
    }

    async fn restore_file(&mut self, item: &ItemRow, path: Vec<String>) {
        match self.try_restore_file(item, &path).await {
            Ok(Some((id, name, versions, bytes, created))) => {
                self.stats.bytes += bytes;
                let warnings = if self.opts.restore_permissions && created {
                    self.restore_permissions(item, &id).await
                } else {
                    Vec::new()
                };
                self.record(item, path, ItemStatus::Restored, Some((id, name)), versions, None, warnings);
            }
            Ok(None) => {}
            Err(msg) => self.record(item, path, ItemStatus::Failed, None, 0, Some(msg), Vec::new()),
        }
    }

    /// Contents to upload, oldest first.
    async fn contents(&self, item: &ItemRow) -> ItemResult<Vec<Vec<u8>>> {
        if let Some(v) = self.pinned_version(item) {
            let content = v.content_ref.clone().ok_or("the backup holds no content for this version")?;
            return Ok(vec![content]);
        }
        let mut refs: Vec<Vec<u8>> = Vec::new();
        if self.opts.versions == VersionMode::All {
            let versions = self
                .catalog
                .versions_at(self.container, &item.item_id, self.at, true)
                .await
                .map_err(|e| e.to_string())?;
            refs.extend(versions.into_iter().rev().filter_map(|v| v.version.content_ref));
        }
        let current = item.state.content_ref.clone().ok_or("the backup holds no content for this document")?;
        if refs.last() != Some(&current) {
            refs.push(current);
        }
        Ok(refs)
    }

    async fn read(&self, content_ref: &[u8]) -> ItemResult<Bytes> {
        let blob = BlobRef::from_compact(content_ref).map_err(|e| format!("content reference: {e}"))?;
        let data = self.repo.read_blob(&blob.chunks).await.map_err(|e| format!("reading the backup: {e}"))?;
        Ok(Bytes::from(data))
    }

    fn skip(&mut self, item: &ItemRow, path: &[String], why: &str) {
        self.record(item, path.to_vec(), ItemStatus::Skipped, None, 0, Some(why.into()), Vec::new());
    }

    /// Restores one file; `Ok(None)` when it was skipped (already recorded).
    async fn try_restore_file(&mut self, item: &ItemRow, path: &[String]) -> ItemResult<Option<Written>> {
        let err = |e: M365Error| e.to_string();
        if item.deleted && !self.opts.deleted_items {
            self.skip(item, path, "deleted item (excluded)");
            return Ok(None);
        }
        let parent = self.folder_for(item, path).await.map_err(err)?;
        let name = item.state.name.clone();
        let original = matches!(self.opts.destination, Destination::Original { .. });
        // The item in the tenant that this one would clash with: at the original location the item with its id
        // (wherever it is now), else the item at its path.
        let by_id = match original {
            true => {
                self.view.item(self.client, &item.item_id).await.map_err(err)?.filter(|v| v.get("deleted").is_none())
            }
            false => None,
        };
        // Renamed or moved since the backup.
        let misplaced = match &by_id {
            Some(v) => !self.in_place(v, &parent, &name).await.map_err(err)?,
            None => false,
        };
        let existing = match by_id {
            Some(v) => Some(v),
            None => self.view.child(self.client, &parent, &name).await.map_err(err)?,
        };
        // Whether the existing item already holds what the restore would write.
        let mut same_content = false;
        if let Some(ex) = &existing {
            if ex.get("folder").is_some() {
                return Err(format!("a folder named '{name}' is in the way"));
            }
            let hash = ex.pointer("/file/hashes/quickXorHash").and_then(Value::as_str);
            // What the restore would write: the pinned version, or the content at the instant.
            let (single, wanted) = match self.pinned_version(item) {
                Some(v) => (true, Some(v.content_hash.as_str()).filter(|h| !h.is_empty())),
                None => (self.opts.versions == VersionMode::Last, item.state.quick_xor_hash.as_deref()),
            };
            same_content = single && hash.is_some() && hash == wanted;
            if same_content && !misplaced {
                self.skip(item, path, "unchanged");
                return Ok(None);
            }
            if !self.opts.changed_items {
                self.skip(item, path, "changed item (excluded)");
                return Ok(None);
            }
        } else if original && !self.opts.deleted_items {
            self.skip(item, path, "deleted item (excluded)");
            return Ok(None);
        }
        let existing_id = existing.as_ref().and_then(|v| v.get("id")).and_then(Value::as_str).map(str::to_string);
        // Overwrite of an item renamed or moved since: put it back first (same id, same history).
        if let (Destination::Original { action: DocumentAction::Overwrite }, Some(id), true) =
            (&self.opts.destination, &existing_id, misplaced)
        {
            self.move_back(id, &parent, &name).await.map_err(err)?;
            if same_content {
                return Ok(Some((id.clone(), name, 0, 0, false)));
            }
        }
        let contents = self.contents(item).await?;
        // Decide the first write: into an existing item, or a new item under a name.
        let (mut target, target_name): (Option<String>, String) = match (&self.opts.destination, existing_id) {
            (_, None) => (None, name.clone()),
            (Destination::Original { action: DocumentAction::Overwrite }, Some(id)) => (Some(id), name.clone()),
            (Destination::Original { action: DocumentAction::Keep }, Some(_)) => {
                (None, self.free_name(&parent, &name).await.map_err(err)?)
            }
            (Destination::CopyTo { action: LastVersionAction::Merge, .. }, Some(id)) => (Some(id), name.clone()),
            (Destination::CopyTo { action: LastVersionAction::Overwrite, .. }, Some(id)) => {
                let mut call =
                    self.client.graph_call(reqwest::Method::DELETE, &format!("/drives/{}/items/{id}", self.drive));
                call.headers.clear();
                let resp = self.client.send(call).await.map_err(err)?;
                if !resp.status().is_success() && resp.status().as_u16() != 404 {
                    return Err(err(m365::client::error_of(resp).await));
                }
                self.view.deleted(&id);
                (None, name.clone())
            }
        };
        let created = target.is_none();
        let mut bytes = 0u64;
        let mut written = 0u32;
        let mut last = Value::Null;
        for content_ref in &contents {
            let data = self.read(content_ref).await?;
            bytes += data.len() as u64;
            last = match &target {
                Some(id) => write::upload_version(self.client, &self.drive, id, data).await.map_err(err)?,
                None => write::upload_new(self.client, &self.drive, &parent, &target_name, data, Conflict::Fail)
                    .await
                    .map_err(err)?,
            };
            written += 1;
            if target.is_none() {
                target = last.get("id").and_then(Value::as_str).map(str::to_string);
                self.view.wrote(&parent, &last);
            }
        }
        let id = target.ok_or("the service returned no item id")?;
        let final_name = last.get("name").and_then(Value::as_str).unwrap_or(&target_name).to_string();
        Ok(Some((id, final_name, written, bytes, created)))
    }

    /// Re-creates the backed-up sharing of `item` on the new item `target`; returns warnings for what could not be.
    async fn restore_permissions(&mut self, item: &ItemRow, target: &str) -> Vec<String> {
        let mut warnings = Vec::new();
        let snapshot = match self.catalog.permissions_at(self.container, &item.item_id, self.at).await {
            Ok(s) => s,
            Err(e) => {
                self.stats.permissions_failed += 1;
                return vec![format!("permissions could not be read from the backup: {e}")];
            }
        };
        let perms = snapshot.as_ref().and_then(Value::as_array).cloned().unwrap_or_default();
        for p in perms {
            match self.restore_permission(&p, target).await {
                Ok(true) => self.stats.permissions_restored += 1,
                Ok(false) => {}
                Err(w) => {
                    self.stats.permissions_failed += 1;
                    warnings.push(w);
                }
            }
        }
        warnings
    }

    /// `Ok(true)` restored, `Ok(false)` nothing to do (inherited), `Err(warning)`.
    async fn restore_permission(&self, p: &Value, target: &str) -> Result<bool, String> {
        if p.get("inheritedFrom").is_some_and(|v| !v.is_null()) {
            return Ok(false);
        }
        let roles: Vec<String> = p
            .get("roles")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        let id = p.get("id").and_then(Value::as_str).unwrap_or_default();
        if roles.iter().any(|r| r == "owner") {
            return Err(format!("permission {id}: the owner is not re-granted"));
        }
        if let Some(link) = p.get("link").filter(|l| l.is_object()) {
            let kind = link.get("type").and_then(Value::as_str).unwrap_or("view");
            let scope = link.get("scope").and_then(Value::as_str).unwrap_or("organization");
            if scope == "users" {
                // A link for named people: grant them directly instead.
                let recipients: Vec<Value> = p
                    .get("grantedToIdentitiesV2")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|g| g.pointer("/user/id").and_then(Value::as_str))
                    .map(|u| serde_json::json!({"objectId": u}))
                    .collect();
                if recipients.is_empty() {
                    return Err(format!("permission {id}: a link for named people without resolvable people"));
                }
                let role = if kind == "edit" { "write" } else { "read" };
                return write::invite(
                    self.client,
                    &self.drive,
                    target,
                    &recipients,
                    &[role.to_string()],
                    self.opts.send_shared_links_notification,
                )
                .await
                .map(|_| true)
                .map_err(|e| format!("permission {id}: {e}"));
            }
            return write::create_link(self.client, &self.drive, target, kind, scope)
                .await
                .map(|_| true)
                .map_err(|e| format!("permission {id}: link not re-created: {e}"));
        }
        let user = p.pointer("/grantedToV2/user").or_else(|| p.pointer("/grantedTo/user"));
        let recipient = match user {
            Some(u) => match (u.get("id").and_then(Value::as_str), u.get("email").and_then(Value::as_str)) {
                (Some(oid), _) => serde_json::json!({"objectId": oid}),
                (None, Some(mail)) => serde_json::json!({"email": mail}),
                _ => return Err(format!("permission {id}: the principal cannot be resolved")),
            },
            None => match p.pointer("/invitation/email").and_then(Value::as_str) {
                Some(mail) => serde_json::json!({"email": mail}),
                None => return Err(format!("permission {id}: the principal cannot be resolved")),
            },
        };
        write::invite(self.client, &self.drive, target, &[recipient], &roles, self.opts.send_shared_links_notification)
            .await
            .map(|_| true)
            .map_err(|e| format!("permission {id}: principal not granted: {e}"))
    }

    /// `"<stem> (Restored <time>)<.ext>"`, with ` (n)` added while the name is taken under `parent`.
    async fn free_name(&self, parent: &str, name: &str) -> Result<String, M365Error> {
        let stamp = self.opts.started_at.format("%Y-%m-%d %H-%M-%S").to_string();
        for n in 1..=50u32 {
            let candidate = keep_name(name, &stamp, n);
            if self.view.child(self.client, parent, &candidate).await?.is_none() {
                return Ok(candidate);
            }
        }
        Err(M365Error::Invalid(format!("no free name for a restored copy of '{name}'")))
    }
}

/// The name of a `Keep` copy: `"<stem> (Restored <stamp>)<.ext>"`; `n > 1` adds `" (n)"` after it.
pub fn keep_name(name: &str, stamp: &str, n: u32) -> String {
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    if n > 1 {
        format!("{stem} (Restored {stamp}) ({n}){ext}")
    } else {
        format!("{stem} (Restored {stamp}){ext}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_names() {
        assert_eq!(keep_name("report.docx", "2026-11-23 10-00-00", 1), "report (Restored 2026-11-23 10-00-00).docx");
        assert_eq!(keep_name("README", "s", 1), "README (Restored s)");
        assert_eq!(keep_name(".env", "s", 2), ".env (Restored s) (2)");
        assert_eq!(keep_name("a.b.txt", "s", 3), "a.b (Restored s) (3).txt");
    }
}
