//! What a save, send or restore route applies to — [`Scope`] in a OneDrive, [`SpScope`] in a SharePoint site — the
//! catalog view of a restore session that save and send read through ([`session_view`]), and the SharePoint ids of a
//! scope resolved into what the engine hands out ([`sp_document`], [`sp_folder`], [`sp_library`], [`sp_list_item`]:
//! one 404 per kind for save and send alike).
//!
//! The scope comes from the route's path (`…/Folders/{folderId}/save` is `Scope::Folder`): the extractors
//! [`DriveTarget`] and [`SiteTarget`] read it from the path template the router matched, so one handler serves every
//! path of an operation (the router registers it at each, see `router::at_paths`), and the v2–v5 `…/Action`
//! dispatcher (`resources::actions`) hands the same value to the same operation.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, MatchedPath, Path};
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use engine::selection::{SessionView, Tree};
use repo::catalog::{Catalog, ItemRow};

use crate::ctx::site::{not_found, SiteCtx};
use crate::edge::error::ApiError;
use crate::store::sessions::RestoreSession;

/// What an operation applies to in a OneDrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The whole OneDrive.
    OneDrive,
    /// Several documents (ids from the body).
    Documents,
    /// One document.
    Document(String),
    /// Several folders (ids from the body).
    Folders,
    /// One folder.
    Folder(String),
}

/// What an operation applies to in a SharePoint site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpScope {
    /// The whole site (restore only).
    Site,
    /// A (generic) list (restore only).
    List(String),
    /// Several list items (ids from the body; restore only).
    Items,
    /// One list item (restore only).
    Item(String),
    /// Several library documents (ids from the body).
    Documents,
    /// One library document.
    Document(String),
    /// Several folders (ids from the body).
    Folders,
    /// One folder.
    Folder(String),
    /// A whole document library.
    Library(String),
    /// Attachments of a list item: the ids from the body (`attachments`/`Attachments`), or all when none are named.
    Attachments(String),
    /// One attachment of a list item: (item id, attachment id).
    Attachment(String, String),
}

/// The catalog as `session` shows it at its instant `at`: deleted items and earlier versions as it was explored.
pub fn session_view<'a>(catalog: &'a Catalog, session: &RestoreSession, at: DateTime<Utc>) -> SessionView<'a> {
    SessionView { catalog, at, show_deleted: session.show_deleted, show_all_versions: session.show_all_versions }
}

/// The item with API id `id` (see [`crate::ctx::site`]) if it is `wanted`: `None` when it is not visible, or the
/// first visible item with that id is of another kind.
async fn sp_item(
    site: &SiteCtx,
    id: &str,
    wanted: impl Fn(bool, &ItemRow) -> bool,
) -> Result<Option<(uuid::Uuid, ItemRow)>, ApiError> {
    let found = site.find_item(None, id, |_, _| true).await?;
    Ok(found.filter(|(list, row)| wanted(list.is_library(), row)).map(|(list, row)| (list.id, row)))
}

/// Library document `id` of `site`.
pub async fn sp_document(site: &SiteCtx, id: &str) -> Result<ItemRow, ApiError> {
    let found = sp_item(site, id, |library, r| library && !r.state.is_folder).await?;
    found.map(|(_, row)| row).ok_or_else(|| not_found("document", id))
}

/// Folder `id` of `site` (of a library or a list), with everything below it.
pub async fn sp_folder(site: &SiteCtx, id: &str) -> Result<Tree, ApiError> {
    let found = sp_item(site, id, |_, r| r.state.is_folder).await?;
    let (container, row) = found.ok_or_else(|| not_found("folder", id))?;
    Ok(Tree { container, folder: Some(row) })
}

/// Document library `id` of `site` as a whole, and its title.
pub fn sp_library(site: &SiteCtx, id: &str) -> Result<(Tree, String), ApiError> {
    let list = site.list(id, Some(true))?;
    Ok((Tree { container: list.id, folder: None }, list.info.title.clone()))
}

/// Item `id` of a generic list of `site` (whose attachments are saved or sent).
pub async fn sp_list_item(site: &SiteCtx, id: &str) -> Result<ItemRow, ApiError> {
    let found = sp_item(site, id, |library, r| !library && !r.state.is_folder).await?;
    found.map(|(_, row)| row).ok_or_else(|| not_found("item", id))
}

