//! "Save" of OneDrive content (veeam-api-notes §8): downloads of backed-up documents, folders and whole OneDrives,
//! and the v2–v5 `…/Action` dispatcher.
//!
//! Paths under `/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}` (session type `Veod`):
//!
//! | path (POST) | versions | body | answer |
//! |---|---|---|---|
//! | `/Action` | v2–v5 | `{"save":null}` / `{"save":{"asZip":…}}` | ZIP of the whole OneDrive |
//! | `/Documents/Action` | v2–v5 | `{"save":{"documents":[{"id":…}]}}` | ZIP of the documents |
//! | `/Documents/{documentId}/Action` | v2–v5 | `{"save":{"asZip":"false"}}` | raw bytes (ZIP with `asZip` true) |
//! | `/Folders/Action` | v2–v5 | `{"save":{"folders":[{"id":…}]}}` | ZIP of the folders |
//! | `/Folders/{folderId}/Action` | v2–v5 | `{"save":null}` | ZIP of the folder |
//! | `/save` | v6–v8 | none | ZIP of the whole OneDrive |
//! | `/Documents/save` | v6–v8 | `{"documents":[{"id":…}]}` | ZIP |
//! | `/Documents/{documentId}/save`, `…/Versions/{versionId}/save` | v6–v8 | `{"asZip":bool?}` | raw bytes or ZIP |
//! | `/Folders/save` | v6–v8 | `{"folders":[{"id":…}]}` | ZIP |
//! | `/Folders/{folderId}/save`, `…/Versions/{versionId}/save` | v6–v8 | none | ZIP |
//!
//! SharePoint (session type `Vesp`, §9.2/§9.3), under `/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}`:
//!
//! | path (POST) | versions | body | answer |
//! |---|---|---|---|
//! | `/Documents/{documentId}/Action`, `/Documents/Action` | v2–v5 | `{"save":{"asZip":…}}`, `{"save":{"documents":[…]}}` | raw / ZIP |
//! | `/Folders/{folderId}/Action`, `/Folders/Action` | v2–v5 | `{"save":null}`, `{"save":{"folders":[…]}}` | ZIP |
//! | `/Libraries/{libraryId}/Action` | v2–v5 | `{"save":null}` | ZIP of the library |
//! | `/Items/{itemId}/Attachments/Action` | v2–v5 | `{"save":{"Attachments":[{"id":…}]}}` (none named: all) | ZIP |
//! | `/Documents/{documentId}/save`, `…/Versions/{versionId}/save` | v6–v8 | `{"asZip":bool?}` | raw / ZIP |
//! | `/Documents/save`, `/Folders/save` | v6–v8 | `{"documents":[…]}` / `{"folders":[…]}` | ZIP |
//! | `/Folders/{folderId}/save`, `…/Versions/{versionId}/save`, `/Libraries/{libraryId}/save` | v6–v8 | none | ZIP |
//! | `/Items/{itemId}/Attachments/save` | v6–v8 | `{"attachments":[{"id":…}]}` (none named: all) | ZIP |
//! | `/Items/{itemId}/Attachments/{attachmentId}/save` | v6–v8 | `{"asZip":bool?}` | raw / ZIP |
//!
//! SharePoint ids follow [`crate::resources::sharepoint`]: library document/folder ids are drive item ids, generic list
//! items `<list UUID, 32 hex><item id>`, attachment ids the hex of the file name (the plain name is accepted too).
//!
//! Answers are `application/octet-stream` with `Content-Disposition: attachment; filename="…"; filename*=UTF-8''…`
//! (RFC 6266) and an exact `Content-Length` (also for ZIPs: entries are STORED, so the size is known in advance).
//! ZIPs are written while the client reads them ([`engine::save::zip_stream`]); entry names follow the catalog's
//! folders, sanitised and de-duplicated ([`engine::save::ZipPlan`]). Each save records a `Save` event in the
//! restore session; for a ZIP its final status (Success / Failed / Cancelled when the client went away) is set when
//! the producer ends. A file without backed-up content is left out of a ZIP (the event then ends as `Warning`).
//!
//! # The v2–v5 `/Action` dispatcher
//! The action-era endpoints carry every action (`save`, `restoreToOriginalLocation`, `copyTo`, `sendTo`) in one
//! body, so one module must own the route: this one. [`dispatch`] parses the action name and calls the handler of
//! that action (`save` here, `sendTo` in [`crate::resources::send::onedrive_action`]); actions without a handler yet
//! answer 400 `"action 'x' is not supported yet"`. To add one, give [`dispatch`] a match arm calling your module with
//! the [`Scope`] and the action's options (the content of the action's property).
//!
//! Decisions: the verb-era paths answer 404 in v2–v5 and the `/Action` paths 404 in v6–v8; unknown or deleted
//! (without `showDeleted`) ids are 404; a folder id where a document is expected (and the reverse) is 404; a
//! document version other than the current one requires a session with `showAllVersions`.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use engine::save::{zip_size, zip_stream, EntryContent, ZipError, ZipPlan};
use repo::catalog::{ItemKind, ItemRow};
use repo::store::{BlobRef, Repository};
use utoipa::OpenApi;
use uuid::Uuid;

