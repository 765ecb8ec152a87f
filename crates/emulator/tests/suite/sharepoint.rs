//! SharePoint REST list-item attachments: auth rules (audience, secret-based app-only refused,
//! certificate and delegated tokens accepted), the three JSON dialects, add / get / $value /
//! delete (incl. X-HTTP-Method tunnelling), OData string quoting, errors, and the effect on
//! Graph's `fields.Attachments` and list-item delta.

use crate::common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const SP_SCOPE: &str = "https://contoso.sharepoint.com/.default";
const NOMETA: &str = "application/json;odata=nometadata";
const VERBOSE: &str = "application/json;odata=verbose";

struct Fx {
    site: String,
    list: String,
    /// `{base}/_sp/contoso.sharepoint.com/sites/finance`
    site_url: String,
    /// `{site_url}/_api/web/lists(guid'…')/items(1)/AttachmentFiles`
    att: String,
    graph_item: String,
}

async fn fixture(t: &TestTenant, graph: &str) -> Fx {
    let (site, list) = {
        let mut st = t.emu.emu.state();
        let now = t.emu.emu.now_from(&st);
        let host = st.tenant.sp_host();
        let site = st.create_site(&host, "/sites/finance", "Finance", None, false, now);
        let list = st.create_list(&site, "Issue Log", "genericList", None, now);
        st.create_list(&site, "Documents", "documentLibrary", None, now);
        (site, list)
    };
    let items = format!("/sites/{site}/lists/{list}/items");
    let (s, v) = t.call(graph, Method::POST, &items, Some(json!({"fields": {"Title": "with files"}}))).await;
    assert_eq!(s, 201, "{v}");
    let (_, sv) = t.get(graph, &format!("/sites/{site}")).await;
    let site_url = sv["webUrl"].as_str().unwrap().to_string();
    let att = format!("{site_url}/_api/web/lists(guid'{list}')/items(1)/AttachmentFiles");
    Fx { site: site.clone(), list: list.clone(), site_url, att, graph_item: format!("{items}/1") }
}

async fn sp(
    t: &TestTenant,
    token: Option<&str>,
    method: Method,
    url: &str,
    accept: Option<&str>,
    body: Option<Vec<u8>>,
    headers: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = t.http.request(method, url);
    if let Some(tok) = token {
        req = req.bearer_auth(tok);
    }
    if let Some(a) = accept {
        req = req.header("Accept", a);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.body(b);
    }
    let resp = req.send().await.unwrap();
    let (status, h) = (resp.status(), resp.headers().clone());
    (status, h, resp.bytes().await.unwrap().to_vec())
}

fn json_of(b: &[u8]) -> Value {
    serde_json::from_slice(b).unwrap_or(Value::Null)
}

async fn attachments_flag(t: &TestTenant, graph: &str, fx: &Fx) -> Value {
    let (s, v) = t.get(graph, &format!("{}?expand=fields", fx.graph_item)).await;
    assert_eq!(s, 200);
    v["fields"]["Attachments"].clone()
}

#[tokio::test]
async fn tokens_that_sharepoint_refuses() {
    let t = TestTenant::start("users=1").await;
    let graph = t.graph_token().await;
    let fx = fixture(&t, &graph).await;

    // Client-secret app-only token for the right audience: SharePoint's "Unsupported app only token."
    let secret = t.app_token_for(SP_SCOPE).await;
    let (s, h, b) = sp(&t, Some(&secret), Method::GET, &fx.att, Some(NOMETA), None, &[]).await;
    assert_eq!(s, 401);
    assert_eq!(json_of(&b)["error_description"], "Unsupported app only token.");
    assert!(h.contains_key("x-ms-diagnostics"));
    assert!(h["www-authenticate"].to_str().unwrap().starts_with("Bearer"));

    // Graph token (wrong audience), -my host token, no token, garbage token.
    let my = t.cert_token("https://contoso-my.sharepoint.com/.default").await;
    for tok in [Some(graph.as_str()), Some(my.as_str()), None, Some("garbage")] {
        let (s, _, b) = sp(&t, tok, Method::GET, &fx.att, Some(NOMETA), None, &[]).await;
        assert_eq!(s, 401, "{tok:?}: {}", String::from_utf8_lossy(&b));
        assert!(json_of(&b)["error_description"].is_string());
    }
    // Nothing was written by refused calls.
    let (s, _, _) = sp(
        &t,
        Some(&secret),
        Method::POST,
        &format!("{}/add(FileName='x.txt')", fx.att),
        None,
        Some(b"x".to_vec()),
        &[],
    )
    .await;
    assert_eq!(s, 401);
    let st = t.emu.emu.state();
    assert!(st.lists[&fx.list].items[&1].attachments.is_empty());
}

