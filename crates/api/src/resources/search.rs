//! Item search inside restore sessions (v6–v8): OneDrive (`Veod`) and SharePoint (`Vesp`).
//!
//! | POST path (under `/{version}/RestoreSessions/{id}/Organization`) | scope | `itemType` |
//! |---|---|---|
//! | `OneDrives/search` | every OneDrive of the session | `All`, `Folders`, `Documents` |
//! | `OneDrives/{oneDriveId}/search` | one OneDrive | same |
//! | `OneDrives/{oneDriveId}/Folders/{folderId}/search` | below the folder, at any depth | same |
//! | `Sites/search` | the lists and libraries of every site of the session | `All`, `Folders`, `Items` |
//! | `Sites/{siteId}/search` | the site's lists and libraries (not its subsites') | same |
//! | `Sites/{siteId}/Folders/{folderId}/search` | below the folder (of a library or a list) | same |
//! | `Sites/{siteId}/Libraries/{libraryId}/search` | one library | same |
//! | `Sites/{siteId}/Lists/{listId}/search` | one list | same |
//!
//! Body `RESTVESPSearchOptions {"query": "…"}` — the query syntax is in [`syntax`]; query parameters `offset`,
//! `limit` (as the browse routes: default 30, at most 10000), `setId` (accepted and ignored: every page is answered
//! from the catalog, there is no result cache to point at) and `itemType` (default `All`; another value → 400).
//! Answer: `PageOfRESTItemComposed`, whose items are rendered exactly as the browse routes render them
//! (OneDrive: [`crate::resources::onedrive`]; SharePoint: [`crate::resources::sharepoint`] — library content in the era's
//! Documents view, list items and list folders in the Items/Folders views), folders first, then by name;
//! `totalCount` in v6–v7 (as every page of those eras). v2–v5 have no search endpoints: 404.
//!
//! Results follow the session: its point in time (the names, places and existence as of then), its `showDeleted`
//! flag (items deleted before that point are found only with it, and carry `"isDeleted": true`), and the caller
//! (another user's session is 404, like every session route). The matching runs in the catalog
//! ([`repo::catalog::Catalog::search_items`]): one indexed SQL query per page, whatever the size of the restore
//! point — a folder scope is a recursive query in the database, not a walk of the tree.

// A plain file next to the route modules (not `search/syntax.rs`): tools read `routes/` as a flat list of files.
#[path = "search_syntax.rs"]
mod syntax;

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use repo::catalog::{
    ContainerKind, ContainerQuery, ContainerRow, ItemKind, ItemRow, SearchQuery, SearchScope, SearchTerm,
};
use utoipa::OpenApi;
use uuid::Uuid;

use crate::ctx::drive::{DriveCtx, VeodSession};
use crate::edge::error::ApiError;
use crate::edge::lenient::{parse_enum, LenientJson, Obj};
use crate::edge::paging::{PageContext, Paging};
use crate::edge::query::LenientQuery;
use crate::edge::version::ApiVersion;
use crate::resources::browse_util::page_of;
use crate::resources::onedrive;
use crate::resources::route_paths::DriveItemPath;
use crate::resources::sharepoint::{self, ListRef, Req, SiteRef, View};
use crate::state::AppState;
use crate::wire::onedrive::ItemPage;

const OD: &str = "/{version}/RestoreSessions/{id}/Organization/OneDrives";
const SP: &str = "/{version}/RestoreSessions/{id}/Organization/Sites";

/// Authenticated routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(&format!("{OD}/search"), post(search_onedrives))
        .route(&format!("{OD}/{{oneDriveId}}/search"), post(search_onedrive))
        .route(&format!("{OD}/{{oneDriveId}}/Folders/{{folderId}}/search"), post(search_onedrive_folder))
        .route(&format!("{SP}/search"), post(search_sites))
        .route(&format!("{SP}/{{siteId}}/search"), post(search_site))
        .route(&format!("{SP}/{{siteId}}/Folders/{{folderId}}/search"), post(search_site_folder))
        .route(&format!("{SP}/{{siteId}}/Libraries/{{libraryId}}/search"), post(search_library))
        .route(&format!("{SP}/{{siteId}}/Lists/{{listId}}/search"), post(search_list))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        search_onedrives,
        search_onedrive,
        search_onedrive_folder,
        search_sites,
        search_site,
        search_site_folder,
        search_library,
        search_list
    ),
    tags((name = "Search", description = "Searching backed-up OneDrive and SharePoint items in a restore session (v6+)"))
)]
struct Doc;

