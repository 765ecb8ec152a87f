//! "Save" of OneDrive and SharePoint content (veeam-api-notes §8, §9.2/§9.3): downloads of backed-up documents,
//! folders, libraries, attachments and whole OneDrives.
//!
//! Paths under `/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}` (session type `Veod`), v6–v8:
//!
//! | path (POST) | body | answer |
//! |---|---|---|
//! | `/save` | none | ZIP of the whole OneDrive |
//! | `/Documents/save` | `{"documents":[{"id":…}]}` | ZIP |
//! | `/Documents/{documentId}/save`, `…/Versions/{versionId}/save` | `{"asZip":bool?}` | raw bytes or ZIP |
//! | `/Folders/save` | `{"folders":[{"id":…}]}` | ZIP |
//! | `/Folders/{folderId}/save`, `…/Versions/{versionId}/save` | none | ZIP |
//!
//! SharePoint (session type `Vesp`), under `/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}`, v6–v8:
//!
//! | path (POST) | body | answer |
//! |---|---|---|
//! | `/Documents/{documentId}/save`, `…/Versions/{versionId}/save` | `{"asZip":bool?}` | raw / ZIP |
//! | `/Documents/save`, `/Folders/save` | `{"documents":[…]}` / `{"folders":[…]}` | ZIP |
//! | `/Folders/{folderId}/save`, `…/Versions/{versionId}/save`, `/Libraries/{libraryId}/save` | none | ZIP |
//! | `/Items/{itemId}/Attachments/save` | `{"attachments":[{"id":…}]}` (none named: all) | ZIP |
//! | `/Items/{itemId}/Attachments/{attachmentId}/save` | `{"asZip":bool?}` | raw / ZIP |
//!
//! In v2–v5 the same saves are the `save` action of `POST …/Action` (`resources::actions`), which calls
//! [`onedrive`] and [`sharepoint_action`] with the scope of its path and the content of `save`.
//!
//! SharePoint ids follow [`crate::resources::sharepoint`]: library document/folder ids are drive item ids, generic list
//! items `<list UUID, 32 hex><item id>`, attachment ids the hex of the file name (the plain name is accepted too).
//!
//! This module maps a request to a [`Selection`] (resolving its ids, answering 404 for what the session does not
//! show); the engine plans the archive ([`engine::save::plan`]: entry names follow the catalog's folders, sanitised
//! and de-duplicated) and writes it while the client reads it ([`engine::save::zip_stream`]).
//! Answers are `application/octet-stream` with `Content-Disposition: attachment; filename="…"; filename*=UTF-8''…`
//! (RFC 6266) and an exact `Content-Length` (also for ZIPs: entries are STORED, so the size is known in advance).
//! Each save records a `Save` event in the restore session; for a ZIP its final status (Success / Failed / Cancelled
//! when the client went away) is set when the producer ends. A file without backed-up content is left out of a
//! folder's ZIP (the event then ends as `Warning`); a document without content is a 404.
//!
//! Decisions: the verb-era paths answer 404 in v2–v5 (their route group is gated in `router.rs`); unknown or deleted (without `showDeleted`) ids are 404; a
//! folder id where a document is expected (and the reverse) is 404; a document version other than the current one
//! requires a session with `showAllVersions`.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use engine::save::{zip_size, zip_stream, EntryContent, ZipError};
use engine::selection::{FileRef, SelectError, Selection, SessionView, Tree};
use repo::catalog::ItemRow;
use repo::store::Repository;
use uuid::Uuid;

use crate::ctx::drive::{DriveCtx, SessionDrive};
use crate::ctx::site::{not_found as sp_not_found, SiteCtx};
use crate::edge::error::ApiError;
use crate::edge::lenient::LenientJson;
use crate::resources::browse_util;
use crate::resources::scope::{
    session_view, sp_document, sp_folder, sp_library, sp_list_item, DriveTarget, Scope, SiteTarget, SpScope,
};
use crate::resources::sp_attachments;
use crate::state::AppState;
use crate::store::sessions::{self, NewEvent, Outcome};
use crate::wire::selection::{required_ids, SaveOptions};

// ---------------------------------------------------------------------------------------------------------------
// Downloads

fn repository(state: &AppState) -> Result<Repository, ApiError> {
    state.repo.clone().ok_or_else(|| ApiError::internal("No backup repository is configured on this server."))
}

/// The answer for a selection the engine refuses.
fn select_error(e: SelectError) -> ApiError {
    match e {
        SelectError::Catalog(e) => e.into(),
        SelectError::TooMany => ApiError::conflict(e.to_string()),
        SelectError::NoContent { name, .. } => {
            ApiError::not_found(format!("No content was backed up for document {name}."))
        }
        SelectError::UnknownVersion { .. } | SelectError::HiddenVersion { .. } => ApiError::not_found(e.to_string()),
    }
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

/// Where a save happens: the session (for its events), its catalog view and the source's display name.
struct Target<'a> {
    session: Uuid,
    view: SessionView<'a>,
    source: String,
}

