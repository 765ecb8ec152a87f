//! Wire types: the typed bodies of requests and answers. Each struct is both the JSON (serde) and its OpenAPI schema
//! (utoipa, under the vendor's schema name), one file per resource family.

pub mod sharepoint;
