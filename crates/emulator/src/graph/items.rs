//! Drives and drive items: metadata, children, content, simple upload, folders, PATCH, DELETE, versions
//! (graph-notes §2, §4, §5.1, §5.3–§5.6).
//!
//! Choices where Microsoft's behaviour is not pinned down by a cited source (graph-notes [I]):
//! - `GET …/children` of a *file* answers 200 with an empty `value` (the service treats it as a leaf).
//! - `POST …/children` with `replace` on an existing folder answers **200** with the existing folder
//!   (not 201: nothing was created).
//! - Simple upload by path (`root:/a/b/c.txt:/content`, `items/{id}:/a/c.txt:/content`) creates missing
//!   intermediate folders, as OneDrive does (onedrive-api-docs issues #82/#83).
//! - `GET …/content` of a folder → 400 `invalidRequest`; `PUT /items/{folder}/content` → 501 `notSupported`
//!   "Cannot upload content to an item representing a folder." (observed, msgraph-sdk-python #894).
//! - `versions` of a folder → 404 `itemNotFound`; `versions/{current}/content` → 400 `invalidRequest`
//!   "You cannot get the content of the current version." (observed, onedrive-api-docs #1112).
//! - The drive root cannot be renamed, moved or deleted → 403 `accessDenied`.
//! - Moving across drives with PATCH → 400 `invalidRequest` (use copy).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::render::{self, ItemOpts};
use super::resolve;
use super::routes::*;
use crate::ctx::{no_content, Ctx};
use crate::error::{GraphError, GraphResult};
use crate::state::{FileVersion, Item, NewItem, State, Time};

/// Largest body a simple PUT accepts (graph-notes §5.1: 250 MB; larger needs an upload session).
pub const MAX_SIMPLE_UPLOAD: u64 = 250 * 1024 * 1024;

const CONFLICT_ANNOTATION: &str = "@microsoft.graph.conflictBehavior";

/// `@microsoft.graph.conflictBehavior` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conflict {
    Fail,
    Replace,
    Rename,
}

impl Conflict {
    /// Parse the annotation; absent means `default` (which differs per operation, §5.4).
    pub fn parse(raw: Option<&str>, default: Conflict) -> Result<Conflict, GraphError> {
        match raw.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") => Ok(default),
            Some("fail") => Ok(Conflict::Fail),
            Some("replace") => Ok(Conflict::Replace),
            Some("rename") => Ok(Conflict::Rename),
            Some(other) => Err(GraphError::bad_request(format!("Invalid value '{other}' for {CONFLICT_ANNOTATION}."))),
        }
    }
}

/// OneDrive/SharePoint naming rules ("Restrictions and limitations in OneDrive and SharePoint"):
/// no `" * : < > ? / \ |` or control characters, no leading/trailing space, no trailing period,
/// not `.lock`, `CON`, `PRN`, `AUX`, `NUL`, `COM0-9`, `LPT0-9`, `desktop.ini`, no `_vti_` anywhere,
/// no `~$` prefix. Graph answers 400 `invalidRequest` with inner code `invalidPath`.
pub fn validate_name(name: &str) -> Result<(), GraphError> {
    let bad = |why: &str| {
        Err(GraphError::bad_request(format!("The provided name '{name}' is not valid: {why}.")).inner("invalidPath"))
    };
    if name.is_empty() || name.trim().is_empty() {
        return bad("the name is empty");
    }
    if let Some(c) = name.chars().find(|c| "\"*:<>?/\\|".contains(*c) || c.is_control()) {
        return bad(&format!("it contains the character {c:?}"));
    }
    if name.starts_with(' ') || name.ends_with(' ') {
        return bad("it starts or ends with a space");
    }
    if name.ends_with('.') {
        return bad("it ends with a period");
    }
    let lower = name.to_ascii_lowercase();
    let reserved_device = |p: &str| {
        lower.len() == 4 && lower.starts_with(p) && lower.as_bytes()[3].is_ascii_digit()
            || matches!(lower.as_str(), "con" | "prn" | "aux" | "nul")
    };
    if lower == ".lock" || lower == "desktop.ini" || reserved_device("com") || reserved_device("lpt") {
        return bad("it is a reserved name");
    }
    if lower.contains("_vti_") {
        return bad("'_vti_' is not allowed in names");
    }
    if name.starts_with("~$") {
        return bad("names may not start with '~$'");
    }
    Ok(())
}

