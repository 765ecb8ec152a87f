//! Point-in-time reads of items for browsing, saving and restoring.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use super::items::{Attachment, ItemState};
use super::{from_micros, from_micros_opt, micros, parse_json, parse_uuid, Catalog, CatalogError, Page, Result};

/// Which items a listing returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemKind {
    /// Folders and files.
    #[default]
    Any,
    /// Folders only.
    Folder,
    /// Files (documents, list items) only.
    File,
}

/// An item as it was at the queried instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemRow {
    /// Container.
    pub container_id: Uuid,
    /// Microsoft item id.
    pub item_id: String,
    /// The state (with attachments).
    pub state: ItemState,
    /// First backup instant of this state.
    pub valid_from: DateTime<Utc>,
    /// Instant the state was replaced or the item deleted (`None` = still current).
    pub valid_to: Option<DateTime<Utc>>,
    /// The item had been deleted at the queried instant; this is its last state.
    pub deleted: bool,
}

/// Parameters of [`Catalog::items_at`].
#[derive(Debug, Clone, PartialEq)]
pub struct ItemQuery {
    /// Container.
    pub container_id: Uuid,
    /// Children of this item; `None` = top-level items.
    pub parent: Option<String>,
    /// The instant (a restore point's backup time).
    pub at: DateTime<Utc>,
    /// Also return items deleted at or before `at` (their last state, `deleted = true`).
    pub show_deleted: bool,
    /// Folder/file filter.
    pub kind: ItemKind,
    /// Rows to skip.
    pub offset: i64,
    /// Maximum rows to return.
    pub limit: i64,
}

impl ItemQuery {
    /// Top-level items of `container` at `at`, all kinds, no deleted ones, first 100.
    pub fn new(container_id: Uuid, at: DateTime<Utc>) -> Self {
        ItemQuery { container_id, parent: None, at, show_deleted: false, kind: ItemKind::Any, offset: 0, limit: 100 }
    }

    /// Children of `parent` instead of top-level items.
    pub fn parent(mut self, parent: impl Into<String>) -> Self {
        self.parent = Some(parent.into());
        self
    }

    /// Includes deleted items.
    pub fn show_deleted(mut self, show: bool) -> Self {
        self.show_deleted = show;
        self
    }

    /// Restricts to folders or files.
    pub fn kind(mut self, kind: ItemKind) -> Self {
        self.kind = kind;
        self
    }

    /// Selects a page.
    pub fn page(mut self, offset: i64, limit: i64) -> Self {
        self.offset = offset;
        self.limit = limit;
        self
    }
}

pub(super) const ITEM_COLS: &str =
    "s.container_id, s.item_id, s.valid_from, s.valid_to, s.name, s.parent_id, s.is_folder, \
    s.size, s.quick_xor_hash, s.etag, s.ctag, s.created_at, s.created_by, s.modified_at, s.modified_by, s.web_url, \
    s.content_ref, s.metadata, s.fields";

/// Paths longer than this are treated as a parent cycle (OneDrive's own limit is far lower).
const MAX_DEPTH: usize = 4096;

/// Parent ids per attachment query (keeps the placeholder count far below every backend's limit).
const ATTACHMENT_CHUNK: usize = 200;

pub(super) fn item_from_row(row: &AnyRow, at: i64) -> Result<ItemRow> {
    let valid_to: Option<i64> = row.try_get("valid_to")?;
    let fields: Option<String> = row.try_get("fields")?;
    Ok(ItemRow {
        container_id: parse_uuid(&row.try_get::<String, _>("container_id")?)?,
        item_id: row.try_get("item_id")?,
        state: ItemState {
            name: row.try_get("name")?,
            parent_id: row.try_get("parent_id")?,
            is_folder: row.try_get::<i64, _>("is_folder")? != 0,
            size: row.try_get("size")?,
            quick_xor_hash: row.try_get("quick_xor_hash")?,
            etag: row.try_get("etag")?,
            ctag: row.try_get("ctag")?,
            created_at: from_micros_opt(row.try_get("created_at")?)?,
            created_by: row.try_get("created_by")?,
            modified_at: from_micros_opt(row.try_get("modified_at")?)?,
            modified_by: row.try_get("modified_by")?,
            web_url: row.try_get("web_url")?,
            content_ref: row.try_get("content_ref")?,
            metadata: parse_json(&row.try_get::<String, _>("metadata")?)?,
            fields: fields.as_deref().map(parse_json).transpose()?,
            attachments: Vec::new(),
        },
        valid_from: from_micros(row.try_get("valid_from")?)?,
        valid_to: from_micros_opt(valid_to)?,
        deleted: valid_to.is_some_and(|to| to <= at),
    })
}

impl Catalog {
    /// Loads the attachments of the given state rows (all of one container) into them.
    pub(super) async fn fill_attachments(&self, container: Uuid, rows: &mut [ItemRow]) -> Result<()> {
        let ids: Vec<String> =
            rows.iter().map(|r| r.item_id.clone()).collect::<HashSet<_>>().into_iter().collect::<Vec<_>>();
        let mut found: HashMap<(String, i64), Vec<Attachment>> = HashMap::new();
        for chunk in ids.chunks(ATTACHMENT_CHUNK) {
            let placeholders = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect::<Vec<_>>().join(", ");
            let sql = format!(
                "SELECT item_id, valid_from, file_name, size, content_ref FROM item_attachments \
                 WHERE container_id = $1 AND item_id IN ({placeholders}) ORDER BY file_name"
            );
            let mut q = sqlx::query(&sql).bind(container.to_string());
            for id in chunk {
                q = q.bind(id.clone());
            }
            for row in q.fetch_all(&self.pool).await? {
                let key = (row.try_get::<String, _>("item_id")?, row.try_get::<i64, _>("valid_from")?);
                found.entry(key).or_default().push(Attachment {
                    file_name: row.try_get("file_name")?,
                    size: row.try_get("size")?,
                    content_ref: row.try_get("content_ref")?,
                });
            }
        }
        for row in rows.iter_mut() {
            if let Some(list) = found.remove(&(row.item_id.clone(), micros(row.valid_from))) {
                row.state.attachments = list;
            }
        }
        Ok(())
    }

