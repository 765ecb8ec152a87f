//! SharePoint browsing inside a restore session of type `Vesp` (veeam-api-notes §9.1), every era.
//!
//! All paths are under `/vN/RestoreSessions/{id}/Organization/Sites`:
//!
//! | path | answer |
//! |---|---|
//! | `` (`parentId`: site id → its subsites; `root`/`null` → top-level sites; omitted → every site) | page of sites |
//! | `/{siteId}` | site `{id, name, url, _links{self, sites, libraries, lists[, parent]}}` |
//! | `/{siteId}/Lists[/{listId}]`, `/{siteId}/Libraries[/{libraryId}]` | lists (generic lists) / document libraries |
//! | `/{siteId}/Folders[/{folderId}]` (`parentId`: list, library or folder id; `root`/`null`; omitted = all) | folders |
//! | `/{siteId}/Documents[/{documentId}]` (`parentId`: folder or library id; `root`/`null`; omitted = all; v7+ `includeFolders`) | library documents (v7+: `RESTItemComposed`) |
//! | `/{siteId}/Items[/{itemId}]` (`parentId`: list or folder id; `root`/`null`; omitted = all; v7+ `includeFolders`) | generic list items |
//! | `/{siteId}/{Documents,Folders,Items}/{id}/Versions[/{versionId}]` | v6+: previous versions / one version |
//! | `/{siteId}/Items/{itemId}/Attachments[/{attachmentId}]` | list item attachments |
//!
//! Catalog mapping: sites are `Site` containers (`parent_site_id` links subsites), lists and libraries are `List`
//! containers whose parent reference is the site's Graph id (`is_document_library` tells them apart); a library's
//! content is drive items (documents and folders), a generic list's content is list items with `fields` and
//! attachments. Everything is shown as of the session's `browse_at`, deleted objects only with `showDeleted`
//! (marked `"isDeleted": true`, see [`crate::resources::browse_util`]), previous versions only with `showAllVersions`.
//!
//! Ids (shared conventions of the browse modules): site, list and library ids are the catalog container UUIDs;
//! document and folder ids of libraries are the Microsoft drive item ids. Generic list item ids are only unique
//! within their list (`"1"`, `"2"`, …), while the vendor's item paths sit below the *site*, so an item (or folder)
//! of a generic list is addressed as `<list UUID, 32 hex digits><item id>` — the vendor's ids are concatenated GUIDs
//! too. Attachment ids are the lower-case hex of the UTF-8 file name. `versionId` is the 1-based ordinal of a version
//! in the item's history (oldest first).

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use repo::catalog::{
    ContainerInfo, ContainerKind, ContainerQuery, ContainerRow, ItemKind, ItemQuery, ItemRow, ListInfo, SiteInfo,
};
use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::ctx::auth::CurrentUser;
use crate::edge::error::ApiError;
use crate::edge::paging::{json_response, Hrefs, PageContext, Paging};
use crate::edge::query::LenientQuery;
use crate::edge::version::ApiVersion;
use crate::resources::browse_util::{
    all_children, inherited_permissions, item_times, mark_deleted, numbered_versions, page_of, walk_tree, who, window,
    NumberedVersion, ParentSel, FOLDER_VERSION_ID, FOLDER_VERSION_LABEL,
};
use crate::state::AppState;
use crate::store::sessions::{RestoreSession, SessionKind};

const SITES: &str = "/{version}/RestoreSessions/{id}/Organization/Sites";

/// The registered route templates (canonical spelling), in the order of [`router`].
pub const ROUTES: &[&str] = &[
    SITES,
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}",
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Lists",
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Lists/{listId}",
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Libraries",
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Libraries/{libraryId}",
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Folders",
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Folders/{folderId}",
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Folders/{folderId}/Versions",
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Folders/{folderId}/Versions/{versionId}",
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Documents",
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Documents/{documentId}",
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Documents/{documentId}/Versions",
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Documents/{documentId}/Versions/{versionId}",
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Items",
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Items/{itemId}",
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Items/{itemId}/Versions",
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Items/{itemId}/Versions/{versionId}",
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Items/{itemId}/Attachments",
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Items/{itemId}/Attachments/{attachmentId}",
];

/// Authenticated routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(ROUTES[0], get(list_sites))
        .route(ROUTES[1], get(get_site))
        .route(ROUTES[2], get(list_lists))
        .route(ROUTES[3], get(get_list))
        .route(ROUTES[4], get(list_libraries))
        .route(ROUTES[5], get(get_library))
        .route(ROUTES[6], get(list_folders))
        .route(ROUTES[7], get(get_folder))
        .route(ROUTES[8], get(folder_versions))
        .route(ROUTES[9], get(folder_version))
        .route(ROUTES[10], get(list_documents))
        .route(ROUTES[11], get(get_document))
        .route(ROUTES[12], get(document_versions))
        .route(ROUTES[13], get(document_version))
        .route(ROUTES[14], get(list_items))
        .route(ROUTES[15], get(get_item))
        .route(ROUTES[16], get(item_versions))
        .route(ROUTES[17], get(item_version))
        .route(ROUTES[18], get(list_attachments))
        .route(ROUTES[19], get(get_attachment))
}

// ---------------------------------------------------------------------------------------------------------------
// Request context
// ---------------------------------------------------------------------------------------------------------------

/// Everything a handler needs: the caller's working `Vesp` session, the era, href builders and the parameters.
pub(crate) struct Req {
    pub(crate) state: AppState,
    pub(crate) version: ApiVersion,
    hrefs: Hrefs,
    page: PageContext,
    pub(crate) query: LenientQuery,
    params: HashMap<String, String>,
    pub(crate) session: RestoreSession,
}

impl FromRequestParts<AppState> for Req {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let version = ApiVersion::from_request_parts(parts, state).await?;
        let hrefs = Hrefs::from_request_parts(parts, state).await?;
        let page = PageContext::from_request_parts(parts, state).await?;
        let query = LenientQuery::from_request_parts(parts, state).await?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("The resource was not found."))?;
        let sid = params.get("id").map(String::as_str).unwrap_or("");
        let session = crate::ctx::working::session(state, &user, sid, version).await?;
        if session.kind != SessionKind::Vesp {
            return Err(ApiError::not_found(format!(
                "The restore session is a {} session; SharePoint sites are browsed in SharePoint (Vesp) sessions.",
                session.kind.product()
            )));
        }
        Ok(Req { state: state.clone(), version, hrefs, page, query, params, session })
    }
}

