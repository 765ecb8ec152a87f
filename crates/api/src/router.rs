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
//! 3. Operations that exist only in some eras are registered as an [`era_group`] (each through [`in_era`]: 404 in the
//!    era's error shape for the other versions, see [`crate::edge::era::gate`]); the handler has no era guard.

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::OpenApi;
use utoipa::OpenApi as _;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use crate::edge::era::{gate, Era};
use crate::edge::error::ApiError;
use crate::edge::middleware::route_not_found;
use crate::edge::version::ApiVersion;
use crate::resources::{
    actions, auth, onedrive, organizations, restore, restore_sessions, save, search, send, sharepoint, sp_restore,
};
use crate::state::AppState;

/// Anonymous operations.
pub fn public() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(Tags::openapi()).routes(routes!(auth::token))
}

/// Operations that need a bearer token (the check is layered on in [`routes`]).
pub fn protected() -> OpenApiRouter<AppState> {
    let mut r = OpenApiRouter::new()
        .routes(routes!(auth::logout))
        // Organizations, their jobs and restore points; explore starts a restore session (both eras' spellings are
        // served in every version).
        .routes(routes!(organizations::list_organizations))
        .routes(routes!(organizations::get_organization))
        .routes(routes!(organizations::current_organization))
        .routes(routes!(organizations::organization_action))
        .routes(routes!(organizations::organization_explore))
        .routes(routes!(organizations::current_organization_action))
        .routes(routes!(organizations::current_organization_explore))
        .routes(routes!(organizations::organization_jobs))
        .routes(routes!(organizations::list_jobs))
        .routes(routes!(organizations::get_job))
        .routes(routes!(organizations::job_action))
        .routes(routes!(organizations::job_explore))
        .routes(routes!(organizations::list_restore_points))
        .routes(routes!(organizations::get_restore_point))
        // Restore sessions (stop: `/Action {"stop": null}` and `/stop`, both in every version).
        .routes(routes!(restore_sessions::list))
        .routes(routes!(restore_sessions::get_one))
        .routes(routes!(restore_sessions::action))
        .routes(routes!(restore_sessions::stop))
        .routes(routes!(restore_sessions::organization))
        .routes(routes!(restore_sessions::events))
        .routes(routes!(restore_sessions::event))
        .routes(routes!(restore_sessions::statistics))
        .merge(onedrive_restore())
        .merge(sharepoint_browse())
        .merge(sharepoint_restore())
        .merge(save_and_send())
        .merge(onedrive_browse())
        .merge(onedrive_search())
        .merge(sharepoint_search());
    require_bearer(r.get_openapi_mut());
    r
}

/// OneDrive restore, copyTo and the restore device code ([`restore`]).
fn onedrive_restore() -> OpenApiRouter<AppState> {
    let verbs = era_group(
        Era::VERB,
        "{version} restores OneDrive items through the …/Action endpoints.",
        [
            routes!(restore::restore_onedrives),
            routes!(restore::restore_onedrive),
            routes!(restore::copy_onedrive),
            routes!(restore::restore_documents),
            routes!(restore::copy_documents),
            routes!(restore::restore_folders),
            routes!(restore::copy_folders),
            routes!(restore::restore_document),
            routes!(restore::copy_document),
            routes!(restore::restore_folder),
            routes!(restore::copy_folder),
            routes!(restore::restore_document_version),
            routes!(restore::copy_document_version),
            routes!(restore::restore_folder_version),
            routes!(restore::copy_folder_version),
        ],
    );
    let actions = era_group(
        Era::ACTION,
        "{version} restores several OneDrives with POST …/OneDrives/restore.",
        [routes!(restore::restore_onedrives_action)],
    );
    let device_code = era_group(
        Era::new(5, ApiVersion::MAX),
        "{version} has no restoreDeviceCode endpoint.",
        [routes!(restore::request_device_code)],
    );
    verbs.merge(actions).merge(device_code)
}

