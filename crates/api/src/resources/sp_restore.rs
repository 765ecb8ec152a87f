//! SharePoint restore (veeam-api-notes §9.2, §9.3): sites, lists, libraries, documents, folders and list items,
//! to the original location (`restore`) or elsewhere (`restoreTo`), through [`engine::sp_restore`].
//!
//! Paths under `/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}` (v6–v8):
//!
//! | path | body |
//! |---|---|
//! | `/restore`, `/restoreTo` | `RESTRestoreSiteConfig` / `RESTRestoreToSiteConfig` (`restoreSubsites`, `alias` / `siteURL`) |
//! | `/Lists/{listId}/restore\|restoreTo`, `/Libraries/{libraryId}/restore\|restoreTo` | `RESTRestoreListConfig` / `RESTRestoreToListConfig` |
//! | `/Documents/restore\|restoreTo`, `/Folders/…`, `/Items/…` | `…DocumentsConfig` / `…FoldersConfig` / `…ItemsConfig` (`documents[]` / `folders[]` / `items[]`) |
//! | `/Documents/{documentId}/restore\|restoreTo`, `/Folders/{folderId}/…`, `/Items/{itemId}/Restore\|RestoreTo` | `RESTRestoreItemConfig` / `RESTRestoreToItemConfig` |
//! | `/{Documents,Folders,Items}/{id}/Versions/{versionId}/restore\|restoreTo` | as above; a document is written as that version |
//!
//! v2–v5: `…/Action` with `{"restoreTo": {…}}` on the site, `Lists/{id}`, `Libraries/{id}`, `Documents[/{id}]`,
//! `Folders[/{id}]`, `Items[/{id}]` ([`sharepoint_action`], called by the dispatcher of `resources::actions` for
//! the paths it owns; this module registers `…/Action` of the site, lists and items). In that era `restoreTo`
//! without `siteURL`/`alias` and with `list` absent or naming the source list is the restore to the original location.
//!
//! Body → [`SpRestoreOptions`]: `documentVersion` (`Last`/`All`), `documentLastVersionAction` (`Overwrite`/`Merge`),
//! `documentAction` / `listItemAction` (`Overwrite`/`Keep`: `Keep` writes a copy beside an existing item),
//! `changedItems`, `deletedItems` (default true), `restorePermissions`, `sendSharedLinksNotification`, `list` (target
//! list title), `siteURL` (target site), `restoreSubsites`. Credentials: [`crate::ctx::restore_auth`].
//!
//! Answers: **v6/v7/v2–v5** run in the request: items → `RESTItemRestoreStatistics`; lists and libraries →
//! `RESTListRestoreStatistics` (+ `restoredListsCount`, `failedListsCount`); sites → `RESTWebRestoreStatistics`
//! (+ `restoredWebsCount`, `failedWebsCount`). **v8** answers `{"sessionId"}` at once and runs in the background
//! ([`crate::store::restore_jobs`]). Every item becomes a `Restore` event of the session. A Stop of the session cuts a
//! running restore short after its current item ([`crate::store::restore_stop`]), as for OneDrive.
//!
//! Ids (as the browse module shows them): site, list and library ids are catalog UUIDs; documents and folders are
//! drive item ids; a generic list item is `<list UUID, 32 hex digits><item id>`. Unknown ids are 404 before
//! anything is written.

use std::collections::BTreeMap;

use axum::Json;
use chrono::{DateTime, Utc};
use engine::restore::{ItemOutcome, ItemStatus, RestoreStats, VersionMode};
use engine::sp_restore::{
    self, ListSelection, SpAction, SpContext, SpRestoreError, SpRestoreOptions, SpRestoreStats, SpTarget,
};
use repo::catalog::ItemRow;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::ctx::caller::Caller;
use crate::ctx::restore_auth::{self, Credentials, RestoreBody};
use crate::ctx::site::{not_found as nf, SiteCtx, SiteList};
use crate::edge::era::RestoreRun;
use crate::edge::error::ApiError;
use crate::edge::lenient::IdList;
use crate::openapi::RestExceptionInfo;
use crate::resources::scope::{SiteTarget, SpScope};
use crate::store::restore_jobs;
use crate::store::restore_stop::{self, Watch};
use crate::wire::restore::{
    AsyncRestore, DocumentAction, DocumentLastVersionAction, DocumentVersion, ItemRestoreStatistics,
    ListRestoreStatistics, RestoreAnswer, SharePointRestore, WebRestoreStatistics,
};
use crate::wire::selection::required_ids;

