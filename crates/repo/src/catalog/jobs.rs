//! Backup jobs: what an organization's backups cover and when they run. A job's runs are sessions (`sessions`).
//!
//! The catalog stores a job's settings as JSON owned by the engine (`engine::job::JobSettings`: backup type,
//! selected and excluded items, schedule), like an organization's `config`. The scheduler's state is
//! `next_run_at`: the due instant of the next scheduled run, moved forward by [`Catalog::claim_scheduled_run`], a
//! compare-and-set, so of several nodes that see a run due, one claims it. A job with sessions is never deleted (its
//! restore points name it): [`Catalog::remove_job`] hides it instead, and its backups stay restorable.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use super::error::constraint;
use super::{from_micros, from_micros_opt, micros, parse_json, parse_uuid, truncate, Catalog, CatalogError, Result};

/// A backup job of an organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Catalog id.
    pub id: Uuid,
    /// Organization the job backs up.
    pub organization_id: Uuid,
    /// Name; unique within the organization.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Backup type, items, schedule (JSON owned by the engine; `{}` for a job made before jobs had settings).
    pub settings: serde_json::Value,
    /// Whether the scheduler runs it (a disabled job still runs when started by hand).
    pub enabled: bool,
    /// When the next scheduled run is due (`None`: not scheduled).
    pub next_run_at: Option<DateTime<Utc>>,
    /// Counts changes of the job's definition (the API's `eTag`).
    pub revision: i64,
    /// When the job was created.
    pub created_at: DateTime<Utc>,
}

/// Input of [`Catalog::create_job_with`] and the changeable part of [`Catalog::update_job`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobDefinition {
    /// Name; unique within the organization.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Backup type, items, schedule (JSON owned by the engine).
    pub settings: serde_json::Value,
    /// Whether the scheduler runs it.
    pub enabled: bool,
    /// When the first (next) scheduled run is due.
    pub next_run_at: Option<DateTime<Utc>>,
}

impl From<&Job> for JobDefinition {
    /// The job's definition as it stands, to change a part of it (`JobDefinition { enabled, ..(&job).into() }`).
    fn from(job: &Job) -> JobDefinition {
        JobDefinition {
            name: job.name.clone(),
            description: job.description.clone(),
            settings: job.settings.clone(),
            enabled: job.enabled,
            next_run_at: job.next_run_at,
        }
    }
}

const JOB_COLS: &str = "id, organization_id, name, description, settings, enabled, next_run_at, revision, created_at";

fn job_from_row(row: &AnyRow) -> Result<Job> {
    Ok(Job {
        id: parse_uuid(&row.try_get::<String, _>("id")?)?,
        organization_id: parse_uuid(&row.try_get::<String, _>("organization_id")?)?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        settings: parse_json(&row.try_get::<String, _>("settings")?)?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        next_run_at: from_micros_opt(row.try_get("next_run_at")?)?,
        revision: row.try_get("revision")?,
        created_at: from_micros(row.try_get("created_at")?)?,
    })
}

fn name_taken(name: &str) -> CatalogError {
    CatalogError::AlreadyExists(format!("job {name:?}"))
}

impl Catalog {
    /// Creates a backup job with default settings (`{}`: the whole organization, no schedule). Errors:
    /// [`CatalogError::NotFound`] for an unknown organization, [`CatalogError::AlreadyExists`] when the organization
    /// already has a job with that name.
    pub async fn create_job(&self, organization_id: Uuid, name: &str) -> Result<Job> {
        let definition = JobDefinition {
            name: name.to_string(),
            description: String::new(),
            settings: serde_json::json!({}),
            enabled: true,
            next_run_at: None,
        };
        self.create_job_with(organization_id, &definition).await
    }

