//! SharePoint browsing inside a restore session of type `Vesp` (veeam-api-notes §9.1), every era. The paths and
//! answers are in each handler's `#[utoipa::path]`; the shapes and their era differences in
//! [`crate::wire::sharepoint`]; the session, site and id conventions in [`crate::ctx::site`].
//!
//! Catalog mapping: sites are `Site` containers (`parent_site_id` links subsites), lists and libraries are `List`
//! containers whose parent reference is the site's Graph id (`is_document_library` tells them apart); a library's
//! content is drive items (documents and folders), a generic list's content is list items with `fields` and
//! attachments. Everything is shown as of the session's instant, deleted objects only with `showDeleted`, previous
//! versions only with `showAllVersions`.
//!
//! Decisions (the vendor leaves them open):
//! * `parentId` of a content listing is a list, library or folder id; `root`/`null` is the top level of every list
//!   of the kind; omitted is everything, recursively ([`ParentSel`]).
//! * `versionId` is the 1-based ordinal of a version in the item's history (oldest first); a folder has one version.
//! * Attachment ids are the lower-case hex of the UTF-8 file name; the plain file name is accepted too.

use axum::extract::Path;
use repo::catalog::{ContainerKind, ItemKind, ItemQuery, ItemRow};

use crate::ctx::catalog_view::{all_children, numbered_versions, walk_tree, NumberedVersion};
use crate::ctx::site::{not_found, Site, SiteCtx, SiteList, VespCtx, EVERY_ROW};
use crate::edge::error::ApiError;
use crate::edge::error::RestExceptionInfo;
use crate::edge::paging::{Hrefs, PageContext, Paging};
use crate::edge::query::Query;
use crate::edge::version::ApiVersion;
use crate::resources::browse_util::{page_of, window, ParentSel};
use crate::resources::route_paths::{SiteAttachmentPath, SiteItemPath, SiteListPath, SiteVersionPath};
use crate::resources::sp_attachments;
use crate::wire::sharepoint::{
    ContentQuery, SharePointAttachment, SharePointAttachmentPage, SharePointDocument, SharePointDocumentPage,
    SharePointEntry, SharePointEntryPage, SharePointFolder, SharePointFolderPage, SharePointItem, SharePointItemPage,
    SharePointList, SharePointListPage, SharePointSite, SharePointSitePage, ShownItem, SitesHrefs, SitesQuery, View,
};
use crate::wire::Json;

/// Attachment ids, for clients of this module (tests name attachments by id).
pub use crate::wire::sharepoint::attachment_id;

/// Which content an item route or listing serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Content {
    /// Library files (and, in v7+ listings with `includeFolders`, folders).
    Documents,
    /// Folders of lists and libraries.
    Folders,
    /// Generic list items (and, in v7+ listings with `includeFolders`, folders).
    Items,
}

impl Content {
    /// The noun of a 404.
    fn what(self) -> &'static str {
        match self {
            Content::Documents => "document",
            Content::Folders => "folder",
            Content::Items => "item",
        }
    }

    /// Whether the content lives in `list`.
    fn in_list(self, list: &SiteList) -> bool {
        match self {
            Content::Documents => list.is_library(),
            Content::Folders => true,
            Content::Items => !list.is_library(),
        }
    }

    /// The lists of `site` that hold this content.
    fn lists(self, site: &SiteCtx) -> Vec<SiteList> {
        site.lists.iter().filter(|l| self.in_list(l)).cloned().collect()
    }

    /// The catalog kind a listing of this content returns: folders, or files and (if asked) folders.
    fn listed_kind(self, version: ApiVersion, query: &ContentQuery) -> ItemKind {
        match self {
            Content::Folders => ItemKind::Folder,
            _ if query.include_folders(version) => ItemKind::Any,
            _ => ItemKind::File,
        }
    }
}

