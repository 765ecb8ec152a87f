//! "Send": backed-up OneDrive documents as e-mail attachments (veeam-api-notes §8, §11), and the email settings.
//!
//! | path | versions | body | answer |
//! |---|---|---|---|
//! | GET/PUT `/{version}/VeodEmailSettings`, `/VespEmailSettings`, `/VexEmailSettings`, `/VetEmailSettings` | v2–v8 | settings ([`crate::store::email_settings`]) | GET 200 (no secrets); PUT 200 (v8 204) |
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
//! | v2–v5 `…/Action {"sendTo": {…}}` (or a bare `{from, to, …}`) | v2–v5 | send options | 200 empty — OneDrive through [`onedrive_action`], called by the `/Action` dispatcher of [`crate::resources::save`]; SharePoint through [`sharepoint_action`] (for `save::dispatch_sharepoint`) |
//!
//! Decisions: the recipients are `to` (several separated by `,` or `;`); `from` defaults to the settings' `from`;
//! CR/LF in `from`/`to`/`subject` is refused (400); the attachments' total is checked against the settings'
//! `maxMessageSizeBytes` (default 35 MB) before anything is read or sent (400 naming the limit); a file without
//! backed-up content fails the send (400) unless `skipItemChecks` is true, which leaves it out. OneDrive sends use the
//! Veod settings, falling back to the Vesp ones (v2–v5 docs point at Vesp: there the order is reversed); SharePoint
//! sends use the Vesp settings only; missing or
//! disabled settings → 400 naming the PUT to make. A transport failure is a 500 whose message names the server.
//! Every send (and every failed send after validation) records a `Send` event in the restore session.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use engine::send::{AttachmentSource, OutgoingMessage, SendError};
use repo::catalog::{Attachment, ItemKind, ItemRow};
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
use crate::resources::save::{Scope, SpScope};
use crate::resources::sp_attachments;
use crate::state::AppState;
use crate::store::email_settings::{self, Explorer};
use crate::store::sessions::{self, NewEvent, Outcome, RestoreSession};

const BASE: &str = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}";

/// Authenticated routes.
pub fn router() -> Router<AppState> {
    Explorer::ALL
        .into_iter()
        .fold(Router::new(), settings_routes)
        .route(&format!("{BASE}/send"), post(send_onedrive))
        .route(&format!("{BASE}/Documents/send"), post(send_documents))
        .route(&format!("{BASE}/Documents/{{documentId}}/send"), post(send_document))
        .route(&format!("{BASE}/Documents/{{documentId}}/Versions/{{versionId}}/send"), post(send_document_version))
        .route(&format!("{BASE}/Folders/send"), post(send_folders))
        .route(&format!("{BASE}/Folders/{{folderId}}/send"), post(send_folder))
        .route(&format!("{BASE}/Folders/{{folderId}}/Versions/{{versionId}}/send"), post(send_folder_version))
        .route(&format!("{SP}/Documents/send"), post(sp_send_documents))
        .route(&format!("{SP}/Documents/{{documentId}}/send"), post(sp_send_document))
        .route(&format!("{SP}/Documents/{{documentId}}/Versions/{{versionId}}/send"), post(sp_send_document_version))
        .route(&format!("{SP}/Folders/send"), post(sp_send_folders))
        .route(&format!("{SP}/Folders/{{folderId}}/send"), post(sp_send_folder))
        .route(&format!("{SP}/Folders/{{folderId}}/Versions/{{versionId}}/send"), post(sp_send_folder_version))
        .route(&format!("{SP}/Libraries/{{libraryId}}/send"), post(sp_send_library))
        .route(&format!("{SP}/Items/{{itemId}}/Attachments/send"), post(sp_send_attachments))
        .route(&format!("{SP}/Items/{{itemId}}/Attachments/{{attachmentId}}/send"), post(sp_send_attachment))
}

const SP: &str = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}";

#[derive(OpenApi)]
#[openapi(paths(send_document), tags((name = "Send", description = "Send backed-up items as e-mail attachments")))]
struct Doc;

