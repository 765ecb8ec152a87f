//! Mail (graph-notes §8.1, §12.F): `sendMail`, drafts, small attachments, the large-attachment
//! upload session (`/_mailup/{session}`), `send`; every sent message lands in the outbox that tests
//! read at `GET /_emulator/outbox` (and clear with `DELETE`).
//!
//! Choices where Microsoft's behaviour is not pinned down:
//! - Inline attachments (sendMail, draft creation, POST …/attachments) above 3 MB in total →
//!   413 `ErrorMessageSizeExceeded`; upload sessions above 150 MB → the same.
//! - A message property that is not in the Graph schema → 400 `RequestBodyRead`; contentBytes that
//!   are not base64 → 400 `RequestBodyRead`; only `#microsoft.graph.fileAttachment` is supported.
//! - Sending an already sent message, or adding attachments to one → 400 `ErrorInvalidOperation`.
//! - Sent messages stay readable under their id (Graph would move them to Sent Items).
//! - App-only callers need `Mail.Send` for sending; drafts and attachments accept `Mail.Send` or
//!   `Mail.ReadWrite` (Graph wants `Mail.ReadWrite` there) so the default app can use the
//!   large-attachment path. Delegated callers may only use their own mailbox.
//! - Upload chunks: at most 4 MiB, strictly in order (`Content-Range` start = bytes received);
//!   out of order → 416 `invalidRange`, a length that disagrees with `Content-Range` → 400.

use std::io::{Read, Write};
use std::sync::Arc;

use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Router;
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::render;
use super::routes::*;
use crate::ctx::Ctx;
use crate::emu::Emu;
use crate::error::{GraphError, GraphResult};
use crate::state::{MailAttachment, MailMessage, MailUploadSession, State};

/// Largest total of inline attachments Graph accepts in one request.
pub const INLINE_LIMIT: u64 = 3 * 1024 * 1024;
/// Largest attachment an upload session accepts.
pub const SESSION_LIMIT: u64 = 150 * 1024 * 1024;
/// Largest chunk of one PUT to an attachment upload URL.
pub const CHUNK_LIMIT: usize = 4 * 1024 * 1024;

/// Properties of `microsoft.graph.message` (and its bases) a client may send.
const MESSAGE_PROPS: &[&str] = &[
    "id",
    "categories",
    "changeKey",
    "createdDateTime",
    "lastModifiedDateTime",
    "bccRecipients",
    "body",
    "bodyPreview",
    "ccRecipients",
    "conversationId",
    "conversationIndex",
    "flag",
    "from",
    "hasAttachments",
    "importance",
    "inferenceClassification",
    "internetMessageHeaders",
    "internetMessageId",
    "isDeliveryReceiptRequested",
    "isDraft",
    "isRead",
    "isReadReceiptRequested",
    "parentFolderId",
    "receivedDateTime",
    "replyTo",
    "sender",
    "sentDateTime",
    "subject",
    "toRecipients",
    "uniqueBody",
    "webLink",
    "attachments",
    "extensions",
    "multiValueExtendedProperties",
    "singleValueExtendedProperties",
];

const RECIPIENT_PROPS: &[&str] = &["toRecipients", "ccRecipients", "bccRecipients"];

fn err(status: StatusCode, code: &str, message: impl Into<String>) -> GraphError {
    GraphError::new(status, code, message)
}

