//! Graph sites: search, getAllSites, root, by id / path / partial ids, subsites, drives, paging,
//! role checks.

use crate::common;

use common::*;
use serde_json::Value;

/// Team site "Finance" with a subsite and a document library; returns (site id, subsite id, drive id).
fn finance(t: &TestTenant) -> (String, String, String) {
    let mut st = t.emu.emu.state();
    let now = t.emu.emu.now_from(&st);
    let host = st.tenant.sp_host();
    let site = st.create_site(&host, "/sites/finance", "Finance", None, false, now);
    st.sites.get_mut(&site).unwrap().description = "Budgets and forecasts".into();
    let lib = st.create_list(&site, "Documents", "documentLibrary", None, now);
    let sub = st.create_site(&host, "/sites/finance/projects", "Finance Projects", Some(&site), false, now);
    st.create_list(&sub, "Issues", "genericList", None, now);
    let drive = st.lists[&lib].drive_id.clone().unwrap();
    (site, sub, drive)
}

/// App-only Graph token of a fresh app holding only `roles`.
fn token_with_roles(t: &TestTenant, roles: &[&str]) -> String {
    let emu = &t.emu.emu;
    let mut st = emu.state();
    let client_id = "11111111-2222-4333-8444-555555555555".to_string();
    st.apps.insert(
        client_id.clone(),
        emulator::state::App {
            client_id: client_id.clone(),
            display_name: "limited".into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            ..Default::default()
        },
    );
    let req = emulator::auth::TokenRequest {
        client_id: &client_id,
        user_id: None,
        audience: emulator::auth::Audience::Graph,
        appidacr: "2",
        scopes: Vec::new(),
    };
    emulator::auth::issue_access_token(emu, &st, &req).0
}

