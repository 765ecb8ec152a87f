//! Extractors of the edge's own types. They live apart from the types so that the leaf modules (`version.rs`) need
//! not know the error type, whose rendering depends on the version.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::edge::error::ApiError;
use crate::edge::version::{version_of_path, ApiVersion};

impl<S: Send + Sync> FromRequestParts<S> for ApiVersion {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(v) = parts.extensions.get::<ApiVersion>() {
            return Ok(*v);
        }
        version_of_path(parts.uri.path()).ok_or_else(|| ApiError::not_found("Unknown API version."))
    }
}
