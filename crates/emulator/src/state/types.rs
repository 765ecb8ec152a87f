//! Persisted tenant state: plain data, serialised to `state.json` in the state directory.
//! Invariants (delta sequence numbers, eTags, folder sizes, the name index) are kept by the
//! mutation helpers in `state::ops`; handlers should not poke these fields directly.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::content::ContentRef;

pub type Time = DateTime<Utc>;

#[derive(Clone, Debug, Serialize, Deserialize, Default)]
pub struct Tenant {
    /// Tenant GUID (`tid` claim).
    pub id: String,
    /// Short name: `contoso` → `contoso.onmicrosoft.com`, `contoso.sharepoint.com`.
    pub name: String,
}

impl Tenant {
    pub fn domain(&self) -> String {
        format!("{}.onmicrosoft.com", self.name)
    }
    /// Host of team sites (`{tenant}.sharepoint.com`).
    pub fn sp_host(&self) -> String {
        format!("{}.sharepoint.com", self.name)
    }
    /// Host of OneDrive personal sites (`{tenant}-my.sharepoint.com`).
    pub fn my_host(&self) -> String {
        format!("{}-my.sharepoint.com", self.name)
    }
}

/// An app registration (service principal) in the tenant.
#[derive(Clone, Debug, Serialize, Deserialize, Default)]
pub struct App {
    pub client_id: String,
    pub display_name: String,
    /// Client secret, if one is registered (secret-based tokens have `appidacr` "1").
    pub secret: Option<String>,
    /// Registered certificates (DER, base64 standard) used to verify client assertions.
    pub certificates: Vec<String>,
    /// Public client flows (ROPC without secret, device code) allowed.
    pub public_client: bool,
    /// Application permissions granted by admin consent (`roles` claim).
    pub roles: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, Default)]