fn access_denied() -> GraphError {
    err(StatusCode::FORBIDDEN, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
}

fn not_found() -> GraphError {
    err(StatusCode::NOT_FOUND, "ErrorItemNotFound", "The specified object was not found in the store.")
}

fn body_read(message: impl Into<String>) -> GraphError {
    err(StatusCode::BAD_REQUEST, "RequestBodyRead", message)
}

fn too_large(message: impl Into<String>) -> GraphError {
    err(StatusCode::PAYLOAD_TOO_LARGE, "ErrorMessageSizeExceeded", message)
}

fn already_sent() -> GraphError {
    err(StatusCode::BAD_REQUEST, "ErrorInvalidOperation", "The message has already been sent.")
}

/// App-only role check: sending needs Mail.Send; drafts accept Mail.ReadWrite as well.
fn require(ctx: &Ctx, send: bool) -> Result<(), GraphError> {
    if !ctx.principal.is_app_only() {
        return Ok(());
    }
    let ok = ctx.principal.roles.iter().any(|r| r == "Mail.Send" || (!send && r == "Mail.ReadWrite"));
    if ok {
        Ok(())
    } else {
        Err(access_denied())
    }
}

/// The mailbox owner; delegated callers may only act on their own mailbox.
fn mailbox(ctx: &Ctx, st: &State, u: &UserSel) -> Result<String, GraphError> {
    let id = match u {
        UserSel::Me => super::resolve::user_id(ctx, st, u)?,
        UserSel::Key(k) => st.find_user(k).map(|x| x.id.clone()).ok_or_else(|| {
            err(StatusCode::NOT_FOUND, "ErrorInvalidUser", format!("The requested user '{k}' is invalid."))
        })?,
    };
    if let Some(me) = &ctx.principal.user_id {
        if *me != id {
            return Err(access_denied());
        }
    }
    Ok(id)
}

fn address_of(st: &State, user_id: &str) -> Value {
    match st.users.get(user_id) {
        Some(u) => json!({"emailAddress": {"name": u.display_name, "address": u.mail}}),
        None => json!({"emailAddress": {"address": ""}}),
    }
}

/// Decode one `fileAttachment` object.
fn parse_attachment(a: &Value) -> Result<MailAttachment, GraphError> {
    let Value::Object(m) = a else {
        return Err(body_read("An attachment must be an object."));
    };
    let ty = m.get("@odata.type").and_then(Value::as_str).unwrap_or("");
    if !ty.trim_start_matches('#').eq_ignore_ascii_case("microsoft.graph.fileAttachment") {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "ErrorInvalidParameter",
            format!("Unsupported attachment type '{ty}'; the emulator supports #microsoft.graph.fileAttachment."),
        ));
    }
    let name = m.get("name").and_then(Value::as_str).unwrap_or("").trim().to_string();
    if name.is_empty() {
        return Err(err(StatusCode::BAD_REQUEST, "ErrorInvalidParameter", "The attachment name is missing."));
    }
    let raw = m.get("contentBytes").and_then(Value::as_str).ok_or_else(|| {
        err(StatusCode::BAD_REQUEST, "ErrorInvalidParameter", "The attachment contentBytes are missing.")
    })?;
    let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD.decode(&compact).map_err(|_| {
        body_read(format!(
            "Cannot convert the literal '{}' to the expected type 'Edm.Binary'.",
            compact.chars().take(40).collect::<String>()
        ))
    })?;
    let content_type = m
        .get("contentType")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| mime_guess::from_path(&name).first_or_octet_stream().essence_str().to_string());
    Ok(MailAttachment {
        name,
        content_type,
        size: bytes.len() as u64,
        content_bytes: base64::engine::general_purpose::STANDARD.encode(&bytes),
    })
}

fn recipient_count(msg: &Map<String, Value>) -> usize {
    RECIPIENT_PROPS.iter().filter_map(|k| msg.get(*k).and_then(Value::as_array)).map(Vec::len).sum()
}

fn no_recipients() -> GraphError {
    err(
        StatusCode::BAD_REQUEST,
        "ErrorInvalidRecipients",
        "At least one recipient isn't valid., A message can't be sent because it contains no recipients.",
    )
}

/// Validate a message body; returns it without `attachments` plus the decoded attachments.
fn parse_message(v: &Value) -> Result<(Map<String, Value>, Vec<MailAttachment>), GraphError> {
    let Value::Object(m) = v else {
        return Err(err(StatusCode::BAD_REQUEST, "ErrorInvalidRequest", "The message must be a JSON object."));
    };
    let mut msg = Map::new();
    let mut attachments = Vec::new();
    for (k, val) in m {
        if k.starts_with('@') {
            continue;
        }
        if !MESSAGE_PROPS.contains(&k.as_str()) {
            return Err(body_read(format!(
                "The property '{k}' does not exist on type 'microsoft.graph.message'. Make sure to only use \
                 property names that are defined by the type or mark the type as open type."
            )));
        }
        if k == "attachments" {
            let list = val.as_array().ok_or_else(|| body_read("'attachments' must be an array."))?;
            for a in list {
                attachments.push(parse_attachment(a)?);
            }
            continue;
        }
        msg.insert(k.clone(), val.clone());
    }
    for k in RECIPIENT_PROPS {
        let Some(list) = msg.get(*k) else { continue };
        let list = list.as_array().ok_or_else(|| body_read(format!("'{k}' must be an array of recipients.")))?;
        for r in list {
            let addr = r.pointer("/emailAddress/address").and_then(Value::as_str).unwrap_or("").trim();
            let valid = addr.split_once('@').is_some_and(|(a, d)| !a.is_empty() && d.contains('.'))
                && !addr.contains(char::is_whitespace);
            if !valid {
                return Err(err(
                    StatusCode::BAD_REQUEST,
                    "ErrorInvalidRecipients",
                    format!(
                        "At least one recipient isn't valid., Recipient '{addr}' isn't resolved. All recipients \
                         must be resolved before a message can be submitted."
                    ),
                ));
            }
        }
    }
    if let Some(b) = msg.get("body") {
        if !b.is_object() {
            return Err(body_read("'body' must be an itemBody object."));
        }
    }
    check_inline(attachments.iter().map(|a| a.size).sum())?;
    Ok((msg, attachments))
}