/// The module's documented paths.
pub fn openapi() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

// ---------------------------------------------------------------------------------------------------------------
// Request parts

/// 404 in v2–v5, which search with `POST …/Action {"search": …}` (not served).
fn require_verb_era(version: ApiVersion) -> Result<(), ApiError> {
    if version.is_action_era() {
        return Err(ApiError::not_found(format!("…/search is not available in API {version}; use v6 or later.")));
    }
    Ok(())
}

/// The terms of the body's `query`.
fn terms(body: &Obj) -> Result<Vec<SearchTerm>, ApiError> {
    let query = body.str("query")?.unwrap_or_default();
    syntax::parse(&query)
}

/// `itemType`: the item kind for the era's enum (`Documents` for OneDrive, `Items` for SharePoint).
fn item_type(query: &LenientQuery, files: &'static str) -> Result<ItemKind, ApiError> {
    let Some(v) = query.get_non_empty("itemType") else { return Ok(ItemKind::Any) };
    let allowed = ["All", "Folders", files];
    match parse_enum(v.trim(), &allowed) {
        Some("All") => Ok(ItemKind::Any),
        Some("Folders") => Ok(ItemKind::Folder),
        Some(_) => Ok(ItemKind::File),
        None => Err(ApiError::bad_request(format!("'itemType' must be one of {}", allowed.join(", ")))),
    }
}

/// One page of the catalog search.
async fn search_page(
    state: &AppState,
    scope: SearchScope,
    at: chrono::DateTime<chrono::Utc>,
    show_deleted: bool,
    kind: ItemKind,
    terms: Vec<SearchTerm>,
    paging: Paging,
) -> Result<(Vec<ItemRow>, u64), ApiError> {
    let q = SearchQuery::new(scope, at, terms)
        .show_deleted(show_deleted)
        .kind(kind)
        .page(paging.offset_i64(), paging.limit_i64());
    let page = state.catalog.search_items(&q).await?;
    Ok((page.rows, page.total.max(0) as u64))
}

/// The page a search asks for: where it links to and which window of the results.
struct PageReq {
    ctx: PageContext,
    paging: Paging,
}

impl<S: Send + Sync> FromRequestParts<S> for PageReq {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = PageContext::from_request_parts(parts, state).await?;
        let paging = Paging::from_request_parts(parts, state).await?;
        Ok(PageReq { ctx, paging })
    }
}

// ---------------------------------------------------------------------------------------------------------------
// OneDrive

/// Renders OneDrive search results, each through the context of its OneDrive.
async fn onedrive_page(
    state: &AppState,
    page: &PageReq,
    drives: &HashMap<Uuid, DriveCtx>,
    rows: Vec<ItemRow>,
    total: u64,
    version: ApiVersion,
) -> Result<ItemPage, ApiError> {
    let mut results = Vec::with_capacity(rows.len());
    for row in &rows {
        let d = drives.get(&row.container_id).ok_or_else(|| ApiError::internal("search result outside its scope"))?;
        results.push(onedrive::item(state, d, row).await?);
    }
    Ok(page_of(&page.ctx, page.paging, results, total, version))
}

/// Searches `scope` inside the one OneDrive `d` at the session's instant, with its showDeleted flag.
async fn search_drive(
    state: &AppState,
    page: PageReq,
    query: &LenientQuery,
    body: &Obj,
    d: DriveCtx,
    scope: SearchScope,
) -> Result<ItemPage, ApiError> {
    let kind = item_type(query, "Documents")?;
    let terms = terms(body)?;
    let (id, at, show_deleted, version) = (d.id(), d.at, d.session.show_deleted, d.era());
    let (found, total) = search_page(state, scope, at, show_deleted, kind, terms, page.paging).await?;
    let drives = HashMap::from([(id, d)]);
    onedrive_page(state, &page, &drives, found, total, version).await
}

