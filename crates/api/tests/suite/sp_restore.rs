//! SharePoint restore over HTTPS (v6/v7 synchronous, v8 background, v2–v5 `…/Action`), checking the emulated
//! tenant afterwards: list item fields, attachments (SharePoint REST), documents, lists, sites.

use crate::common;

use api::RestoreAccess;
use common::*;
use m365::Endpoints;
use repo::catalog::{ContainerInfo, ContainerKind, ContainerQuery};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

/// Catalog ids and tenant ids of the seeded site "Finance".
struct Sp {
    /// Catalog id of the site (`siteId` in URLs).
    site: Uuid,
    /// Catalog id of the "Issues" list and its Graph id.
    list: Uuid,
    list_graph: String,
    /// Catalog id of the "Documents" library and its drive.
    library: Uuid,
    drive: String,
    /// Web URL of the subsite (a restoreTo target).
    sub_url: String,
    /// Credentials of the first user.
    creds: Value,
}

async fn prepare(s: &TestServer) -> Sp {
    let (client_id, upn, password) = {
        let st = s.tenant.emu.emu.state();
        let user = st.users.values().find(|u| u.user_principal_name == s.changes.upn).unwrap();
        (emulator::seed::default_app(&st).client_id, user.user_principal_name.clone(), user.password.clone())
    };
    s.state
        .restore_access
        .set(RestoreAccess { endpoints: Endpoints::emulator(&s.tenant.emu.base_url()), client_id: Some(client_id) });
    let q = ContainerQuery::new(s.org_id, s.t2).page(0, 1000);
    let rows = s.catalog.containers_at(&q.clone().kind(ContainerKind::Site)).await.unwrap().rows;
    let site = rows.iter().find(|r| matches!(&r.info, ContainerInfo::Site(i) if i.url.ends_with("/sites/finance")));
    let site = site.expect("the seed has the Finance site");
    let ContainerInfo::Site(site_info) = &site.info else { unreachable!() };
    let lists =
        s.catalog.containers_at(&q.kind(ContainerKind::List).parent_ref(site_info.site_id.clone())).await.unwrap().rows;
    let find = |title: &str| {
        lists
            .iter()
            .find_map(|r| match &r.info {
                ContainerInfo::List(l) if l.title == title => Some((r.id, l.clone())),
                _ => None,
            })
            .unwrap()
    };
    let (list, li) = find("Issues");
    let (library, lib) = find("Documents");
    let sub_url = {
        let st = s.tenant.emu.emu.state();
        let sub = st.sites.values().find(|x| x.path == "/sites/finance/projects").unwrap();
        format!("{}/_sp/{}{}", s.tenant.emu.base_url(), sub.hostname, sub.path)
    };
    Sp {
        site: site.id,
        list,
        list_graph: li.list_id,
        library,
        drive: lib.drive_id.unwrap(),
        sub_url,
        creds: json!({"userName": upn, "userPassword": password}),
    }
}

/// (id, fields, attachments (name, bytes) sorted, deleted) of every item of a tenant list.
type Row = (u64, serde_json::Map<String, Value>, Vec<(String, Vec<u8>)>, bool);

fn rows(s: &TestServer, list: &str) -> Vec<Row> {
    let st = s.tenant.emu.emu.state();
    let mut v: Vec<Row> = st.lists[list]
        .items
        .values()
        .map(|i| {
            let mut a: Vec<(String, Vec<u8>)> = i
                .attachments
                .iter()
                .map(|a| (a.file_name.clone(), s.tenant.emu.emu.blobs.read_all(&a.content).unwrap()))
                .collect();
            a.sort();
            // `Attachments` is SharePoint's flag, not a column a restore writes.
            let mut fields = i.fields.clone();
            fields.remove("Attachments");
            (i.id, fields, a, i.deleted.is_some())
        })
        .collect();
    v.sort_by_key(|r| r.0);
    v
}

fn with_attachments(s: &TestServer, list: &str) -> Row {
    rows(s, list).into_iter().find(|r| !r.2.is_empty() && !r.3).expect("the seed gives an item attachments")
}

