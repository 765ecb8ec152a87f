//! Route modules and their assembly.
//!
//! # Adding a route module
//! 1. A file `routes/<name>.rs` with
//!    * `pub fn router() -> Router<AppState>` — **authenticated** routes (bearer token required; a handler gets the
//!      caller with the [`crate::ctx::auth::CurrentUser`] extractor);
//!    * optionally `pub fn public_router() -> Router<AppState>` — anonymous routes (like `/token`), merged in
//!      [`public`];
//!    * `pub const SEGMENTS: &[&str]` — literal path segments the module uses that are not in
//!      [`crate::edge::segments::VENDOR_SEGMENTS`], or whose spelling differs from the vendor's canonical one (usually empty);
//!    * `pub fn openapi() -> utoipa::openapi::OpenApi` — the module's documented paths (`#[utoipa::path]`).
//! 2. One line each in [`protected`], [`segment_table`] and [`openapi`] below.
//!
//! Paths are registered once, for every version, in canonical spelling: `/{version}/RestoreSessions/{id}/Stop`
//! (`paths::canonical_route(P) == P`; a unit test per module should assert it). Handlers branch on the era with the
//! [`crate::edge::version::ApiVersion`] extractor; answering 404 for an endpoint a version does not have is the handler's
//! choice. Bodies: [`crate::edge::lenient::LenientJson`]; queries: [`crate::edge::query::LenientQuery`]; pages:
//! [`crate::edge::paging`]; errors: [`crate::edge::error::ApiError`].

use axum::Router;

use crate::edge::paths::SegmentTable;
use crate::state::AppState;

pub mod actions;
pub mod auth;
pub mod browse;
pub mod browse_util;
pub mod onedrive;
pub mod organizations;
pub mod restore;
pub mod restore_sessions;
pub mod route_paths;
pub mod save;
pub mod scope;
pub mod search;
pub mod send;
pub mod sharepoint;
pub mod sp_attachments;
pub mod sp_restore;

/// Anonymous routes of every module.
pub fn public() -> Router<AppState> {
    Router::new().merge(auth::public_router())
}

/// Authenticated routes of every module (the bearer check is layered on by [`crate::app`]).
pub fn protected() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(organizations::router())
        .merge(restore_sessions::router())
        .merge(restore::router())
        .merge(browse::router())
        .merge(onedrive::router())
        .merge(sharepoint::router())
        .merge(sp_restore::router())
        .merge(actions::router())
        .merge(save::router())
        .merge(send::router())
        .merge(search::router())
}

/// The literal-segment table: vendor spellings, then each module's additions/overrides.
pub fn segment_table() -> SegmentTable {
    SegmentTable::vendor()
        .with(auth::SEGMENTS)
        .with(organizations::SEGMENTS)
        .with(restore_sessions::SEGMENTS)
        .with(restore::SEGMENTS)
        .with(browse::SEGMENTS)
        .with(onedrive::SEGMENTS)
        .with(sharepoint::SEGMENTS)
        .with(sp_restore::SEGMENTS)
        .with(save::SEGMENTS)
        .with(send::SEGMENTS)
        .with(search::SEGMENTS)
}

/// The OpenAPI document of every module.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = auth::openapi();
    doc.merge(organizations::openapi());
    doc.merge(restore_sessions::openapi());
    doc.merge(restore::openapi());
    doc.merge(browse::openapi());
    doc.merge(onedrive::openapi());
    doc.merge(sharepoint::openapi());
    doc.merge(sp_restore::openapi());
    doc.merge(actions::openapi());
    doc.merge(save::openapi());
    doc.merge(send::openapi());
    doc.merge(search::openapi());
    doc
}
