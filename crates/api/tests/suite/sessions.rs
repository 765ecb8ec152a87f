//! Restore sessions over real HTTPS: list/get/stop per era, the session's organization, events, statistics,
//! ownership, idle expiry, restarts, and the lookup API browse modules use.

use crate::common;

use std::time::Duration;

use api::ctx::auth::CurrentUser;
use api::ctx::working;
use api::store::sessions::{self, NewEvent, Outcome};
use api::ApiVersion;
use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

async fn user(s: &TestServer, name: &str) -> CurrentUser {
    let u = api::store::accounts::find_user(s.state.pool(), name).await.unwrap().unwrap();
    CurrentUser { id: u.id, name: u.name }
}

#[tokio::test]
async fn action_era_lifecycle() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let t = Some(s.token.as_str());
    let id = s.explore(5, "veod", None).await;

    let (st, b) = s.get(&format!("/v5/RestoreSessions/{id}"), t).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["id"], id);
    assert_eq!(b["type"], "Veod");
    assert_eq!(b["state"], "Working");
    assert_eq!(b["result"], "Success");
    assert_eq!(b["endTime"], Value::Null);
    assert_eq!(b["details"], "0 items processed (0 success, 0 warnings, 0 failed)");
    assert!(b["creationTime"].as_str().unwrap().ends_with('Z'));
    assert_eq!(b["_links"]["self"]["href"], format!("{}/v5/restoresessions/{id}", s.base));
    assert_eq!(b["_links"]["organization"]["href"], format!("{}/v5/restoresessions/{id}/organization", s.base));
    assert_eq!(b["_links"]["restoreSessionEvents"]["href"], format!("{}/v5/restoresessions/{id}/events", s.base));
    assert!(b.get("eTag").is_none());

    // v5 page, v3/v4 plain arrays (only the caller's sessions).
    let (_, page) = s.get("/v5/RestoreSessions?offset=0&limit=250", t).await;
    assert_eq!(page["totalCount"], 1);
    assert_eq!(page["results"][0]["id"], id);
    let (_, arr) = s.get("/v3/RestoreSessions", t).await;
    assert_eq!(arr.as_array().expect("v3 array").len(), 1);
    let (_, arr) = s.get("/v4/restoresessions", t).await;
    assert!(arr.is_array());

    // The browse root.
    let (st, org) = s.get(&format!("/v5/RestoreSessions/{id}/Organization"), t).await;
    assert_eq!(st, StatusCode::OK, "{org}");
    assert_eq!(org["id"], s.org);
    assert_eq!(org["type"], "Office365");
    assert!(org["name"].as_str().unwrap().starts_with("contoso.onmicrosoft.com ("), "{org}");
    assert_eq!(
        org["_links"]["onedrives"]["href"],
        format!("{}/v5/restoresessions/{id}/organization/onedrives", s.base)
    );

    // Events: a page even here.
    let (st, ev) = s.get(&format!("/v5/RestoreSessions/{id}/Events"), t).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ev["results"], json!([]));

    // Bad actions: 400 naming them; the session keeps working.
    let (st, e) = s.post(&format!("/v5/RestoreSessions/{id}/Action"), t, json!({"halt": null})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(e["message"].as_str().unwrap().contains("'halt'"), "{e}");
    let (st, _) = s.post_empty(&format!("/v5/RestoreSessions/{id}/Action"), t).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, e) = s.post_raw(&format!("/v5/RestoreSessions/{id}/Action"), t, "{\"stop\": nul}").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(e["message"].as_str().unwrap().contains("column"), "{e}");

    // Stop: 200 with no body, twice.
    for _ in 0..2 {
        let r = s
            .client
            .post(s.url(&format!("/v5/RestoreSessions/{id}/Action")))
            .bearer_auth(&s.token)
            .body("{\"stop\": null}")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.bytes().await.unwrap().is_empty());
    }
    let (_, b) = s.get(&format!("/v5/RestoreSessions/{id}"), t).await;
    assert_eq!(b["state"], "Stopped");
    assert!(b["endTime"].is_string());

    // Browsing a stopped session: 500 with the message (what clients map to "expired").
    let (st, e) = s.get(&format!("/v5/RestoreSessions/{id}/Organization"), t).await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(e, json!({"message": "Restore session is stopped."}));
    // Events stay readable.
    let (st, _) = s.get(&format!("/v5/RestoreSessions/{id}/Events"), t).await;
    assert_eq!(st, StatusCode::OK);
    s.api.shutdown().await;
}

