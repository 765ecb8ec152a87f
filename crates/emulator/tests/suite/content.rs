//! File content: simple upload (new, replace, conflict behaviours, by path and by id), the 302 to
//! pre-authenticated download URLs, Range requests, expiry/tampering, hashes and size limits.

use crate::common;
use crate::drive_support;

use common::*;
use drive_support::*;
use model::quickxor::quick_xor_base64;
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn upload_then_download_round_trip() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let d = format!("/drives/{drive}");
    let data = bytes(100_000, 7);

    let r = put(&t, &token, &format!("{d}/root:/Reports/Q%201/data%20set.csv:/content"), &data).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let item = r.json;
    assert_eq!(item["name"], "data set.csv");
    assert_eq!(item["size"], 100_000);
    assert_eq!(item["file"]["hashes"]["quickXorHash"], quick_xor_base64(&data));
    assert_eq!(item["file"]["mimeType"], "text/csv");
    assert!(item["file"]["hashes"].get("sha1Hash").is_none());
    assert!(item["cTag"].as_str().unwrap().starts_with("\"c:{"));
    assert_eq!(item["parentReference"]["path"], format!("/drives/{drive}/root:/Reports/Q 1"));
    assert_eq!(item["lastModifiedBy"]["application"]["displayName"], "vault365 backup");
    // Missing intermediate folders were created, and sizes roll up.
    let (s, q1) = t.get(&token, &format!("{d}/root:/Reports/Q%201:")).await;
    assert_eq!(s, 200);
    assert!(q1["folder"].is_object());
    assert_eq!(q1["size"], 100_000);
    assert_eq!(t.get(&token, &format!("{d}/root")).await.1["size"], 100_000);

    // /content → 302 → bytes, without Authorization.
    let id = item["id"].as_str().unwrap();
    assert_eq!(download(&t, &token, &format!("{d}/items/{id}/content")).await, data);
    assert_eq!(download(&t, &token, &format!("{d}/root:/Reports/Q%201/data%20set.csv:/content")).await, data);

    // The annotation on GET item is a working download URL with the expected headers.
    let (_, v) = t.get(&token, &format!("{d}/items/{id}")).await;
    let url = v["@microsoft.graph.downloadUrl"].as_str().unwrap().to_string();
    let r = fetch(&t, &url, &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.bytes, data);
    assert_eq!(r.header("content-length").unwrap(), "100000");
    assert_eq!(r.header("content-type").unwrap(), "text/csv");
    assert_eq!(r.header("etag").unwrap(), v["eTag"].as_str().unwrap());
    assert_eq!(r.header("accept-ranges").unwrap(), "bytes");
    let cd = r.header("content-disposition").unwrap();
    assert!(cd.starts_with("attachment;") && cd.contains("filename=\"data set.csv\""), "{cd}");
    assert_eq!(quick_xor_base64(&r.bytes), v["file"]["hashes"]["quickXorHash"].as_str().unwrap());
    // HEAD on the URL gives the headers only.
    let h = t.http.head(&url).send().await.unwrap();
    assert_eq!(h.status(), 200);
    assert_eq!(h.headers()["content-length"], "100000");

    // Ranges.
    let r = fetch(&t, &url, &[("Range", "bytes=0-1023")]).await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.header("content-range").unwrap(), "bytes 0-1023/100000");
    assert_eq!(r.header("content-length").unwrap(), "1024");
    assert_eq!(r.bytes, data[..1024]);
    let r = fetch(&t, &url, &[("Range", "bytes=99000-")]).await;
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-range").unwrap(), "bytes 99000-99999/100000");
    assert_eq!(r.bytes, data[99_000..]);
    let r = fetch(&t, &url, &[("Range", "bytes=-10")]).await;
    assert_eq!(r.status, 206);
    assert_eq!(r.bytes, data[99_990..]);
    let r = fetch(&t, &url, &[("Range", "bytes=50000-50000")]).await;
    assert_eq!(r.bytes, data[50_000..50_001]);
    let r = fetch(&t, &url, &[("Range", "bytes=100000-")]).await;
    assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(r.header("content-range").unwrap(), "bytes */100000");
    assert_graph_error(&r.json, "invalidRange");
    let r = fetch(&t, &url, &[("Range", "bytes=0-1,5-6")]).await;
    assert_eq!(r.status, 200, "multi-range is ignored");
    assert_eq!(r.bytes.len(), 100_000);

    // If-None-Match on /content: eTag or cTag → 304, anything else → 302.
    for tag in [v["eTag"].as_str().unwrap(), v["cTag"].as_str().unwrap()] {
        let r =
            send(&t, &token, Method::GET, &format!("{d}/items/{id}/content"), &[("If-None-Match", tag)], None, None)
                .await;
        assert_eq!(r.status, 304, "{tag}");
    }
    let r = send(
        &t,
        &token,
        Method::GET,
        &format!("{d}/items/{id}/content"),
        &[("If-None-Match", "\"c:{X},1\"")],
        None,
        None,
    )
    .await;
    assert_eq!(r.status, 302);

    // Folders and missing items have no content.
    let r = send(&t, &token, Method::GET, &format!("{d}/root:/Reports:/content"), &[], None, None).await;
    assert_eq!(r.status, 400);
    assert_graph_error(&r.json, "invalidRequest");
    let r = send(&t, &token, Method::GET, &format!("{d}/root:/nope.txt:/content"), &[], None, None).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn empty_and_unicode_files() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let d = format!("/drives/{drive}");
    let r = put(&t, &token, &format!("{d}/root:/empty.bin:/content"), b"").await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json["size"], 0);
    assert_eq!(r.json["file"]["hashes"]["quickXorHash"], "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    let url = r.json["@microsoft.graph.downloadUrl"].as_str().unwrap().to_string();
    let e = fetch(&t, &url, &[]).await;
    assert_eq!(e.status, 200);
    assert!(e.bytes.is_empty());
    let e = fetch(&t, &url, &[("Range", "bytes=0-")]).await;
    assert_eq!(e.status, 416);
    assert_eq!(e.header("content-range").unwrap(), "bytes */0");

    let r = put(&t, &token, &format!("{d}/root:/%C3%BCber%20%E2%82%AC.txt:/content"), "€uro".as_bytes()).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json["name"], "über €.txt");
    let g = fetch(&t, r.json["@microsoft.graph.downloadUrl"].as_str().unwrap(), &[]).await;
    assert_eq!(g.bytes, "€uro".as_bytes());
    let cd = g.header("content-disposition").unwrap();
    assert!(cd.contains("filename*=UTF-8''%C3%BCber%20%E2%82%AC%2Etxt"), "{cd}");
}

