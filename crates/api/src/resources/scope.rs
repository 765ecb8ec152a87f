//! What a save, send or restore route applies to — [`Scope`] in a OneDrive, [`SpScope`] in a SharePoint site — and
//! the catalog view of a restore session that save and send read through ([`session_view`]).
//!
//! The scope comes from the route's path (`…/Folders/{folderId}/save` is `Scope::Folder`), so the v6+ routes and the
//! v2–v5 `…/Action` dispatcher (`resources::actions`) hand the same value to the same operation.

use chrono::{DateTime, Utc};
use engine::selection::SessionView;

use crate::state::AppState;
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
pub fn session_view<'a>(state: &'a AppState, session: &RestoreSession, at: DateTime<Utc>) -> SessionView<'a> {
    SessionView {
        catalog: &state.catalog,
        at,
        show_deleted: session.show_deleted,
        show_all_versions: session.show_all_versions,
    }
}
