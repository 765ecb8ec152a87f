//! The v2–v5 `POST …/Action` endpoints of OneDrives and SharePoint sites.
//!
//! The action era carries every action in one body — `{"save": …}`, `{"sendTo": …}` (or a bare `{from, to, …}`),
//! `{"restoreToOriginalLocation": …}`, `{"copyTo": …}`, SharePoint `{"restoreTo": …}` — so one module owns these
//! routes and hands the action's options (the content of its property) to the operation the v6+ route of the same
//! scope calls: [`crate::resources::save`], [`crate::resources::send`], [`crate::resources::restore`],
//! [`crate::resources::sp_restore`]. The route's path gives the [`Scope`] / [`SpScope`]. An action name the era
//! knows but no operation handles answers 400 `"action 'x' is not supported yet"`; to add one, give [`onedrive`] or
//! [`sharepoint`] a match arm.
//!
//! | path (POST), under `/{version}/RestoreSessions/{id}/Organization` | body |
//! |---|---|
//! | `OneDrives/{oneDriveId}/Action` | any action: the whole OneDrive |
//! | `OneDrives/{oneDriveId}/Documents/Action`, `…/Folders/Action` | action with `documents[]` / `folders[]` |
//! | `OneDrives/{oneDriveId}/Documents/{documentId}/Action`, `…/Folders/{folderId}/Action` | any action |
//! | `Sites/{siteId}/Documents/Action`, `…/Folders/Action` | `save`, `sendTo`, `restoreTo` with `documents[]` / `folders[]` |
//! | `Sites/{siteId}/Documents/{documentId}/Action`, `…/Folders/{folderId}/Action`, `…/Libraries/{libraryId}/Action` | `save`, `sendTo`, `restoreTo` |
//! | `Sites/{siteId}/Items/{itemId}/Attachments/Action` | `save`, `sendTo` with `attachments[]` (none named: all) |
//!
//! In v6–v8 these paths answer 404 (those versions have `…/save`, `…/send`, `…/restore`, `…/copyTo`): their route
//! group is gated to v2–v5 in `router.rs`.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use crate::ctx::auth::CurrentUser;
use crate::ctx::caller::Caller;
use crate::ctx::drive;
use crate::edge::error::ApiError;
use crate::edge::lenient::{LenientJson, Obj};
use crate::edge::version::ApiVersion;
use crate::resources::restore::RestoreAction;
use crate::resources::route_paths::{DriveItemPath, DrivePath, SiteItemPath, SitePath};
use crate::resources::scope::{Scope, SpScope};
use crate::resources::{restore, save, send, sp_restore};
use crate::state::AppState;
use crate::wire::actions::{OneDriveAction, SharePointAction};
use crate::wire::restore::{ItemRestoreStatistics, ListRestoreStatistics};

