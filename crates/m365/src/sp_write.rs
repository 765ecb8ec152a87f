//! Writing to SharePoint lists (restore): sites by URL, lists by title, list items and their fields through Graph,
//! list-item attachments through SharePoint REST (`…/_api/web/lists(guid'…')/items(N)/AttachmentFiles`, tokens for
//! the SharePoint host's audience: Graph has no attachment API).
//!
//! * [`writable_fields`] keeps the user columns of a backed-up `fields` object: system columns (`Created`,
//!   `Author`, `Attachments`, `ID`, …) and OData annotations are dropped, because SharePoint refuses writes to them.
//! * [`create_item`] / [`update_fields`] / [`get_item`] / [`items`]: list items with their fields.
//! * [`attachments`], [`attachment_bytes`], [`add_attachment`], [`delete_attachment`]: attachments by file name.
//! * [`site_by_url`], [`list_by_title`], [`create_list`]: where a restore writes to.

use bytes::Bytes;
use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::api::encode_segment;
use crate::auth::Resource;
use crate::client::{error_of, json_or_error, Call, GraphClient};
use crate::error::{M365Error, Result};
use crate::types::{List, Site};

/// Columns SharePoint computes or owns: never written back.
pub const SYSTEM_FIELDS: &[&str] = &[
    "Created",
    "Modified",
    "Author",
    "Editor",
    "AuthorLookupId",
    "EditorLookupId",
    "Attachments",
    "ID",
    "id",
    "ContentType",
    "ContentTypeId",
    "_UIVersionString",
    "Edit",
    "LinkTitle",
    "LinkTitleNoMenu",
    "ItemChildCount",
    "FolderChildCount",
    "FileLeafRef",
    "GUID",
    "UniqueId",
    "_ComplianceFlags",
    "_ComplianceTag",
    "_ComplianceTagWrittenTime",
    "_ComplianceTagUserId",
    "AppAuthorLookupId",
    "AppEditorLookupId",
    "DocIcon",
];

/// The user columns of a `fields` object (see the [module docs](self)).
pub fn writable_fields(fields: &Value) -> Map<String, Value> {
    let Some(m) = fields.as_object() else { return Map::new() };
    m.iter()
        .filter(|(k, _)| !k.starts_with('@') && !k.contains("@odata.") && !k.starts_with("odata."))
        .filter(|(k, _)| !SYSTEM_FIELDS.iter().any(|s| s.eq_ignore_ascii_case(k)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn optional(r: Result<Value>) -> Result<Option<Value>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.status() == Some(404) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A site by Graph id.
pub async fn site(client: &GraphClient, site_id: &str) -> Result<Site> {
    client.get_json(&format!("/sites/{site_id}")).await
}

/// The site whose `webUrl` is `url` (case-insensitive, trailing `/` ignored): Graph's `{host}:/{path}` addressing,
/// then the sites the tenant lists (and their subsites), which also finds sites behind a proxy URL.
pub async fn site_by_url(client: &GraphClient, url: &str) -> Result<Site> {
    let want = url.trim().trim_end_matches('/').to_ascii_lowercase();
    let same = |s: &Site| s.web_url.as_deref().is_some_and(|w| w.trim_end_matches('/').eq_ignore_ascii_case(&want));
    if let Some((host, path)) = want.split_once("://").and_then(|(_, rest)| rest.split_once('/')) {
        if let Ok(Some(v)) = optional(client.get_json(&format!("/sites/{host}:/{path}")).await) {
            if let Ok(s) = serde_json::from_value::<Site>(v) {
                if same(&s) {
                    return Ok(s);
                }
            }
        }
    }
    let mut pending = client.sites().await?;
    while let Some(s) = pending.pop() {
        if same(&s) {
            return Ok(s);
        }
        pending.extend(client.subsites(&s.id).await.unwrap_or_default());
    }
    Err(M365Error::Invalid(format!("no site has the URL '{url}'")))
}

/// The list or library of `site_id` titled `title` (display name or URL name, case-insensitive).
pub async fn list_by_title(client: &GraphClient, site_id: &str, title: &str) -> Result<Option<List>> {
    let want = title.trim();
    Ok(client.lists(site_id).await?.into_iter().find(|l| {
        l.display_name.as_deref().is_some_and(|d| d.eq_ignore_ascii_case(want))
            || l.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(want))
    }))
}

/// Creates a list (`genericList`) or document library (`documentLibrary`) titled `title`.
pub async fn create_list(client: &GraphClient, site_id: &str, title: &str, template: &str) -> Result<List> {
    let body = json!({"displayName": title, "list": {"template": template}});
    let v = client.send_json(Method::POST, &format!("/sites/{site_id}/lists"), &body).await?;
    serde_json::from_value(v).map_err(|e| M365Error::Invalid(format!("list answer: {e}")))
}

/// A list item with its fields; `None` when it does not exist.
pub async fn get_item(client: &GraphClient, site_id: &str, list_id: &str, item: &str) -> Result<Option<Value>> {
    optional(client.get_json(&format!("/sites/{site_id}/lists/{list_id}/items/{item}?expand=fields")).await)
}

/// Every item of a list with its fields.
pub async fn items(client: &GraphClient, site_id: &str, list_id: &str) -> Result<Vec<Value>> {
    client.get_all(&format!("/sites/{site_id}/lists/{list_id}/items?expand=fields")).await
}

/// Creates an item with `fields`; returns the listItem.
pub async fn create_item(
    client: &GraphClient,
    site_id: &str,
    list_id: &str,
    fields: &Map<String, Value>,
) -> Result<Value> {
    let body = json!({"fields": fields});
    client.send_json(Method::POST, &format!("/sites/{site_id}/lists/{list_id}/items"), &body).await
}

/// Writes `fields` into an existing item; returns its fields.
pub async fn update_fields(
    client: &GraphClient,
    site_id: &str,
    list_id: &str,
    item: &str,
    fields: &Map<String, Value>,
) -> Result<Value> {
    let path = format!("/sites/{site_id}/lists/{list_id}/items/{item}/fields");
    client.send_json(Method::PATCH, &path, &Value::Object(fields.clone())).await
}

/// `{webUrl}/_api/web/lists(guid'…')/items(N)` and the SharePoint host its tokens are for.
fn item_url(site: &Site, list_id: &str, item: &str) -> Result<(String, Resource)> {
    let web = site.web_url.as_deref().ok_or_else(|| M365Error::Invalid(format!("site {} has no webUrl", site.id)))?;
    let host = site
        .site_collection
        .as_ref()
        .and_then(|c| c.hostname.clone())
        .or_else(|| site.id.split(',').next().map(str::to_string))
        .ok_or_else(|| M365Error::Invalid(format!("site {} has no hostname", site.id)))?;
    let url = format!("{}/_api/web/lists(guid'{list_id}')/items({item})", web.trim_end_matches('/'));
    Ok((url, Resource::SharePoint(host)))
}

/// A file name as an OData string literal inside a URL (`'` doubled, then percent-encoded).
fn literal(name: &str) -> String {
    encode_segment(&name.replace('\'', "''"))
}

fn sp_call(method: Method, url: String, resource: Resource) -> Call<'static> {
    Call {
        method,
        url,
        resource: Some(resource),
        body: None,
        headers: vec![("accept", "application/json;odata=nometadata".into())],
    }
}

/// File names of an item's attachments.
pub async fn attachments(client: &GraphClient, site: &Site, list_id: &str, item: &str) -> Result<Vec<String>> {
    let (url, resource) = item_url(site, list_id, item)?;
    let v: Value =
        json_or_error(client.send(sp_call(Method::GET, format!("{url}/AttachmentFiles"), resource)).await?).await?;
    Ok(v.get("value")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| a.get("FileName").and_then(Value::as_str).map(str::to_string))
        .collect())
}

