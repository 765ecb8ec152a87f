//! OneDrive browsing inside restore sessions over HTTPS, both eras: OneDrives, documents, folders, versions.

use crate::common;

use api::ctx::auth::CurrentUser;
use api::store::sessions::{self, NewSession, SessionKind};
use api::store::tokens;
use common::*;
use repo::catalog::{ItemKind, ItemRow, RestorePoint};
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

/// Session options of a test session.
struct Opts {
    kind: SessionKind,
    rp: Option<RestorePoint>,
    show_deleted: bool,
    show_all_versions: bool,
}

async fn admin(s: &TestServer) -> CurrentUser {
    tokens::authenticate(s.state.pool(), &s.token).await.unwrap().unwrap()
}

/// A working session of the admin, created directly (independent of the explore endpoints).
async fn session(s: &TestServer, o: Opts) -> String {
    let new = NewSession {
        owner: admin(s).await,
        organization_id: s.org_id,
        kind: o.kind,
        requested_at: o.rp.as_ref().map(|r| r.backup_time),
        restore_point_id: o.rp.as_ref().map(|r| r.id),
        browse_at: o.rp.as_ref().map(|r| r.backup_time),
        show_deleted: o.show_deleted,
        show_all_versions: o.show_all_versions,
        name: None,
        parent_id: None,
        reason: None,
    };
    sessions::create(&s.state, new).await.unwrap().id.to_string()
}

async fn veod(s: &TestServer, rp: &RestorePoint, show_deleted: bool, show_all_versions: bool) -> String {
    session(s, Opts { kind: SessionKind::Veod, rp: Some(rp.clone()), show_deleted, show_all_versions }).await
}

fn od_path(v: u8, sid: &str, od: &str) -> String {
    format!("/v{v}/RestoreSessions/{sid}/Organization/OneDrives/{od}")
}

/// GET as the admin; asserts 200 and returns the body.
async fn ok(s: &TestServer, path: &str) -> Value {
    let (st, b) = s.get(path, Some(&s.token)).await;
    assert_eq!(st, StatusCode::OK, "{path}: {b}");
    b
}

async fn status(s: &TestServer, path: &str) -> (StatusCode, Value) {
    s.get(path, Some(&s.token)).await
}

fn results(page: &Value) -> &Vec<Value> {
    page["results"].as_array().unwrap_or_else(|| panic!("not a page: {page}"))
}

fn find<'a>(page: &'a Value, id: &str) -> Option<&'a Value> {
    results(page).iter().find(|r| r["id"] == id)
}

/// Every row of a listing, following `next` links (relative in v6+, absolute in v2–v5).
async fn all_pages(s: &TestServer, first: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut next = Some(first.to_string());
    let mut guard = 0;
    while let Some(path) = next {
        let page = ok(s, &path).await;
        out.extend(results(&page).iter().cloned());
        next = page["_links"]["next"]["href"].as_str().map(|h| h.strip_prefix(&s.base).unwrap_or(h).to_string());
        guard += 1;
        assert!(guard < 1000, "paging does not end");
    }
    out
}

/// The first user's OneDrive items at `rp` (current and deleted), from the catalog.
async fn catalog_items(s: &TestServer, rp: &RestorePoint) -> Vec<ItemRow> {
    api::resources::browse_util::walk_tree(&s.catalog, s.changes.onedrive, None, rp.backup_time, true, ItemKind::Any)
        .await
        .unwrap()
}

