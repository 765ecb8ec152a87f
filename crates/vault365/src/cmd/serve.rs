//! `vault365 serve`: the Veeam-compatible REST API over HTTPS until SIGTERM or Ctrl-C.

use anyhow::Context;

use crate::config::Config;
use crate::setup;

/// How often the scheduler looks for due runs: a run starts at most this late.
const SCHEDULER_TICK: std::time::Duration = std::time::Duration::from_secs(15);

/// Serves until SIGTERM / Ctrl-C and runs the job scheduler (due scheduled runs become backup tasks of the queue,
/// each once across the cluster: `cluster::Scheduler`); with `worker`, also works the cluster queue in this process
/// (see `cmd::worker`), so every node of a cluster can be one `serve --worker`.
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
    let time_zone = cfg.api.schedule_time_zone().map_err(anyhow::Error::msg)?;
    let scheduler = cluster::Scheduler::open(&catalog, time_zone).await?;
    if worker.is_none() {
        tracing::info!(
            "scheduled backups are queued for the workers: run `vault365 serve --worker` (or `vault365 worker`) on \
             at least one node to run them"
        );
    }
    let scheduler = tokio::spawn(scheduler.run(SCHEDULER_TICK, std::future::pending::<()>()));
    let mut state = api::AppState::new(catalog.clone(), Some(repo.clone()), &cfg.data_dir);
    state.backups = Some(crate::cmd::api_backups::ApiBackups::shared(cfg, &catalog, &repo));
    let running = api::start(&cfg.api, state).await.context("starting the API server")?;
    if api::store::accounts::list_users(catalog.pool()).await?.is_empty() {
        tracing::warn!("no API accounts yet: create one with `vault365 user add --name NAME`");
    }
    println!("API listening on https://{} (certificate {})", running.addr, running.cert_path.display());
    crate::shutdown::signal().await;
    tracing::info!("shutting down the API");
    scheduler.abort();
    if let Some(w) = worker {
        // A task it was running is taken over by another node once its heartbeat is stale.
        w.abort();
    }
    running.shutdown().await;
    Ok(())
}