use crate::ctx::auth::CurrentUser;
use crate::ctx::drive::{self, SessionDrive};
use crate::edge::error::ApiError;
use crate::edge::lenient::{LenientJson, Obj};
use crate::edge::version::ApiVersion;
use crate::resources::browse_util::{self, numbered_versions, walk_tree};
use crate::resources::route_paths::{
    DriveItemPath, DrivePath, DriveVersionPath, SiteAttachmentPath, SiteItemPath, SitePath, SiteVersionPath,
};
use crate::resources::sp_attachments;
use crate::state::AppState;
use crate::store::sessions::{self, NewEvent, Outcome, RestoreSession};

const BASE: &str = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}";

/// The action names the v2–v5 dispatcher recognises (any case).
pub const ACTIONS: &[&str] = &["save", "restoreToOriginalLocation", "copyTo", "sendTo"];

/// Authenticated routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(&format!("{BASE}/Action"), post(action_onedrive))
        .route(&format!("{BASE}/Documents/Action"), post(action_documents))
        .route(&format!("{BASE}/Documents/{{documentId}}/Action"), post(action_document))
        .route(&format!("{BASE}/Folders/Action"), post(action_folders))
        .route(&format!("{BASE}/Folders/{{folderId}}/Action"), post(action_folder))
        .route(&format!("{BASE}/save"), post(save_onedrive))
        .route(&format!("{BASE}/Documents/save"), post(save_documents))
        .route(&format!("{BASE}/Documents/{{documentId}}/save"), post(save_document))
        .route(&format!("{BASE}/Documents/{{documentId}}/Versions/{{versionId}}/save"), post(save_document_version))
        .route(&format!("{BASE}/Folders/save"), post(save_folders))
        .route(&format!("{BASE}/Folders/{{folderId}}/save"), post(save_folder))
        .route(&format!("{BASE}/Folders/{{folderId}}/Versions/{{versionId}}/save"), post(save_folder_version))
        .merge(sharepoint_router())
}

#[derive(OpenApi)]
#[openapi(paths(save_document))]
struct ApiDoc;

/// The module's documented paths.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// What an action applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The whole OneDrive.
    OneDrive,
    /// Several documents (ids from the body).
    Documents,
    /// One document.
    Document(String),
    /// Several folders (ids from the body).
    Folders,
    /// One folder.
    Folder(String),
}

// ---------------------------------------------------------------------------------------------------------------
// Context

/// Adds `folder` (or, with `None`, the whole container: a OneDrive or a library) and everything below it that the
/// session shows to `plan`; returns how many files have no content to add.
async fn add_tree(
    state: &AppState,
    plan: &mut ZipPlan,
    (container, at, show_deleted): (Uuid, DateTime<Utc>, bool),
    folder: Option<&ItemRow>,
) -> Result<u64, ApiError> {
    let start = match folder {
        Some(f) => {
            plan.add_folder(None, &f.item_id, &f.state.name, f.state.modified_at);
            Some(f.item_id.as_str())
        }
        None => None,
    };
    let rows = walk_tree(&state.catalog, container, start, at, show_deleted, ItemKind::Any).await?;
    too_many(rows.len())?;
    let mut missing = 0;
    for r in rows {
        let parent = r.state.parent_id.as_deref();
        let s = &r.state;
        if s.is_folder {
            plan.add_folder(parent, &r.item_id, &s.name, s.modified_at);
        } else if !add_file(plan, parent, &s.name, s.content_ref.as_deref(), s.size, s.modified_at) {
            missing += 1;
        }
    }
    Ok(missing)
}

/// The container, instant and deleted-items visibility of a OneDrive in its session (for [`add_tree`]).
fn drive_tree(d: &SessionDrive) -> (Uuid, DateTime<Utc>, bool) {
    (d.row.id, d.at, d.session.show_deleted)
}

/// Adds a file; `false` when it has no content to add.
fn add_file(
    plan: &mut ZipPlan,
    parent: Option<&str>,
    name: &str,
    content: Option<&[u8]>,
    size: i64,
    modified: Option<DateTime<Utc>>,
) -> bool {
    match content.map(BlobRef::from_compact) {
        Some(Ok(blob)) => {
            plan.add_file(parent, name, EntryContent::Blob(blob), modified);
            true
        }
        None if size == 0 => {
            plan.add_file(parent, name, EntryContent::Inline(Bytes::new()), modified);
            true
        }
        _ => false,
    }
}

