//! The HTTPS server: TLS-only listener (plain HTTP fails the handshake and is dropped), connection caps
//! ([`crate::server::conn_limits`]), per-connection timeouts ([`crate::server::connection`]), graceful shutdown.

pub mod conn_limits;
mod connection;
pub mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::config::ApiConfig;
use crate::server::conn_limits::ConnectionCaps;
use crate::server::tls::TlsError;
use crate::state::AppState;
use crate::store::StoreError;
use connection::ConnectionSettings;
/// In-flight requests get this long to finish on shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Start-up failures.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// TLS material missing or unusable.
    #[error("TLS: {0}")]
    Tls(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The failure.
        source: std::io::Error,
    },
    /// A configuration value is unusable (the message names it).
    #[error("configuration: {0}")]
    Config(String),
    /// Restore jobs an earlier run left running could not be failed.
    #[error("database: {0}")]
    Db(#[from] StoreError),
}

impl From<TlsError> for ServerError {
    fn from(e: TlsError) -> ServerError {
        match e {
            TlsError::Invalid(message) => ServerError::Tls(message),
            TlsError::Io { path, source } => ServerError::Io { path, source },
        }
    }
}

/// A running server.
#[derive(Debug)]
pub struct RunningApi {
    /// The bound address (the real port when the configuration asked for port 0).
    pub addr: SocketAddr,
    /// The certificate file in use (PEM), e.g. for clients that want to trust it.
    pub cert_path: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RunningApi {
    /// `https://<addr>` (with 127.0.0.1 when bound to 0.0.0.0).
    pub fn base_url(&self) -> String {
        let mut a = self.addr;
        if a.ip().is_unspecified() {
            a.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("https://{a}")
    }

    /// Stops accepting, lets in-flight requests finish (up to 10 s), then returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut self.task).await.is_err() {
            tracing::warn!("API connections still open after {SHUTDOWN_GRACE:?}; closing them");
            self.task.abort();
        }
    }

    /// Waits until the server stops by itself (it only does on a fatal error).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

/// Starts the API: fails the restore jobs an earlier run left running ([`crate::store::restore_jobs::recover`]), loads
/// or generates the TLS certificate, binds `cfg.listen` and serves
/// [`crate::app`] until [`RunningApi::shutdown`], within the connection limits of `cfg.limits`.
pub async fn start(cfg: &ApiConfig, mut state: AppState) -> Result<RunningApi, ServerError> {
    cfg.limits.validate().map_err(ServerError::Config)?;
    state.time_zone = cfg.schedule_time_zone().map_err(ServerError::Config)?;
    crate::store::restore_jobs::recover(&state).await?;
    let (cert, key) = crate::server::tls::cert_paths(cfg, &state.data_dir)?;
    let tls = crate::server::tls::server_config(&cert, &key)?;
    let tcp = TcpListener::bind(cfg.listen).await.map_err(|source| ServerError::Bind { addr: cfg.listen, source })?;
    let addr = tcp.local_addr().map_err(|source| ServerError::Bind { addr: cfg.listen, source })?;
    state.max_body_bytes = cfg.max_body_bytes;
    state.allow_plaintext_mail_credentials = cfg.allow_plaintext_mail_credentials;
    let app = crate::app(state);

    let settings = Arc::new(ConnectionSettings::new(TlsAcceptor::from(tls), app, &cfg.limits));
    let caps = ConnectionCaps::new(cfg.limits.max_connections, cfg.limits.max_connections_per_address);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(tcp, settings, caps, stop_rx));
    tracing::info!("API listening on https://{addr}");
    Ok(RunningApi { addr, cert_path: cert, stop: Some(stop_tx), task })
}

/// Accepts TCP connections and serves each in its own task (TLS handshake included, so a slow or hostile client
/// never blocks the others) — unless a connection cap is reached: then the new connection is closed at once.
/// On stop (or when the [`RunningApi`] is dropped): stops accepting, shuts every connection down gracefully and
/// returns when all have closed. The connection tasks live in a `JoinSet` owned by this task, so aborting it
/// (after the shutdown grace) closes them all.
async fn serve(
    tcp: TcpListener,
    settings: Arc<ConnectionSettings>,
    caps: Arc<ConnectionCaps>,
    mut stop: oneshot::Receiver<()>,
) {
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = tcp.accept() => match accepted {
                Ok((stream, peer)) => {
                    // Refused: dropping the stream closes it before any TLS work is spent on it.
                    let Ok(permit) = caps.try_acquire(peer.ip()) else { continue };
                    let _ = stream.set_nodelay(true);
                    connections.spawn(connection::serve(settings.clone(), stream, peer, permit, shutdown_rx.clone()));
                }
                Err(e) => {
                    // Typically EMFILE: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
    drop(tcp);
    let _ = shutdown_tx.send(true);
    while connections.join_next().await.is_some() {}
}