impl Req {
    pub(crate) fn param(&self, name: &str) -> &str {
        self.params.get(name).map(String::as_str).unwrap_or("")
    }

    /// The browse instant; `None` for an empty session.
    pub(crate) fn at(&self) -> Option<DateTime<Utc>> {
        self.session.browse_at
    }

    pub(crate) fn show_deleted(&self) -> bool {
        self.session.show_deleted
    }

    pub(crate) fn paging(&self) -> Result<Paging, ApiError> {
        Paging::from_query(&self.query)
    }

    /// `parentId` (any case): omitted/empty = all, `root`/`null` = top level, else an id.
    fn parent(&self) -> ParentSel {
        ParentSel::from_query(&self.query)
    }

    /// v7+ `includeFolders`.
    fn include_folders(&self) -> Result<bool, ApiError> {
        if self.version.number() < 7 {
            return Ok(false);
        }
        Ok(self.query.get_bool("includeFolders")?.unwrap_or(false))
    }

    /// The href of `rel` (relative to the Sites collection of this session).
    fn href(&self, rel: &str) -> String {
        let sep = if rel.is_empty() || rel.starts_with('?') { "" } else { "/" };
        self.hrefs.href(&format!("RestoreSessions/{}/Organization/Sites{sep}{rel}", self.session.id))
    }

    /// A page of JSON values with the era's envelope.
    pub(crate) fn page_response(&self, paging: Paging, results: Vec<Value>, total: u64) -> Response {
        page_of(&self.page, paging, results, total, self.version).into_response()
    }

    fn require_versions_era(&self) -> Result<(), ApiError> {
        if self.version.is_action_era() {
            return Err(ApiError::not_found("Versions are available from API v6 on."));
        }
        Ok(())
    }
}

fn ok(v: Value) -> Response {
    json_response(axum::http::StatusCode::OK, &v)
}

pub(crate) fn not_found(what: &str) -> ApiError {
    ApiError::not_found(format!("{what} not found."))
}

// ---------------------------------------------------------------------------------------------------------------
// Catalog lookups
// ---------------------------------------------------------------------------------------------------------------

/// Large enough for "every container of one kind" listings.
pub(crate) const ALL: i64 = i64::MAX / 4;

/// A site as the session shows it.
#[derive(Debug, Clone)]
pub(crate) struct SiteRef {
    pub(crate) id: Uuid,
    pub(crate) info: SiteInfo,
    deleted: bool,
}

/// A list or library as the session shows it.
#[derive(Debug, Clone)]
pub(crate) struct ListRef {
    pub(crate) id: Uuid,
    pub(crate) info: ListInfo,
    deleted: bool,
    valid_from: DateTime<Utc>,
}

impl ListRef {
    pub(crate) fn is_library(&self) -> bool {
        self.info.is_document_library
    }

    /// The API id of an item of this list (see the module docs).
    fn item_api_id(&self, item_id: &str) -> String {
        if self.is_library() {
            item_id.to_string()
        } else {
            format!("{}{item_id}", self.id.simple())
        }
    }

    /// The href segment of this container: `Libraries/{id}` or `Lists/{id}`.
    fn rel(&self) -> String {
        if self.is_library() {
            format!("Libraries/{}", self.id)
        } else {
            format!("Lists/{}", self.id)
        }
    }
}

pub(crate) fn site_ref(row: ContainerRow) -> Option<SiteRef> {
    match row.info {
        ContainerInfo::Site(info) => Some(SiteRef { id: row.id, info, deleted: row.deleted }),
        _ => None,
    }
}

pub(crate) fn list_ref(row: ContainerRow) -> Option<ListRef> {
    match row.info {
        ContainerInfo::List(info) => {
            Some(ListRef { id: row.id, info, deleted: row.deleted, valid_from: row.valid_from })
        }
        _ => None,
    }
}

/// A container of the session's organization visible at the browse instant.
async fn visible_container(r: &Req, id: &str) -> Result<Option<ContainerRow>, ApiError> {
    let (Some(at), Ok(uuid)) = (r.at(), Uuid::parse_str(id.trim())) else { return Ok(None) };
    let row = r.state.catalog.container_at(uuid, at).await?;
    Ok(row.filter(|c| c.organization_id == r.session.organization_id && (!c.deleted || r.show_deleted())))
}

/// The site `id` (404 unless it is a site visible in the session).
async fn find_site(r: &Req, id: &str) -> Result<SiteRef, ApiError> {
    visible_container(r, id).await?.and_then(site_ref).ok_or_else(|| not_found("SharePoint site"))
}

/// The site of the request path.
pub(crate) async fn path_site(r: &Req) -> Result<SiteRef, ApiError> {
    find_site(r, r.param("siteId")).await
}

/// Every list and library of `site`, by title.
pub(crate) async fn lists_of(r: &Req, site: &SiteRef) -> Result<Vec<ListRef>, ApiError> {
    let Some(at) = r.at() else { return Ok(Vec::new()) };
    let q = ContainerQuery::new(r.session.organization_id, at)
        .kind(ContainerKind::List)
        .parent_ref(site.info.site_id.clone())
        .show_deleted(r.show_deleted())
        .page(0, ALL);
    Ok(r.state.catalog.containers_at(&q).await?.rows.into_iter().filter_map(list_ref).collect())
}

/// The list or library `id` of `site`; `library` selects which of the two the endpoint serves.
pub(crate) async fn find_list(r: &Req, site: &SiteRef, id: &str, library: Option<bool>) -> Result<ListRef, ApiError> {
    let what = match library {
        Some(true) => "SharePoint library",
        Some(false) => "SharePoint list",
        None => "SharePoint list or library",
    };
    let list = visible_container(r, id).await?.and_then(list_ref).ok_or_else(|| not_found(what))?;
    if list.info.site_id != site.info.site_id || library.is_some_and(|l| l != list.is_library()) {
        return Err(not_found(what));
    }
    Ok(list)
}

