//! OneDrive restore to the original location and copyTo (veeam-api-notes §8).
//!
//! Paths under `/{version}/RestoreSessions/{id}/Organization/OneDrives` (v6–v8; v2–v5 reach the same code through
//! the `…/Action` dispatcher of `resources::actions`, which calls [`onedrive_action`]):
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

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use engine::restore::{
    restore_onedrive_observed, Destination, DocumentAction, ItemStatus, LastVersionAction, RestoreError,
    RestoreOptions, RestoreStats, Selection, VersionMode,
};
use repo::catalog::ContainerInfo;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;
use uuid::Uuid;

use crate::ctx::auth::CurrentUser;
use crate::ctx::drive::{self, SessionDrive};
use crate::ctx::restore_auth;
use crate::edge::error::ApiError;
use crate::edge::lenient::{LenientJson, Obj};
use crate::edge::version::ApiVersion;
use crate::resources::route_paths::{DriveItemPath, DrivePath, DriveVersionPath, SessionPath};
use crate::state::AppState;
use crate::store::restore_jobs;
use crate::store::restore_stop::{self, Watch};
use crate::store::sessions::{self, RestoreSession};

const DRIVES: &str = "/{version}/RestoreSessions/{id}/Organization/OneDrives";
const BASE: &str = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}";

/// The one version a OneDrive folder has (see `routes::onedrive`).
const FOLDER_VERSION_ID: u32 = 1;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/{version}/RestoreSessions/{id}/Organization/restoreDeviceCode", post(device_code))
        .route(&format!("{DRIVES}/restore"), post(bulk_restore))
        .route(&format!("{DRIVES}/Action"), post(bulk_action))
        .route(&format!("{BASE}/restore"), post(restore_whole))
        .route(&format!("{BASE}/copyTo"), post(copy_whole))
        .route(&format!("{BASE}/Documents/restore"), post(restore_documents))
        .route(&format!("{BASE}/Documents/copyTo"), post(copy_documents))
        .route(&format!("{BASE}/Folders/restore"), post(restore_folders))
        .route(&format!("{BASE}/Folders/copyTo"), post(copy_folders))
        .route(&format!("{BASE}/Documents/{{documentId}}/restore"), post(restore_document))
        .route(&format!("{BASE}/Documents/{{documentId}}/copyTo"), post(copy_document))
        .route(&format!("{BASE}/Folders/{{folderId}}/restore"), post(restore_folder))
        .route(&format!("{BASE}/Folders/{{folderId}}/copyTo"), post(copy_folder))
        .route(&format!("{BASE}/Documents/{{documentId}}/Versions/{{versionId}}/restore"), post(restore_doc_version))
        .route(&format!("{BASE}/Documents/{{documentId}}/Versions/{{versionId}}/copyTo"), post(copy_doc_version))
        .route(&format!("{BASE}/Folders/{{folderId}}/Versions/{{versionId}}/restore"), post(restore_folder_version))
        .route(&format!("{BASE}/Folders/{{folderId}}/Versions/{{versionId}}/copyTo"), post(copy_folder_version))
}

#[derive(OpenApi)]
#[openapi(
    paths(restore_whole, copy_whole, restore_document, copy_document),
    tags((name = "OneDrive restore", description = "Restoring backed-up OneDrive items to the tenant"))
)]
struct RestoreDoc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    RestoreDoc::openapi()
}

/// Restore to the original location or copy somewhere.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verb {
    Restore,
    Copy,
}

/// Document or folder (paths name which one they expect).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Document,
    Folder,
}

fn require_verb_era(version: ApiVersion) -> Result<(), ApiError> {
    if version.is_verb_era() {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "{} restores OneDrive items through the …/Action endpoints.",
            version.segment()
        )))
    }
}

