//! SharePoint restore against the emulated tenant: lists (fields, attachments through SharePoint REST), libraries
//! (documents, folders, versions), sites; original location and restoreTo. Every test checks the TENANT afterwards.

use crate::common;

use chrono::{DateTime, Utc};
use common::*;
use engine::restore::{ItemStatus, VersionMode};
use engine::sp_restore::{restore_list, restore_site, ListSelection, SpAction, SpContext, SpRestoreOptions, SpTarget};
use repo::catalog::{ContainerInfo, ContainerKind, ContainerQuery};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

/// A generic list item as the emulator holds it.
#[derive(Debug, Clone, PartialEq)]
struct LI {
    id: u64,
    fields: serde_json::Map<String, Value>,
    /// (file name, bytes), sorted by name.
    attachments: Vec<(String, Vec<u8>)>,
    deleted: bool,
}

fn list_id(env: &Env, site_path: &str, title: &str) -> String {
    let st = env.emu.emu.state();
    let site = st.sites.values().find(|s| s.path == site_path).unwrap().id.clone();
    st.lists.values().find(|l| l.site_id == site && l.display_name == title).unwrap().id.clone()
}

fn site_of(env: &Env, site_path: &str) -> (String, String) {
    let st = env.emu.emu.state();
    let s = st.sites.values().find(|s| s.path == site_path).unwrap();
    (s.id.clone(), emulator_site_url(env, &s.hostname, &s.path))
}

fn emulator_site_url(env: &Env, host: &str, path: &str) -> String {
    format!("{}/_sp/{host}{path}", env.emu.base_url())
}

fn list_items(env: &Env, list: &str) -> Vec<LI> {
    let st = env.emu.emu.state();
    let mut v: Vec<LI> = st.lists[list]
        .items
        .values()
        .map(|i| {
            let mut attachments: Vec<(String, Vec<u8>)> = i
                .attachments
                .iter()
                .map(|a| (a.file_name.clone(), env.emu.emu.blobs.read_all(&a.content).unwrap()))
                .collect();
            attachments.sort();
            LI { id: i.id, fields: i.fields.clone(), attachments, deleted: i.deleted.is_some() }
        })
        .collect();
    v.sort_by_key(|i| i.id);
    v
}

fn live(env: &Env, list: &str) -> Vec<LI> {
    list_items(env, list).into_iter().filter(|i| !i.deleted).collect()
}

fn title(i: &LI) -> &str {
    i.fields["Title"].as_str().unwrap()
}

/// The user columns that must survive a restore.
fn user_fields(i: &LI) -> Vec<(String, Value)> {
    let mut v: Vec<(String, Value)> =
        i.fields.iter().filter(|(k, _)| *k != "Attachments").map(|(k, v)| (k.clone(), v.clone())).collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

async fn list_container(env: &Env, list: &str, at: DateTime<Utc>) -> Uuid {
    let q = ContainerQuery::new(env.org, at).kind(ContainerKind::List).page(0, 1000);
    let rows = env.catalog.containers_at(&q).await.unwrap().rows;
    rows.into_iter().find(|r| matches!(&r.info, ContainerInfo::List(i) if i.list_id == list)).unwrap().id
}

async fn site_container(env: &Env, site: &str, at: DateTime<Utc>) -> Uuid {
    let q = ContainerQuery::new(env.org, at).kind(ContainerKind::Site).page(0, 1000);
    let rows = env.catalog.containers_at(&q).await.unwrap().rows;
    rows.into_iter().find(|r| matches!(&r.info, ContainerInfo::Site(i) if i.site_id == site)).unwrap().id
}

fn cx(env: &Env) -> SpContext<'_> {
    SpContext { catalog: &env.catalog, repo: &env.repo, client: &env.client, stop: None }
}

/// Sets `fields` on a live list item and replaces one attachment's bytes, as a user would (in the emulator state).
fn vandalise(env: &Env, list: &str, id: u64, field: (&str, &str), attachment: Option<&[u8]>) {
    let mut st = env.emu.emu.state();
    let it = st.lists.get_mut(list).unwrap().items.get_mut(&id).unwrap();
    it.fields.insert(field.0.into(), json!(field.1));
    it.etag_version += 1;
    if let Some(bytes) = attachment {
        let a = it.attachments.first_mut().expect("item has attachments");
        let (content, _, _) = env.emu.emu.blobs.put(bytes).unwrap();
        a.content = content;
        a.size = bytes.len() as u64;
    }
}