/// The catalog id of a site by its Graph id (for `parent` links).
async fn site_uuid(r: &Req, graph_id: &str) -> Result<Option<Uuid>, ApiError> {
    Ok(r.state.catalog.container_id(r.session.organization_id, ContainerKind::Site, graph_id).await?)
}

/// An item of one of `lists` by its API id, visible at the browse instant.
pub(crate) async fn resolve_item(
    r: &Req,
    lists: &[ListRef],
    api_id: &str,
) -> Result<Option<(ListRef, ItemRow)>, ApiError> {
    let Some(at) = r.at() else { return Ok(None) };
    let api_id = api_id.trim();
    if api_id.is_empty() {
        return Ok(None);
    }
    let visible = |row: Option<ItemRow>| row.filter(|i| !i.deleted || r.show_deleted());
    // `<list UUID><item id>` for generic lists.
    if api_id.len() > 32 && api_id.is_char_boundary(32) {
        if let Ok(uuid) = Uuid::try_parse(&api_id[..32]) {
            if let Some(list) = lists.iter().find(|l| l.id == uuid && !l.is_library()) {
                if let Some(row) = visible(r.state.catalog.item_at(list.id, &api_id[32..], at).await?) {
                    return Ok(Some((list.clone(), row)));
                }
            }
        }
    }
    // A drive item id of a library (lenient: also a bare list item id).
    for list in lists.iter().filter(|l| l.is_library()).chain(lists.iter().filter(|l| !l.is_library())) {
        if let Some(row) = visible(r.state.catalog.item_at(list.id, api_id, at).await?) {
            return Ok(Some((list.clone(), row)));
        }
    }
    Ok(None)
}

// ---------------------------------------------------------------------------------------------------------------
// Representations
// ---------------------------------------------------------------------------------------------------------------

/// `https://host/sites/x/Lists/y` → `/sites/x/Lists/y`.
fn server_relative(url: &str) -> String {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map(|i| rest[i..].to_string()).unwrap_or_else(|| "/".to_string()),
        None => url.to_string(),
    }
}

/// The web URL of a list or library: SharePoint's conventions (`{site}/Lists/{NameWithoutSpaces}` for lists,
/// `{site}/{Title}` for libraries, `Shared Documents` for the default library).
fn list_url(site_url: &str, list: &ListInfo) -> String {
    let site = site_url.trim_end_matches('/');
    if list.is_document_library {
        let name = if list.title == "Documents" { "Shared Documents" } else { list.title.as_str() };
        format!("{site}/{}", name.replace(' ', "%20"))
    } else {
        format!("{site}/Lists/{}", list.title.replace(' ', ""))
    }
}

/// The list URL an item belongs to, from its `webUrl` (`…/Lists/Issues/DispForm.aspx?ID=1`) when it has one.
fn item_list_url(row: &ItemRow, fallback: impl FnOnce() -> String) -> String {
    row.state
        .web_url
        .as_deref()
        .and_then(|u| {
            let lower = u.to_ascii_lowercase();
            lower.find("/dispform.aspx").map(|i| u[..i].to_string())
        })
        .unwrap_or_else(fallback)
}

fn site_json(r: &Req, site: &SiteRef, parent: Option<Uuid>) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(site.id.to_string()));
    o.insert("name".into(), json!(site.info.title));
    o.insert("url".into(), json!(site.info.url));
    mark_deleted(&mut o, site.deleted);
    let mut links = Map::new();
    links.insert("self".into(), json!({"href": r.href(&site.id.to_string())}));
    links.insert("sites".into(), json!({"href": r.href(&format!("?parentId={}", site.id))}));
    links.insert("libraries".into(), json!({"href": r.href(&format!("{}/Libraries", site.id))}));
    links.insert("lists".into(), json!({"href": r.href(&format!("{}/Lists", site.id))}));
    if let Some(p) = parent {
        links.insert("parent".into(), json!({"href": r.href(&p.to_string())}));
    }
    o.insert("_links".into(), Value::Object(links));
    Value::Object(o)
}

async fn site_out(r: &Req, site: &SiteRef) -> Result<Value, ApiError> {
    let parent = match &site.info.parent_site_id {
        Some(p) => site_uuid(r, p).await?,
        None => None,
    };
    Ok(site_json(r, site, parent))
}

fn list_json(r: &Req, site: &SiteRef, list: &ListRef) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), json!(list.id.to_string()));
    o.insert("name".into(), json!(list.info.title));
    o.insert("url".into(), json!(list_url(&site.info.url, &list.info)));
    o.insert("description".into(), json!(""));
    o.insert("creationTime".into(), json!(crate::resources::browse_util::item_time(list.valid_from)));
    if r.version.is_v8() {
        o.insert("siteId".into(), json!(site.id.to_string()));
    }
    mark_deleted(&mut o, list.deleted);
    let base = format!("{}/{}", site.id, list.rel());
    let mut links = Map::new();
    links.insert("self".into(), json!({"href": r.href(&base)}));
    links.insert("site".into(), json!({"href": r.href(&site.id.to_string())}));
    if list.is_library() {
        links.insert(
            "documents".into(),
            json!({"href": r.href(&format!("{}/Documents?parentId={}", site.id, list.id))}),
        );
    } else {
        links.insert("items".into(), json!({"href": r.href(&format!("{}/Items?parentId={}", site.id, list.id))}));
    }
    links.insert("folders".into(), json!({"href": r.href(&format!("{}/Folders?parentId={}", site.id, list.id))}));
    o.insert("_links".into(), Value::Object(links));
    Value::Object(o)
}

/// How an item is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum View {
    /// `RESTSharePointDocument` (library file).
    Document,
    /// `RESTSharePointFolder`.
    Folder,
    /// `RESTSharePointItem` (generic list item or, with `includeFolders`, a list folder).
    Item,
    /// v7+ `RESTItemComposed` of the Documents listing (document or folder).
    Composed,
}

impl View {
    /// The href collection of an item in this view.
    fn collection(self, row: &ItemRow) -> &'static str {
        match self {
            View::Document => "Documents",
            View::Folder => "Folders",
            View::Item => "Items",
            View::Composed if row.state.is_folder => "Folders",
            View::Composed => "Documents",
        }
    }
}

/// The version shown for an item: the one asked for, or the newest known at the browse instant.
struct Shown<'a> {
    /// The version (its label, size, author and time override the item's).
    version: Option<&'a NumberedVersion>,
    /// Whether this is a `/Versions/{id}` view (self link to the version).
    as_version: bool,
}

