//! The benchmark's world: an emulated tenant served over real HTTP on loopback, a SQLite catalog
//! and a content store in a temporary directory, and a certificate-authenticated Graph client —
//! the same pieces a deployment has, so the numbers include HTTP, TLS-free loopback I/O, SQLite
//! commits and real Argon2 (at set-up only).

use std::sync::Arc;

use anyhow::{bail, Context};
use emulator::{EmulatorConfig, RunningEmulator};
use engine::progress::Progress;
use engine::BackupContext;
use futures::{StreamExt, TryStreamExt};
use m365::{Credential, Endpoints, GraphClient, TenantConfig};
use repo::catalog::{Catalog, NewOrganization};
use repo::store::{local_store, InitOptions, Repository};
use serde_json::{json, Value};

/// Password of the benchmark repository (a throw-away temp dir); the save probe opens it too.
pub(crate) const PASSWORD: &str = "vault365 benchmark repository";

/// Everything one benchmark needs; dropping it deletes the temporary directory.
pub struct World {
    pub emu: RunningEmulator,
    pub dir: tempfile::TempDir,
    pub catalog: Catalog,
    pub repo: Repository,
    pub client: GraphClient,
    pub organization_id: uuid::Uuid,
    pub job_id: uuid::Uuid,
    /// Plain HTTP client for the control API and for the "user" edits between runs.
    http: reqwest::Client,
    tenant: String,
    client_id: String,
    secret: String,
}

/// One file edited between two backups: what the tenant holds now.
pub struct Edit {
    pub drive_id: String,
    pub item_id: String,
    pub content: Vec<u8>,
}

