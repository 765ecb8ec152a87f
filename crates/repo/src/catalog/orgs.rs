//! Organizations (Microsoft 365 tenants under protection) and backup jobs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use super::error::constraint;
use super::{from_micros, micros, parse_json, parse_uuid, truncate, Catalog, CatalogError, Result};

/// Input of [`Catalog::create_organization`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewOrganization {
    /// Display name; unique in the catalog.
    pub name: String,
    /// Entra tenant id (GUID).
    pub tenant_id: String,
    /// Tenant's primary domain, e.g. `contoso.onmicrosoft.com`.
    pub tenant_domain: String,
    /// Endpoints and a *reference* to credentials (never secrets themselves); free-form JSON owned by the engine.
    pub config: serde_json::Value,
}

/// A protected organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    /// Catalog id.
    pub id: Uuid,
    /// Display name; unique in the catalog.
    pub name: String,
    /// Entra tenant id.
    pub tenant_id: String,
    /// Tenant's primary domain.
    pub tenant_domain: String,
    /// Endpoints and credential reference (JSON).
    pub config: serde_json::Value,
    /// When the organization was added.
    pub created_at: DateTime<Utc>,
}

/// A backup job of an organization; its runs are sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Catalog id.
    pub id: Uuid,
    /// Organization the job backs up.
    pub organization_id: Uuid,
    /// Name; unique within the organization.
    pub name: String,
    /// When the job was created.
    pub created_at: DateTime<Utc>,
}

const ORG_COLS: &str = "id, name, tenant_id, tenant_domain, config, created_at";
const JOB_COLS: &str = "id, organization_id, name, created_at";

fn org_from_row(row: &AnyRow) -> Result<Organization> {
    Ok(Organization {
        id: parse_uuid(&row.try_get::<String, _>("id")?)?,
        name: row.try_get("name")?,
        tenant_id: row.try_get("tenant_id")?,
        tenant_domain: row.try_get("tenant_domain")?,
        config: parse_json(&row.try_get::<String, _>("config")?)?,
        created_at: from_micros(row.try_get("created_at")?)?,
    })
}

fn job_from_row(row: &AnyRow) -> Result<Job> {
    Ok(Job {
        id: parse_uuid(&row.try_get::<String, _>("id")?)?,
        organization_id: parse_uuid(&row.try_get::<String, _>("organization_id")?)?,
        name: row.try_get("name")?,
        created_at: from_micros(row.try_get("created_at")?)?,
    })
}

impl Catalog {
    /// Adds an organization. Fails with [`CatalogError::AlreadyExists`] when the name is taken.
    pub async fn create_organization(&self, new: &NewOrganization) -> Result<Organization> {
        let org = Organization {
            id: Uuid::new_v4(),
            name: new.name.clone(),
            tenant_id: new.tenant_id.clone(),
            tenant_domain: new.tenant_domain.clone(),
            config: new.config.clone(),
            created_at: truncate(Utc::now()),
        };
        sqlx::query(
            "INSERT INTO organizations (id, name, tenant_id, tenant_domain, config, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(org.id.to_string())
        .bind(&org.name)
        .bind(&org.tenant_id)
        .bind(&org.tenant_domain)
        .bind(org.config.to_string())
        .bind(micros(org.created_at))
        .execute(&self.pool)
        .await
        .map_err(|e| {
            constraint(
                e,
                || CatalogError::AlreadyExists(format!("organization {:?}", new.name)),
                || CatalogError::Corrupt("organization insert hit a foreign key".into()),
            )
        })?;
        Ok(org)
    }

    /// The organization with `id`, if any.
    pub async fn organization(&self, id: Uuid) -> Result<Option<Organization>> {
        let row = sqlx::query(&format!("SELECT {ORG_COLS} FROM organizations WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(org_from_row).transpose()
    }

    /// The organization named `name` (exact match), if any.
    pub async fn organization_by_name(&self, name: &str) -> Result<Option<Organization>> {
        let row = sqlx::query(&format!("SELECT {ORG_COLS} FROM organizations WHERE name = $1"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(org_from_row).transpose()
    }

    /// All organizations, by name.
    pub async fn organizations(&self) -> Result<Vec<Organization>> {
        let rows = sqlx::query(&format!("SELECT {ORG_COLS} FROM organizations ORDER BY name, id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(org_from_row).collect()
    }

    /// Saves name, tenant id, domain and config of `org` (matched by id; `created_at` is kept).
    /// Errors: [`CatalogError::NotFound`], [`CatalogError::AlreadyExists`] when renaming onto a taken name.
    pub async fn update_organization(&self, org: &Organization) -> Result<()> {
        let done = sqlx::query(
            "UPDATE organizations SET name = $2, tenant_id = $3, tenant_domain = $4, config = $5 WHERE id = $1",
        )
        .bind(org.id.to_string())
        .bind(&org.name)
        .bind(&org.tenant_id)
        .bind(&org.tenant_domain)
        .bind(org.config.to_string())
        .execute(&self.pool)
        .await
        .map_err(|e| {
            constraint(
                e,
                || CatalogError::AlreadyExists(format!("organization {:?}", org.name)),
                || CatalogError::Corrupt("organization update hit a foreign key".into()),
            )
        })?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::NotFound(format!("organization {}", org.id)));
        }
        Ok(())
    }

    /// Removes an organization that has no jobs and no backed-up containers
    /// ([`CatalogError::InUse`] otherwise, [`CatalogError::NotFound`] if absent).
    pub async fn delete_organization(&self, id: Uuid) -> Result<()> {
        let done = sqlx::query("DELETE FROM organizations WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(|e| {
                constraint(
                    e,
                    || CatalogError::Corrupt("organization delete hit a unique key".into()),
                    || CatalogError::InUse(format!("organization {id}")),
                )
            })?;
        if done.rows_affected() == 0 {
            return Err(CatalogError::NotFound(format!("organization {id}")));
        }
        Ok(())
    }

    /// Creates a backup job. Errors: [`CatalogError::NotFound`] for an unknown organization,
    /// [`CatalogError::AlreadyExists`] when the organization already has a job with that name.
    pub async fn create_job(&self, organization_id: Uuid, name: &str) -> Result<Job> {
        let job = Job { id: Uuid::new_v4(), organization_id, name: name.to_string(), created_at: truncate(Utc::now()) };
        sqlx::query("INSERT INTO jobs (id, organization_id, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(job.id.to_string())
            .bind(organization_id.to_string())
            .bind(name)
            .bind(micros(job.created_at))
            .execute(&self.pool)
            .await
            .map_err(|e| {
                constraint(
                    e,
                    || CatalogError::AlreadyExists(format!("job {name:?}")),
                    || CatalogError::NotFound(format!("organization {organization_id}")),
                )
            })?;
        Ok(job)
    }

    /// The job with `id`, if any.
    pub async fn job(&self, id: Uuid) -> Result<Option<Job>> {
        let row = sqlx::query(&format!("SELECT {JOB_COLS} FROM jobs WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    /// The jobs of an organization, by name.
    pub async fn jobs(&self, organization_id: Uuid) -> Result<Vec<Job>> {
        let rows = sqlx::query(&format!("SELECT {JOB_COLS} FROM jobs WHERE organization_id = $1 ORDER BY name, id"))
            .bind(organization_id.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Removes a job that never ran ([`CatalogError::InUse`] if it has sessions).
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