/// A tree walk stops at [`crate::resources::browse_util::MAX_RECURSIVE_ROWS`]; a ZIP must never silently lose entries.
fn too_many(rows: usize) -> Result<(), ApiError> {
    if rows >= crate::resources::browse_util::MAX_RECURSIVE_ROWS {
        return Err(ApiError::conflict(format!(
            "More than {} items: save smaller folders or several documents.",
            crate::resources::browse_util::MAX_RECURSIVE_ROWS
        )));
    }
    Ok(())
}

fn repository(state: &AppState) -> Result<Repository, ApiError> {
    state.repo.clone().ok_or_else(|| ApiError::internal("No backup repository is configured on this server."))
}

/// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266 / RFC 8187). The name comes from the
/// tenant and a browser or `curl -OJ` writes it to disk: it is made one safe path component first, by the sanitiser
/// of ZIP entry names and exports ([`engine::export::sanitize_name`]: no `/`, `\`, `..`, NUL, CR/LF, quotes, bidi
/// overrides).
pub fn content_disposition(name: &str) -> String {
    let name = engine::export::sanitize_name(name);
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

fn download(name: &str, length: u64, body: Body) -> Response {
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if let Ok(v) = HeaderValue::from_str(&content_disposition(name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// Where a save happens: the session (for its events) and the source's display name.
struct Target {
    session: Uuid,
    source: String,
}

fn target(d: &SessionDrive) -> Target {
    Target { session: d.session.id, source: d.name() }
}

fn event(d: &Target, title: &str, name: &str, item_type: &str, size: Option<i64>, status: Outcome) -> NewEvent {
    NewEvent {
        kind: "Save".into(),
        status: Some(status),
        title: title.into(),
        message: format!("Saving {name}"),
        item_name: Some(name.to_string()),
        item_type: Some(item_type.into()),
        item_size: size,
        source: Some(d.source.clone()),
        ..NewEvent::default()
    }
}

/// Streams `plan` as a ZIP named `file_name`, recording the event and finishing it when the producer ends.
async fn send_zip(
    state: &AppState,
    d: &Target,
    plan: ZipPlan,
    file_name: String,
    item_type: &str,
    missing: u64,
) -> Result<Response, ApiError> {
    let repo = repository(state)?;
    let entries = plan.into_entries();
    let length = zip_size(&entries);
    let size = entries.iter().map(|e| if let EntryContent::Blob(b) = &e.content { b.size as i64 } else { 0 }).sum();
    let ev = sessions::record_event(
        state,
        d.session,
        event(d, "Saving items", &file_name, item_type, Some(size), Outcome::Running),
    )
    .await?;
    let (stream, handle) = zip_stream(repo, entries);
    let st = state.clone();
    let session = d.session;
    tokio::spawn(async move {
        let (status, msg) = match handle.await {
            Ok(Ok(s)) if missing == 0 => (Outcome::Success, format!("Saved {} entries ({} bytes)", s.entries, s.bytes)),
            Ok(Ok(s)) => (
                Outcome::Warning,
                format!("Saved {} entries; {missing} file(s) had no backed-up content and were left out", s.entries),
            ),
            Ok(Err(ZipError::Disconnected)) => (Outcome::Cancelled, "The client stopped the download".to_string()),
            Ok(Err(e)) => (Outcome::Failed, e.to_string()),
            Err(e) => (Outcome::Failed, e.to_string()),
        };
        let _ = sessions::finish_event(&st, session, ev.id, status, Some(&msg)).await;
    });
    Ok(download(&file_name, length, Body::from_stream(stream)))
}

/// Streams one document's bytes (or a one-entry ZIP with `as_zip`).
async fn send_document(
    state: &AppState,
    d: &Target,
    name: &str,
    content: Option<&[u8]>,
    size: i64,
    modified: Option<DateTime<Utc>>,
    as_zip: bool,
) -> Result<Response, ApiError> {
    if as_zip {
        let mut plan = ZipPlan::new();
        let missing = if add_file(&mut plan, None, name, content, size, modified) { 0 } else { 1 };
        if missing == 1 {
            return Err(no_content(name));
        }
        return send_zip(state, d, plan, format!("{name}.zip"), "Document", 0).await;
    }
    let repo = repository(state)?;
    let blob = match content.map(BlobRef::from_compact) {
        Some(Ok(b)) => Some(b),
        None if size == 0 => None,
        _ => return Err(no_content(name)),
    };
    sessions::record_event(state, d.session, event(d, "Item is saved", name, "Document", Some(size), Outcome::Success))
        .await?;
    Ok(match blob {
        Some(b) => download(name, b.size, Body::from_stream(engine::save::blob_bytes(&repo, &b))),
        None => download(name, 0, Body::empty()),
    })
}

fn no_content(name: &str) -> ApiError {
    ApiError::not_found(format!("No content was backed up for document {name}."))
}

fn require_action_era(v: ApiVersion) -> Result<(), ApiError> {
    if v.is_action_era() {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("POST …/Action is not available in API {v}; use the …/save endpoints.")))
    }
}

fn require_verb_era(v: ApiVersion) -> Result<(), ApiError> {
    if v.is_verb_era() {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("…/save is not available in API {v}; use POST …/Action.")))
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Save, by scope

async fn save_scope(
    state: &AppState,
    d: &SessionDrive,
    scope: &Scope,
    opts: &Obj,
    version_id: Option<&str>,
) -> Result<Response, ApiError> {
    match scope {
        Scope::OneDrive => {
            let mut plan = ZipPlan::new();
            let missing = add_tree(state, &mut plan, drive_tree(d), None).await?;
            send_zip(state, &target(d), plan, format!("{}.zip", d.name()), "OneDrive", missing).await
        }
        Scope::Folder(id) => {
            let f = d.item(state, id, true).await?;
            if let Some(v) = version_id {
                browse_util::check_folder_version(id, v)?;
            }
            let mut plan = ZipPlan::new();
            let missing = add_tree(state, &mut plan, drive_tree(d), Some(&f)).await?;
            send_zip(state, &target(d), plan, format!("{}.zip", f.state.name), "Folder", missing).await
        }
        Scope::Folders => {
            let ids = opts.id_list("folders")?;
            let mut folders = Vec::new();
            for id in &ids {
                folders.push(d.item(state, id, true).await?);
            }
            let mut plan = ZipPlan::new();
            let mut missing = 0;
            for f in &folders {
                missing += add_tree(state, &mut plan, drive_tree(d), Some(f)).await?;
            }
            send_zip(state, &target(d), plan, "Folders.zip".into(), "Folder", missing).await
        }
        Scope::Documents => {
            let ids = opts.id_list("documents")?;
            let mut plan = ZipPlan::new();
            for id in &ids {
                let r = d.item(state, id, false).await?;
                let s = &r.state;
                if !add_file(&mut plan, None, &s.name, s.content_ref.as_deref(), s.size, s.modified_at) {
                    return Err(no_content(&s.name));
                }
            }
            send_zip(state, &target(d), plan, "Documents.zip".into(), "Document", 0).await
        }
        Scope::Document(id) => {
            let r = d.item(state, id, false).await?;
            let as_zip = opts.bool("asZip")?.unwrap_or(false);
            let doc = Doc { container: d.row.id, at: d.at, row: &r, show_all_versions: d.session.show_all_versions };
            save_document_at(state, &target(d), doc, version_id, as_zip).await
        }
    }
}

/// A document to save, as a session shows it.
struct Doc<'a> {
    container: Uuid,
    at: DateTime<Utc>,
    row: &'a ItemRow,
    show_all_versions: bool,
}

/// Saves the current document or its version `version_id` (1-based ordinal; earlier versions need
/// `showAllVersions`).
async fn save_document_at(
    state: &AppState,
    t: &Target,
    doc: Doc<'_>,
    version_id: Option<&str>,
    as_zip: bool,
) -> Result<Response, ApiError> {
    let r = doc.row;
    let s = &r.state;
    let Some(v) = version_id else {
        return send_document(state, t, &s.name, s.content_ref.as_deref(), s.size, s.modified_at, as_zip).await;
    };
    let n = v.trim().parse::<i32>().map_err(|_| ApiError::not_found(format!("Version {v} was not found.")))?;
    let versions = numbered_versions(&state.catalog, doc.container, &r.item_id, doc.at).await?;
    let not_found = || ApiError::not_found(format!("Version {n} of document {} was not found.", r.item_id));
    if versions.is_empty() {
        return if n == 1 {
            send_document(state, t, &s.name, s.content_ref.as_deref(), s.size, s.modified_at, as_zip).await
        } else {
            Err(not_found())
        };
    }
    let current = versions.last().map(|v| v.id).unwrap_or(1);
    let ver = versions.iter().find(|v| v.id == n).ok_or_else(not_found)?;
    if ver.id != current && !doc.show_all_versions {
        return Err(ApiError::not_found(format!(
            "Version {n} of document {} is not available: this restore session shows the latest versions only \
             (explore with showAllVersions).",
            r.item_id
        )));
    }
    let vi = &ver.row.version;
    send_document(state, t, &s.name, vi.content_ref.as_deref(), vi.size, vi.modified_at, as_zip).await
}

// ---------------------------------------------------------------------------------------------------------------
// v2–v5 dispatcher

/// The v2–v5 `…/Action` dispatcher for OneDrive scopes (see the [module docs](self)).
pub async fn dispatch(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    sid: &str,
    od_id: &str,
    scope: Scope,
    body: &Obj,
) -> Result<Response, ApiError> {
    require_action_era(version)?;
    // A bare send body (`{from, to, …}`) is `sendTo` (notes §8.1).
    let (action, opts) = if body.has("from") && body.has("to") && !body.has("sendTo") {
        ("sendTo", body.clone())
    } else {
        body.action(ACTIONS)?
    };
    match action {
        "save" => {
            let d = drive::load(state, user, version, sid, od_id, "saved from").await?;
            save_scope(state, &d, &scope, &opts, None).await
        }
        "sendTo" => crate::resources::send::onedrive_action(state, user, version, sid, od_id, &scope, &opts).await,
        "restoreToOriginalLocation" | "copyTo" => {
            crate::resources::restore::onedrive_action(state, user, version, sid, od_id, action, &scope, &opts).await
        }
        other => Err(ApiError::bad_request(format!("action '{other}' is not supported yet"))),
    }
}

async fn action_onedrive(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DrivePath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    dispatch(&state, &user, version, &p.id, &p.one_drive_id, Scope::OneDrive, &body).await
}

async fn action_documents(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DrivePath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    dispatch(&state, &user, version, &p.id, &p.one_drive_id, Scope::Documents, &body).await
}

async fn action_document(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DriveItemPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    dispatch(&state, &user, version, &p.id, &p.one_drive_id, Scope::Document(p.item_id), &body).await
}

async fn action_folders(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DrivePath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    dispatch(&state, &user, version, &p.id, &p.one_drive_id, Scope::Folders, &body).await
}

async fn action_folder(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DriveItemPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    dispatch(&state, &user, version, &p.id, &p.one_drive_id, Scope::Folder(p.item_id), &body).await
}

// ---------------------------------------------------------------------------------------------------------------
// v6–v8 `/save`

#[allow(clippy::too_many_arguments)]
async fn verb(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    sid: &str,
    od_id: &str,
    scope: Scope,
    body: &Obj,
    version_id: Option<&str>,
) -> Result<Response, ApiError> {
    require_verb_era(version)?;
    let d = drive::load(state, user, version, sid, od_id, "saved from").await?;
    save_scope(state, &d, &scope, body, version_id).await
}

async fn save_onedrive(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DrivePath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    verb(&state, &user, version, &p.id, &p.one_drive_id, Scope::OneDrive, &body, None).await
}

async fn save_documents(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DrivePath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    verb(&state, &user, version, &p.id, &p.one_drive_id, Scope::Documents, &body, None).await
}

/// Save a backed-up OneDrive document (raw bytes, or a ZIP with `asZip`).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Documents/{documentId}/save",
    tag = "OneDrive",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id"),
        ("documentId" = String, Path, description = "Document id")
    ),
    responses(
        (status = 200, description = "application/octet-stream: the document, or a ZIP with asZip"),
        (status = 404, description = "Unknown session, OneDrive or document", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn save_document(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DriveItemPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    verb(&state, &user, version, &p.id, &p.one_drive_id, Scope::Document(p.item_id), &body, None).await
}

async fn save_document_version(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DriveVersionPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    let scope = Scope::Document(p.item_id);
    verb(&state, &user, version, &p.id, &p.one_drive_id, scope, &body, Some(&p.version_id)).await
}

async fn save_folders(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DrivePath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    verb(&state, &user, version, &p.id, &p.one_drive_id, Scope::Folders, &body, None).await
}

async fn save_folder(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DriveItemPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    verb(&state, &user, version, &p.id, &p.one_drive_id, Scope::Folder(p.item_id), &body, None).await
}

async fn save_folder_version(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DriveVersionPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    let scope = Scope::Folder(p.item_id);
    verb(&state, &user, version, &p.id, &p.one_drive_id, scope, &body, Some(&p.version_id)).await
}

// ---------------------------------------------------------------------------------------------------------------
// SharePoint (session type Vesp)

const SP_BASE: &str = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}";

/// SharePoint save routes (both eras), merged into [`router`].
fn sharepoint_router() -> Router<AppState> {
    Router::new()
        .route(&format!("{SP_BASE}/Documents/Action"), post(sp_action_documents))
        .route(&format!("{SP_BASE}/Documents/{{documentId}}/Action"), post(sp_action_document))
        .route(&format!("{SP_BASE}/Folders/Action"), post(sp_action_folders))
        .route(&format!("{SP_BASE}/Folders/{{folderId}}/Action"), post(sp_action_folder))
        .route(&format!("{SP_BASE}/Libraries/{{libraryId}}/Action"), post(sp_action_library))
        .route(&format!("{SP_BASE}/Items/{{itemId}}/Attachments/Action"), post(sp_action_attachments))
        .route(&format!("{SP_BASE}/Documents/save"), post(sp_save_documents))
        .route(&format!("{SP_BASE}/Documents/{{documentId}}/save"), post(sp_save_document))
        .route(
            &format!("{SP_BASE}/Documents/{{documentId}}/Versions/{{versionId}}/save"),
            post(sp_save_document_version),
        )
        .route(&format!("{SP_BASE}/Folders/save"), post(sp_save_folders))
        .route(&format!("{SP_BASE}/Folders/{{folderId}}/save"), post(sp_save_folder))
        .route(&format!("{SP_BASE}/Folders/{{folderId}}/Versions/{{versionId}}/save"), post(sp_save_folder_version))
        .route(&format!("{SP_BASE}/Libraries/{{libraryId}}/save"), post(sp_save_library))
        .route(&format!("{SP_BASE}/Items/{{itemId}}/Attachments/save"), post(sp_save_attachments))
        .route(&format!("{SP_BASE}/Items/{{itemId}}/Attachments/{{attachmentId}}/save"), post(sp_save_attachment))
}

/// What a SharePoint save applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpScope {
    /// Several library documents (ids from the body).
    Documents,
    /// One library document.
    Document(String),
    /// Several folders (ids from the body).
    Folders,
    /// One folder.
    Folder(String),
    /// A whole document library.
    Library(String),
    /// Attachments of a list item: the ids from the body (`attachments`/`Attachments`), or all when none are named.
    Attachments(String),
    /// One attachment of a list item: (item id, attachment id).
    Attachment(String, String),
}

