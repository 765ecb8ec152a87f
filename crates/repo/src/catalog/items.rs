//! Writing items: drive items and list items with validity ranges, their attachments, document versions and
//! permission snapshots.
//!
//! An item's identity is (container id, Microsoft item id). Content is referenced, never stored: `content_ref` is the
//! content store's opaque reference (its chunk list), kept as bytes.

use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

use super::error::constraint;
use super::validity::Versioned;
use super::{
    fingerprint, from_micros, from_micros_opt, micros, truncate, Batch, Catalog, CatalogError, Result, StateChange,
};

/// The case folding of searched text (the `*_folded` columns that item search reads): Unicode lower case, done here
/// because SQL `LOWER()` only folds ASCII on SQLite. Stored values and query terms go through it alike.
pub fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// A file attached to a list item (SharePoint REST `AttachmentFiles`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// File name; unique per list item.
    pub file_name: String,
    /// Size in bytes.
    pub size: i64,
    /// Content store reference.
    pub content_ref: Option<Vec<u8>>,
}

/// One observed state of a drive item or list item.
///
/// Two states are "the same" when all fields are equal (JSON compared independent of key order; instants at
/// microsecond precision); recording the same state again writes nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemState {
    /// File/folder name (for list items: the title or file leaf name).
    pub name: String,
    /// Microsoft id of the parent item; `None` for top-level items. The engine records the children of a drive's
    /// root with `parent_id: None` (the root itself is not recorded), so browsing "the root" is `parent: None`.
    pub parent_id: Option<String>,
    /// Folder (`true`) or file / list item (`false`).
    pub is_folder: bool,
    /// Size in bytes (folders: as reported).
    pub size: i64,
    /// Graph `file.hashes.quickXorHash` (base64).
    pub quick_xor_hash: Option<String>,
    /// Graph `eTag`.
    pub etag: Option<String>,
    /// Graph `cTag`.
    pub ctag: Option<String>,
    /// `createdDateTime`.
    pub created_at: Option<DateTime<Utc>>,
    /// `createdBy` (display name or UPN).
    pub created_by: Option<String>,
    /// `lastModifiedDateTime`.
    pub modified_at: Option<DateTime<Utc>>,
    /// `lastModifiedBy`.
    pub modified_by: Option<String>,
    /// `webUrl`.
    pub web_url: Option<String>,
    /// Content store reference of the current content (files only).
    pub content_ref: Option<Vec<u8>>,
    /// Remaining Graph metadata worth restoring (JSON, `Null` if none).
    pub metadata: serde_json::Value,
    /// List item `fields` (JSON), for SharePoint list items and library items.
    pub fields: Option<serde_json::Value>,
    /// Attachments of a list item (sorted by file name when stored).
    pub attachments: Vec<Attachment>,
}

impl ItemState {
    /// The state as stored: instants truncated to microseconds, attachments sorted by name.
    pub(crate) fn normalized(&self) -> ItemState {
        let mut s = self.clone();
        s.created_at = s.created_at.map(truncate);
        s.modified_at = s.modified_at.map(truncate);
        s.attachments.sort_by(|a, b| a.file_name.cmp(&b.file_name));
        s
    }
}

/// A document version as Graph lists it (`/items/{id}/versions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// Version label, e.g. `"1.0"`, `"2.0"`.
    pub label: String,
    /// Size in bytes.
    pub size: i64,
    /// When the version was created.
    pub modified_at: Option<DateTime<Utc>>,
    /// Who created it.
    pub modified_by: Option<String>,
    /// Content store reference.
    pub content_ref: Option<Vec<u8>>,
    /// Hash of the content (any stable digest the engine chooses, e.g. quickXorHash); empty if unknown.
    pub content_hash: String,
}

/// A stored version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRow {
    /// The version.
    pub version: VersionInfo,
    /// The backup instant that first stored it.
    pub first_seen: DateTime<Utc>,
}

