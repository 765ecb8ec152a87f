//! The backups the API starts (`POST /Jobs/{id}/start`): run in this process, like `vault365 backup`, with the
//! organization's credentials from the data directory. `serve` and `demo` hand it to the API ([`api::StartBackup`]).

use std::sync::Arc;

use engine::BackupBusy;
use futures::future::BoxFuture;
use repo::catalog::{Catalog, Job, Session};
use repo::store::Repository;

use crate::config::Config;
use crate::setup;

/// Items a backup started over the API processes in parallel (the CLI's default).
const CONCURRENCY: usize = 8;

/// Starts backup runs for the API; see the module docs.
#[derive(Clone)]
pub struct ApiBackups {
    pub cfg: Config,
    pub catalog: Catalog,
    pub repo: Repository,
}

impl ApiBackups {
    /// What `AppState::backups` holds.
    pub fn shared(cfg: &Config, catalog: &Catalog, repo: &Repository) -> Arc<dyn api::StartBackup> {
        Arc::new(ApiBackups { cfg: cfg.clone(), catalog: catalog.clone(), repo: repo.clone() })
    }

    async fn start_run(&self, job: Job) -> Result<Session, api::StartRefused> {
        let failed = |e: anyhow::Error| api::StartRefused::Failed(format!("{e:#}"));
        let org = self.catalog.organization(job.organization_id).await.map_err(|e| failed(e.into()))?;
        let org = org.ok_or_else(|| api::StartRefused::Failed("the job's organization no longer exists".into()))?;
        let ctx =
            setup::backup_context(&self.cfg, &self.catalog, &self.repo, (&org, &job), CONCURRENCY).map_err(failed)?;
        let (session, run) = engine::start_backup(ctx).await.map_err(|e| match e.downcast_ref::<BackupBusy>() {
            Some(busy) => api::StartRefused::Busy(busy.to_string()),
            None => failed(e),
        })?;
        let name = job.name.clone();
        tokio::spawn(async move {
            match run.await {
                Ok(Ok(r)) => tracing::info!(session = %r.session_id, "backup of job {name:?} ended {:?}", r.status),
                Ok(Err(e)) => tracing::warn!("backup of job {name:?} failed: {e:#}"),
                Err(e) => tracing::error!("backup of job {name:?} stopped: {e}"),
            }
        });
        Ok(session)
    }
}

impl api::StartBackup for ApiBackups {
    fn start(&self, job: Job) -> BoxFuture<'static, Result<Session, api::StartRefused>> {
        let this = self.clone();
        Box::pin(async move { this.start_run(job).await })
    }
}
