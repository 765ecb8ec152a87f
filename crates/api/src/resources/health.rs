//! `GET /health` (readiness) and `GET /health/live` (liveness), without authentication, for load balancers and
//! monitors: live answers 200 while the process serves; ready answers 200 when the catalog and the repository answer,
//! else 503 naming the part that does not (`{"status": "unavailable", "catalog": "ok", "repository": "…error…"}`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;

use crate::edge::paging::json_response;
use crate::state::AppState;

/// The health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `unavailable`.
    pub status: &'static str,
    /// `ok`, or why the catalog does not answer (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog: Option<String>,
    /// `ok`, `none` (no repository configured), or why it does not answer (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
}

/// Liveness: the process serves requests.
#[utoipa::path(get, path = "/health/live", tag = "Health", responses((status = 200, description = "Serving", body = Health)))]
pub async fn live() -> Response {
    json_response(StatusCode::OK, &Health { status: "ok", catalog: None, repository: None })
}

/// Readiness: the catalog and the repository answer.
#[utoipa::path(
    get,
    path = "/health",
    tag = "Health",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "The catalog or the repository does not answer (named)", body = Health)
    )
)]
pub async fn ready(State(state): State<AppState>) -> Response {
    let catalog = match sqlx::query("SELECT 1").execute(state.pool()).await {
        Ok(_) => "ok".to_string(),
        Err(e) => format!("unavailable: {e}"),
    };
    let repository = match &state.repo {
        None => "none".to_string(),
        Some(r) => match r.reachable().await {
            Ok(()) => "ok".to_string(),
            Err(e) => format!("unavailable: {e}"),
        },
    };
    let ready = catalog == "ok" && matches!(repository.as_str(), "ok" | "none");
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let health = Health {
        status: if ready { "ok" } else { "unavailable" },
        catalog: Some(catalog),
        repository: Some(repository),
    };
    json_response(status, &health)
}
