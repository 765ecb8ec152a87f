//! Drive delta (graph-notes §3): full enumeration, latest-state-only continuation with ancestors
//! and deleted facets, paging with `$top`/`$select` carried in the links, snapshot bounds,
//! `token=latest`, timestamp tokens, the `delta(token='…')` form, and 410 resync.

use crate::common;

use std::collections::HashSet;

use common::*;
use emulator::state::{IdentitySet, NewItem};
use serde_json::Value;

/// Create a folder (content `None`) or file directly in the state.
fn mk(t: &TestTenant, drive: &str, parent: &str, name: &str, content: Option<&[u8]>) -> String {
    let now = chrono::Utc::now();
    let blob = content.map(|c| t.emu.emu.blobs.put(c).unwrap());
    let mut st = t.emu.emu.state();
    let id = st.create_item(NewItem {
        drive_id: drive,
        parent_id: parent,
        name,
        is_folder: content.is_none(),
        by: IdentitySet::default(),
        now,
    });
    if let Some((c, size, qx)) = blob {
        st.add_version(&id, c, size, qx, IdentitySet::default(), now);
    }
    id
}

fn root_of(t: &TestTenant, drive: &str) -> String {
    t.emu.emu.state().drives[drive].root_id.clone()
}

/// Follow nextLinks to the end of a round; returns all items and the deltaLink.
async fn round(t: &TestTenant, token: &str, url: &str) -> (Vec<Value>, String, usize) {
    let mut items = Vec::new();
    let mut url = url.to_string();
    let mut pages = 0;
    loop {
        let (status, body) = t.get(token, &url).await;
        assert_eq!(status, 200, "{url}: {body}");
        pages += 1;
        items.extend(body["value"].as_array().unwrap().iter().cloned());
        if let Some(next) = body["@odata.nextLink"].as_str() {
            assert!(body.get("@odata.deltaLink").is_none());
            url = next.to_string();
            continue;
        }
        let delta = body["@odata.deltaLink"].as_str().expect("last page has a deltaLink").to_string();
        assert!(delta.starts_with(&t.base), "absolute link: {delta}");
        return (items, delta, pages);
    }
}

fn ids(items: &[Value]) -> HashSet<String> {
    items.iter().map(|i| i["id"].as_str().unwrap().to_string()).collect()
}

fn find<'a>(items: &'a [Value], id: &str) -> Vec<&'a Value> {
    items.iter().filter(|i| i["id"] == id).collect()
}

#[tokio::test]
async fn full_enumeration_then_latest_state_with_ancestors_and_deletions() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let root = root_of(&t, &drive);
    let a = mk(&t, &drive, &root, "A", None);
    let b = mk(&t, &drive, &a, "B", None);
    let f1 = mk(&t, &drive, &b, "f1.txt", Some(b"one"));
    let g = mk(&t, &drive, &root, "g.txt", Some(b"gee"));

    let (items, delta, _) = round(&t, &token, &format!("/drives/{drive}/root/delta")).await;
    assert_eq!(ids(&items), [&root, &a, &b, &f1, &g].iter().map(|s| s.to_string()).collect());
    let root_item = find(&items, &root)[0];
    assert!(root_item.get("root").is_some(), "root carries the root facet");
    for i in &items {
        assert!(i["parentReference"].get("path").is_none(), "no parentReference.path in delta: {i}");
        assert!(i.get("cTag").is_none(), "no cTag in ODB delta: {i}");
        assert!(i.get("deleted").is_none());
    }
    assert_eq!(find(&items, &f1)[0]["parentReference"]["id"], b.as_str());
    assert!(find(&items, &f1)[0]["@microsoft.graph.downloadUrl"].is_string());

    // Changes: rename twice, edit, move, create + delete a folder with a file.
    let now = chrono::Utc::now();
    let new_g = t.emu.emu.blobs.put(b"gee, edited").unwrap();
    let (c, h) = {
        let mut st = t.emu.emu.state();
        st.rename_move(&f1, Some("draft.txt"), None, IdentitySet::default(), now);
        st.rename_move(&f1, Some("final.txt"), None, IdentitySet::default(), now);
        st.add_version(&g, new_g.0, new_g.1, new_g.2.clone(), IdentitySet::default(), now);
        st.rename_move(&b, None, Some(&root), IdentitySet::default(), now);
        drop(st);
        let c = mk(&t, &drive, &root, "C", None);
        let h = mk(&t, &drive, &c, "h.txt", Some(b"h"));
        t.emu.emu.state().delete_item(&c, now);
        (c, h)
    };
    let (items, delta2, _) = round(&t, &token, &delta).await;
    assert_eq!(ids(&items), [&root, &b, &f1, &g, &c, &h].iter().map(|s| s.to_string()).collect());
    assert!(find(&items, &a).is_empty(), "unchanged folder A is not reported");
    let f1s = find(&items, &f1);
    assert_eq!(f1s.len(), 1, "renamed twice, reported once");
    assert_eq!(f1s[0]["name"], "final.txt");
    assert_eq!(find(&items, &b)[0]["parentReference"]["id"], root.as_str());
    assert_eq!(find(&items, &g)[0]["file"]["hashes"]["quickXorHash"], new_g.2.as_str());
    assert_eq!(find(&items, &g)[0]["size"], 11);
    for id in [&c, &h] {
        let it = find(&items, id)[0];
        assert_eq!(it["deleted"]["state"], "deleted", "{it}");
        assert!(it.get("name").is_none(), "deleted items carry no name");
    }
    // An ancestor precedes its changed child.
    let pos = |id: &str| items.iter().position(|i| i["id"] == id).unwrap();
    assert!(pos(&b) < pos(&f1));

    // Nothing changed since: empty round.
    let (items, _, _) = round(&t, &token, &delta2).await;
    assert!(items.is_empty(), "{items:?}");

    // A changed file brings its folder along, unless deltaExcludeParent (which keeps the root).
    t.emu.emu.state().rename_move(&f1, Some("last.txt"), None, IdentitySet::default(), chrono::Utc::now());
    let (items, _, _) = round(&t, &token, &delta2).await;
    assert_eq!(ids(&items), [&root, &b, &f1].iter().map(|s| s.to_string()).collect());
    let resp = t.http.get(&delta2).bearer_auth(&token).header("deltaExcludeParent", "true").send().await.unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(ids(body["value"].as_array().unwrap()), [&root, &f1].iter().map(|s| s.to_string()).collect());
}

