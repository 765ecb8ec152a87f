//! `/_emulator` test-control API (graph-notes §12.0 item 6): seed, state dump, flush, clock,
//! settings, fault rules and request counters, token expiry, credentials. No authentication: it is a
//! loopback test tool. Errors are `{"error":{"code","message"}}` with 400/404.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use crate::emu::Emu;
use crate::faults::FaultRule;
use crate::seed::SeedSpec;

type Emus = State<Arc<Emu>>;

pub fn router() -> Router<Arc<Emu>> {
    Router::new()
        .route("/_emulator/seed", post(seed))
        .route("/_emulator/summary", get(summary))
        .route("/_emulator/state", get(dump_state))
        .route("/_emulator/flush", post(flush))
        .route("/_emulator/clock/advance", post(advance_clock))
        .route("/_emulator/settings", get(get_settings).patch(patch_settings))
        .route("/_emulator/faults", post(add_faults).get(list_faults).delete(clear_faults))
        .route("/_emulator/faults/{id}", delete(delete_fault))
        .route("/_emulator/stats", get(get_stats).delete(reset_stats))
        .route("/_emulator/tokens/expire", post(expire_tokens))
        .route("/_emulator/credentials", get(credentials))
        .route("/_emulator/delta/resync", post(delta_resync))
        .route("/_emulator/uploads/expire", post(expire_uploads))
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": {"code": code, "message": message.into()}}))).into_response()
}

fn bad(message: impl Into<String>) -> Response {
    error(StatusCode::BAD_REQUEST, "invalidRequest", message)
}

/// The body as a JSON object (an empty body is `{}`).
fn object(body: &Bytes) -> Result<Map<String, Value>, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(bad("The request body must be a JSON object.")),
        Err(e) => Err(bad(format!("Invalid JSON body: {e}"))),
    }
}

/// `POST /_emulator/seed {"spec": "users=3,files=20"}`: replace the whole tenant with a freshly seeded one.
async fn seed(State(emu): Emus, body: Bytes) -> Response {
    let body = match object(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let raw = match body.get("spec") {
        Some(Value::String(s)) => s.clone(),
        None => String::new(),
        Some(_) => return bad("'spec' must be a string such as \"users=3,files=20\"."),
    };
    if let Some(k) = body.keys().find(|k| *k != "spec") {
        return bad(format!("Unknown property '{k}'; expected {{\"spec\": \"...\"}}."));
    }
    let spec = match SeedSpec::parse(&raw) {
        Ok(s) => s,
        Err(e) => return bad(format!("{e:#}")),
    };
    let blobs = emu.blobs.clone();
    let built = tokio::task::spawn_blocking(move || {
        let mut st = crate::state::State::new(&spec.tenant, &spec.id_seed());
        crate::seed::apply(&mut st, &blobs, &spec).map(|_| st)
    })
    .await;
    let st = match built {
        Ok(Ok(st)) => st,
        Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, "generalException", format!("{e:#}")),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "generalException", e.to_string()),
    };
    let summary = crate::seed::summary(&st);
    let tenant = json!({"id": st.tenant.id, "name": st.tenant.name, "domain": st.tenant.domain()});
    *emu.state() = st;
    emu.mark_dirty();
    Json(json!({"spec": raw, "tenant": tenant, "summary": summary})).into_response()
}

async fn summary(State(emu): Emus) -> Response {
    let s = crate::seed::summary(&emu.state());
    Json(s).into_response()
}

/// `GET /_emulator/state[?only=users,items]`: the persisted state as JSON. File content is never
/// inline (versions reference blobs or synthetic generators); mail attachment bytes are left out.
async fn dump_state(State(emu): Emus, Query(q): Query<std::collections::HashMap<String, String>>) -> Response {
    let mut v = match serde_json::to_value(&*emu.state()) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "generalException", e.to_string()),
    };
    if let Some(Value::Array(mail)) = v.get_mut("mail") {
        for m in mail {
            if let Some(Value::Array(atts)) = m.get_mut("attachments") {
                for a in atts {
                    if let Some(obj) = a.as_object_mut() {
                        obj.remove("content_bytes");
                        obj.insert("content_bytes_omitted".into(), json!(true));
                    }
                }
            }
        }
    }
    if let Some(only) = q.get("only") {
        let Value::Object(all) = v else { unreachable!("state serialises to an object") };
        let mut out = Map::new();
        for key in only.split(',').map(str::trim).filter(|k| !k.is_empty()) {
            match all.get(key) {
                Some(x) => {
                    out.insert(key.to_string(), x.clone());
                }
                None => return bad(format!("Unknown state section '{key}'.")),
            }
        }
        v = Value::Object(out);
    }
    Json(v).into_response()
}

