//! Upload sessions (graph-notes §5.2): createUploadSession (new file / new version, conflicts,
//! quota), fragment rules on the pre-authenticated upload URL, completion, deferCommit, status,
//! cancel and expiry.

use crate::common;

use common::*;
use emulator::state::{IdentitySet, NewItem};
use reqwest::Method;
use serde_json::{json, Value};

const FRAG: usize = 327_680;

fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u32).wrapping_mul(2_654_435_761).rotate_left(seed as u32 % 31) as u8 ^ seed).collect()
}

fn mk_file(t: &TestTenant, drive: &str, parent: &str, name: &str, content: &[u8]) -> String {
    let now = chrono::Utc::now();
    let (c, size, qx) = t.emu.emu.blobs.put(content).unwrap();
    let mut st = t.emu.emu.state();
    let id = st.create_item(NewItem {
        drive_id: drive,
        parent_id: parent,
        name,
        is_folder: false,
        by: IdentitySet::default(),
        now,
    });
    st.add_version(&id, c, size, qx, IdentitySet::default(), now);
    id
}

fn root_of(t: &TestTenant, drive: &str) -> String {
    t.emu.emu.state().drives[drive].root_id.clone()
}

async fn session(t: &TestTenant, token: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let (s, v) = t.call(token, Method::POST, path, body).await;
    (s.as_u16(), v)
}

async fn new_session(t: &TestTenant, token: &str, path: &str, body: Value) -> String {
    let (s, v) = session(t, token, path, Some(body)).await;
    assert_eq!(s, 200, "{v}");
    let url = v["uploadUrl"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{}/_up/", t.base)), "{url}");
    assert_eq!(v["nextExpectedRanges"], json!(["0-"]));
    assert!(v["expirationDateTime"].is_string());
    url
}

/// PUT one fragment without Authorization.
async fn put(t: &TestTenant, url: &str, data: &[u8], start: usize, total: usize) -> (u16, Value) {
    let resp = t
        .http
        .put(url)
        .header("Content-Range", format!("bytes {}-{}/{}", start, start + data.len() - 1, total))
        .body(data.to_vec())
        .send()
        .await
        .unwrap();
    let s = resp.status().as_u16();
    let b = resp.bytes().await.unwrap();
    (s, if b.is_empty() { Value::Null } else { serde_json::from_slice(&b).unwrap() })
}

async fn raw(t: &TestTenant, m: Method, url: &str) -> (u16, Value) {
    let resp = t.http.request(m, url).send().await.unwrap();
    let s = resp.status().as_u16();
    let b = resp.bytes().await.unwrap();
    (s, if b.is_empty() { Value::Null } else { serde_json::from_slice(&b).unwrap() })
}

fn content_of(t: &TestTenant, id: &str) -> Vec<u8> {
    let c = t.emu.emu.state().items[id].versions.last().unwrap().content.clone();
    t.emu.emu.blobs.read_all(&c).unwrap()
}

#[tokio::test]
async fn three_fragments_create_a_file_with_the_right_hash() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let data = bytes(FRAG * 2 + 1000, 7);
    let url = new_session(
        &t,
        &token,
        &format!("/drives/{drive}/root:/Big/data.bin:/createUploadSession"),
        json!({"item": {"fileSize": data.len(), "description": "big one",
            "fileSystemInfo": {"lastModifiedDateTime": "2020-01-02T03:04:05Z"}}}),
    )
    .await;

    let (s, v) = put(&t, &url, &data[..FRAG], 0, data.len()).await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(v["nextExpectedRanges"], json!([format!("{FRAG}-")]));
    let (s, v) = put(&t, &url, &data[FRAG..2 * FRAG], FRAG, data.len()).await;
    assert_eq!(s, 202, "{v}");
    let (s, v) = raw(&t, Method::GET, &url).await;
    assert_eq!(s, 200);
    assert_eq!(v["nextExpectedRanges"], json!([format!("{}-", 2 * FRAG)]));

    let (s, item) = put(&t, &url, &data[2 * FRAG..], 2 * FRAG, data.len()).await;
    assert_eq!(s, 201, "{item}");
    assert_eq!(item["name"], "data.bin");
    assert_eq!(item["size"], data.len());
    assert_eq!(item["file"]["hashes"]["quickXorHash"], model::quickxor::quick_xor_base64(&data));
    assert_eq!(item["fileSystemInfo"]["lastModifiedDateTime"], "2020-01-02T03:04:05Z");
    assert_eq!(item["description"], "big one");
    let id = item["id"].as_str().unwrap().to_string();
    assert_eq!(content_of(&t, &id), data);
    {
        let st = t.emu.emu.state();
        let parent = st.items[&id].parent_id.clone().unwrap();
        assert_eq!(st.items[&parent].name, "Big", "missing folder created");
        assert!(st.upload_sessions.is_empty(), "finished session removed");
    }
    // The session is gone once completed.
    let (s, v) = put(&t, &url, &data[..FRAG], 0, data.len()).await;
    assert_eq!(s, 404);
    assert_graph_error(&v, "itemNotFound");
    assert_eq!(v["error"]["innerError"]["code"], "uploadSessionNotFound");
}