/// 404 unless `id` is a document/folder (`kind`) of the OneDrive at the session's instant.
async fn check_item(state: &AppState, t: &SessionDrive, id: &str, kind: Option<Kind>) -> Result<(), ApiError> {
    let right_kind = |is_folder: bool| match kind {
        Some(Kind::Document) => !is_folder,
        Some(Kind::Folder) => is_folder,
        None => true,
    };
    match t.visible_item(state, id).await? {
        Some(row) if right_kind(row.state.is_folder) => Ok(()),
        _ => Err(ApiError::not_found(format!("Item {id} was not found in this restore session."))),
    }
}

/// Checks every id of a selection before anything runs (so v8 answers 404 rather than a failed job).
async fn check_selection(
    state: &AppState,
    t: &SessionDrive,
    sel: &Selection,
    kind: Option<Kind>,
) -> Result<(), ApiError> {
    match sel {
        Selection::Whole => Ok(()),
        Selection::Items(ids) => {
            for id in ids {
                check_item(state, t, id, kind).await?;
            }
            Ok(())
        }
        Selection::Version { item_id, version } => {
            check_item(state, t, item_id, Some(Kind::Document)).await?;
            let versions =
                crate::resources::browse_util::numbered_versions(&state.catalog, t.id(), item_id, t.at).await?;
            let n = versions.len() as u32;
            let nf = || ApiError::not_found(format!("Version {version} of document {item_id} was not found."));
            if *version == 0 || *version > n {
                return Err(nf());
            }
            if !t.session.show_all_versions && *version != n {
                return Err(ApiError::not_found(format!(
                    "Version {version} of document {item_id} is not visible: explore with showAllVersions to restore \
                     earlier versions."
                )));
            }
            Ok(())
        }
    }
}

fn document_action(body: &Obj) -> Result<DocumentAction, ApiError> {
    Ok(match body.enum_of("documentAction", &["Overwrite", "Keep"])? {
        Some("Keep") => DocumentAction::Keep,
        _ => DocumentAction::Overwrite,
    })
}

/// `RESTRestoreObject` entries for failed items and items with warnings.
fn issues(s: &RestoreStats) -> Vec<Value> {
    s.items
        .iter()
        .filter(|i| i.status == ItemStatus::Failed || !i.warnings.is_empty())
        .map(|i| {
            json!({
                "path": i.path,
                "title": i.path.rsplit('/').next().unwrap_or(&i.path),
                "type": "Item",
                "warnings": i.warnings,
                "error": i.message.as_deref().filter(|_| i.status == ItemStatus::Failed),
            })
        })
        .collect()
}

/// `RESTItemRestoreStatistics`.
fn statistics_json(s: &RestoreStats) -> Value {
    json!({
        "totalItemsCount": s.items.len(),
        "restoredItemsCount": s.restored,
        "failedItemsCount": s.failed,
        "skippedItemsByErrorCount": 0,
        "skippedItemsByNoChangesCount": s.skipped,
        "failedRestrictionsCount": s.permissions_failed,
        "restoreIssues": issues(s),
    })
}

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

fn repository(state: &AppState) -> Result<repo::store::Repository, ApiError> {
    state.repo.clone().ok_or_else(|| ApiError::internal("This server has no backup repository."))
}