#[tokio::test]
async fn upload_conflict_behaviours() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let d = format!("/drives/{drive}");
    let root_id = t.emu.emu.state().drives[&drive].root_id.clone();
    let path = format!("{d}/items/{root_id}:/notes.txt:/content");

    let first = put(&t, &token, &path, b"one").await;
    assert_eq!(first.status, 201);
    let id = first.json["id"].as_str().unwrap().to_string();

    // Default is replace: same item, 200, new eTag and cTag, new hash.
    let second = put(&t, &token, &path, b"second").await;
    assert_eq!(second.status, 200, "{}", second.json);
    assert_eq!(second.json["id"], id);
    assert_eq!(second.json["size"], 6);
    assert_ne!(second.json["eTag"], first.json["eTag"]);
    assert_ne!(second.json["cTag"], first.json["cTag"]);
    assert_eq!(second.json["file"]["hashes"]["quickXorHash"], quick_xor_base64(b"second"));
    let r = put(&t, &token, &format!("{path}?@microsoft.graph.conflictBehavior=replace"), b"third").await;
    assert_eq!(r.status, 200);
    assert_eq!(t.emu.emu.state().items[&id].versions.len(), 3);

    let r = put(&t, &token, &format!("{path}?@microsoft.graph.conflictBehavior=fail"), b"x").await;
    assert_eq!(r.status, 409);
    assert_graph_error(&r.json, "nameAlreadyExists");
    let r =
        put(&t, &token, &format!("{d}/root:/NOTES.TXT:/content?@microsoft.graph.conflictBehavior=fail"), b"x").await;
    assert_eq!(r.status, 409, "names compare case-insensitively");
    let r = put(&t, &token, &format!("{path}?@microsoft.graph.conflictBehavior=rename"), b"renamed").await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json["name"], "notes 1.txt");
    assert_ne!(r.json["id"], id);
    let r = put(&t, &token, &format!("{path}?@microsoft.graph.conflictBehavior=rename"), b"renamed").await;
    assert_eq!(r.json["name"], "notes 2.txt");
    let r = put(&t, &token, &format!("{path}?@microsoft.graph.conflictBehavior=whatever"), b"x").await;
    assert_eq!(r.status, 400);
    // fail on a free name creates.
    let r =
        put(&t, &token, &format!("{d}/root:/fresh.txt:/content?@microsoft.graph.conflictBehavior=fail"), b"f").await;
    assert_eq!(r.status, 201);

    // Folder in the way.
    mkdir(&t, &token, &format!("{d}/root"), "Dir", None).await;
    let r = put(&t, &token, &format!("{d}/root:/Dir:/content"), b"x").await;
    assert_eq!(r.status, 409);
    let r = put(&t, &token, &format!("{d}/root:/Dir:/content?@microsoft.graph.conflictBehavior=rename"), b"x").await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json["name"], "Dir 1");
    // A file in the middle of the path.
    let r = put(&t, &token, &format!("{d}/root:/notes.txt/inner.txt:/content"), b"x").await;
    assert_eq!(r.status, 409);
    // Invalid names anywhere in the path.
    for bad in ["a%3Fb.txt", "CON", "x/desktop.ini", "bad%7Cdir/ok.txt", "trailing."] {
        let r = put(&t, &token, &format!("{d}/root:/{bad}:/content"), b"x").await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.json["error"]["innerError"]["code"], "invalidPath", "{bad}");
    }
    let (s, _) = t.get(&token, &format!("{d}/root:/bad%7Cdir:")).await;
    assert_eq!(s, 404, "nothing is created when the path is refused");
    // Unknown parent id.
    let r = put(&t, &token, &format!("{d}/items/01NOPE:/x.txt:/content"), b"x").await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn replace_content_by_id_and_if_match() {
    let t = TestTenant::start("users=2").await;
    let token = t.graph_token().await;
    let (uid, _, drive) = t.user(0);
    let d = format!("/drives/{drive}");
    let item = put(&t, &token, &format!("{d}/root:/a.docx:/content"), b"v1").await.json;
    let id = item["id"].as_str().unwrap().to_string();
    let p = format!("{d}/items/{id}/content");

    let r = send(
        &t,
        &token,
        Method::PUT,
        &p,
        &[("If-Match", "\"{00000000-0000-0000-0000-000000000000},1\"")],
        Some(b"no".to_vec()),
        None,
    )
    .await;
    assert_eq!(r.status, 412);
    assert_graph_error(&r.json, "resourceModified");
    // Matching eTag or cTag both pass.
    let r =
        send(&t, &token, Method::PUT, &p, &[("If-Match", item["eTag"].as_str().unwrap())], Some(b"v2".to_vec()), None)
            .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["id"], id);
    let r = send(
        &t,
        &token,
        Method::PUT,
        &p,
        &[("If-Match", r.json["cTag"].as_str().unwrap())],
        Some(b"v3!".to_vec()),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["size"], 3);
    // If-Match on a path that does not exist yet can never match.
    let r = send(
        &t,
        &token,
        Method::PUT,
        &format!("{d}/root:/new.txt:/content"),
        &[("If-Match", "*")],
        Some(b"n".to_vec()),
        None,
    )
    .await;
    assert_eq!(r.status, 412);
    assert_eq!(download(&t, &token, &p).await, b"v3!");

    // A delegated caller is recorded as lastModifiedBy.user.
    let user_token = {
        let st = t.emu.emu.state();
        let req = emulator::auth::TokenRequest {
            client_id: &t.client_id,
            user_id: Some(&uid),
            audience: emulator::auth::Audience::Graph,
            appidacr: "0",
            scopes: vec!["Files.ReadWrite.All".into()],
        };
        emulator::auth::issue_access_token(&t.emu.emu, &st, &req).0
    };
    let r = put(&t, &user_token, &p, b"by user").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["lastModifiedBy"]["user"]["id"], uid);
    assert_eq!(r.json["createdBy"]["application"]["displayName"], "vault365 backup");

    // Content of folders and the root cannot be written.
    let r = put(&t, &token, &format!("{d}/root/content"), b"x").await;
    assert_eq!(r.status, 501);
    assert_graph_error(&r.json, "notSupported");
    let r = put(&t, &token, &format!("{d}/items/01NOPE/content"), b"x").await;
    assert_eq!(r.status, 404);
    let st = t.emu.emu.state();
    assert_eq!(st.items[&id].versions.len(), 4);
    assert_eq!(st.items[&id].size, 7);
}

