//! Graph resources as the backup reads them. Unknown properties are ignored and missing ones
//! default, because Graph omits properties freely (delta drops `name`/`cTag`, folders have no cTag).

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct IdentityRef {
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct IdentitySet {
    pub user: Option<IdentityRef>,
    pub application: Option<IdentityRef>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct User {
    pub id: String,
    pub user_principal_name: String,
    pub mail: Option<String>,
    pub display_name: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Drive {
    pub id: String,
    pub drive_type: Option<String>,
    pub name: Option<String>,
    pub web_url: Option<String>,
    pub owner: Option<IdentitySet>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ItemReference {
    pub drive_id: Option<String>,
    pub id: Option<String>,
    pub path: Option<String>,
    pub name: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Hashes {
    pub quick_xor_hash: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct FileFacet {
    pub mime_type: Option<String>,
    pub hashes: Option<Hashes>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct FileSystemInfo {
    pub created_date_time: Option<String>,
    pub last_modified_date_time: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct DriveItem {
    pub id: String,
    pub name: Option<String>,
    pub size: Option<u64>,
    pub e_tag: Option<String>,
    pub c_tag: Option<String>,
    pub created_date_time: Option<String>,
    pub last_modified_date_time: Option<String>,
    pub created_by: Option<IdentitySet>,
    pub last_modified_by: Option<IdentitySet>,
    pub parent_reference: Option<ItemReference>,
    pub file: Option<FileFacet>,
    pub folder: Option<Value>,
    pub package: Option<Value>,
    pub root: Option<Value>,
    pub deleted: Option<Value>,
    pub remote_item: Option<Value>,
    pub shared: Option<Value>,
    pub file_system_info: Option<FileSystemInfo>,
    pub web_url: Option<String>,
    #[serde(rename = "@microsoft.graph.downloadUrl")]
    pub download_url: Option<String>,
}

impl DriveItem {
    pub fn is_folder(&self) -> bool {
        self.folder.is_some() || self.package.is_some() || self.root.is_some()
    }
    pub fn is_deleted(&self) -> bool {
        self.deleted.is_some()
    }
    pub fn quick_xor(&self) -> Option<&str> {
        self.file.as_ref()?.hashes.as_ref()?.quick_xor_hash.as_deref()
    }
    pub fn parent_id(&self) -> Option<&str> {
        self.parent_reference.as_ref()?.id.as_deref()
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct DriveItemVersion {
    pub id: String,
    pub last_modified_date_time: Option<String>,
    pub last_modified_by: Option<IdentitySet>,
    pub size: Option<u64>,
    #[serde(rename = "@microsoft.graph.downloadUrl")]
    pub download_url: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct SiteCollection {
    pub hostname: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Site {
    pub id: String,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub web_url: Option<String>,
    pub site_collection: Option<SiteCollection>,
    pub is_personal_site: Option<bool>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ListInfo {
    pub template: Option<String>,
    pub hidden: Option<bool>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct List {
    pub id: String,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub web_url: Option<String>,
    pub list: Option<ListInfo>,
    pub system: Option<Value>,
}

impl List {
    pub fn is_document_library(&self) -> bool {
        self.list.as_ref().and_then(|l| l.template.as_deref()) == Some("documentLibrary")
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ListItem {
    pub id: String,
    pub e_tag: Option<String>,
    pub created_date_time: Option<String>,
    pub last_modified_date_time: Option<String>,
    pub created_by: Option<IdentitySet>,
    pub last_modified_by: Option<IdentitySet>,
    pub web_url: Option<String>,
    pub fields: Option<serde_json::Map<String, Value>>,
    pub deleted: Option<Value>,
}

impl ListItem {
    /// Graph's only hint that SharePoint REST holds attachments for this item.
    pub fn has_attachments(&self) -> bool {
        self.fields.as_ref().and_then(|f| f.get("Attachments")).and_then(Value::as_bool).unwrap_or(false)
    }
}

/// A SharePoint REST `SP.Attachment`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Attachment {
    #[serde(rename = "FileName")]
    pub file_name: String,
    #[serde(rename = "ServerRelativeUrl")]
    pub server_relative_url: Option<String>,
}
