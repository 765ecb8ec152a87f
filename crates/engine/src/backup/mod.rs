//! Backup: tenant → content store + catalog → restore point.
//!
//! One run = one catalog session at instant `at` (the session's start). OneDrives and document
//! libraries are read with delta (full the first time, incremental afterwards, full scan + diff
//! after a 410 resync); generic lists are listed whole and compared. Work is committed in
//! *checkpoints*: the content store is flushed first, then the catalog batch is committed, so the
//! catalog never references content that is not durable — a backup killed at any moment leaves
//! both consistent, and the next run re-uses whatever the killed one stored.

mod content;
mod drive;
mod lists;
mod scope;
mod state;

use std::cell::Cell;
use std::collections::HashSet;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use m365::GraphClient;
use repo::catalog::{
    Catalog, CatalogError, ContainerInfo, ContainerKind, ContainerQuery, ItemState, LogLevel, NewRestorePoint,
    ObjectKind, ObjectStatus, OneDriveInfo, ProcessedObject, RestorePoint, RestorePointStats, Session, SessionCounters,
    SessionStatus, SiteInfo, StateChange,
};
use repo::store::Repository;
use uuid::Uuid;

use crate::progress::Progress;

pub use scope::BackupScope;

tokio::task_local! {
    /// Warnings of the object being backed up by the current container future ([`Run::processed`]).
    static OBJECT_WARNINGS: Cell<u32>;
}

/// Everything a backup run needs.
#[derive(Clone)]
pub struct BackupContext {
    pub catalog: Catalog,
    pub repo: Repository,
    pub client: GraphClient,
    pub organization_id: Uuid,
    pub job_id: Uuid,
    /// Items processed in parallel.
    pub concurrency: usize,
    /// Items per checkpoint (flush + catalog commit).
    pub checkpoint_items: usize,
    pub progress: Arc<Progress>,
    /// What the run covers (the job's selected and excluded items; default the whole organization).
    pub scope: BackupScope,
}

/// Outcome of a run.
#[derive(Debug, Clone)]
pub struct BackupReport {
    pub session_id: Uuid,
    pub status: SessionStatus,
    pub restore_point: Option<RestorePoint>,
    pub items: u64,
    pub bytes_read: u64,
    pub bytes_stored: u64,
    pub warnings: u64,
    /// Graph/SharePoint requests made during the run.
    pub requests: u64,
}

/// A catalog write waiting for the next checkpoint.
pub(crate) enum Record {
    State { container: Uuid, item: String, state: Box<ItemState> },
    Deleted { container: Uuid, item: String },
    Version { container: Uuid, item: String, version: repo::catalog::VersionInfo },
    Permissions { container: Uuid, item: String, permissions: serde_json::Value },
}

/// Per-run state shared by the container backups.
pub(crate) struct Run {
    pub ctx: BackupContext,
    pub session: Uuid,
    pub at: DateTime<Utc>,
}

impl Run {
    /// Record a warning in the session log; the run goes on.
    pub async fn warn(&self, message: String, item: Option<&str>) {
        tracing::warn!(item, "{message}");
        Progress::add(&self.ctx.progress.warnings, 1);
        // Counted for the object (OneDrive, site) being backed up, if any: see `Run::processed`.
        let _ = OBJECT_WARNINGS.try_with(|w| w.set(w.get() + 1));
        if let Err(e) = self.ctx.catalog.log(self.session, LogLevel::Warning, &message, item).await {
            tracing::error!("could not log warning: {e}");
        }
    }

    /// Runs `work`, the backup of one object (a user's OneDrive, a site), and records how it went for the session's
    /// `ProcessedObjects`: failed when `work` fails, a warning when it warned (counted in [`Run::warn`] while it runs).
    async fn processed<T>(
        &self,
        (kind, id, name): (ObjectKind, &str, &str),
        work: impl std::future::Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        let counted = async { (work.await, OBJECT_WARNINGS.with(Cell::get)) };
        let (result, warnings) = OBJECT_WARNINGS.scope(Cell::new(0), counted).await;
        let status = match (&result, warnings) {
            (Err(_), _) => ObjectStatus::Failed,
            (Ok(_), 0) => ObjectStatus::Success,
            (Ok(_), _) => ObjectStatus::Warning,
        };
        let object = ProcessedObject { kind, id: id.to_string(), name: name.to_string(), status };
        if let Err(e) = self.ctx.catalog.record_processed_object(self.session, &object).await {
            tracing::warn!("could not record how {name} went: {e}");
        }
        result
    }

