//! `vault365 repo check [--read-data]`: verify the repository and the catalog's references into it.

use crate::config::Config;
use crate::setup;

/// Returns an error (non-zero exit) when anything is wrong, after printing every problem.
pub async fn check(cfg: &Config, read_data: bool) -> anyhow::Result<()> {
    let catalog = setup::catalog(cfg).await?;
    let repo = setup::repository(cfg).await?;
    let summary = engine::check::check_repository(&catalog, &repo, read_data).await?;
    for p in &summary.problems {
        println!("problem: {}", serde_json::to_string(p)?);
    }
    println!(
        "repo check {} packs={} chunks={} chunks_verified={} references={} unindexed_packs={} problems={}",
        if summary.is_ok() { "ok" } else { "FAILED" },
        summary.store.packs,
        summary.store.chunks,
        summary.store.chunks_verified,
        summary.references,
        summary.store.unindexed_packs.len(),
        summary.problems.len()
    );
    if !summary.is_ok() {
        anyhow::bail!("{} problem(s) found", summary.problems.len());
    }
    Ok(())
}
