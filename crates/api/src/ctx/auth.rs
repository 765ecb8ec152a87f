//! The caller of a request: the bearer-token check of every protected route ([`require_auth`]) and the
//! [`CurrentUser`] extractor. The tokens themselves are kept by [`crate::store::tokens`].

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::edge::error::ApiError;
use crate::state::AppState;
use crate::store::tokens::authenticate;
pub use crate::store::tokens::CurrentUser;

/// The token of an `Authorization: Bearer …` header (scheme in any case).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= 512).then_some(token)
}

/// Authenticates a request from its headers.
pub async fn user_from_headers(state: &AppState, headers: &HeaderMap) -> Result<Option<CurrentUser>, ApiError> {
    match bearer(headers) {
        None => Ok(None),
        Some(t) => Ok(authenticate(state.pool(), t).await?),
    }
}

/// Middleware applied to every protected route: 401 unless a valid bearer token is presented; the caller is then
/// available to handlers as [`CurrentUser`].
pub async fn require_auth(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    match user_from_headers(&state, req.headers()).await {
        Ok(Some(user)) => {
            req.extensions_mut().insert(user);
            next.run(req).await
        }
        Ok(None) => ApiError::unauthorized().into_response(),
        Err(e) => e.into_response(),
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(u) = parts.extensions.get::<CurrentUser>() {
            return Ok(u.clone());
        }
        user_from_headers(state, &parts.headers).await?.ok_or_else(ApiError::unauthorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer   xyz "));
        assert_eq!(bearer(&h), Some("xyz"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&h), None);
    }
}
