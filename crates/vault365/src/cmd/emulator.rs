//! `vault365 emulator`: run the tenant emulator.

use std::net::SocketAddr;
use std::path::PathBuf;

pub async fn run(
    listen: SocketAddr,
    state: PathBuf,
    seed: Option<String>,
    public_url: Option<String>,
) -> anyhow::Result<()> {
    let running = emulator::start(emulator::EmulatorConfig { listen, state_dir: state, seed, public_url }).await?;
    let (tenant, app, summary) = {
        let st = running.emu.state();
        (st.tenant.clone(), emulator::seed::default_app(&st), emulator::seed::summary(&st))
    };
    tracing::info!(
        users = summary.users,
        sites = summary.sites,
        files = summary.files,
        versions = summary.versions,
        bytes = summary.bytes_all_versions,
        "tenant loaded"
    );
    println!(
        "vault365 emulator ready url={} tenant={} domain={} client_id={} client_secret={}",
        running.base_url(),
        tenant.id,
        tenant.domain(),
        app.client_id,
        app.secret.unwrap_or_default()
    );
    running.wait_for_signal().await
}