fn delete_item(env: &Env, list: &str, id: u64) {
    let mut st = env.emu.emu.state();
    let now = st.lists[list].modified;
    st.lists.get_mut(list).unwrap().items.get_mut(&id).unwrap().deleted = Some(now);
}

#[tokio::test]
async fn list_original_location_overwrite_restores_fields_attachments_and_deleted_items() {
    let env = Env::new("users=2,files=6,sites=1,items=9").await;
    let list = list_id(&env, "/sites/finance", "Issues");
    let before = live(&env, &list);
    assert_eq!(before.len(), 9);
    let at = env.backup().await.restore_point.unwrap().backup_time;
    let cid = list_container(&env, &list, at).await;
    // Item 1 (with attachments): a column changed and an attachment overwritten; item 2 deleted; item 4 (with
    // attachments) deleted.
    let with_att: Vec<&LI> = before.iter().filter(|i| !i.attachments.is_empty()).collect();
    assert!(with_att.len() >= 2, "seed has items with attachments");
    let (changed, gone_plain, gone_att) = (with_att[0].clone(), before[1].clone(), with_att[1].clone());
    assert!(gone_plain.attachments.is_empty());
    vandalise(&env, &list, changed.id, ("Status", "Vandalised"), Some(b"not the original"));
    delete_item(&env, &list, gone_plain.id);
    delete_item(&env, &list, gone_att.id);

    let stats = restore_list(cx(&env), cid, at, &ListSelection::Whole, &SpRestoreOptions::original()).await.unwrap();
    assert_eq!(stats.items.failed, 0, "{:?}", stats.items.items);
    assert_eq!(stats.items.restored, 3, "{:?}", stats.items.items);
    assert_eq!(stats.items.skipped, 6);

    let now = live(&env, &list);
    // Changed item: same id, backed-up columns and attachment bytes.
    let c = now.iter().find(|i| i.id == changed.id).unwrap();
    assert_eq!(user_fields(c), user_fields(&changed));
    assert_eq!(c.attachments, changed.attachments);
    // Deleted items: new ids, same columns and attachments.
    for gone in [&gone_plain, &gone_att] {
        let back = now.iter().find(|i| title(i) == title(gone)).expect("re-created");
        assert_ne!(back.id, gone.id);
        assert_eq!(user_fields(back), user_fields(gone));
        assert_eq!(back.attachments, gone.attachments);
    }
    assert_eq!(now.len(), 9);

    // Nothing left to do.
    let again = restore_list(cx(&env), cid, at, &ListSelection::Whole, &SpRestoreOptions::original()).await.unwrap();
    assert_eq!((again.items.restored, again.items.failed), (0, 0), "{:?}", again.items.items);
}

#[tokio::test]
async fn list_keep_writes_a_copy_and_filters_apply() {
    let env = Env::new("users=1,files=2,sites=1,items=6").await;
    let list = list_id(&env, "/sites/finance", "Issues");
    let before = live(&env, &list);
    let at = env.backup().await.restore_point.unwrap().backup_time;
    let cid = list_container(&env, &list, at).await;
    let changed = before.iter().find(|i| !i.attachments.is_empty()).unwrap().clone();
    let gone = before.iter().find(|i| i.id != changed.id).unwrap().clone();
    vandalise(&env, &list, changed.id, ("Priority", "(9) Never"), None);
    delete_item(&env, &list, gone.id);

    // deletedItems: false leaves the deleted item gone; Keep leaves the changed one untouched and adds a copy.
    let mut opts = SpRestoreOptions::original();
    opts.action = SpAction::Keep;
    opts.deleted_items = false;
    opts.started_at = "2026-11-23T10:00:00Z".parse().unwrap();
    let stats = restore_list(cx(&env), cid, at, &ListSelection::Whole, &opts).await.unwrap();
    assert_eq!((stats.items.restored, stats.items.failed), (1, 0), "{:?}", stats.items.items);
    let now = live(&env, &list);
    assert!(!now.iter().any(|i| title(i) == title(&gone)));
    let original = now.iter().find(|i| i.id == changed.id).unwrap();
    assert_eq!(original.fields["Priority"], json!("(9) Never"));
    let copy_title = format!("{} (Restored 2026-11-23 10-00-00)", title(&changed));
    let copy = now.iter().find(|i| title(i) == copy_title).expect("copy beside");
    assert_eq!(copy.fields["Priority"], changed.fields["Priority"]);
    assert_eq!(copy.attachments, changed.attachments);

    // changedItems: false skips the changed item; the deleted one comes back.
    let mut opts = SpRestoreOptions::original();
    opts.changed_items = false;
    let sel = ListSelection::Items(vec![changed.id.to_string(), gone.id.to_string()]);
    let stats = restore_list(cx(&env), cid, at, &sel, &opts).await.unwrap();
    assert_eq!((stats.items.restored, stats.items.skipped), (1, 1), "{:?}", stats.items.items);
    let now = live(&env, &list);
    assert_eq!(now.iter().find(|i| i.id == changed.id).unwrap().fields["Priority"], json!("(9) Never"));
    assert!(now.iter().any(|i| title(i) == title(&gone)));
}

