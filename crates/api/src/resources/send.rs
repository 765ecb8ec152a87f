//! "Send": backed-up OneDrive documents as e-mail attachments (veeam-api-notes §8, §11), and the email settings.
//!
//! | path | versions | body | answer |
//! |---|---|---|---|
//! | GET/PUT `/{version}/VeodEmailSettings`, `/VespEmailSettings`, `/VexEmailSettings`, `/VetEmailSettings` | v2–v8 | PUT [`EmailSettingsUpdate`] (a partial update; spellings: [`crate::store::email_settings`]) | GET 200 [`EmailSettingsAnswer`] (no secrets); PUT 200 (v8 204) |
//! | POST `…EmailSettings/SendTestEmail` (v6/v7 Vex/Vet spell it `SendTest`; both are served) | v2–v8 | `{"email": …}` | 200 (v8 204) |
//! | POST `…/OneDrives/{oneDriveId}/send` | v6–v8 | `{skipItemChecks, from, to, subject, text}` | 200 empty (v8 204) |
//! | POST `…/OneDrives/{oneDriveId}/Documents/send` | v6–v8 | + `documents[]` | same |
//! | POST `…/OneDrives/{oneDriveId}/Documents/{documentId}/send` | v6–v8 | send options | same |
//! | POST `…/OneDrives/{oneDriveId}/Folders/send` | v6–v8 | + `folders[]` | same |
//! | POST `…/OneDrives/{oneDriveId}/Folders/{folderId}/send`, `…/Versions/{versionId}/send` (versionId 1: folders have one version) | v6–v8 | send options | same |
//! | POST `…/OneDrives/{oneDriveId}/Documents/{documentId}/Versions/{versionId}/send` | v6–v8 | send options | same |
//! | POST `…/Sites/{siteId}/Documents/send` (+`documents[]`), `/Documents/{documentId}/send`, `…/Versions/{versionId}/send` | v6–v8 | send options | same |
//! | POST `…/Sites/{siteId}/Folders/send` (+`folders[]`), `/Folders/{folderId}/send`, `…/Versions/{versionId}/send`, `/Libraries/{libraryId}/send` | v6–v8 | send options | same |
//! | POST `…/Sites/{siteId}/Items/{itemId}/Attachments/send` (+`attachments[]`), `…/Attachments/{attachmentId}/send` | v6–v8 | send options | same |
//! | v2–v5 `…/Action {"sendTo": {…}}` (or a bare `{from, to, …}`) | v2–v5 | send options | 200 empty — [`onedrive_action`] and [`sharepoint_action`], called by `resources::actions` |
//!
//! Decisions: the recipients are `to` (several separated by `,` or `;`); `from` defaults to the settings' `from`;
//! CR/LF in `from`/`to`/`subject` is refused (400); the attachments' total is checked against the settings'
//! `maxMessageSizeBytes` (default 35 MB) before anything is read or sent (400 naming the limit); a file without
//! backed-up content fails the send (400) unless `skipItemChecks` is true, which leaves it out. OneDrive sends use the
//! Veod settings, falling back to the Vesp ones (v2–v5 docs point at Vesp: there the order is reversed); SharePoint
//! sends use the Vesp settings only; missing or
//! disabled settings → 400 naming the PUT to make. A transport failure is a 500 whose message names the server.
//! Every send (and every failed send after validation) records a `Send` event in the restore session.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use engine::selection::{FileRef, SelectError, Selection, SessionView, Tree};
use engine::send::OutgoingMessage;
use repo::catalog::ItemRow;
use uuid::Uuid;

use crate::ctx::drive::{DriveCtx, SessionDrive};
use crate::ctx::site::{not_found, SiteCtx};
use crate::edge::era::Era;
use crate::edge::error::ApiError;
use crate::edge::lenient::LenientJson;
use crate::edge::version::ApiVersion;
use crate::resources::browse_util;
use crate::resources::email_settings::send_error;
use crate::resources::scope::{
    session_view, sp_document, sp_folder, sp_library, sp_list_item, DriveTarget, Scope, SiteTarget, SpScope,
};
use crate::resources::sp_attachments;
use crate::state::AppState;
use crate::store::email_settings::{self as store_email, Explorer};
use crate::store::sessions::{self, NewEvent, Outcome};
use crate::wire::selection::{required_ids, SendOptions};
use crate::wire::Done;

