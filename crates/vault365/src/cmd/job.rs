//! `vault365 job add|list|show|edit|enable|disable|start|stop|remove`: backup jobs and their schedules from the command
//! line, the same jobs the API's `/Jobs` manages (see `api::resources::jobs`). `vault365 serve` runs the scheduled
//! ones; `job start` queues a run now for a worker (`serve --worker` or `vault365 worker`).

use anyhow::{bail, Context};
use chrono::{NaiveTime, Utc};
use engine::job::{DailyType, JobSettings, Schedule, DAILY_TYPES, PERIODS};
use repo::catalog::{Catalog, Job, JobDefinition};
use uuid::Uuid;

use crate::config::Config;
use crate::setup;

/// How a job runs by itself, from the command line.
#[derive(Debug, Clone, Default)]
pub struct ScheduleArgs {
    /// `HH:MM`: daily at that time (with `days`, default every day).
    pub daily: Option<String>,
    /// `Everyday`, `Workdays`, `Weekends` or a weekday.
    pub days: Option<String>,
    /// `Minutes5` … `Hours12`: periodically.
    pub every: Option<String>,
    /// Minutes after each interval's start (periodic).
    pub offset: Option<u32>,
    /// Only by hand.
    pub manual: bool,
}

impl ScheduleArgs {
    fn given(&self) -> bool {
        self.daily.is_some() || self.every.is_some() || self.manual
    }

    /// The schedule the options describe. Errors name the option.
    fn schedule(&self) -> anyhow::Result<Schedule> {
        let exclusive = [self.daily.is_some(), self.every.is_some(), self.manual].iter().filter(|b| **b).count();
        if exclusive > 1 {
            bail!("--daily, --every and --manual exclude each other");
        }
        if let Some(time) = &self.daily {
            let time = NaiveTime::parse_from_str(time.trim(), "%H:%M")
                .with_context(|| format!("--daily {time:?}: expected a time of day, HH:MM"))?;
            let days = match self.days.as_deref() {
                None => DailyType::Everyday,
                Some(d) => DAILY_TYPES
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(d.trim()))
                    .map(|(_, t)| *t)
                    .with_context(|| {
                        format!("--days {d:?}: expected Everyday, Workdays, Weekends or a weekday (Monday … Sunday)")
                    })?,
            };
            return Ok(Schedule::Daily { days, time, window: None });
        }
        if self.days.is_some() {
            bail!("--days goes with --daily");
        }
        if let Some(every) = &self.every {
            let names: Vec<&str> = PERIODS.iter().map(|(n, _)| *n).collect();
            let every_minutes = PERIODS
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(every.trim()))
                .map(|(_, m)| *m)
                .with_context(|| format!("--every {every:?}: expected one of {}", names.join(", ")))?;
            let offset_minutes = self.offset.unwrap_or(0);
            if offset_minutes >= every_minutes.min(60) {
                bail!("--offset must be below {} minutes", every_minutes.min(60));
            }
            return Ok(Schedule::Periodically { every_minutes, offset_minutes, window: None });
        }
        if self.offset.is_some() {
            bail!("--offset goes with --every");
        }
        Ok(Schedule::ManualOnly)
    }
}

/// A schedule in words: `daily 22:00 Workdays`, `every 15 min (+5)`, `manual`.
fn describe(schedule: &Schedule) -> String {
    match schedule {
        Schedule::ManualOnly => "manual".into(),
        Schedule::Daily { days, time, window } => {
            let w = if window.is_some() { " (window)" } else { "" };
            format!("daily {} {days:?}{w}", time.format("%H:%M"))
        }
        Schedule::Periodically { every_minutes, offset_minutes, window } => {
            let w = if window.is_some() { " (window)" } else { "" };
            format!("every {every_minutes} min (+{offset_minutes}){w}")
        }
    }
}

