//! The *restore small files* benchmark: N small files of one backed-up OneDrive written back to the emulated
//! tenant with `engine::restore::restore_onedrive`, counting the requests the tenant answers (server side, the
//! emulator's counters) per restored file — the ideal is one upload per file — and items per second.
//!
//! Two runs over the same selection:
//! 1. **original** — the files were deleted in the tenant after the backup and are restored to where they were;
//! 2. **copy** — the same files restored into another user's OneDrive under a new folder ("copyTo").

use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use engine::restore::{restore_onedrive, Destination, DocumentAction, LastVersionAction, RestoreOptions, Selection};
use repo::catalog::{ContainerInfo, ContainerKind, ContainerQuery};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::measure::ServerRequests;
use crate::setup::World;

/// Name of the benchmark in [`RestoreResult::benchmark`].
pub const BENCHMARK: &str = "restore-small-files";

/// Files restored by default.
pub const DEFAULT_FILES: usize = 500;

/// Files below this size are "small": Graph takes them in one simple upload (no upload session).
const SMALL: u64 = 4 * 1024 * 1024;

/// What to benchmark.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreBenchOptions {
    /// Small files restored per run.
    pub files: usize,
    /// Average file size in bytes (the emulator's `size`).
    pub file_size: u64,
    /// Client concurrency (requests in flight; the restore itself goes item by item).
    pub concurrency: usize,
}

impl Default for RestoreBenchOptions {
    fn default() -> Self {
        RestoreBenchOptions { files: DEFAULT_FILES, file_size: 4096, concurrency: 8 }
    }
}

impl RestoreBenchOptions {
    /// The emulator seed: two users (one to restore from, one to copy into), enough files for the selection in
    /// the first one (files are dealt round-robin over the drives), a shallow folder tree.
    pub fn seed(&self) -> String {
        format!("users=2,files={},size={},folders=3x1", self.files * 2 + 100, self.file_size)
    }
}

/// Everything one [`run`] measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RestoreResult {
    /// Always [`BENCHMARK`].
    pub benchmark: String,
    pub options: RestoreBenchOptions,
    pub seed: String,
    /// Bytes of the selected files.
    pub selected_bytes: u64,
    /// The runs: `original`, `copy`.
    pub runs: Vec<RestoreRun>,
}

/// One measured restore.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RestoreRun {
    pub name: String,
    pub restored: u64,
    pub failed: u64,
    pub skipped: u64,
    pub folders_created: u64,
    pub wall_secs: f64,
    /// Requests the tenant answered (Graph, SharePoint, downloads, upload URLs; token requests not).
    pub requests: u64,
    /// What the emulator answered, by surface.
    pub server: ServerRequests,
    /// Requests the Graph client sent (retries included).
    pub client_requests: u64,
    /// `requests / restored`.
    pub requests_per_file: Option<f64>,
    pub items_per_s: f64,
}

/// Run the restore benchmark once. Fails if set-up or the backup fails, or if a run does not restore every
/// selected file.
pub async fn run(opts: &RestoreBenchOptions) -> anyhow::Result<RestoreResult> {
    anyhow::ensure!(opts.files > 0, "files must be at least 1");
    anyhow::ensure!(opts.concurrency > 0, "concurrency must be at least 1");
    anyhow::ensure!(opts.file_size > 0 && opts.file_size < SMALL / 2, "file size must be within 1..2 MiB");
    let seed = opts.seed();
    tracing::info!(target: "bench", %seed, "restore: setting up and backing up the tenant");
    let world = World::new(&seed, opts.concurrency).await.context("restore benchmark set-up")?;
    let report = engine::run_backup(&world.context(opts.concurrency, 200)).await.context("backing up the tenant")?;
    let at = report.restore_point.context("the backup produced no restore point")?.backup_time;

    let sel = select(&world, opts.files)?;
    let container = container_of(&world, &sel.drive, at).await?;
    let selection = Selection::Items(sel.items.clone());

    tracing::info!(target: "bench", files = sel.items.len(), "restore: deleting the selection in the tenant");
    world.delete_items(&sel.drive, &sel.items, opts.concurrency).await?;
    let original = RestoreOptions::original(DocumentAction::Overwrite);
    let mut runs = vec![measure(&world, container, at, &selection, &original, "original").await?];

    let copy = RestoreOptions {
        destination: Destination::CopyTo {
            drive_id: sel.other_drive.clone(),
            folder: "Restored by benchmark".into(),
            action: LastVersionAction::Overwrite,
        },
        ..RestoreOptions::original(DocumentAction::Overwrite)
    };
    runs.push(measure(&world, container, at, &selection, &copy, "copy").await?);
    world.shutdown().await?;

    for r in &runs {
        if r.restored != sel.items.len() as u64 {
            bail!(
                "restore run '{}' restored {} of {} files ({} failed, {} skipped)",
                r.name,
                r.restored,
                sel.items.len(),
                r.failed,
                r.skipped
            );
        }
    }
    Ok(RestoreResult { benchmark: BENCHMARK.into(), options: opts.clone(), seed, selected_bytes: sel.bytes, runs })
}

