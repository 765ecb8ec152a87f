//! A OneDrive as a Veod restore session sees it: the session (working, the caller's, of type Veod), its instant and
//! the OneDrive's catalog row at that instant. Browse, save, send and restore all start from here, so a OneDrive a
//! session may not show is a 404 the same way everywhere.

use chrono::{DateTime, Utc};
use repo::catalog::{ContainerKind, ContainerRow, ItemRow};
use uuid::Uuid;

use crate::ctx::auth::CurrentUser;
use crate::edge::error::ApiError;
use crate::edge::version::ApiVersion;
use crate::state::AppState;
use crate::store::sessions::{self, RestoreSession, SessionKind};

/// See the [module docs](self).
pub struct SessionDrive {
    pub session: RestoreSession,
    /// The session's instant.
    pub at: DateTime<Utc>,
    /// The OneDrive's catalog row at `at`.
    pub row: ContainerRow,
}

/// 404 for a OneDrive the session does not have.
pub fn not_found(od_id: &str) -> ApiError {
    ApiError::not_found(format!("OneDrive {od_id} was not found in this restore session."))
}

/// The caller's working session `sid`, which must be a OneDrive session; `doing` completes "OneDrive items are …
/// restore sessions of type Veod" (e.g. "browsed in", "sent from") for a session of another type.
pub async fn veod_session(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    sid: &str,
    doing: &str,
) -> Result<RestoreSession, ApiError> {
    let session = sessions::require_working_v(state, user, sid, version).await?;
    if session.kind != SessionKind::Veod {
        return Err(ApiError::not_found(format!(
            "Restore session {} is of type {}; OneDrive items are {doing} restore sessions of type Veod.",
            session.id,
            session.kind.as_str()
        )));
    }
    Ok(session)
}

/// OneDrive `od_id` of session `sid`: 404 when it is unknown, of another organization, not a OneDrive, deleted
/// without `showDeleted`, or the session is empty.
pub async fn load(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    sid: &str,
    od_id: &str,
    doing: &str,
) -> Result<SessionDrive, ApiError> {
    let session = veod_session(state, user, version, sid, doing).await?;
    of_session(state, &session, od_id).await
}

/// OneDrive `od_id` of an already loaded Veod `session` (same rules as [`load`]).
pub async fn of_session(state: &AppState, session: &RestoreSession, od_id: &str) -> Result<SessionDrive, ApiError> {
    let at = session.browse_at.ok_or_else(|| not_found(od_id))?;
    let uuid = Uuid::parse_str(od_id.trim()).map_err(|_| not_found(od_id))?;
    let row = state.catalog.container_at(uuid, at).await?.ok_or_else(|| not_found(od_id))?;
    if row.organization_id != session.organization_id
        || row.info.kind() != ContainerKind::OneDrive
        || (row.deleted && !session.show_deleted)
    {
        return Err(not_found(od_id));
    }
    Ok(SessionDrive { session: session.clone(), at, row })
}

impl SessionDrive {
    /// The OneDrive's catalog id.
    pub fn id(&self) -> Uuid {
        self.row.id
    }

    /// The OneDrive's display name: its title, or its id when it has none.
    pub fn name(&self) -> String {
        match self.row.info.title() {
            "" => self.row.id.to_string(),
            t => t.to_string(),
        }
    }

    /// Item `item_id` as the session shows it: it existed at `at`, and is not deleted unless `showDeleted`.
    pub async fn visible_item(&self, state: &AppState, item_id: &str) -> Result<Option<ItemRow>, ApiError> {
        let row = state.catalog.item_at(self.row.id, item_id.trim(), self.at).await?;
        Ok(row.filter(|r| !r.deleted || self.session.show_deleted))
    }

    /// The visible document (`folder` false) or folder `item_id`; 404 naming it otherwise.
    pub async fn item(&self, state: &AppState, item_id: &str, folder: bool) -> Result<ItemRow, ApiError> {
        match self.visible_item(state, item_id).await? {
            Some(r) if r.state.is_folder == folder => Ok(r),
            _ => Err(ApiError::not_found(format!(
                "{} {item_id} was not found in OneDrive {}.",
                if folder { "Folder" } else { "Document" },
                self.row.id
            ))),
        }
    }
}
