//! OneDrive browsing inside a restore session of type `Veod` (veeam-api-notes §7), every era.
//!
//! Paths under `/{version}/RestoreSessions/{id}/Organization/OneDrives`:
//!
//! | path | versions | answer |
//! |---|---|---|
//! | `` | v2–v8 | page of OneDrives `{id, name, url, _links}` |
//! | `/{oneDriveId}` | v2–v8 | OneDrive |
//! | `/{oneDriveId}/Documents` | v2–v8 | page of documents; `parentId` = folder id, `root` / `null` = top level, omitted = everything recursively; v7+ `includeFolders=true` adds folders (`isFolder`) |
//! | `/{oneDriveId}/Documents/{documentId}` | v2–v8 | document (the version current at the session's point in time) |
//! | `/{oneDriveId}/Documents/{documentId}/Versions` | v6–v8 | page of the *previous* versions, newest first |
//! | `/{oneDriveId}/Documents/{documentId}/Versions/{versionId}` | v6–v8 | document as of that version |
//! | `/{oneDriveId}/Folders` | v2–v8 | page of folders (`parentId` as above) |
//! | `/{oneDriveId}/Folders/{folderId}` | v2–v8 | folder (v6+: `versionId` query) |
//! | `/{oneDriveId}/Folders/{folderId}/Versions[/{versionId}]` | v6–v8 | page of previous folder versions / folder |
//!
//! Decisions (the vendor leaves them open):
//! * Ids: OneDrive id = the catalog container UUID; document/folder id = the Microsoft item id; `versionId` = the
//!   1-based ordinal of the version in the document's history, oldest → newest, counted over every version known at
//!   the session's point in time (so it does not depend on `showAllVersions`); `version` = its label (`"2.0"`).
//! * Everything is shown as of the session's `browse_at`. An empty session (explored before the first backup) has
//!   empty pages and no items.
//! * Deleted OneDrives, folders and documents appear only when the session has `showDeleted`, then carry
//!   `"isDeleted": true` ([`crate::resources::browse_util::DELETED_MARKER`]).
//! * `showAllVersions` off: only the current version is visible — `/Versions` is an empty page and
//!   `/Versions/{versionId}` answers only for the current version (404 "… explore with showAllVersions …"
//!   otherwise). On: `/Versions` lists every earlier version.
//! * OneDrive folders are not versioned by Microsoft: a folder has the single version `"1.0"` (`versionId` 1), its
//!   `/Versions` page is empty, and `versionId` other than 1 is 404.
//! * Sessions of another type (Vex, Vesp, Vet) answer 404 with a message naming the session type.
//! * A folder id where a document is expected (and the reverse, also as `parentId`) is 404.

use axum::extract::{Path, State};
use repo::catalog::{ContainerKind, ContainerQuery, ItemKind, ItemQuery, ItemRow};
use uuid::Uuid;

use crate::ctx::drive::{DriveCtx, VeodSession};
use crate::edge::error::ApiError;
use crate::edge::paging::{Page, PageContext, Paging};
use crate::edge::query::Query;
use crate::resources::browse_util::{
    self, numbered_versions, page_of, window, NumberedVersion, ParentSel, FOLDER_VERSION_ID,
};
use crate::resources::route_paths::{DriveItemPath, DriveVersionPath};
use crate::state::AppState;
use crate::wire::onedrive::{
    Document, DocumentPage, DocumentsQuery, Folder, FolderPage, FolderQuery, FoldersQuery, Item, ItemPage, OneDrive,
    OneDrivePage,
};
use crate::wire::Json;

// ---------------------------------------------------------------------------------------------------------------
// Loading and rendering

/// The visible document `item_id` of `d` (404 otherwise).
async fn document(state: &AppState, d: &DriveCtx, item_id: &str) -> Result<ItemRow, ApiError> {
    d.item(state, item_id, false).await
}

/// The visible folder `item_id` of `d` (404 otherwise).
async fn folder(state: &AppState, d: &DriveCtx, item_id: &str) -> Result<ItemRow, ApiError> {
    d.item(state, item_id, true).await
}

