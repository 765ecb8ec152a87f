//! The Veeam Backup for Microsoft 365 compatible REST API core of vault365.
//!
//! * [`server::start`] — HTTPS (rustls, aws-lc-rs) on port 4443 by default; [`app`] — the complete axum app.
//! * Versions `/v2` … `/v8`: [`version::ApiVersion`] (era: [`version::ApiVersion::is_action_era`]); paths and
//!   query names are case-insensitive ([`paths`], [`query::LenientQuery`]).
//! * Request bodies: [`dialect`] (lenient JSON, `LenientJson` extractor, Action-era dispatcher, date-times).
//! * Errors: [`error::ApiError`], rendered per era by the edge middleware ([`edge`]).
//! * Paging and HAL links: [`paging`].
//! * Accounts and tokens: [`accounts`], [`auth`] (`CurrentUser`), `POST /vN/token`, `/vN/token/logout`.
//! * Route modules: [`routes`] (how to add one), OpenAPI + Swagger UI: [`openapi`].

pub mod accounts;
pub mod auth;
pub mod body_deadline;
pub mod browse_util;
pub mod config;
pub mod conn_limits;
mod connection;
pub mod device_codes;
pub mod dialect;
pub mod edge;
pub mod email_settings;
pub mod error;
pub mod logon_throttle;
pub mod openapi;
pub mod paging;
pub mod password_pool;
pub mod paths;
pub mod query;
pub mod restore_auth;
pub mod restore_jobs;
pub mod restore_stop;
pub mod route_paths;
pub mod routes;
pub mod segments;
pub mod server;
pub mod session_drive;
pub mod session_site;
pub mod sessions;
pub mod sp_attachments;
pub mod state;
pub mod tls;
pub mod version;

use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;

pub use config::{ApiConfig, ConnectionLimits};
pub use error::ApiError;
pub use server::{start, RunningApi, ServerError};
pub use state::AppState;
pub use version::ApiVersion;

/// The complete application: the route modules (protected ones behind the bearer check), the Swagger UI, the
/// fallback, the body limit (`state.max_body_bytes`), a catch-panic layer, and — outermost, before routing — the
/// edge middleware. Serve it over any transport (the server uses TLS; tests may call it with `tower::ServiceExt`).
pub fn app(state: AppState) -> Router {
    let protected = routes::protected().route_layer(from_fn_with_state(state.clone(), auth::require_auth));
    let inner: Router = Router::new()
        .merge(routes::public())
        .merge(protected)
        .merge(openapi::swagger_router())
        .fallback(edge::fallback)
        .layer(DefaultBodyLimit::max(state.max_body_bytes))
        .with_state(state);
    wrap(inner)
}

/// Puts the edge middleware (outermost, before routing) and the catch-panic layer around a router.
fn wrap(inner: Router) -> Router {
    let svc = ServiceBuilder::new()
        .layer(from_fn(edge::edge))
        .layer(CatchPanicLayer::custom(edge::panic_response))
        .service(inner);
    Router::new().fallback_service(svc)
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    async fn call(app: Router, uri: &str) -> (StatusCode, serde_json::Value) {
        let resp = app.oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
    }

    #[tokio::test]
    async fn panics_become_500_json_in_the_era_shape() {
        let inner = Router::new().route("/{version}/boom", get(|| async { panic!("kaboom") as &'static str })).route(
            "/{version}/RestoreSessions/{id}",
            get(|v: ApiVersion, p: axum::extract::Path<(String, String)>| async move { format!("{v} {}", p.0 .1) }),
        );
        let app = wrap(inner);
        let (s, body) = call(app.clone(), "/v8/boom").await;
        assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            body,
            serde_json::json!({"message": "An error has occurred.", "errorCode": null, "stackTrace": null})
        );
        let (s, body) = call(app.clone(), "/v3/boom/").await;
        assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body, serde_json::json!({"message": "An error has occurred."}));
        // Canonicalised before routing; the id keeps its case; the version reaches the handler.
        let resp =
            app.oneshot(Request::get("/V5/restoresessions/AbC-1/?x=1").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let text = axum::body::to_bytes(resp.into_body(), 1024).await.unwrap();
        assert_eq!(&text[..], b"v5 AbC-1");
    }
}