#[tokio::test]
async fn onedrive_browsing() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let c = s.changes.clone();
    let od = c.onedrive.to_string();

    // --- Authentication, ownership, session type, empty session -------------------------------------------------
    let sid2 = veod(&s, &s.rp2, true, true).await;
    let drives = format!("/v6/RestoreSessions/{sid2}/Organization/OneDrives");
    let (st, b) = s.get(&drives, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{b}");
    let (st, b) = s.get(&drives, Some(&s.other_token)).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "another user's session: {b}");
    let (st, _) = s.get(&format!("{}/Documents", od_path(6, &sid2, &od)), Some(&s.other_token)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = status(&s, &format!("/v6/RestoreSessions/{}/Organization/OneDrives", Uuid::new_v4())).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let vex = session(
        &s,
        Opts { kind: SessionKind::Vex, rp: Some(s.rp2.clone()), show_deleted: false, show_all_versions: false },
    )
    .await;
    let (st, b) = status(&s, &format!("/v8/RestoreSessions/{vex}/Organization/OneDrives")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{b}");
    assert!(b["message"].as_str().unwrap().contains("Veod"), "{b}");
    let empty =
        session(&s, Opts { kind: SessionKind::Veod, rp: None, show_deleted: true, show_all_versions: true }).await;
    let page = ok(&s, &format!("/v6/RestoreSessions/{empty}/Organization/OneDrives")).await;
    assert_eq!(page["results"], serde_json::json!([]));
    assert_eq!(page["totalCount"], 0);
    let (st, _) = status(&s, &od_path(6, &empty, &od)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // --- OneDrives: list, get, links per era, paging -----------------------------------------------------------
    let page = ok(&s, &drives).await;
    assert_eq!(results(&page).len(), 2, "{page}");
    assert_eq!(page["totalCount"], 2);
    let d = find(&page, &od).unwrap_or_else(|| panic!("{od} not in {page}"));
    let user_name = s.tenant.emu.emu.state().users[&c.user_id].display_name.clone();
    assert_eq!(d["name"], user_name.as_str());
    assert_eq!(
        d["url"],
        format!("https://contoso-my.sharepoint.com/personal/{}", c.upn.replace(['@', '.'], "_")).as_str()
    );
    assert_eq!(d["_links"]["self"]["href"], od_path(6, &sid2, &od).as_str());
    assert_eq!(ok(&s, &od_path(6, &sid2, &od)).await, *d);
    let page = ok(&s, &format!("{drives}?limit=1")).await;
    assert_eq!(results(&page).len(), 1);
    assert_eq!(page["_links"]["next"]["href"], format!("{drives}?offset=1&limit=1").as_str());
    let page = ok(&s, &format!("{drives}?limit=1&offset=1")).await;
    assert!(page["_links"].get("next").is_none(), "{page}");
    assert!(page["_links"]["prev"]["href"].is_string());
    // v5: absolute lower-case hrefs, no totalCount; v8: no totalCount either.
    let page = ok(&s, &format!("/v5/RestoreSessions/{sid2}/Organization/OneDrives")).await;
    assert!(page.get("totalCount").is_none());
    let d5 = find(&page, &od).unwrap();
    assert_eq!(
        d5["_links"]["self"]["href"],
        format!("{}/v5/restoresessions/{sid2}/organization/onedrives/{od}", s.base).as_str()
    );
    assert_eq!(
        d5["_links"]["documents"]["href"],
        format!("{}/v5/restoresessions/{sid2}/organization/onedrives/{od}/documents?parentId=null", s.base).as_str()
    );
    let page = ok(&s, &format!("/v8/RestoreSessions/{sid2}/Organization/OneDrives")).await;
    assert!(page.get("totalCount").is_none());
    for bad in [Uuid::new_v4().to_string(), "not-a-drive".to_string()] {
        let (st, b) = status(&s, &od_path(6, &sid2, &bad)).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{b}");
        let (st, _) = status(&s, &format!("{}/Documents", od_path(6, &sid2, &bad))).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }

    // --- Point in time: t1 vs t2, showDeleted on/off -----------------------------------------------------------
    let sid1 = veod(&s, &s.rp1, true, true).await;
    let sid2_live = veod(&s, &s.rp2, false, false).await;
    let docs1 = all_pages(&s, &format!("{}/Documents?limit=7", od_path(6, &sid1, &od))).await;
    let docs2 = all_pages(&s, &format!("{}/Documents?limit=7", od_path(6, &sid2, &od))).await;
    let docs2_live = all_pages(&s, &format!("{}/Documents?limit=7", od_path(6, &sid2_live, &od))).await;
    let by_id = |docs: &[Value], id: &str| docs.iter().find(|d| d["id"] == id).cloned();
    // Recursive listing = every file of the catalog (files only).
    let files1: Vec<String> =
        catalog_items(&s, &s.rp1).await.into_iter().filter(|r| !r.state.is_folder).map(|r| r.item_id).collect();
    assert_eq!(docs1.len(), files1.len());
    assert!(docs1.iter().all(|d| d.get("isFolder").is_none()), "v6 has no isFolder");
    // t1: the old names, the deleted file live, no new file.
    assert_eq!(by_id(&docs1, &c.edited).unwrap()["name"], c.edited_name.as_str());
    assert_eq!(by_id(&docs1, &c.renamed).unwrap()["name"], c.renamed_old_name.as_str());
    let deleted1 = by_id(&docs1, &c.deleted).unwrap();
    assert_eq!(deleted1["name"], c.deleted_name.as_str());
    assert!(deleted1.get("isDeleted").is_none());
    assert!(by_id(&docs1, &c.created).is_none());
    // t2 with showDeleted: new file, new name, new size, deleted one marked.
    assert_eq!(by_id(&docs2, &c.renamed).unwrap()["name"], "renamed.txt");
    let created = by_id(&docs2, &c.created).unwrap();
    assert_eq!(created["name"], "new-file.txt");
    assert_eq!(created["sizeBytes"], b"a brand new file".len());
    assert_eq!(by_id(&docs2, &c.edited).unwrap()["sizeBytes"], c.edited_content.len());
    assert_eq!(by_id(&docs2, &c.deleted).unwrap()["isDeleted"], true);
    assert_eq!(docs2.len(), docs1.len() + 1);
    // t2 without showDeleted: the deleted file is gone, nothing is marked.
    assert!(by_id(&docs2_live, &c.deleted).is_none());
    assert_eq!(docs2_live.len(), docs1.len());
    assert!(docs2_live.iter().all(|d| d.get("isDeleted").is_none()));
    let deleted_doc = format!("{}/Documents/{}", od_path(6, &sid2_live, &od), c.deleted);
    assert_eq!(status(&s, &deleted_doc).await.0, StatusCode::NOT_FOUND);
    let b = ok(&s, &format!("{}/Documents/{}", od_path(6, &sid2, &od), c.deleted)).await;
    assert_eq!(b["isDeleted"], true);
    assert_eq!(
        status(&s, &format!("{}/Documents/{}", od_path(6, &sid1, &od), c.created)).await.0,
        StatusCode::NOT_FOUND
    );

    // --- Document fields per era --------------------------------------------------------------------------------
    let created_row = s.catalog.item_at(c.onedrive, &c.created, s.t2).await.unwrap().unwrap();
    assert_eq!(created_row.state.parent_id, None, "new-file.txt was created at the root");
    let doc6 = ok(&s, &format!("{}/Documents/{}", od_path(6, &sid2, &od), c.created)).await;
    for f in ["id", "name", "sizeBytes", "version", "versionId", "inheritedPermissions", "createdBy", "modifiedBy"] {
        assert!(doc6.get(f).is_some(), "{f} missing: {doc6}");
    }
    assert_eq!(doc6["inheritedPermissions"], true);
    assert!(doc6["version"].is_string());
    assert_eq!(doc6["versionId"], 1);
    let ct = doc6["creationTime"].as_str().unwrap();
    assert_eq!(ct.len(), 19, "no zone, no fraction: {ct}");
    assert_eq!(doc6["modificationTime"].as_str().unwrap().len(), 19);
    assert_eq!(doc6["_links"]["self"]["href"], format!("{}/Documents/{}", od_path(6, &sid2, &od), c.created).as_str());
    assert_eq!(doc6["_links"]["onedrive"]["href"], od_path(6, &sid2, &od).as_str());
    assert_eq!(doc6["_links"]["parent"]["href"], od_path(6, &sid2, &od).as_str());
    assert!(doc6.get("isFolder").is_none() && doc6.get("oneDriveId").is_none());
    let doc7 = ok(&s, &format!("{}/Documents/{}", od_path(7, &sid2, &od), c.created)).await;
    assert_eq!(doc7["isFolder"], false);
    assert!(doc7.get("oneDriveId").is_none());
    let doc8 = ok(&s, &format!("{}/Documents/{}", od_path(8, &sid2, &od), c.created)).await;
    assert_eq!(doc8["oneDriveId"], od.as_str());
    let doc5 = ok(&s, &format!("{}/Documents/{}", od_path(5, &sid2, &od), c.created)).await;
    assert!(doc5.get("versionId").is_none() && doc5.get("size").is_none());
    assert_eq!(doc5["sizeBytes"], doc6["sizeBytes"]);
    assert_eq!(
        doc5["_links"]["self"]["href"],
        format!("{}/v5/restoresessions/{sid2}/organization/onedrives/{od}/documents/{}", s.base, c.created).as_str()
    );
    let doc2 = ok(&s, &format!("{}/Documents/{}", od_path(2, &sid2, &od), c.created)).await;
    assert_eq!(doc2["size"], doc6["sizeBytes"]);
    assert!(doc2.get("sizeBytes").is_none());

    // --- Folder navigation ------------------------------------------------------------------------------------
    let items2 = catalog_items(&s, &s.rp2).await;
    let folder = items2
        .iter()
        .find(|r| r.state.is_folder && r.state.parent_id.is_none() && !r.deleted)
        .expect("the seed gives the first user a top-level folder");
    let in_folder = items2
        .iter()
        .find(|r| !r.state.is_folder && r.state.parent_id.as_deref() == Some(folder.item_id.as_str()))
        .cloned();
    // Root listings: `root` in v6+, `null` in v5; only top-level files.
    let root6 = all_pages(&s, &format!("{}/Documents?parentId=root", od_path(6, &sid2, &od))).await;
    let root5 = all_pages(&s, &format!("{}/Documents?parentID=null&limit=3", od_path(5, &sid2, &od))).await;
    let top_files: Vec<&ItemRow> =
        items2.iter().filter(|r| !r.state.is_folder && r.state.parent_id.is_none()).collect();
    assert_eq!(root6.len(), top_files.len());
    assert_eq!(root5.len(), top_files.len());
    assert!(by_id(&root6, &c.created).is_some() && by_id(&root5, &c.created).is_some());
    assert!(root6.iter().all(|d| d["_links"]["parent"]["href"] == od_path(6, &sid2, &od).as_str()));
    // Children of a folder.
    let fid = folder.item_id.as_str();
    let in_f = all_pages(&s, &format!("{}/Documents?parentId={fid}", od_path(6, &sid2, &od))).await;
    let expected: usize =
        items2.iter().filter(|r| !r.state.is_folder && r.state.parent_id.as_deref() == Some(fid)).count();
    assert_eq!(in_f.len(), expected);
    if let Some(child) = &in_folder {
        let d = by_id(&in_f, &child.item_id).unwrap();
        assert_eq!(d["_links"]["parent"]["href"], format!("{}/Folders/{fid}", od_path(6, &sid2, &od)).as_str());
    }
    let in_f5 = all_pages(&s, &format!("{}/Documents?parentId={fid}", od_path(5, &sid2, &od))).await;
    assert_eq!(in_f5.len(), expected);
    // Folders: root level, recursive, by id.
    let folders_root = all_pages(&s, &format!("{}/Folders?parentId=root", od_path(6, &sid2, &od))).await;
    let top_folders = items2.iter().filter(|r| r.state.is_folder && r.state.parent_id.is_none()).count();
    assert_eq!(folders_root.len(), top_folders);
    let f = by_id(&folders_root, fid).unwrap();
    assert_eq!(f["name"], folder.state.name.as_str());
    assert_eq!(f["version"], "1.0");
    assert_eq!(f["versionId"], 1);
    assert!(f.get("sizeBytes").is_none());
    let all_folders = all_pages(&s, &format!("{}/Folders", od_path(6, &sid2, &od))).await;
    assert_eq!(all_folders.len(), items2.iter().filter(|r| r.state.is_folder).count());
    let folders5 = all_pages(&s, &format!("{}/Folders?parentId=null", od_path(5, &sid2, &od))).await;
    assert_eq!(folders5.len(), top_folders);
    let f7 = ok(&s, &format!("{}/Folders/{fid}", od_path(7, &sid2, &od))).await;
    assert_eq!(f7["isFolder"], true);
    let f2 = ok(&s, &format!("{}/Folders/{fid}", od_path(2, &sid2, &od))).await;
    assert!(f2["_links"]["children"]["href"].as_str().unwrap().ends_with(&format!("/documents?parentId={fid}")));
    // includeFolders (v7+): folders and documents, told apart by isFolder; ignored by v6.
    let mixed = all_pages(&s, &format!("{}/Documents?parentId=root&includeFolders=true", od_path(7, &sid2, &od))).await;
    assert_eq!(mixed.len(), top_files.len() + top_folders);
    assert_eq!(by_id(&mixed, fid).unwrap()["isFolder"], true);
    assert_eq!(by_id(&mixed, &c.created).unwrap()["isFolder"], false);
    let mixed6 =
        all_pages(&s, &format!("{}/Documents?parentId=root&includeFolders=true", od_path(6, &sid2, &od))).await;
    assert_eq!(mixed6.len(), top_files.len());
    let everything = all_pages(&s, &format!("{}/Documents?includeFolders=true&limit=50", od_path(8, &sid2, &od))).await;
    assert_eq!(everything.len(), items2.len());

    // --- Paging of documents ----------------------------------------------------------------------------------
    let base_docs = format!("{}/Documents", od_path(6, &sid2, &od));
    let page = ok(&s, &format!("{base_docs}?limit=2")).await;
    assert_eq!(results(&page).len(), 2);
    assert_eq!(page["totalCount"], docs2.len());
    assert_eq!(page["_links"]["next"]["href"], format!("{base_docs}?offset=2&limit=2").as_str());
    let page = ok(&s, &format!("{base_docs}?parentId=root&limit=2&offset=2")).await;
    assert_eq!(page["_links"]["prev"]["href"], format!("{base_docs}?parentId=root&offset=0&limit=2").as_str());
    let page5 = ok(&s, &format!("{}/Documents?parentId=null&limit=2", od_path(5, &sid2, &od))).await;
    assert_eq!(
        page5["_links"]["next"]["href"],
        format!(
            "{}/v5/restoresessions/{sid2}/organization/onedrives/{od}/documents?parentId=null&offset=2&limit=2",
            s.base
        )
        .as_str()
    );

    // --- Versions -----------------------------------------------------------------------------------------------
    let edited2 = ok(&s, &format!("{base_docs}/{}", c.edited)).await;
    let edited1 = ok(&s, &format!("{}/Documents/{}", od_path(6, &sid1, &od), c.edited)).await;
    let n2 = edited2["versionId"].as_i64().unwrap();
    let n1 = edited1["versionId"].as_i64().unwrap();
    assert_eq!(n2, n1 + 1, "the edit added a version: {edited1} → {edited2}");
    assert_ne!(edited1["version"], edited2["version"]);
    let versions = all_pages(&s, &format!("{base_docs}/{}/Versions", c.edited)).await;
    assert_eq!(versions.len() as i64, n2 - 1, "previous versions only: {versions:?}");
    let ids: Vec<i64> = versions.iter().map(|v| v["versionId"].as_i64().unwrap()).collect();
    assert_eq!(ids, (1..n2).rev().collect::<Vec<_>>(), "newest first");
    // The version current at t1 is version n1 at t2, with the old content size.
    let v_old = ok(&s, &format!("{base_docs}/{}/Versions/{n1}", c.edited)).await;
    assert_eq!(v_old["version"], edited1["version"]);
    assert_eq!(v_old["sizeBytes"], edited1["sizeBytes"]);
    assert_eq!(v_old["_links"]["self"]["href"], format!("{base_docs}/{}/Versions/{n1}", c.edited).as_str());
    let v_cur = ok(&s, &format!("{base_docs}/{}/Versions/{n2}", c.edited)).await;
    assert_eq!(v_cur["sizeBytes"], c.edited_content.len());
    for bad in ["999", "0", "abc"] {
        assert_eq!(status(&s, &format!("{base_docs}/{}/Versions/{bad}", c.edited)).await.0, StatusCode::NOT_FOUND);
    }
    // Without showAllVersions only the current version is visible.
    let live_docs = format!("{}/Documents", od_path(6, &sid2_live, &od));
    let page = ok(&s, &format!("{live_docs}/{}/Versions", c.edited)).await;
    assert_eq!(page["results"], serde_json::json!([]));
    assert_eq!(ok(&s, &format!("{live_docs}/{}", c.edited)).await["versionId"], n2);
    ok(&s, &format!("{live_docs}/{}/Versions/{n2}", c.edited)).await;
    let (st, b) = status(&s, &format!("{live_docs}/{}/Versions/{n1}", c.edited)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(b["message"].as_str().unwrap().contains("showAllVersions"), "{b}");
    // Versions do not exist before v6.
    let (st, _) = status(&s, &format!("{}/Documents/{}/Versions", od_path(5, &sid2, &od), c.edited)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // Folder versions: the single version 1.
    let folders6 = format!("{}/Folders/{fid}", od_path(6, &sid2, &od));
    assert_eq!(ok(&s, &format!("{folders6}/Versions")).await["results"], serde_json::json!([]));
    assert_eq!(ok(&s, &format!("{folders6}/Versions/1")).await["id"], fid);
    assert_eq!(ok(&s, &format!("{folders6}?versionId=1")).await["id"], fid);
    assert_eq!(status(&s, &format!("{folders6}/Versions/2")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(status(&s, &format!("{folders6}?versionId=2")).await.0, StatusCode::NOT_FOUND);

    // --- 404s: unknown ids, wrong kinds -------------------------------------------------------------------------
    for path in [
        format!("{base_docs}/no-such-item"),
        format!("{base_docs}/{fid}"), // a folder as a document
        format!("{}/Folders/{}", od_path(6, &sid2, &od), c.created), // a document as a folder
        format!("{base_docs}?parentId={}", c.created), // a document as a parent
        format!("{base_docs}?parentId=no-such-folder"),
        format!("{}/Folders?parentId=no-such-folder", od_path(6, &sid2, &od)),
        format!("{base_docs}/{}/Versions", fid),
        format!("{}/Folders/{}/Versions", od_path(6, &sid2, &od), c.created),
    ] {
        let (st, b) = status(&s, &path).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}: {b}");
        assert!(b["message"].is_string());
    }
    // v8 error shape.
    let (st, b) = status(&s, &format!("{}/Documents/nope", od_path(8, &sid2, &od))).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(b["errorCode"], "ResourceNotFound");
    // Case-insensitive paths and query names.
    let page = ok(&s, &format!("/v6/restoresessions/{sid2}/organization/onedrives/{od}/documents?PARENTID=ROOT")).await;
    assert_eq!(results(&page).len(), top_files.len().min(30));
}
