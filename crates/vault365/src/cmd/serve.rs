//! `vault365 serve`: the Veeam-compatible REST API over HTTPS until SIGTERM or Ctrl-C.

use anyhow::Context;

use crate::config::Config;
use crate::setup;

/// Serves until SIGTERM / Ctrl-C; with `worker`, also works the cluster queue in this process (see
/// `cmd::worker`), so every node of a cluster can be one `serve --worker`.
pub async fn run(cfg: &Config, worker: Option<crate::cmd::worker::WorkerArgs>) -> anyhow::Result<()> {
    let catalog = setup::catalog(cfg).await?;
    let repo = setup::repository(cfg).await?;
    let worker = match worker {
        Some(args) => {
            let options = crate::cmd::worker::worker_options(&args)?;
            let (cfg, catalog, repo) = (cfg.clone(), catalog.clone(), repo.clone());
            tracing::info!("worker {} runs in this process", options.node);
            Some(tokio::spawn(async move {
                let never = std::future::pending::<()>();
                if let Err(e) = crate::cmd::worker::work(&cfg, catalog, repo, options, args.concurrency, never).await {
                    tracing::error!("the worker stopped: {e:#}");
                }
            }))
        }
        None => None,
    };
    let state = api::AppState::new(catalog.clone(), Some(repo), &cfg.data_dir);
    let running = api::start(&cfg.api, state).await.context("starting the API server")?;
    if api::store::accounts::list_users(catalog.pool()).await?.is_empty() {
        tracing::warn!("no API accounts yet: create one with `vault365 user add --name NAME`");
    }
    println!("API listening on https://{} (certificate {})", running.addr, running.cert_path.display());
    crate::shutdown::signal().await;
    tracing::info!("shutting down the API");
    if let Some(w) = worker {
        // A task it was running is taken over by another node once its heartbeat is stale.
        w.abort();
    }
    running.shutdown().await;
    Ok(())
}
