//! Drives and drive-item metadata: drive lookups, items by id and path, children paging, folder
//! creation with conflict behaviour and name rules, PATCH (rename/move/fileSystemInfo), DELETE.

use crate::common;
use crate::drive_support;

use common::*;
use drive_support::*;
use reqwest::Method;
use serde_json::json;

fn delegated_token(t: &TestTenant, user_id: &str) -> String {
    let st = t.emu.emu.state();
    let req = emulator::auth::TokenRequest {
        client_id: &t.client_id,
        user_id: Some(user_id),
        audience: emulator::auth::Audience::Graph,
        appidacr: "0",
        scopes: vec!["Files.ReadWrite.All".into()],
    };
    emulator::auth::issue_access_token(&t.emu.emu, &st, &req).0
}

#[tokio::test]
async fn drive_lookups() {
    let t = TestTenant::start("users=2").await;
    let token = t.graph_token().await;
    let (uid, upn, drive) = t.user(0);
    let (uid2, _, drive2) = t.user(1);

    let (s, d) = t.get(&token, &format!("/drives/{drive}")).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["id"], drive);
    assert_eq!(d["driveType"], "business");
    assert_eq!(d["owner"]["user"]["id"], uid);
    assert!(d["quota"]["total"].as_u64().unwrap() > 0);
    assert!(d["sharePointIds"]["listId"].is_string());

    for path in
        [format!("/users/{upn}/drive"), format!("/users/{uid}/drive"), format!("/users/{}/drive", upn.to_uppercase())]
    {
        let (s, d) = t.get(&token, &path).await;
        assert_eq!(s, 200, "{path}: {d}");
        assert_eq!(d["id"], drive);
    }
    // $select keeps id and the selected properties only.
    let (_, d) = t.get(&token, &format!("/drives/{drive}?$select=driveType")).await;
    assert_eq!(d.as_object().unwrap().len(), 2, "{d}");
    assert_eq!(d["driveType"], "business");

    // A user whose OneDrive is not provisioned.
    let ghost = {
        let mut st = t.emu.emu.state();
        let id = st.new_guid("user");
        st.add_user(emulator::state::User {
            id: id.clone(),
            user_principal_name: "ghost@contoso.onmicrosoft.com".into(),
            mail: "ghost@contoso.onmicrosoft.com".into(),
            display_name: "Ghost".into(),
            password: "x".into(),
            mfa_required: false,
            disabled: false,
            drive_id: None,
        });
        id
    };
    let (s, e) = t.get(&token, &format!("/users/{ghost}/drive")).await;
    assert_eq!(s, 404);
    assert_graph_error(&e, "itemNotFound");
    assert!(e["error"]["message"].as_str().unwrap().to_lowercase().contains("mysite"), "{e}");
    let (s, _) = t.get(&token, "/users/nobody@contoso.onmicrosoft.com/drive").await;
    assert_eq!(s, 404);
    let (s, e) = t.get(&token, "/drives/b!doesnotexist").await;
    assert_eq!(s, 404);
    assert_graph_error(&e, "itemNotFound");

    // /me needs a delegated token.
    let (s, _) = t.get(&token, "/me/drive").await;
    assert_eq!(s, 400);
    let user_token = delegated_token(&t, &uid2);
    let (s, d) = t.get(&user_token, "/me/drive").await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["id"], drive2);

    // Site and list drives.
    let (site, list, lib_drive) = {
        let st = t.emu.emu.state();
        let site = st.sites.values().find(|s| !s.is_personal).unwrap().id.clone();
        let list = st.lists.values().find(|l| l.site_id == site).unwrap();
        (site, list.id.clone(), list.drive_id.clone().unwrap())
    };
    let (s, d) = t.get(&token, &format!("/sites/{site}/drive")).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["id"], lib_drive);
    assert_eq!(d["driveType"], "documentLibrary");
    let (s, d) = t.get(&token, &format!("/sites/{site}/lists/{list}/drive")).await;
    assert_eq!(s, 200);
    assert_eq!(d["id"], lib_drive);
    let (s, l) = t.get(&token, &format!("/drives/{lib_drive}/list")).await;
    assert_eq!(s, 200, "{l}");
    assert_eq!(l["id"], list);
    assert_eq!(l["list"]["template"], "documentLibrary");
    assert_eq!(l["displayName"], "Documents");
    assert!(l["webUrl"].as_str().unwrap().starts_with("http"));
}