/// The bytes of attachment `name`.
pub async fn attachment_bytes(
    client: &GraphClient,
    site: &Site,
    list_id: &str,
    item: &str,
    name: &str,
) -> Result<Bytes> {
    let (url, resource) = item_url(site, list_id, item)?;
    let call = sp_call(Method::GET, format!("{url}/AttachmentFiles('{}')/$value", literal(name)), resource);
    let resp = client.send(call).await?;
    if !resp.status().is_success() {
        return Err(error_of(resp).await);
    }
    Ok(resp.bytes().await?)
}

/// Adds attachment `name` with `data` (fails with 409 when the name exists).
pub async fn add_attachment(
    client: &GraphClient,
    site: &Site,
    list_id: &str,
    item: &str,
    name: &str,
    data: Bytes,
) -> Result<()> {
    let (url, resource) = item_url(site, list_id, item)?;
    let mut call = sp_call(Method::POST, format!("{url}/AttachmentFiles/add(FileName='{}')", literal(name)), resource);
    call.headers.push(("content-type", "application/octet-stream".into()));
    call.body = Some(data);
    let resp = client.send(call).await?;
    if !resp.status().is_success() {
        return Err(error_of(resp).await);
    }
    Ok(())
}

/// Deletes attachment `name` (absent is fine).
pub async fn delete_attachment(client: &GraphClient, site: &Site, list_id: &str, item: &str, name: &str) -> Result<()> {
    let (url, resource) = item_url(site, list_id, item)?;
    let resp =
        client.send(sp_call(Method::DELETE, format!("{url}/AttachmentFiles('{}')", literal(name)), resource)).await?;
    if !resp.status().is_success() && resp.status().as_u16() != 404 {
        return Err(error_of(resp).await);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_user_columns_are_writable() {
        let f = json!({"@odata.etag": "x", "Title": "t", "Status": "Open", "Created": "c", "AuthorLookupId": "7",
                       "Attachments": true, "id": "3", "Priority@odata.type": "x", "linktitle": "t"});
        let w = writable_fields(&f);
        let mut keys: Vec<&str> = w.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["Status", "Title"]);
    }

    #[test]
    fn literals_are_quoted_and_encoded() {
        assert_eq!(literal("it's a.txt"), "it%27%27s%20a.txt");
    }
}