fn item_json(r: &Req, site: &SiteRef, list: &ListRef, row: &ItemRow, view: View, shown: Shown<'_>) -> Value {
    let v = r.version;
    let id = list.item_api_id(&row.item_id);
    let (mut created, mut modified) = item_times(row);
    let mut modified_by = who(&row.state.modified_by);
    let mut size = row.state.size;
    let (mut label, mut version_id): (Option<String>, Option<i32>) = (None, None);
    if let Some(nv) = shown.version {
        label = Some(nv.row.version.label.clone());
        version_id = Some(nv.id);
        if shown.as_version {
            size = nv.row.version.size;
            if let Some(t) = nv.row.version.modified_at {
                modified = crate::resources::browse_util::item_time(t);
                if created > modified {
                    created = modified.clone();
                }
            }
            if let Some(by) = &nv.row.version.modified_by {
                modified_by = by.clone();
            }
        }
    }
    if label.is_none() {
        // Generic list items carry their version label in the fields.
        label =
            row.state.fields.as_ref().and_then(|f| f.get("_UIVersionString")).and_then(Value::as_str).map(String::from);
    }
    if label.is_none() && row.state.is_folder {
        (label, version_id) = (Some(FOLDER_VERSION_LABEL.into()), Some(FOLDER_VERSION_ID));
    }
    let title = row
        .state
        .fields
        .as_ref()
        .and_then(|f| f.get("Title"))
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| row.state.name.clone());

    let mut o = Map::new();
    let is_folder = row.state.is_folder;
    let folder_type = if list.is_library() { "LibraryFolder" } else { "ListFolder" };
    if view == View::Folder {
        o.insert("type".into(), json!(folder_type));
    }
    o.insert("id".into(), json!(id));
    o.insert("name".into(), json!(row.state.name));
    if view == View::Item {
        o.insert("title".into(), json!(title));
    }
    if matches!(view, View::Document | View::Composed) && !(view == View::Composed && is_folder) {
        o.insert(if v.number() <= 2 { "size" } else { "sizeBytes" }.into(), json!(size));
    }
    if view == View::Composed {
        o.insert("inheritedPermissions".into(), json!(inherited_permissions(row)));
    }
    // A non-nullable string in the vendor schema: omitted when the backup knows no label.
    if let Some(label) = label {
        o.insert("version".into(), json!(label));
    }
    if v.is_verb_era() {
        o.insert("versionId".into(), json!(version_id));
    }
    o.insert("createdBy".into(), json!(who(&row.state.created_by)));
    o.insert("creationTime".into(), json!(created));
    o.insert("modifiedBy".into(), json!(modified_by));
    o.insert("modificationTime".into(), json!(modified));
    if v.number() >= 7 {
        o.insert("isFolder".into(), json!(is_folder));
    }
    if v.is_v8() {
        o.insert("siteId".into(), json!(site.id.to_string()));
    }
    if view == View::Composed {
        o.insert("title".into(), json!(title));
        if is_folder {
            o.insert("type".into(), json!(folder_type));
        }
    }
    mark_deleted(&mut o, row.deleted);

    let coll = view.collection(row);
    let own = format!("{}/{coll}/{id}", site.id);
    let mut links = Map::new();
    match (shown.as_version, version_id) {
        (true, Some(n)) => {
            links.insert("self".into(), json!({"href": r.href(&format!("{own}/Versions/{n}"))}));
            let rel = if coll == "Folders" {
                "folder"
            } else if coll == "Items" {
                "item"
            } else {
                "document"
            };
            links.insert(rel.into(), json!({"href": r.href(&own)}));
        }
        _ => {
            links.insert("self".into(), json!({"href": r.href(&own)}));
        }
    }
    let container_rel = if list.is_library() { "library" } else { "list" };
    links.insert(container_rel.into(), json!({"href": r.href(&format!("{}/{}", site.id, list.rel()))}));
    let parent = match &row.state.parent_id {
        Some(p) => format!("{}/Folders/{}", site.id, list.item_api_id(p)),
        None => format!("{}/{}", site.id, list.rel()),
    };
    links.insert("parent".into(), json!({"href": r.href(&parent)}));
    links.insert("site".into(), json!({"href": r.href(&site.id.to_string())}));
    if coll == "Items" && !is_folder {
        links.insert("attachments".into(), json!({"href": r.href(&format!("{own}/Attachments"))}));
    }
    if v.is_verb_era() && !shown.as_version {
        links.insert("versions".into(), json!({"href": r.href(&format!("{own}/Versions"))}));
    }
    o.insert("_links".into(), Value::Object(links));
    Value::Object(o)
}

/// An item with its current version (the newest known at the browse instant).
pub(crate) async fn item_out(
    r: &Req,
    site: &SiteRef,
    list: &ListRef,
    row: &ItemRow,
    view: View,
) -> Result<Value, ApiError> {
    let versions = match r.at() {
        Some(at) => numbered_versions(&r.state.catalog, list.id, &row.item_id, at).await?,
        None => Vec::new(),
    };
    Ok(item_json(r, site, list, row, view, Shown { version: versions.last(), as_version: false }))
}

fn attachment_json(r: &Req, site: &SiteRef, list: &ListRef, row: &ItemRow, a: &repo::catalog::Attachment) -> Value {
    let v = r.version;
    let id = hex::encode(a.file_name.as_bytes());
    let item = list.item_api_id(&row.item_id);
    let list_url = item_list_url(row, || list_url(&site.info.url, &list.info));
    let url = format!("{}/Attachments/{}/{}", server_relative(&list_url), row.item_id, a.file_name);
    let mut o = Map::new();
    o.insert("id".into(), json!(id));
    o.insert("name".into(), json!(a.file_name));
    o.insert(if v.number() <= 2 { "size" } else { "sizeBytes" }.into(), json!(a.size));
    o.insert("url".into(), json!(url));
    if v.is_v8() {
        o.insert("siteId".into(), json!(site.id.to_string()));
        o.insert("itemId".into(), json!(item));
    }
    let own = format!("{}/Items/{item}", site.id);
    o.insert(
        "_links".into(),
        json!({
            "self": {"href": r.href(&format!("{own}/Attachments/{id}"))},
            "item": {"href": r.href(&own)},
        }),
    );
    Value::Object(o)
}

