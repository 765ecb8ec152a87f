//! Test-control endpoints of the Entra emulator: app registrations and their certificates,
//! approving/declining device codes, a minimal device-login page, and the (empty) JWKS.
//!
//! - `GET|POST /_emulator/apps`, `GET /_emulator/apps/{client_id}`
//! - `POST /_emulator/apps/{client_id}/certificates` (PEM body, or `{"certificate": base64 DER or PEM}`)
//! - `DELETE /_emulator/apps/{client_id}/certificates/{thumbprint}` (hex SHA-1, `x5t` or `x5t#S256`)
//! - `POST /_emulator/devicecode/approve {"user_code","user"}`, `POST /_emulator/devicecode/decline {"user_code"}`

use std::sync::Arc;

use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Value};

use super::assertion::{thumbprint_hex, x5t, x5t_s256};
use crate::emu::Emu;
use crate::state::{App, State};

pub fn router() -> Router<Arc<Emu>> {
    Router::new()
        .route("/_emulator/apps", get(list_apps).post(create_app))
        .route("/_emulator/apps/{client_id}", get(get_app))
        .route("/_emulator/apps/{client_id}/certificates", post(add_certificate))
        .route("/_emulator/apps/{client_id}/certificates/{thumbprint}", delete(remove_certificate))
        .route("/_emulator/devicecode/approve", post(approve))
        .route("/_emulator/devicecode/decline", post(decline))
        .route("/devicelogin", get(login_page).post(login_submit))
        .route("/{tenant}/discovery/v2.0/keys", get(jwks))
}

fn err(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({"error": {"code": code, "message": message.into()}}))).into_response()
}

fn json_body(body: &Bytes) -> Result<Value, Response> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|e| err(StatusCode::BAD_REQUEST, "invalidRequest", format!("Invalid JSON: {e}")))
}

fn cert_json(der_b64: &str) -> Value {
    let der = base64::engine::general_purpose::STANDARD.decode(der_b64).unwrap_or_default();
    json!({"thumbprint": thumbprint_hex(&der), "x5t": x5t(&der), "x5t#S256": x5t_s256(&der)})
}

fn app_json(a: &App) -> Value {
    json!({
        "client_id": a.client_id,
        "display_name": a.display_name,
        "secret": a.secret,
        "public_client": a.public_client,
        "roles": a.roles,
        "certificates": a.certificates.iter().map(|c| cert_json(c)).collect::<Vec<_>>(),
    })
}

async fn list_apps(AxState(emu): AxState<Arc<Emu>>) -> Response {
    let st = emu.state();
    axum::Json(json!({"value": st.apps.values().map(app_json).collect::<Vec<_>>()})).into_response()
}

async fn get_app(AxState(emu): AxState<Arc<Emu>>, Path(client_id): Path<String>) -> Response {
    match emu.state().apps.get(&client_id) {
        Some(a) => axum::Json(app_json(a)).into_response(),
        None => err(StatusCode::NOT_FOUND, "itemNotFound", format!("No app '{client_id}'.")),
    }
}

/// Register an app: `{client_id?, display_name?, secret?, public_client?, roles?}`.
async fn create_app(AxState(emu): AxState<Arc<Emu>>, body: Bytes) -> Response {
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let str_field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let roles = match v.get("roles") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => {
            a.iter().filter_map(Value::as_str).map(str::to_string).collect()
        }
        _ => return err(StatusCode::BAD_REQUEST, "invalidRequest", "'roles' must be an array of strings."),
    };
    let client_id = str_field("client_id").unwrap_or_else(crate::ids::random_guid);
    if uuid::Uuid::parse_str(&client_id).is_err() {
        return err(StatusCode::BAD_REQUEST, "invalidRequest", "'client_id' must be a GUID.");
    }
    let client_id = client_id.to_lowercase();
    let app = App {
        client_id: client_id.clone(),
        display_name: str_field("display_name").unwrap_or_else(|| "Emulated app".into()),
        secret: str_field("secret"),
        certificates: Vec::new(),
        public_client: v.get("public_client").and_then(Value::as_bool).unwrap_or(false),
        roles,
    };
    let out = {
        let mut st = emu.state();
        if st.apps.contains_key(&client_id) {
            return err(StatusCode::CONFLICT, "conflict", format!("App '{client_id}' already exists."));
        }
        let out = app_json(&app);
        st.apps.insert(client_id, app);
        out
    };
    emu.mark_dirty();
    (StatusCode::CREATED, axum::Json(out)).into_response()
}