/// The module's documented paths.
pub fn openapi() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

// ---------------------------------------------------------------------------------------------------------------
// Email settings

/// Success of a PUT / test: 200 empty in v2–v7, 204 in v8.
fn done(version: ApiVersion) -> Response {
    if version.is_v8() {
        StatusCode::NO_CONTENT.into_response()
    } else {
        StatusCode::OK.into_response()
    }
}

async fn settings_get(state: &AppState, explorer: Explorer) -> Result<Response, ApiError> {
    Ok(Json(crate::resources::email_settings::get(state, explorer).await?).into_response())
}

async fn settings_put(
    state: &AppState,
    version: ApiVersion,
    explorer: Explorer,
    body: &Obj,
) -> Result<Response, ApiError> {
    crate::resources::email_settings::put(state, explorer, body).await?;
    Ok(done(version))
}

async fn settings_test(
    state: &AppState,
    version: ApiVersion,
    explorer: Explorer,
    body: &Obj,
) -> Result<Response, ApiError> {
    let email = body.required_str("email")?;
    let (_, settings) = email_settings::for_send(state, explorer, None).await?;
    let transport = settings.transport(explorer, state.allow_plaintext_mail_credentials)?;
    let msg = OutgoingMessage {
        from: settings.from.clone().or_else(|| settings.user_id.clone()).unwrap_or_default(),
        to: email,
        subject: "vault365 test email".into(),
        text: "This is a test message sent with the email settings of vault365.".into(),
    };
    engine::send::send_test(&transport, &msg).await.map_err(send_error)?;
    Ok(done(version))
}

/// `GET/PUT /{version}/{Explorer}EmailSettings` and its test-email endpoint (both spellings of the specs).
fn settings_routes(router: Router<AppState>, explorer: Explorer) -> Router<AppState> {
    let resource = format!("/{{version}}/{}", explorer.resource());
    let get_settings =
        move |State(state): State<AppState>, _user: CurrentUser| async move { settings_get(&state, explorer).await };
    let put_settings =
        move |State(state): State<AppState>,
              _user: CurrentUser,
              version: ApiVersion,
              LenientJson(body): LenientJson| async move { settings_put(&state, version, explorer, &body).await };
    let test =
        move |State(state): State<AppState>,
              _user: CurrentUser,
              version: ApiVersion,
              LenientJson(body): LenientJson| async move { settings_test(&state, version, explorer, &body).await };
    router
        .route(&resource, get(get_settings).put(put_settings))
        .route(&format!("{resource}/SendTestEmail"), post(test))
        .route(&format!("{resource}/SendTest"), post(test))
}

/// Maps an engine error: the request's fault → 400, otherwise 500 with the reason.
pub fn send_error(e: SendError) -> ApiError {
    if e.is_client_error() {
        ApiError::bad_request(e.to_string())
    } else {
        ApiError::internal(e.to_string())
    }
}

// ---------------------------------------------------------------------------------------------------------------
// OneDrive send

/// The send options of a body.
#[derive(Debug)]
struct SendOptions {
    skip_item_checks: bool,
    from: Option<String>,
    to: String,
    subject: String,
    text: String,
}

fn send_options(o: &Obj) -> Result<SendOptions, ApiError> {
    Ok(SendOptions {
        skip_item_checks: o.bool("skipItemChecks")?.unwrap_or(false),
        from: o.str("from")?.filter(|s| !s.trim().is_empty()),
        to: o.required_str("to")?,
        subject: o.str("subject")?.unwrap_or_default(),
        text: o.str("text")?.unwrap_or_default(),
    })
}

