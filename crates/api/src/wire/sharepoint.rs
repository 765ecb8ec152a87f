//! SharePoint browse answers (veeam-api-notes §9.1). Each struct is both the JSON and its OpenAPI schema, and its one
//! constructor holds every era decision for that shape: `size` (v2) or `sizeBytes`, `versionId` and the `versions`
//! link (v6+), `isFolder` (v7+), `siteId`/`itemId` (v8). Deleted objects (sessions with `showDeleted`) carry
//! `"isDeleted": true`; live ones do not carry the field.

use repo::catalog::{Attachment, ItemRow, ListInfo};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::ctx::catalog_view::NumberedVersion;
use crate::ctx::site::{Site, SiteList};
use crate::edge::paging::{Hrefs, Link, Page};
use crate::edge::version::ApiVersion;
use crate::wire::item_fields::{
    deleted_marker, inherited_permissions, item_time, item_times, who, FOLDER_VERSION_ID, FOLDER_VERSION_LABEL,
};

/// Hrefs below one session's `RestoreSessions/{id}/Organization/Sites`, in the request's era.
pub struct SitesHrefs {
    hrefs: Hrefs,
    session: Uuid,
}

impl SitesHrefs {
    pub fn new(hrefs: Hrefs, session: Uuid) -> SitesHrefs {
        SitesHrefs { hrefs, session }
    }

    pub fn version(&self) -> ApiVersion {
        self.hrefs.version()
    }

    /// The link to `rel`, relative to the Sites collection (`""`, `"?parentId=…"`, `"{siteId}/Lists"`, …).
    fn link(&self, rel: &str) -> Link {
        let sep = if rel.is_empty() || rel.starts_with('?') { "" } else { "/" };
        self.hrefs.link(&format!("RestoreSessions/{}/Organization/Sites{sep}{rel}", self.session))
    }
}

/// Pages of each shape (named, so that the OpenAPI document has a `PageOf…` schema per shape).
pub type SharePointSitePage = Page<SharePointSite>;
pub type SharePointListPage = Page<SharePointList>;
pub type SharePointFolderPage = Page<SharePointFolder>;
pub type SharePointDocumentPage = Page<SharePointDocument>;
pub type SharePointItemPage = Page<SharePointItem>;
pub type SharePointEntryPage = Page<SharePointEntry>;
pub type SharePointAttachmentPage = Page<SharePointAttachment>;

/// `RESTSharePointSite`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTSharePointSite)]
pub struct SharePointSite {
    /// Catalog id of the site.
    pub id: String,
    /// Title.
    pub name: String,
    /// Web URL.
    pub url: String,
    /// Only on deleted sites (sessions with `showDeleted`): `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_deleted: Option<bool>,
    #[serde(rename = "_links")]
    pub links: SiteLinks,
}

/// The `_links` of a site.
#[derive(Serialize, ToSchema)]
pub struct SiteLinks {
    #[serde(rename = "self")]
    pub this: Link,
    /// Its subsites.
    pub sites: Link,
    pub libraries: Link,
    pub lists: Link,
    /// Subsites: the parent site.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<Link>,
}

impl SharePointSite {
    /// `parent`: the catalog id of the parent site of a subsite.
    pub fn new(h: &SitesHrefs, site: &Site, parent: Option<Uuid>) -> SharePointSite {
        let id = site.id.to_string();
        SharePointSite {
            name: site.info.title.clone(),
            url: site.info.url.clone(),
            is_deleted: deleted_marker(site.deleted),
            links: SiteLinks {
                this: h.link(&id),
                sites: h.link(&format!("?parentId={id}")),
                libraries: h.link(&format!("{id}/Libraries")),
                lists: h.link(&format!("{id}/Lists")),
                parent: parent.map(|p| h.link(&p.to_string())),
            },
            id,
        }
    }
}

/// `RESTSharePointList` (also a document library's shape).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTSharePointList)]
pub struct SharePointList {
    /// Catalog id of the list or library.
    pub id: String,
    /// Title.
    pub name: String,
    /// Web URL.
    pub url: String,
    /// Description (empty: not backed up).
    pub description: String,
    /// First backup that saw this state of the list (`2026-01-05T09:00:00`).
    pub creation_time: String,
    /// v8: the site id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    /// Only on deleted lists: `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_deleted: Option<bool>,
    #[serde(rename = "_links")]
    pub links: ListLinks,
}

