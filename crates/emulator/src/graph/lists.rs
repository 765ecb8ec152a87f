//! SharePoint lists and list items (graph-notes §7.2, §7.3, list-item delta of §3).
//!
//! Generic-list items live in `List::items`; the items of a document library are its drive items
//! (addressed by their `list_item_id`) and are read-only through this surface except for DELETE.
//! `fields` holds only the user columns; system columns (`Created`, `Modified`, `AuthorLookupId`,
//! `Attachments`, …) are computed when rendering, so they can never disagree with the item.
//!
//! Choices where Microsoft's behaviour is not pinned down:
//! - Writing a system/read-only column (`Created`, `Modified`, `Author`, `Editor`, `AuthorLookupId`,
//!   `EditorLookupId`, `Attachments`, `ID`/`id`, `ContentType`, `_UIVersionString`, `Edit`,
//!   `LinkTitle`, `LinkTitleNoMenu`, `ItemChildCount`, `FolderChildCount`, `FileLeafRef`, `GUID`,
//!   `UniqueId`) is a 400 `invalidRequest` naming the field, so restore code that forgets to strip
//!   them fails loudly. OData annotations (`@odata.etag`, …) in the body are ignored.
//! - A `null` value in PATCH `…/fields` clears the column.
//! - POST `…/items` on a document library → 400 `invalidRequest` (files go through the drive API).
//! - PATCH of document-library item fields → 400 `notSupported` (the emulator keeps no columns there).
//! - `…/versions` of a generic item holds only its current version (no history is kept).
//! - Item paging uses SharePoint-style `$skiptoken=Paged=TRUE&p_ID=N` (base64), a cursor by id.
//! - `If-Match` on PATCH/DELETE is honoured (412 `resourceModified` on mismatch).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::render;
use super::routes::*;
use super::sites::{require_read, require_write, site_id};
use crate::ctx::{select_fields, Ctx};
use crate::emu::Emu;
use crate::error::{GraphError, GraphResult};
use crate::state::{IdentitySet, Item, List, ListItem, State};

/// Columns SharePoint computes or owns; clients cannot write them.
const READ_ONLY: &[&str] = &[
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
];

/// SharePoint user-info-list id of the app principal ("SharePoint App").
const APP_LOOKUP_ID: &str = "1073741822";
/// SharePoint user-info-list id of "System Account".
const SYSTEM_LOOKUP_ID: &str = "1073741823";

/// Invalidate every outstanding list-item delta token of generic lists: their next use answers
/// 410 resync. (Document-library lists follow their drive's floor, see `delta::force_resync`.)
pub fn force_list_resync(st: &mut State) {
    for l in st.lists.values_mut() {
        // Bump the sequence so tokens issued from now on sit at or above the floor.
        l.seq += 1;
        l.delta_floor = l.seq;
    }
}

fn list_not_found() -> GraphError {
    GraphError::new(StatusCode::NOT_FOUND, "itemNotFound", "The specified list was not found")
}

fn item_not_found() -> GraphError {
    GraphError::new(StatusCode::NOT_FOUND, "itemNotFound", "The specified list item was not found")
}

/// (site id, list id) of a route's site and list.
fn lookup(st: &State, s: &SiteSel, l: &str) -> Result<(String, String), GraphError> {
    let sid = site_id(st, s)?;
    let list = super::resolve::list(st, &sid, l).map_err(|_| list_not_found())?;
    Ok((sid, list.id.clone()))
}

fn parse_item_id(i: &str) -> Result<u64, GraphError> {
    i.trim()
        .parse::<u64>()
        .map_err(|_| GraphError::new(StatusCode::BAD_REQUEST, "invalidRequest", format!("Invalid list item id '{i}'.")))
}

fn is_library(l: &List) -> bool {
    l.drive_id.is_some()
}

fn list_web_url(emu: &Emu, st: &State, l: &List) -> String {
    let site = render::site_web_url(emu, st, &l.site_id);
    if is_library(l) {
        format!("{site}/{}", l.name)
    } else {
        format!("{site}/Lists/{}", l.name)
    }
}

fn guid_hex(g: &str) -> String {
    g.replace('-', "").to_uppercase()
}

fn system_account() -> Value {
    json!({"user": {"displayName": "System Account"}})
}

fn list_sharepoint_ids(emu: &Emu, st: &State, l: &List) -> Value {
    let site = st.sites.get(&l.site_id);
    json!({
        "listId": l.id,
        "siteId": site.map(|s| s.collection_id.clone()),
        "siteUrl": render::site_web_url(emu, st, &l.site_id),
        "tenantId": st.tenant.id,
        "webId": site.map(|s| s.web_id.clone()),
    })
}

