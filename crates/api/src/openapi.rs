//! The OpenAPI document's frame (title, security scheme, the version dropdown) and the Swagger UI (`/swagger`, also
//! reachable through `/` and the vendor's `/swagger/ui/index` paths). The paths come from the route table
//! (`router.rs`).

use axum::response::Redirect;
use axum::routing::get;
use axum::Router;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::openapi::{OpenApi, Required};
use utoipa_swagger_ui::SwaggerUi;

use crate::edge::version::ApiVersion;
use crate::state::AppState;

/// Modules not yet converted name the error schema here; it lives in [`crate::edge::error`].
pub use crate::edge::error::RestExceptionInfo;

/// Where the document is served.
pub const OPENAPI_JSON: &str = "/swagger/openapi.json";

/// The path parameter every operation starts with.
const VERSION_PARAM: &str = "version";

/// The served document around `paths`: title, the bearer security scheme, a server-relative server (so "Try it
/// out" calls the host serving the UI), and the `{version}` parameter of every operation as a dropdown of the served
/// versions defaulting to the newest. Every operation's id is made from its method and path ([`operation_id`]):
/// handler names repeat across resources (`list_documents` of OneDrives and of sites), and one handler may serve
/// several paths.
pub fn finish(paths: OpenApi) -> OpenApi {
    let mut doc = utoipa::openapi::OpenApiBuilder::new()
        .info(
            utoipa::openapi::InfoBuilder::new()
                .title("vault365 REST API (Veeam Backup for Microsoft 365 compatible)")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Served under /v2 … /v8 (pick the version in each operation; paths and query names are \
                     case-insensitive). Obtain a token with POST /{version}/token (Authorize → the token's \
                     access_token) and send it as `Authorization: Bearer <access_token>`.",
                ))
                .build(),
        )
        .servers(Some([Server::new("/")]))
        .build();
    doc.merge(paths);
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in methods_mut(item) {
            op.operation_id = Some(operation_id(method, path));
        }
        if path.starts_with("/{version}/") {
            operations_mut(item).for_each(version_dropdown);
        }
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components
        .add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    doc
}

/// `post_RestoreSessions_id_Organization_OneDrives_oneDriveId_Documents_save`: unique per method and path.
fn operation_id(method: &str, path: &str) -> String {
    let segments = path.split('/').filter(|s| !s.is_empty() && *s != "{version}");
    let names: Vec<&str> = segments.map(|s| s.trim_matches(|c| c == '{' || c == '}')).collect();
    format!("{method}_{}", names.join("_"))
}

/// The operations of one path.
pub fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    methods_mut(item).map(|(_, op)| op)
}

/// The operations of `item` with their methods' names (`get`, `post`, …).
pub fn methods_mut(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", &mut item.get),
        ("put", &mut item.put),
        ("post", &mut item.post),
        ("delete", &mut item.delete),
        ("options", &mut item.options),
        ("head", &mut item.head),
        ("patch", &mut item.patch),
        ("trace", &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.as_mut().map(|op| (m, op)))
}

/// Replaces the operation's `{version}` parameter by an enum of the served versions, default the newest.
fn version_dropdown(op: &mut Operation) {
    let versions: Vec<String> = (ApiVersion::MIN..=ApiVersion::MAX).rev().map(|n| ApiVersion(n).segment()).collect();
    let schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(versions))
        .default(Some(ApiVersion(ApiVersion::MAX).segment().into()))
        .build();
    let param = ParameterBuilder::new()
        .name(VERSION_PARAM)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some("API version (`v2` … `v8`)."))
        .schema(Some(schema))
        .build();
    let params = op.parameters.get_or_insert_with(Vec::new);
    params.retain(|p| !(p.name == VERSION_PARAM && p.parameter_in == ParameterIn::Path));
    params.insert(0, param);
}

/// Swagger UI at `/swagger/` with `doc` at [`OPENAPI_JSON`]; `/` and the vendor's `/swagger/ui/index` paths redirect
/// there.
pub fn swagger_router(doc: OpenApi) -> Router<AppState> {
    let ui: Router<AppState> = SwaggerUi::new("/swagger").url(OPENAPI_JSON, doc).into();
    ui.route("/", get(|| async { Redirect::temporary("/swagger/") }))
        .route("/swagger/ui/index", get(|| async { Redirect::permanent("/swagger/") }))
        .route("/swagger/ui/index/index.html", get(|| async { Redirect::permanent("/swagger/") }))
}