/// A document or folder of a listing (the search routes render their results with it too).
pub(crate) async fn item(state: &AppState, d: &DriveCtx, row: &ItemRow) -> Result<Item, ApiError> {
    if row.state.is_folder {
        Ok(Item::Folder(Folder::new(d, row, false)))
    } else {
        let versions = numbered_versions(&state.catalog, d.row.id, &row.item_id, d.at).await?;
        Ok(Item::Document(Document::new(d, row, &versions, None)))
    }
}

/// A page of the items of `d` below `sel` of the given kind.
async fn listing(
    state: &AppState,
    d: &DriveCtx,
    sel: &ParentSel,
    kind: ItemKind,
    paging: Paging,
) -> Result<(Vec<ItemRow>, u64), ApiError> {
    let show_deleted = d.session.show_deleted;
    match sel {
        ParentSel::All => {
            let all = browse_util::walk_tree(&state.catalog, d.row.id, None, d.at, show_deleted, kind).await?;
            let total = all.len() as u64;
            Ok((window(all, paging), total))
        }
        ParentSel::Root | ParentSel::Folder(_) => {
            let mut q = ItemQuery::new(d.row.id, d.at)
                .show_deleted(show_deleted)
                .kind(kind)
                .page(paging.offset_i64(), paging.limit_i64());
            if let ParentSel::Folder(f) = sel {
                folder(state, d, f).await?;
                q = q.parent(f.clone());
            }
            let page = state.catalog.items_at(&q).await?;
            Ok((page.rows, page.total.max(0) as u64))
        }
    }
}

async fn tenant_domain(state: &AppState, org: Uuid) -> Result<String, ApiError> {
    Ok(state.catalog.organization(org).await?.map(|o| o.tenant_domain).unwrap_or_default())
}

/// `versionId` from a path or query: an int32, else 404 (the vendor's route constraint `{versionId:int}`).
fn parse_version_id(s: &str) -> Result<i32, ApiError> {
    s.trim().parse::<i32>().map_err(|_| ApiError::not_found(format!("Version {s} was not found.")))
}

// ---------------------------------------------------------------------------------------------------------------
// Handlers