#[tokio::test]
async fn attachment_lifecycle_with_certificate_token() {
    let t = TestTenant::start("users=1").await;
    let graph = t.graph_token().await;
    let fx = fixture(&t, &graph).await;
    let tok = t.cert_token(SP_SCOPE).await;
    assert_eq!(attachments_flag(&t, &graph, &fx).await, false);
    let etag_before = t.get(&graph, &fx.graph_item).await.1["eTag"].clone();

    // Empty collection.
    let (s, _, b) = sp(&t, Some(&tok), Method::GET, &fx.att, Some(NOMETA), None, &[]).await;
    assert_eq!(s, 200);
    assert_eq!(json_of(&b), json!({"value": []}));

    // Add: raw body, name with a space and a quote (OData '' escaping, percent-encoded).
    let name = "it's a report.txt";
    let content = b"quarterly numbers\n".to_vec();
    let add = format!("{}/add(FileName='it''s%20a%20report.txt')", fx.att);
    let (s, _, b) = sp(&t, Some(&tok), Method::POST, &add, Some(NOMETA), Some(content.clone()), &[]).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let added = json_of(&b);
    assert_eq!(added["FileName"], name);
    assert_eq!(added["ServerRelativeUrl"], format!("/sites/finance/Lists/IssueLog/Attachments/1/{name}"));
    assert_eq!(added["FileNameAsPath"]["DecodedUrl"], name);
    assert_eq!(added["ServerRelativePath"]["DecodedUrl"], added["ServerRelativeUrl"]);

    // Graph sees it: fields.Attachments flips and the item changed (eTag, delta).
    assert_eq!(attachments_flag(&t, &graph, &fx).await, true);
    assert_ne!(t.get(&graph, &fx.graph_item).await.1["eTag"], etag_before);

    // Duplicate name (case-insensitive) → 409 in the odata.error shape; verbose → `error`.
    let dup = format!("{}/add(FileName='IT''S%20A%20REPORT.TXT')", fx.att);
    let (s, _, b) = sp(&t, Some(&tok), Method::POST, &dup, None, Some(b"other".to_vec()), &[]).await;
    assert_eq!(s, 409);
    let e = json_of(&b);
    assert!(e["odata.error"]["code"].as_str().unwrap().contains("SPException"), "{e}");
    assert!(e["odata.error"]["message"]["value"].as_str().unwrap().contains("already exists"));
    let (s, _, b) = sp(&t, Some(&tok), Method::POST, &dup, Some(VERBOSE), Some(b"x".to_vec()), &[]).await;
    assert_eq!(s, 409);
    assert!(json_of(&b)["error"]["message"]["value"].is_string());

    // A second attachment, binary.
    let bin: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let (s, _, _) = sp(
        &t,
        Some(&tok),
        Method::POST,
        &format!("{}/add(FileName='data.bin')", fx.att),
        Some(NOMETA),
        Some(bin.clone()),
        &[],
    )
    .await;
    assert_eq!(s, 200);

    // Collection in the three dialects.
    let (_, h, b) = sp(&t, Some(&tok), Method::GET, &fx.att, Some(NOMETA), None, &[]).await;
    assert!(h["content-type"].to_str().unwrap().contains("odata=nometadata"));
    let names: Vec<String> =
        json_of(&b)["value"].as_array().unwrap().iter().map(|a| a["FileName"].as_str().unwrap().into()).collect();
    assert_eq!(names, vec![name.to_string(), "data.bin".into()]);
    assert!(json_of(&b)["value"][0].get("__metadata").is_none());
    let (_, _, b) = sp(&t, Some(&tok), Method::GET, &fx.att, Some(VERBOSE), None, &[]).await;
    let v = json_of(&b);
    assert_eq!(v["d"]["results"].as_array().unwrap().len(), 2);
    assert_eq!(v["d"]["results"][1]["__metadata"]["type"], "SP.Attachment");
    assert_eq!(v["d"]["results"][1]["FileName"], "data.bin");
    for accept in [Some("application/json"), None] {
        let (_, _, b) = sp(&t, Some(&tok), Method::GET, &fx.att, accept, None, &[]).await;
        let v = json_of(&b);
        assert!(v["odata.metadata"].as_str().unwrap().ends_with("$metadata#SP.ApiData.Attachments"), "{v}");
        assert_eq!(v["value"][1]["odata.type"], "SP.Attachment");
    }

    // One attachment's metadata and bytes; getByFileName alias.
    let one = format!("{}('data.bin')", fx.att);
    let (s, _, b) = sp(&t, Some(&tok), Method::GET, &one, Some(VERBOSE), None, &[]).await;
    assert_eq!(s, 200);
    assert_eq!(json_of(&b)["d"]["FileName"], "data.bin");
    let (s, h, b) = sp(&t, Some(&tok), Method::GET, &format!("{one}/$value"), None, None, &[]).await;
    assert_eq!(s, 200);
    assert_eq!(h["content-type"], "application/octet-stream");
    assert_eq!(b, bin);
    let (_, _, b) = sp(
        &t,
        Some(&tok),
        Method::GET,
        &format!("{}/getByFileName('it''s%20a%20report.txt')/$value", fx.att),
        None,
        None,
        &[],
    )
    .await;
    assert_eq!(b, content);

    // The list is addressable by title as well (root of GetByTitle).
    let by_title = format!("{}/_api/web/lists/GetByTitle('Issue%20Log')/items(1)/AttachmentFiles", fx.site_url);
    let (s, _, b) = sp(&t, Some(&tok), Method::GET, &by_title, Some(NOMETA), None, &[]).await;
    assert_eq!(s, 200);
    assert_eq!(json_of(&b)["value"].as_array().unwrap().len(), 2);

    // Delete: DELETE, then POST + X-HTTP-Method: DELETE.
    let (s, _, _) = sp(&t, Some(&tok), Method::DELETE, &one, None, None, &[]).await;
    assert_eq!(s, 200);
    let (s, _, b) = sp(&t, Some(&tok), Method::GET, &format!("{one}/$value"), None, None, &[]).await;
    assert_eq!(s, 404);
    assert!(json_of(&b)["odata.error"]["code"].as_str().unwrap().contains("FileNotFoundException"));
    let (s, _, _) = sp(&t, Some(&tok), Method::DELETE, &one, None, None, &[]).await;
    assert_eq!(s, 404, "deleting twice");
    assert_eq!(attachments_flag(&t, &graph, &fx).await, true, "one attachment left");
    let first = format!("{}('it''s%20a%20report.txt')", fx.att);
    let (s, _, _) = sp(&t, Some(&tok), Method::POST, &first, None, None, &[("X-HTTP-Method", "DELETE")]).await;
    assert_eq!(s, 200);
    assert_eq!(attachments_flag(&t, &graph, &fx).await, false);
    let (_, _, b) = sp(&t, Some(&tok), Method::GET, &fx.att, Some(NOMETA), None, &[]).await;
    assert_eq!(json_of(&b), json!({"value": []}));
}