/// The `_links` of a list or library.
#[derive(Serialize, ToSchema)]
pub struct ListLinks {
    #[serde(rename = "self")]
    pub this: Link,
    pub site: Link,
    /// Libraries: their documents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documents: Option<Link>,
    /// Generic lists: their items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Link>,
    pub folders: Link,
}

impl SharePointList {
    pub fn new(h: &SitesHrefs, site: &Site, list: &SiteList) -> SharePointList {
        let (site_id, id) = (site.id.to_string(), list.id.to_string());
        let content = |coll: &str| h.link(&format!("{site_id}/{coll}?parentId={id}"));
        SharePointList {
            name: list.info.title.clone(),
            url: list_url(&site.info.url, &list.info),
            description: String::new(),
            creation_time: item_time(list.valid_from),
            site_id: h.version().is_v8().then(|| site_id.clone()),
            is_deleted: deleted_marker(list.deleted),
            links: ListLinks {
                this: h.link(&format!("{site_id}/{}", list.rel())),
                site: h.link(&site_id),
                documents: list.is_library().then(|| content("Documents")),
                items: (!list.is_library()).then(|| content("Items")),
                folders: content("Folders"),
            },
            id,
        }
    }
}

/// How an item is shown: the vendor has one schema per listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// `RESTSharePointDocument` (library file).
    Document,
    /// `RESTSharePointFolder`.
    Folder,
    /// `RESTSharePointItem` (generic list item or, with `includeFolders`, a list folder).
    Item,
    /// v7+ `RESTItemComposed` of the Documents listing and of search (document or folder).
    Composed,
}

impl View {
    /// The Documents listing's view in `version`: v7+ lists folders too, as `RESTItemComposed`.
    pub fn documents_listing(version: ApiVersion) -> View {
        if version.number() >= 7 {
            View::Composed
        } else {
            View::Document
        }
    }

    /// A search result's view: as the browse listing that holds it would show it.
    pub fn search_result(version: ApiVersion, list: &SiteList, row: &ItemRow) -> View {
        match (list.is_library(), row.state.is_folder) {
            (true, _) if version.number() >= 7 => View::Composed,
            (_, true) => View::Folder,
            (true, false) => View::Document,
            (false, false) => View::Item,
        }
    }

    /// The href collection of an item in this view.
    fn collection(self, row: &ItemRow) -> &'static str {
        match self {
            View::Document => "Documents",
            View::Folder => "Folders",
            View::Item => "Items",
            View::Composed if row.state.is_folder => "Folders",
            View::Composed => "Documents",
        }
    }
}

/// An item to show, with the version shown.
pub struct ShownItem<'a> {
    pub site: &'a Site,
    pub list: &'a SiteList,
    pub row: &'a ItemRow,
    /// The version shown: its label, and for a `/Versions` view also its size, author and time.
    pub version: Option<&'a NumberedVersion>,
    /// Whether this is a `/Versions` view (self link to the version).
    pub as_version: bool,
}

/// The fields every item shape shares, in the vendor's order.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemCommon {
    /// Version label, e.g. `"3.0"`; omitted when the backup knows none (a non-nullable string in the vendor schema).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// v6+: ordinal of the version (oldest = 1), null when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<Option<i32>>,
    pub created_by: String,
    pub creation_time: String,
    pub modified_by: String,
    pub modification_time: String,
    /// v7+.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_folder: Option<bool>,
    /// v8: the site id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
}

/// The `_links` of an item.
#[derive(Serialize, ToSchema)]
pub struct ItemLinks {
    /// The item, or in a `/Versions` view the version.
    #[serde(rename = "self")]
    pub this: Link,
    /// `/Versions` views of folders: the folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folder: Option<Link>,
    /// `/Versions` views of list items: the item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Link>,
    /// `/Versions` views of documents: the document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<Link>,
    /// Library content: the library.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub library: Option<Link>,
    /// Generic list content: the list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<Link>,
    /// The parent folder, or the list or library.
    pub parent: Link,
    pub site: Link,
    /// List items (not folders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Link>,
    /// v6+, not in `/Versions` views.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions: Option<Link>,
}

