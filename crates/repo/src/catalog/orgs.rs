//! Organizations (Microsoft 365 tenants under protection); their backup jobs are in `jobs`.

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

const ORG_COLS: &str = "id, name, tenant_id, tenant_domain, config, created_at";

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
}