/// A list or library of the site.
#[derive(Clone)]
struct SpList {
    id: Uuid,
    info: repo::catalog::ListInfo,
}

/// A site of the caller's working Vesp session with its lists and libraries.
struct Site {
    session: RestoreSession,
    at: DateTime<Utc>,
    title: String,
    lists: Vec<SpList>,
}

use crate::ctx::site::not_found as sp_not_found;

impl Site {
    async fn load(
        state: &AppState,
        user: &CurrentUser,
        sid: &str,
        site_id: &str,
        version: ApiVersion,
    ) -> Result<Site, ApiError> {
        let site = crate::ctx::site::load(state, user, version, sid, site_id).await?;
        let info = site.site.info;
        let lists = site.lists.into_iter().map(|l| SpList { id: l.id, info: l.info }).collect();
        let title = if info.title.is_empty() { info.url.clone() } else { info.title.clone() };
        Ok(Site { session: site.session, at: site.at, title, lists })
    }

    fn target(&self) -> Target {
        Target { session: self.session.id, source: self.title.clone() }
    }

    /// An item by API id (`<list UUID><item id>` for generic lists, the drive item id for libraries).
    async fn resolve(&self, state: &AppState, api_id: &str) -> Result<Option<(SpList, ItemRow)>, ApiError> {
        let api_id = api_id.trim();
        if api_id.is_empty() {
            return Ok(None);
        }
        let visible = |row: Option<ItemRow>| row.filter(|i| !i.deleted || self.session.show_deleted);
        if api_id.len() > 32 && api_id.is_char_boundary(32) {
            if let Ok(uuid) = Uuid::try_parse(&api_id[..32]) {
                if let Some(l) = self.lists.iter().find(|l| l.id == uuid && !l.info.is_document_library) {
                    if let Some(row) = visible(state.catalog.item_at(l.id, &api_id[32..], self.at).await?) {
                        return Ok(Some((l.clone(), row)));
                    }
                }
            }
        }
        let libs = self.lists.iter().filter(|l| l.info.is_document_library);
        for l in libs.chain(self.lists.iter().filter(|l| !l.info.is_document_library)) {
            if let Some(row) = visible(state.catalog.item_at(l.id, api_id, self.at).await?) {
                return Ok(Some((l.clone(), row)));
            }
        }
        Ok(None)
    }

