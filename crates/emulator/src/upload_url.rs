//! `/_up/{session}`: the upload URL of a drive-item upload session (graph-notes §5.2): PUT
//! fragments, GET status, DELETE cancel, POST commit for `deferCommit`. Also `/_monitor/{id}`, the
//! monitor URL of a server-side copy (§5.7), which completes synchronously in the emulator.
//!
//! Rules enforced (and the error codes chosen where Microsoft documents none):
//! - The URL is pre-authenticated: a request that carries an `Authorization` header is refused
//!   with 401 `unauthenticated` (Microsoft: including it "might result in" 401) so that clients
//!   leaking their bearer token to the upload host are caught.
//! - `Content-Range: bytes a-b/total` is required (400 `invalidRequest`); the body length must equal
//!   `b-a+1` and `total` must not change between fragments or differ from the declared `fileSize`
//!   (400 `invalidRequest`, inner `fragmentLengthMismatch`).
//! - A fragment must start exactly at the next expected byte: already received bytes → 416
//!   `invalidRange`/`fragmentOverlap`; a gap → 416 `invalidRange`/`fragmentOutOfOrder`.
//! - A fragment over 60 MiB → 413 `invalidRequest`/`maxFragmentLengthExceeded`.
//! - With `settings.strict_fragments`, a non-final fragment whose size is not a multiple of 320 KiB
//!   → 400 `invalidRequest`/`invalidFragmentSize`.
//! - Unknown, cancelled, finished or expired (emulator clock) sessions → 404
//!   `itemNotFound`/`uploadSessionNotFound`. Every accepted fragment extends the expiry.
//! - The name conflict is checked again at commit → 409 `nameAlreadyExists`; the session stays so
//!   a deferred commit can be retried.
//! - `POST` before all bytes arrived → 400 `invalidRequest`/`uploadSessionIncomplete`.

use std::io::{Seek, SeekFrom, Write};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path as AxPath, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Router;
use serde_json::{json, Value};

use crate::emu::Emu;
use crate::error::GraphError;
use crate::graph::render::{self, ItemOpts};
use crate::graph::upload::{fs_times, next_ranges, FRAGMENT_MULTIPLE, MAX_FRAGMENT};
use crate::state::{NewItem, State, UploadSession};

pub fn router() -> Router<Arc<Emu>> {
    Router::new()
        .route("/_up/{session}", put(put_fragment).get(status).delete(cancel).post(commit))
        .route("/_monitor/{id}", get(crate::graph::permissions::monitor))
}

/// Serialises fragment writes and commits so two requests cannot append to one scratch file at once.
static WRITE_LOCK: parking_lot::Mutex<()> = parking_lot::const_mutex(());

type R = Result<Response, GraphError>;

/// Run a handler body and render its error in the Graph envelope with request ids.
fn finish(headers: &HeaderMap, r: R) -> Response {
    let rid = uuid::Uuid::new_v4().to_string();
    let crid =
        headers.get("client-request-id").and_then(|v| v.to_str().ok()).map(str::to_string).unwrap_or(rid.clone());
    let mut resp = r.unwrap_or_else(|e| e.into_response_with(&rid, &crid));
    if let Ok(v) = HeaderValue::from_str(&rid) {
        resp.headers_mut().insert("request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&crid) {
        resp.headers_mut().insert("client-request-id", v);
    }
    resp
}

fn not_found() -> GraphError {
    GraphError::new(StatusCode::NOT_FOUND, "itemNotFound", "The upload session was not found or has expired.")
        .inner("uploadSessionNotFound")
}

fn io_error(e: std::io::Error) -> GraphError {
    GraphError::new(StatusCode::INTERNAL_SERVER_ERROR, "generalException", format!("Storage error: {e}"))
}

fn refuse_authorization(headers: &HeaderMap) -> Result<(), GraphError> {
    if headers.contains_key("authorization") {
        return Err(GraphError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Upload URLs are pre-authenticated; do not send an Authorization header.",
        ));
    }
    Ok(())
}

/// A live session, removing it (and its bytes) when it has expired.
fn live_session<'a>(emu: &Emu, st: &'a mut State, id: &str) -> Result<&'a mut UploadSession, GraphError> {
    let now = emu.now_from(st);
    if st.upload_sessions.get(id).is_some_and(|s| s.expires < now) {
        st.upload_sessions.remove(id);
        let _ = std::fs::remove_file(emu.blobs.upload_path(id));
        emu.mark_dirty();
    }
    st.upload_sessions.get_mut(id).ok_or_else(not_found)
}

fn session_status(s: &UploadSession) -> Value {
    json!({"expirationDateTime": render::time(&s.expires), "nextExpectedRanges": next_ranges(s)})
}