// ---------------------------------------------------------------------------------------------------------------
// Sending a selection

/// The message a send delivers its items in, with the body's defaults applied.
#[derive(Debug)]
struct Message {
    skip_item_checks: bool,
    from: Option<String>,
    to: String,
    subject: String,
    text: String,
}

impl Message {
    fn of(o: &SendOptions) -> Message {
        Message {
            skip_item_checks: o.skip_item_checks.unwrap_or(false),
            from: o.from.clone().filter(|s| !s.trim().is_empty()),
            to: o.to.clone(),
            subject: o.subject.clone().unwrap_or_default(),
            text: o.text.clone().unwrap_or_default(),
        }
    }
}

/// The answer for a selection the engine refuses.
fn select_error(e: SelectError) -> ApiError {
    match e {
        SelectError::Catalog(e) => e.into(),
        SelectError::NoContent { name, id } => ApiError::bad_request(format!(
            "No content was backed up for '{name}' ({id}); nothing was sent. Set 'skipItemChecks' to leave such items \
             out."
        )),
        SelectError::TooMany => ApiError::conflict(e.to_string()),
        SelectError::UnknownVersion { .. } | SelectError::HiddenVersion { .. } => ApiError::not_found(e.to_string()),
    }
}

/// Where a send comes from: the session (for its event), its catalog view, the source's name and the email
/// settings to use.
struct Origin<'a> {
    session: Uuid,
    view: SessionView<'a>,
    source: String,
    explorer: Explorer,
    fallback: Option<Explorer>,
}

/// The email settings a OneDrive send uses, then falls back to, per era: the Veod ones, then Vesp — reversed in
/// v2–v5, whose docs point at Vesp.
const ONEDRIVE_SENDERS: [(Era, Explorer, Explorer); 2] =
    [(Era::ACTION, Explorer::Vesp, Explorer::Veod), (Era::VERB, Explorer::Veod, Explorer::Vesp)];

