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

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use engine::restore::{ItemOutcome, ItemStatus, RestoreStats, VersionMode};
use engine::sp_restore::{
    restore_list, restore_site, ListSelection, SpAction, SpContext, SpRestoreError, SpRestoreOptions, SpRestoreStats,
    SpTarget,
};
use repo::catalog::ListInfo;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;
use uuid::Uuid;

use crate::ctx::auth::CurrentUser;
use crate::ctx::restore_auth;
use crate::edge::error::ApiError;
use crate::edge::lenient::{LenientJson, Obj};
use crate::edge::version::ApiVersion;
use crate::resources::route_paths::{SiteItemPath, SiteListPath, SitePath, SiteVersionPath};
use crate::resources::scope::SpScope;
use crate::state::AppState;
use crate::store::restore_jobs;
use crate::store::restore_stop::{self, Watch};
use crate::store::sessions::RestoreSession;

const SP: &str = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}";

pub fn router() -> Router<AppState> {
    let mut r = Router::new()
        .route(&format!("{SP}/restore"), post(site_restore::<false>))
        .route(&format!("{SP}/restoreTo"), post(site_restore::<true>))
        .route(&format!("{SP}/Action"), post(site_action))
        .route(&format!("{SP}/Lists/{{listId}}/Action"), post(list_action))
        .route(&format!("{SP}/Items/Action"), post(items_action))
        .route(&format!("{SP}/Items/{{itemId}}/Action"), post(item_action));
    for (coll, param) in [("Lists", "listId"), ("Libraries", "libraryId")] {
        r = r
            .route(&format!("{SP}/{coll}/{{{param}}}/restore"), post(list_restore::<false>))
            .route(&format!("{SP}/{coll}/{{{param}}}/restoreTo"), post(list_restore::<true>));
    }
    for (coll, param) in [("Documents", "documentId"), ("Folders", "folderId"), ("Items", "itemId")] {
        r = r
            .route(&format!("{SP}/{coll}/restore"), post(bulk_restore::<false>))
            .route(&format!("{SP}/{coll}/restoreTo"), post(bulk_restore::<true>))
            .route(&format!("{SP}/{coll}/{{{param}}}/restore"), post(one_restore::<false>))
            .route(&format!("{SP}/{coll}/{{{param}}}/restoreTo"), post(one_restore::<true>))
            .route(&format!("{SP}/{coll}/{{{param}}}/Versions/{{versionId}}/restore"), post(version_restore::<false>))
            .route(&format!("{SP}/{coll}/{{{param}}}/Versions/{{versionId}}/restoreTo"), post(version_restore::<true>));
    }
    r
}

#[derive(OpenApi)]
#[openapi()]
struct SpRestoreDoc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    SpRestoreDoc::openapi()
}

// ---------------------------------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------------------------------

/// The site of a request as the session shows it.
struct SiteCx {
    session: RestoreSession,
    at: DateTime<Utc>,
    /// Catalog id.
    id: Uuid,
    /// Web URL.
    url: String,
    /// Lists and libraries: (catalog id, info).
    lists: Vec<(Uuid, ListInfo)>,
}

use crate::ctx::site::not_found as nf;

async fn site_cx(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    sid: &str,
    site_id: &str,
) -> Result<SiteCx, ApiError> {
    let site = crate::ctx::site::load(state, user, version, sid, site_id).await?;
    let lists = site.lists.into_iter().map(|l| (l.id, l.info)).collect();
    Ok(SiteCx { session: site.session, at: site.at, id: site.site.id, url: site.site.info.url, lists })
}

/// What kind of content an item path names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Coll {
    Documents,
    Folders,
    Items,
}

impl Coll {
    fn of(path: &str) -> Coll {
        let lower = path.to_ascii_lowercase();
        if lower.contains("/documents") {
            Coll::Documents
        } else if lower.contains("/folders") {
            Coll::Folders
        } else {
            Coll::Items
        }
    }

