//! Connection limits and timeouts (`[api.limits]`) over real TLS on loopback: a client that never finishes its
//! TLS handshake, its request headers or its request body is cut off; an idle kept-alive connection (HTTP/1.1 and
//! HTTP/2) is closed while one with a request in flight is not; a flood of idle connections from one address hits
//! the per-address cap while a logon from another address is still served; the total cap holds.
//!
//! Every test uses small configured values (1–2 s, a few connections), bounded loops, and waits with a time bound,
//! so it stops by itself.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use api::store::accounts;
use api::{ApiConfig, AppState, ConnectionLimits, RunningApi};
use reqwest::{Client, StatusCode};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls_pki_types::pem::PemObject;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

const USER: &str = "DOMAIN\\admin";
const PASSWORD: &str = "s3cret pa$$ phrase";
/// The upper bound of every wait for the server to act; far above the configured timeouts (1–2 s) and far below
/// the defaults (10 s and more) the tests must not be passing on.
const BOUND: Duration = Duration::from_secs(6);

struct Server {
    api: RunningApi,
    tls: TlsConnector,
    _dir: tempfile::TempDir,
}

impl Server {
    /// An API without a backed-up tenant (fast), one account, and `limits`.
    async fn start(limits: ConnectionLimits) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("catalog.db").display());
        let catalog = repo::catalog::Catalog::connect(&url).await.unwrap();
        let state = AppState::new(catalog, None, dir.path());
        accounts::add_user(state.pool(), USER, PASSWORD).await.unwrap();
        let mut cfg = ApiConfig::listening_on(SocketAddr::from(([127, 0, 0, 1], 0)));
        cfg.limits = limits;
        let api = api::start(&cfg, state).await.unwrap();
        let tls = connector(&api);
        Server { api, tls, _dir: dir }
    }

    /// A TCP connection from `from` (any address of 127.0.0.0/8 reaches loopback on Linux).
    async fn tcp_from(&self, from: Ipv4Addr) -> TcpStream {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::from((from, 0))).unwrap();
        socket.connect(self.api.addr).await.unwrap()
    }

    /// A TLS connection from `from` offering `alpn`; `Err` when the server closes it instead of completing the
    /// handshake.
    async fn tls_from(&self, from: Ipv4Addr, alpn: &[u8]) -> std::io::Result<TlsStream<TcpStream>> {
        let tcp = self.tcp_from(from).await;
        let mut config = rustls::ClientConfig::clone(self.tls.config());
        config.alpn_protocols = vec![alpn.to_vec()];
        let name = ServerName::IpAddress(Ipv4Addr::LOCALHOST.into());
        tokio::time::timeout(BOUND, TlsConnector::from(Arc::new(config)).connect(name, tcp))
            .await
            .expect("the server neither completed nor refused the TLS handshake")
    }

    async fn http1(&self) -> TlsStream<TcpStream> {
        self.tls_from(Ipv4Addr::LOCALHOST, b"http/1.1").await.unwrap()
    }
}

/// A rustls client trusting exactly the server's (self-signed) certificate; aws-lc-rs provider.
fn connector(api: &RunningApi) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&api.cert_path).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// Small limits for tests; each test changes what it exercises.
fn limits() -> ConnectionLimits {
    ConnectionLimits {
        max_connections: 64,
        max_connections_per_address: 32,
        handshake_timeout_secs: 30,
        header_read_timeout_secs: 30,
        body_read_timeout_secs: 30,
        idle_timeout_secs: 30,
    }
}

/// Waits (at most [`BOUND`]) until the server closes the connection; what it sent before, and how long it took.
async fn until_closed(stream: &mut (impl AsyncRead + Unpin)) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((started + BOUND).into(), stream.read(&mut buf)).await {
            Err(_) => {
                panic!("the server kept the connection open for {BOUND:?}; it sent: {}", String::from_utf8_lossy(&got))
            }
            Ok(Ok(0)) | Ok(Err(_)) => return (got, started.elapsed()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Reads one HTTP/1.1 response (headers and a `Content-Length` body): (status, body).
async fn read_response(stream: &mut (impl AsyncRead + Unpin)) -> (u16, Vec<u8>) {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = tokio::time::timeout(BOUND, stream.read(&mut buf)).await.expect("no response").unwrap();
        assert!(n > 0, "connection closed before a response: {}", String::from_utf8_lossy(&data));
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
        .unwrap_or(0);
    while data.len() < head_end + length {
        let n = tokio::time::timeout(BOUND, stream.read(&mut buf)).await.expect("body not sent").unwrap();
        assert!(n > 0, "connection closed within the body");
        data.extend_from_slice(&buf[..n]);
    }
    (status, data[head_end..head_end + length].to_vec())
}

const GET_SERVICE_INSTANCE: &[u8] = b"GET /v8/ServiceInstance HTTP/1.1\r\nHost: localhost\r\n\r\n";

fn token_request_head(content_length: usize) -> String {
    format!(
        "POST /v8/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {content_length}\r\n\r\n"
    )
}

#[tokio::test]
async fn a_client_that_never_completes_the_tls_handshake_is_closed() {
    let s = Server::start(ConnectionLimits { handshake_timeout_secs: 1, ..limits() }).await;
    let mut silent = s.tcp_from(Ipv4Addr::LOCALHOST).await;
    let (sent, took) = until_closed(&mut silent).await;
    assert!(sent.is_empty(), "{sent:?}");
    assert!(took >= Duration::from_millis(900), "closed after {took:?}, before the handshake timeout");
    // Half a ClientHello does not extend it.
    let mut slow = s.tcp_from(Ipv4Addr::LOCALHOST).await;
    slow.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]).await.unwrap();
    until_closed(&mut slow).await;
    // A client that completes its handshake is served.
    let mut ok = s.http1().await;
    ok.write_all(GET_SERVICE_INSTANCE).await.unwrap();
    assert_eq!(read_response(&mut ok).await.0, 401);
}