async fn flush(State(emu): Emus) -> Response {
    let e = emu.clone();
    match tokio::task::spawn_blocking(move || e.flush()).await {
        Ok(Ok(())) => StatusCode::NO_CONTENT.into_response(),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, "generalException", e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "generalException", e.to_string()),
    }
}

/// `POST /_emulator/clock/advance {"seconds": N}`: move the emulator clock (token expiry, upload
/// session expiry, timestamps of later writes). Negative values move it back.
async fn advance_clock(State(emu): Emus, body: Bytes) -> Response {
    let body = match object(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(secs) = body.get("seconds").and_then(Value::as_i64) else {
        return bad("Expected {\"seconds\": <integer>}.");
    };
    if secs.unsigned_abs() > 100 * 365 * 86_400 {
        return bad("'seconds' must be within ±100 years.");
    }
    let offset = {
        let mut st = emu.state();
        st.settings.clock_offset_secs += secs;
        st.settings.clock_offset_secs
    };
    emu.mark_dirty();
    Json(json!({"clockOffsetSecs": offset, "now": crate::graph::render::time(&emu.now())})).into_response()
}

fn settings_json(emu: &Emu) -> Value {
    serde_json::to_value(&emu.state().settings).unwrap_or(Value::Null)
}

async fn get_settings(State(emu): Emus) -> Response {
    Json(settings_json(&emu)).into_response()
}

/// `PATCH /_emulator/settings`: change some of page_size, strict_fragments, token_lifetime_secs,
/// upload_session_secs, clock_offset_secs. All-or-nothing: one bad value changes nothing.
async fn patch_settings(State(emu): Emus, body: Bytes) -> Response {
    let body = match object(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut new = emu.state().settings.clone();
    for (k, v) in &body {
        let positive = || v.as_i64().filter(|n| *n > 0);
        match k.as_str() {
            "page_size" => match v.as_u64().filter(|n| (1..=100_000).contains(n)) {
                Some(n) => new.page_size = n as usize,
                None => return bad("'page_size' must be an integer between 1 and 100000."),
            },
            "strict_fragments" => match v.as_bool() {
                Some(b) => new.strict_fragments = b,
                None => return bad("'strict_fragments' must be a boolean."),
            },
            "token_lifetime_secs" => match positive() {
                Some(n) => new.token_lifetime_secs = n,
                None => return bad("'token_lifetime_secs' must be a positive integer."),
            },
            "upload_session_secs" => match positive() {
                Some(n) => new.upload_session_secs = n,
                None => return bad("'upload_session_secs' must be a positive integer."),
            },
            "clock_offset_secs" => match v.as_i64() {
                Some(n) => new.clock_offset_secs = n,
                None => return bad("'clock_offset_secs' must be an integer."),
            },
            _ => {
                return bad(format!(
                    "Unknown or read-only setting '{k}' (settable: page_size, strict_fragments, \
                     token_lifetime_secs, upload_session_secs, clock_offset_secs)."
                ))
            }
        }
    }
    emu.state().settings = new;
    emu.mark_dirty();
    Json(settings_json(&emu)).into_response()
}

/// `POST /_emulator/faults`: one rule object, an array of rules, or `{"rules": [...]}`.
async fn add_faults(State(emu): Emus, body: Bytes) -> Response {
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad(format!("Invalid JSON body: {e}")),
    };
    let (many, raw) = match v {
        Value::Array(a) => (true, a),
        Value::Object(mut m) if m.contains_key("rules") => match m.remove("rules") {
            Some(Value::Array(a)) if m.is_empty() => (true, a),
            _ => return bad("Expected {\"rules\": [ ... ]}."),
        },
        v @ Value::Object(_) => (false, vec![v]),
        _ => return bad("Expected a fault rule object or an array of them."),
    };
    let mut rules = Vec::with_capacity(raw.len());
    for r in raw {
        match serde_json::from_value::<FaultRule>(r) {
            Ok(rule) => match rule.validate() {
                Ok(()) => rules.push(rule),
                Err(e) => return bad(e),
            },
            Err(e) => return bad(format!("Invalid fault rule: {e}")),
        }
    }
    let mut added = Vec::new();
    {
        let mut f = emu.faults.lock();
        let mut ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).filter(|i| !i.is_empty()).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) || f.rules.iter().any(|r| ids.contains(&r.id.as_str())) {
            return error(StatusCode::CONFLICT, "nameAlreadyExists", "A fault rule with that id exists already.");
        }
        for r in rules {
            match f.add(r) {
                Ok(r) => added.push(r),
                Err(e) => return bad(e),
            }
        }
    }
    let body = if many { json!({"value": added}) } else { json!(added[0]) };
    (StatusCode::CREATED, Json(body)).into_response()
}