#[tokio::test]
async fn fragment_rule_violations() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let data = bytes(FRAG * 3, 3);
    let total = data.len();
    let url =
        new_session(&t, &token, &format!("/drives/{drive}/root:/rules.bin:/createUploadSession"), json!({})).await;

    // No Content-Range.
    let resp = t.http.put(&url).body(data[..FRAG].to_vec()).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_graph_error(&resp.json().await.unwrap(), "invalidRequest");
    // Malformed Content-Range.
    let resp = t.http.put(&url).header("Content-Range", "bytes=0-9").body(vec![0u8; 10]).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    // A bearer token on the pre-authenticated URL is refused.
    let resp = t
        .http
        .put(&url)
        .bearer_auth(&token)
        .header("Content-Range", format!("bytes 0-{}/{total}", FRAG - 1))
        .body(data[..FRAG].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // Body shorter than the range.
    let resp = t
        .http
        .put(&url)
        .header("Content-Range", format!("bytes 0-{}/{total}", FRAG - 1))
        .body(data[..100].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["innerError"]["code"], "fragmentLengthMismatch");
    // Non-final fragment not a multiple of 320 KiB.
    let (s, v) = put(&t, &url, &data[..1000], 0, total).await;
    assert_eq!(s, 400);
    assert_graph_error(&v, "invalidRequest");
    assert_eq!(v["error"]["innerError"]["code"], "invalidFragmentSize");
    // Gap.
    let (s, v) = put(&t, &url, &data[FRAG..2 * FRAG], FRAG, total).await;
    assert_eq!(s, 416);
    assert_graph_error(&v, "invalidRange");
    assert_eq!(v["error"]["innerError"]["code"], "fragmentOutOfOrder");

    let (s, _) = put(&t, &url, &data[..FRAG], 0, total).await;
    assert_eq!(s, 202);
    // Overlap: the same fragment again.
    let (s, v) = put(&t, &url, &data[..FRAG], 0, total).await;
    assert_eq!(s, 416);
    assert_graph_error(&v, "invalidRange");
    assert_eq!(v["error"]["innerError"]["code"], "fragmentOverlap");
    // The total must not change.
    let (s, v) = put(&t, &url, &data[FRAG..2 * FRAG], FRAG, total + 1).await;
    assert_eq!(s, 400, "{v}");
    // Too big a fragment (announced length).
    let resp = t
        .http
        .put(&url)
        .header("Content-Range", format!("bytes {FRAG}-{}/{}", FRAG + 61 * 1024 * 1024 - 1, 200 * 1024 * 1024))
        .body(vec![0u8; 16])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);

    // After all that, the session still continues where it was.
    let (s, _) = put(&t, &url, &data[FRAG..], FRAG, total).await;
    assert_eq!(s, 201);
    let id = t.emu.emu.state().items.values().find(|i| i.name == "rules.bin").unwrap().id.clone();
    assert_eq!(content_of(&t, &id), data);

    // Without strict fragment sizes, odd sizes are accepted.
    t.emu.emu.state().settings.strict_fragments = false;
    let url = new_session(&t, &token, &format!("/drives/{drive}/root:/lax.bin:/createUploadSession"), json!({})).await;
    let (s, _) = put(&t, &url, &data[..1000], 0, 3000).await;
    assert_eq!(s, 202);
    let (s, item) = put(&t, &url, &data[1000..3000], 1000, 3000).await;
    assert_eq!(s, 201);
    assert_eq!(item["file"]["hashes"]["quickXorHash"], model::quickxor::quick_xor_base64(&data[..3000]));
}

