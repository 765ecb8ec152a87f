//! `vault365 demo`: everything in one process with embedded defaults — a seeded tenant emulator,
//! the organization registered, two backups with changes in between, an admin account, and the
//! API over HTTPS. Re-running with the same `--dir` reuses all of it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use bytes::Bytes;
use reqwest::Method;
use serde_json::json;

use crate::cmd;
use crate::config::Config;
use crate::setup;

const ORG: &str = "contoso";
const ADMIN: &str = "admin";
const SEED: &str = "users=5,files=200,versions=3,sites=2,items=10";

pub async fn run(dir: PathBuf, port: u16) -> anyhow::Result<()> {
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let emulator = emulator::start(emulator::EmulatorConfig {
        listen: "127.0.0.1:0".parse().expect("literal address"),
        state_dir: dir.join("tenant"),
        seed: Some(SEED.into()),
        public_url: None,
    })
    .await
    .context("starting the tenant emulator")?;

    let data = dir.join("data");
    std::fs::create_dir_all(&data)?;
    let mut cfg = Config::load(None)?;
    cfg.data_dir = data.clone();
    cfg.catalog_url = None;
    cfg.repository.path = None;
    cfg.repository.password_file = Some(secret_file(&data.join("repository.password"))?);
    cfg.api.listen = format!("127.0.0.1:{port}").parse()?;
    // The emulator's port changes on every start; keep the organization pointing at it.
    let catalog = setup::catalog(&cfg).await?;
    match catalog.organization_by_name(ORG).await? {
        None => {
            let args = cmd::org::AddArgs {
                name: ORG.into(),
                tenant: None,
                client_id: None,
                client_secret: None,
                certificate: None,
                private_key: None,
                authority: None,
                graph: None,
                emulator: Some(emulator.base_url()),
                requests_per_minute: None,
            };
            cmd::org::add(&cfg, args).await?;
        }
        Some(mut org) => {
            let mut conn: setup::OrgConnection = serde_json::from_value(org.config.clone())?;
            conn.endpoints = m365::Endpoints::emulator(&emulator.base_url());
            org.config = serde_json::to_value(&conn)?;
            catalog.update_organization(&org).await?;
        }
    }
    let org = setup::organization(&catalog, ORG).await?;
    if catalog.restore_points(org.id).await?.len() < 2 {
        cmd::backup::backup_once(&cfg, ORG, None, 8, 200, cmd::backup::Output::QUIET).await?;
        change_tenant(&cfg, &org).await.context("changing the demo tenant between backups")?;
        cmd::backup::backup_once(&cfg, ORG, None, 8, 200, cmd::backup::Output::QUIET).await?;
    }

    let admin_password = std::fs::read_to_string(secret_file(&data.join("admin.password"))?)?;
    if api::store::accounts::find_user(catalog.pool(), ADMIN).await?.is_none() {
        api::store::accounts::add_user(catalog.pool(), ADMIN, &admin_password).await?;
    }
    let repo = setup::repository(&cfg).await?;
    let mut state = api::AppState::new(catalog.clone(), Some(repo.clone()), &cfg.data_dir);
    state.backups = Some(crate::cmd::api_backups::ApiBackups::shared(&cfg, &catalog, &repo));
    // Restores write to the tenant the organization is registered with (here the emulator, not Microsoft's cloud),
    // signing in with the organization's app.
    let conn: setup::OrgConnection = serde_json::from_value(org.config.clone())?;
    state.restore_access.set(api::RestoreAccess { endpoints: conn.endpoints, client_id: Some(conn.client_id) });
    let running = api::start(&cfg.api, state).await.context("starting the API server")?;
    println!(
        "vault365 demo ready url=https://{} user={ADMIN} password={admin_password} organization={ORG} emulator={}",
        running.addr,
        emulator.base_url()
    );
    crate::shutdown::signal().await;
    running.shutdown().await;
    emulator.shutdown().await?;
    Ok(())
}

/// A random secret kept in `path` (created owner-only on first use), so restarts reuse it.
fn secret_file(path: &Path) -> anyhow::Result<PathBuf> {
    if !path.exists() {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut raw = [0u8; 12];
        getrandom(&mut raw);
        let secret: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
        f.write_all(secret.as_bytes())?;
    }
    Ok(path.to_path_buf())
}

fn getrandom(buf: &mut [u8]) {
    // uuid v4 draws from the OS generator.
    for chunk in buf.chunks_mut(16) {
        let r = uuid::Uuid::new_v4();
        chunk.copy_from_slice(&r.as_bytes()[..chunk.len()]);
    }
}

/// What users do between two backups: edit, rename, delete, add.
async fn change_tenant(cfg: &Config, org: &repo::catalog::Organization) -> anyhow::Result<()> {
    let client = setup::client_for(cfg, org, 4)?;
    let user = client.users().await?.into_iter().next().context("the demo tenant has users")?;
    let drive = client.user_drive(&user.id).await?.context("the first user has a OneDrive")?;
    let (items, _) = client.delta_all(&client.drive_delta_start(&drive.id)).await?;
    let files: Vec<String> = items
        .iter()
        .filter(|i| i.get("file").is_some() && i.get("deleted").is_none())
        .filter_map(|i| i.get("id").and_then(|v| v.as_str()).map(str::to_string))
        .collect();
    anyhow::ensure!(files.len() >= 3, "the demo drive has at least three files");
    let d = &drive.id;
    put(
        &client,
        &format!("/drives/{d}/items/{}/content", files[0]),
        Bytes::from_static(b"Edited after the first backup.\n"),
    )
    .await?;
    client
        .send_json(
            Method::PATCH,
            &format!("/drives/{d}/items/{}", files[1]),
            &json!({"name": "Renamed by the demo.txt"}),
        )
        .await?;
    client.send_json(Method::DELETE, &format!("/drives/{d}/items/{}", files[2]), &json!(null)).await?;
    put(
        &client,
        &format!("/drives/{d}/root:/Demo/Added after the first backup.txt:/content"),
        Bytes::from_static(b"New file.\n"),
    )
    .await?;
    Ok(())
}

async fn put(client: &m365::GraphClient, path: &str, body: Bytes) -> anyhow::Result<()> {
    let mut call = client.graph_call(Method::PUT, path);
    call.body = Some(body);
    call.headers.push(("content-type", "application/octet-stream".into()));
    let resp = client.send(call).await?;
    if !resp.status().is_success() {
        return Err(m365::client::error_of(resp).await.into());
    }
    Ok(())
}