// ---------------------------------------------------------------------------------------------------------------
// Sites
// ---------------------------------------------------------------------------------------------------------------

async fn list_sites(r: Req) -> Result<Response, ApiError> {
    let paging = r.paging()?;
    let Some(at) = r.at() else { return Ok(r.page_response(paging, Vec::new(), 0)) };
    let org = r.session.organization_id;
    let base = ContainerQuery::new(org, at).kind(ContainerKind::Site).show_deleted(r.show_deleted());
    let (sites, total) = match r.parent() {
        ParentSel::All => {
            let page = r.state.catalog.containers_at(&base.page(paging.offset_i64(), paging.limit_i64())).await?;
            (page.rows.into_iter().filter_map(site_ref).collect::<Vec<_>>(), page.total as u64)
        }
        ParentSel::Root => {
            let all = r.state.catalog.containers_at(&base.page(0, ALL)).await?;
            let top: Vec<SiteRef> =
                all.rows.into_iter().filter_map(site_ref).filter(|s| s.info.parent_site_id.is_none()).collect();
            let total = top.len() as u64;
            (window(top, paging), total)
        }
        ParentSel::Folder(parent) => {
            let parent = find_site(&r, &parent).await?;
            let q = base.parent_ref(parent.info.site_id.clone()).page(paging.offset_i64(), paging.limit_i64());
            let page = r.state.catalog.containers_at(&q).await?;
            (page.rows.into_iter().filter_map(site_ref).collect(), page.total as u64)
        }
    };
    let mut out = Vec::with_capacity(sites.len());
    for s in &sites {
        out.push(site_out(&r, s).await?);
    }
    Ok(r.page_response(paging, out, total))
}

async fn get_site(r: Req) -> Result<Response, ApiError> {
    let site = path_site(&r).await?;
    Ok(ok(site_out(&r, &site).await?))
}

// ---------------------------------------------------------------------------------------------------------------
// Lists and libraries
// ---------------------------------------------------------------------------------------------------------------

async fn containers(r: Req, library: bool) -> Result<Response, ApiError> {
    let paging = r.paging()?;
    let site = path_site(&r).await?;
    let lists: Vec<ListRef> = lists_of(&r, &site).await?.into_iter().filter(|l| l.is_library() == library).collect();
    let total = lists.len() as u64;
    let out = window(lists, paging).iter().map(|l| list_json(&r, &site, l)).collect();
    Ok(r.page_response(paging, out, total))
}

async fn container(r: Req, library: bool) -> Result<Response, ApiError> {
    let site = path_site(&r).await?;
    let id = r.param(if library { "libraryId" } else { "listId" }).to_string();
    let list = find_list(&r, &site, &id, Some(library)).await?;
    Ok(ok(list_json(&r, &site, &list)))
}

async fn list_lists(r: Req) -> Result<Response, ApiError> {
    containers(r, false).await
}

async fn get_list(r: Req) -> Result<Response, ApiError> {
    container(r, false).await
}

async fn list_libraries(r: Req) -> Result<Response, ApiError> {
    containers(r, true).await
}

async fn get_library(r: Req) -> Result<Response, ApiError> {
    container(r, true).await
}

// ---------------------------------------------------------------------------------------------------------------
// Folders, documents, items
// ---------------------------------------------------------------------------------------------------------------

/// Which content a listing serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Content {
    /// Library files (and, with `includeFolders`, folders).
    Documents,
    /// Folders of lists and libraries.
    Folders,
    /// Generic list items (and, with `includeFolders`, folders).
    Items,
}

impl Content {
    fn name(self) -> &'static str {
        match self {
            Content::Documents => "SharePoint document",
            Content::Folders => "SharePoint folder",
            Content::Items => "SharePoint item",
        }
    }

    /// Whether the content lives in `list`.
    fn in_list(self, list: &ListRef) -> bool {
        match self {
            Content::Documents => list.is_library(),
            Content::Folders => true,
            Content::Items => !list.is_library(),
        }
    }

    /// Whether an item is one of this content (by id).
    fn accepts(self, list: &ListRef, row: &ItemRow) -> bool {
        self.in_list(list)
            && match self {
                Content::Documents => !row.state.is_folder,
                Content::Folders => row.state.is_folder,
                Content::Items => !row.state.is_folder,
            }
    }

    fn view(self, version: ApiVersion) -> View {
        match self {
            Content::Documents if version.number() >= 7 => View::Composed,
            Content::Documents => View::Document,
            Content::Folders => View::Folder,
            Content::Items => View::Item,
        }
    }
}

/// The rows of a listing with their lists, in output order, and the total.
struct Rows {
    rows: Vec<(ListRef, ItemRow)>,
    total: u64,
}

async fn list_content(r: Req, content: Content) -> Result<Response, ApiError> {
    let paging = r.paging()?;
    let site = path_site(&r).await?;
    let Some(at) = r.at() else { return Ok(r.page_response(paging, Vec::new(), 0)) };
    let kind = match content {
        Content::Folders => ItemKind::Folder,
        _ if r.include_folders()? => ItemKind::Any,
        _ => ItemKind::File,
    };
    let lists: Vec<ListRef> = lists_of(&r, &site).await?.into_iter().filter(|l| content.in_list(l)).collect();
    let catalog = &r.state.catalog;
    let sd = r.show_deleted();
    let gathered = match r.parent() {
        ParentSel::All => {
            let mut rows = Vec::new();
            for l in &lists {
                rows.extend(walk_tree(catalog, l.id, None, at, sd, kind).await?.into_iter().map(|i| (l.clone(), i)));
            }
            let total = rows.len() as u64;
            Rows { rows: window(rows, paging), total }
        }
        ParentSel::Root => {
            let mut rows = Vec::new();
            for l in &lists {
                rows.extend(all_children(catalog, l.id, None, at, sd, kind).await?.into_iter().map(|i| (l.clone(), i)));
            }
            let total = rows.len() as u64;
            Rows { rows: window(rows, paging), total }
        }
        ParentSel::Folder(parent) => {
            // A list/library id (its top level) or a folder id.
            let (list, parent_item) = match lists.iter().find(|l| l.id.to_string().eq_ignore_ascii_case(parent.trim()))
            {
                Some(l) => (l.clone(), None),
                None => match resolve_item(&r, &lists, &parent).await? {
                    Some((l, row)) if row.state.is_folder => (l, Some(row.item_id)),
                    _ => return Err(not_found("The parent")),
                },
            };
            let mut q =
                ItemQuery::new(list.id, at).show_deleted(sd).kind(kind).page(paging.offset_i64(), paging.limit_i64());
            if let Some(p) = parent_item {
                q = q.parent(p);
            }
            let page = catalog.items_at(&q).await?;
            Rows { rows: page.rows.into_iter().map(|i| (list.clone(), i)).collect(), total: page.total as u64 }
        }
    };
    let view = content.view(r.version);
    let mut out = Vec::with_capacity(gathered.rows.len());
    for (list, row) in &gathered.rows {
        out.push(item_out(&r, &site, list, row, view).await?);
    }
    Ok(r.page_response(paging, out, gathered.total))
}

