//! The emulator process: the HTTP router, loading the state and start-up.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path as AxPath, Request, State as AxState};
use axum::http::{HeaderMap, HeaderValue, Method, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use bytes::Bytes;

use crate::auth::{self, Audience};
use crate::content::BlobStore;
use crate::ctx::{Ctx, Query};
use crate::emu::Emu;
use crate::state::State;

/// Largest request body accepted at all (simple uploads are capped at 250 MB by Graph).
pub const MAX_BODY: usize = 260 * 1024 * 1024;

/// How to run an emulator.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    pub listen: SocketAddr,
    pub state_dir: PathBuf,
    /// Seed spec applied when the state directory is fresh (e.g. `users=5,files=200`).
    pub seed: Option<String>,
    /// Public base URL when the emulator sits behind something; default `http://{bound addr}`.
    pub public_url: Option<String>,
}

/// A started emulator; dropping it does not stop it — call [`RunningEmulator::shutdown`].
pub struct RunningEmulator {
    pub addr: SocketAddr,
    pub emu: Arc<Emu>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningEmulator {
    pub fn base_url(&self) -> String {
        self.emu.base_url().to_string()
    }

    /// Stop serving and persist the state.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
        self.emu.flush()?;
        Ok(())
    }

    /// Serve until ctrl-c / SIGTERM, then persist.
    pub async fn wait_for_signal(self) -> anyhow::Result<()> {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        self.shutdown().await
    }
}

pub fn load_or_create(dir: &Path, seed: Option<&str>) -> anyhow::Result<State> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("state.json");
    if path.exists() {
        return State::load(&path);
    }
    let blobs = BlobStore::open(dir)?;
    let spec = crate::seed::SeedSpec::parse(seed.unwrap_or(""))?;
    let mut st = State::new(&spec.tenant, &spec.id_seed());
    crate::seed::apply(&mut st, &blobs, &spec)?;
    Ok(st)
}

/// Bind, load (or create and seed) the state, and start serving in the background.
pub async fn start(cfg: EmulatorConfig) -> anyhow::Result<RunningEmulator> {
    let st = {
        let dir = cfg.state_dir.clone();
        let seed = cfg.seed.clone();
        tokio::task::spawn_blocking(move || load_or_create(&dir, seed.as_deref())).await??
    };
    let listener = tokio::net::TcpListener::bind(cfg.listen).await?;
    let addr = listener.local_addr()?;
    let base_url = cfg.public_url.clone().unwrap_or_else(|| format!("http://{addr}")).trim_end_matches('/').to_string();
    let emu = Arc::new(Emu::new(st, BlobStore::open(&cfg.state_dir)?, cfg.state_dir.clone(), base_url));
    emu.flush()?;
    tokio::spawn(emu.clone().flush_when_dirty());
    let app = router(emu.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(RunningEmulator { addr, emu, shutdown: Some(tx), task })
}

pub fn router(emu: Arc<Emu>) -> Router {
    let api = Router::new()
        .route("/v1.0/{*rest}", any(graph_entry))
        .route("/{tenant}/oauth2/v2.0/token", post(token_entry))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(devicecode_entry))
        .route("/{tenant}/v2.0/.well-known/openid-configuration", get(openid_entry))
        .merge(crate::download::router())
        .merge(crate::upload_url::router())
        .merge(crate::sharepoint::router())
        .merge(crate::graph::mail::upload_router())
        .layer(middleware::from_fn_with_state(emu.clone(), crate::faults::layer));
    Router::new()
        .merge(api)
        .merge(crate::control::router())
        .merge(crate::auth::control_router())
        .merge(crate::graph::mail::outbox_router())
        .layer(middleware::from_fn(request_ids))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(emu)
}

/// Echo `client-request-id` and add `request-id` to every response (Graph does).
async fn request_ids(req: Request, next: Next) -> Response {
    let client = req.headers().get("client-request-id").cloned();
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if !h.contains_key("request-id") {
        let id = uuid::Uuid::new_v4().to_string();
        h.insert("request-id", HeaderValue::from_str(&id).expect("uuid is ascii"));
        if !h.contains_key("client-request-id") {
            h.insert("client-request-id", client.unwrap_or_else(|| HeaderValue::from_str(&id).expect("ascii")));
        }
    }
    resp
}

fn form_of(body: &Bytes) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

async fn token_entry(
    AxState(emu): AxState<Arc<Emu>>,
    AxPath(tenant): AxPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut form = form_of(&body);
    // HTTP Basic client authentication (client_id:client_secret) is accepted too.
    if let Some((id, secret)) = basic_auth(&headers) {
        form.entry("client_id".into()).or_insert(id);
        form.entry("client_secret".into()).or_insert(secret);
    }
    let resp = auth::token_endpoint(&emu, &tenant, &form);
    emu.mark_dirty();
    resp
}

fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let v = headers.get("authorization")?.to_str().ok()?;
    let enc = v.strip_prefix("Basic ")?;
    let dec = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(enc).ok()?).ok()?;
    let (id, secret) = dec.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

async fn devicecode_entry(AxState(emu): AxState<Arc<Emu>>, AxPath(tenant): AxPath<String>, body: Bytes) -> Response {
    let resp = auth::device_code_endpoint(&emu, &tenant, &form_of(&body));
    emu.mark_dirty();
    resp
}

async fn openid_entry(AxState(emu): AxState<Arc<Emu>>, AxPath(tenant): AxPath<String>) -> Response {
    auth::openid_configuration(&emu, &tenant)
}

async fn graph_entry(
    AxState(emu): AxState<Arc<Emu>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let client_request_id = headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| request_id.clone());
    let path = uri.path().strip_prefix("/v1.0").unwrap_or(uri.path()).to_string();
    let mut resp = match auth::authenticate(&emu, &headers, &Audience::Graph) {
        Err(e) => e.into_response_with(&request_id, &client_request_id),
        Ok(principal) => {
            let ctx = Ctx {
                emu: &emu,
                principal,
                method: method.clone(),
                path,
                query: Query::parse(uri.query()),
                headers: &headers,
                body,
                now: emu.now(),
            };
            let r =
                crate::graph::dispatch(&ctx).unwrap_or_else(|e| e.into_response_with(&request_id, &client_request_id));
            if method != Method::GET && method != Method::HEAD {
                emu.mark_dirty();
            }
            r
        }
    };
    let h = resp.headers_mut();
    h.insert("request-id", HeaderValue::from_str(&request_id).expect("uuid"));
    if let Ok(v) = HeaderValue::from_str(&client_request_id) {
        h.insert("client-request-id", v);
    }
    if method == Method::HEAD {
        let (parts, _) = resp.into_parts();
        return Response::from_parts(parts, Body::empty());
    }
    resp.into_response()
}
