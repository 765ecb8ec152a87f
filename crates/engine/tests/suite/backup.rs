//! Backup against the emulated tenant: full then incremental with edits, renames, moves and
//! deletes; dedup; crash + resume; throttling storms.

use crate::common;

use common::*;
use repo::catalog::{ContainerKind, ContainerQuery, ItemQuery, ObjectKind, ObjectStatus, SessionStatus};
use repo::store::{BlobRef, Repository};
use reqwest::Method;
use serde_json::json;

/// Live files of a drive in the emulator: (id, name, parent id).
fn files(env: &Env, drive: &str) -> Vec<(String, String, String)> {
    let st = env.emu.emu.state();
    let mut v: Vec<_> = st
        .items
        .values()
        .filter(|i| i.drive_id == drive && !i.is_folder && i.deleted.is_none())
        .map(|i| (i.id.clone(), i.name.clone(), i.parent_id.clone().unwrap_or_default()))
        .collect();
    v.sort();
    v
}

async fn content_of(repo: &Repository, content_ref: &[u8]) -> Vec<u8> {
    let blob = BlobRef::from_compact(content_ref).unwrap();
    repo.read_blob(&blob.chunks).await.unwrap()
}

#[tokio::test]
async fn full_then_incremental_follows_every_change() {
    let env = Env::new("users=2,files=24,versions=2,sites=1,items=3").await;
    let r1 = env.backup().await;
    assert_eq!(r1.status, SessionStatus::Success, "{r1:?}");
    let t1 = r1.restore_point.as_ref().unwrap().backup_time;
    assert!(r1.restore_point.as_ref().unwrap().is_full);

    let (_, drive) = env.first_drive();
    let user_id = env.emu.emu.state().drives[&drive].owner_user_id.clone().unwrap();
    let c = env.catalog.container_id(env.org, ContainerKind::OneDrive, &user_id).await.unwrap().unwrap();
    let fs = files(&env, &drive);
    assert!(fs.len() >= 5, "need five files, have {}", fs.len());
    let (a, b, cfile, d) = (&fs[0].0, &fs[1].0, &fs[2].0, &fs[3].0);

    // Every file of the drive is in the catalog with the bytes the tenant holds.
    for (id, name, _) in &fs {
        let row = env.catalog.item_at(c, id, t1).await.unwrap().unwrap_or_else(|| panic!("{name} backed up"));
        let bytes = content_of(&env.repo, row.state.content_ref.as_ref().unwrap()).await;
        let expected = {
            let st = env.emu.emu.state();
            let v = st.items[id].versions.last().unwrap().content.clone();
            env.emu.emu.blobs.read_all(&v).unwrap()
        };
        assert_eq!(bytes, expected, "content of {name}");
    }

    // Changes between the runs.
    let new_a = b"edited content of A".repeat(100);
    env.graph(Method::PUT, &format!("/drives/{drive}/items/{a}/content"), None, Some(new_a.clone())).await;
    env.graph(Method::PATCH, &format!("/drives/{drive}/items/{b}"), Some(json!({"name": "renamed.txt"})), None).await;
    let folder = env
        .graph(
            Method::POST,
            &format!("/drives/{drive}/root/children"),
            Some(json!({"name": "Moved here", "folder": {}})),
            None,
        )
        .await;
    let folder_id = folder["id"].as_str().unwrap().to_string();
    env.graph(
        Method::PATCH,
        &format!("/drives/{drive}/items/{cfile}"),
        Some(json!({"parentReference": {"id": folder_id}})),
        None,
    )
    .await;
    env.graph(Method::DELETE, &format!("/drives/{drive}/items/{d}"), None, None).await;
    let new_e = b"a brand new file".to_vec();
    let e = env
        .graph(Method::PUT, &format!("/drives/{drive}/root:/new-file.txt:/content"), None, Some(new_e.clone()))
        .await;
    let e = e["id"].as_str().unwrap().to_string();

    let r2 = env.backup().await;
    assert_eq!(r2.status, SessionStatus::Success, "{r2:?}");
    let rp2 = r2.restore_point.as_ref().unwrap();
    assert!(!rp2.is_full);
    let t2 = rp2.backup_time;
    assert!(t2 > t1);
    // Incremental: only the edited and the new file were downloaded.
    assert_eq!(r2.bytes_read, (new_a.len() + new_e.len()) as u64, "{r2:?}");

    let at = |id: &str, t| {
        let catalog = env.catalog.clone();
        let id = id.to_string();
        async move { catalog.item_at(c, &id, t).await.unwrap().unwrap() }
    };
    let a1 = at(a, t1).await;
    let a2 = at(a, t2).await;
    assert_ne!(a1.state.quick_xor_hash, a2.state.quick_xor_hash);
    assert_eq!(content_of(&env.repo, a2.state.content_ref.as_ref().unwrap()).await, new_a);
    assert_ne!(content_of(&env.repo, a1.state.content_ref.as_ref().unwrap()).await, new_a, "old state keeps old bytes");
    assert_eq!(at(b, t1).await.state.name, fs[1].1);
    assert_eq!(at(b, t2).await.state.name, "renamed.txt");
    assert_eq!(at(cfile, t2).await.state.parent_id.as_deref(), Some(folder_id.as_str()));
    assert!(!at(d, t1).await.deleted);
    assert!(at(d, t2).await.deleted);
    assert!(env.catalog.item_at(c, &e, t1).await.unwrap().is_none());
    assert_eq!(content_of(&env.repo, at(&e, t2).await.state.content_ref.as_ref().unwrap()).await, new_e);

    // The session's per-item log names exactly what changed.
    let log = env.catalog.session_log(r2.session_id, 0, 1000).await.unwrap().rows;
    let logged = |id: &str, text: &str| {
        let at = repo::catalog::item_ref(c, id);
        log.iter().any(|e| e.item_ref.as_deref() == Some(at.as_str()) && e.message.contains(text))
    };
    assert!(logged(b, "'renamed.txt' backed up"), "{log:?}");
    // The catalog names a logged item by its path and container.
    let named = env.catalog.describe_item(&repo::catalog::item_ref(c, b), t2).await.unwrap().unwrap();
    assert!(named.starts_with("OneDrive of ") && named.ends_with("/renamed.txt"), "{named}");
    assert!(logged(d, "deleted"), "{log:?}");
    assert!(logged(&e, "'new-file.txt' backed up"), "{log:?}");
    assert!(
        !log.iter().any(|e| e.item_ref.as_deref() == Some(repo::catalog::item_ref(c, &fs[fs.len() - 1].0).as_str())),
        "unchanged items are not logged"
    );

    // Versions: the two seeded ones plus the edit; the oldest has the tenant's old bytes.
    let versions = env.catalog.versions_at(c, a, t2, true).await.unwrap();
    assert_eq!(versions.len(), 3, "{versions:?}");
    let oldest = versions.last().unwrap();
    let expected = {
        let st = env.emu.emu.state();
        env.emu.emu.blobs.read_all(&st.items[a].versions[0].content).unwrap()
    };
    assert_eq!(content_of(&env.repo, oldest.version.content_ref.as_ref().unwrap()).await, expected);
    assert_eq!(env.catalog.versions_at(c, a, t1, false).await.unwrap().len(), 1);

    // Browsing the root at each instant: the move and the new folder show up only at t2.
    let root2 = env.catalog.items_at(&ItemQuery::new(c, t2)).await.unwrap();
    assert!(root2.rows.iter().any(|r| r.item_id == folder_id && r.state.is_folder));
    let root1 = env.catalog.items_at(&ItemQuery::new(c, t1)).await.unwrap();
    assert!(!root1.rows.iter().any(|r| r.item_id == folder_id));

    // SharePoint list items and their attachments (SharePoint REST with the certificate).
    let (list_id, expected_attachments) = {
        let st = env.emu.emu.state();
        let list = st.lists.values().find(|l| l.template == "genericList" && !l.items.is_empty()).unwrap();
        let mut atts = Vec::new();
        for (id, item) in &list.items {
            for a in &item.attachments {
                atts.push((id.to_string(), a.file_name.clone(), env.emu.emu.blobs.read_all(&a.content).unwrap()));
            }
        }
        (list.id.clone(), atts)
    };
    assert!(!expected_attachments.is_empty(), "seed has attachments");
    let lc = env.catalog.container_id(env.org, ContainerKind::List, &list_id).await.unwrap().unwrap();
    for (item, name, bytes) in expected_attachments {
        let row = env.catalog.item_at(lc, &item, t2).await.unwrap().unwrap();
        let att = row.state.attachments.iter().find(|a| a.file_name == name).unwrap();
        assert_eq!(content_of(&env.repo, att.content_ref.as_ref().unwrap()).await, bytes);
    }
    assert!(env.repo.check(true).await.unwrap().is_ok());
}

