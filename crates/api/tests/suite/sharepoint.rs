//! SharePoint browsing in `Vesp` restore sessions over real HTTPS: sites and subsites, lists vs libraries, library
//! folder navigation, documents and versions, generic list items with fields and attachments, point-in-time
//! browsing across three backups, showDeleted / showAllVersions, paging, era shapes, 404s, 401, foreign sessions.

use crate::common;

use api::ctx::auth::CurrentUser;
use api::store::sessions::{NewSession, SessionKind};
use chrono::{DateTime, Utc};
use common::*;
use repo::catalog::{ContainerInfo, ContainerKind, ContainerQuery};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Two team sites (each with a subsite, a library and an "Issues" list of 7 items) besides the root site.
const SEED: &str = "users=2,files=24,versions=2,sites=2,items=7";

/// Creates a `Vesp` session directly (the explore endpoint is another module's; this pins every option).
async fn session(s: &TestServer, at: Option<DateTime<Utc>>, show_deleted: bool, all_versions: bool) -> String {
    session_kind(s, at, show_deleted, all_versions, ADMIN, SessionKind::Vesp).await
}

async fn session_kind(
    s: &TestServer,
    at: Option<DateTime<Utc>>,
    show_deleted: bool,
    all_versions: bool,
    owner: &str,
    kind: SessionKind,
) -> String {
    let u = api::store::accounts::find_user(s.state.pool(), owner).await.unwrap().unwrap();
    let rs = api::store::sessions::create(
        &s.state,
        NewSession {
            owner: CurrentUser { id: u.id, name: u.name },
            organization_id: s.org_id,
            kind,
            requested_at: at,
            restore_point_id: None,
            browse_at: at,
            show_deleted,
            show_all_versions: all_versions,
            name: None,
            parent_id: None,
            reason: None,
        },
    )
    .await
    .unwrap();
    rs.id.to_string()
}

async fn ok(s: &TestServer, path: &str) -> Value {
    let (st, v) = s.get(path, Some(&s.token)).await;
    assert_eq!(st, StatusCode::OK, "{path}: {v}");
    v
}

async fn status(s: &TestServer, path: &str) -> (StatusCode, Value) {
    s.get(path, Some(&s.token)).await
}

fn results(v: &Value) -> &Vec<Value> {
    v["results"].as_array().unwrap_or_else(|| panic!("a page: {v}"))
}

fn names(v: &Value) -> Vec<String> {
    results(v).iter().map(|r| r["name"].as_str().unwrap().to_string()).collect()
}

fn find<'a>(v: &'a Value, name: &str) -> &'a Value {
    results(v).iter().find(|r| r["name"] == name).unwrap_or_else(|| panic!("{name} in {v}"))
}

/// Catalog site titles → (catalog id, parent graph id).
async fn catalog_sites(s: &TestServer) -> Vec<(String, uuid::Uuid, Option<String>, String)> {
    let q = ContainerQuery::new(s.org_id, s.t2).kind(ContainerKind::Site).page(0, 1000);
    let mut v = Vec::new();
    for row in s.catalog.containers_at(&q).await.unwrap().rows {
        if let ContainerInfo::Site(i) = row.info {
            v.push((i.title, row.id, i.parent_site_id, i.site_id));
        }
    }
    v
}

/// The emulator's generic list: (graph site id, list id, item ids).
fn issues_list(s: &TestServer, site_title: &str) -> (String, String, Vec<u64>) {
    let st = s.tenant.emu.emu.state();
    let site = st.sites.values().find(|x| x.display_name == site_title).expect("site").id.clone();
    let list = st.lists.values().find(|l| l.site_id == site && l.template == "genericList").expect("Issues list");
    let mut ids: Vec<u64> = list.items.keys().copied().collect();
    ids.sort();
    (site, list.id.clone(), ids)
}