fn check_inline(total: u64) -> Result<(), GraphError> {
    if total > INLINE_LIMIT {
        return Err(too_large(format!(
            "The attachments total {total} bytes; inline attachments are limited to 3 MB. Use \
             attachments/createUploadSession for larger files."
        )));
    }
    Ok(())
}

fn attachment_id(message_id: &str, index: usize) -> String {
    format!("AAMkAt{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{message_id}:{index}")))
}

fn attachment_json(m: &MailMessage, index: usize, with_bytes: bool) -> Value {
    let a = &m.attachments[index];
    let mut v = json!({
        "@odata.type": "#microsoft.graph.fileAttachment",
        "id": attachment_id(&m.id, index),
        "lastModifiedDateTime": render::time(&m.created),
        "name": a.name,
        "contentType": a.content_type,
        "size": a.size,
        "isInline": false,
    });
    if with_bytes {
        v["contentBytes"] = json!(a.content_bytes);
    }
    v
}

fn message_json(st: &State, m: &MailMessage, expand_attachments: bool) -> Value {
    let mut v = Map::new();
    v.insert("id".into(), json!(m.id));
    v.insert("createdDateTime".into(), json!(render::time(&m.created)));
    v.insert("lastModifiedDateTime".into(), json!(render::time(m.sent.as_ref().unwrap_or(&m.created))));
    v.insert("subject".into(), json!(""));
    v.insert("body".into(), json!({"contentType": "text", "content": ""}));
    for k in RECIPIENT_PROPS {
        v.insert((*k).into(), json!([]));
    }
    if let Value::Object(stored) = &m.message {
        for (k, val) in stored {
            v.insert(k.clone(), val.clone());
        }
    }
    let owner = address_of(st, &m.user_id);
    v.entry("from").or_insert(owner.clone());
    v.insert("sender".into(), owner);
    v.insert("hasAttachments".into(), json!(!m.attachments.is_empty()));
    v.insert("isDraft".into(), json!(m.sent.is_none()));
    if let Some(s) = &m.sent {
        v.insert("sentDateTime".into(), json!(render::time(s)));
    }
    if expand_attachments {
        let atts: Vec<Value> = (0..m.attachments.len()).map(|i| attachment_json(m, i, true)).collect();
        v.insert("attachments".into(), Value::Array(atts));
    }
    Value::Object(v)
}

fn expands_attachments(ctx: &Ctx) -> bool {
    ctx.query.get("expand").is_some_and(|e| e.split(',').any(|x| x.trim().eq_ignore_ascii_case("attachments")))
}

fn new_message_id() -> String {
    format!("AAMkA{}", crate::ids::random_token(48))
}

pub fn send_mail(ctx: &Ctx, u: &UserSel) -> GraphResult {
    require(ctx, true)?;
    let body = ctx.json_body()?;
    let Some(message) = body.get("message").filter(|m| !m.is_null()) else {
        return Err(err(StatusCode::BAD_REQUEST, "ErrorInvalidRequest", "The 'message' parameter is required."));
    };
    if let Some(s) = body.get("saveToSentItems") {
        if !s.is_boolean() && !s.is_null() {
            return Err(body_read("'saveToSentItems' must be a boolean."));
        }
    }
    let (msg, attachments) = parse_message(message)?;
    if recipient_count(&msg) == 0 {
        return Err(no_recipients());
    }
    let mut st = ctx.emu.state();
    let user_id = mailbox(ctx, &st, u)?;
    st.mail.push(MailMessage {
        id: new_message_id(),
        user_id,
        message: Value::Object(msg),
        attachments,
        created: ctx.now,
        sent: Some(ctx.now),
    });
    Ok(StatusCode::ACCEPTED.into_response())
}

