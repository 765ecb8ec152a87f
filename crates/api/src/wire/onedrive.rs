//! OneDrive browse answers: `RESTOneDrive`, `RESTOneDriveDocument`, `RESTOneDriveFolder` and the v7+ composed item.
//! Each constructor holds every era decision of its shape:
//! * v2 spells the size `size`, v3+ `sizeBytes`;
//! * v6+ add `versionId`; v7+ `isFolder`; v8 `oneDriveId`;
//! * v2 folders link their `children` (the documents listing);
//! * v2–v5 hrefs are absolute and lower-case, the top level is `parentId=null` (v6+: relative, `root`).

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use repo::catalog::{ContainerInfo, ContainerRow, ItemRow};
use serde::Serialize;
use utoipa::ToSchema;

use crate::ctx::catalog_view::NumberedVersion;
use crate::ctx::drive::DriveCtx;
use crate::edge::paging::{Hrefs, Link, Page};
use crate::store::sessions::RestoreSession;
use crate::wire::item_fields::{self, deleted_marker, item_times, who, FOLDER_VERSION_ID, FOLDER_VERSION_LABEL};

/// A backed-up OneDrive.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTOneDrive)]
pub struct OneDrive {
    /// Catalog id of the OneDrive.
    pub id: String,
    /// The owner's display name (or UPN).
    pub name: String,
    /// `https://<tenant>-my.sharepoint.com/personal/<upn>`.
    pub url: String,
    /// `true` for a OneDrive deleted before the session's point in time (shown with `showDeleted`); else absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_deleted: Option<bool>,
    #[serde(rename = "_links")]
    pub links: OneDriveLinks,
}

/// `_links` of a OneDrive.
#[derive(Serialize, ToSchema)]
pub struct OneDriveLinks {
    #[serde(rename = "self")]
    pub self_: Link,
    /// Its top-level documents.
    pub documents: Link,
    /// Its top-level folders.
    pub folders: Link,
}

/// A backed-up OneDrive document (the current version, or the one a `versionId` names).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTOneDriveDocument)]
pub struct Document {
    /// Microsoft item id.
    pub id: String,
    pub name: String,
    /// v2: size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// v3+: size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<i64>,
    /// Version label (`"2.0"`).
    pub version: String,
    /// v6+: 1-based ordinal of the version, oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<i32>,
    pub inherited_permissions: bool,
    pub created_by: String,
    pub creation_time: String,
    pub modified_by: String,
    pub modification_time: String,
    /// v7+: `false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_folder: Option<bool>,
    /// v8: the OneDrive's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_drive_id: Option<String>,
    /// `true` for a deleted document (shown with `showDeleted`); else absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_deleted: Option<bool>,
    #[serde(rename = "_links")]
    pub links: ItemLinks,
}

/// A backed-up OneDrive folder.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTOneDriveFolder)]
pub struct Folder {
    /// Microsoft item id.
    pub id: String,
    pub name: String,
    /// Always `"1.0"`: OneDrive folders are not versioned.
    pub version: String,
    /// v6+: always 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<i32>,
    pub created_by: String,
    pub creation_time: String,
    pub modified_by: String,
    pub modification_time: String,
    /// v7+: `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_folder: Option<bool>,
    /// v8: the OneDrive's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_drive_id: Option<String>,
    /// `true` for a deleted folder (shown with `showDeleted`); else absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_deleted: Option<bool>,
    #[serde(rename = "_links")]
    pub links: ItemLinks,
}

/// `_links` of a document or folder.
#[derive(Serialize, ToSchema)]
pub struct ItemLinks {
    #[serde(rename = "self")]
    pub self_: Link,
    /// The OneDrive.
    pub onedrive: Link,
    /// The parent folder, or the OneDrive for top-level items.
    pub parent: Link,
    /// v2 folders: the documents inside.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub children: Option<Link>,
}

/// A document or a folder, as listings and searches mix them (v7+ `RESTItemComposed`).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = RESTOneDriveItemComposed)]
pub enum Item {
    Document(Document),
    Folder(Folder),
}

/// A page of OneDrives.
pub type OneDrivePage = Page<OneDrive>;
/// A page of documents.
pub type DocumentPage = Page<Document>;
/// A page of folders.
pub type FolderPage = Page<Folder>;
/// A page of documents and folders.
pub type ItemPage = Page<Item>;

/// Characters escaped in an id placed into an href path segment.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

fn seg(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

fn percent_query(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|q| q.trim_start_matches('=').to_string()).unwrap_or_default()
}

/// `RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}`, below the version root.
fn drive_path(session: &RestoreSession, row: &ContainerRow) -> String {
    format!("RestoreSessions/{}/Organization/OneDrives/{}", session.id, row.id)
}

/// The href of `rest` below the OneDrive of `d`.
fn drive_href(d: &DriveCtx, rest: &str) -> String {
    d.hrefs.href(&format!("{}{rest}", drive_path(&d.session, &d.row)))
}

fn link(href: String) -> Link {
    Link { href }
}

fn item_links(d: &DriveCtx, row: &ItemRow, self_href: String) -> ItemLinks {
    let parent = match &row.state.parent_id {
        Some(p) => drive_href(d, &format!("/Folders/{}", seg(p))),
        None => drive_href(d, ""),
    };
    ItemLinks { self_: link(self_href), onedrive: link(drive_href(d, "")), parent: link(parent), children: None }
}