#[tokio::test]
async fn token_latest_and_function_call_form_and_other_prefixes() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (_, upn, drive) = t.user(0);
    let root = root_of(&t, &drive);
    mk(&t, &drive, &root, "old.txt", Some(b"old"));

    let (status, body) = t.get(&token, &format!("/users/{upn}/drive/root/delta?token=latest")).await;
    assert_eq!(status, 200);
    assert_eq!(body["value"].as_array().unwrap().len(), 0);
    let link = body["@odata.deltaLink"].as_str().unwrap().to_string();
    assert!(link.starts_with(&format!("{}/v1.0/users/{upn}/drive/root/delta?token=", t.base)), "{link}");

    let new = mk(&t, &drive, &root, "new.txt", Some(b"new"));
    // The same token in the function-call form.
    let tok = url::Url::parse(&link).unwrap().query_pairs().find(|(k, _)| k == "token").unwrap().1.to_string();
    let (items, _, _) = round(&t, &token, &format!("/drives/{drive}/root/delta(token='{tok}')")).await;
    assert_eq!(ids(&items), [root.clone(), new.clone()].into_iter().collect());

    // Via the site of the drive.
    let site = t.emu.emu.state().drives[&drive].site_id.clone();
    let (items, _, _) = round(&t, &token, &format!("/sites/{site}/drive/root/delta")).await;
    assert_eq!(items.len(), 3);

    // Timestamp token: only what changed at or after the instant.
    let cut = chrono::Utc::now() + chrono::Duration::seconds(5);
    let later = {
        let (c, size, qx) = t.emu.emu.blobs.put(b"later").unwrap();
        let mut st = t.emu.emu.state();
        let id = st.create_item(NewItem {
            drive_id: &drive,
            parent_id: &root,
            name: "later.txt",
            is_folder: false,
            by: IdentitySet::default(),
            now: cut + chrono::Duration::seconds(1),
        });
        st.add_version(&id, c, size, qx, IdentitySet::default(), cut + chrono::Duration::seconds(1));
        id
    };
    let ts = cut.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let (items, _, _) = round(&t, &token, &format!("/drives/{drive}/root/delta?token={ts}")).await;
    assert!(ids(&items).contains(&later));
    assert!(!ids(&items).contains(&new), "changes before the timestamp are not reported");
}