pub struct User {
    pub id: String,
    pub user_principal_name: String,
    pub mail: String,
    pub display_name: String,
    pub password: String,
    #[serde(default)]
    pub mfa_required: bool,
    #[serde(default)]
    pub disabled: bool,
    /// The user's OneDrive, absent when not provisioned (Graph answers 404).
    pub drive_id: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum DriveType {
    Business,
    DocumentLibrary,
}

impl DriveType {
    pub fn as_str(&self) -> &'static str {
        match self {
            DriveType::Business => "business",
            DriveType::DocumentLibrary => "documentLibrary",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Drive {
    pub id: String,
    pub drive_type: DriveType,
    pub name: String,
    pub description: String,
    /// Owning user (OneDrive) — `None` for document libraries.
    pub owner_user_id: Option<String>,
    /// Site the drive belongs to (personal site for OneDrives).
    pub site_id: String,
    /// The document library list behind the drive.
    pub list_id: String,
    pub root_id: String,
    pub web_url: String,
    pub created: Time,
    pub quota_total: u64,
    /// Last delta sequence number handed out in this drive.
    pub seq: u64,
    /// Delta tokens older than this answer 410 Gone (resync).
    pub delta_floor: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct IdentityRef {
    pub id: String,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Graph identitySet: who did something (a user, an application, or both).
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
pub struct IdentitySet {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<IdentityRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<IdentityRef>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileVersion {
    /// "1.0", "2.0", …
    pub label: String,
    pub content: ContentRef,
    pub size: u64,
    pub quick_xor: String,
    pub modified: Time,
    pub modified_by: IdentitySet,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub drive_id: String,
    /// `None` only for the drive root.
    pub parent_id: Option<String>,
    pub name: String,
    pub is_folder: bool,
    /// GUID behind eTag/cTag and `sharepointIds.listItemUniqueId`.
    pub unique_id: String,
    /// SharePoint list item id of the file/folder in its document library.
    pub list_item_id: u64,
    pub created: Time,
    pub modified: Time,
    pub created_by: IdentitySet,
    pub modified_by: IdentitySet,
    pub fs_created: Time,
    pub fs_modified: Time,
    #[serde(default)]
    pub description: Option<String>,
    /// Bumped on every change (eTag `"{GUID},N"`).
    pub etag_version: u64,
    /// Bumped on content changes (cTag `"c:{GUID},N"`); files only.
    pub ctag_version: u64,
    /// Files: current size; folders: total size of live descendants (kept incrementally).
    pub size: u64,
    /// Files only; the last entry is the current version.
    #[serde(default)]
    pub versions: Vec<FileVersion>,
    /// Permissions set on this item itself. Inherited ones are computed on read.
    #[serde(default)]
    pub permissions: Vec<Permission>,
    /// Inheritance was cut here (`retainInheritedPermissions: false`): ancestors' permissions
    /// no longer apply, even when the item has none of its own.
    #[serde(default)]
    pub inheritance_broken: bool,
    /// When set the item no longer exists; kept as a tombstone for delta.
    #[serde(default)]
    pub deleted: Option<Time>,
    /// Delta sequence number of the latest change to this item.
    pub change_seq: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, Default)]
pub struct SharingLink {
    /// view | edit | embed | …
    #[serde(rename = "type")]
    pub link_type: String,
    /// anonymous | organization | users | existingAccess
    pub scope: String,
    pub web_url: String,
    #[serde(default)]
    pub prevents_download: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, Default)]
pub struct Permission {
    pub id: String,
    pub roles: Vec<String>,
    /// Direct grantee (invite); a user id of this tenant.
    #[serde(default)]
    pub granted_to_user: Option<String>,
    /// Grantees of a `users`-scoped link.
    #[serde(default)]
    pub link_recipients: Vec<String>,
    #[serde(default)]
    pub link: Option<SharingLink>,
    #[serde(default)]
    pub invitation_email: Option<String>,
    #[serde(default)]
    pub share_id: Option<String>,
    #[serde(default)]
    pub expiration: Option<Time>,
    #[serde(default)]
    pub has_password: bool,
    /// The app that created a link (createLink returns an existing link of the same type).
    #[serde(default)]
    pub created_by_app: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Site {
    /// `{hostname},{siteCollectionId},{webId}`
    pub id: String,
    pub hostname: String,
    pub collection_id: String,
    pub web_id: String,
    /// Server-relative path, e.g. `/sites/finance` or `/personal/alex_contoso_com`.
    pub path: String,
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub parent_site_id: Option<String>,
    pub is_personal: bool,
    pub created: Time,
    pub modified: Time,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ListItem {
    pub id: u64,
    /// Column internal name → value (the Graph `fields` fieldValueSet).
    pub fields: serde_json::Map<String, Value>,
    pub created: Time,
    pub modified: Time,
    pub created_by: IdentitySet,
    pub modified_by: IdentitySet,
    pub etag_version: u64,
    pub unique_id: String,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    #[serde(default)]
    pub deleted: Option<Time>,
    pub change_seq: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Attachment {
    pub file_name: String,
    pub content: ContentRef,
    pub size: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct List {
    pub id: String,
    pub site_id: String,
    pub name: String,
    pub display_name: String,
    pub description: String,
    /// documentLibrary | genericList | …
    pub template: String,
    pub hidden: bool,
    pub system: bool,
    /// Drive behind a document library.
    pub drive_id: Option<String>,
    pub created: Time,
    pub modified: Time,
    pub etag_version: u64,
    /// Next SharePoint integer id to allocate.
    pub next_item_id: u64,
    /// Generic-list items (document library items live in the drive).
    #[serde(default)]
    pub items: BTreeMap<u64, ListItem>,
    pub seq: u64,
    pub delta_floor: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MailAttachment {
    pub name: String,
    pub content_type: String,
    pub size: u64,
    /// Base64 of the bytes (the outbox is small; large attachments are capped by the size limit).
    pub content_bytes: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MailMessage {
    pub id: String,
    /// The mailbox (user id) the message belongs to.
    pub user_id: String,
    /// The Graph `message` JSON as posted (minus inline attachments, which are decoded below).
    pub message: Value,
    pub attachments: Vec<MailAttachment>,
    pub created: Time,
    pub sent: Option<Time>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeviceCode {
    pub device_code: String,
    pub user_code: String,
    pub client_id: String,
    pub scope: String,
    pub expires: Time,
    pub interval_secs: u64,
    /// `None` pending, `Some(Ok(user_id))` approved, `Some(Err(()))` declined.
    pub approved_user: Option<String>,
    #[serde(default)]
    pub declined: bool,
    #[serde(default)]
    pub redeemed: bool,
    #[serde(default)]
    pub last_poll: Option<Time>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RefreshGrant {
    pub client_id: String,
    pub user_id: String,
    pub scope: String,
    pub expires: Time,
}

/// A Graph drive-item upload session (`createUploadSession`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UploadSession {
    pub id: String,
    pub drive_id: String,
    /// Existing item whose content is replaced …
    pub item_id: Option<String>,
    /// … or parent + name of a new file.
    pub parent_id: Option<String>,
    pub name: Option<String>,
    pub conflict_behavior: String,
    pub file_size: Option<u64>,
    pub defer_commit: bool,
    pub received: u64,
    pub total: Option<u64>,
    pub expires: Time,
    pub by: IdentitySet,
    #[serde(default)]
    pub fs_info: Option<Value>,
    #[serde(default)]
    pub description: Option<String>,
}

/// An Outlook attachment upload session for large mail attachments.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MailUploadSession {
    pub id: String,
    pub message_id: String,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub received: u64,
    pub expires: Time,
}

/// Knobs tests turn through the control API.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    /// Page size of every collection when the client gives no `$top` (Graph: 200).
    pub page_size: usize,
    /// Seconds added to the wall clock (advance clock).
    pub clock_offset_secs: i64,
    /// Tokens issued before this epoch are rejected as expired.
    pub token_epoch: u64,
    /// Reject non-final upload fragments that are not multiples of 320 KiB.
    pub strict_fragments: bool,
    /// Lifetime of issued access tokens.
    pub token_lifetime_secs: i64,
    /// Lifetime of an upload session before it expires (extended on every fragment).
    pub upload_session_secs: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            page_size: 200,
            clock_offset_secs: 0,
            token_epoch: 0,
            strict_fragments: true,
            token_lifetime_secs: 3599,
            upload_session_secs: 900,
        }
    }
}

/// Monotonic counters behind deterministic id generation.
#[derive(Clone, Debug, Serialize, Deserialize, Default)]
pub struct Counters {
    pub ids: u64,
    pub permissions: u64,
}
