//! The archive the save benchmark writes: every item of one backed-up OneDrive at a restore point, arranged as
//! `engine::save::ZipPlan` arranges it for the API's "save OneDrive" — and the same entries written out as plain
//! files, so `tar` can be measured on exactly the bytes and names the ZIP holds.

use std::path::Path;

use anyhow::Context;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use engine::save::{EntryContent, ZipPlan};
use repo::catalog::{Catalog, ItemKind, ItemQuery};
use repo::store::{BlobRef, Repository};
use uuid::Uuid;

/// Catalog rows per page while walking the folders.
const PAGE: i64 = 500;

/// All items of `container` at `at` as a ZIP plan (folders before their children). A file without backed-up
/// content is an error: the benchmark must compare the same bytes on both sides.
pub async fn onedrive_plan(catalog: &Catalog, container: Uuid, at: DateTime<Utc>) -> anyhow::Result<ZipPlan> {
    let mut plan = ZipPlan::new();
    let mut pending: Vec<Option<String>> = vec![None];
    while let Some(parent) = pending.pop() {
        let mut offset = 0;
        loop {
            let mut q = ItemQuery::new(container, at).kind(ItemKind::Any).page(offset, PAGE);
            q.parent = parent.clone();
            let page = catalog.items_at(&q).await.context("listing backed-up items")?;
            let n = page.rows.len() as i64;
            for r in page.rows {
                let parent = r.state.parent_id.as_deref();
                if r.state.is_folder {
                    plan.add_folder(parent, &r.item_id, &r.state.name, r.state.modified_at);
                    pending.push(Some(r.item_id.clone()));
                    continue;
                }
                let content = match r.state.content_ref.as_deref() {
                    Some(c) => EntryContent::Blob(
                        BlobRef::from_compact(c).with_context(|| format!("content reference of {}", r.item_id))?,
                    ),
                    None if r.state.size == 0 => EntryContent::Inline(Bytes::new()),
                    None => anyhow::bail!("item {} ({}) has no backed-up content", r.item_id, r.state.name),
                };
                plan.add_file(parent, &r.state.name, content, r.state.modified_at);
            }
            offset += n;
            if n == 0 || offset >= page.total {
                break;
            }
        }
    }
    Ok(plan)
}

/// Files and folders of a plan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanCounts {
    pub files: u64,
    pub folders: u64,
    /// Bytes of file content.
    pub content_bytes: u64,
}

/// Counts the entries of `plan`.
pub fn counts(plan: &ZipPlan) -> PlanCounts {
    let mut c = PlanCounts { content_bytes: plan.content_bytes(), ..Default::default() };
    for e in plan.entries() {
        match e.content {
            EntryContent::Directory => c.folders += 1,
            _ => c.files += 1,
        }
    }
    c
}

/// Writes the plan's entries as plain files under `dir` (content read back from the repository). Entry names are
/// sanitised by the plan (no `..`, no absolute paths), so every path stays inside `dir`.
pub async fn write_plain_files(plan: &ZipPlan, repo: &Repository, dir: &Path) -> anyhow::Result<u64> {
    let mut written = 0u64;
    for e in plan.entries() {
        let path = dir.join(e.name.trim_end_matches('/'));
        match &e.content {
            EntryContent::Directory => std::fs::create_dir_all(&path)?,
            EntryContent::Inline(b) => {
                create_parent(&path)?;
                std::fs::write(&path, b)?;
                written += b.len() as u64;
            }
            EntryContent::Blob(blob) => {
                create_parent(&path)?;
                let data = repo.read_blob(&blob.chunks).await.with_context(|| format!("reading {}", e.name))?;
                std::fs::write(&path, &data).with_context(|| format!("writing {}", path.display()))?;
                written += data.len() as u64;
            }
        }
    }
    Ok(written)
}

/// A file's folder normally exists already (folders precede their children); an orphan lands at the root.
fn create_parent(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(p) => std::fs::create_dir_all(p),
        None => Ok(()),
    }
}
