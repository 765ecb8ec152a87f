//! Harness: an emulated tenant (real HTTP server), a SQLite catalog and a content store in a temp
//! dir, and a certificate-authenticated client, as a real deployment would have. [`Env::with_backends`] puts the
//! catalog on PostgreSQL and/or the content store on S3 instead (see [`postgres_catalog_url`], [`s3_test_store`]).
#![allow(dead_code)]

use std::sync::Arc;

use emulator::{EmulatorConfig, RunningEmulator};
use engine::progress::Progress;
use engine::{BackupContext, BackupReport};
use m365::{Credential, Endpoints, GraphClient, TenantConfig};
use repo::catalog::{Catalog, NewOrganization};
use repo::store::{local_store, InitOptions, ObjectStore, Repository, S3Config};
use serde_json::{json, Value};

pub use test_support::{fresh_postgres_database, test_server_var};

pub struct Env {
    pub emu: RunningEmulator,
    pub dir: tempfile::TempDir,
    pub catalog: Catalog,
    pub repo: Repository,
    pub client: GraphClient,
    pub org: uuid::Uuid,
    pub job: uuid::Uuid,
    pub http: reqwest::Client,
    secret: String,
    client_id: String,
    tenant: String,
    tenant_config: TenantConfig,
}

pub const PASSWORD: &str = "correct horse battery staple";

/// Where [`Env::with_backends`] keeps catalog and content; `None` = SQLite file / local directory in the temp dir.
#[derive(Default)]
pub struct Backends {
    pub catalog_url: Option<String>,
    pub store: Option<Arc<dyn ObjectStore>>,
}

/// A URL of a fresh, empty PostgreSQL database on the server of `VAULT365_TEST_POSTGRES` (`postgres://user@host:port`).
/// `None` when the variable is unset; panics when it is set but the server cannot be reached.
pub async fn postgres_catalog_url() -> Option<String> {
    let base = test_server_var("VAULT365_TEST_POSTGRES", "PostgreSQL")?;
    Some(fresh_postgres_database(&base, "engine_test").await)
}

/// A store under a fresh prefix of the bucket of `VAULT365_TEST_S3` (`s3://key:secret@host:port/bucket`).
/// `None` when the variable is unset; panics when it is set but the server cannot be reached.
pub async fn s3_test_store() -> Option<Arc<dyn ObjectStore>> {
    let url = test_server_var("VAULT365_TEST_S3", "S3")?;
    let mut cfg = S3Config::from_url(&url).unwrap_or_else(|e| panic!("VAULT365_TEST_S3={url}: {e}"));
    cfg.prefix = Some(format!("engine-test-{}", uuid::Uuid::new_v4().simple()));
    let store = repo::store::s3_store(&cfg).unwrap_or_else(|e| panic!("VAULT365_TEST_S3={url}: {e}"));
    // A listing proves the server answers and accepts the credentials before the test relies on it.
    use futures::TryStreamExt;
    store
        .list(None)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_or_else(|e| panic!("VAULT365_TEST_S3={url} is set but the server is unreachable: {e}"));
    Some(store)
}

/// The engine's Graph client: short back-off so fault tests stay quick.
fn engine_client(cfg: &TenantConfig) -> GraphClient {
    let mut client = GraphClient::new(cfg.clone(), 4).unwrap();
    client.policy.base_delay = std::time::Duration::from_millis(20);
    client.policy.max_attempts = 4;
    client
}

impl Env {
    pub async fn new(seed: &str) -> Env {
        Env::with_backends(seed, Backends::default()).await
    }