/// What every shape of an item is made of.
struct ItemParts {
    id: String,
    name: String,
    /// The `Title` field of list items, else the name.
    title: String,
    size: i64,
    folder_type: &'static str,
    common: ItemCommon,
    is_deleted: Option<bool>,
    links: ItemLinks,
}

impl ItemParts {
    fn new(h: &SitesHrefs, shown: &ShownItem<'_>, view: View) -> ItemParts {
        let version = h.version();
        let ShownItem { site, list, row, .. } = *shown;
        let id = list.item_api_id(&row.item_id);
        let (mut created, mut modified) = item_times(row);
        let mut modified_by = who(&row.state.modified_by);
        let mut size = row.state.size;
        let (mut label, mut version_id): (Option<String>, Option<i32>) = (None, None);
        if let Some(nv) = shown.version {
            label = Some(nv.row.version.label.clone());
            version_id = Some(nv.id);
            if shown.as_version {
                size = nv.row.version.size;
                if let Some(t) = nv.row.version.modified_at {
                    modified = item_time(t);
                    if created > modified {
                        created = modified.clone();
                    }
                }
                if let Some(by) = &nv.row.version.modified_by {
                    modified_by = by.clone();
                }
            }
        }
        let field = |name: &str| row.state.fields.as_ref().and_then(|f| f.get(name)).and_then(Value::as_str);
        // Generic list items carry their version label in the fields.
        label = label.or_else(|| field("_UIVersionString").map(String::from));
        if label.is_none() && row.state.is_folder {
            (label, version_id) = (Some(FOLDER_VERSION_LABEL.into()), Some(FOLDER_VERSION_ID));
        }
        let site_id = site.id.to_string();
        let coll = view.collection(row);
        let own = format!("{site_id}/{coll}/{id}");
        let container = h.link(&format!("{site_id}/{}", list.rel()));
        let parent = match &row.state.parent_id {
            Some(p) => h.link(&format!("{site_id}/Folders/{}", list.item_api_id(p))),
            None => h.link(&format!("{site_id}/{}", list.rel())),
        };
        let version_link = match (shown.as_version, version_id) {
            (true, Some(n)) => Some(h.link(&format!("{own}/Versions/{n}"))),
            _ => None,
        };
        let back_to = |c: &str| (version_link.is_some() && coll == c).then(|| h.link(&own));
        let links = ItemLinks {
            folder: back_to("Folders"),
            item: back_to("Items"),
            document: back_to("Documents"),
            this: version_link.clone().unwrap_or_else(|| h.link(&own)),
            library: list.is_library().then(|| container.clone()),
            list: (!list.is_library()).then_some(container),
            parent,
            site: h.link(&site_id),
            attachments: (coll == "Items" && !row.state.is_folder).then(|| h.link(&format!("{own}/Attachments"))),
            versions: (version.is_verb_era() && !shown.as_version).then(|| h.link(&format!("{own}/Versions"))),
        };
        ItemParts {
            id,
            name: row.state.name.clone(),
            title: field("Title").map(String::from).unwrap_or_else(|| row.state.name.clone()),
            size,
            folder_type: if list.is_library() { "LibraryFolder" } else { "ListFolder" },
            common: ItemCommon {
                version: label,
                version_id: version.is_verb_era().then_some(version_id),
                created_by: who(&row.state.created_by),
                creation_time: created,
                modified_by,
                modification_time: modified,
                is_folder: (version.number() >= 7).then_some(row.state.is_folder),
                site_id: version.is_v8().then_some(site_id),
            },
            is_deleted: deleted_marker(row.deleted),
            links,
        }
    }
}

/// `RESTSharePointDocument`: a library file.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTSharePointDocument)]
pub struct SharePointDocument {
    /// Drive item id.
    pub id: String,
    /// File name.
    pub name: String,
    /// v2: size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// v3+: size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<i64>,
    #[serde(flatten)]
    pub common: ItemCommon,
    /// Only on deleted documents: `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_deleted: Option<bool>,
    #[serde(rename = "_links")]
    pub links: ItemLinks,
}

