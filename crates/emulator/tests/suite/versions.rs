//! File versions: listing (newest first, current first), one version, historical content via 302,
//! the refused current-version content, restoreVersion, and folders having no versions.

use crate::common;
use crate::drive_support;

use common::*;
use drive_support::*;
use model::quickxor::quick_xor_base64;
use reqwest::Method;

#[tokio::test]
async fn list_get_and_download_versions() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let d = format!("/drives/{drive}");
    let contents: Vec<Vec<u8>> = (0..3).map(|i| bytes(1000 + i * 10, i as u8)).collect();
    let mut id = String::new();
    for c in &contents {
        let r = put(&t, &token, &format!("{d}/root:/doc.bin:/content"), c).await;
        assert!(r.status == 201 || r.status == 200);
        id = r.json["id"].as_str().unwrap().to_string();
    }
    let base = format!("{d}/items/{id}");

    let (s, v) = t.get(&token, &format!("{base}/versions")).await;
    assert_eq!(s, 200, "{v}");
    let list = v["value"].as_array().unwrap();
    let ids: Vec<&str> = list.iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["3.0", "2.0", "1.0"], "newest (current) first");
    assert_eq!(list[0]["size"], 1020);
    assert_eq!(list[2]["size"], 1000);
    assert_eq!(list[0]["lastModifiedBy"]["application"]["displayName"], "vault365 backup");
    assert!(list[1]["lastModifiedDateTime"].as_str().unwrap().ends_with('Z'));

    // Paging applies to versions too.
    t.emu.emu.state().settings.page_size = 2;
    let (_, v) = t.get(&token, &format!("{base}/versions")).await;
    assert_eq!(v["value"].as_array().unwrap().len(), 2);
    let (_, v2) = t.get(&token, v["@odata.nextLink"].as_str().unwrap()).await;
    assert_eq!(v2["value"][0]["id"], "1.0");

    // Each version's annotation downloads that version's bytes.
    for (i, c) in contents.iter().enumerate() {
        let label = format!("{}.0", i + 1);
        let (s, one) = t.get(&token, &format!("{base}/versions/{label}")).await;
        assert_eq!(s, 200);
        assert_eq!(one["id"], label);
        let r = fetch(&t, one["@microsoft.graph.downloadUrl"].as_str().unwrap(), &[]).await;
        assert_eq!(&r.bytes, c, "version {label}");
        assert_eq!(quick_xor_base64(&r.bytes), quick_xor_base64(c));
    }
    // Historical content via 302; ranges work on version URLs.
    assert_eq!(download(&t, &token, &format!("{base}/versions/1.0/content")).await, contents[0]);
    let r = send(&t, &token, Method::GET, &format!("{base}/versions/2.0/content"), &[], None, None).await;
    let loc = r.header("location").unwrap();
    let part = fetch(&t, &loc, &[("Range", "bytes=10-19")]).await;
    assert_eq!(part.status, 206);
    assert_eq!(part.bytes, contents[1][10..20]);
    // The current version's content is refused (download it via the item instead).
    let r = send(&t, &token, Method::GET, &format!("{base}/versions/3.0/content"), &[], None, None).await;
    assert_eq!(r.status, 400);
    assert_graph_error(&r.json, "invalidRequest");
    // By path too.
    assert_eq!(download(&t, &token, &format!("{d}/root:/doc.bin:/versions/2.0/content")).await, contents[1]);

    // Unknown versions, unknown items, folders.
    for p in
        [format!("{base}/versions/9.0"), format!("{base}/versions/9.0/content"), format!("{d}/items/01NOPE/versions")]
    {
        let (s, e) = t.get(&token, &p).await;
        assert_eq!(s, 404, "{p}");
        assert_graph_error(&e, "itemNotFound");
    }
    let (s, e) = t.get(&token, &format!("{d}/root/versions")).await;
    assert_eq!(s, 404);
    assert_graph_error(&e, "itemNotFound");
}

#[tokio::test]
async fn restore_version_appends() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let d = format!("/drives/{drive}");
    let first = put(&t, &token, &format!("{d}/root:/r.txt:/content"), b"original").await.json;
    let id = first["id"].as_str().unwrap().to_string();
    let base = format!("{d}/items/{id}");
    let second = put(&t, &token, &format!("{base}/content"), b"corrupted!").await.json;

    let r = send(&t, &token, Method::POST, &format!("{base}/versions/1.0/restoreVersion"), &[], None, None).await;
    assert_eq!(r.status, 204, "{}", r.json);
    assert!(r.bytes.is_empty());
    let (_, v) = t.get(&token, &format!("{base}/versions")).await;
    let ids: Vec<&str> = v["value"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["3.0", "2.0", "1.0"], "history kept, new version appended");
    let (_, item) = t.get(&token, &base).await;
    assert_eq!(item["size"], 8);
    assert_eq!(item["file"]["hashes"]["quickXorHash"], quick_xor_base64(b"original"));
    assert_ne!(item["cTag"], second["cTag"]);
    assert_ne!(item["eTag"], second["eTag"]);
    assert_eq!(download(&t, &token, &format!("{base}/content")).await, b"original");
    assert_eq!(download(&t, &token, &format!("{base}/versions/2.0/content")).await, b"corrupted!");

    // Restoring the current version is a no-op success.
    let r = send(&t, &token, Method::POST, &format!("{base}/versions/3.0/restoreVersion"), &[], None, None).await;
    assert_eq!(r.status, 204);
    let (_, after) = t.get(&token, &base).await;
    assert_eq!(after["eTag"], item["eTag"]);
    assert_eq!(t.emu.emu.state().items[&id].versions.len(), 3);

    let r = send(&t, &token, Method::POST, &format!("{base}/versions/7.0/restoreVersion"), &[], None, None).await;
    assert_eq!(r.status, 404);
    let r = send(&t, &token, Method::POST, &format!("{d}/root/versions/1.0/restoreVersion"), &[], None, None).await;
    assert_eq!(r.status, 404);
    // Versions cannot be deleted or written through these routes.
    let r = send(&t, &token, Method::DELETE, &format!("{base}/versions/1.0"), &[], None, None).await;
    assert_eq!(r.status, 405);
}
