//! The caller of an operation with everything a handler needs beside its path and body: the server's state, the
//! authenticated user and the request's API version. One extractor instead of three positional arguments, so
//! operations pass one context down.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::ctx::auth::CurrentUser;
use crate::edge::error::ApiError;
use crate::edge::version::ApiVersion;
use crate::state::AppState;

/// See the [module docs](self).
#[derive(Clone)]
pub struct Caller {
    pub state: AppState,
    pub user: CurrentUser,
    pub version: ApiVersion,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let version = ApiVersion::from_request_parts(parts, state).await?;
        Ok(Caller { state: state.clone(), user, version })
    }
}