async fn list_faults(State(emu): Emus) -> Response {
    let rules = emu.faults.lock().rules.clone();
    Json(json!({"value": rules})).into_response()
}

async fn clear_faults(State(emu): Emus) -> Response {
    emu.faults.lock().rules.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn delete_fault(State(emu): Emus, Path(id): Path<String>) -> Response {
    if emu.faults.lock().remove(&id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error(StatusCode::NOT_FOUND, "itemNotFound", format!("No fault rule with id '{id}'."))
    }
}

async fn get_stats(State(emu): Emus) -> Response {
    let stats = emu.faults.lock().stats.clone();
    Json(stats).into_response()
}

async fn reset_stats(State(emu): Emus) -> Response {
    emu.faults.lock().stats = Default::default();
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /_emulator/tokens/expire`: every access token issued so far answers 401 from now on.
async fn expire_tokens(State(emu): Emus) -> Response {
    let epoch = {
        let mut st = emu.state();
        st.settings.token_epoch += 1;
        st.settings.token_epoch
    };
    emu.mark_dirty();
    Json(json!({"tokenEpoch": epoch})).into_response()
}

/// `POST /_emulator/delta/resync {"driveId"?}`: outstanding delta tokens of one drive (or of all
/// drives) answer 410 resync on their next use.
async fn delta_resync(State(emu): Emus, body: Bytes) -> Response {
    let body = match object(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Some(k) = body.keys().find(|k| *k != "driveId") {
        return bad(format!("Unknown property '{k}'; expected {{\"driveId\": \"...\"}} or {{}}."));
    }
    let drive = match body.get("driveId") {
        None | Some(Value::Null) => None,
        Some(Value::String(d)) => Some(d.clone()),
        Some(_) => return bad("'driveId' must be a string."),
    };
    let drives = {
        let mut st = emu.state();
        if let Some(d) = &drive {
            if !st.drives.contains_key(d) {
                return error(StatusCode::NOT_FOUND, "itemNotFound", format!("No drive with id '{d}'."));
            }
        }
        crate::graph::delta::force_resync(&mut st, drive.as_deref());
        drive.map(|d| vec![d]).unwrap_or_else(|| st.drives.keys().cloned().collect())
    };
    emu.mark_dirty();
    Json(json!({"drives": drives})).into_response()
}

/// `POST /_emulator/uploads/expire`: every open upload session is expired (next use: 404).
async fn expire_uploads(State(emu): Emus) -> Response {
    let n = {
        let mut st = emu.state();
        crate::graph::upload::expire_all_sessions(&mut st);
        st.upload_sessions.len()
    };
    emu.mark_dirty();
    Json(json!({"expired": n})).into_response()
}

/// `GET /_emulator/credentials`: everything a demo or a test needs to sign in.
async fn credentials(State(emu): Emus) -> Response {
    let base = emu.base_url().to_string();
    let st = emu.state();
    let app = crate::seed::default_app(&st);
    let mut users: Vec<Value> = st
        .users
        .values()
        .map(|u| {
            json!({"id": u.id, "userPrincipalName": u.user_principal_name, "displayName": u.display_name,
                   "password": u.password, "driveId": u.drive_id})
        })
        .collect();
    users.sort_by(|a, b| a["userPrincipalName"].as_str().cmp(&b["userPrincipalName"].as_str()));
    let tid = &st.tenant.id;
    Json(json!({
        "tenantId": tid,
        "tenantName": st.tenant.name,
        "domain": st.tenant.domain(),
        "sharePointHost": st.tenant.sp_host(),
        "oneDriveHost": st.tenant.my_host(),
        "baseUrl": base,
        "authority": format!("{base}/{tid}"),
        "tokenEndpoint": format!("{base}/{tid}/oauth2/v2.0/token"),
        "graphBaseUrl": format!("{base}/v1.0"),
        "clientId": app.client_id,
        "clientSecret": app.secret,
        "users": users,
    }))
    .into_response()
}