    async fn document(&self, state: &AppState, id: &str) -> Result<(SpList, ItemRow), ApiError> {
        match self.resolve(state, id).await? {
            Some((l, r)) if l.info.is_document_library && !r.state.is_folder => Ok((l, r)),
            _ => Err(sp_not_found("document", id)),
        }
    }

    async fn folder(&self, state: &AppState, id: &str) -> Result<(SpList, ItemRow), ApiError> {
        match self.resolve(state, id).await? {
            Some((l, r)) if r.state.is_folder => Ok((l, r)),
            _ => Err(sp_not_found("folder", id)),
        }
    }

    async fn list_item(&self, state: &AppState, id: &str) -> Result<(SpList, ItemRow), ApiError> {
        match self.resolve(state, id).await? {
            Some((l, r)) if !l.info.is_document_library && !r.state.is_folder => Ok((l, r)),
            _ => Err(sp_not_found("item", id)),
        }
    }

    /// The container, instant and deleted-items visibility of a library in the session (for [`add_tree`]).
    fn list_tree(&self, list: &SpList) -> (Uuid, DateTime<Utc>, bool) {
        (list.id, self.at, self.session.show_deleted)
    }
}

async fn sp_save_scope(
    state: &AppState,
    site: &Site,
    scope: &SpScope,
    opts: &Obj,
    version_id: Option<&str>,
) -> Result<Response, ApiError> {
    let t = site.target();
    match scope {
        SpScope::Document(id) => {
            let (l, r) = site.document(state, id).await?;
            let as_zip = opts.bool("asZip")?.unwrap_or(false);
            let doc = Doc { container: l.id, at: site.at, row: &r, show_all_versions: site.session.show_all_versions };
            save_document_at(state, &t, doc, version_id, as_zip).await
        }
        SpScope::Documents => {
            let ids = opts.id_list("documents")?;
            let mut plan = ZipPlan::new();
            for id in &ids {
                let (_, r) = site.document(state, id).await?;
                let s = &r.state;
                if !add_file(&mut plan, None, &s.name, s.content_ref.as_deref(), s.size, s.modified_at) {
                    return Err(no_content(&s.name));
                }
            }
            send_zip(state, &t, plan, "Documents.zip".into(), "Document", 0).await
        }
        SpScope::Folder(id) => {
            let (l, f) = site.folder(state, id).await?;
            if let Some(v) = version_id {
                browse_util::check_folder_version(id, v)?;
            }
            let mut plan = ZipPlan::new();
            let missing = add_tree(state, &mut plan, site.list_tree(&l), Some(&f)).await?;
            send_zip(state, &t, plan, format!("{}.zip", f.state.name), "Folder", missing).await
        }
        SpScope::Folders => {
            let ids = opts.id_list("folders")?;
            let mut found = Vec::new();
            for id in &ids {
                found.push(site.folder(state, id).await?);
            }
            let mut plan = ZipPlan::new();
            let mut missing = 0;
            for (l, f) in &found {
                missing += add_tree(state, &mut plan, site.list_tree(l), Some(f)).await?;
            }
            send_zip(state, &t, plan, "Folders.zip".into(), "Folder", missing).await
        }
        SpScope::Library(id) => {
            let l = Uuid::parse_str(id.trim())
                .ok()
                .and_then(|u| site.lists.iter().find(|l| l.id == u && l.info.is_document_library))
                .cloned()
                .ok_or_else(|| sp_not_found("library", id))?;
            let mut plan = ZipPlan::new();
            let missing = add_tree(state, &mut plan, site.list_tree(&l), None).await?;
            send_zip(state, &t, plan, format!("{}.zip", l.info.title), "Library", missing).await
        }
        SpScope::Attachments(item) => {
            let (_, r) = site.list_item(state, item).await?;
            let chosen = sp_attachments::chosen(&r, opts)?;
            let mut plan = ZipPlan::new();
            for a in chosen {
                if !add_file(&mut plan, None, &a.file_name, a.content_ref.as_deref(), a.size, r.state.modified_at) {
                    return Err(no_content(&a.file_name));
                }
            }
            send_zip(state, &t, plan, "Attachments.zip".into(), "Attachment", 0).await
        }
        SpScope::Attachment(item, att) => {
            let (_, r) = site.list_item(state, item).await?;
            let a = sp_attachments::find(&r, att).ok_or_else(|| sp_not_found("attachment", att))?;
            let as_zip = opts.bool("asZip")?.unwrap_or(false);
            send_document(state, &t, &a.file_name, a.content_ref.as_deref(), a.size, r.state.modified_at, as_zip).await
        }
    }
}

