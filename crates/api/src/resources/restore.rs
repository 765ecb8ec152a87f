//! OneDrive restore to the original location and copyTo (veeam-api-notes §8).
//!
//! Paths under `/{version}/RestoreSessions/{id}/Organization/OneDrives` (v6–v8; v2–v5 reach the same code through
//! the `…/Action` dispatcher of `resources::actions`, which calls [`restore_onedrive`] and [`copy_onedrive`]):
//!
//! | path | body |
//! |---|---|
//! | `/restore` (bulk) | `RESTBulkRestoreConfig` (`oneDrives[].id`, `documentAction`, `skipUnresolved`, `officeUsername`/`officeUserpassword`, …) |
//! | `/Action` (bulk, v2–v5 only) | the same, wrapped in `restoreToOriginalLocation` (v5 docs) or at the top level (v2/v3 docs) |
//! | `/{oneDriveId}/restore` | `RESTRestoreToOriginal` (whole OneDrive) |
//! | `/{oneDriveId}/copyTo` | `RESTCopyToFolder` (whole OneDrive) |
//! | `/{oneDriveId}/Documents/restore`, `/Folders/restore` | `RESTRestoreToOriginalDocuments` / `…Folders` (`documents[].id` / `folders[].id`) |
//! | `/{oneDriveId}/Documents/copyTo`, `/Folders/copyTo` | `RestCopyToDocuments` / `RESTCopyToFolders` |
//! | `/{oneDriveId}/Documents/{documentId}/restore\|copyTo` | `RESTRestoreToOriginal` / `RESTCopyToDocument` |
//! | `/{oneDriveId}/Folders/{folderId}/restore\|copyTo` | `RESTRestoreToOriginal` / `RESTCopyToFolder` |
//! | `/{oneDriveId}/Documents/{documentId}/Versions/{versionId}/restore\|copyTo` | as the document form; writes that version |
//! | `/{oneDriveId}/Folders/{folderId}/Versions/{versionId}/restore\|copyTo` | as the folder form (folders have the one version `1`) |
//!
//! and `POST /{version}/RestoreSessions/{id}/organization/restoreDeviceCode` (`RESTDeviceCodeRequestOptions` →
//! `RESTDeviceCodeResponse`; v5–v8), whose `userCode` a restore body may then carry.
//!
//! Answers per era: **v8** creates a restore operation session and answers 200 `{"sessionId"}` at once; the restore
//! runs in the background ([`crate::store::restore_jobs`]): poll `GET /v8/RestoreSessions/{sessionId}` until `Stopped`,
//! then read its `Events` and `Statistics`. **v6/v7** run the restore in the request and answer
//! `RESTItemRestoreStatistics` (bulk: `RESTSharePointBulkRestoreStatistics`). **v2–v5** answer 200 with the same
//! statistics. In every era each item also becomes a `Restore` event of the session (v6/v7/v2–v5: the exploring
//! session), so `…/Events` and `…/Statistics` always tell what happened.
//!
//! Stop (`POST …/stop`, `…/Action {"stop":null}`) cuts a running restore short after its current item
//! ([`crate::store::restore_stop`]): a v8 job ends `Stopped` (result `Warning`); a v2–v7 restore running in its request
//! answers the era's stopped-session error (500 `"Restore session is stopped. The restore was stopped by the user
//! after N items (…)."`) — the items it did process are events of the session.
//!
//! Ids: `oneDriveId` = catalog container UUID; document/folder id = Microsoft item id; `versionId` = 1-based ordinal
//! of the version, oldest first (as `GET …/Versions` numbers them). A folder id on a `Documents` path (and the
//! reverse), unknown ids and versions are 404 — checked before anything runs, in v8 too. Without `showAllVersions`
//! only the current version of a document can be chosen.
//!
//! Credentials: see [`crate::ctx::restore_auth`] (password, application certificate, device code); never logged or
//! stored.
//!
//! Restore semantics (the same in every era and credential mode; see also README "Restore semantics"):
//!
//! | | restore to the original location | copyTo |
//! |---|---|---|
//! | match | by Microsoft id; an item gone from the tenant goes back to its backed-up path (missing folders re-created) | by path under `folder` |
//! | renamed / moved since the backup | `Overwrite`: renamed/moved back (same id and history), content written only when it differs; `Keep`: a `(Restored …)` copy at the original path | n/a |
//! | `deletedItems` (default true) | false: skip items deleted in the backup and items gone from the tenant | false: skip items deleted in the backup |
//! | `changedItems` (default true) | false: skip items that still exist (changed, renamed or moved); only missing items come back | false: copy the last version only, whatever `documentVersion` says (the vendor's "all versions of OneDrive items will be copied") |
//!
//! Items deleted in the backup (before the session's point in time) exist only for a session explored with
//! `showDeleted`: there they can be restored by id and a whole-OneDrive or folder restore includes them (unless
//! `deletedItems` is false). A session without `showDeleted` restores what it shows: its deleted items are 404 by id
//! and left out of whole restores.
//!
//! Statistics (`RESTItemRestoreStatistics`): `restoredItemsCount`, `failedItemsCount`, `skippedItemsByNoChangesCount`
//! (unchanged or filtered out), `skippedItemsByErrorCount` (0), `failedRestrictionsCount` (sharing not re-created),
//! `totalItemsCount`, `restoreIssues` (`RESTRestoreObject` `{path, title, type: "Item", warnings, error}` per failed
//! item or item with warnings).