/// Compare an `If-Match`/`If-None-Match` value with an item's eTag (and cTag for files).
fn tag_matches(header_value: &str, it: &Item) -> bool {
    let h = header_value.trim();
    if h == "*" {
        return true;
    }
    let norm = |s: &str| s.trim().trim_start_matches("W/").trim_matches('"').to_string();
    let want = norm(h);
    want == norm(&render::etag(it)) || (!it.is_folder && want == norm(&render::ctag(it)))
}

pub fn precondition_failed() -> GraphError {
    GraphError::new(StatusCode::PRECONDITION_FAILED, "resourceModified", "ETag does not match current item's value.")
        .inner("entityTagDoesNotMatch")
}

/// `If-Match` on writes: 412 `resourceModified` unless it names the item's current eTag/cTag.
pub fn check_if_match(ctx: &Ctx, it: &Item) -> Result<(), GraphError> {
    match ctx.header("if-match") {
        Some(h) if !tag_matches(h, it) => Err(precondition_failed()),
        _ => Ok(()),
    }
}

fn if_none_match_hit(ctx: &Ctx, it: &Item) -> bool {
    ctx.header("if-none-match").is_some_and(|h| tag_matches(h, it))
}

fn not_modified(it: &Item) -> Response {
    let mut r = StatusCode::NOT_MODIFIED.into_response();
    if let Ok(v) = HeaderValue::from_str(&render::etag(it)) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

fn io_error(e: std::io::Error) -> GraphError {
    GraphError::new(StatusCode::INTERNAL_SERVER_ERROR, "generalException", format!("Storage error: {e}"))
}

fn full_opts() -> ItemOpts {
    ItemOpts { delta: false, download_url: true }
}

fn item_value(ctx: &Ctx, st: &State, id: &str) -> Value {
    render::item_json(ctx.emu, st, &st.items[id], full_opts())
}

fn annotation<'a>(ctx: &'a Ctx, body: Option<&'a Map<String, Value>>) -> Result<Option<&'a str>, GraphError> {
    match body.and_then(|b| b.get(CONFLICT_ANNOTATION)) {
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(Value::Null) | None => Ok(ctx.query.get(CONFLICT_ANNOTATION)),
        Some(_) => Err(GraphError::bad_request(format!("{CONFLICT_ANNOTATION} must be a string."))),
    }
}

fn body_object(ctx: &Ctx) -> Result<Map<String, Value>, GraphError> {
    match ctx.json_body()? {
        Value::Object(m) => Ok(m),
        _ => Err(GraphError::bad_request("The request body must be a JSON object.")),
    }
}

fn parse_time(v: &Value, field: &str) -> Result<Option<Time>, GraphError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&chrono::Utc)))
            .map_err(|_| GraphError::bad_request(format!("Invalid DateTimeOffset value '{s}' for {field}."))),
        _ => Err(GraphError::bad_request(format!("{field} must be a DateTimeOffset string."))),
    }
}

/// `fileSystemInfo` → (createdDateTime, lastModifiedDateTime); `lastAccessedDateTime` is accepted and ignored.
fn parse_fs_info(v: Option<&Value>) -> Result<(Option<Time>, Option<Time>), GraphError> {
    match v {
        None | Some(Value::Null) => Ok((None, None)),
        Some(Value::Object(m)) => {
            let c = m.get("createdDateTime").map(|v| parse_time(v, "fileSystemInfo.createdDateTime")).transpose()?;
            let l = m
                .get("lastModifiedDateTime")
                .map(|v| parse_time(v, "fileSystemInfo.lastModifiedDateTime"))
                .transpose()?;
            Ok((c.flatten(), l.flatten()))
        }
        Some(_) => Err(GraphError::bad_request("fileSystemInfo must be an object.")),
    }
}