/// The item of the path (`{param}`) if it is `content`.
async fn path_item(r: &Req, content: Content, param: &str) -> Result<(SiteRef, ListRef, ItemRow), ApiError> {
    let site = path_site(r).await?;
    let lists: Vec<ListRef> = lists_of(r, &site).await?.into_iter().filter(|l| content.in_list(l)).collect();
    match resolve_item(r, &lists, r.param(param)).await? {
        Some((list, row)) if content.accepts(&list, &row) => Ok((site, list, row)),
        _ => Err(not_found(content.name())),
    }
}

async fn get_content(r: Req, content: Content, param: &str) -> Result<Response, ApiError> {
    let (site, list, row) = path_item(&r, content, param).await?;
    // By id, documents keep their own schema in every era.
    let view = if content == Content::Documents { View::Document } else { content.view(r.version) };
    Ok(ok(item_out(&r, &site, &list, &row, view).await?))
}

/// Previous versions (all but the newest), only with `showAllVersions`.
async fn previous_versions(r: &Req, list: &ListRef, row: &ItemRow) -> Result<Vec<NumberedVersion>, ApiError> {
    let Some(at) = r.at() else { return Ok(Vec::new()) };
    let mut all = numbered_versions(&r.state.catalog, list.id, &row.item_id, at).await?;
    all.pop();
    if !r.session.show_all_versions {
        all.clear();
    }
    Ok(all)
}

async fn content_versions(r: Req, content: Content, param: &str) -> Result<Response, ApiError> {
    r.require_versions_era()?;
    let paging = r.paging()?;
    let (site, list, row) = path_item(&r, content, param).await?;
    let mut versions = previous_versions(&r, &list, &row).await?;
    versions.reverse(); // newest first
    let total = versions.len() as u64;
    let view = if content == Content::Documents { View::Document } else { content.view(r.version) };
    let out = window(versions, paging)
        .iter()
        .map(|nv| item_json(&r, &site, &list, &row, view, Shown { version: Some(nv), as_version: true }))
        .collect();
    Ok(r.page_response(paging, out, total))
}

async fn content_version(r: Req, content: Content, param: &str) -> Result<Response, ApiError> {
    r.require_versions_era()?;
    let (site, list, row) = path_item(&r, content, param).await?;
    let wanted: i64 = r.param("versionId").trim().parse().map_err(|_| not_found("Version"))?;
    let at = r.at().ok_or_else(|| not_found("Version"))?;
    let all = numbered_versions(&r.state.catalog, list.id, &row.item_id, at).await?;
    let newest = all.last().map(|v| v.id);
    let nv = all
        .iter()
        .find(|v| i64::from(v.id) == wanted && (r.session.show_all_versions || Some(v.id) == newest))
        .ok_or_else(|| not_found("Version"))?;
    let view = if content == Content::Documents { View::Document } else { content.view(r.version) };
    Ok(ok(item_json(&r, &site, &list, &row, view, Shown { version: Some(nv), as_version: true })))
}

async fn list_folders(r: Req) -> Result<Response, ApiError> {
    list_content(r, Content::Folders).await
}

async fn get_folder(r: Req) -> Result<Response, ApiError> {
    get_content(r, Content::Folders, "folderId").await
}

async fn folder_versions(r: Req) -> Result<Response, ApiError> {
    content_versions(r, Content::Folders, "folderId").await
}

async fn folder_version(r: Req) -> Result<Response, ApiError> {
    content_version(r, Content::Folders, "folderId").await
}

async fn list_documents(r: Req) -> Result<Response, ApiError> {
    list_content(r, Content::Documents).await
}

async fn get_document(r: Req) -> Result<Response, ApiError> {
    get_content(r, Content::Documents, "documentId").await
}

async fn document_versions(r: Req) -> Result<Response, ApiError> {
    content_versions(r, Content::Documents, "documentId").await
}

async fn document_version(r: Req) -> Result<Response, ApiError> {
    content_version(r, Content::Documents, "documentId").await
}

async fn list_items(r: Req) -> Result<Response, ApiError> {
    list_content(r, Content::Items).await
}

async fn get_item(r: Req) -> Result<Response, ApiError> {
    get_content(r, Content::Items, "itemId").await
}

async fn item_versions(r: Req) -> Result<Response, ApiError> {
    content_versions(r, Content::Items, "itemId").await
}

async fn item_version(r: Req) -> Result<Response, ApiError> {
    content_version(r, Content::Items, "itemId").await
}

// ---------------------------------------------------------------------------------------------------------------
// Attachments
// ---------------------------------------------------------------------------------------------------------------

async fn list_attachments(r: Req) -> Result<Response, ApiError> {
    let paging = r.paging()?;
    let (site, list, row) = path_item(&r, Content::Items, "itemId").await?;
    let total = row.state.attachments.len() as u64;
    let out = paging.slice(&row.state.attachments).iter().map(|a| attachment_json(&r, &site, &list, &row, a)).collect();
    Ok(r.page_response(paging, out, total))
}