/// The v2–v5 `…/Action` dispatcher for SharePoint scopes (see the [module docs](self)).
pub async fn dispatch_sharepoint(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    sid: &str,
    site_id: &str,
    scope: SpScope,
    body: &Obj,
) -> Result<Response, ApiError> {
    require_action_era(version)?;
    let (action, opts) = if body.has("from") && body.has("to") && !body.has("sendTo") {
        ("sendTo", body.clone())
    } else {
        body.action(&["save", "restoreTo", "sendTo"])?
    };
    match action {
        "save" => {
            let site = Site::load(state, user, sid, site_id, version).await?;
            sp_save_scope(state, &site, &scope, &opts, None).await
        }
        "sendTo" => crate::resources::send::sharepoint_action(state, user, version, sid, site_id, &scope, &opts).await,
        "restoreTo" => {
            crate::resources::sp_restore::sharepoint_action(state, user, version, sid, site_id, &scope, &opts).await
        }
        other => Err(ApiError::bad_request(format!("action '{other}' is not supported yet"))),
    }
}

#[allow(clippy::too_many_arguments)]
async fn sp_verb(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    sid: &str,
    site_id: &str,
    scope: SpScope,
    body: &Obj,
    version_id: Option<&str>,
) -> Result<Response, ApiError> {
    require_verb_era(version)?;
    let site = Site::load(state, user, sid, site_id, version).await?;
    sp_save_scope(state, &site, &scope, body, version_id).await
}

