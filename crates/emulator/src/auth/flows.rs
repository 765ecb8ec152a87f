//! Certificate assertions, ROPC, device code and refresh-token grants, and OIDC discovery
//! (graph-notes §1.2–§1.5).

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use aws_lc_rs::signature::{self, UnparsedPublicKey};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde_json::{json, Value};

use super::assertion::{x5t, x5t_s256};
use super::{audience_claim, issue_access_token, jwt, Audience, TokenRequest};
use crate::emu::Emu;
use crate::error::{oauth_error, oauth_error_with};
use crate::state::{App, DeviceCode, RefreshGrant, State};

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Allowed clock skew on assertion `nbf`/`exp`.
const SKEW_SECS: i64 = 300;
/// Device codes live 15 minutes and are polled every 5 seconds (§1.4).
pub const DEVICE_CODE_SECS: i64 = 900;
pub const DEVICE_CODE_INTERVAL: u64 = 5;
/// Refresh tokens expire after 90 days of the emulator clock.
pub const REFRESH_TOKEN_DAYS: i64 = 90;

/// Delegated permissions every app in the emulated tenant has admin consent for, on top of its
/// application permissions. Anything else is `consent_required` (AADSTS65001).
const CONSENTED_DELEGATED: &[&str] = &[
    "User.Read",
    "User.ReadBasic.All",
    "User.Read.All",
    "Files.Read",
    "Files.Read.All",
    "Files.ReadWrite",
    "Files.ReadWrite.All",
    "Sites.Read.All",
    "Sites.ReadWrite.All",
    "Sites.Manage.All",
    "Sites.FullControl.All",
    "Mail.Send",
    "Mail.ReadWrite",
    "AllSites.Read",
    "AllSites.Write",
    "AllSites.Manage",
    "AllSites.FullControl",
    "MyFiles.Read",
    "MyFiles.Write",
];
const OIDC_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// Assertion ids already redeemed, per emulator (keyed by its signing key), with their expiry.
/// Kept in memory: a restart forgets them, as would a fresh Entra front end.
static SEEN_JTI: LazyLock<Mutex<HashMap<(String, String), i64>>> = LazyLock::new(Default::default);

fn bad_client(code: u32, msg: &str) -> Response {
    oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", code, msg)
}

fn missing(param: &str) -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900144,
        &format!("The request body must contain the following parameter: '{param}'."),
    )
}

/// Token URLs an assertion's `aud` may name: this emulator's, with the tenant id or domain.
fn accepted_audiences(emu: &Emu, st: &State) -> [String; 2] {
    let base = emu.base_url().to_lowercase();
    [
        format!("{base}/{}/oauth2/v2.0/token", st.tenant.id.to_lowercase()),
        format!("{base}/{}/oauth2/v2.0/token", st.tenant.domain().to_lowercase()),
    ]
}

