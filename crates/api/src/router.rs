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
//!    drift apart, and the OpenAPI test (`tests/suite/openapi_coverage.rs`) checks that nothing is served undocumented.
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
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::edge::era::{gate, Era};
use crate::edge::error::ApiError;
use crate::edge::middleware::route_not_found;
use crate::resources::{
    actions, auth, onedrive, organizations, restore, restore_sessions, save, search, send, sharepoint, sp_restore,
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
        .merge(legacy(onedrive::router(), onedrive::openapi())) // legacy: onedrive
        .merge(legacy(sharepoint::router(), sharepoint::openapi())) // legacy: sharepoint
        .merge(legacy(sp_restore::router(), sp_restore::openapi())) // legacy: sp_restore
        .merge(save_and_send())
        .merge(legacy(search::router(), search::openapi())); // legacy: search
    require_bearer(r.get_openapi_mut());
    r
}

/// Save and send of backed-up items (v6+ verbs), the v2–v5 `…/Action` that carries every action, and the email
/// settings sends use.
fn save_and_send() -> OpenApiRouter<AppState> {
    let save = OpenApiRouter::new()
        .routes(routes!(save::save_onedrive))
        .routes(routes!(save::save_documents))
        .routes(routes!(save::save_document))
        .routes(routes!(save::save_document_version))
        .routes(routes!(save::save_folders))
        .routes(routes!(save::save_folder))
        .routes(routes!(save::save_folder_version))
        .routes(routes!(save::sp_save_documents))
        .routes(routes!(save::sp_save_document))
        .routes(routes!(save::sp_save_document_version))
        .routes(routes!(save::sp_save_folders))
        .routes(routes!(save::sp_save_folder))
        .routes(routes!(save::sp_save_folder_version))
        .routes(routes!(save::sp_save_library))
        .routes(routes!(save::sp_save_attachments))
        .routes(routes!(save::sp_save_attachment))
        .route_layer(gate(Era::VERB, "…/save is not available in API {version}; use POST …/Action."));
    let send = OpenApiRouter::new()
        .routes(routes!(send::send_onedrive))
        .routes(routes!(send::send_documents))
        .routes(routes!(send::send_document))
        .routes(routes!(send::send_document_version))
        .routes(routes!(send::send_folders))
        .routes(routes!(send::send_folder))
        .routes(routes!(send::send_folder_version))
        .routes(routes!(send::sp_send_documents))
        .routes(routes!(send::sp_send_document))
        .routes(routes!(send::sp_send_document_version))
        .routes(routes!(send::sp_send_folders))
        .routes(routes!(send::sp_send_folder))
        .routes(routes!(send::sp_send_folder_version))
        .routes(routes!(send::sp_send_library))
        .routes(routes!(send::sp_send_attachments))
        .routes(routes!(send::sp_send_attachment))
        .route_layer(gate(Era::VERB, "…/send is not available in API {version}; use POST …/Action."));
    let actions = OpenApiRouter::new()
        .routes(routes!(actions::drive_action))
        .routes(routes!(actions::drive_documents_action))
        .routes(routes!(actions::drive_document_action))
        .routes(routes!(actions::drive_folders_action))
        .routes(routes!(actions::drive_folder_action))
        .routes(routes!(actions::site_documents_action))
        .routes(routes!(actions::site_document_action))
        .routes(routes!(actions::site_folders_action))
        .routes(routes!(actions::site_folder_action))
        .routes(routes!(actions::site_library_action))
        .routes(routes!(actions::site_attachments_action))
        .route_layer(gate(Era::ACTION, "POST …/Action is not available in API {version}; use the …/save endpoints."));
    let email_settings = OpenApiRouter::new()
        .routes(routes!(send::get_veod_email_settings, send::put_veod_email_settings))
        .routes(routes!(send::send_veod_test_email))
        .routes(routes!(send::send_veod_test))
        .routes(routes!(send::get_vesp_email_settings, send::put_vesp_email_settings))
        .routes(routes!(send::send_vesp_test_email))
        .routes(routes!(send::send_vesp_test))
        .routes(routes!(send::get_vex_email_settings, send::put_vex_email_settings))
        .routes(routes!(send::send_vex_test_email))
        .routes(routes!(send::send_vex_test))
        .routes(routes!(send::get_vet_email_settings, send::put_vet_email_settings))
        .routes(routes!(send::send_vet_test_email))
        .routes(routes!(send::send_vet_test));
    save.merge(send).merge(actions).merge(email_settings)
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
