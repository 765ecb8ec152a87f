//! The restore session a path addresses (`/{version}/RestoreSessions/{id}/…`), loaded for the caller.
//!
//! * [`SessionCtx`]: the caller's **working** session, its last use refreshed — what every operation inside a
//!   session (browse, save, send, restore) starts from. A malformed, unknown or another caller's id is 404
//!   `"Restore session not found."`; a stopped session is 500 in v2–v7 and 409 `OperationConflict` in v8
//!   ([`sessions::require_working_v`]).
//! * [`AnySessionCtx`]: the caller's session in any state (reading a session, its events, stopping it); 404 as
//!   above ([`sessions::find`]).
//!
//! Both carry the caller and the era, so a handler taking one needs neither `CurrentUser` nor `ApiVersion`.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;

use crate::ctx::auth::CurrentUser;
use crate::edge::error::ApiError;
use crate::edge::version::ApiVersion;
use crate::state::AppState;
use crate::store::sessions::{self, RestoreSession};

/// The path parameter naming the restore session.
const SESSION_PARAM: &str = "id";

/// The caller's working restore session of the path (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct SessionCtx {
    pub user: CurrentUser,
    pub version: ApiVersion,
    pub session: RestoreSession,
}

/// The caller's restore session of the path, in any state (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct AnySessionCtx {
    pub user: CurrentUser,
    pub version: ApiVersion,
    pub session: RestoreSession,
}

/// The caller, the era and the raw session id, in the order today's handlers check them (401 before anything else).
async fn caller_and_id(parts: &mut Parts, state: &AppState) -> Result<(CurrentUser, ApiVersion, String), ApiError> {
    let user = CurrentUser::from_request_parts(parts, state).await?;
    let version = ApiVersion::from_request_parts(parts, state).await?;
    let params =
        RawPathParams::from_request_parts(parts, state).await.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let id = params.iter().find(|(name, _)| *name == SESSION_PARAM).map(|(_, value)| value.to_string());
    // A route without `{id}` is a registration mistake, not bad input.
    let id = id.ok_or_else(|| ApiError::internal("The route names no restore session."))?;
    Ok((user, version, id))
}

impl FromRequestParts<AppState> for SessionCtx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let (user, version, id) = caller_and_id(parts, state).await?;
        let session = crate::ctx::working::session(state, &user, &id).await?;
        Ok(SessionCtx { user, version, session })
    }
}

impl FromRequestParts<AppState> for AnySessionCtx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let (user, version, id) = caller_and_id(parts, state).await?;
        let session = sessions::find(state, &user, &id).await?;
        Ok(AnySessionCtx { user, version, session })
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use axum::Router;
    use serde_json::Value;
    use tower::ServiceExt;
    use uuid::Uuid;

    use super::*;
    use crate::store::sessions::{NewSession, SessionKind};

    fn user(id: &str) -> CurrentUser {
        CurrentUser { id: id.to_string(), name: id.to_string() }
    }

    async fn call(app: &Router, uri: &str, caller: &str) -> (StatusCode, Value) {
        let mut req = Request::get(uri).body(Body::empty()).unwrap();
        req.extensions_mut().insert(user(caller));
        let resp = app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    #[tokio::test]
    async fn working_and_any_state_sessions_of_the_caller() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("catalog.db").display());
        let state = AppState::new(repo::catalog::Catalog::connect(&url).await.unwrap(), None, dir.path());
        let new = NewSession {
            owner: user("alice"),
            organization_id: Uuid::new_v4(),
            kind: SessionKind::Veod,
            requested_at: None,
            restore_point_id: None,
            browse_at: None,
            show_deleted: false,
            show_all_versions: false,
            name: None,
            parent_id: None,
            reason: None,
        };
        let s = sessions::create(&state, new).await.unwrap();
        let app = Router::new()
            .route(
                "/{version}/RestoreSessions/{id}/working",
                get(|c: SessionCtx| async move { format!("{} {} {}", c.version, c.user.id, c.session.id) }),
            )
            .route(
                "/{version}/RestoreSessions/{id}/any",
                get(|c: AnySessionCtx| async move { format!("{} {}", c.version, c.session.id) }),
            )
            .with_state(state.clone())
            // The edge renders an error in the request's era (a stopped session: 409 in v8, 500 before).
            .layer(axum::middleware::from_fn(crate::edge::middleware::edge));

        let (st, _) = call(&app, &format!("/v8/RestoreSessions/{}/working", s.id), "alice").await;
        assert_eq!(st, StatusCode::OK);
        for (uri, caller) in [
            (format!("/v8/RestoreSessions/{}/working", s.id), "bob"),
            ("/v8/RestoreSessions/not-a-guid/working".to_string(), "alice"),
            (format!("/v8/RestoreSessions/{}/working", Uuid::new_v4()), "alice"),
            (format!("/v8/RestoreSessions/{}/any", s.id), "bob"),
        ] {
            let (st, body) = call(&app, &uri, caller).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "{uri} {caller}");
            assert_eq!(body["message"], sessions::NOT_FOUND_MESSAGE);
        }

        sessions::stop(&state, s.id).await.unwrap();
        let working = format!("RestoreSessions/{}/working", s.id);
        assert_eq!(call(&app, &format!("/v8/{working}"), "alice").await.0, StatusCode::CONFLICT);
        assert_eq!(call(&app, &format!("/v7/{working}"), "alice").await.0, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(call(&app, &format!("/v8/RestoreSessions/{}/any", s.id), "alice").await.0, StatusCode::OK);
    }
}