fn apply_fs_info(st: &mut State, id: &str, fs: (Option<Time>, Option<Time>)) {
    if let Some(it) = st.items.get_mut(id) {
        if let Some(c) = fs.0 {
            it.fs_created = c;
        }
        if let Some(m) = fs.1 {
            it.fs_modified = m;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Drives

pub fn get_drive(ctx: &Ctx, d: &DriveSel) -> GraphResult {
    let v = {
        let st = ctx.emu.state();
        let id = resolve::drive_id(ctx, &st, d)?;
        render::drive_json(ctx.emu, &st, &st.drives[&id])
    };
    Ok(ctx.ok(v))
}

/// `GET /drives/{id}/list`: the document library behind the drive.
pub fn get_drive_list(ctx: &Ctx, d: &DriveSel) -> GraphResult {
    let v = {
        let st = ctx.emu.state();
        let id = resolve::drive_id(ctx, &st, d)?;
        let drive = &st.drives[&id];
        let list = st.lists.get(&drive.list_id).ok_or_else(|| GraphError::not_found("list"))?;
        let mut v = json!({
            "id": list.id,
            "name": list.name,
            "displayName": list.display_name,
            "description": list.description,
            "eTag": format!("\"{{{}}},{}\"", list.id, list.etag_version),
            "createdDateTime": render::time(&list.created),
            "lastModifiedDateTime": render::time(&list.modified),
            "webUrl": render::drive_web_url(ctx.emu, &st, drive),
            "parentReference": {"siteId": list.site_id},
            "list": {"template": list.template, "hidden": list.hidden, "contentTypesEnabled": false},
            "sharepointIds": render::sharepoint_ids(ctx.emu, &st, drive),
        });
        if list.system {
            v["system"] = json!({});
        }
        v
    };
    Ok(ctx.ok(v))
}

// ---------------------------------------------------------------------------------------------
// Items: read

fn wants_children(ctx: &Ctx) -> bool {
    ctx.query.get("expand").is_some_and(|e| e.split(',').any(|p| p.trim().to_ascii_lowercase().starts_with("children")))
}

pub fn get_item(ctx: &Ctx, sel: &ItemSel) -> GraphResult {
    let st = ctx.emu.state();
    let (_, id) = resolve::item(ctx, &st, sel)?;
    let it = &st.items[&id];
    if if_none_match_hit(ctx, it) {
        return Ok(not_modified(it));
    }
    let mut v = ctx.select(item_value(ctx, &st, &id));
    // Expanded navigation properties survive $select, as in Graph.
    if it.is_folder && wants_children(ctx) {
        let kids: Vec<Value> = st.children_of(&id).into_iter().map(|c| item_value(ctx, &st, &c.id)).collect();
        v["children"] = Value::Array(kids);
    }
    Ok((StatusCode::OK, axum::Json(v)).into_response())
}

fn sort_children(kids: &mut [&Item], orderby: Option<&str>) -> Result<(), GraphError> {
    let Some(raw) = orderby.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(());
    };
    let mut parts = raw.split_whitespace();
    let field = parts.next().unwrap_or_default().to_string();
    let desc = match parts.next().map(|d| d.to_ascii_lowercase()) {
        None => false,
        Some(d) if d == "asc" => false,
        Some(d) if d == "desc" => true,
        Some(d) => return Err(GraphError::bad_request(format!("Invalid $orderby direction '{d}'."))),
    };
    match field.as_str() {
        "name" => kids.sort_by_key(|a| a.name.to_lowercase()),
        "lastModifiedDateTime" => kids.sort_by_key(|a| a.modified),
        "createdDateTime" => kids.sort_by_key(|a| a.created),
        "size" => kids.sort_by_key(|a| a.size),
        other => return Err(GraphError::bad_request(format!("$orderby is not supported on '{other}'."))),
    }
    if desc {
        kids.reverse();
    }
    Ok(())
}

pub fn list_children(ctx: &Ctx, sel: &ItemSel) -> GraphResult {
    let values = {
        let st = ctx.emu.state();
        let (drive, id) = resolve::item(ctx, &st, sel)?;
        let it = &st.items[&id];
        // A folder's eTag ignores changes below it (§2.2), so 304 is only safe when nothing in the
        // whole drive changed since the folder itself last did.
        if it.is_folder && if_none_match_hit(ctx, it) && st.drives[&drive].seq == it.change_seq {
            return Ok(not_modified(it));
        }
        let mut kids = if it.is_folder { st.children_of(&id) } else { Vec::new() };
        sort_children(&mut kids, ctx.query.get("orderby"))?;
        kids.into_iter().map(|c| item_value(ctx, &st, &c.id)).collect::<Vec<_>>()
    };
    Ok(ctx.paged(values))
}

// ---------------------------------------------------------------------------------------------
// Items: create folder

pub fn create_child(ctx: &Ctx, sel: &ItemSel) -> GraphResult {
    let body = body_object(ctx)?;
    let name = match body.get("name") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => return Err(GraphError::bad_request("The name of the new item is required.")),
        Some(_) => return Err(GraphError::bad_request("name must be a string.")),
    };
    validate_name(&name)?;
    let is_folder = body.get("folder").is_some_and(|v| !v.is_null());
    let is_file = body.get("file").is_some_and(|v| !v.is_null());
    if is_folder == is_file {
        return Err(GraphError::bad_request("Exactly one of the 'folder' or 'file' facets must be given."));
    }
    let cb = Conflict::parse(annotation(ctx, Some(&body))?, Conflict::Fail)?;
    let fs = parse_fs_info(body.get("fileSystemInfo"))?;
    let description = match body.get("description") {
        Some(Value::String(s)) => Some(s.clone()),
        None | Some(Value::Null) => None,
        Some(_) => return Err(GraphError::bad_request("description must be a string.")),
    };
    let by = ctx.actor();
    // An empty file is a real 0-byte version, so it downloads and hashes like any other.
    let empty = if is_file { Some(ctx.emu.blobs.put(&[]).map_err(io_error)?) } else { None };
    let now = ctx.now;
    let mut st = ctx.emu.state();
    let (drive, parent) = resolve::item(ctx, &st, sel)?;
    if !st.items[&parent].is_folder {
        return Err(GraphError::bad_request("The parent item is not a folder."));
    }
    let mut final_name = name.clone();
    if let Some(existing) = st.child_by_name(&parent, &name) {
        match cb {
            Conflict::Fail => return Err(GraphError::conflict_name()),
            Conflict::Rename => final_name = st.unique_name(&parent, &name),
            Conflict::Replace if existing.is_folder != is_folder => return Err(GraphError::conflict_name()),
            Conflict::Replace if is_folder => {
                // Idempotent "ensure folder": the existing folder comes back untouched.
                let id = existing.id.clone();
                return Ok(ctx.ok(item_value(ctx, &st, &id)));
            }
            Conflict::Replace => {
                let id = existing.id.clone();
                if let Some((c, size, qx)) = empty {
                    st.add_version(&id, c, size, qx, by, now);
                }
                return Ok(ctx.ok(item_value(ctx, &st, &id)));
            }
        }
    }
    let id = st.create_item(NewItem {
        drive_id: &drive,
        parent_id: &parent,
        name: &final_name,
        is_folder,
        by: by.clone(),
        now,
    });
    if let Some((c, size, qx)) = empty {
        st.add_version(&id, c, size, qx, by, now);
    }
    apply_fs_info(&mut st, &id, fs);
    if let Some(it) = st.items.get_mut(&id) {
        it.description = description;
    }
    Ok(ctx.created(item_value(ctx, &st, &id)))
}

// ---------------------------------------------------------------------------------------------
// Content

pub fn get_content(ctx: &Ctx, sel: &ItemSel) -> GraphResult {
    let st = ctx.emu.state();
    let (_, id) = resolve::item(ctx, &st, sel)?;
    let it = &st.items[&id];
    if it.is_folder {
        return Err(GraphError::bad_request("Cannot download the content of an item representing a folder."));
    }
    if if_none_match_hit(ctx, it) {
        return Ok(not_modified(it));
    }
    let url = ctx.emu.download_url(&st, &id, None);
    Ok(redirect(&url))
}

fn redirect(url: &str) -> Response {
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(url) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn too_large() -> GraphError {
    GraphError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "invalidRequest",
        "The request body exceeds the maximum size of a simple upload (250 MB); use an upload session.",
    )
    .inner("maxFileSizeExceeded")
}

fn folder_upload() -> GraphError {
    GraphError::new(
        StatusCode::NOT_IMPLEMENTED,
        "notSupported",
        "Cannot upload content to an item representing a folder.",
    )
}

/// Simple upload: `PUT …/items/{parent}:/{name}:/content`, `…/root:/{path}:/content` (new or replaced file,
/// conflictBehavior in the query, default `replace`) and `PUT …/items/{id}/content` (new version).
pub fn put_content(ctx: &Ctx, sel: &ItemSel) -> GraphResult {
    // Refuse by the declared length before looking at anything else.
    if ctx.header("content-length").and_then(|v| v.trim().parse::<u64>().ok()).is_some_and(|l| l > MAX_SIMPLE_UPLOAD)
        || ctx.body.len() as u64 > MAX_SIMPLE_UPLOAD
    {
        return Err(too_large());
    }
    let cb = Conflict::parse(ctx.query.get(CONFLICT_ANNOTATION), Conflict::Replace)?;
    let comps: Option<Vec<String>> = sel.path.as_ref().map(|p| p.iter().filter(|c| !c.is_empty()).cloned().collect());
    if let Some(c) = &comps {
        if c.is_empty() {
            return Err(GraphError::bad_request("The path of the file to upload is empty.").inner("invalidPath"));
        }
        for n in c {
            validate_name(n)?;
        }
    }
    let by = ctx.actor();
    let (content, size, qx) = ctx.emu.blobs.put(&ctx.body).map_err(io_error)?;
    let now = ctx.now;
    let mut st = ctx.emu.state();
    let Some(comps) = comps else {
        let (_, id) = resolve::item(ctx, &st, sel)?;
        let it = &st.items[&id];
        if it.is_folder {
            return Err(folder_upload());
        }
        check_if_match(ctx, it)?;
        st.add_version(&id, content, size, qx, by, now);
        return Ok(ctx.ok(item_value(ctx, &st, &id)));
    };
    let (drive, base) = resolve::item_base(ctx, &st, sel)?;
    if !st.items[&base].is_folder {
        return Err(GraphError::bad_request("The item addressed before the path is not a folder."));
    }
    let (last, dirs) = comps.split_last().expect("checked non-empty");
    // Walk the existing part of the path; a file in the way is a name conflict.
    let mut cur = base;
    let mut existing_depth = 0;
    for d in dirs {
        match st.child_by_name(&cur, d) {
            Some(c) if c.is_folder => {
                cur = c.id.clone();
                existing_depth += 1;
            }
            Some(_) => return Err(GraphError::conflict_name()),
            None => break,
        }
    }
    let mut name = last.clone();
    let target = if existing_depth == dirs.len() { st.child_by_name(&cur, last).cloned() } else { None };
    match &target {
        Some(t) => match cb {
            Conflict::Fail => return Err(GraphError::conflict_name()),
            Conflict::Rename => name = st.unique_name(&cur, last),
            Conflict::Replace if t.is_folder => return Err(GraphError::conflict_name()),
            Conflict::Replace => {
                check_if_match(ctx, t)?;
                st.add_version(&t.id, content, size, qx, by, now);
                return Ok(ctx.ok(item_value(ctx, &st, &t.id)));
            }
        },
        // If-Match names a version of something that does not exist: it cannot match.
        None if ctx.header("if-match").is_some() => return Err(precondition_failed()),
        None => {}
    }
    for d in &dirs[existing_depth..] {
        cur = st.create_item(NewItem {
            drive_id: &drive,
            parent_id: &cur,
            name: d,
            is_folder: true,
            by: by.clone(),
            now,
        });
    }
    let id = st.create_item(NewItem {
        drive_id: &drive,
        parent_id: &cur,
        name: &name,
        is_folder: false,
        by: by.clone(),
        now,
    });
    st.add_version(&id, content, size, qx, by, now);
    Ok(ctx.created(item_value(ctx, &st, &id)))
}

// ---------------------------------------------------------------------------------------------
// Update and delete

/// The folder a `parentReference` names: `id`, or `path` like `/drives/{d}/root:/A/B`.
fn parent_from_reference(st: &State, drive: &str, pr: &Map<String, Value>) -> Result<Option<String>, GraphError> {
    if let Some(d) = pr.get("driveId").and_then(Value::as_str) {
        if d != drive {
            return Err(GraphError::bad_request(
                "Moving items between drives is not supported by update; use copy instead.",
            ));
        }
    }
    if let Some(pid) = pr.get("id").and_then(Value::as_str) {
        return match st.items.get(pid).filter(|p| p.deleted.is_none()) {
            Some(p) if p.drive_id != drive => Err(GraphError::bad_request(
                "Moving items between drives is not supported by update; use copy instead.",
            )),
            Some(_) => Ok(Some(pid.to_string())),
            None => Err(GraphError::not_found("parent item")),
        };
    }
    if let Some(path) = pr.get("path").and_then(Value::as_str) {
        let rel = path.split_once("root:").map(|(_, r)| r).ok_or_else(|| {
            GraphError::bad_request(format!("Unsupported parentReference.path '{path}'.")).inner("invalidPath")
        })?;
        let segs: Vec<String> = rel
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        let root = st.drives[drive].root_id.clone();
        return st.resolve_path(&root, &segs).map(Some).ok_or_else(|| GraphError::not_found("parent item"));
    }
    Ok(None)
}

pub fn patch_item(ctx: &Ctx, sel: &ItemSel) -> GraphResult {
    let body = body_object(ctx)?;
    let new_name = match body.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            validate_name(s)?;
            Some(s.clone())
        }
        Some(_) => return Err(GraphError::bad_request("name must be a string.")),
    };
    let parent_ref = match body.get("parentReference") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => return Err(GraphError::bad_request("parentReference must be an object.")),
    };
    let fs = parse_fs_info(body.get("fileSystemInfo"))?;
    let description = match body.get("description") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(_) => return Err(GraphError::bad_request("description must be a string.")),
    };
    let cb = Conflict::parse(annotation(ctx, Some(&body))?, Conflict::Fail)?;
    let by = ctx.actor();
    let now = ctx.now;
    let mut st = ctx.emu.state();
    let (drive, id) = resolve::item(ctx, &st, sel)?;
    let (cur_name, cur_parent) = {
        let it = &st.items[&id];
        check_if_match(ctx, it)?;
        (it.name.clone(), it.parent_id.clone())
    };
    let new_parent = match &parent_ref {
        Some(pr) => parent_from_reference(&st, &drive, pr)?,
        None => None,
    };
    let name_change = new_name.filter(|n| *n != cur_name);
    let parent_change = new_parent.filter(|p| Some(p) != cur_parent.as_ref());
    let moving = name_change.is_some() || parent_change.is_some();
    if moving && cur_parent.is_none() {
        return Err(GraphError::access_denied("The root of a drive cannot be renamed or moved."));
    }
    if let Some(p) = &parent_change {
        if !st.items[p].is_folder {
            return Err(GraphError::bad_request("The destination of a move must be a folder."));
        }
        if st.is_same_or_descendant(p, &id) {
            return Err(GraphError::bad_request("An item cannot be moved into itself or one of its descendants."));
        }
    }
    if moving {
        let target_parent = parent_change.clone().or(cur_parent).expect("non-root items have a parent");
        let target_name = name_change.clone().unwrap_or_else(|| cur_name.clone());
        let mut final_name = name_change.clone();
        let clash = st.child_by_name(&target_parent, &target_name).filter(|e| e.id != id).map(|e| e.id.clone());
        if let Some(other) = clash {
            match cb {
                Conflict::Fail => return Err(GraphError::conflict_name()),
                Conflict::Rename => final_name = Some(st.unique_name(&target_parent, &target_name)),
                Conflict::Replace => {
                    if st.is_same_or_descendant(&id, &other) {
                        return Err(GraphError::conflict_name());
                    }
                    st.delete_item(&other, now);
                }
            }
        }
        st.rename_move(&id, final_name.as_deref(), parent_change.as_deref(), by.clone(), now);
    }
    let meta = fs.0.is_some() || fs.1.is_some() || description.is_some();
    if meta {
        apply_fs_info(&mut st, &id, fs);
        if let (Some(d), Some(it)) = (description, st.items.get_mut(&id)) {
            it.description = d;
        }
        if !moving {
            st.touch_metadata(&id, Some(by), now);
        }
    }
    Ok(ctx.ok(item_value(ctx, &st, &id)))
}

