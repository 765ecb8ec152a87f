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
use repo::catalog::{
    ContainerKind, ContainerQuery, ContainerRow, ItemKind, ItemRow, SearchQuery, SearchScope, SearchTerm,
};
use uuid::Uuid;

use crate::ctx::drive::{DriveCtx, VeodSession};
use crate::ctx::site::{not_found, Site, SiteCtx, SiteList, VespCtx, EVERY_ROW};
use crate::edge::error::ApiError;
use crate::edge::lenient::{parse_enum, LenientJson};
use crate::edge::paging::Hrefs;
use crate::edge::paging::{PageContext, Paging};
use crate::edge::query::Query;
use crate::edge::version::ApiVersion;
use crate::resources::browse_util::page_of;
use crate::resources::onedrive;
use crate::resources::route_paths::DriveItemPath;
use crate::resources::route_paths::SiteItemPath;
use crate::resources::scope::{SiteTarget, SpScope};
use crate::resources::sharepoint::search_entry;
use crate::state::AppState;
use crate::wire::onedrive::ItemPage;
use crate::wire::search::{SearchOptions, SearchParams};
use crate::wire::sharepoint::{SharePointEntryPage, SitesHrefs};

// ---------------------------------------------------------------------------------------------------------------
// Request parts

/// The terms of the body's `query`.
fn terms(o: &SearchOptions) -> Result<Vec<SearchTerm>, ApiError> {
    syntax::parse(o.query.as_deref().unwrap_or_default())
}

/// `itemType`: the item kind for the era's enum (`Documents` for OneDrive, `Items` for SharePoint).
fn item_type(params: &SearchParams, files: &'static str) -> Result<ItemKind, ApiError> {
    let Some(v) = params.item_type.as_deref().filter(|v| !v.trim().is_empty()) else { return Ok(ItemKind::Any) };
    let allowed = ["All", "Folders", files];
    match parse_enum(v.trim(), &allowed) {
        Some("All") => Ok(ItemKind::Any),
        Some("Folders") => Ok(ItemKind::Folder),
        Some(_) => Ok(ItemKind::File),
        None => Err(ApiError::bad_request(format!("'itemType' must be one of {}", allowed.join(", ")))),
    }
}

/// One page of the catalog search.
pub(crate) async fn search_page(
    catalog: &repo::catalog::Catalog,
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
    let page = catalog.search_items(&q).await?;
    Ok((page.rows, page.total.max(0) as u64))
}

