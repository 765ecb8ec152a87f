//! The HTTPS server: TLS-only listener (plain HTTP fails the handshake and is dropped), graceful shutdown.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::config::ApiConfig;
use crate::state::AppState;

/// A client gets this long to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
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
    /// The API tables could not be created.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

impl ServerError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> ServerError {
        ServerError::Io { path: path.to_path_buf(), source }
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

/// Starts the API: creates the API tables, loads or generates the TLS certificate, binds `cfg.listen` and serves
/// [`crate::app`] until [`RunningApi::shutdown`].
pub async fn start(cfg: &ApiConfig, mut state: AppState) -> Result<RunningApi, ServerError> {
    crate::accounts::ensure_schema(state.pool()).await?;
    let (cert, key) = crate::tls::cert_paths(cfg, &state.data_dir)?;
    let tls = crate::tls::server_config(&cert, &key)?;
    let tcp = TcpListener::bind(cfg.listen).await.map_err(|source| ServerError::Bind { addr: cfg.listen, source })?;
    let addr = tcp.local_addr().map_err(|source| ServerError::Bind { addr: cfg.listen, source })?;
    state.max_body_bytes = cfg.max_body_bytes;
    let app = crate::app(state);

    let (conn_tx, conn_rx) = mpsc::channel(64);
    tokio::spawn(accept_loop(tcp, TlsAcceptor::from(tls), conn_tx));
    let listener = TlsListener { rx: conn_rx, addr };
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(
            // The no-op tap makes axum record each connection's peer address (`ConnectInfo<SocketAddr>`, read
            // by the logon throttle); axum only implements that for `TcpListener` and tapped listeners.
            axum::serve::ListenerExt::tap_io(listener, |_| ()),
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stop_rx.await;
        });
        if let Err(e) = serve.await {
            tracing::error!("API server stopped: {e}");
        }
    });
    tracing::info!("API listening on https://{addr}");
    Ok(RunningApi { addr, cert_path: cert, stop: Some(stop_tx), task })
}

/// Accepts TCP connections and hands each to its own TLS handshake task, so a slow or hostile client never blocks
/// the others. Ends when the server side of the channel is gone (shutdown).
async fn accept_loop(tcp: TcpListener, acceptor: TlsAcceptor, tx: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>) {
    loop {
        let accepted = tokio::select! {
            _ = tx.closed() => return,
            r = tcp.accept() => r,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        // Plain HTTP, scanners, clients rejecting our certificate: nothing to serve.
                        Ok(Err(e)) => tracing::debug!("TLS handshake with {peer} failed: {e}"),
                        Err(_) => tracing::debug!("TLS handshake with {peer} timed out"),
                    }
                });
            }
            Err(e) => {
                // Typically EMFILE: back off instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Completed TLS connections, as an axum listener.
struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    addr: SocketAddr,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(conn) => conn,
            // The accept loop ended; wait for the shutdown signal.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.addr)
    }
}
