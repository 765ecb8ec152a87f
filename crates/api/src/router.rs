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
//! 4. An operation the vendor serves at several paths (the same verb on a document, a folder, a version, …) is one
//!    handler registered with [`at_paths`]; it reads what the path addresses with an extractor
//!    ([`crate::resources::scope::DriveTarget`], [`crate::resources::scope::SiteTarget`], …).

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ObjectBuilder, OpenApi, Required, Type};
use utoipa::OpenApi as _;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use crate::edge::era::{gate, Era};
use crate::edge::error::ApiError;
use crate::edge::middleware::route_not_found;
use crate::edge::version::ApiVersion;
use crate::resources::{
    actions, auth, email_settings, health, job_items, job_sessions, jobs, onedrive, organizations, restore,
    restore_sessions, save, search, send, sharepoint, sp_restore,
};
use crate::state::AppState;

/// Anonymous operations.
pub fn public() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(Tags::openapi())
        .routes(routes!(auth::token))
        .routes(routes!(health::ready))
        .routes(routes!(health::live))
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
        .routes(at_paths(
            routes!(organizations::explore),
            "/{version}",
            [
                ("/Organizations/{id}/explore", "Explore an organization: start a restore session"),
                ("/Organizations/{id}/Action", "Explore an organization: `{\"explore\": {…}}` (v2–v5)"),
                ("/Organization/explore", "Explore the only organization (the tenant path)"),
                ("/Organization/Action", "Explore the only organization: `{\"explore\": {…}}` (v2–v5 tenant path)"),
                ("/Jobs/{id}/explore", "Explore the organization of a backup job"),
                ("/Jobs/{id}/Action", "Explore the organization of a backup job: `{\"explore\": {…}}` (v4–v5)"),
            ],
        ))
        .routes(routes!(organizations::organization_jobs))
        .routes(routes!(organizations::list_jobs))
        .routes(routes!(organizations::get_job))
        .merge(era_group(Era::V8, "Jobs are created with POST /v8/Jobs.", [routes!(jobs::create_job)]))
        .merge(era_group(
            Era::VERB,
            "Jobs are changed from API v6 on.",
            [
                routes!(jobs::edit_job, jobs::remove_job),
                routes!(jobs::start_job),
                routes!(jobs::stop_job),
                routes!(jobs::get_copy_job),
                at_paths(
                    routes!(job_items::list_job_items, job_items::add_job_items, job_items::remove_job_items),
                    "/{version}/Jobs/{id}",
                    [
                        ("/SelectedItems", "The users and sites a SelectedItems job backs up"),
                        ("/ExcludedItems", "The users and sites a job leaves out"),
                    ],
                ),
                at_paths(
                    routes!(job_items::get_job_item, job_items::replace_job_item),
                    "/{version}/Jobs/{id}",
                    [
                        ("/SelectedItems/{itemId}", "One selected item of a job"),
                        ("/ExcludedItems/{itemId}", "One excluded item of a job"),
                    ],
                ),
                at_paths(
                    routes!(jobs::set_job_enabled),
                    "/{version}",
                    [
                        ("/Jobs/{id}/enable", "Enable a backup job: the scheduler runs it"),
                        ("/Jobs/{id}/disable", "Disable a backup job: no scheduled runs"),
                    ],
                ),
            ],
        ))
        .merge(era_group(
            Era::VERB,
            "…/JobSessions is available from API v6 on.",
            [
                at_paths(
                    routes!(job_sessions::list_job_sessions),
                    "/{version}",
                    [
                        ("/JobSessions", "Job sessions (backup runs), newest first"),
                        ("/Jobs/{jobId}/JobSessions", "The sessions of a backup job, newest first"),
                    ],
                ),
                routes!(job_sessions::get_job_session),
                routes!(job_sessions::list_log_items),
                routes!(job_sessions::get_log_item),
            ],
        ))
        .merge(era_group(
            Era::new(7, ApiVersion::MAX),
            "…/ProcessedObjects is available from API v7 on.",
            [routes!(job_sessions::list_processed_objects)],
        ))
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

/// The paths below a OneDrive of a restore session.
const ONEDRIVE: &str = "/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}";
/// The paths below a site of a restore session.
const SITE: &str = "/{version}/RestoreSessions/{id}/Organization/Sites/{siteId}";

