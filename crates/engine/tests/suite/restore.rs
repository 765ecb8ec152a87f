//! Restore to the original location and copyTo against the emulated tenant; every test checks the TENANT afterwards
//! (bytes, ids, names, version counts).

use crate::common;

use chrono::{DateTime, Utc};
use common::*;
use engine::restore::{
    keep_name, restore_onedrive, Destination, DocumentAction, ItemStatus, LastVersionAction, RestoreOptions, Selection,
    VersionMode,
};
use repo::catalog::{ContainerInfo, ContainerKind, ContainerQuery};
use reqwest::Method;
use uuid::Uuid;

/// A tenant item as the emulator holds it.
#[derive(Debug, Clone)]
struct T {
    id: String,
    parent: Option<String>,
    name: String,
    bytes: Vec<u8>,
    versions: usize,
    deleted: bool,
    is_folder: bool,
}

fn items(env: &Env, drive: &str) -> Vec<T> {
    let st = env.emu.emu.state();
    st.items
        .values()
        .filter(|i| i.drive_id == drive)
        .map(|i| T {
            id: i.id.clone(),
            parent: i.parent_id.clone(),
            name: i.name.clone(),
            bytes: i.versions.last().map(|v| env.emu.emu.blobs.read_all(&v.content).unwrap()).unwrap_or_default(),
            versions: i.versions.len(),
            deleted: i.deleted.is_some(),
            is_folder: i.is_folder,
        })
        .collect()
}

fn item(env: &Env, drive: &str, id: &str) -> T {
    items(env, drive).into_iter().find(|i| i.id == id).unwrap()
}

fn live_child(env: &Env, drive: &str, parent: &str, name: &str) -> Option<T> {
    items(env, drive).into_iter().find(|i| !i.deleted && i.parent.as_deref() == Some(parent) && i.name == name)
}

fn root_of(env: &Env, drive: &str) -> String {
    items(env, drive).into_iter().find(|i| i.parent.is_none()).unwrap().id
}

async fn container(env: &Env, drive: &str, at: DateTime<Utc>) -> Uuid {
    let q = ContainerQuery::new(env.org, at).kind(ContainerKind::OneDrive).page(0, 100);
    let rows = env.catalog.containers_at(&q).await.unwrap().rows;
    rows.into_iter().find(|r| matches!(&r.info, ContainerInfo::OneDrive(i) if i.drive_id == drive)).unwrap().id
}

/// Live files of `drive` inside a sub-folder (not at the root), sorted by id.
fn nested_files(env: &Env, drive: &str) -> Vec<T> {
    let root = root_of(env, drive);
    let mut v: Vec<T> = items(env, drive)
        .into_iter()
        .filter(|i| !i.is_folder && !i.deleted && i.parent.as_deref() != Some(root.as_str()))
        .collect();
    v.sort_by(|a, b| a.id.cmp(&b.id));
    v
}

async fn put_content(env: &Env, drive: &str, id: &str, data: &[u8]) {
    env.graph(Method::PUT, &format!("/drives/{drive}/items/{id}/content"), None, Some(data.to_vec())).await;
}

