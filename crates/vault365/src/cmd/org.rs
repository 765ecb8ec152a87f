//! `vault365 org add|edit|list|test`: register the tenants to protect, and check that vault365 can read them.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use base64::Engine;
use m365::Endpoints;
use repo::catalog::NewOrganization;
use serde_json::Value;

use crate::config::Config;
use crate::setup::{self, OrgConnection, StoredCredential};

/// Arguments of `org add`.
pub struct AddArgs {
    pub name: String,
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub certificate: Option<PathBuf>,
    pub private_key: Option<PathBuf>,
    pub authority: Option<String>,
    pub graph: Option<String>,
    /// Register against a vault365 tenant emulator at this URL (credentials fetched from it, a
    /// fresh certificate registered on its app so SharePoint REST works).
    pub emulator: Option<String>,
    /// Keep this tenant's traffic under N requests a minute.
    pub requests_per_minute: Option<u32>,
}

pub async fn add(cfg: &Config, a: AddArgs) -> anyhow::Result<()> {
    let catalog = setup::catalog(cfg).await?;
    if catalog.organization_by_name(&a.name).await?.is_some() {
        bail!("an organization named '{}' already exists", a.name);
    }
    let (endpoints, tenant, domain, client_id, credential) = match &a.emulator {
        Some(url) => from_emulator(url).await?,
        None => {
            let tenant = a.tenant.clone().context("--tenant is required (tenant id or domain)")?;
            let client_id = a.client_id.clone().context("--client-id is required")?;
            let mut endpoints = Endpoints::microsoft();
            if let Some(x) = &a.authority {
                endpoints.authority = x.trim_end_matches('/').to_string();
            }
            if let Some(x) = &a.graph {
                endpoints.graph = x.trim_end_matches('/').to_string();
            }
            let credential = credential_from(a.client_secret.clone(), a.certificate.as_ref(), a.private_key.as_ref())?
                .context("give either --client-secret, or --certificate and --private-key (PEM files)")?;
            (endpoints, tenant.clone(), tenant, client_id, credential)
        }
    };
    check_request_budget(a.requests_per_minute)?;
    let file = store_credential(cfg, &credential)?;
    let conn = OrgConnection {
        endpoints,
        tenant: tenant.clone(),
        client_id,
        credential_file: file,
        requests_per_minute: a.requests_per_minute,
    };
    let org = catalog
        .create_organization(&NewOrganization {
            name: a.name.clone(),
            tenant_id: tenant,
            tenant_domain: domain,
            config: serde_json::to_value(&conn)?,
        })
        .await?;
    catalog.create_job(org.id, "default").await?;
    println!("organization added name={} id={}", org.name, org.id);
    Ok(())
}

/// Arguments of `org edit`: what changes (`None` keeps it).
pub struct EditArgs {
    pub rename: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub certificate: Option<PathBuf>,
    pub private_key: Option<PathBuf>,
    pub requests_per_minute: Option<u32>,
}

/// Changes an organization. New credentials go to a new file first, the catalog second and the old file is removed
/// last, so a crash at any step leaves the organization with working (old or new) credentials.
pub async fn edit(cfg: &Config, name: &str, e: EditArgs) -> anyhow::Result<()> {
    let catalog = setup::catalog(cfg).await?;
    let mut org = setup::organization(&catalog, name).await?;
    let mut conn: OrgConnection = serde_json::from_value(org.config.clone())
        .with_context(|| format!("organization '{}' has no connection settings", org.name))?;
    check_request_budget(e.requests_per_minute)?;
    let credential = credential_from(e.client_secret, e.certificate.as_ref(), e.private_key.as_ref())?;
    let mut changed = Vec::new();
    let old_file = conn.credential_file.clone();
    if let Some(credential) = &credential {
        conn.credential_file = store_credential(cfg, credential)?;
        changed.push("credentials");
    }
    if let Some(id) = e.client_id {
        conn.client_id = id;
        changed.push("client_id");
    }
    if let Some(n) = e.requests_per_minute {
        conn.requests_per_minute = Some(n);
        changed.push("requests_per_minute");
    }
    if let Some(new_name) = e.rename {
        if new_name.trim().is_empty() {
            bail!("--rename: the name is empty");
        }
        org.name = new_name;
        changed.push("name");
    }
    if changed.is_empty() {
        bail!("nothing to change: give --client-secret, --certificate/--private-key, --client-id, --requests-per-minute or --rename");
    }
    org.config = serde_json::to_value(&conn)?;
    if let Err(err) = catalog.update_organization(&org).await {
        if credential.is_some() {
            let _ = std::fs::remove_file(setup::credential_path(cfg, &conn.credential_file));
        }
        return Err(err.into());
    }
    if credential.is_some() {
        if let Err(err) = std::fs::remove_file(setup::credential_path(cfg, &old_file)) {
            tracing::warn!("the replaced credentials file {old_file} could not be removed: {err}");
        }
    }
    println!("organization changed name={} id={} changed={}", org.name, org.id, changed.join(","));
    Ok(())
}

pub async fn list(cfg: &Config) -> anyhow::Result<()> {
    let catalog = setup::catalog(cfg).await?;
    for o in catalog.organizations().await? {
        println!("{}\t{}\t{}", o.id, o.name, o.tenant_domain);
    }
    Ok(())
}

