//! Benchmarks of vault365 against the in-process tenant emulator.
//!
//! * [`run`]: backup throughput (below);
//! * [`save::run`]: ZIP save throughput against the system `tar`, and the save's peak RSS;
//! * [`restore::run`]: requests per restored small file and items per second;
//! * [`search::run`]: item search over a 100,000-item restore point (catalog only);
//! * [`run_all`]: all of them, summarised by [`summary`] as one table of ratios against targets.
//!
//! [`run`] is the *backup throughput* benchmark: it starts an emulated tenant (real HTTP on
//! loopback), a SQLite catalog and a content store with production options in a temp dir, then
//! measures three backups:
//!
//! 1. **full** — the first backup of the whole tenant;
//! 2. **incr-unchanged** — an incremental right after, with nothing changed (should read 0 bytes);
//! 3. **incr-changed** — an incremental after a fraction (default 5%) of the files were edited
//!    through Graph `PUT …/content`, as users would.
//!
//! For each it records wall time, bytes read from the tenant, bytes newly stored, items, requests
//! (the client's counters and the emulator's per-surface counters) and the run's peak RSS. The
//! binary `vault365-bench` prints them as a table or JSON; an aggregator can call [`run`] directly
//! and use [`report::render`] or the serialized [`BenchResult`].
//!
//! The emulator runs in the same process and on the same cores, so throughput includes the cost
//! of serving (and synthesizing) the content — a lower bound of what the engine does against a
//! remote tenant with enough bandwidth, and a fair basis for comparing two versions of the engine.

pub mod measure;
mod plan;
pub mod probe;
pub mod report;
pub mod restore;
pub mod save;
pub mod search;
mod setup;
pub mod summary;
mod tar;

use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::measure::ServerRequests;
use crate::setup::World;

/// Name of the benchmark in [`BenchResult::benchmark`].
pub const BENCHMARK: &str = "backup-throughput";

/// Default tenant: 3,000 files of 64 KiB on average over 6 OneDrives and 2 team sites (plus one
/// 4–6 MiB file in 50, about 300 MB of them), two versions each — about 1 GB to read; lists
/// with items and attachments.
pub const MEDIUM_SEED: &str = "users=6,sites=2,files=3000,versions=2,items=20,size=65536";

/// Tiny tenant for smoke runs (a few seconds; still includes large files, versions and lists).
pub const QUICK_SEED: &str = "users=2,sites=1,files=100,versions=2,items=5,size=16384";

/// What to benchmark.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchOptions {
    /// Emulator seed spec (see `emulator::seed::SeedSpec::parse`).
    pub seed: String,
    /// Items processed in parallel and requests in flight (the CLI's `--concurrency`).
    pub concurrency: usize,
    /// Items per checkpoint (content flush + catalog commit); the CLI uses 200.
    pub checkpoint_items: usize,
    /// Fraction of live files edited before the last incremental (0.05 = every 20th file).
    pub change_fraction: f64,
}

impl Default for BenchOptions {
    /// The medium tenant with the CLI's defaults (concurrency 8, checkpoints of 200, 5% edits).
    fn default() -> Self {
        BenchOptions { seed: MEDIUM_SEED.into(), concurrency: 8, checkpoint_items: 200, change_fraction: 0.05 }
    }
}

impl BenchOptions {
    /// The tiny tenant ([`QUICK_SEED`]) with otherwise default options.
    pub fn quick() -> Self {
        BenchOptions { seed: QUICK_SEED.into(), ..Self::default() }
    }
}

/// Everything measured by one [`run`]; serializes to the binary's `--json` output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchResult {
    /// Always [`BENCHMARK`].
    pub benchmark: String,
    pub options: BenchOptions,
    /// What the emulator seeded.
    pub tenant: TenantSummary,
    /// Seconds to start + seed the emulator and create the repository (Argon2id) and catalog.
    pub setup_secs: f64,
    /// Peak RSS after set-up (seeding hashes all content; Argon2id takes 64 MiB).
    pub setup_peak_rss_bytes: Option<u64>,
    /// The backups, in order: full, incr-unchanged, incr-changed.
    pub runs: Vec<RunResult>,
    /// The edits made before the last run.
    pub edits: EditSummary,
    /// The derived numbers that matter most.
    pub ratios: Ratios,
    /// The repository and catalog after the last run.
    pub repository: RepositorySummary,
    /// Whether each run's peak RSS is its own (the high-water mark could be reset before it);
    /// if false, peaks are process-wide and include set-up.
    pub peak_rss_per_run: bool,
}

