//! `POST /vN/token` (password and refresh_token grants) and `POST /vN/token/logout` (veeam-api-notes §2).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::ctx::auth::{self, CurrentUser, IssuedTokens};
use crate::edge::error::ApiError;
use crate::edge::lenient::Body;
use crate::edge::version::ApiVersion;
use crate::state::AppState;
use crate::store::accounts::{self, AccountError};
use crate::store::logon_throttle::{self, PeerIp};
use crate::store::password_pool;

/// `/token`: anonymous.
pub fn public_router() -> Router<AppState> {
    Router::new().route("/{version}/token", post(token))
}

/// `/token/logout`: authenticated.
pub fn router() -> Router<AppState> {
    Router::new().route("/{version}/token/logout", post(logout))
}

#[derive(OpenApi)]
#[openapi(
    paths(token, logout),
    components(schemas(TokenRequest, OAuthTokenResponse, OAuthError, crate::openapi::RestExceptionInfo)),
    tags((name = "Auth", description = "Authorization tokens"))
)]
struct AuthDoc;

/// Documented paths.
pub fn openapi() -> utoipa::openapi::OpenApi {
    AuthDoc::openapi()
}

/// Token request fields (form-urlencoded or JSON; names in any case).
#[derive(ToSchema)]
#[allow(dead_code)] // documentation only: the handler reads fields leniently
struct TokenRequest {
    /// `password` (default) or `refresh_token`. `urn:ietf:params:oauth:grant-type:jwt-bearer` and `operator` are
    /// answered with `unsupported_grant_type`.
    grant_type: Option<String>,
    /// Account name (password grant).
    username: Option<String>,
    /// Password (password grant).
    #[schema(format = Password)]
    password: Option<String>,
    /// Refresh token (refresh_token grant); ignored on password grants.
    refresh_token: Option<String>,
    /// Accepted and ignored: no antiforgery cookie is ever required.
    disable_antiforgery_token: Option<bool>,
}

/// The vendor's `OAuthTokenResponse`.
#[derive(Serialize, ToSchema)]
struct OAuthTokenResponse {
    access_token: String,
    refresh_token: String,
    /// Always `bearer`.
    token_type: &'static str,
    /// Access-token lifetime in seconds (3600).
    expires_in: i64,
    #[serde(rename = "userName")]
    user_name: String,
    /// v2–v5: RFC 1123 (`Mon, 04 Sep 2017 04:45:57 GMT`, OWIN's format); v6+: ISO 8601.
    #[serde(rename = ".issued")]
    issued: String,
    #[serde(rename = ".expires")]
    expires: String,
}

/// OAuth-style error of the token endpoint (plus `message`, which clients of the other endpoints read).
#[derive(Serialize, ToSchema)]
struct OAuthError {
    /// `invalid_request`, `invalid_grant`, `unsupported_grant_type`; with 429 `temporarily_locked`, with 503
    /// `temporarily_unavailable` (both with `Retry-After`).
    error: &'static str,
    error_description: String,
    message: String,
}

fn oauth_error(error: &'static str, description: impl Into<String>) -> Response {
    oauth_error_with(StatusCode::BAD_REQUEST, error, description)
}

fn oauth_error_with(status: StatusCode, error: &'static str, description: impl Into<String>) -> Response {
    let description = description.into();
    let body = OAuthError { error, error_description: description.clone(), message: description };
    json(status, &body)
}

/// 429: the name or address is locked by the logon throttle.
fn locked(lock: logon_throttle::Lock) -> Response {
    let mut resp = oauth_error_with(StatusCode::TOO_MANY_REQUESTS, "temporarily_locked", lock.message());
    resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(lock.retry_after_secs));
    resp
}

/// 503: every password-hashing slot stayed busy (a flood of logons); the client may retry shortly.
fn busy() -> Response {
    let mut resp = oauth_error_with(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "Too many logons are being checked at the moment; try again shortly.",
    );
    resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    resp
}

fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let mut resp = crate::edge::paging::json_response(status, body);
    // OWIN's token endpoint forbids caching of token responses.
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, no-store"));
    resp.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

fn format_time(version: ApiVersion, t: DateTime<Utc>) -> String {
    if version.is_action_era() {
        t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
    } else {
        t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    }
}

fn token_response(version: ApiVersion, t: IssuedTokens) -> Response {
    json(
        StatusCode::OK,
        &OAuthTokenResponse {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            token_type: "bearer",
            expires_in: t.expires_in,
            user_name: t.user.name,
            issued: format_time(version, t.issued),
            expires: format_time(version, t.expires),
        },
    )
}