/// The credential the options give: an app secret, or a certificate with its key; `None` when none is given.
fn credential_from(
    secret: Option<String>,
    certificate: Option<&PathBuf>,
    private_key: Option<&PathBuf>,
) -> anyhow::Result<Option<StoredCredential>> {
    Ok(match (secret, certificate, private_key) {
        (None, None, None) => None,
        (Some(secret), None, None) => Some(StoredCredential::Secret { secret }),
        (None, Some(cert), Some(key)) => Some(certificate_from_files(cert, key)?),
        _ => bail!("give either --client-secret, or --certificate and --private-key (PEM files)"),
    })
}

/// Writes `credential` to a new owner-only file under the credentials directory; its name.
fn store_credential(cfg: &Config, credential: &StoredCredential) -> anyhow::Result<String> {
    let file = format!("{}.json", uuid::Uuid::new_v4());
    write_private(&setup::credential_path(cfg, &file), &serde_json::to_vec(credential)?)?;
    Ok(file)
}

/// `--requests-per-minute`, when given, is at least 1 (checked before anything is written).
fn check_request_budget(requests_per_minute: Option<u32>) -> anyhow::Result<()> {
    if requests_per_minute == Some(0) {
        bail!("--requests-per-minute must be at least 1");
    }
    Ok(())
}

fn certificate_from_files(cert: &PathBuf, key: &PathBuf) -> anyhow::Result<StoredCredential> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let cert_pem = std::fs::read_to_string(cert).with_context(|| format!("reading {}", cert.display()))?;
    let key_pem = std::fs::read_to_string(key).with_context(|| format!("reading {}", key.display()))?;
    let cert_der = pem_body(&cert_pem, "CERTIFICATE").context("--certificate is not a PEM certificate")?;
    let key_der = pem_body(&key_pem, "PRIVATE KEY").context("--private-key is not a PEM PKCS#8 private key")?;
    Ok(StoredCredential::Certificate { key_pkcs8_der_b64: b64.encode(key_der), cert_der_b64: b64.encode(cert_der) })
}

fn pem_body(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = pem[start..].find(&end)? + start;
    let body: String = pem[start..stop].chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

/// Secrets are written owner-only.
fn write_private(path: &PathBuf, bytes: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(bytes)?;
    Ok(())
}

async fn from_emulator(url: &str) -> anyhow::Result<(Endpoints, String, String, String, StoredCredential)> {
    let base = url.trim_end_matches('/');
    let http = reqwest::Client::new();
    let creds: Value = http
        .get(format!("{base}/_emulator/credentials"))
        .send()
        .await
        .with_context(|| format!("reaching the emulator at {base}"))?
        .error_for_status()?
        .json()
        .await?;
    let field = |path: &[&str]| -> anyhow::Result<String> {
        let mut v = &creds;
        for p in path {
            v = &v[*p];
        }
        v.as_str().map(str::to_string).with_context(|| format!("emulator credentials lack {}", path.join(".")))
    };
    let tenant = field(&["tenantId"])?;
    let domain = field(&["domain"])?;
    let client_id = field(&["clientId"])?;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)?;
    let cert = rcgen::CertificateParams::new(vec!["vault365".into()])?.self_signed(&key)?;
    http.post(format!("{base}/_emulator/apps/{client_id}/certificates"))
        .json(&serde_json::json!({"certificate": cert.pem()}))
        .send()
        .await?
        .error_for_status()
        .context("registering the certificate on the emulator's app")?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let credential = StoredCredential::Certificate {
        key_pkcs8_der_b64: b64.encode(key.serialize_der()),
        cert_der_b64: b64.encode(cert.der()),
    };
    Ok((Endpoints::emulator(base), tenant, domain, client_id, credential))
}

/// What a backup reads first, each with the application permission it needs.
const PROBES: &[(&str, &str, &str)] = &[
    ("users", "/users?$top=1&$select=id,userPrincipalName", "User.Read.All"),
    ("sites", "/sites?search=*&$top=1", "Sites.Read.All"),
];

/// Signs in with the stored credentials and reads one user and one site; a refusal names what is wrong (the
/// credentials, or the application permission to grant).
pub async fn test(cfg: &Config, name: &str) -> anyhow::Result<()> {
    let catalog = setup::catalog(cfg).await?;
    let org = setup::organization(&catalog, name).await?;
    let client = setup::client_for(cfg, &org, 1)?;
    let mut seen = Vec::new();
    for (what, path, permission) in PROBES {
        let page: Value = client.get_json(path).await.map_err(|e| probe_error(&org.name, what, permission, e))?;
        let n = page["value"].as_array().map_or(0, Vec::len);
        seen.push(format!("{what}={}", if n > 0 { "readable" } else { "none" }));
    }
    println!("org test ok name={} {}", org.name, seen.join(" "));
    Ok(())
}

fn probe_error(org: &str, what: &str, permission: &str, e: m365::M365Error) -> anyhow::Error {
    match &e {
        m365::M365Error::Token { .. } => {
            anyhow::anyhow!("organization '{org}': the tenant refused the app's credentials: {e}")
        }
        m365::M365Error::Api { status: 401 | 403, .. } => anyhow::anyhow!(
            "organization '{org}': reading {what} was refused: grant the app the application permission {permission} \
             (with admin consent): {e}"
        ),
        _ => anyhow::anyhow!("organization '{org}': reading {what} failed: {e}"),
    }
}