#[tokio::test]
async fn list_restore_to_another_site_creates_the_list_and_matches_titles_afterwards() {
    let env = Env::new("users=1,files=2,sites=2,items=5").await;
    let list = list_id(&env, "/sites/finance", "Issues");
    let before = live(&env, &list);
    let at = env.backup().await.restore_point.unwrap().backup_time;
    let cid = list_container(&env, &list, at).await;
    let (_, other_url) = site_of(&env, "/sites/marketing");
    let mut opts = SpRestoreOptions::original();
    opts.target = SpTarget::To { site_url: Some(other_url.clone()), list: Some("Issues Copy".into()) };
    let stats = restore_list(cx(&env), cid, at, &ListSelection::Whole, &opts).await.unwrap();
    assert_eq!((stats.items.restored, stats.items.failed), (5, 0), "{:?}", stats.items.items);
    let copy = list_id(&env, "/sites/marketing", "Issues Copy");
    let copied = live(&env, &copy);
    assert_eq!(copied.len(), 5);
    for b in &before {
        let c = copied.iter().find(|c| title(c) == title(b)).unwrap();
        assert_eq!(user_fields(c), user_fields(b));
        assert_eq!(c.attachments, b.attachments);
    }
    // The source is untouched; a second run matches by title and finds everything unchanged.
    assert_eq!(live(&env, &list), before);
    let again = restore_list(cx(&env), cid, at, &ListSelection::Whole, &opts).await.unwrap();
    assert_eq!((again.items.restored, again.items.skipped), (0, 5), "{:?}", again.items.items);

    // A library is no target for a list.
    opts.target = SpTarget::To { site_url: Some(other_url), list: Some("Documents".into()) };
    let e = restore_list(cx(&env), cid, at, &ListSelection::Whole, &opts).await.unwrap_err();
    assert!(e.to_string().contains("document library"), "{e}");
}

#[tokio::test]
async fn deleted_list_is_recreated_at_the_original_site() {
    let env = Env::new("users=1,files=2,sites=1,items=4").await;
    let list = list_id(&env, "/sites/finance", "Issues");
    let before = live(&env, &list);
    let at = env.backup().await.restore_point.unwrap().backup_time;
    let cid = list_container(&env, &list, at).await;
    env.emu.emu.state().lists.remove(&list);
    let stats = restore_list(cx(&env), cid, at, &ListSelection::Whole, &SpRestoreOptions::original()).await.unwrap();
    assert_eq!((stats.items.restored, stats.items.failed), (4, 0), "{:?}", stats.items.items);
    let recreated = list_id(&env, "/sites/finance", "Issues");
    assert_ne!(recreated, list);
    let content = |items: Vec<LI>| {
        let mut v: Vec<_> = items.iter().map(|i| (user_fields(i), i.attachments.clone())).collect();
        v.sort_by(|a, b| format!("{:?}", a.0).cmp(&format!("{:?}", b.0)));
        v
    };
    assert_eq!(content(live(&env, &recreated)), content(before));
}

