//! Restore semantics over HTTPS (issue 11): items deleted before the restore point, items renamed or moved since the
//! backup, and the `deletedItems` / `changedItems` flags of restore and copyTo — in the v5 (`…/Action`), v6/v7
//! (synchronous) and v8 (background job) forms, with user/password, an application certificate and a device code.
//! Every check reads the tenant back through Graph, never the API's own answer alone.

use crate::common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------------------------
// The tenant through Graph

async fn graph_get(s: &TestServer, path: &str) -> Option<Value> {
    let r = s
        .tenant
        .http
        .get(format!("{}/v1.0{path}", s.tenant.emu.base_url()))
        .bearer_auth(s.tenant.graph_token().await)
        .send()
        .await
        .unwrap();
    if r.status() == StatusCode::NOT_FOUND {
        return None;
    }
    assert!(r.status().is_success(), "{path}: {}", r.status());
    Some(r.json().await.unwrap())
}

/// A live item of the changed OneDrive by id.
async fn item(s: &TestServer, id: &str) -> Option<Value> {
    graph_get(s, &format!("/drives/{}/items/{id}", s.changes.drive_id)).await.filter(|v| v.get("deleted").is_none())
}

/// The live children of a folder (`"root"` for the top level).
async fn children(s: &TestServer, parent: &str) -> Vec<Value> {
    let v = graph_get(s, &format!("/drives/{}/items/{parent}/children?$top=1000", s.changes.drive_id)).await;
    v.and_then(|v| v["value"].as_array().cloned()).unwrap_or_default()
}

async fn child(s: &TestServer, parent: &str, name: &str) -> Option<Value> {
    children(s, parent).await.into_iter().find(|c| c["name"] == name)
}

/// Every live file below folder `id`, recursively.
async fn files_below(s: &TestServer, id: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut pending = vec![id.to_string()];
    while let Some(f) = pending.pop() {
        for c in children(s, &f).await {
            if c.get("folder").is_some() {
                pending.push(c["id"].as_str().unwrap().to_string());
            } else {
                out.push(c);
            }
        }
    }
    out
}