impl SharePointDocument {
    pub fn new(h: &SitesHrefs, shown: &ShownItem<'_>) -> SharePointDocument {
        let p = ItemParts::new(h, shown, View::Document);
        let v2 = h.version().number() <= 2;
        SharePointDocument {
            id: p.id,
            name: p.name,
            size: v2.then_some(p.size),
            size_bytes: (!v2).then_some(p.size),
            common: p.common,
            is_deleted: p.is_deleted,
            links: p.links,
        }
    }
}

/// `RESTSharePointFolder`: a folder of a library or list.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTSharePointFolder)]
pub struct SharePointFolder {
    /// `LibraryFolder` or `ListFolder`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Drive item id (libraries) or `<list id><item id>` (generic lists).
    pub id: String,
    pub name: String,
    #[serde(flatten)]
    pub common: ItemCommon,
    /// Only on deleted folders: `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_deleted: Option<bool>,
    #[serde(rename = "_links")]
    pub links: ItemLinks,
}

impl SharePointFolder {
    pub fn new(h: &SitesHrefs, shown: &ShownItem<'_>) -> SharePointFolder {
        let p = ItemParts::new(h, shown, View::Folder);
        SharePointFolder {
            kind: p.folder_type.into(),
            id: p.id,
            name: p.name,
            common: p.common,
            is_deleted: p.is_deleted,
            links: p.links,
        }
    }
}

/// `RESTSharePointItem`: a generic list item (or, with `includeFolders`, a list folder).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTSharePointItem)]
pub struct SharePointItem {
    /// `<list id><item id>`.
    pub id: String,
    pub name: String,
    /// The `Title` field.
    pub title: String,
    #[serde(flatten)]
    pub common: ItemCommon,
    /// Only on deleted items: `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_deleted: Option<bool>,
    #[serde(rename = "_links")]
    pub links: ItemLinks,
}

impl SharePointItem {
    pub fn new(h: &SitesHrefs, shown: &ShownItem<'_>) -> SharePointItem {
        let p = ItemParts::new(h, shown, View::Item);
        SharePointItem {
            id: p.id,
            name: p.name,
            title: p.title,
            common: p.common,
            is_deleted: p.is_deleted,
            links: p.links,
        }
    }
}

/// `RESTItemComposed` (v7+): a document or folder of a library, as the Documents listing and search show it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTItemComposed)]
pub struct ItemComposed {
    pub id: String,
    pub name: String,
    /// Documents: size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<i64>,
    /// `false` when the backup saw the item shared with its own permissions.
    pub inherited_permissions: bool,
    #[serde(flatten)]
    pub common: ItemCommon,
    pub title: String,
    /// Folders: `LibraryFolder` or `ListFolder`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Only on deleted items: `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_deleted: Option<bool>,
    #[serde(rename = "_links")]
    pub links: ItemLinks,
}

impl ItemComposed {
    pub fn new(h: &SitesHrefs, shown: &ShownItem<'_>) -> ItemComposed {
        let p = ItemParts::new(h, shown, View::Composed);
        let folder = shown.row.state.is_folder;
        ItemComposed {
            id: p.id,
            name: p.name,
            size_bytes: (!folder).then_some(p.size),
            inherited_permissions: inherited_permissions(shown.row),
            common: p.common,
            title: p.title,
            kind: folder.then(|| p.folder_type.into()),
            is_deleted: p.is_deleted,
            links: p.links,
        }
    }
}

/// One entry of a listing that mixes shapes (the Documents listing across eras, search results).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum SharePointEntry {
    Document(SharePointDocument),
    Folder(SharePointFolder),
    Item(SharePointItem),
    Composed(ItemComposed),
}

impl SharePointEntry {
    pub fn new(h: &SitesHrefs, shown: &ShownItem<'_>, view: View) -> SharePointEntry {
        match view {
            View::Document => SharePointEntry::Document(SharePointDocument::new(h, shown)),
            View::Folder => SharePointEntry::Folder(SharePointFolder::new(h, shown)),
            View::Item => SharePointEntry::Item(SharePointItem::new(h, shown)),
            View::Composed => SharePointEntry::Composed(ItemComposed::new(h, shown)),
        }
    }
}