/// A bare send body (`{from, to, …}`) is `sendTo` (notes §8.1); otherwise the body's one action property.
fn action_of(body: &Obj, actions: &[&'static str]) -> Result<(&'static str, Obj), ApiError> {
    if body.has("from") && body.has("to") && !body.has("sendTo") {
        return Ok(("sendTo", body.clone()));
    }
    body.action(actions)
}

/// Runs the action of `body` on `scope` of OneDrive `od_id` in session `sid`.
async fn onedrive(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    (sid, od_id): (&str, &str),
    scope: Scope,
    body: &Obj,
) -> Result<Response, ApiError> {
    let (name, opts) = action_of(body, OneDriveAction::NAMES)?;
    let caller = || Caller { state: state.clone(), user: user.clone(), version };
    let (ids, scope) = ((sid, od_id), &scope);
    match OneDriveAction::of(name, &opts)? {
        OneDriveAction::Save(o) => {
            let d = drive::load(state, user, sid, od_id, "saved from").await?;
            save::onedrive(state, &d, scope, &o, None).await
        }
        OneDriveAction::SendTo(o) => send::onedrive_action(state, user, version, sid, od_id, scope, &o).await,
        OneDriveAction::RestoreToOriginalLocation(o) => {
            let credentials = opts.to_typed()?;
            let answer =
                restore::onedrive_action(caller(), ids, scope, RestoreAction::Original(&o), &credentials).await?;
            Ok(answer.into_response())
        }
        OneDriveAction::CopyTo(o) => {
            let credentials = opts.to_typed()?;
            let answer = restore::onedrive_action(caller(), ids, scope, RestoreAction::Copy(&o), &credentials).await?;
            Ok(answer.into_response())
        }
    }
}

/// Runs the action of `body` on `scope` of site `site_id` in session `sid`.
async fn sharepoint(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    (sid, site_id): (&str, &str),
    scope: SpScope,
    body: &Obj,
) -> Result<Response, ApiError> {
    let (name, opts) = action_of(body, SharePointAction::NAMES)?;
    match SharePointAction::of(name, &opts)? {
        SharePointAction::Save(o) => save::sharepoint_action(state, user, version, sid, site_id, &scope, &o).await,
        SharePointAction::SendTo(o) => send::sharepoint_action(state, user, version, sid, site_id, &scope, &o).await,
        SharePointAction::RestoreTo(o) => {
            let caller = Caller { state: state.clone(), user: user.clone(), version };
            sp_restore::sharepoint_action(caller, sid, site_id, &scope, (&o, &opts.to_typed()?)).await
        }
    }
}

/// Save, send, restore or copy a whole backed-up OneDrive (v2–v5).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Action",
    tag = "Action",
    params(
        ("version" = String, Path, description = "API version: v2 … v5"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id")
    ),
    request_body(content = OneDriveAction, content_type = "application/json", description = "One action: {\"save\": {asZip}}, {\"sendTo\": {from, to, subject, text, skipItemChecks}}, \
                       {\"restoreToOriginalLocation\": {…}} or {\"copyTo\": {…}}"),
    responses(
        (status = 200, description = "save: application/octet-stream (ZIP); sendTo: empty; restore/copyTo: statistics", content(([u8] = "application/octet-stream"), (ItemRestoreStatistics = "application/json"))),
        (status = 400, description = "Unknown or unsupported action, invalid options", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session or OneDrive; v6–v8", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn drive_action(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DrivePath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    onedrive(&state, &user, version, (&p.id, &p.one_drive_id), Scope::OneDrive, &body).await
}

/// Save, send, restore or copy backed-up OneDrive documents named in the body (v2–v5).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Documents/Action",
    tag = "Action",
    params(
        ("version" = String, Path, description = "API version: v2 … v5"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id")
    ),
    request_body(content = OneDriveAction, content_type = "application/json", description = "One action whose options carry documents: [{id}], e.g. {\"save\": {\"documents\": [{\"id\": …}]}}"),
    responses(
        (status = 200, description = "save: application/octet-stream (ZIP); sendTo: empty; restore/copyTo: statistics", content(([u8] = "application/octet-stream"), (ItemRestoreStatistics = "application/json"))),
        (status = 400, description = "Unknown or unsupported action, invalid options", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, OneDrive or document; v6–v8", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn drive_documents_action(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DrivePath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    onedrive(&state, &user, version, (&p.id, &p.one_drive_id), Scope::Documents, &body).await
}

/// Save, send, restore or copy one backed-up OneDrive document (v2–v5).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Documents/{documentId}/Action",
    tag = "Action",
    params(
        ("version" = String, Path, description = "API version: v2 … v5"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id"),
        ("documentId" = String, Path, description = "Document id")
    ),
    request_body(content = OneDriveAction, content_type = "application/json", description = "One action, e.g. {\"save\": {\"asZip\": false}} (raw bytes) or {\"sendTo\": {…}}"),
    responses(
        (status = 200, description = "save: application/octet-stream (raw, or ZIP with asZip); sendTo: empty; restore/copyTo: statistics", content(([u8] = "application/octet-stream"), (ItemRestoreStatistics = "application/json"))),
        (status = 400, description = "Unknown or unsupported action, invalid options", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, OneDrive or document; v6–v8", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn drive_document_action(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DriveItemPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    onedrive(&state, &user, version, (&p.id, &p.one_drive_id), Scope::Document(p.item_id), &body).await
}

/// Save, send, restore or copy backed-up OneDrive folders named in the body (v2–v5).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Folders/Action",
    tag = "Action",
    params(
        ("version" = String, Path, description = "API version: v2 … v5"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id")
    ),
    request_body(content = OneDriveAction, content_type = "application/json", description = "One action whose options carry folders: [{id}], e.g. {\"save\": {\"folders\": [{\"id\": …}]}}"),
    responses(
        (status = 200, description = "save: application/octet-stream (ZIP); sendTo: empty; restore/copyTo: statistics", content(([u8] = "application/octet-stream"), (ItemRestoreStatistics = "application/json"))),
        (status = 400, description = "Unknown or unsupported action, invalid options", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, OneDrive or folder; v6–v8", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn drive_folders_action(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DrivePath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    onedrive(&state, &user, version, (&p.id, &p.one_drive_id), Scope::Folders, &body).await
}

/// Save, send, restore or copy one backed-up OneDrive folder (v2–v5).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Folders/{folderId}/Action",
    tag = "Action",
    params(
        ("version" = String, Path, description = "API version: v2 … v5"),
        ("id" = String, Path, description = "Restore session id (type Veod)"),
        ("oneDriveId" = String, Path, description = "OneDrive id"),
        ("folderId" = String, Path, description = "Folder id")
    ),
    request_body(content = OneDriveAction, content_type = "application/json", description = "One action, e.g. {\"save\": null}"),
    responses(
        (status = 200, description = "save: application/octet-stream (ZIP); sendTo: empty; restore/copyTo: statistics", content(([u8] = "application/octet-stream"), (ItemRestoreStatistics = "application/json"))),
        (status = 400, description = "Unknown or unsupported action, invalid options", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, OneDrive or folder; v6–v8", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn drive_folder_action(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DriveItemPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    onedrive(&state, &user, version, (&p.id, &p.one_drive_id), Scope::Folder(p.item_id), &body).await
}

/// Save, send or restore backed-up SharePoint library documents named in the body (v2–v5).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Documents/Action",
    tag = "Action",
    params(
        ("version" = String, Path, description = "API version: v2 … v5"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id")
    ),
    request_body(content = SharePointAction, content_type = "application/json", description = "One action whose options carry documents: [{id}]: save, sendTo or restoreTo"),
    responses(
        (status = 200, description = "save: application/octet-stream (ZIP); sendTo: empty; restoreTo: statistics", content(([u8] = "application/octet-stream"), (ItemRestoreStatistics = "application/json"))),
        (status = 400, description = "Unknown or unsupported action, invalid options", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, site or document; v6–v8", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn site_documents_action(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<SitePath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    sharepoint(&state, &user, version, (&p.id, &p.site_id), SpScope::Documents, &body).await
}

/// Save, send or restore one backed-up SharePoint library document (v2–v5).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Documents/{documentId}/Action",
    tag = "Action",
    params(
        ("version" = String, Path, description = "API version: v2 … v5"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("documentId" = String, Path, description = "Document id")
    ),
    request_body(content = SharePointAction, content_type = "application/json", description = "One action: {\"save\": {asZip}}, {\"sendTo\": {…}} or {\"restoreTo\": {…}}"),
    responses(
        (status = 200, description = "save: application/octet-stream (raw, or ZIP with asZip); sendTo: empty; restoreTo: statistics", content(([u8] = "application/octet-stream"), (ItemRestoreStatistics = "application/json"))),
        (status = 400, description = "Unknown or unsupported action, invalid options", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, site or document; v6–v8", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn site_document_action(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<SiteItemPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    sharepoint(&state, &user, version, (&p.id, &p.site_id), SpScope::Document(p.item_id), &body).await
}

/// Save, send or restore backed-up SharePoint folders named in the body (v2–v5).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Folders/Action",
    tag = "Action",
    params(
        ("version" = String, Path, description = "API version: v2 … v5"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id")
    ),
    request_body(content = SharePointAction, content_type = "application/json", description = "One action whose options carry folders: [{id}]: save, sendTo or restoreTo"),
    responses(
        (status = 200, description = "save: application/octet-stream (ZIP); sendTo: empty; restoreTo: statistics", content(([u8] = "application/octet-stream"), (ItemRestoreStatistics = "application/json"))),
        (status = 400, description = "Unknown or unsupported action, invalid options", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, site or folder; v6–v8", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn site_folders_action(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<SitePath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    sharepoint(&state, &user, version, (&p.id, &p.site_id), SpScope::Folders, &body).await
}

/// Save, send or restore one backed-up SharePoint folder (v2–v5).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Folders/{folderId}/Action",
    tag = "Action",
    params(
        ("version" = String, Path, description = "API version: v2 … v5"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("folderId" = String, Path, description = "Folder id")
    ),
    request_body(content = SharePointAction, content_type = "application/json", description = "One action: save, sendTo or restoreTo"),
    responses(
        (status = 200, description = "save: application/octet-stream (ZIP); sendTo: empty; restoreTo: statistics", content(([u8] = "application/octet-stream"), (ItemRestoreStatistics = "application/json"))),
        (status = 400, description = "Unknown or unsupported action, invalid options", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, site or folder; v6–v8", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn site_folder_action(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<SiteItemPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    sharepoint(&state, &user, version, (&p.id, &p.site_id), SpScope::Folder(p.item_id), &body).await
}

/// Save, send or restore a whole backed-up SharePoint document library (v2–v5).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Libraries/{libraryId}/Action",
    tag = "Action",
    params(
        ("version" = String, Path, description = "API version: v2 … v5"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("libraryId" = String, Path, description = "Library id")
    ),
    request_body(content = SharePointAction, content_type = "application/json", description = "One action: save, sendTo or restoreTo"),
    responses(
        (status = 200, description = "save: application/octet-stream (ZIP); sendTo: empty; restoreTo: statistics", content(([u8] = "application/octet-stream"), (ListRestoreStatistics = "application/json"))),
        (status = 400, description = "Unknown or unsupported action, invalid options", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, site or library; v6–v8", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn site_library_action(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<SiteItemPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    sharepoint(&state, &user, version, (&p.id, &p.site_id), SpScope::Library(p.item_id), &body).await
}

/// Save or send attachments of a backed-up SharePoint list item (v2–v5).
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Items/{itemId}/Attachments/Action",
    tag = "Action",
    params(
        ("version" = String, Path, description = "API version: v2 … v5"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id"),
        ("itemId" = String, Path, description = "List item id")
    ),
    request_body(content = SharePointAction, content_type = "application/json", description = "save or sendTo, options with attachments: [{id}] (none named: all)"),
    responses(
        (status = 200, description = "save: application/octet-stream (ZIP); sendTo: empty", content(([u8] = "application/octet-stream"))),
        (status = 400, description = "Unknown or unsupported action, invalid options", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, site, item or attachment; v6–v8", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn site_attachments_action(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<SiteItemPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    sharepoint(&state, &user, version, (&p.id, &p.site_id), SpScope::Attachments(p.item_id), &body).await
}

#[cfg(test)]
mod tests {
    use crate::edge::paths::canonical_route;

    const DRIVE: &str = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}";
    const SITE: &str = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}";

    #[test]
    fn routes_are_canonical() {
        for rest in [
            "/Action",
            "/Documents/Action",
            "/Documents/{documentId}/Action",
            "/Folders/Action",
            "/Folders/{folderId}/Action",
        ] {
            let p = format!("{DRIVE}{rest}");
            assert_eq!(canonical_route(&p), p);
        }
        for rest in [
            "/Documents/Action",
            "/Documents/{documentId}/Action",
            "/Folders/Action",
            "/Folders/{folderId}/Action",
            "/Libraries/{libraryId}/Action",
            "/Items/{itemId}/Attachments/Action",
        ] {
            let p = format!("{SITE}{rest}");
            assert_eq!(canonical_route(&p), p);
        }
    }
}