/// `https://<tenant>-my.sharepoint.com/personal/<upn with _>`.
pub(crate) fn onedrive_url(tenant_domain: &str, upn: &str) -> String {
    let tenant = tenant_domain
        .split('.')
        .next()
        .filter(|t| !t.is_empty())
        .or_else(|| upn.split('@').nth(1).and_then(|d| d.split('.').next()))
        .unwrap_or("tenant");
    format!("https://{}-my.sharepoint.com/personal/{}", tenant.to_ascii_lowercase(), upn.replace(['@', '.'], "_"))
}

impl OneDrive {
    /// OneDrive `row` of `session`, in the era of `hrefs`.
    pub fn new(hrefs: &Hrefs, session: &RestoreSession, row: &ContainerRow, tenant_domain: &str) -> OneDrive {
        let (name, upn) = match &row.info {
            ContainerInfo::OneDrive(i) => {
                let name = if i.display_name.is_empty() { i.upn.clone() } else { i.display_name.clone() };
                (name, i.upn.clone())
            }
            other => (other.title().to_string(), String::new()),
        };
        let path = drive_path(session, row);
        let root = item_fields::root_parent_value(hrefs.version());
        OneDrive {
            id: row.id.to_string(),
            name,
            url: onedrive_url(tenant_domain, &upn),
            is_deleted: deleted_marker(row.deleted),
            links: OneDriveLinks {
                self_: link(hrefs.href(&path)),
                documents: link(hrefs.href(&format!("{path}/Documents?parentId={root}"))),
                folders: link(hrefs.href(&format!("{path}/Folders?parentId={root}"))),
            },
        }
    }
}

impl Document {
    /// Document `row` of `d`: its current state, or — with `ver` — that version of it (`versions`: every version
    /// known at the session's instant, numbered).
    pub fn new(d: &DriveCtx, row: &ItemRow, versions: &[NumberedVersion], ver: Option<&NumberedVersion>) -> Document {
        let era = d.era();
        let shown = ver.or(versions.last());
        let size = match ver {
            Some(v) => v.row.version.size,
            None => row.state.size,
        };
        let (created, mut modified) = item_times(row);
        let mut modified_by = who(&row.state.modified_by);
        if let Some(v) = ver {
            if let Some(t) = v.row.version.modified_at {
                modified = item_fields::item_time(t);
            }
            if let Some(by) = &v.row.version.modified_by {
                modified_by = by.clone();
            }
        }
        let doc = format!("/Documents/{}", seg(&row.item_id));
        let self_href = match ver {
            Some(v) => drive_href(d, &format!("{doc}/Versions/{}", v.id)),
            None => drive_href(d, &doc),
        };
        Document {
            id: row.item_id.clone(),
            name: row.state.name.clone(),
            size: (era.number() <= 2).then_some(size),
            size_bytes: (era.number() > 2).then_some(size),
            version: shown.map(|v| v.row.version.label.clone()).unwrap_or_else(|| "1.0".into()),
            version_id: era.is_verb_era().then(|| shown.map(|v| v.id).unwrap_or(1)),
            inherited_permissions: item_fields::inherited_permissions(row),
            created_by: who(&row.state.created_by),
            creation_time: created,
            modified_by,
            modification_time: modified,
            is_folder: (era.number() >= 7).then_some(row.state.is_folder),
            one_drive_id: era.is_v8().then(|| d.row.id.to_string()),
            is_deleted: deleted_marker(row.deleted),
            links: item_links(d, row, self_href),
        }
    }
}

impl Folder {
    /// Folder `row` of `d`; `as_version`: addressed as its one version (`…/Versions/1`).
    pub fn new(d: &DriveCtx, row: &ItemRow, as_version: bool) -> Folder {
        let era = d.era();
        let (created, modified) = item_times(row);
        let folder = format!("/Folders/{}", seg(&row.item_id));
        let self_href = if as_version {
            drive_href(d, &format!("{folder}/Versions/{FOLDER_VERSION_ID}"))
        } else {
            drive_href(d, &folder)
        };
        let mut links = item_links(d, row, self_href);
        if era.number() <= 2 {
            let children = format!("/Documents?parentId={}", percent_query(&row.item_id));
            links.children = Some(link(drive_href(d, &children)));
        }
        Folder {
            id: row.item_id.clone(),
            name: row.state.name.clone(),
            version: FOLDER_VERSION_LABEL.into(),
            version_id: era.is_verb_era().then_some(FOLDER_VERSION_ID),
            created_by: who(&row.state.created_by),
            creation_time: created,
            modified_by: who(&row.state.modified_by),
            modification_time: modified,
            is_folder: (era.number() >= 7).then_some(row.state.is_folder),
            one_drive_id: era.is_v8().then(|| d.row.id.to_string()),
            is_deleted: deleted_marker(row.deleted),
            links,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn onedrive_urls() {
        assert_eq!(
            onedrive_url("contoso.onmicrosoft.com", "alex.w@contoso.onmicrosoft.com"),
            "https://contoso-my.sharepoint.com/personal/alex_w_contoso_onmicrosoft_com"
        );
        assert_eq!(onedrive_url("", "a@fabrikam.com"), "https://fabrikam-my.sharepoint.com/personal/a_fabrikam_com");
    }

    #[test]
    fn escaping() {
        assert_eq!(seg("01AB!CD"), "01AB!CD");
        assert_eq!(seg("a/b c"), "a%2Fb%20c");
        assert_eq!(percent_query("a b&c"), "a+b%26c");
    }
}