/// No literals beyond the vendor's.
pub const SEGMENTS: &[&str] = &[];
type SiteAnswer = Result<Json<RestoreAnswer<WebRestoreStatistics>>, ApiError>;
type ListAnswer = Result<Json<RestoreAnswer<ListRestoreStatistics>>, ApiError>;
type ItemsAnswer = Result<Json<RestoreAnswer<ItemRestoreStatistics>>, ApiError>;

// ---------------------------------------------------------------------------------------------------------------
// Handlers (v6–v8, then the v2–v5 `…/Action` forms)
// ---------------------------------------------------------------------------------------------------------------

/// What `…/restore` and `…/restoreTo` do (the OpenAPI description of every path of each handler).
const RESTORE: &str = "`…/restore`: to the original location; a `list` naming another list of the site, or a \
`siteURL`/`alias`, redirects it there. `…/restoreTo`: elsewhere: `siteURL` (or `alias`, a site next to the source) \
and/or `list` (target list title) are required. Options: `documentVersion` (`Last`/`All`), \
`documentLastVersionAction` (`Overwrite`/`Merge`), `documentAction`/`listItemAction` (`Keep` writes a copy beside an \
existing item), `changedItems`, `deletedItems` (default true), `restorePermissions`, `sendSharedLinksNotification`. \
v8 answers `{sessionId}` and restores in the background; v6/v7 answer the statistics. v2–v5 reach the same \
operation through `…/Action {\"restoreTo\": {…}}`, which restores to the original location unless the body names \
`siteURL`/`alias` or another `list`.";