#[tokio::test]
async fn download_url_expiry_and_tampering() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let d = format!("/drives/{drive}");
    let item = put(&t, &token, &format!("{d}/root:/s.txt:/content"), b"secret").await.json;
    let url = item["@microsoft.graph.downloadUrl"].as_str().unwrap().to_string();
    assert_eq!(fetch(&t, &url, &[]).await.bytes, b"secret");

    // Tampered token.
    let (head, tail) = url.rsplit_once('.').unwrap();
    let flipped = if tail.starts_with('A') { tail.replacen('A', "B", 1) } else { format!("A{}", &tail[1..]) };
    let r = fetch(&t, &format!("{head}.{flipped}"), &[]).await;
    assert_eq!(r.status, 401);
    assert_graph_error(&r.json, "unauthenticated");
    let r = fetch(&t, &format!("{}/_dl/garbage", t.base), &[]).await;
    assert_eq!(r.status, 401);

    // Deleted item: the URL no longer serves.
    let other = put(&t, &token, &format!("{d}/root:/gone.txt:/content"), b"bye").await.json;
    let gone_url = other["@microsoft.graph.downloadUrl"].as_str().unwrap().to_string();
    let r = send(&t, &token, Method::DELETE, &format!("{d}/items/{}", other["id"].as_str().unwrap()), &[], None, None)
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(fetch(&t, &gone_url, &[]).await.status, 404);

    // Expiry follows the emulator clock (URLs live one hour).
    t.emu.emu.state().settings.clock_offset_secs = 3700;
    let r = fetch(&t, &url, &[]).await;
    assert_eq!(r.status, 401);
    assert_graph_error(&r.json, "unauthenticated");
    assert_eq!(r.json["error"]["innerError"]["code"], "expiredToken");
}

#[tokio::test]
async fn simple_upload_size_limit() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let big = vec![0u8; 250 * 1024 * 1024 + 1];
    // Sent straight from the buffer: the helper would copy 250 MB.
    let resp = t
        .http
        .put(t.graph(&format!("/drives/{drive}/root:/big.bin:/content")))
        .bearer_auth(&token)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_graph_error(&body, "invalidRequest");
    assert_eq!(body["error"]["innerError"]["code"], "maxFileSizeExceeded");
    let (s, _) = t.get(&token, &format!("/drives/{drive}/root:/big.bin:")).await;
    assert_eq!(s, 404);
}
