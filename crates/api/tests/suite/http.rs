//! The API core over real HTTPS on 127.0.0.1:0: tokens, auth, paths, versions, error shapes, TLS-only, body limit,
//! Swagger; plus the dialect against every request body of the vendor documentation seeds.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use api::store::accounts;
use api::{ApiConfig, AppState, RunningApi};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const USER: &str = "DOMAIN\\admin";
const PASSWORD: &str = "s3cret pa$$ phrase";

struct Harness {
    api: RunningApi,
    client: Client,
    _dir: tempfile::TempDir,
}

impl Harness {
    async fn start() -> Harness {
        Harness::start_with(|c, s| (c, s)).await
    }

    async fn start_with(tune: impl FnOnce(ApiConfig, AppState) -> (ApiConfig, AppState)) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let (cfg, state) = state_in(dir.path()).await;
        accounts::add_user(state.pool(), USER, PASSWORD).await.unwrap();
        let (cfg, state) = tune(cfg, state);
        let api = api::start(&cfg, state).await.unwrap();
        // What real clients do with the vendor's self-signed certificates.
        let client = Client::builder().tls_danger_accept_invalid_certs(true).build().unwrap();
        Harness { api, client, _dir: dir }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.api.base_url(), path)
    }

    async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let r = self.client.post(self.url(path)).form(form).send().await.unwrap();
        read(r).await
    }

    async fn token(&self, version: u8) -> Value {
        let (s, body) = self
            .post_form(
                &format!("/v{version}/token"),
                &[("grant_type", "password"), ("username", USER), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        body
    }

    async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut rq = self.client.get(self.url(path));
        if let Some(t) = token {
            rq = rq.bearer_auth(t);
        }
        read(rq.send().await.unwrap()).await
    }
}

async fn state_in(dir: &Path) -> (ApiConfig, AppState) {
    let url = format!("sqlite://{}?mode=rwc", dir.join("catalog.db").display());
    let catalog = repo::catalog::Catalog::connect(&url).await.unwrap();
    let cfg = ApiConfig::listening_on(SocketAddr::from(([127, 0, 0, 1], 0)));
    (cfg, AppState::new(catalog, None, dir))
}

async fn read(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
    let bytes = r.bytes().await.unwrap();
    if bytes.is_empty() {
        return (status, Value::Null);
    }
    let v: Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("non-JSON body ({e}, content-type {ct:?}): {}", String::from_utf8_lossy(&bytes)));
    assert!(ct.as_deref().unwrap_or("").starts_with("application/json"), "content type {ct:?}");
    (status, v)
}

