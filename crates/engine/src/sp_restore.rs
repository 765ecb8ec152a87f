//! SharePoint restore: backed-up sites, document libraries (documents, folders) and lists (list items with their
//! fields and attachments) written back to the tenant, to the original location or to another list / library /
//! site ("restoreTo").
//!
//! * **Entry points.** [`restore_site`] restores every list and library a site had at the instant (and, to the
//!   original location, its subsites); [`restore_list`] restores a whole list or library, or a [`ListSelection`] of
//!   it (documents, folders, list items, one version of a document).
//! * **Where** ([`SpTarget`]). `Original`: the list the items came from. When it no longer exists, a list with the
//!   same title and template is created and the items go there. `To`: the list titled `list` (default: the source
//!   list's title) of the site at `site_url` (default: the source site); created with the source's template when
//!   missing. A target of the other kind (a library for a list, or the reverse) fails the list.
//! * **Documents and folders** go through [`crate::restore`] (the OneDrive restore): versions (`Last`/`All`/one
//!   version), missing parent folders re-created by path, unchanged documents skipped, `restorePermissions`, and one
//!   failing document never stopping the others. Into the original library: `Overwrite`/`Merge` write a new version
//!   into the existing document, `Keep` writes the restored copy beside it as `"<stem> (Restored <time>)<.ext>"`.
//!   Into another library: `Overwrite` replaces a document of the same path, `Merge` adds the restored versions to
//!   it; `Keep` is refused there (it names copies beside an original, which another library does not hold).
//! * **List items** (generic lists). The item in the tenant to compare with is the item with the same id (original
//!   list) or the item with the same `Title` (another list). Equal user columns and equal attachments (names and
//!   bytes) → skipped as unchanged. Otherwise `Overwrite`/`Merge` write the backed-up user columns into it (columns
//!   added since are left alone) and put back every backed-up attachment whose bytes differ or that is missing
//!   (attachments added since are kept: a restore never deletes what the backup does not know); `Keep` creates a
//!   new item titled `"<Title> (Restored <time>)"` with the backed-up columns and attachments. An item that is gone
//!   is created anew (SharePoint assigns a new id). System columns (`Created`, `Author`, `ID`, …) are never written
//!   ([`m365::sp_write::writable_fields`]). Attachments go through SharePoint REST (`AttachmentFiles/add`).
//!   SharePoint keeps no item history the backup could replay, so `DocumentVersion` does not apply to list items;
//!   item-level permissions have no Graph API and are not restored for list items.
//! * **Deleted items** (`show_deleted`, a restore session that shows deleted items): list items deleted at or before
//!   the instant can be selected by id and are part of a whole-list or site restore; they are created anew with
//!   their backed-up columns and attachments (or matched by `Title` in another list, like any other item).
//! * **Filters**: `changed_items: false` skips items that still exist with other content. `deleted_items: false`
//!   skips items deleted in the backup (at or before the instant) and, at the original location, items gone from the
//!   list since; into another list only the former (the target's content never matters).
//! * **Failures**: per item (counted in the statistics with a message, the restore goes on); per list in a site
//!   restore ([`SpRestoreStats::lists_failed`] with an [`SpIssue`]). Only what makes the whole request pointless
//!   (unknown container or item, catalog errors, an unusable target for a single-list restore) is an error.
//! * **Stop**: [`SpContext::stop`], when cancelled, keeps any further list, site or item from being started (the
//!   item in progress finishes); the statistics returned count what was processed.
//!
//! The Graph client is the caller's (built from the request's credentials); nothing here logs or stores credentials.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use m365::sp_write;
use m365::types::Site;
use m365::{GraphClient, M365Error};
use repo::catalog::{
    Catalog, CatalogError, ContainerInfo, ContainerKind, ContainerQuery, ItemKind, ItemQuery, ItemRow, ListInfo,
};
use repo::store::{BlobRef, Repository};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::restore::{
    self, Destination, DocumentAction, ItemOutcome, ItemStatus, LastVersionAction, RestoreError, RestoreOptions,
    RestoreStats, Selection, VersionMode,
};

/// Rows fetched per catalog page.
const PAGE: i64 = 500;