/// `RESTSharePointAttachment`: an attachment of a generic list item.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTSharePointAttachment)]
pub struct SharePointAttachment {
    /// Lower-case hex of the file name.
    pub id: String,
    /// File name.
    pub name: String,
    /// v2: size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// v3+: size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<i64>,
    /// Server-relative URL (`/sites/x/Lists/Issues/Attachments/1/a.txt`).
    pub url: String,
    /// v8: the site id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    /// v8: the item id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_id: Option<String>,
    #[serde(rename = "_links")]
    pub links: AttachmentLinks,
}

/// The `_links` of an attachment.
#[derive(Serialize, ToSchema)]
pub struct AttachmentLinks {
    #[serde(rename = "self")]
    pub this: Link,
    pub item: Link,
}

impl SharePointAttachment {
    pub fn new(h: &SitesHrefs, site: &Site, list: &SiteList, row: &ItemRow, a: &Attachment) -> SharePointAttachment {
        let version = h.version();
        let id = attachment_id(&a.file_name);
        let item = list.item_api_id(&row.item_id);
        let list_url = item_list_url(row).unwrap_or_else(|| list_url(&site.info.url, &list.info));
        let own = format!("{}/Items/{item}", site.id);
        SharePointAttachment {
            name: a.file_name.clone(),
            size: (version.number() <= 2).then_some(a.size),
            size_bytes: (version.number() > 2).then_some(a.size),
            url: format!("{}/Attachments/{}/{}", server_relative(&list_url), row.item_id, a.file_name),
            site_id: version.is_v8().then(|| site.id.to_string()),
            item_id: version.is_v8().then(|| item.clone()),
            links: AttachmentLinks { this: h.link(&format!("{own}/Attachments/{id}")), item: h.link(&own) },
            id,
        }
    }
}

/// The attachment id of a file name (lower-case hex of its UTF-8 bytes).
pub fn attachment_id(file_name: &str) -> String {
    hex::encode(file_name.as_bytes())
}

/// `https://host/sites/x/Lists/y` → `/sites/x/Lists/y`.
fn server_relative(url: &str) -> String {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map(|i| rest[i..].to_string()).unwrap_or_else(|| "/".to_string()),
        None => url.to_string(),
    }
}

/// The web URL of a list or library: SharePoint's conventions (`{site}/Lists/{NameWithoutSpaces}` for lists,
/// `{site}/{Title}` for libraries, `Shared Documents` for the default library).
fn list_url(site_url: &str, list: &ListInfo) -> String {
    let site = site_url.trim_end_matches('/');
    if list.is_document_library {
        let name = if list.title == "Documents" { "Shared Documents" } else { list.title.as_str() };
        format!("{site}/{}", name.replace(' ', "%20"))
    } else {
        format!("{site}/Lists/{}", list.title.replace(' ', ""))
    }
}

/// The list URL an item belongs to, from its `webUrl` (`…/Lists/Issues/DispForm.aspx?ID=1`) when it has one.
fn item_list_url(row: &ItemRow) -> Option<String> {
    let url = row.state.web_url.as_deref()?;
    let i = url.to_ascii_lowercase().find("/dispform.aspx")?;
    Some(url[..i].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(server_relative("https://h:1/_sp/x/sites/a/Lists/B"), "/_sp/x/sites/a/Lists/B");
        assert_eq!(server_relative("https://h"), "/");
        let lib = ListInfo {
            list_id: "l".into(),
            site_id: "s".into(),
            title: "Documents".into(),
            template: "documentLibrary".into(),
            is_document_library: true,
            drive_id: None,
        };
        assert_eq!(list_url("https://h/sites/a/", &lib), "https://h/sites/a/Shared%20Documents");
        let list = ListInfo { title: "My Issues".into(), is_document_library: false, ..lib };
        assert_eq!(list_url("https://h/sites/a", &list), "https://h/sites/a/Lists/MyIssues");
        assert_eq!(attachment_id("a.txt"), "612e747874");
    }
}