#[tokio::test]
async fn unchanged_tenant_costs_no_downloads_and_no_storage() {
    let env = Env::new("users=2,files=30,versions=2,sites=1,items=2").await;
    let r1 = env.backup().await;
    assert!(r1.bytes_stored > 0);
    let r2 = env.backup().await;
    assert_eq!(r2.status, SessionStatus::Success);
    assert_eq!(r2.bytes_read, 0, "{r2:?}");
    assert_eq!(r2.bytes_stored, 0, "{r2:?}");
    assert!(r2.restore_point.is_some());
    // Incremental runs ask Graph little: discovery plus one delta round per drive.
    assert!(r2.requests < r1.requests / 2, "first {} requests, second {}", r1.requests, r2.requests);
}

#[tokio::test]
async fn throttling_storm_loses_no_item() {
    let mut env = Env::new("users=2,files=30,versions=2").await;
    // The harness lowers the retry count to keep failure tests quick; the storm is a deterministic every-Nth counter
    // shared by four concurrent requests, so under a loaded machine the same request can land on the Nth slot four
    // times running. A storm has to be ridden out with the retry count the product really uses.
    env.client.policy.max_attempts = m365::retry::RetryPolicy::default().max_attempts;
    env.control(Method::POST, "/faults", json!({"path": "/v1.0", "status": 429, "retryAfter": 0, "everyNth": 4})).await;
    env.control(Method::POST, "/faults", json!({"path": "/_dl", "status": 503, "retryAfter": 0, "everyNth": 5})).await;
    let r = env.backup().await;
    assert_eq!(r.status, SessionStatus::Success, "{r:?}");
    assert!(env.client.stats.throttled.load(std::sync::atomic::Ordering::Relaxed) > 0, "the storm happened");
    let t = r.restore_point.unwrap().backup_time;
    let (_, drive) = env.first_drive();
    let user_id = env.emu.emu.state().drives[&drive].owner_user_id.clone().unwrap();
    let c = env.catalog.container_id(env.org, ContainerKind::OneDrive, &user_id).await.unwrap().unwrap();
    for (id, name, _) in files(&env, &drive) {
        let row = env.catalog.item_at(c, &id, t).await.unwrap();
        assert!(row.is_some_and(|r| r.state.content_ref.is_some()), "{name} lost in the storm");
    }
}