/// What part of one list or library is restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListSelection {
    /// Everything.
    Whole,
    /// These items: drive item ids of a library (a folder brings everything below it) or list item ids of a list.
    Items(Vec<String>),
    /// One version of a library document (1-based ordinal, oldest first).
    Version {
        /// Drive item id.
        item_id: String,
        /// Ordinal.
        version: u32,
    },
}

/// Where restored content goes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SpTarget {
    /// The list it came from.
    #[default]
    Original,
    /// Another list of a site (see the [module docs](self)).
    To {
        /// Web URL of the target site (`None`: the source site).
        site_url: Option<String>,
        /// Title of the target list (`None`: the source list's title).
        list: Option<String>,
    },
}

/// What happens to an item that exists at the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpAction {
    /// Write the backed-up content over it (libraries elsewhere: replace the document).
    #[default]
    Overwrite,
    /// Add the backed-up content on top of it (a new version / the backed-up columns).
    Merge,
    /// Leave it; write the restored copy beside it under a distinct name (original location only for documents).
    Keep,
}

/// Options of a SharePoint restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpRestoreOptions {
    /// Where.
    pub target: SpTarget,
    /// Existing items.
    pub action: SpAction,
    /// Document versions written.
    pub versions: VersionMode,
    /// Restore items that still exist with other content.
    pub changed_items: bool,
    /// Restore items that are gone (deleted in the backup, or from the original location since).
    pub deleted_items: bool,
    /// The session shows items deleted at or before the instant: library documents, folders and list items deleted
    /// then can be restored (see [`RestoreOptions::show_deleted`]).
    pub show_deleted: bool,
    /// Re-create the backed-up sharing of documents the restore creates.
    pub restore_permissions: bool,
    /// Let the service notify the people the restored sharing names.
    pub send_shared_links_notification: bool,
    /// Start of the restore (names `Keep` copies).
    pub started_at: DateTime<Utc>,
}

impl SpRestoreOptions {
    /// To the original location, overwriting, last versions, every item.
    pub fn original() -> Self {
        SpRestoreOptions {
            target: SpTarget::Original,
            action: SpAction::Overwrite,
            versions: VersionMode::Last,
            changed_items: true,
            deleted_items: true,
            show_deleted: false,
            restore_permissions: false,
            send_shared_links_notification: false,
            started_at: Utc::now(),
        }
    }
}

/// A list or site that could not be restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpIssue {
    /// `List` or `Site`.
    pub kind: &'static str,
    /// Catalog id of the container.
    pub id: Uuid,
    /// Its title.
    pub title: String,
    /// Why.
    pub message: String,
}

/// Statistics of a SharePoint restore.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpRestoreStats {
    /// Item-level statistics (documents and list items; paths start with the list title).
    pub items: RestoreStats,
    /// Lists and libraries restored.
    pub lists_restored: u64,
    /// Lists and libraries that could not be restored.
    pub lists_failed: u64,
    /// Sites restored.
    pub webs_restored: u64,
    /// Sites that could not be restored.
    pub webs_failed: u64,
    /// List- and site-level failures.
    pub issues: Vec<SpIssue>,
}

impl SpRestoreStats {
    /// Adds the statistics of another SharePoint restore (several sites or lists reported as one).
    pub fn add(&mut self, other: SpRestoreStats) {
        self.items.add(other.items);
        self.lists_restored += other.lists_restored;
        self.lists_failed += other.lists_failed;
        self.webs_restored += other.webs_restored;
        self.webs_failed += other.webs_failed;
        self.issues.extend(other.issues);
    }
}

/// Why a whole SharePoint restore could not run.
#[derive(Debug, thiserror::Error)]
pub enum SpRestoreError {
    /// The site, list or library is not in the catalog at the instant.
    #[error("{0} is not in the backup at this point in time")]
    UnknownContainer(Uuid),
    /// An item of the selection is not in the backup.
    #[error("item {0} is not in the backup at this point in time")]
    UnknownItem(String),
    /// The selected version is not in the backup.
    #[error("version {1} of item {0} is not in the backup at this point in time")]
    UnknownVersion(String, u32),
    /// The options do not fit the content.
    #[error("{0}")]
    Invalid(String),
    /// The catalog failed.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The target site or list cannot be used.
    #[error("target: {0}")]
    Target(String),
}