#[tokio::test]
async fn one_failing_item_does_not_stop_the_others() {
    let env = Env::new("users=1,files=2,sites=1,items=7").await;
    let list = list_id(&env, "/sites/finance", "Issues");
    let before = live(&env, &list);
    let at = env.backup().await.restore_point.unwrap().backup_time;
    let cid = list_container(&env, &list, at).await;
    let with_att: Vec<LI> = before.iter().filter(|i| !i.attachments.is_empty()).cloned().collect();
    for i in &before {
        delete_item(&env, &list, i.id);
    }
    // Every attachment upload of the first re-created item with attachments fails.
    env.control(Method::POST, "/faults", json!({"pathContains": "AttachmentFiles/add", "status": 500, "count": 40}))
        .await;
    let mut opts = SpRestoreOptions::original();
    opts.started_at = Utc::now();
    let stats = restore_list(cx(&env), cid, at, &ListSelection::Whole, &opts).await.unwrap();
    env.http.delete(format!("{}/_emulator/faults", env.emu.base_url())).send().await.unwrap();
    assert_eq!(stats.items.failed, with_att.len() as u64, "{:?}", stats.items.items);
    assert_eq!(stats.items.restored, (before.len() - with_att.len()) as u64);
    let failed = stats.items.items.iter().filter(|o| o.status == ItemStatus::Failed).collect::<Vec<_>>();
    assert!(failed.iter().all(|o| o.message.as_deref().unwrap_or("").contains("attachment")), "{failed:?}");
    let now = live(&env, &list);
    for b in before.iter().filter(|i| i.attachments.is_empty()) {
        assert!(now.iter().any(|n| user_fields(n) == user_fields(b)));
    }
}

/// A library file: (id, parent, name, bytes, versions, deleted).
type File = (String, Option<String>, String, Vec<u8>, usize, bool);

fn drive_files(env: &Env, drive: &str) -> Vec<File> {
    let st = env.emu.emu.state();
    st.items
        .values()
        .filter(|i| i.drive_id == drive && !i.is_folder)
        .map(|i| {
            let bytes = i.versions.last().map(|v| env.emu.emu.blobs.read_all(&v.content).unwrap()).unwrap_or_default();
            (i.id.clone(), i.parent_id.clone(), i.name.clone(), bytes, i.versions.len(), i.deleted.is_some())
        })
        .collect()
}

fn drive_of(env: &Env, list: &str) -> String {
    env.emu.emu.state().lists[list].drive_id.clone().unwrap()
}

#[tokio::test]
async fn library_documents_restore_in_place_and_to_another_library() {
    let env = Env::new("users=1,files=12,versions=2,sites=1,items=1").await;
    let lib = list_id(&env, "/sites/finance", "Documents");
    let drive = drive_of(&env, &lib);
    let files: Vec<_> = drive_files(&env, &drive).into_iter().filter(|f| !f.5).collect();
    assert!(files.len() >= 3, "seed has library files");
    let at = env.backup().await.restore_point.unwrap().backup_time;
    let cid = list_container(&env, &lib, at).await;
    let (changed, gone) = (files[0].clone(), files[1].clone());
    env.graph(Method::PUT, &format!("/drives/{drive}/items/{}/content", changed.0), None, Some(b"xx".to_vec())).await;
    env.graph(Method::DELETE, &format!("/drives/{drive}/items/{}", gone.0), None, None).await;

    let sel = ListSelection::Items(vec![changed.0.clone(), gone.0.clone()]);
    let stats = restore_list(cx(&env), cid, at, &sel, &SpRestoreOptions::original()).await.unwrap();
    assert_eq!((stats.items.restored, stats.items.failed), (2, 0), "{:?}", stats.items.items);
    assert!(stats.items.items.iter().all(|o| o.path.starts_with("Documents/")));
    let now = drive_files(&env, &drive);
    let c = now.iter().find(|f| f.0 == changed.0).unwrap();
    assert_eq!(c.3, changed.3);
    let back = now.iter().find(|f| !f.5 && f.2 == gone.2 && f.1 == gone.1).expect("deleted document back");
    assert_eq!(back.3, gone.3);

    // restoreTo the subsite's library with every version: same names and bytes, as many versions as backed up.
    let sub_lib = list_id(&env, "/sites/finance/projects", "Documents");
    let sub_drive = drive_of(&env, &sub_lib);
    let (_, sub_url) = site_of(&env, "/sites/finance/projects");
    let mut opts = SpRestoreOptions::original();
    opts.target = SpTarget::To { site_url: Some(sub_url), list: Some("Documents".into()) };
    opts.versions = VersionMode::All;
    let sel = ListSelection::Items(vec![files[2].0.clone()]);
    let stats = restore_list(cx(&env), cid, at, &sel, &opts).await.unwrap();
    assert_eq!((stats.items.restored, stats.items.failed), (1, 0), "{:?}", stats.items.items);
    let target_id = stats.items.items[0].target_item_id.clone().unwrap();
    let t = drive_files(&env, &sub_drive).into_iter().find(|f| f.0 == target_id).unwrap();
    assert_eq!((t.2.as_str(), &t.3, t.4), (files[2].2.as_str(), &files[2].3, files[2].4));

    // Keep is refused for another library.
    opts.action = SpAction::Keep;
    assert!(restore_list(cx(&env), cid, at, &sel, &opts).await.is_err());
}