    /// Like [`Env::new`], with the catalog and/or the content store elsewhere.
    pub async fn with_backends(seed: &str, backends: Backends) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let emu = emulator::start(EmulatorConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            state_dir: dir.path().join("tenant"),
            seed: Some(seed.into()),
            public_url: None,
        })
        .await
        .unwrap();
        let (tenant, app) = {
            let st = emu.emu.state();
            (st.tenant.id.clone(), emulator::seed::default_app(&st))
        };
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["vault365".into()]).unwrap().self_signed(&key).unwrap();
        let r = http
            .post(format!("{}/_emulator/apps/{}/certificates", emu.base_url(), app.client_id))
            .json(&json!({"certificate": cert.pem()}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        let cfg = TenantConfig {
            endpoints: Endpoints::emulator(&emu.base_url()),
            tenant: tenant.clone(),
            client_id: app.client_id.clone(),
            credential: Credential::Certificate {
                key_pkcs8_der: key.serialize_der(),
                cert_der: cert.der().to_vec(),
                pss: true,
            },
        };
        let client = engine_client(&cfg);
        let catalog_url = backends
            .catalog_url
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", dir.path().join("catalog.db").display()));
        let catalog = Catalog::connect(&catalog_url).await.unwrap();
        let store = match backends.store {
            Some(s) => s,
            None => local_store(&dir.path().join("repo")).unwrap(),
        };
        let repo = Repository::init_with(store, PASSWORD, InitOptions::insecure_fast_kdf()).await.unwrap();
        let org = catalog
            .create_organization(&NewOrganization {
                name: "contoso".into(),
                tenant_id: tenant.clone(),
                tenant_domain: "contoso.onmicrosoft.com".into(),
                config: json!({}),
            })
            .await
            .unwrap();
        let job = catalog.create_job(org.id, "default").await.unwrap();
        Env {
            emu,
            dir,
            catalog,
            repo,
            client,
            org: org.id,
            job: job.id,
            http,
            secret: app.secret.unwrap(),
            client_id: app.client_id,
            tenant,
            tenant_config: cfg,
        }
    }

    /// Stops the emulator and starts it again from the same state directory on another port, as `vault365 demo`
    /// does on every start, and points the engine's client at the new address (the organization's Graph endpoint
    /// moved; its tenant did not). The old address is dead afterwards.
    pub async fn restart_emulator_on_another_port(&mut self) {
        // `shutdown` takes the emulator by value, so the new one starts first (on another port, while the old one
        // still holds its own) from the state just persisted; nothing changes in between, so both write the same.
        self.emu.emu.flush().unwrap();
        let moved = emulator::start(EmulatorConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            state_dir: self.emu.emu.dir.clone(),
            seed: None,
            public_url: None,
        })
        .await
        .unwrap();
        let old = std::mem::replace(&mut self.emu, moved);
        old.shutdown().await.unwrap();
        self.tenant_config.endpoints = Endpoints::emulator(&self.emu.base_url());
        self.client = engine_client(&self.tenant_config);
    }

    pub fn ctx(&self) -> BackupContext {
        BackupContext {
            catalog: self.catalog.clone(),
            repo: self.repo.clone(),
            client: self.client.clone(),
            organization_id: self.org,
            job_id: self.job,
            concurrency: 4,
            checkpoint_items: 25,
            progress: Arc::new(Progress::default()),
            scope: engine::BackupScope::default(),
        }
    }

    pub async fn backup(&self) -> BackupReport {
        engine::run_backup(&self.ctx()).await.unwrap()
    }

    /// A Graph token for mutating the tenant between backups (as users would).
    pub async fn token(&self) -> String {
        let r: Value = self
            .http
            .post(format!("{}/{}/oauth2/v2.0/token", self.emu.base_url(), self.tenant))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", self.client_id.as_str()),
                ("client_secret", self.secret.as_str()),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["access_token"].as_str().unwrap().to_string()
    }

    /// Call Graph on the emulator; panics unless the status is a success.
    pub async fn graph(&self, method: reqwest::Method, path: &str, body: Option<Value>, raw: Option<Vec<u8>>) -> Value {
        let mut req =
            self.http.request(method, format!("{}/v1.0{path}", self.emu.base_url())).bearer_auth(self.token().await);
        if let Some(b) = body {
            req = req.json(&b);
        }
        if let Some(r) = raw {
            req = req.body(r);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let bytes = resp.bytes().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {}", String::from_utf8_lossy(&bytes));
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    }

    pub async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let resp = self
            .http
            .request(method, format!("{}/_emulator{path}", self.emu.base_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap_or(Value::Null)
    }

    /// (upn, drive id) of the first seeded user.
    pub fn first_drive(&self) -> (String, String) {
        let st = self.emu.emu.state();
        let mut users: Vec<_> = st.users.values().collect();
        users.sort_by_key(|u| u.user_principal_name.clone());
        (users[0].user_principal_name.clone(), users[0].drive_id.clone().unwrap())
    }
}