#[tokio::test]
async fn addressing_errors_and_delegated_access() {
    let t = TestTenant::start("users=1").await;
    let graph = t.graph_token().await;
    let fx = fixture(&t, &graph).await;
    let tok = t.cert_token(SP_SCOPE).await;
    let api = format!("{}/_api/web", fx.site_url);
    let cases = [
        (format!("{api}/lists(guid'{}')/items(99)/AttachmentFiles", fx.list), 404, "ArgumentException"),
        (
            format!("{api}/lists(guid'00000000-0000-4000-8000-000000000000')/items(1)/AttachmentFiles"),
            404,
            "ArgumentException",
        ),
        (format!("{api}/lists/GetByTitle('Nope')/items(1)/AttachmentFiles"), 404, "ArgumentException"),
        (format!("{api}/lists(guid'{}')/items(x)/AttachmentFiles", fx.list), 400, "InvalidClientQueryException"),
        (
            format!("{api}/lists(guid'{}')/items(1)/AttachmentFiles('unterminated", fx.list),
            400,
            "InvalidClientQueryException",
        ),
        (format!("{api}/lists(guid'{}')/items(1)/AttachmentFiles('nope.txt')", fx.list), 404, "FileNotFoundException"),
        (format!("{api}/lists/GetByTitle('Documents')/items(1)/AttachmentFiles"), 400, "InvalidClientQueryException"),
        (
            format!(
                "{}/_sp/contoso.sharepoint.com/sites/none/_api/web/lists(guid'{}')/items(1)/AttachmentFiles",
                t.base, fx.list
            ),
            404,
            "FileNotFoundException",
        ),
    ];
    for (url, status, code) in cases {
        let (s, _, b) = sp(&t, Some(&tok), Method::GET, &url, None, None, &[]).await;
        assert_eq!(s.as_u16(), status, "{url}: {}", String::from_utf8_lossy(&b));
        let e = json_of(&b);
        assert!(e["odata.error"]["code"].as_str().unwrap_or("").contains(code), "{url}: {e}");
        assert_eq!(e["odata.error"]["message"]["lang"], "en-US");
    }
    // Invalid file name, unsupported method.
    let (s, _, _) = sp(
        &t,
        Some(&tok),
        Method::POST,
        &format!("{}/add(FileName='a:b.txt')", fx.att),
        None,
        Some(b"x".to_vec()),
        &[],
    )
    .await;
    assert_eq!(s, 400);
    let (s, _, _) = sp(&t, Some(&tok), Method::PUT, &fx.att, None, Some(b"x".to_vec()), &[]).await;
    assert_eq!(s, 405);

    // A delegated (ROPC) SharePoint token works and attributes the change to the user.
    let (uid, upn, _) = t.user(0);
    let user = t.user_token(&upn, &TestTenant::password_of(&upn), SP_SCOPE).await;
    let (s, _, b) =
        sp(&t, Some(&user), Method::POST, &format!("{}/add(FileName='u.txt')", fx.att), None, Some(b"u".to_vec()), &[])
            .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let (_, item) = t.get(&graph, &fx.graph_item).await;
    assert_eq!(item["lastModifiedBy"]["user"]["id"], uid.as_str());

    // The change shows up in list-item delta.
    let (_, latest) = t.get(&graph, &format!("/sites/{}/lists/{}/items/delta?token=latest", fx.site, fx.list)).await;
    let link = latest["@odata.deltaLink"].as_str().unwrap().to_string();
    let (s, _, _) = sp(&t, Some(&tok), Method::DELETE, &format!("{}('u.txt')", fx.att), None, None, &[]).await;
    assert_eq!(s, 200);
    let (_, changes) = t.get(&graph, &format!("{link}&expand=fields")).await;
    assert_eq!(changes["value"][0]["id"], "1");
    assert_eq!(changes["value"][0]["fields"]["Attachments"], false);

    // Root site of the host: `/_sp/{host}/_api/…`.
    let root_list = {
        let mut st = t.emu.emu.state();
        let now = t.emu.emu.now_from(&st);
        let root = st.sites.values().find(|s| s.path == "/" && !s.is_personal).unwrap().id.clone();
        st.create_list(&root, "Tasks", "genericList", None, now)
    };
    let (s, _) = t
        .call(
            &graph,
            Method::POST,
            &format!("/sites/root/lists/{root_list}/items"),
            Some(json!({"fields": {"Title": "t"}})),
        )
        .await;
    assert_eq!(s, 201);
    let url =
        format!("{}/_sp/contoso.sharepoint.com/_api/web/lists(guid'{root_list}')/items(1)/AttachmentFiles", t.base);
    let (s, _, b) = sp(
        &t,
        Some(&tok),
        Method::POST,
        &format!("{url}/add(FileName='r.txt')"),
        Some(NOMETA),
        Some(b"r".to_vec()),
        &[],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(json_of(&b)["ServerRelativeUrl"], "/Lists/Tasks/Attachments/1/r.txt");
}

#[tokio::test]
async fn seeded_attachments_are_served() {
    let t = TestTenant::start("users=2,sites=1,items=4").await;
    let graph = t.graph_token().await;
    let tok = t.cert_token(SP_SCOPE).await;
    let (site, list, size) = {
        let st = t.emu.emu.state();
        let l = st.lists.values().find(|l| l.drive_id.is_none() && l.items.values().any(|i| !i.attachments.is_empty()));
        let l = l.expect("seed makes list items with attachments");
        let item = l.items.values().find(|i| !i.attachments.is_empty()).unwrap();
        assert_eq!(item.id, 1);
        (l.site_id.clone(), l.id.clone(), item.attachments[0].size)
    };
    let (_, items) = t.get(&graph, &format!("/sites/{site}/lists/{list}/items?expand=fields")).await;
    let flags: Vec<bool> =
        items["value"].as_array().unwrap().iter().map(|i| i["fields"]["Attachments"].as_bool().unwrap()).collect();
    assert_eq!(flags, vec![true, false, false, true]);
    let (_, sv) = t.get(&graph, &format!("/sites/{site}")).await;
    let att = format!("{}/_api/web/lists(guid'{list}')/items(1)/AttachmentFiles", sv["webUrl"].as_str().unwrap());
    let (s, _, b) = sp(&t, Some(&tok), Method::GET, &att, Some(NOMETA), None, &[]).await;
    assert_eq!(s, 200);
    let first = json_of(&b)["value"][0]["FileName"].as_str().unwrap().to_string();
    let (s, h, bytes) = sp(&t, Some(&tok), Method::GET, &format!("{att}('{first}')/$value"), None, None, &[]).await;
    assert_eq!(s, 200);
    assert_eq!(bytes.len() as u64, size);
    assert_eq!(h["content-length"].to_str().unwrap(), size.to_string());
}