pub fn delete_item(ctx: &Ctx, sel: &ItemSel) -> GraphResult {
    let now = ctx.now;
    let mut st = ctx.emu.state();
    let (_, id) = resolve::item(ctx, &st, sel)?;
    let it = &st.items[&id];
    if it.parent_id.is_none() {
        return Err(GraphError::access_denied("The root of a drive cannot be deleted."));
    }
    check_if_match(ctx, it)?;
    st.delete_item(&id, now);
    Ok(no_content())
}

// ---------------------------------------------------------------------------------------------
// Versions

/// A file's (id, versions) or 404 for folders, which have no version history in Graph.
fn file_versions(ctx: &Ctx, st: &State, sel: &ItemSel) -> Result<(String, Vec<FileVersion>), GraphError> {
    let (_, id) = resolve::item(ctx, st, sel)?;
    let it = &st.items[&id];
    if it.is_folder {
        return Err(GraphError::not_found("versions of a folder"));
    }
    Ok((id, it.versions.clone()))
}

fn find_version<'a>(versions: &'a [FileVersion], label: &str) -> Result<(usize, &'a FileVersion), GraphError> {
    versions
        .iter()
        .enumerate()
        .find(|(_, v)| v.label.eq_ignore_ascii_case(label))
        .ok_or_else(|| GraphError::not_found(&format!("version '{label}'")))
}

