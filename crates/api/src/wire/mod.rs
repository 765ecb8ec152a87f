//! Request and response types of the operations: each is both the JSON (serde) and its OpenAPI schema (utoipa), so
//! what is documented is what is served. One file per family; era differences are decided in each type's
//! constructor, once per shape.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::edge::paging::json_response;

pub mod item_fields;
pub mod onedrive;
pub mod page;

/// A `200 application/json; charset=utf-8` answer with a wire type.
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        json_response(StatusCode::OK, &self.0)
    }
}