    pub async fn info(&self, message: String) {
        let _ = self.ctx.catalog.log(self.session, LogLevel::Info, &message, None).await;
    }

    /// Make content durable, then commit the catalog records that reference it.
    pub async fn checkpoint(&self, records: Vec<Record>) -> anyhow::Result<()> {
        self.ctx.repo.flush().await.context("flushing the content store")?;
        let mut batch = self.ctx.catalog.begin().await?;
        for r in records {
            // The session's per-item log names what this run changed (by container and item, which the catalog turns
            // into the item's path: `Catalog::describe_item`); unchanged items stay silent.
            match r {
                Record::State { container, item, state } => {
                    if batch.record_item_state(container, &item, &state, self.at).await? == StateChange::Recorded {
                        let what = if state.is_folder { "folder" } else { "item" };
                        let message = format!("{what} '{}' backed up", state.name);
                        let at = repo::catalog::item_ref(container, &item);
                        batch.log(self.session, LogLevel::Info, &message, Some(&at)).await?;
                    }
                }
                Record::Deleted { container, item } => {
                    if batch.record_item_deleted(container, &item, self.at).await? == StateChange::Closed {
                        let at = repo::catalog::item_ref(container, &item);
                        batch.log(self.session, LogLevel::Info, "deleted since the last backup", Some(&at)).await?;
                    }
                }
                Record::Version { container, item, version } => {
                    batch.record_version(container, &item, &version, self.at).await?;
                }
                Record::Permissions { container, item, permissions } => {
                    batch.record_permissions(container, &item, &permissions, self.at).await?;
                }
            }
        }
        batch.commit().await?;
        // What is committed stays; a stop asked for (from any node) ends the run here.
        if self.ctx.catalog.stop_requested(self.session).await? {
            let items = Progress::get(&self.ctx.progress.items) as i64;
            return Err(BackupStopped { session: self.session, items }.into());
        }
        Ok(())
    }
}

/// How often a running backup refreshes its session's heartbeat (and live counters) in the catalog. Another node
/// may take a session whose heartbeat is older than a few of these intervals for one whose process died
/// ([`repo::catalog::Catalog::fail_stale_sessions`]), so this stays well below any takeover delay.
pub const SESSION_HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(2);

/// Aborts a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn counters_of(p: &Progress, errors: i64) -> SessionCounters {
    SessionCounters {
        processed_items: Progress::get(&p.items) as i64,
        processed_bytes: Progress::get(&p.bytes_read) as i64,
        warnings: Progress::get(&p.warnings) as i64,
        errors,
    }
}

/// A backup refused because its job is running right now (in another process or on another node).
#[derive(Debug, thiserror::Error)]
#[error(
    "this organization is being backed up right now by session {session} (running since {}); not starting a second \
     backup of it",
    since.format("%Y-%m-%d %H:%M:%S UTC")
)]
pub struct BackupBusy {
    /// The running session.
    pub session: Uuid,
    /// When it started.
    pub since: DateTime<Utc>,
}

/// A backup stopped on request ([`repo::catalog::Catalog::request_stop`]) at a checkpoint: what it committed stays,
/// the session ends `Stopped` and the next run resumes from its checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("backup session {session} was stopped on request after {items} items")]
pub struct BackupStopped {
    /// The session.
    pub session: Uuid,
    /// Items it backed up.
    pub items: i64,
}

/// Whether `e` is (or wraps) a [`BackupStopped`].
pub fn stopped(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<BackupStopped>())
}

/// How long a running session's heartbeat must stand still before another run of its job takes it for the session
/// of a process that died (a live run refreshes it every [`SESSION_HEARTBEAT`]).
pub const TAKEOVER_AFTER: std::time::Duration = std::time::Duration::from_secs(3 * SESSION_HEARTBEAT.as_secs());

