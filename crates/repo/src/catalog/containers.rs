//! Protected containers — OneDrives, SharePoint sites, SharePoint lists and libraries — with validity ranges.
//!
//! A container has a stable catalog id (per organization, kind and Microsoft id); each observed description is a
//! state row. Items ([`super::ItemState`]) hang off the container id: a OneDrive's drive items, a list's list items,
//! a document library's drive items (recorded under the library's list container).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

use super::error::constraint;
use super::validity::Versioned;
use super::{
    fingerprint, from_micros, from_micros_opt, micros, parse_uuid, Batch, Catalog, CatalogError, Page, Result,
    StateChange,
};

/// Kind of a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerKind {
    /// A user's OneDrive for Business.
    OneDrive,
    /// A SharePoint site (or subsite).
    Site,
    /// A SharePoint list or document library.
    List,
}

impl ContainerKind {
    /// Stored label.
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerKind::OneDrive => "onedrive",
            ContainerKind::Site => "site",
            ContainerKind::List => "list",
        }
    }
}

/// A OneDrive as the backup saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneDriveInfo {
    /// Entra object id of the owner (the stable identity).
    pub user_id: String,
    /// User principal name.
    pub upn: String,
    /// Owner's display name.
    pub display_name: String,
    /// Graph drive id.
    pub drive_id: String,
}

/// A SharePoint site as the backup saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteInfo {
    /// Graph site id (`host,siteCollectionId,webId`; the stable identity).
    pub site_id: String,
    /// Absolute web URL.
    pub url: String,
    /// Title.
    pub title: String,
    /// Graph id of the parent site for a subsite.
    pub parent_site_id: Option<String>,
}

/// A SharePoint list or document library as the backup saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListInfo {
    /// Graph list id (GUID; the stable identity).
    pub list_id: String,
    /// Graph id of the site holding the list.
    pub site_id: String,
    /// Title.
    pub title: String,
    /// List template, e.g. `documentLibrary`, `genericList`.
    pub template: String,
    /// Whether the list is a document library (items are drive items).
    pub is_document_library: bool,
    /// Graph drive id of a document library.
    pub drive_id: Option<String>,
}

/// The state of a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ContainerInfo {
    /// A OneDrive.
    OneDrive(OneDriveInfo),
    /// A site.
    Site(SiteInfo),
    /// A list or library.
    List(ListInfo),
}

impl ContainerInfo {
    /// The container in words, for logs: `OneDrive of Adele Vance`, `site Marketing`, `library Documents`.
    pub fn describe(&self) -> String {
        let or = |a: &str, b: &str| if a.trim().is_empty() { b.to_string() } else { a.to_string() };
        match self {
            ContainerInfo::OneDrive(d) => format!("OneDrive of {}", or(&d.display_name, &d.upn)),
            ContainerInfo::Site(s) => format!("site {}", or(&s.title, &s.url)),
            ContainerInfo::List(l) if l.is_document_library => format!("library {}", l.title),
            ContainerInfo::List(l) => format!("list {}", l.title),
        }
    }

    /// The kind.
    pub fn kind(&self) -> ContainerKind {
        match self {
            ContainerInfo::OneDrive(_) => ContainerKind::OneDrive,
            ContainerInfo::Site(_) => ContainerKind::Site,
            ContainerInfo::List(_) => ContainerKind::List,
        }
    }

    /// The Microsoft id that identifies the container across backups (user id, site id, list id).
    pub fn external_id(&self) -> &str {
        match self {
            ContainerInfo::OneDrive(d) => &d.user_id,
            ContainerInfo::Site(s) => &s.site_id,
            ContainerInfo::List(l) => &l.list_id,
        }
    }

    /// The display title (owner name, site title, list title); listings sort by it.
    pub fn title(&self) -> &str {
        match self {
            ContainerInfo::OneDrive(d) => &d.display_name,
            ContainerInfo::Site(s) => &s.title,
            ContainerInfo::List(l) => &l.title,
        }
    }

    /// The parent reference: the parent site id of a subsite, the site id of a list, none for a OneDrive.
    pub fn parent_ref(&self) -> Option<&str> {
        match self {
            ContainerInfo::OneDrive(_) => None,
            ContainerInfo::Site(s) => s.parent_site_id.as_deref(),
            ContainerInfo::List(l) => Some(&l.site_id),
        }
    }
}

/// A container state valid at the queried instant (or the last state of a deleted container).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerRow {
    /// Catalog id (items reference it).
    pub id: Uuid,
    /// Organization.
    pub organization_id: Uuid,
    /// The state.
    pub info: ContainerInfo,
    /// First backup instant of this state.
    pub valid_from: DateTime<Utc>,
    /// Instant it was replaced or deleted (`None` = still current).
    pub valid_to: Option<DateTime<Utc>>,
    /// Deleted at the queried instant (only returned with `show_deleted`).
    pub deleted: bool,
}

