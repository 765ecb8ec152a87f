//! Typed Graph and SharePoint REST calls used by backup and restore.

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use reqwest::Method;
use serde_json::Value;

use crate::auth::Resource;
use crate::client::{json_or_error, Call, GraphClient};
use crate::error::{M365Error, Result};
use crate::types::*;

/// Characters escaped inside one URL path segment.
const SEGMENT: &AsciiSet =
    &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'/').add(b'?').add(b'<').add(b'>').add(b'`').add(b'\'');

pub fn encode_segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

fn parse<T: serde::de::DeserializeOwned>(v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| M365Error::Invalid(format!("unexpected Graph JSON: {e}")))
}

fn parse_all<T: serde::de::DeserializeOwned>(v: Vec<Value>) -> Result<Vec<T>> {
    v.into_iter().map(parse).collect()
}

impl GraphClient {
    pub async fn users(&self) -> Result<Vec<User>> {
        parse_all(self.get_all("/users?$select=id,userPrincipalName,mail,displayName").await?)
    }

    /// A user's OneDrive; `None` when it is not provisioned (Graph answers 404).
    pub async fn user_drive(&self, user: &str) -> Result<Option<Drive>> {
        match self.get_json::<Drive>(&format!("/users/{}/drive", encode_segment(user))).await {
            Ok(d) => Ok(Some(d)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn drive(&self, drive_id: &str) -> Result<Drive> {
        self.get_json(&format!("/drives/{drive_id}")).await
    }

    /// URL of a full delta enumeration of a drive (the first request of a backup).
    pub fn drive_delta_start(&self, drive_id: &str) -> String {
        self.url(&format!("/drives/{drive_id}/root/delta"))
    }

    pub async fn item(&self, drive_id: &str, item_id: &str) -> Result<DriveItem> {
        self.get_json(&format!("/drives/{drive_id}/items/{item_id}")).await
    }

    pub async fn children(&self, drive_id: &str, item_id: &str) -> Result<Vec<DriveItem>> {
        parse_all(self.get_all(&format!("/drives/{drive_id}/items/{item_id}/children")).await?)
    }

    /// All versions Graph exposes for a file (newest first as Graph lists them).
    pub async fn versions(&self, drive_id: &str, item_id: &str) -> Result<Vec<DriveItemVersion>> {
        parse_all(self.get_all(&format!("/drives/{drive_id}/items/{item_id}/versions")).await?)
    }

    /// Download URL of the current content (resolves the 302 of `/content`).
    pub async fn content_url(&self, drive_id: &str, item_id: &str) -> Result<String> {
        self.download_url(&format!("/drives/{drive_id}/items/{item_id}/content")).await
    }

    /// Download URL of an older version.
    pub async fn version_content_url(&self, drive_id: &str, item_id: &str, version: &str) -> Result<String> {
        self.download_url(&format!("/drives/{drive_id}/items/{item_id}/versions/{}/content", encode_segment(version)))
            .await
    }

    pub async fn permissions(&self, drive_id: &str, item_id: &str) -> Result<Vec<Value>> {
        self.get_all(&format!("/drives/{drive_id}/items/{item_id}/permissions")).await
    }

    /// Team sites (search `*`), not OneDrive personal sites.
    pub async fn sites(&self) -> Result<Vec<Site>> {
        parse_all(self.get_all("/sites?search=*").await?)
    }

    pub async fn subsites(&self, site_id: &str) -> Result<Vec<Site>> {
        parse_all(self.get_all(&format!("/sites/{site_id}/sites")).await?)
    }

    pub async fn lists(&self, site_id: &str) -> Result<Vec<List>> {
        parse_all(self.get_all(&format!("/sites/{site_id}/lists")).await?)
    }

    pub async fn list_drive(&self, site_id: &str, list_id: &str) -> Result<Drive> {
        self.get_json(&format!("/sites/{site_id}/lists/{list_id}/drive")).await
    }

    pub async fn list_items(&self, site_id: &str, list_id: &str) -> Result<Vec<ListItem>> {
        parse_all(self.get_all(&format!("/sites/{site_id}/lists/{list_id}/items?expand=fields")).await?)
    }

    /// SharePoint REST: attachments of a list item. `site_url` is the site's `webUrl`.
    pub async fn attachments(&self, site: &Site, list_id: &str, item_id: &str) -> Result<Vec<Attachment>> {
        let (url, host) = sp_item_url(site, list_id, item_id)?;
        let call = Call {
            method: Method::GET,
            url: format!("{url}/AttachmentFiles"),
            resource: Some(Resource::SharePoint(host)),
            body: None,
            headers: vec![("accept", "application/json;odata=nometadata".into())],
        };
        let v: Value = json_or_error(self.send(call).await?).await?;
        parse_all(v.get("value").and_then(Value::as_array).cloned().unwrap_or_default())
    }

    /// SharePoint REST URL of an attachment's bytes plus the resource its token is for.
    pub fn attachment_value_url(
        &self,
        site: &Site,
        list_id: &str,
        item_id: &str,
        file: &str,
    ) -> Result<(String, Resource)> {
        let (url, host) = sp_item_url(site, list_id, item_id)?;
        let quoted = encode_segment(&file.replace('\'', "''"));
        Ok((format!("{url}/AttachmentFiles('{quoted}')/$value"), Resource::SharePoint(host)))
    }
}

/// `{webUrl}/_api/web/lists(guid'…')/items(N)` and the SharePoint host for its token.
fn sp_item_url(site: &Site, list_id: &str, item_id: &str) -> Result<(String, String)> {
    let web = site.web_url.as_deref().ok_or_else(|| M365Error::Invalid(format!("site {} has no webUrl", site.id)))?;
    let host = site
        .site_collection
        .as_ref()
        .and_then(|c| c.hostname.clone())
        .or_else(|| site.id.split(',').next().map(str::to_string))
        .ok_or_else(|| M365Error::Invalid(format!("site {} has no hostname", site.id)))?;
    Ok((format!("{}/_api/web/lists(guid'{list_id}')/items({item_id})", web.trim_end_matches('/')), host))
}