/// Everything a restore needs besides its options.
#[derive(Clone, Copy)]
pub struct SpContext<'a> {
    /// The catalog.
    pub catalog: &'a Catalog,
    /// The content store.
    pub repo: &'a Repository,
    /// Graph / SharePoint client signed in for the target tenant.
    pub client: &'a GraphClient,
    /// Cancelled when the restore must stop (checked before each list, site and item).
    pub stop: Option<&'a CancellationToken>,
}

impl SpContext<'_> {
    fn stopped(&self) -> bool {
        self.stop.is_some_and(CancellationToken::is_cancelled)
    }
}

/// Restores every list and library of site `site` as of `at` (and its subsites when `subsites`, original location
/// only: a site restored elsewhere has its lists put into the target site, its subsites are reported as failed).
pub async fn restore_site(
    cx: SpContext<'_>,
    site: Uuid,
    at: DateTime<Utc>,
    subsites: bool,
    opts: &SpRestoreOptions,
) -> Result<SpRestoreStats, SpRestoreError> {
    let row = cx.catalog.container_at(site, at).await?.ok_or(SpRestoreError::UnknownContainer(site))?;
    let ContainerInfo::Site(_) = &row.info else { return Err(SpRestoreError::UnknownContainer(site)) };
    let mut stats = SpRestoreStats::default();
    // Sites to do, depth first; the requested one first.
    let mut pending = vec![row];
    while let Some(web) = pending.pop() {
        if cx.stopped() {
            break;
        }
        let ContainerInfo::Site(info) = &web.info else { continue };
        let q = ContainerQuery::new(web.organization_id, at).kind(ContainerKind::List).parent_ref(info.site_id.clone());
        let lists = cx.catalog.containers_at(&q.page(0, i64::MAX / 4)).await?.rows;
        let before = stats.lists_failed;
        for list in lists {
            if cx.stopped() {
                break;
            }
            let ContainerInfo::List(li) = &list.info else { continue };
            let mut list_opts = opts.clone();
            if let SpTarget::To { site_url, .. } = &opts.target {
                // Each list goes to the list of the same title in the target site.
                list_opts.target = SpTarget::To { site_url: site_url.clone(), list: None };
            }
            match restore_list_into(cx, list.id, li, at, &ListSelection::Whole, &list_opts, &mut stats).await {
                Ok(()) => stats.lists_restored += 1,
                Err(e) => {
                    stats.lists_failed += 1;
                    stats.issues.push(SpIssue {
                        kind: "List",
                        id: list.id,
                        title: li.title.clone(),
                        message: e.to_string(),
                    });
                }
            }
        }
        if cx.stopped() {
            // A site cut short is neither restored nor failed.
            break;
        }
        if stats.lists_failed == before {
            stats.webs_restored += 1;
        } else {
            stats.webs_failed += 1;
        }
        if subsites {
            let q =
                ContainerQuery::new(web.organization_id, at).kind(ContainerKind::Site).parent_ref(info.site_id.clone());
            let subs = cx.catalog.containers_at(&q.page(0, i64::MAX / 4)).await?.rows;
            for sub in subs {
                if opts.target == SpTarget::Original {
                    pending.push(sub);
                } else {
                    stats.webs_failed += 1;
                    stats.issues.push(SpIssue {
                        kind: "Site",
                        id: sub.id,
                        title: sub.info.title().to_string(),
                        message: "subsites are restored to their original location only".into(),
                    });
                }
            }
        }
    }
    Ok(stats)
}

/// Restores `selection` of list or library `list` as of `at` (see the [module docs](self)).
pub async fn restore_list(
    cx: SpContext<'_>,
    list: Uuid,
    at: DateTime<Utc>,
    selection: &ListSelection,
    opts: &SpRestoreOptions,
) -> Result<SpRestoreStats, SpRestoreError> {
    let row = cx.catalog.container_at(list, at).await?.ok_or(SpRestoreError::UnknownContainer(list))?;
    let ContainerInfo::List(info) = &row.info else { return Err(SpRestoreError::UnknownContainer(list)) };
    let mut stats = SpRestoreStats::default();
    restore_list_into(cx, list, info, at, selection, opts, &mut stats).await?;
    stats.lists_restored += 1;
    Ok(stats)
}

/// The list the restore writes to.
struct TargetList {
    site: Site,
    list_id: String,
    /// Drive of a library.
    drive_id: Option<String>,
    /// It is the list the items came from (same ids).
    same_list: bool,
}