#[tokio::test]
async fn password_grant_form_and_json() {
    let h = Harness::start().await;
    let t = h.token(6).await;
    assert_eq!(t["token_type"], "bearer");
    assert_eq!(t["expires_in"], 3600);
    assert_eq!(t["userName"], USER);
    let access = t["access_token"].as_str().unwrap();
    assert!(access.len() >= 40);
    assert_ne!(t["access_token"], t["refresh_token"]);
    let issued = chrono::DateTime::parse_from_rfc3339(t[".issued"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(t[".expires"].as_str().unwrap()).unwrap();
    assert_eq!((expires - issued).num_seconds(), 3600);

    // JSON body, names in other cases, boolean antiforgery flag; the user name is case-insensitive.
    let r = h
        .client
        .post(h.url("/v8/token"))
        .json(&json!({"Grant_Type": "password", "UserName": "domain\\ADMIN", "password": PASSWORD,
                      "disable_antiforgery_token": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["cache-control"], "no-cache, no-store");
    let (s, t8) = read(r).await;
    assert_eq!(s, StatusCode::OK, "{t8}");
    assert_eq!(t8["userName"], USER);

    // grant_type omitted (default password) and `refresh_token=''` ignored, as a v6 script sends it.
    let (s, t5) = h.post_form("/v5/Token", &[("username", USER), ("password", PASSWORD), ("refresh_token", "")]).await;
    assert_eq!(s, StatusCode::OK, "{t5}");
    // v2–v5: OWIN's RFC 1123 dates.
    assert!(chrono::DateTime::parse_from_rfc2822(t5[".expires"].as_str().unwrap()).is_ok(), "{t5}");

    // The token authenticates: an unknown path under a served version is 404 with it, 401 without.
    let (s, _) = h.get("/v6/ServiceInstance", Some(access)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = h.get("/v6/ServiceInstance", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    h.api.shutdown().await;
}

#[tokio::test]
async fn bad_credentials_and_requests() {
    let h = Harness::start().await;
    for (form, error) in [
        (vec![("grant_type", "password"), ("username", USER), ("password", "wrong")], "invalid_grant"),
        (vec![("grant_type", "password"), ("username", "nobody"), ("password", PASSWORD)], "invalid_grant"),
        (vec![("grant_type", "password"), ("username", USER)], "invalid_request"),
        (vec![("grant_type", "refresh_token")], "invalid_request"),
        (vec![("grant_type", "refresh_token"), ("refresh_token", "garbage")], "invalid_grant"),
        (vec![("grant_type", "operator"), ("client_id", "x"), ("assertion", "y")], "unsupported_grant_type"),
    ] {
        let (s, body) = h.post_form("/v7/token", &form).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{form:?}: {body}");
        assert_eq!(body["error"], error, "{form:?}: {body}");
        assert!(body["error_description"].as_str().is_some_and(|d| !d.is_empty()));
        assert_eq!(body["message"], body["error_description"]);
    }
    // Malformed JSON: 400, telling where.
    let r = h
        .client
        .post(h.url("/v8/token"))
        .header("content-type", "application/json")
        .body("{\"username\": \"a\",\n \"password\" \"b\"}")
        .send()
        .await
        .unwrap();
    let (s, body) = read(r).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("line 2, column 13"), "{body}");
}

#[tokio::test]
async fn refresh_rotates_and_logout_revokes() {
    let h = Harness::start().await;
    let t = h.token(7).await;
    let (access1, refresh1) = (t["access_token"].as_str().unwrap(), t["refresh_token"].as_str().unwrap());

    let (s, t2) = h.post_form("/v7/token", &[("grant_type", "refresh_token"), ("refresh_token", refresh1)]).await;
    assert_eq!(s, StatusCode::OK, "{t2}");
    assert_eq!(t2["userName"], USER);
    let (access2, refresh2) = (t2["access_token"].as_str().unwrap(), t2["refresh_token"].as_str().unwrap());
    assert_ne!(access1, access2);
    assert_ne!(refresh1, refresh2);
    // The old access token stays valid until it expires.
    assert_eq!(h.get("/v7/ServiceInstance", Some(access1)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(h.get("/v7/ServiceInstance", Some(access2)).await.0, StatusCode::NOT_FOUND);
    // (Presenting refresh1 again is a reuse: it revokes the whole logon; see logon_security.rs.)

    // v7 logout: 200; the whole logon (both access tokens and the refresh tokens) is revoked.
    let r = h.client.post(h.url("/v7/token/logout")).bearer_auth(access2).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(h.get("/v7/ServiceInstance", Some(access2)).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(h.get("/v7/ServiceInstance", Some(access1)).await.0, StatusCode::UNAUTHORIZED);
    for spent in [refresh1, refresh2] {
        let (s, body) = h.post_form("/v7/token", &[("grant_type", "refresh_token"), ("refresh_token", spent)]).await;
        assert_eq!((s, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    }

    // v8 logout: 204, and another logon is unaffected by it.
    let a = h.token(8).await;
    let b = h.token(8).await;
    let r =
        h.client.post(h.url("/v8/token/logout")).bearer_auth(a["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(h.get("/v8/ServiceInstance", a["access_token"].as_str()).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(h.get("/v8/ServiceInstance", b["access_token"].as_str()).await.0, StatusCode::NOT_FOUND);
    // Logout itself needs a valid token.
    let r = h.client.post(h.url("/v8/token/logout")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unauthenticated_and_expired_tokens() {
    let h = Harness::start_with(|c, s| {
        let tokens = api::state::TokenPolicy { access_ttl: chrono::Duration::seconds(1), ..Default::default() };
        (c, s.with_token_policy(tokens))
    })
    .await;
    let t = h.token(6).await;
    assert_eq!(t["expires_in"], 1);
    let access = t["access_token"].as_str().unwrap().to_string();
    assert_eq!(h.get("/v6/ServiceInstance", Some(&access)).await.0, StatusCode::NOT_FOUND);
    for bad in ["garbage", "", &"x".repeat(2000)] {
        let (s, body) = h.get("/v6/ServiceInstance", Some(bad)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{bad}");
        assert_eq!(body, json!({"message": "Authorization has been denied for this request."}));
    }
    let r = h
        .client
        .get(h.url("/v6/ServiceInstance"))
        .header("authorization", format!("Basic {access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(h.get("/v6/ServiceInstance", Some(&access)).await.0, StatusCode::UNAUTHORIZED);
    // The refresh token outlives the access token.
    let (s, _) = h
        .post_form(
            "/v6/token",
            &[("grant_type", "refresh_token"), ("refresh_token", t["refresh_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn paths_are_case_insensitive_and_versions_checked() {
    let h = Harness::start().await;
    for path in ["/V6/TOKEN", "/v6/token/", "/v6/Token//"] {
        let (s, body) = h.post_form(path, &[("username", USER), ("password", PASSWORD)]).await;
        assert_eq!(s, StatusCode::OK, "{path}: {body}");
    }
    let t = h.token(8).await;
    let r = h
        .client
        .post(h.url("/V8/Token/LOGOUT/"))
        .bearer_auth(t["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    // Unknown versions and paths outside any version: 404 JSON, before any authentication.
    for path in ["/v1/token", "/v9/token", "/v10/Organizations", "/api/v6/token", "/vX"] {
        let (s, body) = h.post_form(path, &[("username", USER), ("password", PASSWORD)]).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        assert!(body["message"].as_str().unwrap().contains("No HTTP resource"), "{path}: {body}");
    }
}

#[tokio::test]
async fn error_shapes_per_era() {
    let h = Harness::start().await;
    let denied = "Authorization has been denied for this request.";
    for v in 2..=6 {
        assert_eq!(h.get(&format!("/v{v}/RestoreSessions"), None).await.1, json!({"message": denied}), "v{v}");
    }
    assert_eq!(h.get("/v7/RestoreSessions", None).await.1, json!({"message": denied, "errorCode": null}));
    assert_eq!(
        h.get("/v8/RestoreSessions", None).await.1,
        json!({"message": denied, "errorCode": null, "stackTrace": null})
    );

    let t = h.token(8).await;
    let access = t["access_token"].as_str();
    let (s, body) = h.get("/v8/NoSuchThing", access).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(body["errorCode"], "ResourceNotFound");
    assert!(body.as_object().unwrap().contains_key("stackTrace"));
    let (_, body) = h.get("/v7/NoSuchThing", access).await;
    assert_eq!(body["errorCode"], Value::Null, "v7 only knows ProxyOffline");
    let (_, body) = h.get("/v5/NoSuchThing", access).await;
    assert_eq!(body.as_object().unwrap().keys().collect::<Vec<_>>(), ["message"]);

    // axum's own 405 becomes a JSON error in the era's shape.
    let (s, body) = h.get("/v8/token", None).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["message"], "The requested resource does not support http method 'GET'.");
    assert_eq!(body["stackTrace"], Value::Null);
}

#[tokio::test]
async fn body_limit() {
    let h = Harness::start_with(|mut c, s| {
        c.max_body_bytes = 1024;
        (c, s)
    })
    .await;
    let big = "x".repeat(4096);
    let (s, body) = h.post_form("/v8/token", &[("username", USER), ("password", &big)]).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body["message"].as_str().unwrap().contains("too large"), "{body}");
    assert!(body.as_object().unwrap().contains_key("stackTrace"));
    // Under the limit still works.
    let (s, _) = h.post_form("/v8/token", &[("username", USER), ("password", PASSWORD)]).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn plain_http_is_not_served() {
    let h = Harness::start().await;
    let mut tcp = tokio::net::TcpStream::connect(h.api.addr).await.unwrap();
    tcp.write_all(b"GET /v6/token HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut buf)).await.expect("connection closed");
    assert!(!buf.starts_with(b"HTTP/"), "plain HTTP got an HTTP answer: {}", String::from_utf8_lossy(&buf));
    let r = Client::new().get(format!("http://{}/v6/token", h.api.addr)).send().await;
    assert!(r.is_err(), "plain HTTP must fail");
}

#[tokio::test]
async fn certificate_is_generated_once_and_valid_for_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, state) = state_in(dir.path()).await;
    let api1 = api::start(&cfg, state.clone()).await.unwrap();
    let pem = std::fs::read(&api1.cert_path).unwrap();
    assert_eq!(api1.cert_path, dir.path().join("tls").join("cert.pem"));
    // A client that trusts exactly this certificate accepts the server (SAN 127.0.0.1).
    let strict = Client::builder().tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()]).build().unwrap();
    let r = strict.get(format!("{}/v6/ServiceInstance", api1.base_url())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // A client with only the public roots rejects it.
    assert!(Client::new().get(format!("{}/v6/ServiceInstance", api1.base_url())).send().await.is_err());
    api1.shutdown().await;
    let api2 = api::start(&cfg, state).await.unwrap();
    assert_eq!(std::fs::read(&api2.cert_path).unwrap(), pem, "the persisted certificate is reused");
    api2.shutdown().await;
}

#[tokio::test]
async fn configured_certificate_pair() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cfg, state) = state_in(dir.path()).await;
    let (cert, key) =
        api::server::tls::ensure_self_signed(&dir.path().join("mine"), &["backup.example".into()]).unwrap();
    cfg.tls_cert = Some(cert.clone());
    cfg.tls_key = Some(key);
    let api = api::start(&cfg, state.clone()).await.unwrap();
    assert_eq!(api.cert_path, cert);
    assert!(!dir.path().join("tls").exists(), "no generated pair when one is configured");
    api.shutdown().await;
    cfg.tls_key = None;
    assert!(matches!(api::start(&cfg, state.clone()).await, Err(api::ServerError::Tls(_))));
    cfg.tls_key = Some(dir.path().join("missing.pem"));
    assert!(api::start(&cfg, state).await.is_err());
}

#[tokio::test]
async fn swagger_is_served() {
    let h = Harness::start().await;
    let r = h.client.get(h.url("/swagger/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("swagger-ui"));
    let (s, doc) = h.get("/swagger/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["paths"]["/{version}/token"]["post"].is_object(), "{doc}");
    assert!(doc["paths"]["/{version}/token/logout"]["post"].is_object());
    assert!(doc["components"]["schemas"]["OAuthTokenResponse"].is_object());
    let no_redirect = Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirect.get(h.url("/swagger/ui/index")).send().await.unwrap();
    assert!(r.status().is_redirection());
    assert_eq!(r.headers()["location"], "/swagger/");
}

#[tokio::test]
async fn accounts_reject_duplicates_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let (_, state) = state_in(dir.path()).await;
    let pool = state.pool();
    const PW: &str = "first password";
    const NEW: &str = "second password";
    let u = accounts::add_user(pool, "Alice", PW).await.unwrap();
    assert!(matches!(accounts::add_user(pool, "ALICE", NEW).await, Err(accounts::AccountError::AlreadyExists(_))));
    assert!(matches!(accounts::add_user(pool, " ", NEW).await, Err(accounts::AccountError::InvalidName(_))));
    assert!(matches!(accounts::add_user(pool, "bob", "").await, Err(accounts::AccountError::InvalidPassword)));
    assert_eq!(accounts::verify_password(pool, "alice", PW).await.unwrap().map(|x| x.id), Some(u.id.clone()));
    assert_eq!(accounts::verify_password(pool, "alice", "FIRST PASSWORD").await.unwrap(), None);
    accounts::set_password(pool, "Alice", NEW).await.unwrap();
    assert_eq!(accounts::verify_password(pool, "alice", PW).await.unwrap(), None);
    assert!(accounts::verify_password(pool, "alice", NEW).await.unwrap().is_some());
    assert!(matches!(accounts::set_password(pool, "nobody", NEW).await, Err(accounts::AccountError::NotFound(_))));
    assert_eq!(accounts::list_users(pool).await.unwrap().len(), 1);
    // The stored hash is argon2id, never the password.
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM api_users").fetch_one(pool).await.unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
}

/// Every `{…}` of the vendor documentation seeds that is meant as a request body parses with the dialect; the only
/// ones that do not are the documentation's placeholders (`<app_id>`, `..`) and one example missing a comma
/// (`] "from"`), which Newtonsoft rejects too.
#[test]
fn seed_request_bodies_parse() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/seeds");
    let mut parsed = 0;
    let mut placeholders = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for body in json_candidates(&text) {
            match api::edge::lenient::Body::parse(body.as_bytes()) {
                Ok(obj) => {
                    parsed += 1;
                    assert!(!obj.is_empty(), "{body}");
                    // Action bodies dispatch; the bare v3 sendTo body is the one without an action key.
                    const ACTIONS: &[&str] =
                        &["restoreToOriginalLocation", "sendTo", "copyTo", "save", "explore", "stop", "restoreTo"];
                    match obj.action(ACTIONS) {
                        Ok((_, opts)) => {
                            for b in ["changedItems", "deletedItems", "restorePermissions"] {
                                opts.bool(b).unwrap();
                            }
                            if let Ok(Some(v)) = opts.enum_of("documentVersion", &["All", "Last"]) {
                                assert_eq!(v, "Last");
                            }
                        }
                        Err(_) => assert!(obj.has("from") && obj.has("TO"), "{body}"),
                    }
                }
                Err(e) => {
                    assert!(
                        body.contains("<app_id>") || body.contains(" .. ") || body.contains("] \"from\""),
                        "{body}: {}",
                        e.message
                    );
                    assert!(e.message.contains("line"), "{}", e.message);
                    placeholders += 1;
                }
            }
        }
    }
    assert_eq!((parsed, placeholders), (17, 3));
}

/// Balanced `{…}` spans that contain a quote or `null` (URL templates like `{ID}` do not).
fn json_candidates(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '{' {
            i += 1;
            continue;
        }
        let (mut depth, mut j, mut in_str) = (0i32, i, false);
        while j < chars.len() {
            match (in_str, chars[j]) {
                (true, '\\') => j += 1,
                (true, '"') => in_str = false,
                (false, '"') => in_str = true,
                (false, '{') => depth += 1,
                (false, '}') => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        let cand: String = chars[i..(j + 1).min(chars.len())].iter().collect();
        if cand.contains('"') || cand.contains("null") {
            out.push(cand);
            i = j + 1;
        } else {
            i += 1;
        }
    }
    out
}
