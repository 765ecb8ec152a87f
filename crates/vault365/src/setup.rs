//! Opening the catalog, the repository and an organization's Graph client from the configuration.

use std::path::PathBuf;

use anyhow::{bail, Context};
use m365::{Credential, Endpoints, GraphClient, TenantConfig};
use repo::catalog::{Catalog, Organization};
use repo::store::{local_store, s3_store, Repository, StoreError};
use serde::{Deserialize, Serialize};

use crate::config::Config;

pub async fn catalog(cfg: &Config) -> anyhow::Result<Catalog> {
    std::fs::create_dir_all(&cfg.data_dir).with_context(|| format!("creating {}", cfg.data_dir.display()))?;
    let catalog = Catalog::connect(&cfg.catalog_url()).await.context("opening the catalog")?;
    Ok(catalog)
}

/// Open the repository (a local directory, or an S3 bucket when one is configured); create it on first use (an
/// empty location). On a bucket shared by several nodes, two first starts racing are safe: the `config` object is
/// written with a conditional put, so the loser opens the winner's repository.
/// Said once, by the process that creates the repository: losing its password loses every backup.
fn announce_new_repository(location: &str, source: &str) {
    eprintln!(
        "vault365: CREATED A NEW REPOSITORY at {location}\n\
         vault365: it is encrypted with the password from {source}.\n\
         vault365: keep that password safe and apart from this server: it cannot be recovered, and without it no backup \
         in this repository can be read."
    );
}

pub async fn repository(cfg: &Config) -> anyhow::Result<Repository> {
    let password = cfg.repository_password()?;
    let (store, location) = match cfg.s3_config()? {
        Some(s3) => {
            let location = format!(
                "s3 bucket {}{} at {}",
                s3.bucket,
                s3.prefix.as_deref().map(|p| format!("/{p}")).unwrap_or_default(),
                s3.endpoint.as_deref().unwrap_or("AWS")
            );
            (s3_store(&s3).with_context(|| format!("repository in {location}"))?, location)
        }
        None => {
            let path = cfg.repository_path();
            (
                local_store(&path).with_context(|| format!("repository at {}", path.display()))?,
                path.display().to_string(),
            )
        }
    };
    let open = |store| async { Repository::open(store, &password).await };
    let result = match open(store.clone()).await {
        Err(StoreError::NotARepository(_)) => match Repository::init(store.clone(), &password).await {
            Err(StoreError::AlreadyInitialized) => open(store).await,
            Ok(repo) => {
                announce_new_repository(&location, &cfg.repository_password_source());
                Ok(repo)
            }
            other => other,
        },
        other => other,
    };
    match result {
        Ok(r) => Ok(r),
        Err(StoreError::WrongPassword) => {
            bail!("wrong repository password for {location} (check VAULT365_REPO_PASSWORD / password_file)")
        }
        Err(e) => Err(e).with_context(|| format!("opening the repository at {location}")),
    }
}

/// How an organization's app authenticates; stored in the credentials directory, never in the catalog.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum StoredCredential {
    Secret { secret: String },
    Certificate { key_pkcs8_der_b64: String, cert_der_b64: String },
}

/// What the catalog keeps about how to reach an organization (no secrets).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgConnection {
    pub endpoints: Endpoints,
    pub tenant: String,
    pub client_id: String,
    /// File under the credentials directory.
    pub credential_file: String,
    /// Per-tenant request budget (requests a minute) the client keeps below; none = unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_minute: Option<u32>,
}

pub fn credential_path(cfg: &Config, file: &str) -> PathBuf {
    cfg.credentials_dir().join(file)
}