#[tokio::test]
async fn request_headers_must_arrive_within_the_header_timeout() {
    let s = Server::start(ConnectionLimits { header_read_timeout_secs: 1, ..limits() }).await;
    // Half a request line, then nothing.
    let mut slow = s.http1().await;
    slow.write_all(b"GET /v8/Servi").await.unwrap();
    let (sent, took) = until_closed(&mut slow).await;
    let answer = String::from_utf8_lossy(&sent);
    assert!(sent.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");
    // hyper's header timeout also runs while a kept-alive HTTP/1.1 connection waits for its next request (checked
    // here because the idle timeout is 30 s in this test): so on HTTP/1.1 the effective idle limit is the smaller
    // of the two.
    let mut kept = s.http1().await;
    kept.write_all(GET_SERVICE_INSTANCE).await.unwrap();
    assert_eq!(read_response(&mut kept).await.0, 401);
    let (_, took) = until_closed(&mut kept).await;
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");
}

#[tokio::test]
async fn a_request_body_must_arrive_within_the_body_timeout() {
    let s = Server::start(ConnectionLimits { body_read_timeout_secs: 1, ..limits() }).await;
    // 10 of 100 announced bytes, then nothing: 408 in the v8 shape, and the connection is closed.
    let mut stalled = s.http1().await;
    stalled.write_all(token_request_head(100).as_bytes()).await.unwrap();
    stalled.write_all(b"grant_type").await.unwrap();
    let started = Instant::now();
    let (status, body) = read_response(&mut stalled).await;
    assert_eq!(status, 408, "{}", String::from_utf8_lossy(&body));
    assert!(started.elapsed() >= Duration::from_millis(900));
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["errorCode"], "Timeout", "{body}");
    assert_eq!(body["stackTrace"], Value::Null, "{body}");
    assert!(body["message"].as_str().unwrap().contains("within 1 s."), "{body}");
    until_closed(&mut stalled).await;

    // A client trickling one byte every 200 ms never stalls for long, but the deadline is for the whole body.
    let mut trickle = s.http1().await;
    trickle.write_all(token_request_head(100).as_bytes()).await.unwrap();
    let mut buf = [0u8; 1024];
    let mut answer = Vec::new();
    for _ in 0..100 {
        if trickle.write_all(b"x").await.is_err() {
            break;
        }
        match tokio::time::timeout(Duration::from_millis(200), trickle.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => {
                answer.extend_from_slice(&buf[..n]);
                break;
            }
            Ok(_) => break,
            Err(_) => {}
        }
    }
    assert!(answer.starts_with(b"HTTP/1.1 408"), "{}", String::from_utf8_lossy(&answer));

    // v3 gets its era's shape.
    let mut v3 = s.http1().await;
    v3.write_all(token_request_head(100).replace("/v8/", "/v3/").as_bytes()).await.unwrap();
    let (status, body) = read_response(&mut v3).await;
    assert_eq!(status, 408);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body.as_object().unwrap().keys().collect::<Vec<_>>(), ["message"], "{body}");
}