    /// Creates a backup job as `definition` says (errors as [`Catalog::create_job`]).
    pub async fn create_job_with(&self, organization_id: Uuid, definition: &JobDefinition) -> Result<Job> {
        let d = definition;
        let job = Job {
            id: Uuid::new_v4(),
            organization_id,
            name: d.name.clone(),
            description: d.description.clone(),
            settings: d.settings.clone(),
            enabled: d.enabled,
            next_run_at: d.next_run_at.map(truncate),
            revision: 1,
            created_at: truncate(Utc::now()),
        };
        sqlx::query(&format!("INSERT INTO jobs ({JOB_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
            .bind(job.id.to_string())
            .bind(organization_id.to_string())
            .bind(&job.name)
            .bind(&job.description)
            .bind(job.settings.to_string())
            .bind(job.enabled as i64)
            .bind(job.next_run_at.map(micros))
            .bind(job.revision)
            .bind(micros(job.created_at))
            .execute(&self.pool)
            .await
            .map_err(|e| {
                constraint(
                    e,
                    || name_taken(&d.name),
                    || CatalogError::NotFound(format!("organization {organization_id}")),
                )
            })?;
        Ok(job)
    }

    /// A job that has not been removed.
    pub async fn job(&self, id: Uuid) -> Result<Option<Job>> {
        let row = sqlx::query(&format!("SELECT {JOB_COLS} FROM jobs WHERE id = $1 AND removed_at IS NULL"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    /// The jobs of an organization that have not been removed, by name.
    pub async fn jobs(&self, organization_id: Uuid) -> Result<Vec<Job>> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLS} FROM jobs WHERE organization_id = $1 AND removed_at IS NULL ORDER BY name, id"
        ))
        .bind(organization_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// The enabled jobs whose next scheduled run is due at `now`, earliest first (the scheduler's question).
    pub async fn due_jobs(&self, now: DateTime<Utc>) -> Result<Vec<Job>> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLS} FROM jobs WHERE removed_at IS NULL AND enabled = 1 AND next_run_at IS NOT NULL \
             AND next_run_at <= $1 ORDER BY next_run_at, id"
        ))
        .bind(micros(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Replaces a job's definition when its revision is still `revision` (so a change made meanwhile by another
    /// client is not overwritten); returns the job with its new revision. Errors: [`CatalogError::NotFound`],
    /// [`CatalogError::InvalidState`] when the revision moved, [`CatalogError::AlreadyExists`] for a taken name.
    pub async fn update_job(&self, id: Uuid, revision: i64, definition: &JobDefinition) -> Result<Job> {
        let d = definition;
        let done = sqlx::query(
            "UPDATE jobs SET name = $3, description = $4, settings = $5, enabled = $6, next_run_at = $7, \
             revision = revision + 1 WHERE id = $1 AND revision = $2 AND removed_at IS NULL",
        )
        .bind(id.to_string())
        .bind(revision)
        .bind(&d.name)
        .bind(&d.description)
        .bind(d.settings.to_string())
        .bind(d.enabled as i64)
        .bind(d.next_run_at.map(|t| micros(truncate(t))))
        .execute(&self.pool)
        .await
        .map_err(|e| {
            constraint(e, || name_taken(&d.name), || CatalogError::Corrupt("job update hit a reference".into()))
        })?;
        if done.rows_affected() == 0 {
            return match self.job(id).await? {
                None => Err(CatalogError::NotFound(format!("job {id}"))),
                Some(j) => Err(CatalogError::InvalidState(format!(
                    "job {id} changed meanwhile (revision {} now, {revision} expected)",
                    j.revision
                ))),
            };
        }
        self.job(id).await?.ok_or_else(|| CatalogError::NotFound(format!("job {id}")))
    }

    /// Claims the scheduled run of `job` due at `due`: moves `next_run_at` from `due` to `next` if no one did it
    /// first. True for the one caller that moved it, which then starts the run.
    pub async fn claim_scheduled_run(
        &self,
        job: Uuid,
        due: DateTime<Utc>,
        next: Option<DateTime<Utc>>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET next_run_at = $3 WHERE id = $1 AND next_run_at = $2 AND enabled = 1 AND removed_at IS NULL",
        )
        .bind(job.to_string())
        .bind(micros(due))
        .bind(next.map(|t| micros(truncate(t))))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes a job: deleted when it never ran, otherwise hidden (its sessions and restore points stay, so its
    /// backups remain restorable) and its name freed. Error: [`CatalogError::NotFound`].
    pub async fn remove_job(&self, id: Uuid) -> Result<()> {
        let mut tx = self.tx().await?;
        let ran: i64 = sqlx::query("SELECT COUNT(*) AS n FROM sessions WHERE job_id = $1")
            .bind(id.to_string())
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        let now = micros(Utc::now());
        let done = match ran {
            0 => sqlx::query("DELETE FROM jobs WHERE id = $1 AND removed_at IS NULL").bind(id.to_string()),
            // The name gets the job id appended, so a new job may take the old name.
            _ => sqlx::query("UPDATE jobs SET removed_at = $2, name = name || ' (removed ' || id || ')' WHERE id = $1 AND removed_at IS NULL")
                .bind(id.to_string())
                .bind(now),
        }
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::NotFound(format!("job {id}")));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a job that never ran (tests and tools; [`Catalog::remove_job`] is the general form). Errors:
    /// [`CatalogError::NotFound`], [`CatalogError::InUse`] when sessions refer to it.
    pub async fn delete_job(&self, id: Uuid) -> Result<()> {
        let done =
            sqlx::query("DELETE FROM jobs WHERE id = $1").bind(id.to_string()).execute(&self.pool).await.map_err(
                |e| {
                    constraint(
                        e,
                        || CatalogError::Corrupt("job delete hit a unique key".into()),
                        || CatalogError::InUse(format!("job {id}")),
                    )
                },
            )?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::NotFound(format!("job {id}")));
        }
        Ok(())
    }
}
