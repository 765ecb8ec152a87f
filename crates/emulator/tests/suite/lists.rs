//! Graph lists and list items: list discovery (system lists hidden), item CRUD with fields,
//! read-only columns, paging, versions, document-library items, and list-item delta with resync.

use crate::common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

struct Fixture {
    site: String,
    issues: String,
    library: String,
    drive: String,
}

fn fixture(t: &TestTenant) -> Fixture {
    let mut st = t.emu.emu.state();
    let now = t.emu.emu.now_from(&st);
    let host = st.tenant.sp_host();
    let site = st.create_site(&host, "/sites/ops", "Operations", None, false, now);
    let library = st.create_list(&site, "Documents", "documentLibrary", None, now);
    let issues = st.create_list(&site, "Issue Tracker", "genericList", None, now);
    let hidden = st.create_list(&site, "Access Requests", "accessRequest", None, now);
    st.lists.get_mut(&hidden).unwrap().system = true;
    let drive = st.lists[&library].drive_id.clone().unwrap();
    Fixture { site, issues, library, drive }
}

fn values(v: &Value) -> &Vec<Value> {
    v["value"].as_array().unwrap()
}

async fn post_item(t: &TestTenant, tok: &str, f: &Fixture, fields: Value) -> (reqwest::StatusCode, Value) {
    t.call(tok, Method::POST, &format!("/sites/{}/lists/{}/items", f.site, f.issues), Some(json!({ "fields": fields })))
        .await
}