macro_rules! sp_handler {
    ($name:ident, $path:ty, |$p:ident| $scope:expr, $era:ident) => {
        async fn $name(
            State(state): State<AppState>,
            user: CurrentUser,
            version: ApiVersion,
            Path($p): Path<$path>,
            LenientJson(body): LenientJson,
        ) -> Result<Response, ApiError> {
            sp_handler!(@call $era, state, user, version, $p, $scope, body)
        }
    };
    (@call action, $state:ident, $user:ident, $version:ident, $p:ident, $scope:expr, $body:ident) => {
        dispatch_sharepoint(&$state, &$user, $version, &$p.id, &$p.site_id, $scope, &$body).await
    };
    (@call verb, $state:ident, $user:ident, $version:ident, $p:ident, $scope:expr, $body:ident) => {
        sp_verb(&$state, &$user, $version, &$p.id, &$p.site_id, $scope, &$body, None).await
    };
}

sp_handler!(sp_action_documents, SitePath, |p| SpScope::Documents, action);
sp_handler!(sp_action_document, SiteItemPath, |p| SpScope::Document(p.item_id.clone()), action);
sp_handler!(sp_action_folders, SitePath, |p| SpScope::Folders, action);
sp_handler!(sp_action_folder, SiteItemPath, |p| SpScope::Folder(p.item_id.clone()), action);
sp_handler!(sp_action_library, SiteItemPath, |p| SpScope::Library(p.item_id.clone()), action);
sp_handler!(sp_action_attachments, SiteItemPath, |p| SpScope::Attachments(p.item_id.clone()), action);
sp_handler!(sp_save_documents, SitePath, |p| SpScope::Documents, verb);
sp_handler!(sp_save_document, SiteItemPath, |p| SpScope::Document(p.item_id.clone()), verb);
sp_handler!(sp_save_folders, SitePath, |p| SpScope::Folders, verb);
sp_handler!(sp_save_folder, SiteItemPath, |p| SpScope::Folder(p.item_id.clone()), verb);
sp_handler!(sp_save_library, SiteItemPath, |p| SpScope::Library(p.item_id.clone()), verb);
sp_handler!(sp_save_attachments, SiteItemPath, |p| SpScope::Attachments(p.item_id.clone()), verb);
sp_handler!(
    sp_save_attachment,
    SiteAttachmentPath,
    |p| SpScope::Attachment(p.item_id.clone(), p.attachment_id.clone()),
    verb
);