#[tokio::test]
async fn killed_backup_leaves_a_consistent_repository_and_resumes() {
    let env = Env::new("users=3,files=90,versions=1").await;
    // Slow downloads so the backup is surely mid-way when it is killed.
    env.control(Method::POST, "/faults", json!({"path": "/_dl", "latencyMs": 40})).await;
    let ctx = env.ctx();
    let progress = ctx.progress.clone();
    let task = tokio::spawn(async move { engine::run_backup(&ctx).await });
    // Wait for the first checkpoint (packs appear when the store is flushed) and some more work.
    let packs = env.dir.path().join("repo").join("data");
    while std::fs::read_dir(&packs).map(|d| d.count()).unwrap_or(0) == 0 {
        assert!(!task.is_finished(), "backup ended before its first checkpoint");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let items = engine::progress::Progress::get(&progress.items);
    while engine::progress::Progress::get(&progress.items) < items + 5 {
        assert!(!task.is_finished(), "backup ended before it could be killed");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    task.abort(); // like kill -9: nothing after this point runs, in-memory state is lost
    let _ = task.await;
    env.control(Method::DELETE, "/faults", json!(null)).await;

    // What a restarted process sees: the repository as stored, the catalog as committed.
    let store = repo::store::local_store(&env.dir.path().join("repo")).unwrap();
    let reopened = Repository::open(store, PASSWORD).await.unwrap();
    assert!(reopened.check(true).await.unwrap().is_ok());
    let mut refs = env.catalog.referenced_content();
    let mut referenced = 0;
    while let Some(r) = futures::StreamExt::next(&mut refs).await {
        let blob = BlobRef::from_compact(&r.unwrap()).unwrap();
        assert!(blob.chunks.iter().all(|c| reopened.contains(c)), "catalog references missing content");
        referenced += 1;
    }
    drop(refs);
    assert!(referenced > 0, "the killed run committed checkpoints");
    assert!(env.catalog.restore_points(env.org).await.unwrap().is_empty(), "no restore point from a killed run");
    let stale = env.catalog.fail_stale_sessions(chrono::Utc::now()).await.unwrap();
    assert_eq!(stale.len(), 1);

    let mut resumed = env.ctx();
    resumed.repo = reopened.clone();
    let before = reopened.stats().stored_bytes;
    let r = engine::run_backup(&resumed).await.unwrap();
    assert_eq!(r.status, SessionStatus::Success, "{r:?}");
    // The resumed run stored less than everything: what the killed run made durable was re-used.
    let total: u64 = {
        let st = env.emu.emu.state();
        st.items.values().filter(|i| !i.is_folder && i.deleted.is_none()).map(|i| i.size).sum()
    };
    assert!(before > 0);
    assert!(r.bytes_read < total, "resumed run read {} of {total}", r.bytes_read);
    assert!(reopened.check(true).await.unwrap().is_ok());
}

/// A stop asked for through the catalog (as any node's API does) ends the run at its next checkpoint: the session is
/// `Stopped`, what it committed stays (no restore point), and the next run resumes and completes.
#[tokio::test]
async fn a_stop_ends_the_run_at_a_checkpoint_and_the_next_run_resumes() {
    let env = Env::new("users=3,files=90,versions=1").await;
    env.control(Method::POST, "/faults", json!({"path": "/_dl", "latencyMs": 40})).await;
    let (session, run) = engine::start_backup(env.ctx()).await.unwrap();
    assert_eq!(env.catalog.session(session.id).await.unwrap().unwrap().status, SessionStatus::Running);
    // Once something is committed, ask for the stop.
    while env.catalog.session_log(session.id, 0, 1).await.unwrap().total == 0 {
        assert!(!run.is_finished(), "backup ended before its first checkpoint");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(env.catalog.request_stop(session.id).await.unwrap());
    let ended = run.await.unwrap().unwrap_err();
    assert!(engine::stopped(&ended), "{ended:#}");
    env.control(Method::DELETE, "/faults", json!(null)).await;
    let stopped = env.catalog.session(session.id).await.unwrap().unwrap();
    assert_eq!(stopped.status, SessionStatus::Stopped);
    assert!(stopped.counters.processed_items > 0, "{stopped:?}");
    assert!(env.catalog.restore_points(env.org).await.unwrap().is_empty(), "no restore point from a stopped run");
    assert!(!env.catalog.request_stop(session.id).await.unwrap(), "not running any more");

    let r = engine::run_backup(&env.ctx()).await.unwrap();
    assert_eq!(r.status, SessionStatus::Success, "{r:?}");
    let total: u64 = {
        let st = env.emu.emu.state();
        st.items.values().filter(|i| !i.is_folder && i.deleted.is_none()).map(|i| i.size).sum()
    };
    assert!(
        r.bytes_read < total,
        "the resumed run re-used the stopped run's checkpoints: read {} of {total}",
        r.bytes_read
    );
    assert_eq!(env.catalog.restore_points(env.org).await.unwrap().len(), 1);
    assert!(env.repo.check(true).await.unwrap().is_ok());
}

/// A job of selected items reads only the OneDrives and sites it selects, less what it excludes, and finds nothing
/// deleted outside them: every other container keeps its history.
#[tokio::test]
async fn selected_and_excluded_items_bound_what_a_run_reads_and_deletes() {
    use engine::job::{BackupType, JobItem, JobItemType, JobSettings};
    let env = Env::new("users=3,files=6,versions=1,sites=2").await;
    let first = env.backup().await;
    let t1 = first.restore_point.as_ref().unwrap().backup_time;
    let all_drives =
        env.catalog.containers_at(&ContainerQuery::new(env.org, t1).kind(ContainerKind::OneDrive)).await.unwrap();
    assert_eq!(all_drives.rows.len(), 3);
    let owner = |c: &repo::catalog::ContainerRow| match &c.info {
        repo::catalog::ContainerInfo::OneDrive(d) => (d.user_id.clone(), d.drive_id.clone()),
        other => panic!("{other:?}"),
    };
    let (chosen, chosen_drive) = owner(&all_drives.rows[0]);
    let (left_out, left_out_drive) = owner(&all_drives.rows[1]);
    // New files in two OneDrives; only the chosen user is selected (and the other one excluded as well).
    for drive in [&chosen_drive, &left_out_drive] {
        env.graph(Method::PUT, &format!("/drives/{drive}/root:/scoped.txt:/content"), None, Some(b"new".to_vec()))
            .await;
    }
    let settings = JobSettings {
        backup_type: BackupType::SelectedItems,
        selected_items: vec![JobItem { r#type: JobItemType::User, id: chosen.clone() }],
        excluded_items: vec![JobItem { r#type: JobItemType::User, id: left_out.clone() }],
        ..JobSettings::default()
    };
    let mut ctx = env.ctx();
    ctx.scope = engine::BackupScope::of(&settings);
    let second = engine::run_backup(&ctx).await.unwrap();
    assert_eq!(second.status, SessionStatus::Success, "{second:?}");
    let t2 = second.restore_point.as_ref().unwrap().backup_time;
    let processed = env.catalog.processed_objects(second.session_id, 0, 100).await.unwrap().rows;
    let users: Vec<&str> = processed.iter().filter(|o| o.kind == ObjectKind::User).map(|o| o.id.as_str()).collect();
    assert_eq!(users, [chosen.as_str()], "only the selected user was processed");
    assert!(processed.iter().all(|o| o.kind == ObjectKind::User), "no site was selected: {processed:?}");
    // Nothing outside the scope is found deleted: every OneDrive and site is still there at t2.
    for kind in [ContainerKind::OneDrive, ContainerKind::Site] {
        let before = env.catalog.containers_at(&ContainerQuery::new(env.org, t1).kind(kind)).await.unwrap().rows.len();
        let after = env.catalog.containers_at(&ContainerQuery::new(env.org, t2).kind(kind)).await.unwrap().rows.len();
        assert_eq!(after, before, "{kind:?} containers at t2");
    }
    // The chosen OneDrive's new file was read, the left-out one's not.
    let has_new = |drive: &str| {
        let id = env
            .emu
            .emu
            .state()
            .items
            .values()
            .find(|i| i.drive_id == drive && i.name == "scoped.txt")
            .unwrap()
            .id
            .clone();
        let cat = env.catalog.clone();
        async move {
            let c = cat.containers_at(&ContainerQuery::new(env.org, t2).kind(ContainerKind::OneDrive)).await.unwrap();
            let mut found = false;
            for row in c.rows {
                found |= cat.item_at(row.id, &id, t2).await.unwrap().is_some();
            }
            found
        }
    };
    assert!(has_new(&chosen_drive).await, "the selected user's new file is backed up");
    assert!(!has_new(&left_out_drive).await, "the excluded user's new file is not");
    // The whole organization again: the left-out file arrives, nothing was lost in between.
    let third = env.backup().await;
    let t3 = third.restore_point.as_ref().unwrap().backup_time;
    let drives =
        env.catalog.containers_at(&ContainerQuery::new(env.org, t3).kind(ContainerKind::OneDrive)).await.unwrap();
    assert_eq!(drives.rows.len(), 3);
}

#[tokio::test]
async fn one_failing_item_is_a_warning_not_a_failed_backup() {
    let env = Env::new("users=1,files=12").await;
    let (_, drive) = env.first_drive();
    let fs = files(&env, &drive);
    let (bad, bad_name, _) = fs[0].clone();
    // This one file can never be read: every attempt fails server-side.
    env.control(Method::POST, "/faults", json!({"pathContains": format!("/items/{bad}/versions"), "status": 500}))
        .await;
    let r = env.backup().await;
    assert_eq!(r.status, SessionStatus::Warning, "{r:?}");
    assert_eq!(r.warnings, 1);
    let rp = r.restore_point.expect("a warning run still makes a restore point");
    let user_id = env.emu.emu.state().drives[&drive].owner_user_id.clone().unwrap();
    let c = env.catalog.container_id(env.org, ContainerKind::OneDrive, &user_id).await.unwrap().unwrap();
    assert!(env.catalog.item_at(c, &bad, rp.backup_time).await.unwrap().is_none(), "{bad_name} was not stored");
    for (id, name, _) in &fs[1..] {
        assert!(env.catalog.item_at(c, id, rp.backup_time).await.unwrap().is_some(), "{name} backed up");
    }
    let log = env.catalog.session_log(r.session_id, 0, 100).await.unwrap();
    assert!(
        log.rows.iter().any(|e| e.item_ref.as_deref() == Some(bad.as_str()) && e.message.contains("not backed up")),
        "the session log names the item: {:?}",
        log.rows
    );
    // The session's processed objects: the user whose file failed is a warning.
    let objects = env.catalog.processed_objects(r.session_id, 0, 100).await.unwrap().rows;
    let user = objects.iter().find(|o| o.kind == ObjectKind::User && o.id == user_id).expect("the user is listed");
    assert_eq!(user.status, ObjectStatus::Warning, "{objects:?}");
    // Once the fault is gone the next run picks the item up.
    env.control(Method::DELETE, "/faults", json!(null)).await;
    let r2 = env.backup().await;
    assert_eq!(r2.status, SessionStatus::Success);
    let t2 = r2.restore_point.unwrap().backup_time;
    assert!(env.catalog.item_at(c, &bad, t2).await.unwrap().is_some());
    let objects = env.catalog.processed_objects(r2.session_id, 0, 100).await.unwrap().rows;
    assert!(!objects.is_empty() && objects.iter().all(|o| o.status == ObjectStatus::Success), "{objects:?}");
}

#[tokio::test]
async fn unreadable_containers_are_warnings_and_not_taken_for_deleted() {
    let env = Env::new("users=2,files=10,sites=1,items=2").await;
    let r1 = env.backup().await;
    assert_eq!(r1.status, SessionStatus::Success);
    let lists_at = |t| {
        let catalog = env.catalog.clone();
        let org = env.org;
        async move {
            let q = repo::catalog::ContainerQuery::new(org, t).kind(ContainerKind::List).page(0, 1000);
            catalog.containers_at(&q).await.unwrap().rows.len()
        }
    };
    let before = lists_at(r1.restore_point.unwrap().backup_time).await;
    assert!(before >= 2);
    // Every site's list enumeration and one user's OneDrive fail now.
    env.control(Method::POST, "/faults", json!({"pathContains": "/lists", "status": 500})).await;
    let (_, drive) = env.first_drive();
    let user_id = env.emu.emu.state().drives[&drive].owner_user_id.clone().unwrap();
    env.control(Method::POST, "/faults", json!({"pathContains": format!("/users/{user_id}/drive"), "status": 500}))
        .await;
    let r2 = env.backup().await;
    assert_eq!(r2.status, SessionStatus::Warning, "{r2:?}");
    let t2 = r2.restore_point.unwrap().backup_time;
    assert_eq!(lists_at(t2).await, before, "lists are still there at the new restore point");
    let q = repo::catalog::ContainerQuery::new(env.org, t2).kind(ContainerKind::OneDrive).page(0, 100);
    assert_eq!(env.catalog.containers_at(&q).await.unwrap().rows.len(), 2, "both OneDrives still protected");
}

#[tokio::test]
async fn subsites_record_their_parent_site() {
    let env = Env::new("users=1,files=4,sites=2").await;
    let r = env.backup().await;
    let t = r.restore_point.unwrap().backup_time;
    let q = repo::catalog::ContainerQuery::new(env.org, t).kind(ContainerKind::Site).page(0, 100);
    let sites: Vec<repo::catalog::SiteInfo> = env
        .catalog
        .containers_at(&q)
        .await
        .unwrap()
        .rows
        .into_iter()
        .map(|c| match c.info {
            repo::catalog::ContainerInfo::Site(s) => s,
            other => panic!("{other:?}"),
        })
        .collect();
    let expected: Vec<(String, Option<String>)> = {
        let st = env.emu.emu.state();
        st.sites.values().filter(|s| !s.is_personal).map(|s| (s.id.clone(), s.parent_site_id.clone())).collect()
    };
    assert_eq!(sites.len(), expected.len());
    assert!(expected.iter().any(|(_, p)| p.is_some()), "the seed has subsites");
    for (id, parent) in expected {
        let got = sites.iter().find(|s| s.site_id == id).unwrap();
        assert_eq!(got.parent_site_id, parent, "parent of {}", got.url);
    }
}

/// `vault365 demo` starts the emulator on a new port every time. Delta positions stored by older versions are
/// absolute links to the old port: they are moved onto the configured Graph endpoint (same path and query), and a
/// position that cannot be placed there costs a full enumeration diffed with the catalog, never a failed drive.
/// Positions are stored relative to the Graph endpoint from now on.
#[tokio::test]
async fn incremental_backup_survives_the_emulator_moving_to_another_port() {
    let mut env = Env::new("users=2,files=16,versions=1").await;
    let r1 = env.backup().await;
    assert_eq!(r1.status, SessionStatus::Success, "{r1:?}");
    let old_base = env.emu.base_url();

    // Stored positions are relative to the Graph endpoint, so they pin no host.
    // (owner user id, drive id) of both OneDrives.
    let drives: Vec<(String, String)> = {
        let st = env.emu.emu.state();
        let mut v: Vec<_> = st.users.values().map(|u| (u.id.clone(), u.drive_id.clone().unwrap())).collect();
        v.sort();
        v
    };
    assert_eq!(drives.len(), 2);
    let mut containers = Vec::new();
    for (owner, drive) in &drives {
        let c = env.catalog.container_id(env.org, ContainerKind::OneDrive, owner).await.unwrap().unwrap();
        let link = env.catalog.get_delta_link(c).await.unwrap().unwrap();
        assert!(link.starts_with(&format!("/drives/{drive}/root/delta?")), "{link}");
        containers.push((c, drive.clone()));
    }
    let (c_a, drive_a) = containers[0].clone();
    let (c_b, drive_b) = containers[1].clone();

    // What older versions stored: absolute links to the emulator's old port (drive A), and one that cannot be
    // placed below the Graph endpoint at all (drive B).
    sqlx::query("UPDATE delta_links SET delta_link = $1 || delta_link WHERE container_id = $2")
        .bind(format!("{old_base}/v1.0"))
        .bind(c_a.to_string())
        .execute(env.catalog.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE delta_links SET delta_link = $1 WHERE container_id = $2")
        .bind("https://elsewhere.example/beta/drives/x/root/delta?token=1")
        .bind(c_b.to_string())
        .execute(env.catalog.pool())
        .await
        .unwrap();

    env.restart_emulator_on_another_port().await;
    assert_ne!(env.emu.base_url(), old_base);
    assert!(reqwest::get(format!("{old_base}/v1.0/users")).await.is_err(), "the old port is dead");

    // Changes while the emulator lives on its new port.
    let fa = files(&env, &drive_a);
    let fb = files(&env, &drive_b);
    let edited = b"edited after the move".to_vec();
    env.graph(Method::PUT, &format!("/drives/{drive_a}/items/{}/content", fa[0].0), None, Some(edited.clone())).await;
    env.graph(Method::DELETE, &format!("/drives/{drive_a}/items/{}", fa[1].0), None, None).await;
    env.graph(Method::DELETE, &format!("/drives/{drive_b}/items/{}", fb[0].0), None, None).await;
    env.control(Method::DELETE, "/stats", json!(null)).await;

    let r2 = env.backup().await;
    assert_eq!(r2.status, SessionStatus::Success, "{r2:?}");
    assert_eq!(r2.warnings, 0, "{r2:?}");
    let t2 = r2.restore_point.as_ref().unwrap().backup_time;
    // Incremental: only the edited file was downloaded, and Graph was asked little.
    assert_eq!(r2.bytes_read, edited.len() as u64, "{r2:?}");
    let stats = env.control(Method::GET, "/stats", json!(null)).await;
    let served = stats["total"].as_u64().unwrap();
    assert!(served > 0 && served <= r2.requests + 2, "the new port served the run: {stats}");
    assert!(r2.requests < r1.requests / 2, "first {} requests, after the move {}", r1.requests, r2.requests);
    let log = env.catalog.session_log(r2.session_id, 0, 1000).await.unwrap().rows;
    let full_scans: Vec<_> = log.iter().filter(|e| e.message.contains("full scan")).collect();
    assert_eq!(full_scans.len(), 1, "only drive B is enumerated in full: {log:?}");
    assert!(full_scans[0].message.contains(&drive_b), "{:?}", full_scans[0]);

    // The catalog has every change.
    let a0 = env.catalog.item_at(c_a, &fa[0].0, t2).await.unwrap().unwrap();
    assert_eq!(content_of(&env.repo, a0.state.content_ref.as_ref().unwrap()).await, edited);
    assert!(env.catalog.item_at(c_a, &fa[1].0, t2).await.unwrap().unwrap().deleted);
    assert!(env.catalog.item_at(c_b, &fb[0].0, t2).await.unwrap().unwrap().deleted);
    assert!(!env.catalog.item_at(c_b, &fb[1].0, t2).await.unwrap().unwrap().deleted);
    // And the positions are relative again.
    for (c, drive) in &containers {
        let link = env.catalog.get_delta_link(*c).await.unwrap().unwrap();
        assert!(link.starts_with(&format!("/drives/{drive}/root/delta?")), "{link}");
    }
}