/// Runs restores `works` (all of one organization) the era's way: v8 in the background answering `{sessionId}`,
/// earlier eras in the request answering what `answer` makes of the statistics.
async fn execute(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    session: &RestoreSession,
    body: &Obj,
    works: Vec<Work>,
    answer: Answer,
) -> Result<Response, ApiError> {
    let sign_in = restore_auth::sign_in(state, user, session.organization_id, body).await?;
    if version.is_v8() {
        let op = restore_jobs::start_operation(state, user, session).await?;
        restore_jobs::spawn_job(state, op.id, user, move |sink| async move {
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
        return Ok(Json(json!({ "sessionId": op.id })).into_response());
    }
    // A Stop of the exploring session (from another request, on any node) cuts this restore short.
    let watch = restore_stop::watch(state, session.id, Watch::Request);
    let pending = sign_in.is_pending();
    let client = tokio::select! {
        c = sign_in.complete() => c.map_err(ApiError::bad_request)?,
        _ = watch.token().cancelled() => return Err(crate::ctx::working::stopped_restore_error(version, &RestoreStats::default())),
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
        // A single-OneDrive request reports its error as the HTTP answer; a bulk one per OneDrive.
        let r = match (r, answer) {
            (Err(e), Answer::Single) => return Err(engine_error(e)),
            (r, _) => r.map_err(|e| engine_error(e).message),
        };
        results.push((w, r));
    }
    if watch.is_stopped() {
        return Err(crate::ctx::working::stopped_restore_error(version, &done));
    }
    Ok(match answer {
        Answer::Single => single(&results),
        Answer::Bulk => bulk(&results),
    })
}

/// The v6/v7 answer shape.
#[derive(Clone, Copy)]
enum Answer {
    /// `RESTItemRestoreStatistics` of the one OneDrive.
    Single,
    /// `RESTSharePointBulkRestoreStatistics`.
    Bulk,
}

/// The answer of a single-OneDrive request: its statistics.
fn single(results: &[(Work, Result<RestoreStats, String>)]) -> Response {
    match results.first() {
        Some((_, Ok(s))) => Json(statistics_json(s)).into_response(),
        Some((_, Err(m))) => ApiError::bad_request(m.clone()).into_response(),
        None => Json(statistics_json(&RestoreStats::default())).into_response(),
    }
}

/// The answer of a bulk request: `RESTSharePointBulkRestoreStatistics`.
fn bulk(results: &[(Work, Result<RestoreStats, String>)]) -> Response {
    let mut details = Vec::new();
    let mut worst = 0u8;
    let mut errors = Vec::new();
    for (w, r) in results {
        let (status, error, stats) = match r {
            Ok(s) => {
                let st = restore_jobs::result_of(s);
                (st, None, Some(s))
            }
            Err(m) => {
                errors.push(m.clone());
                (sessions::Outcome::Failed, Some(m.clone()), None)
            }
        };
        worst = worst.max(match status {
            sessions::Outcome::Failed => 2,
            sessions::Outcome::Warning => 1,
            _ => 0,
        });
        details.push(json!({
            "oneDrive": {"id": w.container.to_string()},
            "status": status.as_str(),
            "error": error,
            "details": {
                "failedRestrictionsCount": stats.map_or(0, |s| s.permissions_failed),
                "restoreIssues": stats.map(issues).unwrap_or_default(),
            },
        }));
    }
    let status = ["Success", "Warning", "Failed"][worst as usize];
    let error = if errors.is_empty() { None } else { Some(errors.join(" ")) };
    Json(json!({ "status": status, "details": details, "error": error })).into_response()
}

/// Options of a copyTo body (`oneDrive` defaults to the source OneDrive `source`).
async fn copy_options(
    state: &AppState,
    t: &SessionDrive,
    body: &Obj,
    source: &str,
) -> Result<RestoreOptions, ApiError> {
    // The target OneDrive: a OneDrive of the same organization, by its id in the backup (or the source when omitted).
    let dest = match body.object("oneDrive")? {
        Some(o) => o.required_str("id")?,
        None => source.to_string(),
    };
    let nf = || ApiError::not_found(format!("Target OneDrive {dest} was not found."));
    let dest_id = Uuid::parse_str(dest.trim()).map_err(|_| nf())?;
    let row = state.catalog.container_at(dest_id, t.at).await?.ok_or_else(nf)?;
    let drive_id = match &row.info {
        ContainerInfo::OneDrive(i) if row.organization_id == t.session.organization_id => i.drive_id.clone(),
        _ => return Err(nf()),
    };
    let folder = body.str("folder")?.unwrap_or_default();
    let action = match body.enum_of("documentLastVersionAction", &["Overwrite", "Merge"])? {
        Some("Merge") => LastVersionAction::Merge,
        _ => LastVersionAction::Overwrite,
    };
    let mut opts = RestoreOptions::original(DocumentAction::Overwrite);
    opts.destination = Destination::CopyTo { drive_id, folder, action };
    // The vendor's copyTo `changedItems`: "all versions of OneDrive items will be copied". `false` limits the copy
    // to the last version; what the target folder holds never filters a copy.
    opts.versions = match body.bool("changedItems")?.unwrap_or(true) {
        true => versions(body)?,
        false => VersionMode::Last,
    };
    opts.changed_items = true;
    // `deletedItems`: copy items deleted in the backup (shown by a showDeleted session) or not.
    opts.deleted_items = body.bool("deletedItems")?.unwrap_or(true);
    opts.show_deleted = t.session.show_deleted;
    opts.restore_permissions = body.bool("restorePermissions")?.unwrap_or(false);
    opts.send_shared_links_notification = body.bool("sendSharedLinksNotification")?.unwrap_or(false);
    Ok(opts)
}

fn versions(body: &Obj) -> Result<VersionMode, ApiError> {
    Ok(match body.enum_of("documentVersion", &["Last", "All"])? {
        Some("All") => VersionMode::All,
        _ => VersionMode::Last,
    })
}

async fn options(
    state: &AppState,
    t: &SessionDrive,
    verb: Verb,
    body: &Obj,
    od: &str,
) -> Result<RestoreOptions, ApiError> {
    match verb {
        Verb::Copy => copy_options(state, t, body, od).await,
        Verb::Restore => original_options(body, &t.session),
    }
}

/// Options of a restore to the original location (single OneDrive or bulk): `documentAction`, `documentVersion`,
/// and — beyond the vendor's `RESTRestoreToOriginal`, with the meaning of its SharePoint `restoreChangedItems` /
/// `restoreDeletedItems` — `changedItems` (restore items that still exist with other content, name or folder) and
/// `deletedItems` (restore items gone from the tenant, and items deleted in the backup when the session shows them).
fn original_options(body: &Obj, session: &RestoreSession) -> Result<RestoreOptions, ApiError> {
    let mut o = RestoreOptions::original(document_action(body)?);
    o.versions = versions(body)?;
    o.changed_items = body.bool("changedItems")?.unwrap_or(true);
    o.deleted_items = body.bool("deletedItems")?.unwrap_or(true);
    o.show_deleted = session.show_deleted;
    Ok(o)
}

/// Everything a single-OneDrive endpoint does once its path is parsed.
#[allow(clippy::too_many_arguments)]
async fn one_drive(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    sid: &str,
    od: &str,
    verb: Verb,
    selection: Selection,
    kind: Option<Kind>,
    body: &Obj,
) -> Result<Response, ApiError> {
    let t = drive::load(state, user, version, sid, od, "restored from").await?;
    check_selection(state, &t, &selection, kind).await?;
    let opts = options(state, &t, verb, body, od).await?;
    let work =
        Work { catalog: state.catalog.clone(), repo: repository(state)?, container: t.id(), at: t.at, selection, opts };
    execute(state, user, version, &t.session, body, vec![work], Answer::Single).await
}

fn version_number(v: &str) -> Result<u32, ApiError> {
    v.trim().parse::<u32>().map_err(|_| ApiError::not_found(format!("Version {v} was not found.")))
}

macro_rules! handler {
    ($(#[$meta:meta])* $name:ident, $path:ty, $verb:expr, |$p:ident, $body:ident| $sel:expr, $kind:expr) => {
        $(#[$meta])*
        async fn $name(
            State(state): State<AppState>,
            user: CurrentUser,
            version: ApiVersion,
            Path($p): Path<$path>,
            LenientJson($body): LenientJson,
        ) -> Result<Response, ApiError> {
            require_verb_era(version)?;
            let selection: Selection = $sel;
            one_drive(&state, &user, version, &$p.id, &$p.one_drive_id, $verb, selection, $kind, &$body).await
        }
    };
}

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

handler!(
    /// Restore a whole OneDrive to its original location.
    #[utoipa::path(
        post,
        path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/restore",
        tag = "OneDrive restore",
        description = RESTORE_TO_ORIGINAL,
        params(
            ("version" = String, Path, description = "API version: v6 … v8 (v2–v5: the …/Action form)"),
            ("id" = String, Path, description = "Restore session id (type Veod)"),
            ("oneDriveId" = String, Path, description = "OneDrive id")
        ),
        responses(
            (status = 200, description = "v6/v7: RESTItemRestoreStatistics; v8: {sessionId} of the restore session"),
            (status = 400, description = "Bad body or credentials", body = crate::openapi::RestExceptionInfo),
            (status = 404, description = "Unknown session, OneDrive or item", body = crate::openapi::RestExceptionInfo)
        ),
        security(("bearer" = []))
    )]
    restore_whole,
    DrivePath,
    Verb::Restore,
    |p, body| Selection::Whole,
    None
);
handler!(
    /// Copy a whole OneDrive to a folder.
    #[utoipa::path(
        post,
        path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/copyTo",
        tag = "OneDrive restore",
        description = COPY_TO,
        params(
            ("version" = String, Path, description = "API version: v6 … v8 (v2–v5: the …/Action form)"),
            ("id" = String, Path, description = "Restore session id (type Veod)"),
            ("oneDriveId" = String, Path, description = "OneDrive id")
        ),
        responses(
            (status = 200, description = "v6/v7: RESTItemRestoreStatistics; v8: {sessionId} of the restore session"),
            (status = 400, description = "Bad body or credentials", body = crate::openapi::RestExceptionInfo),
            (status = 404, description = "Unknown session, OneDrive or item", body = crate::openapi::RestExceptionInfo)
        ),
        security(("bearer" = []))
    )]
    copy_whole,
    DrivePath,
    Verb::Copy,
    |p, body| Selection::Whole,
    None
);
handler!(
    restore_documents,
    DrivePath,
    Verb::Restore,
    |p, body| Selection::Items(body.id_list("documents")?),
    Some(Kind::Document)
);
handler!(
    copy_documents,
    DrivePath,
    Verb::Copy,
    |p, body| Selection::Items(body.id_list("documents")?),
    Some(Kind::Document)
);
handler!(
    restore_folders,
    DrivePath,
    Verb::Restore,
    |p, body| Selection::Items(body.id_list("folders")?),
    Some(Kind::Folder)
);
handler!(copy_folders, DrivePath, Verb::Copy, |p, body| Selection::Items(body.id_list("folders")?), Some(Kind::Folder));
handler!(
    /// Restore a document to its original location.
    #[utoipa::path(
        post,
        path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Documents/{documentId}/restore",
        tag = "OneDrive restore",
        description = RESTORE_TO_ORIGINAL,
        params(
            ("version" = String, Path, description = "API version: v6 … v8 (v2–v5: the …/Action form)"),
            ("id" = String, Path, description = "Restore session id (type Veod)"),
            ("oneDriveId" = String, Path, description = "OneDrive id"),
            ("documentId" = String, Path, description = "Document id")
        ),
        responses(
            (status = 200, description = "v6/v7: RESTItemRestoreStatistics; v8: {sessionId} of the restore session"),
            (status = 400, description = "Bad body or credentials", body = crate::openapi::RestExceptionInfo),
            (status = 404, description = "Unknown session, OneDrive or item", body = crate::openapi::RestExceptionInfo)
        ),
        security(("bearer" = []))
    )]
    restore_document,
    DriveItemPath,
    Verb::Restore,
    |p, body| Selection::Items(vec![p.item_id.clone()]),
    Some(Kind::Document)
);
handler!(
    /// Copy a document to a folder.
    #[utoipa::path(
        post,
        path = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Documents/{documentId}/copyTo",
        tag = "OneDrive restore",
        description = COPY_TO,
        params(
            ("version" = String, Path, description = "API version: v6 … v8 (v2–v5: the …/Action form)"),
            ("id" = String, Path, description = "Restore session id (type Veod)"),
            ("oneDriveId" = String, Path, description = "OneDrive id"),
            ("documentId" = String, Path, description = "Document id")
        ),
        responses(
            (status = 200, description = "v6/v7: RESTItemRestoreStatistics; v8: {sessionId} of the restore session"),
            (status = 400, description = "Bad body or credentials", body = crate::openapi::RestExceptionInfo),
            (status = 404, description = "Unknown session, OneDrive or item", body = crate::openapi::RestExceptionInfo)
        ),
        security(("bearer" = []))
    )]
    copy_document,
    DriveItemPath,
    Verb::Copy,
    |p, body| Selection::Items(vec![p.item_id.clone()]),
    Some(Kind::Document)
);
handler!(
    restore_folder,
    DriveItemPath,
    Verb::Restore,
    |p, body| Selection::Items(vec![p.item_id.clone()]),
    Some(Kind::Folder)
);
handler!(
    copy_folder,
    DriveItemPath,
    Verb::Copy,
    |p, body| Selection::Items(vec![p.item_id.clone()]),
    Some(Kind::Folder)
);
handler!(
    restore_doc_version,
    DriveVersionPath,
    Verb::Restore,
    |p, body| Selection::Version { item_id: p.item_id.clone(), version: version_number(&p.version_id)? },
    Some(Kind::Document)
);
handler!(
    copy_doc_version,
    DriveVersionPath,
    Verb::Copy,
    |p, body| Selection::Version { item_id: p.item_id.clone(), version: version_number(&p.version_id)? },
    Some(Kind::Document)
);
handler!(restore_folder_version, DriveVersionPath, Verb::Restore, |p, body| folder_version(&p)?, Some(Kind::Folder));
handler!(copy_folder_version, DriveVersionPath, Verb::Copy, |p, body| folder_version(&p)?, Some(Kind::Folder));

