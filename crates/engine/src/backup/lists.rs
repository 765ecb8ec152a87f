//! Backing up SharePoint lists: document libraries through their drive, other lists item by item
//! with their attachments (SharePoint REST, certificate-authenticated).

use std::collections::HashSet;

use anyhow::Context;
use m365::types::{List, ListItem, Site};
use repo::catalog::{Attachment, ContainerInfo, ListInfo};
use uuid::Uuid;

use super::content::store_download;
use super::state::list_item_state;
use super::{drive, Record, Run};
use crate::progress::Progress;

/// Back up one list; returns its container id.
pub(crate) async fn backup_list(run: &Run, site: &Site, list: &List) -> anyhow::Result<Uuid> {
    let ctx = &run.ctx;
    let is_library = list.is_document_library();
    let drive = if is_library {
        let d = ctx.client.list_drive(&site.id, &list.id).await;
        Some(d.with_context(|| format!("drive of library {}", list.id))?)
    } else {
        None
    };
    let info = ContainerInfo::List(ListInfo {
        list_id: list.id.clone(),
        site_id: site.id.clone(),
        title: list.display_name.clone().or(list.name.clone()).unwrap_or_default(),
        template: list.list.as_ref().and_then(|l| l.template.clone()).unwrap_or_else(|| "genericList".into()),
        is_document_library: is_library,
        drive_id: drive.as_ref().map(|d| d.id.clone()),
    });
    let (cid, _) = ctx.catalog.record_container(ctx.organization_id, &info, run.at).await?;
    match drive {
        Some(d) => drive::backup_drive(run, cid, &d.id).await?,
        None => backup_list_items(run, cid, site, list).await?,
    }
    Ok(cid)
}

async fn backup_list_items(run: &Run, cid: Uuid, site: &Site, list: &List) -> anyhow::Result<()> {
    let ctx = &run.ctx;
    let items = ctx.client.list_items(&site.id, &list.id).await?;
    let seen: HashSet<String> = items.iter().map(|i| i.id.clone()).collect();
    for group in items.chunks(ctx.checkpoint_items.max(1)) {
        let mut records = Vec::new();
        for item in group {
            Progress::add(&ctx.progress.items, 1);
            match list_item_record(run, cid, site, list, item).await {
                Ok(r) => records.push(r),
                Err(e) => {
                    run.warn(format!("list item {} of {} not backed up: {e:#}", item.id, list.id), Some(&item.id)).await
                }
            }
        }
        run.checkpoint(records).await?;
    }
    // Lists are enumerated whole, so anything not listed is gone.
    let gone: Vec<Record> = ctx
        .catalog
        .current_item_ids(cid)
        .await?
        .into_iter()
        .filter(|id| !seen.contains(id))
        .map(|item| Record::Deleted { container: cid, item })
        .collect();
    run.checkpoint(gone).await
}

async fn list_item_record(run: &Run, cid: Uuid, site: &Site, list: &List, item: &ListItem) -> anyhow::Result<Record> {
    let mut state = list_item_state(item);
    if item.has_attachments() {
        let prev = run.ctx.catalog.item_at(cid, &item.id, run.at).await?;
        // Adding or removing an attachment changes the item's eTag, so an unchanged eTag means the
        // stored attachments are still right.
        match prev.filter(|p| p.state.etag.is_some() && p.state.etag == item.e_tag && !p.state.attachments.is_empty()) {
            Some(p) => state.attachments = p.state.attachments,
            None => {
                for a in run.ctx.client.attachments(site, &list.id, &item.id).await? {
                    let (url, resource) =
                        run.ctx.client.attachment_value_url(site, &list.id, &item.id, &a.file_name)?;
                    let stored = store_download(run, &url, Some(resource), None).await?;
                    state.attachments.push(Attachment {
                        file_name: a.file_name,
                        size: stored.blob.size as i64,
                        content_ref: Some(stored.blob.to_compact()),
                    });
                }
            }
        }
    }
    Ok(Record::State { container: cid, item: item.id.clone(), state: Box::new(state) })
}
