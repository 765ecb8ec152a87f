//! The OpenAPI document of what is served, and the Swagger UI (`/swagger`, also reachable through the vendor's
//! `/swagger/ui/index` paths).

use axum::response::Redirect;
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi;
use utoipa::ToSchema;
use utoipa_swagger_ui::SwaggerUi;

use crate::state::AppState;

/// Where the document is served.
pub const OPENAPI_JSON: &str = "/swagger/openapi.json";

/// The error body (`RESTExceptionInfo`); `errorCode` from v7, `stackTrace` (always null) from v8.
#[derive(Serialize, ToSchema)]
pub struct RestExceptionInfo {
    /// Error message.
    pub message: String,
    /// v7+: error code (v7 only `ProxyOffline`), nullable.
    #[serde(rename = "errorCode")]
    pub error_code: Option<String>,
    /// v8: always null.
    #[serde(rename = "stackTrace")]
    pub stack_trace: Option<String>,
}

/// The merged document of every route module, with the bearer security scheme.
pub fn document() -> OpenApi {
    let mut doc = utoipa::openapi::OpenApiBuilder::new()
        .info(
            utoipa::openapi::InfoBuilder::new()
                .title("vault365 REST API (Veeam Backup for Microsoft 365 compatible)")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Served under /v2 … /v8 (paths and query names are case-insensitive). Obtain a token with \
                     POST /{version}/token and send it as `Authorization: Bearer <access_token>`.",
                ))
                .build(),
        )
        .build();
    doc.merge(crate::resources::openapi());
    let components = doc.components.get_or_insert_with(Default::default);
    components
        .add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    doc
}

/// Swagger UI at `/swagger/` with the document at [`OPENAPI_JSON`]; the vendor's `/swagger/ui/index` paths redirect.
pub fn swagger_router() -> Router<AppState> {
    let ui: Router<AppState> = SwaggerUi::new("/swagger").url(OPENAPI_JSON, document()).into();
    ui.route("/swagger/ui/index", get(|| async { Redirect::permanent("/swagger/") }))
        .route("/swagger/ui/index/index.html", get(|| async { Redirect::permanent("/swagger/") }))
}
