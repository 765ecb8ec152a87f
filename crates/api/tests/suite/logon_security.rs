//! Sign-in hardening over real HTTPS on loopback (issue 16): password guessing is throttled per account name and per
//! client address (state in the catalog, cleared by an administrator), new passwords have a minimum length, and a
//! reused refresh token revokes its whole logon. (The memory bound of concurrent logons is measured against a real
//! `vault365 serve` process: crates/vault365/tests/suite/logon_flood_cli.rs.)

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use api::store::{accounts, logon_throttle};
use api::{ApiConfig, AppState, RunningApi};
use argon2::password_hash::{PasswordHasher, SaltString};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use sqlx::Row;

const ALICE_PASSWORD: &str = "alice's long passphrase";
const BOB_PASSWORD: &str = "bob's long passphrase";

struct Server {
    api: RunningApi,
    state: AppState,
    client: Client,
    _dir: tempfile::TempDir,
}

impl Server {
    /// An API on a fresh SQLite catalog with accounts `alice` and `bob`.
    async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("catalog.db").display());
        let s = Server::node(&url, dir).await;
        accounts::add_user(s.state.pool(), "alice", ALICE_PASSWORD).await.unwrap();
        accounts::add_user(s.state.pool(), "bob", BOB_PASSWORD).await.unwrap();
        s
    }

    /// An API node on the catalog at `url` (its own connection pool, as another process would have).
    async fn node(url: &str, dir: tempfile::TempDir) -> Server {
        let catalog = repo::catalog::Catalog::connect(url).await.unwrap();
        let state = AppState::new(catalog, None, dir.path());
        let api =
            api::start(&ApiConfig::listening_on(SocketAddr::from(([127, 0, 0, 1], 0))), state.clone()).await.unwrap();
        Server { api, state, client: client_from(Ipv4Addr::LOCALHOST), _dir: dir }
    }

    /// A password logon from `client`: status, `Retry-After` (seconds) and body.
    async fn logon_from(&self, client: &Client, user: &str, password: &str) -> (StatusCode, Option<i64>, Value) {
        let r = client
            .post(format!("{}/v8/token", self.api.base_url()))
            .form(&[("grant_type", "password"), ("username", user), ("password", password)])
            .send()
            .await
            .unwrap();
        let status = r.status();
        let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap());
        (status, retry, r.json().await.unwrap())
    }

    async fn logon(&self, user: &str, password: &str) -> (StatusCode, Option<i64>, Value) {
        self.logon_from(&self.client, user, password).await
    }

    async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let r = self.client.post(format!("{}{path}", self.api.base_url())).form(form).send().await.unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    async fn get_status(&self, path: &str, token: &str) -> StatusCode {
        let r = self.client.get(format!("{}{path}", self.api.base_url())).bearer_auth(token).send().await.unwrap();
        r.status()
    }

    /// `(failures, locked_until)` of a throttle subject, from the catalog table.
    async fn failure_row(&self, subject: &str) -> Option<(i64, i64)> {
        sqlx::query("SELECT failures, locked_until FROM api_logon_failures WHERE subject = $1")
            .bind(subject)
            .fetch_optional(self.state.pool())
            .await
            .unwrap()
            .map(|r| (r.get("failures"), r.get("locked_until")))
    }
}

/// A client whose connections leave from `local` (any 127.x.y.z is a loopback address of its own on Linux), so a
/// test can act as several client addresses.
fn client_from(local: Ipv4Addr) -> Client {
    Client::builder().tls_danger_accept_invalid_certs(true).local_address(IpAddr::V4(local)).build().unwrap()
}

fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// A patient guesser: waits out each lock (`Retry-After`) and guesses again, until a lock of at least `min_secs`
/// is set, so what the test checks next happens well inside the lock. Returns the `Retry-After` values seen.
async fn guess_until_locked_for(
    s: &Server,
    client: &Client,
    mut name: impl FnMut() -> String,
    min_secs: i64,
) -> Vec<i64> {
    let mut seen = Vec::new();
    for _ in 0..50 {
        let (status, retry, body) = s.logon_from(client, &name(), "yet another wrong password").await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            let retry = retry.expect("Retry-After");
            seen.push(retry);
            if retry >= min_secs {
                return seen;
            }
            tokio::time::sleep(std::time::Duration::from_secs(retry as u64)).await;
        } else {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        }
    }
    panic!("no lock of {min_secs} s after 50 guesses: {seen:?}");
}

