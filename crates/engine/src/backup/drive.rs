//! Backing up one drive (a OneDrive or a document library) with delta.

use std::collections::{HashMap, HashSet};

use futures::{stream, StreamExt};
use m365::types::DriveItem;
use m365::M365Error;
use repo::catalog::{ItemRow, VersionInfo};
use serde_json::{json, Value};
use uuid::Uuid;

use super::content::store_download;
use super::state::{drive_item_state, time, who};
use super::{Record, Run};
use crate::progress::Progress;

pub(crate) async fn backup_drive(run: &Run, cid: Uuid, drive_id: &str) -> anyhow::Result<()> {
    let client = &run.ctx.client;
    let root: DriveItem = client.get_json(&format!("/drives/{drive_id}/root")).await?;
    let stored = run.ctx.catalog.get_delta_link(cid).await?;
    // Stored links are relative to the Graph base (older catalogs hold absolute ones, moved onto the configured
    // base here); a link that cannot be placed there is dropped and the drive enumerated in full.
    let previous = stored.as_deref().and_then(|l| client.stored_link_url(l));
    if let (Some(l), None) = (&stored, &previous) {
        run.info(format!(
            "drive {drive_id}: stored delta position {l:?} is not below the Graph endpoint; full scan and diff"
        ))
        .await;
    }
    let start = previous.clone().unwrap_or_else(|| client.drive_delta_start(drive_id));
    let (items, link, full) = match client.delta_all(&start).await {
        Ok((items, link)) => (items, link, previous.is_none()),
        Err(M365Error::ResyncRequired { location }) => {
            // The token is too old: enumerate everything and diff against the catalog.
            run.info(format!("delta token of drive {drive_id} expired; full scan and diff")).await;
            let from =
                location.and_then(|l| client.stored_link_url(&l)).unwrap_or_else(|| client.drive_delta_start(drive_id));
            let (items, link) = client.delta_all(&from).await?;
            (items, link, true)
        }
        Err(e) => return Err(e.into()),
    };

    // Delta may list an item several times; its last occurrence is its latest state.
    let mut order: Vec<String> = Vec::new();
    let mut latest: HashMap<String, DriveItem> = HashMap::new();
    for v in items {
        let item: DriveItem = serde_json::from_value(v)?;
        if !latest.contains_key(&item.id) {
            order.push(item.id.clone());
        }
        latest.insert(item.id.clone(), item);
    }
    let work: Vec<DriveItem> = order
        .iter()
        .filter_map(|id| latest.remove(id))
        // The root is implicit in the catalog; shortcuts to other drives are not this drive's data.
        .filter(|i| i.id != root.id && i.root.is_none() && i.remote_item.is_none())
        .collect();
    let seen: HashSet<String> = work.iter().filter(|i| !i.is_deleted()).map(|i| i.id.clone()).collect();

    let root_id = root.id.as_str();
    let mut failures = 0usize;
    for group in work.chunks(run.ctx.checkpoint_items.max(1)) {
        let results: Vec<_> = stream::iter(group.iter().cloned())
            .map(|item| async move {
                let id = item.id.clone();
                (id, backup_drive_item(run, cid, drive_id, root_id, item).await)
            })
            .buffer_unordered(run.ctx.concurrency.max(1))
            .collect()
            .await;
        let mut records = Vec::new();
        for (id, r) in results {
            match r {
                Ok(recs) => records.extend(recs),
                Err(e) => {
                    failures += 1;
                    run.warn(format!("item {id} of drive {drive_id} not backed up: {e:#}"), Some(&id)).await
                }
            }
        }
        run.checkpoint(records).await?;
    }

    if full {
        // A full enumeration lists only live items: whatever the catalog still holds and was not
        // seen has been deleted since the last backup.
        let gone: Vec<Record> = run
            .ctx
            .catalog
            .current_item_ids(cid)
            .await?
            .into_iter()
            .filter(|id| !seen.contains(id))
            .map(|item| Record::Deleted { container: cid, item })
            .collect();
        run.checkpoint(gone).await?;
    }
    if failures == 0 {
        run.ctx.catalog.set_delta_link(run.session, cid, &client.link_to_store(&link)).await?;
    } else {
        // Advancing the token would skip the failed items until they change again; keeping the old
        // one makes the next run see them again (unchanged items cost nothing then).
        run.info(format!("drive {drive_id}: {failures} item(s) failed; delta position kept for the next run")).await;
    }
    Ok(())
}

