//! Save of OneDrive content over HTTPS, both eras: raw documents, versions, ZIPs of several documents, folders and
//! whole OneDrives; bytes compared with what was backed up (quickXorHash); seed bodies; errors.

use crate::common;

use std::collections::HashSet;
use std::io::{Cursor, Read};

use api::resources::browse_util::{numbered_versions, walk_tree};
use common::*;
use model::quickxor::QuickXor;
use repo::catalog::{ItemKind, ItemRow};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn qx(data: &[u8]) -> String {
    let mut h = QuickXor::new();
    h.update(data);
    h.finalize_base64()
}

struct Download {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

async fn post_bytes(s: &TestServer, path: &str, token: Option<&str>, body: Option<&str>) -> Download {
    let mut rq = s.client.post(s.url(path));
    if let Some(t) = token {
        rq = rq.bearer_auth(t);
    }
    if let Some(b) = body {
        rq = rq.header("content-type", "application/json").body(b.to_string());
    }
    let r = rq.send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let body = r.bytes().await.unwrap().to_vec();
    Download { status, headers, body }
}

/// POST as the admin; asserts a 200 octet-stream download with a matching Content-Length.
async fn save(s: &TestServer, path: &str, body: Option<&str>) -> Vec<u8> {
    let d = post_bytes(s, path, Some(&s.token), body).await;
    assert_eq!(d.status, StatusCode::OK, "{path}: {}", String::from_utf8_lossy(&d.body));
    assert_eq!(d.headers["content-type"], "application/octet-stream");
    assert_eq!(d.headers["content-length"].to_str().unwrap().parse::<usize>().unwrap(), d.body.len());
    let cd = d.headers["content-disposition"].to_str().unwrap();
    assert!(cd.starts_with("attachment; filename=\"") && cd.contains("filename*=UTF-8''"), "{cd}");
    d.body
}

async fn error(s: &TestServer, path: &str, token: Option<&str>, body: Option<&str>) -> (StatusCode, String) {
    let d = post_bytes(s, path, token, body).await;
    let v: Value = serde_json::from_slice(&d.body).unwrap_or(Value::Null);
    (d.status, v["message"].as_str().unwrap_or("").to_string())
}

/// Entries of a ZIP (name, bytes); also checks it with Python's zipfile.
pub(crate) fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.zip");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("python3").arg("-m").arg("zipfile").arg("-t").arg(&path).output().unwrap();
    assert!(out.status.success(), "python zipfile -t: {}", String::from_utf8_lossy(&out.stderr));
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            (f.name().to_string(), data)
        })
        .collect()
}

fn hash_of(row: &ItemRow) -> String {
    row.state.quick_xor_hash.clone().unwrap_or_default()
}

/// Every file entry of `zip` matches a backed-up file of `rows` by name and hash; returns the number of files.
fn check_zip_against(zip: &[(String, Vec<u8>)], rows: &[ItemRow], prefix: &str) -> usize {
    let hashes: HashSet<(String, String)> =
        rows.iter().filter(|r| !r.state.is_folder).map(|r| (r.state.name.clone(), hash_of(r))).collect();
    let mut files = 0;
    for (name, data) in zip {
        assert!(name.starts_with(prefix), "{name} outside {prefix}");
        if name.ends_with('/') {
            continue;
        }
        let base = name.rsplit('/').next().unwrap().to_string();
        assert!(hashes.contains(&(base.clone(), qx(data))), "{name}: content differs from the backup");
        files += 1;
    }
    files
}