use axum::extract::Path;
use axum::Json;
use engine::restore::{
    restore_onedrive_observed, Destination, LastVersionAction, RestoreError, RestoreOptions, RestoreStats, Selection,
    VersionMode,
};
use repo::catalog::ContainerInfo;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::ctx::caller::Caller;
use crate::ctx::drive::{self, DriveCtx, SessionDrive};
use crate::ctx::restore_auth::{self, Credentials, RestoreBody};
use crate::edge::era::RestoreRun;
use crate::edge::error::ApiError;
use crate::edge::lenient::IdList;
use crate::edge::lenient::LenientJson;
use crate::openapi::RestExceptionInfo;
use crate::resources::browse_util::check_folder_version;
use crate::resources::route_paths::SessionPath;
use crate::resources::scope::{DriveTarget, Scope};
use crate::state::AppState;
use crate::store::restore_jobs;
use crate::store::restore_stop::{self, Watch};
use crate::store::sessions::RestoreSession;
use crate::wire::restore::{
    AsyncRestore, BulkRestore, BulkRestoreStatistics, CopyTo, DeviceCodeRequest, DeviceCodeResponse, DocumentAction,
    DocumentLastVersionAction, DocumentVersion, ItemRestoreStatistics, RestoreAnswer, RestoreToOriginal,
};
use crate::wire::selection::required_ids;

/// The answer of a restore of one OneDrive (or of items of it).
type OneDriveAnswer = Result<Json<RestoreAnswer<ItemRestoreStatistics>>, ApiError>;

// ---------------------------------------------------------------------------------------------------------------
// Handlers (v6–v8, except the v2–v5 bulk `…/OneDrives/Action` and the v5–v8 device code)
// ---------------------------------------------------------------------------------------------------------------

/// What a restore to the original location does (the OpenAPI description of the whole-OneDrive and document forms).
const RESTORE_TO_ORIGINAL: &str =
    "Matched by id. An item renamed or moved since the backup: `Overwrite` renames/moves it back (same id and \
history; content written only when it differs), `Keep` writes a `(Restored <time>)` copy at the original path. An \
item gone from the tenant goes back to its backed-up path, missing folders re-created. `deletedItems` (default \
true): false skips items gone from the tenant and items deleted in the backup; in a session explored with \
`showDeleted`, items deleted before its point in time are restored (by id, and in whole-OneDrive and folder \
restores), otherwise they are not part of the session. `changedItems` (default true): false skips items that still \
exist, so only missing items come back. v8 answers `{sessionId}` and restores in the background; v6/v7 answer \
`RESTItemRestoreStatistics`.";

/// What a copyTo does (the OpenAPI description of the whole-OneDrive and document forms).
const COPY_TO: &str =
    "Copies below `folder` of the target OneDrive (`oneDrive.id`, default: the source), keeping the folder \
structure; what the target folder already holds never decides what is copied. `deletedItems` (default true): \
whether items deleted in the backup (shown by a session explored with `showDeleted`) are copied; false copies only \
the items that existed at the session's point in time. `changedItems` (default true): whether all versions of the \
documents may be copied (vendor: \"all versions of OneDrive items will be copied\"): true writes what \
`documentVersion` asks (`Last` or `All`), false only the last version. `documentLastVersionAction`: `Overwrite` \
replaces a file of the same path, `Merge` adds the copied versions to it.";

