//! What a save, send or restore route applies to — [`Scope`] in a OneDrive, [`SpScope`] in a SharePoint site — the
//! catalog view of a restore session that save and send read through ([`session_view`]), and the SharePoint ids of a
//! scope resolved into what the engine hands out ([`sp_document`], [`sp_folder`], [`sp_library`], [`sp_list_item`]:
//! one 404 per kind for save and send alike).
//!
//! The scope comes from the route's path (`…/Folders/{folderId}/save` is `Scope::Folder`), so the v6+ routes and the
//! v2–v5 `…/Action` dispatcher (`resources::actions`) hand the same value to the same operation.

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