    fn field(self) -> &'static str {
        match self {
            Coll::Documents => "documents",
            Coll::Folders => "folders",
            Coll::Items => "items",
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

impl SiteCx {
    /// The list or library `id` (`library`: which of the two the path names).
    fn list(&self, id: &str, library: Option<bool>) -> Result<(Uuid, ListInfo), ApiError> {
        let what = match library {
            Some(true) => "library",
            _ => "list",
        };
        let uuid = Uuid::parse_str(id.trim()).map_err(|_| nf(what, id))?;
        self.lists
            .iter()
            .find(|(c, l)| *c == uuid && library.is_none_or(|lib| lib == l.is_document_library))
            .cloned()
            .ok_or_else(|| nf(what, id))
    }

    /// The list container and Microsoft item id of an API item id (see the module docs).
    async fn item(&self, state: &AppState, coll: Coll, api_id: &str) -> Result<(Uuid, String), ApiError> {
        let api_id = api_id.trim();
        let not_found = || nf(coll.what(), api_id);
        let fits = |row: &repo::catalog::ItemRow| {
            (!row.deleted || self.session.show_deleted)
                && match coll {
                    Coll::Documents => !row.state.is_folder,
                    Coll::Folders => row.state.is_folder,
                    Coll::Items => true,
                }
        };
        if api_id.len() > 32 && api_id.is_char_boundary(32) {
            if let Ok(uuid) = Uuid::try_parse(&api_id[..32]) {
                if let Some((c, _)) = self.lists.iter().find(|(c, l)| *c == uuid && !l.is_document_library) {
                    let row = state.catalog.item_at(*c, &api_id[32..], self.at).await?;
                    if row.as_ref().is_some_and(fits) {
                        return Ok((*c, api_id[32..].to_string()));
                    }
                }
            }
        }
        if api_id.is_empty() {
            return Err(not_found());
        }
        let libraries_first = self.lists.iter().filter(|(_, l)| l.is_document_library);
        for (c, _) in libraries_first.chain(self.lists.iter().filter(|(_, l)| !l.is_document_library)) {
            if let Some(row) = state.catalog.item_at(*c, api_id, self.at).await? {
                if fits(&row) {
                    return Ok((*c, api_id.to_string()));
                }
            }
        }
        Err(not_found())
    }

    /// Units for a set of item ids, grouped by list.
    async fn items(&self, state: &AppState, coll: Coll, ids: &[String]) -> Result<Vec<Unit>, ApiError> {
        let mut by_list: BTreeMap<Uuid, Vec<String>> = BTreeMap::new();
        for id in ids {
            let (c, item) = self.item(state, coll, id).await?;
            by_list.entry(c).or_default().push(item);
        }
        Ok(by_list.into_iter().map(|(c, items)| Unit::List(c, ListSelection::Items(items))).collect())
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

fn options(body: &Obj, form: Form, site: &SiteCx) -> Result<SpRestoreOptions, ApiError> {
    let mut o = SpRestoreOptions::original();
    o.versions = match body.enum_of("documentVersion", &["Last", "All"])? {
        Some("All") => VersionMode::All,
        _ => VersionMode::Last,
    };
    let keep = body.enum_of("documentAction", &["Overwrite", "Keep"])? == Some("Keep")
        || body.enum_of("listItemAction", &["Overwrite", "Keep"])? == Some("Keep");
    o.action = match (keep, body.enum_of("documentLastVersionAction", &["Overwrite", "Merge"])?) {
        (true, _) => SpAction::Keep,
        (false, Some("Merge")) => SpAction::Merge,
        _ => SpAction::Overwrite,
    };
    o.changed_items = body.bool("changedItems")?.unwrap_or(true);
    o.deleted_items = body.bool("deletedItems")?.unwrap_or(true);
    // Library documents and list items deleted before the point in time are restorable in a session that shows them.
    o.show_deleted = site.session.show_deleted;
    o.restore_permissions = body.bool("restorePermissions")?.unwrap_or(false);
    o.send_shared_links_notification = body.bool("sendSharedLinksNotification")?.unwrap_or(false);
    let list = body.str("list")?.map(|l| l.trim().to_string()).filter(|l| !l.is_empty());
    let mut site_url = body.str("siteURL")?.map(|u| u.trim().to_string()).filter(|u| !u.is_empty());
    if site_url.is_none() {
        // `alias` names a site next to the source: `…/sites/{alias}`.
        if let Some(alias) =
            body.str("alias")?.map(|a| a.trim().trim_matches('/').to_string()).filter(|a| !a.is_empty())
        {
            site_url = Some(match alias.contains("://") {
                true => alias,
                false => alias_url(&site.url, &alias),
            });
        }
    }
    o.target = match form {
        Form::RestoreTo => {
            if site_url.is_none() && list.is_none() {
                return Err(ApiError::bad_request("Specify the target: 'siteURL' and/or 'list'."));
            }
            SpTarget::To { site_url, list }
        }
        Form::Restore | Form::Action if site_url.is_some() || list.is_some() => SpTarget::To { site_url, list },
        _ => SpTarget::Original,
    };
    Ok(o)
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

/// The shape of the v6/v7 answer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    Items,
    Lists,
    Webs,
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
                    restore_site(cx, *container, self.at, *subsites, &self.opts).await?
                }
                Unit::List(c, sel) => restore_list(cx, *c, self.at, sel, &self.opts).await?,
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

fn statistics(stats: &SpRestoreStats, answer: Answer) -> Value {
    let s = &stats.items;
    let mut issues: Vec<Value> = s
        .items
        .iter()
        .filter(|i| i.status == ItemStatus::Failed || !i.warnings.is_empty())
        .map(|i| {
            let title = i.path.rsplit('/').next().unwrap_or(&i.path);
            json!({"path": i.path, "title": title, "type": "Item", "warnings": i.warnings, "error": i.message})
        })
        .collect();
    issues.extend(stats.issues.iter().map(
        |i| json!({"id": i.id, "path": i.title, "title": i.title, "type": i.kind, "warnings": [], "error": i.message}),
    ));
    let mut v = json!({
        "totalItemsCount": s.items.len(),
        "restoredItemsCount": s.restored,
        "failedItemsCount": s.failed,
        "skippedItemsByErrorCount": 0,
        "skippedItemsByNoChangesCount": s.skipped,
        "failedRestrictionsCount": s.permissions_failed,
        "restoreIssues": issues,
    });
    if matches!(answer, Answer::Lists | Answer::Webs) {
        v["restoredListsCount"] = json!(stats.lists_restored);
        v["failedListsCount"] = json!(stats.lists_failed);
    }
    if answer == Answer::Webs {
        v["restoredWebsCount"] = json!(stats.webs_restored);
        v["failedWebsCount"] = json!(stats.webs_failed);
    }
    v
}

/// Runs `units` the era's way: v8 in the background (`{sessionId}`), earlier eras in the request (statistics).
#[allow(clippy::too_many_arguments)]
async fn execute(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    site: &SiteCx,
    body: &Obj,
    units: Vec<Unit>,
    opts: SpRestoreOptions,
    answer: Answer,
) -> Result<Response, ApiError> {
    let repo = state.repo.clone().ok_or_else(|| ApiError::internal("This server has no backup repository."))?;
    let work = Work { catalog: state.catalog.clone(), repo, at: site.at, units, opts };
    let sign_in = restore_auth::sign_in(state, user, site.session.organization_id, body).await?;
    if version.is_v8() {
        let op = restore_jobs::start_operation(state, user, &site.session).await?;
        restore_jobs::spawn_job(state, op.id, user, move |sink| async move {
            let client = tokio::select! {
                c = sign_in.complete() => c?,
                // Stopped while waiting for a device-code approval: nothing was done.
                _ = sink.stopped() => return Ok(RestoreStats::default()),
            };
            work.run(&client, sink.stop_token()).await.map(flat).map_err(|e| engine_error(e).message)
        })
        .await?;
        return Ok(Json(json!({ "sessionId": op.id })).into_response());
    }
    // A Stop of the exploring session (from another request, on any node) cuts this restore short.
    let watch = restore_stop::watch(state, site.session.id, Watch::Request);
    let client = tokio::select! {
        c = sign_in.complete() => c.map_err(ApiError::bad_request)?,
        _ = watch.token().cancelled() => return Err(crate::ctx::working::stopped_restore_error(version, &RestoreStats::default())),
    };
    let stats = work.run(&client, watch.token()).await.map_err(engine_error)?;
    let items = flat(stats.clone());
    restore_jobs::record_items(state, site.session.id, &items).await?;
    if watch.is_stopped() {
        return Err(crate::ctx::working::stopped_restore_error(version, &items));
    }
    Ok(Json(statistics(&stats, answer)).into_response())
}

fn require_verb_era(version: ApiVersion) -> Result<(), ApiError> {
    if version.number() >= 6 {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "{} restores SharePoint through the …/Action endpoints ({{\"restoreTo\": {{…}}}}).",
            version.segment()
        )))
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Handlers (v6–v8)
// ---------------------------------------------------------------------------------------------------------------

async fn site_restore_common(
    state: AppState,
    user: CurrentUser,
    version: ApiVersion,
    p: SitePath,
    body: Obj,
    form: Form,
) -> Result<Response, ApiError> {
    let site = site_cx(&state, &user, version, &p.id, &p.site_id).await?;
    let opts = options(&body, form, &site)?;
    let subsites = body.bool("restoreSubsites")?.unwrap_or(true);
    let units = vec![Unit::Site { container: site.id, subsites }];
    execute(&state, &user, version, &site, &body, units, opts, Answer::Webs).await
}

/// The verb routes come in pairs, `…/restore` and `…/restoreTo`, which differ only in the form of the body: each
/// handler below serves both, `TO` telling which (`post(site_restore::<false>)` / `post(site_restore::<true>)`).
const fn verb_form(to: bool) -> Form {
    if to {
        Form::RestoreTo
    } else {
        Form::Restore
    }
}

async fn site_restore<const TO: bool>(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<SitePath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    require_verb_era(version)?;
    site_restore_common(state, user, version, p, body, verb_form(TO)).await
}

async fn list_common(
    state: AppState,
    user: CurrentUser,
    version: ApiVersion,
    uri: &str,
    p: SiteListPath,
    body: Obj,
    form: Form,
) -> Result<Response, ApiError> {
    let site = site_cx(&state, &user, version, &p.id, &p.site_id).await?;
    let library = uri.to_ascii_lowercase().contains("/libraries/");
    let (c, _) = site.list(&p.list_id, Some(library))?;
    let opts = options(&body, form, &site)?;
    let units = vec![Unit::List(c, ListSelection::Whole)];
    execute(&state, &user, version, &site, &body, units, opts, Answer::Lists).await
}

async fn list_restore<const TO: bool>(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    uri: axum::http::Uri,
    Path(p): Path<SiteListPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    require_verb_era(version)?;
    list_common(state, user, version, uri.path(), p, body, verb_form(TO)).await
}

#[allow(clippy::too_many_arguments)]
async fn items_common(
    state: AppState,
    user: CurrentUser,
    version: ApiVersion,
    coll: Coll,
    sid: &str,
    site_id: &str,
    ids: Option<Vec<String>>,
    version_id: Option<&str>,
    body: Obj,
    form: Form,
) -> Result<Response, ApiError> {
    let site = site_cx(&state, &user, version, sid, site_id).await?;
    let ids = match ids {
        Some(ids) => ids,
        None => body.id_list(coll.field())?.iter().map(|id| id.trim().to_string()).collect(),
    };
    let mut units = site.items(&state, coll, &ids).await?;
    if let Some(v) = version_id {
        let n: u32 = v.trim().parse().map_err(|_| ApiError::not_found(format!("Version {v} was not found.")))?;
        if let (Some(Unit::List(c, ListSelection::Items(items))), Coll::Documents | Coll::Items) = (units.first(), coll)
        {
            let lib = site.lists.iter().any(|(id, l)| id == c && l.is_document_library);
            if lib {
                units = vec![Unit::List(*c, ListSelection::Version { item_id: items[0].clone(), version: n })];
            } else if n != 1 {
                // A list item's history is not kept: its one version is the item itself.
                return Err(ApiError::not_found(format!("Version {v} of item {} was not found.", ids[0])));
            }
        }
    }
    let opts = options(&body, form, &site)?;
    execute(&state, &user, version, &site, &body, units, opts, Answer::Items).await
}

async fn bulk_restore<const TO: bool>(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    uri: axum::http::Uri,
    Path(p): Path<SitePath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    require_verb_era(version)?;
    let coll = Coll::of(uri.path());
    items_common(state, user, version, coll, &p.id, &p.site_id, None, None, body, verb_form(TO)).await
}

async fn one_restore<const TO: bool>(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    uri: axum::http::Uri,
    Path(p): Path<SiteItemPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    require_verb_era(version)?;
    let coll = Coll::of(uri.path());
    let ids = Some(vec![p.item_id]);
    items_common(state, user, version, coll, &p.id, &p.site_id, ids, None, body, verb_form(TO)).await
}

async fn version_restore<const TO: bool>(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    uri: axum::http::Uri,
    Path(p): Path<SiteVersionPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    require_verb_era(version)?;
    let coll = Coll::of(uri.path());
    let ids = Some(vec![p.item_id]);
    items_common(state, user, version, coll, &p.id, &p.site_id, ids, Some(&p.version_id), body, verb_form(TO)).await
}

// ---------------------------------------------------------------------------------------------------------------
// v2–v5 `…/Action`
// ---------------------------------------------------------------------------------------------------------------

/// The `restoreTo` action of the v2–v5 dispatcher (`opts` = the content of the `restoreTo` property). Scopes of
/// [`crate::resources::scope`]: documents, folders, a library; attachments cannot be restored on their own (400).
pub async fn sharepoint_action(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    sid: &str,
    site_id: &str,
    scope: &SpScope,
    opts: &Obj,
) -> Result<Response, ApiError> {
    if !version.is_action_era() {
        return Err(ApiError::not_found(format!("{} has no …/Action endpoints.", version.segment())));
    }
    let (coll, ids) = match scope {
        SpScope::Documents => (Coll::Documents, None),
        SpScope::Document(id) => (Coll::Documents, Some(vec![id.clone()])),
        SpScope::Folders => (Coll::Folders, None),
        SpScope::Folder(id) => (Coll::Folders, Some(vec![id.clone()])),
        SpScope::Library(id) => {
            let p = SiteListPath { id: sid.into(), site_id: site_id.into(), list_id: id.clone() };
            return list_common(state.clone(), user.clone(), version, "/libraries/", p, opts.clone(), Form::Action)
                .await;
        }
        SpScope::Attachments(_) | SpScope::Attachment(..) => {
            return Err(ApiError::bad_request(
                "Attachments are restored with their list item: use …/Items/{itemId}/Action with 'restoreTo'.",
            ))
        }
    };
    items_common(state.clone(), user.clone(), version, coll, sid, site_id, ids, None, opts.clone(), Form::Action).await
}

/// The `restoreTo` property of a v2–v5 body.
fn restore_to_body(version: ApiVersion, body: &Obj) -> Result<Obj, ApiError> {
    if !version.is_action_era() {
        return Err(ApiError::not_found(format!("{} has no …/Action endpoints.", version.segment())));
    }
    match body.action(&["restoreTo"])? {
        ("restoreTo", o) => Ok(o),
        (other, _) => Err(ApiError::bad_request(format!("action '{other}' is not supported here"))),
    }
}

async fn site_action(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<SitePath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    let o = restore_to_body(version, &body)?;
    site_restore_common(state, user, version, p, o, Form::Action).await
}

async fn list_action(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<SiteListPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    let o = restore_to_body(version, &body)?;
    list_common(state, user, version, "/lists/", p, o, Form::Action).await
}

async fn items_action(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<SitePath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    let o = restore_to_body(version, &body)?;
    items_common(state, user, version, Coll::Items, &p.id, &p.site_id, None, None, o, Form::Action).await
}

async fn item_action(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<SiteItemPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    let o = restore_to_body(version, &body)?;
    let ids = Some(vec![p.item_id]);
    items_common(state, user, version, Coll::Items, &p.id, &p.site_id, ids, None, o, Form::Action).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::paths::canonical_route;

    #[test]
    fn routes_are_canonical() {
        for rest in [
            "/restore",
            "/restoreTo",
            "/Action",
            "/Lists/{listId}/restore",
            "/Libraries/{libraryId}/restoreTo",
            "/Documents/restore",
            "/Documents/{documentId}/Versions/{versionId}/restoreTo",
            "/Folders/{folderId}/restore",
            "/Items/{itemId}/restore",
            "/Items/{itemId}/restoreTo",
            "/Items/Action",
        ] {
            let p = format!("{SP}{rest}");
            assert_eq!(canonical_route(&p), p);
        }
    }

    #[test]
    fn alias_urls() {
        assert_eq!(alias_url("https://h/sites/a/b", "x"), "https://h/sites/x");
        assert_eq!(alias_url("https://h/_sp/c/sites/a/", "x"), "https://h/_sp/c/sites/x");
        assert_eq!(alias_url("https://h", "x"), "https://h/sites/x");
    }
}