pub fn create_message(ctx: &Ctx, u: &UserSel) -> GraphResult {
    require(ctx, false)?;
    let body = ctx.json_body()?;
    let (msg, attachments) = parse_message(&body)?;
    let mut st = ctx.emu.state();
    let user_id = mailbox(ctx, &st, u)?;
    let m = MailMessage {
        id: new_message_id(),
        user_id,
        message: Value::Object(msg),
        attachments,
        created: ctx.now,
        sent: None,
    };
    let v = message_json(&st, &m, false);
    st.mail.push(m);
    Ok((StatusCode::CREATED, axum::Json(v)).into_response())
}

pub fn list_messages(ctx: &Ctx, u: &UserSel) -> GraphResult {
    require(ctx, false)?;
    let expand = expands_attachments(ctx);
    let values: Vec<Value> = {
        let st = ctx.emu.state();
        let user_id = mailbox(ctx, &st, u)?;
        let mut mine: Vec<&MailMessage> = st.mail.iter().filter(|m| m.user_id == user_id).collect();
        mine.sort_by_key(|m| std::cmp::Reverse(m.created));
        mine.into_iter().map(|m| message_json(&st, m, expand)).collect()
    };
    Ok(ctx.paged(values))
}

/// Index of a message of `user_id` in `st.mail`.
fn find(st: &State, user_id: &str, id: &str) -> Result<usize, GraphError> {
    st.mail.iter().position(|m| m.id == id && m.user_id == user_id).ok_or_else(not_found)
}

pub fn get_message(ctx: &Ctx, u: &UserSel, id: &str) -> GraphResult {
    require(ctx, false)?;
    let v = {
        let st = ctx.emu.state();
        let user_id = mailbox(ctx, &st, u)?;
        let i = find(&st, &user_id, id)?;
        message_json(&st, &st.mail[i], expands_attachments(ctx))
    };
    Ok(ctx.ok(v))
}

pub fn send_message(ctx: &Ctx, u: &UserSel, id: &str) -> GraphResult {
    require(ctx, true)?;
    let mut st = ctx.emu.state();
    let user_id = mailbox(ctx, &st, u)?;
    let i = find(&st, &user_id, id)?;
    let m = &mut st.mail[i];
    if m.sent.is_some() {
        return Err(already_sent());
    }
    if m.message.as_object().map(recipient_count).unwrap_or(0) == 0 {
        return Err(no_recipients());
    }
    m.sent = Some(ctx.now);
    Ok(StatusCode::ACCEPTED.into_response())
}

pub fn add_attachment(ctx: &Ctx, u: &UserSel, id: &str) -> GraphResult {
    require(ctx, false)?;
    let body = ctx.json_body()?;
    let att = parse_attachment(&body)?;
    check_inline(att.size)?;
    let mut st = ctx.emu.state();
    let user_id = mailbox(ctx, &st, u)?;
    let i = find(&st, &user_id, id)?;
    let m = &mut st.mail[i];
    if m.sent.is_some() {
        return Err(already_sent());
    }
    m.attachments.push(att);
    let v = attachment_json(m, m.attachments.len() - 1, true);
    Ok((StatusCode::CREATED, axum::Json(v)).into_response())
}