/// The attack: 200 wrong passwords in a row, then the right one. Before the fix every guess was checked and the
/// right password then logged on at once. Now the account is locked after a few failures (429, `Retry-After`, no
/// password check), the lock is in the catalog, and only an administrator's unlock (or time) lets the right password
/// through again.
#[tokio::test]
async fn password_guessing_locks_the_account_until_unlocked() {
    let s = Server::start().await;
    let mut refused = 0;
    let mut checked = 0;
    for i in 0..200 {
        let (status, retry, body) = s.logon("alice", &format!("guess number {i}")).await;
        match status {
            StatusCode::BAD_REQUEST => {
                assert_eq!(body["error"], "invalid_grant", "{body}");
                checked += 1;
            }
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(body["error"], "temporarily_locked", "{body}");
                let message = body["message"].as_str().unwrap();
                assert!(message.contains("account is temporarily locked"), "{message}");
                assert!(retry.is_some_and(|r| r >= 1), "429 without Retry-After: {body}");
                refused += 1;
            }
            other => panic!("guess {i}: {other} {body}"),
        }
    }
    // The first failures are checked; then the doubling lock refuses nearly everything (each lock outlasts the
    // quick refusals, so only a few more guesses get checked at all).
    assert!(checked >= logon_throttle::ACCOUNT_FREE_FAILURES, "{checked} checked");
    assert!(checked <= 12, "{checked} guesses were checked, {refused} refused");

    // Waiting out each lock only doubles the next one.
    let seen = guess_until_locked_for(&s, &s.client, || "alice".into(), 8).await;
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "locks shrank: {seen:?}");
    let (status, retry, body) = s.logon("alice", ALICE_PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the right password got through a lock: {body}");
    assert!(retry.is_some_and(|r| r >= 1));
    let (failures, locked_until) = s.failure_row("user:alice").await.expect("a lockout row for alice");
    assert!(failures > checked, "{failures}");
    assert!(locked_until > now_micros() + 5_000_000, "{locked_until}");
    // The name is matched in any case, like the account itself.
    assert_eq!(s.logon("ALICE", ALICE_PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS);
    // Another account is not affected by alice's lock (the address is not locked yet).
    assert_eq!(s.logon("bob", BOB_PASSWORD).await.0, StatusCode::OK);

    // The administrator clears it (`vault365 user unlock --name alice`); the right password works and a success
    // forgets the failures.
    assert!(logon_throttle::unlock_account(s.state.pool(), "Alice").await.unwrap());
    let (status, _, body) = s.logon("alice", ALICE_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["userName"], "alice");
    assert_eq!(s.failure_row("user:alice").await, None);
    assert!(!logon_throttle::unlock_account(s.state.pool(), "alice").await.unwrap());
}

/// Guessing across many names from one address locks the address: then even a second account with its right
/// password is refused from there, while another address is not affected. Unknown names count like known ones and
/// their 429 reads the same (a lock reveals nothing about which names exist).
#[tokio::test]
async fn an_address_lockout_blocks_every_account_from_that_address() {
    let s = Server::start().await;
    let attacker = client_from(Ipv4Addr::new(127, 0, 0, 2));
    let mut locked_at = None;
    // Each name is tried once, so no account lock interferes; the address limit is far below 200.
    for i in 0..200 {
        let (status, retry, body) = s.logon_from(&attacker, &format!("user{i}"), "a wrong password").await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert!(body["message"].as_str().unwrap().contains("from this address"), "{body}");
            assert!(retry.is_some_and(|r| r >= 1));
            locked_at = Some(i);
            break;
        }
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    assert_eq!(locked_at, Some(logon_throttle::ADDRESS_FREE_FAILURES));
    let (failures, _) = s.failure_row("addr:127.0.0.2").await.expect("a lockout row for the address");
    assert_eq!(failures, logon_throttle::ADDRESS_FREE_FAILURES);
    let mut n = 1000;
    guess_until_locked_for(
        &s,
        &attacker,
        || {
            n += 1;
            format!("user{n}")
        },
        8,
    )
    .await;
    let (_, locked_until) = s.failure_row("addr:127.0.0.2").await.unwrap();
    assert!(locked_until > now_micros() + 5_000_000);

    // bob's right password, from the locked address: refused without a check.
    let (status, _, body) = s.logon_from(&attacker, "bob", BOB_PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body["message"].as_str().unwrap().contains("from this address"), "{body}");
    // From another address bob logs on.
    assert_eq!(s.logon("bob", BOB_PASSWORD).await.0, StatusCode::OK);

    // `vault365 user unlock --address 127.0.0.2`.
    assert!(logon_throttle::unlock_address(s.state.pool(), "127.0.0.2".parse().unwrap()).await.unwrap());
    let (status, _, body) = s.logon_from(&attacker, "bob", BOB_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// New passwords need 12 characters (the error says so); an account whose password was set before the rule still
/// logs on with it.
#[tokio::test]
async fn short_new_passwords_are_refused_but_old_ones_still_log_on() {
    let s = Server::start().await;
    let pool = s.state.pool();
    let err = accounts::add_user(pool, "carol", "eleven char").await.unwrap_err();
    assert!(matches!(err, accounts::AccountError::PasswordTooShort(11)), "{err:?}");
    assert!(err.to_string().contains("at least 12 characters"), "{err}");
    assert!(accounts::find_user(pool, "carol").await.unwrap().is_none());
    // Characters, not bytes: 12 two-byte characters are enough, 11 are not.
    accounts::add_user(pool, "dave", &"ü".repeat(12)).await.unwrap();
    let err = accounts::set_password(pool, "dave", &"ü".repeat(11)).await.unwrap_err();
    assert!(err.to_string().contains("at least 12 characters"), "{err}");

    // A hash written by an earlier build for a 5-character password.
    let salt = SaltString::encode_b64(b"an old salt 1234").unwrap();
    let old = argon2::Argon2::default().hash_password(b"short", &salt).unwrap().to_string();
    sqlx::query("UPDATE api_users SET password_hash = $1 WHERE name_key = 'bob'")
        .bind(old)
        .execute(pool)
        .await
        .unwrap();
    let (status, _, body) = s.logon("bob", "short").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(s.logon("bob", "shorT").await.0, StatusCode::BAD_REQUEST);
}

/// Refresh-token rotation with reuse detection: after refresh A → B, presenting A again is refused and revokes the
/// whole logon, so B's access and refresh tokens (perhaps a thief's) stop working too.
#[tokio::test]
async fn reusing_a_refresh_token_revokes_its_whole_logon() {
    let s = Server::start().await;
    let (status, _, first) = s.logon("alice", ALICE_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let refresh1 = first["refresh_token"].as_str().unwrap();

    let (status, second) =
        s.post_form("/v8/token", &[("grant_type", "refresh_token"), ("refresh_token", refresh1)]).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let (access2, refresh2) = (second["access_token"].as_str().unwrap(), second["refresh_token"].as_str().unwrap());
    assert_eq!(s.get_status("/v8/ServiceInstance", access2).await, StatusCode::NOT_FOUND);

    // Reuse of the consumed token.
    let (status, body) =
        s.post_form("/v8/token", &[("grant_type", "refresh_token"), ("refresh_token", refresh1)]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{body}");
    // Pair 2 is revoked with it.
    assert_eq!(s.get_status("/v8/ServiceInstance", access2).await, StatusCode::UNAUTHORIZED);
    let (status, body) =
        s.post_form("/v8/token", &[("grant_type", "refresh_token"), ("refresh_token", refresh2)]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{body}");

    // Other logons of the same account are untouched, and garbage tokens revoke nothing.
    let (_, _, other) = s.logon("alice", ALICE_PASSWORD).await;
    let other_access = other["access_token"].as_str().unwrap();
    let (status, _) = s.post_form("/v8/token", &[("grant_type", "refresh_token"), ("refresh_token", "garbage")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(s.get_status("/v8/ServiceInstance", other_access).await, StatusCode::NOT_FOUND);
}

/// Two API nodes on one PostgreSQL catalog (a cluster): guesses on one node lock the account on the other, and an
/// unlock on either clears it for both. Skipped without `VAULT365_TEST_POSTGRES`.
#[tokio::test]
async fn the_throttle_is_shared_by_the_nodes_of_a_cluster() {
    let Some(base) = test_support::test_server_var("VAULT365_TEST_POSTGRES", "shared logon throttle") else {
        return;
    };
    let url = test_support::fresh_postgres_database(&base, "api_throttle").await;
    let a = Server::node(&url, tempfile::tempdir().unwrap()).await;
    let b = Server::node(&url, tempfile::tempdir().unwrap()).await;
    accounts::add_user(a.state.pool(), "alice", ALICE_PASSWORD).await.unwrap();
    assert_eq!(b.logon("alice", ALICE_PASSWORD).await.0, StatusCode::OK);

    guess_until_locked_for(&a, &a.client, || "alice".into(), 4).await;
    let (status, retry, body) = b.logon("alice", ALICE_PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(retry.is_some_and(|r| r >= 2), "{retry:?}");
    assert!(b.failure_row("user:alice").await.is_some_and(|(failures, _)| failures > 5));

    assert!(logon_throttle::unlock_account(b.state.pool(), "alice").await.unwrap());
    assert_eq!(a.logon("alice", ALICE_PASSWORD).await.0, StatusCode::OK);
}