/// Verify a client assertion JWT (RS256+x5t or PS256+x5t#S256/x5t) against the app's certificates.
pub fn verify_client_assertion(
    emu: &Emu,
    st: &State,
    app: &App,
    form: &HashMap<String, String>,
    assertion: &str,
) -> Result<(), Response> {
    match form.get("client_assertion_type").map(String::as_str) {
        None => return Err(missing("client_assertion_type")),
        Some(JWT_BEARER) => {}
        Some(other) => {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                90014,
                &format!("The client_assertion_type '{other}' is not supported; expected '{JWT_BEARER}'."),
            ))
        }
    }
    let parsed = jwt::parse(assertion)
        .ok_or_else(|| bad_client(50027, "Invalid JWT token. The client assertion is not a well-formed JWS."))?;
    let alg = parsed.header.get("alg").and_then(Value::as_str).unwrap_or("");
    let params: &'static signature::RsaParameters = match alg {
        "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
        "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
        _ => {
            return Err(bad_client(
                700027,
                &format!("Client assertion failed signature validation. Unsupported algorithm '{alg}'."),
            ))
        }
    };
    let s256 = parsed.header.get("x5t#S256").and_then(Value::as_str);
    let sha1 = parsed.header.get("x5t").and_then(Value::as_str);
    if s256.is_none() && sha1.is_none() {
        return Err(bad_client(
            700027,
            "Client assertion failed signature validation. The header names no certificate (x5t or x5t#S256).",
        ));
    }
    let cert = app.certificates.iter().filter_map(|c| decode_b64(c)).find(|der| {
        s256.is_some_and(|t| t.trim_end_matches('=') == x5t_s256(der))
            || sha1.is_some_and(|t| t.trim_end_matches('=') == x5t(der))
    });
    let Some(cert_der) = cert else {
        return Err(bad_client(
            700027,
            &format!(
                "The certificate with identifier used to sign the client assertion is not registered on application. \
                 [Reason - The key was not found., Thumbprint of key used by client: '{}']",
                s256.or(sha1).unwrap_or_default()
            ),
        ));
    };
    let now = emu.now_from(st).timestamp();
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(&cert_der) else {
        return Err(bad_client(700027, "The registered certificate could not be parsed."));
    };
    if cert.validity().not_after.timestamp() < now {
        return Err(bad_client(700027, "Client assertion failed signature validation. The certificate has expired."));
    }
    let key = &cert.tbs_certificate.subject_pki.subject_public_key.data;
    UnparsedPublicKey::new(params, key.as_ref())
        .verify(parsed.signing_input.as_bytes(), &parsed.signature)
        .map_err(|_| bad_client(700027, "Client assertion failed signature validation."))?;

    let claims = &parsed.claims;
    let claim = |n: &str| claims.get(n).and_then(Value::as_str);
    if claim("iss") != Some(app.client_id.as_str()) || claim("sub") != Some(app.client_id.as_str()) {
        return Err(bad_client(
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter (iss and sub must be the client id).",
        ));
    }
    let accepted = accepted_audiences(emu, st);
    let aud_ok = |a: &str| accepted.iter().any(|x| x.eq_ignore_ascii_case(a));
    let aud_matches = match claims.get("aud") {
        Some(Value::String(a)) => aud_ok(a),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(aud_ok),
        _ => false,
    };
    if !aud_matches {
        return Err(bad_client(
            700023,
            &format!("Client assertion audience claim does not match the token endpoint. Expected '{}'.", accepted[0]),
        ));
    }
    let exp = claims.get("exp").and_then(Value::as_i64);
    let nbf = claims.get("nbf").and_then(Value::as_i64).unwrap_or(i64::MIN);
    match exp {
        Some(exp) if now <= exp + SKEW_SECS && nbf <= now + SKEW_SECS => {}
        _ => {
            return Err(bad_client(
                700024,
                &format!("Client assertion is not within its valid time range. Current time: {now}."),
            ))
        }
    }
    let exp = exp.unwrap_or(now);
    if let Some(jti) = claim("jti") {
        let mut seen = SEEN_JTI.lock();
        seen.retain(|_, e| *e + SKEW_SECS >= now);
        if seen.insert((st.signing_key.clone(), jti.to_string()), exp).is_some() {
            return Err(bad_client(700027, &format!("Client assertion has already been used (jti '{jti}').")));
        }
    }
    Ok(())
}

fn decode_b64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// Authenticate the client of a delegated grant: a secret or assertion if sent, otherwise the app
/// must allow public client flows. Returns `appidacr`.
fn client_auth(emu: &Emu, st: &State, app: &App, form: &HashMap<String, String>) -> Result<&'static str, Response> {
    if let Some(secret) = form.get("client_secret") {
        if app.secret.as_deref() != Some(secret.as_str()) {
            return Err(bad_client(
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            ));
        }
        return Ok("1");
    }
    if let Some(assertion) = form.get("client_assertion") {
        verify_client_assertion(emu, st, app, form, assertion)?;
        return Ok("2");
    }
    if app.public_client {
        return Ok("0");
    }
    Err(bad_client(
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    ))
}

fn find_app<'a>(st: &'a State, form: &HashMap<String, String>) -> Result<&'a App, Response> {
    let client_id = form.get("client_id").map(String::as_str).unwrap_or("");
    if client_id.is_empty() {
        return Err(missing("client_id"));
    }
    st.apps.get(client_id).ok_or_else(|| {
        oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'.",
                st.tenant.domain()
            ),
        )
    })
}

/// A parsed delegated scope request.
struct Delegated {
    audience: Audience,
    /// `scp` claim values (short names, plus requested `openid`/`profile`/`email`).
    scp: Vec<String>,
    /// The `scope` field of the response.
    granted: String,
    offline: bool,
    openid: bool,
}

