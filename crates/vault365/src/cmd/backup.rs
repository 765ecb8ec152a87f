//! `vault365 backup --org NAME`: one backup run with a progress bar on a terminal, progress lines on standard error
//! otherwise (cron mail, the journal), and an exit status that tells success (0), warnings (3) and a refusal because
//! the organization is being backed up (4) from a failure (1).

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::Context;
use engine::progress::Progress;
use engine::BackupContext;
use indicatif::{ProgressBar, ProgressStyle};
use repo::catalog::SessionStatus;

use crate::cmd::Exit;
use crate::config::Config;
use crate::setup;

/// How a run reports while it works.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// Neither a progress bar nor progress lines.
    pub quiet: bool,
    /// The interval of the progress lines printed when standard error is not a terminal.
    pub progress_every: Duration,
}

impl Output {
    /// Nothing while it works (the demo's own backups).
    pub const QUIET: Output = Output { quiet: true, progress_every: Duration::from_secs(30) };
}

pub async fn run(
    cfg: &Config,
    org_name: &str,
    job: Option<&str>,
    concurrency: usize,
    checkpoint_items: usize,
    output: Output,
) -> anyhow::Result<()> {
    let report = match backup_once(cfg, org_name, job, concurrency, checkpoint_items, output).await {
        Ok(report) => report,
        Err(e) => match e.chain().find_map(|c| c.downcast_ref::<engine::BackupBusy>()) {
            Some(busy) => return Err(Exit { code: Exit::BUSY, message: format!("backup refused: {busy}") }.into()),
            None => return Err(e),
        },
    };
    let rp = report.restore_point.as_ref().map(|r| r.id.to_string()).unwrap_or_else(|| "-".into());
    println!(
        "backup {} session={} restore_point={} items={} bytes_read={} bytes_stored={} warnings={} requests={}",
        match report.status {
            SessionStatus::Success => "success",
            SessionStatus::Warning => "warning",
            _ => "failed",
        },
        report.session_id,
        rp,
        report.items,
        report.bytes_read,
        report.bytes_stored,
        report.warnings,
        report.requests
    );
    if report.status == SessionStatus::Warning {
        let message = format!(
            "backup finished with {} warnings; `vault365 session show {}` lists them",
            report.warnings, report.session_id
        );
        return Err(Exit { code: Exit::WARNINGS, message }.into());
    }
    Ok(())
}

/// One backup run of `org_name` (progress bar unless `quiet`).
/// One backup run of `org_name`'s job `job` (default: the whole organization, [`setup::DEFAULT_JOB`]).
pub async fn backup_once(
    cfg: &Config,
    org_name: &str,
    job: Option<&str>,
    concurrency: usize,
    checkpoint_items: usize,
    output: Output,
) -> anyhow::Result<engine::BackupReport> {
    let catalog = setup::catalog(cfg).await?;
    let org = setup::organization(&catalog, org_name).await?;
    let repo = setup::repository(cfg).await?;
    // A session still "running" whose heartbeat (refreshed every SESSION_HEARTBEAT by a live run) stopped belongs to
    // a process that died: it can never finish now. Other backups may be running right now, from other processes on
    // this machine (two cron entries on the SQLite catalog) or from other nodes: their heartbeats are fresh, so they
    // are left alone. A run of the same job that died a moment ago is taken over by `run_backup` itself.
    let cutoff = chrono::Utc::now() - chrono::Duration::from_std(engine::SESSION_HEARTBEAT * 5)?;
    for s in catalog.fail_stale_sessions(cutoff).await? {
        tracing::warn!("backup session {s} was interrupted earlier; marked failed");
    }
    let job = setup::job_of(&catalog, &org, job).await?;
    let ctx =
        BackupContext { checkpoint_items, ..setup::backup_context(cfg, &catalog, &repo, (&org, &job), concurrency)? };
    let progress = ctx.progress.clone();
    let on_terminal = std::io::stderr().is_terminal();
    let bar = if output.quiet || !on_terminal { ProgressBar::hidden() } else { ProgressBar::new_spinner() };
    bar.set_style(ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}").expect("valid template"));
    bar.enable_steady_tick(Duration::from_millis(200));
    let ticker = {
        let bar = bar.clone();
        let p = progress.clone();
        tokio::spawn(async move {
            loop {
                bar.set_message(format!(
                    "{} containers, {} items, {:.1} MB read, {:.1} MB stored, {} warnings",
                    Progress::get(&p.containers),
                    Progress::get(&p.items),
                    Progress::get(&p.bytes_read) as f64 / 1e6,
                    Progress::get(&p.bytes_stored) as f64 / 1e6,
                    Progress::get(&p.warnings)
                ));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    // Without a terminal, a line now and then: cron mail and the journal show where a long backup is.
    let lines = (!output.quiet && !on_terminal).then(|| {
        let p = progress.clone();
        let every = output.progress_every;
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            loop {
                tokio::time::sleep(every).await;
                eprintln!("{}", progress_line(&p, started.elapsed()));
            }
        })
    });
    let result = engine::run_backup(&ctx).await;
    ticker.abort();
    if let Some(lines) = lines {
        lines.abort();
    }
    bar.finish_and_clear();
    result.context("backup failed")
}

/// `progress elapsed=… containers=… items=… read_mb=… stored_mb=… rate_mb_s=… warnings=…`.
fn progress_line(p: &Progress, elapsed: Duration) -> String {
    let read = Progress::get(&p.bytes_read) as f64 / 1e6;
    let secs = elapsed.as_secs_f64().max(0.001);
    format!(
        "progress elapsed={}s containers={} items={} read_mb={read:.1} stored_mb={:.1} rate_mb_s={:.2} warnings={}",
        elapsed.as_secs(),
        Progress::get(&p.containers),
        Progress::get(&p.items),
        Progress::get(&p.bytes_stored) as f64 / 1e6,
        read / secs,
        Progress::get(&p.warnings)
    )
}