impl<'a> Origin<'a> {
    /// A OneDrive: its era's settings ([`ONEDRIVE_SENDERS`]).
    fn drive(state: &'a AppState, d: &SessionDrive, version: ApiVersion) -> Origin<'a> {
        let (_, explorer, fallback) =
            ONEDRIVE_SENDERS.into_iter().find(|(era, ..)| era.contains(version)).unwrap_or(ONEDRIVE_SENDERS[1]);
        Origin {
            session: d.session.id,
            view: session_view(&state.catalog, &d.session, d.at),
            source: d.row.info.title().to_string(),
            explorer,
            fallback: Some(fallback),
        }
    }
}

/// What is sent: the selection, and how the event names it.
struct Items {
    selection: Selection,
    item_type: &'static str,
    item_name: String,
}

/// Document `row`'s version `vid` (1-based ordinal; earlier versions need `showAllVersions`).
async fn document_version(view: &SessionView<'_>, row: &ItemRow, vid: &str) -> Result<FileRef, ApiError> {
    let not_found = || ApiError::not_found(format!("Version {vid} of document {} was not found.", row.item_id));
    let n = vid.trim().parse::<i32>().map_err(|_| not_found())?;
    view.document_version(row, n).await.map_err(select_error)
}

/// Collects the attachments, resolves the settings, sends, records the `Send` event and answers per era.
async fn deliver(
    state: &AppState,
    version: ApiVersion,
    origin: &Origin<'_>,
    o: Message,
    items: Items,
) -> Result<Response, ApiError> {
    let atts =
        engine::send::attachments(&origin.view, &items.selection, o.skip_item_checks).await.map_err(select_error)?;
    if atts.is_empty() {
        return Err(ApiError::bad_request("There is nothing to send: the selection contains no backed-up files."));
    }
    let (used, settings) = store_email::for_send(state, origin.explorer, origin.fallback).await?;
    let transport = settings.transport(used, state.allow_plaintext_mail_credentials)?;
    let msg = OutgoingMessage {
        from: o.from.or_else(|| settings.from.clone()).unwrap_or_default(),
        to: o.to.clone(),
        subject: o.subject,
        text: o.text,
    };
    // Input errors are answered before anything is recorded.
    engine::send::validate(&msg).map_err(send_error)?;
    let repo =
        state.repo.clone().ok_or_else(|| ApiError::internal("No backup repository is configured on this server."))?;
    let size: u64 = atts.iter().map(|a| a.size).sum();
    let started = Utc::now();
    let result = engine::send::send(&repo, &transport, &msg, &atts, settings.max_bytes()).await;
    let (status, message) = match &result {
        Ok(r) => (Outcome::Success, format!("{} item(s) sent to {}", r.attachments, r.recipients.join(", "))),
        Err(e) => (Outcome::Failed, e.to_string()),
    };
    sessions::add_event(
        state,
        origin.session,
        NewEvent {
            kind: "Send".into(),
            status: Some(status),
            started_at: Some(started),
            title: if result.is_ok() { "Item is sent".into() } else { "Item is not sent".into() },
            message,
            item_name: Some(items.item_name),
            item_type: Some(items.item_type.into()),
            item_size: Some(size as i64),
            source: Some(origin.source.clone()),
            target: Some(msg.to.clone()),
            ..NewEvent::default()
        },
    )
    .await?;
    result.map_err(send_error)?;
    Ok(Done(version).into_response())
}

// ---------------------------------------------------------------------------------------------------------------
// OneDrive

/// Send backed-up OneDrive content as e-mail attachments: the whole OneDrive, documents, folders, one document (at
/// the current version or `…/Versions/{versionId}`) or one folder. v2–v5 reach it through `…/Action {"sendTo": …}`.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/send",
    tag = "Send",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id")
    ),
    request_body(content = SendOptions, content_type = "application/json", description = "{skipItemChecks, from, to, subject, text}; `documents: [{id}]` / `folders: [{id}]` for the collections"),
    responses(
        (status = 200, description = "Sent (v6/v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "Invalid options, email settings missing, no content, or message too large", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, OneDrive, document, folder or version", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn send_onedrive(
    State(state): State<AppState>,
    d: DriveCtx,
    target: DriveTarget,
    LenientJson(opts): LenientJson<SendOptions>,
) -> Result<Response, ApiError> {
    let (state, version, opts) = (&state, d.era(), &opts);
    let (scope, version_id) = (&target.scope, target.version.as_deref());
    if let (Scope::Folder(id), Some(v)) = (scope, version_id) {
        browse_util::check_folder_version(id, v)?;
    }
    let o = Message::of(opts);
    let origin = Origin::drive(state, &d, version);
    let tree = |folder| Tree { container: d.row.id, folder };
    let items = match scope {
        Scope::Document(id) => {
            let r = d.item(state, id, false).await?;
            let file = match version_id {
                Some(v) => document_version(&origin.view, &r, v).await?,
                None => FileRef::of(&r),
            };
            Items { selection: Selection::Files(vec![file]), item_type: "Document", item_name: r.state.name }
        }
        Scope::Documents => {
            let mut files = Vec::new();
            for id in required_ids(opts.documents.as_ref(), "documents")? {
                files.push(FileRef::of(&d.item(state, &id, false).await?));
            }
            let item_name = format!("{} documents", files.len());
            Items { selection: Selection::Files(files), item_type: "Document", item_name }
        }
        Scope::Folder(id) => {
            let f = d.item(state, id, true).await?;
            let item_name = f.state.name.clone();
            Items { selection: Selection::Trees(vec![tree(Some(f))]), item_type: "Folder", item_name }
        }
        Scope::Folders => {
            let mut trees = Vec::new();
            for id in required_ids(opts.folders.as_ref(), "folders")? {
                trees.push(tree(Some(d.item(state, &id, true).await?)));
            }
            let item_name = format!("{} folders", trees.len());
            Items { selection: Selection::Trees(trees), item_type: "Folder", item_name }
        }
        Scope::OneDrive => {
            Items { selection: Selection::Trees(vec![tree(None)]), item_type: "OneDrive", item_name: d.name() }
        }
    };
    deliver(state, version, &origin, o, items).await
}

// ---------------------------------------------------------------------------------------------------------------
// SharePoint

/// Where a SharePoint send comes from: the site; SharePoint sends use the Vesp settings only.
fn site_origin(site: &SiteCtx) -> Origin<'_> {
    Origin {
        session: site.session.id,
        view: session_view(&site.catalog, &site.session, site.at),
        source: site.site.info.title.clone(),
        explorer: Explorer::Vesp,
        fallback: None,
    }
}

/// Send backed-up SharePoint content as e-mail attachments: documents, folders, a library, one document (at the
/// current version or `…/Versions/{versionId}`) or folder, and list item attachments. v2–v5 reach it through
/// `…/Action {"sendTo": …}`.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Documents/send",
    tag = "Send",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id")
    ),
    request_body(content = SendOptions, content_type = "application/json", description = "{skipItemChecks, from, to, subject, text}; `documents` / `folders` / `attachments: [{id}]` for the collections (no attachments named: all)"),
    responses(
        (status = 200, description = "Sent (v6/v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "Invalid options, email settings missing, no content, or message too large", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, site, library, document, folder, item, attachment or version", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn send_site(
    State(state): State<AppState>,
    site: SiteCtx,
    target: SiteTarget,
    LenientJson(opts): LenientJson<SendOptions>,
) -> Result<Response, ApiError> {
    let (state, version, site, opts) = (&state, site.version, &site, &opts);
    let (scope, version_id) = (&target.scope, target.version.as_deref());
    if let (SpScope::Folder(id), Some(v)) = (scope, version_id) {
        browse_util::check_folder_version(id, v)?;
    }
    let o = Message::of(opts);
    let origin = site_origin(site);
    let items = match scope {
        SpScope::Documents => {
            let mut files = Vec::new();
            for id in required_ids(opts.documents.as_ref(), "documents")? {
                files.push(FileRef::of(&sp_document(site, &id).await?));
            }
            let item_name = format!("{} documents", files.len());
            Items { selection: Selection::Files(files), item_type: "Document", item_name }
        }
        SpScope::Document(id) => {
            let row = sp_document(site, id).await?;
            let file = match version_id {
                Some(v) => document_version(&origin.view, &row, v).await?,
                None => FileRef::of(&row),
            };
            Items { selection: Selection::Files(vec![file]), item_type: "Document", item_name: row.state.name }
        }
        SpScope::Folders => {
            let mut trees = Vec::new();
            for id in required_ids(opts.folders.as_ref(), "folders")? {
                trees.push(sp_folder(site, &id).await?);
            }
            let item_name = format!("{} folders", trees.len());
            Items { selection: Selection::Trees(trees), item_type: "Folder", item_name }
        }
        SpScope::Folder(id) => {
            let tree = sp_folder(site, id).await?;
            let item_name = tree.folder.as_ref().map(|f| f.state.name.clone()).unwrap_or_default();
            Items { selection: Selection::Trees(vec![tree]), item_type: "Folder", item_name }
        }
        SpScope::Library(id) => {
            let (whole, title) = sp_library(site, id)?;
            Items { selection: Selection::Trees(vec![whole]), item_type: "Library", item_name: title }
        }
        SpScope::Attachments(item) => {
            let row = sp_list_item(site, item).await?;
            let chosen = sp_attachments::chosen(&row, opts.attachments.as_deref())?;
            let files = chosen.into_iter().map(|a| FileRef::attachment(&row, a)).collect();
            Items { selection: Selection::Files(files), item_type: "Attachment", item_name: row.state.name.clone() }
        }
        SpScope::Attachment(item, att) => {
            let row = sp_list_item(site, item).await?;
            let a = sp_attachments::find(&row, att).ok_or_else(|| not_found("attachment", att))?;
            let file = FileRef::attachment(&row, a);
            Items {
                selection: Selection::Files(vec![file]),
                item_type: "Attachment",
                item_name: row.state.name.clone(),
            }
        }
        SpScope::Site | SpScope::List(_) | SpScope::Items | SpScope::Item(_) => {
            return Err(ApiError::bad_request(
                "action 'sendTo' is not supported here: this path takes 'restoreTo' only",
            ));
        }
    };
    deliver(state, version, &origin, o, items).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_and_options() {
        let o = crate::edge::lenient::Body::parse(
            br#"{"Documents":[{"Id":"a"},"b"],"to":"x@y.z","skipItemChecks":"true"}"#,
        )
        .unwrap();
        let o: SendOptions = o.to_typed().unwrap();
        assert!(Message::of(&o).skip_item_checks);
        assert_eq!(required_ids(o.documents.as_ref(), "documents").unwrap(), vec!["a", "b"]);
        let bad = crate::edge::lenient::Body::parse(br#"{"documents":[{"id":"a"}]}"#).unwrap();
        assert!(bad.to_typed::<SendOptions>().unwrap_err().message.contains("'to'"));
    }
}
