//! A SharePoint site as a Vesp restore session sees it: the session (working, the caller's, of type Vesp), its
//! instant, the site's catalog row and its lists and libraries at that instant. Save, send and restore all start
//! from here.

use chrono::{DateTime, Utc};
use repo::catalog::{ContainerInfo, ContainerKind, ContainerQuery, ListInfo, SiteInfo};
use uuid::Uuid;

use crate::ctx::auth::CurrentUser;
use crate::edge::error::ApiError;
use crate::edge::version::ApiVersion;
use crate::state::AppState;
use crate::store::sessions::{RestoreSession, SessionKind};

/// See the [module docs](self).
pub struct SessionSite {
    pub session: RestoreSession,
    /// The session's instant.
    pub at: DateTime<Utc>,
    /// The site's catalog id.
    pub id: Uuid,
    pub info: SiteInfo,
    /// Lists and libraries: (catalog id, info); deleted ones only when the session shows deleted items.
    pub lists: Vec<(Uuid, ListInfo)>,
}

/// 404 for SharePoint content the session does not have.
pub fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::not_found(format!("SharePoint {what} {id} was not found in this restore session."))
}

/// Loads site `site_id` of session `sid`; `doing` completes "SharePoint items are … from restore sessions of type
/// Vesp" (e.g. "saved") for a session of another type.
pub async fn load(
    state: &AppState,
    user: &CurrentUser,
    version: ApiVersion,
    sid: &str,
    site_id: &str,
    doing: &str,
) -> Result<SessionSite, ApiError> {
    let session = crate::ctx::working::session(state, user, sid, version).await?;
    if session.kind != SessionKind::Vesp {
        return Err(ApiError::not_found(format!(
            "Restore session {} is of type {}; SharePoint items are {doing} from restore sessions of type Vesp.",
            session.id,
            session.kind.as_str()
        )));
    }
    let nf = || not_found("site", site_id);
    let at = session.browse_at.ok_or_else(nf)?;
    let id = Uuid::parse_str(site_id.trim()).map_err(|_| nf())?;
    let row = state.catalog.container_at(id, at).await?.ok_or_else(nf)?;
    let ContainerInfo::Site(info) = row.info else { return Err(nf()) };
    if row.organization_id != session.organization_id || (row.deleted && !session.show_deleted) {
        return Err(nf());
    }
    let q = ContainerQuery::new(session.organization_id, at)
        .kind(ContainerKind::List)
        .parent_ref(info.site_id.clone())
        .show_deleted(session.show_deleted)
        .page(0, i64::MAX / 4);
    let lists = state
        .catalog
        .containers_at(&q)
        .await?
        .rows
        .into_iter()
        .filter_map(|r| match r.info {
            ContainerInfo::List(l) => Some((r.id, l)),
            _ => None,
        })
        .collect();
    Ok(SessionSite { session, at, id, info, lists })
}
