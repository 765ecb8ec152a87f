//! Organizations, jobs, restore points and explore over real HTTPS, against two backups of an emulated tenant.

use crate::common;

use api::store::sessions::{self, dotnet_time, SessionKind};
use chrono::{DateTime, Duration, Utc};
use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

async fn session_of(s: &TestServer, body: &Value) -> sessions::RestoreSession {
    let id = Uuid::parse_str(body["id"].as_str().unwrap_or_else(|| panic!("no id in {body}"))).unwrap();
    sessions::get(&s.state, id).await.unwrap().unwrap()
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

#[tokio::test]
async fn organizations_per_era() {
    let s = shared().await;
    let t = Some(s.token.as_str());

    // v2–v7: plain arrays; absolute lower-case hrefs in v2–v5, relative in v6+.
    let (st, v5) = s.get("/v5/Organizations", t).await;
    assert_eq!(st, StatusCode::OK, "{v5}");
    let orgs = v5.as_array().expect("v5 array");
    assert_eq!(orgs.len(), 1);
    let o = &orgs[0];
    assert_eq!(o["id"], s.org);
    assert_eq!(o["name"], s.org_name);
    assert_eq!(o["type"], "Office365");
    assert_eq!(o["region"], "Worldwide");
    assert_eq!(o["isBackedup"], true);
    assert_eq!(o["firstBackuptime"], dotnet_time(s.t1));
    assert_eq!(o["lastBackuptime"], dotnet_time(s.t2));
    let explore = o["_links"]["explore"]["href"].as_str().unwrap();
    assert_eq!(explore, format!("{}/v5/organizations/{}/action", s.base, s.org));
    assert!(o["_links"]["jobs"]["href"].as_str().unwrap().ends_with("/jobs"));
    assert!(o.get("msid").is_none());

    let (st, v7) = s.get("/v7/organizations?extendedView=true", t).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v7[0]["_links"]["explore"]["href"], format!("/v7/Organizations/{}/explore", s.org));
    assert_eq!(v7[0]["description"], "");

    // v8: a page.
    let (st, v8) = s.get("/v8/Organizations?limit=10", t).await;
    assert_eq!(st, StatusCode::OK, "{v8}");
    assert_eq!(v8["offset"], 0);
    assert_eq!(v8["limit"], 10);
    assert_eq!(v8["results"][0]["id"], s.org);
    assert_eq!(v8["results"][0]["backedUpOrganizationId"], s.org);
    assert_eq!(v8["_links"]["self"]["href"], "/v8/Organizations?offset=0&limit=10");
    let (_, none) = s.get("/v8/Organizations?backedUpOrganizationId=nope", t).await;
    assert_eq!(none["results"], json!([]));
    let (st, e) = s.get("/v6/Organizations?extendedView=maybe", t).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(e["message"].as_str().unwrap().contains("extendedView"));

    // One organization.
    let (st, one) = s.get(&format!("/v6/Organizations/{}", s.org), t).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(one["lastBackuptime"], dotnet_time(s.t2));
    assert_eq!(one["_links"]["self"]["href"], format!("/v6/Organizations/{}", s.org));
    for bad in [Uuid::new_v4().to_string(), "not-a-guid".to_string()] {
        let (st, e) = s.get(&format!("/v8/Organizations/{bad}"), t).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{bad}");
        assert_eq!(e["errorCode"], "ResourceNotFound");
    }

    // The single-organization convenience.
    let (st, cur) = s.get("/v5/Organization", t).await;
    assert_eq!(st, StatusCode::OK, "{cur}");
    assert_eq!(cur["id"], s.org);
    assert_eq!(cur["isBackedup"], true);
    assert_eq!(cur["lastBackuptime"], dotnet_time(s.t2));

    // 401 without a token, in every era.
    for p in ["/v3/Organizations", "/v8/Organizations", "/v6/Organization", "/v7/Jobs", "/v8/RestorePoints"] {
        let (st, body) = s.get(p, None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{p}");
        assert!(body["message"].is_string());
    }
}

#[tokio::test]
async fn single_organization_is_404_when_ambiguous() {
    let s = TestServer::start(DEFAULT_SEED).await;
    s.catalog
        .create_organization(&repo::catalog::NewOrganization {
            name: "fabrikam".into(),
            tenant_id: Uuid::new_v4().to_string(),
            tenant_domain: "fabrikam.onmicrosoft.com".into(),
            config: json!({}),
        })
        .await
        .unwrap();
    let (st, e) = s.get("/v8/Organization", Some(&s.token)).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
    let (st, _) = s.post("/v6/Organization/Explore", Some(&s.token), json!({"type": "Veod"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // The new organization has no backups: not backed up, and its explore gives an empty session.
    let (_, list) = s.get("/v6/Organizations", Some(&s.token)).await;
    let f = list.as_array().unwrap().iter().find(|o| o["name"] == "fabrikam").unwrap().clone();
    assert_eq!(f["isBackedup"], false);
    assert_eq!(f["lastBackuptime"], Value::Null);
    let (st, body) = s
        .post(
            &format!("/v6/Organizations/{}/explore", f["id"].as_str().unwrap()),
            Some(&s.token),
            json!({"type": "veod"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert!(session_of(&s, &body).await.browse_at.is_none());
    s.api.shutdown().await;
}

#[tokio::test]
async fn explore_resolves_the_point_in_time() {
    let s = shared().await;
    let t = Some(s.token.as_str());
    let v5 = format!("/v5/Organizations/{}/Action", s.org);
    let v6 = format!("/v6/Organizations/{}/explore", s.org);

    // At t1 and t2 exactly (v6+ bare options), the latest when omitted.
    let (st, b1) = s.post(&v6, t, json!({"datetime": iso(s.t1), "type": "Veod"})).await;
    assert_eq!(st, StatusCode::OK, "{b1}");
    let s1 = session_of(&s, &b1).await;
    assert_eq!(s1.browse_at, Some(s.t1));
    assert_eq!(s1.restore_point_id, Some(s.rp1.id));
    let (_, b2) = s.post(&v6, t, json!({"dateTime": iso(s.t2), "type": "Veod"})).await;
    let s2 = session_of(&s, &b2).await;
    assert_eq!(s2.browse_at, Some(s.t2));
    assert_ne!(s1.browse_at, s2.browse_at);
    let (_, latest) = s.post(&v6, t, json!({"type": "Vesp"})).await;
    let sl = session_of(&s, &latest).await;
    assert_eq!(sl.browse_at, Some(s.t2));
    assert_eq!(sl.kind, SessionKind::Vesp);
    assert_eq!(latest["type"], "Vesp");
    assert_eq!(latest["state"], "Working");
    assert_eq!(latest["result"], "Success");
    assert_eq!(latest["initiatedBy"], ADMIN);
    assert_eq!(latest["organization"], s.org_name);
    assert_eq!(latest["endTime"], Value::Null);
    assert!(latest["name"].as_str().unwrap().starts_with("SharePoint restore (contoso.onmicrosoft.com - "));
    // After the last backup: the latest. Between the backups: the first.
    let (_, after) = s.post(&v6, t, json!({"type": "Veod", "datetime": iso(s.t2 + Duration::days(3))})).await;
    assert_eq!(session_of(&s, &after).await.browse_at, Some(s.t2));
    if s.t2 - s.t1 > Duration::microseconds(2) {
        let mid = s.t1 + (s.t2 - s.t1) / 2;
        let (_, between) = s.post(&v6, t, json!({"type": "Veod", "datetime": iso(mid)})).await;
        assert_eq!(session_of(&s, &between).await.browse_at, Some(s.t1));
    }

    // Before the first backup: an empty session, still started (v6/v7 answer 200, as their specs say).
    let before = s.t1 - Duration::days(1);
    let (st, empty) = s.post(&v6, t, json!({"type": "Veod", "datetime": iso(before)})).await;
    assert_eq!(st, StatusCode::OK, "{empty}");
    let se = session_of(&s, &empty).await;
    assert!(se.browse_at.is_none() && se.restore_point_id.is_none());
    let (st, _) = s.get(&format!("/v6/RestoreSessions/{}/Organization", se.id), t).await;
    assert_eq!(st, StatusCode::OK, "an empty session can be browsed");
    // The same in the v2–v5 Action style, with the PHP portal's body and minute-precision time.
    let (st, b) = s
        .post(
            &v5,
            t,
            json!({"explore": {"datetime": before.format("%Y.%m.%d %H:%M").to_string(), "type": "veod",
                               "ShowAllVersions": "true", "ShowDeleted": "true"}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert!(session_of(&s, &b).await.browse_at.is_none());

    // `yyyy.MM.dd HH:mm` of the last backup (what "Explore Last Backup" sends) reaches that backup.
    let portal = s.t2.format("%Y.%m.%d %H:%M").to_string();
    let (st, b) = s
        .post(
            &v5,
            t,
            json!({"explore": {"datetime": portal, "type": "veod", "ShowAllVersions": "true", "ShowDeleted": "True"}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let sp = session_of(&s, &b).await;
    assert_eq!(sp.browse_at, Some(s.t2));
    assert!(sp.show_deleted && sp.show_all_versions);
    assert_eq!(b["type"], "Veod");
    assert!(b["_links"]["self"]["href"].as_str().unwrap().starts_with(&format!("{}/v5/restoresessions/", s.base)));

    // Tenant paths and the job paths.
    let (st, b) = s.post("/v3/Organization/Action", t, json!({"explore": {"type": "VESP"}})).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let (st, b) = s.post("/v8/Organization/Explore", t, json!({"type": "vesp", "showDeleted": 1})).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert!(session_of(&s, &b).await.show_deleted);
    assert!(b["eTag"].is_i64());
    let (st, b) = s.post(&format!("/v7/Jobs/{}/explore", s.job), t, json!({"type": "Veod"})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, b) = s.post(&format!("/v5/jobs/{}/action", s.job), t, json!({"explore": {"type": "veod"}})).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    // A v6+ body wrapped as in v2–v5 is accepted too.
    let (st, b) = s.post(&v6, t, json!({"explore": {"type": "veod"}})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
}

#[tokio::test]
async fn explore_leniency_and_errors() {
    let s = shared().await;
    let t = Some(s.token.as_str());
    let v5 = format!("/v5/Organizations/{}/Action", s.org);
    let v8 = format!("/v8/Organizations/{}/explore", s.org);

    // Lenient body: names in any case, string booleans, enum any case, trailing comma, comments.
    let raw = format!(
        "{{ // the PHP portal's body\n \"Explore\": {{ \"DateTime\": \"{}\", \"TYPE\": \"veod\", \"ShowDeleted\": \"True\", \
         \"showallversions\": \"FALSE\", }} }}",
        s.t1.format("%Y.%m.%d %H:%M:%S")
    );
    let (st, b) = s.post_raw(&v5, t, &raw).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let x = session_of(&s, &b).await;
    assert!(x.show_deleted && !x.show_all_versions);
    assert_eq!(x.kind, SessionKind::Veod);
    assert!(
        x.browse_at == Some(s.t1) || x.browse_at == Some(s.t2),
        "t1's second reaches t1 (or t2 in the same second)"
    );

    // 400s that name the field.
    let cases: Vec<(String, Value, &str)> = vec![
        (v8.clone(), json!({"showDeleted": true}), "'type'"),
        (v8.clone(), json!({"type": "Exchange2"}), "'type'"),
        (v8.clone(), json!({"type": "Veod", "showDeleted": "maybe"}), "'showDeleted'"),
        (v8.clone(), json!({"type": "Veod", "datetime": "yesterday"}), "'datetime'"),
        (v8.clone(), json!({"type": "Veod", "repositoryId": "x"}), "'repositoryId'"),
        (v5.clone(), json!({"explore": {"datetime": "2021.04.27 10:49"}}), "'type'"),
        (v5.clone(), json!({"frobnicate": null}), "frobnicate"),
        (v5.clone(), json!({}), "explore"),
    ];
    for (path, body, needle) in cases {
        let (st, e) = s.post(&path, t, body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{path} {body}: {e}");
        assert!(e["message"].as_str().unwrap().contains(needle), "{body}: {e}");
    }
    let (_, e) = s.post(&v8, t, json!({})).await;
    assert_eq!(e["errorCode"], "ParameterValidationFailure");
    // Malformed JSON: the position.
    let (st, e) = s.post_raw(&v8, t, "{\"type\": \"Veod\",\n \"showDeleted\": tru }").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(e["message"].as_str().unwrap().contains("line 2"), "{e}");
    // Unknown organization / job: 404; no token: 401.
    let (st, _) = s.post(&format!("/v6/Organizations/{}/explore", Uuid::new_v4()), t, json!({"type": "Veod"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.post(&format!("/v6/Jobs/{}/explore", Uuid::new_v4()), t, json!({"type": "Veod"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.post(&v8, None, json!({"type": "Veod"})).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = s.post(&v5, None, json!({"explore": {"type": "veod"}})).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn jobs_and_restore_points() {
    let s = shared().await;
    let t = Some(s.token.as_str());

    let (st, jobs) = s.get("/v6/Jobs", t).await;
    assert_eq!(st, StatusCode::OK, "{jobs}");
    let j = &jobs.as_array().expect("v6 array")[0];
    assert_eq!(j["id"], s.job.to_string());
    assert_eq!(j["name"], "default");
    assert_eq!(j["lastStatus"], "Success");
    assert_eq!(j["backupType"], "EntireOrganization");
    assert_eq!(j["_links"]["explore"]["href"], format!("/v6/Jobs/{}/explore", s.job));
    let (_, jobs8) = s.get(&format!("/v8/Jobs?organizationId={}", s.org), t).await;
    assert_eq!(jobs8["results"][0]["lastBackup"], dotnet_time(s.t2));
    let (_, none) = s.get(&format!("/v8/Jobs?organizationId={}", Uuid::new_v4()), t).await;
    assert_eq!(none["results"], json!([]));
    let (st, _) = s.get("/v8/Jobs?organizationId=zzz", t).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, one) = s.get(&format!("/v4/Jobs/{}", s.job), t).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(one["_links"]["self"]["href"], format!("{}/v4/jobs/{}", s.base, s.job));
    let (_, of_org) = s.get(&format!("/v7/Organizations/{}/Jobs", s.org), t).await;
    assert_eq!(of_org[0]["id"], s.job.to_string());
    let (st, _) = s.get(&format!("/v7/Jobs/{}", Uuid::new_v4()), t).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Restore points: v7+ page newest first; v6 array; filters.
    let (st, page) = s.get("/v7/RestorePoints", t).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    let r = page["results"].as_array().unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0]["id"], s.rp2.id.to_string());
    assert_eq!(r[0]["backupTime"], dotnet_time(s.t2));
    assert_eq!(r[0]["isOneDrive"], true);
    assert_eq!(r[0]["isSharePoint"], true);
    assert_eq!(r[0]["isExchange"], false);
    assert_eq!(r[0]["organizationId"], s.org);
    let (_, asc) = s.get(&format!("/v6/RestorePoints?orderAsc=true&organizationId={}", s.org), t).await;
    assert_eq!(asc[0]["id"], s.rp1.id.to_string(), "{asc}");
    let (_, at) = s.get(&format!("/v6/RestorePoints?backupTime={}", iso(s.t1)), t).await;
    assert_eq!(at.as_array().unwrap().len(), 1);
    assert_eq!(at[0]["id"], s.rp1.id.to_string());
    let (_, from) = s.get(&format!("/v8/RestorePoints?from={}", iso(s.t2)), t).await;
    assert_eq!(from["results"].as_array().unwrap().len(), 1);
    let (_, copies) = s.get("/v8/RestorePoints?isCopy=true", t).await;
    assert_eq!(copies["results"], json!([]));
    let (st, one) = s.get(&format!("/v8/RestorePoints/{}", s.rp1.id), t).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(one["jobId"], s.job.to_string());
    assert_eq!(one["isDeleted"], false);
    let (st, _) = s.get(&format!("/v8/RestorePoints/{}", Uuid::new_v4()), t).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, e) = s.get("/v8/RestorePoints?from=notatime", t).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(e["message"].as_str().unwrap().contains("'from'"));
}

#[tokio::test]
async fn swagger_documents_the_routes() {
    let s = shared().await;
    let (st, doc) = s.get("/swagger/openapi.json", None).await;
    assert_eq!(st, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/{version}/Organizations",
        "/{version}/Organizations/{id}/explore",
        "/{version}/Organizations/{id}/Action",
        "/{version}/Jobs",
        "/{version}/RestorePoints",
        "/{version}/RestoreSessions",
        "/{version}/RestoreSessions/{id}/stop",
        "/{version}/RestoreSessions/{id}/Statistics",
    ] {
        assert!(paths.contains_key(p), "{p} missing from the OpenAPI document");
    }
}