/// The item `api_id` of the path, if it is `content`; 404 naming it otherwise.
async fn content_item(site: &SiteCtx, content: Content, api_id: &str) -> Result<(SiteList, ItemRow), ApiError> {
    let lists = content.lists(site);
    match site.find_item(Some(&lists), api_id, |_, _| true).await? {
        Some((list, row)) if row.state.is_folder == (content == Content::Folders) => Ok((list, row)),
        _ => Err(not_found(content.what(), api_id)),
    }
}

/// Every version of an item known at the session's instant, oldest first.
async fn versions(site: &SiteCtx, list: &SiteList, row: &ItemRow) -> Result<Vec<NumberedVersion>, ApiError> {
    Ok(numbered_versions(&site.catalog, list.id, &row.item_id, site.at).await?)
}

/// The previous versions of an item (all but the newest), newest first; none without `showAllVersions`.
async fn previous_versions(site: &SiteCtx, list: &SiteList, row: &ItemRow) -> Result<Vec<NumberedVersion>, ApiError> {
    if !site.session.show_all_versions {
        return Ok(Vec::new());
    }
    let mut all = versions(site, list, row).await?;
    all.pop();
    all.reverse();
    Ok(all)
}

/// Version `version_id` of an item: a previous one only with `showAllVersions`, the newest always.
async fn one_version(
    site: &SiteCtx,
    list: &SiteList,
    row: &ItemRow,
    version_id: &str,
) -> Result<NumberedVersion, ApiError> {
    let nf = || not_found("version", version_id);
    let wanted: i64 = version_id.trim().parse().map_err(|_| nf())?;
    let all = versions(site, list, row).await?;
    let newest = all.last().map(|v| v.id);
    all.into_iter()
        .find(|v| i64::from(v.id) == wanted && (site.session.show_all_versions || Some(v.id) == newest))
        .ok_or_else(nf)
}

/// A browse answer's hrefs.
fn sites_hrefs(hrefs: Hrefs, session: &crate::store::sessions::RestoreSession) -> SitesHrefs {
    SitesHrefs::new(hrefs, session.id)
}

/// The rows of a content listing with their lists, in output order, and the total.
struct Rows {
    rows: Vec<(SiteList, ItemRow)>,
    total: u64,
}

/// The rows of `content` below `parentId` of the query (see the [module docs](self)).
async fn content_rows(
    site: &SiteCtx,
    content: Content,
    query: &ContentQuery,
    paging: Paging,
) -> Result<Rows, ApiError> {
    let kind = content.listed_kind(site.version, query);
    let lists = content.lists(site);
    let (catalog, at, sd) = (&site.catalog, site.at, site.session.show_deleted);
    let paired = |l: &SiteList, rows: Vec<ItemRow>| rows.into_iter().map(|i| (l.clone(), i)).collect::<Vec<_>>();
    let rows = match ParentSel::of(query.parent_id.as_deref()) {
        ParentSel::All => {
            let mut rows = Vec::new();
            for l in &lists {
                rows.extend(paired(l, walk_tree(catalog, l.id, None, at, sd, kind).await?));
            }
            let total = rows.len() as u64;
            Rows { rows: window(rows, paging), total }
        }
        ParentSel::Root => {
            let mut rows = Vec::new();
            for l in &lists {
                rows.extend(paired(l, all_children(catalog, l.id, None, at, sd, kind).await?));
            }
            let total = rows.len() as u64;
            Rows { rows: window(rows, paging), total }
        }
        ParentSel::Folder(parent) => {
            // A list/library id (its top level) or a folder id.
            let (list, parent_item) = match lists.iter().find(|l| l.id.to_string().eq_ignore_ascii_case(parent.trim()))
            {
                Some(l) => (l.clone(), None),
                None => match site.find_item(Some(&lists), &parent, |_, _| true).await? {
                    Some((l, row)) if row.state.is_folder => (l, Some(row.item_id)),
                    _ => return Err(not_found("folder, list or library", &parent)),
                },
            };
            let mut q =
                ItemQuery::new(list.id, at).show_deleted(sd).kind(kind).page(paging.offset_i64(), paging.limit_i64());
            if let Some(p) = parent_item {
                q = q.parent(p);
            }
            let page = catalog.items_at(&q).await?;
            Rows { rows: paired(&list, page.rows), total: page.total as u64 }
        }
    };
    Ok(rows)
}