/// DER of a certificate given as PEM text, or JSON `{"certificate": base64 DER | PEM}`.
fn certificate_der(body: &Bytes) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "body is neither PEM nor JSON".to_string())?.trim();
    let field;
    let payload = if text.starts_with('{') {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
        field =
            v.get("certificate").and_then(Value::as_str).ok_or("JSON body needs a 'certificate' string")?.to_string();
        field.trim()
    } else {
        text
    };
    if payload.starts_with("-----BEGIN") {
        let (_, pem) = x509_parser::pem::parse_x509_pem(payload.as_bytes()).map_err(|e| format!("invalid PEM: {e}"))?;
        return Ok(pem.contents);
    }
    base64::engine::general_purpose::STANDARD
        .decode(payload.split_whitespace().collect::<String>())
        .map_err(|e| format!("certificate is not base64 DER: {e}"))
}

async fn add_certificate(AxState(emu): AxState<Arc<Emu>>, Path(client_id): Path<String>, body: Bytes) -> Response {
    let der = match certificate_der(&body) {
        Ok(d) => d,
        Err(e) => return err(StatusCode::BAD_REQUEST, "invalidRequest", e),
    };
    match x509_parser::parse_x509_certificate(&der) {
        Ok((_, c))
            if c.tbs_certificate.subject_pki.algorithm.algorithm
                == x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION => {}
        Ok(_) => return err(StatusCode::BAD_REQUEST, "invalidRequest", "Only RSA certificates are supported."),
        Err(e) => return err(StatusCode::BAD_REQUEST, "invalidRequest", format!("Not an X.509 certificate: {e}")),
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
    {
        let mut st = emu.state();
        let Some(app) = st.apps.get_mut(&client_id) else {
            return err(StatusCode::NOT_FOUND, "itemNotFound", format!("No app '{client_id}'."));
        };
        if !app.certificates.contains(&b64) {
            app.certificates.push(b64.clone());
        }
    }
    emu.mark_dirty();
    (StatusCode::CREATED, axum::Json(cert_json(&b64))).into_response()
}

async fn remove_certificate(
    AxState(emu): AxState<Arc<Emu>>,
    Path((client_id, thumb)): Path<(String, String)>,
) -> Response {
    {
        let mut st = emu.state();
        let Some(app) = st.apps.get_mut(&client_id) else {
            return err(StatusCode::NOT_FOUND, "itemNotFound", format!("No app '{client_id}'."));
        };
        let before = app.certificates.len();
        app.certificates.retain(|c| {
            let j = cert_json(c);
            !["thumbprint", "x5t", "x5t#S256"]
                .iter()
                .any(|k| j[*k].as_str().is_some_and(|t| t.eq_ignore_ascii_case(&thumb)))
        });
        if app.certificates.len() == before {
            return err(
                StatusCode::NOT_FOUND,
                "itemNotFound",
                format!("No certificate '{thumb}' on app '{client_id}'."),
            );
        }
    }
    emu.mark_dirty();
    StatusCode::NO_CONTENT.into_response()
}

/// Find a pending device code by its user code (case-insensitive, dashes ignored).
fn pending_code(st: &State, user_code: &str) -> Option<String> {
    let want: String = user_code.chars().filter(|c| *c != '-' && !c.is_whitespace()).collect::<String>().to_uppercase();
    st.device_codes.values().find(|d| d.user_code == want && !d.redeemed).map(|d| d.device_code.clone())
}

/// Approve (`Some(user)`) or decline (`None`) the device code `user_code`.
fn decide(emu: &Emu, user_code: &str, user: Option<&str>) -> Result<Value, Response> {
    let mut st = emu.state();
    let now = emu.now_from(&st);
    let Some(code) = pending_code(&st, user_code) else {
        return Err(err(StatusCode::NOT_FOUND, "itemNotFound", format!("No pending device code '{user_code}'.")));
    };
    if st.device_codes[&code].expires <= now {
        return Err(err(StatusCode::BAD_REQUEST, "expired", format!("Device code '{user_code}' has expired.")));
    }
    let user_id = match user {
        Some(u) => match st.find_user(u) {
            Some(x) => Some(x.id.clone()),
            None => return Err(err(StatusCode::NOT_FOUND, "itemNotFound", format!("No user '{u}'."))),
        },
        None => None,
    };
    let Some(dc) = st.device_codes.get_mut(&code) else {
        return Err(err(StatusCode::NOT_FOUND, "itemNotFound", "Device code vanished."));
    };
    match &user_id {
        Some(u) => {
            dc.approved_user = Some(u.clone());
            dc.declined = false;
        }
        None => {
            dc.approved_user = None;
            dc.declined = true;
        }
    }
    Ok(json!({"user_code": dc.user_code, "client_id": dc.client_id, "approved_user": user_id, "declined": dc.declined}))
}

async fn approve(AxState(emu): AxState<Arc<Emu>>, body: Bytes) -> Response {
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let (Some(code), Some(user)) = (v.get("user_code").and_then(Value::as_str), v.get("user").and_then(Value::as_str))
    else {
        return err(StatusCode::BAD_REQUEST, "invalidRequest", "Body needs 'user_code' and 'user' (UPN or id).");
    };
    let r = decide(&emu, code, Some(user));
    emu.mark_dirty();
    r.map(|v| axum::Json(v).into_response()).unwrap_or_else(|e| e)
}

async fn decline(AxState(emu): AxState<Arc<Emu>>, body: Bytes) -> Response {
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let Some(code) = v.get("user_code").and_then(Value::as_str) else {
        return err(StatusCode::BAD_REQUEST, "invalidRequest", "Body needs 'user_code'.");
    };
    let r = decide(&emu, code, None);
    emu.mark_dirty();
    r.map(|v| axum::Json(v).into_response()).unwrap_or_else(|e| e)
}

const LOGIN_FORM: &str = r#"<!doctype html><html><head><title>Device sign-in (emulator)</title></head><body>
<h1>Sign in to the tenant emulator</h1><p>{msg}</p>
<form method="post" action="/devicelogin">
<label>Code <input name="user_code" autofocus></label><br>
<label>User <input name="username" placeholder="user@contoso.onmicrosoft.com"></label><br>
<label>Password <input name="password" type="password"></label><br>
<button name="action" value="approve">Sign in</button> <button name="action" value="decline">Decline</button>
</form></body></html>"#;

/// The page `verification_uri` points at, so a human can finish a device-code sign-in in demos.
async fn login_page() -> Html<String> {
    Html(LOGIN_FORM.replace("{msg}", "Enter the code shown by the application."))
}

async fn login_submit(AxState(emu): AxState<Arc<Emu>>, body: Bytes) -> Response {
    let form: std::collections::HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let page = |status: StatusCode, msg: &str| (status, Html(LOGIN_FORM.replace("{msg}", msg))).into_response();
    if field("action") == "decline" {
        let r = decide(&emu, field("user_code"), None);
        emu.mark_dirty();
        return match r {
            Ok(_) => page(StatusCode::OK, "Sign-in declined. You can close this window."),
            Err(_) => page(StatusCode::BAD_REQUEST, "That code is not valid or has expired."),
        };
    }
    let ok = {
        let st = emu.state();
        st.find_user(field("username")).is_some_and(|u| u.password == field("password") && !u.disabled)
    };
    if !ok {
        return page(StatusCode::UNAUTHORIZED, "Your account or password is incorrect.");
    }
    let r = decide(&emu, field("user_code"), Some(field("username")));
    emu.mark_dirty();
    match r {
        Ok(_) => page(StatusCode::OK, "You have signed in. You can close this window."),
        Err(_) => page(StatusCode::BAD_REQUEST, "That code is not valid or has expired."),
    }
}

/// Issued tokens are HS256 under a tenant secret, so there is no public key to publish.
async fn jwks() -> Response {
    axum::Json(json!({"keys": []})).into_response()
}