/// Restore a site (with its subsites unless `restoreSubsites` is false), to its original location or another site.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/restore",
    tag = "SharePoint restore",
    description = RESTORE,
    request_body = SharePointRestore,
    params(("version" = String, Path, description = "v6 … v8"), ("id" = String, Path), ("siteId" = String, Path)),
    responses(
        (status = 200, description = "v6/v7: the statistics; v8: the restore session", body = RestoreAnswer<WebRestoreStatistics>),
        (status = 400, description = "Bad body, target or credentials", body = RestExceptionInfo),
        (status = 404, description = "Unknown session or site", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn restore_site(
    caller: Caller,
    site: SiteCtx,
    target: SiteTarget,
    RestoreBody(o, credentials): RestoreBody<SharePointRestore>,
) -> SiteAnswer {
    let site = SiteRestore { caller, site };
    let unit = site.whole(&o);
    site.run(vec![unit], Form::of(&target), &o, &credentials, WebRestoreStatistics::new).await
}

/// Restore a list or a library, to its original location or another list or site.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Lists/{listId}/restore",
    tag = "SharePoint restore",
    description = RESTORE,
    request_body = SharePointRestore,
    params(("version" = String, Path, description = "v6 … v8"), ("id" = String, Path), ("siteId" = String, Path), ("listId" = String, Path)),
    responses(
        (status = 200, description = "v6/v7: the statistics; v8: the restore session", body = RestoreAnswer<ListRestoreStatistics>),
        (status = 400, description = "Bad body, target or credentials", body = RestExceptionInfo),
        (status = 404, description = "Unknown session, site, list or library", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn restore_list(
    caller: Caller,
    site: SiteCtx,
    target: SiteTarget,
    RestoreBody(o, credentials): RestoreBody<SharePointRestore>,
) -> ListAnswer {
    let site = SiteRestore { caller, site };
    let unit = match &target.scope {
        SpScope::List(id) => site.list(id, false)?,
        SpScope::Library(id) => site.list(id, true)?,
        other => return Err(ApiError::internal(format!("{other:?} is not a list"))),
    };
    site.run(vec![unit], Form::of(&target), &o, &credentials, ListRestoreStatistics::new).await
}

/// Restore library documents, folders or list items — several (`documents[]` / `folders[]` / `items[]`), one, or
/// a version of one — to their original location or another list or site.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Documents/restore",
    tag = "SharePoint restore",
    description = RESTORE,
    request_body = SharePointRestore,
    params(("version" = String, Path, description = "v6 … v8"), ("id" = String, Path), ("siteId" = String, Path)),
    responses(
        (status = 200, description = "v6/v7: the statistics; v8: the restore session", body = RestoreAnswer<ItemRestoreStatistics>),
        (status = 400, description = "Bad body, target or credentials", body = RestExceptionInfo),
        (status = 404, description = "Unknown session, site, document, folder, item or version", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn restore_items(
    caller: Caller,
    site: SiteCtx,
    target: SiteTarget,
    RestoreBody(o, credentials): RestoreBody<SharePointRestore>,
) -> ItemsAnswer {
    let site = SiteRestore { caller, site };
    let units = site.select(&target, &o).await?;
    site.run(units, Form::of(&target), &o, &credentials, ItemRestoreStatistics::sharepoint).await
}

// ---------------------------------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------------------------------

/// What kind of content an item path names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Coll {
    Documents,
    Folders,
    Items,
}

impl Coll {
    /// The body's list of ids for this kind (v2–v5 bulk scopes).
    fn field(self) -> &'static str {
        match self {
            Coll::Documents => "documents",
            Coll::Folders => "folders",
            Coll::Items => "items",
        }
    }

    /// The ids of a bulk body of this kind.
    fn ids(self, o: &SharePointRestore) -> &Option<IdList> {
        match self {
            Coll::Documents => &o.documents,
            Coll::Folders => &o.folders,
            Coll::Items => &o.items,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Coll::Documents => "document",
            Coll::Folders => "folder",
            Coll::Items => "item",
        }
    }
}

/// A site of a restore session (with its lists and libraries, at the session's instant) that `caller` restores from.
struct SiteRestore {
    caller: Caller,
    site: SiteCtx,
}

impl SiteRestore {
    /// The documents, folders or list items `target` names: the body's list for a collection, one item, or a
    /// version of one. Attachments are restored with their list item (400).
    async fn select(&self, target: &SiteTarget, o: &SharePointRestore) -> Result<Vec<Unit>, ApiError> {
        let (coll, id) = match &target.scope {
            SpScope::Documents => (Coll::Documents, None),
            SpScope::Document(id) => (Coll::Documents, Some(id)),
            SpScope::Folders => (Coll::Folders, None),
            SpScope::Folder(id) => (Coll::Folders, Some(id)),
            SpScope::Items => (Coll::Items, None),
            SpScope::Item(id) => (Coll::Items, Some(id)),
            SpScope::Attachments(_) | SpScope::Attachment(..) => {
                return Err(ApiError::bad_request(
                    "Attachments are restored with their list item: use …/Items/{itemId}/Action with 'restoreTo'.",
                ))
            }
            other => return Err(ApiError::internal(format!("{other:?} is not an item scope"))),
        };
        match (id, target.version.as_deref()) {
            (None, _) => self.items(coll, &required_ids(coll.ids(o).as_ref(), coll.field())?).await,
            (Some(id), None) => self.items(coll, std::slice::from_ref(id)).await,
            (Some(id), Some(v)) => self.version(coll, id.clone(), v).await,
        }
    }

    /// The whole site, with its subsites unless `restoreSubsites` is false.
    fn whole(&self, o: &SharePointRestore) -> Unit {
        Unit::Site { container: self.site.site.id, subsites: o.restore_subsites.unwrap_or(true) }
    }

    /// The whole list or library `id` (`library`: which of the two the path names).
    fn list(&self, id: &str, library: bool) -> Result<Unit, ApiError> {
        Ok(Unit::List(self.site.list(id, Some(library))?.id, ListSelection::Whole))
    }

    /// The list container and Microsoft item id of an API item id of `coll` (see [`SiteCtx::find_item`]).
    async fn item(&self, coll: Coll, api_id: &str) -> Result<(Uuid, String), ApiError> {
        let fits = |_: &SiteList, row: &ItemRow| match coll {
            Coll::Documents => !row.state.is_folder,
            Coll::Folders => row.state.is_folder,
            Coll::Items => true,
        };
        match self.site.find_item(None, api_id, fits).await? {
            Some((list, row)) => Ok((list.id, row.item_id)),
            None => Err(nf(coll.what(), api_id.trim())),
        }
    }

    /// Units for a set of item ids, grouped by list; every id is checked before anything is written.
    async fn items(&self, coll: Coll, ids: &[String]) -> Result<Vec<Unit>, ApiError> {
        let mut by_list: BTreeMap<Uuid, Vec<String>> = BTreeMap::new();
        for id in ids {
            let (c, item) = self.item(coll, id).await?;
            by_list.entry(c).or_default().push(item);
        }
        Ok(by_list.into_iter().map(|(c, items)| Unit::List(c, ListSelection::Items(items))).collect())
    }

    /// Version `version_id` of item `item_id`: a library document is written as that version; a list item's history
    /// is not kept, so its one version is `1`, the item itself; a folder is the folder.
    async fn version(&self, coll: Coll, item_id: String, version_id: &str) -> Result<Vec<Unit>, ApiError> {
        let units = self.items(coll, std::slice::from_ref(&item_id)).await?;
        let n: u32 = version_id
            .trim()
            .parse()
            .map_err(|_| ApiError::not_found(format!("Version {version_id} was not found.")))?;
        if let (Some(Unit::List(c, ListSelection::Items(items))), Coll::Documents | Coll::Items) = (units.first(), coll)
        {
            if self.site.lists.iter().any(|l| l.id == *c && l.is_library()) {
                return Ok(vec![Unit::List(*c, ListSelection::Version { item_id: items[0].clone(), version: n })]);
            }
            if n != 1 {
                return Err(ApiError::not_found(format!("Version {version_id} of item {item_id} was not found.")));
            }
        }
        Ok(units)
    }

    /// Restores `units` with the options of `body` read as `form`, signing in with its credentials; `statistics`
    /// makes the v6/v7 (and v2–v5) answer.
    async fn run<S>(
        self,
        units: Vec<Unit>,
        form: Form,
        o: &SharePointRestore,
        credentials: &Credentials,
        statistics: fn(&SpRestoreStats) -> S,
    ) -> Result<Json<RestoreAnswer<S>>, ApiError> {
        let opts = options(o, form, &self)?;
        Ok(Json(match execute(&self, credentials, units, opts).await? {
            Ran::Started(op) => RestoreAnswer::Started(op),
            Ran::Finished(stats) => RestoreAnswer::Finished(statistics(&stats)),
        }))
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------------------------

/// How the body's target is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `…/restore`: the original location (a `list` naming another list of the site redirects it there).
    Restore,
    /// `…/restoreTo`: `siteURL` and `list`.
    RestoreTo,
    /// v2–v5 `restoreTo` action: elsewhere only when the body says so.
    Action,
}

impl Form {
    /// The form of the route's verb (`restore`, `restoreTo`; list items spell them `Restore`, `RestoreTo`; `Action`).
    fn of(target: &SiteTarget) -> Form {
        match target.verb.as_str() {
            v if v.eq_ignore_ascii_case("restoreTo") => Form::RestoreTo,
            "Action" => Form::Action,
            _ => Form::Restore,
        }
    }
}

fn options(o: &SharePointRestore, form: Form, site: &SiteRestore) -> Result<SpRestoreOptions, ApiError> {
    let mut opts = SpRestoreOptions::original();
    opts.versions = match o.document_version {
        Some(DocumentVersion::All) => VersionMode::All,
        _ => VersionMode::Last,
    };
    let keep = o.document_action == Some(DocumentAction::Keep) || o.list_item_action == Some(DocumentAction::Keep);
    opts.action = match (keep, o.document_last_version_action) {
        (true, _) => SpAction::Keep,
        (false, Some(DocumentLastVersionAction::Merge)) => SpAction::Merge,
        _ => SpAction::Overwrite,
    };
    opts.changed_items = o.changed_items.unwrap_or(true);
    opts.deleted_items = o.deleted_items.unwrap_or(true);
    // Library documents and list items deleted before the point in time are restorable in a session that shows them.
    opts.show_deleted = site.site.session.show_deleted;
    opts.restore_permissions = o.restore_permissions.unwrap_or(false);
    opts.send_shared_links_notification = o.send_shared_links_notification.unwrap_or(false);
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let list = given(&o.list);
    // `alias` names a site next to the source: `…/sites/{alias}`.
    let site_url = given(&o.site_url).or_else(|| {
        given(&o.alias).map(|a| a.trim_matches('/').to_string()).filter(|a| !a.is_empty()).map(|alias| {
            match alias.contains("://") {
                true => alias,
                false => alias_url(&site.site.site.info.url, &alias),
            }
        })
    });
    opts.target = match form {
        Form::RestoreTo => {
            if site_url.is_none() && list.is_none() {
                return Err(ApiError::bad_request("Specify the target: 'siteURL' and/or 'list'."));
            }
            SpTarget::To { site_url, list }
        }
        Form::Restore | Form::Action if site_url.is_some() || list.is_some() => SpTarget::To { site_url, list },
        _ => SpTarget::Original,
    };
    Ok(opts)
}

/// `https://host/sites/a/b` + `x` → `https://host/sites/x`.
fn alias_url(site_url: &str, alias: &str) -> String {
    let base = site_url.trim_end_matches('/');
    match base.to_ascii_lowercase().rfind("/sites/") {
        Some(i) => format!("{}/sites/{alias}", &base[..i]),
        None => format!("{base}/sites/{alias}"),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------------------------

/// One piece of a restore request.
#[derive(Clone, Debug)]
enum Unit {
    Site { container: Uuid, subsites: bool },
    List(Uuid, ListSelection),
}

#[derive(Clone)]
struct Work {
    catalog: repo::catalog::Catalog,
    repo: repo::store::Repository,
    at: DateTime<Utc>,
    units: Vec<Unit>,
    opts: SpRestoreOptions,
}

impl Work {
    async fn run(
        &self,
        client: &m365::GraphClient,
        stop: &CancellationToken,
    ) -> Result<SpRestoreStats, SpRestoreError> {
        let cx = SpContext { catalog: &self.catalog, repo: &self.repo, client, stop: Some(stop) };
        let mut total = SpRestoreStats::default();
        for u in &self.units {
            if stop.is_cancelled() {
                break;
            }
            let s = match u {
                Unit::Site { container, subsites } => {
                    sp_restore::restore_site(cx, *container, self.at, *subsites, &self.opts).await?
                }
                Unit::List(c, sel) => sp_restore::restore_list(cx, *c, self.at, sel, &self.opts).await?,
            };
            total.add(s);
        }
        Ok(total)
    }
}

fn engine_error(e: SpRestoreError) -> ApiError {
    match e {
        SpRestoreError::UnknownContainer(id) => nf("site, list or library", &id.to_string()),
        SpRestoreError::UnknownItem(id) => nf("item", &id),
        SpRestoreError::UnknownVersion(id, v) => {
            ApiError::not_found(format!("Version {v} of document {id} was not found."))
        }
        SpRestoreError::Invalid(m) => ApiError::bad_request(m),
        SpRestoreError::Target(m) => ApiError::bad_request(format!("The restore target cannot be used: {m}")),
        SpRestoreError::Catalog(e) => e.into(),
    }
}

/// The item statistics plus one failed entry per list or site that could not be restored (events, v8 statistics).
fn flat(stats: SpRestoreStats) -> RestoreStats {
    let mut s = stats.items;
    for i in stats.issues {
        s.failed += 1;
        s.items.push(ItemOutcome {
            item_id: i.id.to_string(),
            path: i.title,
            status: ItemStatus::Failed,
            target_item_id: None,
            target_name: None,
            versions_written: 0,
            message: Some(i.message),
            warnings: Vec::new(),
        });
    }
    s
}

/// What [`execute`] did: started a v8 restore operation, or ran the restore.
enum Ran {
    Started(AsyncRestore),
    Finished(SpRestoreStats),
}

/// Runs `units` the era's way: v8 in the background as a restore operation session, earlier eras in the request.
async fn execute(
    site: &SiteRestore,
    credentials: &Credentials,
    units: Vec<Unit>,
    opts: SpRestoreOptions,
) -> Result<Ran, ApiError> {
    let Caller { state, user, version } = &site.caller;
    let repo = state.repo.clone().ok_or_else(|| ApiError::internal("This server has no backup repository."))?;
    let work = Work { catalog: state.catalog.clone(), repo, at: site.site.at, units, opts };
    let sign_in = restore_auth::sign_in(state, user, site.site.session.organization_id, credentials).await?;
    if RestoreRun::of(*version) == RestoreRun::Background {
        let op = restore_jobs::start_operation(state, user, &site.site.session).await?;
        restore_jobs::spawn_job(state, op.id, user, move |sink| async move {
            let client = tokio::select! {
                c = sign_in.complete() => c?,
                // Stopped while waiting for a device-code approval: nothing was done.
                _ = sink.stopped() => return Ok(RestoreStats::default()),
            };
            work.run(&client, sink.stop_token()).await.map(flat).map_err(|e| engine_error(e).message)
        })
        .await?;
        return Ok(Ran::Started(AsyncRestore { session_id: op.id }));
    }
    // A Stop of the exploring session (from another request, on any node) cuts this restore short.
    let watch = restore_stop::watch(state, site.site.session.id, Watch::Request);
    let client = tokio::select! {
        c = sign_in.complete() => c.map_err(ApiError::bad_request)?,
        _ = watch.token().cancelled() => return Err(crate::ctx::working::stopped_restore_error(&RestoreStats::default())),
    };
    let stats = work.run(&client, watch.token()).await.map_err(engine_error)?;
    let items = flat(stats.clone());
    restore_jobs::record_items(state, site.site.session.id, &items).await?;
    if watch.is_stopped() {
        return Err(crate::ctx::working::stopped_restore_error(&items));
    }
    Ok(Ran::Finished(stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_urls() {
        assert_eq!(alias_url("https://h/sites/a/b", "x"), "https://h/sites/x");
        assert_eq!(alias_url("https://h/_sp/c/sites/a/", "x"), "https://h/_sp/c/sites/x");
        assert_eq!(alias_url("https://h", "x"), "https://h/sites/x");
    }
}