/// Finds (or creates) the target list of `info`.
async fn target_list(
    cx: SpContext<'_>,
    info: &ListInfo,
    opts: &SpRestoreOptions,
) -> Result<TargetList, SpRestoreError> {
    let target = |e: M365Error| SpRestoreError::Target(e.to_string());
    let template = if info.is_document_library { "documentLibrary" } else { "genericList" };
    let (site, title) = match &opts.target {
        SpTarget::Original => {
            let site = sp_write::site(cx.client, &info.site_id).await.map_err(|e| {
                SpRestoreError::Target(format!("the original site {} cannot be used: {e}", info.site_id))
            })?;
            let path = format!("/sites/{}/lists/{}", info.site_id, info.list_id);
            match cx.client.get_json::<Value>(&path).await {
                Ok(_) => {
                    let drive_id = match info.is_document_library {
                        true => Some(cx.client.list_drive(&info.site_id, &info.list_id).await.map_err(target)?.id),
                        false => None,
                    };
                    return Ok(TargetList { site, list_id: info.list_id.clone(), drive_id, same_list: true });
                }
                // The list is gone: re-created below under its title.
                Err(e) if e.status() == Some(404) => (site, info.title.clone()),
                Err(e) => return Err(target(e)),
            }
        }
        SpTarget::To { site_url, list } => {
            let site = match site_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
                Some(url) => sp_write::site_by_url(cx.client, url).await.map_err(target)?,
                None => sp_write::site(cx.client, &info.site_id).await.map_err(target)?,
            };
            let title = list.as_deref().map(str::trim).filter(|l| !l.is_empty()).unwrap_or(&info.title).to_string();
            (site, title)
        }
    };
    let list = match sp_write::list_by_title(cx.client, &site.id, &title).await.map_err(target)? {
        Some(l) => l,
        None => sp_write::create_list(cx.client, &site.id, &title, template).await.map_err(target)?,
    };
    if list.is_document_library() != info.is_document_library {
        let (want, is) =
            if info.is_document_library { ("document library", "list") } else { ("list", "document library") };
        return Err(SpRestoreError::Target(format!("'{title}' is a {is}; a {want} cannot be restored into it")));
    }
    let drive_id = match info.is_document_library {
        true => Some(cx.client.list_drive(&site.id, &list.id).await.map_err(target)?.id),
        false => None,
    };
    let same_list = list.id.eq_ignore_ascii_case(&info.list_id);
    Ok(TargetList { site, list_id: list.id, drive_id, same_list })
}

async fn restore_list_into(
    cx: SpContext<'_>,
    container: Uuid,
    info: &ListInfo,
    at: DateTime<Utc>,
    selection: &ListSelection,
    opts: &SpRestoreOptions,
    stats: &mut SpRestoreStats,
) -> Result<(), SpRestoreError> {
    if !info.is_document_library && matches!(selection, ListSelection::Version { .. }) {
        return Err(SpRestoreError::Invalid("list items have no versions to restore; restore the item itself".into()));
    }
    let target = target_list(cx, info, opts).await?;
    if info.is_document_library {
        let s = restore_library(cx, container, info, at, selection, opts, &target).await?;
        stats.items.add(s);
        return Ok(());
    }
    let mut r =
        ListRestorer { cx, title: info.title.clone(), opts, target, index: None, stats: RestoreStats::default() };
    let items = match selection {
        ListSelection::Items(ids) => {
            let mut out = Vec::new();
            for id in ids {
                let item = cx.catalog.item_at(container, id, at).await?.filter(|i| !i.deleted || opts.show_deleted);
                out.push(item.ok_or_else(|| SpRestoreError::UnknownItem(id.clone()))?);
            }
            out
        }
        _ => all_items(cx.catalog, container, at, opts.show_deleted).await?,
    };
    for item in &items {
        if cx.stopped() {
            break;
        }
        r.restore_item(item).await;
    }
    stats.items.add(r.stats);
    Ok(())
}

/// Every list item of `container` at `at`; with `show_deleted`, items deleted at or before `at` too.
async fn all_items(
    catalog: &Catalog,
    container: Uuid,
    at: DateTime<Utc>,
    show_deleted: bool,
) -> Result<Vec<ItemRow>, CatalogError> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let q = ItemQuery::new(container, at).show_deleted(show_deleted).kind(ItemKind::Any).page(offset, PAGE);
        let page = catalog.items_at(&q).await?;
        let n = page.rows.len() as i64;
        out.extend(page.rows);
        offset += n;
        if n == 0 || offset >= page.total {
            return Ok(out);
        }
    }
}