/// The page a search asks for: where it links to and which window of the results.
pub(crate) struct PageReq {
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
    params: &SearchParams,
    o: &SearchOptions,
    d: DriveCtx,
    scope: SearchScope,
) -> Result<ItemPage, ApiError> {
    let kind = item_type(params, "Documents")?;
    let terms = terms(o)?;
    let (id, at, show_deleted, version) = (d.id(), d.at, d.session.show_deleted, d.era());
    let (found, total) = search_page(&state.catalog, scope, at, show_deleted, kind, terms, page.paging).await?;
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
        SearchParams,
        ("setId" = Option<String>, Query, description = "Accepted and ignored (results are not cached)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    request_body = SearchOptions,
    responses(
        (status = 200, description = "PageOfRESTItemComposed: matching documents and folders as of the session's point in time, folders first, then by name", body = ItemPage),
        (status = 400, description = "Bad query, itemType, offset or limit", body = crate::edge::error::RestExceptionInfo),
        (status = 404, description = "Unknown session (or another user's); v2–v5", body = crate::edge::error::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn search_onedrives(
    State(state): State<AppState>,
    s: VeodSession,
    page: PageReq,
    Query(params): Query<SearchParams>,
    LenientJson(o): LenientJson<SearchOptions>,
) -> Result<ItemPage, ApiError> {
    let version = s.era();
    let session = &s.session;
    let kind = item_type(&params, "Documents")?;
    let terms = terms(&o)?;
    let Some(at) = session.browse_at else {
        return Ok(page_of(&page.ctx, page.paging, Vec::new(), 0, version));
    };
    let q = ContainerQuery::new(session.organization_id, at)
        .kind(ContainerKind::OneDrive)
        .show_deleted(session.show_deleted)
        .page(0, EVERY_ROW);
    let rows: Vec<ContainerRow> = state.catalog.containers_at(&q).await?.rows;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let drives: HashMap<Uuid, DriveCtx> = rows.into_iter().map(|row| (row.id, s.with_row(at, row))).collect();
    let scope = SearchScope::Containers(ids);
    let (found, total) = search_page(&state.catalog, scope, at, session.show_deleted, kind, terms, page.paging).await?;
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
        SearchParams,
        ("setId" = Option<String>, Query, description = "Accepted and ignored (results are not cached)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    request_body = SearchOptions,
    responses(
        (status = 200, description = "PageOfRESTItemComposed: matching documents and folders of the OneDrive", body = ItemPage),
        (status = 400, description = "Bad query, itemType, offset or limit", body = crate::edge::error::RestExceptionInfo),
        (status = 404, description = "Unknown session or OneDrive; v2–v5", body = crate::edge::error::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn search_onedrive(
    State(state): State<AppState>,
    d: DriveCtx,
    page: PageReq,
    Query(params): Query<SearchParams>,
    LenientJson(o): LenientJson<SearchOptions>,
) -> Result<ItemPage, ApiError> {
    let scope = SearchScope::Containers(vec![d.id()]);
    search_drive(&state, page, &params, &o, d, scope).await
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
        SearchParams,
        ("setId" = Option<String>, Query, description = "Accepted and ignored (results are not cached)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    request_body = SearchOptions,
    responses(
        (status = 200, description = "PageOfRESTItemComposed: matching documents and folders below the folder (not the folder itself)", body = ItemPage),
        (status = 400, description = "Bad query, itemType, offset or limit", body = crate::edge::error::RestExceptionInfo),
        (status = 404, description = "Unknown session, OneDrive or folder; v2–v5", body = crate::edge::error::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn search_onedrive_folder(
    State(state): State<AppState>,
    d: DriveCtx,
    page: PageReq,
    Query(params): Query<SearchParams>,
    Path(p): Path<DriveItemPath>,
    LenientJson(o): LenientJson<SearchOptions>,
) -> Result<ItemPage, ApiError> {
    let folder = d.item(&state, &p.item_id, true).await?;
    let scope = SearchScope::Folder { container: d.id(), folder: folder.item_id };
    search_drive(&state, page, &params, &o, d, scope).await
}

// ---------------------------------------------------------------------------------------------------------------
// SharePoint

/// Searches `scope` (inside `lists`, each with its site) and answers the page; each result is shown as the browse
/// listing that holds it would show it.
async fn sp_search(
    vesp: &VespCtx,
    hrefs: Hrefs,
    page: &PageReq,
    params: &SearchParams,
    lists: Vec<(Site, SiteList)>,
    folder: Option<(Uuid, String)>,
    o: &SearchOptions,
) -> Result<SharePointEntryPage, ApiError> {
    let kind = item_type(params, "Items")?;
    let terms = terms(o)?;
    let Some(at) = vesp.at() else { return Ok(page_of(&page.ctx, page.paging, Vec::new(), 0, vesp.version)) };
    let scope = match folder {
        Some((container, folder)) => SearchScope::Folder { container, folder },
        None => SearchScope::Containers(lists.iter().map(|(_, l)| l.id).collect()),
    };
    let (found, total) = search_page(&vesp.catalog, scope, at, vesp.show_deleted(), kind, terms, page.paging).await?;
    let by_id: HashMap<Uuid, &(Site, SiteList)> = lists.iter().map(|e| (e.1.id, e)).collect();
    let h = SitesHrefs::new(hrefs, vesp.session.id);
    let mut results = Vec::with_capacity(found.len());
    for row in &found {
        let (site, list) =
            by_id.get(&row.container_id).ok_or_else(|| ApiError::internal("search result outside its scope"))?;
        results.push(search_entry(vesp, &h, site, list, row).await?);
    }
    Ok(page_of(&page.ctx, page.paging, results, total, vesp.version))
}

/// The lists and libraries of `site`, each paired with it.
fn site_lists(site: &SiteCtx) -> Vec<(Site, SiteList)> {
    site.lists.iter().map(|l| (site.site.clone(), l.clone())).collect()
}

/// Search every site of a restore session (v6+).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/search",
    tag = "Search",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        SearchParams,
        ("setId" = Option<String>, Query, description = "Accepted and ignored (results are not cached)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    request_body = SearchOptions,
    responses(
        (status = 200, description = "PageOfRESTItemComposed: matching documents, folders and list items of every site", body = SharePointEntryPage),
        (status = 400, description = "Bad query, itemType, offset or limit", body = crate::edge::error::RestExceptionInfo),
        (status = 404, description = "Unknown session (or another user's); v2–v5", body = crate::edge::error::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn search_sites(
    vesp: VespCtx,
    hrefs: Hrefs,
    page: PageReq,
    Query(params): Query<SearchParams>,
    LenientJson(o): LenientJson<SearchOptions>,
) -> Result<SharePointEntryPage, ApiError> {
    let mut lists = Vec::new();
    if let Some(at) = vesp.at() {
        let all = |kind| vesp.containers(at, kind).page(0, EVERY_ROW);
        let sites: HashMap<String, Site> = vesp
            .catalog
            .containers_at(&all(ContainerKind::Site))
            .await?
            .rows
            .into_iter()
            .filter_map(Site::from_row)
            .map(|s| (s.info.site_id.clone(), s))
            .collect();
        // A list is searched when its site is visible in the session.
        for list in vesp.catalog.containers_at(&all(ContainerKind::List)).await?.rows {
            if let Some(l) = SiteList::from_row(list) {
                if let Some(site) = sites.get(&l.info.site_id) {
                    lists.push((site.clone(), l));
                }
            }
        }
    }
    sp_search(&vesp, hrefs, &page, &params, lists, None, &o).await
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
        SearchParams,
        ("setId" = Option<String>, Query, description = "Accepted and ignored (results are not cached)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    request_body = SearchOptions,
    responses(
        (status = 200, description = "PageOfRESTItemComposed: matching documents, folders and list items of the site's own lists and libraries", body = SharePointEntryPage),
        (status = 400, description = "Bad query, itemType, offset or limit", body = crate::edge::error::RestExceptionInfo),
        (status = 404, description = "Unknown session or site; v2–v5", body = crate::edge::error::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn search_site(
    site: SiteCtx,
    hrefs: Hrefs,
    page: PageReq,
    Query(params): Query<SearchParams>,
    LenientJson(o): LenientJson<SearchOptions>,
) -> Result<SharePointEntryPage, ApiError> {
    sp_search(&site.vesp(), hrefs, &page, &params, site_lists(&site), None, &o).await
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
        SearchParams,
        ("setId" = Option<String>, Query, description = "Accepted and ignored (results are not cached)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    request_body = SearchOptions,
    responses(
        (status = 200, description = "PageOfRESTItemComposed: matching items below the folder (not the folder itself)", body = SharePointEntryPage),
        (status = 400, description = "Bad query, itemType, offset or limit", body = crate::edge::error::RestExceptionInfo),
        (status = 404, description = "Unknown session, site or folder; v2–v5", body = crate::edge::error::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn search_site_folder(
    site: SiteCtx,
    hrefs: Hrefs,
    page: PageReq,
    Query(params): Query<SearchParams>,
    Path(p): Path<SiteItemPath>,
    LenientJson(o): LenientJson<SearchOptions>,
) -> Result<SharePointEntryPage, ApiError> {
    let folder = match site.find_item(None, &p.item_id, |_, _| true).await? {
        Some((list, row)) if row.state.is_folder => (list.id, row.item_id),
        _ => return Err(not_found("folder", &p.item_id)),
    };
    sp_search(&site.vesp(), hrefs, &page, &params, site_lists(&site), Some(folder), &o).await
}

/// Search a SharePoint list or document library (v6+).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Lists/{listId}/search",
    tag = "Search",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("listId" = String, Path, description = "List id"),
        SearchParams,
        ("setId" = Option<String>, Query, description = "Accepted and ignored (results are not cached)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    request_body = SearchOptions,
    responses(
        (status = 200, description = "PageOfRESTItemComposed: matching list items (documents) and folders of the list (library)", body = SharePointEntryPage),
        (status = 400, description = "Bad query, itemType, offset or limit", body = crate::edge::error::RestExceptionInfo),
        (status = 404, description = "Unknown session, site, list or library; v2–v5", body = crate::edge::error::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn search_list(
    site: SiteCtx,
    hrefs: Hrefs,
    page: PageReq,
    Query(params): Query<SearchParams>,
    target: SiteTarget,
    LenientJson(o): LenientJson<SearchOptions>,
) -> Result<SharePointEntryPage, ApiError> {
    let list = match &target.scope {
        SpScope::List(id) => site.list(id, Some(false))?,
        SpScope::Library(id) => site.list(id, Some(true))?,
        other => return Err(ApiError::internal(format!("{other:?} is not a list"))),
    }
    .clone();
    sp_search(&site.vesp(), hrefs, &page, &params, vec![(site.site.clone(), list)], None, &o).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_types_per_explorer() {
        let q = |s: &str| -> SearchParams { crate::edge::query::LenientQuery::parse(s).unwrap().typed().unwrap() };
        assert_eq!(item_type(&q(""), "Documents").unwrap(), ItemKind::Any);
        assert_eq!(item_type(&q("itemtype=folders"), "Documents").unwrap(), ItemKind::Folder);
        assert_eq!(item_type(&q("itemType=Documents"), "Documents").unwrap(), ItemKind::File);
        assert_eq!(item_type(&q("itemType=Items"), "Items").unwrap(), ItemKind::File);
        let e = item_type(&q("itemType=Items"), "Documents").unwrap_err();
        assert_eq!(e.message, "'itemType' must be one of All, Folders, Documents");
        assert!(item_type(&q("itemType=Documents"), "Items").is_err());
    }
}
