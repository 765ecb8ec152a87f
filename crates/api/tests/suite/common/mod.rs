//! Shared HTTPS test harness of the API crate.
//!
//! [`TestServer::start`] builds what a deployment has: an emulated tenant (real HTTP server), a SQLite catalog, a
//! content repository, a certificate-authenticated Graph client, one organization with one job — then runs **two
//! backups** with changes in between on the first user's OneDrive ([`Changes`]: a file edited, one renamed, one
//! deleted, one created) and starts the API over HTTPS (self-signed; the client accepts any certificate) with two
//! accounts: an admin ([`TestServer::token`]) and a second user ([`TestServer::other_token`]).
//!
//! Tests that only read share one such world per test binary ([`shared`]).
//!
//! ```ignore
//! mod common;
//! let s = common::TestServer::start(common::DEFAULT_SEED).await;
//! let (status, body) = s.get("/v6/Organizations", Some(&s.token)).await;
//! let session = s.explore(6, &s.org, "Veod", None).await;           // → session id
//! ```
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use api::store::accounts;
use api::{ApiConfig, AppState, RunningApi};
use chrono::{DateTime, Utc};
use emulator::{EmulatorConfig, RunningEmulator};
use engine::progress::Progress;
use engine::{BackupContext, BackupReport};
use m365::{Credential, Endpoints, GraphClient, TenantConfig};
use repo::catalog::{Catalog, ContainerKind, NewOrganization, RestorePoint};
use repo::store::{local_store, InitOptions, Repository};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

/// A small tenant: 2 users with OneDrives, a site with lists.
pub const DEFAULT_SEED: &str = "users=2,files=24,versions=2,sites=1,items=3";

/// The admin account.
pub const ADMIN: &str = "DOMAIN\\admin";
/// The second account (its sessions are invisible to the admin and vice versa).
pub const OTHER: &str = "DOMAIN\\other";
/// Password of both accounts.
pub const PASSWORD: &str = "s3cret pa$$ phrase";
/// Password of the content repository.
pub const REPO_PASSWORD: &str = "correct horse battery staple";

/// What changed on the first user's OneDrive between the two backups (catalog/Graph item ids).
#[derive(Debug, Clone)]
pub struct Changes {
    /// UPN of the first user (sorted by UPN).
    pub upn: String,
    /// Entra id of that user.
    pub user_id: String,
    /// Graph drive id.
    pub drive_id: String,
    /// Catalog container UUID of the OneDrive (the `oneDriveId` in URLs).
    pub onedrive: Uuid,
    /// Content replaced (`edited_content` at t2).
    pub edited: String,
    /// Name at t1 of the edited file.
    pub edited_name: String,
    /// New content of the edited file.
    pub edited_content: Vec<u8>,
    /// Renamed to `renamed.txt`.
    pub renamed: String,
    /// Name at t1 of the renamed file.
    pub renamed_old_name: String,
    /// Deleted before the second backup.
    pub deleted: String,
    /// Name of the deleted file.
    pub deleted_name: String,
    /// Created before the second backup (`new-file.txt`, content `b"a brand new file"`).
    pub created: String,
}

/// A running API server over a backed-up emulated tenant.
pub struct TestServer {
    /// The API server (HTTPS).
    pub api: RunningApi,
    /// `https://127.0.0.1:port`.
    pub base: String,
    /// Accepts the self-signed certificate.
    pub client: Client,
    /// The server's state (shared with the running server: same pool, same shared settings).
    pub state: AppState,
    /// Admin access token.
    pub token: String,
    /// Second user's access token.
    pub other_token: String,
    /// The catalog.
    pub catalog: Catalog,
    /// The content repository.
    pub repo: Repository,
    /// Organization id (catalog UUID) as a lower-case string.
    pub org: String,
    /// Organization id.
    pub org_id: Uuid,
    /// Organization name.
    pub org_name: String,
    /// Backup job.
    pub job: Uuid,
    /// First restore point.
    pub rp1: RestorePoint,
    /// Second restore point.
    pub rp2: RestorePoint,
    /// `rp1.backup_time`.
    pub t1: DateTime<Utc>,
    /// `rp2.backup_time`.
    pub t2: DateTime<Utc>,
    /// The changes between t1 and t2.
    pub changes: Changes,
    /// The tenant emulator (mutate it with [`TestServer::graph`], then [`TestServer::backup`]).
    pub tenant: Tenant,
    /// Graph client of the engine.
    pub graph_client: GraphClient,
    /// Temporary directory holding everything.
    pub dir: tempfile::TempDir,
}