/// The seeded tenant (from the emulator's seed summary).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSummary {
    pub users: usize,
    pub sites: usize,
    pub drives: usize,
    pub files: usize,
    /// File versions (current ones included).
    pub versions: usize,
    /// Bytes of current versions.
    pub bytes: u64,
    /// Bytes of all versions (what a full backup with version history reads).
    pub bytes_all_versions: u64,
    /// Files of at least 4 MiB.
    pub large_files: usize,
    pub lists: usize,
    pub list_items: usize,
    pub attachments: usize,
}

/// One measured backup.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// `full`, `incr-unchanged` or `incr-changed`.
    pub name: String,
    /// The session status (`Success`, `Warning`).
    pub status: String,
    /// Whether the restore point is a full one.
    pub full_restore_point: Option<bool>,
    pub wall_secs: f64,
    /// Items the engine processed (new or changed files, folders, versions, list items).
    pub items: u64,
    /// Content bytes read from the tenant.
    pub bytes_read: u64,
    /// Bytes newly written to the content store (after dedup, compression, encryption).
    pub bytes_stored: u64,
    pub warnings: u64,
    /// Requests the Graph client sent (retries included, token requests not).
    pub client_requests: u64,
    /// Throttled answers (429/503) the client saw.
    pub client_throttled: u64,
    /// Retries the client made.
    pub client_retries: u64,
    /// What the emulator answered, by surface.
    pub server: ServerRequests,
    /// Peak RSS during the run (see [`BenchResult::peak_rss_per_run`]).
    pub peak_rss_bytes: Option<u64>,
    /// Content throughput: MB (10^6 bytes) read per second.
    pub mb_per_s: f64,
    pub items_per_s: f64,
    /// Graph + SharePoint + download requests (server-side count) per processed item.
    pub requests_per_item: Option<f64>,
    /// `bytes_stored / bytes_read` (below 1: dedup and compression win; None if nothing read).
    pub stored_per_read: Option<f64>,
}

/// The edits applied before the last run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EditSummary {
    /// Files edited.
    pub files: u64,
    /// Bytes uploaded (the edited files' full new content).
    pub bytes: u64,
    /// Seconds the uploads took (not part of any run).
    pub secs: f64,
}

/// Derived numbers, `None` where the denominator is zero.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Ratios {
    /// Tenant requests of the changed-files incremental / edited files (includes the fixed cost
    /// of discovering users, sites and lists, so it falls as more files change).
    pub incremental_requests_per_changed_item: Option<f64>,
    /// Bytes read by the incremental with no changes (should be 0).
    pub unchanged_bytes_read: u64,
    /// Tenant requests of the incremental with no changes (the fixed cost of a run).
    pub unchanged_requests: u64,
    /// Bytes read by the changed-files incremental / bytes of the edited files (1.0 = only the
    /// changed files were downloaded).
    pub incremental_bytes_read_per_changed_byte: Option<f64>,
    /// Bytes read by the full backup / bytes of all versions in the tenant (1.0 = every version
    /// read exactly once).
    pub full_bytes_read_per_tenant_byte: Option<f64>,
}

/// The repository and catalog after the last run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositorySummary {
    pub chunks: u64,
    pub packs: u64,
    /// Encrypted bytes of all chunks.
    pub stored_bytes: u64,
    /// Plaintext bytes of all distinct chunks.
    pub raw_bytes: u64,
    /// Bytes on disk under the repository directory (packs, indexes, config).
    pub disk_bytes: u64,
    /// Bytes of the SQLite catalog (database, WAL and shared-memory files).
    pub catalog_bytes: u64,
}

fn ratio(num: f64, den: f64) -> Option<f64> {
    (den > 0.0).then(|| num / den)
}