#[tokio::test]
async fn original_location_overwrite_restores_changed_and_deleted_items() {
    let env = Env::new("users=2,files=24,versions=2,folders=3x2").await;
    let (_, drive) = env.first_drive();
    let at = env.backup().await.restore_point.unwrap().backup_time;
    let cid = container(&env, &drive, at).await;
    let files = nested_files(&env, &drive);
    assert!(files.len() >= 3, "seed has nested files");
    // A folder deleted with everything in it, and two files elsewhere: one changed, one deleted.
    let gone_folder = files.last().and_then(|f| f.parent.clone());
    let others: Vec<T> = files.iter().filter(|f| f.parent != gone_folder).cloned().collect();
    assert!(others.len() >= 2, "seed has files in several folders");
    let (changed, deleted) = (others[0].clone(), others[1].clone());
    put_content(&env, &drive, &changed.id, b"vandalised").await;
    env.graph(Method::DELETE, &format!("/drives/{drive}/items/{}", deleted.id), None, None).await;
    let gone_files: Vec<T> = match &gone_folder {
        Some(f) => {
            let kids: Vec<T> = items(&env, &drive)
                .into_iter()
                .filter(|i| i.parent.as_deref() == Some(f) && !i.is_folder && !i.deleted)
                .collect();
            env.graph(Method::DELETE, &format!("/drives/{drive}/items/{f}"), None, None).await;
            kids
        }
        None => Vec::new(),
    };
    let before_versions = item(&env, &drive, &changed.id).versions;

    let opts = RestoreOptions::original(DocumentAction::Overwrite);
    let stats =
        restore_onedrive(&env.catalog, &env.repo, &env.client, cid, at, &Selection::Whole, &opts).await.unwrap();
    assert_eq!(stats.failed, 0, "{:?}", stats.items);

    // Changed: same id, original bytes, one more version.
    let now = item(&env, &drive, &changed.id);
    assert_eq!(now.bytes, changed.bytes);
    assert_eq!(now.versions, before_versions + 1);
    // Deleted: back under its original parent with its name and bytes (a new id).
    let back = live_child(&env, &drive, deleted.parent.as_deref().unwrap(), &deleted.name).expect("restored");
    assert_eq!(back.bytes, deleted.bytes);
    // Files of the deleted folder: the folder recreated by path with their bytes.
    for f in &gone_files {
        let outcome =
            stats.items.iter().find(|o| o.item_id == f.id).unwrap_or_else(|| panic!("{f:?} {:?}", stats.items));
        assert_eq!(outcome.status, ItemStatus::Restored);
        let t = item(&env, &drive, outcome.target_item_id.as_deref().unwrap());
        assert_eq!((t.name.as_str(), &t.bytes), (f.name.as_str(), &f.bytes));
        assert!(!t.deleted);
    }
    // Everything else was unchanged and skipped.
    let restored = 2 + gone_files.len() as u64;
    assert_eq!(stats.restored, restored, "{:?}", stats.items);
    assert!(stats.skipped > 0);
    assert_eq!(stats.items.len() as u64, stats.restored + stats.skipped);

    // A second run finds nothing to do, and asks the tenant little to find that out: the drive is listed once
    // (delta pages), not looked up file by file.
    let before = env.client.stats.requests.load(std::sync::atomic::Ordering::Relaxed);
    let again =
        restore_onedrive(&env.catalog, &env.repo, &env.client, cid, at, &Selection::Whole, &opts).await.unwrap();
    assert_eq!((again.restored, again.failed), (0, 0));
    let asked = env.client.stats.requests.load(std::sync::atomic::Ordering::Relaxed) - before;
    assert!(again.skipped >= 10 && asked < again.skipped / 2, "{asked} requests to skip {} files", again.skipped);
}

#[tokio::test]
async fn keep_writes_a_copy_beside_the_untouched_original_and_filters_apply() {
    let env = Env::new("users=1,files=6,versions=1,folders=1x1").await;
    let (_, drive) = env.first_drive();
    let at = env.backup().await.restore_point.unwrap().backup_time;
    let cid = container(&env, &drive, at).await;
    let f = nested_files(&env, &drive).remove(0);
    put_content(&env, &drive, &f.id, b"newer work").await;

    // changedItems: false → the changed item is skipped, the tenant untouched.
    let mut opts = RestoreOptions::original(DocumentAction::Keep);
    opts.changed_items = false;
    let sel = Selection::Items(vec![f.id.clone()]);
    let s = restore_onedrive(&env.catalog, &env.repo, &env.client, cid, at, &sel, &opts).await.unwrap();
    assert_eq!((s.restored, s.skipped), (0, 1));
    assert_eq!(item(&env, &drive, &f.id).bytes, b"newer work");

    opts.changed_items = true;
    opts.started_at = "2026-11-23T10:00:00Z".parse().unwrap();
    let s = restore_onedrive(&env.catalog, &env.repo, &env.client, cid, at, &sel, &opts).await.unwrap();
    assert_eq!(s.restored, 1, "{:?}", s.items);
    assert_eq!(item(&env, &drive, &f.id).bytes, b"newer work", "Keep never overwrites");
    let copy_name = keep_name(&f.name, "2026-11-23 10-00-00", 1);
    let copy = live_child(&env, &drive, f.parent.as_deref().unwrap(), &copy_name).expect("copy beside it");
    assert_eq!(copy.bytes, f.bytes);
    assert_ne!(copy.id, f.id);
    // Again: the stamped name is taken, so " (2)" follows.
    restore_onedrive(&env.catalog, &env.repo, &env.client, cid, at, &sel, &opts).await.unwrap();
    let second = live_child(&env, &drive, f.parent.as_deref().unwrap(), &keep_name(&f.name, "2026-11-23 10-00-00", 2));
    assert_eq!(second.unwrap().bytes, f.bytes);

    // deletedItems: false → a deleted item is not restored.
    env.graph(Method::DELETE, &format!("/drives/{drive}/items/{}", f.id), None, None).await;
    opts.deleted_items = false;
    let s = restore_onedrive(&env.catalog, &env.repo, &env.client, cid, at, &sel, &opts).await.unwrap();
    assert_eq!((s.restored, s.skipped), (0, 1));
    assert!(live_child(&env, &drive, f.parent.as_deref().unwrap(), &f.name).is_none());
}

