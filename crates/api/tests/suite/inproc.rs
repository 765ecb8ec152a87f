//! The app called in process (no TLS, no emulator, no backup): an empty catalog and one account with a token. For
//! tests of routing, documents and era rules, which need no backed-up data.

use std::time::Duration;

use api::ctx::auth::CurrentUser;
use api::store::accounts;
use api::AppState;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use serde_json::Value;
use tower::ServiceExt;

const USER: &str = "inproc";
const PASSWORD: &str = "in-process password";

pub struct App {
    pub app: Router,
    pub state: AppState,
    /// The account, as handlers see it.
    pub user: CurrentUser,
    token: String,
    _dir: tempfile::TempDir,
}

impl App {
    pub async fn start() -> App {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("catalog.db").display());
        let catalog = repo::catalog::Catalog::connect(&url).await.unwrap();
        let state = AppState::new(catalog, None, dir.path());
        let account = accounts::add_user(state.pool(), USER, PASSWORD).await.unwrap();
        let user = CurrentUser { id: account.id, name: account.name };
        let app = api::app(state.clone());
        let mut a = App { app, state, user, token: String::new(), _dir: dir };
        a.log_in().await;
        a
    }

    /// A fresh token (after a logout ended the previous one).
    pub async fn log_in(&mut self) {
        let form = format!("grant_type=password&username={USER}&password={}", PASSWORD.replace(' ', "+"));
        let req = Request::post("/v8/token")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap();
        let (status, body) = self.send(req).await.expect("token answers");
        assert_eq!(status, StatusCode::OK, "{body}");
        self.token = body["access_token"].as_str().unwrap().to_string();
    }

    /// An authenticated request; a body other than GET's and DELETE's is `body` as JSON.
    pub fn request(&self, method: &str, path: &str, body: &str) -> Request<Body> {
        let req =
            Request::builder().method(method).uri(path).header(header::AUTHORIZATION, format!("Bearer {}", self.token));
        if method == "GET" || method == "DELETE" {
            req.body(Body::empty()).unwrap()
        } else {
            req.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())).unwrap()
        }
    }

    /// Status and JSON body (`null` when not JSON); `None` when no answer came within 20 s.
    pub async fn send(&self, req: Request<Body>) -> Option<(StatusCode, Value)> {
        let resp = tokio::time::timeout(Duration::from_secs(20), self.app.clone().oneshot(req)).await.ok()?.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap_or_default();
        Some((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
    }
}
