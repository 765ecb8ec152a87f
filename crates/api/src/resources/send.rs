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

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use engine::selection::{FileRef, SelectError, Selection, SessionView, Tree};
use engine::send::{OutgoingMessage, SendError};
use repo::catalog::ItemRow;
use uuid::Uuid;

use crate::ctx::auth::CurrentUser;
use crate::ctx::drive::{self, DriveCtx, SessionDrive};
use crate::ctx::site::{not_found, SiteCtx};
use crate::edge::era::Era;
use crate::edge::error::ApiError;
use crate::edge::lenient::{LenientJson, Patch};
use crate::edge::version::ApiVersion;
use crate::resources::browse_util;
use crate::resources::email_settings::{self, EmailSettingsOf};
use crate::resources::route_paths::{
    DriveItemPath, DriveVersionPath, SiteAttachmentPath, SiteItemPath, SiteVersionPath,
};
use crate::resources::scope::{session_view, sp_document, sp_folder, sp_library, sp_list_item, Scope, SpScope};
use crate::resources::sp_attachments;
use crate::state::AppState;
use crate::store::email_settings::{self as store_email, Explorer};
use crate::store::sessions::{self, NewEvent, Outcome};
use crate::wire::email_settings::{EmailSettingsAnswer, EmailSettingsUpdate};
use crate::wire::selection::{required_ids, SendOptions, TestEmail};
use crate::wire::{Done, Json};

// ---------------------------------------------------------------------------------------------------------------
// Email settings
//
// Four operations for each of the four explorers. OpenAPI needs one annotated function per path, so each path has
// its own handler below; the handlers are alike (the explorer comes from the path, [`EmailSettingsOf`]) and call
// the one body of their operation here.

async fn settings_get(
    state: &AppState,
    EmailSettingsOf(explorer): EmailSettingsOf,
) -> Result<Json<EmailSettingsAnswer>, ApiError> {
    Ok(Json(email_settings::get(state, explorer).await?))
}

async fn settings_put(
    state: &AppState,
    version: ApiVersion,
    EmailSettingsOf(explorer): EmailSettingsOf,
    body: &EmailSettingsUpdate,
) -> Result<Done, ApiError> {
    email_settings::put(state, explorer, body).await?;
    Ok(Done(version))
}

async fn settings_test(
    state: &AppState,
    version: ApiVersion,
    EmailSettingsOf(explorer): EmailSettingsOf,
    body: &TestEmail,
) -> Result<Done, ApiError> {
    let (_, settings) = store_email::for_send(state, explorer, None).await?;
    let transport = settings.transport(explorer, state.allow_plaintext_mail_credentials)?;
    let msg = OutgoingMessage {
        from: settings.from.clone().or_else(|| settings.user_id.clone()).unwrap_or_default(),
        to: body.email.clone(),
        subject: "vault365 test email".into(),
        text: "This is a test message sent with the email settings of vault365.".into(),
    };
    engine::send::send_test(&transport, &msg).await.map_err(send_error)?;
    Ok(Done(version))
}