/// Documents and folders: the OneDrive restore, pointed at the library's drive.
async fn restore_library(
    cx: SpContext<'_>,
    container: Uuid,
    info: &ListInfo,
    at: DateTime<Utc>,
    selection: &ListSelection,
    opts: &SpRestoreOptions,
    target: &TargetList,
) -> Result<RestoreStats, SpRestoreError> {
    let drive_id = target.drive_id.clone().ok_or_else(|| SpRestoreError::Target("the library has no drive".into()))?;
    let destination = if target.same_list {
        let action = if opts.action == SpAction::Keep { DocumentAction::Keep } else { DocumentAction::Overwrite };
        Destination::Original { action }
    } else {
        let action = match opts.action {
            SpAction::Overwrite => LastVersionAction::Overwrite,
            SpAction::Merge => LastVersionAction::Merge,
            SpAction::Keep => {
                return Err(SpRestoreError::Invalid(
                    "Keep writes a copy beside the original document; it applies to the original library only \
                     (use Overwrite or Merge for another library)"
                        .into(),
                ))
            }
        };
        Destination::CopyTo { drive_id, folder: String::new(), action }
    };
    let ro = RestoreOptions {
        destination,
        versions: opts.versions,
        changed_items: opts.changed_items,
        deleted_items: opts.deleted_items,
        show_deleted: opts.show_deleted,
        started_at: opts.started_at,
        restore_permissions: opts.restore_permissions,
        send_shared_links_notification: opts.send_shared_links_notification,
    };
    let sel = match selection {
        ListSelection::Whole => Selection::Whole,
        ListSelection::Items(ids) => Selection::Items(ids.clone()),
        ListSelection::Version { item_id, version } => {
            Selection::Version { item_id: item_id.clone(), version: *version }
        }
    };
    let restored =
        restore::restore_onedrive_observed(cx.catalog, cx.repo, cx.client, container, at, &sel, &ro, None, cx.stop)
            .await;
    let mut stats = match restored {
        Ok(s) => s,
        Err(RestoreError::UnknownItem(id)) => return Err(SpRestoreError::UnknownItem(id)),
        Err(RestoreError::UnknownVersion(id, v)) => return Err(SpRestoreError::UnknownVersion(id, v)),
        Err(RestoreError::UnknownOneDrive(c)) => return Err(SpRestoreError::UnknownContainer(c)),
        Err(RestoreError::Catalog(e)) => return Err(SpRestoreError::Catalog(e)),
        Err(RestoreError::Target(e)) => return Err(SpRestoreError::Target(e.to_string())),
    };
    for o in &mut stats.items {
        o.path = format!("{}/{}", info.title, o.path);
    }
    Ok(stats)
}

/// Restores the items of one generic list.
struct ListRestorer<'a> {
    cx: SpContext<'a>,
    /// Source list title (paths).
    title: String,
    opts: &'a SpRestoreOptions,
    target: TargetList,
    /// Target items by id (loaded when first needed: another list, or `Keep` names).
    index: Option<HashMap<String, Value>>,
    stats: RestoreStats,
}

/// Why one item failed.
type ItemResult<T> = Result<T, String>;

fn err(e: M365Error) -> String {
    e.to_string()
}

fn title_of(fields: &Value) -> Option<&str> {
    fields.pointer("/fields/Title").or_else(|| fields.get("Title")).and_then(Value::as_str)
}