impl World {
    /// Start and seed the emulator, register a certificate for the app, create catalog +
    /// repository (default options: Argon2id 64 MiB) and the organization/job to back up.
    pub async fn new(seed: &str, concurrency: usize) -> anyhow::Result<World> {
        let dir = tempfile::tempdir().context("creating a temporary directory")?;
        let emu = emulator::start(EmulatorConfig {
            listen: "127.0.0.1:0".parse().expect("valid socket address"),
            state_dir: dir.path().join("tenant"),
            seed: Some(seed.into()),
            public_url: None,
        })
        .await
        .with_context(|| format!("starting the emulator with seed '{seed}'"))?;
        let (tenant, app) = {
            let st = emu.emu.state();
            (st.tenant.id.clone(), emulator::seed::default_app(&st))
        };
        let secret = app.secret.clone().context("the emulator's default app has no client secret")?;
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;

        // Certificate credential (what production uses): register the public part with the app.
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)?;
        let cert = rcgen::CertificateParams::new(vec!["vault365-bench".into()])?.self_signed(&key)?;
        let r = http
            .post(format!("{}/_emulator/apps/{}/certificates", emu.base_url(), app.client_id))
            .json(&json!({"certificate": cert.pem()}))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("registering the certificate: {} {}", r.status(), r.text().await.unwrap_or_default());
        }
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
        let client = GraphClient::new(cfg, concurrency)?;

        let db = dir.path().join("catalog.db");
        // Keep in step with `World::catalog_url`.
        let catalog = Catalog::connect(&format!("sqlite://{}?mode=rwc", db.display())).await?;
        let repo =
            Repository::init_with(local_store(&dir.path().join("repo"))?, PASSWORD, InitOptions::default()).await?;
        let org = catalog
            .create_organization(&NewOrganization {
                name: "contoso".into(),
                tenant_id: tenant.clone(),
                tenant_domain: "contoso.onmicrosoft.com".into(),
                config: json!({}),
            })
            .await?;
        let job = catalog.create_job(org.id, "benchmark").await?;
        Ok(World {
            emu,
            dir,
            catalog,
            repo,
            client,
            organization_id: org.id,
            job_id: job.id,
            http,
            tenant,
            client_id: app.client_id,
            secret,
        })
    }

    /// A fresh backup context (fresh progress counters: the engine's report reads them).
    pub fn context(&self, concurrency: usize, checkpoint_items: usize) -> BackupContext {
        BackupContext {
            catalog: self.catalog.clone(),
            repo: self.repo.clone(),
            client: self.client.clone(),
            organization_id: self.organization_id,
            job_id: self.job_id,
            concurrency,
            checkpoint_items,
            progress: Arc::new(Progress::default()),
            scope: engine::BackupScope::default(),
        }
    }

    /// The emulator's request counters since the last reset (`GET /_emulator/stats`).
    pub async fn server_stats(&self) -> anyhow::Result<Value> {
        let r = self.http.get(format!("{}/_emulator/stats", self.emu.base_url())).send().await?;
        if !r.status().is_success() {
            bail!("GET /_emulator/stats: {}", r.status());
        }
        Ok(r.json().await?)
    }

    /// Zero the emulator's request counters so the next run is measured alone.
    pub async fn reset_server_stats(&self) -> anyhow::Result<()> {
        let r = self.http.delete(format!("{}/_emulator/stats", self.emu.base_url())).send().await?;
        if !r.status().is_success() {
            bail!("DELETE /_emulator/stats: {}", r.status());
        }
        Ok(())
    }

    /// Pick `fraction` of the live files (every n-th by id, so the choice is deterministic and
    /// spread over all drives) and compute the edited content of each: the current bytes with
    /// 1 KiB in the middle inverted — a typical small edit, so content-defined chunking can show
    /// how much of a big file it keeps.
    pub fn plan_edits(&self, fraction: f64) -> anyhow::Result<Vec<Edit>> {
        let mut files: Vec<(String, String, emulator::content::ContentRef)> = {
            let st = self.emu.emu.state();
            st.items
                .values()
                .filter(|i| !i.is_folder && i.deleted.is_none())
                .filter_map(|i| Some((i.id.clone(), i.drive_id.clone(), i.versions.last()?.content.clone())))
                .collect()
        };
        files.sort_by(|a, b| a.0.cmp(&b.0));
        if files.is_empty() || fraction <= 0.0 {
            return Ok(Vec::new());
        }
        let step = (1.0 / fraction.min(1.0)).round().max(1.0) as usize;
        let mut edits = Vec::new();
        for (item_id, drive_id, content) in files.into_iter().step_by(step) {
            let mut bytes = self
                .emu
                .emu
                .blobs
                .read_all(&content)
                .with_context(|| format!("reading the content of item {item_id}"))?;
            let mid = bytes.len() / 2;
            let end = (mid + 1024).min(bytes.len());
            bytes[mid..end].iter_mut().for_each(|b| *b = !*b);
            if bytes.is_empty() {
                bytes.push(b'x');
            }
            edits.push(Edit { drive_id, item_id, content: bytes });
        }
        Ok(edits)
    }

    /// Apply edits the way users do: `PUT /drives/{d}/items/{i}/content` with the app's secret.
    pub async fn apply_edits(&self, edits: &[Edit], parallel: usize) -> anyhow::Result<()> {
        let token = self.user_token().await?;
        let base = self.emu.base_url();
        futures::stream::iter(edits.iter().map(|e| {
            let req = self
                .http
                .put(format!("{base}/v1.0/drives/{}/items/{}/content", e.drive_id, e.item_id))
                .bearer_auth(&token)
                .body(e.content.clone());
            async move {
                let r = req.send().await?;
                if !r.status().is_success() {
                    bail!("editing item {}: {} {}", e.item_id, r.status(), r.text().await.unwrap_or_default());
                }
                Ok(())
            }
        }))
        .buffer_unordered(parallel.max(1))
        .try_collect::<()>()
        .await
    }

    /// Delete drive items through Graph (`DELETE /drives/{d}/items/{i}`), as a user losing files would.
    pub async fn delete_items(&self, drive_id: &str, item_ids: &[String], parallel: usize) -> anyhow::Result<()> {
        let token = self.user_token().await?;
        let base = self.emu.base_url();
        futures::stream::iter(item_ids.iter().map(|id| {
            let req = self.http.delete(format!("{base}/v1.0/drives/{drive_id}/items/{id}")).bearer_auth(&token);
            async move {
                let r = req.send().await?;
                if !r.status().is_success() {
                    bail!("deleting item {id}: {} {}", r.status(), r.text().await.unwrap_or_default());
                }
                Ok(())
            }
        }))
        .buffer_unordered(parallel.max(1))
        .try_collect::<()>()
        .await
    }

    /// The repository directory and the catalog URL, for a second process (the save probe).
    pub fn repo_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("repo")
    }

    /// See [`World::repo_dir`].
    pub fn catalog_url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.dir.path().join("catalog.db").display())
    }

    /// A Graph token for the edits (client secret; the backup itself uses the certificate).
    async fn user_token(&self) -> anyhow::Result<String> {
        let r = self
            .http
            .post(format!("{}/{}/oauth2/v2.0/token", self.emu.base_url(), self.tenant))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", self.client_id.as_str()),
                ("client_secret", self.secret.as_str()),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("token request: {} {}", r.status(), r.text().await.unwrap_or_default());
        }
        let v: Value = r.json().await?;
        v["access_token"].as_str().map(str::to_string).context("token response without access_token")
    }

    /// Stop the emulator (persists its state into the temp dir, which is then deleted).
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.emu.shutdown().await
    }
}