/// Starts a session of `job_id`. A job runs once at a time (the catalog refuses a second running session): when one
/// is running, its heartbeat is watched for [`TAKEOVER_AFTER`]; if it stood still, that session's process died and the
/// session is failed (its checkpoints stay, so this run resumes from them); if it moved, this run is refused with a
/// message naming the running session, and the running backup is left alone.
async fn start_exclusive_session(catalog: &Catalog, job_id: Uuid) -> anyhow::Result<Session> {
    for _ in 0..3 {
        match catalog.start_session(job_id, Utc::now()).await {
            Ok(session) => return Ok(session),
            Err(CatalogError::Busy(_)) => {}
            Err(e) => return Err(e.into()),
        }
        let Some(seen) = catalog.running_session(job_id).await? else { continue };
        tokio::time::sleep(TAKEOVER_AFTER).await;
        match catalog.running_session(job_id).await? {
            // Still the same heartbeat: its process died (a `false` means it ended meanwhile; either way, retry).
            Some(now) if now.id == seen.id && now.heartbeat_at == seen.heartbeat_at => {
                let failed = catalog.fail_idle_session(seen.id, seen.heartbeat_at).await?;
                if failed {
                    tracing::warn!("backup session {} was interrupted earlier; marked failed", seen.id);
                }
            }
            Some(now) => return Err(BackupBusy { session: now.id, since: now.started_at }.into()),
            None => {}
        }
    }
    anyhow::bail!("could not start a backup session of job {job_id}: another run keeps starting one")
}

/// Run one backup of the organization.
pub async fn run_backup(ctx: &BackupContext) -> anyhow::Result<BackupReport> {
    let session = start_exclusive_session(&ctx.catalog, ctx.job_id).await?;
    run_session(ctx, session).await
}

/// The end of a backup started by [`start_backup`].
pub type BackupRun = tokio::task::JoinHandle<anyhow::Result<BackupReport>>;

/// Starts one backup of the organization in the background: the session exists when this returns (refused with
/// [`BackupBusy`] while a backup of the organization runs, as [`run_backup`] is), the run goes on in a task.
pub async fn start_backup(ctx: BackupContext) -> anyhow::Result<(Session, BackupRun)> {
    let session = start_exclusive_session(&ctx.catalog, ctx.job_id).await?;
    let started = session.clone();
    Ok((session, tokio::spawn(async move { run_session(&ctx, started).await })))
}

/// Backs up the organization in `session`, just started, and ends the session.
async fn run_session(ctx: &BackupContext, session: Session) -> anyhow::Result<BackupReport> {
    let run = Run { ctx: ctx.clone(), session: session.id, at: session.started_at };
    let requests_before = ctx.client.stats.requests.load(std::sync::atomic::Ordering::Relaxed);
    let is_full = ctx.catalog.restore_points(ctx.organization_id).await?.is_empty();
    // The heartbeat tells other nodes this session is alive even while no checkpoint commits (long downloads).
    // Aborted on drop, so a cancelled run (this future dropped) stops claiming the session is alive.
    let heartbeat = AbortOnDrop({
        let (catalog, progress, id) = (ctx.catalog.clone(), ctx.progress.clone(), session.id);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(SESSION_HEARTBEAT).await;
                if let Err(e) = catalog.update_session_counters(id, &counters_of(&progress, 0)).await {
                    tracing::warn!("session {id}: heartbeat failed: {e}");
                }
            }
        })
    });
    let outcome = backup_all(&run).await;
    drop(heartbeat);
    let p = &ctx.progress;
    let counters = counters_of(p, i64::from(outcome.is_err()));
    let (status, restore_point) = match &outcome {
        Ok(containers) => {
            let status = if counters.warnings > 0 { SessionStatus::Warning } else { SessionStatus::Success };
            let stats = RestorePointStats {
                containers: *containers as i64,
                items: counters.processed_items,
                bytes: counters.processed_bytes,
            };
            let rp = ctx
                .catalog
                .finish_session(session.id, status, &counters, Some(NewRestorePoint { is_full, stats }))
                .await?;
            (status, rp)
        }
        Err(e) if stopped(e) => {
            let _ = ctx.catalog.log(session.id, LogLevel::Info, &format!("{e}"), None).await;
            ctx.catalog.finish_session(session.id, SessionStatus::Stopped, &counters, None).await?;
            (SessionStatus::Stopped, None)
        }
        Err(e) => {
            let _ = ctx.catalog.log(session.id, LogLevel::Error, &format!("backup failed: {e:#}"), None).await;
            ctx.catalog.finish_session(session.id, SessionStatus::Failed, &counters, None).await?;
            (SessionStatus::Failed, None)
        }
    };
    if let Err(e) = outcome {
        if stopped(&e) {
            return Err(e);
        }
        return Err(e.context(format!("backup session {} failed", session.id)));
    }
    Ok(BackupReport {
        session_id: session.id,
        status,
        restore_point,
        items: counters.processed_items as u64,
        bytes_read: counters.processed_bytes as u64,
        bytes_stored: Progress::get(&p.bytes_stored),
        warnings: counters.warnings as u64,
        requests: ctx.client.stats.requests.load(std::sync::atomic::Ordering::Relaxed) - requests_before,
    })
}