/// The request's fields with lower-cased names (form or JSON).
fn fields(headers: &HeaderMap, body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let looks_json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if content_type.contains("json") || (!content_type.contains("x-www-form-urlencoded") && looks_json) {
        let obj = Body::parse(body)?;
        let mut out = Vec::new();
        for k in obj.keys().map(str::to_string).collect::<Vec<_>>() {
            // Non-string values (e.g. `"disable_antiforgery_token": true`) are kept as their text.
            if let Ok(Some(v)) = obj.str(&k) {
                out.push((k.to_ascii_lowercase(), v));
            }
        }
        return Ok(out);
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| ApiError::bad_request(format!("The form body is malformed: {e}")))?;
    Ok(pairs.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect())
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

/// Request authorization tokens.
#[utoipa::path(
    post,
    path = "/{version}/token",
    tag = "Auth",
    params(("version" = String, Path, description = "API version: v2 … v8")),
    request_body(content(
        (TokenRequest = "application/x-www-form-urlencoded"),
        (TokenRequest = "application/json")
    )),
    responses(
        (status = 200, description = "Tokens issued", body = OAuthTokenResponse),
        (status = 400, description = "Bad credentials or request", body = OAuthError),
        (status = 429, description = "Account or address temporarily locked after failed logons (`Retry-After`)",
            body = OAuthError),
        (status = 503, description = "Too many logons in progress (`Retry-After`)", body = OAuthError)
    ),
    security(())
)]
async fn token(
    State(state): State<AppState>,
    version: ApiVersion,
    PeerIp(peer): PeerIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match token_inner(&state, version, peer, &headers, &body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn throttle_store_error(e: sqlx::Error) -> ApiError {
    tracing::error!("logon throttle: {e}");
    ApiError::internal("The account store is unavailable.")
}

/// The password grant: throttle check, a hashing slot, the check again (the wait may have been long), the password
/// check, then the failure or success recorded.
async fn password_logon(
    state: &AppState,
    version: ApiVersion,
    peer: Option<std::net::IpAddr>,
    name: &str,
    password: &str,
) -> Result<Response, ApiError> {
    let pool = state.pool();
    if let Some(lock) = logon_throttle::check(pool, name, peer).await.map_err(throttle_store_error)? {
        return Ok(locked(lock));
    }
    let Ok(permit) = password_pool::acquire().await else {
        tracing::info!(user = name, "API logon refused: every password-hashing slot is busy");
        return Ok(busy());
    };
    if let Some(lock) = logon_throttle::check(pool, name, peer).await.map_err(throttle_store_error)? {
        return Ok(locked(lock));
    }
    let user = match accounts::verify_password_with(pool, permit, name, password).await {
        Ok(user) => user,
        Err(AccountError::Busy(_)) => return Ok(busy()),
        Err(e) => {
            tracing::error!("account check failed: {e}");
            return Err(ApiError::internal("The account store is unavailable."));
        }
    };
    let Some(user) = user else {
        tracing::info!(user = name, address = ?peer, "failed API logon");
        logon_throttle::record_failure(pool, name, peer).await.map_err(throttle_store_error)?;
        return Ok(oauth_error("invalid_grant", "The user name or password is incorrect."));
    };
    logon_throttle::record_success(pool, name).await.map_err(throttle_store_error)?;
    let current = CurrentUser { id: user.id, name: user.name };
    let issued = auth::issue(pool, &state.tokens, &current).await?;
    Ok(token_response(version, issued))
}

async fn token_inner(
    state: &AppState,
    version: ApiVersion,
    peer: Option<std::net::IpAddr>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let f = match fields(headers, body) {
        Ok(f) => f,
        Err(e) => return Ok(oauth_error("invalid_request", e.message)),
    };
    let grant = field(&f, "grant_type").unwrap_or("password").to_ascii_lowercase();
    match grant.as_str() {
        "password" => {
            // A refresh_token field (some scripts send `refresh_token=''`) is ignored on password grants.
            let (Some(name), Some(password)) = (field(&f, "username"), field(&f, "password")) else {
                return Ok(oauth_error("invalid_request", "The 'username' and 'password' fields are required."));
            };
            password_logon(state, version, peer, name, password).await
        }
        "refresh_token" => {
            let Some(rt) = field(&f, "refresh_token") else {
                return Ok(oauth_error("invalid_request", "The 'refresh_token' field is required."));
            };
            match auth::refresh(state.pool(), &state.tokens, rt).await? {
                Some(issued) => Ok(token_response(version, issued)),
                None => Ok(oauth_error("invalid_grant", "The refresh token is invalid, expired or already used.")),
            }
        }
        other => Ok(oauth_error("unsupported_grant_type", format!("The grant type '{other}' is not supported."))),
    }
}

/// Log out: revokes the access token and the refresh token of this logon.
#[utoipa::path(
    post,
    path = "/{version}/token/logout",
    tag = "Auth",
    params(("version" = String, Path, description = "API version: v2 … v8")),
    responses(
        (status = 200, description = "Logged out (v2–v7)"),
        (status = 204, description = "Logged out (v8)"),
        (status = 401, description = "Not authenticated", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
async fn logout(State(state): State<AppState>, version: ApiVersion, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(t) = auth::bearer(&headers) {
        auth::revoke_family(state.pool(), t).await?;
    }
    Ok(if version.is_v8() { StatusCode::NO_CONTENT } else { StatusCode::OK }.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::paths::canonical_route;

    #[test]
    fn routes_are_canonical() {
        for p in ["/{version}/token", "/{version}/token/logout"] {
            assert_eq!(canonical_route(p), p);
        }
    }

    #[test]
    fn field_parsing_form_and_json() {
        let mut h = HeaderMap::new();
        let f = fields(&h, b"grant_type=password&UserName=DOMAIN%5Cadmin&password=p%26w&refresh_token=").unwrap();
        assert_eq!(field(&f, "username"), Some("DOMAIN\\admin"));
        assert_eq!(field(&f, "password"), Some("p&w"));
        assert_eq!(field(&f, "refresh_token"), None);
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
        let f =
            fields(&h, br#"{"Grant_Type":"password","username":"a","password":"b","disable_antiforgery_token":true,}"#)
                .unwrap();
        assert_eq!(field(&f, "grant_type"), Some("password"));
        assert_eq!(field(&f, "disable_antiforgery_token"), Some("True"));
        assert!(fields(&h, b"{bad").is_err());
    }

    #[test]
    fn time_formats_per_era() {
        let t = DateTime::parse_from_rfc3339("2017-09-04T04:45:57Z").unwrap().with_timezone(&Utc);
        assert_eq!(format_time(ApiVersion(5), t), "Mon, 04 Sep 2017 04:45:57 GMT");
        assert_eq!(format_time(ApiVersion(6), t), "2017-09-04T04:45:57.000000Z");
    }
}