/// Changes a column and the first attachment of a live item (as a user would).
fn vandalise(s: &TestServer, list: &str, id: u64) {
    let mut st = s.tenant.emu.emu.state();
    let (content, _, _) = s.tenant.emu.emu.blobs.put(b"vandalised attachment").unwrap();
    let it = st.lists.get_mut(list).unwrap().items.get_mut(&id).unwrap();
    it.fields.insert("Status".into(), json!("Vandalised"));
    it.etag_version += 1;
    it.attachments[0].content = content;
    it.attachments[0].size = 21;
}

fn delete_item(s: &TestServer, list: &str, id: u64) {
    let mut st = s.tenant.emu.emu.state();
    let now = st.lists[list].modified;
    st.lists.get_mut(list).unwrap().items.get_mut(&id).unwrap().deleted = Some(now);
}

fn api_item_id(list: Uuid, id: u64) -> String {
    format!("{}{id}", list.simple())
}

fn live_file(s: &TestServer, drive: &str, name: &str) -> Option<(String, Vec<u8>, usize)> {
    let st = s.tenant.emu.emu.state();
    st.items.values().find(|i| i.drive_id == drive && i.deleted.is_none() && i.name == name).map(|i| {
        let bytes = s.tenant.emu.emu.blobs.read_all(&i.versions.last().unwrap().content).unwrap();
        (i.id.clone(), bytes, i.versions.len())
    })
}

