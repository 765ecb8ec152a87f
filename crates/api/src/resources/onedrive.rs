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
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use repo::catalog::{ContainerInfo, ContainerKind, ContainerQuery, ContainerRow, ItemKind, ItemQuery, ItemRow};
use serde_json::{Map, Value};
use utoipa::OpenApi;
use uuid::Uuid;

use crate::ctx::auth::CurrentUser;
use crate::ctx::drive::{self, SessionDrive};
use crate::edge::error::ApiError;
use crate::edge::paging::{json_response, Hrefs, PageContext, Paging};
use crate::edge::query::LenientQuery;
use crate::edge::version::ApiVersion;
use crate::resources::browse_util::{
    self, item_times, mark_deleted, numbered_versions, page_of, who, window, NumberedVersion, ParentSel,
    FOLDER_VERSION_ID, FOLDER_VERSION_LABEL,
};
use crate::resources::route_paths::{DriveItemPath, DrivePath, DriveVersionPath, SessionPath};
use crate::state::AppState;
use crate::store::sessions::RestoreSession;

const BASE: &str = "/{version}/RestoreSessions/{id}/Organization/OneDrives";

/// Authenticated routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(BASE, get(list_onedrives))
        .route(&format!("{BASE}/{{oneDriveId}}"), get(get_onedrive))
        .route(&format!("{BASE}/{{oneDriveId}}/Documents"), get(list_documents))
        .route(&format!("{BASE}/{{oneDriveId}}/Documents/{{documentId}}"), get(get_document))
        .route(&format!("{BASE}/{{oneDriveId}}/Documents/{{documentId}}/Versions"), get(list_document_versions))
        .route(
            &format!("{BASE}/{{oneDriveId}}/Documents/{{documentId}}/Versions/{{versionId}}"),
            get(get_document_version),
        )
        .route(&format!("{BASE}/{{oneDriveId}}/Folders"), get(list_folders))
        .route(&format!("{BASE}/{{oneDriveId}}/Folders/{{folderId}}"), get(get_folder))
        .route(&format!("{BASE}/{{oneDriveId}}/Folders/{{folderId}}/Versions"), get(list_folder_versions))
        .route(&format!("{BASE}/{{oneDriveId}}/Folders/{{folderId}}/Versions/{{versionId}}"), get(get_folder_version))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_onedrives,
        get_onedrive,
        list_documents,
        get_document,
        list_document_versions,
        get_document_version,
        list_folders,
        get_folder,
        list_folder_versions,
        get_folder_version
    ),
    tags((name = "OneDrive", description = "Browsing backed-up OneDrives in a restore session of type Veod"))
)]
struct OneDriveDoc;

/// Documented paths.
pub fn openapi() -> utoipa::openapi::OpenApi {
    OneDriveDoc::openapi()
}

// ---------------------------------------------------------------------------------------------------------------
// Path parameters

// ---------------------------------------------------------------------------------------------------------------
// Context

/// Characters escaped in an id placed into an href path segment.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