/// Search every OneDrive of a restore session (v6+).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/search",
    tag = "Search",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("itemType" = Option<String>, Query, description = "All (default), Folders or Documents"),
        ("setId" = Option<String>, Query, description = "Accepted and ignored (results are not cached)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    request_body(content = String, content_type = "application/json", description = "RESTVESPSearchOptions {\"query\": …}: words and \"phrases\" match the name (case-insensitive substring, all must match); properties name:/filename:, author:, modifiedby:, ext:/type:, size:[<,<=,>,>=,=]bytes; values with spaces in double quotes; an unknown property or a malformed query is 400"),
    responses(
        (status = 200, description = "PageOfRESTItemComposed: matching documents and folders as of the session's point in time, folders first, then by name", body = ItemPage),
        (status = 400, description = "Bad query, itemType, offset or limit", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session (or another user's); v2–v5", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn search_onedrives(
    State(state): State<AppState>,
    s: VeodSession,
    page: PageReq,
    query: LenientQuery,
    LenientJson(body): LenientJson,
) -> Result<ItemPage, ApiError> {
    let version = s.era();
    require_verb_era(version)?;
    let session = &s.session;
    let kind = item_type(&query, "Documents")?;
    let terms = terms(&body)?;
    let Some(at) = session.browse_at else {
        return Ok(page_of(&page.ctx, page.paging, Vec::new(), 0, version));
    };
    let q = ContainerQuery::new(session.organization_id, at)
        .kind(ContainerKind::OneDrive)
        .show_deleted(session.show_deleted)
        .page(0, sharepoint::ALL);
    let rows: Vec<ContainerRow> = state.catalog.containers_at(&q).await?.rows;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let drives: HashMap<Uuid, DriveCtx> = rows.into_iter().map(|row| (row.id, s.with_row(at, row))).collect();
    let scope = SearchScope::Containers(ids);
    let (found, total) = search_page(&state, scope, at, session.show_deleted, kind, terms, page.paging).await?;
    onedrive_page(&state, &page, &drives, found, total, version).await
}

/// Search one OneDrive (v6+).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/search",
    tag = "Search",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id"),
        ("itemType" = Option<String>, Query, description = "All (default), Folders or Documents"),
        ("setId" = Option<String>, Query, description = "Accepted and ignored (results are not cached)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    request_body(content = String, content_type = "application/json", description = "RESTVESPSearchOptions {\"query\": …} (syntax: see POST …/OneDrives/search)"),
    responses(
        (status = 200, description = "PageOfRESTItemComposed: matching documents and folders of the OneDrive", body = ItemPage),
        (status = 400, description = "Bad query, itemType, offset or limit", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session or OneDrive; v2–v5", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn search_onedrive(
    State(state): State<AppState>,
    d: DriveCtx,
    page: PageReq,
    query: LenientQuery,
    LenientJson(body): LenientJson,
) -> Result<ItemPage, ApiError> {
    require_verb_era(d.era())?;
    let scope = SearchScope::Containers(vec![d.id()]);
    search_drive(&state, page, &query, &body, d, scope).await
}

/// Search below a OneDrive folder, at any depth (v6+).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Folders/{folderId}/search",
    tag = "Search",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id"),
        ("folderId" = String, Path, description = "Folder id"),
        ("itemType" = Option<String>, Query, description = "All (default), Folders or Documents"),
        ("setId" = Option<String>, Query, description = "Accepted and ignored (results are not cached)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    request_body(content = String, content_type = "application/json", description = "RESTVESPSearchOptions {\"query\": …} (syntax: see POST …/OneDrives/search)"),
    responses(
        (status = 200, description = "PageOfRESTItemComposed: matching documents and folders below the folder (not the folder itself)", body = ItemPage),
        (status = 400, description = "Bad query, itemType, offset or limit", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, OneDrive or folder; v2–v5", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn search_onedrive_folder(
    State(state): State<AppState>,
    d: DriveCtx,
    page: PageReq,
    query: LenientQuery,
    Path(p): Path<DriveItemPath>,
    LenientJson(body): LenientJson,
) -> Result<ItemPage, ApiError> {
    require_verb_era(d.era())?;
    let folder = d.item(&state, &p.item_id, true).await?;
    let scope = SearchScope::Folder { container: d.id(), folder: folder.item_id };
    search_drive(&state, page, &query, &body, d, scope).await
}

// ---------------------------------------------------------------------------------------------------------------
// SharePoint

/// How a SharePoint result is rendered: as the browse listing that holds it would (library content: the era's
/// Documents listing, v7+ `RESTItemComposed`; list items: Items; list folders: Folders).
fn sp_view(version: ApiVersion, list: &ListRef, row: &ItemRow) -> View {
    match (list.is_library(), row.state.is_folder) {
        (true, _) if version.number() >= 7 => View::Composed,
        (_, true) => View::Folder,
        (true, false) => View::Document,
        (false, false) => View::Item,
    }
}

/// Searches `scope` (inside `lists`, each with its site) and answers the page.
async fn sp_search(
    r: &Req,
    lists: Vec<(SiteRef, ListRef)>,
    folder: Option<(Uuid, String)>,
    body: &Obj,
) -> Result<Response, ApiError> {
    let paging = r.paging()?;
    let kind = item_type(&r.query, "Items")?;
    let terms = terms(body)?;
    let Some(at) = r.at() else { return Ok(r.page_response(paging, Vec::new(), 0)) };
    let scope = match folder {
        Some((container, folder)) => SearchScope::Folder { container, folder },
        None => SearchScope::Containers(lists.iter().map(|(_, l)| l.id).collect()),
    };
    let (found, total) = search_page(&r.state, scope, at, r.show_deleted(), kind, terms, paging).await?;
    let by_id: HashMap<Uuid, &(SiteRef, ListRef)> = lists.iter().map(|e| (e.1.id, e)).collect();
    let mut results = Vec::with_capacity(found.len());
    for row in &found {
        let (site, list) =
            by_id.get(&row.container_id).ok_or_else(|| ApiError::internal("search result outside its scope"))?;
        results.push(sharepoint::item_out(r, site, list, row, sp_view(r.version, list, row)).await?);
    }
    Ok(r.page_response(paging, results, total))
}

/// The lists and libraries of `site`, each paired with it.
async fn site_lists(r: &Req, site: &SiteRef) -> Result<Vec<(SiteRef, ListRef)>, ApiError> {
    Ok(sharepoint::lists_of(r, site).await?.into_iter().map(|l| (site.clone(), l)).collect())
}

/// Search every site of a restore session (v6+).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/search",
    tag = "Search",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("itemType" = Option<String>, Query, description = "All (default), Folders or Items"),
        ("setId" = Option<String>, Query, description = "Accepted and ignored (results are not cached)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    request_body(content = String, content_type = "application/json", description = "RESTVESPSearchOptions {\"query\": …} (syntax: see POST …/OneDrives/search)"),
    responses(
        (status = 200, description = "PageOfRESTItemComposed: matching documents, folders and list items of every site"),
        (status = 400, description = "Bad query, itemType, offset or limit", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session (or another user's); v2–v5", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn search_sites(r: Req, LenientJson(body): LenientJson) -> Result<Response, ApiError> {
    require_verb_era(r.version)?;
    let mut lists = Vec::new();
    if let Some(at) = r.at() {
        let org = r.session.organization_id;
        let all =
            |kind| ContainerQuery::new(org, at).kind(kind).show_deleted(r.show_deleted()).page(0, sharepoint::ALL);
        let sites: HashMap<String, SiteRef> = r
            .state
            .catalog
            .containers_at(&all(ContainerKind::Site))
            .await?
            .rows
            .into_iter()
            .filter_map(sharepoint::site_ref)
            .map(|s| (s.info.site_id.clone(), s))
            .collect();
        // A list is searched when its site is visible in the session.
        for list in r.state.catalog.containers_at(&all(ContainerKind::List)).await?.rows {
            if let Some(l) = sharepoint::list_ref(list) {
                if let Some(site) = sites.get(&l.info.site_id) {
                    lists.push((site.clone(), l));
                }
            }
        }
    }
    sp_search(&r, lists, None, &body).await
}

/// Search the lists and libraries of a site (v6+).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/search",
    tag = "Search",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("itemType" = Option<String>, Query, description = "All (default), Folders or Items"),
        ("setId" = Option<String>, Query, description = "Accepted and ignored (results are not cached)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    request_body(content = String, content_type = "application/json", description = "RESTVESPSearchOptions {\"query\": …} (syntax: see POST …/OneDrives/search)"),
    responses(
        (status = 200, description = "PageOfRESTItemComposed: matching documents, folders and list items of the site's own lists and libraries"),
        (status = 400, description = "Bad query, itemType, offset or limit", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session or site; v2–v5", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn search_site(r: Req, LenientJson(body): LenientJson) -> Result<Response, ApiError> {
    require_verb_era(r.version)?;
    let site = sharepoint::path_site(&r).await?;
    let lists = site_lists(&r, &site).await?;
    sp_search(&r, lists, None, &body).await
}

/// Search below a SharePoint folder of a library or list, at any depth (v6+).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Folders/{folderId}/search",
    tag = "Search",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("folderId" = String, Path, description = "Folder id (as the Folders listing gives it)"),
        ("itemType" = Option<String>, Query, description = "All (default), Folders or Items"),
        ("setId" = Option<String>, Query, description = "Accepted and ignored (results are not cached)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    request_body(content = String, content_type = "application/json", description = "RESTVESPSearchOptions {\"query\": …} (syntax: see POST …/OneDrives/search)"),
    responses(
        (status = 200, description = "PageOfRESTItemComposed: matching items below the folder (not the folder itself)"),
        (status = 400, description = "Bad query, itemType, offset or limit", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, site or folder; v2–v5", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn search_site_folder(r: Req, LenientJson(body): LenientJson) -> Result<Response, ApiError> {
    require_verb_era(r.version)?;
    let site = sharepoint::path_site(&r).await?;
    let lists = site_lists(&r, &site).await?;
    let only: Vec<ListRef> = lists.iter().map(|(_, l)| l.clone()).collect();
    let folder = match sharepoint::resolve_item(&r, &only, r.param("folderId")).await? {
        Some((list, row)) if row.state.is_folder => (list.id, row.item_id),
        _ => return Err(sharepoint::not_found("SharePoint folder")),
    };
    sp_search(&r, lists, Some(folder), &body).await
}

/// Search a SharePoint document library (v6+).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Libraries/{libraryId}/search",
    tag = "Search",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("libraryId" = String, Path, description = "Library id"),
        ("itemType" = Option<String>, Query, description = "All (default), Folders or Items"),
        ("setId" = Option<String>, Query, description = "Accepted and ignored (results are not cached)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    request_body(content = String, content_type = "application/json", description = "RESTVESPSearchOptions {\"query\": …} (syntax: see POST …/OneDrives/search)"),
    responses(
        (status = 200, description = "PageOfRESTItemComposed: matching documents and folders of the library"),
        (status = 400, description = "Bad query, itemType, offset or limit", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, site or library; v2–v5", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn search_library(r: Req, LenientJson(body): LenientJson) -> Result<Response, ApiError> {
    search_one_list(r, body, true).await
}

/// Search a SharePoint list (v6+).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Lists/{listId}/search",
    tag = "Search",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("listId" = String, Path, description = "List id"),
        ("itemType" = Option<String>, Query, description = "All (default), Folders or Items"),
        ("setId" = Option<String>, Query, description = "Accepted and ignored (results are not cached)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    request_body(content = String, content_type = "application/json", description = "RESTVESPSearchOptions {\"query\": …} (syntax: see POST …/OneDrives/search)"),
    responses(
        (status = 200, description = "PageOfRESTItemComposed: matching list items and folders of the list"),
        (status = 400, description = "Bad query, itemType, offset or limit", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, site or list; v2–v5", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn search_list(r: Req, LenientJson(body): LenientJson) -> Result<Response, ApiError> {
    search_one_list(r, body, false).await
}

async fn search_one_list(r: Req, body: Obj, library: bool) -> Result<Response, ApiError> {
    require_verb_era(r.version)?;
    let site = sharepoint::path_site(&r).await?;
    let id = r.param(if library { "libraryId" } else { "listId" }).to_string();
    let list = sharepoint::find_list(&r, &site, &id, Some(library)).await?;
    sp_search(&r, vec![(site, list)], None, &body).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::paths::canonical_route;

    #[test]
    fn routes_are_canonical() {
        for p in [
            format!("{OD}/search"),
            format!("{OD}/{{oneDriveId}}/search"),
            format!("{OD}/{{oneDriveId}}/Folders/{{folderId}}/search"),
            format!("{SP}/search"),
            format!("{SP}/{{siteId}}/search"),
            format!("{SP}/{{siteId}}/Folders/{{folderId}}/search"),
            format!("{SP}/{{siteId}}/Libraries/{{libraryId}}/search"),
            format!("{SP}/{{siteId}}/Lists/{{listId}}/search"),
        ] {
            assert_eq!(canonical_route(&p), p);
        }
    }

    #[test]
    fn item_types_per_explorer() {
        let q = |s: &str| LenientQuery::parse(s).unwrap();
        assert_eq!(item_type(&q(""), "Documents").unwrap(), ItemKind::Any);
        assert_eq!(item_type(&q("itemtype=folders"), "Documents").unwrap(), ItemKind::Folder);
        assert_eq!(item_type(&q("itemType=Documents"), "Documents").unwrap(), ItemKind::File);
        assert_eq!(item_type(&q("itemType=Items"), "Items").unwrap(), ItemKind::File);
        let e = item_type(&q("itemType=Items"), "Documents").unwrap_err();
        assert_eq!(e.message, "'itemType' must be one of All, Folders, Documents");
        assert!(item_type(&q("itemType=Documents"), "Items").is_err());
    }
}