    /// The item at `at`: its state valid then, or — if it had been deleted at or before `at` — its last state with
    /// `deleted = true`; `None` if it did not exist yet (or is unknown).
    pub async fn item_at(&self, container: Uuid, item_id: &str, at: DateTime<Utc>) -> Result<Option<ItemRow>> {
        let at = micros(at);
        let row = sqlx::query(&format!(
            "SELECT {ITEM_COLS} FROM item_states s WHERE s.container_id = $1 AND s.item_id = $2 \
             AND s.valid_from <= $3 ORDER BY s.valid_from DESC LIMIT 1"
        ))
        .bind(container.to_string())
        .bind(item_id)
        .bind(at)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut rows = vec![item_from_row(&row, at)?];
        self.fill_attachments(container, &mut rows).await?;
        Ok(rows.pop())
    }

    /// The children of `q.parent` (or the top-level items) of a container as they were at `q.at`, folders first,
    /// then by name (case-insensitive), paged; `total` counts all matches.
    ///
    /// With `show_deleted`, items whose last state at or before `q.at` had already ended are included, marked
    /// `deleted`. An item moved elsewhere is listed only under its new parent.
    pub async fn items_at(&self, q: &ItemQuery) -> Result<Page<ItemRow>> {
        let at = micros(q.at);
        let mut filter = String::from("s.container_id = $1 AND s.valid_from <= $2");
        if q.show_deleted {
            // The latest state at or before `at` of each item, whether or not it has ended since.
            filter.push_str(
                " AND NOT EXISTS (SELECT 1 FROM item_states n WHERE n.container_id = s.container_id \
                 AND n.item_id = s.item_id AND n.valid_from > s.valid_from AND n.valid_from <= $2)",
            );
        } else {
            filter.push_str(" AND (s.valid_to IS NULL OR s.valid_to > $2)");
        }
        match &q.parent {
            Some(_) => filter.push_str(" AND s.parent_id = $3"),
            None => filter.push_str(" AND s.parent_id IS NULL"),
        }
        match q.kind {
            ItemKind::Any => {}
            ItemKind::Folder => filter.push_str(" AND s.is_folder = 1"),
            ItemKind::File => filter.push_str(" AND s.is_folder = 0"),
        }
        let n = if q.parent.is_some() { 3 } else { 2 };

        let count_sql = format!("SELECT COUNT(*) AS n FROM item_states s WHERE {filter}");
        let mut count = sqlx::query(&count_sql).bind(q.container_id.to_string()).bind(at);
        if let Some(p) = &q.parent {
            count = count.bind(p.clone());
        }
        let total: i64 = count.fetch_one(&self.pool).await?.try_get("n")?;

        let page_sql = format!(
            "SELECT {ITEM_COLS} FROM item_states s WHERE {filter} \
             ORDER BY s.is_folder DESC, LOWER(s.name), s.item_id LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let mut page = sqlx::query(&page_sql).bind(q.container_id.to_string()).bind(at);
        if let Some(p) = &q.parent {
            page = page.bind(p.clone());
        }
        let rows = page.bind(q.limit.max(0)).bind(q.offset.max(0)).fetch_all(&self.pool).await?;
        let mut rows = rows.iter().map(|r| item_from_row(r, at)).collect::<Result<Vec<_>>>()?;
        self.fill_attachments(q.container_id, &mut rows).await?;
        Ok(Page { rows, total })
    }

    /// The names from the top level down to the item itself, as of `at` (deleted items and ancestors included, so
    /// deleted content can be restored to its old place). Stops at the first ancestor that was never recorded
    /// (the drive root). Errors: [`CatalogError::NotFound`] if the item did not exist at `at`,
    /// [`CatalogError::Corrupt`] on a parent cycle.
    pub async fn path_of(&self, container: Uuid, item_id: &str, at: DateTime<Utc>) -> Result<Vec<String>> {
        let mut names = Vec::new();
        let mut seen = HashSet::new();
        let mut next = Some(item_id.to_string());
        let mut first = true;
        while let Some(id) = next {
            if !seen.insert(id.clone()) || names.len() >= MAX_DEPTH {
                return Err(CatalogError::Corrupt(format!("parent cycle above item {item_id}")));
            }
            let row = sqlx::query(
                "SELECT name, parent_id FROM item_states WHERE container_id = $1 AND item_id = $2 \
                 AND valid_from <= $3 ORDER BY valid_from DESC LIMIT 1",
            )
            .bind(container.to_string())
            .bind(&id)
            .bind(micros(at))
            .fetch_optional(&self.pool)
            .await?;
            match row {
                Some(row) => {
                    names.push(row.try_get::<String, _>("name")?);
                    next = row.try_get("parent_id")?;
                }
                None if first => return Err(CatalogError::NotFound(format!("item {item_id} at {at}"))),
                None => next = None,
            }
            first = false;
        }
        names.reverse();
        Ok(names)
    }
}