/// A folder's only version is the folder itself.
fn folder_version(p: &DriveVersionPath) -> Result<Selection, ApiError> {
    if version_number(&p.version_id)? != FOLDER_VERSION_ID {
        return Err(ApiError::not_found(format!("Version {} of folder {} was not found.", p.version_id, p.item_id)));
    }
    Ok(Selection::Items(vec![p.item_id.clone()]))
}

/// `POST …/OneDrives/restore` (`RESTBulkRestoreConfig`): whole OneDrives back to their original location.
/// `skipUnresolved` leaves out OneDrives that are not in the session instead of answering 404.
async fn bulk_restore(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<SessionPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    require_verb_era(version)?;
    restore_onedrives(&state, &user, version, &p.id, &body).await
}

/// `POST …/OneDrives/Action` (v2–v5): the bulk restore of whole OneDrives to their original location. The v5 docs
/// wrap the options in `restoreToOriginalLocation`; the v2/v3 docs send them at the top level (`OfficeUsername`,
/// `OfficePassword`, `OneDrives`, …). Both are accepted.
async fn bulk_action(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<SessionPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    if !version.is_action_era() {
        return Err(ApiError::not_found(format!(
            "{} restores several OneDrives with POST …/OneDrives/restore.",
            version.segment()
        )));
    }
    if body.get("oneDrives").is_some() && body.get("restoreToOriginalLocation").is_none() {
        return restore_onedrives(&state, &user, version, &p.id, &body).await;
    }
    let (_, opts) = body.action(&["restoreToOriginalLocation"])?;
    restore_onedrives(&state, &user, version, &p.id, &opts).await
}