/// `bytes a-b/total`.
fn parse_content_range(headers: &HeaderMap) -> Result<(u64, u64, u64), GraphError> {
    let bad = |why: &str| GraphError::bad_request(format!("Invalid Content-Range header: {why}."));
    let raw = headers
        .get("content-range")
        .ok_or_else(|| bad("the header is required"))?
        .to_str()
        .map_err(|_| bad("not ASCII"))?;
    let spec = raw.trim().strip_prefix("bytes").ok_or_else(|| bad("expected 'bytes a-b/total'"))?.trim_start();
    let (range, total) = spec.split_once('/').ok_or_else(|| bad("expected 'bytes a-b/total'"))?;
    let (a, b) = range.split_once('-').ok_or_else(|| bad("expected 'bytes a-b/total'"))?;
    let num = |s: &str| s.trim().parse::<u64>().map_err(|_| bad("expected 'bytes a-b/total' with numbers"));
    let (a, b, total) = (num(a)?, num(b)?, num(total)?);
    if a > b || b >= total {
        return Err(bad("the range must satisfy first <= last < total"));
    }
    Ok((a, b, total))
}

async fn put_fragment(
    AxState(emu): AxState<Arc<Emu>>,
    AxPath(id): AxPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let r = put_inner(emu.clone(), id, &headers, body).await;
    emu.mark_dirty();
    finish(&headers, r)
}

fn too_large() -> GraphError {
    GraphError::new(StatusCode::PAYLOAD_TOO_LARGE, "invalidRequest", "A fragment must be smaller than 60 MiB.")
        .inner("maxFragmentLengthExceeded")
}

async fn put_inner(emu: Arc<Emu>, id: String, headers: &HeaderMap, body: Body) -> R {
    refuse_authorization(headers)?;
    if headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|l| l > MAX_FRAGMENT)
    {
        return Err(too_large());
    }
    let (a, b, total) = parse_content_range(headers)?;
    if b - a + 1 > MAX_FRAGMENT {
        return Err(too_large());
    }
    let data = axum::body::to_bytes(body, MAX_FRAGMENT as usize).await.map_err(|_| too_large())?;
    if data.len() as u64 != b - a + 1 {
        return Err(GraphError::bad_request(format!(
            "The body has {} bytes but Content-Range announces {}.",
            data.len(),
            b - a + 1
        ))
        .inner("fragmentLengthMismatch"));
    }
    tokio::task::spawn_blocking(move || write_fragment(&emu, &id, a, b, total, &data))
        .await
        .map_err(|e| io_error(std::io::Error::other(e)))?
}

fn write_fragment(emu: &Emu, id: &str, a: u64, b: u64, total: u64, data: &[u8]) -> R {
    let _serial = WRITE_LOCK.lock();
    {
        let mut st = emu.state();
        let strict = st.settings.strict_fragments;
        let s = live_session(emu, &mut st, id)?;
        let mismatch = |what: String| GraphError::bad_request(what).inner("fragmentLengthMismatch");
        if let Some(t) = s.total.filter(|t| *t != total) {
            return Err(mismatch(format!("The total length {total} differs from the {t} of earlier fragments.")));
        }
        if let Some(f) = s.file_size.filter(|f| *f != total) {
            return Err(mismatch(format!("The total length {total} differs from the declared fileSize {f}.")));
        }
        if a < s.received {
            return Err(GraphError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "invalidRange",
                format!("The fragment overlaps bytes already received; the next expected byte is {}.", s.received),
            )
            .inner("fragmentOverlap"));
        }
        if a > s.received {
            return Err(GraphError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "invalidRange",
                format!("Fragments must be sequential; the next expected byte is {}.", s.received),
            )
            .inner("fragmentOutOfOrder"));
        }
        if strict && b + 1 < total && !(b - a + 1).is_multiple_of(FRAGMENT_MULTIPLE) {
            return Err(GraphError::bad_request(
                "Every fragment except the last must be a multiple of 320 KiB (327,680 bytes).",
            )
            .inner("invalidFragmentSize"));
        }
    }
    let path = emu.blobs.upload_path(id);
    let mut f = std::fs::OpenOptions::new().create(true).write(true).truncate(false).open(&path).map_err(io_error)?;
    // A failed earlier write may have left bytes past the accepted length.
    f.set_len(a).map_err(io_error)?;
    f.seek(SeekFrom::Start(a)).map_err(io_error)?;
    f.write_all(data).map_err(io_error)?;
    drop(f);
    {
        let mut st = emu.state();
        let now = emu.now_from(&st);
        let secs = st.settings.upload_session_secs;
        let Ok(s) = live_session(emu, &mut st, id) else {
            // Cancelled while we were writing.
            let _ = std::fs::remove_file(&path);
            return Err(not_found());
        };
        s.received = b + 1;
        s.total = Some(total);
        s.expires = now + chrono::Duration::seconds(secs);
        if s.received < total || s.defer_commit {
            return Ok((StatusCode::ACCEPTED, axum::Json(session_status(s))).into_response());
        }
    }
    commit_session(emu, id)
}