/// OneDrive restore, copyTo and the restore device code ([`restore`]).
fn onedrive_restore() -> OpenApiRouter<AppState> {
    let verbs = era_group(
        Era::VERB,
        "{version} restores OneDrive items through the …/Action endpoints.",
        [
            routes!(restore::restore_onedrives),
            at_paths(
                routes!(restore::restore_onedrive),
                ONEDRIVE,
                [
                    ("/restore", "Restore a whole OneDrive to its original location"),
                    ("/Documents/restore", "Restore documents (`documents[].id`) to their original location"),
                    ("/Documents/{documentId}/restore", "Restore a document to its original location"),
                    (
                        "/Documents/{documentId}/Versions/{versionId}/restore",
                        "Restore a version of a document to its original location",
                    ),
                    (
                        "/Folders/restore",
                        "Restore folders (`folders[].id`) with their content to their original location",
                    ),
                    ("/Folders/{folderId}/restore", "Restore a folder with its content to its original location"),
                    (
                        "/Folders/{folderId}/Versions/{versionId}/restore",
                        "Restore a folder's version (its only one, `1`) to its original location",
                    ),
                ],
            ),
            at_paths(
                routes!(restore::copy_onedrive),
                ONEDRIVE,
                [
                    ("/copyTo", "Copy a whole OneDrive to a folder"),
                    ("/Documents/copyTo", "Copy documents (`documents[].id`) to a folder"),
                    ("/Documents/{documentId}/copyTo", "Copy a document to a folder"),
                    ("/Documents/{documentId}/Versions/{versionId}/copyTo", "Copy a version of a document to a folder"),
                    ("/Folders/copyTo", "Copy folders (`folders[].id`) with their content to a folder"),
                    ("/Folders/{folderId}/copyTo", "Copy a folder with its content to a folder"),
                    (
                        "/Folders/{folderId}/Versions/{versionId}/copyTo",
                        "Copy a folder's version (its only one, `1`) to a folder",
                    ),
                ],
            ),
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

/// SharePoint restore and restoreTo of sites, lists, libraries, documents, folders and list items ([`sp_restore`]);
/// v2–v5 restore through the `…/Action` paths of [`actions`].
fn sharepoint_restore() -> OpenApiRouter<AppState> {
    era_group(
        Era::VERB,
        "{version} restores SharePoint through the …/Action endpoints ({\"restoreTo\": {…}}).",
        [
            at_paths(
                routes!(sp_restore::restore_site),
                SITE,
                [
                    ("/restore", "Restore a site to its original location"),
                    ("/restoreTo", "Restore a site to another site (`siteURL` or `alias`)"),
                ],
            ),
            at_paths(
                routes!(sp_restore::restore_list),
                SITE,
                [
                    ("/Lists/{listId}/restore", "Restore a list to its original location"),
                    ("/Lists/{listId}/restoreTo", "Restore a list to another site (`siteURL`) or list (`list`)"),
                    ("/Libraries/{libraryId}/restore", "Restore a library to its original location"),
                    (
                        "/Libraries/{libraryId}/restoreTo",
                        "Restore a library to another site (`siteURL`) or list (`list`)",
                    ),
                ],
            ),
            at_paths(
                routes!(sp_restore::restore_items),
                SITE,
                [
                    ("/Documents/restore", "Restore library documents (`documents[].id`) to their original location"),
                    ("/Documents/restoreTo", "Restore library documents (`documents[].id`) to another list or site"),
                    ("/Documents/{documentId}/restore", "Restore a library document to its original location"),
                    ("/Documents/{documentId}/restoreTo", "Restore a library document to another list or site"),
                    (
                        "/Documents/{documentId}/Versions/{versionId}/restore",
                        "Restore a version of a library document to its original location",
                    ),
                    (
                        "/Documents/{documentId}/Versions/{versionId}/restoreTo",
                        "Restore a version of a library document to another list or site",
                    ),
                    ("/Folders/restore", "Restore folders (`folders[].id`) to their original location"),
                    ("/Folders/restoreTo", "Restore folders (`folders[].id`) to another list or site"),
                    ("/Folders/{folderId}/restore", "Restore a folder to its original location"),
                    ("/Folders/{folderId}/restoreTo", "Restore a folder to another list or site"),
                    (
                        "/Folders/{folderId}/Versions/{versionId}/restore",
                        "Restore a folder's version (its only one, `1`) to its original location",
                    ),
                    (
                        "/Folders/{folderId}/Versions/{versionId}/restoreTo",
                        "Restore a folder's version (its only one, `1`) to another list or site",
                    ),
                    ("/Items/restore", "Restore list items (`items[].id`) to their original location"),
                    ("/Items/restoreTo", "Restore list items (`items[].id`) to another list or site"),
                    ("/Items/{itemId}/restore", "Restore a list item to its original location"),
                    ("/Items/{itemId}/restoreTo", "Restore a list item to another list or site"),
                    (
                        "/Items/{itemId}/Versions/{versionId}/restore",
                        "Restore a version of a list item to its original location",
                    ),
                    (
                        "/Items/{itemId}/Versions/{versionId}/restoreTo",
                        "Restore a version of a list item to another list or site",
                    ),
                ],
            ),
        ],
    )
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

/// One operation served at several paths, `base` followed by each variant's suffix, each documented with the
/// variant's summary: the handler reads from the matched path what it applies to (e.g.
/// [`crate::resources::scope::DriveTarget`]), so `…/Documents/save`, `…/Documents/{documentId}/save` and
/// `…/Folders/save` are one function. Every path gets a copy of the annotated operation (which must be one of them)
/// with its own parameters (descriptions from the annotation, else [`param_description`]) and summary (its
/// operationId is made from method and path, as every operation's: [`crate::openapi::finish`]).
fn at_paths<const N: usize>(
    (schemas, paths, methods): UtoipaMethodRouter<AppState>,
    base: &str,
    variants: [(&str, &str); N],
) -> UtoipaMethodRouter<AppState> {
    let (annotated, item) = paths.paths.into_iter().next().expect("routes! documents one path");
    let served: Vec<String> = variants.iter().map(|(suffix, _)| format!("{base}{suffix}")).collect();
    debug_assert!(served.contains(&annotated), "{annotated} is not among the paths it is registered at");
    let mut all = utoipa::openapi::Paths::new();
    for (path, (_, summary)) in served.into_iter().zip(variants) {
        let mut copy = item.clone();
        for op in crate::openapi::operations_mut(&mut copy) {
            op.summary = Some(summary.to_owned());
            op.parameters = Some(path_parameters(&path, op.parameters.take().unwrap_or_default()));
        }
        all.paths.insert(path, copy);
    }
    (schemas, all, methods)
}

/// The path parameters of `path`, in order: the annotated operation's where it has one of that name.
fn path_parameters(path: &str, mut annotated: Vec<Parameter>) -> Vec<Parameter> {
    let names = path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')));
    let mut params: Vec<Parameter> = names
        .map(|name| match annotated.iter().position(|p| p.name == name) {
            Some(i) => annotated.remove(i),
            None => ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(param_description(name)))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build(),
        })
        .collect();
    // Query parameters (and any other non-path ones) stay as annotated.
    params.extend(annotated.into_iter().filter(|p| p.parameter_in != ParameterIn::Path));
    params
}

/// What a path parameter of the restore-session routes is.
fn param_description(name: &str) -> &'static str {
    match name {
        "id" => "Restore session id",
        "oneDriveId" => "OneDrive id",
        "siteId" => "Site id",
        "documentId" => "Document id",
        "folderId" => "Folder id",
        "listId" => "List id",
        "jobId" => "Job id",
        "libraryId" => "Library id",
        "itemId" => "List item id",
        "attachmentId" => "Attachment id (the hex of its file name; the plain name is accepted too)",
        "versionId" => "Version id: 1-based ordinal, oldest first (folders have version 1 only)",
        _ => "Identifier",
    }
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
            at_paths(
                routes!(search::search_list),
                SITE,
                [
                    ("/Lists/{listId}/search", "Search a SharePoint list"),
                    ("/Libraries/{libraryId}/search", "Search a SharePoint document library"),
                ],
            ),
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
            at_paths(
                routes!(save::save_onedrive),
                ONEDRIVE,
                [
                    ("/save", "Save a whole backed-up OneDrive as a ZIP"),
                    ("/Documents/save", "Save backed-up OneDrive documents (`documents[].id`) as a ZIP"),
                    (
                        "/Documents/{documentId}/save",
                        "Save a backed-up OneDrive document (its bytes, or a ZIP with `asZip`)",
                    ),
                    (
                        "/Documents/{documentId}/Versions/{versionId}/save",
                        "Save a version of a backed-up OneDrive document",
                    ),
                    ("/Folders/save", "Save backed-up OneDrive folders (`folders[].id`) as a ZIP"),
                    ("/Folders/{folderId}/save", "Save a backed-up OneDrive folder as a ZIP"),
                    (
                        "/Folders/{folderId}/Versions/{versionId}/save",
                        "Save the one version of a backed-up OneDrive folder as a ZIP",
                    ),
                ],
            ),
            at_paths(
                routes!(save::save_site),
                SITE,
                [
                    ("/Documents/save", "Save backed-up library documents (`documents[].id`) as a ZIP"),
                    (
                        "/Documents/{documentId}/save",
                        "Save a backed-up library document (its bytes, or a ZIP with `asZip`)",
                    ),
                    (
                        "/Documents/{documentId}/Versions/{versionId}/save",
                        "Save a version of a backed-up library document",
                    ),
                    ("/Folders/save", "Save backed-up SharePoint folders (`folders[].id`) as a ZIP"),
                    ("/Folders/{folderId}/save", "Save a backed-up SharePoint folder as a ZIP"),
                    (
                        "/Folders/{folderId}/Versions/{versionId}/save",
                        "Save the one version of a backed-up SharePoint folder as a ZIP",
                    ),
                    ("/Libraries/{libraryId}/save", "Save a backed-up document library as a ZIP"),
                    (
                        "/Items/{itemId}/Attachments/save",
                        "Save attachments of a backed-up list item (`attachments[].id`; none named: all) as a ZIP",
                    ),
                    (
                        "/Items/{itemId}/Attachments/{attachmentId}/save",
                        "Save an attachment of a backed-up list item (its bytes, or a ZIP with `asZip`)",
                    ),
                ],
            ),
        ],
    );
    let send = era_group(
        Era::VERB,
        "…/send is not available in API {version}; use POST …/Action.",
        [
            at_paths(
                routes!(send::send_onedrive),
                ONEDRIVE,
                [
                    ("/send", "Send every file of a backed-up OneDrive as e-mail attachments"),
                    ("/Documents/send", "Send backed-up OneDrive documents (`documents[].id`) as e-mail attachments"),
                    ("/Documents/{documentId}/send", "Send a backed-up OneDrive document as an e-mail attachment"),
                    (
                        "/Documents/{documentId}/Versions/{versionId}/send",
                        "Send a version of a backed-up OneDrive document",
                    ),
                    ("/Folders/send", "Send the files of backed-up OneDrive folders (`folders[].id`)"),
                    ("/Folders/{folderId}/send", "Send the files of a backed-up OneDrive folder"),
                    (
                        "/Folders/{folderId}/Versions/{versionId}/send",
                        "Send the files of the one version of a backed-up OneDrive folder",
                    ),
                ],
            ),
            at_paths(
                routes!(send::send_site),
                SITE,
                [
                    ("/Documents/send", "Send backed-up library documents (`documents[].id`) as e-mail attachments"),
                    ("/Documents/{documentId}/send", "Send a backed-up library document as an e-mail attachment"),
                    (
                        "/Documents/{documentId}/Versions/{versionId}/send",
                        "Send a version of a backed-up library document",
                    ),
                    ("/Folders/send", "Send the files of backed-up SharePoint folders (`folders[].id`)"),
                    ("/Folders/{folderId}/send", "Send the files of a backed-up SharePoint folder"),
                    (
                        "/Folders/{folderId}/Versions/{versionId}/send",
                        "Send the files of the one version of a backed-up SharePoint folder",
                    ),
                    ("/Libraries/{libraryId}/send", "Send the files of a backed-up document library"),
                    (
                        "/Items/{itemId}/Attachments/send",
                        "Send attachments of a backed-up list item (`attachments[].id`; none named: all)",
                    ),
                    ("/Items/{itemId}/Attachments/{attachmentId}/send", "Send an attachment of a backed-up list item"),
                ],
            ),
        ],
    );
    let actions = era_group(
        Era::ACTION,
        "POST …/Action is not available in API {version}; use the …/save endpoints.",
        [
            at_paths(
                routes!(actions::onedrive_action),
                ONEDRIVE,
                [
                    ("/Action", "Save, send, restore or copy a whole backed-up OneDrive (v2–v5)"),
                    (
                        "/Documents/Action",
                        "Save, send, restore or copy backed-up OneDrive documents (`documents[].id`; v2–v5)",
                    ),
                    (
                        "/Documents/{documentId}/Action",
                        "Save, send, restore or copy a backed-up OneDrive document (v2–v5)",
                    ),
                    (
                        "/Folders/Action",
                        "Save, send, restore or copy backed-up OneDrive folders (`folders[].id`; v2–v5)",
                    ),
                    ("/Folders/{folderId}/Action", "Save, send, restore or copy a backed-up OneDrive folder (v2–v5)"),
                ],
            ),
            at_paths(
                routes!(actions::site_action),
                SITE,
                [
                    ("/Action", "Restore a site: `{\"restoreTo\": {…}}` (v2–v5)"),
                    ("/Lists/{listId}/Action", "Restore a list: `{\"restoreTo\": {…}}` (v2–v5)"),
                    ("/Items/Action", "Restore list items: `{\"restoreTo\": {\"items\": […], …}}` (v2–v5)"),
                    ("/Items/{itemId}/Action", "Restore a list item: `{\"restoreTo\": {…}}` (v2–v5)"),
                    (
                        "/Documents/Action",
                        "Save, send or restore backed-up library documents (`documents[].id`; v2–v5)",
                    ),
                    ("/Documents/{documentId}/Action", "Save, send or restore a backed-up library document (v2–v5)"),
                    ("/Folders/Action", "Save, send or restore backed-up SharePoint folders (`folders[].id`; v2–v5)"),
                    ("/Folders/{folderId}/Action", "Save, send or restore a backed-up SharePoint folder (v2–v5)"),
                    ("/Libraries/{libraryId}/Action", "Save, send or restore a backed-up document library (v2–v5)"),
                    ("/Items/{itemId}/Attachments/Action", "Save or send attachments of a backed-up list item (v2–v5)"),
                ],
            ),
        ],
    );
    let email_settings = OpenApiRouter::new()
        .routes(at_paths(
            routes!(email_settings::get_email_settings, email_settings::put_email_settings),
            "/{version}",
            [
                ("/VeodEmailSettings", "The email settings of OneDrive restores"),
                ("/VespEmailSettings", "The email settings of SharePoint restores"),
                ("/VexEmailSettings", "The email settings of Exchange restores"),
                ("/VetEmailSettings", "The email settings of Teams restores"),
            ],
        ))
        .routes(at_paths(
            routes!(email_settings::send_test_email),
            "/{version}",
            [
                (
                    "/VeodEmailSettings/SendTestEmail",
                    "Send a test message with the email settings of OneDrive restores",
                ),
                (
                    "/VespEmailSettings/SendTestEmail",
                    "Send a test message with the email settings of SharePoint restores",
                ),
                ("/VexEmailSettings/SendTestEmail", "Send a test message with the email settings of Exchange restores"),
                ("/VetEmailSettings/SendTestEmail", "Send a test message with the email settings of Teams restores"),
                ("/VeodEmailSettings/SendTest", "Send a test message (the v6/v7 Exchange and Teams spelling)"),
                ("/VespEmailSettings/SendTest", "Send a test message (the v6/v7 Exchange and Teams spelling)"),
                ("/VexEmailSettings/SendTest", "Send a test message (the v6/v7 Exchange and Teams spelling)"),
                ("/VetEmailSettings/SendTest", "Send a test message (the v6/v7 Exchange and Teams spelling)"),
            ],
        ));
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
    (name = "Health", description = "Liveness and readiness, without authentication"),
    (name = "Organization", description = "Organizations and starting restore sessions"),
    (name = "Job", description = "Backup jobs"),
    (name = "JobSession", description = "Backup runs of the jobs and their logs"),
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

    /// Every served path is spelled as the canonicalisation of request paths spells it (so a request in any case
    /// reaches it), and the operations one handler serves at several paths ([`at_paths`]) are documented apart.
    #[test]
    fn every_path_is_canonical_and_every_operation_has_its_own_id() {
        let doc = document();
        let mut ids = std::collections::BTreeSet::new();
        for (path, item) in doc.paths.paths {
            // The vendor's paths (after the version) are spelled canonically; our own (`/health`) are not canonicalised.
            if path.starts_with("/{version}/") {
                assert_eq!(crate::edge::paths::canonical_route(&path), path);
            }
            let mut item = item;
            for (method, op) in crate::openapi::methods_mut(&mut item) {
                let id = op.operation_id.clone().unwrap_or_default();
                assert!(ids.insert(id.clone()), "{method} {path}: operationId {id} is used twice");
                let declared: Vec<&str> = op.parameters.iter().flatten().map(|p| p.name.as_str()).collect();
                for name in path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))) {
                    assert!(declared.contains(&name), "{method} {path}: {{{name}}} is not declared");
                }
            }
        }
        assert!(ids.len() >= 166, "{} operations: fewer than were served when this test was written", ids.len());
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
