//! Upload sessions for large files (graph-notes §5.2, §5.4): `createUploadSession`. The upload URL
//! itself (fragments, status, cancel, commit) is served by the `upload_url` module.
//!
//! Choices where Microsoft's behaviour is not pinned down:
//! - Missing intermediate folders of a path (`root:/A/B/new.bin:/createUploadSession`) are created
//!   when the session is created, as simple upload by path does.
//! - `createUploadSession` on a folder → 400 `invalidRequest`.
//! - `item.name` differing from the name in the path → 400 `invalidRequest`.
//! - With `replace` on an existing file the session writes a new version of it (200 at the end).

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::items::{check_if_match, precondition_failed, validate_name, Conflict};
use super::render;
use super::resolve;
use super::routes::*;
use crate::ctx::Ctx;
use crate::error::{GraphError, GraphResult};
use crate::state::{NewItem, State, Time, UploadSession};

const CONFLICT_ANNOTATION: &str = "@microsoft.graph.conflictBehavior";

/// A fragment must be smaller than 60 MiB.
pub const MAX_FRAGMENT: u64 = 60 * 1024 * 1024;
/// Non-final fragments must be multiples of 320 KiB.
pub const FRAGMENT_MULTIPLE: u64 = 327_680;

/// Absolute upload URL of a session.
pub fn upload_url(base: &str, id: &str) -> String {
    format!("{base}/_up/{id}")
}

/// `nextExpectedRanges` of a session: `["N-"]` until all bytes arrived, then `[]`.
pub fn next_ranges(s: &UploadSession) -> Vec<String> {
    match s.total {
        Some(t) if s.received >= t => Vec::new(),
        _ => vec![format!("{}-", s.received)],
    }
}

