//! OneDrive restore to the original location and copyTo (veeam-api-notes §8), **v6/v7 synchronous** form: the
//! request runs the restore and answers 200 with `RESTItemRestoreStatistics`.
//!
//! Paths under `/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}`:
//!
//! | path | body |
//! |---|---|
//! | `/restore` | `RESTRestoreToOriginal` (whole OneDrive) |
//! | `/Documents/restore` | `RESTRestoreToOriginalDocuments` (`documents[].id`) |
//! | `/Documents/{documentId}/restore` | `RESTRestoreToOriginal` |
//! | `/Folders/restore` | `RESTRestoreToOriginalFolders` (`folders[].id`) |
//! | `/Folders/{folderId}/restore` | `RESTRestoreToOriginal` |
//! | `/Documents/{documentId}/copyTo` | `RESTCopyToDocument` (`oneDrive`, `folder`, `documentVersion`, `documentLastVersionAction`) |
//! | `/Folders/{folderId}/copyTo` | `RESTCopyToFolder` (+ `changedItems`, `deletedItems`, `restorePermissions`, `sendSharedLinksNotification`) |
//!
//! Not served yet: v8 (asynchronous `{sessionId}` answer with a restore-operation session): these paths answer 404
//! naming the version in v8 and v2–v5. v2–v5 belong to the `…/Action` dispatcher of [`crate::routes::save`]; [`onedrive_action`] is
//! the handler it is to call for `restoreToOriginalLocation` and `copyTo` (not wired by that module yet).
//!
//! Credentials: `userName` + `userPassword` (resource owner password sign-in of the given account), or
//! `applicationId` + `applicationCertificate` (base64 PFX) + `applicationCertificatePassword` (client assertion
//! signed with the PFX's key); `userCode` answers 400 "not supported yet". Wrong credentials answer 400 before
//! anything is written. They are used for this request only, in memory, never logged or stored.
//!
//! Where the tenant is: [`RestoreAccess`] in [`AppState::shared`] (Microsoft's cloud and the organization's
//! `config.applicationId` by default; tests point it at the emulator with [`set_access`]).
//!
//! Statistics: `restoredItemsCount`, `failedItemsCount`, `skippedItemsByNoChangesCount` (unchanged or filtered
//! out), `skippedItemsByErrorCount` (0), `failedRestrictionsCount` (sharing not re-created), `totalItemsCount`,
//! `restoreIssues` (`{itemId, path, message}` per failed
//! item).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use engine::restore::{
    restore_onedrive, Destination, DocumentAction, ItemStatus, LastVersionAction, RestoreError, RestoreOptions,
    RestoreStats, Selection, VersionMode,
};
use m365::{Credential, Endpoints, GraphClient, Resource, TenantConfig};
use repo::catalog::{ContainerInfo, ContainerKind};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::OpenApi;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::dialect::{LenientJson, Obj};
use crate::error::ApiError;
use crate::sessions::{self, SessionKind};
use crate::state::AppState;
use crate::version::ApiVersion;

/// No literals beyond the vendor's.
pub const SEGMENTS: &[&str] = &[];

const BASE: &str = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}";

/// How restores reach the tenant.
#[derive(Debug, Clone)]
pub struct RestoreAccess {
    /// Authority and Graph endpoints.
    pub endpoints: Endpoints,
    /// Client id used for password sign-in when the organization's config has no `applicationId`.
    pub client_id: Option<String>,
}

impl Default for RestoreAccess {
    fn default() -> Self {
        RestoreAccess { endpoints: Endpoints::microsoft(), client_id: None }
    }
}

/// Sets how restores reach the tenant (call before the first restore).
pub fn set_access(state: &AppState, access: RestoreAccess) {
    let cell = state.shared.get_or_insert_with(|| parking_lot_free::Cell::new(RestoreAccess::default()));
    cell.set(access);
}

fn access(state: &AppState) -> RestoreAccess {
    state.shared.get_or_insert_with(|| parking_lot_free::Cell::new(RestoreAccess::default())).get()
}

/// A replaceable shared value (std only).
mod parking_lot_free {
    use std::sync::Mutex;

    pub struct Cell<T>(Mutex<T>);