/// Sends the items of `scope` (the core of every OneDrive send, both eras).
async fn send_scope(
    state: &AppState,
    version: ApiVersion,
    d: &SessionDrive,
    scope: &Scope,
    opts: &Obj,
) -> Result<Response, ApiError> {
    let o = send_options(opts)?;
    let (item_type, item_name, rows) = match scope {
        Scope::Document(id) => {
            let r = d.item(state, id, false).await?;
            ("Document", r.state.name.clone(), vec![r])
        }
        Scope::Documents => {
            let mut rows = Vec::new();
            for id in opts.id_list("documents")? {
                rows.push(d.item(state, &id, false).await?);
            }
            ("Document", format!("{} documents", rows.len()), rows)
        }
        Scope::Folder(id) => {
            let f = d.item(state, id, true).await?;
            let rows = d.files_below(state, Some(&f.item_id)).await?;
            ("Folder", f.state.name.clone(), rows)
        }
        Scope::Folders => {
            let mut rows = Vec::new();
            let ids = opts.id_list("folders")?;
            for id in &ids {
                let f = d.item(state, id, true).await?;
                rows.extend(d.files_below(state, Some(&f.item_id)).await?);
            }
            ("Folder", format!("{} folders", ids.len()), rows)
        }
        Scope::OneDrive => {
            let rows = d.files_below(state, None).await?;
            ("OneDrive", d.name(), rows)
        }
    };
    let atts = attachments_of(rows, o.skip_item_checks)?;
    // v2–v5 docs point OneDrive sends at the Vesp settings; v6+ at Veod.
    let (explorer, fallback) =
        if version.is_action_era() { (Explorer::Vesp, Explorer::Veod) } else { (Explorer::Veod, Explorer::Vesp) };
    let target = Target {
        session: d.session.id,
        item_type,
        item_name,
        source: d.row.info.title().to_string(),
        explorer,
        fallback: Some(fallback),
    };
    deliver(state, version, o, atts, target).await
}

/// Attachments for catalog rows (files); a file without backed-up content is a 400 unless `skip` leaves it out.
fn attachments_of(rows: Vec<ItemRow>, skip: bool) -> Result<Vec<AttachmentSource>, ApiError> {
    let mut atts = Vec::with_capacity(rows.len());
    for r in rows {
        if r.state.content_ref.is_none() && r.state.size > 0 {
            if skip {
                continue;
            }
            return Err(no_content(&r.state.name, &r.item_id));
        }
        atts.push(AttachmentSource {
            name: r.state.name.clone(),
            size: r.state.size.max(0) as u64,
            content_ref: r.state.content_ref.clone(),
        });
    }
    Ok(atts)
}

fn no_content(name: &str, id: &str) -> ApiError {
    ApiError::bad_request(format!(
        "No content was backed up for '{name}' ({id}); nothing was sent. Set 'skipItemChecks' to leave such items out."
    ))
}

/// Where a send comes from (for the settings and the session event).
struct Target {
    session: Uuid,
    item_type: &'static str,
    item_name: String,
    source: String,
    explorer: Explorer,
    fallback: Option<Explorer>,
}

/// Resolves the settings, sends, records the `Send` event and answers per era.
async fn deliver(
    state: &AppState,
    version: ApiVersion,
    o: SendOptions,
    atts: Vec<AttachmentSource>,
    t: Target,
) -> Result<Response, ApiError> {
    if atts.is_empty() {
        return Err(ApiError::bad_request("There is nothing to send: the selection contains no backed-up files."));
    }
    let (used, settings) = email_settings::for_send(state, t.explorer, t.fallback).await?;
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
        t.session,
        NewEvent {
            kind: "Send".into(),
            status: Some(status),
            started_at: Some(started),
            title: if result.is_ok() { "Item is sent".into() } else { "Item is not sent".into() },
            message,
            item_name: Some(t.item_name),
            item_type: Some(t.item_type.into()),
            item_size: Some(size as i64),
            source: Some(t.source),
            target: Some(msg.to.clone()),
            ..NewEvent::default()
        },
    )
    .await?;
    result.map_err(send_error)?;
    Ok(if version.is_v8() { StatusCode::NO_CONTENT.into_response() } else { StatusCode::OK.into_response() })
}