impl ListRestorer<'_> {
    async fn restore_item(&mut self, item: &ItemRow) {
        let outcome = match self.try_restore_item(item).await {
            Ok(Some((id, name))) => (ItemStatus::Restored, Some(id), Some(name), None),
            Ok(None) => return,
            Err(msg) => (ItemStatus::Failed, None, None, Some(msg)),
        };
        self.record(item, outcome.0, outcome.1.zip(outcome.2), outcome.3);
    }

    fn record(
        &mut self,
        item: &ItemRow,
        status: ItemStatus,
        target: Option<(String, String)>,
        message: Option<String>,
    ) {
        self.stats.count(status);
        if status == ItemStatus::Failed {
            tracing::warn!(item = %item.item_id, "SharePoint restore: {}", message.as_deref().unwrap_or(""));
        }
        let (target_item_id, target_name) = target.map_or((None, None), |(i, n)| (Some(i), Some(n)));
        self.stats.items.push(ItemOutcome {
            item_id: item.item_id.clone(),
            path: format!("{}/{}", self.title, item.state.name),
            status,
            target_item_id,
            target_name,
            versions_written: u32::from(status == ItemStatus::Restored),
            message,
            warnings: Vec::new(),
        });
    }

    fn skip(&mut self, item: &ItemRow, why: &str) {
        self.record(item, ItemStatus::Skipped, None, Some(why.into()));
    }

    async fn index(&mut self) -> ItemResult<&HashMap<String, Value>> {
        if self.index.is_none() {
            let t = &self.target;
            let all = sp_write::items(self.cx.client, &t.site.id, &t.list_id).await.map_err(err)?;
            let map = all
                .into_iter()
                .filter_map(|v| v.get("id").and_then(Value::as_str).map(str::to_string).map(|id| (id, v)))
                .collect();
            self.index = Some(map);
        }
        Ok(self.index.get_or_insert_with(HashMap::new))
    }

    /// The tenant item this one would clash with.
    async fn existing(&mut self, item: &ItemRow) -> ItemResult<Option<Value>> {
        if self.target.same_list {
            let t = &self.target;
            return sp_write::get_item(self.cx.client, &t.site.id, &t.list_id, &item.item_id).await.map_err(err);
        }
        self.by_title(item).await
    }

    /// The first target item with the title of `item`.
    async fn by_title(&mut self, item: &ItemRow) -> ItemResult<Option<Value>> {
        let title = item.state.fields.as_ref().and_then(title_of).unwrap_or(&item.state.name).to_string();
        Ok(self.index().await?.values().find(|v| title_of(v) == Some(title.as_str())).cloned())
    }

    /// Compares `item` (user columns `wanted`) with tenant item `existing`: (same columns, attachments to write,
    /// attachment names present, tenant id).
    async fn compare(
        &self,
        item: &ItemRow,
        wanted: &Map<String, Value>,
        existing: &Value,
    ) -> ItemResult<(bool, Vec<(String, Bytes)>, HashSet<String>, String)> {
        let id = existing.get("id").and_then(Value::as_str).ok_or("the tenant item has no id")?.to_string();
        let now = sp_write::writable_fields(existing.get("fields").unwrap_or(&Value::Null));
        // A column the backup holds as null is the same as a column the tenant does not return.
        let same_fields = wanted.iter().all(|(k, v)| now.get(k).unwrap_or(&Value::Null) == v);
        let (attachments, present) = self.attachments_to_write(item, &id).await?;
        Ok((same_fields, attachments, present, id))
    }

    async fn read(&self, content_ref: Option<&Vec<u8>>) -> ItemResult<Bytes> {
        let r = content_ref.ok_or("the backup holds no content for this attachment")?;
        let blob = BlobRef::from_compact(r).map_err(|e| format!("content reference: {e}"))?;
        let data = self.cx.repo.read_blob(&blob.chunks).await.map_err(|e| format!("reading the backup: {e}"))?;
        Ok(Bytes::from(data))
    }

    /// Backed-up attachments whose content differs from (or is missing at) tenant item `id`, with their bytes.
    async fn attachments_to_write(
        &self,
        item: &ItemRow,
        id: &str,
    ) -> ItemResult<(Vec<(String, Bytes)>, HashSet<String>)> {
        let t = &self.target;
        let present: HashSet<String> = if item.state.attachments.is_empty() {
            HashSet::new()
        } else {
            sp_write::attachments(self.cx.client, &t.site, &t.list_id, id).await.map_err(err)?.into_iter().collect()
        };
        let mut out = Vec::new();
        for a in &item.state.attachments {
            let data = self.read(a.content_ref.as_ref()).await?;
            if present.contains(&a.file_name) {
                let now = sp_write::attachment_bytes(self.cx.client, &t.site, &t.list_id, id, &a.file_name)
                    .await
                    .map_err(err)?;
                if now == data {
                    continue;
                }
            }
            out.push((a.file_name.clone(), data));
        }
        Ok((out, present))
    }

    async fn write_attachments(
        &self,
        id: &str,
        list: Vec<(String, Bytes)>,
        present: &HashSet<String>,
    ) -> ItemResult<()> {
        let t = &self.target;
        for (name, data) in list {
            if present.contains(&name) {
                sp_write::delete_attachment(self.cx.client, &t.site, &t.list_id, id, &name)
                    .await
                    .map_err(|e| format!("attachment '{name}': {e}"))?;
            }
            sp_write::add_attachment(self.cx.client, &t.site, &t.list_id, id, &name, data)
                .await
                .map_err(|e| format!("attachment '{name}': {e}"))?;
        }
        Ok(())
    }

    /// Creates a new item with `fields` and every backed-up attachment; returns (id, title).
    async fn create(&mut self, item: &ItemRow, fields: Map<String, Value>) -> ItemResult<(String, String)> {
        let t = &self.target;
        let created = sp_write::create_item(self.cx.client, &t.site.id, &t.list_id, &fields).await.map_err(err)?;
        let id = created.get("id").and_then(Value::as_str).ok_or("the service returned no item id")?.to_string();
        let (list, present) = self.attachments_to_write(item, &id).await?;
        self.write_attachments(&id, list, &present).await?;
        let title = fields.get("Title").and_then(Value::as_str).unwrap_or(&item.state.name).to_string();
        if let Some(index) = &mut self.index {
            index.insert(id.clone(), created);
        }
        Ok((id, title))
    }

    /// `"<Title> (Restored <time>)"`, with ` (n)` while the title is taken in the target list.
    async fn keep_title(&mut self, title: &str) -> ItemResult<String> {
        let stamp = self.opts.started_at.format("%Y-%m-%d %H-%M-%S").to_string();
        let taken: HashSet<String> =
            self.index().await?.values().filter_map(|v| title_of(v).map(str::to_string)).collect();
        (1..=50u32)
            .map(|n| {
                if n > 1 {
                    format!("{title} (Restored {stamp}) ({n})")
                } else {
                    format!("{title} (Restored {stamp})")
                }
            })
            .find(|c| !taken.contains(c))
            .ok_or_else(|| format!("no free title for a restored copy of '{title}'"))
    }

    /// Restores one list item; `Ok(None)` when it was skipped (already recorded).
    async fn try_restore_item(&mut self, item: &ItemRow) -> ItemResult<Option<(String, String)>> {
        if item.deleted && !self.opts.deleted_items {
            self.skip(item, "deleted item (excluded)");
            return Ok(None);
        }
        let wanted = sp_write::writable_fields(item.state.fields.as_ref().unwrap_or(&Value::Null));
        let Some(existing) = self.existing(item).await? else {
            // Gone from the original list since the backup; in another list a missing item is simply new there
            // (the target's content never decides what `deleted_items` means).
            if self.opts.target == SpTarget::Original && !self.opts.deleted_items {
                self.skip(item, "deleted item (excluded)");
                return Ok(None);
            }
            // A deleted item comes back under a new id; an item with its title and content means an earlier
            // restore already brought it back, so it is not created twice.
            if let Some(twin) = self.by_title(item).await? {
                if let Ok((true, rest, _, _)) = self.compare(item, &wanted, &twin).await {
                    if rest.is_empty() {
                        self.skip(item, "unchanged (restored before)");
                        return Ok(None);
                    }
                }
            }
            return self.create(item, wanted).await.map(Some);
        };
        let (same_fields, attachments, present, id) = self.compare(item, &wanted, &existing).await?;
        if same_fields && attachments.is_empty() {
            self.skip(item, "unchanged");
            return Ok(None);
        }
        if !self.opts.changed_items {
            self.skip(item, "changed item (excluded)");
            return Ok(None);
        }
        if self.opts.action == SpAction::Keep {
            let mut fields = wanted;
            let title = fields.get("Title").and_then(Value::as_str).unwrap_or(&item.state.name).to_string();
            fields.insert("Title".into(), Value::String(self.keep_title(&title).await?));
            return self.create(item, fields).await.map(Some);
        }
        if !same_fields {
            let t = &self.target;
            sp_write::update_fields(self.cx.client, &t.site.id, &t.list_id, &id, &wanted).await.map_err(err)?;
        }
        self.write_attachments(&id, attachments, &present).await?;
        let title = wanted.get("Title").and_then(Value::as_str).unwrap_or(&item.state.name).to_string();
        Ok(Some((id, title)))
    }
}