/// The world of the tests that only read it: one tenant, its two backups and one API server per test binary, booted by
/// the first caller ([`TestServer::start`] with [`DEFAULT_SEED`]). Such a test still opens its own restore sessions,
/// and must not change the tenant, the catalog, the accounts' logons or the server's settings, nor stop the server.
pub async fn shared() -> Shared {
    static WORLD: OnceLock<TestServer> = OnceLock::new();
    match WORLD.get() {
        Some(s) => Shared(s),
        None => Shared(tokio::task::spawn_blocking(|| WORLD.get_or_init(boot_shared_world)).await.unwrap()),
    }
}

/// A test's handle on the shared world: used like the [`TestServer`] a test starts itself.
#[derive(Clone, Copy)]
pub struct Shared(&'static TestServer);

impl std::ops::Deref for Shared {
    type Target = TestServer;

    fn deref(&self) -> &TestServer {
        self.0
    }
}

/// Boots the shared world on a runtime of its own that lives as long as the test binary: each `#[tokio::test]`
/// runtime, and every task spawned on it (the servers), ends with its test.
fn boot_shared_world() -> TestServer {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("shared-world")
        .enable_all()
        .build()
        .unwrap();
    let mut s = runtime.block_on(TestServer::start(DEFAULT_SEED));
    // No idle connections: a pooled connection belongs to the runtime of the test that opened it, gone after that test.
    s.client = Client::builder().danger_accept_invalid_certs(true).pool_max_idle_per_host(0).build().unwrap();
    s.tenant.http =
        Client::builder().redirect(reqwest::redirect::Policy::none()).pool_max_idle_per_host(0).build().unwrap();
    Box::leak(Box::new(runtime));
    s
}

/// The ordinary files of a drive in the emulator: (id, name), sorted by name.
pub fn drive_files(emu: &RunningEmulator, drive: &str) -> Vec<(String, String)> {
    let st = emu.emu.state();
    let mut v: Vec<_> = st
        .items
        .values()
        .filter(|i| i.drive_id == drive && !i.is_folder && i.deleted.is_none())
        .map(|i| (i.id.clone(), i.name.clone()))
        .collect();
    v.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    v
}

impl TestServer {
    /// Emulator + catalog + repository + two backups with changes in between + the API over HTTPS.
    pub async fn start(seed: &str) -> TestServer {
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
        let http = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
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
        let mut graph_client = GraphClient::new(cfg, 4).unwrap();
        graph_client.policy.base_delay = std::time::Duration::from_millis(20);
        graph_client.policy.max_attempts = 4;
        let catalog =
            Catalog::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("catalog.db").display())).await.unwrap();
        let repo = Repository::init_with(
            local_store(&dir.path().join("repo")).unwrap(),
            REPO_PASSWORD,
            InitOptions::insecure_fast_kdf(),
        )
        .await
        .unwrap();
        let org_name = "contoso.onmicrosoft.com".to_string();
        let org = catalog
            .create_organization(&NewOrganization {
                name: org_name.clone(),
                tenant_id: tenant.clone(),
                tenant_domain: "contoso.onmicrosoft.com".into(),
                config: json!({}),
            })
            .await
            .unwrap();
        let job = catalog.create_job(org.id, "default").await.unwrap();

        let tenant = Tenant { emu, http, tenant, client_id: app.client_id, secret: app.secret.unwrap() };
        let backup =
            |c: Catalog, r: Repository, g: GraphClient| async move { run_backup(&c, &r, &g, org.id, job.id).await };

        // Backup 1.
        let rp1 = backup(catalog.clone(), repo.clone(), graph_client.clone()).await.restore_point.expect("rp1");

        // Changes on the first user's OneDrive.
        let (upn, drive) = {
            let st = tenant.emu.emu.state();
            let mut users: Vec<_> = st.users.values().collect();
            users.sort_by_key(|u| u.user_principal_name.clone());
            (users[0].user_principal_name.clone(), users[0].drive_id.clone().unwrap())
        };
        let user_id = tenant.emu.emu.state().drives[&drive].owner_user_id.clone().unwrap();
        let onedrive = catalog.container_id(org.id, ContainerKind::OneDrive, &user_id).await.unwrap().unwrap();
        let files = drive_files(&tenant.emu, &drive);
        assert!(files.len() >= 3, "the seed must give the first user three files, has {}", files.len());
        let (a, b, d) = (files[0].clone(), files[1].clone(), files[2].clone());
        let new_a = b"edited content of A".repeat(100);
        tenant.graph(Method::PUT, &format!("/drives/{drive}/items/{}/content", a.0), None, Some(new_a.clone())).await;
        tenant
            .graph(Method::PATCH, &format!("/drives/{drive}/items/{}", b.0), Some(json!({"name": "renamed.txt"})), None)
            .await;
        tenant.graph(Method::DELETE, &format!("/drives/{drive}/items/{}", d.0), None, None).await;
        let e = tenant
            .graph(
                Method::PUT,
                &format!("/drives/{drive}/root:/new-file.txt:/content"),
                None,
                Some(b"a brand new file".to_vec()),
            )
            .await;
        let changes = Changes {
            upn,
            user_id,
            drive_id: drive,
            onedrive,
            edited: a.0,
            edited_name: a.1,
            edited_content: new_a,
            renamed: b.0,
            renamed_old_name: b.1,
            deleted: d.0,
            deleted_name: d.1,
            created: e["id"].as_str().unwrap().to_string(),
        };

        // Backup 2.
        let rp2 = backup(catalog.clone(), repo.clone(), graph_client.clone()).await.restore_point.expect("rp2");
        assert!(rp2.backup_time > rp1.backup_time);

        // The API with two accounts.
        let state = AppState::new(catalog.clone(), Some(repo.clone()), dir.path().join("api"));
        accounts::add_user(state.pool(), ADMIN, PASSWORD).await.unwrap();
        accounts::add_user(state.pool(), OTHER, PASSWORD).await.unwrap();
        let cfg = ApiConfig::listening_on(SocketAddr::from(([127, 0, 0, 1], 0)));
        let api = api::start(&cfg, state.clone()).await.unwrap();
        let mut s = TestServer {
            base: api.base_url(),
            api,
            client: Client::builder().danger_accept_invalid_certs(true).build().unwrap(),
            state,
            token: String::new(),
            other_token: String::new(),
            catalog,
            repo,
            org: org.id.to_string(),
            org_id: org.id,
            org_name,
            job: job.id,
            t1: rp1.backup_time,
            t2: rp2.backup_time,
            rp1,
            rp2,
            changes,
            tenant,
            graph_client,
            dir,
        };
        s.token = s.logon(ADMIN).await;
        s.other_token = s.logon(OTHER).await;
        s
    }

    /// Stops the API server and starts a new one on the same database (tokens are re-issued).
    pub async fn restart(&mut self) {
        let cfg = ApiConfig::listening_on(SocketAddr::from(([127, 0, 0, 1], 0)));
        // A fresh AppState: nothing in memory survives, as after a process restart.
        let state = AppState::new(self.catalog.clone(), Some(self.repo.clone()), self.dir.path().join("api"));
        let api = api::start(&cfg, state.clone()).await.unwrap();
        let old = std::mem::replace(&mut self.api, api);
        old.shutdown().await;
        self.state = state;
        self.base = self.api.base_url();
        self.token = self.logon(ADMIN).await;
        self.other_token = self.logon(OTHER).await;
    }

    /// A password logon; the access token.
    pub async fn logon(&self, user: &str) -> String {
        let r = self
            .client
            .post(self.url("/v6/token"))
            .form(&[("grant_type", "password"), ("username", user), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        let (s, body) = read(r).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }

    /// Runs a backup of the organization.
    pub async fn backup(&self) -> BackupReport {
        run_backup(&self.catalog, &self.repo, &self.graph_client, self.org_id, self.job).await
    }

    /// Calls Graph on the emulator; panics unless the status is a success.
    pub async fn graph(&self, method: Method, path: &str, body: Option<Value>, raw: Option<Vec<u8>>) -> Value {
        self.tenant.graph(method, path, body, raw).await
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Any request; `(status, JSON body or Null when empty)`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
    ) -> (StatusCode, Value) {
        let mut rq = self.client.request(method, self.url(path));
        if let Some(t) = token {
            rq = rq.bearer_auth(t);
        }
        if let Some(b) = body {
            rq = rq.header("content-type", "application/json").body(b.to_vec());
        }
        read(rq.send().await.unwrap()).await
    }

    /// GET.
    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.call(Method::GET, path, token, None).await
    }

    /// POST a JSON value.
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, token, Some(body.to_string().as_bytes())).await
    }

    /// POST raw bytes as `application/json` (lenient-dialect tests).
    pub async fn post_raw(&self, path: &str, token: Option<&str>, body: &str) -> (StatusCode, Value) {
        self.call(Method::POST, path, token, Some(body.as_bytes())).await
    }

    /// POST without a body.
    pub async fn post_empty(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.call(Method::POST, path, token, None).await
    }

    /// Polls a v8 restore operation session until it is `Stopped` (at most 60 s); returns it.
    pub async fn wait_stopped(&self, id: &str) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let (st, b) = self.get(&format!("/v8/RestoreSessions/{id}"), Some(&self.token)).await;
            assert_eq!(st, StatusCode::OK, "{b}");
            if b["state"] == "Stopped" {
                return b;
            }
            assert!(std::time::Instant::now() < deadline, "the restore job did not finish: {b}");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    /// A new certificate of the organization's application, registered in the emulator, for restores with an
    /// application certificate: (application id, the key and certificate as a base64 PFX protected by `password`).
    pub async fn application_certificate(&self, password: &str) -> (String, String) {
        use base64::Engine;
        use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
        let client_id = emulator::seed::default_app(&self.tenant.emu.emu.state()).client_id;
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["restore".into()]).unwrap().self_signed(&key).unwrap();
        let r = self
            .tenant
            .http
            .post(format!("{}/_emulator/apps/{client_id}/certificates", self.tenant.emu.base_url()))
            .json(&json!({"certificate": cert.pem()}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        let mut store = KeyStore::new();
        let chain = PrivateKeyChain::new(
            vec![1u8],
            PrivateKey::from_der(&key.serialize_der()).unwrap(),
            [Certificate::from_der(cert.der()).unwrap()],
        );
        store.add_entry("restore", KeyStoreEntry::PrivateKeyChain(chain));
        let pfx = base64::engine::general_purpose::STANDARD.encode(store.writer(password).write().unwrap());
        (client_id, pfx)
    }

    /// Starts a restore session as the admin in the era's way (v2–v5 `/Action {"explore":…}`, v6+ `/explore`) and
    /// returns its id. `kind`: `Veod`/`Vesp`/…; `datetime`: `None` = latest.
    pub async fn explore(&self, version: u8, kind: &str, datetime: Option<&str>) -> String {
        self.explore_as(version, kind, datetime, &self.token).await
    }

    /// [`TestServer::explore`] with another token.
    pub async fn explore_as(&self, version: u8, kind: &str, datetime: Option<&str>, token: &str) -> String {
        let mut opts = json!({"type": kind, "showDeleted": true, "showAllVersions": true});
        if let Some(d) = datetime {
            opts["datetime"] = json!(d);
        }
        let (path, body) = if version <= 5 {
            (format!("/v{version}/Organizations/{}/Action", self.org), json!({ "explore": opts }))
        } else {
            (format!("/v{version}/Organizations/{}/explore", self.org), opts)
        };
        let (s, b) = self.post(&path, Some(token), body).await;
        // v6/v7 answer 200 (their specs), the other eras 201.
        let started = if matches!(version, 6 | 7) { StatusCode::OK } else { StatusCode::CREATED };
        assert_eq!(s, started, "{path}: {b}");
        b["id"].as_str().unwrap().to_string()
    }
}