/// Get the backed-up OneDrives.
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives",
    tag = "OneDrive",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    responses(
        (status = 200, description = "Page of OneDrives", body = OneDrivePage),
        (status = 404, description = "Unknown session or not a Veod session", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list_onedrives(
    State(state): State<AppState>,
    s: VeodSession,
    ctx: PageContext,
    paging: Paging,
) -> Result<Page<OneDrive>, ApiError> {
    let session = &s.session;
    let Some(at) = session.browse_at else {
        return Ok(page_of(&ctx, paging, Vec::new(), 0, s.era()));
    };
    let q = ContainerQuery::new(session.organization_id, at)
        .kind(ContainerKind::OneDrive)
        .show_deleted(session.show_deleted)
        .page(paging.offset_i64(), paging.limit_i64());
    let page = state.catalog.containers_at(&q).await?;
    let domain = tenant_domain(&state, session.organization_id).await?;
    let results = page.rows.iter().map(|r| OneDrive::new(&s.hrefs, session, r, &domain)).collect();
    Ok(page_of(&ctx, paging, results, page.total.max(0) as u64, s.era()))
}

/// Get a backed-up OneDrive.
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}",
    tag = "OneDrive",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id")
    ),
    responses(
        (status = 200, description = "OneDrive", body = OneDrive),
        (status = 404, description = "Unknown session or OneDrive", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_onedrive(State(state): State<AppState>, d: DriveCtx) -> Result<Json<OneDrive>, ApiError> {
    let domain = tenant_domain(&state, d.session.organization_id).await?;
    Ok(Json(OneDrive::new(&d.hrefs, &d.session, &d.row, &domain)))
}

/// Get the backed-up documents of a OneDrive.
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Documents",
    tag = "OneDrive",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id"),
        DocumentsQuery,
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    responses(
        (status = 200, description = "Page of documents (v7+ with includeFolders: documents and folders)", body = ItemPage),
        (status = 404, description = "Unknown session, OneDrive or parent folder", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list_documents(
    State(state): State<AppState>,
    d: DriveCtx,
    ctx: PageContext,
    paging: Paging,
    Query(q): Query<DocumentsQuery>,
) -> Result<Page<Item>, ApiError> {
    let kind = if q.include_folders(d.era()) { ItemKind::Any } else { ItemKind::File };
    let sel = ParentSel::of(q.parent_id.as_deref());
    let (rows, total) = listing(&state, &d, &sel, kind, paging).await?;
    let mut results = Vec::with_capacity(rows.len());
    for r in &rows {
        results.push(item(&state, &d, r).await?);
    }
    Ok(page_of(&ctx, paging, results, total, d.era()))
}

/// Get a backed-up OneDrive document.
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Documents/{documentId}",
    tag = "OneDrive",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id"),
        ("documentId" = String, Path, description = "Document id")
    ),
    responses(
        (status = 200, description = "Document", body = Document),
        (status = 404, description = "Unknown session, OneDrive or document", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_document(
    State(state): State<AppState>,
    d: DriveCtx,
    Path(p): Path<DriveItemPath>,
) -> Result<Json<Document>, ApiError> {
    let row = document(&state, &d, &p.item_id).await?;
    let versions = numbered_versions(&state.catalog, d.row.id, &row.item_id, d.at).await?;
    Ok(Json(Document::new(&d, &row, &versions, None)))
}

/// Get the previous versions of a backed-up OneDrive document (v6+).
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Documents/{documentId}/Versions",
    tag = "OneDrive",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id"),
        ("documentId" = String, Path, description = "Document id"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    responses(
        (status = 200, description = "Page of the previous versions, newest first (empty unless the session shows all versions)", body = DocumentPage),
        (status = 404, description = "Unknown session, OneDrive or document; or v2–v5", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list_document_versions(
    State(state): State<AppState>,
    d: DriveCtx,
    ctx: PageContext,
    paging: Paging,
    Path(p): Path<DriveItemPath>,
) -> Result<Page<Document>, ApiError> {
    let row = document(&state, &d, &p.item_id).await?;
    let versions = numbered_versions(&state.catalog, d.row.id, &row.item_id, d.at).await?;
    let previous: Vec<&NumberedVersion> =
        if d.session.show_all_versions { versions.iter().rev().skip(1).collect() } else { Vec::new() };
    let total = previous.len() as u64;
    let results = window(previous, paging).into_iter().map(|v| Document::new(&d, &row, &versions, Some(v))).collect();
    Ok(page_of(&ctx, paging, results, total, d.era()))
}

/// Get a version of a backed-up OneDrive document (v6+).
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Documents/{documentId}/Versions/{versionId}",
    tag = "OneDrive",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id"),
        ("documentId" = String, Path, description = "Document id"),
        ("versionId" = i32, Path, description = "Version ordinal (1 = oldest)")
    ),
    responses(
        (status = 200, description = "Document as of that version", body = Document),
        (status = 404, description = "Unknown session, OneDrive, document or version; or v2–v5", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_document_version(
    State(state): State<AppState>,
    d: DriveCtx,
    Path(p): Path<DriveVersionPath>,
) -> Result<Json<Document>, ApiError> {
    let n = parse_version_id(&p.version_id)?;
    let row = document(&state, &d, &p.item_id).await?;
    let versions = numbered_versions(&state.catalog, d.row.id, &row.item_id, d.at).await?;
    let current = versions.last().map(|v| v.id).unwrap_or(1);
    let not_found = || ApiError::not_found(format!("Version {n} of document {} was not found.", row.item_id));
    if versions.is_empty() {
        // Nothing recorded: the current state is the only version.
        return if n == 1 { Ok(Json(Document::new(&d, &row, &versions, None))) } else { Err(not_found()) };
    }
    let v = versions.iter().find(|v| v.id == n).ok_or_else(not_found)?;
    if v.id != current && !d.session.show_all_versions {
        return Err(ApiError::not_found(format!(
            "Version {n} of document {} is not available: this restore session shows the latest versions only \
             (explore with showAllVersions to browse previous versions).",
            row.item_id
        )));
    }
    Ok(Json(Document::new(&d, &row, &versions, Some(v))))
}

/// Get the backed-up folders of a OneDrive.
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Folders",
    tag = "OneDrive",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id"),
        FoldersQuery,
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    responses(
        (status = 200, description = "Page of folders", body = FolderPage),
        (status = 404, description = "Unknown session, OneDrive or parent folder", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list_folders(
    State(state): State<AppState>,
    d: DriveCtx,
    ctx: PageContext,
    paging: Paging,
    Query(q): Query<FoldersQuery>,
) -> Result<Page<Folder>, ApiError> {
    let sel = ParentSel::of(q.parent_id.as_deref());
    let (rows, total) = listing(&state, &d, &sel, ItemKind::Folder, paging).await?;
    let results = rows.iter().map(|r| Folder::new(&d, r, false)).collect();
    Ok(page_of(&ctx, paging, results, total, d.era()))
}

/// Get a backed-up OneDrive folder.
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Folders/{folderId}",
    tag = "OneDrive",
    params(
        ("version" = String, Path, description = "API version: v2 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id"),
        ("folderId" = String, Path, description = "Folder id"),
        FolderQuery
    ),
    responses(
        (status = 200, description = "Folder", body = Folder),
        (status = 404, description = "Unknown session, OneDrive, folder or version", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_folder(
    State(state): State<AppState>,
    d: DriveCtx,
    Query(q): Query<FolderQuery>,
    Path(p): Path<DriveItemPath>,
) -> Result<Json<Folder>, ApiError> {
    let row = folder(&state, &d, &p.item_id).await?;
    if let Some(n) = q.version_id(d.era()).filter(|n| *n != FOLDER_VERSION_ID) {
        return Err(folder_version_not_found(n, &row));
    }
    Ok(Json(Folder::new(&d, &row, false)))
}

fn folder_version_not_found(n: i32, row: &ItemRow) -> ApiError {
    ApiError::not_found(format!(
        "Version {n} of folder {} was not found (OneDrive folders have the single version {FOLDER_VERSION_ID}).",
        row.item_id
    ))
}

/// Get the previous versions of a backed-up OneDrive folder (v6+; always empty: folders are not versioned).
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Folders/{folderId}/Versions",
    tag = "OneDrive",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id"),
        ("folderId" = String, Path, description = "Folder id"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    responses(
        (status = 200, description = "Empty page", body = FolderPage),
        (status = 404, description = "Unknown session, OneDrive or folder; or v2–v5", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn list_folder_versions(
    State(state): State<AppState>,
    d: DriveCtx,
    ctx: PageContext,
    paging: Paging,
    Path(p): Path<DriveItemPath>,
) -> Result<Page<Folder>, ApiError> {
    folder(&state, &d, &p.item_id).await?;
    Ok(page_of(&ctx, paging, Vec::new(), 0, d.era()))
}

/// Get a version of a backed-up OneDrive folder (v6+; only version 1 exists).
#[utoipa::path(
    get,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Folders/{folderId}/Versions/{versionId}",
    tag = "OneDrive",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id"),
        ("folderId" = String, Path, description = "Folder id"),
        ("versionId" = i32, Path, description = "Version (1)")
    ),
    responses(
        (status = 200, description = "Folder", body = Folder),
        (status = 404, description = "Unknown session, OneDrive, folder or version; or v2–v5", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_folder_version(
    State(state): State<AppState>,
    d: DriveCtx,
    Path(p): Path<DriveVersionPath>,
) -> Result<Json<Folder>, ApiError> {
    let n = parse_version_id(&p.version_id)?;
    let row = folder(&state, &d, &p.item_id).await?;
    if n != FOLDER_VERSION_ID {
        return Err(folder_version_not_found(n, &row));
    }
    Ok(Json(Folder::new(&d, &row, true)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::paths::canonical_route;

    #[test]
    fn routes_are_canonical() {
        use utoipa::Path;
        for p in [
            __path_list_onedrives::path(),
            __path_get_onedrive::path(),
            __path_list_documents::path(),
            __path_get_document::path(),
            __path_list_document_versions::path(),
            __path_get_document_version::path(),
            __path_list_folders::path(),
            __path_get_folder::path(),
            __path_list_folder_versions::path(),
            __path_get_folder_version::path(),
        ] {
            assert_eq!(canonical_route(&p), p);
        }
    }
}
