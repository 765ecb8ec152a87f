//! Issuing and validating access tokens.

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::{jwt, Audience, Principal};
use crate::emu::Emu;
use crate::error::GraphError;
use crate::preauth::signing_key;
use crate::state::State;

/// The `aud` claim value for a resource.
pub fn audience_claim(a: &Audience) -> String {
    match a {
        Audience::Graph => "https://graph.microsoft.com".to_string(),
        Audience::SharePoint(host) => format!("https://{host}"),
    }
}

/// What an access token is issued for.
pub struct TokenRequest<'a> {
    pub client_id: &'a str,
    pub user_id: Option<&'a str>,
    pub audience: Audience,
    /// "0" public, "1" secret, "2" certificate.
    pub appidacr: &'a str,
    /// Delegated scopes (space-separated short names, e.g. `Files.ReadWrite.All`); empty for app-only.
    pub scopes: Vec<String>,
}

/// Issue an Entra-v1-shaped access token; returns (token, expires_in seconds).
pub fn issue_access_token(emu: &Emu, st: &State, req: &TokenRequest) -> (String, i64) {
    let now = emu.now_from(st).timestamp();
    let lifetime = st.settings.token_lifetime_secs;
    let tid = &st.tenant.id;
    let mut claims = json!({
        "aud": audience_claim(&req.audience),
        "iss": format!("https://sts.windows.net/{tid}/"),
        "iat": now, "nbf": now, "exp": now + lifetime,
        "tid": tid,
        "appid": req.client_id,
        "appidacr": req.appidacr,
        "ver": "1.0",
        "uti": crate::ids::random_token(12),
        "xms_emu_epoch": st.settings.token_epoch,
    });
    let app = st.apps.get(req.client_id);
    match req.user_id.and_then(|u| st.users.get(u)) {
        Some(u) => {
            claims["idtyp"] = json!("user");
            claims["oid"] = json!(u.id);
            claims["sub"] = json!(u.id);
            claims["upn"] = json!(u.user_principal_name);
            claims["unique_name"] = json!(u.user_principal_name);
            claims["name"] = json!(u.display_name);
            claims["scp"] = json!(req.scopes.join(" "));
        }
        None => {
            let sp_oid = crate::ids::guid(&st.id_seed, "service-principal", 0);
            claims["idtyp"] = json!("app");
            claims["oid"] = json!(sp_oid);
            claims["sub"] = json!(sp_oid);
            claims["roles"] = json!(app.map(|a| a.roles.clone()).unwrap_or_default());
        }
    }
    let header = json!({"typ": "JWT", "alg": "HS256", "kid": "emulator"});
    (jwt::sign_hs256(&signing_key(st), &header, &claims), lifetime)
}

/// Validate a token we issued for `want`.
pub fn validate_access_token(emu: &Emu, token: &str, want: &Audience) -> Result<Principal, GraphError> {
    let st = emu.state();
    let claims = jwt::verify_hs256(&signing_key(&st), token).ok_or_else(|| {
        GraphError::unauthenticated("Access token validation failure. Invalid signature or malformed token.")
    })?;
    let now = emu.now_from(&st).timestamp();
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    let nbf = claims.get("nbf").and_then(Value::as_i64).unwrap_or(0);
    let epoch = claims.get("xms_emu_epoch").and_then(Value::as_u64).unwrap_or(0);
    if now >= exp || now + 300 < nbf || epoch < st.settings.token_epoch {
        return Err(GraphError::unauthenticated("Access token has expired or is not yet valid.").inner("expiredToken"));
    }
    if claims.get("tid").and_then(Value::as_str) != Some(st.tenant.id.as_str()) {
        return Err(GraphError::unauthenticated("Access token validation failure. Invalid tenant."));
    }
    let aud = claims.get("aud").and_then(Value::as_str).unwrap_or_default();
    let aud_ok = match want {
        Audience::Graph => aud == "https://graph.microsoft.com" || aud == "00000003-0000-0000-c000-000000000000",
        Audience::SharePoint(_) => aud == audience_claim(want),
    };
    if !aud_ok {
        return Err(GraphError::unauthenticated(format!("Invalid audience '{aud}'.")));
    }
    let app_id = claims.get("appid").and_then(Value::as_str).map(str::to_string);
    let user_id = match claims.get("idtyp").and_then(Value::as_str) {
        Some("user") => claims.get("oid").and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    if let Some(u) = &user_id {
        match st.users.get(u) {
            Some(user) if !user.disabled => {}
            _ => return Err(GraphError::unauthenticated("The user of this token no longer exists or is disabled.")),
        }
    }
    let roles = claims
        .get("roles")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|r| r.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let scopes = claims
        .get("scp")
        .and_then(Value::as_str)
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let principal = Principal {
        app_id,
        user_id,
        appidacr: claims.get("appidacr").and_then(Value::as_str).unwrap_or("0").to_string(),
        roles,
        scopes,
        claims,
    };
    if principal.roles.is_empty() && principal.scopes.is_empty() {
        return Err(GraphError::new(
            StatusCode::FORBIDDEN,
            "accessDenied",
            "Either scp or roles claim need to be present in the token.",
        ));
    }
    Ok(principal)
}
