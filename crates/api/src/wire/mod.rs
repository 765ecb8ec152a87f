//! Request and response types of the operations: each is both the JSON (serde) and its OpenAPI schema (utoipa), under
//! the vendor's schema name, so what is documented is what is served. One file per family; era differences are
//! decided in each type's constructor, once per shape.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::edge::paging::json_response;
use crate::edge::version::ApiVersion;

pub mod actions;
pub mod auth;
pub mod email_settings;
pub mod item_fields;
pub mod job;
pub mod job_session;
pub mod onedrive;
pub mod organization;
pub mod page;
pub mod restore;
pub mod search;
pub mod selection;
pub mod session;
pub mod sharepoint;

/// A `200 application/json; charset=utf-8` answer with a wire type.
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        json_response(StatusCode::OK, &self.0)
    }
}

/// The empty answer of an action (logout, stop): 204 in v8, 200 before.
#[derive(Debug, Clone, Copy)]
pub struct Done(pub ApiVersion);

impl IntoResponse for Done {
    fn into_response(self) -> Response {
        if self.0.is_v8() { StatusCode::NO_CONTENT } else { StatusCode::OK }.into_response()
    }
}