impl<'a> Target<'a> {
    fn drive(state: &'a AppState, d: &SessionDrive) -> Target<'a> {
        Target { session: d.session.id, view: session_view(&state.catalog, &d.session, d.at), source: d.name() }
    }

    fn event(&self, title: &str, name: &str, item_type: &str, size: Option<i64>, status: Outcome) -> NewEvent {
        NewEvent {
            kind: "Save".into(),
            status: Some(status),
            title: title.into(),
            message: format!("Saving {name}"),
            item_name: Some(name.to_string()),
            item_type: Some(item_type.into()),
            item_size: size,
            source: Some(self.source.clone()),
            ..NewEvent::default()
        }
    }
}

/// Streams the ZIP of `selection` named `file_name`, recording the event and finishing it when the producer ends.
async fn send_zip(
    state: &AppState,
    t: &Target<'_>,
    selection: Selection,
    file_name: String,
    item_type: &str,
) -> Result<Response, ApiError> {
    let planned = engine::save::plan(&t.view, &selection).await.map_err(select_error)?;
    let missing = planned.missing;
    let repo = repository(state)?;
    let entries = planned.zip.into_entries();
    let length = zip_size(&entries);
    let size = entries.iter().map(|e| if let EntryContent::Blob(b) = &e.content { b.size as i64 } else { 0 }).sum();
    let ev = sessions::record_event(
        state,
        t.session,
        t.event("Saving items", &file_name, item_type, Some(size), Outcome::Running),
    )
    .await?;
    let (stream, handle) = zip_stream(repo, entries);
    let st = state.clone();
    let session = t.session;
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

/// Streams one file's bytes (or a one-entry ZIP with `as_zip`).
async fn send_file(state: &AppState, t: &Target<'_>, file: FileRef, as_zip: bool) -> Result<Response, ApiError> {
    if as_zip {
        let name = format!("{}.zip", file.name);
        return send_zip(state, t, Selection::Files(vec![file]), name, "Document").await;
    }
    let repo = repository(state)?;
    let blob = file.blob().map_err(select_error)?;
    let event = t.event("Item is saved", &file.name, "Document", Some(file.size), Outcome::Success);
    sessions::record_event(state, t.session, event).await?;
    Ok(match blob {
        Some(b) => download(&file.name, b.size, Body::from_stream(engine::save::blob_bytes(&repo, &b))),
        None => download(&file.name, 0, Body::empty()),
    })
}

/// Document `row`, or its version `version_id` (1-based ordinal; earlier versions need `showAllVersions`).
async fn document_file(t: &Target<'_>, row: &ItemRow, version_id: Option<&str>) -> Result<FileRef, ApiError> {
    let Some(v) = version_id else { return Ok(FileRef::of(row)) };
    let n = v.trim().parse::<i32>().map_err(|_| ApiError::not_found(format!("Version {v} was not found.")))?;
    t.view.document_version(row, n).await.map_err(select_error)
}

// ---------------------------------------------------------------------------------------------------------------
// OneDrive

/// Save backed-up OneDrive content: the whole OneDrive, documents, folders (ZIP) or one document (its bytes, or a ZIP
/// with `asZip`), at the current version or `…/Versions/{versionId}`. v2–v5 reach it through `…/Action {"save": …}`.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/save",
    tag = "Save",
    request_body(content = SaveOptions, content_type = "application/json", description = "`documents: [{id}]` / `folders: [{id}]` for the collections, `asZip` for one document; optional otherwise"),
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id")
    ),
    responses(
        (status = 200, description = "application/octet-stream: a ZIP, or one document's bytes", body = [u8]),
        (status = 400, description = "Invalid options (a collection without ids)", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, OneDrive, document, folder or version", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn save_onedrive(
    State(state): State<AppState>,
    d: DriveCtx,
    target: DriveTarget,
    LenientJson(opts): LenientJson<SaveOptions>,
) -> Result<Response, ApiError> {
    let (state, scope, version_id) = (&state, &target.scope, target.version.as_deref());
    let t = Target::drive(state, &d);
    let tree = |folder| Tree { container: d.row.id, folder };
    match scope {
        Scope::OneDrive => {
            let name = format!("{}.zip", d.name());
            send_zip(state, &t, Selection::Trees(vec![tree(None)]), name, "OneDrive").await
        }
        Scope::Folder(id) => {
            let f = d.item(state, id, true).await?;
            if let Some(v) = version_id {
                browse_util::check_folder_version(id, v)?;
            }
            let name = format!("{}.zip", f.state.name);
            send_zip(state, &t, Selection::Trees(vec![tree(Some(f))]), name, "Folder").await
        }
        Scope::Folders => {
            let mut trees = Vec::new();
            for id in required_ids(opts.folders.as_ref(), "folders")? {
                trees.push(tree(Some(d.item(state, &id, true).await?)));
            }
            send_zip(state, &t, Selection::Trees(trees), "Folders.zip".into(), "Folder").await
        }
        Scope::Documents => {
            let mut files = Vec::new();
            for id in required_ids(opts.documents.as_ref(), "documents")? {
                files.push(FileRef::of(&d.item(state, &id, false).await?));
            }
            send_zip(state, &t, Selection::Files(files), "Documents.zip".into(), "Document").await
        }
        Scope::Document(id) => {
            let row = d.item(state, id, false).await?;
            let as_zip = opts.as_zip.unwrap_or(false);
            send_file(state, &t, document_file(&t, &row, version_id).await?, as_zip).await
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// SharePoint (session type Vesp)

/// Where a SharePoint save happens: the site's title names it (its URL when it has none).
fn site_target<'a>(site: &'a SiteCtx) -> Target<'a> {
    let info = &site.site.info;
    let source = if info.title.is_empty() { info.url.clone() } else { info.title.clone() };
    Target { session: site.session.id, view: session_view(&site.catalog, &site.session, site.at), source }
}

/// Save backed-up SharePoint content: documents, folders, a library (ZIP), one document (its bytes, or a ZIP with
/// `asZip`), at the current version or `…/Versions/{versionId}`, and list item attachments. v2–v5 reach it through
/// `…/Action {"save": …}`.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Documents/save",
    tag = "Save",
    request_body(content = SaveOptions, content_type = "application/json", description = "`documents` / `folders` / `attachments: [{id}]` for the collections (no attachments named: all), `asZip` for one document or attachment"),
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id")
    ),
    responses(
        (status = 200, description = "application/octet-stream: a ZIP, or one file's bytes", body = [u8]),
        (status = 400, description = "Invalid options (a collection without ids)", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, site, library, document, folder, item, attachment or version", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn save_site(
    State(state): State<AppState>,
    site: SiteCtx,
    target: SiteTarget,
    LenientJson(opts): LenientJson<SaveOptions>,
) -> Result<Response, ApiError> {
    let (state, site, scope, version_id) = (&state, &site, &target.scope, target.version.as_deref());
    let t = site_target(site);
    match scope {
        SpScope::Document(id) => {
            let row = sp_document(site, id).await?;
            let as_zip = opts.as_zip.unwrap_or(false);
            send_file(state, &t, document_file(&t, &row, version_id).await?, as_zip).await
        }
        SpScope::Documents => {
            let mut files = Vec::new();
            for id in required_ids(opts.documents.as_ref(), "documents")? {
                files.push(FileRef::of(&sp_document(site, &id).await?));
            }
            send_zip(state, &t, Selection::Files(files), "Documents.zip".into(), "Document").await
        }
        SpScope::Folder(id) => {
            let tree = sp_folder(site, id).await?;
            if let Some(v) = version_id {
                browse_util::check_folder_version(id, v)?;
            }
            let name = format!("{}.zip", tree.folder.as_ref().map_or("", |f| f.state.name.as_str()));
            send_zip(state, &t, Selection::Trees(vec![tree]), name, "Folder").await
        }
        SpScope::Folders => {
            let mut trees = Vec::new();
            for id in required_ids(opts.folders.as_ref(), "folders")? {
                trees.push(sp_folder(site, &id).await?);
            }
            send_zip(state, &t, Selection::Trees(trees), "Folders.zip".into(), "Folder").await
        }
        SpScope::Library(id) => {
            let (whole, title) = sp_library(site, id)?;
            send_zip(state, &t, Selection::Trees(vec![whole]), format!("{title}.zip"), "Library").await
        }
        SpScope::Attachments(item) => {
            let row = sp_list_item(site, item).await?;
            let chosen = sp_attachments::chosen(&row, opts.attachments.as_deref())?;
            let files = chosen.into_iter().map(|a| FileRef::attachment(&row, a)).collect();
            send_zip(state, &t, Selection::Files(files), "Attachments.zip".into(), "Attachment").await
        }
        SpScope::Attachment(item, att) => {
            let row = sp_list_item(site, item).await?;
            let a = sp_attachments::find(&row, att).ok_or_else(|| sp_not_found("attachment", att))?;
            let as_zip = opts.as_zip.unwrap_or(false);
            send_file(state, &t, FileRef::attachment(&row, a), as_zip).await
        }
        SpScope::Site | SpScope::List(_) | SpScope::Items | SpScope::Item(_) => {
            Err(ApiError::bad_request("action 'save' is not supported here: this path takes 'restoreTo' only"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