/// Restore OneDrive content to its original location: the whole OneDrive, documents (`documents[].id`), folders
/// (`folders[].id`) with their content, one document or folder, or a version of one (a document gets that
/// version's content; a folder has the one version `1`). v2–v5 reach it through `…/Action
/// {"restoreToOriginalLocation": …}`.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/restore",
    tag = "OneDrive restore",
    description = RESTORE_TO_ORIGINAL,
    request_body = RestoreToOriginal,
    params(("version" = String, Path, description = "v6 … v8"), ("id" = String, Path), ("oneDriveId" = String, Path)),
    responses(
        (status = 200, description = "v6/v7: the statistics; v8: the restore session", body = RestoreAnswer<ItemRestoreStatistics>),
        (status = 400, description = "Bad body or credentials", body = RestExceptionInfo),
        (status = 404, description = "Unknown session, OneDrive, document, folder or version", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn restore_onedrive(
    caller: Caller,
    drive: DriveCtx,
    target: DriveTarget,
    RestoreBody(o, credentials): RestoreBody<RestoreToOriginal>,
) -> OneDriveAnswer {
    let drive = DriveRestore { caller, drive: drive.drive };
    let selection = drive.select(&target, o.documents.as_ref(), o.folders.as_ref()).await?;
    let opts = drive.original_options(&o);
    drive.run(selection, opts, &credentials).await
}

/// Copy OneDrive content to a folder (of the same or another OneDrive of the organization): the whole OneDrive,
/// documents (`documents[].id`), folders (`folders[].id`), one document or folder, or a version of one. v2–v5 reach
/// it through `…/Action {"copyTo": …}`.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/copyTo",
    tag = "OneDrive restore",
    description = COPY_TO,
    request_body = CopyTo,
    params(("version" = String, Path, description = "v6 … v8"), ("id" = String, Path), ("oneDriveId" = String, Path)),
    responses(
        (status = 200, description = "v6/v7: the statistics; v8: the restore session", body = RestoreAnswer<ItemRestoreStatistics>),
        (status = 400, description = "Bad body or credentials", body = RestExceptionInfo),
        (status = 404, description = "Unknown session, OneDrive, document, folder, version or target OneDrive", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn copy_onedrive(
    caller: Caller,
    drive: DriveCtx,
    target: DriveTarget,
    RestoreBody(o, credentials): RestoreBody<CopyTo>,
) -> OneDriveAnswer {
    let drive = DriveRestore { caller, drive: drive.drive };
    let selection = drive.select(&target, o.documents.as_ref(), o.folders.as_ref()).await?;
    let opts = drive.copy_options(&o).await?;
    drive.run(selection, opts, &credentials).await
}

/// Restore whole OneDrives (`oneDrives[].id`) to their original location; `skipUnresolved` leaves out OneDrives
/// that are not in the session instead of answering 404.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/restore",
    tag = "OneDrive restore",
    description = RESTORE_TO_ORIGINAL,
    request_body = BulkRestore,
    params(("version" = String, Path, description = "v6 … v8"), ("id" = String, Path)),
    responses(
        (status = 200, description = "v6/v7: the statistics per OneDrive; v8: the restore session", body = RestoreAnswer<BulkRestoreStatistics>),
        (status = 400, description = "Bad body or credentials", body = RestExceptionInfo),
        (status = 404, description = "Unknown session or OneDrive", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn restore_onedrives(
    caller: Caller,
    Path(p): Path<SessionPath>,
    RestoreBody(o, credentials): RestoreBody<BulkRestore>,
) -> Result<Json<RestoreAnswer<BulkRestoreStatistics>>, ApiError> {
    bulk_restore(&caller, &p.id, &o, &credentials).await.map(Json)
}

/// v2–v5: restore whole OneDrives to their original location. The v5 docs wrap the options in
/// `restoreToOriginalLocation`; the v2/v3 docs send them at the top level (`OfficeUsername`, `OfficePassword`,
/// `OneDrives`, …). Both are accepted.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/Action",
    tag = "OneDrive restore",
    request_body(content = BulkRestore, content_type = "application/json", description = "{\"restoreToOriginalLocation\": {oneDrives: [{id}], …}} (the bare options are accepted too)"),
    params(("version" = String, Path, description = "v2 … v5"), ("id" = String, Path)),
    responses(
        (status = 200, description = "The statistics per OneDrive", body = BulkRestoreStatistics),
        (status = 400, description = "Bad body or credentials", body = RestExceptionInfo),
        (status = 404, description = "Unknown session or OneDrive", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn restore_onedrives_action(
    caller: Caller,
    Path(p): Path<SessionPath>,
    LenientJson(body): LenientJson,
) -> Result<Json<RestoreAnswer<BulkRestoreStatistics>>, ApiError> {
    let opts = match body.get("oneDrives").is_some() && body.get("restoreToOriginalLocation").is_none() {
        true => body,
        false => body.action(&["restoreToOriginalLocation"])?.1,
    };
    let RestoreBody(o, credentials) = RestoreBody::<BulkRestore>::of(&opts)?;
    bulk_restore(&caller, &p.id, &o, &credentials).await.map(Json)
}

/// Ask for a device code to restore with (`RESTDeviceCodeRequestOptions`: `targetApplicationId`, `targetRegion`);
/// a restore body then names its `userCode`.
#[utoipa::path(
    post,
    path = "/{version}/RestoreSessions/{id}/Organization/restoreDeviceCode",
    tag = "OneDrive restore",
    params(("version" = String, Path, description = "v5 … v8"), ("id" = String, Path)),
    request_body = DeviceCodeRequest,
    responses(
        (status = 200, description = "The code to enter at the verification URL", body = DeviceCodeResponse),
        (status = 400, description = "Bad body, or the organization refused", body = RestExceptionInfo),
        (status = 404, description = "Unknown session", body = RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn request_device_code(
    caller: Caller,
    Path(p): Path<SessionPath>,
    LenientJson(body): LenientJson<DeviceCodeRequest>,
) -> Result<Json<DeviceCodeResponse>, ApiError> {
    let s = crate::ctx::working::session(&caller.state, &caller.user, &p.id).await?;
    if let Some(region) = body.target_region {
        // Only the organization's own tenant is served; a region is accepted as documented.
        tracing::debug!(?region, "device code requested for a region");
    }
    let (state, org) = (&caller.state, s.organization_id);
    let code = restore_auth::request_device_code(state, &caller.user, org, body.target_application_id).await?;
    Ok(Json(DeviceCodeResponse {
        user_code: code.user_code,
        verification_url: code.verification_uri,
        expires_in: code.expires_in,
        message: code.message,
    }))
}

// ---------------------------------------------------------------------------------------------------------------
// Selection and options
// ---------------------------------------------------------------------------------------------------------------

/// Document or folder (paths name which one they expect).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Document,
    Folder,
}

/// A OneDrive of a restore session that `caller` restores from.
struct DriveRestore {
    caller: Caller,
    drive: SessionDrive,
}

impl DriveRestore {
    /// What `target` selects: the whole OneDrive, the body's `documents[]` / `folders[]`, one document or folder,
    /// or a version of one (checked before anything runs, as [`Self::items`] says).
    async fn select(
        &self,
        target: &DriveTarget,
        documents: Option<&IdList>,
        folders: Option<&IdList>,
    ) -> Result<Selection, ApiError> {
        match (&target.scope, target.version.as_deref()) {
            (Scope::OneDrive, _) => Ok(Selection::Whole),
            (Scope::Documents, _) => self.items(Kind::Document, required_ids(documents, "documents")?).await,
            (Scope::Folders, _) => self.items(Kind::Folder, required_ids(folders, "folders")?).await,
            (Scope::Document(id), None) => self.items(Kind::Document, vec![id.clone()]).await,
            (Scope::Document(id), Some(v)) => self.document_version(id.clone(), version_number(v)?).await,
            (Scope::Folder(id), version) => {
                if let Some(v) = version {
                    check_folder_version(id, v)?;
                }
                self.items(Kind::Folder, vec![id.clone()]).await
            }
        }
    }

    /// The documents or folders `ids`, each checked before anything runs (so v8 answers 404 rather than a failed
    /// job): 404 unless it is a `kind` of the OneDrive at the session's instant.
    async fn items(&self, kind: Kind, ids: Vec<String>) -> Result<Selection, ApiError> {
        for id in &ids {
            self.check_item(id, kind).await?;
        }
        Ok(Selection::Items(ids))
    }

    async fn check_item(&self, id: &str, kind: Kind) -> Result<(), ApiError> {
        match self.drive.visible_item(&self.caller.state, id).await? {
            Some(row) if row.state.is_folder == (kind == Kind::Folder) => Ok(()),
            _ => Err(ApiError::not_found(format!("Item {id} was not found in this restore session."))),
        }
    }

    /// Version `version` (1-based, oldest first) of document `item_id`; without `showAllVersions` only the current
    /// one can be chosen.
    async fn document_version(&self, item_id: String, version: u32) -> Result<Selection, ApiError> {
        self.check_item(&item_id, Kind::Document).await?;
        let state = &self.caller.state;
        let versions =
            crate::resources::browse_util::numbered_versions(&state.catalog, self.drive.id(), &item_id, self.drive.at)
                .await?;
        let n = versions.len() as u32;
        if version == 0 || version > n {
            return Err(ApiError::not_found(format!("Version {version} of document {item_id} was not found.")));
        }
        if !self.drive.session.show_all_versions && version != n {
            return Err(ApiError::not_found(format!(
                "Version {version} of document {item_id} is not visible: explore with showAllVersions to restore \
                 earlier versions."
            )));
        }
        Ok(Selection::Version { item_id, version })
    }

    /// Options of a restore to the original location (see [`original_options`]).
    fn original_options(&self, o: &RestoreToOriginal) -> RestoreOptions {
        original_options(o.document_action, o.document_version, o.changed_items, o.deleted_items, &self.drive.session)
    }

    /// Options of a copyTo (see [`CopyTo`]): the target OneDrive must be one of the same organization.
    async fn copy_options(&self, o: &CopyTo) -> Result<RestoreOptions, ApiError> {
        let t = &self.drive;
        let dest = o.one_drive.as_ref().map_or_else(|| t.id().to_string(), |d| d.id.clone());
        let nf = || ApiError::not_found(format!("Target OneDrive {dest} was not found."));
        let dest_id = Uuid::parse_str(dest.trim()).map_err(|_| nf())?;
        let row = self.caller.state.catalog.container_at(dest_id, t.at).await?.ok_or_else(nf)?;
        let drive_id = match &row.info {
            ContainerInfo::OneDrive(i) if row.organization_id == t.session.organization_id => i.drive_id.clone(),
            _ => return Err(nf()),
        };
        let action = match o.document_last_version_action {
            Some(DocumentLastVersionAction::Merge) => LastVersionAction::Merge,
            _ => LastVersionAction::Overwrite,
        };
        let mut opts = RestoreOptions::original(engine::restore::DocumentAction::Overwrite);
        opts.destination = Destination::CopyTo { drive_id, folder: o.folder.clone().unwrap_or_default(), action };
        // The vendor's copyTo `changedItems`: "all versions of OneDrive items will be copied". `false` limits the
        // copy to the last version; what the target folder holds never filters a copy.
        opts.versions = match o.changed_items.unwrap_or(true) {
            true => versions(o.document_version),
            false => VersionMode::Last,
        };
        opts.changed_items = true;
        // `deletedItems`: copy items deleted in the backup (shown by a showDeleted session) or not.
        opts.deleted_items = o.deleted_items.unwrap_or(true);
        opts.show_deleted = t.session.show_deleted;
        opts.restore_permissions = o.restore_permissions.unwrap_or(false);
        opts.send_shared_links_notification = o.send_shared_links_notification.unwrap_or(false);
        Ok(opts)
    }

    /// Restores `selection` of this OneDrive with `opts`, signing in with the credentials of `body`.
    async fn run(self, selection: Selection, opts: RestoreOptions, credentials: &Credentials) -> OneDriveAnswer {
        let work = Work::new(&self.caller.state, self.drive.id(), self.drive.at, selection, opts)?;
        let ran = execute(&self.caller, &self.drive.session, credentials, vec![work], Report::Single).await?;
        Ok(Json(match ran {
            Ran::Started(op) => RestoreAnswer::Started(op),
            Ran::Finished(results) => match results.into_iter().next() {
                Some((_, Err(m))) => return Err(ApiError::bad_request(m)),
                Some((_, Ok(s))) => RestoreAnswer::Finished(ItemRestoreStatistics::new(&s)),
                None => RestoreAnswer::Finished(ItemRestoreStatistics::new(&RestoreStats::default())),
            },
        }))
    }
}

fn versions(v: Option<DocumentVersion>) -> VersionMode {
    match v {
        Some(DocumentVersion::All) => VersionMode::All,
        _ => VersionMode::Last,
    }
}

/// Options of a restore to the original location (single OneDrive or bulk; see [`RestoreToOriginal`]).
fn original_options(
    action: Option<DocumentAction>,
    version: Option<DocumentVersion>,
    changed_items: Option<bool>,
    deleted_items: Option<bool>,
    session: &RestoreSession,
) -> RestoreOptions {
    let action = match action {
        Some(DocumentAction::Keep) => engine::restore::DocumentAction::Keep,
        _ => engine::restore::DocumentAction::Overwrite,
    };
    let mut o = RestoreOptions::original(action);
    o.versions = versions(version);
    o.changed_items = changed_items.unwrap_or(true);
    o.deleted_items = deleted_items.unwrap_or(true);
    o.show_deleted = session.show_deleted;
    o
}

/// A folder's only version is the folder itself: its id, or 404 for another version.
fn version_number(v: &str) -> Result<u32, ApiError> {
    v.trim().parse::<u32>().map_err(|_| ApiError::not_found(format!("Version {v} was not found.")))
}

/// Restores the whole OneDrives listed in `oneDrives` (`RESTBulkRestoreConfig`) to their original location.
async fn bulk_restore(
    caller: &Caller,
    sid: &str,
    o: &BulkRestore,
    credentials: &Credentials,
) -> Result<RestoreAnswer<BulkRestoreStatistics>, ApiError> {
    let state = &caller.state;
    let s = drive::veod_session(state, &caller.user, sid, "restored from").await?;
    let at = s.browse_at.ok_or_else(|| ApiError::not_found("This restore session shows no backup."))?;
    let drives = o.one_drives.as_deref().unwrap_or_default();
    if drives.is_empty() {
        return Err(ApiError::bad_request("Specify at least one OneDrive in 'oneDrives'."));
    }
    let opts = original_options(o.document_action, o.document_version, o.changed_items, o.deleted_items, &s);
    let mut works = Vec::new();
    for d in drives {
        let container = match drive::of_session(state, &s, &d.id).await.map(|d| d.id()) {
            Ok(c) => c,
            Err(_) if o.skip_unresolved.unwrap_or(false) => continue,
            Err(e) => return Err(e),
        };
        works.push(Work::new(state, container, at, Selection::Whole, opts.clone())?);
    }
    Ok(match execute(caller, &s, credentials, works, Report::Bulk).await? {
        Ran::Started(op) => RestoreAnswer::Started(op),
        Ran::Finished(results) => RestoreAnswer::Finished(BulkRestoreStatistics::new(&results)),
    })
}

// ---------------------------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------------------------

/// The client message of an engine error.
fn engine_error(e: RestoreError) -> ApiError {
    match e {
        RestoreError::UnknownItem(id) => {
            ApiError::not_found(format!("Item {id} was not found in this restore session."))
        }
        RestoreError::UnknownVersion(id, v) => {
            ApiError::not_found(format!("Version {v} of document {id} was not found."))
        }
        RestoreError::UnknownOneDrive(_) => ApiError::not_found("OneDrive not found in this restore session."),
        RestoreError::Target(e) => ApiError::bad_request(format!("The target OneDrive cannot be used: {e}")),
        RestoreError::Catalog(e) => e.into(),
    }
}

/// One OneDrive restore as a unit of work (owned, so it can run in the background).
#[derive(Clone)]
struct Work {
    catalog: repo::catalog::Catalog,
    repo: repo::store::Repository,
    container: Uuid,
    at: chrono::DateTime<chrono::Utc>,
    selection: Selection,
    opts: RestoreOptions,
}

impl Work {
    fn new(
        state: &AppState,
        container: Uuid,
        at: chrono::DateTime<chrono::Utc>,
        selection: Selection,
        opts: RestoreOptions,
    ) -> Result<Work, ApiError> {
        let repo = state.repo.clone().ok_or_else(|| ApiError::internal("This server has no backup repository."))?;
        Ok(Work { catalog: state.catalog.clone(), repo, container, at, selection, opts })
    }

    async fn run(
        &self,
        client: &m365::GraphClient,
        observer: Option<engine::restore::ItemObserver<'_>>,
        stop: &CancellationToken,
    ) -> Result<RestoreStats, RestoreError> {
        restore_onedrive_observed(
            &self.catalog,
            &self.repo,
            client,
            self.container,
            self.at,
            &self.selection,
            &self.opts,
            observer,
            Some(stop),
        )
        .await
    }
}

/// How a request in the request's own time (v2–v7) reports an engine error.
#[derive(Clone, Copy)]
enum Report {
    /// As the HTTP answer (a single-OneDrive request).
    Single,
    /// Per OneDrive, in the answer's details (a bulk request).
    Bulk,
}

/// What [`execute`] did: started a v8 restore operation, or ran the restores (each OneDrive's statistics or error).
enum Ran {
    Started(AsyncRestore),
    Finished(Vec<(Uuid, Result<RestoreStats, String>)>),
}

/// Runs restores `works` (all of one organization, signing in with `credentials`) the era's way: v8 in the
/// background as a restore operation session, earlier eras in the request.
async fn execute(
    caller: &Caller,
    session: &RestoreSession,
    credentials: &Credentials,
    works: Vec<Work>,
    report: Report,
) -> Result<Ran, ApiError> {
    let state = &caller.state;
    let sign_in = restore_auth::sign_in(state, &caller.user, session.organization_id, credentials).await?;
    if RestoreRun::of(caller.version) == RestoreRun::Background {
        let op = restore_jobs::start_operation(state, &caller.user, session).await?;
        restore_jobs::spawn_job(state, op.id, &caller.user, move |sink| async move {
            let client = tokio::select! {
                c = sign_in.complete() => c?,
                // Stopped while waiting for a device-code approval: nothing was done.
                _ = sink.stopped() => return Ok(RestoreStats::default()),
            };
            let report = sink.observer();
            let observer: engine::restore::ItemObserver<'_> = &report;
            let mut total = RestoreStats::default();
            let mut errors = Vec::new();
            for w in &works {
                if sink.is_stopped() {
                    break;
                }
                match w.run(&client, Some(&observer), sink.stop_token()).await {
                    Ok(s) => total.add(s),
                    Err(e) => errors.push(engine_error(e).message),
                }
            }
            // A OneDrive that could not be restored at all fails the job only when nothing else was done.
            if !errors.is_empty() && total.items.is_empty() {
                return Err(errors.join(" "));
            }
            Ok(total)
        })
        .await?;
        return Ok(Ran::Started(AsyncRestore { session_id: op.id }));
    }
    // A Stop of the exploring session (from another request, on any node) cuts this restore short.
    let watch = restore_stop::watch(state, session.id, Watch::Request);
    let pending = sign_in.is_pending();
    let client = tokio::select! {
        c = sign_in.complete() => c.map_err(ApiError::bad_request)?,
        _ = watch.token().cancelled() => {
            return Err(crate::ctx::working::stopped_restore_error(&RestoreStats::default()))
        }
    };
    if pending {
        tracing::info!(session = %session.id, "restore signed in with a device code");
    }
    let mut results = Vec::with_capacity(works.len());
    let mut done = RestoreStats::default();
    for w in works {
        if watch.is_stopped() {
            break;
        }
        let r = w.run(&client, None, watch.token()).await;
        if let Ok(stats) = &r {
            restore_jobs::record_items(state, session.id, stats).await?;
            done.add(stats.clone());
        }
        let r = match (r, report) {
            (Err(e), Report::Single) => return Err(engine_error(e)),
            (r, _) => r.map_err(|e| engine_error(e).message),
        };
        results.push((w.container, r));
    }
    if watch.is_stopped() {
        return Err(crate::ctx::working::stopped_restore_error(&done));
    }
    Ok(Ran::Finished(results))
}

#[cfg(test)]
mod tests {
    use crate::edge::paths::canonical_route;

    #[test]
    fn routes_are_canonical() {
        for p in [
            "/{version}/RestoreSessions/{id}/Organization/restoreDeviceCode",
            "/{version}/RestoreSessions/{id}/Organization/OneDrives/restore",
            "/{version}/RestoreSessions/{id}/Organization/OneDrives/Action",
            "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/restore",
            "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/copyTo",
            "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Documents/restore",
            "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Folders/{folderId}/copyTo",
            "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Documents/{documentId}/Versions/{versionId}/restore",
        ] {
            assert_eq!(canonical_route(p), p);
        }
    }
}
