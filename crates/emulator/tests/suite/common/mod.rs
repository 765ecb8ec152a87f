//! Shared harness for the emulator's integration tests: a real emulator on an ephemeral
//! loopback port with its own state directory, and a reqwest client that does not follow
//! redirects (so 302s to pre-authenticated URLs can be asserted).
#![allow(dead_code)]

use emulator::{EmulatorConfig, RunningEmulator};
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

pub struct TestTenant {
    pub emu: RunningEmulator,
    pub base: String,
    pub dir: tempfile::TempDir,
    pub http: Client,
    pub client_id: String,
    pub secret: String,
}

impl TestTenant {
    /// Start an emulator seeded with `seed` (e.g. `users=2`).
    pub async fn start(seed: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(dir, seed).await
    }

    pub async fn start_in(dir: tempfile::TempDir, seed: &str) -> Self {
        let emu = emulator::start(EmulatorConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            state_dir: dir.path().to_path_buf(),
            seed: Some(seed.to_string()),
            public_url: None,
        })
        .await
        .unwrap();
        let base = emu.base_url();
        let app = {
            let st = emu.emu.state();
            emulator::seed::default_app(&st)
        };
        let http = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        TestTenant { emu, base, dir, http, client_id: app.client_id, secret: app.secret.unwrap() }
    }

    pub fn tenant_id(&self) -> String {
        self.emu.emu.state().tenant.id.clone()
    }

    pub fn graph(&self, path: &str) -> String {
        format!("{}/v1.0{}", self.base, path)
    }

    /// App-only token (client secret) for `scope` (e.g. `https://graph.microsoft.com/.default`).
    pub async fn app_token_for(&self, scope: &str) -> String {
        let resp = self
            .http
            .post(format!("{}/{}/oauth2/v2.0/token", self.base, self.tenant_id()))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &self.client_id),
                ("client_secret", &self.secret),
                ("scope", scope),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let v: Value = resp.json().await.unwrap();
        v["access_token"].as_str().unwrap().to_string()
    }

    pub async fn graph_token(&self) -> String {
        self.app_token_for("https://graph.microsoft.com/.default").await
    }

    /// Send a Graph request with a JSON body (or none); returns status and parsed JSON (Null if empty).
    pub async fn call(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let url = if path.starts_with("http") { path.to_string() } else { self.graph(path) };
        let mut req = self.http.request(method, url).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let bytes = resp.bytes().await.unwrap();
        let v = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        (status, v)
    }

    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.call(token, Method::GET, path, None).await
    }

    /// The first seeded user (id, upn, drive id).
    pub fn user(&self, n: usize) -> (String, String, String) {
        let st = self.emu.emu.state();
        let mut users: Vec<_> = st.users.values().collect();
        users.sort_by_key(|u| u.user_principal_name.clone());
        let u = users[n];
        (u.id.clone(), u.user_principal_name.clone(), u.drive_id.clone().unwrap())
    }
}

/// Assert a Graph error envelope with `code`.
pub fn assert_graph_error(v: &Value, code: &str) {
    assert_eq!(v["error"]["code"], code, "unexpected error body: {v}");
    assert!(v["error"]["message"].is_string(), "no message: {v}");
    assert!(v["error"]["innerError"]["request-id"].is_string(), "no request-id: {v}");
}

/// One RSA-2048 key (PKCS#8 DER) and self-signed certificate (DER) per test process; generating
/// RSA keys is slow enough to share.
pub fn test_cert() -> &'static (Vec<u8>, Vec<u8>) {
    static CERT: std::sync::OnceLock<(Vec<u8>, Vec<u8>)> = std::sync::OnceLock::new();
    CERT.get_or_init(|| emulator::auth::assertion::generate_certificate("vault365 test").unwrap())
}

// Entra helpers: certificate and delegated tokens.
impl TestTenant {
    /// The tenant-specific token endpoint (also the `aud` of client assertions).
    pub fn token_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.base, self.tenant_id())
    }

    /// POST a form to the token endpoint; returns status and JSON body.
    pub async fn token_request(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let resp = self.http.post(self.token_url()).form(form).send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Register `cert_der` on app `client_id` through the control API.
    pub async fn register_cert(&self, client_id: &str, cert_der: &[u8]) {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(cert_der);
        let resp = self
            .http
            .post(format!("{}/_emulator/apps/{client_id}/certificates", self.base))
            .json(&serde_json::json!({ "certificate": b64 }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED, "registering certificate: {:?}", resp.text().await);
    }

    /// App-only token for `scope` via an RS256 certificate assertion (`appidacr` "2"), registering
    /// the shared test certificate on the default app first.
    pub async fn cert_token(&self, scope: &str) -> String {
        use emulator::auth::assertion::{sign_assertion, standard_claims, standard_header, AssertionAlg};
        let (key, cert) = test_cert();
        self.register_cert(&self.client_id, cert).await;
        // Claims on the emulator clock, so tests that advanced it still get valid assertions.
        let now = self.emu.emu.now().timestamp();
        let claims = standard_claims(&self.client_id, &self.token_url(), now);
        let assertion =
            sign_assertion(key, AssertionAlg::Rs256, &standard_header(cert, AssertionAlg::Rs256), &claims).unwrap();
        let (status, v) = self
            .token_request(&[
                ("grant_type", "client_credentials"),
                ("client_id", &self.client_id),
                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                ("client_assertion", &assertion),
                ("scope", scope),
            ])
            .await;
        assert_eq!(status, StatusCode::OK, "certificate token: {v}");
        v["access_token"].as_str().unwrap().to_string()
    }

    /// Delegated token for a user via ROPC on the default (public) app. Seeded passwords are `Pa55-{login}`.
    pub async fn user_token(&self, upn: &str, password: &str, scope: &str) -> String {
        let (status, v) = self
            .token_request(&[
                ("grant_type", "password"),
                ("client_id", &self.client_id),
                ("username", upn),
                ("password", password),
                ("scope", scope),
            ])
            .await;
        assert_eq!(status, StatusCode::OK, "ROPC token: {v}");
        v["access_token"].as_str().unwrap().to_string()
    }

    /// Password of seeded user `upn` (`Pa55-{login}`).
    pub fn password_of(upn: &str) -> String {
        format!("Pa55-{}", upn.split('@').next().unwrap_or(upn))
    }
}