pub fn client_for(cfg: &Config, org: &Organization, concurrency: usize) -> anyhow::Result<GraphClient> {
    use base64::Engine;
    let conn: OrgConnection = serde_json::from_value(org.config.clone())
        .with_context(|| format!("organization '{}' has no connection settings", org.name))?;
    let path = credential_path(cfg, &conn.credential_file);
    let stored: StoredCredential = serde_json::from_slice(
        &std::fs::read(&path).with_context(|| format!("reading credentials {}", path.display()))?,
    )?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let credential = match stored {
        StoredCredential::Secret { secret } => Credential::Secret(secret),
        StoredCredential::Certificate { key_pkcs8_der_b64, cert_der_b64 } => Credential::Certificate {
            key_pkcs8_der: b64.decode(key_pkcs8_der_b64)?,
            cert_der: b64.decode(cert_der_b64)?,
            pss: true,
        },
    };
    let client = GraphClient::new(
        TenantConfig { endpoints: conn.endpoints, tenant: conn.tenant, client_id: conn.client_id, credential },
        concurrency,
    )?;
    Ok(match conn.requests_per_minute {
        Some(n) => client.with_request_budget(n),
        None => client,
    })
}

/// Items per checkpoint of the backups no command line sets (API starts, queued runs): the CLI's default.
pub const CHECKPOINT_ITEMS: usize = 200;

/// What a backup of `job` of `org` needs: the organization's client (its credentials from the data directory), the
/// job's scope, fresh progress counters, [`CHECKPOINT_ITEMS`] per checkpoint.
pub fn backup_context(
    cfg: &Config,
    catalog: &Catalog,
    repo: &Repository,
    (org, job): (&Organization, &repo::catalog::Job),
    concurrency: usize,
) -> anyhow::Result<engine::BackupContext> {
    Ok(engine::BackupContext {
        client: client_for(cfg, org, concurrency)?,
        catalog: catalog.clone(),
        repo: repo.clone(),
        organization_id: org.id,
        job_id: job.id,
        concurrency,
        checkpoint_items: CHECKPOINT_ITEMS,
        progress: Default::default(),
        scope: scope_of(job)?,
    })
}

/// What a run of `job` covers (its selected and excluded items).
pub fn scope_of(job: &repo::catalog::Job) -> anyhow::Result<engine::BackupScope> {
    let settings = engine::job::JobSettings::from_stored(&job.settings)
        .with_context(|| format!("job {:?} has unreadable settings; save it again", job.name))?;
    Ok(engine::BackupScope::of(&settings))
}

/// The name of the job `vault365 backup --org N` runs when no `--job` is given: the whole organization.
pub const DEFAULT_JOB: &str = "default";

/// The job a backup runs: the one named `name`, or (none given) the organization's [`DEFAULT_JOB`] — the whole
/// organization, created on first use — so `backup --org N` backs up everything whatever other jobs exist.
pub async fn job_of(catalog: &Catalog, org: &Organization, name: Option<&str>) -> anyhow::Result<repo::catalog::Job> {
    let wanted = name.unwrap_or(DEFAULT_JOB);
    let find = || async { anyhow::Ok(catalog.jobs(org.id).await?.into_iter().find(|j| j.name == wanted)) };
    if let Some(job) = find().await? {
        return Ok(job);
    }
    if name.is_some() {
        anyhow::bail!("organization '{0}' has no job named '{wanted}' (see `vault365 job list --org {0}`)", org.name);
    }
    match catalog.create_job(org.id, DEFAULT_JOB).await {
        Ok(job) => Ok(job),
        // Another process created it a moment ago.
        Err(repo::catalog::CatalogError::AlreadyExists(_)) => find().await?.context("the default job vanished"),
        Err(e) => Err(e.into()),
    }
}

/// The organization named `name` (an error naming it when there is none), or every organization when `None`: what
/// the `--org` option of the listing commands selects.
pub async fn organizations(catalog: &Catalog, name: Option<&str>) -> anyhow::Result<Vec<Organization>> {
    match name {
        Some(name) => Ok(vec![organization(catalog, name).await?]),
        None => Ok(catalog.organizations().await?),
    }
}

pub async fn organization(catalog: &Catalog, name: &str) -> anyhow::Result<Organization> {
    catalog
        .organization_by_name(name)
        .await?
        .with_context(|| format!("no organization named '{name}' (add one with `vault365 org add`)"))
}