async fn get_attachment(r: Req) -> Result<Response, ApiError> {
    let (site, list, row) = path_item(&r, Content::Items, "itemId").await?;
    let wanted = r.param("attachmentId").trim();
    let by_hex = hex::decode(wanted).ok().and_then(|b| String::from_utf8(b).ok());
    let a = row
        .state
        .attachments
        .iter()
        .find(|a| by_hex.as_deref() == Some(a.file_name.as_str()))
        .or_else(|| row.state.attachments.iter().find(|a| a.file_name == wanted))
        .ok_or_else(|| not_found("SharePoint attachment"))?;
    Ok(ok(attachment_json(&r, &site, &list, &row, a)))
}

/// The attachment id of a file name (lower-case hex of its UTF-8 bytes).
pub fn attachment_id(file_name: &str) -> String {
    hex::encode(file_name.as_bytes())
}

// ---------------------------------------------------------------------------------------------------------------
// OpenAPI
// ---------------------------------------------------------------------------------------------------------------

/// `RESTSharePointSite`.
#[derive(Serialize, ToSchema)]
#[schema(as = RESTSharePointSite)]
#[allow(dead_code)]
struct SiteDoc {
    /// Catalog id of the site.
    id: String,
    /// Title.
    name: String,
    /// Web URL.
    url: String,
    /// Only on deleted sites (sessions with `showDeleted`).
    #[serde(rename = "isDeleted")]
    is_deleted: Option<bool>,
    /// `self`, `sites` (subsites), `libraries`, `lists`, `parent` (subsites).
    #[serde(rename = "_links")]
    links: Option<Object>,
}

/// `RESTSharePointList` / `RESTSharePointLibrary`.
#[derive(Serialize, ToSchema)]
#[schema(as = RESTSharePointList)]
#[allow(dead_code)]
struct ListDoc {
    /// Catalog id of the list or library.
    id: String,
    /// Title.
    name: String,
    /// Web URL.
    url: String,
    /// Description (empty: not backed up).
    description: String,
    /// First backup that saw this description of the list (`2026-01-05T09:00:00`).
    #[serde(rename = "creationTime")]
    creation_time: String,
    /// v8: the site id.
    #[serde(rename = "siteId")]
    site_id: Option<String>,
    /// `self`, `site`, `items`/`documents`, `folders`.
    #[serde(rename = "_links")]
    links: Option<Object>,
}

/// `RESTSharePointDocument`, `RESTSharePointFolder`, `RESTSharePointItem`, `RESTItemComposed` (fields by kind).
#[derive(Serialize, ToSchema)]
#[schema(as = RESTSharePointItem)]
#[allow(dead_code)]
struct ItemDoc {
    /// Folders: `ListFolder` or `LibraryFolder`.
    #[serde(rename = "type")]
    kind: Option<String>,
    /// Drive item id (libraries) or `<list id><item id>` (generic lists).
    id: String,
    /// File or item name.
    name: String,
    /// Items: the `Title` field.
    title: Option<String>,
    /// Documents: size in bytes (`size` in v2).
    #[serde(rename = "sizeBytes")]
    size_bytes: Option<i64>,
    /// Version label, e.g. `"3.0"`.
    version: Option<String>,
    /// v6+: ordinal of the version (oldest = 1).
    #[serde(rename = "versionId")]
    version_id: Option<i32>,
    #[serde(rename = "createdBy")]
    created_by: String,
    #[serde(rename = "creationTime")]
    creation_time: String,
    #[serde(rename = "modifiedBy")]
    modified_by: String,
    #[serde(rename = "modificationTime")]
    modification_time: String,
    /// v7+.
    #[serde(rename = "isFolder")]
    is_folder: Option<bool>,
    /// v8.
    #[serde(rename = "siteId")]
    site_id: Option<String>,
    /// Only on deleted items.
    #[serde(rename = "isDeleted")]
    is_deleted: Option<bool>,
    /// `self`, `library`/`list`, `parent`, `site`, `attachments` (items), `versions` (v6+).
    #[serde(rename = "_links")]
    links: Option<Object>,
}

/// `RESTSharePointAttachment`.
#[derive(Serialize, ToSchema)]
#[schema(as = RESTSharePointAttachment)]
#[allow(dead_code)]
struct AttachmentDoc {
    /// Lower-case hex of the file name.
    id: String,
    /// File name.
    name: String,
    /// Size in bytes (`size` in v2).
    #[serde(rename = "sizeBytes")]
    size_bytes: i64,
    /// Server-relative URL (`/sites/x/Lists/Issues/Attachments/1/a.txt`).
    url: String,
    /// v8.
    #[serde(rename = "siteId")]
    site_id: Option<String>,
    /// v8.
    #[serde(rename = "itemId")]
    item_id: Option<String>,
    /// `self`, `item`.
    #[serde(rename = "_links")]
    links: Option<Object>,
}

/// A page envelope `{offset, limit, totalCount (v6/v7), results, _links}`.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
struct PageDoc {
    offset: i64,
    limit: i64,
    #[serde(rename = "totalCount")]
    total_count: Option<i64>,
    results: Vec<Object>,
    #[serde(rename = "_links")]
    links: Option<Object>,
}

/// Any JSON object.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
struct Object {}

macro_rules! doc_get {
    ($name:ident, $path:literal, $summary:literal, $body:ty, [$(($($p:tt)*)),*]) => {
        #[utoipa::path(
            get,
            path = $path,
            tag = "SharePoint",
            summary = $summary,
            params(
                ("version" = String, Path, description = "API version: v2 … v8"),
                ("id" = String, Path, description = "Restore session id (type Vesp)")
                $(, ($($p)*))*
            ),
            responses(
                (status = 200, description = "OK", body = $body),
                (status = 401, description = "Not authenticated", body = crate::openapi::RestExceptionInfo),
                (status = 404, description = "Unknown session or object", body = crate::openapi::RestExceptionInfo)
            ),
            security(("bearer" = []))
        )]
        #[allow(dead_code)]
        fn $name() {}
    };
}

