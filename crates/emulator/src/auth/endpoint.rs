//! `POST /{tenant}/oauth2/v2.0/token` and `/devicecode`.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{issue_access_token, Audience, TokenRequest};
use crate::emu::Emu;
use crate::error::oauth_error;
use crate::state::State;

/// Parse `scope` into the single resource it names (`https://graph.microsoft.com/.default` → Graph).
/// More than one resource is `invalid_scope` (AADSTS70011).
pub fn scope_resource(st: &State, scope: &str) -> Result<(Audience, Vec<String>), Response> {
    let mut resource: Option<Audience> = None;
    let mut short = Vec::new();
    for s in scope.split_whitespace() {
        if matches!(s, "offline_access" | "openid" | "profile" | "email") {
            continue;
        }
        let (res, name) = match s.rsplit_once('/') {
            Some((r, n)) if r.starts_with("https://") || r.starts_with("http://") => (r.to_string(), n.to_string()),
            _ => ("https://graph.microsoft.com".to_string(), s.to_string()),
        };
        let aud = if res == "https://graph.microsoft.com" || res == "00000003-0000-0000-c000-000000000000" {
            Audience::Graph
        } else {
            let host =
                res.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches('/').to_string();
            if host != st.tenant.sp_host() && host != st.tenant.my_host() {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_resource",
                    500011,
                    &format!(
                        "The resource principal named {res} was not found in the tenant named {}.",
                        st.tenant.domain()
                    ),
                ));
            }
            Audience::SharePoint(host)
        };
        if resource.as_ref().is_some_and(|r| *r != aud) {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                70011,
                "The provided value for the input parameter 'scope' is not valid. All scopes included must be for a single resource.",
            ));
        }
        resource = Some(aud);
        short.push(name);
    }
    match resource {
        Some(r) => Ok((r, short)),
        None => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            "The provided value for the input parameter 'scope' is not valid.",
        )),
    }
}

/// Check the `{tenant}` path segment: tenant id, domain, `organizations` or `common`.
pub fn tenant_matches(st: &State, tenant: &str) -> bool {
    let t = tenant.to_lowercase();
    t == st.tenant.id || t == st.tenant.domain() || t == "organizations" || t == "common"
}

pub fn token_endpoint(emu: &Emu, tenant: &str, form: &HashMap<String, String>) -> Response {
    let st = emu.state();
    if !tenant_matches(&st, tenant) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!("Tenant '{tenant}' not found."),
        );
    }
    let grant = form.get("grant_type").map(String::as_str).unwrap_or("");
    match grant {
        "client_credentials" => {
            let client_id = form.get("client_id").cloned().unwrap_or_default();
            let Some(app) = st.apps.get(&client_id) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "unauthorized_client",
                    700016,
                    &format!(
                        "Application with identifier '{client_id}' was not found in the directory '{}'.",
                        st.tenant.domain()
                    ),
                );
            };
            let scope = form.get("scope").cloned().unwrap_or_default();
            if !scope.split_whitespace().all(|s| s.ends_with("/.default")) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    70011,
                    "The provided value for the input parameter 'scope' is not valid. The scope must end in /.default for client credentials.",
                );
            }
            let (aud, _) = match scope_resource(&st, &scope) {
                Ok(r) => r,
                Err(e) => return e,
            };
            let appidacr = match (form.get("client_secret"), form.get("client_assertion")) {
                (Some(secret), _) => {
                    if app.secret.as_deref() != Some(secret.as_str()) {
                        return oauth_error(
                            StatusCode::UNAUTHORIZED,
                            "invalid_client",
                            7000215,
                            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
                        );
                    }
                    "1"
                }
                (None, Some(assertion)) => {
                    if let Err(resp) = super::verify_client_assertion(emu, &st, app, form, assertion) {
                        return resp;
                    }
                    "2"
                }
                (None, None) => {
                    return oauth_error(
                        StatusCode::UNAUTHORIZED,
                        "invalid_client",
                        7000218,
                        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
                    )
                }
            };
            let (token, expires_in) = issue_access_token(
                emu,
                &st,
                &TokenRequest { client_id: &client_id, user_id: None, audience: aud, appidacr, scopes: vec![] },
            );
            (
                StatusCode::OK,
                axum::Json(json!({"token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in, "access_token": token})),
            )
                .into_response()
        }
        "" => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        ),
        other => {
            drop(st);
            super::other_grant(emu, tenant, other, form)
        }
    }
}
