//! The request dialect: lenient JSON as Veeam's ASP.NET/Newtonsoft stack accepted it (veeam-api-notes §1).
//!
//! Accepted beyond strict JSON, because real clients send it:
//! * property names in any case (`restoretoOriginallocation`, `UserPassword`, `Id`) — looked up by [`Obj`];
//! * trailing commas in objects and arrays (`{"a":1,}`, `[{..},]`);
//! * booleans as strings in any case (`"true"`, `"True"`, `"FALSE"`) and as `0`/`1`;
//! * enum values in any case (`last`, `Merge`, `vex`);
//! * `null` action markers (`{"save": null}`);
//! * unknown properties (ignored);
//! * also, as Newtonsoft did: `//` and `/* */` comments, single-quoted strings, unquoted property names, a UTF-8
//!   byte-order mark, and typographic quotes (`“save”`) copied from the vendor's documentation.
//!
//! Malformed input is answered with 400 and a message giving the line and column; a wrongly typed field with 400
//! naming it (`'showDeleted' must be a boolean`).
//!
//! Layers: [`syntax`] reads the bytes (fuzzed), [`scalar`] and [`datetime`] hold the coercions of single values,
//! [`obj`] reads a parsed object by name (free-form bodies), and [`de`] gives the same leniency to serde types, so
//! handlers take typed options: `LenientJson(o): LenientJson<SaveOptions>`, and a partial update (where `null`
//! clears) as `LenientJson(Patch(u)): LenientJson<Patch<EmailSettingsUpdate>>`.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::edge::error::ApiError;

pub mod datetime;
pub mod de;
pub mod obj;
pub mod scalar;
pub mod syntax;

pub use datetime::parse_datetime;
pub use de::{DeError, IdList, Patch};
pub use obj::{Body, Obj};
pub use scalar::{parse_bool, parse_bool_str, parse_enum};
pub use syntax::{parse_value, SyntaxError, MAX_DEPTH};

/// Extractor: a request body that is a JSON array (the vendor's `POST /Jobs/{id}/SelectedItems`), each element read
/// as `T` with the leniency of [`LenientJson`] (objects by [`Obj`], so errors name the element: `'[2].type' is
/// required`). An empty body is an empty list; a body that is not an array 400.
#[derive(Debug, Clone)]
pub struct LenientList<T>(pub Vec<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for LenientList<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|r| ApiError::new(r.status(), r.body_text()))?;
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(LenientList(Vec::new()));
        }
        let serde_json::Value::Array(items) = parse_value(&bytes)? else {
            return Err(ApiError::bad_request("The request body must be a JSON array."));
        };
        let element = |(i, v): (usize, serde_json::Value)| match v {
            serde_json::Value::Object(map) => Obj::element(map, i).to_typed(),
            other => serde_json::from_value(other).map_err(|e| ApiError::bad_request(format!("'[{i}]': {e}"))),
        };
        Ok(LenientList(items.into_iter().enumerate().map(element).collect::<Result<_, _>>()?))
    }
}

/// Extractor: the request body (any content type) as typed options `T`, read with [`de`]'s leniency, or as a
/// free-form [`Obj`] by default. An empty body, or `null`, is an empty object (Newtonsoft bound it to default options).
///
/// A body over the size limit gives 413; malformed JSON 400 with line and column; a body that is not an object 400;
/// a wrongly typed field 400 naming it.
#[derive(Debug, Clone)]
pub struct LenientJson<T = Obj>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for LenientJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|r| ApiError::new(r.status(), r.body_text()))?;
        Ok(LenientJson(Body::parse(&bytes)?.to_typed()?))
    }
}