fn hash(v: &Value) -> &str {
    v.pointer("/file/hashes/quickXorHash").and_then(Value::as_str).unwrap_or_default()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

fn parent_of(v: &Value) -> String {
    v.pointer("/parentReference/id").and_then(Value::as_str).unwrap().to_string()
}

async fn version_count(s: &TestServer, id: &str) -> usize {
    let v = graph_get(s, &format!("/drives/{}/items/{id}/versions", s.changes.drive_id)).await.unwrap();
    v["value"].as_array().unwrap().len()
}

async fn delete(s: &TestServer, id: &str) {
    s.graph(Method::DELETE, &format!("/drives/{}/items/{id}", s.changes.drive_id), None, None).await;
}

async fn root_id(s: &TestServer) -> String {
    id(&graph_get(s, &format!("/drives/{}/root", s.changes.drive_id)).await.unwrap())
}

/// The Graph folder (`root` or an id) that held backed-up item `id` at the first backup.
async fn backed_up_parent(s: &TestServer, id: &str) -> String {
    let row = s.catalog.item_at(s.changes.onedrive, id, s.t1).await.unwrap().unwrap();
    row.state.parent_id.unwrap_or_else(|| "root".into())
}

/// A v6–v8 session explored at `at` with `showDeleted` as given.
async fn explore_with(s: &TestServer, version: u8, at: &str, show_deleted: bool) -> String {
    let body = json!({"type": "Veod", "datetime": at, "showDeleted": show_deleted, "showAllVersions": true});
    let (st, b) = s.post(&format!("/v{version}/Organizations/{}/explore", s.org), Some(&s.token), body).await;
    assert!(st.is_success(), "{b}");
    b["id"].as_str().unwrap().to_string()
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Items deleted before the restore point

/// The document deleted between the two backups, restored from a showDeleted session at the second backup (where it
/// is a deleted item): by id in v6, v5 (`…/Action`) and v8 (a background job), then through whole-OneDrive
/// restores with `deletedItems` true and false; a session without showDeleted neither finds nor restores it.
#[tokio::test]
async fn items_deleted_before_the_restore_point_come_back_in_every_era() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let password = prepare(&s);
    let t2 = s.t2.to_rfc3339();
    let od = s.changes.onedrive;
    let deleted = s.changes.deleted.clone();
    let name = s.changes.deleted_name.clone();
    let parent = backed_up_parent(&s, &deleted).await;
    let want = backed_up_hash(&s, &deleted).await;
    let creds = json!({"userName": s.changes.upn, "userPassword": password, "documentAction": "Overwrite"});
    assert!(child(&s, &parent, &name).await.is_none(), "deleted in the tenant");

    // v6, single document.
    let sid = s.explore(6, "Veod", Some(&t2)).await;
    let path = format!("/v6/RestoreSessions/{sid}/Organization/OneDrives/{od}/Documents/{deleted}/restore");
    let (st, b) = s.post(&path, Some(&s.token), creds.clone()).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let back = child(&s, &parent, &name).await.expect("v6: restored to its original folder");
    assert_eq!(hash(&back), want);
    delete(&s, &id(&back)).await;

    // v5, the …/Action form.
    let sid = s.explore(5, "Veod", Some(&t2)).await;
    let path = format!("/v5/RestoreSessions/{sid}/Organization/OneDrives/{od}/Documents/{deleted}/Action");
    let (st, b) = s.post(&path, Some(&s.token), json!({"restoreToOriginalLocation": creds.clone()})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let back = child(&s, &parent, &name).await.expect("v5: restored to its original folder");
    assert_eq!(hash(&back), want);
    delete(&s, &id(&back)).await;

    // v8: a background job that succeeds.
    let sid = s.explore(8, "Veod", Some(&t2)).await;
    let path = format!("/v8/RestoreSessions/{sid}/Organization/OneDrives/{od}/Documents/{deleted}/restore");
    let (st, b) = s.post(&path, Some(&s.token), creds.clone()).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let job = s.wait_stopped(b["sessionId"].as_str().unwrap()).await;
    assert_eq!(job["result"], "Success", "{job}");
    let back = child(&s, &parent, &name).await.expect("v8: restored to its original folder");
    assert_eq!(hash(&back), want);
    delete(&s, &id(&back)).await;

    // Whole OneDrive (v7): deletedItems false leaves it deleted, true brings it back.
    let sid = s.explore(7, "Veod", Some(&t2)).await;
    let path = format!("/v7/RestoreSessions/{sid}/Organization/OneDrives/{od}/restore");
    let mut body = creds.clone();
    body["deletedItems"] = json!(false);
    let (st, b) = s.post(&path, Some(&s.token), body.clone()).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert!(child(&s, &parent, &name).await.is_none(), "deletedItems: false");
    body["deletedItems"] = json!(true);
    let (st, b) = s.post(&path, Some(&s.token), body).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["failedItemsCount"], 0, "{b}");
    let back = child(&s, &parent, &name).await.expect("whole restore with deletedItems: true");
    assert_eq!(hash(&back), want);
    delete(&s, &id(&back)).await;

    // A session without showDeleted does not show the item: 404 by id, and not part of a whole restore.
    let sid = explore_with(&s, 7, &t2, false).await;
    let base = format!("/v7/RestoreSessions/{sid}/Organization/OneDrives/{od}");
    let (st, b) = s.post(&format!("{base}/Documents/{deleted}/restore"), Some(&s.token), creds.clone()).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{b}");
    let (st, b) = s.post(&format!("{base}/restore"), Some(&s.token), creds).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert!(child(&s, &parent, &name).await.is_none(), "not shown, not restored");
}

/// A deleted folder, deleted before the restore point, comes back with its documents at its original path (the
/// folder re-created), through the v6 folder form of a showDeleted session.
#[tokio::test]
async fn a_folder_deleted_before_the_restore_point_is_recreated_with_its_documents() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let password = prepare(&s);
    let od = s.changes.onedrive;
    // A top-level folder holding files (through Graph), deleted, then a third backup.
    let root = root_id(&s).await;
    let folder = {
        let mut found = None;
        for c in children(&s, &root).await.into_iter().filter(|c| c.get("folder").is_some()) {
            if !files_below(&s, &id(&c)).await.is_empty() {
                found = Some(c);
                break;
            }
        }
        found.expect("the seed has a top-level folder with files")
    };
    let files: Vec<(String, String)> =
        files_below(&s, &id(&folder)).await.iter().map(|f| (id(f), hash(f).to_string())).collect();
    delete(&s, &id(&folder)).await;
    let t3 = s.backup().await.restore_point.unwrap().backup_time.to_rfc3339();

    let sid = s.explore(6, "Veod", Some(&t3)).await;
    let body = json!({"userName": s.changes.upn, "userPassword": password, "documentAction": "Overwrite"});
    let path = format!("/v6/RestoreSessions/{sid}/Organization/OneDrives/{od}/Folders/{}/restore", id(&folder));
    let (st, b) = s.post(&path, Some(&s.token), body).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["failedItemsCount"], 0, "{b}");
    let again = child(&s, "root", folder["name"].as_str().unwrap()).await.expect("folder re-created by path");
    // Every document the folder held when it was deleted is back (documents deleted from it earlier, which the
    // showDeleted session shows as well, come back too).
    let now: Vec<String> = files_below(&s, &id(&again)).await.iter().map(|f| hash(f).to_string()).collect();
    for (fid, h) in &files {
        assert!(now.contains(h), "document {fid} of the folder is back: {now:?}");
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Renamed and moved items

/// Overwrite puts a renamed document, a moved document and a renamed folder back (same ids, no new version when
/// the content is the same); Keep leaves the renamed item alone and writes a `(Restored …)` copy at the original
/// path.
#[tokio::test]
async fn renamed_and_moved_items_go_back_to_their_name_and_folder() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let password = prepare(&s);
    let od = s.changes.onedrive;
    let drive = s.changes.drive_id.clone();
    let t1 = s.t1.to_rfc3339();
    let creds = json!({"userName": s.changes.upn, "userPassword": password, "documentAction": "Overwrite"});

    // Renamed between the backups (by the harness): v6 single-document restore renames it back.
    let renamed = s.changes.renamed.clone();
    let versions = version_count(&s, &renamed).await;
    let sid = s.explore(6, "Veod", Some(&t1)).await;
    let base = format!("/v6/RestoreSessions/{sid}/Organization/OneDrives/{od}");
    let (st, b) = s.post(&format!("{base}/Documents/{renamed}/restore"), Some(&s.token), creds.clone()).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let now = item(&s, &renamed).await.expect("same id");
    assert_eq!(now["name"], json!(s.changes.renamed_old_name), "renamed back");
    assert_eq!(parent_of(&now), {
        let p = backed_up_parent(&s, &renamed).await;
        if p == "root" {
            root_id(&s).await
        } else {
            p
        }
    });
    assert_eq!(version_count(&s, &renamed).await, versions, "same content: no new version");

    // A document moved into another folder and a folder renamed after the backups: a whole-OneDrive restore (v8)
    // moves the document back and renames the folder back, keeping both ids.
    let root = root_id(&s).await;
    let elsewhere = s
        .graph(
            Method::POST,
            &format!("/drives/{drive}/items/{root}/children"),
            Some(json!({"name": "Elsewhere", "folder": {}})),
            None,
        )
        .await;
    let mut movable = None;
    for (fid, _) in drive_files(&s.tenant.emu, &drive) {
        if fid != renamed
            && fid != s.changes.edited
            && fid != s.changes.created
            && s.catalog.item_at(od, &fid, s.t1).await.unwrap().is_some_and(|r| !r.deleted)
        {
            movable = Some(fid);
            break;
        }
    }
    let moved = movable.expect("another document of the first backup");
    let moved_parent = backed_up_parent(&s, &moved).await;
    s.graph(
        Method::PATCH,
        &format!("/drives/{drive}/items/{moved}"),
        Some(json!({"parentReference": {"id": id(&elsewhere)}})),
        None,
    )
    .await;
    let folder = children(&s, &root).await.into_iter().find(|c| c.get("folder").is_some() && c["name"] != "Elsewhere");
    let folder = folder.expect("the seed has a top-level folder");
    let folder_name = folder["name"].as_str().unwrap().to_string();
    s.graph(
        Method::PATCH,
        &format!("/drives/{drive}/items/{}", id(&folder)),
        Some(json!({"name": "renamed folder"})),
        None,
    )
    .await;
    let sid = s.explore(8, "Veod", Some(&t1)).await;
    let path = format!("/v8/RestoreSessions/{sid}/Organization/OneDrives/{od}/restore");
    let (st, b) = s.post(&path, Some(&s.token), creds.clone()).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let job = s.wait_stopped(b["sessionId"].as_str().unwrap()).await;
    assert_eq!(job["result"], "Success", "{job}");
    let now = item(&s, &moved).await.expect("same id");
    let want_parent = if moved_parent == "root" { root.clone() } else { moved_parent };
    assert_eq!(parent_of(&now), want_parent, "moved back");
    let now = item(&s, &id(&folder)).await.expect("same folder id");
    assert_eq!(now["name"], json!(folder_name), "folder renamed back");

    // Keep (v5 …/Action): the renamed item stays as it is; a copy comes back at the original path.
    s.graph(Method::PATCH, &format!("/drives/{drive}/items/{renamed}"), Some(json!({"name": "again.txt"})), None).await;
    let sid = s.explore(5, "Veod", Some(&t1)).await;
    let path = format!("/v5/RestoreSessions/{sid}/Organization/OneDrives/{od}/Documents/{renamed}/Action");
    let mut keep = creds.clone();
    keep["documentAction"] = json!("Keep");
    let (st, b) = s.post(&path, Some(&s.token), json!({"restoreToOriginalLocation": keep})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(item(&s, &renamed).await.unwrap()["name"], "again.txt", "Keep leaves the item alone");
    let stem = s.changes.renamed_old_name.rsplit_once('.').map_or(s.changes.renamed_old_name.as_str(), |(a, _)| a);
    let parent = backed_up_parent(&s, &renamed).await;
    let copy = children(&s, &parent)
        .await
        .into_iter()
        .find(|c| c["name"].as_str().unwrap().starts_with(&format!("{stem} (Restored ")))
        .expect("a (Restored …) copy at the original path");
    assert_ne!(id(&copy), renamed);
    assert_eq!(hash(&copy), backed_up_hash(&s, &renamed).await);
}

// ---------------------------------------------------------------------------------------------------------------
// 4. The deletedItems / changedItems flags

/// copyTo into a new folder: `deletedItems: false` still copies every item of the restore point (only items deleted
/// in the backup stay out), `true` copies those too; `changedItems` decides whether earlier versions are copied.
#[tokio::test]
async fn copy_to_flags_follow_the_backup_not_the_target_folder() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let password = prepare(&s);
    let od = s.changes.onedrive;
    let t2 = s.t2.to_rfc3339();
    let sid = s.explore(6, "Veod", Some(&t2)).await;
    let base = format!("/v6/RestoreSessions/{sid}/Organization/OneDrives/{od}");
    let creds = json!({"userName": s.changes.upn, "userPassword": password, "oneDrive": {"id": od.to_string()}});
    // Files of the OneDrive at t2 (not deleted).
    let live_at_t2 = {
        let st = s.tenant.emu.emu.state();
        st.items.values().filter(|i| i.drive_id == s.changes.drive_id && !i.is_folder && i.deleted.is_none()).count()
    };
    let deleted_hash = backed_up_hash(&s, &s.changes.deleted).await;

    for (folder, deleted_items) in [("Copy without deleted", false), ("Copy with deleted", true)] {
        let mut body = creds.clone();
        body["folder"] = json!(folder);
        body["deletedItems"] = json!(deleted_items);
        let (st, b) = s.post(&format!("{base}/copyTo"), Some(&s.token), body).await;
        assert_eq!(st, StatusCode::OK, "{b}");
        let target = child(&s, "root", folder).await.expect("target folder");
        let copied = files_below(&s, &id(&target)).await;
        let with_deleted = copied.iter().any(|f| f["name"] == json!(s.changes.deleted_name) && hash(f) == deleted_hash);
        assert_eq!(with_deleted, deleted_items, "{folder}: the deleted document");
        assert_eq!(copied.len(), live_at_t2 + usize::from(deleted_items), "{folder}: {b}");
    }

    // changedItems on a document with several versions, documentVersion All.
    let edited = s.changes.edited.clone();
    let backed_up_versions = s.catalog.versions_at(od, &edited, s.t2, true).await.unwrap().len();
    assert!(backed_up_versions >= 2);
    for (folder, changed_items) in [("All versions", true), ("Last version", false)] {
        let mut body = creds.clone();
        body["folder"] = json!(folder);
        body["documentVersion"] = json!("All");
        body["changedItems"] = json!(changed_items);
        let (st, b) = s.post(&format!("{base}/Documents/{edited}/copyTo"), Some(&s.token), body).await;
        assert_eq!(st, StatusCode::OK, "{b}");
        let target = child(&s, "root", folder).await.expect("target folder");
        let copy = files_below(&s, &id(&target)).await.pop().expect("the copy");
        let versions = version_count(&s, &id(&copy)).await;
        match changed_items {
            true => assert!(versions >= backed_up_versions, "{folder}: {versions} of {backed_up_versions} versions"),
            false => assert_eq!(versions, 1, "{folder}"),
        }
        assert_eq!(hash(&copy), tenant_item(&s, &edited).unwrap().0, "{folder}: the content at t2");
    }
}