/// Restores the whole OneDrives listed in `oneDrives` (`RESTBulkRestoreConfig`) to their original location.
async fn restore_onedrives(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    sid: &str,
    body: &Obj,
) -> Result<Response, ApiError> {
    let s = drive::veod_session(state, user, version, sid, "restored from").await?;
    let at = s.browse_at.ok_or_else(|| ApiError::not_found("This restore session shows no backup."))?;
    let drives = body.objects("oneDrives")?.unwrap_or_default();
    if drives.is_empty() {
        return Err(ApiError::bad_request("Specify at least one OneDrive in 'oneDrives'."));
    }
    let skip_unresolved = body.bool("skipUnresolved")?.unwrap_or(false);
    let opts = original_options(body, &s)?;
    let repo = repository(state)?;
    let mut works = Vec::new();
    for d in drives {
        let id = d.required_str("id")?;
        let container = match drive::of_session(state, &s, &id).await.map(|d| d.id()) {
            Ok(c) => c,
            Err(_) if skip_unresolved => continue,
            Err(e) => return Err(e),
        };
        works.push(Work {
            catalog: state.catalog.clone(),
            repo: repo.clone(),
            container,
            at,
            selection: Selection::Whole,
            opts: opts.clone(),
        });
    }
    execute(state, user, version, &s, body, works, Answer::Bulk).await
}