#[tokio::test]
async fn paging_with_top_keeps_select_and_snapshot_bound() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let root = root_of(&t, &drive);
    let files: Vec<String> = (0..7).map(|n| mk(&t, &drive, &root, &format!("f{n}.txt"), Some(b"x"))).collect();

    let first = format!("/drives/{drive}/root/delta?$top=3&$select=id,name");
    let (status, page1) = t.get(&token, &first).await;
    assert_eq!(status, 200);
    assert!(page1["value"].as_array().unwrap().len() <= 4, "page size honoured (+ancestors): {page1}");
    let next = page1["@odata.nextLink"].as_str().expect("more pages").to_string();
    assert!(next.starts_with(&t.base));
    let q: Vec<(String, String)> = url::Url::parse(&next).unwrap().query_pairs().into_owned().collect();
    assert!(q.iter().any(|(k, v)| k == "$top" && v == "3"), "{next}");
    assert!(q.iter().any(|(k, v)| k == "$select" && v == "id,name"), "{next}");
    for i in page1["value"].as_array().unwrap() {
        let keys: HashSet<&str> =
            i.as_object().unwrap().keys().map(String::as_str).filter(|k| !k.starts_with('@')).collect();
        assert_eq!(keys, ["id", "name"].into_iter().collect(), "{i}");
    }

    // A change made while paging goes to the next round.
    let late = mk(&t, &drive, &root, "late.txt", Some(b"late"));
    let (rest, delta, pages) = round(&t, &token, &next).await;
    assert!(pages >= 2, "7 files + root at 3 per page need 3+ pages");
    let mut all = ids(page1["value"].as_array().unwrap());
    all.extend(ids(&rest));
    let mut want: HashSet<String> = files.iter().cloned().collect();
    want.insert(root.clone());
    assert_eq!(all, want, "every item exactly in this round, the late one excluded");
    assert!(delta.contains("top=3"), "{delta}");

    let (items, _, _) = round(&t, &token, &delta).await;
    assert_eq!(ids(&items), [root, late].into_iter().collect());
}

#[tokio::test]
async fn resync_gone_with_location_and_bad_tokens() {
    let t = TestTenant::start("users=2").await;
    let token = t.graph_token().await;
    let (_, _, drive) = t.user(0);
    let (_, _, other) = t.user(1);
    let root = root_of(&t, &drive);
    let f = mk(&t, &drive, &root, "a.txt", Some(b"a"));
    mk(&t, &drive, &root, "b.txt", Some(b"b"));

    let (_, delta, _) = round(&t, &token, &format!("/drives/{drive}/root/delta?$select=id,name")).await;
    let (status, p1) = t.get(&token, &format!("/drives/{drive}/root/delta?$top=1")).await;
    assert_eq!(status, 200);
    let next = p1["@odata.nextLink"].as_str().unwrap().to_string();

    emulator::graph::delta::force_resync(&mut t.emu.emu.state(), Some(&drive));

    for url in [&delta, &next] {
        let resp = t.http.get(url.as_str()).bearer_auth(&token).send().await.unwrap();
        assert_eq!(resp.status(), 410, "{url}");
        let location = resp.headers().get("location").expect("Location header").to_str().unwrap().to_string();
        let body: Value = resp.json().await.unwrap();
        assert_graph_error(&body, "resyncRequired");
        assert_eq!(body["error"]["innerError"]["code"], "resyncChangesApplyDifferences");
        assert!(location.starts_with(&format!("{}/v1.0/drives/{drive}/root/delta", t.base)), "{location}");
        assert!(!location.contains("token="), "fresh enumeration: {location}");
        // Following Location restarts a full enumeration, whose links work again.
        let (items, fresh, _) = round(&t, &token, &location).await;
        assert!(ids(&items).contains(&f));
        let (items, _, _) = round(&t, &token, &fresh).await;
        assert!(items.is_empty());
    }
    assert!(delta.contains("select=id%2Cname") || delta.contains("select=id,name"), "{delta}");

    // Other drives' tokens are unaffected by a per-drive resync but are refused on this drive.
    let (_, other_delta, _) = round(&t, &token, &format!("/drives/{other}/root/delta")).await;
    let tok = url::Url::parse(&other_delta).unwrap().query_pairs().find(|(k, _)| k == "token").unwrap().1.to_string();
    let (status, _) = t.get(&token, &other_delta).await;
    assert_eq!(status, 200);
    let (status, body) = t.get(&token, &format!("/drives/{drive}/root/delta?token={tok}")).await;
    assert_eq!(status, 400);
    assert_graph_error(&body, "invalidRequest");

    let (status, body) = t.get(&token, &format!("/drives/{drive}/root/delta?token=garbage")).await;
    assert_eq!(status, 400);
    assert_graph_error(&body, "invalidRequest");
    // A tampered token does not verify.
    let mut bad = tok.clone();
    bad.insert(3, 'x');
    let (status, _) = t.get(&token, &format!("/drives/{other}/root/delta?token={bad}")).await;
    assert_eq!(status, 400);

    // Only the root supports delta; unknown drives are 404.
    let (status, body) = t.get(&token, &format!("/drives/{drive}/items/{f}/delta")).await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = t.get(&token, "/drives/b!nope/root/delta").await;
    assert_eq!(status, 404);

    // A global resync (control API) invalidates every drive's tokens.
    emulator::graph::delta::force_resync(&mut t.emu.emu.state(), None);
    let (status, body) = t.get(&token, &other_delta).await;
    assert_eq!(status, 410);
    assert_graph_error(&body, "resyncRequired");
}