doc_get!(
    d_sites,
    "/{version}/RestoreSessions/{id}/Organization/Sites",
    "Sites (parentId: site id → subsites, root/null → top level, omitted → all)",
    PageDoc,
    [("parentId" = Option<String>, Query), ("offset" = Option<String>, Query), ("limit" = Option<String>, Query)]
);
doc_get!(
    d_site,
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}",
    "A site",
    SiteDoc,
    [("siteId" = String, Path)]
);
doc_get!(
    d_lists,
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Lists",
    "Lists of a site",
    PageDoc,
    [("siteId" = String, Path), ("offset" = Option<String>, Query), ("limit" = Option<String>, Query)]
);
doc_get!(
    d_list,
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Lists/{listId}",
    "A list",
    ListDoc,
    [("siteId" = String, Path), ("listId" = String, Path)]
);
doc_get!(
    d_libraries,
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Libraries",
    "Document libraries of a site",
    PageDoc,
    [("siteId" = String, Path), ("offset" = Option<String>, Query), ("limit" = Option<String>, Query)]
);
doc_get!(
    d_library,
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Libraries/{libraryId}",
    "A document library",
    ListDoc,
    [("siteId" = String, Path), ("libraryId" = String, Path)]
);
doc_get!(
    d_folders,
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Folders",
    "Folders (parentId: list, library or folder id; root/null; omitted → all)",
    PageDoc,
    [("siteId" = String, Path), ("parentId" = Option<String>, Query), ("offset" = Option<String>, Query), ("limit" = Option<String>, Query)]
);
doc_get!(
    d_folder,
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Folders/{folderId}",
    "A folder",
    ItemDoc,
    [("siteId" = String, Path), ("folderId" = String, Path)]
);
doc_get!(
    d_folder_versions,
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Folders/{folderId}/Versions",
    "Previous versions of a folder (v6+)",
    PageDoc,
    [("siteId" = String, Path), ("folderId" = String, Path), ("offset" = Option<String>, Query), ("limit" = Option<String>, Query)]
);
doc_get!(
    d_folder_version,
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Folders/{folderId}/Versions/{versionId}",
    "A version of a folder (v6+)",
    ItemDoc,
    [("siteId" = String, Path), ("folderId" = String, Path), ("versionId" = String, Path)]
);
doc_get!(
    d_documents,
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Documents",
    "Library documents (parentId: folder or library id; root/null; omitted → all; v7+ includeFolders)",
    PageDoc,
    [("siteId" = String, Path), ("parentId" = Option<String>, Query), ("includeFolders" = Option<String>, Query), ("offset" = Option<String>, Query), ("limit" = Option<String>, Query)]
);
doc_get!(
    d_document,
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Documents/{documentId}",
    "A document",
    ItemDoc,
    [("siteId" = String, Path), ("documentId" = String, Path)]
);
doc_get!(
    d_document_versions,
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Documents/{documentId}/Versions",
    "Previous versions of a document (v6+, showAllVersions)",
    PageDoc,
    [("siteId" = String, Path), ("documentId" = String, Path), ("offset" = Option<String>, Query), ("limit" = Option<String>, Query)]
);
doc_get!(
    d_document_version,
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Documents/{documentId}/Versions/{versionId}",
    "A version of a document (v6+)",
    ItemDoc,
    [("siteId" = String, Path), ("documentId" = String, Path), ("versionId" = String, Path)]
);
doc_get!(
    d_items,
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Items",
    "List items (parentId: list or folder id; root/null; omitted → all; v7+ includeFolders)",
    PageDoc,
    [("siteId" = String, Path), ("parentId" = Option<String>, Query), ("includeFolders" = Option<String>, Query), ("offset" = Option<String>, Query), ("limit" = Option<String>, Query)]
);
doc_get!(
    d_item,
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Items/{itemId}",
    "A list item",
    ItemDoc,
    [("siteId" = String, Path), ("itemId" = String, Path)]
);
doc_get!(
    d_item_versions,
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Items/{itemId}/Versions",
    "Previous versions of a list item (v6+)",
    PageDoc,
    [("siteId" = String, Path), ("itemId" = String, Path), ("offset" = Option<String>, Query), ("limit" = Option<String>, Query)]
);
doc_get!(
    d_item_version,
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Items/{itemId}/Versions/{versionId}",
    "A version of a list item (v6+)",
    ItemDoc,
    [("siteId" = String, Path), ("itemId" = String, Path), ("versionId" = String, Path)]
);
doc_get!(
    d_attachments,
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Items/{itemId}/Attachments",
    "Attachments of a list item",
    PageDoc,
    [("siteId" = String, Path), ("itemId" = String, Path), ("offset" = Option<String>, Query), ("limit" = Option<String>, Query)]
);
doc_get!(
    d_attachment,
    "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Items/{itemId}/Attachments/{attachmentId}",
    "An attachment",
    AttachmentDoc,
    [("siteId" = String, Path), ("itemId" = String, Path), ("attachmentId" = String, Path)]
);

#[derive(OpenApi)]
#[openapi(
    paths(
        d_sites, d_site, d_lists, d_list, d_libraries, d_library, d_folders, d_folder, d_folder_versions,
        d_folder_version, d_documents, d_document, d_document_versions, d_document_version, d_items, d_item,
        d_item_versions, d_item_version, d_attachments, d_attachment
    ),

    tags((name = "SharePoint", description = "Browsing SharePoint in a restore session (type Vesp)"))
)]
struct SharePointDoc;

/// Documented paths.
pub fn openapi() -> utoipa::openapi::OpenApi {
    SharePointDoc::openapi()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::paths::canonical_route;

    #[test]
    fn routes_are_canonical() {
        for p in ROUTES {
            assert_eq!(canonical_route(p), *p);
        }
        let doc = openapi();
        assert_eq!(doc.paths.paths.len(), ROUTES.len());
        for p in ROUTES {
            assert!(doc.paths.paths.contains_key(*p), "{p} documented");
        }
    }

    #[test]
    fn urls() {
        assert_eq!(server_relative("https://h:1/_sp/x/sites/a/Lists/B"), "/_sp/x/sites/a/Lists/B");
        assert_eq!(server_relative("https://h"), "/");
        let lib = ListInfo {
            list_id: "l".into(),
            site_id: "s".into(),
            title: "Documents".into(),
            template: "documentLibrary".into(),
            is_document_library: true,
            drive_id: None,
        };
        assert_eq!(list_url("https://h/sites/a/", &lib), "https://h/sites/a/Shared%20Documents");
        let list = ListInfo { title: "My Issues".into(), is_document_library: false, ..lib };
        assert_eq!(list_url("https://h/sites/a", &list), "https://h/sites/a/Lists/MyIssues");
        assert_eq!(attachment_id("a.txt"), "612e747874");
    }
}
