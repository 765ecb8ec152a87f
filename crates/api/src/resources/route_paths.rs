//! Path parameters of the restore-session routes, shared by browse, save, send and restore. Aliases cover every
//! spelling the routes use for the same thing (`{documentId}`, `{folderId}`, …); no route has two of them at once.

use serde::Deserialize;

/// `…/RestoreSessions/{id}`.
#[derive(Deserialize)]
pub struct SessionPath {
    pub id: String,
}

/// `…/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}`.
#[derive(Deserialize)]
pub struct DrivePath {
    pub id: String,
    #[serde(rename = "oneDriveId")]
    pub one_drive_id: String,
}

/// A document or folder of a OneDrive.
#[derive(Deserialize)]
pub struct DriveItemPath {
    pub id: String,
    #[serde(rename = "oneDriveId")]
    pub one_drive_id: String,
    #[serde(alias = "documentId", alias = "folderId")]
    pub item_id: String,
}

/// A version of a OneDrive document or folder.
#[derive(Deserialize)]
pub struct DriveVersionPath {
    pub id: String,
    #[serde(rename = "oneDriveId")]
    pub one_drive_id: String,
    #[serde(alias = "documentId", alias = "folderId")]
    pub item_id: String,
    #[serde(rename = "versionId")]
    pub version_id: String,
}

/// `…/RestoreSessions/{id}/Organization/Sites/{siteId}`.
#[derive(Deserialize)]
pub struct SitePath {
    pub id: String,
    #[serde(rename = "siteId")]
    pub site_id: String,
}

/// A list or library of a site.
#[derive(Deserialize)]
pub struct SiteListPath {
    pub id: String,
    #[serde(rename = "siteId")]
    pub site_id: String,
    #[serde(alias = "listId", alias = "libraryId")]
    pub list_id: String,
}

/// A document, folder, list item (or, for save/send, library) of a site.
#[derive(Deserialize)]
pub struct SiteItemPath {
    pub id: String,
    #[serde(rename = "siteId")]
    pub site_id: String,
    #[serde(alias = "documentId", alias = "folderId", alias = "itemId", alias = "libraryId")]
    pub item_id: String,
}

/// A version of a site's document, folder or item.
#[derive(Deserialize)]
pub struct SiteVersionPath {
    pub id: String,
    #[serde(rename = "siteId")]
    pub site_id: String,
    #[serde(alias = "documentId", alias = "folderId", alias = "itemId")]
    pub item_id: String,
    #[serde(rename = "versionId")]
    pub version_id: String,
}

/// An attachment of a list item.
#[derive(Deserialize)]
pub struct SiteAttachmentPath {
    pub id: String,
    #[serde(rename = "siteId")]
    pub site_id: String,
    #[serde(rename = "itemId")]
    pub item_id: String,
    #[serde(rename = "attachmentId")]
    pub attachment_id: String,
}