pub(crate) const ITEMS: Versioned = Versioned { table: "item_states", keys: &["container_id", "item_id"] };
const PERMISSIONS: Versioned = Versioned { table: "item_permissions", keys: &["container_id", "item_id"] };

fn opt_json(v: &Option<serde_json::Value>) -> Option<String> {
    v.as_ref().map(|v| v.to_string())
}

pub(crate) async fn record_item_state(
    conn: &mut AnyConnection,
    container: Uuid,
    item_id: &str,
    state: &ItemState,
    at: DateTime<Utc>,
) -> Result<StateChange> {
    let state = state.normalized();
    let json = serde_json::to_value(&state).map_err(|e| CatalogError::Corrupt(e.to_string()))?;
    let fp = fingerprint(&json);
    let key = container.to_string();
    let Some(valid_from) = ITEMS.prepare(conn, &[&key, item_id], &fp, micros(at)).await? else {
        return Ok(StateChange::Unchanged);
    };
    sqlx::query(
        "INSERT INTO item_states (container_id, item_id, valid_from, valid_to, name, parent_id, is_folder, size, \
         quick_xor_hash, etag, ctag, created_at, created_by, modified_at, modified_by, web_url, content_ref, \
         metadata, fields, fingerprint, name_folded, created_by_folded, modified_by_folded) \
         VALUES ($1, $2, $3, NULL, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, \
         $22)",
    )
    .bind(&key)
    .bind(item_id)
    .bind(valid_from)
    .bind(&state.name)
    .bind(state.parent_id.as_deref())
    .bind(i64::from(state.is_folder))
    .bind(state.size)
    .bind(state.quick_xor_hash.as_deref())
    .bind(state.etag.as_deref())
    .bind(state.ctag.as_deref())
    .bind(state.created_at.map(micros))
    .bind(state.created_by.as_deref())
    .bind(state.modified_at.map(micros))
    .bind(state.modified_by.as_deref())
    .bind(state.web_url.as_deref())
    .bind(state.content_ref.clone())
    .bind(state.metadata.to_string())
    .bind(opt_json(&state.fields))
    .bind(&fp)
    // The search columns (see `catalog::search`).
    .bind(fold(&state.name))
    .bind(state.created_by.as_deref().map(fold))
    .bind(state.modified_by.as_deref().map(fold))
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        constraint(
            e,
            || CatalogError::Corrupt(format!("item {item_id} state row collision")),
            || CatalogError::NotFound(format!("container {container}")),
        )
    })?;
    for a in &state.attachments {
        sqlx::query(
            "INSERT INTO item_attachments (container_id, item_id, valid_from, file_name, size, content_ref) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&key)
        .bind(item_id)
        .bind(valid_from)
        .bind(&a.file_name)
        .bind(a.size)
        .bind(a.content_ref.clone())
        .execute(&mut *conn)
        .await
        .map_err(|e| {
            constraint(
                e,
                || CatalogError::InvalidState(format!("item {item_id}: attachment {:?} given twice", a.file_name)),
                || CatalogError::Corrupt("attachment without item state".into()),
            )
        })?;
    }
    Ok(StateChange::Recorded)
}

pub(crate) async fn record_item_deleted(
    conn: &mut AnyConnection,
    container: Uuid,
    item_id: &str,
    at: DateTime<Utc>,
) -> Result<StateChange> {
    let key = container.to_string();
    // Permissions of a deleted item end with it.
    PERMISSIONS.delete(conn, &[&key, item_id], micros(at)).await?;
    ITEMS.delete(conn, &[&key, item_id], micros(at)).await
}