fn time(t: Option<chrono::DateTime<Utc>>) -> String {
    t.map_or_else(|| "-".into(), |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// One line: a job.
fn line(catalog_org: &str, job: &Job) -> String {
    let settings = JobSettings::from_stored(&job.settings).unwrap_or_default();
    format!(
        "job id={} org={} name={:?} enabled={} schedule={:?} next={} revision={}",
        job.id,
        catalog_org,
        job.name,
        job.enabled,
        describe(&settings.schedule),
        time(job.next_run_at.filter(|_| job.enabled)),
        job.revision
    )
}

/// The job `id` names.
async fn find(catalog: &Catalog, id: &str) -> anyhow::Result<Job> {
    let id: Uuid = id.trim().parse().with_context(|| format!("'{id}' is not a job id (see `vault365 job list`)"))?;
    catalog.job(id).await?.with_context(|| format!("no job {id} (see `vault365 job list`)"))
}

async fn org_name(catalog: &Catalog, job: &Job) -> anyhow::Result<String> {
    Ok(catalog.organization(job.organization_id).await?.map(|o| o.name).unwrap_or_else(|| "-".into()))
}

fn time_zone(cfg: &Config) -> anyhow::Result<chrono_tz::Tz> {
    cfg.api.schedule_time_zone().map_err(anyhow::Error::msg)
}

/// `job add`: a job of `org`.
pub async fn add(
    cfg: &Config,
    org: &str,
    name: &str,
    description: Option<String>,
    schedule: &ScheduleArgs,
    disabled: bool,
) -> anyhow::Result<()> {
    let catalog = setup::catalog(cfg).await?;
    let org = setup::organization(&catalog, org).await?;
    let name = name.trim();
    if name.is_empty() {
        bail!("--name must not be empty");
    }
    let settings = JobSettings { schedule: schedule.schedule()?, ..JobSettings::default() };
    let definition = JobDefinition {
        name: name.into(),
        description: description.unwrap_or_default(),
        next_run_at: settings.schedule.next_after(Utc::now(), time_zone(cfg)?),
        settings: settings.to_stored(),
        enabled: !disabled,
    };
    let job = catalog.create_job_with(org.id, &definition).await.map_err(|e| match e {
        repo::catalog::CatalogError::AlreadyExists(_) => {
            anyhow::anyhow!("{} already has a job named {name:?}", org.name)
        }
        other => other.into(),
    })?;
    println!("added {}", line(&org.name, &job));
    Ok(())
}

/// `job list [--org N]`.
pub async fn list(cfg: &Config, org: Option<&str>) -> anyhow::Result<()> {
    let catalog = setup::catalog(cfg).await?;
    let orgs = setup::organizations(&catalog, org).await?;
    for org in &orgs {
        for job in catalog.jobs(org.id).await? {
            println!("{}", line(&org.name, &job));
        }
    }
    Ok(())
}

/// `job show ID`: the job and its last runs.
pub async fn show(cfg: &Config, id: &str) -> anyhow::Result<()> {
    let catalog = setup::catalog(cfg).await?;
    let job = find(&catalog, id).await?;
    println!("{}", line(&org_name(&catalog, &job).await?, &job));
    if !job.description.is_empty() {
        println!("description {:?}", job.description);
    }
    let runs = catalog.sessions(job.id).await?;
    for s in runs.iter().rev().take(10) {
        println!("run session={} status={} started={}", s.id, s.status.as_str(), time(Some(s.started_at)));
    }
    Ok(())
}

/// `job edit ID [--name] [--description] [schedule]`: what is given changes.
pub async fn edit(
    cfg: &Config,
    id: &str,
    name: Option<String>,
    description: Option<String>,
    schedule: &ScheduleArgs,
) -> anyhow::Result<()> {
    let catalog = setup::catalog(cfg).await?;
    let job = find(&catalog, id).await?;
    let mut settings = JobSettings::from_stored(&job.settings).unwrap_or_default();
    let mut next_run_at = job.next_run_at;
    if schedule.given() {
        settings.schedule = schedule.schedule()?;
        next_run_at = settings.schedule.next_after(Utc::now(), time_zone(cfg)?);
    }
    let definition = JobDefinition {
        name: name.map(|n| n.trim().to_string()).unwrap_or(job.name.clone()),
        description: description.unwrap_or(job.description.clone()),
        settings: settings.to_stored(),
        next_run_at,
        ..JobDefinition::from(&job)
    };
    let job = catalog.update_job(job.id, job.revision, &definition).await?;
    println!("changed {}", line(&org_name(&catalog, &job).await?, &job));
    Ok(())
}

/// `job enable|disable ID`: enabling schedules the next run from now.
pub async fn set_enabled(cfg: &Config, id: &str, enabled: bool) -> anyhow::Result<()> {
    let catalog = setup::catalog(cfg).await?;
    let job = find(&catalog, id).await?;
    let settings = JobSettings::from_stored(&job.settings).unwrap_or_default();
    let next_run_at = match (enabled, job.enabled) {
        (true, false) => settings.schedule.next_after(Utc::now(), time_zone(cfg)?),
        _ => job.next_run_at,
    };
    let definition = JobDefinition { enabled, next_run_at, ..JobDefinition::from(&job) };
    let job = catalog.update_job(job.id, job.revision, &definition).await?;
    println!("{} {}", if enabled { "enabled" } else { "disabled" }, line(&org_name(&catalog, &job).await?, &job));
    Ok(())
}

/// `job start ID`: queues a run of the job now for a worker.
pub async fn start(cfg: &Config, id: &str) -> anyhow::Result<()> {
    let catalog = setup::catalog(cfg).await?;
    let job = find(&catalog, id).await?;
    let queue = cluster::TaskQueue::open(&catalog).await?;
    let (task, added) = queue.enqueue(&cluster::backup_task(job.organization_id, Some(job.id))).await?;
    println!("{} task={} job={}", if added { "queued" } else { "already-queued" }, task.id, job.id);
    Ok(())
}

/// `job stop ID`: the job's running backup stops at its next checkpoint (on whichever node runs it).
pub async fn stop(cfg: &Config, id: &str) -> anyhow::Result<()> {
    let catalog = setup::catalog(cfg).await?;
    let job = find(&catalog, id).await?;
    let running = match catalog.running_session(job.id).await? {
        Some(r) => catalog.session(r.id).await?.filter(|s| s.job_id == job.id),
        None => None,
    };
    match running {
        Some(s) if catalog.request_stop(s.id).await? => println!("stop requested session={} job={}", s.id, job.id),
        _ => println!("not running job={}", job.id),
    }
    Ok(())
}

/// `job remove ID`: its backups stay restorable.
pub async fn remove(cfg: &Config, id: &str) -> anyhow::Result<()> {
    let catalog = setup::catalog(cfg).await?;
    let job = find(&catalog, id).await?;
    catalog.remove_job(job.id).await?;
    println!("removed job id={} name={:?} (its backups stay restorable)", job.id, job.name);
    Ok(())
}