/// Run the backup-throughput benchmark once. Progress goes to `tracing` at info level (target
/// `bench`); nothing is printed. Fails if set-up fails or a backup fails.
pub async fn run(opts: &BenchOptions) -> anyhow::Result<BenchResult> {
    anyhow::ensure!(opts.concurrency > 0, "concurrency must be at least 1");
    anyhow::ensure!(opts.checkpoint_items > 0, "checkpoint items must be at least 1");
    anyhow::ensure!(
        (0.0..=1.0).contains(&opts.change_fraction),
        "change fraction must be within 0..=1, got {}",
        opts.change_fraction
    );

    tracing::info!(target: "bench", seed = %opts.seed, "setting up emulator, catalog and repository");
    let t = Instant::now();
    let world = World::new(&opts.seed, opts.concurrency).await.context("benchmark set-up")?;
    let setup_secs = t.elapsed().as_secs_f64();
    let setup_peak_rss_bytes = measure::peak_rss_bytes();
    let tenant = {
        let s = emulator::seed::summary(&world.emu.emu.state());
        TenantSummary {
            users: s.users,
            sites: s.sites,
            drives: s.drives,
            files: s.files,
            versions: s.versions,
            bytes: s.bytes,
            bytes_all_versions: s.bytes_all_versions,
            large_files: s.large_files,
            lists: s.lists,
            list_items: s.list_items,
            attachments: s.attachments,
        }
    };
    tracing::info!(target: "bench", ?tenant, setup_secs, "tenant ready");

    let mut per_run = true;
    let mut runs = Vec::new();
    runs.push(measure_run(&world, opts, "full", &mut per_run).await?);
    runs.push(measure_run(&world, opts, "incr-unchanged", &mut per_run).await?);

    let t = Instant::now();
    let planned = world.plan_edits(opts.change_fraction)?;
    world.apply_edits(&planned, opts.concurrency).await.context("editing files between backups")?;
    let edits = EditSummary {
        files: planned.len() as u64,
        bytes: planned.iter().map(|e| e.content.len() as u64).sum(),
        secs: t.elapsed().as_secs_f64(),
    };
    drop(planned);
    tracing::info!(target: "bench", ?edits, "edited files");
    runs.push(measure_run(&world, opts, "incr-changed", &mut per_run).await?);

    let ratios = Ratios {
        incremental_requests_per_changed_item: ratio(runs[2].server.tenant_requests() as f64, edits.files as f64),
        unchanged_bytes_read: runs[1].bytes_read,
        unchanged_requests: runs[1].server.tenant_requests(),
        incremental_bytes_read_per_changed_byte: ratio(runs[2].bytes_read as f64, edits.bytes as f64),
        full_bytes_read_per_tenant_byte: ratio(runs[0].bytes_read as f64, tenant.bytes_all_versions as f64),
    };
    let stats = world.repo.stats();
    let repository = RepositorySummary {
        chunks: stats.chunks,
        packs: stats.packs,
        stored_bytes: stats.stored_bytes,
        raw_bytes: stats.raw_bytes,
        disk_bytes: measure::dir_bytes(&world.dir.path().join("repo")),
        catalog_bytes: catalog_bytes(world.dir.path()),
    };
    world.shutdown().await?;
    Ok(BenchResult {
        benchmark: BENCHMARK.into(),
        options: opts.clone(),
        tenant,
        setup_secs,
        setup_peak_rss_bytes,
        runs,
        edits,
        ratios,
        repository,
        peak_rss_per_run: per_run,
    })
}

/// Options of [`run_all`].
#[derive(Clone, Debug, PartialEq)]
pub struct AllOptions {
    /// Backup benchmark options.
    pub backup: BenchOptions,
    /// Save benchmark options.
    pub save: save::SaveOptions,
    /// Restore benchmark options.
    pub restore: restore::RestoreBenchOptions,
    /// Search benchmark options.
    pub search: search::SearchBenchOptions,
}