pub(crate) async fn record_version(
    conn: &mut AnyConnection,
    container: Uuid,
    item_id: &str,
    version: &VersionInfo,
    at: DateTime<Utc>,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO item_versions (container_id, item_id, label, content_hash, size, modified_at, modified_by, \
         content_ref, first_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (container_id, item_id, label, content_hash) DO NOTHING",
    )
    .bind(container.to_string())
    .bind(item_id)
    .bind(&version.label)
    .bind(&version.content_hash)
    .bind(version.size)
    .bind(version.modified_at.map(micros))
    .bind(version.modified_by.as_deref())
    .bind(version.content_ref.clone())
    .bind(micros(at))
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        constraint(
            e,
            || CatalogError::Corrupt("version conflict".into()),
            || CatalogError::NotFound(format!("container {container}")),
        )
    })?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn record_permissions(
    conn: &mut AnyConnection,
    container: Uuid,
    item_id: &str,
    permissions: &serde_json::Value,
    at: DateTime<Utc>,
) -> Result<StateChange> {
    let fp = fingerprint(permissions);
    let key = container.to_string();
    let Some(valid_from) = PERMISSIONS.prepare(conn, &[&key, item_id], &fp, micros(at)).await? else {
        return Ok(StateChange::Unchanged);
    };
    sqlx::query(
        "INSERT INTO item_permissions (container_id, item_id, valid_from, valid_to, permissions, fingerprint) \
         VALUES ($1, $2, $3, NULL, $4, $5)",
    )
    .bind(&key)
    .bind(item_id)
    .bind(valid_from)
    .bind(permissions.to_string())
    .bind(&fp)
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        constraint(
            e,
            || CatalogError::Corrupt("permission row collision".into()),
            || CatalogError::NotFound(format!("container {container}")),
        )
    })?;
    Ok(StateChange::Recorded)
}