    impl<T: Clone> Cell<T> {
        pub fn new(v: T) -> Self {
            Cell(Mutex::new(v))
        }
        pub fn set(&self, v: T) {
            *self.0.lock().unwrap_or_else(|p| p.into_inner()) = v;
        }
        pub fn get(&self) -> T {
            self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(&format!("{BASE}/restore"), post(restore_onedrive_all))
        .route(&format!("{BASE}/Documents/restore"), post(restore_documents))
        .route(&format!("{BASE}/Documents/{{documentId}}/restore"), post(restore_item))
        .route(&format!("{BASE}/Folders/restore"), post(restore_folders))
        .route(&format!("{BASE}/Folders/{{folderId}}/restore"), post(restore_item))
        .route(&format!("{BASE}/Documents/{{documentId}}/copyTo"), post(copy_item))
        .route(&format!("{BASE}/Folders/{{folderId}}/copyTo"), post(copy_item))
}

#[derive(OpenApi)]
#[openapi()]
struct RestoreDoc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    RestoreDoc::openapi()
}

#[derive(Deserialize)]
struct DrivePath {
    id: String,
    #[serde(rename = "oneDriveId")]
    one_drive_id: String,
}

#[derive(Deserialize)]
struct ItemPath {
    id: String,
    #[serde(rename = "oneDriveId")]
    one_drive_id: String,
    #[serde(alias = "documentId", alias = "folderId")]
    item_id: String,
}

/// What a request resolved to.
struct Target {
    org: Uuid,
    container: Uuid,
    at: chrono::DateTime<chrono::Utc>,
}

fn require_sync_era(version: ApiVersion) -> Result<(), ApiError> {
    if matches!(version.number(), 6 | 7) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "Restore to the tenant is not available in {} of this server (served in v6 and v7, and in v2-v5 through \
             the …/Action endpoints).",
            version.segment()
        )))
    }
}

async fn target(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    sid: &str,
    od: &str,
) -> Result<Target, ApiError> {
    let s = sessions::require_working_v(state, user, sid, version).await?;
    if s.kind != SessionKind::Veod {
        return Err(ApiError::not_found(format!(
            "Restore session {} is of type {}; OneDrives are restored from restore sessions of type Veod.",
            s.id,
            s.kind.as_str()
        )));
    }
    let nf = || ApiError::not_found(format!("OneDrive {od} was not found in this restore session."));
    let at = s.browse_at.ok_or_else(nf)?;
    let container = Uuid::parse_str(od.trim()).map_err(|_| nf())?;
    let row = state.catalog.container_at(container, at).await?.ok_or_else(nf)?;
    if row.organization_id != s.organization_id
        || row.info.kind() != ContainerKind::OneDrive
        || (row.deleted && !s.show_deleted)
    {
        return Err(nf());
    }
    Ok(Target { org: s.organization_id, container, at })
}

/// A Graph client signed in with the request's credentials (never logged or kept).
async fn client_for(state: &AppState, org: Uuid, body: &Obj) -> Result<GraphClient, ApiError> {
    if body.str("userCode")?.is_some_and(|c| !c.is_empty()) {
        return Err(ApiError::bad_request(
            "This server restores with userName and userPassword or with applicationId and applicationCertificate; \
             userCode is not supported yet.",
        ));
    }
    let (client_id, credential) = match body.str("applicationCertificate")?.filter(|c| !c.trim().is_empty()) {
        Some(pfx) => {
            let app = body
                .str("applicationId")?
                .filter(|a| !a.trim().is_empty())
                .ok_or_else(|| ApiError::bad_request("Specify applicationId together with applicationCertificate."))?;
            let password = body.str("applicationCertificatePassword")?.unwrap_or_default();
            (Some(app.trim().to_string()), certificate_credential(&pfx, &password)?)
        }
        None => {
            let user = body.str("userName")?.filter(|u| !u.is_empty());
            let password = body.str("userPassword")?;
            let (Some(username), Some(password)) = (user, password) else {
                return Err(ApiError::bad_request(
                    "Specify userName and userPassword of an account of the organization, or applicationId and \
                     applicationCertificate.",
                ));
            };
            (None, Credential::Password { username, password })
        }
    };
    let org = state
        .catalog
        .organization(org)
        .await?
        .ok_or_else(|| ApiError::not_found("The organization of this restore session no longer exists."))?;
    let acc = access(state);
    let client_id = client_id
        .or_else(|| org.config.get("applicationId").and_then(Value::as_str).map(str::to_string))
        .or(acc.client_id)
        .ok_or_else(|| ApiError::bad_request("The organization has no application id configured for restores."))?;
    let cfg = TenantConfig { endpoints: acc.endpoints, tenant: org.tenant_id.clone(), client_id, credential };
    let client = GraphClient::new(cfg, 4).map_err(|e| ApiError::internal(format!("Graph client: {e}")))?;
    // Sign in now, so wrong credentials fail the request instead of every item.
    if client.tokens().token(&Resource::Graph).await.is_err() {
        return Err(ApiError::bad_request(
            "Sign-in failed: the organization did not accept userName and userPassword.",
        ));
    }
    Ok(client)
}