#[tokio::test]
async fn all_versions_are_uploaded_oldest_first_into_one_item() {
    let env = Env::new("users=1,files=4,versions=3,folders=1x1").await;
    let (_, drive) = env.first_drive();
    let at = env.backup().await.restore_point.unwrap().backup_time;
    let cid = container(&env, &drive, at).await;
    let f = nested_files(&env, &drive).remove(0);
    let backed_up_versions = env.catalog.versions_at(cid, &f.id, at, true).await.unwrap().len();
    assert!(backed_up_versions >= 2);
    env.graph(Method::DELETE, &format!("/drives/{drive}/items/{}", f.id), None, None).await;

    let mut opts = RestoreOptions::original(DocumentAction::Overwrite);
    opts.versions = VersionMode::All;
    let s =
        restore_onedrive(&env.catalog, &env.repo, &env.client, cid, at, &Selection::Items(vec![f.id.clone()]), &opts)
            .await
            .unwrap();
    assert_eq!(s.restored, 1, "{:?}", s.items);
    let back = live_child(&env, &drive, f.parent.as_deref().unwrap(), &f.name).unwrap();
    assert_eq!(back.versions, backed_up_versions);
    assert_eq!(s.items[0].versions_written as usize, backed_up_versions);
    assert_eq!(back.bytes, f.bytes, "the newest version is current");
}

#[tokio::test]
async fn copy_to_another_onedrive_creates_the_folder_and_handles_existing_files() {
    let env = Env::new("users=2,files=6,versions=1,folders=1x1").await;
    let (_, drive) = env.first_drive();
    let other = {
        let st = env.emu.emu.state();
        st.users.values().filter_map(|u| u.drive_id.clone()).find(|d| *d != drive).unwrap()
    };
    let at = env.backup().await.restore_point.unwrap().backup_time;
    let cid = container(&env, &drive, at).await;
    let f = nested_files(&env, &drive).remove(0);
    let sel = Selection::Items(vec![f.id.clone()]);
    let mut opts = RestoreOptions::original(DocumentAction::Overwrite);
    opts.destination = Destination::CopyTo {
        drive_id: other.clone(),
        folder: "Restored/From backup".into(),
        action: LastVersionAction::Merge,
    };
    let s = restore_onedrive(&env.catalog, &env.repo, &env.client, cid, at, &sel, &opts).await.unwrap();
    assert_eq!(s.restored, 1, "{:?}", s.items);
    // The folder chain Restored/From backup/<original folders…>/<name>.
    let first = s.items[0].target_item_id.clone().unwrap();
    let copied = item(&env, &other, &first);
    assert_eq!((copied.name.as_str(), &copied.bytes), (f.name.as_str(), &f.bytes));
    let mut chain = Vec::new();
    let mut p = copied.parent.clone();
    while let Some(id) = p {
        let t = item(&env, &other, &id);
        chain.push(t.name.clone());
        p = t.parent;
    }
    chain.pop(); // the drive root
    chain.reverse();
    assert_eq!(&chain[..2], &["Restored".to_string(), "From backup".to_string()]);
    assert_eq!(item(&env, &drive, &f.id).bytes, f.bytes, "the source is untouched");

    // Merge onto a changed copy: same id, one more version.
    put_content(&env, &other, &first, b"edited at the target").await;
    let v = item(&env, &other, &first).versions;
    restore_onedrive(&env.catalog, &env.repo, &env.client, cid, at, &sel, &opts).await.unwrap();
    let merged = item(&env, &other, &first);
    assert_eq!((merged.versions, &merged.bytes), (v + 1, &f.bytes));

    // Overwrite a changed copy: the file is replaced (new item, only the restored version).
    put_content(&env, &other, &first, b"edited again").await;
    if let Destination::CopyTo { action, .. } = &mut opts.destination {
        *action = LastVersionAction::Overwrite;
    }
    let s = restore_onedrive(&env.catalog, &env.repo, &env.client, cid, at, &sel, &opts).await.unwrap();
    let replaced = item(&env, &other, s.items[0].target_item_id.as_deref().unwrap());
    assert_ne!(replaced.id, first);
    assert_eq!((replaced.versions, &replaced.bytes), (1, &f.bytes));
    assert!(item(&env, &other, &first).deleted);
}