#[tokio::test]
async fn save_onedrive_items_both_eras() {
    let s = shared().await;
    let c = s.changes.clone();
    let od = c.onedrive;
    let rows = walk_tree(&s.catalog, od, None, s.t2, true, ItemKind::Any).await.unwrap();
    let files: Vec<&ItemRow> = rows.iter().filter(|r| !r.state.is_folder).collect();
    assert!(rows.iter().any(|r| r.state.is_folder), "the seed makes folders");

    // ---- v8 (verb era)
    let sid = s.explore(8, "Veod", None).await;
    let base = format!("/v8/RestoreSessions/{sid}/Organization/OneDrives/{od}");

    // One document, raw.
    let raw = save(&s, &format!("{base}/Documents/{}/save", c.edited), Some(r#"{"asZip":false}"#)).await;
    assert_eq!(raw, c.edited_content);
    let raw = save(&s, &format!("{base}/Documents/{}/save", c.created), None).await;
    assert_eq!(raw, b"a brand new file");

    // One document as a ZIP.
    let z = unzip(&save(&s, &format!("{base}/Documents/{}/save", c.edited), Some(r#"{"asZip":true}"#)).await);
    assert_eq!(z, vec![(c.edited_name.clone(), c.edited_content.clone())]);

    // A version: the first one of the edited file (before the edit).
    let versions = numbered_versions(&s.catalog, od, &c.edited, s.t2).await.unwrap();
    assert!(versions.len() >= 2, "the edited file has several versions");
    let v1 = save(&s, &format!("{base}/Documents/{}/Versions/1/save", c.edited), Some("{}")).await;
    assert_eq!(qx(&v1), versions[0].row.version.content_hash);
    assert_ne!(v1, c.edited_content);
    let (st, _) = error(&s, &format!("{base}/Documents/{}/Versions/999/save", c.edited), Some(&s.token), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Several documents.
    let body = json!({"documents": [{"id": c.edited}, {"id": c.created}]}).to_string();
    let z = unzip(&save(&s, &format!("{base}/Documents/save"), Some(&body)).await);
    assert_eq!(z.len(), 2);
    assert!(z.contains(&(c.edited_name.clone(), c.edited_content.clone())));
    assert!(z.contains(&("new-file.txt".to_string(), b"a brand new file".to_vec())));

    // The whole OneDrive: every backed-up file (deleted ones too: the session shows them), bytes as backed up.
    let z = unzip(&save(&s, &format!("{base}/save"), None).await);
    assert_eq!(check_zip_against(&z, &rows, ""), files.len());

    // A folder (when the seed made any).
    if let Some(folder) = rows.iter().find(|r| r.state.is_folder) {
        let below = walk_tree(&s.catalog, od, Some(&folder.item_id), s.t2, true, ItemKind::File).await.unwrap();
        let z = unzip(&save(&s, &format!("{base}/Folders/{}/save", folder.item_id), None).await);
        let prefix = format!("{}/", folder.state.name);
        assert_eq!(z[0].0, prefix);
        assert_eq!(check_zip_against(&z, &below, &prefix), below.len());
        let z2 = unzip(&save(&s, &format!("{base}/Folders/{}/Versions/1/save", folder.item_id), None).await);
        assert_eq!(z, z2);
        let body = json!({"folders": [{"id": folder.item_id}]}).to_string();
        let z3 = unzip(&save(&s, &format!("{base}/Folders/save"), Some(&body)).await);
        assert_eq!(z, z3);
        // A folder id where a document is expected.
        let (st, _) = error(&s, &format!("{base}/Documents/{}/save", folder.item_id), Some(&s.token), None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }

    // Errors (v8).
    let (st, _) = error(&s, &format!("{base}/Documents/nope/save"), Some(&s.token), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let bad = format!("/v8/RestoreSessions/{sid}/Organization/OneDrives/00000000-0000-0000-0000-000000000000/save");
    assert_eq!(error(&s, &bad, Some(&s.token), None).await.0, StatusCode::NOT_FOUND);
    let (st, msg) =
        error(&s, &format!("{base}/Documents/{}/save", c.edited), Some(&s.token), Some(r#"{"asZip":"maybe"}"#)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(msg.contains("asZip"), "{msg}");
    let (st, msg) =
        error(&s, &format!("{base}/Documents/save"), Some(&s.token), Some(r#"{"documents":[{"x":1}]}"#)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(msg.contains("documents[0]"), "{msg}");
    let (st, msg) = error(&s, &format!("{base}/Documents/save"), Some(&s.token), Some(r#"{"documents":[}"#)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{msg}");
    let body = json!({"documents": [{"id": c.edited}, {"id": "missing"}]}).to_string();
    assert_eq!(
        error(&s, &format!("{base}/Documents/save"), Some(&s.token), Some(&body)).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(error(&s, &format!("{base}/save"), None, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(error(&s, &format!("{base}/save"), Some(&s.other_token), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        error(&s, &format!("{base}/Action"), Some(&s.token), Some(r#"{"save":null}"#)).await.0,
        StatusCode::NOT_FOUND
    );

    // Events: one Save event per save.
    let sid_uuid = sid.parse().unwrap();
    let (events, _) = api::store::sessions::list_events(&s.state, sid_uuid, 0, 1000).await.unwrap();
    assert!(events.iter().filter(|e| e.kind == "Save").count() >= 6);
    assert!(events.iter().all(|e| e.kind == "Save"));

    // ---- v5 (action era): the seed bodies.
    let sid5 = s.explore(5, "Veod", None).await;
    let base5 = format!("/v5/RestoreSessions/{sid5}/Organization/OneDrives/{od}");
    let doc_action = format!("{base5}/Documents/{}/Action", c.edited);
    assert_eq!(save(&s, &doc_action, Some(r#"{"save":{"asZip":"false"}}"#)).await, c.edited_content);
    assert_eq!(save(&s, &doc_action, Some(r#"{"Save":{"AsZip":false,}}"#)).await, c.edited_content);
    assert_eq!(save(&s, &doc_action, Some(r#"{"save":null}"#)).await, c.edited_content);
    // Seed 000 / 001 spellings (typographic quotes).
    assert_eq!(
        save(&s, &doc_action, Some("{ \u{201c}save\u{201d} : { \u{201c}asZip\u{201d} : \u{201c}false\u{201d} } }"))
            .await,
        c.edited_content
    );
    let z = unzip(&save(&s, &format!("{base5}/Action"), Some("{ \u{201c}save\u{201d} : null }")).await);
    assert_eq!(check_zip_against(&z, &rows, ""), files.len());
    let z = unzip(&save(&s, &doc_action, Some(r#"{"save":{"asZip":"true"}}"#)).await);
    assert_eq!(z, vec![(c.edited_name.clone(), c.edited_content.clone())]);
    let z = unzip(&save(&s, &format!("{base5}/Action"), Some(r#"{"save":null}"#)).await);
    assert_eq!(check_zip_against(&z, &rows, ""), files.len());
    let z = unzip(&save(&s, &format!("{base5}/Action"), Some(r#"{"save":{"asZip":"true"}}"#)).await);
    assert_eq!(check_zip_against(&z, &rows, ""), files.len());
    let body = json!({"save": {"asZip": "true", "Documents": [{"Id": c.edited}, {"Id": c.created}]}}).to_string();
    let z = unzip(&save(&s, &format!("{base5}/Documents/Action"), Some(&body)).await);
    assert_eq!(z.len(), 2);
    if let Some(folder) = rows.iter().find(|r| r.state.is_folder) {
        let z = unzip(&save(&s, &format!("{base5}/Folders/{}/Action", folder.item_id), Some(r#"{"save":null}"#)).await);
        assert_eq!(z[0].0, format!("{}/", folder.state.name));
        let body = json!({"save": {"folders": [{"id": folder.item_id}]}}).to_string();
        assert_eq!(unzip(&save(&s, &format!("{base5}/Folders/Action"), Some(&body)).await), z);
    }
    // Other actions, unknown actions, malformed bodies, other era's endpoint.
    let (st, msg) = error(&s, &doc_action, Some(&s.token), Some(r#"{"copyTo":{"folder":"x"}}"#)).await;
    // copyTo is dispatched to the restore module, which wants the organization's credentials first.
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(msg.contains("userName"), "{msg}");
    let (st, msg) = error(&s, &doc_action, Some(&s.token), Some(r#"{"frobnicate":{}}"#)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(msg.contains("frobnicate"), "{msg}");
    let (st, msg) = error(&s, &doc_action, Some(&s.token), Some(r#"{"save":{"asZip":"false"}"#)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(msg.to_lowercase().contains("line") || msg.to_lowercase().contains("position"), "{msg}");
    let (st, msg) = error(&s, &doc_action, Some(&s.token), Some(r#"{"save":{"asZip":"nope"}}"#)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(msg.contains("save.asZip"), "{msg}");
    let (st, msg) =
        error(&s, &format!("{base5}/Documents/Action"), Some(&s.token), Some(r#"{"save":{"documents":[{"id":""}]}}"#))
            .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(msg.contains("documents[0].id"), "{msg}");
    assert_eq!(error(&s, &format!("{base5}/save"), Some(&s.token), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        error(&s, &format!("{base5}/Documents/nope/Action"), Some(&s.token), Some(r#"{"save":null}"#)).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(error(&s, &doc_action, Some(&s.other_token), Some(r#"{"save":null}"#)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(error(&s, &doc_action, None, Some(r#"{"save":null}"#)).await.0, StatusCode::UNAUTHORIZED);
}

/// Bytes the repository holds for a content reference.
async fn backed_up(s: &TestServer, content_ref: &Option<Vec<u8>>) -> Vec<u8> {
    let blob = repo::store::BlobRef::from_compact(content_ref.as_deref().expect("content")).unwrap();
    s.repo.read_blob(&blob.chunks).await.unwrap()
}

#[tokio::test]
async fn save_sharepoint_documents_folders_attachments() {
    use repo::catalog::{ContainerInfo, ContainerKind, ContainerQuery};
    let s = shared().await;
    // A site with a library holding files, and a generic list item with attachments.
    let q = ContainerQuery::new(s.org_id, s.t2).kind(ContainerKind::List).page(0, 1000);
    let lists = s.catalog.containers_at(&q).await.unwrap().rows;
    let mut library = None;
    let mut att_item = None;
    for l in &lists {
        let ContainerInfo::List(info) = &l.info else { continue };
        let rows = walk_tree(&s.catalog, l.id, None, s.t2, false, ItemKind::Any).await.unwrap();
        if info.is_document_library && rows.iter().any(|r| !r.state.is_folder) && library.is_none() {
            library = Some((l.id, info.site_id.clone(), info.title.clone(), rows));
        } else if !info.is_document_library {
            if let Some(r) = rows.into_iter().find(|r| r.state.attachments.len() >= 2) {
                att_item = Some((l.id, info.site_id.clone(), r));
            }
        }
    }
    let (lib_id, lib_site, lib_title, lib_rows) = library.expect("a library with files");
    let sq = ContainerQuery::new(s.org_id, s.t2).kind(ContainerKind::Site).page(0, 1000);
    let site_uuid = |graph: String| {
        let sites = &sq;
        let catalog = s.catalog.clone();
        async move {
            catalog
                .containers_at(sites)
                .await
                .unwrap()
                .rows
                .into_iter()
                .find(|r| matches!(&r.info, ContainerInfo::Site(i) if i.site_id == graph))
                .unwrap()
                .id
        }
    };
    let site = site_uuid(lib_site).await;
    let sid = s.explore(8, "Vesp", None).await;
    let base = format!("/v8/RestoreSessions/{sid}/Organization/Sites/{site}");
    let doc = lib_rows.iter().find(|r| !r.state.is_folder).unwrap();

    // One document raw and as a ZIP; a version; several documents.
    let raw = save(&s, &format!("{base}/Documents/{}/save", doc.item_id), None).await;
    assert_eq!(qx(&raw), hash_of(doc));
    assert_eq!(raw, backed_up(&s, &doc.state.content_ref).await);
    let z = unzip(&save(&s, &format!("{base}/Documents/{}/save", doc.item_id), Some(r#"{"asZip":true}"#)).await);
    assert_eq!(z, vec![(doc.state.name.clone(), raw.clone())]);
    let versions = numbered_versions(&s.catalog, lib_id, &doc.item_id, s.t2).await.unwrap();
    let last = versions.last().map(|v| v.id).unwrap_or(1);
    let v = save(&s, &format!("{base}/Documents/{}/Versions/{last}/save", doc.item_id), None).await;
    assert_eq!(v, raw);
    let docs: Vec<&ItemRow> = lib_rows.iter().filter(|r| !r.state.is_folder).take(3).collect();
    let body = json!({"documents": docs.iter().map(|d| json!({"id": d.item_id})).collect::<Vec<_>>()}).to_string();
    let z = unzip(&save(&s, &format!("{base}/Documents/save"), Some(&body)).await);
    assert_eq!(z.len(), docs.len());
    check_zip_against(&z, &lib_rows, "");

    // The whole library; a folder (when there is one).
    let z = unzip(&save(&s, &format!("{base}/Libraries/{lib_id}/save"), None).await);
    let n_files = lib_rows.iter().filter(|r| !r.state.is_folder).count();
    assert_eq!(check_zip_against(&z, &lib_rows, ""), n_files);
    if let Some(folder) = lib_rows.iter().find(|r| r.state.is_folder) {
        let below = walk_tree(&s.catalog, lib_id, Some(&folder.item_id), s.t2, false, ItemKind::File).await.unwrap();
        let z = unzip(&save(&s, &format!("{base}/Folders/{}/save", folder.item_id), None).await);
        assert_eq!(check_zip_against(&z, &below, &format!("{}/", folder.state.name)), below.len());
        let body = json!({"folders": [{"id": folder.item_id}]}).to_string();
        assert_eq!(unzip(&save(&s, &format!("{base}/Folders/save"), Some(&body)).await), z);
    }
    let _ = lib_title;

    // v5: the Action bodies.
    let sid5 = s.explore(5, "Vesp", None).await;
    let base5 = format!("/v5/RestoreSessions/{sid5}/Organization/Sites/{site}");
    let a = format!("{base5}/Documents/{}/Action", doc.item_id);
    assert_eq!(save(&s, &a, Some(r#"{"save":{"asZip":"false"}}"#)).await, raw);
    let body = json!({"save": {"asZip": "true", "Documents": [{"Id": doc.item_id}]}}).to_string();
    assert_eq!(unzip(&save(&s, &format!("{base5}/Documents/Action"), Some(&body)).await).len(), 1);
    let (st, msg) = error(&s, &a, Some(&s.token), Some(r#"{"restoreTo":{}}"#)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(msg.contains("userName"), "{msg}");

    // Attachments: one, several, all.
    let (list_id, att_site, item) = att_item.expect("a list item with two attachments");
    let site2 = site_uuid(att_site).await;
    let base = format!("/v8/RestoreSessions/{sid}/Organization/Sites/{site2}");
    let api_id = format!("{}{}", list_id.simple(), item.item_id);
    let atts = &item.state.attachments;
    let hex = |n: &str| n.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    let one = save(&s, &format!("{base}/Items/{api_id}/Attachments/{}/save", hex(&atts[0].file_name)), None).await;
    assert_eq!(one, backed_up(&s, &atts[0].content_ref).await);
    let body = json!({"attachments": [{"id": hex(&atts[0].file_name)}, {"id": hex(&atts[1].file_name)}]}).to_string();
    let z = unzip(&save(&s, &format!("{base}/Items/{api_id}/Attachments/save"), Some(&body)).await);
    assert_eq!(z.len(), 2);
    let all = unzip(&save(&s, &format!("{base}/Items/{api_id}/Attachments/save"), None).await);
    assert_eq!(all.len(), atts.len());
    for (entry, a) in all.iter().zip(atts.iter()) {
        assert_eq!(entry.1, backed_up(&s, &a.content_ref).await);
    }
    let base5 = format!("/v5/RestoreSessions/{sid5}/Organization/Sites/{site2}");
    let body = json!({"save": {"Attachments": [{"id": hex(&atts[1].file_name)}]}}).to_string();
    let z = unzip(&save(&s, &format!("{base5}/Items/{api_id}/Attachments/Action"), Some(&body)).await);
    assert_eq!(z[0].1, backed_up(&s, &atts[1].content_ref).await);
    // Seed 004: whole attachment objects with the vendor's id form and the name.
    let body = json!({"save": {"Attachments": [{"id": "ef10cefb-d29a-4dac-827a-d3702fc4ac8f6d7c", "name": atts[0].file_name,
        "size": atts[0].size, "url": "/sites/x/Lists/y/Attachments/11/z", "_links": {"self": {"href": "https://h/x"}}}]}})
    .to_string();
    let z = unzip(&save(&s, &format!("{base5}/Items/{api_id}/Attachments/Action"), Some(&body)).await);
    assert_eq!(z, vec![(atts[0].file_name.clone(), backed_up(&s, &atts[0].content_ref).await)]);

    // Errors.
    let (st, _) =
        error(&s, &format!("{base}/Items/{api_id}/Attachments/{}/save", hex("nope")), Some(&s.token), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, msg) =
        error(&s, &format!("{base}/Items/{api_id}/Attachments/save"), Some(&s.token), Some(r#"{"attachments":[{}]}"#))
            .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(msg.contains("attachments[0]"), "{msg}");
    assert_eq!(error(&s, &format!("{base}/Documents/nope/save"), Some(&s.token), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        error(&s, &format!("{base}/Documents/save"), Some(&s.other_token), Some(r#"{"documents":[{"id":"x"}]}"#))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // A OneDrive session does not serve SharePoint.
    let od_sid = s.explore(8, "Veod", None).await;
    let p = format!("/v8/RestoreSessions/{od_sid}/Organization/Sites/{site}/Documents/{}/save", doc.item_id);
    assert_eq!(error(&s, &p, Some(&s.token), None).await.0, StatusCode::NOT_FOUND);
}

/// A client that stops reading a large ZIP: the producer stops and the Save event ends as `Cancelled`.
#[tokio::test]
async fn disconnect_mid_zip_stops_the_producer() {
    let s = TestServer::start("users=1,files=4,size=12000000,versions=1,sites=0,items=0").await;
    let od = s.changes.onedrive;
    let sid = s.explore(8, "Veod", None).await;
    let r = s
        .client
        .post(s.url(&format!("/v8/RestoreSessions/{sid}/Organization/OneDrives/{od}/save")))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let total: u64 = r.headers()["content-length"].to_str().unwrap().parse().unwrap();
    assert!(total > 20_000_000, "{total}");
    let mut r = r;
    let mut got = 0usize;
    while got < 512 * 1024 {
        got += r.chunk().await.unwrap().expect("more data").len();
    }
    drop(r);
    let session = sid.parse().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (events, _) = api::store::sessions::list_events(&s.state, session, 0, 10).await.unwrap();
        let ev = events.iter().find(|e| e.kind == "Save").expect("a Save event");
        if ev.status != api::store::sessions::Outcome::Running {
            assert_eq!(ev.status, api::store::sessions::Outcome::Cancelled, "{ev:?}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the producer did not stop");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Characters that change how a name displays (bidi overrides) or hide in it (zero width).
fn has_invisible_format_chars(s: &str) -> bool {
    s.chars().any(|c| {
        matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
            | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
    })
}

/// A tenant names one file `../../etc/pass"wd` with NUL, CR/LF and a bidi override, and two files of one folder
/// `café.txt` (precomposed) and `cafe` + U+0301 `.txt` (decomposed), which macOS and Windows take for one name.
/// The raw save's `Content-Disposition` names one safe component; the ZIP and the export hold both café files
/// under distinct names, without bidi or zero-width characters.
#[tokio::test]
async fn hostile_and_unicode_twin_names_in_raw_saves_zips_and_exports() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let hostile = "../../etc/pass\"wd\0\r\nX-Injected: 1\u{202E}txt.exe";
    let twins = ["caf\u{E9}.txt", "cafe\u{301}\u{200B}.txt"];
    let drive = s.changes.drive_id.clone();
    let (ids, contents) = {
        let emu = &s.tenant.emu.emu;
        let now = emu.now();
        let mut st = emu.state();
        let root = st.drives[&drive].root_id.clone();
        let mut files: Vec<String> = st
            .items
            .values()
            .filter(|i| i.drive_id == drive && !i.is_folder && i.deleted.is_none())
            .map(|i| i.id.clone())
            .collect();
        files.sort();
        // Graph's front refuses such names, so a misbehaving tenant is imitated in the emulator's state.
        for (id, name) in files.iter().zip([hostile, twins[0], twins[1]]) {
            st.rename_move(id, Some(name), Some(&root), Default::default(), now);
        }
        let contents: Vec<Vec<u8>> = files[..3]
            .iter()
            .map(|id| emu.blobs.read_all(&st.items[id].versions.last().unwrap().content).unwrap())
            .collect();
        (files[..3].to_vec(), contents)
    };
    assert_ne!(contents[1], contents[2], "the twins hold different bytes");
    let report = s.backup().await;
    let rp = report.restore_point.expect("restore point");

    // Raw save: the header names one safe component, in both parameters.
    let sid = s.explore(8, "Veod", None).await;
    let base = format!("/v8/RestoreSessions/{sid}/Organization/OneDrives/{}", s.changes.onedrive);
    let d =
        post_bytes(&s, &format!("{base}/Documents/{}/save", ids[0]), Some(&s.token), Some(r#"{"asZip":false}"#)).await;
    assert_eq!(d.status, StatusCode::OK, "{}", String::from_utf8_lossy(&d.body));
    assert_eq!(d.body, contents[0]);
    let cd = d.headers["content-disposition"].to_str().unwrap();
    assert!(!d.headers.contains_key("x-injected"), "{:?}", d.headers);
    let safe = ".._.._etc_pass_wd___X-Injected_ 1txt.exe";
    assert_eq!(cd, format!("attachment; filename=\"{safe}\"; filename*=UTF-8''{}", safe.replace(' ', "%20")), "{cd}");
    let star = cd.split("filename*=UTF-8''").nth(1).unwrap();
    let decoded = percent_encoding::percent_decode_str(star).decode_utf8().unwrap();
    assert!(
        !decoded.contains(['/', '\\', '\0', '\r', '\n', '"'])
            && decoded != ".."
            && !has_invisible_format_chars(&decoded)
    );

    // ZIP of the OneDrive: both twins, distinct names even after NFC + case folding, no invisible characters.
    let z = unzip(&save(&s, &format!("{base}/save"), None).await);
    let nfc = |n: &str| -> String {
        use unicode_normalization::UnicodeNormalization;
        n.to_lowercase().nfc().collect()
    };
    assert!(z.iter().all(|(n, _)| !has_invisible_format_chars(n)), "{:?}", z.iter().map(|e| &e.0).collect::<Vec<_>>());
    let keys: HashSet<String> = z.iter().map(|(n, _)| nfc(n)).collect();
    assert_eq!(keys.len(), z.len(), "entries collide after NFC and case folding");
    for (i, content) in contents.iter().enumerate().skip(1) {
        assert!(z.iter().any(|(n, data)| !n.contains('/') && n.starts_with("caf") && data == content), "twin {i}");
    }
    let twins_in_zip: Vec<&String> = z.iter().map(|(n, _)| n).filter(|n| nfc(n).starts_with("caf\u{E9}")).collect();
    assert_eq!(twins_in_zip.len(), 2, "{twins_in_zip:?}");
    assert!(twins_in_zip.iter().any(|n| n.as_str() == "caf\u{E9}.txt" || n.as_str() == "cafe\u{301}.txt"));
    assert!(twins_in_zip.iter().any(|n| n.ends_with(" (2).txt")), "{twins_in_zip:?}");

    // Export: the same rule on disk, so neither twin overwrites the other.
    let dest = tempfile::tempdir().unwrap();
    let rep = engine::export::export_restore_point(&s.catalog, &s.repo, rp.id, dest.path(), &Default::default())
        .await
        .unwrap();
    assert!(rep.errors.is_empty(), "{:?}", rep.errors);
    let dir = dest.path().join("OneDrive").join(&s.changes.upn);
    let names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    let exported: Vec<&String> =
        names.iter().filter(|n| nfc(n).starts_with("caf\u{E9}") && !n.ends_with(".metadata.json")).collect();
    assert_eq!(exported.len(), 2, "{names:?}");
    let mut found: Vec<Vec<u8>> = exported.iter().map(|n| std::fs::read(dir.join(n)).unwrap()).collect();
    found.sort();
    let mut expected = contents[1..].to_vec();
    expected.sort();
    assert_eq!(found, expected);
    assert!(names.iter().all(|n| !has_invisible_format_chars(n)), "{names:?}");
}
