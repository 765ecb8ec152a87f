//! The v2–v5 `POST …/Action` endpoints of OneDrives and SharePoint sites.
//!
//! The action era carries every action in one body — `{"save": …}`, `{"sendTo": …}` (or a bare `{from, to, …}`),
//! `{"restoreToOriginalLocation": …}`, `{"copyTo": …}`, SharePoint `{"restoreTo": …}` — so this module translates
//! such a request into the v6+ operation of the same scope and calls its handler: [`save::save_onedrive`],
//! [`send::send_onedrive`], [`restore::restore_onedrive`], [`restore::copy_onedrive`], [`save::save_site`],
//! [`send::send_site`], [`sp_restore::restore_site`], [`sp_restore::restore_list`], [`sp_restore::restore_items`].
//! The route's path gives the scope ([`DriveTarget`] / [`SiteTarget`], verb `Action`), the action's property the
//! options. An action name the era knows but the scope has no operation for answers 400 ("action 'save' is not
//! supported here"); to add an action, give [`OneDriveAction`] / [`SharePointAction`] a variant and a match arm here.
//!
//! | path (POST), under `/{version}/RestoreSessions/{id}/Organization` | body |
//! |---|---|
//! | `OneDrives/{oneDriveId}/Action` | any action: the whole OneDrive |
//! | `OneDrives/{oneDriveId}/Documents/Action`, `…/Folders/Action` | action with `documents[]` / `folders[]` |
//! | `OneDrives/{oneDriveId}/Documents/{documentId}/Action`, `…/Folders/{folderId}/Action` | any action |
//! | `Sites/{siteId}/Action`, `…/Lists/{listId}/Action`, `…/Items/Action` (`items[]`), `…/Items/{itemId}/Action` | `restoreTo` |
//! | `Sites/{siteId}/Documents/Action`, `…/Folders/Action` | `save`, `sendTo`, `restoreTo` with `documents[]` / `folders[]` |
//! | `Sites/{siteId}/Documents/{documentId}/Action`, `…/Folders/{folderId}/Action`, `…/Libraries/{libraryId}/Action` | `save`, `sendTo`, `restoreTo` |
//! | `Sites/{siteId}/Items/{itemId}/Attachments/Action` | `save`, `sendTo` with `attachments[]` (none named: all) |
//!
//! In v6–v8 these paths answer 404 (those versions have `…/save`, `…/send`, `…/restore`, `…/copyTo`): their route
//! group is gated to v2–v5 in `router.rs`.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use crate::ctx::caller::Caller;
use crate::ctx::drive::{DriveCtx, Purpose};
use crate::ctx::restore_auth::RestoreBody;
use crate::edge::error::ApiError;
use crate::edge::lenient::{LenientJson, Obj};
use crate::edge::paging::Hrefs;
use crate::resources::route_paths::{DrivePath, SitePath};
use crate::resources::scope::{DriveTarget, SiteTarget, SpScope};
use crate::resources::{restore, save, send, sp_restore};
use crate::wire::actions::{OneDriveAction, SharePointAction};
use crate::wire::restore::{ItemRestoreStatistics, ListRestoreStatistics, WebRestoreStatistics};