pub fn list_json(emu: &Emu, st: &State, l: &List) -> Value {
    let mut v = Map::new();
    v.insert("@odata.etag".into(), json!(format!("\"{},{}\"", l.id, l.etag_version)));
    v.insert("id".into(), json!(l.id));
    v.insert("name".into(), json!(l.name));
    v.insert("displayName".into(), json!(l.display_name));
    v.insert("description".into(), json!(l.description));
    v.insert("eTag".into(), json!(format!("\"{},{}\"", l.id, l.etag_version)));
    v.insert("webUrl".into(), json!(list_web_url(emu, st, l)));
    v.insert("createdDateTime".into(), json!(render::time(&l.created)));
    v.insert("lastModifiedDateTime".into(), json!(render::time(&l.modified)));
    v.insert("createdBy".into(), system_account());
    v.insert("lastModifiedBy".into(), system_account());
    v.insert("parentReference".into(), json!({"siteId": l.site_id}));
    v.insert("sharepointIds".into(), list_sharepoint_ids(emu, st, l));
    v.insert("list".into(), json!({"template": l.template, "hidden": l.hidden, "contentTypesEnabled": false}));
    if l.system {
        v.insert("system".into(), json!({}));
    }
    Value::Object(v)
}

pub fn list_lists(ctx: &Ctx, s: &SiteSel) -> GraphResult {
    require_read(ctx)?;
    // System lists are hidden unless `$select` asks for the `system` facet.
    let with_system =
        ctx.query.get("select").is_some_and(|sel| sel.split(',').any(|x| x.trim().eq_ignore_ascii_case("system")));
    let values: Vec<Value> = {
        let st = ctx.emu.state();
        let sid = site_id(&st, s)?;
        let mut lists: Vec<&List> =
            st.lists.values().filter(|l| l.site_id == sid && (with_system || !l.system)).collect();
        lists.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        lists.into_iter().map(|l| list_json(ctx.emu, &st, l)).collect()
    };
    Ok(ctx.paged(values))
}

pub fn get_list(ctx: &Ctx, s: &SiteSel, l: &str) -> GraphResult {
    require_read(ctx)?;
    let v = {
        let st = ctx.emu.state();
        let (_, lid) = lookup(&st, s, l)?;
        list_json(ctx.emu, &st, &st.lists[&lid])
    };
    Ok(ctx.ok(v))
}

// ---------------------------------------------------------------------------------------------
// Rendering list items

/// `$expand=fields` / `expand=fields(select=A,B)` / `$expand=fields($select=A,B)`.
#[derive(Clone, Debug, PartialEq)]
enum Fields {
    None,
    All,
    Only(Vec<String>),
}

/// Split at top-level commas (not inside parentheses).
/// `POST /sites/{s}/lists` with `{displayName, list: {template}}` (restores re-create deleted lists this way). A
/// title already used by a list of the site is a 409 `nameAlreadyExists`, as in SharePoint.
pub fn create_list(ctx: &Ctx, s: &SiteSel) -> GraphResult {
    require_write(ctx)?;
    let body = ctx.json_body()?;
    let title = body.get("displayName").and_then(Value::as_str).map(str::trim).unwrap_or_default().to_string();
    if title.is_empty() {
        return Err(GraphError::bad_request("The request body must contain a non-empty 'displayName'."));
    }
    let template = body.pointer("/list/template").and_then(Value::as_str).unwrap_or("genericList").to_string();
    if !matches!(template.as_str(), "genericList" | "documentLibrary") {
        return Err(GraphError::bad_request(format!("List template '{template}' is not supported.")));
    }
    let mut st = ctx.emu.state();
    let sid = site_id(&st, s)?;
    let taken = st.lists.values().any(|l| l.site_id == sid && l.display_name.eq_ignore_ascii_case(&title));
    if taken {
        return Err(GraphError::new(
            StatusCode::CONFLICT,
            "nameAlreadyExists",
            format!("A list, survey, discussion board, or document library with the specified title '{title}' already exists in this Web site."),
        ));
    }
    let lid = st.create_list(&sid, &title, &template, None, ctx.now);
    let v = list_json(ctx.emu, &st, &st.lists[&lid]);
    Ok(json_response(StatusCode::CREATED, v))
}