async fn sp_save_document_version(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<SiteVersionPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    let scope = SpScope::Document(p.item_id.clone());
    sp_verb(&state, &user, version, &p.id, &p.site_id, scope, &body, Some(&p.version_id)).await
}

async fn sp_save_folder_version(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<SiteVersionPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    let scope = SpScope::Folder(p.item_id.clone());
    sp_verb(&state, &user, version, &p.id, &p.site_id, scope, &body, Some(&p.version_id)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::paths::canonical_route;

    #[test]
    fn routes_are_canonical() {
        for rest in [
            "/Action",
            "/Documents/Action",
            "/Documents/{documentId}/Action",
            "/Folders/Action",
            "/Folders/{folderId}/Action",
            "/save",
            "/Documents/save",
            "/Documents/{documentId}/save",
            "/Documents/{documentId}/Versions/{versionId}/save",
            "/Folders/save",
            "/Folders/{folderId}/save",
            "/Folders/{folderId}/Versions/{versionId}/save",
        ] {
            let p = format!("{BASE}{rest}");
            assert_eq!(canonical_route(&p), p);
        }
        for rest in [
            "/Documents/Action",
            "/Documents/{documentId}/Action",
            "/Folders/Action",
            "/Folders/{folderId}/Action",
            "/Libraries/{libraryId}/Action",
            "/Items/{itemId}/Attachments/Action",
            "/Documents/save",
            "/Documents/{documentId}/save",
            "/Documents/{documentId}/Versions/{versionId}/save",
            "/Folders/save",
            "/Folders/{folderId}/save",
            "/Folders/{folderId}/Versions/{versionId}/save",
            "/Libraries/{libraryId}/save",
            "/Items/{itemId}/Attachments/save",
            "/Items/{itemId}/Attachments/{attachmentId}/save",
        ] {
            let p = format!("{SP_BASE}{rest}");
            assert_eq!(canonical_route(&p), p);
        }
    }

    #[test]
    fn dispositions() {
        assert_eq!(content_disposition("a b.txt"), "attachment; filename=\"a b.txt\"; filename*=UTF-8''a%20b.txt");
        assert_eq!(
            content_disposition("ré\"sumé.pdf"),
            "attachment; filename=\"r__sum_.pdf\"; filename*=UTF-8''r%C3%A9_sum%C3%A9.pdf"
        );
        assert_eq!(
            content_disposition("../../etc/passwd\0\r\nX-Evil: 1\u{202E}"),
            "attachment; filename=\".._.._etc_passwd___X-Evil_ 1\"; filename*=UTF-8''.._.._etc_passwd___X-Evil_%201"
        );
    }
}
