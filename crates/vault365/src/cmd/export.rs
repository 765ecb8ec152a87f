//! `vault365 export --restore-point ID --to DIR`: plain files plus JSON sidecars, so data is never
//! locked in our format.

use std::path::Path;

use anyhow::Context;
use engine::export::{export_restore_point, ExportOptions};

use crate::config::Config;
use crate::setup;

pub async fn run(cfg: &Config, restore_point: &str, to: &Path, opts: ExportOptions) -> anyhow::Result<()> {
    let id = uuid::Uuid::parse_str(restore_point)
        .with_context(|| format!("--restore-point '{restore_point}' is not a restore point id (a GUID)"))?;
    let catalog = setup::catalog(cfg).await?;
    let repo = setup::repository(cfg).await?;
    let report = export_restore_point(&catalog, &repo, id, to, &opts).await?;
    for e in &report.errors {
        eprintln!("error: {}: {}", e.path.display(), e.message);
    }
    println!(
        "export {} restore_point={} to={} containers={} folders={} files={} list_items={} attachments={} versions={} bytes={}",
        if report.is_ok() { "ok" } else { "incomplete" },
        report.restore_point_id,
        report.destination.display(),
        report.containers,
        report.folders,
        report.files,
        report.list_items,
        report.attachments,
        report.versions,
        report.bytes
    );
    if !report.is_ok() {
        anyhow::bail!("{} item(s) could not be exported", report.errors.len());
    }
    Ok(())
}