fn split_top(s: &str, sep: char) -> Vec<String> {
    let (mut out, mut cur, mut depth) = (Vec::new(), String::new(), 0i32);
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if c == sep && depth == 0 {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out.into_iter().map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect()
}

fn fields_expand(ctx: &Ctx) -> Result<Fields, GraphError> {
    let Some(exp) = ctx.query.get("expand") else { return Ok(Fields::None) };
    let mut out = Fields::None;
    for part in split_top(exp, ',') {
        let (name, args) = match part.split_once('(') {
            Some((n, rest)) => (n.trim().to_string(), Some(rest.trim_end_matches(')').to_string())),
            None => (part.clone(), None),
        };
        if !name.eq_ignore_ascii_case("fields") {
            return Err(GraphError::new(
                StatusCode::BAD_REQUEST,
                "invalidRequest",
                format!(
                    "Parsing OData Select and Expand failed: Could not find a property named '{name}' on type \
                     'microsoft.graph.listItem'."
                ),
            ));
        }
        out = Fields::All;
        for opt in args.iter().flat_map(|a| split_top(a, ';')) {
            match opt.split_once('=') {
                Some((k, v)) if k.trim().trim_start_matches('$').eq_ignore_ascii_case("select") => {
                    let cols: Vec<String> =
                        v.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
                    if !cols.is_empty() && !cols.iter().any(|c| c == "*") {
                        out = Fields::Only(cols);
                    }
                }
                _ => {
                    return Err(GraphError::bad_request(format!("Unsupported option '{opt}' in $expand=fields(...).")))
                }
            }
        }
    }
    Ok(out)
}

fn restrict(mut fields: Map<String, Value>, sel: &Fields) -> Map<String, Value> {
    if let Fields::Only(cols) = sel {
        fields.retain(|k, _| k.starts_with('@') || cols.iter().any(|c| c.eq_ignore_ascii_case(k)));
    }
    fields
}

/// SharePoint user-info-list id of whoever `by` names (stable per user).
fn lookup_id(st: &State, by: &IdentitySet) -> String {
    if let Some(u) = &by.user {
        if let Some(pos) = st.users.keys().position(|k| *k == u.id) {
            return (pos + 10).to_string();
        }
    }
    if by.application.is_some() {
        return APP_LOOKUP_ID.to_string();
    }
    SYSTEM_LOOKUP_ID.to_string()
}

fn generic_etag(it: &ListItem) -> String {
    format!("\"{},{}\"", it.unique_id, it.etag_version)
}

fn generic_fields(st: &State, it: &ListItem) -> Map<String, Value> {
    let mut f = Map::new();
    f.insert("@odata.etag".into(), json!(generic_etag(it)));
    let title = it.fields.get("Title").cloned();
    if let Some(t) = &title {
        f.insert("Title".into(), t.clone());
    }
    for (k, v) in &it.fields {
        if k != "Title" && !READ_ONLY.contains(&k.as_str()) {
            f.insert(k.clone(), v.clone());
        }
    }
    f.insert("id".into(), json!(it.id.to_string()));
    f.insert("ContentType".into(), json!("Item"));
    f.insert("Modified".into(), json!(render::time(&it.modified)));
    f.insert("Created".into(), json!(render::time(&it.created)));
    f.insert("AuthorLookupId".into(), json!(lookup_id(st, &it.created_by)));
    f.insert("EditorLookupId".into(), json!(lookup_id(st, &it.modified_by)));
    f.insert("_UIVersionString".into(), json!(format!("{}.0", it.etag_version)));
    f.insert("Attachments".into(), json!(!it.attachments.is_empty()));
    f.insert("Edit".into(), json!(""));
    f.insert("LinkTitleNoMenu".into(), title.clone().unwrap_or(json!("")));
    f.insert("LinkTitle".into(), title.unwrap_or(json!("")));
    f.insert("ItemChildCount".into(), json!("0"));
    f.insert("FolderChildCount".into(), json!("0"));
    f
}

fn library_fields(st: &State, it: &Item) -> Map<String, Value> {
    let mut f = Map::new();
    f.insert("@odata.etag".into(), json!(render::etag(it)));
    f.insert("FileLeafRef".into(), json!(it.name));
    f.insert("id".into(), json!(it.list_item_id.to_string()));
    f.insert("ContentType".into(), json!(if it.is_folder { "Folder" } else { "Document" }));
    f.insert("Created".into(), json!(render::time(&it.created)));
    f.insert("Modified".into(), json!(render::time(&it.modified)));
    f.insert("AuthorLookupId".into(), json!(lookup_id(st, &it.created_by)));
    f.insert("EditorLookupId".into(), json!(lookup_id(st, &it.modified_by)));
    f.insert("_UIVersionString".into(), json!(format!("{}.0", it.versions.len().max(1))));
    f.insert("Attachments".into(), json!(false));
    f.insert("Edit".into(), json!(""));
    f.insert("LinkFilenameNoMenu".into(), json!(it.name));
    f.insert("LinkFilename".into(), json!(it.name));
    if it.is_folder {
        let kids = st.children_of(&it.id);
        let folders = kids.iter().filter(|k| k.is_folder).count();
        f.insert("ItemChildCount".into(), json!((kids.len() - folders).to_string()));
        f.insert("FolderChildCount".into(), json!(folders.to_string()));
    } else {
        let ext = it.name.rsplit_once('.').map(|(_, e)| e.to_lowercase()).unwrap_or_default();
        f.insert("DocIcon".into(), json!(ext));
        f.insert("FileSizeDisplay".into(), json!(it.size.to_string()));
        f.insert("ItemChildCount".into(), json!("0"));
        f.insert("FolderChildCount".into(), json!("0"));
    }
    f
}

fn item_sharepoint_ids(emu: &Emu, st: &State, l: &List, item_id: u64, unique: &str) -> Value {
    let mut v = list_sharepoint_ids(emu, st, l);
    v["listItemId"] = json!(item_id.to_string());
    v["listItemUniqueId"] = json!(unique.to_lowercase());
    v
}

fn generic_item_json(emu: &Emu, st: &State, l: &List, it: &ListItem, fields: &Fields) -> Value {
    let etag = generic_etag(it);
    let mut v = Map::new();
    v.insert("@odata.etag".into(), json!(etag));
    v.insert("id".into(), json!(it.id.to_string()));
    v.insert("eTag".into(), json!(etag));
    v.insert("createdDateTime".into(), json!(render::time(&it.created)));
    v.insert("lastModifiedDateTime".into(), json!(render::time(&it.modified)));
    v.insert("createdBy".into(), render::identity_set(&it.created_by));
    v.insert("lastModifiedBy".into(), render::identity_set(&it.modified_by));
    v.insert("webUrl".into(), json!(format!("{}/DispForm.aspx?ID={}", list_web_url(emu, st, l), it.id)));
    v.insert("contentType".into(), json!({"id": format!("0x0100{}", guid_hex(&l.id)), "name": "Item"}));
    v.insert("parentReference".into(), json!({"id": l.id, "siteId": l.site_id}));
    v.insert("sharepointIds".into(), item_sharepoint_ids(emu, st, l, it.id, &it.unique_id));
    if *fields != Fields::None {
        v.insert("fields".into(), Value::Object(restrict(generic_fields(st, it), fields)));
    }
    Value::Object(v)
}

fn library_item_json(emu: &Emu, st: &State, l: &List, it: &Item, fields: &Fields) -> Value {
    let etag = render::etag(it);
    let drive_item = render::item_json(emu, st, it, render::ItemOpts::default());
    let (ct_prefix, ct_name) = if it.is_folder { ("0x0120", "Folder") } else { ("0x0101", "Document") };
    let mut v = Map::new();
    v.insert("@odata.etag".into(), json!(etag));
    v.insert("id".into(), json!(it.list_item_id.to_string()));
    v.insert("eTag".into(), json!(etag));
    v.insert("createdDateTime".into(), json!(render::time(&it.created)));
    v.insert("lastModifiedDateTime".into(), json!(render::time(&it.modified)));
    v.insert("createdBy".into(), render::identity_set(&it.created_by));
    v.insert("lastModifiedBy".into(), render::identity_set(&it.modified_by));
    v.insert("webUrl".into(), drive_item.get("webUrl").cloned().unwrap_or(Value::Null));
    v.insert("contentType".into(), json!({"id": format!("{ct_prefix}{}", guid_hex(&l.id)), "name": ct_name}));
    v.insert("parentReference".into(), json!({"id": l.id, "siteId": l.site_id}));
    v.insert("sharepointIds".into(), item_sharepoint_ids(emu, st, l, it.list_item_id, &it.unique_id));
    if *fields != Fields::None {
        v.insert("fields".into(), Value::Object(restrict(library_fields(st, it), fields)));
    }
    Value::Object(v)
}

/// `$select` on the listItem itself; an expanded `fields` survives it, as in Graph.
fn select_item(ctx: &Ctx, v: Value) -> Value {
    let fields = v.get("fields").cloned();
    let mut out = select_fields(v, ctx.query.get("select"));
    if let (Some(f), Value::Object(m)) = (fields, &mut out) {
        m.insert("fields".into(), f);
    }
    out
}

/// Live items of a list as (SharePoint id, rendering closure input), ordered by id.
enum Row<'a> {
    Generic(&'a ListItem),
    Library(&'a Item),
}

fn rows<'a>(st: &'a State, l: &'a List) -> Vec<(u64, Row<'a>)> {
    let mut out: Vec<(u64, Row)> = match &l.drive_id {
        None => l.items.values().filter(|i| i.deleted.is_none()).map(|i| (i.id, Row::Generic(i))).collect(),
        Some(d) => st
            .items
            .values()
            .filter(|i| i.drive_id == *d && i.parent_id.is_some() && i.deleted.is_none())
            .map(|i| (i.list_item_id, Row::Library(i)))
            .collect(),
    };
    out.sort_by_key(|(id, _)| *id);
    out
}

fn render_row(emu: &Emu, st: &State, l: &List, r: &Row, fields: &Fields) -> Value {
    match r {
        Row::Generic(i) => generic_item_json(emu, st, l, i, fields),
        Row::Library(i) => library_item_json(emu, st, l, i, fields),
    }
}

fn find_row<'a>(st: &'a State, l: &'a List, id: u64) -> Option<Row<'a>> {
    match &l.drive_id {
        None => l.items.get(&id).filter(|i| i.deleted.is_none()).map(Row::Generic),
        Some(d) => st
            .items
            .values()
            .find(|i| i.drive_id == *d && i.list_item_id == id && i.parent_id.is_some() && i.deleted.is_none())
            .map(Row::Library),
    }
}

fn page_size(ctx: &Ctx, st: &State) -> usize {
    ctx.query
        .get("top")
        .and_then(|t| t.parse::<usize>().ok())
        .filter(|t| *t > 0)
        .unwrap_or(st.settings.page_size)
        .max(1)
}

fn skiptoken_cursor(ctx: &Ctx) -> Result<u64, GraphError> {
    let Some(tok) = ctx.query.get("skiptoken") else { return Ok(0) };
    let bad = || GraphError::bad_request("The $skiptoken is not valid.");
    let raw = base64::engine::general_purpose::STANDARD.decode(tok.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    text.split('&').find_map(|kv| kv.strip_prefix("p_ID=")).and_then(|n| n.parse::<u64>().ok()).ok_or_else(bad)
}

fn json_response(status: StatusCode, v: Value) -> Response {
    (status, axum::Json(v)).into_response()
}

pub fn list_items(ctx: &Ctx, s: &SiteSel, l: &str) -> GraphResult {
    require_read(ctx)?;
    let fields = fields_expand(ctx)?;
    let after = skiptoken_cursor(ctx)?;
    let st = ctx.emu.state();
    let (_, lid) = lookup(&st, s, l)?;
    let list = &st.lists[&lid];
    let size = page_size(ctx, &st);
    let all = rows(&st, list);
    let mut remaining = all.iter().filter(|(id, _)| *id > after);
    let page: Vec<&(u64, Row)> = remaining.by_ref().take(size).collect();
    let more = remaining.next().is_some();
    let values: Vec<Value> =
        page.iter().map(|(_, r)| select_item(ctx, render_row(ctx.emu, &st, list, r, &fields))).collect();
    let mut body = Map::new();
    body.insert("value".into(), Value::Array(values));
    if let (true, Some((last, _))) = (more, page.last()) {
        let tok = base64::engine::general_purpose::STANDARD.encode(format!("Paged=TRUE&p_ID={last}"));
        let next = format!("{}{}?{}", ctx.graph_base(), ctx.path, ctx.query.with("$skiptoken", &tok));
        body.insert("@odata.nextLink".into(), json!(next));
    }
    Ok(json_response(StatusCode::OK, Value::Object(body)))
}

pub fn get_item(ctx: &Ctx, s: &SiteSel, l: &str, i: &str) -> GraphResult {
    require_read(ctx)?;
    let fields = fields_expand(ctx)?;
    let id = parse_item_id(i)?;
    let st = ctx.emu.state();
    let (_, lid) = lookup(&st, s, l)?;
    let list = &st.lists[&lid];
    let row = find_row(&st, list, id).ok_or_else(item_not_found)?;
    let v = select_item(ctx, render_row(ctx.emu, &st, list, &row, &fields));
    Ok(json_response(StatusCode::OK, v))
}

pub fn get_fields(ctx: &Ctx, s: &SiteSel, l: &str, i: &str) -> GraphResult {
    require_read(ctx)?;
    let id = parse_item_id(i)?;
    let st = ctx.emu.state();
    let (_, lid) = lookup(&st, s, l)?;
    let list = &st.lists[&lid];
    let f = match find_row(&st, list, id).ok_or_else(item_not_found)? {
        Row::Generic(it) => generic_fields(&st, it),
        Row::Library(it) => library_fields(&st, it),
    };
    let sel = match ctx.query.get("select") {
        Some(s) => Fields::Only(s.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect()),
        None => Fields::All,
    };
    Ok(json_response(StatusCode::OK, Value::Object(restrict(f, &sel))))
}

/// Validate a fields object from a request body: user columns only.
fn user_fields(v: Option<&Value>) -> Result<Map<String, Value>, GraphError> {
    let Some(Value::Object(m)) = v else {
        return Err(GraphError::bad_request("The request body must contain a 'fields' object."));
    };
    let mut out = Map::new();
    for (k, val) in m {
        if k.starts_with('@') || k.contains("@odata.") {
            continue;
        }
        if k.trim().is_empty() {
            return Err(GraphError::bad_request("Field names must not be empty."));
        }
        if READ_ONLY.iter().any(|r| r.eq_ignore_ascii_case(k)) {
            return Err(GraphError::new(
                StatusCode::BAD_REQUEST,
                "invalidRequest",
                format!("Field '{k}' is read-only"),
            ));
        }
        out.insert(k.clone(), val.clone());
    }
    Ok(out)
}

pub fn create_item(ctx: &Ctx, s: &SiteSel, l: &str) -> GraphResult {
    require_write(ctx)?;
    let body = ctx.json_body()?;
    let fields = user_fields(body.get("fields"))?;
    let actor = ctx.actor();
    let mut st = ctx.emu.state();
    let (_, lid) = lookup(&st, s, l)?;
    if is_library(&st.lists[&lid]) {
        return Err(GraphError::bad_request(
            "Files and folders should only be added to a DocumentLibrary via the OneDrive API",
        ));
    }
    let unique_id = st.new_guid("unique");
    let list = st.lists.get_mut(&lid).ok_or_else(list_not_found)?;
    let id = list.next_item_id;
    list.next_item_id += 1;
    let fields = fields.into_iter().filter(|(_, v)| !v.is_null()).collect();
    list.items.insert(
        id,
        ListItem {
            id,
            fields,
            created: ctx.now,
            modified: ctx.now,
            created_by: actor.clone(),
            modified_by: actor,
            etag_version: 1,
            unique_id,
            attachments: Vec::new(),
            deleted: None,
            change_seq: 0,
        },
    );
    list.modified = ctx.now;
    st.touch_list_item(&lid, id);
    let list = &st.lists[&lid];
    let v = generic_item_json(ctx.emu, &st, list, &list.items[&id], &Fields::All);
    Ok(json_response(StatusCode::CREATED, v))
}

/// `If-Match` precondition against the item's current eTag.
fn check_if_match(ctx: &Ctx, etag: &str) -> Result<(), GraphError> {
    match ctx.header("if-match").map(str::trim) {
        Some(m) if m != "*" && m != etag && m.trim_matches('"') != etag.trim_matches('"') => Err(GraphError::new(
            StatusCode::PRECONDITION_FAILED,
            "resourceModified",
            "The provided 'If-Match' header does not match the item's current eTag.",
        )
        .inner("entityTagDoesNotMatch")),
        _ => Ok(()),
    }
}

/// Apply a fields patch to a generic item; returns the list id.
fn patch_fields(
    ctx: &Ctx,
    s: &SiteSel,
    l: &str,
    i: &str,
    patch: Map<String, Value>,
) -> Result<(String, u64), GraphError> {
    let id = parse_item_id(i)?;
    let actor = ctx.actor();
    let mut st = ctx.emu.state();
    let (_, lid) = lookup(&st, s, l)?;
    if is_library(&st.lists[&lid]) {
        find_row(&st, &st.lists[&lid], id).ok_or_else(item_not_found)?;
        return Err(GraphError::not_supported(
            "Updating document library columns is not supported by the emulator; use the drive API.",
        ));
    }
    let list = st.lists.get_mut(&lid).ok_or_else(list_not_found)?;
    let it = list.items.get_mut(&id).filter(|i| i.deleted.is_none()).ok_or_else(item_not_found)?;
    check_if_match(ctx, &generic_etag(it))?;
    for (k, v) in patch {
        if v.is_null() {
            it.fields.remove(&k);
        } else {
            it.fields.insert(k, v);
        }
    }
    it.etag_version += 1;
    it.modified = ctx.now;
    it.modified_by = actor;
    list.modified = ctx.now;
    st.touch_list_item(&lid, id);
    Ok((lid, id))
}

pub fn update_fields(ctx: &Ctx, s: &SiteSel, l: &str, i: &str) -> GraphResult {
    require_write(ctx)?;
    let body = ctx.json_body()?;
    let patch = user_fields(Some(&body))?;
    let (lid, id) = patch_fields(ctx, s, l, i, patch)?;
    let st = ctx.emu.state();
    let f = generic_fields(&st, &st.lists[&lid].items[&id]);
    Ok(json_response(StatusCode::OK, Value::Object(f)))
}

/// PATCH on the item itself with `{"fields": {...}}`; answers the listItem.
pub fn update_item(ctx: &Ctx, s: &SiteSel, l: &str, i: &str) -> GraphResult {
    require_write(ctx)?;
    let body = ctx.json_body()?;
    let patch = user_fields(body.get("fields"))?;
    let (lid, id) = patch_fields(ctx, s, l, i, patch)?;
    let st = ctx.emu.state();
    let list = &st.lists[&lid];
    let v = generic_item_json(ctx.emu, &st, list, &list.items[&id], &Fields::All);
    Ok(json_response(StatusCode::OK, v))
}

pub fn delete_item(ctx: &Ctx, s: &SiteSel, l: &str, i: &str) -> GraphResult {
    require_write(ctx)?;
    let id = parse_item_id(i)?;
    let mut st = ctx.emu.state();
    let (_, lid) = lookup(&st, s, l)?;
    let list = &st.lists[&lid];
    let library_item = match find_row(&st, list, id).ok_or_else(item_not_found)? {
        Row::Generic(it) => {
            check_if_match(ctx, &generic_etag(it))?;
            None
        }
        Row::Library(it) => {
            check_if_match(ctx, &render::etag(it))?;
            Some(it.id.clone())
        }
    };
    match library_item {
        Some(item) => st.delete_item(&item, ctx.now),
        None => {
            if let Some(it) = st.lists.get_mut(&lid).and_then(|l| l.items.get_mut(&id)) {
                it.deleted = Some(ctx.now);
            }
            if let Some(l) = st.lists.get_mut(&lid) {
                l.modified = ctx.now;
            }
            st.touch_list_item(&lid, id);
        }
    }
    Ok(crate::ctx::no_content())
}

pub fn item_versions(ctx: &Ctx, s: &SiteSel, l: &str, i: &str) -> GraphResult {
    require_read(ctx)?;
    let fields = fields_expand(ctx)?;
    let id = parse_item_id(i)?;
    let values: Vec<Value> = {
        let st = ctx.emu.state();
        let (_, lid) = lookup(&st, s, l)?;
        let list = &st.lists[&lid];
        match find_row(&st, list, id).ok_or_else(item_not_found)? {
            Row::Generic(it) => {
                let mut v = json!({
                    "id": format!("{}.0", it.etag_version),
                    "lastModifiedDateTime": render::time(&it.modified),
                    "lastModifiedBy": render::identity_set(&it.modified_by),
                });
                if fields != Fields::None {
                    v["fields"] = Value::Object(restrict(generic_fields(&st, it), &fields));
                }
                vec![v]
            }
            Row::Library(it) => it
                .versions
                .iter()
                .rev()
                .map(|ver| {
                    json!({
                        "id": ver.label,
                        "lastModifiedDateTime": render::time(&ver.modified),
                        "lastModifiedBy": render::identity_set(&ver.modified_by),
                    })
                })
                .collect(),
        }
    };
    Ok(ctx.paged(values))
}

// ---------------------------------------------------------------------------------------------
// List-item delta: same model as drive delta (see `graph::delta`), per list. Generic lists use
// the list's sequence (`touch_list_item`), document libraries their drive's.

/// Signed token payload.
#[derive(Serialize, Deserialize, Debug, Clone)]
struct Token {
    /// List id.
    l: String,
    /// Changes after this sequence number.
    s: u64,
    /// Snapshot upper bound of a round in progress (nextLink); absent in deltaLinks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    u: Option<u64>,
    /// Last change sequence number emitted in this round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    a: Option<u64>,
    /// Full enumeration: live items only.
    #[serde(default)]
    f: bool,
}

fn raw_token(ctx: &Ctx) -> Option<String> {
    if let Some(t) = ctx.query.get("token") {
        return Some(t.to_string());
    }
    let last = ctx.path.rsplit('/').next()?;
    let last = percent_encoding::percent_decode_str(last).decode_utf8_lossy().into_owned();
    let args = last.split_once('(')?.1.strip_suffix(')')?;
    let v = args.trim().strip_prefix("token")?.trim_start().strip_prefix('=')?.trim();
    let v = v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')).unwrap_or(v);
    Some(v.to_string())
}

/// Request path without function arguments: `…/items/delta`.
fn link_path(ctx: &Ctx) -> String {
    match ctx.path.rsplit_once('/') {
        Some((head, last)) => {
            let name = last.split_once('(').map(|(n, _)| n).unwrap_or(last);
            let name = name.split_once("%28").map(|(n, _)| n).unwrap_or(name);
            format!("{head}/{name}")
        }
        None => ctx.path.clone(),
    }
}

fn delta_link(ctx: &Ctx, key: &[u8], tok: &Token) -> String {
    let token = crate::preauth::sign(key, tok);
    format!("{}{}?{}", ctx.graph_base(), link_path(ctx), ctx.query.with("token", &token))
}

fn resync(ctx: &Ctx) -> GraphError {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &ctx.query.0 {
        if !k.trim_start_matches('$').eq_ignore_ascii_case("token") {
            ser.append_pair(k, v);
        }
    }
    let q = ser.finish();
    let fresh = format!("{}{}{}{}", ctx.graph_base(), link_path(ctx), if q.is_empty() { "" } else { "?" }, q);
    GraphError::new(
        StatusCode::GONE,
        "resyncRequired",
        "Resync required. Replace any local items with the server's version (including deletes) if you're sure \
         that the service was up to date with your local changes when you last sync'd. Upload any local changes \
         that the server doesn't know about.",
    )
    .inner("resyncChangesApplyDifferences")
    .header("Location", fresh)
}

/// A changed item of a delta round: its sequence number, SharePoint id and current state.
struct Change<'a> {
    seq: u64,
    id: u64,
    row: Option<Row<'a>>,
}

fn changes<'a>(st: &'a State, l: &'a List, since: u64, upper: u64) -> Vec<Change<'a>> {
    let mut out: Vec<Change> = match &l.drive_id {
        None => l
            .items
            .values()
            .filter(|i| i.change_seq > since && i.change_seq <= upper)
            .map(|i| Change { seq: i.change_seq, id: i.id, row: i.deleted.is_none().then_some(Row::Generic(i)) })
            .collect(),
        Some(d) => st
            .items
            .values()
            .filter(|i| i.drive_id == *d && i.parent_id.is_some() && i.change_seq > since && i.change_seq <= upper)
            .map(|i| Change {
                seq: i.change_seq,
                id: i.list_item_id,
                row: i.deleted.is_none().then_some(Row::Library(i)),
            })
            .collect(),
    };
    out.sort_by_key(|c| (c.seq, c.id));
    out
}

pub fn items_delta(ctx: &Ctx, s: &SiteSel, l: &str) -> GraphResult {
    require_read(ctx)?;
    let fields = fields_expand(ctx)?;
    let raw = raw_token(ctx);
    let st = ctx.emu.state();
    let key = crate::preauth::signing_key(&st);
    let (_, lid) = lookup(&st, s, l)?;
    let list = &st.lists[&lid];
    let (seq, floor) = match list.drive_id.as_ref().and_then(|d| st.drives.get(d)) {
        Some(d) => (d.seq, d.delta_floor),
        None => (list.seq, list.delta_floor),
    };
    let tok = match raw.as_deref() {
        None | Some("") => Token { l: lid.clone(), s: 0, u: Some(seq), a: None, f: true },
        Some(t) if t.eq_ignore_ascii_case("latest") => {
            let link = delta_link(ctx, &key, &Token { l: lid.clone(), s: seq, u: None, a: None, f: false });
            return Ok(json_response(StatusCode::OK, json!({"value": [], "@odata.deltaLink": link})));
        }
        Some(t) => {
            let tok: Token = crate::preauth::verify(&key, t)
                .ok_or_else(|| GraphError::bad_request("The delta token is not valid."))?;
            if tok.l != lid {
                return Err(GraphError::bad_request("The delta token belongs to another list."));
            }
            let issued = tok.u.unwrap_or(tok.s);
            if issued < floor || issued > seq {
                return Err(resync(ctx));
            }
            tok
        }
    };
    let upper = tok.u.unwrap_or(seq);
    let size = page_size(ctx, &st);
    let all = changes(&st, list, tok.s, upper);
    let mut remaining = all.iter().filter(|c| tok.a.is_none_or(|a| c.seq > a)).filter(|c| !(tok.f && c.row.is_none()));
    let page: Vec<&Change> = remaining.by_ref().take(size).collect();
    let more = remaining.next().is_some();
    let values: Vec<Value> = page
        .iter()
        .map(|c| match &c.row {
            Some(r) => select_item(ctx, render_row(ctx.emu, &st, list, r, &fields)),
            None => json!({"id": c.id.to_string(), "deleted": {"state": "deleted"}}),
        })
        .collect();
    let mut body = Map::new();
    body.insert("value".into(), Value::Array(values));
    match (more, page.last()) {
        (true, Some(last)) => {
            let next = Token { l: lid.clone(), s: tok.s, u: Some(upper), a: Some(last.seq), f: tok.f };
            body.insert("@odata.nextLink".into(), json!(delta_link(ctx, &key, &next)));
        }
        _ => {
            let done = Token { l: lid.clone(), s: upper, u: None, a: None, f: false };
            body.insert("@odata.deltaLink".into(), json!(delta_link(ctx, &key, &done)));
        }
    }
    Ok(json_response(StatusCode::OK, Value::Object(body)))
}