#[tokio::test]
async fn items_by_id_and_path() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let d = format!("/drives/{drive}");

    let (s, root) = t.get(&token, &format!("{d}/root")).await;
    assert_eq!(s, 200);
    assert_eq!(root["root"], json!({}));
    assert_eq!(root["folder"]["childCount"], 0);
    assert!(root.get("cTag").is_none(), "folders have no cTag: {root}");
    assert!(root.get("@microsoft.graph.downloadUrl").is_none());
    let root_id = root["id"].as_str().unwrap().to_string();

    let a = mkdir(&t, &token, &format!("{d}/root"), "Alpha Beta", None).await;
    assert_eq!(a.status, 201, "{}", a.json);
    let a_id = a.json["id"].as_str().unwrap().to_string();
    assert_eq!(a.json["parentReference"]["id"], root_id);
    assert_eq!(a.json["parentReference"]["path"], format!("/drives/{drive}/root:"));
    assert_eq!(a.json["parentReference"]["driveId"], drive);
    assert!(a.json["webUrl"].as_str().unwrap().ends_with("/Alpha%20Beta"), "{}", a.json["webUrl"]);
    let b = mkdir(&t, &token, &format!("{d}/items/{a_id}"), "Sub", None).await;
    assert_eq!(b.status, 201);
    let b_id = b.json["id"].as_str().unwrap().to_string();
    assert_eq!(b.json["parentReference"]["path"], format!("/drives/{drive}/root:/Alpha Beta"));

    for path in [
        format!("{d}/root:/Alpha%20Beta/Sub:"),
        format!("{d}/root:/alpha%20beta/SUB"),
        format!("{d}/items/{a_id}:/Sub:"),
        format!("{d}/items/{b_id}"),
    ] {
        let (s, v) = t.get(&token, &path).await;
        assert_eq!(s, 200, "{path}: {v}");
        assert_eq!(v["id"], b_id, "{path}");
    }
    let (_, v) = t.get(&token, &format!("{d}/root")).await;
    assert_eq!(v["folder"]["childCount"], 1);

    for path in [format!("{d}/root:/Nope:"), format!("{d}/items/01NOTANITEM"), format!("{d}/items/{a_id}:/x:")] {
        let (s, e) = t.get(&token, &path).await;
        assert_eq!(s, 404, "{path}");
        assert_graph_error(&e, "itemNotFound");
    }
    // An item id from another drive is not found in this one.
    let (s, _) = {
        let other = t.emu.emu.state().drives.keys().find(|k| **k != drive).unwrap().clone();
        t.get(&token, &format!("/drives/{other}/items/{b_id}")).await
    };
    assert_eq!(s, 404);

    // $select and $expand=children.
    let (_, v) = t.get(&token, &format!("{d}/items/{a_id}?$select=name,folder")).await;
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3, "{v}");
    assert_eq!(v["name"], "Alpha Beta");
    let (_, v) = t.get(&token, &format!("{d}/items/{a_id}?$expand=children&$select=id,name")).await;
    assert_eq!(v["children"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["children"][0]["id"], b_id);

    // If-None-Match on the item itself.
    let etag = a.json["eTag"].as_str().unwrap().to_string();
    let r = send(&t, &token, Method::GET, &format!("{d}/items/{a_id}"), &[("If-None-Match", &etag)], None, None).await;
    assert_eq!(r.status, 304);
    let r = send(&t, &token, Method::GET, &format!("{d}/items/{a_id}"), &[("If-None-Match", "\"{X},1\"")], None, None)
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn children_paging_and_order() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let d = format!("/drives/{drive}");
    let parent = mkdir(&t, &token, &format!("{d}/root"), "P", None).await.json["id"].as_str().unwrap().to_string();
    let pp = format!("{d}/items/{parent}");
    for n in ["e", "B", "a", "D", "c"] {
        assert_eq!(mkdir(&t, &token, &pp, n, None).await.status, 201);
    }
    let f = put(&t, &token, &format!("{pp}:/z.txt:/content"), b"hello").await;
    assert_eq!(f.status, 201);
    t.emu.emu.state().settings.page_size = 2;

    let mut names = Vec::new();
    let mut next = Some(format!("{pp}/children"));
    let mut pages = 0;
    while let Some(url) = next {
        let (s, v) = t.get(&token, &url).await;
        assert_eq!(s, 200, "{v}");
        pages += 1;
        let page = v["value"].as_array().unwrap();
        assert!(page.len() <= 2);
        names.extend(page.iter().map(|i| i["name"].as_str().unwrap().to_string()));
        next = v["@odata.nextLink"].as_str().map(str::to_string);
        if let Some(n) = &next {
            assert!(n.starts_with(&t.base), "nextLink must be absolute: {n}");
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, ["a", "B", "c", "D", "e", "z.txt"]);
    // Files in a listing carry a download URL, folders do not.
    let (_, v) = t.get(&token, &format!("{pp}/children?$top=10")).await;
    let value = v["value"].as_array().unwrap();
    assert_eq!(value.len(), 6);
    assert!(value[5]["@microsoft.graph.downloadUrl"].is_string());
    assert!(value[0].get("@microsoft.graph.downloadUrl").is_none());
    assert!(v.get("@odata.nextLink").is_none());

    let (_, v) = t.get(&token, &format!("{pp}/children?$top=10&$orderby=name%20desc&$select=name")).await;
    let names: Vec<&str> = v["value"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["z.txt", "e", "D", "c", "B", "a"]);
    assert!(v["value"][0].get("size").is_none());
    let (_, v) = t.get(&token, &format!("{pp}/children?$orderby=size%20desc&$top=1")).await;
    assert_eq!(v["value"][0]["name"], "z.txt");
    let (s, e) = t.get(&token, &format!("{pp}/children?$orderby=color")).await;
    assert_eq!(s, 400);
    assert_graph_error(&e, "invalidRequest");

    // Path-addressed children; children of a file; of a missing folder.
    let (s, v) = t.get(&token, &format!("{d}/root:/P:/children?$top=100")).await;
    assert_eq!(s, 200);
    assert_eq!(v["value"].as_array().unwrap().len(), 6);
    let (s, v) = t.get(&token, &format!("{pp}:/z.txt:/children")).await;
    assert_eq!(s, 200);
    assert_eq!(v["value"], json!([]));
    let (s, _) = t.get(&token, &format!("{d}/root:/Q:/children")).await;
    assert_eq!(s, 404);

    // If-None-Match: 304 while nothing changed, 200 once something did.
    let fresh = mkdir(&t, &token, &format!("{d}/root"), "Fresh", None).await.json;
    let fresh_item = format!("{d}/items/{}", fresh["id"].as_str().unwrap());
    let etag = fresh["eTag"].as_str().unwrap().to_string();
    let kids = format!("{fresh_item}/children");
    let r = send(&t, &token, Method::GET, &kids, &[("If-None-Match", &etag)], None, None).await;
    assert_eq!(r.status, 304);
    assert!(r.bytes.is_empty());
    let r = send(&t, &token, Method::GET, &kids, &[("If-None-Match", "\"{X},1\"")], None, None).await;
    assert_eq!(r.status, 200);
    mkdir(&t, &token, &fresh_item, "new", None).await;
    let r = send(&t, &token, Method::GET, &kids, &[("If-None-Match", &etag)], None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["value"][0]["name"], "new");
}

#[tokio::test]
async fn create_folder_conflicts_and_names() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let d = format!("/drives/{drive}");
    let root = format!("{d}/root");

    let a = mkdir(&t, &token, &root, "Docs", None).await;
    assert_eq!(a.status, 201);
    assert!(a.json["folder"].is_object());
    assert_eq!(a.json["lastModifiedBy"]["application"]["displayName"], "vault365 backup");
    let a_id = a.json["id"].as_str().unwrap();

    // Default is fail; names compare case-insensitively.
    let r = mkdir(&t, &token, &root, "docs", None).await;
    assert_eq!(r.status, 409);
    assert_graph_error(&r.json, "nameAlreadyExists");
    let r = mkdir(&t, &token, &root, "Docs", Some("fail")).await;
    assert_eq!(r.status, 409);
    // replace on a folder returns the existing folder (idempotent ensure).
    let r = mkdir(&t, &token, &root, "Docs", Some("replace")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["id"], a_id);
    // rename picks "Docs 1", then "Docs 2".
    let r = mkdir(&t, &token, &root, "Docs", Some("rename")).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json["name"], "Docs 1");
    let r = mkdir(&t, &token, &root, "Docs", Some("rename")).await;
    assert_eq!(r.json["name"], "Docs 2");
    let r = mkdir(&t, &token, &root, "Docs", Some("sideways")).await;
    assert_eq!(r.status, 400);

    // A file with the same name: folder-vs-file conflicts even with replace.
    assert_eq!(put(&t, &token, &format!("{root}:/report.txt:/content"), b"x").await.status, 201);
    let r = mkdir(&t, &token, &root, "report.txt", Some("replace")).await;
    assert_eq!(r.status, 409);
    assert_graph_error(&r.json, "nameAlreadyExists");
    // A file cannot be a parent.
    let r = mkdir(&t, &token, &format!("{root}:/report.txt:"), "x", None).await;
    assert_eq!(r.status, 400);
    // Missing parent.
    let r = mkdir(&t, &token, &format!("{root}:/Missing:"), "x", None).await;
    assert_eq!(r.status, 404);
    assert_graph_error(&r.json, "itemNotFound");
    let r = mkdir(&t, &token, &format!("{d}/items/01NOPE"), "x", None).await;
    assert_eq!(r.status, 404);

    for bad in [
        "",
        " ",
        "a*b",
        "a:b",
        "a<b",
        "a>b",
        "a?b",
        "a/b",
        "a\\b",
        "a|b",
        "a\"b",
        "trailing.",
        "trailing ",
        " leading",
        ".lock",
        "CON",
        "nul",
        "COM1",
        "lpt9",
        "desktop.ini",
        "x_vti_y",
        "~$temp.docx",
    ] {
        let r = mkdir(&t, &token, &root, bad, None).await;
        assert_eq!(r.status, 400, "name {bad:?} should be refused");
        assert_graph_error(&r.json, "invalidRequest");
        assert_eq!(r.json["error"]["innerError"]["code"], "invalidPath", "{bad:?}");
    }
    for ok in ["CON1", "console", "desk top.ini", "a.b.c", "ünïcødé"] {
        assert_eq!(mkdir(&t, &token, &root, ok, None).await.status, 201, "{ok:?}");
    }
    // Body problems.
    let r = send(&t, &token, Method::POST, &format!("{root}/children"), &[], None, Some(json!({"folder": {}}))).await;
    assert_eq!(r.status, 400);
    let r = send(&t, &token, Method::POST, &format!("{root}/children"), &[], None, Some(json!({"name": "n"}))).await;
    assert_eq!(r.status, 400);
    let r = send(&t, &token, Method::POST, &format!("{root}/children"), &[], Some(b"{nope".to_vec()), None).await;
    assert_eq!(r.status, 400);
    let r = send(&t, &token, Method::POST, &format!("{root}/children"), &[], None, Some(json!([1]))).await;
    assert_eq!(r.status, 400);

    // An empty file via the file facet is a 0-byte file with a hash.
    let r = send(
        &t,
        &token,
        Method::POST,
        &format!("{root}/children"),
        &[],
        None,
        Some(json!({"name": "e.txt", "file": {}})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["size"], 0);
    assert_eq!(r.json["file"]["hashes"]["quickXorHash"], "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");

    // Everything landed in the state.
    let st = t.emu.emu.state();
    let root_id = st.drives[&drive].root_id.clone();
    let names: Vec<String> = st.children_of(&root_id).iter().map(|i| i.name.clone()).collect();
    assert!(names.contains(&"Docs 2".to_string()) && names.contains(&"ünïcødé".to_string()), "{names:?}");
    assert!(!names.iter().any(|n| n == "CON"));
}