#[tokio::test]
async fn site_restore_brings_back_lists_and_libraries() {
    let env = Env::new("users=1,files=6,sites=1,items=4").await;
    let (site, _) = site_of(&env, "/sites/finance");
    let list = list_id(&env, "/sites/finance", "Issues");
    let lib = list_id(&env, "/sites/finance", "Documents");
    let drive = drive_of(&env, &lib);
    let items_before = live(&env, &list);
    let at = env.backup().await.restore_point.unwrap().backup_time;
    let sid = site_container(&env, &site, at).await;
    delete_item(&env, &list, items_before[0].id);
    let doc = drive_files(&env, &drive).into_iter().find(|f| !f.5).unwrap();
    env.graph(Method::DELETE, &format!("/drives/{drive}/items/{}", doc.0), None, None).await;

    let stats = restore_site(cx(&env), sid, at, true, &SpRestoreOptions::original()).await.unwrap();
    assert_eq!(stats.items.failed, 0, "{:?} {:?}", stats.items.items, stats.issues);
    assert_eq!(stats.items.restored, 2, "{:?}", stats.items.items);
    assert_eq!(stats.lists_failed, 0, "{:?}", stats.issues);
    assert!(stats.lists_restored >= 3, "library, list and the subsite's library: {stats:?}");
    assert_eq!(stats.webs_restored, 2);
    assert!(live(&env, &list).iter().any(|i| user_fields(i) == user_fields(&items_before[0])));
    assert!(drive_files(&env, &drive).iter().any(|f| !f.5 && f.2 == doc.2 && f.3 == doc.3));
}

/// A library document renamed and one moved since the backup are put back (same ids, no new version: the content
/// is the same); a document deleted before a later restore point comes back from that point when deleted items are
/// shown.
#[tokio::test]
async fn library_documents_renamed_moved_or_deleted_before_the_point_are_put_back() {
    let env = Env::new("users=1,files=12,versions=2,sites=1,items=1").await;
    let lib = list_id(&env, "/sites/finance", "Documents");
    let drive = drive_of(&env, &lib);
    let files: Vec<_> = drive_files(&env, &drive).into_iter().filter(|f| !f.5).collect();
    assert!(files.len() >= 3, "seed has library files");
    let at = env.backup().await.restore_point.unwrap().backup_time;
    let cid = list_container(&env, &lib, at).await;
    let (renamed, moved, gone) = (files[0].clone(), files[1].clone(), files[2].clone());
    let root = env.emu.emu.state().drives[&drive].root_id.clone();
    let elsewhere = env
        .graph(
            Method::POST,
            &format!("/drives/{drive}/items/{root}/children"),
            Some(json!({"name": "Elsewhere", "folder": {}})),
            None,
        )
        .await;
    let path = |id: &str| format!("/drives/{drive}/items/{id}");
    env.graph(Method::PATCH, &path(&renamed.0), Some(json!({"name": "renamed in the library.txt"})), None).await;
    env.graph(Method::PATCH, &path(&moved.0), Some(json!({"parentReference": {"id": elsewhere["id"]}})), None).await;

    let stats = restore_list(cx(&env), cid, at, &ListSelection::Whole, &SpRestoreOptions::original()).await.unwrap();
    assert_eq!(stats.items.failed, 0, "{:?}", stats.items.items);
    let now = drive_files(&env, &drive);
    for f in [&renamed, &moved] {
        let t = now.iter().find(|t| t.0 == f.0).expect("same id");
        assert_eq!((&t.1, &t.2, t.4, t.5), (&f.1, &f.2, f.4, false), "put back, no new version");
    }

    // Deleted, then a second backup: from that point, with deleted items shown, the document comes back.
    env.graph(Method::DELETE, &path(&gone.0), None, None).await;
    let t2 = env.backup().await.restore_point.unwrap().backup_time;
    let sel = ListSelection::Items(vec![gone.0.clone()]);
    assert!(restore_list(cx(&env), cid, t2, &sel, &SpRestoreOptions::original()).await.is_err(), "not shown");
    let opts = SpRestoreOptions { show_deleted: true, ..SpRestoreOptions::original() };
    let stats = restore_list(cx(&env), cid, t2, &sel, &opts).await.unwrap();
    assert_eq!(stats.items.restored, 1, "{:?}", stats.items.items);
    let back = drive_files(&env, &drive).into_iter().find(|f| !f.5 && f.1 == gone.1 && f.2 == gone.2);
    assert_eq!(back.expect("back at its path").3, gone.3);
}