fn version_json(ctx: &Ctx, st: &State, item_id: &str, v: &FileVersion) -> Value {
    json!({
        "@microsoft.graph.downloadUrl": ctx.emu.download_url(st, item_id, Some(&v.label)),
        "id": v.label,
        "lastModifiedDateTime": render::time(&v.modified),
        "lastModifiedBy": render::identity_set(&v.modified_by),
        "size": v.size,
    })
}

/// Newest first; the current version is the first entry (as commonly seen in ODB, graph-notes §4).
pub fn list_versions(ctx: &Ctx, sel: &ItemSel) -> GraphResult {
    let values = {
        let st = ctx.emu.state();
        let (id, versions) = file_versions(ctx, &st, sel)?;
        versions.iter().rev().map(|v| version_json(ctx, &st, &id, v)).collect::<Vec<_>>()
    };
    Ok(ctx.paged(values))
}

pub fn get_version(ctx: &Ctx, sel: &ItemSel, label: &str) -> GraphResult {
    let st = ctx.emu.state();
    let (id, versions) = file_versions(ctx, &st, sel)?;
    let (_, v) = find_version(&versions, label)?;
    Ok(ctx.ok(version_json(ctx, &st, &id, v)))
}

pub fn version_content(ctx: &Ctx, sel: &ItemSel, label: &str) -> GraphResult {
    let st = ctx.emu.state();
    let (id, versions) = file_versions(ctx, &st, sel)?;
    let (idx, v) = find_version(&versions, label)?;
    if idx + 1 == versions.len() {
        // Graph refuses this; the current content is downloaded through the item's /content.
        return Err(GraphError::bad_request("You cannot get the content of the current version."));
    }
    Ok(redirect(&ctx.emu.download_url(&st, &id, Some(&v.label))))
}