fn ids(v: &Value) -> Vec<String> {
    v["value"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn search_and_get_all_sites() {
    let t = TestTenant::start("users=2").await;
    let token = t.graph_token().await;
    let (site, sub, _) = finance(&t);

    let (s, all) = t.get(&token, "/sites?search=*").await;
    assert_eq!(s, 200, "{all}");
    let found = ids(&all);
    assert!(found.contains(&site) && found.contains(&sub), "{all}");
    assert_eq!(found.len(), 3, "root, finance, projects; never personal sites: {all}");
    assert!(all["value"].as_array().unwrap().iter().all(|s| s["isPersonalSite"] == false));

    let (_, fin) = t.get(&token, "/sites?search=FIN").await;
    assert_eq!(ids(&fin), vec![site.clone(), sub.clone()]);
    let (_, by_desc) = t.get(&token, "/sites?search=forecast").await;
    assert_eq!(ids(&by_desc), vec![site.clone()]);
    let (_, none) = t.get(&token, "/sites?search=nothing-like-this").await;
    assert!(none["value"].as_array().unwrap().is_empty());

    // getAllSites: site collections only (no subsites), personal sites included.
    let (s, every) = t.get(&token, "/sites/getAllSites").await;
    assert_eq!(s, 200, "{every}");
    let every_ids = ids(&every);
    assert_eq!(every_ids.len(), 4, "root + finance + 2 OneDrive sites: {every}");
    assert!(every_ids.contains(&site) && !every_ids.contains(&sub));
    let personal: Vec<&Value> =
        every["value"].as_array().unwrap().iter().filter(|s| s["isPersonalSite"] == true).collect();
    assert_eq!(personal.len(), 2);
    assert!(personal[0]["siteCollection"]["hostname"].as_str().unwrap().ends_with("-my.sharepoint.com"));
    let (_, team) = t.get(&token, "/sites/getAllSites?$filter=isPersonalSite%20eq%20false").await;
    assert_eq!(ids(&team).len(), 2);
    let (s, bad) = t.get(&token, "/sites/getAllSites?$filter=name%20eq%20'x'").await;
    assert_eq!(s, 400);
    assert_graph_error(&bad, "invalidRequest");

    // Paging with $top follows absolute nextLinks.
    let (_, p1) = t.get(&token, "/sites?search=*&$top=2").await;
    assert_eq!(p1["value"].as_array().unwrap().len(), 2);
    let next = p1["@odata.nextLink"].as_str().expect("nextLink");
    assert!(next.starts_with(&t.base));
    let (_, p2) = t.get(&token, next).await;
    assert_eq!(p2["value"].as_array().unwrap().len(), 1);
    assert!(p2.get("@odata.nextLink").is_none());
}

#[tokio::test]
async fn get_site_by_every_address() {
    let t = TestTenant::start("users=2").await;
    let token = t.graph_token().await;
    let (site, sub, drive) = finance(&t);
    let (host, coll, web, tenant) = {
        let st = t.emu.emu.state();
        let s = &st.sites[&site];
        (s.hostname.clone(), s.collection_id.clone(), s.web_id.clone(), st.tenant.id.clone())
    };

    let (s, v) = t.get(&token, &format!("/sites/{site}")).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["id"], site.as_str());
    assert_eq!(v["name"], "finance");
    assert_eq!(v["displayName"], "Finance");
    assert_eq!(v["description"], "Budgets and forecasts");
    assert_eq!(v["webUrl"], format!("{}/_sp/{host}/sites/finance", t.base));
    assert_eq!(v["root"], serde_json::json!({}));
    assert_eq!(v["siteCollection"]["hostname"], host.as_str());
    assert!(v["siteCollection"].get("root").is_none(), "only the tenant root collection is marked root");
    assert_eq!(v["sharepointIds"]["siteId"], coll.as_str());
    assert_eq!(v["sharepointIds"]["webId"], web.as_str());
    assert_eq!(v["sharepointIds"]["tenantId"], tenant.as_str());
    assert_eq!(v["sharepointIds"]["siteUrl"], v["webUrl"]);
    assert_eq!(v["isPersonalSite"], false);
    assert!(v["createdDateTime"].as_str().unwrap().ends_with('Z'));

    for addr in [
        format!("/sites/{host}:/sites/finance"),
        format!("/sites/{host}:/sites/Finance:"),
        format!("/sites/{host},{coll}"),
        format!("/sites/{}", site.to_uppercase().replace(&host.to_uppercase(), &host)),
    ] {
        let (s, v) = t.get(&token, &addr).await;
        assert_eq!(s, 200, "{addr}: {v}");
        assert_eq!(v["id"], site.as_str(), "{addr}");
    }

    let (_, sv) = t.get(&token, &format!("/sites/{sub}")).await;
    assert!(sv.get("root").is_none(), "a subsite is not the root web: {sv}");
    assert_eq!(sv["name"], "projects");

    let (s, root) = t.get(&token, "/sites/root").await;
    assert_eq!(s, 200);
    assert_eq!(root["siteCollection"]["root"], serde_json::json!({}));
    assert_eq!(root["webUrl"], format!("{}/_sp/{host}", t.base));
    let (_, by_host) = t.get(&token, &format!("/sites/{host}")).await;
    assert_eq!(by_host["id"], root["id"]);

    let (_, sel) = t.get(&token, &format!("/sites/{site}?$select=displayName")).await;
    assert_eq!(sel["displayName"], "Finance");
    assert!(sel.get("webUrl").is_none() && sel["id"] == site.as_str());

    for missing in [
        format!("/sites/{host},{coll},00000000-0000-4000-8000-000000000000"),
        format!("/sites/{host}:/sites/nope"),
        "/sites/nohost.example.com".to_string(),
    ] {
        let (s, v) = t.get(&token, &missing).await;
        assert_eq!(s, 404, "{missing}: {v}");
        assert_graph_error(&v, "itemNotFound");
    }

    let (s, subs) = t.get(&token, &format!("/sites/{site}/sites")).await;
    assert_eq!(s, 200);
    assert_eq!(ids(&subs), vec![sub.clone()]);
    let (_, none) = t.get(&token, &format!("/sites/{sub}/sites")).await;
    assert!(none["value"].as_array().unwrap().is_empty());

    let (s, drives) = t.get(&token, &format!("/sites/{site}/drives")).await;
    assert_eq!(s, 200, "{drives}");
    assert_eq!(ids(&drives), vec![drive]);
    assert_eq!(drives["value"][0]["driveType"], "documentLibrary");
    let (s, _) = t.get(&token, "/sites/nohost.example.com/drives").await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn app_without_sites_role_is_refused() {
    let t = TestTenant::start("users=1").await;
    let (site, _, _) = finance(&t);
    let limited = token_with_roles(&t, &["User.Read.All"]);
    for path in ["/sites?search=*".to_string(), "/sites/getAllSites".to_string(), format!("/sites/{site}")] {
        let (s, v) = t.get(&limited, &path).await;
        assert_eq!(s, 403, "{path}: {v}");
        assert_graph_error(&v, "accessDenied");
    }
    let reader = token_with_roles(&t, &["Sites.Read.All"]);
    let (s, _) = t.get(&reader, &format!("/sites/{site}")).await;
    assert_eq!(s, 200);
}