/// A list item as Graph and SharePoint REST return it: writable columns and (attachment name, bytes), sorted.
type GraphItem = (serde_json::Map<String, Value>, Vec<(String, Vec<u8>)>);

/// The live items of a list read back through Graph (columns) and SharePoint REST (attachments), by title.
async fn graph_items(env: &Env, site_id: &str, list: &str) -> Vec<(String, GraphItem)> {
    let site = m365::sp_write::site(&env.client, site_id).await.unwrap();
    let mut out = Vec::new();
    for v in m365::sp_write::items(&env.client, site_id, list).await.unwrap() {
        let id = v["id"].as_str().unwrap().to_string();
        let fields = m365::sp_write::writable_fields(&v["fields"]);
        let mut attachments = Vec::new();
        for name in m365::sp_write::attachments(&env.client, &site, list, &id).await.unwrap() {
            let bytes = m365::sp_write::attachment_bytes(&env.client, &site, list, &id, &name).await.unwrap();
            attachments.push((name, bytes.to_vec()));
        }
        attachments.sort();
        out.push((fields["Title"].as_str().unwrap().to_string(), (fields, attachments)));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn by_title<'a>(items: &'a [(String, GraphItem)], t: &str) -> Vec<&'a GraphItem> {
    items.iter().filter(|(title, _)| title == t).map(|(_, i)| i).collect()
}

/// Deletes a list item through Graph, as a user would.
async fn graph_delete_item(env: &Env, site_id: &str, list: &str, id: u64) {
    env.graph(Method::DELETE, &format!("/sites/{site_id}/lists/{list}/items/{id}"), None, None).await;
}