/// The `sendTo` action of the v2–v5 `…/Action` dispatcher ([`crate::resources::save::dispatch`]): `opts` is the
/// content of `sendTo` (or the bare body). Answers 200 with an empty body.
pub async fn onedrive_action(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    sid: &str,
    od_id: &str,
    scope: &Scope,
    opts: &Obj,
) -> Result<Response, ApiError> {
    let d = drive::load(state, user, version, sid, od_id, "sent from").await?;
    send_scope(state, version, &d, scope, opts).await
}

async fn verb(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    sid: &str,
    od_id: &str,
    scope: Scope,
    body: &Obj,
) -> Result<Response, ApiError> {
    if !version.is_verb_era() {
        return Err(ApiError::not_found(format!("…/send is not available in API {version}; use POST …/Action.")));
    }
    let d = drive::load(state, user, version, sid, od_id, "sent from").await?;
    send_scope(state, version, &d, &scope, body).await
}

async fn send_onedrive(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DrivePath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    verb(&state, &user, version, &p.id, &p.one_drive_id, Scope::OneDrive, &body).await
}

async fn send_documents(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DrivePath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    verb(&state, &user, version, &p.id, &p.one_drive_id, Scope::Documents, &body).await
}

/// Sends one backed-up document as an e-mail attachment.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Documents/{documentId}/send",
    params(
        ("version" = String, Path, description = "API version (v6–v8)"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id"),
        ("documentId" = String, Path, description = "Document id"),
    ),
    request_body(content = String, description = "{skipItemChecks, from, to, subject, text}", content_type = "application/json"),
    responses(
        (status = 200, description = "Sent (v6/v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "Invalid options, email settings missing, or message too large"),
        (status = 404, description = "Unknown session, OneDrive or document"),
    ),
    tag = "Send"
)]
async fn send_document(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DriveItemPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    verb(&state, &user, version, &p.id, &p.one_drive_id, Scope::Document(p.item_id), &body).await
}

async fn send_folders(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DrivePath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    verb(&state, &user, version, &p.id, &p.one_drive_id, Scope::Folders, &body).await
}

async fn send_folder(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DriveItemPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    verb(&state, &user, version, &p.id, &p.one_drive_id, Scope::Folder(p.item_id), &body).await
}

/// A folder's one version (folders are not versioned) is the folder.
async fn send_folder_version(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DriveVersionPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    browse_util::check_folder_version(&p.item_id, &p.version_id)?;
    verb(&state, &user, version, &p.id, &p.one_drive_id, Scope::Folder(p.item_id), &body).await
}

// ---------------------------------------------------------------------------------------------------------------
// SharePoint send (v6–v8)

/// A site of the caller's working Vesp session with its lists and libraries.
struct Site {
    session: RestoreSession,
    at: DateTime<Utc>,
    title: String,
    lists: Vec<(Uuid, repo::catalog::ListInfo)>,
}

fn sp_not_found(what: &str) -> ApiError {
    ApiError::not_found(format!("{what} not found."))
}

impl Site {
    async fn load(
        state: &AppState,
        user: &CurrentUser,
        sid: &str,
        site_id: &str,
        version: ApiVersion,
    ) -> Result<Site, ApiError> {
        // The era is checked by the callers: the verb routes (v6+) and the v2–v5 `…/Action` dispatcher both load here.
        let site = crate::ctx::site::load(state, user, version, sid, site_id).await?;
        let lists = site.lists.into_iter().map(|l| (l.id, l.info)).collect();
        Ok(Site { session: site.session, at: site.at, title: site.site.info.title, lists })
    }