/// Where a finished session's bytes go.
enum Target {
    /// New version of an existing file (200).
    Existing(String),
    /// New file (201).
    New { parent: String, name: String },
}

fn plan(st: &State, s: &UploadSession) -> Result<Target, GraphError> {
    if let Some(id) = &s.item_id {
        return match st.live_item(id) {
            Some(it) if !it.is_folder => Ok(Target::Existing(id.clone())),
            _ => Err(GraphError::not_found("item")),
        };
    }
    let (Some(parent), Some(name)) = (&s.parent_id, &s.name) else {
        return Err(not_found());
    };
    if st.live_item(parent).is_none() {
        return Err(GraphError::not_found("parent folder"));
    }
    let conflict = || {
        GraphError::new(
            StatusCode::CONFLICT,
            "nameAlreadyExists",
            "Another file exists with the same name as the uploaded session. You can redo the commit request with \
             the conflictBehavior set to replace or rename.",
        )
    };
    match st.child_by_name(parent, name) {
        None => Ok(Target::New { parent: parent.clone(), name: name.clone() }),
        Some(_) if s.conflict_behavior == "fail" => Err(conflict()),
        Some(t) if s.conflict_behavior == "replace" => {
            if t.is_folder {
                Err(conflict())
            } else {
                Ok(Target::Existing(t.id.clone()))
            }
        }
        Some(_) => Ok(Target::New { parent: parent.clone(), name: st.unique_name(parent, name) }),
    }
}

/// Turn the received bytes into a file version (or a new file).
fn commit_session(emu: &Emu, id: &str) -> R {
    {
        let mut st = emu.state();
        let s = live_session(emu, &mut st, id)?;
        if s.total.is_none_or(|t| s.received < t) {
            return Err(GraphError::bad_request("Not all bytes of the upload session have been received.")
                .inner("uploadSessionIncomplete"));
        }
        let s = s.clone();
        plan(&st, &s)?;
    }
    // Hashing may take a while for big files: outside the state lock.
    let (content, size, qx) = emu.blobs.put_file(&emu.blobs.upload_path(id)).map_err(io_error)?;
    let mut st = emu.state();
    let now = emu.now_from(&st);
    let Some(s) = st.upload_sessions.remove(id) else {
        return Err(not_found());
    };
    let (target_id, status) = match plan(&st, &s)? {
        Target::Existing(tid) => (tid, StatusCode::OK),
        Target::New { parent, name } => {
            let tid = st.create_item(NewItem {
                drive_id: &s.drive_id,
                parent_id: &parent,
                name: &name,
                is_folder: false,
                by: s.by.clone(),
                now,
            });
            (tid, StatusCode::CREATED)
        }
    };
    st.add_version(&target_id, content, size, qx, s.by.clone(), now);
    let (created, modified) = fs_times(s.fs_info.as_ref()).unwrap_or_default();
    if let Some(it) = st.items.get_mut(&target_id) {
        if let Some(c) = created {
            it.fs_created = c;
        }
        if let Some(m) = modified {
            it.fs_modified = m;
        }
        if let Some(d) = &s.description {
            it.description = Some(d.clone());
        }
    }
    let v = render::item_json(emu, &st, &st.items[&target_id], ItemOpts::default());
    Ok((status, axum::Json(v)).into_response())
}

async fn status(AxState(emu): AxState<Arc<Emu>>, AxPath(id): AxPath<String>, headers: HeaderMap) -> Response {
    let r = (|| -> R {
        refuse_authorization(&headers)?;
        let mut st = emu.state();
        let s = live_session(&emu, &mut st, &id)?;
        Ok((StatusCode::OK, axum::Json(session_status(s))).into_response())
    })();
    finish(&headers, r)
}

async fn cancel(AxState(emu): AxState<Arc<Emu>>, AxPath(id): AxPath<String>, headers: HeaderMap) -> Response {
    let r = (|| -> R {
        refuse_authorization(&headers)?;
        let mut st = emu.state();
        live_session(&emu, &mut st, &id)?;
        st.upload_sessions.remove(&id);
        let _ = std::fs::remove_file(emu.blobs.upload_path(&id));
        Ok(StatusCode::NO_CONTENT.into_response())
    })();
    emu.mark_dirty();
    finish(&headers, r)
}

async fn commit(AxState(emu): AxState<Arc<Emu>>, AxPath(id): AxPath<String>, headers: HeaderMap) -> Response {
    let r = match refuse_authorization(&headers) {
        Err(e) => Err(e),
        Ok(()) => {
            let e = emu.clone();
            tokio::task::spawn_blocking(move || {
                let _serial = WRITE_LOCK.lock();
                commit_session(&e, &id)
            })
            .await
            .unwrap_or_else(|e| Err(io_error(std::io::Error::other(e))))
        }
    };
    emu.mark_dirty();
    finish(&headers, r)
}