/// List items deleted before the restore point come back (columns and attachments) in a session that shows deleted
/// items: selected by id, and in whole-list and site restores unless `deleted_items` is false.
#[tokio::test]
async fn list_items_deleted_before_the_point_are_restored_when_deleted_items_are_shown() {
    let env = Env::new("users=1,files=2,sites=1,items=6").await;
    let list = list_id(&env, "/sites/finance", "Issues");
    let (site_id, _) = site_of(&env, "/sites/finance");
    env.backup().await;
    let before = graph_items(&env, &site_id, &list).await;
    let ids: Vec<u64> = live(&env, &list).iter().map(|i| i.id).collect();
    let with_att = live(&env, &list).into_iter().find(|i| !i.attachments.is_empty()).expect("seed has attachments");
    let plain: Vec<LI> = live(&env, &list).into_iter().filter(|i| i.id != with_att.id).take(2).collect();
    let (by_id, in_list, in_site) = (with_att.clone(), plain[0].clone(), plain[1].clone());
    for i in [&by_id, &in_list, &in_site] {
        graph_delete_item(&env, &site_id, &list, i.id).await;
    }
    assert_eq!(live(&env, &list).len(), ids.len() - 3);
    let at = env.backup().await.restore_point.unwrap().backup_time;
    let cid = list_container(&env, &list, at).await;
    let shown = SpRestoreOptions { show_deleted: true, ..SpRestoreOptions::original() };
    let restored = |title: &str, now: &[(String, GraphItem)]| {
        let want = by_title(&before, title);
        assert_eq!(by_title(now, title), want, "'{title}' back once, with its columns and attachments");
    };

    // By id: not part of a session without deleted items; restored in one that shows them.
    let sel = ListSelection::Items(vec![by_id.id.to_string()]);
    assert!(restore_list(cx(&env), cid, at, &sel, &SpRestoreOptions::original()).await.is_err(), "not shown");
    let stats = restore_list(cx(&env), cid, at, &sel, &shown).await.unwrap();
    assert_eq!((stats.items.restored, stats.items.failed), (1, 0), "{:?}", stats.items.items);
    let now = graph_items(&env, &site_id, &list).await;
    assert!(!by_id.attachments.is_empty());
    restored(title(&by_id), &now);
    assert!(by_title(&now, title(&in_list)).is_empty());

    // Whole list, deleted items excluded: nothing comes back.
    let excluded = SpRestoreOptions { deleted_items: false, ..shown.clone() };
    let stats = restore_list(cx(&env), cid, at, &ListSelection::Whole, &excluded).await.unwrap();
    assert_eq!(stats.items.restored, 0, "{:?}", stats.items.items);
    assert!(by_title(&graph_items(&env, &site_id, &list).await, title(&in_list)).is_empty());

    // Whole list with deleted items: the other two come back, the one restored by id is not doubled.
    let stats = restore_list(cx(&env), cid, at, &ListSelection::Whole, &shown).await.unwrap();
    assert_eq!((stats.items.restored, stats.items.failed), (2, 0), "{:?}", stats.items.items);
    let now = graph_items(&env, &site_id, &list).await;
    for i in [&by_id, &in_list, &in_site] {
        restored(title(i), &now);
    }
    assert_eq!(now.len(), ids.len());

    // Site restore: a deleted item of the list comes back too.
    let again = live(&env, &list).into_iter().find(|i| title(i) == title(&in_site)).unwrap();
    graph_delete_item(&env, &site_id, &list, again.id).await;
    let at = env.backup().await.restore_point.unwrap().backup_time;
    let sid = site_container(&env, &site_id, at).await;
    let stats = restore_site(cx(&env), sid, at, false, &shown).await.unwrap();
    assert_eq!(stats.items.failed, 0, "{:?}", stats.items.items);
    restored(title(&in_site), &graph_items(&env, &site_id, &list).await);
}

/// `deleted_items: false` into another list skips only items deleted in the backup; what the target list holds does
/// not matter (a new list holds nothing, and everything live is copied).
#[tokio::test]
async fn deleted_items_false_into_another_list_skips_only_items_deleted_in_the_backup() {
    let env = Env::new("users=1,files=2,sites=2,items=5").await;
    let list = list_id(&env, "/sites/finance", "Issues");
    let (site_id, _) = site_of(&env, "/sites/finance");
    let (other_id, other_url) = site_of(&env, "/sites/marketing");
    let before = graph_items(&env, &site_id, &list).await;
    let gone = live(&env, &list).into_iter().find(|i| !i.attachments.is_empty()).unwrap();
    env.backup().await;
    graph_delete_item(&env, &site_id, &list, gone.id).await;
    let at = env.backup().await.restore_point.unwrap().backup_time;
    let cid = list_container(&env, &list, at).await;
    let to = |name: &str, deleted_items: bool| SpRestoreOptions {
        target: SpTarget::To { site_url: Some(other_url.clone()), list: Some(name.into()) },
        deleted_items,
        show_deleted: true,
        ..SpRestoreOptions::original()
    };

    // false: the four live items are copied into the new (empty) list, the deleted one is skipped.
    let stats = restore_list(cx(&env), cid, at, &ListSelection::Whole, &to("Copy A", false)).await.unwrap();
    assert_eq!((stats.items.restored, stats.items.skipped, stats.items.failed), (4, 1, 0), "{:?}", stats.items.items);
    let copy = graph_items(&env, &other_id, &list_id(&env, "/sites/marketing", "Copy A")).await;
    let without: Vec<_> = before.iter().filter(|(t, _)| t != title(&gone)).cloned().collect();
    assert_eq!(copy, without);

    // true: the deleted one is copied as well.
    let stats = restore_list(cx(&env), cid, at, &ListSelection::Whole, &to("Copy B", true)).await.unwrap();
    assert_eq!((stats.items.restored, stats.items.failed), (5, 0), "{:?}", stats.items.items);
    let copy = graph_items(&env, &other_id, &list_id(&env, "/sites/marketing", "Copy B")).await;
    assert_eq!(copy, before);
}
