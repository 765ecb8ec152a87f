//! Request and response bodies: serde + utoipa `ToSchema` structs that are both the JSON on the wire and its OpenAPI
//! schema (named after the vendor's schema with `#[schema(as = …)]`). One file per operation family.

pub mod restore;