/// Restore to the original location (v7, whole OneDrive, showDeleted session at t2): `changedItems: false` leaves an
/// item that still exists alone and brings back the deleted one; `deletedItems: false` does the reverse.
#[tokio::test]
async fn restore_flags_choose_between_changed_and_deleted_items() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let password = prepare(&s);
    let od = s.changes.onedrive;
    let drive = s.changes.drive_id.clone();
    let created = s.changes.created.clone();
    let deleted_parent = backed_up_parent(&s, &s.changes.deleted).await;
    s.graph(Method::PUT, &format!("/drives/{drive}/items/{created}/content"), None, Some(b"changed after t2".to_vec()))
        .await;
    let changed_hash = hash(&item(&s, &created).await.unwrap()).to_string();
    let sid = s.explore(7, "Veod", Some(&s.t2.to_rfc3339())).await;
    let path = format!("/v7/RestoreSessions/{sid}/Organization/OneDrives/{od}/restore");
    let creds = json!({"userName": s.changes.upn, "userPassword": password, "documentAction": "Overwrite"});

    let mut body = creds.clone();
    body["changedItems"] = json!(false);
    let (st, b) = s.post(&path, Some(&s.token), body).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(hash(&item(&s, &created).await.unwrap()), changed_hash, "changedItems: false leaves it");
    let back = child(&s, &deleted_parent, &s.changes.deleted_name).await.expect("the deleted one is back");
    delete(&s, &id(&back)).await;

    let mut body = creds;
    body["deletedItems"] = json!(false);
    let (st, b) = s.post(&path, Some(&s.token), body).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_ne!(hash(&item(&s, &created).await.unwrap()), changed_hash, "changedItems: true restores it");
    assert!(child(&s, &deleted_parent, &s.changes.deleted_name).await.is_none(), "deletedItems: false");
}