#[tokio::test]
async fn sites_lists_libraries_folders_documents_versions() {
    let s = TestServer::start(SEED).await;
    let sid = session(&s, Some(s.t2), false, true).await;
    let base = format!("/v6/RestoreSessions/{sid}/Organization/Sites");

    // Every backed-up site; the page carries totalCount in v6 and HAL links.
    let all = ok(&s, &base).await;
    let cat = catalog_sites(&s).await;
    assert_eq!(all["totalCount"], cat.len(), "{all}");
    assert_eq!(results(&all).len(), cat.len());
    assert_eq!(all["offset"], 0);
    assert_eq!(all["limit"], 30);
    assert_eq!(all["_links"]["self"]["href"], format!("{base}?offset=0&limit=30"));
    let team = find(&all, "Marketing").clone();
    let team_id = team["id"].as_str().unwrap().to_string();
    let (_, team_uuid, team_parent, team_graph) = cat.iter().find(|c| c.0 == "Marketing").unwrap().clone();
    assert_eq!(team_id, team_uuid.to_string());
    assert!(team["url"].as_str().unwrap().ends_with("/sites/marketing"), "{team}");
    assert_eq!(team["_links"]["self"]["href"], format!("{base}/{team_id}"));
    assert_eq!(team["_links"]["sites"]["href"], format!("{base}?parentId={team_id}"));
    assert_eq!(team["_links"]["lists"]["href"], format!("{base}/{team_id}/Lists"));
    assert_eq!(team["_links"]["libraries"]["href"], format!("{base}/{team_id}/Libraries"));
    assert!(team.get("isDeleted").is_none());

    // Subsites through the `sites` link (exactly the catalog's children of each site); top-level sites with
    // parentId=root (v6) and parentId=null (v5 style).
    let mut with_subsites = 0;
    for site in results(&all) {
        let id = site["id"].as_str().unwrap();
        let graph = &cat.iter().find(|c| c.1.to_string() == id).unwrap().3;
        let mut expected: Vec<String> =
            cat.iter().filter(|c| c.2.as_deref() == Some(graph.as_str())).map(|c| c.0.clone()).collect();
        expected.sort_by_key(|n| n.to_lowercase());
        let subs = ok(&s, site["_links"]["sites"]["href"].as_str().unwrap()).await;
        assert_eq!(names(&subs), expected, "subsites of {}: {subs}", site["name"]);
        for sub in results(&subs) {
            assert_eq!(sub["_links"]["parent"]["href"], format!("{base}/{id}"));
        }
        with_subsites += usize::from(!expected.is_empty());
    }
    assert!(with_subsites >= 1, "the seed has subsites");
    let sub = find(&all, "Marketing Projects").clone();
    let sub_id = sub["id"].as_str().unwrap().to_string();
    assert!(sub["_links"]["parent"]["href"].is_string(), "a subsite links its parent: {sub}");
    let top = ok(&s, &format!("{base}?parentId=root")).await;
    let mut expected_top: Vec<String> = cat.iter().filter(|c| c.2.is_none()).map(|c| c.0.clone()).collect();
    expected_top.sort_by_key(|n| n.to_lowercase());
    assert_eq!(names(&top), expected_top, "{top}");
    assert!(!names(&top).contains(&"Marketing Projects".to_string()));
    assert_eq!(ok(&s, &format!("{base}?parentID=NULL")).await["totalCount"], expected_top.len());
    let _ = (&team_parent, &team_graph);

    // Sessions started through the API (v5 `/Action {"explore":…}`, v6 `/explore`) browse the same sites.
    for (v, kind) in [(5u8, "vesp"), (6, "Vesp")] {
        let id = s.explore(v, kind, None).await;
        let p = ok(&s, &format!("/v{v}/RestoreSessions/{id}/Organization/Sites?limit=100")).await;
        assert_eq!(names(&p), names(&all), "v{v}");
    }

    // Site by id (case-insensitive path literals, trailing slash).
    let one = ok(&s, &format!("/v6/restoresessions/{sid}/organization/sites/{team_id}/")).await;
    assert_eq!(one["name"], "Marketing");
    assert_eq!(one["url"], team["url"]);

    // Lists vs libraries.
    let lists = ok(&s, &format!("{base}/{team_id}/Lists")).await;
    assert_eq!(names(&lists), vec!["Issues"], "{lists}");
    let issues = &results(&lists)[0];
    let issues_id = issues["id"].as_str().unwrap().to_string();
    assert!(issues["url"].as_str().unwrap().ends_with("/sites/marketing/Lists/Issues"), "{issues}");
    assert_eq!(issues["description"], "");
    assert!(issues["creationTime"].as_str().unwrap().len() == 19, "{issues}");
    assert!(issues.get("siteId").is_none(), "siteId is v8 only");
    assert_eq!(issues["_links"]["items"]["href"], format!("{base}/{team_id}/Items?parentId={issues_id}"));
    let libs = ok(&s, &format!("{base}/{team_id}/Libraries")).await;
    assert_eq!(names(&libs), vec!["Documents"], "{libs}");
    let lib = &results(&libs)[0];
    let lib_id = lib["id"].as_str().unwrap().to_string();
    assert!(lib["url"].as_str().unwrap().ends_with("/sites/marketing/Shared%20Documents"), "{lib}");
    assert_eq!(ok(&s, &format!("{base}/{team_id}/Libraries/{lib_id}")).await["name"], "Documents");
    assert_eq!(ok(&s, &format!("{base}/{team_id}/Lists/{issues_id}")).await["name"], "Issues");
    // A library is not a list and vice versa; a list of another site is not found either.
    assert_eq!(status(&s, &format!("{base}/{team_id}/Lists/{lib_id}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(status(&s, &format!("{base}/{team_id}/Libraries/{issues_id}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(status(&s, &format!("{base}/{sub_id}/Lists/{issues_id}")).await.0, StatusCode::NOT_FOUND);
    let v8 = ok(&s, &format!("/v8/RestoreSessions/{sid}/Organization/Sites/{team_id}/Lists/{issues_id}")).await;
    assert_eq!(v8["siteId"], team_id);

    // Library folder navigation against the emulator's tree.
    let drive = {
        let st = s.tenant.emu.emu.state();
        st.lists.values().find(|l| l.site_id == team_graph && l.drive_id.is_some()).unwrap().drive_id.clone().unwrap()
    };
    let children_of = |parent: Option<&str>, folders: bool| -> Vec<String> {
        let st = s.tenant.emu.emu.state();
        let root = st.drives[&drive].root_id.clone();
        let p = parent.map(str::to_string).unwrap_or(root);
        let mut v: Vec<String> = st
            .items
            .values()
            .filter(|i| i.drive_id == drive && i.parent_id.as_deref() == Some(p.as_str()))
            .filter(|i| i.is_folder == folders && i.deleted.is_none())
            .map(|i| i.name.clone())
            .collect();
        v.sort_by_key(|n| n.to_lowercase());
        v
    };
    let top_folders = ok(&s, &format!("{base}/{team_id}/Folders?parentId={lib_id}&limit=1000")).await;
    assert_eq!(names(&top_folders), children_of(None, true), "{top_folders}");
    assert!(!results(&top_folders).is_empty(), "the seed gives the library folders");
    let folder = &results(&top_folders)[0];
    assert_eq!(folder["type"], "LibraryFolder");
    assert!(folder.get("isFolder").is_none(), "isFolder is v7+");
    assert_eq!(folder["_links"]["parent"]["href"], format!("{base}/{team_id}/Libraries/{lib_id}"));
    let folder_id = folder["id"].as_str().unwrap().to_string();
    let root_docs = ok(&s, &format!("{base}/{team_id}/Documents?parentId=root&limit=1000")).await;
    assert_eq!(names(&root_docs), children_of(None, false));
    assert_eq!(
        names(&ok(&s, &format!("{base}/{team_id}/Documents?parentId={lib_id}&limit=1000")).await),
        names(&root_docs)
    );
    let in_folder = ok(&s, &format!("{base}/{team_id}/Documents?parentId={folder_id}&limit=1000")).await;
    assert_eq!(names(&in_folder), children_of(Some(&folder_id), false), "{in_folder}");
    let sub_folders = ok(&s, &format!("{base}/{team_id}/Folders?parentId={folder_id}&limit=1000")).await;
    assert_eq!(names(&sub_folders), children_of(Some(&folder_id), true));
    for d in results(&in_folder) {
        assert_eq!(d["_links"]["parent"]["href"], format!("{base}/{team_id}/Folders/{folder_id}"));
    }
    // Omitted parentId: every document of every library of the site, recursively.
    let every = ok(&s, &format!("{base}/{team_id}/Documents?limit=10000")).await;
    let total_files = {
        let st = s.tenant.emu.emu.state();
        st.items.values().filter(|i| i.drive_id == drive && !i.is_folder && i.deleted.is_none()).count()
    };
    assert_eq!(every["totalCount"], total_files);
    let every_folder = ok(&s, &format!("{base}/{team_id}/Folders?limit=10000")).await;
    let total_folders = {
        let st = s.tenant.emu.emu.state();
        let root = st.drives[&drive].root_id.clone();
        st.items.values().filter(|i| i.drive_id == drive && i.is_folder && i.id != root && i.deleted.is_none()).count()
    };
    assert_eq!(every_folder["totalCount"], total_folders);

    // A document: fields, versions (seed: 2 per file), by id.
    let doc = results(&root_docs).first().or(results(&in_folder).first()).expect("a document").clone();
    let doc_id = doc["id"].as_str().unwrap().to_string();
    assert!(doc["sizeBytes"].as_i64().unwrap() > 0, "{doc}");
    assert_eq!(doc["versionId"], 2, "{doc}");
    assert_eq!(doc["version"], "2.0", "{doc}");
    for k in ["createdBy", "modifiedBy"] {
        assert!(doc[k].is_string(), "{k}: {doc}");
    }
    let ct = doc["creationTime"].as_str().unwrap();
    assert_eq!(ct.len(), 19, "zone-less item time: {ct}");
    assert!(chrono::NaiveDateTime::parse_from_str(ct, "%Y-%m-%dT%H:%M:%S").is_ok());
    let by_id = ok(&s, &format!("{base}/{team_id}/Documents/{doc_id}")).await;
    assert_eq!(by_id, doc);
    assert_eq!(doc["_links"]["library"]["href"], format!("{base}/{team_id}/Libraries/{lib_id}"));
    let versions = ok(&s, doc["_links"]["versions"]["href"].as_str().unwrap()).await;
    assert_eq!(results(&versions).len(), 1, "previous versions only: {versions}");
    let v1 = &results(&versions)[0];
    assert_eq!(v1["versionId"], 1);
    assert_eq!(v1["version"], "1.0");
    assert_eq!(v1["_links"]["self"]["href"], format!("{base}/{team_id}/Documents/{doc_id}/Versions/1"));
    assert_eq!(ok(&s, &format!("{base}/{team_id}/Documents/{doc_id}/Versions/1")).await, *v1);
    assert_eq!(ok(&s, &format!("{base}/{team_id}/Documents/{doc_id}/Versions/2")).await["version"], "2.0");
    for bad in ["3", "0", "x", "-1"] {
        let (st, e) = status(&s, &format!("{base}/{team_id}/Documents/{doc_id}/Versions/{bad}")).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{bad}: {e}");
    }
    // A folder is not a document and a document is not a folder; folders have no versions.
    assert_eq!(status(&s, &format!("{base}/{team_id}/Documents/{folder_id}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(status(&s, &format!("{base}/{team_id}/Folders/{doc_id}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(ok(&s, &format!("{base}/{team_id}/Folders/{folder_id}")).await["name"], folder["name"]);
    assert!(results(&ok(&s, &format!("{base}/{team_id}/Folders/{folder_id}/Versions")).await).is_empty());
    // Documents of a library are not in the subsite.
    assert_eq!(status(&s, &format!("{base}/{sub_id}/Documents/{doc_id}")).await.0, StatusCode::NOT_FOUND);

    // Without showAllVersions only the latest version is explorable.
    let latest_only = session(&s, Some(s.t2), false, false).await;
    let lbase = format!("/v6/RestoreSessions/{latest_only}/Organization/Sites/{team_id}/Documents/{doc_id}");
    assert!(results(&ok(&s, &format!("{lbase}/Versions")).await).is_empty());
    assert_eq!(status(&s, &format!("{lbase}/Versions/1")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(ok(&s, &format!("{lbase}/Versions/2")).await["versionId"], 2);

    // v7: RESTItemComposed with includeFolders; v8: siteId; v2: `size`; v5: absolute lower-case hrefs, no versions.
    let composed =
        ok(&s, &format!("/v7/RestoreSessions/{sid}/Organization/Sites/{team_id}/Documents?parentId=root&includeFolders=true&limit=1000"))
            .await;
    let mut expected = children_of(None, true);
    expected.extend(children_of(None, false));
    assert_eq!(names(&composed), expected, "folders first: {composed}");
    let cf = &results(&composed)[0];
    assert_eq!(cf["isFolder"], true);
    assert_eq!(cf["type"], "LibraryFolder");
    assert!(cf["title"].is_string() && cf.get("inheritedPermissions").is_some(), "{cf}");
    let plain7 =
        ok(&s, &format!("/v7/RestoreSessions/{sid}/Organization/Sites/{team_id}/Documents?parentId=root")).await;
    assert!(results(&plain7).iter().all(|d| d["isFolder"] == false));
    let d8 = ok(&s, &format!("/v8/RestoreSessions/{sid}/Organization/Sites/{team_id}/Documents/{doc_id}")).await;
    assert_eq!(d8["siteId"], team_id);
    assert_eq!(d8["isFolder"], false);
    let d2 = ok(&s, &format!("/v2/RestoreSessions/{sid}/Organization/Sites/{team_id}/Documents/{doc_id}")).await;
    assert_eq!(d2["size"], doc["sizeBytes"]);
    assert!(d2.get("sizeBytes").is_none() && d2.get("versionId").is_none(), "{d2}");
    let p5 = ok(&s, &format!("/v5/RestoreSessions/{sid}/Organization/Sites?parentId=null")).await;
    assert!(p5.get("totalCount").is_none());
    let self5 = results(&p5)[0]["_links"]["self"]["href"].as_str().unwrap().to_string();
    assert!(self5.starts_with(&format!("{}/v5/restoresessions/{sid}/organization/sites/", s.base)), "{self5}");
    let (st, _) =
        status(&s, &format!("/v5/RestoreSessions/{sid}/Organization/Sites/{team_id}/Documents/{doc_id}/Versions"))
            .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Paging over sites: first/prev/next links, v8 without totalCount.
    let p = ok(&s, &format!("/v8/RestoreSessions/{sid}/Organization/Sites?offset=1&limit=2")).await;
    assert_eq!(results(&p).len(), 2);
    assert!(p.get("totalCount").is_none());
    let sbase = format!("/v8/RestoreSessions/{sid}/Organization/Sites");
    assert_eq!(p["_links"]["first"]["href"], format!("{sbase}?offset=0&limit=2"));
    assert_eq!(p["_links"]["prev"]["href"], format!("{sbase}?offset=0&limit=2"));
    assert_eq!(p["_links"]["next"]["href"], format!("{sbase}?offset=3&limit=2"));
    let last = ok(&s, &format!("{sbase}?offset={}&limit=2", cat.len() - 1)).await;
    assert_eq!(results(&last).len(), 1);
    assert!(last["_links"].get("next").is_none());
    let mut paged = Vec::new();
    for off in (0..cat.len()).step_by(2) {
        paged.extend(names(&ok(&s, &format!("{sbase}?offset={off}&limit=2")).await));
    }
    assert_eq!(paged, names(&all));
    let (st, e) = status(&s, &format!("{sbase}?limit=10001")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");

    // 404s: unknown or malformed site ids, unknown parent, unknown documents/folders.
    let nil = uuid::Uuid::nil();
    for path in [
        format!("{base}/{nil}"),
        format!("{base}/not-a-site"),
        format!("{base}?parentId={nil}"),
        format!("{base}/{nil}/Lists"),
        format!("{base}/{team_id}/Lists/{nil}"),
        format!("{base}/{team_id}/Documents/nope"),
        format!("{base}/{team_id}/Documents?parentId=nope"),
        format!("{base}/{team_id}/Folders/nope"),
        format!("{base}/{team_id}/Items/nope"),
        format!("{base}/{issues_id}"),
    ] {
        let (st, e) = status(&s, &path).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}: {e}");
        assert!(e["message"].is_string(), "{e}");
    }
    let (_, e8) = status(&s, &format!("/v8/RestoreSessions/{sid}/Organization/Sites/{nil}")).await;
    assert_eq!(e8["errorCode"], "ResourceNotFound");

    // 401 without a token; another user's session is invisible; a OneDrive session has no sites; empty session.
    let (st, e) = s.get(&base, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{e}");
    let (st, _) = s.get(&format!("{base}/{team_id}"), Some(&s.other_token)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let theirs = session_kind(&s, Some(s.t2), false, false, OTHER, SessionKind::Vesp).await;
    let (st, v) = s.get(&format!("/v6/RestoreSessions/{theirs}/Organization/Sites"), Some(&s.other_token)).await;
    assert_eq!((st, v["totalCount"].clone()), (StatusCode::OK, json!(cat.len())));
    assert_eq!(status(&s, &format!("/v6/RestoreSessions/{theirs}/Organization/Sites")).await.0, StatusCode::NOT_FOUND);
    let veod = session_kind(&s, Some(s.t2), false, false, ADMIN, SessionKind::Veod).await;
    assert_eq!(status(&s, &format!("/v6/RestoreSessions/{veod}/Organization/Sites")).await.0, StatusCode::NOT_FOUND);
    let empty = session(&s, None, true, true).await;
    let e = ok(&s, &format!("/v6/RestoreSessions/{empty}/Organization/Sites")).await;
    assert_eq!((results(&e).len(), e["totalCount"].clone()), (0, json!(0)));
    assert_eq!(
        status(&s, &format!("/v6/RestoreSessions/{empty}/Organization/Sites/{team_id}")).await.0,
        StatusCode::NOT_FOUND
    );
    // A stopped session cannot be browsed.
    api::store::sessions::stop(&s.state, sid.parse().unwrap()).await.unwrap();
    let (st, e) = status(&s, &base).await;
    assert!(st == StatusCode::INTERNAL_SERVER_ERROR || st == StatusCode::CONFLICT, "{st} {e}");
}

#[tokio::test]
async fn list_items_fields_attachments_and_point_in_time() {
    let mut s = TestServer::start(SEED).await;
    let sid2 = session(&s, Some(s.t2), false, true).await;
    let base2 = format!("/v6/RestoreSessions/{sid2}/Organization/Sites");
    let sites = ok(&s, &base2).await;
    let team_id = find(&sites, "Finance").clone()["id"].as_str().unwrap().to_string();
    let lists = ok(&s, &format!("{base2}/{team_id}/Lists")).await;
    let issues_id = results(&lists)[0]["id"].as_str().unwrap().to_string();
    let (graph_site, graph_list, item_ids) = issues_list(&s, "Finance");
    assert_eq!(item_ids.len(), 7);
    let api_id = |n: u64| format!("{}{n}", issues_id.replace('-', ""));

    // Items of the list: title and version from the fields; ids `<list id><item id>`.
    let items = ok(&s, &format!("{base2}/{team_id}/Items?parentId={issues_id}")).await;
    assert_eq!(items["totalCount"], 7, "{items}");
    let expected_fields: Vec<(u64, String, usize)> = {
        let st = s.tenant.emu.emu.state();
        let l = &st.lists[&graph_list];
        item_ids
            .iter()
            .map(|n| (*n, l.items[n].fields["Title"].as_str().unwrap().to_string(), l.items[n].attachments.len()))
            .collect()
    };
    for (n, title, _) in &expected_fields {
        let it = results(&items).iter().find(|i| i["id"] == api_id(*n)).unwrap_or_else(|| panic!("item {n}: {items}"));
        assert_eq!(&it["title"], title);
        assert_eq!(&it["name"], title);
        assert_eq!(it["version"], "1.0", "{it}");
        assert_eq!(it["_links"]["list"]["href"], format!("{base2}/{team_id}/Lists/{issues_id}"));
        assert_eq!(it["_links"]["attachments"]["href"], format!("{base2}/{team_id}/Items/{}/Attachments", api_id(*n)));
    }
    // Same listing through parentId=root and with parentId omitted (the site has one generic list).
    assert_eq!(ok(&s, &format!("{base2}/{team_id}/Items?parentId=root")).await["totalCount"], 7);
    assert_eq!(ok(&s, &format!("{base2}/{team_id}/Items")).await["totalCount"], 7);
    // Library documents are not items.
    let docs = ok(&s, &format!("{base2}/{team_id}/Documents?parentId=root")).await;
    if let Some(d) = results(&docs).first() {
        let (st, _) = status(&s, &format!("{base2}/{team_id}/Items/{}", d["id"].as_str().unwrap())).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }

    // Paging the items.
    let p = ok(&s, &format!("{base2}/{team_id}/Items?parentId={issues_id}&offset=2&limit=2")).await;
    assert_eq!(results(&p).len(), 2);
    let ibase = format!("{base2}/{team_id}/Items?parentId={issues_id}");
    assert_eq!(p["_links"]["prev"]["href"], format!("{ibase}&offset=0&limit=2"));
    assert_eq!(p["_links"]["next"]["href"], format!("{ibase}&offset=4&limit=2"));
    assert_eq!(results(&p)[0], results(&items)[2]);

    // Attachments of the seeded item 1 (names, hex ids, sizes, server-relative URLs).
    let first = expected_fields[0].0;
    let seeded: Vec<(String, i64)> = {
        let st = s.tenant.emu.emu.state();
        st.lists[&graph_list].items[&first].attachments.iter().map(|a| (a.file_name.clone(), a.size as i64)).collect()
    };
    assert!(!seeded.is_empty(), "item 1 has attachments");
    let atts = ok(&s, &format!("{base2}/{team_id}/Items/{}/Attachments", api_id(first))).await;
    assert_eq!(atts["totalCount"], seeded.len());
    for (name, size) in &seeded {
        let a = find(&atts, name);
        assert_eq!(a["id"], hex(name));
        assert_eq!(a["sizeBytes"], *size);
        let url = a["url"].as_str().unwrap();
        assert!(
            url.starts_with('/') && url.ends_with(&format!("/sites/finance/Lists/Issues/Attachments/{first}/{name}")),
            "{url}"
        );
        assert_eq!(a["_links"]["item"]["href"], format!("{base2}/{team_id}/Items/{}", api_id(first)));
        let one = ok(&s, a["_links"]["self"]["href"].as_str().unwrap()).await;
        assert_eq!(&one, a);
    }
    let a8 = ok(
        &s,
        &format!(
            "/v8/RestoreSessions/{sid2}/Organization/Sites/{team_id}/Items/{}/Attachments/{}",
            api_id(first),
            hex(&seeded[0].0)
        ),
    )
    .await;
    assert_eq!((a8["siteId"].as_str(), a8["itemId"].as_str()), (Some(team_id.as_str()), Some(api_id(first).as_str())));
    let a2 =
        ok(&s, &format!("/v2/RestoreSessions/{sid2}/Organization/Sites/{team_id}/Items/{}/Attachments", api_id(first)))
            .await;
    assert_eq!(find(&a2, &seeded[0].0)["size"], seeded[0].1, "{a2}");
    assert!(find(&a2, &seeded[0].0).get("sizeBytes").is_none());
    let (st, _) =
        status(&s, &format!("{base2}/{team_id}/Items/{}/Attachments/{}", api_id(first), hex("nope.txt"))).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(results(&ok(&s, &format!("{base2}/{team_id}/Items/{}/Attachments", api_id(item_ids[1]))).await).is_empty());

    // Changes, then a third backup: item 2 retitled and given two attachments, item 3 deleted, a document deleted.
    let (second, third) = (item_ids[1], item_ids[2]);
    let old_title = expected_fields[1].1.clone();
    s.graph(
        Method::PATCH,
        &format!("/sites/{graph_site}/lists/{graph_list}/items/{second}/fields"),
        Some(json!({"Title": "Retitled issue"})),
        None,
    )
    .await;
    let web =
        s.graph(Method::GET, &format!("/sites/{graph_site}"), None, None).await["webUrl"].as_str().unwrap().to_string();
    let host = graph_site.split(',').next().unwrap().to_string();
    for (name, body) in [("notes one.txt", b"first attachment".to_vec()), ("ünïcode.bin", vec![7u8; 300])] {
        let call = m365::client::Call {
            method: Method::POST,
            url: format!(
                "{web}/_api/web/lists(guid'{graph_list}')/items({second})/AttachmentFiles/add(FileName='{name}')"
            ),
            resource: Some(m365::Resource::SharePoint(host.clone())),
            body: Some(body.into()),
            headers: vec![("accept", "application/json;odata=nometadata".into())],
        };
        let r = s.graph_client.send(call).await.unwrap();
        assert!(r.status().is_success(), "attachment add: {}", r.status());
    }
    s.graph(Method::DELETE, &format!("/sites/{graph_site}/lists/{graph_list}/items/{third}"), None, None).await;
    let (drive, gone_doc) = {
        let st = s.tenant.emu.emu.state();
        let drive = st
            .lists
            .values()
            .find(|l| l.site_id == graph_site && l.drive_id.is_some())
            .unwrap()
            .drive_id
            .clone()
            .unwrap();
        let mut files: Vec<_> = st
            .items
            .values()
            .filter(|i| i.drive_id == drive && !i.is_folder && i.deleted.is_none())
            .map(|i| i.id.clone())
            .collect();
        files.sort();
        (drive, files[0].clone())
    };
    s.graph(Method::DELETE, &format!("/drives/{drive}/items/{gone_doc}"), None, None).await;
    let r3 = s.backup().await;
    let t3 = r3.restore_point.as_ref().expect("third restore point").backup_time;
    assert!(t3 > s.t2);
    s.restart().await; // tokens re-issued; sessions persist in the database

    let sid3 = session(&s, Some(t3), false, true).await;
    let base3 = format!("/v6/RestoreSessions/{sid3}/Organization/Sites");
    // t2 still shows the old state.
    let it2 = ok(&s, &format!("{base2}/{team_id}/Items/{}", api_id(second))).await;
    assert_eq!(it2["title"], old_title.as_str());
    assert!(results(&ok(&s, &format!("{base2}/{team_id}/Items/{}/Attachments", api_id(second))).await).is_empty());
    assert_eq!(ok(&s, &format!("{base2}/{team_id}/Items/{}", api_id(third))).await["id"], api_id(third));
    assert_eq!(ok(&s, &format!("{base2}/{team_id}/Documents/{gone_doc}")).await["id"], gone_doc.as_str());
    // t3 shows the changes.
    let it3 = ok(&s, &format!("{base3}/{team_id}/Items/{}", api_id(second))).await;
    assert_eq!(it3["title"], "Retitled issue");
    assert_eq!(it3["version"], "4.0", "one field edit and two attachments: {it3}");
    let atts3 = ok(&s, &format!("{base3}/{team_id}/Items/{}/Attachments", api_id(second))).await;
    assert_eq!(names(&atts3), vec!["notes one.txt", "ünïcode.bin"]);
    assert_eq!(find(&atts3, "ünïcode.bin")["sizeBytes"], 300);
    assert_eq!(find(&atts3, "notes one.txt")["sizeBytes"], 16);
    let uni = ok(&s, &format!("{base3}/{team_id}/Items/{}/Attachments/{}", api_id(second), hex("ünïcode.bin"))).await;
    assert_eq!(uni["name"], "ünïcode.bin");
    assert_eq!(status(&s, &format!("{base3}/{team_id}/Items/{}", api_id(third))).await.0, StatusCode::NOT_FOUND);
    assert_eq!(ok(&s, &format!("{base3}/{team_id}/Items?parentId={issues_id}")).await["totalCount"], 6);
    assert_eq!(status(&s, &format!("{base3}/{team_id}/Documents/{gone_doc}")).await.0, StatusCode::NOT_FOUND);
    let live = ok(&s, &format!("{base3}/{team_id}/Documents?limit=1000")).await;
    assert!(results(&live).iter().all(|d| d["id"] != gone_doc.as_str() && d.get("isDeleted").is_none()));

    // showDeleted: deleted item and document are listed and readable, marked isDeleted.
    let sd = session(&s, Some(t3), true, true).await;
    let based = format!("/v6/RestoreSessions/{sd}/Organization/Sites");
    let all_items = ok(&s, &format!("{based}/{team_id}/Items?parentId={issues_id}")).await;
    assert_eq!(all_items["totalCount"], 7);
    let deleted: Vec<&Value> = results(&all_items).iter().filter(|i| i["isDeleted"] == true).collect();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["id"], api_id(third));
    assert_eq!(ok(&s, &format!("{based}/{team_id}/Items/{}", api_id(third))).await["isDeleted"], true);
    let d = ok(&s, &format!("{based}/{team_id}/Documents/{gone_doc}")).await;
    assert_eq!(d["isDeleted"], true);
    let with_deleted = ok(&s, &format!("{based}/{team_id}/Documents?limit=1000")).await;
    assert_eq!(with_deleted["totalCount"].as_u64().unwrap(), live["totalCount"].as_u64().unwrap() + 1);

    // The new token still cannot read the other user's view.
    let (st, _) = s.get(&format!("{base3}/{team_id}/Items"), Some(&s.other_token)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.get(&format!("{base3}/{team_id}/Items"), None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

fn hex(name: &str) -> String {
    name.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
}