/// The files to restore and the drives involved.
struct Picked {
    drive: String,
    other_drive: String,
    items: Vec<String>,
    bytes: u64,
}

/// The first `n` small files (by id) of the user drive with the most small files; another user's drive for copies.
fn select(world: &World, n: usize) -> anyhow::Result<Picked> {
    let st = world.emu.emu.state();
    let mut drives: Vec<String> = st.users.values().filter_map(|u| u.drive_id.clone()).collect();
    drives.sort();
    let small = |d: &str| {
        let mut v: Vec<(String, u64)> = st
            .items
            .values()
            .filter(|i| i.drive_id == d && !i.is_folder && i.deleted.is_none() && i.size < SMALL)
            .map(|i| (i.id.clone(), i.size))
            .collect();
        v.sort();
        v
    };
    let Some(drive) = drives.iter().max_by_key(|d| (small(d).len(), std::cmp::Reverse((*d).clone()))).cloned() else {
        bail!("the seeded tenant has no OneDrive");
    };
    let other_drive = drives.iter().find(|d| **d != drive).cloned().context("the seed needs a second OneDrive")?;
    let files: Vec<(String, u64)> = small(&drive).into_iter().take(n).collect();
    if files.len() < n {
        bail!("OneDrive {drive} has only {} small files, {n} wanted", files.len());
    }
    Ok(Picked {
        drive,
        other_drive,
        bytes: files.iter().map(|f| f.1).sum(),
        items: files.into_iter().map(|f| f.0).collect(),
    })
}

async fn container_of(world: &World, drive: &str, at: DateTime<Utc>) -> anyhow::Result<Uuid> {
    let q = ContainerQuery::new(world.organization_id, at).kind(ContainerKind::OneDrive).page(0, 10_000);
    world
        .catalog
        .containers_at(&q)
        .await?
        .rows
        .into_iter()
        .find(|r| matches!(&r.info, ContainerInfo::OneDrive(i) if i.drive_id == drive))
        .map(|r| r.id)
        .with_context(|| format!("OneDrive {drive} is not in the backup"))
}

/// One restore, measured alone (server counters zeroed first).
async fn measure(
    world: &World,
    container: Uuid,
    at: DateTime<Utc>,
    selection: &Selection,
    opts: &RestoreOptions,
    name: &str,
) -> anyhow::Result<RestoreRun> {
    world.reset_server_stats().await?;
    let client0 = world.client.stats.requests.load(Ordering::Relaxed);
    tracing::info!(target: "bench", run = name, "restore started");
    let t = Instant::now();
    let stats = restore_onedrive(&world.catalog, &world.repo, &world.client, container, at, selection, opts)
        .await
        .with_context(|| format!("restore run '{name}'"))?;
    let wall_secs = t.elapsed().as_secs_f64();
    let server = ServerRequests::from_stats(&world.server_stats().await?);
    let requests = server.total.saturating_sub(server.token);
    Ok(RestoreRun {
        name: name.into(),
        restored: stats.restored,
        failed: stats.failed,
        skipped: stats.skipped,
        folders_created: stats.folders_created,
        wall_secs,
        requests,
        client_requests: world.client.stats.requests.load(Ordering::Relaxed) - client0,
        requests_per_file: (stats.restored > 0).then(|| requests as f64 / stats.restored as f64),
        items_per_s: if wall_secs > 0.0 { stats.restored as f64 / wall_secs } else { 0.0 },
        server,
    })
}

/// The result as text.
pub fn render(r: &RestoreResult) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "vault365 {} — {} small files ({:.1} MB), seed '{}'",
        r.benchmark,
        r.options.files,
        r.selected_bytes as f64 / 1e6,
        r.seed
    );
    let _ = writeln!(
        s,
        "{:<9} {:>8} {:>8} {:>6} {:>8} {:>8} {:>9} {:>8}  by surface",
        "run", "wall s", "restored", "failed", "folders", "requests", "req/file", "items/s"
    );
    for run in &r.runs {
        let v = &run.server;
        let _ = writeln!(
            s,
            "{:<9} {:>8.2} {:>8} {:>6} {:>8} {:>8} {:>9} {:>8.1}  graph {} upload {} download {}",
            run.name,
            run.wall_secs,
            run.restored,
            run.failed,
            run.folders_created,
            run.requests,
            run.requests_per_file.map_or_else(|| "-".to_string(), |x| format!("{x:.2}")),
            run.items_per_s,
            v.graph,
            v.other,
            v.download
        );
    }
    s
}