/// The OpenAPI document states the chosen meaning of the flags.
#[tokio::test]
async fn openapi_describes_the_flags() {
    let doc = serde_json::to_value(api::router::document()).unwrap();
    let copy = &doc["paths"]["/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/copyTo"]["post"];
    let text = copy["description"].as_str().unwrap_or_default();
    assert!(text.contains("deletedItems") && text.contains("deleted in the backup"), "{copy}");
    assert!(text.contains("changedItems") && text.contains("all versions"), "{copy}");
    let restore = &doc["paths"]["/{version}/RestoreSessions/{id}/Organization/OneDrives/{oneDriveId}/restore"]["post"];
    assert!(restore["description"].as_str().unwrap_or_default().contains("renames/moves it back"), "{restore}");
}

// ---------------------------------------------------------------------------------------------------------------
// 5. Every credential mode: an application certificate and a device code, besides user/password (issue 11, defect
// 2 asks for "every credential mode and era")

/// The bytes of the current version of tenant item `id` as the emulator stores them (a deleted item keeps them).
fn tenant_bytes(s: &TestServer, id: &str) -> Vec<u8> {
    let version = s.tenant.emu.emu.state().items[id].versions.last().unwrap().content.clone();
    s.tenant.emu.emu.blobs.read_all(&version).unwrap()
}