impl Catalog {
    /// Records the state of item `item_id` of `container` at backup instant `at`.
    ///
    /// Unchanged state → [`StateChange::Unchanged`], nothing written. Changed → the current row is closed at `at`
    /// and a new one opened (or, if the current row was itself recorded at `at`, it is replaced). Idempotent.
    /// Error: [`CatalogError::InvalidState`] if a state at a later instant exists.
    pub async fn record_item_state(
        &self,
        container: Uuid,
        item_id: &str,
        state: &ItemState,
        at: DateTime<Utc>,
    ) -> Result<StateChange> {
        let mut tx = self.tx().await?;
        let out = record_item_state(&mut tx, container, item_id, state, at).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Records that the item was deleted at `at` (closes its state and permissions). Already deleted or unknown →
    /// [`StateChange::Unchanged`].
    pub async fn record_item_deleted(&self, container: Uuid, item_id: &str, at: DateTime<Utc>) -> Result<StateChange> {
        let mut tx = self.tx().await?;
        let out = record_item_deleted(&mut tx, container, item_id, at).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Stores a document version unless one with the same (item, label, content hash) exists. Returns whether it
    /// was new; `at` becomes its `first_seen`.
    pub async fn record_version(
        &self,
        container: Uuid,
        item_id: &str,
        version: &VersionInfo,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.tx().await?;
        let out = record_version(&mut tx, container, item_id, version, at).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Records the permission snapshot (a JSON array of Graph permissions) of an item at `at`, with validity ranges
    /// like item states.
    pub async fn record_permissions(
        &self,
        container: Uuid,
        item_id: &str,
        permissions: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<StateChange> {
        let mut tx = self.tx().await?;
        let out = record_permissions(&mut tx, container, item_id, permissions, at).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Ids of the items of a container that are current (not deleted) as of the latest record. A full backup
    /// compares them with what it enumerated to record the deletions it did not see.
    pub async fn current_item_ids(&self, container: Uuid) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT item_id FROM item_states WHERE container_id = $1 AND valid_to IS NULL ORDER BY item_id",
        )
        .bind(container.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get::<String, _>("item_id")?)).collect()
    }

    /// Every distinct content reference the catalog holds (item states, versions, attachments), streamed — for
    /// `repo check` to verify that the content store has them all.
    pub fn referenced_content(&self) -> BoxStream<'_, Result<Vec<u8>>> {
        sqlx::query(
            "SELECT content_ref FROM item_states WHERE content_ref IS NOT NULL \
             UNION SELECT content_ref FROM item_versions WHERE content_ref IS NOT NULL \
             UNION SELECT content_ref FROM item_attachments WHERE content_ref IS NOT NULL",
        )
        .fetch(&self.pool)
        .map(|row| Ok(row?.try_get::<Vec<u8>, _>("content_ref")?))
        .boxed()
    }

    /// The versions of an item known at `at` (first seen at or before it), newest first (by modification time,
    /// then label). Unless `show_all_versions`, only the newest one.
    pub async fn versions_at(
        &self,
        container: Uuid,
        item_id: &str,
        at: DateTime<Utc>,
        show_all_versions: bool,
    ) -> Result<Vec<VersionRow>> {
        let rows = sqlx::query(
            "SELECT label, content_hash, size, modified_at, modified_by, content_ref, first_seen FROM item_versions \
             WHERE container_id = $1 AND item_id = $2 AND first_seen <= $3",
        )
        .bind(container.to_string())
        .bind(item_id)
        .bind(micros(at))
        .fetch_all(&self.pool)
        .await?;
        let mut versions = rows
            .iter()
            .map(|r| {
                Ok(VersionRow {
                    version: VersionInfo {
                        label: r.try_get("label")?,
                        size: r.try_get("size")?,
                        modified_at: from_micros_opt(r.try_get("modified_at")?)?,
                        modified_by: r.try_get("modified_by")?,
                        content_ref: r.try_get("content_ref")?,
                        content_hash: r.try_get("content_hash")?,
                    },
                    first_seen: from_micros(r.try_get("first_seen")?)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // Labels compare numerically ("10.0" after "9.0"); SQL cannot do that portably.
        versions.sort_by(|a, b| {
            (b.version.modified_at, label_key(&b.version.label))
                .cmp(&(a.version.modified_at, label_key(&a.version.label)))
        });
        if !show_all_versions {
            versions.truncate(1);
        }
        Ok(versions)
    }

    /// The permission snapshot of an item valid at `at`, if any.
    pub async fn permissions_at(
        &self,
        container: Uuid,
        item_id: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<serde_json::Value>> {
        let row = sqlx::query(
            "SELECT permissions FROM item_permissions WHERE container_id = $1 AND item_id = $2 \
             AND valid_from <= $3 AND (valid_to IS NULL OR valid_to > $3)",
        )
        .bind(container.to_string())
        .bind(item_id)
        .bind(micros(at))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| super::parse_json(&r.try_get::<String, _>("permissions")?)).transpose()
    }
}

/// Sort key of a version label: numeric parts, then the raw label.
fn label_key(label: &str) -> (Vec<u64>, String) {
    (label.split('.').map(|p| p.parse::<u64>().unwrap_or(0)).collect(), label.to_string())
}

impl Batch {
    /// [`Catalog::record_item_state`] inside this batch.
    pub async fn record_item_state(
        &mut self,
        container: Uuid,
        item_id: &str,
        state: &ItemState,
        at: DateTime<Utc>,
    ) -> Result<StateChange> {
        record_item_state(&mut self.tx, container, item_id, state, at).await
    }

    /// [`Catalog::record_item_deleted`] inside this batch.
    pub async fn record_item_deleted(
        &mut self,
        container: Uuid,
        item_id: &str,
        at: DateTime<Utc>,
    ) -> Result<StateChange> {
        record_item_deleted(&mut self.tx, container, item_id, at).await
    }

    /// [`Catalog::record_version`] inside this batch.
    pub async fn record_version(
        &mut self,
        container: Uuid,
        item_id: &str,
        version: &VersionInfo,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        record_version(&mut self.tx, container, item_id, version, at).await
    }

    /// [`Catalog::record_permissions`] inside this batch.
    pub async fn record_permissions(
        &mut self,
        container: Uuid,
        item_id: &str,
        permissions: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<StateChange> {
        record_permissions(&mut self.tx, container, item_id, permissions, at).await
    }
}