fn delegated_scopes(st: &State, app: &App, scope: &str) -> Result<Delegated, Response> {
    let words: Vec<&str> = scope.split_whitespace().collect();
    if words.is_empty() {
        return Err(missing("scope"));
    }
    let oidc: Vec<&str> = words.iter().copied().filter(|w| OIDC_SCOPES.contains(w)).collect();
    let has_resource = words.iter().any(|w| !OIDC_SCOPES.contains(w));
    // Only OIDC scopes: Entra issues a Graph token for User.Read.
    let (audience, names) = if has_resource { super::scope_resource(st, scope)? } else { (Audience::Graph, vec![]) };
    let mut short: Vec<String> = Vec::new();
    for n in names {
        if n == ".default" {
            short.extend(app.roles.iter().cloned());
        } else {
            short.push(n);
        }
    }
    if short.is_empty() {
        short.push("User.Read".into());
    }
    for s in &short {
        if !app.roles.iter().any(|r| r.eq_ignore_ascii_case(s))
            && !CONSENTED_DELEGATED.iter().any(|c| c.eq_ignore_ascii_case(s))
        {
            return Err(oauth_error_with(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                65001,
                &format!(
                    "The user or administrator has not consented to use the application with ID '{}' named '{}'. \
                     Send an interactive authorization request for this user and resource. (scope '{s}')",
                    app.client_id, app.display_name
                ),
                json!({"suberror": "consent_required"}),
            ));
        }
    }
    let mut seen = BTreeSet::new();
    short.retain(|s| seen.insert(s.to_lowercase()));
    let prefix = match &audience {
        Audience::Graph => String::new(),
        a => format!("{}/", audience_claim(a)),
    };
    let mut granted: Vec<String> = short.iter().map(|s| format!("{prefix}{s}")).collect();
    granted.extend(oidc.iter().map(|s| s.to_string()));
    let mut scp = short;
    scp.extend(oidc.iter().filter(|s| **s != "offline_access").map(|s| s.to_string()));
    Ok(Delegated {
        audience,
        scp,
        granted: granted.join(" "),
        offline: oidc.contains(&"offline_access"),
        openid: oidc.contains(&"openid"),
    })
}

/// The token response of every delegated grant (§1.3): access token, plus a refresh token for
/// `offline_access` and an id token for `openid`. `refresh_scope` is what the refresh token remembers.
fn delegated_response(
    emu: &Emu,
    st: &mut State,
    app: &App,
    user_id: &str,
    d: Delegated,
    appidacr: &str,
    refresh_scope: &str,
) -> Response {
    let (token, expires_in) = issue_access_token(
        emu,
        st,
        &TokenRequest {
            client_id: &app.client_id,
            user_id: Some(user_id),
            audience: d.audience,
            appidacr,
            scopes: d.scp,
        },
    );
    let mut body = json!({
        "token_type": "Bearer",
        "scope": d.granted,
        "expires_in": expires_in,
        "ext_expires_in": expires_in,
        "access_token": token,
    });
    let now = emu.now_from(st);
    if d.offline {
        let rt = format!("0.AV{}", crate::ids::random_token(48));
        st.refresh_tokens.insert(
            rt.clone(),
            RefreshGrant {
                client_id: app.client_id.clone(),
                user_id: user_id.to_string(),
                scope: refresh_scope.to_string(),
                expires: now + chrono::Duration::days(REFRESH_TOKEN_DAYS),
            },
        );
        body["refresh_token"] = json!(rt);
    }
    if d.openid {
        if let Some(u) = st.users.get(user_id) {
            let t = now.timestamp();
            let claims = json!({
                "aud": app.client_id,
                "iss": format!("{}/{}/v2.0", emu.base_url(), st.tenant.id),
                "iat": t, "nbf": t, "exp": t + 3600,
                "name": u.display_name,
                "preferred_username": u.user_principal_name,
                "email": u.mail,
                "oid": u.id,
                "sub": u.id,
                "tid": st.tenant.id,
                "ver": "2.0",
            });
            let header = json!({"typ": "JWT", "alg": "HS256", "kid": "emulator"});
            body["id_token"] = json!(jwt::sign_hs256(&crate::preauth::signing_key(st), &header, &claims));
        }
    }
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// Grants other than client_credentials: password, device_code, refresh_token.
pub fn other_grant(emu: &Emu, tenant: &str, grant: &str, form: &HashMap<String, String>) -> Response {
    let r = match grant {
        "password" => password_grant(emu, tenant, form),
        DEVICE_CODE_GRANT | "device_code" => device_code_grant(emu, form),
        "refresh_token" => refresh_grant(emu, form),
        _ => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{grant}'."),
        )),
    };
    r.unwrap_or_else(|e| e)
}