pub fn create_attachment_upload(ctx: &Ctx, u: &UserSel, id: &str) -> GraphResult {
    require(ctx, false)?;
    let body = ctx.json_body()?;
    let item = body
        .as_object()
        .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case("AttachmentItem")).map(|(_, v)| v))
        .and_then(Value::as_object)
        .ok_or_else(|| {
            err(StatusCode::BAD_REQUEST, "ErrorInvalidParameter", "The 'AttachmentItem' parameter is required.")
        })?;
    let kind = item.get("attachmentType").and_then(Value::as_str).unwrap_or("file");
    if !kind.eq_ignore_ascii_case("file") {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "ErrorInvalidParameter",
            format!("attachmentType '{kind}' is not supported; only 'file' is."),
        ));
    }
    let name = item.get("name").and_then(Value::as_str).unwrap_or("").trim().to_string();
    if name.is_empty() {
        return Err(err(StatusCode::BAD_REQUEST, "ErrorInvalidParameter", "The attachment name is missing."));
    }
    let size = item.get("size").and_then(Value::as_u64).filter(|s| *s > 0).ok_or_else(|| {
        err(StatusCode::BAD_REQUEST, "ErrorInvalidParameter", "The attachment size must be a positive integer.")
    })?;
    if size > SESSION_LIMIT {
        return Err(too_large(format!("The attachment size {size} exceeds the 150 MB limit.")));
    }
    let content_type = item
        .get("contentType")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| mime_guess::from_path(&name).first_or_octet_stream().essence_str().to_string());
    let mut st = ctx.emu.state();
    let user_id = mailbox(ctx, &st, u)?;
    let i = find(&st, &user_id, id)?;
    if st.mail[i].sent.is_some() {
        return Err(already_sent());
    }
    let session = crate::ids::random_token(24);
    let expires = ctx.now + chrono::Duration::seconds(st.settings.upload_session_secs);
    let message_id = st.mail[i].id.clone();
    st.mail_upload_sessions.insert(
        session.clone(),
        MailUploadSession { id: session.clone(), message_id, name, content_type, size, received: 0, expires },
    );
    let v = json!({
        "@odata.context": format!("{}/$metadata#microsoft.graph.uploadSession", ctx.graph_base()),
        "uploadUrl": format!("{}/_mailup/{session}", ctx.emu.base_url()),
        "expirationDateTime": render::time(&expires),
        "nextExpectedRanges": ["0-"],
    });
    Ok((StatusCode::CREATED, axum::Json(v)).into_response())
}

// ---------------------------------------------------------------------------------------------
// Upload URL and outbox

/// `/_mailup/{session}`: PUT chunks, DELETE cancels (tenant-facing, so faults apply).
pub fn upload_router() -> Router<Arc<Emu>> {
    Router::new().route("/_mailup/{id}", put(upload_chunk).delete(cancel_upload))
}

/// `/_emulator/outbox`: GET the sent messages, DELETE clears them. Test control, so it sits
/// outside the fault-injection layer.
pub fn outbox_router() -> Router<Arc<Emu>> {
    Router::new().route("/_emulator/outbox", get(outbox).delete(clear_outbox))
}

fn plain_error(e: GraphError) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    e.into_response_with(&id, &id)
}

/// `bytes {start}-{end}/{total}`.
fn content_range(headers: &HeaderMap) -> Option<(u64, u64, u64)> {
    let v = headers.get("content-range")?.to_str().ok()?.trim();
    let rest = v.strip_prefix("bytes")?.trim();
    let (range, total) = rest.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    let (a, b, total) = (a.trim().parse().ok()?, b.trim().parse().ok()?, total.trim().parse().ok()?);
    (a <= b && b < total).then_some((a, b, total))
}

async fn upload_chunk(
    AxState(emu): AxState<Arc<Emu>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = emu.now();
    let res = upload_chunk_inner(&emu, &id, &headers, &body, now);
    emu.mark_dirty();
    res.unwrap_or_else(plain_error)
}

fn session_gone() -> GraphError {
    err(StatusCode::NOT_FOUND, "ErrorItemNotFound", "The upload session was not found or has expired.")
}

