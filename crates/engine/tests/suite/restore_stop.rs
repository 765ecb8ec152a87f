//! A restore stopped through its cancellation token: no file is started after the stop, and the tenant holds
//! exactly the files the statistics report.

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use engine::restore::{
    restore_onedrive_observed, Destination, DocumentAction, ItemOutcome, ItemStatus, LastVersionAction, RestoreOptions,
    Selection,
};
use repo::catalog::{ContainerInfo, ContainerKind, ContainerQuery};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn a_cancelled_restore_starts_no_further_file() {
    let env = Env::new("users=2,files=16,versions=1,folders=0").await;
    let (_, drive) = env.first_drive();
    let other = {
        let st = env.emu.emu.state();
        st.users.values().filter_map(|u| u.drive_id.clone()).find(|d| *d != drive).unwrap()
    };
    let at = env.backup().await.restore_point.unwrap().backup_time;
    let q = ContainerQuery::new(env.org, at).kind(ContainerKind::OneDrive).page(0, 100);
    let cid = env
        .catalog
        .containers_at(&q)
        .await
        .unwrap()
        .rows
        .into_iter()
        .find(|r| matches!(&r.info, ContainerInfo::OneDrive(i) if i.drive_id == drive));
    let cid = cid.unwrap().id;
    let mut opts = RestoreOptions::original(DocumentAction::Overwrite);
    opts.destination =
        Destination::CopyTo { drive_id: other.clone(), folder: "Stopped".into(), action: LastVersionAction::Overwrite };

    // The stop arrives while the second file is written: it completes, nothing else starts.
    let stop = CancellationToken::new();
    let seen = AtomicUsize::new(0);
    let observer = |_: &ItemOutcome| {
        if seen.fetch_add(1, Ordering::SeqCst) + 1 == 2 {
            stop.cancel();
        }
    };
    let stats = restore_onedrive_observed(
        &env.catalog,
        &env.repo,
        &env.client,
        cid,
        at,
        &Selection::Whole,
        &opts,
        Some(&observer),
        Some(&stop),
    )
    .await
    .unwrap();
    assert_eq!(stats.items.len(), 2, "{:?}", stats.items);
    assert_eq!(stats.restored, 2, "{:?}", stats.items);
    assert!(stats.items.iter().all(|i| i.status == ItemStatus::Restored));

    let copied: Vec<String> = {
        let st = env.emu.emu.state();
        let folder = st.items.values().find(|i| i.drive_id == other && i.name == "Stopped" && i.is_folder).unwrap();
        let mut v: Vec<String> = st
            .items
            .values()
            .filter(|i| i.parent_id.as_deref() == Some(folder.id.as_str()) && i.deleted.is_none())
            .map(|i| i.name.clone())
            .collect();
        v.sort();
        v
    };
    let mut reported: Vec<String> = stats.items.iter().map(|i| i.target_name.clone().unwrap()).collect();
    reported.sort();
    assert_eq!(copied, reported, "the target holds exactly the files the statistics report");

    // Cancelled before it starts: nothing is written.
    let before = env.emu.emu.state().items.len();
    let stats = restore_onedrive_observed(
        &env.catalog,
        &env.repo,
        &env.client,
        cid,
        at,
        &Selection::Whole,
        &opts,
        None,
        Some(&stop),
    )
    .await
    .unwrap();
    assert!(stats.items.is_empty(), "{:?}", stats.items);
    assert_eq!(env.emu.emu.state().items.len(), before);
}
