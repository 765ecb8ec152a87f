//! `vault365 session list|show`: the backup sessions in the catalog, so an administrator sees what each run did
//! (the API shows the same runs as `/JobSessions`). Runs of removed jobs stay listed: they are the history of backups
//! that may still be restored.

use anyhow::Context;
use repo::catalog::{Catalog, Organization, Session, SessionFilter};
use uuid::Uuid;

use crate::config::Config;
use crate::setup;

/// Log lines `show` prints at most (the newest are the ones cut).
const MAX_LOG_LINES: i64 = 10_000;

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// One line: what a session did.
fn line(org: &Organization, s: &Session) -> String {
    format!(
        "session id={} org={} status={} started={} finished={} items={} bytes={} warnings={} errors={}",
        s.id,
        org.name,
        s.status.as_str(),
        time(s.started_at),
        s.finished_at.map_or_else(|| "-".to_string(), time),
        s.counters.processed_items,
        s.counters.processed_bytes,
        s.counters.warnings,
        s.counters.errors
    )
}

/// The sessions of `org` (every job's, removed ones included), oldest first.
async fn sessions_of(catalog: &Catalog, org: &Organization) -> anyhow::Result<Vec<Session>> {
    let filter = SessionFilter { organization_id: Some(org.id), ..SessionFilter::default() };
    let mut out = catalog.job_sessions(&filter, 0, i64::MAX).await?.rows;
    out.reverse();
    Ok(out)
}

/// Prints the sessions of one organization, or of all.
pub async fn list(cfg: &Config, org: Option<&str>) -> anyhow::Result<()> {
    let catalog = setup::catalog(cfg).await?;
    let orgs = setup::organizations(&catalog, org).await?;
    for org in &orgs {
        for s in sessions_of(&catalog, org).await? {
            println!("{}", line(org, &s));
        }
    }
    Ok(())
}

/// Prints one session and its log (level, time, message, item).
pub async fn show(cfg: &Config, id: &str) -> anyhow::Result<()> {
    let id: Uuid = id.trim().parse().with_context(|| format!("'{id}' is not a session id"))?;
    let catalog = setup::catalog(cfg).await?;
    let session = catalog.session(id).await?.with_context(|| format!("no backup session {id}"))?;
    let org =
        catalog.organization(session.organization_id).await?.context("the session's organization no longer exists")?;
    println!("{}", line(&org, &session));
    let log = catalog.session_log(id, 0, MAX_LOG_LINES).await?;
    for e in &log.rows {
        let described = match &e.item_ref {
            Some(r) => catalog.describe_item(r, session.started_at).await?.or_else(|| Some(r.clone())),
            None => None,
        };
        let item = described.map(|i| format!(" item={i:?}")).unwrap_or_default();
        println!("log {} {} {}{item}", time(e.at), e.level.as_str(), e.message);
    }
    if log.total > MAX_LOG_LINES {
        println!("log … {} more lines not shown", log.total - MAX_LOG_LINES);
    }
    Ok(())
}
