//! The Veeam Backup for Microsoft 365 compatible REST API core of vault365.
//!
//! Layers, each depending only on those listed before it:
//! * [`edge`] — the Veeam dialect, knowing no resource: versions and eras ([`edge::version::ApiVersion`]),
//!   errors per era ([`edge::error::ApiError`]), case-insensitive paths, lenient JSON and queries, paging, HAL links,
//!   and the middleware applying them before routing.
//! * [`store`] — API-owned tables (accounts, tokens, restore sessions, restore jobs, email settings, …).
//! * [`ctx`] — request contexts: the caller ([`ctx::auth::CurrentUser`]) and the resources a path addresses.
//! * [`resources`] — the operations, one module per resource family.
//! * [`router`] — the one route table and the OpenAPI document generated from it; Swagger UI: [`openapi`].
//! * [`server`] — HTTPS (rustls, aws-lc-rs) on port 4443 by default, connection caps and timeouts; [`app`] — the
//!   complete axum app.

pub mod config;
pub mod ctx;
pub mod edge;
pub mod openapi;
pub mod resources;
pub mod router;
pub mod server;
pub mod state;
pub mod store;
pub mod wire;

use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn;
use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;

pub use config::{ApiConfig, ConnectionLimits};
pub use edge::error::ApiError;
pub use edge::version::ApiVersion;
pub use server::{start, RunningApi, ServerError};
pub use state::{AppState, RestoreAccess, StartBackup, StartRefused};

/// The complete application: the route table ([`router`]: protected operations behind the bearer check, the
/// fallback), the Swagger UI with the table's document, the body limit (`state.max_body_bytes`), a catch-panic layer,
/// and — outermost, before routing — the edge middleware. Serve it over any transport (the server uses TLS; tests may
/// call it with `tower::ServiceExt`).
pub fn app(state: AppState) -> Router {
    let (routes, paths) = router::routes(&state).split_for_parts();
    let inner: Router = routes
        .merge(openapi::swagger_router(openapi::finish(paths)))
        .layer(DefaultBodyLimit::max(state.max_body_bytes))
        .with_state(state);
    wrap(inner)
}

/// Puts the edge middleware (outermost, before routing) and the catch-panic layer around a router.
fn wrap(inner: Router) -> Router {
    let svc = ServiceBuilder::new()
        .layer(from_fn(edge::middleware::edge))
        .layer(CatchPanicLayer::custom(edge::middleware::panic_response))
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