/// A container that could not be read is a warning (its items keep their previous states and its
/// delta position is not advanced); a failing content store or catalog ends the run.
async fn container_failed(run: &Run, e: anyhow::Error, what: &str, item: &str) -> anyhow::Result<()> {
    let fatal = e
        .chain()
        .any(|c| c.is::<repo::store::StoreError>() || c.is::<repo::catalog::CatalogError>() || c.is::<BackupStopped>());
    if fatal {
        return Err(e.context(format!("backing up {what}")));
    }
    run.warn(format!("{what} not backed up: {e:#}"), Some(item)).await;
    Ok(())
}

/// Discover and back up every container; returns how many were processed.
async fn backup_all(run: &Run) -> anyhow::Result<usize> {
    let ctx = &run.ctx;
    let org = ctx.organization_id;
    let mut seen: HashSet<Uuid> = HashSet::new();

    // Containers are independent: several at once keep the client's request slots busy while one
    // container waits on a catalog commit (the client's semaphore still bounds requests in flight).
    let mut users = ctx.client.users().await.context("listing users")?;
    users.retain(|u| ctx.scope.user(&u.id));
    // Boxed to name the future type: a closure-returned future here trips rustc's Send inference.
    let jobs: Vec<BoxFuture<'_, anyhow::Result<Vec<Uuid>>>> = users
        .iter()
        .map(|u| run.processed((ObjectKind::User, &u.id, &u.user_principal_name), backup_onedrive(run, u)).boxed())
        .collect();
    let mut results = futures::stream::iter(jobs).buffer_unordered(CONTAINERS_IN_PARALLEL);
    while let Some(r) = results.next().await {
        seen.extend(r?);
    }
    drop(results);

    let mut sites = ctx.client.sites().await.context("listing sites")?;
    let mut known: HashSet<String> = sites.iter().map(|s| s.id.clone()).collect();
    // Subsites are containers too; search may or may not return them, so walk the tree.
    let mut i = 0;
    while i < sites.len() {
        for sub in ctx.client.subsites(&sites[i].id).await.unwrap_or_default() {
            if known.insert(sub.id.clone()) {
                sites.push(sub);
            }
        }
        i += 1;
    }
    // Every site is walked (a subsite's parent is found among them); only those in scope are backed up.
    let jobs: Vec<BoxFuture<'_, anyhow::Result<Vec<Uuid>>>> = sites
        .iter()
        .filter(|s| ctx.scope.site(&s.id))
        .map(|s| {
            let name = s.display_name.as_deref().or(s.web_url.as_deref()).unwrap_or(&s.id);
            run.processed((ObjectKind::Site, &s.id, name), backup_site(run, s, &sites)).boxed()
        })
        .collect();
    let mut results = futures::stream::iter(jobs).buffer_unordered(CONTAINERS_IN_PARALLEL);
    while let Some(r) = results.next().await {
        seen.extend(r?);
    }
    drop(results);

    // Containers that existed at the last restore point and are gone now (of those this run covers).
    for kind in [ContainerKind::OneDrive, ContainerKind::Site, ContainerKind::List] {
        let q = ContainerQuery::new(org, run.at).kind(kind).page(0, i64::MAX / 2);
        for c in ctx.catalog.containers_at(&q).await?.rows {
            if !seen.contains(&c.id) && ctx.scope.covers(&c.info) {
                ctx.catalog.record_container_deleted(c.id, run.at).await?;
            }
        }
    }
    Ok(seen.len())
}