#[tokio::test]
async fn patch_rename_move_metadata() {
    let t = TestTenant::start("users=2").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let d = format!("/drives/{drive}");
    let root = format!("{d}/root");
    let a = mkdir(&t, &token, &root, "A", None).await.json;
    let b = mkdir(&t, &token, &format!("{d}/items/{}", a["id"].as_str().unwrap()), "B", None).await.json;
    let c = mkdir(&t, &token, &root, "C", None).await.json;
    let f = put(&t, &token, &format!("{root}:/A/B/f.txt:/content"), b"0123456789").await.json;
    let fid = f["id"].as_str().unwrap().to_string();
    let fp = format!("{d}/items/{fid}");
    let (aid, bid, cid) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap(), c["id"].as_str().unwrap());

    // Folder sizes are the sum of descendants.
    let (_, v) = t.get(&token, &format!("{d}/items/{aid}")).await;
    assert_eq!(v["size"], 10);

    // Rename: eTag changes, cTag does not (metadata only).
    let r = patch(&t, &token, &fp, json!({"name": "g.txt"})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["name"], "g.txt");
    assert_eq!(r.json["id"], fid);
    assert_ne!(r.json["eTag"], f["eTag"]);
    assert_eq!(r.json["cTag"], f["cTag"]);
    let (s, _) = t.get(&token, &format!("{root}:/A/B/f.txt:")).await;
    assert_eq!(s, 404);
    // Case-only rename is not a conflict with itself.
    let r = patch(&t, &token, &fp, json!({"name": "G.txt"})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["name"], "G.txt");

    // Move by parent id: path and sizes follow.
    let r = patch(&t, &token, &fp, json!({"parentReference": {"id": cid}})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["parentReference"]["id"], cid);
    assert_eq!(r.json["parentReference"]["path"], format!("/drives/{drive}/root:/C"));
    assert_eq!(t.get(&token, &format!("{d}/items/{aid}")).await.1["size"], 0);
    assert_eq!(t.get(&token, &format!("{d}/items/{cid}")).await.1["size"], 10);
    // Move by driveId + id, and by path, with a rename at the same time.
    let r = patch(&t, &token, &fp, json!({"parentReference": {"driveId": drive, "id": bid}, "name": "h.txt"})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["parentReference"]["path"], format!("/drives/{drive}/root:/A/B"));
    let r = patch(&t, &token, &fp, json!({"parentReference": {"path": format!("/drives/{drive}/root:/C")}})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["parentReference"]["id"], cid);

    // Conflicts.
    put(&t, &token, &format!("{d}/items/{cid}:/taken.txt:/content"), b"t").await;
    let r = patch(&t, &token, &fp, json!({"name": "TAKEN.txt"})).await;
    assert_eq!(r.status, 409);
    assert_graph_error(&r.json, "nameAlreadyExists");
    let r = patch(&t, &token, &fp, json!({"name": "taken.txt", "@microsoft.graph.conflictBehavior": "rename"})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["name"], "taken 1.txt");
    // Cycles and bad destinations.
    let r = patch(&t, &token, &format!("{d}/items/{aid}"), json!({"parentReference": {"id": bid}})).await;
    assert_eq!(r.status, 400);
    let r = patch(&t, &token, &format!("{d}/items/{aid}"), json!({"parentReference": {"id": aid}})).await;
    assert_eq!(r.status, 400);
    let r = patch(&t, &token, &format!("{d}/items/{aid}"), json!({"parentReference": {"id": fid}})).await;
    assert_eq!(r.status, 400);
    let r = patch(&t, &token, &fp, json!({"parentReference": {"id": "01MISSING"}})).await;
    assert_eq!(r.status, 404);
    let (_, _, other_drive) = t.user(1);
    let r = patch(&t, &token, &fp, json!({"parentReference": {"driveId": other_drive, "id": "x"}})).await;
    assert_eq!(r.status, 400);
    assert_graph_error(&r.json, "invalidRequest");
    let other_root = t.emu.emu.state().drives[&other_drive].root_id.clone();
    let r = patch(&t, &token, &fp, json!({"parentReference": {"id": other_root}})).await;
    assert_eq!(r.status, 400);
    let r = patch(&t, &token, &fp, json!({"name": "bad:name"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json["error"]["innerError"]["code"], "invalidPath");
    let r = patch(&t, &token, &fp, json!({"name": 5})).await;
    assert_eq!(r.status, 400);
    // The root cannot be renamed or moved.
    let r = patch(&t, &token, &root, json!({"name": "x"})).await;
    assert_eq!(r.status, 403);
    assert_graph_error(&r.json, "accessDenied");

    // fileSystemInfo and description.
    let before = t.get(&token, &fp).await.1;
    let r = patch(
        &t,
        &token,
        &fp,
        json!({"fileSystemInfo": {"createdDateTime": "2020-01-02T03:04:05Z", "lastModifiedDateTime": "2021-06-07T08:09:10+02:00"},
               "description": "restored"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["fileSystemInfo"]["createdDateTime"], "2020-01-02T03:04:05Z");
    assert_eq!(r.json["fileSystemInfo"]["lastModifiedDateTime"], "2021-06-07T06:09:10Z");
    assert_eq!(r.json["description"], "restored");
    assert_ne!(r.json["eTag"], before["eTag"]);
    assert_eq!(r.json["cTag"], before["cTag"]);
    let r = patch(&t, &token, &fp, json!({"fileSystemInfo": {"createdDateTime": "yesterday"}})).await;
    assert_eq!(r.status, 400);
    let r = patch(&t, &token, &fp, json!({"fileSystemInfo": "x"})).await;
    assert_eq!(r.status, 400);

    // If-Match.
    let cur = t.get(&token, &fp).await.1;
    let r = send(
        &t,
        &token,
        Method::PATCH,
        &fp,
        &[("If-Match", "\"{00000000-0000-0000-0000-000000000000},1\"")],
        None,
        Some(json!({"name": "i.txt"})),
    )
    .await;
    assert_eq!(r.status, 412);
    assert_graph_error(&r.json, "resourceModified");
    let etag = cur["eTag"].as_str().unwrap();
    let r = send(&t, &token, Method::PATCH, &fp, &[("If-Match", etag)], None, Some(json!({"name": "i.txt"}))).await;
    assert_eq!(r.status, 200);
    // The old eTag no longer matches.
    let r = send(&t, &token, Method::PATCH, &fp, &[("If-Match", etag)], None, Some(json!({"name": "j.txt"}))).await;
    assert_eq!(r.status, 412);
    let st = t.emu.emu.state();
    assert_eq!(st.items[&fid].name, "i.txt");
    assert_eq!(st.items[&fid].description.as_deref(), Some("restored"));
}

#[tokio::test]
async fn delete_items() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let d = format!("/drives/{drive}");
    let root = format!("{d}/root");
    let a = mkdir(&t, &token, &root, "A", None).await.json;
    let aid = a["id"].as_str().unwrap().to_string();
    let f = put(&t, &token, &format!("{root}:/A/f.bin:/content"), &bytes(1000, 1)).await.json;
    let fid = f["id"].as_str().unwrap().to_string();
    put(&t, &token, &format!("{root}:/keep.bin:/content"), &bytes(24, 2)).await;
    assert_eq!(t.get(&token, &root).await.1["size"], 1024);

    let r =
        send(&t, &token, Method::DELETE, &format!("{d}/items/{fid}"), &[("If-Match", "\"{X},9\"")], None, None).await;
    assert_eq!(r.status, 412);
    let r = send(&t, &token, Method::DELETE, &root, &[], None, None).await;
    assert_eq!(r.status, 403);
    assert_graph_error(&r.json, "accessDenied");

    // Deleting a folder takes its descendants with it.
    let r = send(
        &t,
        &token,
        Method::DELETE,
        &format!("{d}/items/{aid}"),
        &[("If-Match", a["eTag"].as_str().unwrap())],
        None,
        None,
    )
    .await;
    assert_eq!(r.status, 204);
    assert!(r.bytes.is_empty());
    for id in [&aid, &fid] {
        let (s, e) = t.get(&token, &format!("{d}/items/{id}")).await;
        assert_eq!(s, 404);
        assert_graph_error(&e, "itemNotFound");
    }
    let r = send(&t, &token, Method::DELETE, &format!("{d}/items/{aid}"), &[], None, None).await;
    assert_eq!(r.status, 404);
    let (_, v) = t.get(&token, &root).await;
    assert_eq!(v["size"], 24);
    assert_eq!(v["folder"]["childCount"], 1);
    // By path, and the name is free again.
    let r = send(&t, &token, Method::DELETE, &format!("{root}:/keep.bin:"), &[], None, None).await;
    assert_eq!(r.status, 204);
    assert_eq!(mkdir(&t, &token, &root, "A", None).await.status, 201);
    let st = t.emu.emu.state();
    assert!(st.items[&fid].deleted.is_some(), "tombstone kept for delta");
}

#[tokio::test]
async fn list_item_behind_drive_item() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let d = format!("/drives/{drive}");
    let f = put(&t, &token, &format!("{d}/root:/Reports/q1.xlsx:/content"), b"sheet").await.json;
    let (s, li) = t.get(&token, &format!("{d}/items/{}/listItem", f["id"].as_str().unwrap())).await;
    assert_eq!(s, 200, "{li}");
    assert_eq!(li["id"], f["sharepointIds"]["listItemId"]);
    assert_eq!(li["fields"]["FileLeafRef"], "q1.xlsx");
    assert_eq!(li["fields"]["FileSizeDisplay"], "5");
    assert_eq!(li["contentType"]["name"], "Document");
    assert_eq!(li["sharepointIds"]["listItemUniqueId"], f["sharepointIds"]["listItemUniqueId"]);
    let (s, li) = t.get(&token, &format!("{d}/root:/Reports:/listItem")).await;
    assert_eq!(s, 200);
    assert_eq!(li["contentType"]["name"], "Folder");
    assert_eq!(li["fields"]["ItemChildCount"], "1");
    let (s, _) = t.get(&token, &format!("{d}/root/listItem")).await;
    assert_eq!(s, 404);
}