/// Appends a new version with the old content; restoring the current version changes nothing.
pub fn restore_version(ctx: &Ctx, sel: &ItemSel, label: &str) -> GraphResult {
    let by = ctx.actor();
    let now = ctx.now;
    let mut st = ctx.emu.state();
    let (id, versions) = file_versions(ctx, &st, sel)?;
    let (idx, v) = find_version(&versions, label)?;
    if idx + 1 < versions.len() {
        st.add_version(&id, v.content.clone(), v.size, v.quick_xor.clone(), by, now);
    }
    Ok(no_content())
}

// ---------------------------------------------------------------------------------------------
// listItem behind a drive item

/// `GET …/items/{id}/listItem`: the document library row of a file or folder (the root has none).
pub fn get_item_list_item(ctx: &Ctx, sel: &ItemSel) -> GraphResult {
    let v = {
        let st = ctx.emu.state();
        let (drive_id, id) = resolve::item(ctx, &st, sel)?;
        let it = &st.items[&id];
        if it.parent_id.is_none() {
            return Err(GraphError::not_found("listItem of the drive root"));
        }
        let drive = &st.drives[&drive_id];
        let (ct_id, ct_name) = if it.is_folder { ("0x0120", "Folder") } else { ("0x0101", "Document") };
        let etag = render::etag(it);
        let web_url = item_value(ctx, &st, &id)["webUrl"].clone();
        let mut fields = json!({
            "@odata.etag": etag,
            "id": it.list_item_id.to_string(),
            "FileLeafRef": it.name,
            "LinkFilename": it.name,
            "ContentType": ct_name,
            "Created": render::time(&it.created),
            "Modified": render::time(&it.modified),
            "_UIVersionString": it.versions.last().map(|v| v.label.clone()).unwrap_or_else(|| "1.0".into()),
            "Edit": "",
            "ItemChildCount": "0",
            "FolderChildCount": "0",
        });
        if it.is_folder {
            let kids = st.children_of(&id);
            let folders = kids.iter().filter(|k| k.is_folder).count();
            fields["ItemChildCount"] = json!((kids.len() - folders).to_string());
            fields["FolderChildCount"] = json!(folders.to_string());
        } else {
            fields["FileSizeDisplay"] = json!(it.size.to_string());
            if let Some(ext) = it.name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()) {
                fields["DocIcon"] = json!(ext);
            }
        }
        if let Some(d) = &it.description {
            fields["_ExtendedDescription"] = json!(d);
        }
        let mut sp = render::sharepoint_ids(ctx.emu, &st, drive);
        sp["listItemId"] = json!(it.list_item_id.to_string());
        sp["listItemUniqueId"] = json!(it.unique_id.to_lowercase());
        json!({
            "@odata.etag": etag,
            "id": it.list_item_id.to_string(),
            "eTag": etag,
            "createdDateTime": render::time(&it.created),
            "lastModifiedDateTime": render::time(&it.modified),
            "createdBy": render::identity_set(&it.created_by),
            "lastModifiedBy": render::identity_set(&it.modified_by),
            "webUrl": web_url,
            "parentReference": {"id": drive.list_id, "siteId": drive.site_id},
            "contentType": {"id": ct_id, "name": ct_name},
            "sharepointIds": sp,
            "fields": fields,
        })
    };
    Ok(ctx.ok(v))
}