fn seg(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// One OneDrive of a session, as the handlers output it (the search routes render their results with it too).
pub(crate) struct Drive {
    drive: SessionDrive,
    hrefs: Hrefs,
}

fn session_path(session: &RestoreSession) -> String {
    format!("RestoreSessions/{}/Organization/OneDrives", session.id)
}

impl Drive {
    /// A OneDrive already loaded for a session.
    pub(crate) fn new(drive: SessionDrive, hrefs: Hrefs) -> Drive {
        Drive { drive, hrefs }
    }

    /// The session's view of the OneDrive.
    pub(crate) fn session_drive(&self) -> &SessionDrive {
        &self.drive
    }

    /// The session's OneDrive `od_id` (404 as [`drive::load`] says).
    pub(crate) async fn load(
        state: &AppState,
        user: &CurrentUser,
        sid: &str,
        od_id: &str,
        hrefs: Hrefs,
    ) -> Result<Drive, ApiError> {
        let drive = drive::load(state, user, hrefs.version(), sid, od_id, "browsed in").await?;
        Ok(Drive { drive, hrefs })
    }

    pub(crate) fn version(&self) -> ApiVersion {
        self.hrefs.version()
    }

    fn id(&self) -> String {
        self.drive.row.id.to_string()
    }

    fn path(&self) -> String {
        format!("{}/{}", session_path(&self.drive.session), self.id())
    }

    fn href(&self, rest: &str) -> String {
        self.hrefs.href(&format!("{}{rest}", self.path()))
    }

    async fn document(&self, state: &AppState, item_id: &str) -> Result<ItemRow, ApiError> {
        self.drive.item(state, item_id, false).await
    }

    pub(crate) async fn folder(&self, state: &AppState, item_id: &str) -> Result<ItemRow, ApiError> {
        self.drive.item(state, item_id, true).await
    }

    /// `_links` shared by documents and folders: `self`, `onedrive`, `parent` (the parent folder, or the OneDrive for
    /// top-level items).
    fn item_links(&self, row: &ItemRow, self_href: String) -> Map<String, Value> {
        let mut links = Map::new();
        links.insert("self".into(), link(self_href));
        links.insert("onedrive".into(), link(self.href("")));
        let parent = match &row.state.parent_id {
            Some(p) => self.href(&format!("/Folders/{}", seg(p))),
            None => self.href(""),
        };
        links.insert("parent".into(), link(parent));
        links
    }

    /// Fields common to documents and folders, in schema order up to `version`.
    fn head(&self, row: &ItemRow) -> Map<String, Value> {
        let mut o = Map::new();
        o.insert("id".into(), Value::String(row.item_id.clone()));
        o.insert("name".into(), Value::String(row.state.name.clone()));
        o
    }

    /// The v7+/v8 tail (`isFolder`, `oneDriveId`), the deleted marker and `_links`.
    fn tail(&self, o: &mut Map<String, Value>, row: &ItemRow, links: Map<String, Value>) {
        let v = self.version().number();
        if v >= 7 {
            o.insert("isFolder".into(), Value::Bool(row.state.is_folder));
        }
        if v >= 8 {
            o.insert("oneDriveId".into(), Value::String(self.id()));
        }
        mark_deleted(o, row.deleted);
        o.insert("_links".into(), Value::Object(links));
    }

    /// A document (`RESTOneDriveDocument`): the current state, or — with `ver` — that version of it.
    fn document_json(&self, row: &ItemRow, versions: &[NumberedVersion], ver: Option<&NumberedVersion>) -> Value {
        let current = versions.last();
        let shown = ver.or(current);
        let mut o = self.head(row);
        let size = match ver {
            Some(v) => v.row.version.size,
            None => row.state.size,
        };
        o.insert(if self.version().number() <= 2 { "size" } else { "sizeBytes" }.into(), Value::from(size));
        o.insert(
            "version".into(),
            Value::String(shown.map(|v| v.row.version.label.clone()).unwrap_or_else(|| "1.0".into())),
        );
        if self.version().is_verb_era() {
            o.insert("versionId".into(), Value::from(shown.map(|v| v.id).unwrap_or(1)));
        }
        o.insert("inheritedPermissions".into(), Value::Bool(browse_util::inherited_permissions(row)));
        let (created, mut modified) = item_times(row);
        let mut modified_by = who(&row.state.modified_by);
        if let Some(v) = ver {
            if let Some(t) = v.row.version.modified_at {
                modified = browse_util::item_time(t);
            }
            if let Some(by) = &v.row.version.modified_by {
                modified_by = by.clone();
            }
        }
        o.insert("createdBy".into(), Value::String(who(&row.state.created_by)));
        o.insert("creationTime".into(), Value::String(created));
        o.insert("modifiedBy".into(), Value::String(modified_by));
        o.insert("modificationTime".into(), Value::String(modified));
        let doc = format!("/Documents/{}", seg(&row.item_id));
        let self_href = match ver {
            Some(v) => self.href(&format!("{doc}/Versions/{}", v.id)),
            None => self.href(&doc),
        };
        let links = self.item_links(row, self_href);
        self.tail(&mut o, row, links);
        Value::Object(o)
    }

    /// A folder (`RESTOneDriveFolder`).
    fn folder_json(&self, row: &ItemRow, as_version: bool) -> Value {
        let mut o = self.head(row);
        o.insert("version".into(), Value::String(FOLDER_VERSION_LABEL.into()));
        if self.version().is_verb_era() {
            o.insert("versionId".into(), Value::from(FOLDER_VERSION_ID));
        }
        let (created, modified) = item_times(row);
        o.insert("createdBy".into(), Value::String(who(&row.state.created_by)));
        o.insert("creationTime".into(), Value::String(created));
        o.insert("modifiedBy".into(), Value::String(who(&row.state.modified_by)));
        o.insert("modificationTime".into(), Value::String(modified));
        let folder = format!("/Folders/{}", seg(&row.item_id));
        let self_href =
            if as_version { self.href(&format!("{folder}/Versions/{FOLDER_VERSION_ID}")) } else { self.href(&folder) };
        let mut links = self.item_links(row, self_href);
        if self.version().number() <= 2 {
            let children = format!("{}/Documents?parentId={}", self.path(), percent_query(&row.item_id));
            links.insert("children".into(), link(self.hrefs.href(&children)));
        }
        self.tail(&mut o, row, links);
        Value::Object(o)
    }

    /// A document or folder of a listing.
    pub(crate) async fn entry_json(&self, state: &AppState, row: &ItemRow) -> Result<Value, ApiError> {
        if row.state.is_folder {
            Ok(self.folder_json(row, false))
        } else {
            let versions = numbered_versions(&state.catalog, self.drive.row.id, &row.item_id, self.drive.at).await?;
            Ok(self.document_json(row, &versions, None))
        }
    }

    /// A page of the items below `sel` of the given kind.
    async fn listing(
        &self,
        state: &AppState,
        sel: &ParentSel,
        kind: ItemKind,
        paging: Paging,
    ) -> Result<(Vec<ItemRow>, u64), ApiError> {
        let show_deleted = self.drive.session.show_deleted;
        match sel {
            ParentSel::All => {
                let all =
                    browse_util::walk_tree(&state.catalog, self.drive.row.id, None, self.drive.at, show_deleted, kind)
                        .await?;
                let total = all.len() as u64;
                Ok((window(all, paging), total))
            }
            ParentSel::Root | ParentSel::Folder(_) => {
                let mut q = ItemQuery::new(self.drive.row.id, self.drive.at)
                    .show_deleted(show_deleted)
                    .kind(kind)
                    .page(paging.offset_i64(), paging.limit_i64());
                if let ParentSel::Folder(f) = sel {
                    self.folder(state, f).await?;
                    q = q.parent(f.clone());
                }
                let page = state.catalog.items_at(&q).await?;
                Ok((page.rows, page.total.max(0) as u64))
            }
        }
    }
}

fn link(href: String) -> Value {
    let mut m = Map::new();
    m.insert("href".into(), Value::String(href));
    Value::Object(m)
}

fn percent_query(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|q| q.trim_start_matches('=').to_string()).unwrap_or_default()
}

