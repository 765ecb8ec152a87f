//! The save probe: one ZIP save measured in a process of its own, so its peak RSS (`VmHWM`) is the save's and not
//! that of the emulator, the seeding or the backup that ran before it in the benchmark's process.
//!
//! The benchmark binary runs itself as `vault365-bench save-probe --repo DIR --catalog URL --container ID --at T`;
//! the probe opens the repository and catalog, resets its RSS high-water mark (so Argon2id's 64 MiB at opening does
//! not count), plans the archive like the API's "save OneDrive", streams it with `engine::save::zip_stream` into a
//! sink and prints a [`ProbeReport`] as JSON on stdout.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use repo::catalog::Catalog;
use repo::store::{local_store, Repository};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::measure;
use crate::plan;
use crate::setup::PASSWORD;

/// What the probe is asked to save.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeRequest {
    pub repo_dir: PathBuf,
    pub catalog_url: String,
    /// Catalog id of the OneDrive.
    pub container: Uuid,
    /// The restore point's instant.
    pub at: DateTime<Utc>,
}

/// What one probe measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeReport {
    /// Archive entries (files and folders).
    pub entries: u64,
    pub files: u64,
    /// Bytes of file content in the archive.
    pub content_bytes: u64,
    /// Bytes the stream delivered.
    pub archive_bytes: u64,
    /// `engine::save::zip_size` of the plan (what the API sends as `Content-Length`); must equal `archive_bytes`.
    pub expected_bytes: u64,
    /// Walking the catalog and naming the entries.
    pub plan_secs: f64,
    /// Streaming the archive to the sink.
    pub stream_secs: f64,
    /// RSS right before the save (repository and catalog open).
    pub rss_before_bytes: Option<u64>,
    /// Peak RSS during the save (see `peak_rss_is_own`).
    pub peak_rss_bytes: Option<u64>,
    /// Whether the high-water mark was reset before the save; if not, the peak includes opening the repository.
    pub peak_rss_is_own: bool,
}

impl ProbeRequest {
    /// The probe's command-line arguments after the executable.
    pub fn args(&self) -> Vec<String> {
        vec![
            "save-probe".into(),
            "--repo".into(),
            self.repo_dir.display().to_string(),
            "--catalog".into(),
            self.catalog_url.clone(),
            "--container".into(),
            self.container.to_string(),
            "--at".into(),
            self.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        ]
    }
}

/// Runs the probe in this process (the `save-probe` subcommand).
pub async fn run(req: &ProbeRequest) -> anyhow::Result<ProbeReport> {
    let repo = Repository::open(local_store(&req.repo_dir)?, PASSWORD)
        .await
        .with_context(|| format!("opening the repository at {}", req.repo_dir.display()))?;
    let catalog = Catalog::connect(&req.catalog_url).await.context("opening the catalog")?;
    let rss_before_bytes = measure::current_rss_bytes();
    let peak_rss_is_own = measure::reset_peak_rss();

    let t = Instant::now();
    let plan = plan::onedrive_plan(&catalog, req.container, req.at).await?;
    let counts = plan::counts(&plan);
    let entries = plan.into_entries();
    let expected_bytes = engine::save::zip_size(&entries);
    let plan_secs = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let (stream, producer) = engine::save::zip_stream(repo, entries);
    let mut stream = std::pin::pin!(stream);
    let mut archive_bytes = 0u64;
    while let Some(piece) = stream.next().await {
        archive_bytes += piece.context("the ZIP stream broke")?.len() as u64;
    }
    let summary = producer.await.context("the ZIP producer panicked")?.context("the ZIP producer failed")?;
    let stream_secs = t.elapsed().as_secs_f64();
    if summary.bytes != archive_bytes || archive_bytes != expected_bytes {
        bail!(
            "archive size mismatch: producer wrote {}, stream delivered {archive_bytes}, zip_size says {expected_bytes}",
            summary.bytes
        );
    }
    Ok(ProbeReport {
        entries: summary.entries,
        files: counts.files,
        content_bytes: counts.content_bytes,
        archive_bytes,
        expected_bytes,
        plan_secs,
        stream_secs,
        rss_before_bytes,
        peak_rss_bytes: measure::peak_rss_bytes(),
        peak_rss_is_own,
    })
}

/// Runs the probe as a child process of `exe` (the `vault365-bench` binary) and reads its report.
pub async fn spawn(exe: &Path, req: &ProbeRequest) -> anyhow::Result<ProbeReport> {
    let out = tokio::process::Command::new(exe)
        .args(req.args())
        .env("RUST_LOG", "warn")
        .output()
        .await
        .with_context(|| format!("starting the save probe {}", exe.display()))?;
    if !out.status.success() {
        bail!("the save probe failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    serde_json::from_slice(&out.stdout)
        .with_context(|| format!("the save probe printed no report: {}", String::from_utf8_lossy(&out.stdout).trim()))
}
