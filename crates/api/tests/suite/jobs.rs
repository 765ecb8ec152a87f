//! Managing backup jobs over the API (create, change, enable/disable, remove), read back from the catalog: the
//! stored definition, the scheduler's next run, and the backups of a removed job.

use crate::common;

use chrono::{Duration, Timelike, Utc};
use common::*;
use engine::job::{DailyType, JobSettings, Schedule};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

fn body(v: Value) -> Vec<u8> {
    v.to_string().into_bytes()
}

#[tokio::test]
async fn jobs_are_created_changed_scheduled_and_removed() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let t = Some(s.token.as_str());
    let daily = json!({"type": "Daily", "dailyType": "Everyday", "dailyTime": "22:00", "retryEnabled": false});

    // Create: 201 with the job; the catalog holds the definition and the next run (22:00 in the server's zone, UTC).
    let new =
        json!({"organizationId": s.org, "name": "nightly", "description": "every evening", "schedulePolicy": daily});
    let (st, job) = s.call(Method::POST, "/v8/Jobs", t, Some(&body(new.clone()))).await;
    assert_eq!(st, StatusCode::CREATED, "{job}");
    let id = Uuid::parse_str(job["id"].as_str().unwrap()).unwrap();
    let stored = s.catalog.job(id).await.unwrap().expect("in the catalog");
    assert_eq!((stored.name.as_str(), stored.description.as_str(), stored.enabled), ("nightly", "every evening", true));
    let settings = JobSettings::from_stored(&stored.settings).unwrap();
    let Schedule::Daily { days, time, window } = settings.schedule else { panic!("{settings:?}") };
    assert_eq!((days, time.hour(), time.minute(), window), (DailyType::Everyday, 22, 0, None));
    assert!(!settings.retry.enabled);
    let next = stored.next_run_at.expect("scheduled");
    assert!(next > Utc::now() && next <= Utc::now() + Duration::days(1) && (next.hour(), next.minute()) == (22, 0));
    assert_eq!(job["nextRun"], api::store::sessions::dotnet_time(next));
    assert_eq!(job["schedulePolicy"]["dailyTime"], "22:00:00");
    assert_eq!((job["isEnabled"].clone(), job["eTag"].clone()), (json!(true), json!(1)));

    // Refusals name the field; a name is unique per organization.
    let (st, e) = s.call(Method::POST, "/v8/Jobs", t, Some(&body(new.clone()))).await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    assert!(e["message"].as_str().unwrap().contains("'name'"), "{e}");
    for (bad, field) in [
        (json!({"organizationId": s.org}), "'name'"),
        (json!({"name": "x"}), "'organizationId'"),
        (json!({"organizationId": Uuid::new_v4(), "name": "x"}), "'organizationId'"),
        (
            json!({"organizationId": s.org, "name": "x", "schedulePolicy": {"type": "Daily", "dailyType": "Everyday"}}),
            "dailyTime",
        ),
        (json!({"organizationId": s.org, "name": "x", "backupType": "Everything"}), "'backupType'"),
        (json!({"organizationId": s.org, "name": "x", "backupType": "SelectedItems"}), "'selectedItems'"),
        (
            json!({"organizationId": s.org, "name": "x", "selectedItems": [{"type": "Site", "site": {"id": "a"}}]}),
            "'selectedItems'",
        ),
        (
            json!({"organizationId": s.org, "name": "x", "excludedItems": [{"type": "User"}]}),
            "'excludedItems[0].user.id'",
        ),
        (
            json!({"organizationId": s.org, "name": "x", "excludedItems": [{"type": "Team", "team": {"id": "t"}}]}),
            "'excludedItems[0].type'",
        ),
        (json!({"organizationId": s.org, "name": "x", "runNow": true}), "'runNow'"),
        (json!({"organizationId": s.org, "name": "x", "repositoryId": Uuid::new_v4()}), "'repositoryId'"),
    ] {
        let (st, e) = s.call(Method::POST, "/v8/Jobs", t, Some(&body(bad.clone()))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}: {e}");
        assert!(e["message"].as_str().unwrap().contains(field), "{bad}: {e}");
    }
    assert!(s.catalog.jobs(s.org_id).await.unwrap().iter().all(|j| j.name != "x"), "nothing refused was stored");

    // A job of selected items: what it backs up and leaves out is stored for the engine.
    let sites = repo::catalog::ContainerQuery::new(s.org_id, s.t2).kind(repo::catalog::ContainerKind::Site).page(0, 1);
    let site_id = match &s.catalog.containers_at(&sites).await.unwrap().rows[0].info {
        repo::catalog::ContainerInfo::Site(site) => site.site_id.clone(),
        other => panic!("{other:?}"),
    };
    let selected = json!({
        "organizationId": s.org, "name": "first user and a site", "backupType": "SelectedItems",
        "selectedItems": [{"type": "user", "user": {"id": s.changes.user_id}}, {"type": "Site", "site": {"id": site_id}}],
        "excludedItems": [{"type": "User", "user": {"id": "someone-else"}}]
    });
    let (st, made) = s.call(Method::POST, "/v8/Jobs", t, Some(&body(selected))).await;
    assert_eq!(st, StatusCode::CREATED, "{made}");
    assert_eq!(made["backupType"], "SelectedItems");
    let stored = s.catalog.job(Uuid::parse_str(made["id"].as_str().unwrap()).unwrap()).await.unwrap().unwrap();
    let settings = JobSettings::from_stored(&stored.settings).unwrap();
    let scope = engine::BackupScope::of(&settings);
    assert!(scope.user(&s.changes.user_id) && scope.site(&site_id), "{settings:?}");
    assert!(!scope.user("someone-else") && !scope.user("a-third-user"), "{settings:?}");
    // Its lists as sub-resources: read, add (kept once), one by id, replace, remove; read back from the catalog.
    let items = format!("/v8/Jobs/{}/SelectedItems", stored.id);
    let (st, page) = s.get(&items, t).await;
    assert_eq!((st, page["totalCount"].clone()), (StatusCode::OK, json!(2)), "{page}");
    let user_item = page["results"].as_array().unwrap().iter().find(|i| i["type"] == "User").unwrap().clone();
    assert_eq!(user_item["user"]["id"], s.changes.user_id);
    let more = json!([{"type": "User", "user": {"id": "u-two"}}, {"type": "User", "user": {"id": s.changes.user_id}}]);
    let (st, e) = s.call(Method::POST, &items, t, Some(&body(more))).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{e}");
    let stored_items = |job: Uuid| {
        let cat = s.catalog.clone();
        async move {
            let settings = JobSettings::from_stored(&cat.job(job).await.unwrap().unwrap().settings).unwrap();
            let mut ids: Vec<String> = settings.selected_items.iter().map(|i| i.id.clone()).collect();
            ids.sort();
            ids
        }
    };
    let mut want = vec![s.changes.user_id.clone(), site_id.clone(), "u-two".to_string()];
    want.sort();
    assert_eq!(stored_items(stored.id).await, want, "added once");
    let (st, bad) =
        s.call(Method::POST, &items, t, Some(&body(json!([{"type": "Group", "group": {"id": "g"}}])))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}");
    assert!(bad["message"].as_str().unwrap().contains("'selectedItems[0].type'"), "{bad}");
    let one = format!("{items}/{}", user_item["id"].as_str().unwrap());
    let (st, got) = s.get(&one, t).await;
    assert_eq!((st, got["user"]["id"].clone()), (StatusCode::OK, json!(s.changes.user_id)), "{got}");
    let (st, _) = s.call(Method::PUT, &one, t, Some(&body(json!({"type": "User", "user": {"id": "u-three"}})))).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(s.get(&one, t).await.0, StatusCode::NOT_FOUND, "the item's id follows what it names");
    let (_, page) = s.get(&items, t).await;
    let ids: Vec<String> =
        page["results"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect();
    let (st, e) = s.call(Method::DELETE, &items, t, Some(&body(json!([ids[0]])))).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{e}");
    let (st, _) = s.call(Method::DELETE, &format!("{items}?ids={}", ids[1]), t, None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(stored_items(stored.id).await.len(), 1);
    let (st, e) = s.call(Method::DELETE, &format!("{items}?ids={}", ids[2]), t, None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "the last selected item stays: {e}");
    let (st, _) = s.call(Method::DELETE, &format!("{items}?ids={}", Uuid::new_v4()), t, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, excluded) = s.get(&format!("/v6/Jobs/{}/ExcludedItems", stored.id), t).await;
    assert_eq!(excluded["results"][0]["user"]["id"], "someone-else", "{excluded}");
    assert_eq!(s.get(&format!("/v5/Jobs/{}/SelectedItems", stored.id), t).await.0, StatusCode::NOT_FOUND);
    let (st, _) = s.call(Method::DELETE, &format!("/v8/Jobs/{}", stored.id), t, None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.call(Method::POST, "/v7/Jobs", t, Some(&body(new))).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "jobs are created in v8");

    // Change: only what the body names; the next run stays unless the schedule changes.
    let path = format!("/v8/Jobs/{id}");
    let (st, e) = s.call(Method::PUT, &path, t, Some(&body(json!({"description": "late"})))).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{e}");
    let after = s.catalog.job(id).await.unwrap().unwrap();
    assert_eq!((after.description.as_str(), after.revision, after.next_run_at), ("late", 2, Some(next)));
    let every15 = json!({"schedulePolicy": {"type": "Periodically", "periodicallyEvery": "Minutes15"}});
    let (st, _) = s.call(Method::PUT, &format!("/v6/Jobs/{id}"), t, Some(&body(every15))).await;
    assert_eq!(st, StatusCode::OK, "v6 answers 200");
    let periodic = s.catalog.job(id).await.unwrap().unwrap();
    let soon = periodic.next_run_at.unwrap();
    assert!(soon <= Utc::now() + Duration::minutes(15) && soon.minute() % 15 == 0, "{soon}");
    let (st, e) = s.call(Method::PUT, &path, t, Some(&body(json!({"organizationId": Uuid::new_v4()})))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");

    // Disable: no scheduled run shown or due; enable: scheduled again.
    let (st, _) = s.call(Method::POST, &format!("{path}/disable"), t, None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, shown) = s.get(&path, t).await;
    assert_eq!((shown["isEnabled"].clone(), shown["nextRun"].clone()), (json!(false), Value::Null), "{shown}");
    assert!(s.catalog.due_jobs(Utc::now() + Duration::days(2)).await.unwrap().iter().all(|j| j.id != id));
    let (st, _) = s.call(Method::POST, &format!("{path}/enable"), t, None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert!(s.catalog.job(id).await.unwrap().unwrap().enabled);

    // Start: `full` is refused; a server that was given no backup starter (this test's) says so (503).
    let (st, e) = s.call(Method::POST, &format!("{path}/start"), t, Some(&body(json!({"full": true})))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    assert!(e["message"].as_str().unwrap().contains("'full'"), "{e}");
    let (st, e) = s.call(Method::POST, &format!("{path}/start"), t, Some(&body(json!({})))).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{e}");
    assert!(s.catalog.sessions(id).await.unwrap().is_empty(), "no session was started");

    // Stop: the job's running session (as a worker on any node runs it) is asked to stop; not running: nothing.
    let (st, _) = s.call(Method::POST, &format!("{path}/stop"), t, None).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "nothing running: nothing to do");
    let running = s.catalog.start_session(id, Utc::now()).await.unwrap();
    assert!(!s.catalog.stop_requested(running.id).await.unwrap());
    let (st, _) = s.call(Method::POST, &format!("/v7/Jobs/{id}/stop"), t, None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(s.catalog.stop_requested(running.id).await.unwrap(), "the stop reaches the catalog");
    let none = repo::catalog::SessionCounters::default();
    s.catalog.finish_session(running.id, repo::catalog::SessionStatus::Stopped, &none, None).await.unwrap();
    let (_, runs) = s.get(&format!("/v8/JobSessions?jobId={id}&status=Stopped"), t).await;
    assert_eq!(runs["results"][0]["status"], "Stopped", "{runs}");

    // No backup copy jobs: a known job says so, an unknown one is 404 too.
    let (st, e) = s.get(&format!("{path}/CopyJob"), t).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(e["message"].as_str().unwrap().contains("no backup copy job"), "{e}");

    // Remove: a job whose only run was stopped is hidden like any job that ran; the job with backups leaves them
    // restorable.
    let (st, _) = s.call(Method::DELETE, &path, t, None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert!(s.catalog.job(id).await.unwrap().is_none());
    assert_eq!(s.get(&path, t).await.0, StatusCode::NOT_FOUND);
    let points_before = s.catalog.restore_points(s.org_id).await.unwrap().len();
    let (st, _) = s.call(Method::DELETE, &format!("/v8/Jobs/{}", s.job), t, None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, jobs) = s.get("/v8/Jobs", t).await;
    assert_eq!(jobs["results"], json!([]), "{jobs}");
    assert_eq!(s.catalog.restore_points(s.org_id).await.unwrap().len(), points_before);
    assert_eq!(s.catalog.sessions(s.job).await.unwrap().len(), 2, "its runs stay as history");
    let explored = s.explore(8, "Veod", None).await;
    assert!(!explored.is_empty(), "the removed job's backups are still explored");
    let (st, _) = s.call(Method::DELETE, &path, t, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}