/// Parameters of [`Catalog::containers_at`].
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerQuery {
    /// Organization.
    pub organization_id: Uuid,
    /// Only this kind (`None` = all kinds).
    pub kind: Option<ContainerKind>,
    /// Only containers with this parent reference (site id for lists, parent site id for subsites);
    /// `None` = no filter.
    pub parent_ref: Option<String>,
    /// The instant.
    pub at: DateTime<Utc>,
    /// Also return containers deleted at or before `at` (with `deleted = true`).
    pub show_deleted: bool,
    /// Rows to skip.
    pub offset: i64,
    /// Maximum rows to return.
    pub limit: i64,
}

impl ContainerQuery {
    /// All current containers of an organization at `at`, first 100.
    pub fn new(organization_id: Uuid, at: DateTime<Utc>) -> Self {
        ContainerQuery { organization_id, kind: None, parent_ref: None, at, show_deleted: false, offset: 0, limit: 100 }
    }

    /// Restricts to one kind.
    pub fn kind(mut self, kind: ContainerKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Restricts to a parent reference.
    pub fn parent_ref(mut self, parent: impl Into<String>) -> Self {
        self.parent_ref = Some(parent.into());
        self
    }

    /// Includes deleted containers.
    pub fn show_deleted(mut self, show: bool) -> Self {
        self.show_deleted = show;
        self
    }

    /// Selects a page.
    pub fn page(mut self, offset: i64, limit: i64) -> Self {
        self.offset = offset;
        self.limit = limit;
        self
    }
}

const STATES: Versioned = Versioned { table: "container_states", keys: &["container_id"] };

/// Finds or creates the stable id of a container.
async fn ensure_container(conn: &mut AnyConnection, organization_id: Uuid, info: &ContainerInfo) -> Result<Uuid> {
    let find = "SELECT id FROM containers WHERE organization_id = $1 AND kind = $2 AND external_id = $3";
    let existing = sqlx::query(find)
        .bind(organization_id.to_string())
        .bind(info.kind().as_str())
        .bind(info.external_id())
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(row) = existing {
        return parse_uuid(&row.try_get::<String, _>("id")?);
    }
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO containers (id, organization_id, kind, external_id) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (organization_id, kind, external_id) DO NOTHING",
    )
    .bind(id.to_string())
    .bind(organization_id.to_string())
    .bind(info.kind().as_str())
    .bind(info.external_id())
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        constraint(
            e,
            || CatalogError::Corrupt("container id collision".into()),
            || CatalogError::NotFound(format!("organization {organization_id}")),
        )
    })?;
    // Re-read: a concurrent writer may have won the insert.
    let row = sqlx::query(find)
        .bind(organization_id.to_string())
        .bind(info.kind().as_str())
        .bind(info.external_id())
        .fetch_one(&mut *conn)
        .await?;
    parse_uuid(&row.try_get::<String, _>("id")?)
}

pub(crate) async fn record_container(
    conn: &mut AnyConnection,
    organization_id: Uuid,
    info: &ContainerInfo,
    at: DateTime<Utc>,
) -> Result<(Uuid, StateChange)> {
    let id = ensure_container(conn, organization_id, info).await?;
    let json = serde_json::to_value(info).map_err(|e| CatalogError::Corrupt(e.to_string()))?;
    let fp = fingerprint(&json);
    let key = id.to_string();
    let Some(valid_from) = STATES.prepare(conn, &[&key], &fp, micros(at)).await? else {
        return Ok((id, StateChange::Unchanged));
    };
    sqlx::query(
        "INSERT INTO container_states (container_id, valid_from, valid_to, title, parent_ref, info, fingerprint) \
         VALUES ($1, $2, NULL, $3, $4, $5, $6)",
    )
    .bind(&key)
    .bind(valid_from)
    .bind(info.title())
    .bind(info.parent_ref())
    .bind(json.to_string())
    .bind(fp)
    .execute(&mut *conn)
    .await?;
    Ok((id, StateChange::Recorded))
}

pub(crate) async fn record_container_deleted(
    conn: &mut AnyConnection,
    container: Uuid,
    at: DateTime<Utc>,
) -> Result<StateChange> {
    STATES.delete(conn, &[&container.to_string()], micros(at)).await
}

const ROW_COLS: &str = "c.id, c.organization_id, s.valid_from, s.valid_to, s.info";

fn container_from_row(row: &AnyRow, at: i64) -> Result<ContainerRow> {
    let valid_to: Option<i64> = row.try_get("valid_to")?;
    let info: String = row.try_get("info")?;
    Ok(ContainerRow {
        id: parse_uuid(&row.try_get::<String, _>("id")?)?,
        organization_id: parse_uuid(&row.try_get::<String, _>("organization_id")?)?,
        info: serde_json::from_str(&info).map_err(|e| CatalogError::Corrupt(format!("container state: {e}")))?,
        valid_from: from_micros(row.try_get("valid_from")?)?,
        valid_to: from_micros_opt(valid_to)?,
        deleted: valid_to.is_some_and(|to| to <= at),
    })
}