#[tokio::test]
async fn one_failing_item_does_not_stop_the_others_and_unknown_input_is_an_error() {
    let env = Env::new("users=2,files=6,versions=1,folders=0").await;
    let (_, drive) = env.first_drive();
    let other = {
        let st = env.emu.emu.state();
        st.users.values().filter_map(|u| u.drive_id.clone()).find(|d| *d != drive).unwrap()
    };
    let at = env.backup().await.restore_point.unwrap().backup_time;
    let cid = container(&env, &drive, at).await;
    let mut files: Vec<T> = items(&env, &drive).into_iter().filter(|i| !i.is_folder).collect();
    files.sort_by(|a, b| a.id.cmp(&b.id));
    // A folder with the first file's name is in the way at the destination.
    let other_root = root_of(&env, &other);
    env.graph(
        Method::POST,
        &format!("/drives/{other}/items/{other_root}/children"),
        Some(serde_json::json!({"name": files[0].name, "folder": {}})),
        None,
    )
    .await;
    let mut opts = RestoreOptions::original(DocumentAction::Overwrite);
    opts.destination =
        Destination::CopyTo { drive_id: other.clone(), folder: String::new(), action: LastVersionAction::Merge };
    let s = restore_onedrive(&env.catalog, &env.repo, &env.client, cid, at, &Selection::Whole, &opts).await.unwrap();
    assert_eq!(s.failed, 1, "{:?}", s.items);
    assert_eq!(s.restored as usize, files.len() - 1);
    let failed = s.items.iter().find(|o| o.status == ItemStatus::Failed).unwrap();
    assert_eq!(failed.item_id, files[0].id);
    for f in &files[1..] {
        assert_eq!(live_child(&env, &other, &other_root, &f.name).unwrap().bytes, f.bytes);
    }

    // Unknown items and containers abort before touching anything.
    let err = restore_onedrive(
        &env.catalog,
        &env.repo,
        &env.client,
        cid,
        at,
        &Selection::Items(vec!["nope".into()]),
        &RestoreOptions::original(DocumentAction::Keep),
    )
    .await;
    assert!(err.is_err());
    let err = restore_onedrive(
        &env.catalog,
        &env.repo,
        &env.client,
        Uuid::new_v4(),
        at,
        &Selection::Whole,
        &RestoreOptions::original(DocumentAction::Keep),
    )
    .await;
    assert!(err.is_err());
}

