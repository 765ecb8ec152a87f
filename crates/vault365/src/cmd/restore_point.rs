//! `vault365 restore-point list [--org N]`: the restore points in the catalog (ids for `export`, times, counts), oldest
//! first, so nothing needs SQL.

use crate::config::Config;
use crate::setup;

/// Prints one line per restore point of one organization, or of all.
pub async fn list(cfg: &Config, org: Option<&str>) -> anyhow::Result<()> {
    let catalog = setup::catalog(cfg).await?;
    let orgs = setup::organizations(&catalog, org).await?;
    for org in &orgs {
        for rp in catalog.restore_points(org.id).await? {
            println!(
                "restore-point id={} org={} job={} time={} kind={} containers={} items={} bytes={}",
                rp.id,
                org.name,
                rp.job_id,
                rp.backup_time.format("%Y-%m-%dT%H:%M:%SZ"),
                if rp.is_full { "full" } else { "incremental" },
                rp.stats.containers,
                rp.stats.items,
                rp.stats.bytes
            );
        }
    }
    Ok(())
}
