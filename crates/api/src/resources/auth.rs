//! `POST /vN/token` (password and refresh_token grants) and `POST /vN/token/logout` (veeam-api-notes §2).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::ctx::auth::{self, CurrentUser, PeerIp};
use crate::edge::error::ApiError;
use crate::edge::lenient::Body;
use crate::edge::query::LenientQuery;
use crate::edge::version::ApiVersion;
use crate::state::AppState;
use crate::store::accounts::{self, AccountError};
use crate::store::logon_throttle;
use crate::store::password_pool;
use crate::store::tokens;
use crate::wire::auth::{OAuthError, OAuthTokenResponse, TokenRequest};
use crate::wire::Done;

fn oauth_error(error: &'static str, description: impl Into<String>) -> Response {
    oauth_error_with(StatusCode::BAD_REQUEST, error, description)
}

fn oauth_error_with(status: StatusCode, error: &'static str, description: impl Into<String>) -> Response {
    json(status, &OAuthError::new(error, description))
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

/// The request's fields, form-urlencoded or JSON (by content type, else by the first character).
fn token_request(headers: &HeaderMap, body: &[u8]) -> Result<TokenRequest, ApiError> {
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let looks_json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if content_type.contains("json") || (!content_type.contains("x-www-form-urlencoded") && looks_json) {
        return Body::parse(body)?.to_typed();
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| ApiError::bad_request(format!("The form body is malformed: {e}")))?;
    LenientQuery::from_pairs(pairs).typed()
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
pub async fn token(
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
    let issued = tokens::issue(pool, &state.tokens, &current).await?;
    Ok(json(StatusCode::OK, &OAuthTokenResponse::new(version, issued)))
}

async fn token_inner(
    state: &AppState,
    version: ApiVersion,
    peer: Option<std::net::IpAddr>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let f = match token_request(headers, body) {
        Ok(f) => f,
        Err(e) => return Ok(oauth_error("invalid_request", e.message)),
    };
    let grant = f.grant_type().unwrap_or("password").to_ascii_lowercase();
    match grant.as_str() {
        "password" => {
            // A refresh_token field (some scripts send `refresh_token=''`) is ignored on password grants.
            let (Some(name), Some(password)) = (f.username(), f.password()) else {
                return Ok(oauth_error("invalid_request", "The 'username' and 'password' fields are required."));
            };
            password_logon(state, version, peer, name, password).await
        }
        "refresh_token" => {
            let Some(rt) = f.refresh_token() else {
                return Ok(oauth_error("invalid_request", "The 'refresh_token' field is required."));
            };
            match tokens::refresh(state.pool(), &state.tokens, rt).await? {
                Some(issued) => Ok(json(StatusCode::OK, &OAuthTokenResponse::new(version, issued))),
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
pub async fn logout(State(state): State<AppState>, version: ApiVersion, headers: HeaderMap) -> Result<Done, ApiError> {
    if let Some(t) = auth::bearer(&headers) {
        tokens::revoke_family(state.pool(), t).await?;
    }
    Ok(Done(version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_parsing_form_and_json() {
        let mut h = HeaderMap::new();
        let f =
            token_request(&h, b"grant_type=password&UserName=DOMAIN%5Cadmin&password=p%26w&refresh_token=").unwrap();
        assert_eq!(f.username(), Some("DOMAIN\\admin"));
        assert_eq!(f.password(), Some("p&w"));
        assert_eq!(f.refresh_token(), None);
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
        let f = token_request(
            &h,
            br#"{"Grant_Type":"password","username":"a","password":" ","disable_antiforgery_token":true,}"#,
        )
        .unwrap();
        assert_eq!(f.grant_type(), Some("password"));
        assert_eq!(f.password(), Some(" "));
        assert!(token_request(&h, b"{bad").is_err());
    }
}
