//! Browsing inside a restore session: the conventions shared by the browse route modules.
//!
//! * OneDrives, documents, folders, versions: [`crate::resources::onedrive`] (sessions of type `Veod`).
//! * SharePoint sites, lists, libraries, items: their own route module (sessions of type `Vesp`).
//! * Shared conversions (item times, `parentId` selection, version ordinals, paging over catalog listings, the
//!   `isDeleted` marker): [`crate::resources::browse_util`].
//!
//! Ids in URLs: the restore session is a GUID; a OneDrive, site, list or library is its catalog container UUID
//! (lower-case); documents, folders and items are the Microsoft item ids (opaque strings, never validated as GUIDs).
//! Everything is shown as of the session's point in time (`browse_at`), honouring `showDeleted` and
//! `showAllVersions`.
//!
//! This module itself serves no operations.
