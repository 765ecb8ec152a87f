//! Request and response shapes: each type is both the JSON and its OpenAPI schema (serde + utoipa), under the
//! vendor's schema name. Era differences of a shape live in its constructor, once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::edge::version::ApiVersion;

pub mod auth;
pub mod organization;
pub mod session;

/// The empty answer of an action (logout, stop): 204 in v8, 200 before.
#[derive(Debug, Clone, Copy)]
pub struct Done(pub ApiVersion);

impl IntoResponse for Done {
    fn into_response(self) -> Response {
        if self.0.is_v8() { StatusCode::NO_CONTENT } else { StatusCode::OK }.into_response()
    }
}