/// The restore body of the application-certificate mode: a new certificate of the organization's application,
/// registered in the emulator and handed over as a password-protected base64 PFX.
async fn application_certificate_body(s: &TestServer) -> Value {
    let (client_id, pfx) = s.application_certificate("pfx pass").await;
    json!({"applicationId": client_id, "applicationCertificate": pfx, "applicationCertificatePassword": "pfx pass",
        "documentAction": "Overwrite"})
}

/// The restore body of the device-code mode: a code from `…/organization/restoreDeviceCode` of session `sid`,
/// approved by the OneDrive's owner in the emulator (a code serves one restore).
async fn device_code_body(s: &TestServer, version: u8, sid: &str) -> Value {
    let path = format!("/v{version}/RestoreSessions/{sid}/organization/restoreDeviceCode");
    let (st, dc) = s.post(&path, Some(&s.token), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{dc}");
    let code = dc["userCode"].as_str().unwrap().to_string();
    let r = s
        .tenant
        .http
        .post(format!("{}/_emulator/devicecode/approve", s.tenant.emu.base_url()))
        .json(&json!({"user_code": code, "user": s.changes.upn}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    json!({"userCode": code, "documentAction": "Overwrite"})
}

/// A credential mode other than user/password.
enum Credentials {
    /// The same application-certificate body for every restore.
    Certificate(Value),
    /// A new approved device code for each restore.
    DeviceCode,
}

impl Credentials {
    async fn body(&self, s: &TestServer, version: u8, sid: &str) -> Value {
        match self {
            Credentials::Certificate(body) => body.clone(),
            Credentials::DeviceCode => device_code_body(s, version, sid).await,
        }
    }
}

/// Restores document `doc` of the changed OneDrive from a showDeleted session at `at`: v6 answers synchronously, v8
/// starts a background job that must stop with Success.
async fn restore_document(s: &TestServer, creds: &Credentials, version: u8, at: &str, doc: &str) {
    let sid = s.explore(version, "Veod", Some(at)).await;
    let body = creds.body(s, version, &sid).await;
    let od = s.changes.onedrive;
    let path = format!("/v{version}/RestoreSessions/{sid}/Organization/OneDrives/{od}/Documents/{doc}/restore");
    let (st, b) = s.post(&path, Some(&s.token), body).await;
    assert_eq!(st, StatusCode::OK, "v{version} {path}: {b}");
    if version >= 8 {
        let job = s.wait_stopped(b["sessionId"].as_str().unwrap()).await;
        assert_eq!(job["result"], "Success", "v{version}: {job}");
    } else {
        assert_eq!((b["restoredItemsCount"].clone(), b["failedItemsCount"].clone()), (json!(1), json!(0)), "{b}");
    }
}

/// A file two levels down (in a top-level folder) that is the same at both backups; deleted with its folder after
/// them, then a third backup. Returns (file id, file name, folder name, its backed-up bytes, the third backup time).
async fn delete_a_file_with_its_folder(s: &TestServer) -> (String, String, String, Vec<u8>, String) {
    let (file, name, folder, folder_name) = {
        let st = s.tenant.emu.emu.state();
        let untouched = [&s.changes.edited, &s.changes.renamed, &s.changes.deleted, &s.changes.created];
        let mut files: Vec<_> = st
            .items
            .values()
            .filter(|i| i.drive_id == s.changes.drive_id && !i.is_folder && i.deleted.is_none())
            .filter(|i| !untouched.contains(&&i.id))
            .filter_map(|i| {
                let folder = st.items.get(i.parent_id.as_ref()?)?;
                let top_level = st.items.get(folder.parent_id.as_ref()?)?.parent_id.is_none();
                top_level.then(|| (i.id.clone(), i.name.clone(), folder.id.clone(), folder.name.clone()))
            })
            .collect();
        files.sort();
        files.into_iter().next().expect("the seed has a file in a top-level folder")
    };
    let bytes = tenant_bytes(s, &file);
    delete(s, &file).await;
    delete(s, &folder).await;
    let t3 = s.backup().await.restore_point.unwrap().backup_time.to_rfc3339();
    assert!(child(s, "root", &folder_name).await.is_none(), "the folder is gone from the tenant");
    (file, name, folder_name, bytes, t3)
}

/// The whole check of one credential mode, in v6 (synchronous) and v8 (background job):
/// * the document deleted between the two backups comes back from a showDeleted session at the second backup, at
///   its original path with its backed-up bytes;
/// * a document deleted after the backups together with its folder comes back from a session at a third backup,
///   the folder re-created by name;
/// * the document renamed between the backups is renamed back (same id) from a session at the first backup.
async fn deleted_and_renamed_items_come_back(s: TestServer, creds: Credentials) {
    let t1 = s.t1.to_rfc3339();
    let t2 = s.t2.to_rfc3339();
    let deleted = s.changes.deleted.clone();
    let name = s.changes.deleted_name.clone();
    let parent = backed_up_parent(&s, &deleted).await;
    let want = tenant_bytes(&s, &deleted);
    assert_eq!(model::quickxor::quick_xor_base64(&want), backed_up_hash(&s, &deleted).await);
    assert!(child(&s, &parent, &name).await.is_none(), "deleted in the tenant");

    for version in [6, 8] {
        restore_document(&s, &creds, version, &t2, &deleted).await;
        let back = child(&s, &parent, &name).await.unwrap_or_else(|| panic!("v{version}: at its original path"));
        assert_ne!(id(&back), deleted, "v{version}: a new item");
        assert!(tenant_bytes(&s, &id(&back)) == want, "v{version}: the backed-up bytes");
        delete(&s, &id(&back)).await;
    }

    let (file, file_name, folder_name, bytes, t3) = delete_a_file_with_its_folder(&s).await;
    for version in [6, 8] {
        restore_document(&s, &creds, version, &t3, &file).await;
        let folder = child(&s, "root", &folder_name).await.unwrap_or_else(|| panic!("v{version}: folder re-created"));
        let back = child(&s, &id(&folder), &file_name).await.unwrap_or_else(|| panic!("v{version}: file in it"));
        assert!(tenant_bytes(&s, &id(&back)) == bytes, "v{version}: the backed-up bytes");
        delete(&s, &id(&folder)).await;
    }

    let renamed = s.changes.renamed.clone();
    for version in [6, 8] {
        s.graph(
            Method::PATCH,
            &format!("/drives/{}/items/{renamed}", s.changes.drive_id),
            Some(json!({"name": format!("renamed before v{version}.txt")})),
            None,
        )
        .await;
        restore_document(&s, &creds, version, &t1, &renamed).await;
        let now = item(&s, &renamed).await.expect("same id");
        assert_eq!(now["name"], json!(s.changes.renamed_old_name), "v{version}: renamed back");
        assert_eq!(hash(&now), backed_up_hash(&s, &renamed).await, "v{version}");
    }
}

#[tokio::test]
async fn deleted_and_renamed_items_come_back_with_an_application_certificate() {
    let s = TestServer::start(DEFAULT_SEED).await;
    prepare(&s);
    let creds = Credentials::Certificate(application_certificate_body(&s).await);
    deleted_and_renamed_items_come_back(s, creds).await;
}

#[tokio::test]
async fn deleted_and_renamed_items_come_back_with_a_device_code() {
    let s = TestServer::start(DEFAULT_SEED).await;
    prepare(&s);
    deleted_and_renamed_items_come_back(s, Credentials::DeviceCode).await;
}