impl Catalog {
    /// Records the state of a container at backup instant `at`, creating its identity on first sight.
    /// Returns the container's catalog id. Unchanged state writes nothing.
    pub async fn record_container(
        &self,
        organization_id: Uuid,
        info: &ContainerInfo,
        at: DateTime<Utc>,
    ) -> Result<(Uuid, StateChange)> {
        let mut tx = self.tx().await?;
        let out = record_container(&mut tx, organization_id, info, at).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Records that a container no longer exists at `at` (its items are left as they were).
    pub async fn record_container_deleted(&self, container: Uuid, at: DateTime<Utc>) -> Result<StateChange> {
        let mut tx = self.tx().await?;
        let out = record_container_deleted(&mut tx, container, at).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// The catalog id of a container by its Microsoft id, if it was ever recorded.
    pub async fn container_id(
        &self,
        organization_id: Uuid,
        kind: ContainerKind,
        external_id: &str,
    ) -> Result<Option<Uuid>> {
        let row =
            sqlx::query("SELECT id FROM containers WHERE organization_id = $1 AND kind = $2 AND external_id = $3")
                .bind(organization_id.to_string())
                .bind(kind.as_str())
                .bind(external_id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| parse_uuid(&r.try_get::<String, _>("id")?)).transpose()
    }

    /// The state of a container at `at`: the current one, or the last one with `deleted = true` if the container
    /// was deleted at or before `at`; `None` if it did not exist yet.
    pub async fn container_at(&self, container: Uuid, at: DateTime<Utc>) -> Result<Option<ContainerRow>> {
        let at = micros(at);
        let row = sqlx::query(&format!(
            "SELECT {ROW_COLS} FROM container_states s JOIN containers c ON c.id = s.container_id \
             WHERE s.container_id = $1 AND s.valid_from <= $2 ORDER BY s.valid_from DESC LIMIT 1"
        ))
        .bind(container.to_string())
        .bind(at)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| container_from_row(&r, at)).transpose()
    }

    /// Containers of an organization as they were at `q.at`, sorted by title (case-insensitive), paged.
    pub async fn containers_at(&self, q: &ContainerQuery) -> Result<Page<ContainerRow>> {
        let at = micros(q.at);
        let mut filter = String::from("c.organization_id = $1 AND s.valid_from <= $2");
        if q.show_deleted {
            // The latest state at or before `at`, whether or not it has ended since.
            filter.push_str(
                " AND NOT EXISTS (SELECT 1 FROM container_states n WHERE n.container_id = s.container_id \
                 AND n.valid_from > s.valid_from AND n.valid_from <= $2)",
            );
        } else {
            filter.push_str(" AND (s.valid_to IS NULL OR s.valid_to > $2)");
        }
        let mut texts: Vec<String> = Vec::new();
        if let Some(kind) = q.kind {
            texts.push(kind.as_str().to_string());
            filter.push_str(&format!(" AND c.kind = ${}", texts.len() + 2));
        }
        if let Some(parent) = &q.parent_ref {
            texts.push(parent.clone());
            filter.push_str(&format!(" AND s.parent_ref = ${}", texts.len() + 2));
        }
        let from = "FROM container_states s JOIN containers c ON c.id = s.container_id";
        let count_sql = format!("SELECT COUNT(*) AS n {from} WHERE {filter}");
        let mut count = sqlx::query(&count_sql).bind(q.organization_id.to_string()).bind(at);
        for t in &texts {
            count = count.bind(t.clone());
        }
        let total: i64 = count.fetch_one(&self.pool).await?.try_get("n")?;
        let n = texts.len() + 2;
        let page_sql = format!(
            "SELECT {ROW_COLS} {from} WHERE {filter} ORDER BY LOWER(s.title), c.id LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let mut page = sqlx::query(&page_sql).bind(q.organization_id.to_string()).bind(at);
        for t in &texts {
            page = page.bind(t.clone());
        }
        let rows = page.bind(q.limit.max(0)).bind(q.offset.max(0)).fetch_all(&self.pool).await?;
        let rows = rows.iter().map(|r| container_from_row(r, at)).collect::<Result<Vec<_>>>()?;
        Ok(Page { rows, total })
    }
}

impl Batch {
    /// [`Catalog::record_container`] inside this batch.
    pub async fn record_container(
        &mut self,
        organization_id: Uuid,
        info: &ContainerInfo,
        at: DateTime<Utc>,
    ) -> Result<(Uuid, StateChange)> {
        record_container(&mut self.tx, organization_id, info, at).await
    }

    /// [`Catalog::record_container_deleted`] inside this batch.
    pub async fn record_container_deleted(&mut self, container: Uuid, at: DateTime<Utc>) -> Result<StateChange> {
        record_container_deleted(&mut self.tx, container, at).await
    }
}