/// The email settings of OneDrive restores (no secrets).
#[utoipa::path(
    get,
    path = "/{version}/VeodEmailSettings",
    tag = "Email settings",
    params(("version" = String, Path, description = "API version: v2 … v8")),
    responses(
        (status = 200, description = "The settings", body = EmailSettingsAnswer),
        (status = 401, description = "No or invalid token", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_veod_email_settings(
    State(state): State<AppState>,
    _user: CurrentUser,
    of: EmailSettingsOf,
) -> Result<Json<EmailSettingsAnswer>, ApiError> {
    settings_get(&state, of).await
}

/// Changes the email settings of OneDrive restores (a partial update; secrets whose destination changes are dropped).
#[utoipa::path(
    put,
    path = "/{version}/VeodEmailSettings",
    tag = "Email settings",
    params(("version" = String, Path, description = "API version: v2 … v8")),
    request_body = EmailSettingsUpdate,
    responses(
        (status = 200, description = "Changed (v2–v7)"),
        (status = 204, description = "Changed (v8)"),
        (status = 400, description = "Invalid settings", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn put_veod_email_settings(
    State(state): State<AppState>,
    _user: CurrentUser,
    version: ApiVersion,
    of: EmailSettingsOf,
    LenientJson(Patch(body)): LenientJson<Patch<EmailSettingsUpdate>>,
) -> Result<Done, ApiError> {
    settings_put(&state, version, of, &body).await
}

/// Sends a test message with the email settings of OneDrive restores.
#[utoipa::path(
    post,
    path = "/{version}/VeodEmailSettings/SendTestEmail",
    tag = "Email settings",
    params(("version" = String, Path, description = "API version: v2 … v8")),
    request_body = TestEmail,
    responses(
        (status = 200, description = "Sent (v2–v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "No recipient, or settings missing", body = crate::openapi::RestExceptionInfo),
        (status = 500, description = "The mail server refused", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn send_veod_test_email(
    State(state): State<AppState>,
    _user: CurrentUser,
    version: ApiVersion,
    of: EmailSettingsOf,
    LenientJson(body): LenientJson<TestEmail>,
) -> Result<Done, ApiError> {
    settings_test(&state, version, of, &body).await
}

/// Sends a test message with the email settings of OneDrive restores (the spelling of the v6/v7 Exchange and Teams specs).
#[utoipa::path(
    post,
    path = "/{version}/VeodEmailSettings/SendTest",
    tag = "Email settings",
    params(("version" = String, Path, description = "API version: v2 … v8")),
    request_body = TestEmail,
    responses(
        (status = 200, description = "Sent (v2–v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "No recipient, or settings missing", body = crate::openapi::RestExceptionInfo),
        (status = 500, description = "The mail server refused", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn send_veod_test(
    State(state): State<AppState>,
    _user: CurrentUser,
    version: ApiVersion,
    of: EmailSettingsOf,
    LenientJson(body): LenientJson<TestEmail>,
) -> Result<Done, ApiError> {
    settings_test(&state, version, of, &body).await
}

/// The email settings of SharePoint restores (no secrets).
#[utoipa::path(
    get,
    path = "/{version}/VespEmailSettings",
    tag = "Email settings",
    params(("version" = String, Path, description = "API version: v2 … v8")),
    responses(
        (status = 200, description = "The settings", body = EmailSettingsAnswer),
        (status = 401, description = "No or invalid token", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_vesp_email_settings(
    State(state): State<AppState>,
    _user: CurrentUser,
    of: EmailSettingsOf,
) -> Result<Json<EmailSettingsAnswer>, ApiError> {
    settings_get(&state, of).await
}

/// Changes the email settings of SharePoint restores (a partial update; secrets whose destination changes are dropped).
#[utoipa::path(
    put,
    path = "/{version}/VespEmailSettings",
    tag = "Email settings",
    params(("version" = String, Path, description = "API version: v2 … v8")),
    request_body = EmailSettingsUpdate,
    responses(
        (status = 200, description = "Changed (v2–v7)"),
        (status = 204, description = "Changed (v8)"),
        (status = 400, description = "Invalid settings", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn put_vesp_email_settings(
    State(state): State<AppState>,
    _user: CurrentUser,
    version: ApiVersion,
    of: EmailSettingsOf,
    LenientJson(Patch(body)): LenientJson<Patch<EmailSettingsUpdate>>,
) -> Result<Done, ApiError> {
    settings_put(&state, version, of, &body).await
}

/// Sends a test message with the email settings of SharePoint restores.
#[utoipa::path(
    post,
    path = "/{version}/VespEmailSettings/SendTestEmail",
    tag = "Email settings",
    params(("version" = String, Path, description = "API version: v2 … v8")),
    request_body = TestEmail,
    responses(
        (status = 200, description = "Sent (v2–v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "No recipient, or settings missing", body = crate::openapi::RestExceptionInfo),
        (status = 500, description = "The mail server refused", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn send_vesp_test_email(
    State(state): State<AppState>,
    _user: CurrentUser,
    version: ApiVersion,
    of: EmailSettingsOf,
    LenientJson(body): LenientJson<TestEmail>,
) -> Result<Done, ApiError> {
    settings_test(&state, version, of, &body).await
}

/// Sends a test message with the email settings of SharePoint restores (the spelling of the v6/v7 Exchange and Teams specs).
#[utoipa::path(
    post,
    path = "/{version}/VespEmailSettings/SendTest",
    tag = "Email settings",
    params(("version" = String, Path, description = "API version: v2 … v8")),
    request_body = TestEmail,
    responses(
        (status = 200, description = "Sent (v2–v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "No recipient, or settings missing", body = crate::openapi::RestExceptionInfo),
        (status = 500, description = "The mail server refused", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn send_vesp_test(
    State(state): State<AppState>,
    _user: CurrentUser,
    version: ApiVersion,
    of: EmailSettingsOf,
    LenientJson(body): LenientJson<TestEmail>,
) -> Result<Done, ApiError> {
    settings_test(&state, version, of, &body).await
}

/// The email settings of Exchange restores (no secrets).
#[utoipa::path(
    get,
    path = "/{version}/VexEmailSettings",
    tag = "Email settings",
    params(("version" = String, Path, description = "API version: v2 … v8")),
    responses(
        (status = 200, description = "The settings", body = EmailSettingsAnswer),
        (status = 401, description = "No or invalid token", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_vex_email_settings(
    State(state): State<AppState>,
    _user: CurrentUser,
    of: EmailSettingsOf,
) -> Result<Json<EmailSettingsAnswer>, ApiError> {
    settings_get(&state, of).await
}

/// Changes the email settings of Exchange restores (a partial update; secrets whose destination changes are dropped).
#[utoipa::path(
    put,
    path = "/{version}/VexEmailSettings",
    tag = "Email settings",
    params(("version" = String, Path, description = "API version: v2 … v8")),
    request_body = EmailSettingsUpdate,
    responses(
        (status = 200, description = "Changed (v2–v7)"),
        (status = 204, description = "Changed (v8)"),
        (status = 400, description = "Invalid settings", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn put_vex_email_settings(
    State(state): State<AppState>,
    _user: CurrentUser,
    version: ApiVersion,
    of: EmailSettingsOf,
    LenientJson(Patch(body)): LenientJson<Patch<EmailSettingsUpdate>>,
) -> Result<Done, ApiError> {
    settings_put(&state, version, of, &body).await
}

/// Sends a test message with the email settings of Exchange restores.
#[utoipa::path(
    post,
    path = "/{version}/VexEmailSettings/SendTestEmail",
    tag = "Email settings",
    params(("version" = String, Path, description = "API version: v2 … v8")),
    request_body = TestEmail,
    responses(
        (status = 200, description = "Sent (v2–v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "No recipient, or settings missing", body = crate::openapi::RestExceptionInfo),
        (status = 500, description = "The mail server refused", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn send_vex_test_email(
    State(state): State<AppState>,
    _user: CurrentUser,
    version: ApiVersion,
    of: EmailSettingsOf,
    LenientJson(body): LenientJson<TestEmail>,
) -> Result<Done, ApiError> {
    settings_test(&state, version, of, &body).await
}

/// Sends a test message with the email settings of Exchange restores (the spelling of the v6/v7 Exchange and Teams specs).
#[utoipa::path(
    post,
    path = "/{version}/VexEmailSettings/SendTest",
    tag = "Email settings",
    params(("version" = String, Path, description = "API version: v2 … v8")),
    request_body = TestEmail,
    responses(
        (status = 200, description = "Sent (v2–v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "No recipient, or settings missing", body = crate::openapi::RestExceptionInfo),
        (status = 500, description = "The mail server refused", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn send_vex_test(
    State(state): State<AppState>,
    _user: CurrentUser,
    version: ApiVersion,
    of: EmailSettingsOf,
    LenientJson(body): LenientJson<TestEmail>,
) -> Result<Done, ApiError> {
    settings_test(&state, version, of, &body).await
}

/// The email settings of Teams restores (no secrets).
#[utoipa::path(
    get,
    path = "/{version}/VetEmailSettings",
    tag = "Email settings",
    params(("version" = String, Path, description = "API version: v2 … v8")),
    responses(
        (status = 200, description = "The settings", body = EmailSettingsAnswer),
        (status = 401, description = "No or invalid token", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_vet_email_settings(
    State(state): State<AppState>,
    _user: CurrentUser,
    of: EmailSettingsOf,
) -> Result<Json<EmailSettingsAnswer>, ApiError> {
    settings_get(&state, of).await
}

/// Changes the email settings of Teams restores (a partial update; secrets whose destination changes are dropped).
#[utoipa::path(
    put,
    path = "/{version}/VetEmailSettings",
    tag = "Email settings",
    params(("version" = String, Path, description = "API version: v2 … v8")),
    request_body = EmailSettingsUpdate,
    responses(
        (status = 200, description = "Changed (v2–v7)"),
        (status = 204, description = "Changed (v8)"),
        (status = 400, description = "Invalid settings", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn put_vet_email_settings(
    State(state): State<AppState>,
    _user: CurrentUser,
    version: ApiVersion,
    of: EmailSettingsOf,
    LenientJson(Patch(body)): LenientJson<Patch<EmailSettingsUpdate>>,
) -> Result<Done, ApiError> {
    settings_put(&state, version, of, &body).await
}

/// Sends a test message with the email settings of Teams restores.
#[utoipa::path(
    post,
    path = "/{version}/VetEmailSettings/SendTestEmail",
    tag = "Email settings",
    params(("version" = String, Path, description = "API version: v2 … v8")),
    request_body = TestEmail,
    responses(
        (status = 200, description = "Sent (v2–v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "No recipient, or settings missing", body = crate::openapi::RestExceptionInfo),
        (status = 500, description = "The mail server refused", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn send_vet_test_email(
    State(state): State<AppState>,
    _user: CurrentUser,
    version: ApiVersion,
    of: EmailSettingsOf,
    LenientJson(body): LenientJson<TestEmail>,
) -> Result<Done, ApiError> {
    settings_test(&state, version, of, &body).await
}

/// Sends a test message with the email settings of Teams restores (the spelling of the v6/v7 Exchange and Teams specs).
#[utoipa::path(
    post,
    path = "/{version}/VetEmailSettings/SendTest",
    tag = "Email settings",
    params(("version" = String, Path, description = "API version: v2 … v8")),
    request_body = TestEmail,
    responses(
        (status = 200, description = "Sent (v2–v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "No recipient, or settings missing", body = crate::openapi::RestExceptionInfo),
        (status = 500, description = "The mail server refused", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn send_vet_test(
    State(state): State<AppState>,
    _user: CurrentUser,
    version: ApiVersion,
    of: EmailSettingsOf,
    LenientJson(body): LenientJson<TestEmail>,
) -> Result<Done, ApiError> {
    settings_test(&state, version, of, &body).await
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

/// Sends `scope` of OneDrive `d` (both eras; `opts` is the body, or the content of the v2–v5 `sendTo` action);
/// `version_id` picks a version of a document or the one version of a folder.
async fn onedrive(
    state: &AppState,
    version: ApiVersion,
    d: &SessionDrive,
    scope: &Scope,
    opts: &SendOptions,
    version_id: Option<&str>,
) -> Result<Response, ApiError> {
    if let (Scope::Folder(id), Some(v)) = (scope, version_id) {
        browse_util::check_folder_version(id, v)?;
    }
    let o = Message::of(opts);
    let origin = Origin::drive(state, d, version);
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

/// The `sendTo` action of the v2–v5 `…/Action` (`resources::actions`): `opts` is the content of `sendTo`
/// (or the bare body). Answers 200 with an empty body.
pub async fn onedrive_action(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    sid: &str,
    od_id: &str,
    scope: &Scope,
    opts: &SendOptions,
) -> Result<Response, ApiError> {
    let d = drive::load(state, user, sid, od_id, "sent from").await?;
    onedrive(state, version, &d, scope, opts, None).await
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

/// Sends `scope` of `site` (both eras; `opts` is the body, or the content of the v2–v5 `sendTo` action);
/// `version_id` picks a version of a document or the one version of a folder.
async fn sharepoint(
    state: &AppState,
    version: ApiVersion,
    site: &SiteCtx,
    scope: &SpScope,
    opts: &SendOptions,
    version_id: Option<&str>,
) -> Result<Response, ApiError> {
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
    };
    deliver(state, version, &origin, o, items).await
}

/// The `sendTo` action of the v2–v5 SharePoint `…/Action` (`resources::actions`): `opts` is the content of
/// `sendTo` (or the bare body). Answers 200 with an empty body.
pub async fn sharepoint_action(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    sid: &str,
    site_id: &str,
    scope: &SpScope,
    opts: &SendOptions,
) -> Result<Response, ApiError> {
    let site = crate::ctx::site::load(state, user, version, sid, site_id).await?;
    sharepoint(state, version, &site, scope, opts, None).await
}

// ---------------------------------------------------------------------------------------------------------------
// v6–v8 routes

/// Send every file of a backed-up OneDrive as e-mail attachments.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/send",
    tag = "Send",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id")
    ),
    request_body(content = SendOptions, content_type = "application/json", description = "{skipItemChecks, from, to, subject, text}"),
    responses(
        (status = 200, description = "Sent (v6/v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "Invalid options, email settings missing, no content, or message too large", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session or OneDrive", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn send_onedrive(
    State(state): State<AppState>,
    drive: DriveCtx,
    LenientJson(body): LenientJson<SendOptions>,
) -> Result<Response, ApiError> {
    onedrive(&state, drive.era(), &drive, &Scope::OneDrive, &body, None).await
}

/// Send backed-up OneDrive documents as e-mail attachments.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Documents/send",
    tag = "Send",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id")
    ),
    request_body(content = SendOptions, content_type = "application/json", description = "{documents: [{id}], skipItemChecks, from, to, subject, text}"),
    responses(
        (status = 200, description = "Sent (v6/v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "Invalid options, email settings missing, no content, or message too large", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, OneDrive or document", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn send_documents(
    State(state): State<AppState>,
    drive: DriveCtx,
    LenientJson(body): LenientJson<SendOptions>,
) -> Result<Response, ApiError> {
    onedrive(&state, drive.era(), &drive, &Scope::Documents, &body, None).await
}

/// Send one backed-up OneDrive document as an e-mail attachment.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Documents/{documentId}/send",
    tag = "Send",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id"),
        ("documentId" = String, Path, description = "Document id")
    ),
    request_body(content = SendOptions, content_type = "application/json", description = "{skipItemChecks, from, to, subject, text}"),
    responses(
        (status = 200, description = "Sent (v6/v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "Invalid options, email settings missing, no content, or message too large", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, OneDrive or document", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn send_document(
    State(state): State<AppState>,
    drive: DriveCtx,
    Path(p): Path<DriveItemPath>,
    LenientJson(body): LenientJson<SendOptions>,
) -> Result<Response, ApiError> {
    onedrive(&state, drive.era(), &drive, &Scope::Document(p.item_id), &body, None).await
}

/// Send a version of a backed-up OneDrive document as an e-mail attachment (earlier versions need showAllVersions).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Documents/{documentId}/Versions/{versionId}/send",
    tag = "Send",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id"),
        ("documentId" = String, Path, description = "Document id"),
        ("versionId" = String, Path, description = "Version id: 1-based ordinal, oldest first (folders have version 1 only)")
    ),
    request_body(content = SendOptions, content_type = "application/json", description = "{skipItemChecks, from, to, subject, text}"),
    responses(
        (status = 200, description = "Sent (v6/v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "Invalid options, email settings missing, no content, or message too large", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, OneDrive, document or version", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn send_document_version(
    State(state): State<AppState>,
    drive: DriveCtx,
    Path(p): Path<DriveVersionPath>,
    LenientJson(body): LenientJson<SendOptions>,
) -> Result<Response, ApiError> {
    onedrive(&state, drive.era(), &drive, &Scope::Document(p.item_id), &body, Some(&p.version_id)).await
}

/// Send the files of backed-up OneDrive folders as e-mail attachments.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Folders/send",
    tag = "Send",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id")
    ),
    request_body(content = SendOptions, content_type = "application/json", description = "{folders: [{id}], skipItemChecks, from, to, subject, text}"),
    responses(
        (status = 200, description = "Sent (v6/v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "Invalid options, email settings missing, no content, or message too large", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, OneDrive or folder", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn send_folders(
    State(state): State<AppState>,
    drive: DriveCtx,
    LenientJson(body): LenientJson<SendOptions>,
) -> Result<Response, ApiError> {
    onedrive(&state, drive.era(), &drive, &Scope::Folders, &body, None).await
}

/// Send the files of a backed-up OneDrive folder as e-mail attachments.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Folders/{folderId}/send",
    tag = "Send",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id"),
        ("folderId" = String, Path, description = "Folder id")
    ),
    request_body(content = SendOptions, content_type = "application/json", description = "{skipItemChecks, from, to, subject, text}"),
    responses(
        (status = 200, description = "Sent (v6/v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "Invalid options, email settings missing, no content, or message too large", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, OneDrive or folder", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn send_folder(
    State(state): State<AppState>,
    drive: DriveCtx,
    Path(p): Path<DriveItemPath>,
    LenientJson(body): LenientJson<SendOptions>,
) -> Result<Response, ApiError> {
    onedrive(&state, drive.era(), &drive, &Scope::Folder(p.item_id), &body, None).await
}

/// Send the files of the one version of a backed-up OneDrive folder (the folder).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Folders/{folderId}/Versions/{versionId}/send",
    tag = "Send",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id"),
        ("folderId" = String, Path, description = "Folder id"),
        ("versionId" = String, Path, description = "Version id: 1-based ordinal, oldest first (folders have version 1 only)")
    ),
    request_body(content = SendOptions, content_type = "application/json", description = "{skipItemChecks, from, to, subject, text}"),
    responses(
        (status = 200, description = "Sent (v6/v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "Invalid options, email settings missing, no content, or message too large", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, OneDrive, folder or version", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn send_folder_version(
    State(state): State<AppState>,
    drive: DriveCtx,
    Path(p): Path<DriveVersionPath>,
    LenientJson(body): LenientJson<SendOptions>,
) -> Result<Response, ApiError> {
    onedrive(&state, drive.era(), &drive, &Scope::Folder(p.item_id), &body, Some(&p.version_id)).await
}

/// Send backed-up SharePoint library documents as e-mail attachments.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Documents/send",
    tag = "Send",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id")
    ),
    request_body(content = SendOptions, content_type = "application/json", description = "{documents: [{id}], skipItemChecks, from, to, subject, text}"),
    responses(
        (status = 200, description = "Sent (v6/v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "Invalid options, email settings missing, no content, or message too large", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, site or document", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn sp_send_documents(
    State(state): State<AppState>,
    site: SiteCtx,
    LenientJson(body): LenientJson<SendOptions>,
) -> Result<Response, ApiError> {
    sharepoint(&state, site.version, &site, &SpScope::Documents, &body, None).await
}

/// Send one backed-up SharePoint library document as an e-mail attachment.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Documents/{documentId}/send",
    tag = "Send",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("documentId" = String, Path, description = "Document id")
    ),
    request_body(content = SendOptions, content_type = "application/json", description = "{skipItemChecks, from, to, subject, text}"),
    responses(
        (status = 200, description = "Sent (v6/v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "Invalid options, email settings missing, no content, or message too large", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, site or document", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn sp_send_document(
    State(state): State<AppState>,
    site: SiteCtx,
    Path(p): Path<SiteItemPath>,
    LenientJson(body): LenientJson<SendOptions>,
) -> Result<Response, ApiError> {
    sharepoint(&state, site.version, &site, &SpScope::Document(p.item_id), &body, None).await
}

/// Send a version of a backed-up SharePoint document as an e-mail attachment (earlier versions need showAllVersions).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Documents/{documentId}/Versions/{versionId}/send",
    tag = "Send",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("documentId" = String, Path, description = "Document id"),
        ("versionId" = String, Path, description = "Version id: 1-based ordinal, oldest first (folders have version 1 only)")
    ),
    request_body(content = SendOptions, content_type = "application/json", description = "{skipItemChecks, from, to, subject, text}"),
    responses(
        (status = 200, description = "Sent (v6/v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "Invalid options, email settings missing, no content, or message too large", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, site, document or version", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn sp_send_document_version(
    State(state): State<AppState>,
    site: SiteCtx,
    Path(p): Path<SiteVersionPath>,
    LenientJson(body): LenientJson<SendOptions>,
) -> Result<Response, ApiError> {
    sharepoint(&state, site.version, &site, &SpScope::Document(p.item_id), &body, Some(&p.version_id)).await
}

/// Send the files of backed-up SharePoint folders as e-mail attachments.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Folders/send",
    tag = "Send",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id")
    ),
    request_body(content = SendOptions, content_type = "application/json", description = "{folders: [{id}], skipItemChecks, from, to, subject, text}"),
    responses(
        (status = 200, description = "Sent (v6/v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "Invalid options, email settings missing, no content, or message too large", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, site or folder", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn sp_send_folders(
    State(state): State<AppState>,
    site: SiteCtx,
    LenientJson(body): LenientJson<SendOptions>,
) -> Result<Response, ApiError> {
    sharepoint(&state, site.version, &site, &SpScope::Folders, &body, None).await
}

/// Send the files of a backed-up SharePoint folder as e-mail attachments.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Folders/{folderId}/send",
    tag = "Send",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("folderId" = String, Path, description = "Folder id")
    ),
    request_body(content = SendOptions, content_type = "application/json", description = "{skipItemChecks, from, to, subject, text}"),
    responses(
        (status = 200, description = "Sent (v6/v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "Invalid options, email settings missing, no content, or message too large", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, site or folder", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn sp_send_folder(
    State(state): State<AppState>,
    site: SiteCtx,
    Path(p): Path<SiteItemPath>,
    LenientJson(body): LenientJson<SendOptions>,
) -> Result<Response, ApiError> {
    sharepoint(&state, site.version, &site, &SpScope::Folder(p.item_id), &body, None).await
}

/// Send the files of the one version of a backed-up SharePoint folder (the folder).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Folders/{folderId}/Versions/{versionId}/send",
    tag = "Send",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("folderId" = String, Path, description = "Folder id"),
        ("versionId" = String, Path, description = "Version id: 1-based ordinal, oldest first (folders have version 1 only)")
    ),
    request_body(content = SendOptions, content_type = "application/json", description = "{skipItemChecks, from, to, subject, text}"),
    responses(
        (status = 200, description = "Sent (v6/v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "Invalid options, email settings missing, no content, or message too large", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, site, folder or version", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn sp_send_folder_version(
    State(state): State<AppState>,
    site: SiteCtx,
    Path(p): Path<SiteVersionPath>,
    LenientJson(body): LenientJson<SendOptions>,
) -> Result<Response, ApiError> {
    sharepoint(&state, site.version, &site, &SpScope::Folder(p.item_id), &body, Some(&p.version_id)).await
}

/// Send every file of a backed-up SharePoint document library as e-mail attachments.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Libraries/{libraryId}/send",
    tag = "Send",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("libraryId" = String, Path, description = "Document library id")
    ),
    request_body(content = SendOptions, content_type = "application/json", description = "{skipItemChecks, from, to, subject, text}"),
    responses(
        (status = 200, description = "Sent (v6/v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "Invalid options, email settings missing, no content, or message too large", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, site or library", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn sp_send_library(
    State(state): State<AppState>,
    site: SiteCtx,
    Path(p): Path<SiteItemPath>,
    LenientJson(body): LenientJson<SendOptions>,
) -> Result<Response, ApiError> {
    sharepoint(&state, site.version, &site, &SpScope::Library(p.item_id), &body, None).await
}

/// Send attachments of a backed-up SharePoint list item (none named: all).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Items/{itemId}/Attachments/send",
    tag = "Send",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("itemId" = String, Path, description = "List item id")
    ),
    request_body(content = SendOptions, content_type = "application/json", description = "{attachments: [{id}]?, skipItemChecks, from, to, subject, text}"),
    responses(
        (status = 200, description = "Sent (v6/v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "Invalid options, email settings missing, no content, or message too large", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, site, item or attachment", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn sp_send_attachments(
    State(state): State<AppState>,
    site: SiteCtx,
    Path(p): Path<SiteItemPath>,
    LenientJson(body): LenientJson<SendOptions>,
) -> Result<Response, ApiError> {
    sharepoint(&state, site.version, &site, &SpScope::Attachments(p.item_id), &body, None).await
}

/// Send one attachment of a backed-up SharePoint list item.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Items/{itemId}/Attachments/{attachmentId}/send",
    tag = "Send",
    params(
        ("version" = String, Path, description = "API version: v6 … v8"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("itemId" = String, Path, description = "List item id"),
        ("attachmentId" = String, Path, description = "Attachment id (hex of the file name; the plain name is accepted too)")
    ),
    request_body(content = SendOptions, content_type = "application/json", description = "{skipItemChecks, from, to, subject, text}"),
    responses(
        (status = 200, description = "Sent (v6/v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "Invalid options, email settings missing, no content, or message too large", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, site, item or attachment", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn sp_send_attachment(
    State(state): State<AppState>,
    site: SiteCtx,
    Path(p): Path<SiteAttachmentPath>,
    LenientJson(body): LenientJson<SendOptions>,
) -> Result<Response, ApiError> {
    sharepoint(&state, site.version, &site, &SpScope::Attachment(p.item_id, p.attachment_id), &body, None).await
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

    /// Each explorer's four paths are documented, with the typed body and answer, and each one's handler reads its
    /// own explorer from the path.
    #[test]
    fn email_settings_documented_per_explorer() {
        let doc = serde_json::to_value(crate::router::document()).unwrap();
        for e in Explorer::ALL {
            let base = format!("/{{version}}/{}", e.resource());
            for path in [base.clone(), format!("{base}/SendTestEmail"), format!("{base}/SendTest")] {
                assert_eq!(EmailSettingsOf::from_path(&path), Some(EmailSettingsOf(e)), "{path}");
            }
            let ops = &doc["paths"][&base];
            assert_eq!(
                ops["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/RESTEmailSettingsAnswer",
                "{base}"
            );
            assert_eq!(
                ops["put"]["requestBody"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/RESTEmailSettings",
                "{base}"
            );
            for test in ["SendTestEmail", "SendTest"] {
                assert!(doc["paths"][format!("{base}/{test}")]["post"].is_object(), "{base}/{test}");
            }
        }
        let update = &doc["components"]["schemas"]["RESTEmailSettings"]["properties"];
        for name in ["server", "smtpServer", "useSSL", "userPassword", "connectionSecurity", "authenticationType"] {
            assert!(update[name].is_object(), "{name}: {update}");
        }
    }

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
