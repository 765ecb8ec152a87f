//! Email settings security over real HTTPS (issue 16): a stored secret never follows a PUT that moves its destination
//! — the attacker's SMTP server is a real aiosmtpd that would accept the password, the attacker's token authority
//! and Graph a TCP listener that records every connection — and no mail credential travels unencrypted unless the
//! server's configuration allows it (`allow_plaintext_mail_credentials`).
//!
//! The settings are shared by every account (there are no roles yet), so the attacker here is simply the second
//! account (`other_token`).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use api::ApiConfig;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{TestServer, DEFAULT_SEED};
use test_support::smtp::{Options, Security, SmtpServer};

/// Restarts the API of `s` on the same database with `allow_plaintext_mail_credentials` as given: the tenant
/// emulator speaks plain HTTP and aiosmtpd's plain mode has no TLS, so tests that use them as trusted endpoints turn
/// it on. Access tokens stay valid (they live in the database).
pub async fn restart_allowing_plaintext_mail(s: &mut TestServer, allow: bool) {
    let mut cfg = ApiConfig::listening_on(SocketAddr::from(([127, 0, 0, 1], 0)));
    cfg.allow_plaintext_mail_credentials = allow;
    let api = api::start(&cfg, s.state.clone()).await.unwrap();
    let old = std::mem::replace(&mut s.api, api);
    old.shutdown().await;
    s.base = s.api.base_url();
    s.state.allow_plaintext_mail_credentials = allow;
}

/// `PUT /v8/VeodEmailSettings` as the holder of `token`.
async fn put(s: &TestServer, token: &str, body: Value) -> (StatusCode, Value) {
    s.call(Method::PUT, "/v8/VeodEmailSettings", Some(token), Some(body.to_string().as_bytes())).await
}

/// `POST /v8/VeodEmailSettings/SendTestEmail` as the holder of `token`.
async fn test_email(s: &TestServer, token: &str) -> (StatusCode, Value) {
    s.post("/v8/VeodEmailSettings/SendTestEmail", Some(token), json!({"email": "t@contoso.com"})).await
}

/// Asserts a 400 whose message names `field`.
fn assert_refused(got: (StatusCode, Value), field: &str) {
    let (st, b) = got;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    let message = b["message"].as_str().unwrap_or_default();
    assert!(message.contains(&format!("'{field}'")), "the message does not name '{field}': {b}");
}

fn mailer() -> Option<(String, String)> {
    Some(("mailer".to_string(), "hunter2-secret".to_string()))
}

/// The attack of issue 16 against SMTP, with the server's default configuration: move the stored settings to another
/// server and ask for a test email. The password stays behind (the send is refused naming `userPassword`, the other
/// server is never contacted); a downgrade to plain text is refused at PUT time naming `connectionSecurity`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_smtp_password_does_not_follow_a_new_server() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let legit = SmtpServer::start_with(Options { security: Security::StartTls, auth: mailer(), ..Options::default() });
    // The attacker's server accepts exactly this user and password: an AUTH with them would be logged as accepted.
    let attacker =
        SmtpServer::start_with(Options { security: Security::StartTls, auth: mailer(), ..Options::default() });

    let (st, b) = put(
        &s,
        &s.token,
        json!({"enableNotification": true, "server": "localhost", "port": legit.port, "connectionSecurity": "StartTls",
               "acceptInvalidCertificates": true, "useAuthentication": true, "username": "mailer",
               "userPassword": "hunter2-secret", "from": "backup@contoso.com"}),
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
    let (st, b) = test_email(&s, &s.token).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
    assert_eq!(legit.auth_attempts(), vec![("mailer".to_string(), true)]);

    // Another account points the settings at its own server (omitted fields keep their values; the attacker's
    // certificate is valid for the name, as a real attacker's would be)…
    let (st, b) = put(&s, &s.other_token, json!({"server": "localhost", "port": attacker.port})).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
    // …and asks for a test email: the password was dropped with the old destination.
    assert_refused(test_email(&s, &s.other_token).await, "userPassword");
    assert_eq!(attacker.auth_attempts(), vec![], "the password reached the new server");
    assert_eq!(attacker.connections(), 0);

    // The owner enters the password again for the right server; sending the stored values again changes nothing.
    let (st, b) =
        put(&s, &s.token, json!({"server": "localhost", "port": legit.port, "userPassword": "hunter2-secret"})).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
    let (st, b) = put(
        &s,
        &s.token,
        json!({"server": "LOCALHOST", "port": legit.port, "connectionSecurity": "StartTls", "username": "mailer"}),
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
    let (st, b) = test_email(&s, &s.token).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
    assert_eq!(legit.auth_attempts().len(), 2);
    assert_eq!(legit.count(), 2);

    // The attack as reported: another host, plain text. Refused at PUT time (AUTH would cross the network
    // unencrypted), nothing stored: the next test email still goes to the right server.
    let plain = SmtpServer::start_with(Options { auth: mailer(), ..Options::default() });
    assert_refused(
        put(&s, &s.other_token, json!({"server": "127.0.0.1", "port": plain.port, "connectionSecurity": "None"})).await,
        "connectionSecurity",
    );
    let (_, g) = s.get("/v8/VeodEmailSettings", Some(&s.token)).await;
    assert_eq!(g["port"], legit.port, "{g}");
    let (st, b) = test_email(&s, &s.token).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
    assert_eq!(legit.count(), 3);
    assert_eq!((plain.connections(), plain.auth_attempts()), (0, vec![]));
}

/// SMTP AUTH without TLS only with `allow_plaintext_mail_credentials` (a trusted relay): allowed, a move of the
/// settings still drops the password; without the option the same stored settings are refused at send time and at
/// PUT time, naming `connectionSecurity`, before any connection is made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_smtp_auth_needs_the_server_option() {
    let mut s = TestServer::start(DEFAULT_SEED).await;
    let relay = SmtpServer::start_with(Options { auth: mailer(), ..Options::default() });
    let attacker = SmtpServer::start_with(Options { auth: mailer(), ..Options::default() });
    let plain_auth = json!({"enableNotification": true, "server": "127.0.0.1", "port": relay.port,
        "connectionSecurity": "None", "useAuthentication": true, "username": "mailer", "userPassword": "hunter2-secret",
        "from": "backup@contoso.com"});
    assert_refused(put(&s, &s.token, plain_auth.clone()).await, "connectionSecurity");

    restart_allowing_plaintext_mail(&mut s, true).await;
    let (st, b) = put(&s, &s.token, plain_auth).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
    let (st, b) = test_email(&s, &s.token).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
    assert_eq!(relay.auth_attempts(), vec![("mailer".to_string(), true)]);
    // The reported request, now allowed by the configuration: the stored password does not go with it.
    let (st, b) =
        put(&s, &s.other_token, json!({"server": "127.0.0.1", "port": attacker.port, "connectionSecurity": "None"}))
            .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
    assert_refused(test_email(&s, &s.other_token).await, "userPassword");
    assert_eq!((attacker.connections(), attacker.auth_attempts()), (0, vec![]));
    let (st, b) = put(&s, &s.token, json!({"port": relay.port, "userPassword": "hunter2-secret"})).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");

    // The option turned off again: the stored settings are refused before any connection.
    restart_allowing_plaintext_mail(&mut s, false).await;
    let connections = relay.connections();
    assert_refused(test_email(&s, &s.token).await, "connectionSecurity");
    assert_refused(put(&s, &s.token, json!({"from": "backup@contoso.com"})).await, "connectionSecurity");
    assert_eq!(relay.connections(), connections);
    // Without AUTH a plain relay needs no option.
    let (st, b) = put(&s, &s.token, json!({"useAuthentication": false})).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
}