/// A route's path below its container (`{oneDriveId}` or `{siteId}`), as the router matched it: the shape with `*`
/// for each parameter (`Documents/*/Versions/*`), the parameters' values in order, and the final verb segment.
struct RouteShape {
    shape: String,
    ids: Vec<String>,
    verb: String,
}

impl RouteShape {
    async fn read(parts: &mut Parts, container: &str) -> Result<RouteShape, ApiError> {
        let template = parts.extensions.get::<MatchedPath>().map(|m| m.as_str().to_owned()).unwrap_or_default();
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, &())
            .await
            .map_err(|e| ApiError::bad_request(format!("Invalid path: {e}")))?;
        let below = template
            .split_once(container)
            .map(|(_, below)| below)
            .ok_or_else(|| ApiError::internal(format!("route {template} has no {container}")))?;
        let mut segments: Vec<&str> = below.split('/').filter(|s| !s.is_empty()).collect();
        let verb = segments.pop().unwrap_or_default().to_owned();
        let (mut shape, mut ids) = (Vec::new(), Vec::new());
        for segment in segments {
            match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => {
                    shape.push("*");
                    ids.push(params.get(name).cloned().unwrap_or_default());
                }
                None => shape.push(segment),
            }
        }
        Ok(RouteShape { shape: shape.join("/"), ids, verb })
    }

    /// 500: a handler registered at a path whose shape it does not serve (a router mistake, caught by the tests).
    fn unserved(&self, what: &str) -> ApiError {
        ApiError::internal(format!("no {what} operation is served at …/{}/{}", self.shape, self.verb))
    }
}

/// What a route under `…/OneDrives/{oneDriveId}` applies to, from its path: the [`Scope`], the version of a document
/// or folder (`…/Versions/{versionId}/…`), and the verb (`save`, `send`, `restore`, `copyTo`, `Action`).
pub struct DriveTarget {
    pub scope: Scope,
    pub version: Option<String>,
    pub verb: String,
}

impl<S: Send + Sync> FromRequestParts<S> for DriveTarget {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let r = RouteShape::read(parts, "{oneDriveId}").await?;
        let mut ids = r.ids.iter().cloned();
        let mut id = || ids.next().unwrap_or_default();
        let (scope, version) = match r.shape.as_str() {
            "" => (Scope::OneDrive, None),
            "Documents" => (Scope::Documents, None),
            "Documents/*" => (Scope::Document(id()), None),
            "Documents/*/Versions/*" => (Scope::Document(id()), Some(id())),
            "Folders" => (Scope::Folders, None),
            "Folders/*" => (Scope::Folder(id()), None),
            "Folders/*/Versions/*" => (Scope::Folder(id()), Some(id())),
            _ => return Err(r.unserved("OneDrive")),
        };
        Ok(DriveTarget { scope, version, verb: r.verb })
    }
}

/// What a route under `…/Sites/{siteId}` applies to, from its path: the [`SpScope`], the version of a document,
/// folder or item (`…/Versions/{versionId}/…`), and the verb (`save`, `send`, `restore`, `restoreTo`, `Action`).
pub struct SiteTarget {
    pub scope: SpScope,
    pub version: Option<String>,
    pub verb: String,
}

impl<S: Send + Sync> FromRequestParts<S> for SiteTarget {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let r = RouteShape::read(parts, "{siteId}").await?;
        let mut ids = r.ids.iter().cloned();
        let mut id = || ids.next().unwrap_or_default();
        let (scope, version) = match r.shape.as_str() {
            "" => (SpScope::Site, None),
            "Lists/*" => (SpScope::List(id()), None),
            "Libraries/*" => (SpScope::Library(id()), None),
            "Documents" => (SpScope::Documents, None),
            "Documents/*" => (SpScope::Document(id()), None),
            "Documents/*/Versions/*" => (SpScope::Document(id()), Some(id())),
            "Folders" => (SpScope::Folders, None),
            "Folders/*" => (SpScope::Folder(id()), None),
            "Folders/*/Versions/*" => (SpScope::Folder(id()), Some(id())),
            "Items" => (SpScope::Items, None),
            "Items/*" => (SpScope::Item(id()), None),
            "Items/*/Versions/*" => (SpScope::Item(id()), Some(id())),
            "Items/*/Attachments" => (SpScope::Attachments(id()), None),
            "Items/*/Attachments/*" => (SpScope::Attachment(id(), id()), None),
            _ => return Err(r.unserved("SharePoint")),
        };
        Ok(SiteTarget { scope, version, verb: r.verb })
    }
}