#[tokio::test]
async fn idle_connections_are_closed_but_not_while_a_request_is_in_flight() {
    let s = Server::start(ConnectionLimits { idle_timeout_secs: 1, ..limits() }).await;

    // HTTP/1.1 keep-alive: one request, then silence (header timeout 30 s, so the idle timeout is what acts).
    let mut kept = s.http1().await;
    kept.write_all(GET_SERVICE_INSTANCE).await.unwrap();
    assert_eq!(read_response(&mut kept).await.0, 401);
    let (sent, took) = until_closed(&mut kept).await;
    assert!(sent.is_empty(), "{}", String::from_utf8_lossy(&sent));
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");

    // A request in flight (its body half sent, then 3 idle timeouts of silence) keeps its connection.
    let form = format!("grant_type=password&username=x&password={}", "p".repeat(40));
    let mut busy = s.http1().await;
    busy.write_all(token_request_head(form.len()).as_bytes()).await.unwrap();
    busy.write_all(&form.as_bytes()[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    busy.write_all(&form.as_bytes()[10..]).await.unwrap();
    let (status, body) = read_response(&mut busy).await;
    assert_eq!(status, 400, "a wrong password, answered: {}", String::from_utf8_lossy(&body));
    // The connection was not even marked for closing (a graceful shutdown would have let the request finish, then
    // closed): it serves the next request, and is closed once idle again.
    busy.write_all(GET_SERVICE_INSTANCE).await.unwrap();
    assert_eq!(read_response(&mut busy).await.0, 401);
    until_closed(&mut busy).await;

    // HTTP/2 (ALPN h2): no header timeout applies there; the idle timeout closes the connection (GOAWAY).
    let tls = s.tls_from(Ipv4Addr::LOCALHOST, b"h2").await.unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut h2, conn) = h2::client::handshake(tls).await.unwrap();
    let conn = tokio::spawn(conn);
    let request = axum::http::Request::get(format!("{}/v8/ServiceInstance", s.api.base_url())).body(()).unwrap();
    let (response, _) = h2.send_request(request, true).unwrap();
    let response = tokio::time::timeout(BOUND, response).await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let started = Instant::now();
    let ended = tokio::time::timeout(BOUND, conn).await.expect("the idle HTTP/2 connection stayed open");
    assert!(ended.unwrap().is_ok(), "closed gracefully");
    assert!(started.elapsed() >= Duration::from_millis(900), "closed after {:?}", started.elapsed());
    drop(h2);
}

/// The finding: idle connections from one client used up the file descriptors and a legitimate logon timed out.
#[tokio::test]
async fn a_flood_from_one_address_hits_its_cap_and_other_clients_are_still_served() {
    const PER_ADDRESS: usize = 8;
    let s = Server::start(ConnectionLimits { max_connections_per_address: PER_ADDRESS, ..limits() }).await;
    let flooder = Ipv4Addr::LOCALHOST;
    // At the cap: half of them still in the TLS handshake (they count too), half idle after it.
    let mut held = Vec::new();
    let mut idle_tls = Vec::new();
    for _ in 0..PER_ADDRESS / 2 {
        held.push(s.tcp_from(flooder).await);
        idle_tls.push(s.tls_from(flooder, b"http/1.1").await.expect("under the cap"));
    }
    // Beyond it: every further connection from that address is closed at once, before any TLS.
    for i in 0..3 * PER_ADDRESS {
        let refused = s.tls_from(flooder, b"http/1.1").await;
        assert!(refused.is_err(), "connection {} over the cap was served", i + 1);
    }
    // Meanwhile another address logs on (a wrong password: 400 is the evidence of being served).
    let other = Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .local_address(IpAddr::from([127, 0, 0, 2]))
        .timeout(BOUND)
        .build()
        .unwrap();
    let r = other
        .post(format!("{}/v8/token", s.api.base_url()))
        .form(&[("grant_type", "password"), ("username", USER), ("password", "wrong")])
        .send()
        .await
        .expect("the logon from 127.0.0.2 was not served");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = other
        .post(format!("{}/v8/token", s.api.base_url()))
        .form(&[("grant_type", "password"), ("username", USER), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Closed connections free their slots.
    drop(held);
    drop(idle_tls);
    assert!(served_again(&s, flooder).await, "127.0.0.1 was not served again after closing its connections");
}

#[tokio::test]
async fn the_total_cap_holds_across_addresses_and_shutdown_closes_idle_connections() {
    let s = Server::start(ConnectionLimits { max_connections: 6, ..limits() }).await;
    let mut open = Vec::new();
    for last in [1, 1, 1, 2, 2, 2] {
        open.push(s.tls_from(Ipv4Addr::new(127, 0, 0, last), b"http/1.1").await.expect("under the cap"));
    }
    for last in [1, 3, 4] {
        assert!(s.tls_from(Ipv4Addr::new(127, 0, 0, last), b"http/1.1").await.is_err(), "127.0.0.{last} served");
    }
    open.pop();
    assert!(served_again(&s, Ipv4Addr::new(127, 0, 0, 3)).await, "a freed slot was not reused");

    // Idle connections do not hold up a shutdown: they are closed.
    let started = Instant::now();
    s.api.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(5), "shutdown took {:?}", started.elapsed());
    for mut conn in open {
        until_closed(&mut conn).await;
    }
}

/// Whether a request from `from` is served within a bounded number of attempts (the server frees a slot when it
/// notices the close, a moment after the client's).
async fn served_again(s: &Server, from: Ipv4Addr) -> bool {
    for _ in 0..50 {
        if let Ok(mut conn) = s.tls_from(from, b"http/1.1").await {
            conn.write_all(GET_SERVICE_INSTANCE).await.unwrap();
            return read_response(&mut conn).await.0 == 401;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn zero_limits_are_refused_with_the_field_named() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("catalog.db").display());
    let catalog = repo::catalog::Catalog::connect(&url).await.unwrap();
    let mut cfg = ApiConfig::listening_on(SocketAddr::from(([127, 0, 0, 1], 0)));
    cfg.limits.idle_timeout_secs = 0;
    match api::start(&cfg, AppState::new(catalog, None, dir.path())).await {
        Err(api::ServerError::Config(m)) => assert!(m.contains("idle_timeout_secs"), "{m}"),
        other => panic!("{other:?}"),
    }
}