#[tokio::test]
async fn verb_era_stop_semantics() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let t = Some(s.token.as_str());
    for (v, code) in [(6u8, StatusCode::OK), (7, StatusCode::OK), (8, StatusCode::NO_CONTENT)] {
        let id = s.explore(v, "Veod", None).await;
        let (st, b) = s.get(&format!("/v{v}/RestoreSessions/{id}"), t).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(b["_links"]["self"]["href"], format!("/v{v}/RestoreSessions/{id}"));
        assert_eq!(b["_links"]["restoreSessionEvents"]["href"], format!("/v{v}/RestoreSessions/{id}/Events"));
        assert_eq!(b.get("eTag").is_some(), v == 8, "{b}");
        let etag = b["eTag"].as_i64();
        let (st, org) = s.get(&format!("/v{v}/RestoreSessions/{id}/organization"), t).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(org["_links"]["self"]["href"], format!("/v{v}/RestoreSessions/{id}/Organization"));
        for _ in 0..2 {
            let (st, body) = s.post_empty(&format!("/v{v}/RestoreSessions/{id}/Stop"), t).await;
            assert_eq!(st, code, "v{v}");
            assert_eq!(body, Value::Null);
        }
        let (_, b) = s.get(&format!("/v{v}/RestoreSessions/{id}"), t).await;
        assert_eq!(b["state"], "Stopped");
        if let Some(e) = etag {
            assert!(b["eTag"].as_i64().unwrap() > e, "the eTag grows when the session changes");
        }
        let (st, e) = s.get(&format!("/v{v}/RestoreSessions/{id}/Organization"), t).await;
        if v == 8 {
            assert_eq!(st, StatusCode::CONFLICT);
            assert_eq!(
                e,
                json!({"message": "Restore session is stopped.", "errorCode": "OperationConflict", "stackTrace": null})
            );
        } else {
            assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(e["message"], "Restore session is stopped.");
        }
    }
    // Paged list with filters.
    let (_, page) = s.get("/v6/RestoreSessions?limit=2", t).await;
    assert_eq!(page["totalCount"], 3);
    assert_eq!(page["results"].as_array().unwrap().len(), 2);
    assert!(page["_links"]["next"]["href"].as_str().unwrap().starts_with("/v6/RestoreSessions?"));
    let future = (chrono::Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let (_, none) = s.get(&format!("/v8/RestoreSessions?startTimeFrom={future}"), t).await;
    assert_eq!(none["results"], json!([]));
    let (_, all) = s.get(&format!("/v8/RestoreSessions?startTimeTo={future}&orderBy=endtime&orderAsc=true"), t).await;
    assert_eq!(all["results"].as_array().unwrap().len(), 3);
    let (st, e) = s.get("/v8/RestoreSessions?orderBy=Name", t).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(e["message"].as_str().unwrap().contains("orderBy"));
    let (st, e) = s.get("/v7/RestoreSessions?startTimeFrom=soon", t).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(e["message"].as_str().unwrap().contains("startTimeFrom"));
    s.api.shutdown().await;
}