impl AllOptions {
    /// The default run of `vault365-bench all`: every benchmark with its own defaults (about a minute with a
    /// release build on two cores).
    pub fn standard(probe_exe: std::path::PathBuf) -> AllOptions {
        AllOptions {
            backup: BenchOptions::default(),
            save: save::SaveOptions::standard(probe_exe),
            restore: restore::RestoreBenchOptions::default(),
            search: search::SearchBenchOptions::default(),
        }
    }

    /// Tiny tenants everywhere (a smoke run of seconds).
    pub fn quick(probe_exe: std::path::PathBuf) -> AllOptions {
        AllOptions {
            backup: BenchOptions::quick(),
            save: save::SaveOptions::quick(probe_exe),
            restore: restore::RestoreBenchOptions { files: 20, ..Default::default() },
            search: search::SearchBenchOptions { items: 5_000 },
        }
    }
}

/// Runs every benchmark, one after the other (each on a tenant of its own); a failing benchmark is recorded in
/// [`summary::AllResult::errors`] and the others still run.
pub async fn run_all(opts: &AllOptions) -> summary::AllResult {
    let mut out = summary::AllResult::default();
    match run(&opts.backup).await {
        Ok(r) => out.backup = Some(r),
        Err(e) => out.errors.push(format!("{BENCHMARK}: {e:#}")),
    }
    match save::run(&opts.save).await {
        Ok(r) => out.save = Some(r),
        Err(e) => out.errors.push(format!("{}: {e:#}", save::BENCHMARK)),
    }
    match restore::run(&opts.restore).await {
        Ok(r) => out.restore = Some(r),
        Err(e) => out.errors.push(format!("{}: {e:#}", restore::BENCHMARK)),
    }
    match search::run(&opts.search).await {
        Ok(r) => out.search = Some(r),
        Err(e) => out.errors.push(format!("{}: {e:#}", search::BENCHMARK)),
    }
    out.rows = summary::rows(out.backup.as_ref(), out.save.as_ref(), out.restore.as_ref());
    out.rows.extend(summary::search_rows(out.search.as_ref()));
    out
}

/// Size of `catalog.db` and its `-wal`/`-shm` companions.
fn catalog_bytes(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("catalog.db"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// One backup, measured alone: server counters zeroed and the RSS high-water mark reset first.
async fn measure_run(world: &World, opts: &BenchOptions, name: &str, per_run: &mut bool) -> anyhow::Result<RunResult> {
    world.reset_server_stats().await?;
    *per_run &= measure::reset_peak_rss();
    let ctx = world.context(opts.concurrency, opts.checkpoint_items);
    let client = &world.client.stats;
    let (throttled0, retries0) = (client.throttled.load(Ordering::Relaxed), client.retries.load(Ordering::Relaxed));
    tracing::info!(target: "bench", run = name, "backup started");
    let t = Instant::now();
    let report = engine::run_backup(&ctx).await.with_context(|| format!("{name} backup"))?;
    let wall_secs = t.elapsed().as_secs_f64();
    let peak_rss_bytes = measure::peak_rss_bytes();
    let server = ServerRequests::from_stats(&world.server_stats().await?);
    let r = RunResult {
        name: name.into(),
        status: format!("{:?}", report.status),
        full_restore_point: report.restore_point.as_ref().map(|rp| rp.is_full),
        wall_secs,
        items: report.items,
        bytes_read: report.bytes_read,
        bytes_stored: report.bytes_stored,
        warnings: report.warnings,
        client_requests: report.requests,
        client_throttled: client.throttled.load(Ordering::Relaxed) - throttled0,
        client_retries: client.retries.load(Ordering::Relaxed) - retries0,
        peak_rss_bytes,
        mb_per_s: ratio(report.bytes_read as f64 / 1e6, wall_secs).unwrap_or(0.0),
        items_per_s: ratio(report.items as f64, wall_secs).unwrap_or(0.0),
        requests_per_item: ratio(server.tenant_requests() as f64, report.items as f64),
        stored_per_read: ratio(report.bytes_stored as f64, report.bytes_read as f64),
        server,
    };
    tracing::info!(target: "bench", run = name, wall_secs, items = r.items, bytes_read = r.bytes_read, "backup done");
    Ok(r)
}