/// Make every upload session expired (control API: forced upload-session expiry).
pub fn expire_all_sessions(st: &mut State) {
    let past = chrono::DateTime::from_timestamp(0, 0).unwrap_or_default();
    for s in st.upload_sessions.values_mut() {
        s.expires = past;
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

/// `fileSystemInfo` → (createdDateTime, lastModifiedDateTime).
pub fn fs_times(v: Option<&Value>) -> Result<(Option<Time>, Option<Time>), GraphError> {
    match v {
        None | Some(Value::Null) => Ok((None, None)),
        Some(Value::Object(m)) => Ok((
            m.get("createdDateTime").map(|v| parse_time(v, "fileSystemInfo.createdDateTime")).transpose()?.flatten(),
            m.get("lastModifiedDateTime")
                .map(|v| parse_time(v, "fileSystemInfo.lastModifiedDateTime"))
                .transpose()?
                .flatten(),
        )),
        Some(_) => Err(GraphError::bad_request("fileSystemInfo must be an object.")),
    }
}

fn insufficient_storage() -> GraphError {
    GraphError::new(StatusCode::INSUFFICIENT_STORAGE, "quotaLimitReached", "Insufficient Space Available")
}

/// Remove expired sessions and their scratch files.
fn purge_expired(ctx: &Ctx, st: &mut State) {
    let now = ctx.now;
    let gone: Vec<String> = st.upload_sessions.values().filter(|s| s.expires < now).map(|s| s.id.clone()).collect();
    for id in gone {
        st.upload_sessions.remove(&id);
        let _ = std::fs::remove_file(ctx.emu.blobs.upload_path(&id));
    }
}

/// `POST …:/{name}:/createUploadSession` (new file) and `POST /items/{id}/createUploadSession` (new version).
pub fn create_session(ctx: &Ctx, sel: &ItemSel) -> GraphResult {
    let body = match ctx.json_body()? {
        Value::Object(m) => m,
        _ => return Err(GraphError::bad_request("The request body must be a JSON object.")),
    };
    let empty = Map::new();
    let item = match body.get("item") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(m)) => m,
        Some(_) => return Err(GraphError::bad_request("item must be an object.")),
    };
    let cb_raw = match item.get(CONFLICT_ANNOTATION) {
        Some(Value::String(s)) => Some(s.as_str()),
        None | Some(Value::Null) => ctx.query.get(CONFLICT_ANNOTATION),
        Some(_) => return Err(GraphError::bad_request(format!("{CONFLICT_ANNOTATION} must be a string."))),
    };
    let cb = Conflict::parse(cb_raw, Conflict::Fail)?;
    let defer_commit = match body.get("deferCommit") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(GraphError::bad_request("deferCommit must be a boolean.")),
    };
    let file_size = match item.get("fileSize") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| GraphError::bad_request("fileSize must be a non-negative integer."))?),
    };
    let name_in_body = match item.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(GraphError::bad_request("name must be a string.")),
    };
    let description = match item.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(GraphError::bad_request("description must be a string.")),
    };
    let fs_info = item.get("fileSystemInfo").filter(|v| !v.is_null()).cloned();
    fs_times(fs_info.as_ref())?;
    let comps: Option<Vec<String>> = sel
        .path
        .as_ref()
        .map(|p| p.iter().filter(|c| !c.is_empty()).cloned().collect())
        .filter(|c: &Vec<String>| !c.is_empty());
    if let Some(c) = &comps {
        for n in c {
            validate_name(n)?;
        }
        if let Some(n) = &name_in_body {
            if n != c.last().expect("non-empty") {
                return Err(GraphError::bad_request(format!(
                    "The name in the request body ('{n}') does not match the name in the URL."
                )));
            }
        }
    }
    let by = ctx.actor();
    let now = ctx.now;
    let mut st = ctx.emu.state();
    purge_expired(ctx, &mut st);
    let (drive, base) = resolve::item_base(ctx, &st, sel)?;
    let used = st.items.get(&st.drives[&drive].root_id).map(|r| r.size).unwrap_or(0);
    let remaining = st.drives[&drive].quota_total.saturating_sub(used);
    let (item_id, parent_id, name) = match comps {
        None => {
            let (_, id) = resolve::item(ctx, &st, sel)?;
            let it = &st.items[&id];
            if it.is_folder {
                return Err(GraphError::bad_request("Cannot upload content to an item representing a folder."));
            }
            check_if_match(ctx, it)?;
            if file_size.is_some_and(|f| f > remaining + it.size) {
                return Err(insufficient_storage());
            }
            (Some(id), None, None)
        }
        Some(comps) => {
            if !st.items[&base].is_folder {
                return Err(GraphError::bad_request("The item addressed before the path is not a folder."));
            }
            let (last, dirs) = comps.split_last().expect("non-empty");
            let mut cur = base;
            let mut depth = 0;
            for d in dirs {
                match st.child_by_name(&cur, d) {
                    Some(c) if c.is_folder => {
                        cur = c.id.clone();
                        depth += 1;
                    }
                    Some(_) => return Err(GraphError::conflict_name()),
                    None => break,
                }
            }
            let existing = if depth == dirs.len() { st.child_by_name(&cur, last) } else { None };
            match existing {
                Some(_) if cb == Conflict::Fail => return Err(GraphError::conflict_name()),
                Some(t) if cb == Conflict::Replace && t.is_folder => return Err(GraphError::conflict_name()),
                Some(t) if cb == Conflict::Replace => check_if_match(ctx, t)?,
                Some(_) => {}
                None if ctx.header("if-match").is_some() => return Err(precondition_failed()),
                None => {}
            }
            if file_size.is_some_and(|f| f > remaining) {
                return Err(insufficient_storage());
            }
            for d in &dirs[depth..] {
                cur = st.create_item(NewItem {
                    drive_id: &drive,
                    parent_id: &cur,
                    name: d,
                    is_folder: true,
                    by: by.clone(),
                    now,
                });
            }
            (None, Some(cur), Some(last.clone()))
        }
    };
    let id = crate::ids::random_token(24);
    let expires = now + chrono::Duration::seconds(st.settings.upload_session_secs);
    let cb_name = match cb {
        Conflict::Fail => "fail",
        Conflict::Replace => "replace",
        Conflict::Rename => "rename",
    };
    let session = UploadSession {
        id: id.clone(),
        drive_id: drive,
        item_id,
        parent_id,
        name,
        conflict_behavior: cb_name.to_string(),
        file_size,
        defer_commit,
        received: 0,
        total: None,
        expires,
        by,
        fs_info,
        description,
    };
    let v = json!({
        "uploadUrl": upload_url(ctx.emu.base_url(), &id),
        "expirationDateTime": render::time(&expires),
        "nextExpectedRanges": next_ranges(&session),
    });
    st.upload_sessions.insert(id, session);
    Ok(ctx.ok(v))
}
