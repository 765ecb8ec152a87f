//! Eras: ranges of API versions that share a shape, and the route layer that gates a group of routes to one.
//!
//! The vendor's versions fall into eras (veeam-api-notes §1): v2–v5 operate through `POST …/Action` with one-key
//! bodies, v6+ have one endpoint per verb, v8 adds asynchronous restores. An operation that exists only in some eras
//! is registered in a route group with [`gate`]: a request of another version is answered 404 before the handler
//! runs, with the group's message, in the era's error shape (the edge middleware re-renders [`ApiError`]s).

use std::fmt;

use axum::extract::{Request, State};
use axum::middleware::{from_fn_with_state, FromFnLayer, Next};
use axum::response::{IntoResponse, Response};

use crate::edge::error::ApiError;
use crate::edge::version::ApiVersion;

/// An inclusive range of API versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Era {
    first: u8,
    last: u8,
}

impl Era {
    /// v2–v5: `POST …/Action` with a one-key body.
    pub const ACTION: Era = Era::new(ApiVersion::MIN, 5);
    /// v6+: one endpoint per verb.
    pub const VERB: Era = Era::new(6, ApiVersion::MAX);
    /// v8: asynchronous restores, `stackTrace` in errors.
    pub const V8: Era = Era::new(8, ApiVersion::MAX);

    /// Versions `first..=last`.
    pub const fn new(first: u8, last: u8) -> Era {
        Era { first, last }
    }

    /// Whether `version` belongs to the era.
    pub fn contains(self, version: ApiVersion) -> bool {
        (self.first..=self.last).contains(&version.number())
    }

    /// The served versions of the era, oldest first.
    pub fn versions(self) -> impl Iterator<Item = ApiVersion> {
        (self.first.max(ApiVersion::MIN)..=self.last.min(ApiVersion::MAX)).map(ApiVersion)
    }
}

impl fmt::Display for Era {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "v{}", self.first)
        } else {
            write!(f, "v{}–v{}", self.first, self.last)
        }
    }
}

/// What a gate lets through, and what it answers otherwise.
#[derive(Debug, Clone, Copy)]
pub struct Gate {
    era: Era,
    /// The 404 message; `{version}` stands for the request's version (`v5`).
    message: &'static str,
}

impl Gate {
    /// The 404 for a request of `version` outside the era.
    pub fn refusal(&self, version: ApiVersion) -> ApiError {
        ApiError::not_found(self.message.replace("{version}", &version.to_string()))
    }
}

/// The gate layer type, for signatures.
pub type GateLayer =
    FromFnLayer<fn(State<Gate>, ApiVersion, Request, Next) -> GateFuture, Gate, (State<Gate>, ApiVersion, Request)>;

/// The future of one gate check.
pub type GateFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>;

/// Where a restore runs, by era: v8 starts a restore operation session and answers `{sessionId}` at once; earlier
/// versions run it in the request and answer its statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreRun {
    /// In the background, as a restore operation session (v8).
    Background,
    /// In the request (v2–v7).
    InRequest,
}

impl RestoreRun {
    /// How `version` runs a restore.
    pub fn of(version: ApiVersion) -> RestoreRun {
        if Era::V8.contains(version) {
            RestoreRun::Background
        } else {
            RestoreRun::InRequest
        }
    }
}

/// A route layer admitting only versions of `era`; others get 404 with `message`, where `{version}` is replaced by
/// the request's version. Applied per operation (`router.rs`'s `in_era`), so a method a path lacks stays 405.
pub fn gate(era: Era, message: &'static str) -> GateLayer {
    from_fn_with_state(Gate { era, message }, check as fn(State<Gate>, ApiVersion, Request, Next) -> GateFuture)
}

fn check(State(gate): State<Gate>, version: ApiVersion, req: Request, next: Next) -> GateFuture {
    Box::pin(async move {
        if gate.era.contains(version) {
            next.run(req).await
        } else {
            gate.refusal(version).into_response()
        }
    })
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    use super::*;

    #[test]
    fn eras() {
        assert!(Era::ACTION.contains(ApiVersion(2)) && Era::ACTION.contains(ApiVersion(5)));
        assert!(!Era::ACTION.contains(ApiVersion(6)));
        assert!(Era::VERB.contains(ApiVersion(6)) && Era::VERB.contains(ApiVersion(8)));
        assert!(!Era::VERB.contains(ApiVersion(5)));
        assert!(Era::V8.contains(ApiVersion(8)) && !Era::V8.contains(ApiVersion(7)));
        assert_eq!(Era::VERB.versions().map(|v| v.number()).collect::<Vec<_>>(), [6, 7, 8]);
        assert_eq!(Era::ACTION.to_string(), "v2–v5");
        assert_eq!(Era::V8.to_string(), "v8");
    }

    #[tokio::test]
    async fn gate_answers_404_outside_the_era() {
        let app = Router::new()
            .route("/{version}/thing/save", get(|| async { "saved" }))
            .route_layer(gate(Era::VERB, "…/save is not available in API {version}; use POST …/Action."));
        let resp = app.clone().oneshot(Request::get("/v6/thing/save").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let resp = app.oneshot(Request::get("/v5/thing/save").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        let body = axum::body::to_bytes(resp.into_body(), 1024).await.unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            serde_json::json!({"message": "…/save is not available in API v5; use POST …/Action."})
        );
    }
}