/// SharePoint restore and restoreTo of sites, lists, libraries, documents, folders and list items ([`sp_restore`]).
fn sharepoint_restore() -> OpenApiRouter<AppState> {
    let verbs = era_group(
        Era::VERB,
        "{version} restores SharePoint through the …/Action endpoints ({\"restoreTo\": {…}}).",
        [
            routes!(sp_restore::restore_site),
            routes!(sp_restore::restore_site_to),
            routes!(sp_restore::restore_list),
            routes!(sp_restore::restore_list_to),
            routes!(sp_restore::restore_library),
            routes!(sp_restore::restore_library_to),
            routes!(sp_restore::restore_documents),
            routes!(sp_restore::restore_documents_to),
            routes!(sp_restore::restore_document),
            routes!(sp_restore::restore_document_to),
            routes!(sp_restore::restore_document_version),
            routes!(sp_restore::restore_document_version_to),
            routes!(sp_restore::restore_folders),
            routes!(sp_restore::restore_folders_to),
            routes!(sp_restore::restore_folder),
            routes!(sp_restore::restore_folder_to),
            routes!(sp_restore::restore_folder_version),
            routes!(sp_restore::restore_folder_version_to),
            routes!(sp_restore::restore_items),
            routes!(sp_restore::restore_items_to),
            routes!(sp_restore::restore_item),
            routes!(sp_restore::restore_item_to),
            routes!(sp_restore::restore_item_version),
            routes!(sp_restore::restore_item_version_to),
        ],
    );
    let actions = era_group(
        Era::ACTION,
        "{version} has no …/Action endpoints.",
        [
            routes!(sp_restore::restore_site_action),
            routes!(sp_restore::restore_list_action),
            routes!(sp_restore::restore_items_action),
            routes!(sp_restore::restore_item_action),
        ],
    );
    verbs.merge(actions)
}

/// SharePoint browsing in a Vesp restore session: sites, lists, libraries, folders, documents, list items and their
/// attachments in every era; previous versions from v6 on.
fn sharepoint_browse() -> OpenApiRouter<AppState> {
    let versions = era_group(
        Era::VERB,
        "Versions are available from API v6 on.",
        [
            routes!(sharepoint::list_folder_versions),
            routes!(sharepoint::get_folder_version),
            routes!(sharepoint::list_document_versions),
            routes!(sharepoint::get_document_version),
            routes!(sharepoint::list_item_versions),
            routes!(sharepoint::get_item_version),
        ],
    );
    OpenApiRouter::new()
        .routes(routes!(sharepoint::list_sites))
        .routes(routes!(sharepoint::get_site))
        .routes(routes!(sharepoint::list_lists))
        .routes(routes!(sharepoint::get_list))
        .routes(routes!(sharepoint::list_libraries))
        .routes(routes!(sharepoint::get_library))
        .routes(routes!(sharepoint::list_folders))
        .routes(routes!(sharepoint::get_folder))
        .routes(routes!(sharepoint::list_documents))
        .routes(routes!(sharepoint::get_document))
        .routes(routes!(sharepoint::list_items))
        .routes(routes!(sharepoint::get_item))
        .routes(routes!(sharepoint::list_attachments))
        .routes(routes!(sharepoint::get_attachment))
        .merge(versions)
}

/// Operations that exist only in `era`, each registered through [`in_era`].
fn era_group<const N: usize>(
    era: Era,
    message: &'static str,
    operations: [UtoipaMethodRouter<AppState>; N],
) -> OpenApiRouter<AppState> {
    operations.into_iter().fold(OpenApiRouter::new(), |r, op| r.routes(in_era(era, message, op)))
}

/// An operation that exists only in `era`: its handlers answer other versions 404 with `message` (see
/// [`gate`]). The gate wraps the handlers only, so a method the path does not have stays 405 in every version
/// (`OpenApiRouter::route_layer` would gate that answer too).
fn in_era<S: Clone + Send + Sync + 'static>(
    era: Era,
    message: &'static str,
    (schemas, paths, methods): UtoipaMethodRouter<S>,
) -> UtoipaMethodRouter<S> {
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
        .merge(era_group(
            Era::VERB,
            VERSIONS_FROM_V6,
            [
                routes!(onedrive::list_document_versions),
                routes!(onedrive::get_document_version),
                routes!(onedrive::list_folder_versions),
                routes!(onedrive::get_folder_version),
            ],
        ))
}

/// The refusal of v2–v5, which searched with `POST …/Action {"search": …}` (not served).
const SEARCH_FROM_V6: &str = "…/search is not available in API {version}; use v6 or later.";

/// Searching OneDrive items (v6+).
fn onedrive_search() -> OpenApiRouter<AppState> {
    era_group(
        Era::VERB,
        SEARCH_FROM_V6,
        [routes!(search::search_onedrives), routes!(search::search_onedrive), routes!(search::search_onedrive_folder)],
    )
}

/// Searching SharePoint items (v6+).
fn sharepoint_search() -> OpenApiRouter<AppState> {
    era_group(
        Era::VERB,
        SEARCH_FROM_V6,
        [
            routes!(search::search_sites),
            routes!(search::search_site),
            routes!(search::search_site_folder),
            routes!(search::search_library),
            routes!(search::search_list),
        ],
    )
}