fn library_files(s: &TestServer, drive: &str) -> Vec<(String, String, Vec<u8>)> {
    let st = s.tenant.emu.emu.state();
    let mut v: Vec<_> = st
        .items
        .values()
        .filter(|i| i.drive_id == drive && !i.is_folder && i.deleted.is_none())
        .map(|i| {
            (
                i.id.clone(),
                i.name.clone(),
                s.tenant.emu.emu.blobs.read_all(&i.versions.last().unwrap().content).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn body(creds: &Value, extra: Value) -> Value {
    let mut b = creds.clone();
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

#[tokio::test]
async fn v7_list_items_restore_to_the_original_location() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let sp = prepare(&s).await;
    let sid = s.explore(7, "Vesp", None).await;
    let base = format!("/v7/RestoreSessions/{sid}/Organization/Sites/{}", sp.site);
    let before = rows(&s, &sp.list_graph);
    let changed = with_attachments(&s, &sp.list_graph);
    let gone = before.iter().find(|r| r.0 != changed.0).unwrap().clone();
    vandalise(&s, &sp.list_graph, changed.0);
    delete_item(&s, &sp.list_graph, gone.0);

    // One item (the spec's PascalCase `Restore`): columns and attachment bytes back, same id.
    let path = format!("{base}/Items/{}/Restore", api_item_id(sp.list, changed.0));
    let (st, b) = s.post(&path, Some(&s.token), sp.creds.clone()).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!((b["restoredItemsCount"].clone(), b["failedItemsCount"].clone()), (json!(1), json!(0)), "{b}");
    let now = rows(&s, &sp.list_graph).into_iter().find(|r| r.0 == changed.0).unwrap();
    assert_eq!((now.1, now.2), (changed.1.clone(), changed.2.clone()));

    // The deleted one through the bulk form, lenient spelling: re-created with its columns.
    let b2 = json!({"UserName": sp.creds["userName"], "userpassword": sp.creds["userPassword"],
        "Items": [{"Id": api_item_id(sp.list, gone.0)}, ], "ChangedItems": "false"});
    let (st, b) = s.post_raw(&format!("{base}/Items/restore"), Some(&s.token), &b2.to_string()).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["restoredItemsCount"], 1, "{b}");
    let back: Vec<Row> = rows(&s, &sp.list_graph).into_iter().filter(|r| !r.3 && r.1 == gone.1).collect();
    assert_eq!(back.len(), 1);
    assert_ne!(back[0].0, gone.0);

    // The whole list: nothing left to do; list statistics.
    let (st, b) = s.post(&format!("{base}/Lists/{}/restore", sp.list), Some(&s.token), sp.creds.clone()).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!((b["restoredItemsCount"].clone(), b["restoredListsCount"].clone()), (json!(0), json!(1)), "{b}");
    assert_eq!(b["skippedItemsByNoChangesCount"], json!(before.len()), "{b}");

    // Errors: unknown item 404, no credentials 400, wrong password 400, a list id on the Libraries path 404.
    let (st, _) =
        s.post(&format!("{base}/Items/{}99/Restore", sp.list.simple()), Some(&s.token), sp.creds.clone()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, b) = s.post(&path, Some(&s.token), json!({})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(b["message"].as_str().unwrap().contains("userName"), "{b}");
    let (st, _) = s.post(&path, Some(&s.token), json!({"userName": sp.creds["userName"], "userPassword": "no"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = s.post(&format!("{base}/Libraries/{}/restore", sp.list), Some(&s.token), sp.creds.clone()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn v6_documents_keep_and_restore_to_another_site() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let sp = prepare(&s).await;
    let sid = s.explore(6, "Vesp", None).await;
    let base = format!("/v6/RestoreSessions/{sid}/Organization/Sites/{}", sp.site);
    let files = library_files(&s, &sp.drive);
    assert!(files.len() >= 2, "the seed gives the library files");
    let (doc, name, bytes) = files[0].clone();
    s.graph(Method::PUT, &format!("/drives/{}/items/{doc}/content", sp.drive), None, Some(b"changed".to_vec())).await;

    // Keep: the changed document stays, the backed-up one is written beside it.
    let b = body(&sp.creds, json!({"documentAction": "Keep"}));
    let (st, r) = s.post(&format!("{base}/Documents/{doc}/restore"), Some(&s.token), b).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["restoredItemsCount"], 1, "{r}");
    assert_eq!(live_file(&s, &sp.drive, &name).unwrap().1, b"changed");
    let copies: Vec<_> = library_files(&s, &sp.drive).into_iter().filter(|f| f.1.contains("(Restored ")).collect();
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert_eq!(copies[0].2, bytes);

    // restoreTo the subsite's library with every version.
    let b = body(
        &sp.creds,
        json!({"siteURL": sp.sub_url, "list": "Documents", "documentVersion": "All",
        "documents": [{"id": files[1].0}]}),
    );
    let (st, r) = s.post(&format!("{base}/Documents/restoreTo"), Some(&s.token), b).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["restoredItemsCount"], 1, "{r}");
    let sub_drive = {
        let st = s.tenant.emu.emu.state();
        let sub = st.sites.values().find(|x| x.path == "/sites/finance/projects").unwrap().id.clone();
        st.lists.values().find(|l| l.site_id == sub && l.display_name == "Documents").unwrap().drive_id.clone().unwrap()
    };
    let copied = library_files(&s, &sub_drive).into_iter().filter(|f| f.1 == files[1].1 && f.2 == files[1].2);
    assert_eq!(copied.count(), 1);

    // restoreTo needs a target; Keep is refused for another library.
    let (st, r) = s.post(&format!("{base}/Documents/{doc}/restoreTo"), Some(&s.token), sp.creds.clone()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{r}");
    assert!(r["message"].as_str().unwrap().contains("siteURL"), "{r}");
    let b = body(&sp.creds, json!({"siteURL": sp.sub_url, "list": "Documents", "documentAction": "Keep"}));
    let (st, r) = s.post(&format!("{base}/Documents/{doc}/restoreTo"), Some(&s.token), b).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{r}");
}

#[tokio::test]
async fn v7_site_restore_answers_web_statistics() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let sp = prepare(&s).await;
    let sid = s.explore(7, "Vesp", None).await;
    let gone = with_attachments(&s, &sp.list_graph);
    delete_item(&s, &sp.list_graph, gone.0);
    let (doc, name, bytes) = library_files(&s, &sp.drive)[0].clone();
    s.graph(Method::DELETE, &format!("/drives/{}/items/{doc}", sp.drive), None, None).await;

    let path = format!("/v7/RestoreSessions/{sid}/Organization/Sites/{}/restore", sp.site);
    let b = body(&sp.creds, json!({"restoreSubsites": "false", "restorePermissions": true}));
    let (st, r) = s.post(&path, Some(&s.token), b).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["restoredItemsCount"], 2, "{r}");
    assert_eq!(r["failedItemsCount"], 0, "{r}");
    assert_eq!((r["restoredWebsCount"].clone(), r["failedWebsCount"].clone()), (json!(1), json!(0)), "{r}");
    assert_eq!(r["failedListsCount"], 0, "{r}");
    assert!(r["restoredListsCount"].as_u64().unwrap() >= 2, "{r}");
    let back = rows(&s, &sp.list_graph).into_iter().find(|x| !x.3 && x.1 == gone.1).expect("item back");
    assert_eq!(back.2, gone.2, "attachments back");
    assert_eq!(live_file(&s, &sp.drive, &name).unwrap().1, bytes);
}

#[tokio::test]
async fn v8_item_restore_runs_in_the_background() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let sp = prepare(&s).await;
    let sid = s.explore(8, "Vesp", None).await;
    let changed = with_attachments(&s, &sp.list_graph);
    vandalise(&s, &sp.list_graph, changed.0);
    let path = format!(
        "/v8/RestoreSessions/{sid}/Organization/Sites/{}/Items/{}/restore",
        sp.site,
        api_item_id(sp.list, changed.0)
    );
    let (st, b) = s.post(&path, Some(&s.token), sp.creds.clone()).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let op = b["sessionId"].as_str().expect("sessionId").to_string();
    let session = s.wait_stopped(&op).await;
    assert_eq!(session["result"], "Success", "{session}");
    let now = rows(&s, &sp.list_graph).into_iter().find(|r| r.0 == changed.0).unwrap();
    assert_eq!((now.1, now.2), (changed.1, changed.2));
    let (st, stats) = s.get(&format!("/v8/RestoreSessions/{op}/Statistics"), Some(&s.token)).await;
    assert_eq!(st, StatusCode::OK, "{stats}");
    assert_eq!(stats["restoredItemsCount"], 1, "{stats}");
    // Checked before anything runs: an unknown item is a 404.
    let (st, _) = s
        .post(
            &format!("/v8/RestoreSessions/{sid}/Organization/Sites/{}/Items/nope/restore", sp.site),
            Some(&s.token),
            sp.creds.clone(),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

/// v2–v5 `…/Action` bodies: `restoreTo` on an item, a document, a library and the site (booleans as strings, mixed
/// case); the attachments seed (004): its `save` body still saves, a `restoreTo` on attachments is a clear 400.
#[tokio::test]
async fn v5_and_v2_action_bodies() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let sp = prepare(&s).await;
    let sid = s.explore(5, "vesp", None).await;
    let base = format!("/v5/RestoreSessions/{sid}/Organization/Sites/{}", sp.site);
    let changed = with_attachments(&s, &sp.list_graph);
    vandalise(&s, &sp.list_graph, changed.0);
    let item = api_item_id(sp.list, changed.0);
    let action = |extra: Value| json!({"restoreTo": body(&json!({"UserName": sp.creds["userName"], "UserPassword": sp.creds["userPassword"]}), extra)});
    let (st, r) = s
        .post(
            &format!("{base}/Items/{item}/Action"),
            Some(&s.token),
            action(json!({"RestorePermissions": "true",
            "DocumentVersion": "last", "DocumentLastVersionAction": "merge", "List": "Issues"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["restoredItemsCount"], 1, "{r}");
    let now = rows(&s, &sp.list_graph).into_iter().find(|r| r.0 == changed.0).unwrap();
    assert_eq!((now.1, now.2), (changed.1.clone(), changed.2.clone()));

    // A document through the dispatcher of the save module, then the library and the site.
    let (doc, name, bytes) = library_files(&s, &sp.drive)[0].clone();
    s.graph(Method::PUT, &format!("/drives/{}/items/{doc}/content", sp.drive), None, Some(b"x".to_vec())).await;
    let (st, r) = s.post(&format!("{base}/Documents/{doc}/Action"), Some(&s.token), action(json!({}))).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["restoredItemsCount"], 1, "{r}");
    assert_eq!(live_file(&s, &sp.drive, &name).unwrap().1, bytes);
    let (st, r) = s.post(&format!("{base}/Libraries/{}/Action", sp.library), Some(&s.token), action(json!({}))).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!((r["restoredItemsCount"].clone(), r["failedItemsCount"].clone()), (json!(0), json!(0)), "{r}");
    let (st, r) = s
        .post(
            &format!("{base}/Action"),
            Some(&s.token),
            action(json!({"RestoreSubsites": "True", "ChangedItems": "true"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["restoredWebsCount"], 2, "{r}");

    // Seed 004 (v2): the attachments' save body still saves them; restoreTo is not an attachment action.
    let sid2 = s.explore(2, "vesp", None).await;
    let base2 = format!("/v2/RestoreSessions/{sid2}/Organization/Sites/{}", sp.site);
    let att = &changed.2[0];
    let att_id = api::resources::sharepoint::attachment_id(&att.0);
    let seed_body = json!({"save": {"Attachments": [{"id": att_id, "name": att.0, "size": att.1.len(),
        "url": "/sites/integration/Lists/myalias/Attachments/11/ItemAttachment01.txt"}]}});
    let r = s
        .client
        .post(s.url(&format!("{base2}/Items/{item}/Attachments/Action")))
        .bearer_auth(&s.token)
        .json(&seed_body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!r.bytes().await.unwrap().is_empty());
    let (st, r) = s.post(&format!("{base2}/Items/{item}/Attachments/Action"), Some(&s.token), action(json!({}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{r}");
    assert!(r["message"].as_str().unwrap().contains("Items/{itemId}/Action"), "{r}");
    // v6 has no …/Action.
    let sid6 = s.explore(6, "Vesp", None).await;
    let (st, _) = s
        .post(
            &format!("/v6/RestoreSessions/{sid6}/Organization/Sites/{}/Items/{item}/Action", sp.site),
            Some(&s.token),
            action(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

/// `applicationId` + `applicationCertificate` (base64 PFX): the SharePoint REST attachment calls get tokens for the
/// SharePoint audience from the same certificate; a wrong PFX password is a 400 and writes nothing.
#[tokio::test]
async fn v7_restore_with_an_application_certificate() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let sp = prepare(&s).await;
    let (client_id, pfx) = s.application_certificate("pfx pass").await;

    let gone = with_attachments(&s, &sp.list_graph);
    delete_item(&s, &sp.list_graph, gone.0);
    let sid = s.explore(7, "Vesp", None).await;
    let path = format!(
        "/v7/RestoreSessions/{sid}/Organization/Sites/{}/Items/{}/Restore",
        sp.site,
        api_item_id(sp.list, gone.0)
    );
    let body = json!({"applicationId": client_id, "applicationCertificate": pfx, "applicationCertificatePassword": "pfx pass"});
    let mut bad = body.clone();
    bad["applicationCertificatePassword"] = json!("nope");
    let (st, b) = s.post(&path, Some(&s.token), bad).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{b}");
    assert!(!rows(&s, &sp.list_graph).iter().any(|x| !x.3 && x.1 == gone.1));

    let (st, b) = s.post(&path, Some(&s.token), body).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!((b["restoredItemsCount"].clone(), b["failedItemsCount"].clone()), (json!(1), json!(0)), "{b}");
    let back = rows(&s, &sp.list_graph).into_iter().find(|x| !x.3 && x.1 == gone.1).expect("item back");
    assert_eq!(back.2, gone.2, "attachments written through SharePoint REST");
}

/// `userCode` (device code) sign-in works for SharePoint too: the attachment is written through SharePoint REST with
/// a SharePoint-audience token obtained from the device-code sign-in's refresh token.
#[tokio::test]
async fn v7_item_restore_with_a_device_code() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let sp = prepare(&s).await;
    let sid = s.explore(7, "Vesp", None).await;
    let base = format!("/v7/RestoreSessions/{sid}/Organization/Sites/{}", sp.site);
    let changed = with_attachments(&s, &sp.list_graph);
    vandalise(&s, &sp.list_graph, changed.0);

    let (st, dc) =
        s.post(&format!("/v7/RestoreSessions/{sid}/organization/restoreDeviceCode"), Some(&s.token), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{dc}");
    let code = dc["userCode"].as_str().unwrap().to_string();
    let r = s
        .tenant
        .http
        .post(format!("{}/_emulator/devicecode/approve", s.tenant.emu.base_url()))
        .json(&json!({"user_code": code, "user": sp.creds["userName"]}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());

    let path = format!("{base}/Items/{}/Restore", api_item_id(sp.list, changed.0));
    let (st, b) = s.post(&path, Some(&s.token), json!({"userCode": code})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!((b["restoredItemsCount"].clone(), b["failedItemsCount"].clone()), (json!(1), json!(0)), "{b}");
    let now = rows(&s, &sp.list_graph).into_iter().find(|r| r.0 == changed.0).unwrap();
    assert_eq!((now.1, now.2), (changed.1.clone(), changed.2.clone()));
    // Used once.
    let (st, _) = s.post(&path, Some(&s.token), json!({"userCode": code})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

/// A list item deleted through Graph before the restore point, in a v7 session that shows deleted items: restored
/// by id with its columns and attachments (read back through Graph and the tenant); a whole-list restore with
/// `deletedItems: false` leaves a second deleted item gone, with the default it brings it back.
#[tokio::test]
async fn v7_list_items_deleted_before_the_point_come_back_in_a_show_deleted_session() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let sp = prepare(&s).await;
    let site_graph = s.tenant.emu.emu.state().lists[&sp.list_graph].site_id.clone();
    let items_path = format!("/sites/{site_graph}/lists/{}/items", sp.list_graph);
    let gone = with_attachments(&s, &sp.list_graph);
    let other = rows(&s, &sp.list_graph).into_iter().find(|r| !r.3 && r.0 != gone.0).unwrap();
    for id in [gone.0, other.0] {
        s.graph(Method::DELETE, &format!("{items_path}/{id}"), None, None).await;
    }
    s.backup().await;
    let sid = s.explore(7, "Vesp", None).await;
    let base = format!("/v7/RestoreSessions/{sid}/Organization/Sites/{}", sp.site);
    // Live items as Graph lists them, by title: (id, fields).
    let graph_items = || async {
        let v = s.graph(Method::GET, &format!("{items_path}?expand=fields"), None, None).await;
        v["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["fields"]["Title"].as_str().unwrap().to_string(), i.clone()))
            .collect::<Vec<_>>()
    };
    let title = |r: &Row| r.1["Title"].as_str().unwrap().to_string();

    let (st, b) = s
        .post(&format!("{base}/Items/{}/Restore", api_item_id(sp.list, gone.0)), Some(&s.token), sp.creds.clone())
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!((b["restoredItemsCount"].clone(), b["failedItemsCount"].clone()), (json!(1), json!(0)), "{b}");
    let now = graph_items().await;
    let back: Vec<_> = now.iter().filter(|(t, _)| *t == title(&gone)).collect();
    assert_eq!(back.len(), 1, "re-created once");
    let new_id: u64 = back[0].1["id"].as_str().unwrap().parse().unwrap();
    assert_ne!(new_id, gone.0);
    for (k, v) in &gone.1 {
        assert_eq!(&back[0].1["fields"][k], v, "column {k}");
    }
    let restored = rows(&s, &sp.list_graph).into_iter().find(|r| r.0 == new_id).unwrap();
    assert_eq!(restored.2, gone.2, "attachment names and bytes");
    assert!(!now.iter().any(|(t, _)| *t == title(&other)));

    // The whole list: deletedItems false leaves the other deleted item gone; the default restores it.
    let list = format!("{base}/Lists/{}/restore", sp.list);
    let (st, b) = s.post(&list, Some(&s.token), body(&sp.creds, json!({"deletedItems": false}))).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["restoredItemsCount"], json!(0), "{b}");
    assert!(!graph_items().await.iter().any(|(t, _)| *t == title(&other)));
    let (st, b) = s.post(&list, Some(&s.token), sp.creds.clone()).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!((b["restoredItemsCount"].clone(), b["failedItemsCount"].clone()), (json!(1), json!(0)), "{b}");
    assert_eq!(graph_items().await.iter().filter(|(t, _)| *t == title(&other)).count(), 1);
}