#[tokio::test]
async fn lists_of_a_site() {
    let t = TestTenant::start("users=1").await;
    let tok = t.graph_token().await;
    let f = fixture(&t);

    let (s, v) = t.get(&tok, &format!("/sites/{}/lists", f.site)).await;
    assert_eq!(s, 200, "{v}");
    let names: Vec<&str> = values(&v).iter().map(|l| l["displayName"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Documents", "Issue Tracker"], "system list hidden by default");
    let lib = &values(&v)[0];
    assert_eq!(lib["name"], "Shared Documents");
    assert_eq!(lib["list"]["template"], "documentLibrary");
    assert_eq!(lib["list"]["hidden"], false);
    assert_eq!(lib["parentReference"]["siteId"], f.site.as_str());
    assert_eq!(lib["sharepointIds"]["listId"], f.library.as_str());
    assert!(lib["eTag"].as_str().unwrap().starts_with('"'));
    let generic = &values(&v)[1];
    assert_eq!(generic["name"], "IssueTracker");
    assert!(generic["webUrl"].as_str().unwrap().ends_with("/sites/ops/Lists/IssueTracker"), "{generic}");

    let (_, with_sys) = t.get(&tok, &format!("/sites/{}/lists?$select=id,displayName,system", f.site)).await;
    assert_eq!(values(&with_sys).len(), 3);
    let sys = values(&with_sys).iter().find(|l| l["displayName"] == "Access Requests").unwrap();
    assert_eq!(sys["system"], json!({}));
    assert!(sys.get("webUrl").is_none(), "$select honoured");

    for key in [f.issues.clone(), "IssueTracker".into(), "Issue%20Tracker".into()] {
        let (s, l) = t.get(&tok, &format!("/sites/{}/lists/{key}", f.site)).await;
        assert_eq!(s, 200, "{key}");
        assert_eq!(l["id"], f.issues.as_str());
    }
    let (s, e) = t.get(&tok, &format!("/sites/{}/lists/Nope", f.site)).await;
    assert_eq!(s, 404);
    assert_graph_error(&e, "itemNotFound");
    let (s, _) = t.get(&tok, "/sites/contoso.sharepoint.com:/sites/none:/lists").await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn list_item_lifecycle() {
    let t = TestTenant::start("users=1").await;
    let tok = t.graph_token().await;
    let f = fixture(&t);
    let items = format!("/sites/{}/lists/{}/items", f.site, f.issues);

    let (s, created) =
        post_item(&t, &tok, &f, json!({"Title": "Printer jam", "Priority": 2, "Tags": ["a", "b"]})).await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["id"], "1");
    let fields = &created["fields"];
    assert_eq!(fields["Title"], "Printer jam");
    assert_eq!(fields["Priority"], 2);
    assert_eq!(fields["Tags"], json!(["a", "b"]));
    assert_eq!(fields["Attachments"], false);
    assert_eq!(fields["id"], "1");
    assert_eq!(fields["ContentType"], "Item");
    assert_eq!(fields["_UIVersionString"], "1.0");
    assert_eq!(fields["LinkTitle"], "Printer jam");
    assert_eq!(fields["AuthorLookupId"], "1073741822", "app-only writes are by the SharePoint app");
    assert!(fields["@odata.etag"].is_string() && fields["Created"].is_string());
    assert_eq!(created["createdBy"]["application"]["id"], t.client_id.as_str());
    assert_eq!(created["contentType"]["name"], "Item");
    assert_eq!(created["sharepointIds"]["listItemId"], "1");
    assert_eq!(created["parentReference"]["siteId"], f.site.as_str());
    assert!(created["webUrl"].as_str().unwrap().ends_with("/Lists/IssueTracker/DispForm.aspx?ID=1"));
    let (_, second) = post_item(&t, &tok, &f, json!({"Title": "Second", "@odata.etag": "ignored"})).await;
    assert_eq!(second["id"], "2");

    // Read-only columns and malformed bodies are refused; nothing is created.
    for bad in ["Created", "Attachments", "AuthorLookupId", "ID", "modified"] {
        let mut fields = json!({"Title": "t"});
        fields[bad] = json!("x");
        let (s, e) = post_item(&t, &tok, &f, fields).await;
        assert_eq!(s, 400, "{bad}");
        assert_graph_error(&e, "invalidRequest");
        assert!(e["error"]["message"].as_str().unwrap().contains("read-only"), "{e}");
    }
    let (s, _) = t.call(&tok, Method::POST, &items, Some(json!({"Title": "no fields wrapper"}))).await;
    assert_eq!(s, 400);
    let (s, e) = t
        .call(&tok, Method::POST, &format!("/sites/{}/lists/{}/items", f.site, f.library), Some(json!({"fields": {}})))
        .await;
    assert_eq!(s, 400, "document libraries take files through the drive API: {e}");
    assert_eq!(t.emu.emu.state().lists[&f.issues].items.len(), 2);

    // Reads: fields only when expanded; both expand spellings; fields(select=…).
    let (s, list) = t.get(&tok, &items).await;
    assert_eq!(s, 200);
    assert!(values(&list)[0].get("fields").is_none());
    let (_, list) = t.get(&tok, &format!("{items}?expand=fields")).await;
    assert_eq!(values(&list)[0]["fields"]["Title"], "Printer jam");
    let (_, sel) = t.get(&tok, &format!("{items}?$expand=fields($select=Title,Priority)")).await;
    let fv = values(&sel)[0]["fields"].as_object().unwrap();
    let mut keys: Vec<&str> = fv.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, vec!["@odata.etag", "Priority", "Title"]);
    let (_, sel2) = t.get(&tok, &format!("{items}/1?expand=fields(select=Title)&$select=id,eTag")).await;
    assert_eq!(sel2["fields"]["Title"], "Printer jam");
    assert!(sel2.get("webUrl").is_none() && sel2["eTag"].is_string());
    let (s, e) = t.get(&tok, &format!("{items}?$expand=driveItemz")).await;
    assert_eq!(s, 400);
    assert_graph_error(&e, "invalidRequest");

    // Update fields: eTag and version move, null clears, If-Match is checked.
    let etag1 = created["eTag"].as_str().unwrap().to_string();
    let (s, upd) = t
        .call(&tok, Method::PATCH, &format!("{items}/1/fields"), Some(json!({"Title": "Printer fixed", "Tags": null})))
        .await;
    assert_eq!(s, 200, "{upd}");
    assert_eq!(upd["Title"], "Printer fixed");
    assert!(upd.get("Tags").is_none());
    assert_eq!(upd["Priority"], 2);
    assert_eq!(upd["_UIVersionString"], "2.0");
    let (_, got) = t.get(&tok, &format!("{items}/1")).await;
    assert_ne!(got["eTag"], etag1.as_str());
    let resp = t
        .http
        .patch(t.graph(&format!("{items}/1/fields")))
        .bearer_auth(&tok)
        .header("If-Match", &etag1)
        .json(&json!({"Title": "stale"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 412);
    let e: Value = resp.json().await.unwrap();
    assert_graph_error(&e, "resourceModified");
    let (s, e) =
        t.call(&tok, Method::PATCH, &format!("{items}/1/fields"), Some(json!({"Modified": "2020-01-01"}))).await;
    assert_eq!(s, 400, "{e}");
    let (s, got_fields) = t.get(&tok, &format!("{items}/1/fields")).await;
    assert_eq!(s, 200);
    assert_eq!(got_fields["Title"], "Printer fixed");
    let (s, via_item) =
        t.call(&tok, Method::PATCH, &format!("{items}/2"), Some(json!({"fields": {"Title": "Second!"}}))).await;
    assert_eq!(s, 200);
    assert_eq!(via_item["fields"]["Title"], "Second!");

    // Versions: the current one.
    let (s, vers) = t.get(&tok, &format!("{items}/1/versions?expand=fields")).await;
    assert_eq!(s, 200, "{vers}");
    assert_eq!(values(&vers)[0]["id"], "2.0");
    assert_eq!(values(&vers)[0]["fields"]["Title"], "Printer fixed");

    // Delete.
    let (s, _) = t.call(&tok, Method::DELETE, &format!("{items}/1"), None).await;
    assert_eq!(s, 204);
    let (s, e) = t.get(&tok, &format!("{items}/1")).await;
    assert_eq!(s, 404);
    assert_graph_error(&e, "itemNotFound");
    let (s, _) = t.call(&tok, Method::DELETE, &format!("{items}/1"), None).await;
    assert_eq!(s, 404);
    let (s, _) = t.call(&tok, Method::PATCH, &format!("{items}/1/fields"), Some(json!({"Title": "x"}))).await;
    assert_eq!(s, 404);
    let (s, _) = t.get(&tok, &format!("{items}/abc")).await;
    assert_eq!(s, 400);
    let (_, rest) = t.get(&tok, &items).await;
    assert_eq!(values(&rest).len(), 1);
    let (_, third) = post_item(&t, &tok, &f, json!({"Title": "Third"})).await;
    assert_eq!(third["id"], "3", "ids are never reused");
}

#[tokio::test]
async fn item_paging_and_library_items() {
    let t = TestTenant::start("users=1").await;
    let tok = t.graph_token().await;
    let f = fixture(&t);
    for n in 0..5 {
        let (s, _) = post_item(&t, &tok, &f, json!({ "Title": format!("item {n}") })).await;
        assert_eq!(s, 201);
    }
    let mut url = format!("/sites/{}/lists/{}/items?$top=2&expand=fields", f.site, f.issues);
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let (s, page) = t.get(&tok, &url).await;
        assert_eq!(s, 200, "{page}");
        pages += 1;
        for it in values(&page) {
            assert!(it["fields"]["Title"].is_string(), "expand carried across pages");
            seen.push(it["id"].as_str().unwrap().to_string());
        }
        match page["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, vec!["1", "2", "3", "4", "5"]);
    let (s, _) = t.get(&tok, &format!("/sites/{}/lists/{}/items?$skiptoken=@@@", f.site, f.issues)).await;
    assert_eq!(s, 400);

    // Document-library items are the drive's files and folders.
    {
        let mut st = t.emu.emu.state();
        let now = t.emu.emu.now_from(&st);
        let root = st.drives[&f.drive].root_id.clone();
        let folder = st.create_item(emulator::state::NewItem {
            drive_id: &f.drive,
            parent_id: &root,
            name: "Reports",
            is_folder: true,
            by: Default::default(),
            now,
        });
        st.create_item(emulator::state::NewItem {
            drive_id: &f.drive,
            parent_id: &folder,
            name: "q1.xlsx",
            is_folder: false,
            by: Default::default(),
            now,
        });
    }
    let lib_items = format!("/sites/{}/lists/{}/items", f.site, f.library);
    let (s, lib) = t.get(&tok, &format!("{lib_items}?expand=fields")).await;
    assert_eq!(s, 200, "{lib}");
    let leafs: Vec<&str> = values(&lib).iter().map(|i| i["fields"]["FileLeafRef"].as_str().unwrap()).collect();
    assert_eq!(leafs, vec!["Reports", "q1.xlsx"]);
    assert_eq!(values(&lib)[0]["contentType"]["name"], "Folder");
    assert_eq!(values(&lib)[0]["fields"]["ItemChildCount"], "1");
    assert_eq!(values(&lib)[1]["fields"]["DocIcon"], "xlsx");
    let id = values(&lib)[1]["id"].as_str().unwrap().to_string();
    let (s, one) = t.get(&tok, &format!("{lib_items}/{id}?expand=fields")).await;
    assert_eq!(s, 200);
    assert_eq!(one["fields"]["FileLeafRef"], "q1.xlsx");
    let (s, _) = t.call(&tok, Method::PATCH, &format!("{lib_items}/{id}/fields"), Some(json!({"Title": "x"}))).await;
    assert_eq!(s, 400);
    let (s, _) = t.call(&tok, Method::DELETE, &format!("{lib_items}/{id}"), None).await;
    assert_eq!(s, 204);
    let live = t.emu.emu.state().items.values().filter(|i| i.name == "q1.xlsx" && i.deleted.is_none()).count();
    assert_eq!(live, 0, "deleting the list item deletes the file");
}

#[tokio::test]
async fn list_item_delta_and_resync() {
    let t = TestTenant::start("users=1").await;
    let tok = t.graph_token().await;
    let f = fixture(&t);
    for n in 0..3 {
        post_item(&t, &tok, &f, json!({ "Title": format!("d{n}") })).await;
    }
    let delta = format!("/sites/{}/lists/{}/items/delta", f.site, f.issues);

    // Full enumeration in pages of two.
    let (s, p1) = t.get(&tok, &format!("{delta}?$top=2&expand=fields")).await;
    assert_eq!(s, 200, "{p1}");
    assert_eq!(values(&p1).len(), 2);
    assert!(p1.get("@odata.deltaLink").is_none());
    let (_, p2) = t.get(&tok, p1["@odata.nextLink"].as_str().unwrap()).await;
    assert_eq!(values(&p2).len(), 1);
    assert_eq!(values(&p2)[0]["fields"]["Title"], "d2");
    let link = p2["@odata.deltaLink"].as_str().unwrap().to_string();
    assert!(link.starts_with(&t.base) && link.contains("token="));

    // Nothing changed.
    let (_, same) = t.get(&tok, &link).await;
    assert!(values(&same).is_empty());
    let link = same["@odata.deltaLink"].as_str().unwrap().to_string();

    // token=latest starts from now.
    let (_, latest) = t.get(&tok, &format!("{delta}?token=latest")).await;
    assert!(values(&latest).is_empty());
    let latest_link = latest["@odata.deltaLink"].as_str().unwrap().to_string();

    // Change one, delete one, add one.
    let items = format!("/sites/{}/lists/{}/items", f.site, f.issues);
    t.call(&tok, Method::PATCH, &format!("{items}/1/fields"), Some(json!({"Title": "d0 v2"}))).await;
    t.call(&tok, Method::DELETE, &format!("{items}/2"), None).await;
    post_item(&t, &tok, &f, json!({"Title": "d3"})).await;
    // The first request's $top=2 is carried in the links: this round has two pages.
    let (s, first) = t.get(&tok, &link).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(values(&first).len(), 2);
    let (_, changes) = t.get(&tok, first["@odata.nextLink"].as_str().unwrap()).await;
    let got: Vec<(String, bool)> = values(&first)
        .iter()
        .chain(values(&changes))
        .map(|v| (v["id"].as_str().unwrap().to_string(), v.get("deleted").is_some()))
        .collect();
    assert_eq!(got, vec![("1".into(), false), ("2".into(), true), ("4".into(), false)]);
    let deleted = &values(&first)[1];
    assert_eq!(deleted["deleted"]["state"], "deleted");
    assert!(changes["@odata.deltaLink"].is_string());
    let (_, from_latest) = t.get(&tok, &latest_link).await;
    assert_eq!(values(&from_latest).len(), 3);

    // A full enumeration omits deleted items.
    let (_, full) = t.get(&tok, &delta).await;
    let ids: Vec<&str> = values(&full).iter().map(|v| v["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["3", "1", "4"]);

    // Garbage → 400; forced resync → 410 with a Location that restarts enumeration.
    let (s, e) = t.get(&tok, &format!("{delta}?token=garbage")).await;
    assert_eq!(s, 400);
    assert_graph_error(&e, "invalidRequest");
    let link = changes["@odata.deltaLink"].as_str().unwrap().to_string();
    emulator::graph::lists::force_list_resync(&mut t.emu.emu.state());
    let resp = t.http.get(&link).bearer_auth(&tok).send().await.unwrap();
    assert_eq!(resp.status(), 410);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let body: Value = resp.json().await.unwrap();
    assert_graph_error(&body, "resyncRequired");
    assert_eq!(body["error"]["innerError"]["code"], "resyncChangesApplyDifferences");
    assert!(!location.contains("token="));
    let (s, restart) = t.get(&tok, &location).await;
    assert_eq!(s, 200);
    assert_eq!(values(&restart).len(), 2, "query options survive the resync Location");
    let (_, rest) = t.get(&tok, restart["@odata.nextLink"].as_str().unwrap()).await;
    assert_eq!(values(&rest).len(), 1);
    let (s, _) = t.get(&tok, rest["@odata.deltaLink"].as_str().unwrap()).await;
    assert_eq!(s, 200, "tokens issued after the resync work");

    // A token of one list is not valid for another.
    let other = format!("/sites/{}/lists/{}/items/delta", f.site, f.library);
    let tokq = link.split_once("token=").unwrap().1;
    let (s, _) = t.get(&tok, &format!("{other}?token={tokq}")).await;
    assert_eq!(s, 400);
}