    /// An item by its API id (library drive item id, or `<list UUID hex><item id>` for generic lists).
    async fn item(&self, state: &AppState, api_id: &str, library: bool) -> Result<(Uuid, ItemRow), ApiError> {
        let api_id = api_id.trim();
        let visible = |r: Option<ItemRow>| r.filter(|i| !i.deleted || self.session.show_deleted);
        if !library && api_id.len() > 32 && api_id.is_char_boundary(32) {
            if let Ok(uuid) = Uuid::try_parse(&api_id[..32]) {
                if self.lists.iter().any(|(id, l)| *id == uuid && !l.is_document_library) {
                    if let Some(r) = visible(state.catalog.item_at(uuid, &api_id[32..], self.at).await?) {
                        return Ok((uuid, r));
                    }
                }
            }
        }
        if !api_id.is_empty() {
            for (id, _) in self.lists.iter().filter(|(_, l)| l.is_document_library == library) {
                if let Some(r) = visible(state.catalog.item_at(*id, api_id, self.at).await?) {
                    return Ok((*id, r));
                }
            }
        }
        Err(sp_not_found(if library { "SharePoint document or folder" } else { "SharePoint item" }))
    }

    async fn document(&self, state: &AppState, id: &str) -> Result<ItemRow, ApiError> {
        match self.item(state, id, true).await? {
            (_, r) if !r.state.is_folder => Ok(r),
            _ => Err(sp_not_found("SharePoint document")),
        }
    }

    async fn folder_files(&self, state: &AppState, id: &str) -> Result<(String, Vec<ItemRow>), ApiError> {
        match self.item(state, id, true).await? {
            (list, r) if r.state.is_folder => {
                let rows = walk_tree(
                    &state.catalog,
                    list,
                    Some(&r.item_id),
                    self.at,
                    self.session.show_deleted,
                    ItemKind::File,
                )
                .await?;
                Ok((r.state.name, rows))
            }
            _ => Err(sp_not_found("SharePoint folder")),
        }
    }

    async fn deliver(
        &self,
        state: &AppState,
        version: ApiVersion,
        o: SendOptions,
        atts: Vec<AttachmentSource>,
        item_type: &'static str,
        item_name: String,
    ) -> Result<Response, ApiError> {
        let t = Target {
            session: self.session.id,
            item_type,
            item_name,
            source: self.title.clone(),
            explorer: Explorer::Vesp,
            fallback: None,
        };
        deliver(state, version, o, atts, t).await
    }
}

/// The attachments chosen from a generic list item, as mail attachments; one without content in the backup is
/// skipped with `skip`, else a 400.
fn attachment_sources(chosen: Vec<&Attachment>, skip: bool) -> Result<Vec<AttachmentSource>, ApiError> {
    let mut out = Vec::new();
    for a in chosen {
        if a.content_ref.is_none() && a.size > 0 {
            if skip {
                continue;
            }
            return Err(no_content(&a.file_name, &hex::encode(&a.file_name)));
        }
        out.push(AttachmentSource {
            name: a.file_name.clone(),
            size: a.size.max(0) as u64,
            content_ref: a.content_ref.clone(),
        });
    }
    Ok(out)
}

/// Sends the SharePoint items of `scope` (both eras).
async fn sp_send_scope(
    state: &AppState,
    version: ApiVersion,
    site: &Site,
    scope: &SpScope,
    body: &Obj,
) -> Result<Response, ApiError> {
    let o = send_options(body)?;
    let skip = o.skip_item_checks;
    let (item_type, name, atts) = match scope {
        SpScope::Documents => {
            let mut rows = Vec::new();
            for id in body.id_list("documents")? {
                rows.push(site.document(state, &id).await?);
            }
            ("Document", format!("{} documents", rows.len()), attachments_of(rows, skip)?)
        }
        SpScope::Document(id) => {
            let row = site.document(state, id).await?;
            ("Document", row.state.name.clone(), attachments_of(vec![row], skip)?)
        }
        SpScope::Folders => {
            let ids = body.id_list("folders")?;
            let mut rows = Vec::new();
            for id in &ids {
                rows.extend(site.folder_files(state, id).await?.1);
            }
            ("Folder", format!("{} folders", ids.len()), attachments_of(rows, skip)?)
        }
        SpScope::Folder(id) => {
            let (name, rows) = site.folder_files(state, id).await?;
            ("Folder", name, attachments_of(rows, skip)?)
        }
        SpScope::Library(id) => {
            let uuid = Uuid::parse_str(id.trim()).map_err(|_| sp_not_found("SharePoint library"))?;
            let (lid, info) = site
                .lists
                .iter()
                .find(|(l, i)| *l == uuid && i.is_document_library)
                .ok_or_else(|| sp_not_found("SharePoint library"))?;
            let rows =
                walk_tree(&state.catalog, *lid, None, site.at, site.session.show_deleted, ItemKind::File).await?;
            ("Library", info.title.clone(), attachments_of(rows, skip)?)
        }
        SpScope::Attachments(item) => {
            let (_, row) = site.item(state, item, false).await?;
            let chosen = sp_attachments::chosen(&row, body)?;
            ("Attachment", row.state.name.clone(), attachment_sources(chosen, skip)?)
        }
        SpScope::Attachment(item, att) => {
            let (_, row) = site.item(state, item, false).await?;
            let a = sp_attachments::find(&row, att).ok_or_else(|| sp_not_found("SharePoint attachment"))?;
            ("Attachment", row.state.name.clone(), attachment_sources(vec![a], skip)?)
        }
    };
    site.deliver(state, version, o, atts, item_type, name).await
}