fn password_grant(emu: &Emu, tenant: &str, form: &HashMap<String, String>) -> Result<Response, Response> {
    if matches!(tenant.to_lowercase().as_str(), "common" | "consumers") {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            50059,
            "No tenant-identifying information found in either the request or implied by any provided credentials. \
             The resource owner password credentials grant needs a tenant-specific or 'organizations' authority.",
        ));
    }
    let mut st = emu.state();
    let app = find_app(&st, form)?.clone();
    let appidacr = client_auth(emu, &st, &app, form)?;
    let scope = form.get("scope").cloned().unwrap_or_default();
    let d = delegated_scopes(&st, &app, &scope)?;
    let username = form.get("username").filter(|u| !u.is_empty()).ok_or_else(|| missing("username"))?;
    let password = form.get("password").ok_or_else(|| missing("password"))?;
    let Some(user) = st.find_user(username).cloned() else {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            50034,
            &format!(
                "The user account {username} does not exist in the {} directory. To sign into this application, the account must be added to the directory.",
                st.tenant.domain()
            ),
        ));
    };
    if user.password != *password {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            50126,
            "Error validating credentials due to invalid username or password.",
        ));
    }
    if user.disabled {
        return Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", 50057, "The user account is disabled."));
    }
    if user.mfa_required {
        return Err(oauth_error_with(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            50076,
            "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access this resource.",
            json!({"suberror": "basic_action"}),
        ));
    }
    Ok(delegated_response(emu, &mut st, &app, &user.id, d, appidacr, &scope))
}

fn device_code_grant(emu: &Emu, form: &HashMap<String, String>) -> Result<Response, Response> {
    let mut st = emu.state();
    let app = find_app(&st, form)?.clone();
    let code = form.get("device_code").filter(|c| !c.is_empty()).ok_or_else(|| missing("device_code"))?;
    let Some(dc) = st.device_codes.get(code).cloned() else {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "bad_verification_code",
            70000,
            "The provided value for the input parameter 'device_code' is not valid.",
        ));
    };
    if dc.client_id != app.client_id {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            70000,
            "The device code was issued to a different application.",
        ));
    }
    let appidacr = client_auth(emu, &st, &app, form)?;
    let now = emu.now_from(&st);
    if now >= dc.expires {
        return Err(oauth_error(StatusCode::BAD_REQUEST, "expired_token", 70019, "Verification code expired."));
    }
    if dc.redeemed {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            70000,
            "The provided device code has already been redeemed.",
        ));
    }
    if dc.declined {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "authorization_declined",
            70000,
            "The end user denied the authorization request.",
        ));
    }
    let Some(user_id) = dc.approved_user.clone() else {
        // Polling well under the interval earns slow_down (RFC 8628 §3.5); one second of slack
        // keeps clients that sleep exactly `interval` out of it.
        let too_fast = dc.last_poll.is_some_and(|last| {
            now - last < chrono::Duration::seconds(dc.interval_secs as i64) - chrono::Duration::seconds(1)
        });
        if let Some(d) = st.device_codes.get_mut(code) {
            d.last_poll = Some(now);
        }
        if too_fast {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "slow_down",
                70016,
                "The client is polling too frequently; add 5 seconds to the polling interval.",
            ));
        }
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "authorization_pending",
            70016,
            "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        ));
    };
    match st.users.get(&user_id) {
        Some(u) if !u.disabled => {}
        _ => return Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", 50057, "The user account is disabled.")),
    }
    let d = delegated_scopes(&st, &app, &dc.scope)?;
    if let Some(x) = st.device_codes.get_mut(code) {
        x.redeemed = true;
    }
    Ok(delegated_response(emu, &mut st, &app, &user_id, d, appidacr, &dc.scope))
}

