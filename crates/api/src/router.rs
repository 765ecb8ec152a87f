//! The route table: every operation of the API, registered once, and the OpenAPI document generated from it.
//!
//! # How to add an operation
//! 1. Write the handler in its resource module and annotate it with `#[utoipa::path]`: method, path (with
//!    `{version}` first, literals spelled as in [`crate::edge::segments::VENDOR_SEGMENTS`] so that
//!    `paths::canonical_route(P) == P`), `params`, `request_body`, `responses` (errors:
//!    [`crate::edge::error::RestExceptionInfo`]) and `tag`.
//! 2. Register it here with `.routes(routes!(module::handler))` in [`public`] (anonymous) or [`protected`] (bearer
//!    token; the handler gets the caller from its context extractor). Handlers of one path with different methods go
//!    in one `routes!(a, b)`. The path is taken from the annotation, so the served path and the documented one cannot
//!    drift apart, and the OpenAPI test (`tests/suite/openapi.rs`) checks that nothing is served undocumented.
//! 3. An operation that exists only in some eras goes into that era's group, gated once with
//!    [`crate::edge::era::gate`] (404 in the era's error shape for the other versions); the handler has no era guard.
//!
//! Lines marked `// legacy: <module>` merge a module's hand-written `router()` and `openapi()` until the module is
//! converted to `routes!`; each one that goes away is a module whose paths are registered only here.

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::Router;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use crate::edge::era::{gate, Era};
use crate::edge::error::ApiError;
use crate::edge::middleware::route_not_found;
use crate::resources::{
    auth, onedrive, organizations, restore, restore_sessions, save, search, send, sharepoint, sp_restore,
};
use crate::state::AppState;

/// Anonymous operations.
pub fn public() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(legacy(auth::public_router(), auth::openapi())) // legacy: auth
}

/// Operations that need a bearer token (the check is layered on in [`routes`]).
pub fn protected() -> OpenApiRouter<AppState> {
    let mut r = OpenApiRouter::new()
        .merge(legacy(auth::router(), OpenApi::default())) // legacy: auth
        .merge(legacy(organizations::router(), organizations::openapi())) // legacy: organizations
        .merge(legacy(restore_sessions::router(), restore_sessions::openapi())) // legacy: restore_sessions
        .merge(legacy(restore::router(), restore::openapi())) // legacy: restore
        .merge(legacy(sharepoint::router(), sharepoint::openapi())) // legacy: sharepoint
        .merge(legacy(sp_restore::router(), sp_restore::openapi())) // legacy: sp_restore
        .merge(legacy(save::router(), save::openapi())) // legacy: save
        .merge(legacy(send::router(), send::openapi())) // legacy: send
        .merge(onedrive_browse())
        .merge(onedrive_search())
        .merge(sharepoint_search());
    require_bearer(r.get_openapi_mut());
    r
}

/// An operation that exists only in `era`: its handlers answer other versions 404 with `message` (see
/// [`gate`]). The gate wraps the handlers only, so a method the path does not have stays 405 in every version
/// (`OpenApiRouter::route_layer` would gate that answer too).
fn in_era(
    era: Era,
    message: &'static str,
    (schemas, paths, methods): UtoipaMethodRouter<AppState>,
) -> UtoipaMethodRouter<AppState> {
    (schemas, paths, methods.route_layer(gate(era, message)))
}

/// The refusal of v2–v5, which have no versions of OneDrive items.
const VERSIONS_FROM_V6: &str = "Versions are not available in API {version}; use v6 or later.";

/// Browsing the OneDrives of a Veod restore session; versions exist from v6.
fn onedrive_browse() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(onedrive::list_onedrives))
        .routes(routes!(onedrive::get_onedrive))
        .routes(routes!(onedrive::list_documents))
        .routes(routes!(onedrive::get_document))
        .routes(routes!(onedrive::list_folders))
        .routes(routes!(onedrive::get_folder))
        .routes(in_era(Era::VERB, VERSIONS_FROM_V6, routes!(onedrive::list_document_versions)))
        .routes(in_era(Era::VERB, VERSIONS_FROM_V6, routes!(onedrive::get_document_version)))
        .routes(in_era(Era::VERB, VERSIONS_FROM_V6, routes!(onedrive::list_folder_versions)))
        .routes(in_era(Era::VERB, VERSIONS_FROM_V6, routes!(onedrive::get_folder_version)))
}

/// The refusal of v2–v5, which searched with `POST …/Action {"search": …}` (not served).
const SEARCH_FROM_V6: &str = "…/search is not available in API {version}; use v6 or later.";

/// Searching OneDrive items (v6+).
fn onedrive_search() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(in_era(Era::VERB, SEARCH_FROM_V6, routes!(search::search_onedrives)))
        .routes(in_era(Era::VERB, SEARCH_FROM_V6, routes!(search::search_onedrive)))
        .routes(in_era(Era::VERB, SEARCH_FROM_V6, routes!(search::search_onedrive_folder)))
}

/// Searching SharePoint items (v6+).
fn sharepoint_search() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(in_era(Era::VERB, SEARCH_FROM_V6, routes!(search::search_sites)))
        .routes(in_era(Era::VERB, SEARCH_FROM_V6, routes!(search::search_site)))
        .routes(in_era(Era::VERB, SEARCH_FROM_V6, routes!(search::search_site_folder)))
        .routes(in_era(Era::VERB, SEARCH_FROM_V6, routes!(search::search_library)))
        .routes(in_era(Era::VERB, SEARCH_FROM_V6, routes!(search::search_list)))
}

/// Every operation: [`public`], and [`protected`] behind the bearer check; the fallback answers unknown paths.
pub fn routes(state: &AppState) -> OpenApiRouter<AppState> {
    let protected = protected().route_layer(from_fn_with_state(state.clone(), crate::ctx::auth::require_auth));
    public().merge(protected).fallback(fallback)
}

/// The OpenAPI document of every registered operation, as served at [`crate::openapi::OPENAPI_JSON`].
pub fn document() -> OpenApi {
    crate::openapi::finish(public().merge(protected()).into_openapi())
}

/// A module's hand-written router with its separately written document (until the module uses `routes!`).
fn legacy(router: Router<AppState>, doc: OpenApi) -> OpenApiRouter<AppState> {
    let mut r = OpenApiRouter::from(router);
    r.get_openapi_mut().merge(doc);
    r
}

/// Marks every operation of `doc` as requiring the bearer token (the operations sit behind [`crate::ctx::auth`]'s
/// check, whatever their annotation says), so Swagger's "Try it out" sends the token.
fn require_bearer(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for op in crate::openapi::operations_mut(item) {
            op.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
        }
    }
}

/// No route matched a served version: 401 unless authenticated (so clients probing `GET /vN/ServiceInstance` learn
/// that the version is served), else 404.
async fn fallback(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    match crate::ctx::auth::user_from_headers(&state, &headers).await {
        Ok(Some(_)) => route_not_found(uri.path()).into_response(),
        Ok(None) => ApiError::unauthorized().into_response(),
        Err(e) => e.into_response(),
    }
}