/// The key and certificate of a base64 PKCS#12 (PFX) archive.
fn certificate_credential(pfx_b64: &str, password: &str) -> Result<Credential, ApiError> {
    use base64::Engine;
    let bad = || ApiError::bad_request("applicationCertificate must be a base64 PFX with its password.");
    let compact: String = pfx_b64.chars().filter(|c| !c.is_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()).map_err(|_| bad())?;
    let store = p12_keystore::KeyStore::from_pkcs12(&der, password, p12_keystore::Pkcs12ImportPolicy::Relaxed)
        .map_err(|_| bad())?;
    let (_, chain) = store.private_key_chain().ok_or_else(bad)?;
    let cert = chain.certs().first().ok_or_else(bad)?;
    Ok(Credential::Certificate {
        key_pkcs8_der: chain.key().as_der().to_vec(),
        cert_der: cert.as_der().to_vec(),
        pss: false,
    })
}

fn document_action(body: &Obj) -> Result<DocumentAction, ApiError> {
    Ok(match body.enum_of("documentAction", &["Overwrite", "Keep"])? {
        Some("Keep") => DocumentAction::Keep,
        _ => DocumentAction::Overwrite,
    })
}

fn statistics(s: &RestoreStats) -> Response {
    let issues: Vec<Value> = s
        .items
        .iter()
        .filter(|i| i.status == ItemStatus::Failed)
        .map(|i| json!({"itemId": i.item_id, "path": i.path, "message": i.message}))
        .collect();
    Json(json!({
        "totalItemsCount": s.items.len(),
        "restoredItemsCount": s.restored,
        "failedItemsCount": s.failed,
        "skippedItemsByErrorCount": 0,
        "skippedItemsByNoChangesCount": s.skipped,
        "failedRestrictionsCount": s.permissions_failed,
        "restoreIssues": issues,
    }))
    .into_response()
}

async fn run(
    state: &AppState,
    t: &Target,
    body: &Obj,
    selection: Selection,
    opts: RestoreOptions,
) -> Result<Response, ApiError> {
    let repo = state.repo.as_ref().ok_or_else(|| ApiError::internal("This server has no backup repository."))?;
    let client = client_for(state, t.org, body).await?;
    match restore_onedrive(&state.catalog, repo, &client, t.container, t.at, &selection, &opts).await {
        Ok(stats) => Ok(statistics(&stats)),
        Err(RestoreError::UnknownItem(id)) => {
            Err(ApiError::not_found(format!("Item {id} was not found in this restore session.")))
        }
        Err(RestoreError::UnknownOneDrive(_)) => {
            Err(ApiError::not_found("OneDrive not found in this restore session."))
        }
        Err(RestoreError::Target(e)) => Err(ApiError::bad_request(format!("The target OneDrive cannot be used: {e}"))),
        Err(RestoreError::Catalog(e)) => Err(e.into()),
    }
}

fn ids(body: &Obj, field: &str) -> Result<Vec<String>, ApiError> {
    let list = body.objects(field)?.unwrap_or_default();
    let mut out = Vec::new();
    for o in list {
        out.push(o.required_str("id")?);
    }
    if out.is_empty() {
        return Err(ApiError::bad_request(format!("Specify at least one item in {field}.")));
    }
    Ok(out)
}

async fn restore_onedrive_all(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DrivePath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    require_sync_era(version)?;
    let t = target(&state, &user, version, &p.id, &p.one_drive_id).await?;
    let opts = RestoreOptions::original(document_action(&body)?);
    run(&state, &t, &body, Selection::Whole, opts).await
}

async fn restore_documents(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DrivePath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    require_sync_era(version)?;
    let t = target(&state, &user, version, &p.id, &p.one_drive_id).await?;
    let opts = RestoreOptions::original(document_action(&body)?);
    run(&state, &t, &body, Selection::Items(ids(&body, "documents")?), opts).await
}

async fn restore_folders(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<DrivePath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    require_sync_era(version)?;
    let t = target(&state, &user, version, &p.id, &p.one_drive_id).await?;
    let opts = RestoreOptions::original(document_action(&body)?);
    run(&state, &t, &body, Selection::Items(ids(&body, "folders")?), opts).await
}