async fn backup_drive_item(
    run: &Run,
    cid: Uuid,
    drive_id: &str,
    root_id: &str,
    item: DriveItem,
) -> anyhow::Result<Vec<Record>> {
    Progress::add(&run.ctx.progress.items, 1);
    if item.is_deleted() {
        return Ok(vec![Record::Deleted { container: cid, item: item.id }]);
    }
    let catalog = &run.ctx.catalog;
    let client = &run.ctx.client;
    let prev: Option<ItemRow> = catalog.item_at(cid, &item.id, run.at).await?;
    let mut records = Vec::new();
    let mut content_ref = None;
    if !item.is_folder() {
        let unchanged = prev.as_ref().filter(|p| {
            p.state.content_ref.is_some()
                && p.state.quick_xor_hash.is_some()
                && p.state.quick_xor_hash.as_deref() == item.quick_xor()
                && p.state.size == item.size.unwrap_or(0) as i64
        });
        content_ref = match unchanged {
            // Same bytes as already stored: never downloaded again.
            Some(p) => p.state.content_ref.clone(),
            None => Some(store_file_and_versions(run, cid, drive_id, &item, &mut records).await?),
        };
    }
    let was_shared = prev.as_ref().is_some_and(|p| p.state.metadata.get("shared").is_some());
    if item.shared.is_some() {
        let perms = client.permissions(drive_id, &item.id).await?;
        records.push(Record::Permissions { container: cid, item: item.id.clone(), permissions: Value::Array(perms) });
    } else if was_shared {
        records.push(Record::Permissions { container: cid, item: item.id.clone(), permissions: json!([]) });
    }
    let state = drive_item_state(&item, root_id, content_ref);
    records.push(Record::State { container: cid, item: item.id, state: Box::new(state) });
    Ok(records)
}

/// Store the current content and every older version not stored yet; returns the current content ref.
async fn store_file_and_versions(
    run: &Run,
    cid: Uuid,
    drive_id: &str,
    item: &DriveItem,
    records: &mut Vec<Record>,
) -> anyhow::Result<Vec<u8>> {
    let client = &run.ctx.client;
    let versions = client.versions(drive_id, &item.id).await?;
    let known: HashSet<String> =
        run.ctx.catalog.versions_at(cid, &item.id, run.at, true).await?.into_iter().map(|v| v.version.label).collect();
    // Graph lists the current version first; its content is the item's `/content`.
    for v in versions.iter().skip(1).filter(|v| !known.contains(&v.id)) {
        let url = match &v.download_url {
            Some(u) => u.clone(),
            None => client.version_content_url(drive_id, &item.id, &v.id).await?,
        };
        let stored = store_download(run, &url, None, None).await?;
        records.push(Record::Version {
            container: cid,
            item: item.id.clone(),
            version: VersionInfo {
                label: v.id.clone(),
                size: stored.blob.size as i64,
                modified_at: time(&v.last_modified_date_time),
                modified_by: who(&v.last_modified_by),
                content_ref: Some(stored.blob.to_compact()),
                content_hash: stored.quick_xor,
            },
        });
    }
    // The download URL from delta may have expired by now; fall back to a fresh one once.
    let stored = match &item.download_url {
        Some(url) => match store_download(run, url, None, item.quick_xor()).await {
            Ok(s) => s,
            Err(_) => {
                store_download(run, &client.content_url(drive_id, &item.id).await?, None, item.quick_xor()).await?
            }
        },
        None => store_download(run, &client.content_url(drive_id, &item.id).await?, None, item.quick_xor()).await?,
    };
    let content_ref = stored.blob.to_compact();
    if let Some(current) = versions.first() {
        records.push(Record::Version {
            container: cid,
            item: item.id.clone(),
            version: VersionInfo {
                label: current.id.clone(),
                size: stored.blob.size as i64,
                modified_at: time(&current.last_modified_date_time).or(time(&item.last_modified_date_time)),
                modified_by: who(&current.last_modified_by),
                content_ref: Some(content_ref.clone()),
                content_hash: stored.quick_xor,
            },
        });
    }
    Ok(content_ref)
}