fn onedrive_url(tenant_domain: &str, upn: &str) -> String {
    let tenant = tenant_domain
        .split('.')
        .next()
        .filter(|t| !t.is_empty())
        .or_else(|| upn.split('@').nth(1).and_then(|d| d.split('.').next()))
        .unwrap_or("tenant");
    format!("https://{}-my.sharepoint.com/personal/{}", tenant.to_ascii_lowercase(), upn.replace(['@', '.'], "_"))
}

/// A OneDrive (`RESTOneDrive`).
fn onedrive_json(hrefs: &Hrefs, session: &RestoreSession, row: &ContainerRow, tenant_domain: &str) -> Value {
    let (name, upn) = match &row.info {
        ContainerInfo::OneDrive(i) => {
            let name = if i.display_name.is_empty() { i.upn.clone() } else { i.display_name.clone() };
            (name, i.upn.clone())
        }
        other => (other.title().to_string(), String::new()),
    };
    let path = format!("{}/{}", session_path(session), row.id);
    let root = browse_util::root_parent_value(hrefs.version());
    let mut o = Map::new();
    o.insert("id".into(), Value::String(row.id.to_string()));
    o.insert("name".into(), Value::String(name));
    o.insert("url".into(), Value::String(onedrive_url(tenant_domain, &upn)));
    mark_deleted(&mut o, row.deleted);
    let mut links = Map::new();
    links.insert("self".into(), link(hrefs.href(&path)));
    links.insert("documents".into(), link(hrefs.href(&format!("{path}/Documents?parentId={root}"))));
    links.insert("folders".into(), link(hrefs.href(&format!("{path}/Folders?parentId={root}"))));
    o.insert("_links".into(), Value::Object(links));
    Value::Object(o)
}