async fn restore_item(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<ItemPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    require_sync_era(version)?;
    let t = target(&state, &user, version, &p.id, &p.one_drive_id).await?;
    let opts = RestoreOptions::original(document_action(&body)?);
    run(&state, &t, &body, Selection::Items(vec![p.item_id]), opts).await
}

async fn copy_item(
    State(state): State<AppState>,
    user: CurrentUser,
    version: ApiVersion,
    Path(p): Path<ItemPath>,
    LenientJson(body): LenientJson,
) -> Result<Response, ApiError> {
    require_sync_era(version)?;
    let t = target(&state, &user, version, &p.id, &p.one_drive_id).await?;
    let opts = copy_options(&state, &t, &body, &p.one_drive_id).await?;
    run(&state, &t, &body, Selection::Items(vec![p.item_id]), opts).await
}

/// Options of a copyTo body (`oneDrive` defaults to the source OneDrive `source`).
async fn copy_options(state: &AppState, t: &Target, body: &Obj, source: &str) -> Result<RestoreOptions, ApiError> {
    // The target OneDrive: a OneDrive of the same organization, by its id in the backup (or the source when omitted).
    let dest = match body.object("oneDrive")? {
        Some(o) => o.required_str("id")?,
        None => source.to_string(),
    };
    let nf = || ApiError::not_found(format!("Target OneDrive {dest} was not found."));
    let dest_id = Uuid::parse_str(dest.trim()).map_err(|_| nf())?;
    let row = state.catalog.container_at(dest_id, t.at).await?.ok_or_else(nf)?;
    let drive_id = match &row.info {
        ContainerInfo::OneDrive(i) if row.organization_id == t.org => i.drive_id.clone(),
        _ => return Err(nf()),
    };
    let folder = body.str("folder")?.unwrap_or_default();
    let action = match body.enum_of("documentLastVersionAction", &["Overwrite", "Merge"])? {
        Some("Merge") => LastVersionAction::Merge,
        _ => LastVersionAction::Overwrite,
    };
    let versions = match body.enum_of("documentVersion", &["Last", "All"])? {
        Some("All") => VersionMode::All,
        _ => VersionMode::Last,
    };
    let mut opts = RestoreOptions::original(DocumentAction::Overwrite);
    opts.destination = Destination::CopyTo { drive_id, folder, action };
    opts.versions = versions;
    opts.changed_items = body.bool("changedItems")?.unwrap_or(true);
    opts.deleted_items = body.bool("deletedItems")?.unwrap_or(true);
    opts.restore_permissions = body.bool("restorePermissions")?.unwrap_or(false);
    opts.send_shared_links_notification = body.bool("sendSharedLinksNotification")?.unwrap_or(false);
    Ok(opts)
}

/// The v2–v5 `restoreToOriginalLocation` and `copyTo` actions, for the `…/Action` dispatcher of
/// [`crate::routes::save`]: `action` is the recognised action name, `opts` the content of the action's property
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
    scope: &crate::routes::save::Scope,
    opts: &Obj,
) -> Result<Response, ApiError> {
    use crate::routes::save::Scope;
    if !version.is_action_era() {
        return Err(ApiError::not_found(format!("{} has no …/Action endpoints.", version.segment())));
    }
    let t = target(state, user, version, sid, od_id).await?;
    let selection = match scope {
        Scope::OneDrive => Selection::Whole,
        Scope::Documents => Selection::Items(ids(opts, "documents")?),
        Scope::Folders => Selection::Items(ids(opts, "folders")?),
        Scope::Document(id) | Scope::Folder(id) => Selection::Items(vec![id.clone()]),
    };
    let mut ro = if action.eq_ignore_ascii_case("copyTo") {
        copy_options(state, &t, opts, od_id).await?
    } else {
        RestoreOptions::original(document_action(opts)?)
    };
    if opts.enum_of("documentVersion", &["Last", "All"])? == Some("All") {
        ro.versions = VersionMode::All;
    }
    run(state, &t, opts, selection, ro).await
}

#[cfg(test)]
mod tests {
    use crate::paths::canonical_route;

    #[test]
    fn routes_are_canonical() {
        for p in [
            "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/restore",
            "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Documents/restore",
            "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/Folders/{folderId}/copyTo",
        ] {
            assert_eq!(canonical_route(p), p);
        }
    }
}