/// `POST …/organization/restoreDeviceCode` (v5–v8).
async fn device_code(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<SessionPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    if version.number() < 5 {
        return Err(ApiError::not_found(format!("{} has no restoreDeviceCode endpoint.", version.segment())));
    }
    let s = crate::ctx::working::session(&state, &user, &p.id, version).await?;
    let answer = restore_auth::request_device_code(&state, &user, s.organization_id, &body).await?;
    Ok(Json(answer).into_response())
}

/// The v2–v5 `restoreToOriginalLocation` and `copyTo` actions, for the `…/Action` dispatcher of
/// `resources::actions`: `action` is the recognised action name, `opts` the content of the action's property
/// (`{userName, userPassword, DocumentVersion, DocumentAction}` / `{…, OneDrive: {id}, Folder,
/// DocumentLastVersionAction}`); `documents[]` / `folders[]` for the bulk scopes are read from `opts`. Answers 200 with
/// the statistics, like v6/v7.
#[allow(clippy::too_many_arguments)]
pub async fn onedrive_action(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    sid: &str,
    od_id: &str,
    action: &str,
    scope: &crate::resources::scope::Scope,
    opts: &Obj,
) -> Result<Response, ApiError> {
    use crate::resources::scope::Scope;
    if !version.is_action_era() {
        return Err(ApiError::not_found(format!("{} has no …/Action endpoints.", version.segment())));
    }
    let (selection, kind) = match scope {
        Scope::OneDrive => (Selection::Whole, None),
        Scope::Documents => (Selection::Items(opts.id_list("documents")?), Some(Kind::Document)),
        Scope::Folders => (Selection::Items(opts.id_list("folders")?), Some(Kind::Folder)),
        Scope::Document(id) => (Selection::Items(vec![id.clone()]), Some(Kind::Document)),
        Scope::Folder(id) => (Selection::Items(vec![id.clone()]), Some(Kind::Folder)),
    };
    let verb = if action.eq_ignore_ascii_case("copyTo") { Verb::Copy } else { Verb::Restore };
    one_drive(state, user, version, sid, od_id, verb, selection, kind, opts).await
}

#[cfg(test)]
mod tests {
    use super::*;
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

    #[test]
    fn issues_follow_rest_restore_object() {
        let mut s = RestoreStats::default();
        s.items.push(engine::restore::ItemOutcome {
            item_id: "01X".into(),
            path: "a/b.txt".into(),
            status: ItemStatus::Failed,
            target_item_id: None,
            target_name: None,
            versions_written: 0,
            message: Some("boom".into()),
            warnings: vec![],
        });
        let v = statistics_json(&s);
        assert_eq!(
            v["restoreIssues"][0],
            json!({"path": "a/b.txt", "title": "b.txt", "type": "Item", "warnings": [], "error": "boom"})
        );
    }
}