/// A bare send body (`{from, to, …}`) is `sendTo` (notes §8.1); otherwise the body's one action property.
fn action_of(body: &Obj, actions: &[&'static str]) -> Result<(&'static str, Obj), ApiError> {
    if body.has("from") && body.has("to") && !body.has("sendTo") {
        return Ok(("sendTo", body.clone()));
    }
    body.action(actions)
}

/// Save, send, restore or copy backed-up OneDrive content (v2–v5): the whole OneDrive, documents or folders
/// (`documents[]` / `folders[]`), one document or folder.
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
                       {\"restoreToOriginalLocation\": {…}} or {\"copyTo\": {…}}; `documents: [{id}]` / `folders: [{id}]` in it for the collections"),
    responses(
        (status = 200, description = "save: application/octet-stream (ZIP, or one document's bytes); sendTo: empty; restore/copyTo: statistics", content(([u8] = "application/octet-stream"), (ItemRestoreStatistics = "application/json"))),
        (status = 400, description = "Unknown or unsupported action, invalid options", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, OneDrive, document or folder; v6–v8", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn onedrive_action(
    caller: Caller,
    hrefs: Hrefs,
    Path(p): Path<DrivePath>,
    target: DriveTarget,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    let (name, opts) = action_of(&body, OneDriveAction::NAMES)?;
    let action = OneDriveAction::of(name, &opts)?;
    let purpose = match action {
        OneDriveAction::Save(_) => Purpose::Save,
        OneDriveAction::SendTo(_) => Purpose::Send,
        OneDriveAction::RestoreToOriginalLocation(_) | OneDriveAction::CopyTo(_) => Purpose::Restore,
    };
    let (state, user) = (&caller.state, caller.user.clone());
    let drive = DriveCtx::load(state, user, hrefs, &p.id, &p.one_drive_id, purpose).await?;
    Ok(match action {
        OneDriveAction::Save(o) => save::save_onedrive(State(state.clone()), drive, target, LenientJson(o)).await?,
        OneDriveAction::SendTo(o) => send::send_onedrive(State(state.clone()), drive, target, LenientJson(o)).await?,
        OneDriveAction::RestoreToOriginalLocation(o) => {
            let body = RestoreBody(o, opts.to_typed()?);
            restore::restore_onedrive(caller, drive, target, body).await?.into_response()
        }
        OneDriveAction::CopyTo(o) => {
            let body = RestoreBody(o, opts.to_typed()?);
            restore::copy_onedrive(caller, drive, target, body).await?.into_response()
        }
    })
}

/// Save, send or restore backed-up SharePoint content (v2–v5): the site, a list or library, documents, folders or
/// list items (several from the body, or one), list item attachments.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}/Documents/Action",
    tag = "Action",
    params(
        ("version" = String, Path, description = "API version: v2 … v5"),
        ("id" = String, Path, description = "Restore session id (type Vesp)"),
        ("siteId" = String, Path, description = "Site id")
    ),
    request_body(content = SharePointAction, content_type = "application/json", description = "One action: save, sendTo or restoreTo (the site, lists and list items: restoreTo only); `documents` / `folders` / `items` / `attachments: [{id}]` in it for the collections"),
    responses(
        (status = 200, description = "save: application/octet-stream (ZIP, or one file's bytes); sendTo: empty; restoreTo: statistics (of the site, the list or the items)", content(([u8] = "application/octet-stream"), (ItemRestoreStatistics = "application/json"), (ListRestoreStatistics = "application/json"), (WebRestoreStatistics = "application/json"))),
        (status = 400, description = "Unknown or unsupported action, invalid options", body = crate::openapi::RestExceptionInfo),
        (status = 404, description = "Unknown session, site, list, library, document, folder, item or attachment; v6–v8", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn site_action(
    caller: Caller,
    Path(p): Path<SitePath>,
    target: SiteTarget,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    let (name, opts) = action_of(&body, SharePointAction::NAMES)?;
    let action = SharePointAction::of(name, &opts)?;
    let (state, user, version) = (&caller.state, &caller.user, caller.version);
    let site = crate::ctx::site::load(state, user, version, &p.id, &p.site_id).await?;
    Ok(match action {
        SharePointAction::Save(o) => save::save_site(State(state.clone()), site, target, LenientJson(o)).await?,
        SharePointAction::SendTo(o) => send::send_site(State(state.clone()), site, target, LenientJson(o)).await?,
        SharePointAction::RestoreTo(o) => {
            let body = RestoreBody(o, opts.to_typed()?);
            match target.scope {
                SpScope::Site => sp_restore::restore_site(caller, site, target, body).await?.into_response(),
                SpScope::List(_) | SpScope::Library(_) => {
                    sp_restore::restore_list(caller, site, target, body).await?.into_response()
                }
                _ => sp_restore::restore_items(caller, site, target, body).await?.into_response(),
            }
        }
    })
}
