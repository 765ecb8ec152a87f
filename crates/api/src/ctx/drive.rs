//! A OneDrive as a Veod restore session sees it: the session (working, the caller's, of type Veod), its instant and
//! the OneDrive's catalog row at that instant. Browse, search, save, send and restore all start from here, so a
//! OneDrive a session may not show is a 404 the same way everywhere.
//!
//! Handlers take the extractors: [`DriveCtx`] for routes under `…/OneDrives/{oneDriveId}`, [`VeodSession`] for
//! routes on the session's OneDrives as a whole. Both load and authorise everything before the handler runs: bearer
//! → caller, path → working session of the caller (404 unknown/foreign, 500/409 stopped), type Veod (404 naming the
//! type otherwise), and for [`DriveCtx`] the OneDrive at the session's instant (404 as [`of_session`] says).

use std::ops::Deref;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use repo::catalog::{ContainerKind, ContainerRow, ItemRow};
use serde::Deserialize;
use uuid::Uuid;

use crate::ctx::auth::CurrentUser;
use crate::edge::error::ApiError;
use crate::edge::paging::Hrefs;
use crate::edge::version::ApiVersion;
use crate::state::AppState;
use crate::store::sessions::{RestoreSession, SessionKind};

/// What a request does with OneDrive items; it completes the 404 for a session of another type ("OneDrive items
/// are saved from restore sessions of type Veod").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Browse,
    Search,
    Save,
    Send,
    Restore,
}

impl Purpose {
    /// The words of the 404 for a session of another type.
    pub fn doing(self) -> &'static str {
        match self {
            Purpose::Browse => "browsed in",
            Purpose::Search => "searched in",
            Purpose::Save => "saved from",
            Purpose::Send => "sent from",
            Purpose::Restore => "restored from",
        }
    }

    /// The purpose of a canonical request path, from its verb segment (`…/save`, `…/send`, `…/restore`, `…/copyTo`,
    /// `…/restoreTo`, `…/search`); browsing otherwise. The v2–v5 `…/Action` routes learn theirs from the body and
    /// load with [`DriveCtx::load`].
    pub fn of_path(path: &str) -> Purpose {
        match path.rsplit('/').next().unwrap_or("") {
            "save" => Purpose::Save,
            "send" => Purpose::Send,
            "restore" | "copyTo" | "restoreTo" => Purpose::Restore,
            "search" => Purpose::Search,
            _ => Purpose::Browse,
        }
    }
}

/// The path parameters the contexts read; the handler reads the rest of its path itself.
#[derive(Deserialize)]
struct Ids {
    id: String,
    #[serde(rename = "oneDriveId")]
    one_drive_id: Option<String>,
}

/// The caller, the request's hrefs (and so its era) and its working Veod session: the context of the routes on a
/// session's OneDrives as a whole (`…/OneDrives`, `…/OneDrives/search`).
pub struct VeodSession {
    pub user: CurrentUser,
    pub hrefs: Hrefs,
    pub session: RestoreSession,
}

impl VeodSession {
    /// Loads session `sid` for the caller: see the [module docs](self).
    pub async fn load(
        state: &AppState,
        user: CurrentUser,
        hrefs: Hrefs,
        sid: &str,
        purpose: Purpose,
    ) -> Result<VeodSession, ApiError> {
        let session = veod_session(state, &user, sid, purpose.doing()).await?;
        Ok(VeodSession { user, hrefs, session })
    }

    /// The request's API version.
    pub fn era(&self) -> ApiVersion {
        self.hrefs.version()
    }
}

/// The request parts every context reads: caller, hrefs, ids, purpose.
async fn request_parts(parts: &mut Parts, state: &AppState) -> Result<(CurrentUser, Hrefs, Ids, Purpose), Response> {
    let user = CurrentUser::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
    let hrefs = Hrefs::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
    let Path(ids) = Path::<Ids>::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
    Ok((user, hrefs, ids, Purpose::of_path(parts.uri.path())))
}

impl FromRequestParts<AppState> for VeodSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let (user, hrefs, ids, purpose) = request_parts(parts, state).await?;
        VeodSession::load(state, user, hrefs, &ids.id, purpose).await.map_err(IntoResponse::into_response)
    }
}

/// One OneDrive of the caller's working Veod session, with the request's hrefs: the context of every route under
/// `…/OneDrives/{oneDriveId}`. Derefs to the [`SessionDrive`] (session, instant, catalog row).
pub struct DriveCtx {
    pub user: CurrentUser,
    pub hrefs: Hrefs,
    pub drive: SessionDrive,
}

impl DriveCtx {
    /// Loads OneDrive `od_id` of session `sid` for the caller: see the [module docs](self).
    pub async fn load(
        state: &AppState,
        user: CurrentUser,
        hrefs: Hrefs,
        sid: &str,
        od_id: &str,
        purpose: Purpose,
    ) -> Result<DriveCtx, ApiError> {
        let s = VeodSession::load(state, user, hrefs, sid, purpose).await?;
        s.drive(state, od_id).await
    }

    /// The request's API version.
    pub fn era(&self) -> ApiVersion {
        self.hrefs.version()
    }
}

impl VeodSession {
    /// OneDrive `od_id` of this session, as a [`DriveCtx`].
    pub async fn drive(self, state: &AppState, od_id: &str) -> Result<DriveCtx, ApiError> {
        let drive = of_session(state, &self.session, od_id).await?;
        Ok(DriveCtx { user: self.user, hrefs: self.hrefs, drive })
    }

    /// A OneDrive row already loaded for this session (a search result's), as a [`DriveCtx`].
    pub fn with_row(&self, at: DateTime<Utc>, row: ContainerRow) -> DriveCtx {
        let drive = SessionDrive { session: self.session.clone(), at, row };
        DriveCtx { user: self.user.clone(), hrefs: self.hrefs.clone(), drive }
    }
}

impl Deref for DriveCtx {
    type Target = SessionDrive;

    fn deref(&self) -> &SessionDrive {
        &self.drive
    }
}

impl FromRequestParts<AppState> for DriveCtx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let (user, hrefs, ids, purpose) = request_parts(parts, state).await?;
        let od_id = ids.one_drive_id.ok_or_else(|| ApiError::internal("route without {oneDriveId}").into_response())?;
        DriveCtx::load(state, user, hrefs, &ids.id, &od_id, purpose).await.map_err(IntoResponse::into_response)
    }
}

/// A OneDrive of a loaded Veod session: see the [module docs](self).
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
    sid: &str,
    doing: &str,
) -> Result<RestoreSession, ApiError> {
    let session = crate::ctx::working::session(state, user, sid).await?;
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
    sid: &str,
    od_id: &str,
    doing: &str,
) -> Result<SessionDrive, ApiError> {
    let session = veod_session(state, user, sid, doing).await?;
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