#[tokio::test]
async fn other_users_sessions_are_invisible() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let mine = s.explore(6, "Veod", None).await;
    let theirs = s.explore_as(8, "Vesp", None, &s.other_token).await;
    let other = Some(s.other_token.as_str());
    for v in [4u8, 6, 8] {
        for p in [
            format!("/v{v}/RestoreSessions/{mine}"),
            format!("/v{v}/RestoreSessions/{mine}/Organization"),
            format!("/v{v}/RestoreSessions/{mine}/Events"),
            format!("/v{v}/RestoreSessions/{mine}/Statistics"),
            format!("/v{v}/RestoreSessions/{mine}/Events/{}", Uuid::new_v4()),
        ] {
            let (st, e) = s.get(&p, other).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "{p}: {e}");
        }
    }
    let (st, _) = s.post_empty(&format!("/v6/RestoreSessions/{mine}/Stop"), other).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.post(&format!("/v5/RestoreSessions/{mine}/Action"), other, json!({"stop": null})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // Still working for its owner.
    let (_, b) = s.get(&format!("/v6/RestoreSessions/{mine}"), Some(&s.token)).await;
    assert_eq!(b["state"], "Working");
    // Each list shows only its owner's sessions.
    let (_, l) = s.get("/v8/RestoreSessions", other).await;
    let ids: Vec<&str> = l["results"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [theirs.as_str()]);
    assert_eq!(l["results"][0]["initiatedBy"], OTHER);
    let (_, l) = s.get("/v3/RestoreSessions", Some(&s.token)).await;
    assert_eq!(l.as_array().unwrap().len(), 1);
    assert_eq!(l[0]["id"], mine);
    // Unknown and malformed ids: 404 (never 400).
    for id in [Uuid::new_v4().to_string(), "garbage".into()] {
        let (st, e) = s.get(&format!("/v8/RestoreSessions/{id}"), Some(&s.token)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert_eq!(e["errorCode"], "ResourceNotFound");
    }
    // 401 without a token.
    for p in [
        format!("/v5/RestoreSessions/{mine}"),
        "/v8/RestoreSessions".into(),
        format!("/v6/RestoreSessions/{mine}/Events"),
    ] {
        let (st, _) = s.get(&p, None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{p}");
    }
    let (st, _) = s.post_empty(&format!("/v8/RestoreSessions/{mine}/Stop"), None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    s.api.shutdown().await;
}

#[tokio::test]
async fn events_and_statistics() {
    let s = shared().await;
    let t = Some(s.token.as_str());
    let id = s.explore(8, "Veod", None).await;
    let sid = Uuid::parse_str(&id).unwrap();

    // A browse-only session: zeros.
    let (st, stats) = s.get(&format!("/v8/RestoreSessions/{id}/Statistics"), t).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        stats,
        json!({"totalItemsCount": 0, "restoredItemsCount": 0, "failedItemsCount": 0, "skippedItemsCount": 0,
               "warnings": [], "errors": [], "items": []})
    );

    // Events as a restore would record them.
    let restore = |name: &str, status: Outcome, message: &str| NewEvent {
        kind: "Restore".into(),
        status: Some(status),
        title: format!("Restoring {name}"),
        message: message.into(),
        item_name: Some(name.into()),
        item_type: Some("Document".into()),
        item_size: Some(42),
        source: Some(format!("/Documents/{name}")),
        user_id: Some(s.changes.user_id.clone()),
        ..Default::default()
    };
    sessions::add_event(&s.state, sid, restore("a.txt", Outcome::Success, "Item a.txt was restored")).await.unwrap();
    sessions::add_event(&s.state, sid, restore("b.txt", Outcome::Warning, "b.txt: permissions not restored"))
        .await
        .unwrap();
    sessions::add_event(&s.state, sid, restore("c.txt", Outcome::Failed, "c.txt: access denied")).await.unwrap();
    let running = sessions::record_event(
        &s.state,
        sid,
        NewEvent { kind: "Save".into(), status: Some(Outcome::Running), title: "Saving".into(), ..Default::default() },
    )
    .await
    .unwrap();
    assert_eq!(running.order, 4);
    assert!(running.ended_at.is_none());
    sessions::finish_event(&s.state, sid, running.id, Outcome::Success, Some("Saved 1 item")).await.unwrap();

    let (st, page) = s.get(&format!("/v8/RestoreSessions/{id}/Events?limit=2"), t).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    let r = page["results"].as_array().unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0]["order"], 1);
    assert_eq!(r[0]["type"], "Restore");
    assert_eq!(r[0]["status"], "Success");
    assert_eq!(r[0]["itemName"], "a.txt");
    assert_eq!(r[0]["itemSizeBytes"], 42);
    assert_eq!(r[0]["userId"], s.changes.user_id);
    assert_eq!(r[0]["organizationId"], s.org);
    assert!(r[0]["duration"].as_str().unwrap().starts_with("00:00:00"));
    assert_eq!(page["totalCount"], 4);
    assert_eq!(page["_links"]["next"]["href"], format!("/v8/RestoreSessions/{id}/Events?offset=2&limit=2"));
    let eid = r[1]["id"].as_str().unwrap();
    let (st, one) = s.get(&format!("/v8/RestoreSessions/{id}/Events/{eid}"), t).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(one["status"], "Warning");
    assert_eq!(one["_links"]["self"]["href"], format!("/v8/RestoreSessions/{id}/Events/{eid}"));
    let (st, _) = s.get(&format!("/v8/RestoreSessions/{id}/Events/{}", Uuid::new_v4()), t).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.get(&format!("/v8/RestoreSessions/{id}/Events/not-a-guid"), t).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // v5 events: no v6+ item fields.
    let (_, v5) = s.get(&format!("/v5/RestoreSessions/{id}/Events"), t).await;
    assert!(v5["results"][0].get("itemName").is_none());
    assert_eq!(v5["results"][3]["message"], "Saved 1 item");
    assert!(v5["results"][3]["endTime"].is_string());

    let (_, stats) = s.get(&format!("/v8/RestoreSessions/{id}/Statistics"), t).await;
    assert_eq!(stats["totalItemsCount"], 3);
    assert_eq!(stats["restoredItemsCount"], 2);
    assert_eq!(stats["failedItemsCount"], 1);
    assert_eq!(stats["skippedItemsCount"], 0);
    assert_eq!(stats["warnings"], json!(["b.txt: permissions not restored"]));
    assert_eq!(stats["errors"], json!(["c.txt: access denied"]));
    let items = stats["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["itemType"], "OneDriveItem");
    assert_eq!(items[0]["itemRestoreDetailsType"], "Item");
    assert_eq!(items[2]["status"], "Failed");
    assert_eq!(items[2]["error"], "c.txt: access denied");
    assert_eq!(items[0]["path"], "/Documents/a.txt");

    // The session's details summarise the restore events.
    let (_, b) = s.get(&format!("/v6/RestoreSessions/{id}"), t).await;
    assert_eq!(b["details"], "3 items processed (1 success, 1 warnings, 1 failed)");
}

#[tokio::test]
async fn lookup_api_idle_expiry_and_restart() {
    let mut s = TestServer::start(DEFAULT_SEED).await;
    let admin = user(&s, ADMIN).await;
    let other = user(&s, OTHER).await;
    let id = s.explore(6, "Veod", Some(&s.t1.to_rfc3339())).await;

    // require_working: the session with its options.
    let w = working::session(&s.state, &admin, &id).await.unwrap();
    assert_eq!(w.browse_at, Some(s.t1));
    assert!(w.show_deleted && w.show_all_versions);
    assert_eq!(w.owner, admin.id);
    assert_eq!(w.organization_id, s.org_id);
    // 404: unknown, malformed, another user's.
    for (u, i) in [(&admin, Uuid::new_v4().to_string()), (&admin, "x".to_string()), (&other, id.clone())] {
        let e = working::session(&s.state, u, &i).await.unwrap_err();
        assert_eq!(e.status, StatusCode::NOT_FOUND, "{i}");
    }

    // Restart: a new process state on the same database keeps the session usable.
    s.restart().await;
    let (st, b) = s.get(&format!("/v7/RestoreSessions/{id}"), Some(&s.token)).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["state"], "Working");
    let (st, _) = s.get(&format!("/v7/RestoreSessions/{id}/Organization"), Some(&s.token)).await;
    assert_eq!(st, StatusCode::OK);

    // Idle expiry (lazily at lookup); the timeout is per server state.
    assert_eq!(s.state.session_idle_timeout.get(), sessions::DEFAULT_IDLE_TIMEOUT);
    s.state.session_idle_timeout.set(Duration::from_millis(800));
    // A session in use does not expire...
    let fresh = s.explore(8, "Veod", None).await;
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let (st, e) = s.get(&format!("/v6/RestoreSessions/{fresh}/Organization"), Some(&s.token)).await;
        assert_eq!(st, StatusCode::OK, "{e}");
    }
    // ...an idle one does.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (st, e) = s.get(&format!("/v6/RestoreSessions/{id}/Organization"), Some(&s.token)).await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR, "{e}");
    assert_eq!(e["message"], "Restore session is stopped.");
    for sid in [&id, &fresh] {
        let (_, b) = s.get(&format!("/v6/RestoreSessions/{sid}"), Some(&s.token)).await;
        assert_eq!(b["state"], "Stopped");
        assert!(b["endTime"].is_string());
    }
    // Stopped: 500 for v2–v7 lookups, 409 for v8 (the edge renders the request's era).
    let e = working::session(&s.state, &admin, &id).await.unwrap_err();
    assert_eq!(e.message, "Restore session is stopped.");
    assert_eq!(e.render(Some(ApiVersion(7))).status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(e.render(Some(ApiVersion(8))).status(), StatusCode::CONFLICT);
    // find still returns it.
    assert_eq!(sessions::find(&s.state, &admin, &id).await.unwrap().state, sessions::SessionState::Stopped);
    // Stopping an expired session is fine.
    let (st, _) = s.post_empty(&format!("/v8/RestoreSessions/{id}/Stop"), Some(&s.token)).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    s.api.shutdown().await;
}
