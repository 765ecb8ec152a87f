//! One client connection, from accepted TCP stream to close: the TLS handshake (bounded by
//! `handshake_timeout_secs`), then HTTP/1.1 or HTTP/2 (hyper-util's auto builder; ALPN offers both) over the app,
//! with
//! * a header-read timeout (hyper's HTTP/1 `header_read_timeout`; it also bounds the wait for the next request on
//!   a kept-alive HTTP/1 connection),
//! * a deadline for each request body ([`crate::edge::body_deadline`]),
//! * an idle timeout: a connection with no request in flight and no bytes read or written for `idle_timeout_secs`
//!   is shut down gracefully (HTTP/2 has no header timeout, so this is what closes idle HTTP/2 connections),
//! * graceful shutdown when the server stops.
//!
//! The client's address reaches handlers as [`axum::extract::ConnectInfo<SocketAddr>`].

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::config::ConnectionLimits;
use crate::edge::body_deadline::{BodyDeadline, DeadlineBody};
use crate::server::conn_limits::ConnectionPermit;

/// What every connection of one server shares.
pub(crate) struct ConnectionSettings {
    acceptor: TlsAcceptor,
    app: Router,
    http: auto::Builder<TokioExecutor>,
    handshake_timeout: Duration,
    body_read_timeout: Duration,
    idle_timeout: Duration,
}

impl ConnectionSettings {
    pub(crate) fn new(acceptor: TlsAcceptor, app: Router, limits: &ConnectionLimits) -> ConnectionSettings {
        let mut http = auto::Builder::new(TokioExecutor::new());
        // hyper only enforces its header timeout when it has a timer.
        http.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout());
        http.http2().timer(TokioTimer::new());
        ConnectionSettings {
            acceptor,
            app,
            http,
            handshake_timeout: limits.handshake_timeout(),
            body_read_timeout: limits.body_read_timeout(),
            idle_timeout: limits.idle_timeout(),
        }
    }
}

/// Serves one accepted connection until it closes, times out or the server stops (`shutdown` turns true). The
/// permit is held, and so counted against the caps, until then.
pub(crate) async fn serve(
    settings: Arc<ConnectionSettings>,
    tcp: TcpStream,
    peer: SocketAddr,
    permit: ConnectionPermit,
    mut shutdown: watch::Receiver<bool>,
) {
    let _permit = permit;
    let handshake = tokio::time::timeout(settings.handshake_timeout, settings.acceptor.accept(tcp));
    let tls = tokio::select! {
        r = handshake => match r {
            Ok(Ok(tls)) => tls,
            // Plain HTTP, scanners, clients rejecting our certificate: nothing to serve.
            Ok(Err(e)) => {
                tracing::debug!("TLS handshake with {peer} failed: {e}");
                return;
            }
            Err(_) => {
                tracing::debug!("TLS handshake with {peer} timed out");
                return;
            }
        },
        () = stopped(&mut shutdown) => return,
    };

    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(ActivityIo { inner: tls, activity: activity.clone() });
    let service = {
        let (app, activity, body_read_timeout) = (settings.app.clone(), activity.clone(), settings.body_read_timeout);
        hyper::service::service_fn(move |req: Request<Incoming>| {
            let in_flight = activity.begin_request();
            let deadline = BodyDeadline::starting_now(body_read_timeout);
            let (mut parts, body) = req.into_parts();
            parts.extensions.insert(ConnectInfo(peer));
            parts.extensions.insert(deadline.clone());
            let req = Request::from_parts(parts, Body::new(DeadlineBody::new(body, deadline)));
            let app = app.clone();
            async move {
                let resp = app.oneshot(req).await?;
                // The request stays in flight until its response body is sent (or dropped): a long download is
                // not idle.
                Ok::<_, Infallible>(resp.map(|body| Body::new(InFlightBody { inner: body, _request: in_flight })))
            }
        })
    };
    let conn = settings.http.serve_connection(io, service);
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!("connection with {peer} ended: {e}");
                }
                return;
            }
            () = activity.idle_for(settings.idle_timeout), if !closing => {
                tracing::debug!("closing the connection with {peer}: idle for {:?}", settings.idle_timeout);
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            () = stopped(&mut shutdown), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}

/// Resolves once the server stops (or is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// When a connection last read or wrote, and how many of its requests are in flight.
struct Activity {
    origin: Instant,
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Activity {
        Activity { origin: Instant::now(), last_ms: AtomicU64::new(0), in_flight: AtomicUsize::new(0) }
    }

    fn touch(&self) {
        self.last_ms.store(self.origin.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    fn begin_request(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.touch();
        InFlight(self.clone())
    }

    /// Resolves once no request is in flight and nothing was read or written for `limit`.
    async fn idle_for(&self, limit: Duration) {
        loop {
            let quiet =
                self.origin.elapsed().saturating_sub(Duration::from_millis(self.last_ms.load(Ordering::Relaxed)));
            let busy = self.in_flight.load(Ordering::Relaxed) > 0;
            if !busy && quiet >= limit {
                return;
            }
            // Busy: check again later (the request's end counts as activity, so the full limit follows it).
            tokio::time::sleep(if busy { limit } else { limit - quiet }).await;
        }
    }
}

/// One request in flight; ends when dropped.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A response body that keeps its request in flight until it is finished or dropped.
struct InFlightBody {
    inner: Body,
    _request: InFlight,
}

impl http_body::Body for InFlightBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The connection's stream, noting every read and write in its [`Activity`].
struct ActivityIo<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for ActivityIo<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ActivityIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