fn refresh_grant(emu: &Emu, form: &HashMap<String, String>) -> Result<Response, Response> {
    let mut st = emu.state();
    let app = find_app(&st, form)?.clone();
    let rt = form.get("refresh_token").filter(|c| !c.is_empty()).ok_or_else(|| missing("refresh_token"))?;
    let appidacr = client_auth(emu, &st, &app, form)?;
    let now = emu.now_from(&st);
    let revoked = || {
        oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            700082,
            "The refresh token has expired or has been revoked. Sign in again.",
        )
    };
    let Some(grant) = st.refresh_tokens.get(rt).cloned() else {
        return Err(revoked());
    };
    if now >= grant.expires {
        st.refresh_tokens.remove(rt);
        return Err(revoked());
    }
    if grant.client_id != app.client_id {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            70000,
            "The refresh token was issued to a different client.",
        ));
    }
    match st.users.get(&grant.user_id) {
        Some(u) if !u.disabled => {}
        _ => return Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", 50057, "The user account is disabled.")),
    }
    let requested = form.get("scope").filter(|s| !s.trim().is_empty()).cloned().unwrap_or_else(|| grant.scope.clone());
    let mut d = delegated_scopes(&st, &app, &requested)?;
    // Rotation: the presented token is spent; a refresh always yields a successor.
    st.refresh_tokens.remove(rt);
    d.offline = true;
    Ok(delegated_response(emu, &mut st, &app, &grant.user_id, d, appidacr, &grant.scope))
}

/// Characters of user codes (no 0/O/1/I, which users confuse).
const USER_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

fn new_user_code() -> String {
    let mut buf = [0u8; 8];
    aws_lc_rs::rand::fill(&mut buf).expect("system randomness");
    buf.iter().map(|b| USER_CODE_ALPHABET[*b as usize % USER_CODE_ALPHABET.len()] as char).collect()
}

/// `POST /{tenant}/oauth2/v2.0/devicecode`.
pub fn device_code_endpoint(emu: &Emu, tenant: &str, form: &HashMap<String, String>) -> Response {
    let mut st = emu.state();
    if !super::tenant_matches(&st, tenant) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!("Tenant '{tenant}' not found."),
        );
    }
    let app = match find_app(&st, form) {
        Ok(a) => a.clone(),
        Err(e) => return e,
    };
    let scope = form.get("scope").cloned().unwrap_or_default();
    if let Err(e) = delegated_scopes(&st, &app, &scope) {
        return e;
    }
    let now = emu.now_from(&st);
    let device_code = format!("DAQABAAEAAA{}", crate::ids::random_token(96));
    let user_code = new_user_code();
    st.device_codes.retain(|_, d| d.expires + chrono::Duration::hours(1) > now);
    st.device_codes.insert(
        device_code.clone(),
        DeviceCode {
            device_code: device_code.clone(),
            user_code: user_code.clone(),
            client_id: app.client_id.clone(),
            scope,
            expires: now + chrono::Duration::seconds(DEVICE_CODE_SECS),
            interval_secs: DEVICE_CODE_INTERVAL,
            approved_user: None,
            declined: false,
            redeemed: false,
            last_poll: None,
        },
    );
    let uri = format!("{}/devicelogin", emu.base_url());
    let body = json!({
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": uri,
        "expires_in": DEVICE_CODE_SECS,
        "interval": DEVICE_CODE_INTERVAL,
        "message": format!("To sign in, use a web browser to open the page {uri} and enter the code {user_code} to authenticate."),
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`.
pub fn openid_configuration(emu: &Emu, tenant: &str) -> Response {
    let st = emu.state();
    if !super::tenant_matches(&st, tenant) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_tenant", 90002, &format!("Tenant '{tenant}' not found."));
    }
    let base = emu.base_url();
    let lower = tenant.to_lowercase();
    let issuer_tenant =
        if lower == "organizations" || lower == "common" { "{tenantid}".to_string() } else { st.tenant.id.clone() };
    let body = json!({
        "issuer": format!("{base}/{issuer_tenant}/v2.0"),
        "authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/authorize"),
        "token_endpoint": format!("{base}/{tenant}/oauth2/v2.0/token"),
        "device_authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/devicecode"),
        "end_session_endpoint": format!("{base}/{tenant}/oauth2/v2.0/logout"),
        "jwks_uri": format!("{base}/{tenant}/discovery/v2.0/keys"),
        "userinfo_endpoint": format!("{base}/v1.0/me"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "grant_types_supported": ["client_credentials", "password", DEVICE_CODE_GRANT, "refresh_token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["HS256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "name", "preferred_username", "email", "oid", "tid", "ver"],
        "request_uri_parameter_supported": false,
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "msgraph_host": "graph.microsoft.com",
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}