/// A TCP listener standing in for an attacker's token authority or Graph: counts connections and closes them.
struct Trap {
    url: String,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Trap {
    async fn start() -> Trap {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                drop(conn);
            }
        });
        Trap { url, connections, task }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Trap {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The same attack against Microsoft 365 mail: moving `authorityUrl` (where the client secret goes) or `mailApiUrl`
/// (where the bearer token goes) drops the stored `clientSecret`; the new endpoint is never contacted. An `http://`
/// endpoint needs the server option (the emulator is plain HTTP on loopback).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_client_secret_does_not_follow_a_new_authority() {
    let mut s = TestServer::start(DEFAULT_SEED).await;
    let (tenant, app) = {
        let st = s.tenant.emu.emu.state();
        (st.tenant.id.clone(), emulator::seed::default_app(&st))
    };
    let secret = app.secret.clone().unwrap();
    let base = s.tenant.emu.base_url();
    let m365 = json!({"enableNotification": true, "authenticationType": "Microsoft365", "tenantId": tenant,
        "clientId": app.client_id, "clientSecret": secret, "userId": s.changes.upn,
        "mailApiUrl": format!("{base}/v1.0"), "authorityUrl": base});
    assert_refused(put(&s, &s.token, m365.clone()).await, "authorityUrl");

    restart_allowing_plaintext_mail(&mut s, true).await;
    let (st, b) = put(&s, &s.token, m365.clone()).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
    let (st, b) = test_email(&s, &s.token).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");

    let trap = Trap::start().await;
    for (field, attacker_url) in [("authorityUrl", trap.url.clone()), ("mailApiUrl", format!("{}/v1.0", trap.url))] {
        let (st, b) = put(&s, &s.other_token, json!({ field: attacker_url })).await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{field}: {b}");
        assert_refused(test_email(&s, &s.other_token).await, "clientSecret");
        assert_eq!(trap.connections(), 0, "{field}: the new endpoint was contacted");
        // The owner restores the endpoint with the secret; the test email goes through again.
        let (st, b) = put(&s, &s.token, json!({ field: m365[field], "clientSecret": secret })).await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{field}: {b}");
        let (st, b) = test_email(&s, &s.token).await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{field}: {b}");
    }

    // Without the option the stored http:// endpoints are refused at send time, and a new one at PUT time.
    restart_allowing_plaintext_mail(&mut s, false).await;
    assert_refused(test_email(&s, &s.token).await, "authorityUrl");
    assert_refused(
        put(&s, &s.token, json!({"authorityUrl": "https://login.microsoftonline.com", "mailApiUrl": trap.url})).await,
        "mailApiUrl",
    );
    assert_eq!(trap.connections(), 0);
}