/// Save and send of backed-up items (v6+ verbs), the v2–v5 `…/Action` that carries every action, and the email
/// settings sends use.
fn save_and_send() -> OpenApiRouter<AppState> {
    let save = era_group(
        Era::VERB,
        "…/save is not available in API {version}; use POST …/Action.",
        [
            routes!(save::save_onedrive),
            routes!(save::save_documents),
            routes!(save::save_document),
            routes!(save::save_document_version),
            routes!(save::save_folders),
            routes!(save::save_folder),
            routes!(save::save_folder_version),
            routes!(save::sp_save_documents),
            routes!(save::sp_save_document),
            routes!(save::sp_save_document_version),
            routes!(save::sp_save_folders),
            routes!(save::sp_save_folder),
            routes!(save::sp_save_folder_version),
            routes!(save::sp_save_library),
            routes!(save::sp_save_attachments),
            routes!(save::sp_save_attachment),
        ],
    );
    let send = era_group(
        Era::VERB,
        "…/send is not available in API {version}; use POST …/Action.",
        [
            routes!(send::send_onedrive),
            routes!(send::send_documents),
            routes!(send::send_document),
            routes!(send::send_document_version),
            routes!(send::send_folders),
            routes!(send::send_folder),
            routes!(send::send_folder_version),
            routes!(send::sp_send_documents),
            routes!(send::sp_send_document),
            routes!(send::sp_send_document_version),
            routes!(send::sp_send_folders),
            routes!(send::sp_send_folder),
            routes!(send::sp_send_folder_version),
            routes!(send::sp_send_library),
            routes!(send::sp_send_attachments),
            routes!(send::sp_send_attachment),
        ],
    );
    let actions = era_group(
        Era::ACTION,
        "POST …/Action is not available in API {version}; use the …/save endpoints.",
        [
            routes!(actions::drive_action),
            routes!(actions::drive_documents_action),
            routes!(actions::drive_document_action),
            routes!(actions::drive_folders_action),
            routes!(actions::drive_folder_action),
            routes!(actions::site_documents_action),
            routes!(actions::site_document_action),
            routes!(actions::site_folders_action),
            routes!(actions::site_folder_action),
            routes!(actions::site_library_action),
            routes!(actions::site_attachments_action),
        ],
    );
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

/// The descriptions of the operation groups in Swagger.
#[derive(utoipa::OpenApi)]
#[openapi(tags(
    (name = "Auth", description = "Authorization tokens"),
    (name = "Organization", description = "Organizations and starting restore sessions"),
    (name = "Job", description = "Backup jobs"),
    (name = "RestorePoint", description = "Restore points"),
    (name = "RestoreSession", description = "Restore sessions, their events and statistics")
))]
struct Tags;

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

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;
    use utoipa_axum::routes;

    use super::*;

    /// Saves a thing (v6+).
    #[utoipa::path(post, path = "/{version}/Things/{id}/save", responses((status = 200, description = "Saved")))]
    async fn save_thing() -> &'static str {
        "saved"
    }

    /// Reads a thing (every version).
    #[utoipa::path(get, path = "/{version}/Things/{id}", responses((status = 200, description = "The thing")))]
    async fn get_thing() -> &'static str {
        "thing"
    }

    /// The shape the resource modules take: `routes!` registers path and document together; an era-only operation
    /// is gated by [`in_era`].
    #[tokio::test]
    async fn routes_and_gated_groups_are_served_and_documented_once() {
        let message = "…/save is not available in API {version}; use POST …/Action.";
        let verb_era = OpenApiRouter::new().routes(in_era(Era::VERB, message, routes!(save_thing)));
        let (app, doc): (axum::Router, OpenApi) =
            OpenApiRouter::new().routes(routes!(get_thing)).merge(verb_era).split_for_parts();
        let doc = serde_json::to_value(crate::openapi::finish(doc)).unwrap();
        assert!(doc["paths"]["/{version}/Things/{id}/save"]["post"].is_object(), "{doc}");
        assert!(doc["paths"]["/{version}/Things/{id}"]["get"].is_object(), "{doc}");
        let status = |method: &str, uri: &str| {
            let req = Request::builder().method(method).uri(uri).body(Body::empty()).unwrap();
            let app = app.clone();
            async move { app.oneshot(req).await.unwrap().status() }
        };
        assert_eq!(status("POST", "/v6/Things/1/save").await, StatusCode::OK);
        assert_eq!(status("POST", "/v5/Things/1/save").await, StatusCode::NOT_FOUND);
        assert_eq!(status("GET", "/v5/Things/1").await, StatusCode::OK);
        // The gate wraps the handler, not the path: a method the path lacks is 405 in every era.
        assert_eq!(status("GET", "/v5/Things/1/save").await, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(status("GET", "/v6/Things/1/save").await, StatusCode::METHOD_NOT_ALLOWED);
    }
}