#[tokio::test]
async fn large_files_go_through_upload_sessions() {
    let env = Env::new("users=1,files=2,versions=1,folders=0").await;
    let (_, drive) = env.first_drive();
    let root = root_of(&env, &drive);
    // 5 MiB + 1000: above the simple-upload limit and not a multiple of the fragment size.
    let data: Vec<u8> = (0..5 * 1024 * 1024 + 1000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    env.graph(Method::PUT, &format!("/drives/{drive}/items/{root}:/big.bin:/content"), None, Some(data.clone())).await;
    let big = live_child(&env, &drive, &root, "big.bin").unwrap();
    let at = env.backup().await.restore_point.unwrap().backup_time;
    let cid = container(&env, &drive, at).await;

    // Changed in place: overwritten through a session on the item (same id).
    put_content(&env, &drive, &big.id, b"small now").await;
    let sel = Selection::Items(vec![big.id.clone()]);
    let opts = RestoreOptions::original(DocumentAction::Overwrite);
    let s = restore_onedrive(&env.catalog, &env.repo, &env.client, cid, at, &sel, &opts).await.unwrap();
    assert_eq!(s.restored, 1, "{:?}", s.items);
    assert_eq!(item(&env, &drive, &big.id).bytes, data);
    assert_eq!(s.bytes, data.len() as u64);

    // Deleted: a new file through a session by path.
    env.graph(Method::DELETE, &format!("/drives/{drive}/items/{}", big.id), None, None).await;
    let s = restore_onedrive(&env.catalog, &env.repo, &env.client, cid, at, &sel, &opts).await.unwrap();
    assert_eq!(s.restored, 1, "{:?}", s.items);
    assert_eq!(live_child(&env, &drive, &root, "big.bin").unwrap().bytes, data);
}

#[tokio::test]
async fn permissions_are_recreated_on_restored_items() {
    let env = Env::new("users=2,files=12,versions=1,folders=1x1,permissions=8").await;
    let (_, drive) = env.first_drive();
    let at = env.backup().await.restore_point.unwrap().backup_time;
    let cid = container(&env, &drive, at).await;
    // Files of the drive that carry sharing of their own.
    let shared: Vec<(String, Option<String>, String, Vec<emulator::state::Permission>)> = {
        let st = env.emu.emu.state();
        st.items
            .values()
            .filter(|i| i.drive_id == drive && !i.is_folder && i.deleted.is_none() && !i.permissions.is_empty())
            .map(|i| (i.id.clone(), i.parent_id.clone(), i.name.clone(), i.permissions.clone()))
            .collect()
    };
    assert!(!shared.is_empty(), "the seed shares some files");
    for (id, _, _, _) in &shared {
        env.graph(Method::DELETE, &format!("/drives/{drive}/items/{id}"), None, None).await;
    }
    let mut opts = RestoreOptions::original(DocumentAction::Overwrite);
    opts.restore_permissions = true;
    let sel = Selection::Items(shared.iter().map(|s| s.0.clone()).collect());
    let s = restore_onedrive(&env.catalog, &env.repo, &env.client, cid, at, &sel, &opts).await.unwrap();
    assert_eq!(s.restored as usize, shared.len(), "{:?}", s.items);
    let mut checked = 0;
    for (id, parent, name, perms) in &shared {
        let outcome = s.items.iter().find(|o| &o.item_id == id).unwrap();
        let new_id = outcome.target_item_id.clone().unwrap();
        assert_eq!(live_child(&env, &drive, parent.as_deref().unwrap(), name).unwrap().id, new_id);
        let now = env.emu.emu.state().items[&new_id].permissions.clone();
        for p in perms {
            if let Some(u) = &p.granted_to_user {
                if p.roles.iter().any(|r| r == "owner") {
                    continue;
                }
                assert!(
                    now.iter().any(|n| n.granted_to_user.as_ref() == Some(u) && n.roles == p.roles),
                    "grant to {u} {:?} restored on {name}: {now:?} warnings {:?}",
                    p.roles,
                    outcome.warnings
                );
                checked += 1;
            } else if let Some(l) = &p.link {
                if l.scope != "users" {
                    assert!(
                        now.iter()
                            .any(|n| n.link.as_ref().is_some_and(|m| m.link_type == l.link_type && m.scope == l.scope)),
                        "link {} {} restored on {name}",
                        l.link_type,
                        l.scope
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 0, "some sharing was compared");
    assert!(s.permissions_restored as usize >= checked);
}
