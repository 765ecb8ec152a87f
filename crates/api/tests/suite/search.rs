//! Item search (`POST …/search`, v6–v8) over real HTTPS: every OneDrive and SharePoint operation, checked against
//! the names the backups recorded (read through the catalog, not through the API's browse answers): substrings,
//! property terms, itemType, paging, point in time, showDeleted, folder subtrees, other users' sessions, bad input.

use std::collections::BTreeSet;

use crate::common;

use api::ctx::auth::CurrentUser;
use api::store::sessions::{NewSession, SessionKind};
use chrono::{DateTime, Utc};
use common::*;
use repo::catalog::{ContainerInfo, ContainerKind, ContainerQuery, ItemQuery, ItemRow};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

/// Two team sites with libraries and an "Issues" list besides the root site.
const SP_SEED: &str = "users=2,files=40,versions=2,sites=2,items=7";

async fn session(s: &TestServer, kind: SessionKind, at: DateTime<Utc>, show_deleted: bool, owner: &str) -> String {
    let u = api::store::accounts::find_user(s.state.pool(), owner).await.unwrap().unwrap();
    let new = NewSession {
        owner: CurrentUser { id: u.id, name: u.name },
        organization_id: s.org_id,
        kind,
        requested_at: Some(at),
        restore_point_id: None,
        browse_at: Some(at),
        show_deleted,
        show_all_versions: false,
        name: None,
        parent_id: None,
        reason: None,
    };
    api::store::sessions::create(&s.state, new).await.unwrap().id.to_string()
}

/// Every item of a container at `at` (the catalog's own listing, folder by folder).
async fn catalog_tree(s: &TestServer, container: Uuid, at: DateTime<Utc>, show_deleted: bool) -> Vec<ItemRow> {
    let mut out = Vec::new();
    let mut parents: Vec<Option<String>> = vec![None];
    while let Some(parent) = parents.pop() {
        let mut q = ItemQuery::new(container, at).show_deleted(show_deleted).page(0, 100_000);
        if let Some(p) = &parent {
            q = q.parent(p.clone());
        }
        for row in s.catalog.items_at(&q).await.unwrap().rows {
            if row.state.is_folder {
                parents.push(Some(row.item_id.clone()));
            }
            out.push(row);
        }
    }
    out
}

/// The items below folder `id` in `tree`, at any depth.
fn below<'a>(tree: &'a [ItemRow], id: &str) -> Vec<&'a ItemRow> {
    let mut ids = BTreeSet::from([id.to_string()]);
    loop {
        let n = ids.len();
        for r in tree {
            if r.state.parent_id.as_ref().is_some_and(|p| ids.contains(p)) {
                ids.insert(r.item_id.clone());
            }
        }
        if ids.len() == n {
            break;
        }
    }
    tree.iter().filter(|r| r.item_id != id && ids.contains(&r.item_id)).collect()
}

fn has(hay: &Option<String>, needle: &str) -> bool {
    hay.as_deref().is_some_and(|h| h.to_lowercase().contains(&needle.to_lowercase()))
}

fn named(r: &ItemRow, needle: &str) -> bool {
    r.state.name.to_lowercase().contains(&needle.to_lowercase())
}

/// Searches as the admin and returns the whole page.
async fn search(s: &TestServer, path: &str, query: &str) -> Value {
    let (st, b) = s.post(path, Some(&s.token), json!({ "query": query })).await;
    assert_eq!(st, StatusCode::OK, "{path} {query:?}: {b}");
    b
}

/// Every result of a search, page by page (`limit` per page), checking the page envelope; the result ids.
async fn search_all(s: &TestServer, path: &str, query: &str, limit: usize, version: u8) -> Vec<Value> {
    let mut out = Vec::new();
    let sep = if path.contains('?') { '&' } else { '?' };
    loop {
        let page = search(s, &format!("{path}{sep}offset={}&limit={limit}", out.len()), query).await;
        let results = page["results"].as_array().unwrap().clone();
        assert_eq!((page["offset"].as_u64(), page["limit"].as_u64()), (Some(out.len() as u64), Some(limit as u64)));
        let more = page["_links"].get("next").is_some();
        if matches!(version, 6 | 7) {
            let total = page["totalCount"].as_u64().unwrap() as usize;
            assert_eq!(more, out.len() + results.len() < total, "{page}");
        } else {
            assert!(page.get("totalCount").is_none(), "v8 pages have no totalCount");
        }
        assert!(results.len() <= limit);
        let n = results.len();
        out.extend(results);
        if !more {
            break;
        }
        assert_eq!(n, limit, "a page before the last is full");
    }
    out
}