/// The `sendTo` action of the v2–v5 SharePoint `…/Action` dispatcher ([`crate::resources::save::dispatch_sharepoint`]):
/// `opts` is the content of `sendTo` (or the bare body). Answers 200 with an empty body.
pub async fn sharepoint_action(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    sid: &str,
    site_id: &str,
    scope: &SpScope,
    opts: &Obj,
) -> Result<Response, ApiError> {
    let site = Site::load(state, user, sid, site_id, version).await?;
    sp_send_scope(state, version, &site, scope, opts).await
}

async fn sp_verb(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    sid: &str,
    site_id: &str,
    scope: SpScope,
    body: &Obj,
) -> Result<Response, ApiError> {
    if !version.is_verb_era() {
        return Err(ApiError::not_found(format!("…/send is not available in API {version}; use POST …/Action.")));
    }
    let site = Site::load(state, user, sid, site_id, version).await?;
    sp_send_scope(state, version, &site, &scope, body).await
}

/// A v6+ SharePoint send route: its path parameters select the scope; [`sp_verb`] does the rest.
macro_rules! sp_send_handler {
    ($name:ident, $path:ty, |$p:ident| $scope:expr) => {
        async fn $name(
            State(state): State<AppState>,
            user: CurrentUser,
            version: ApiVersion,
            Path($p): Path<$path>,
            LenientJson(body): LenientJson,
        ) -> Result<Response, ApiError> {
            sp_verb(&state, &user, version, &$p.id, &$p.site_id, $scope, &body).await
        }
    };
}

sp_send_handler!(sp_send_documents, SitePath, |p| SpScope::Documents);
sp_send_handler!(sp_send_document, SiteItemPath, |p| SpScope::Document(p.item_id));
sp_send_handler!(sp_send_folders, SitePath, |p| SpScope::Folders);
sp_send_handler!(sp_send_folder, SiteItemPath, |p| SpScope::Folder(p.item_id));
sp_send_handler!(sp_send_library, SiteItemPath, |p| SpScope::Library(p.item_id));
sp_send_handler!(sp_send_attachments, SiteItemPath, |p| SpScope::Attachments(p.item_id));
sp_send_handler!(sp_send_attachment, SiteAttachmentPath, |p| SpScope::Attachment(p.item_id, p.attachment_id));

/// A folder's one version (folders are not versioned) is the folder.
async fn sp_send_folder_version(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<SiteVersionPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    browse_util::check_folder_version(&p.item_id, &p.version_id)?;
    sp_verb(&state, &user, version, &p.id, &p.site_id, SpScope::Folder(p.item_id), &body).await
}