/// Containers backed up at the same time.
const CONTAINERS_IN_PARALLEL: usize = 4;

/// A user's OneDrive; returns the catalog ids that are still protected.
async fn backup_onedrive(run: &Run, user: &m365::types::User) -> anyhow::Result<Vec<Uuid>> {
    let ctx = &run.ctx;
    let org = ctx.organization_id;
    let drive = match ctx.client.user_drive(&user.id).await {
        Ok(Some(d)) => d,
        Ok(None) => {
            run.info(format!("{} has no OneDrive; skipped", user.user_principal_name)).await;
            return Ok(Vec::new());
        }
        Err(e) => {
            run.warn(format!("OneDrive of {}: {e}", user.user_principal_name), Some(&user.id)).await;
            // Not readable now is not deleted: keep what the catalog has.
            return Ok(ctx.catalog.container_id(org, ContainerKind::OneDrive, &user.id).await?.into_iter().collect());
        }
    };
    let info = ContainerInfo::OneDrive(OneDriveInfo {
        user_id: user.id.clone(),
        upn: user.user_principal_name.clone(),
        display_name: user.display_name.clone().unwrap_or_default(),
        drive_id: drive.id.clone(),
    });
    let (cid, _) = ctx.catalog.record_container(org, &info, run.at).await?;
    if let Err(e) = drive::backup_drive(run, cid, &drive.id).await {
        container_failed(run, e, &format!("OneDrive of {}", user.user_principal_name), &drive.id).await?;
    }
    Progress::add(&ctx.progress.containers, 1);
    Ok(vec![cid])
}

/// A site and its lists; returns the catalog ids that are still protected.
async fn backup_site(run: &Run, site: &m365::types::Site, all: &[m365::types::Site]) -> anyhow::Result<Vec<Uuid>> {
    let ctx = &run.ctx;
    let org = ctx.organization_id;
    // A subsite lives in its parent's site collection (the second part of a Graph site id) under
    // the parent's URL; the closest such site is the parent. Other collections' URLs can be
    // prefixes too (the tenant root site's is a prefix of every URL), so they do not count.
    let collection = |s: &m365::types::Site| s.id.split(',').nth(1).map(str::to_string);
    let url = site.web_url.as_deref().unwrap_or("");
    let parent = all
        .iter()
        .filter(|p| p.id != site.id && collection(p) == collection(site))
        .filter_map(|p| {
            let purl = p.web_url.as_deref()?;
            url.starts_with(&format!("{}/", purl.trim_end_matches('/'))).then_some((purl.len(), p.id.clone()))
        })
        .max()
        .map(|(_, id)| id);
    let info = ContainerInfo::Site(SiteInfo {
        site_id: site.id.clone(),
        url: site.web_url.clone().unwrap_or_default(),
        title: site.display_name.clone().or(site.name.clone()).unwrap_or_default(),
        parent_site_id: parent,
    });
    let (sid, _) = ctx.catalog.record_container(org, &info, run.at).await?;
    let mut seen = vec![sid];
    Progress::add(&ctx.progress.containers, 1);
    let lists = match ctx.client.lists(&site.id).await {
        Ok(l) => l,
        Err(e) => {
            run.warn(format!("lists of site {}: {e}", site.id), Some(&site.id)).await;
            let q = ContainerQuery::new(org, run.at)
                .kind(ContainerKind::List)
                .parent_ref(site.id.clone())
                .page(0, i64::MAX / 2);
            seen.extend(ctx.catalog.containers_at(&q).await?.rows.into_iter().map(|c| c.id));
            return Ok(seen);
        }
    };
    for list in lists {
        match lists::backup_list(run, site, &list).await {
            Ok(cid) => {
                seen.push(cid);
                Progress::add(&ctx.progress.containers, 1);
            }
            Err(e) => {
                // Keep the list's identity so it is not taken for deleted.
                if let Ok(Some(cid)) = ctx.catalog.container_id(org, ContainerKind::List, &list.id).await {
                    seen.push(cid);
                }
                container_failed(run, e, &format!("list {} of {}", list.id, site.id), &list.id).await?
            }
        }
    }
    Ok(seen)
}