fn ids(results: &[Value]) -> BTreeSet<String> {
    let v: Vec<String> = results.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    let set: BTreeSet<String> = v.iter().cloned().collect();
    assert_eq!(set.len(), v.len(), "each result once");
    set
}

fn row_ids<'a>(rows: impl IntoIterator<Item = &'a ItemRow>) -> BTreeSet<String> {
    rows.into_iter().map(|r| r.item_id.clone()).collect()
}

/// The most frequent lower-case letter pair in the names, so a substring query matches many items.
fn common_pair(rows: &[ItemRow]) -> String {
    let mut counts = std::collections::HashMap::<String, usize>::new();
    for r in rows {
        let name: Vec<char> = r.state.name.to_lowercase().chars().collect();
        let pairs: BTreeSet<String> = name.windows(2).map(|w| w.iter().collect::<String>()).collect();
        for p in pairs.into_iter().filter(|p| p.chars().all(|c| c.is_ascii_lowercase())) {
            *counts.entry(p).or_default() += 1;
        }
    }
    counts.into_iter().max_by_key(|(p, n)| (*n, std::cmp::Reverse(p.clone()))).unwrap().0
}

#[tokio::test]
async fn onedrive_search_follows_the_catalog_the_instant_and_the_flags() {
    let s = shared().await;
    let c = s.changes.clone();
    let od = c.onedrive.to_string();
    let sid1 = session(&s, SessionKind::Veod, s.t1, true, ADMIN).await;
    let sid2 = session(&s, SessionKind::Veod, s.t2, true, ADMIN).await;
    let sid2_live = session(&s, SessionKind::Veod, s.t2, false, ADMIN).await;
    let drive = |v: u8, sid: &str| format!("/v{v}/RestoreSessions/{sid}/Organization/OneDrives/{od}");
    let tree2 = catalog_tree(&s, c.onedrive, s.t2, true).await;
    let live2: Vec<ItemRow> = tree2.iter().filter(|r| !r.deleted).cloned().collect();

    // Every era answers; a substring of many names, upper-cased, over pages of 3: exactly the catalog's matches.
    let pair = common_pair(&live2);
    let expected = row_ids(live2.iter().filter(|r| named(r, &pair)));
    assert!(expected.len() > 3, "{pair}: {expected:?}");
    for v in [6, 7, 8] {
        let found = search_all(&s, &format!("{}/search", drive(v, &sid2_live)), &pair.to_uppercase(), 3, v).await;
        assert_eq!(ids(&found), expected, "v{v} {pair}");
    }
    // A document is rendered as the browse route renders it.
    let page = search(&s, &format!("{}/search", drive(7, &sid2)), "new-file").await;
    let doc = ok_get(&s, &format!("{}/Documents/{}", drive(7, &sid2), c.created)).await;
    assert_eq!(page["results"], json!([doc]));
    assert_eq!(page["totalCount"], 1);

    // Point in time: the file created after rp1 and the new name are not in an rp1 session; the old name is.
    let none = search(&s, &format!("{}/search", drive(6, &sid1)), "new-file").await;
    assert_eq!(none["results"], json!([]));
    assert_eq!(none["totalCount"], 0);
    let renamed = search(&s, &format!("{}/search", drive(6, &sid2)), "RENAMED.txt").await;
    assert_eq!(ids(renamed["results"].as_array().unwrap()), BTreeSet::from([c.renamed.clone()]));
    let old = search(&s, &format!("{}/search", drive(6, &sid1)), &format!("name:\"{}\"", c.renamed_old_name)).await;
    assert!(ids(old["results"].as_array().unwrap()).contains(&c.renamed));
    let old_now = search(&s, &format!("{}/search", drive(6, &sid2)), &format!("\"{}\"", c.renamed_old_name)).await;
    assert!(!ids(old_now["results"].as_array().unwrap()).contains(&c.renamed));

    // showDeleted: the file deleted before rp2 only with the flag, marked.
    let q = format!("filename:\"{}\"", c.deleted_name);
    let with = search(&s, &format!("{}/search", drive(8, &sid2)), &q).await;
    let hit = with["results"].as_array().unwrap().iter().find(|r| r["id"] == c.deleted.as_str()).cloned();
    assert_eq!(hit.expect("deleted file found with showDeleted")["isDeleted"], true);
    let without = search(&s, &format!("{}/search", drive(8, &sid2_live)), &q).await;
    assert!(!ids(without["results"].as_array().unwrap()).contains(&c.deleted));

    // Property terms against the recorded authors, editors and extensions; all terms must hold.
    let file = live2.iter().find(|r| !r.state.is_folder && r.state.created_by.is_some()).unwrap();
    let author = file.state.created_by.clone().unwrap();
    let ext = file.state.name.rsplit('.').next().unwrap().to_string();
    let by_author = row_ids(live2.iter().filter(|r| has(&r.state.created_by, &author)));
    let found =
        search_all(&s, &format!("{}/search", drive(7, &sid2_live)), &format!("author:\"{author}\""), 50, 7).await;
    assert_eq!(ids(&found), by_author);
    let editor = live2.iter().find_map(|r| r.state.modified_by.clone()).unwrap();
    let by_editor = row_ids(live2.iter().filter(|r| has(&r.state.modified_by, &editor)));
    let q = format!("modifiedby:\"{}\"", editor.to_uppercase());
    assert_eq!(ids(&search_all(&s, &format!("{}/search", drive(7, &sid2_live)), &q, 50, 7).await), by_editor);
    let with_ext = |r: &&ItemRow| !r.state.is_folder && r.state.name.to_lowercase().ends_with(&format!(".{ext}"));
    let q = format!("ext:{} AND {pair}", ext.to_uppercase());
    let expected = row_ids(live2.iter().filter(with_ext).filter(|r| named(r, &pair)));
    assert_eq!(ids(&search_all(&s, &format!("{}/search", drive(6, &sid2_live)), &q, 50, 6).await), expected);
    let q = format!("type:.{ext}");
    assert_eq!(
        ids(&search_all(&s, &format!("{}/search", drive(6, &sid2_live)), &q, 50, 6).await),
        row_ids(live2.iter().filter(with_ext))
    );

    // itemType: folders only / documents only (any case).
    let folders = row_ids(live2.iter().filter(|r| r.state.is_folder && named(r, &pair)));
    let files = row_ids(live2.iter().filter(|r| !r.state.is_folder && named(r, &pair)));
    let path = format!("{}/search?itemType=folders", drive(8, &sid2_live));
    let found = search_all(&s, &path, &pair, 50, 8).await;
    assert!(found.iter().all(|r| r["isFolder"] == true));
    assert_eq!(ids(&found), folders);
    let path = format!("{}/search?ITEMTYPE=Documents&setId={}", drive(8, &sid2_live), Uuid::new_v4());
    assert_eq!(ids(&search_all(&s, &path, &pair, 50, 8).await), files);

    // A folder's subtree, at any depth, not the folder itself.
    let folder = live2
        .iter()
        .filter(|r| r.state.is_folder)
        .max_by_key(|r| (below(&live2, &r.item_id).len(), r.item_id.clone()))
        .expect("the seed has folders");
    let inside: Vec<&ItemRow> = below(&live2, &folder.item_id);
    assert!(!inside.is_empty());
    let expected = row_ids(inside.iter().copied().filter(|r| named(r, &pair)));
    let path = format!("{}/Folders/{}/search", drive(8, &sid2_live), folder.item_id);
    assert_eq!(ids(&search_all(&s, &path, &pair, 3, 8).await), expected);
    let a_file = inside.iter().find(|r| !r.state.is_folder).unwrap();
    let page = search(&s, &path, &format!("\"{}\"", a_file.state.name)).await;
    assert!(ids(page["results"].as_array().unwrap()).contains(&a_file.item_id));
    let (st, _) = s
        .post(&format!("{}/Folders/{}/search", drive(8, &sid2_live), c.created), Some(&s.token), json!({"query": "x"}))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "a document is not a folder");

    // Every OneDrive of the session: the union over the organization's OneDrives.
    let drives = s
        .catalog
        .containers_at(&ContainerQuery::new(s.org_id, s.t2).kind(ContainerKind::OneDrive).page(0, 100))
        .await
        .unwrap()
        .rows;
    assert!(drives.len() >= 2);
    let mut expected = BTreeSet::new();
    for d in &drives {
        let tree = catalog_tree(&s, d.id, s.t2, false).await;
        expected.extend(row_ids(tree.iter().filter(|r| named(r, &pair))));
    }
    let path = format!("/v8/RestoreSessions/{sid2_live}/Organization/OneDrives/search");
    let found = search_all(&s, &path, &pair, 7, 8).await;
    assert_eq!(ids(&found), expected);
    let drive_ids: BTreeSet<String> = drives.iter().map(|d| d.id.to_string()).collect();
    let used: BTreeSet<String> = found.iter().map(|r| r["oneDriveId"].as_str().unwrap().to_string()).collect();
    assert!(used.len() >= 2 && used.is_subset(&drive_ids), "{used:?}");

    // Bad input: 400 naming the field; v2–v5: 404; another user's session, a SharePoint session: 404.
    for (body, field) in [
        (json!({"query": "colour:red"}), "'query'"),
        (json!({"query": "name:\"open"}), "'query'"),
        (json!({"query": "   "}), "'query'"),
        (json!({}), "'query'"),
        (json!({"query": ["x"]}), "query"),
    ] {
        let (st, b) = s.post(&format!("{}/search", drive(7, &sid2)), Some(&s.token), body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {b}");
        assert!(b["message"].as_str().unwrap().contains(field), "{body}: {b}");
    }
    let (st, b) =
        s.post(&format!("{}/search?itemType=Items", drive(7, &sid2)), Some(&s.token), json!({"query": "x"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(b["message"].as_str().unwrap().contains("'itemType'"), "{b}");
    let (st, _) =
        s.post(&format!("{}/search?limit=10001", drive(7, &sid2)), Some(&s.token), json!({"query": "x"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    for v in [2, 5] {
        let (st, _) = s.post(&format!("{}/search", drive(v, &sid2)), Some(&s.token), json!({"query": "x"})).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "v{v}");
    }
    let theirs = session(&s, SessionKind::Veod, s.t2, true, OTHER).await;
    for path in [
        format!("{}/search", drive(8, &theirs)),
        format!("/v8/RestoreSessions/{theirs}/Organization/OneDrives/search"),
        format!("{}/Folders/{}/search", drive(8, &theirs), folder.item_id),
    ] {
        let (st, b) = s.post(&path, Some(&s.token), json!({"query": pair})).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}: {b}");
        let (st, _) = s.post(&path, Some(&s.other_token), json!({"query": pair})).await;
        assert_eq!(st, StatusCode::OK, "its owner may search: {path}");
    }
    let vesp = session(&s, SessionKind::Vesp, s.t2, true, ADMIN).await;
    let (st, _) = s.post(&format!("{}/search", drive(8, &vesp)), Some(&s.token), json!({"query": "x"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.post(&format!("{}/search", drive(8, &sid2)), None, json!({"query": "x"})).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

async fn ok_get(s: &TestServer, path: &str) -> Value {
    let (st, b) = s.get(path, Some(&s.token)).await;
    assert_eq!(st, StatusCode::OK, "{path}: {b}");
    b
}

/// A list or library of the catalog with its items at an instant.
struct CatalogList {
    id: Uuid,
    site_graph_id: String,
    library: bool,
    items: Vec<ItemRow>,
}

impl CatalogList {
    /// The API id of an item (generic list items carry the list's UUID in front).
    fn api_id(&self, item_id: &str) -> String {
        if self.library {
            item_id.to_string()
        } else {
            format!("{}{item_id}", self.id.simple())
        }
    }

    fn api_ids<'a>(&self, rows: impl IntoIterator<Item = &'a ItemRow>) -> BTreeSet<String> {
        rows.into_iter().map(|r| self.api_id(&r.item_id)).collect()
    }
}

#[tokio::test]
async fn sharepoint_search_covers_sites_libraries_lists_and_folders() {
    let s = TestServer::start(SP_SEED).await;
    let sid = session(&s, SessionKind::Vesp, s.t2, false, ADMIN).await;
    let base = |v: u8| format!("/v{v}/RestoreSessions/{sid}/Organization/Sites");
    let mut lists = Vec::new();
    for row in s
        .catalog
        .containers_at(&ContainerQuery::new(s.org_id, s.t2).kind(ContainerKind::List).page(0, 1000))
        .await
        .unwrap()
        .rows
    {
        let ContainerInfo::List(info) = row.info else { continue };
        let items = catalog_tree(&s, row.id, s.t2, false).await;
        lists.push(CatalogList { id: row.id, site_graph_id: info.site_id, library: info.is_document_library, items });
    }
    let all_items: Vec<ItemRow> = lists.iter().flat_map(|l| l.items.clone()).collect();
    let pair = common_pair(&all_items);
    let matching = |l: &CatalogList| l.api_ids(l.items.iter().filter(|r| named(r, &pair)));

    // Every site: all lists and libraries of the organization.
    let expected: BTreeSet<String> = lists.iter().flat_map(matching).collect();
    assert!(expected.len() > 5, "{pair}");
    for v in [6, 7, 8] {
        let found = search_all(&s, &format!("{}/search", base(v)), &pair, 5, v).await;
        assert_eq!(ids(&found), expected, "v{v}");
    }

    // One site: its own lists and libraries.
    // The fullest library of a site that also has a generic list (the team sites; the root site has none).
    let has_list = |site: &str| lists.iter().any(|l| !l.library && l.site_graph_id == site);
    let library =
        lists.iter().filter(|l| l.library && has_list(&l.site_graph_id)).max_by_key(|l| (l.items.len(), l.id)).unwrap();
    let site = s.catalog.container_id(s.org_id, ContainerKind::Site, &library.site_graph_id).await.unwrap().unwrap();
    let expected: BTreeSet<String> =
        lists.iter().filter(|l| l.site_graph_id == library.site_graph_id).flat_map(matching).collect();
    let found = search_all(&s, &format!("{}/{site}/search", base(7)), &pair, 50, 7).await;
    assert_eq!(ids(&found), expected);

    // A library: documents (v7+ RESTItemComposed with isFolder) and folders; itemType splits them.
    let lib_path = format!("{}/{site}/Libraries/{}/search", base(7), library.id);
    assert_eq!(ids(&search_all(&s, &lib_path, &pair, 50, 7).await), matching(library));
    let files = library.api_ids(library.items.iter().filter(|r| !r.state.is_folder && named(r, &pair)));
    let found = search_all(&s, &format!("{lib_path}?itemType=Items"), &pair, 50, 7).await;
    assert!(found.iter().all(|r| r["isFolder"] == false));
    assert_eq!(ids(&found), files);
    let folders = library.api_ids(library.items.iter().filter(|r| r.state.is_folder && named(r, &pair)));
    assert_eq!(ids(&search_all(&s, &format!("{lib_path}?itemType=Folders"), &pair, 50, 7).await), folders);
    let (st, b) = s.post(&format!("{lib_path}?itemType=Documents"), Some(&s.token), json!({"query": pair})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "SharePoint's enum is All/Folders/Items: {b}");

    // A folder of the library: its subtree.
    let folder = library
        .items
        .iter()
        .filter(|r| r.state.is_folder)
        .max_by_key(|r| (below(&library.items, &r.item_id).len(), r.item_id.clone()))
        .expect("the library has folders");
    let inside = below(&library.items, &folder.item_id);
    let doc = inside.iter().find(|r| !r.state.is_folder).expect("a document in the folder");
    let path = format!("{}/{site}/Folders/{}/search", base(8), folder.item_id);
    let found = search_all(&s, &path, &format!("\"{}\"", doc.state.name), 50, 8).await;
    let expected = library.api_ids(inside.iter().copied().filter(|r| named(r, &doc.state.name)));
    assert_eq!(ids(&found), expected);
    assert!(found.iter().all(|r| r["siteId"] == site.to_string().as_str()));

    // A generic list: its items, addressed as the Items listing addresses them.
    let list = lists.iter().find(|l| !l.library && l.site_graph_id == library.site_graph_id).expect("Issues list");
    let item = list.items.iter().find(|r| !r.state.is_folder).expect("list items");
    let list_path = format!("{}/{site}/Lists/{}/search", base(6), list.id);
    let q = format!("name:\"{}\"", item.state.name);
    let found = search_all(&s, &list_path, &q, 50, 6).await;
    assert_eq!(ids(&found), list.api_ids(list.items.iter().filter(|r| named(r, &item.state.name))));
    let api_id = list.api_id(&item.item_id);
    let browse = ok_get(&s, &format!("{}/{site}/Items/{api_id}", base(6))).await;
    assert_eq!(found.iter().find(|r| r["id"] == api_id.as_str()).unwrap(), &browse);
    // A library id is not a list id (and the reverse).
    let (st, _) =
        s.post(&format!("{}/{site}/Lists/{}/search", base(6), library.id), Some(&s.token), json!({"query": "a"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Bad query, v5, another user's session, a OneDrive session.
    let (st, b) = s.post(&format!("{}/search", base(8)), Some(&s.token), json!({"query": "owner:me"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(b["message"].as_str().unwrap().contains("'query'"), "{b}");
    let (st, _) = s.post(&format!("{}/search", base(5)), Some(&s.token), json!({"query": "a"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let theirs = session(&s, SessionKind::Vesp, s.t2, false, OTHER).await;
    for path in [
        format!("/v8/RestoreSessions/{theirs}/Organization/Sites/search"),
        format!("/v8/RestoreSessions/{theirs}/Organization/Sites/{site}/search"),
        format!("/v8/RestoreSessions/{theirs}/Organization/Sites/{site}/Libraries/{}/search", library.id),
    ] {
        let (st, _) = s.post(&path, Some(&s.token), json!({"query": pair})).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
    }
    let veod = session(&s, SessionKind::Veod, s.t2, false, ADMIN).await;
    let (st, _) = s
        .post(&format!("/v8/RestoreSessions/{veod}/Organization/Sites/search"), Some(&s.token), json!({"query": "a"}))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}