/// Each row shown with its current version (the newest known at the session's instant) by `make`.
async fn shown_rows<T>(
    site: &SiteCtx,
    rows: &[(SiteList, ItemRow)],
    make: impl Fn(&ShownItem<'_>) -> T,
) -> Result<Vec<T>, ApiError> {
    let mut out = Vec::with_capacity(rows.len());
    for (list, row) in rows {
        let all = versions(site, list, row).await?;
        out.push(make(&ShownItem { site: &site.site, list, row, version: all.last(), as_version: false }));
    }
    Ok(out)
}

/// A search result in the view the browse listing that holds it uses (for the search operations).
pub(crate) async fn search_entry(
    vesp: &VespCtx,
    h: &SitesHrefs,
    site: &Site,
    list: &SiteList,
    row: &ItemRow,
) -> Result<SharePointEntry, ApiError> {
    let all = match vesp.at() {
        Some(at) => numbered_versions(&vesp.catalog, list.id, &row.item_id, at).await?,
        None => Vec::new(),
    };
    let shown = ShownItem { site, list, row, version: all.last(), as_version: false };
    Ok(SharePointEntry::new(h, &shown, View::search_result(vesp.version, list, row)))
}

// ---------------------------------------------------------------------------------------------------------------
// Sites
// ---------------------------------------------------------------------------------------------------------------

/// Sites of the session.
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites",
    tag = "SharePoint",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        SitesQuery,
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    responses(
        (status = 200, description = "A page of sites", body = SharePointSitePage),
        (status = 400, description = "Bad offset or limit", body = RestExceptionInfo),
        (status = 401, description = "Not authenticated", body = RestExceptionInfo),
        (status = 404, description = "Unknown session or parent site", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list_sites(
    vesp: VespCtx,
    hrefs: Hrefs,
    page: PageContext,
    paging: Paging,
    Query(query): Query<SitesQuery>,
) -> Result<SharePointSitePage, ApiError> {
    let Some(at) = vesp.at() else { return Ok(page_of(&page, paging, Vec::new(), 0, vesp.version)) };
    let all = vesp.containers(at, ContainerKind::Site);
    let (sites, total) = match ParentSel::of(query.parent_id.as_deref()) {
        ParentSel::All => {
            let page = vesp.catalog.containers_at(&all.page(paging.offset_i64(), paging.limit_i64())).await?;
            (page.rows.into_iter().filter_map(Site::from_row).collect::<Vec<_>>(), page.total as u64)
        }
        ParentSel::Root => {
            let every = vesp.catalog.containers_at(&all.page(0, EVERY_ROW)).await?;
            let top: Vec<Site> =
                every.rows.into_iter().filter_map(Site::from_row).filter(|s| s.info.parent_site_id.is_none()).collect();
            let total = top.len() as u64;
            (window(top, paging), total)
        }
        ParentSel::Folder(parent) => {
            let (_, parent) = vesp.find_site(&parent).await?;
            let q = all.parent_ref(parent.info.site_id.clone()).page(paging.offset_i64(), paging.limit_i64());
            let page = vesp.catalog.containers_at(&q).await?;
            (page.rows.into_iter().filter_map(Site::from_row).collect(), page.total as u64)
        }
    };
    let h = sites_hrefs(hrefs, &vesp.session);
    let mut out = Vec::with_capacity(sites.len());
    for s in &sites {
        out.push(SharePointSite::new(&h, s, vesp.parent_of(s).await?));
    }
    Ok(page_of(&page, paging, out, total, vesp.version))
}

/// A site.
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}",
    tag = "SharePoint",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id")
    ),
    responses(
        (status = 200, description = "The site", body = SharePointSite),
        (status = 401, description = "Not authenticated", body = RestExceptionInfo),
        (status = 404, description = "Unknown session or site", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_site(site: SiteCtx, hrefs: Hrefs) -> Result<Json<SharePointSite>, ApiError> {
    let parent = site.vesp().parent_of(&site.site).await?;
    Ok(Json(SharePointSite::new(&sites_hrefs(hrefs, &site.session), &site.site, parent)))
}

// ---------------------------------------------------------------------------------------------------------------
// Lists and libraries
// ---------------------------------------------------------------------------------------------------------------

/// Generic lists of a site.
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Lists",
    tag = "SharePoint",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    responses(
        (status = 200, description = "A page of lists", body = SharePointListPage),
        (status = 400, description = "Bad offset or limit", body = RestExceptionInfo),
        (status = 401, description = "Not authenticated", body = RestExceptionInfo),
        (status = 404, description = "Unknown session or site", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list_lists(
    site: SiteCtx,
    hrefs: Hrefs,
    page: PageContext,
    paging: Paging,
) -> Result<SharePointListPage, ApiError> {
    let h = sites_hrefs(hrefs, &site.session);
    let lists: Vec<&SiteList> = site.lists_of_kind(false).collect();
    let total = lists.len() as u64;
    let out = window(lists, paging).into_iter().map(|l| SharePointList::new(&h, &site.site, l)).collect();
    Ok(page_of(&page, paging, out, total, site.version))
}

/// A generic list.
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Lists/{listId}",
    tag = "SharePoint",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("listId" = String, Path, description = "List id")
    ),
    responses(
        (status = 200, description = "The list", body = SharePointList),
        (status = 401, description = "Not authenticated", body = RestExceptionInfo),
        (status = 404, description = "Unknown session, site or list", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_list(
    site: SiteCtx,
    hrefs: Hrefs,
    Path(p): Path<SiteListPath>,
) -> Result<Json<SharePointList>, ApiError> {
    let list = site.list(&p.list_id, Some(false))?;
    Ok(Json(SharePointList::new(&sites_hrefs(hrefs, &site.session), &site.site, list)))
}

/// Document libraries of a site.
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Libraries",
    tag = "SharePoint",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    responses(
        (status = 200, description = "A page of libraries (RESTSharePointList shape)", body = SharePointListPage),
        (status = 400, description = "Bad offset or limit", body = RestExceptionInfo),
        (status = 401, description = "Not authenticated", body = RestExceptionInfo),
        (status = 404, description = "Unknown session or site", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list_libraries(
    site: SiteCtx,
    hrefs: Hrefs,
    page: PageContext,
    paging: Paging,
) -> Result<SharePointListPage, ApiError> {
    let h = sites_hrefs(hrefs, &site.session);
    let libraries: Vec<&SiteList> = site.lists_of_kind(true).collect();
    let total = libraries.len() as u64;
    let out = window(libraries, paging).into_iter().map(|l| SharePointList::new(&h, &site.site, l)).collect();
    Ok(page_of(&page, paging, out, total, site.version))
}

/// A document library.
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Libraries/{libraryId}",
    tag = "SharePoint",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("libraryId" = String, Path, description = "Library id")
    ),
    responses(
        (status = 200, description = "The library (RESTSharePointList shape)", body = SharePointList),
        (status = 401, description = "Not authenticated", body = RestExceptionInfo),
        (status = 404, description = "Unknown session, site or library", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_library(
    site: SiteCtx,
    hrefs: Hrefs,
    Path(p): Path<SiteListPath>,
) -> Result<Json<SharePointList>, ApiError> {
    let library = site.list(&p.list_id, Some(true))?;
    Ok(Json(SharePointList::new(&sites_hrefs(hrefs, &site.session), &site.site, library)))
}

// ---------------------------------------------------------------------------------------------------------------
// Folders
// ---------------------------------------------------------------------------------------------------------------

/// Folders of a site's lists and libraries.
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Folders",
    tag = "SharePoint",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ContentQuery,
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    responses(
        (status = 200, description = "A page of folders", body = SharePointFolderPage),
        (status = 400, description = "Bad offset or limit", body = RestExceptionInfo),
        (status = 401, description = "Not authenticated", body = RestExceptionInfo),
        (status = 404, description = "Unknown session, site or parent", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list_folders(
    site: SiteCtx,
    hrefs: Hrefs,
    page: PageContext,
    paging: Paging,
    Query(query): Query<ContentQuery>,
) -> Result<SharePointFolderPage, ApiError> {
    let h = sites_hrefs(hrefs, &site.session);
    let Rows { rows, total } = content_rows(&site, Content::Folders, &query, paging).await?;
    let out = shown_rows(&site, &rows, |shown| SharePointFolder::new(&h, shown)).await?;
    Ok(page_of(&page, paging, out, total, site.version))
}

/// A folder of a list or library.
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Folders/{folderId}",
    tag = "SharePoint",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("folderId" = String, Path, description = "Folder id")
    ),
    responses(
        (status = 200, description = "The folder", body = SharePointFolder),
        (status = 401, description = "Not authenticated", body = RestExceptionInfo),
        (status = 404, description = "Unknown session, site or folder", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_folder(
    site: SiteCtx,
    hrefs: Hrefs,
    Path(p): Path<SiteItemPath>,
) -> Result<Json<SharePointFolder>, ApiError> {
    let (list, row) = content_item(&site, Content::Folders, &p.item_id).await?;
    let all = versions(&site, &list, &row).await?;
    let shown = ShownItem { site: &site.site, list: &list, row: &row, version: all.last(), as_version: false };
    Ok(Json(SharePointFolder::new(&sites_hrefs(hrefs, &site.session), &shown)))
}

/// Previous versions of a folder (v6+; a folder has none).
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Folders/{folderId}/Versions",
    tag = "SharePoint",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("folderId" = String, Path, description = "Folder id"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    responses(
        (status = 200, description = "A page of folder versions", body = SharePointFolderPage),
        (status = 400, description = "Bad offset or limit", body = RestExceptionInfo),
        (status = 401, description = "Not authenticated", body = RestExceptionInfo),
        (status = 404, description = "Unknown session, site or folder; v2–v5", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list_folder_versions(
    site: SiteCtx,
    hrefs: Hrefs,
    page: PageContext,
    paging: Paging,
    Path(p): Path<SiteItemPath>,
) -> Result<SharePointFolderPage, ApiError> {
    let h = sites_hrefs(hrefs, &site.session);
    let (list, row) = content_item(&site, Content::Folders, &p.item_id).await?;
    let previous = previous_versions(&site, &list, &row).await?;
    let total = previous.len() as u64;
    let shown = |nv| ShownItem { site: &site.site, list: &list, row: &row, version: Some(nv), as_version: true };
    let out = window(previous, paging).iter().map(|nv| SharePointFolder::new(&h, &shown(nv))).collect();
    Ok(page_of(&page, paging, out, total, site.version))
}

/// A version of a folder (v6+).
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Folders/{folderId}/Versions/{versionId}",
    tag = "SharePoint",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("folderId" = String, Path, description = "Folder id"),
        ("versionId" = String, Path, description = "Version ordinal (oldest = 1)")
    ),
    responses(
        (status = 200, description = "The folder version", body = SharePointFolder),
        (status = 401, description = "Not authenticated", body = RestExceptionInfo),
        (status = 404, description = "Unknown session, site, folder or version; v2–v5", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_folder_version(
    site: SiteCtx,
    hrefs: Hrefs,
    Path(p): Path<SiteVersionPath>,
) -> Result<Json<SharePointFolder>, ApiError> {
    let (list, row) = content_item(&site, Content::Folders, &p.item_id).await?;
    let nv = one_version(&site, &list, &row, &p.version_id).await?;
    let shown = ShownItem { site: &site.site, list: &list, row: &row, version: Some(&nv), as_version: true };
    Ok(Json(SharePointFolder::new(&sites_hrefs(hrefs, &site.session), &shown)))
}

// ---------------------------------------------------------------------------------------------------------------
// Documents
// ---------------------------------------------------------------------------------------------------------------

/// Library documents (v7+: `RESTItemComposed`, with `includeFolders` also folders).
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Documents",
    tag = "SharePoint",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ContentQuery,
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    responses(
        (status = 200, description = "A page of documents (v2–v6 RESTSharePointDocument, v7+ RESTItemComposed)", body = SharePointEntryPage),
        (status = 400, description = "Bad offset, limit or includeFolders", body = RestExceptionInfo),
        (status = 401, description = "Not authenticated", body = RestExceptionInfo),
        (status = 404, description = "Unknown session, site or parent", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list_documents(
    site: SiteCtx,
    hrefs: Hrefs,
    page: PageContext,
    paging: Paging,
    Query(query): Query<ContentQuery>,
) -> Result<SharePointEntryPage, ApiError> {
    let h = sites_hrefs(hrefs, &site.session);
    let view = View::documents_listing(site.version);
    let Rows { rows, total } = content_rows(&site, Content::Documents, &query, paging).await?;
    let out = shown_rows(&site, &rows, |shown| SharePointEntry::new(&h, shown, view)).await?;
    Ok(page_of(&page, paging, out, total, site.version))
}

/// A library document (`RESTSharePointDocument` in every era).
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Documents/{documentId}",
    tag = "SharePoint",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("documentId" = String, Path, description = "Document id")
    ),
    responses(
        (status = 200, description = "The document", body = SharePointDocument),
        (status = 401, description = "Not authenticated", body = RestExceptionInfo),
        (status = 404, description = "Unknown session, site or document", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_document(
    site: SiteCtx,
    hrefs: Hrefs,
    Path(p): Path<SiteItemPath>,
) -> Result<Json<SharePointDocument>, ApiError> {
    let (list, row) = content_item(&site, Content::Documents, &p.item_id).await?;
    let all = versions(&site, &list, &row).await?;
    let shown = ShownItem { site: &site.site, list: &list, row: &row, version: all.last(), as_version: false };
    Ok(Json(SharePointDocument::new(&sites_hrefs(hrefs, &site.session), &shown)))
}

/// Previous versions of a document (v6+, sessions with `showAllVersions`).
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Documents/{documentId}/Versions",
    tag = "SharePoint",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("documentId" = String, Path, description = "Document id"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    responses(
        (status = 200, description = "A page of document versions, newest first", body = SharePointDocumentPage),
        (status = 400, description = "Bad offset or limit", body = RestExceptionInfo),
        (status = 401, description = "Not authenticated", body = RestExceptionInfo),
        (status = 404, description = "Unknown session, site or document; v2–v5", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list_document_versions(
    site: SiteCtx,
    hrefs: Hrefs,
    page: PageContext,
    paging: Paging,
    Path(p): Path<SiteItemPath>,
) -> Result<SharePointDocumentPage, ApiError> {
    let h = sites_hrefs(hrefs, &site.session);
    let (list, row) = content_item(&site, Content::Documents, &p.item_id).await?;
    let previous = previous_versions(&site, &list, &row).await?;
    let total = previous.len() as u64;
    let shown = |nv| ShownItem { site: &site.site, list: &list, row: &row, version: Some(nv), as_version: true };
    let out = window(previous, paging).iter().map(|nv| SharePointDocument::new(&h, &shown(nv))).collect();
    Ok(page_of(&page, paging, out, total, site.version))
}

/// A version of a document (v6+).
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Documents/{documentId}/Versions/{versionId}",
    tag = "SharePoint",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("documentId" = String, Path, description = "Document id"),
        ("versionId" = String, Path, description = "Version ordinal (oldest = 1)")
    ),
    responses(
        (status = 200, description = "The document version", body = SharePointDocument),
        (status = 401, description = "Not authenticated", body = RestExceptionInfo),
        (status = 404, description = "Unknown session, site, document or version; v2–v5", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_document_version(
    site: SiteCtx,
    hrefs: Hrefs,
    Path(p): Path<SiteVersionPath>,
) -> Result<Json<SharePointDocument>, ApiError> {
    let (list, row) = content_item(&site, Content::Documents, &p.item_id).await?;
    let nv = one_version(&site, &list, &row, &p.version_id).await?;
    let shown = ShownItem { site: &site.site, list: &list, row: &row, version: Some(&nv), as_version: true };
    Ok(Json(SharePointDocument::new(&sites_hrefs(hrefs, &site.session), &shown)))
}

// ---------------------------------------------------------------------------------------------------------------
// List items
// ---------------------------------------------------------------------------------------------------------------

/// Generic list items (v7+ with `includeFolders` also list folders).
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Items",
    tag = "SharePoint",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ContentQuery,
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    responses(
        (status = 200, description = "A page of list items", body = SharePointItemPage),
        (status = 400, description = "Bad offset, limit or includeFolders", body = RestExceptionInfo),
        (status = 401, description = "Not authenticated", body = RestExceptionInfo),
        (status = 404, description = "Unknown session, site or parent", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list_items(
    site: SiteCtx,
    hrefs: Hrefs,
    page: PageContext,
    paging: Paging,
    Query(query): Query<ContentQuery>,
) -> Result<SharePointItemPage, ApiError> {
    let h = sites_hrefs(hrefs, &site.session);
    let Rows { rows, total } = content_rows(&site, Content::Items, &query, paging).await?;
    let out = shown_rows(&site, &rows, |shown| SharePointItem::new(&h, shown)).await?;
    Ok(page_of(&page, paging, out, total, site.version))
}

/// A generic list item.
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Items/{itemId}",
    tag = "SharePoint",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("itemId" = String, Path, description = "Item id (<list id><item id>)")
    ),
    responses(
        (status = 200, description = "The item", body = SharePointItem),
        (status = 401, description = "Not authenticated", body = RestExceptionInfo),
        (status = 404, description = "Unknown session, site or item", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_item(
    site: SiteCtx,
    hrefs: Hrefs,
    Path(p): Path<SiteItemPath>,
) -> Result<Json<SharePointItem>, ApiError> {
    let (list, row) = content_item(&site, Content::Items, &p.item_id).await?;
    let all = versions(&site, &list, &row).await?;
    let shown = ShownItem { site: &site.site, list: &list, row: &row, version: all.last(), as_version: false };
    Ok(Json(SharePointItem::new(&sites_hrefs(hrefs, &site.session), &shown)))
}

/// Previous versions of a list item (v6+, sessions with `showAllVersions`).
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Items/{itemId}/Versions",
    tag = "SharePoint",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("itemId" = String, Path, description = "Item id"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    responses(
        (status = 200, description = "A page of item versions, newest first", body = SharePointItemPage),
        (status = 400, description = "Bad offset or limit", body = RestExceptionInfo),
        (status = 401, description = "Not authenticated", body = RestExceptionInfo),
        (status = 404, description = "Unknown session, site or item; v2–v5", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list_item_versions(
    site: SiteCtx,
    hrefs: Hrefs,
    page: PageContext,
    paging: Paging,
    Path(p): Path<SiteItemPath>,
) -> Result<SharePointItemPage, ApiError> {
    let h = sites_hrefs(hrefs, &site.session);
    let (list, row) = content_item(&site, Content::Items, &p.item_id).await?;
    let previous = previous_versions(&site, &list, &row).await?;
    let total = previous.len() as u64;
    let shown = |nv| ShownItem { site: &site.site, list: &list, row: &row, version: Some(nv), as_version: true };
    let out = window(previous, paging).iter().map(|nv| SharePointItem::new(&h, &shown(nv))).collect();
    Ok(page_of(&page, paging, out, total, site.version))
}

/// A version of a list item (v6+).
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Items/{itemId}/Versions/{versionId}",
    tag = "SharePoint",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("itemId" = String, Path, description = "Item id"),
        ("versionId" = String, Path, description = "Version ordinal (oldest = 1)")
    ),
    responses(
        (status = 200, description = "The item version", body = SharePointItem),
        (status = 401, description = "Not authenticated", body = RestExceptionInfo),
        (status = 404, description = "Unknown session, site, item or version; v2–v5", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_item_version(
    site: SiteCtx,
    hrefs: Hrefs,
    Path(p): Path<SiteVersionPath>,
) -> Result<Json<SharePointItem>, ApiError> {
    let (list, row) = content_item(&site, Content::Items, &p.item_id).await?;
    let nv = one_version(&site, &list, &row, &p.version_id).await?;
    let shown = ShownItem { site: &site.site, list: &list, row: &row, version: Some(&nv), as_version: true };
    Ok(Json(SharePointItem::new(&sites_hrefs(hrefs, &site.session), &shown)))
}

// ---------------------------------------------------------------------------------------------------------------
// Attachments
// ---------------------------------------------------------------------------------------------------------------

/// Attachments of a list item.
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Items/{itemId}/Attachments",
    tag = "SharePoint",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("itemId" = String, Path, description = "Item id"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    responses(
        (status = 200, description = "A page of attachments", body = SharePointAttachmentPage),
        (status = 400, description = "Bad offset or limit", body = RestExceptionInfo),
        (status = 401, description = "Not authenticated", body = RestExceptionInfo),
        (status = 404, description = "Unknown session, site or item", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list_attachments(
    site: SiteCtx,
    hrefs: Hrefs,
    page: PageContext,
    paging: Paging,
    Path(p): Path<SiteItemPath>,
) -> Result<SharePointAttachmentPage, ApiError> {
    let h = sites_hrefs(hrefs, &site.session);
    let (list, row) = content_item(&site, Content::Items, &p.item_id).await?;
    let attachments = paging.slice(&row.state.attachments);
    let out = attachments.iter().map(|a| SharePointAttachment::new(&h, &site.site, &list, &row, a)).collect();
    Ok(page_of(&page, paging, out, row.state.attachments.len() as u64, site.version))
}

/// An attachment of a list item (by id, the hex of its file name, or by file name).
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Items/{itemId}/Attachments/{attachmentId}",
    tag = "SharePoint",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("itemId" = String, Path, description = "Item id"),
        ("attachmentId" = String, Path, description = "Attachment id")
    ),
    responses(
        (status = 200, description = "The attachment", body = SharePointAttachment),
        (status = 401, description = "Not authenticated", body = RestExceptionInfo),
        (status = 404, description = "Unknown session, site, item or attachment", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_attachment(
    site: SiteCtx,
    hrefs: Hrefs,
    Path(p): Path<SiteAttachmentPath>,
) -> Result<Json<SharePointAttachment>, ApiError> {
    let (list, row) = content_item(&site, Content::Items, &p.item_id).await?;
    let a = sp_attachments::find(&row, &p.attachment_id).ok_or_else(|| not_found("attachment", &p.attachment_id))?;
    Ok(Json(SharePointAttachment::new(&sites_hrefs(hrefs, &site.session), &site.site, &list, &row, a)))
}

#[cfg(test)]
mod tests {
    use crate::edge::paths::canonical_route;

    #[test]
    fn documented_paths_are_canonical() {
        let doc = crate::router::document();
        let ours: Vec<&String> = doc.paths.paths.keys().filter(|p| p.contains("/Organization/Sites")).collect();
        assert!(ours.len() >= 20, "{ours:?}");
        for p in ours {
            assert_eq!(canonical_route(p), *p);
        }
        let schemas = doc.components.expect("components").schemas;
        for name in [
            "RESTSharePointSite",
            "RESTSharePointList",
            "RESTSharePointDocument",
            "RESTSharePointFolder",
            "RESTSharePointItem",
            "RESTItemComposed",
            "RESTSharePointAttachment",
        ] {
            assert!(schemas.contains_key(name), "{name} in {:?}", schemas.keys().collect::<Vec<_>>());
        }
    }
}