async fn tenant_domain(state: &AppState, org: Uuid) -> Result<String, ApiError> {
    Ok(state.catalog.organization(org).await?.map(|o| o.tenant_domain).unwrap_or_default())
}

fn ok(v: &impl serde::Serialize) -> Response {
    json_response(axum::http::StatusCode::OK, v)
}

fn require_verb_era(version: ApiVersion) -> Result<(), ApiError> {
    if version.is_action_era() {
        return Err(ApiError::not_found(format!("Versions are not available in API {version}; use v6 or later.")));
    }
    Ok(())
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
        (status = 200, description = "Page of OneDrives {id, name, url, _links}"),
        (status = 404, description = "Unknown session or not a Veod session", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn list_onedrives(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    ctx: PageContext,
    paging: Paging,
    Path(p): Path<SessionPath>,
) -> Result<Response, ApiError> {
    let version = hrefs.version();
    let session = drive::veod_session(&state, &user, version, &p.id, "browsed in").await?;
    let Some(at) = session.browse_at else {
        return Ok(ok(&page_of(&ctx, paging, Vec::<Value>::new(), 0, version)));
    };
    let q = ContainerQuery::new(session.organization_id, at)
        .kind(ContainerKind::OneDrive)
        .show_deleted(session.show_deleted)
        .page(paging.offset_i64(), paging.limit_i64());
    let page = state.catalog.containers_at(&q).await?;
    let domain = tenant_domain(&state, session.organization_id).await?;
    let results: Vec<Value> = page.rows.iter().map(|r| onedrive_json(&hrefs, &session, r, &domain)).collect();
    Ok(ok(&page_of(&ctx, paging, results, page.total.max(0) as u64, version)))
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
        (status = 200, description = "OneDrive {id, name, url, _links}"),
        (status = 404, description = "Unknown session or OneDrive", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn get_onedrive(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    Path(p): Path<DrivePath>,
) -> Result<Response, ApiError> {
    let d = Drive::load(&state, &user, &p.id, &p.one_drive_id, hrefs).await?;
    let domain = tenant_domain(&state, d.drive.session.organization_id).await?;
    Ok(ok(&onedrive_json(&d.hrefs, &d.drive.session, &d.drive.row, &domain)))
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
        ("parentId" = Option<String>, Query, description = "Folder id; `root` (v6+) or `null` (v4–v5) for the top level; omitted: every document recursively"),
        ("includeFolders" = Option<bool>, Query, description = "v7+: also return folders (isFolder = true)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    responses(
        (status = 200, description = "Page of documents (v7+: RESTItemComposed)"),
        (status = 404, description = "Unknown session, OneDrive or parent folder", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn list_documents(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    ctx: PageContext,
    paging: Paging,
    query: LenientQuery,
    Path(p): Path<DrivePath>,
) -> Result<Response, ApiError> {
    let d = Drive::load(&state, &user, &p.id, &p.one_drive_id, hrefs).await?;
    let include_folders = d.version().number() >= 7 && query.get_bool("includeFolders")?.unwrap_or(false);
    let kind = if include_folders { ItemKind::Any } else { ItemKind::File };
    let sel = ParentSel::from_query(&query);
    let (rows, total) = d.listing(&state, &sel, kind, paging).await?;
    let mut results = Vec::with_capacity(rows.len());
    for r in &rows {
        results.push(d.entry_json(&state, r).await?);
    }
    Ok(ok(&page_of(&ctx, paging, results, total, d.version())))
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
        (status = 200, description = "Document"),
        (status = 404, description = "Unknown session, OneDrive or document", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn get_document(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    Path(p): Path<DriveItemPath>,
) -> Result<Response, ApiError> {
    let d = Drive::load(&state, &user, &p.id, &p.one_drive_id, hrefs).await?;
    let row = d.document(&state, &p.item_id).await?;
    let versions = numbered_versions(&state.catalog, d.drive.row.id, &row.item_id, d.drive.at).await?;
    Ok(ok(&d.document_json(&row, &versions, None)))
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
        (status = 200, description = "Page of the previous versions, newest first (empty unless the session shows all versions)"),
        (status = 404, description = "Unknown session, OneDrive or document; or v2–v5", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn list_document_versions(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    ctx: PageContext,
    paging: Paging,
    Path(p): Path<DriveItemPath>,
) -> Result<Response, ApiError> {
    require_verb_era(hrefs.version())?;
    let d = Drive::load(&state, &user, &p.id, &p.one_drive_id, hrefs).await?;
    let row = d.document(&state, &p.item_id).await?;
    let versions = numbered_versions(&state.catalog, d.drive.row.id, &row.item_id, d.drive.at).await?;
    let previous: Vec<&NumberedVersion> =
        if d.drive.session.show_all_versions { versions.iter().rev().skip(1).collect() } else { Vec::new() };
    let total = previous.len() as u64;
    let results: Vec<Value> =
        window(previous, paging).into_iter().map(|v| d.document_json(&row, &versions, Some(v))).collect();
    Ok(ok(&page_of(&ctx, paging, results, total, d.version())))
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
        (status = 200, description = "Document as of that version"),
        (status = 404, description = "Unknown session, OneDrive, document or version; or v2–v5", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn get_document_version(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    Path(p): Path<DriveVersionPath>,
) -> Result<Response, ApiError> {
    require_verb_era(hrefs.version())?;
    let n = parse_version_id(&p.version_id)?;
    let d = Drive::load(&state, &user, &p.id, &p.one_drive_id, hrefs).await?;
    let row = d.document(&state, &p.item_id).await?;
    let versions = numbered_versions(&state.catalog, d.drive.row.id, &row.item_id, d.drive.at).await?;
    let current = versions.last().map(|v| v.id).unwrap_or(1);
    let not_found = || ApiError::not_found(format!("Version {n} of document {} was not found.", row.item_id));
    if versions.is_empty() {
        // Nothing recorded: the current state is the only version.
        return if n == 1 { Ok(ok(&d.document_json(&row, &versions, None))) } else { Err(not_found()) };
    }
    let v = versions.iter().find(|v| v.id == n).ok_or_else(not_found)?;
    if v.id != current && !d.drive.session.show_all_versions {
        return Err(ApiError::not_found(format!(
            "Version {n} of document {} is not available: this restore session shows the latest versions only \
             (explore with showAllVersions to browse previous versions).",
            row.item_id
        )));
    }
    Ok(ok(&d.document_json(&row, &versions, Some(v))))
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
        ("parentId" = Option<String>, Query, description = "Folder id; `root` (v6+) or `null` (v4–v5) for the top level; omitted: every folder recursively"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Page size (default 30, at most 10000)")
    ),
    responses(
        (status = 200, description = "Page of folders"),
        (status = 404, description = "Unknown session, OneDrive or parent folder", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn list_folders(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    ctx: PageContext,
    paging: Paging,
    query: LenientQuery,
    Path(p): Path<DrivePath>,
) -> Result<Response, ApiError> {
    let d = Drive::load(&state, &user, &p.id, &p.one_drive_id, hrefs).await?;
    let sel = ParentSel::from_query(&query);
    let (rows, total) = d.listing(&state, &sel, ItemKind::Folder, paging).await?;
    let results: Vec<Value> = rows.iter().map(|r| d.folder_json(r, false)).collect();
    Ok(ok(&page_of(&ctx, paging, results, total, d.version())))
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
        ("versionId" = Option<i32>, Query, description = "v6+: folder version (folders have the single version 1)")
    ),
    responses(
        (status = 200, description = "Folder"),
        (status = 404, description = "Unknown session, OneDrive, folder or version", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn get_folder(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    query: LenientQuery,
    Path(p): Path<DriveItemPath>,
) -> Result<Response, ApiError> {
    let version = hrefs.version();
    let d = Drive::load(&state, &user, &p.id, &p.one_drive_id, hrefs).await?;
    let row = d.folder(&state, &p.item_id).await?;
    if version.is_verb_era() {
        if let Some(n) = query.get_non_empty("versionId") {
            let n = n.trim().parse::<i32>().map_err(|_| ApiError::bad_request("'versionId' must be an integer"))?;
            if n != FOLDER_VERSION_ID {
                return Err(folder_version_not_found(n, &row));
            }
        }
    }
    Ok(ok(&d.folder_json(&row, false)))
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
        (status = 200, description = "Empty page"),
        (status = 404, description = "Unknown session, OneDrive or folder; or v2–v5", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn list_folder_versions(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    ctx: PageContext,
    paging: Paging,
    Path(p): Path<DriveItemPath>,
) -> Result<Response, ApiError> {
    require_verb_era(hrefs.version())?;
    let d = Drive::load(&state, &user, &p.id, &p.one_drive_id, hrefs).await?;
    d.folder(&state, &p.item_id).await?;
    Ok(ok(&page_of(&ctx, paging, Vec::<Value>::new(), 0, d.version())))
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
        (status = 200, description = "Folder"),
        (status = 404, description = "Unknown session, OneDrive, folder or version; or v2–v5", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn get_folder_version(
    State(state): State<AppState>,
    user: CurrentUser,
    hrefs: Hrefs,
    Path(p): Path<DriveVersionPath>,
) -> Result<Response, ApiError> {
    require_verb_era(hrefs.version())?;
    let n = parse_version_id(&p.version_id)?;
    let d = Drive::load(&state, &user, &p.id, &p.one_drive_id, hrefs).await?;
    let row = d.folder(&state, &p.item_id).await?;
    if n != FOLDER_VERSION_ID {
        return Err(folder_version_not_found(n, &row));
    }
    Ok(ok(&d.folder_json(&row, true)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::paths::canonical_route;

    #[test]
    fn routes_are_canonical() {
        for rest in [
            "",
            "/{oneDriveId}",
            "/{oneDriveId}/Documents",
            "/{oneDriveId}/Documents/{documentId}",
            "/{oneDriveId}/Documents/{documentId}/Versions",
            "/{oneDriveId}/Documents/{documentId}/Versions/{versionId}",
            "/{oneDriveId}/Folders",
            "/{oneDriveId}/Folders/{folderId}",
            "/{oneDriveId}/Folders/{folderId}/Versions",
            "/{oneDriveId}/Folders/{folderId}/Versions/{versionId}",
        ] {
            let p = format!("{BASE}{rest}");
            assert_eq!(canonical_route(&p), p);
        }
    }

    #[test]
    fn onedrive_urls() {
        assert_eq!(
            onedrive_url("contoso.onmicrosoft.com", "alex.w@contoso.onmicrosoft.com"),
            "https://contoso-my.sharepoint.com/personal/alex_w_contoso_onmicrosoft_com"
        );
        assert_eq!(onedrive_url("", "a@fabrikam.com"), "https://fabrikam-my.sharepoint.com/personal/a_fabrikam_com");
    }

    #[test]
    fn escaping() {
        assert_eq!(seg("01AB!CD"), "01AB!CD");
        assert_eq!(seg("a/b c"), "a%2Fb%20c");
        assert_eq!(percent_query("a b&c"), "a+b%26c");
    }
}