/// `(status, JSON body)`; `Null` for an empty body. Panics on a non-JSON body.
pub async fn read(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap_or("").to_string());
    let bytes = r.bytes().await.unwrap();
    if bytes.is_empty() {
        return (status, Value::Null);
    }
    let v: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!("non-JSON body ({e}, content-type {ct:?}, status {status}): {}", String::from_utf8_lossy(&bytes))
    });
    (status, v)
}

/// The emulated tenant and the credentials to mutate it.
pub struct Tenant {
    /// The emulator.
    pub emu: RunningEmulator,
    /// Plain HTTP client.
    pub http: Client,
    tenant: String,
    client_id: String,
    secret: String,
}

impl Tenant {
    /// A Graph token for mutating the tenant (as users would).
    pub async fn graph_token(&self) -> String {
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

    /// Calls Graph on the emulator; panics unless the status is a success.
    pub async fn graph(&self, method: Method, path: &str, body: Option<Value>, raw: Option<Vec<u8>>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}/v1.0{path}", self.emu.base_url()))
            .bearer_auth(self.graph_token().await);
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
}

/// One backup run of `org`'s job.
pub async fn run_backup(
    catalog: &Catalog,
    repo: &Repository,
    client: &GraphClient,
    org: Uuid,
    job: Uuid,
) -> BackupReport {
    let ctx = BackupContext {
        catalog: catalog.clone(),
        repo: repo.clone(),
        client: client.clone(),
        organization_id: org,
        job_id: job,
        concurrency: 4,
        checkpoint_items: 25,
        progress: Arc::new(Progress::default()),
        scope: engine::BackupScope::default(),
    };
    engine::run_backup(&ctx).await.unwrap()
}

// ---------------------------------------------------------------------------------------------------------------
// Restore tests: the tenant as the emulator holds it, and restores pointed at it.

/// (quickXorHash of the current version, version count, deleted) of a tenant item.
pub fn tenant_item(s: &TestServer, id: &str) -> Option<(String, usize, bool)> {
    let st = s.tenant.emu.emu.state();
    st.items.get(id).map(|i| (i.versions.last().unwrap().quick_xor.clone(), i.versions.len(), i.deleted.is_some()))
}

/// The live child `name` of `parent` in the tenant.
pub fn live_child(s: &TestServer, parent: &Option<String>, name: &str) -> Option<String> {
    let st = s.tenant.emu.emu.state();
    st.items.values().find(|i| i.deleted.is_none() && &i.parent_id == parent && i.name == name).map(|i| i.id.clone())
}

/// Points restores at the emulator (its default app signs users in); returns the first user's password.
pub fn prepare(s: &TestServer) -> String {
    let (client_id, password) = {
        let st = s.tenant.emu.emu.state();
        let user = st.users.values().find(|u| u.user_principal_name == s.changes.upn).unwrap();
        (emulator::seed::default_app(&st).client_id, user.password.clone())
    };
    s.state.restore_access.set(api::RestoreAccess {
        endpoints: m365::Endpoints::emulator(&s.tenant.emu.base_url()),
        client_id: Some(client_id),
    });
    password
}

/// The quickXorHash the first backup recorded for item `id` of the changed OneDrive.
pub async fn backed_up_hash(s: &TestServer, id: &str) -> String {
    let row = s.catalog.item_at(s.changes.onedrive, id, s.t1).await.unwrap().unwrap();
    row.state.quick_xor_hash.unwrap()
}