fn upload_chunk_inner(
    emu: &Emu,
    id: &str,
    headers: &HeaderMap,
    body: &Bytes,
    now: crate::state::Time,
) -> Result<Response, GraphError> {
    let mut st = emu.state();
    let s = st.mail_upload_sessions.get(id).cloned().ok_or_else(session_gone)?;
    let scratch = emu.blobs.upload_path(&format!("mail-{id}"));
    if s.expires <= now {
        st.mail_upload_sessions.remove(id);
        let _ = std::fs::remove_file(&scratch);
        return Err(session_gone());
    }
    let (start, end, total) = content_range(headers).ok_or_else(|| {
        err(
            StatusCode::BAD_REQUEST,
            "ErrorInvalidRequest",
            "A valid Content-Range header (bytes a-b/total) is required.",
        )
    })?;
    if total != s.size {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "ErrorInvalidRequest",
            format!("The Content-Range total {total} does not match the declared attachment size {}.", s.size),
        ));
    }
    if body.len() > CHUNK_LIMIT {
        return Err(err(StatusCode::PAYLOAD_TOO_LARGE, "ErrorRequestEntityTooLarge", "Chunks are limited to 4 MB."));
    }
    if (end - start + 1) as usize != body.len() {
        return Err(err(StatusCode::BAD_REQUEST, "invalidRange", "The chunk length does not match its Content-Range.")
            .inner("fragmentLengthMismatch"));
    }
    if start != s.received {
        return Err(err(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "invalidRange",
            format!("Chunks must be uploaded in order; the next expected byte is {}.", s.received),
        )
        .inner("fragmentOutOfOrder"));
    }
    let io = |e: std::io::Error| err(StatusCode::INTERNAL_SERVER_ERROR, "generalException", e.to_string());
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&scratch).map_err(io)?;
    f.write_all(body).map_err(io)?;
    let received = s.received + body.len() as u64;
    if received < s.size {
        if let Some(x) = st.mail_upload_sessions.get_mut(id) {
            x.received = received;
        }
        let v = json!({
            "@odata.context": format!("{}/v1.0/$metadata#microsoft.graph.uploadSession", emu.base_url()),
            "expirationDateTime": render::time(&s.expires),
            "nextExpectedRanges": [received.to_string()],
        });
        return Ok((StatusCode::OK, axum::Json(v)).into_response());
    }
    drop(f);
    let mut data = Vec::with_capacity(s.size as usize);
    std::fs::File::open(&scratch).and_then(|mut f| f.read_to_end(&mut data)).map_err(io)?;
    let _ = std::fs::remove_file(&scratch);
    st.mail_upload_sessions.remove(id);
    let Some(m) = st.mail.iter_mut().find(|m| m.id == s.message_id) else {
        return Err(not_found());
    };
    m.attachments.push(MailAttachment {
        name: s.name.clone(),
        content_type: s.content_type.clone(),
        size: data.len() as u64,
        content_bytes: base64::engine::general_purpose::STANDARD.encode(&data),
    });
    let location = format!(
        "{}/v1.0/users('{}')/messages('{}')/attachments('{}')",
        emu.base_url(),
        m.user_id,
        m.id,
        attachment_id(&m.id, m.attachments.len() - 1)
    );
    let mut resp = StatusCode::CREATED.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert("location", v);
    }
    Ok(resp)
}

async fn cancel_upload(AxState(emu): AxState<Arc<Emu>>, Path(id): Path<String>) -> Response {
    let removed = emu.state().mail_upload_sessions.remove(&id);
    let _ = std::fs::remove_file(emu.blobs.upload_path(&format!("mail-{id}")));
    emu.mark_dirty();
    match removed {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => plain_error(session_gone()),
    }
}

fn outbox_entry(st: &State, m: &MailMessage) -> Value {
    let msg = m.message.as_object().cloned().unwrap_or_default();
    let mailbox = st.users.get(&m.user_id).map(|u| u.user_principal_name.clone());
    json!({
        "id": m.id,
        "mailbox": mailbox,
        "subject": msg.get("subject").cloned().unwrap_or(json!("")),
        "from": msg.get("from").cloned().unwrap_or_else(|| address_of(st, &m.user_id)),
        "toRecipients": msg.get("toRecipients").cloned().unwrap_or(json!([])),
        "ccRecipients": msg.get("ccRecipients").cloned().unwrap_or(json!([])),
        "bccRecipients": msg.get("bccRecipients").cloned().unwrap_or(json!([])),
        "body": msg.get("body").cloned().unwrap_or(json!({"contentType": "text", "content": ""})),
        "sentDateTime": m.sent.as_ref().map(render::time),
        "attachments": m.attachments.iter().map(|a| json!({
            "name": a.name,
            "contentType": a.content_type,
            "size": a.size,
            "contentBytes": a.content_bytes,
        })).collect::<Vec<_>>(),
    })
}

async fn outbox(AxState(emu): AxState<Arc<Emu>>) -> Response {
    let st = emu.state();
    let mut sent: Vec<&MailMessage> = st.mail.iter().filter(|m| m.sent.is_some()).collect();
    sent.sort_by_key(|m| m.sent);
    let values: Vec<Value> = sent.into_iter().map(|m| outbox_entry(&st, m)).collect();
    axum::Json(json!({"value": values})).into_response()
}

async fn clear_outbox(AxState(emu): AxState<Arc<Emu>>) -> Response {
    emu.state().mail.retain(|m| m.sent.is_none());
    emu.mark_dirty();
    StatusCode::NO_CONTENT.into_response()
}