/// The attachment for version `vid` (`versionId`: 1-based ordinal, oldest first) of a document.
async fn version_attachment(
    state: &AppState,
    container: Uuid,
    row: &ItemRow,
    at: DateTime<Utc>,
    show_all_versions: bool,
    vid: &str,
    skip: bool,
) -> Result<Vec<AttachmentSource>, ApiError> {
    let not_found = || ApiError::not_found(format!("Version {vid} of document {} was not found.", row.item_id));
    let n = vid.trim().parse::<i32>().map_err(|_| not_found())?;
    let versions = numbered_versions(&state.catalog, container, &row.item_id, at).await?;
    let (content_ref, size) = if versions.is_empty() {
        if n != 1 {
            return Err(not_found());
        }
        (row.state.content_ref.clone(), row.state.size)
    } else {
        let current = versions.last().map(|v| v.id).unwrap_or(1);
        let v = versions.iter().find(|v| v.id == n).ok_or_else(not_found)?;
        if v.id != current && !show_all_versions {
            return Err(ApiError::not_found(format!(
                "Version {n} of document {} is not available: this restore session shows the latest versions only \
                 (explore with showAllVersions).",
                row.item_id
            )));
        }
        (v.row.version.content_ref.clone(), v.row.version.size)
    };
    if content_ref.is_none() && size > 0 {
        if skip {
            return Ok(Vec::new());
        }
        return Err(no_content(&row.state.name, &row.item_id));
    }
    Ok(vec![AttachmentSource { name: row.state.name.clone(), size: size.max(0) as u64, content_ref }])
}

async fn send_document_version(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DriveVersionPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    if !version.is_verb_era() {
        return Err(ApiError::not_found(format!("…/send is not available in API {version}; use POST …/Action.")));
    }
    let d = drive::load(&state, &user, version, &p.id, &p.one_drive_id, "sent from").await?;
    let o = send_options(&body)?;
    let row = d.item(&state, &p.item_id, false).await?;
    let atts = version_attachment(
        &state,
        d.row.id,
        &row,
        d.at,
        d.session.show_all_versions,
        &p.version_id,
        o.skip_item_checks,
    )
    .await?;
    let target = Target {
        session: d.session.id,
        item_type: "Document",
        item_name: row.state.name.clone(),
        source: d.row.info.title().to_string(),
        explorer: Explorer::Veod,
        fallback: Some(Explorer::Vesp),
    };
    deliver(&state, version, o, atts, target).await
}

async fn sp_send_document_version(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<SiteVersionPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    if !version.is_verb_era() {
        return Err(ApiError::not_found(format!("…/send is not available in API {version}; use POST …/Action.")));
    }
    let site = Site::load(&state, &user, &p.id, &p.site_id, version).await?;
    let o = send_options(&body)?;
    let (list, row) = match site.item(&state, &p.item_id, true).await? {
        (l, r) if !r.state.is_folder => (l, r),
        _ => return Err(sp_not_found("SharePoint document")),
    };
    let atts = version_attachment(
        &state,
        list,
        &row,
        site.at,
        site.session.show_all_versions,
        &p.version_id,
        o.skip_item_checks,
    )
    .await?;
    let name = row.state.name.clone();
    site.deliver(&state, version, o, atts, "Document", name).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_paths() {
        for p in [
            "/{version}/VeodEmailSettings",
            "/{version}/VespEmailSettings/SendTestEmail",
            "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Documents/{documentId}/send",
            "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Folders/send",
            "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Libraries/{libraryId}/send",
            "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Items/{itemId}/Attachments/{attachmentId}/send",
        ] {
            assert_eq!(crate::edge::paths::canonical_route(p), p);
        }
    }

    #[test]
    fn bulk_and_options() {
        let o = crate::edge::lenient::Body::parse(
            br#"{"Documents":[{"Id":"a"},"b"],"to":"x@y.z","skipItemChecks":"true"}"#,
        )
        .unwrap();
        assert!(send_options(&o).unwrap().skip_item_checks);
        let bad = crate::edge::lenient::Body::parse(br#"{"documents":[{"x":1}]}"#).unwrap();
        assert!(send_options(&bad).unwrap_err().message.contains("'to'"));
    }
}