#[tokio::test]
async fn existing_item_gets_a_new_version() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let root = root_of(&t, &drive);
    let id = mk_file(&t, &drive, &root, "doc.txt", b"version one");
    let folder = {
        let mut st = t.emu.emu.state();
        st.create_item(NewItem {
            drive_id: &drive,
            parent_id: &root,
            name: "F",
            is_folder: true,
            by: IdentitySet::default(),
            now: chrono::Utc::now(),
        })
    };
    let url = new_session(&t, &token, &format!("/drives/{drive}/items/{id}/createUploadSession"), json!({})).await;
    let (s, item) = put(&t, &url, b"version two!", 0, 12).await;
    assert_eq!(s, 200, "{item}");
    assert_eq!(item["id"], id.as_str());
    assert_eq!(content_of(&t, &id), b"version two!");
    assert_eq!(t.emu.emu.state().items[&id].versions.len(), 2);

    // Replace by path also writes a new version of the same item.
    let url = new_session(
        &t,
        &token,
        &format!("/drives/{drive}/root:/doc.txt:/createUploadSession"),
        json!({"item": {"@microsoft.graph.conflictBehavior": "replace"}}),
    )
    .await;
    let (s, item) = put(&t, &url, b"three", 0, 5).await;
    assert_eq!(s, 200);
    assert_eq!(item["id"], id.as_str());
    assert_eq!(t.emu.emu.state().items[&id].versions.len(), 3);

    // Folders cannot take content; If-Match must match.
    let (s, v) = session(&t, &token, &format!("/drives/{drive}/items/{folder}/createUploadSession"), None).await;
    assert_eq!(s, 400, "{v}");
    let resp = t
        .http
        .post(t.graph(&format!("/drives/{drive}/items/{id}/createUploadSession")))
        .bearer_auth(&token)
        .header("If-Match", "\"{00000000-0000-0000-0000-000000000000},1\"")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 412);
    let (s, _) = session(&t, &token, &format!("/drives/{drive}/items/01NOPE/createUploadSession"), None).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn conflicts_at_creation_and_at_commit_and_quota() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let root = root_of(&t, &drive);
    mk_file(&t, &drive, &root, "dup.txt", b"original");

    // Default conflictBehavior for sessions is fail.
    let (s, v) = session(&t, &token, &format!("/drives/{drive}/root:/dup.txt:/createUploadSession"), None).await;
    assert_eq!(s, 409);
    assert_graph_error(&v, "nameAlreadyExists");
    // rename → "dup 1.txt".
    let url = new_session(
        &t,
        &token,
        &format!("/drives/{drive}/root:/dup.txt:/createUploadSession"),
        json!({"item": {"@microsoft.graph.conflictBehavior": "rename"}}),
    )
    .await;
    let (s, item) = put(&t, &url, b"copy", 0, 4).await;
    assert_eq!(s, 201);
    assert_eq!(item["name"], "dup 1.txt");

    // Name appears between creation and commit → 409 at the last fragment.
    let url = new_session(&t, &token, &format!("/drives/{drive}/root:/late.txt:/createUploadSession"), json!({})).await;
    mk_file(&t, &drive, &root, "late.txt", b"someone else");
    let (s, v) = put(&t, &url, b"mine", 0, 4).await;
    assert_eq!(s, 409, "{v}");
    assert_graph_error(&v, "nameAlreadyExists");

    // Invalid bodies.
    let (s, _) = session(
        &t,
        &token,
        &format!("/drives/{drive}/root:/x.txt:/createUploadSession"),
        Some(json!({"item": {"name": "other.txt"}})),
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = session(
        &t,
        &token,
        &format!("/drives/{drive}/root:/x.txt:/createUploadSession"),
        Some(json!({"item": {"@microsoft.graph.conflictBehavior": "explode"}})),
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = session(&t, &token, &format!("/drives/{drive}/root:/bad:name.txt:/createUploadSession"), None).await;
    assert_eq!(s, 400);

    // More than the remaining quota → 507, and no session.
    let (s, v) = session(
        &t,
        &token,
        &format!("/drives/{drive}/root:/huge.bin:/createUploadSession"),
        Some(json!({"item": {"fileSize": 1u64 << 41}})),
    )
    .await;
    assert_eq!(s, 507);
    assert_graph_error(&v, "quotaLimitReached");
    assert_eq!(t.emu.emu.state().upload_sessions.len(), 1, "only the session that hit the conflict remains");
}

#[tokio::test]
async fn defer_commit_cancel_and_expiry() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);

    // deferCommit: the last byte answers 202; POST commits.
    let url = new_session(
        &t,
        &token,
        &format!("/drives/{drive}/root:/deferred.txt:/createUploadSession"),
        json!({"deferCommit": true}),
    )
    .await;
    let (s, v) = raw(&t, Method::POST, &url).await;
    assert_eq!(s, 400, "nothing uploaded yet: {v}");
    assert_eq!(v["error"]["innerError"]["code"], "uploadSessionIncomplete");
    let (s, v) = put(&t, &url, b"deferred", 0, 8).await;
    assert_eq!(s, 202);
    assert_eq!(v["nextExpectedRanges"], json!([]));
    assert!(!t.emu.emu.state().items.values().any(|i| i.name == "deferred.txt"), "not committed yet");
    let (s, item) = raw(&t, Method::POST, &url).await;
    assert_eq!(s, 201, "{item}");
    assert_eq!(item["name"], "deferred.txt");
    let (s, _) = raw(&t, Method::POST, &url).await;
    assert_eq!(s, 404);

    // deferCommit with a conflict at commit → 409, and the commit can be retried after it is resolved.
    let url = new_session(
        &t,
        &token,
        &format!("/drives/{drive}/root:/d2.txt:/createUploadSession"),
        json!({"deferCommit": true}),
    )
    .await;
    let (s, _) = put(&t, &url, b"abc", 0, 3).await;
    assert_eq!(s, 202);
    let root = root_of(&t, &drive);
    let other = mk_file(&t, &drive, &root, "d2.txt", b"zzz");
    let (s, v) = raw(&t, Method::POST, &url).await;
    assert_eq!(s, 409);
    assert_graph_error(&v, "nameAlreadyExists");
    t.emu.emu.state().delete_item(&other, chrono::Utc::now());
    let (s, item) = raw(&t, Method::POST, &url).await;
    assert_eq!(s, 201, "{item}");

    // Cancel.
    let url =
        new_session(&t, &token, &format!("/drives/{drive}/root:/cancel.txt:/createUploadSession"), json!({})).await;
    let (s, _) = put(&t, &url, &bytes(FRAG, 1), 0, FRAG * 2).await;
    assert_eq!(s, 202);
    let (s, _) = raw(&t, Method::DELETE, &url).await;
    assert_eq!(s, 204);
    let (s, v) = raw(&t, Method::GET, &url).await;
    assert_eq!(s, 404);
    assert_eq!(v["error"]["innerError"]["code"], "uploadSessionNotFound");
    let (s, _) = raw(&t, Method::DELETE, &url).await;
    assert_eq!(s, 404);

    // Expiry on the emulator clock; every fragment extends it.
    let url = new_session(&t, &token, &format!("/drives/{drive}/root:/slow.bin:/createUploadSession"), json!({})).await;
    let (_, first) = raw(&t, Method::GET, &url).await;
    t.emu.emu.state().settings.clock_offset_secs = 600;
    let (s, v) = put(&t, &url, &bytes(FRAG, 2), 0, FRAG * 2).await;
    assert_eq!(s, 202);
    assert!(
        v["expirationDateTime"].as_str().unwrap() > first["expirationDateTime"].as_str().unwrap(),
        "expiry extended: {v} vs {first}"
    );
    t.emu.emu.state().settings.clock_offset_secs = 600 + 901;
    let (s, v) = put(&t, &url, &bytes(FRAG, 2), FRAG, FRAG * 2).await;
    assert_eq!(s, 404);
    assert_graph_error(&v, "itemNotFound");
    assert_eq!(v["error"]["innerError"]["code"], "uploadSessionNotFound");

    // Forced expiry (control API helper).
    let url =
        new_session(&t, &token, &format!("/drives/{drive}/root:/forced.bin:/createUploadSession"), json!({})).await;
    emulator::graph::upload::expire_all_sessions(&mut t.emu.emu.state());
    let (s, _) = raw(&t, Method::GET, &url).await;
    assert_eq!(s, 404);
    assert!(t.emu.emu.state().upload_sessions.is_empty());
}
