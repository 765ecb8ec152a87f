//! Backup history over the API (`/JobSessions`, `…/LogItems`) against the shared world's two backups, checked
//! against what the catalog recorded for those runs.

use crate::common;

use api::store::sessions::dotnet_time;
use common::*;
use repo::catalog::{LogLevel, SessionStatus};
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

/// An instant as a query value (`Z`: a `+` would read as a space).
fn iso(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The two runs of the shared world's job: the sessions the catalog holds, newest first as the API lists them.
async fn runs(s: &TestServer) -> Vec<repo::catalog::Session> {
    let mut runs = s.catalog.sessions(s.job).await.unwrap();
    runs.reverse();
    runs
}

#[tokio::test]
async fn job_sessions_show_every_backup_run_per_era() {
    let s = shared().await;
    let t = Some(s.token.as_str());
    let runs = runs(&s).await;
    assert_eq!(runs.len(), 2, "the shared world backs up twice");

    let (st, page) = s.get("/v8/JobSessions?limit=10", t).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    assert_eq!(page["totalCount"], 2, "{page}");
    let listed: Vec<&Value> = page["results"].as_array().unwrap().iter().collect();
    for (api, run) in listed.iter().zip(&runs) {
        assert_eq!(api["id"], run.id.to_string());
        assert_eq!(api["jobId"], s.job.to_string());
        assert_eq!(api["creationTime"], dotnet_time(run.started_at));
        assert_eq!(api["endTime"], dotnet_time(run.finished_at.unwrap()));
        assert_eq!(api["progress"], run.counters.processed_items);
        assert_eq!(api["statistics"]["processedObjects"], run.counters.processed_items);
        assert_eq!(api["statistics"]["transferredDataBytes"], run.counters.processed_bytes);
        let want = match run.status {
            SessionStatus::Success => "Success",
            SessionStatus::Warning => "Warning",
            other => panic!("the shared backups ended {other:?}"),
        };
        assert_eq!(api["status"], want);
        assert_eq!(api["jobType"], "Backup");
        assert!(api["eTag"].is_i64(), "{api}");
        assert_eq!(api["_links"]["logItems"]["href"], format!("/v8/JobSessions/{}/LogItems", run.id));
    }
    // The older run was the job's first: a full backup; the newer one an incremental.
    assert_eq!(listed[0]["jobSessionConfigType"], "Incremental");
    assert_eq!(listed[1]["jobSessionConfigType"], "Full");
    assert!(runs[1].counters.processed_bytes > 0, "the full backup read content");

    // Paging and filters.
    let (_, second) = s.get("/v8/JobSessions?offset=1&limit=1", t).await;
    assert_eq!(second["results"][0]["id"], runs[1].id.to_string(), "{second}");
    assert_eq!(second["_links"]["prev"]["href"], "/v8/JobSessions?offset=0&limit=1");
    let (_, of_job) = s.get(&format!("/v8/JobSessions?jobId={}", s.job), t).await;
    assert_eq!(of_job["totalCount"], 2);
    for empty in [
        format!("/v8/JobSessions?jobId={}", Uuid::new_v4()),
        "/v8/JobSessions?status=Failed".to_string(),
        "/v8/JobSessions?status=stopped".to_string(),
        "/v8/JobSessions?jobType=Copy".to_string(),
        format!("/v8/JobSessions?endTimeUpperBound={}", iso(runs[1].started_at)),
    ] {
        let (st, none) = s.get(&empty, t).await;
        assert_eq!(st, StatusCode::OK, "{empty}: {none}");
        assert_eq!(none["totalCount"], 0, "{empty}: {none}");
    }
    let ended_after_first = iso(runs[1].finished_at.unwrap() + chrono::Duration::microseconds(1));
    let (_, newer) = s.get(&format!("/v8/JobSessions?endTimeLowerBound={ended_after_first}"), t).await;
    assert_eq!(newer["totalCount"], 1, "{newer}");
    assert_eq!(newer["results"][0]["id"], runs[0].id.to_string());
    for (bad, field) in
        [("status=Paused", "status"), ("jobId=nope", "jobId"), ("endTimeLowerBound=yesterday", "endTimeLowerBound")]
    {
        let (st, e) = s.get(&format!("/v8/JobSessions?{bad}"), t).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}: {e}");
        assert!(e["message"].as_str().unwrap().contains(field), "{bad}: {e}");
    }

    // v6 (the job's own path) and v7 shapes: no jobId, v7 names the repository.
    let (st, v6) = s.get(&format!("/v6/Jobs/{}/JobSessions", s.job), t).await;
    assert_eq!(st, StatusCode::OK, "{v6}");
    let first = &v6["results"][0];
    assert_eq!(first["id"], runs[0].id.to_string());
    assert!(first.get("jobId").is_none() && first.get("repositoryId").is_none() && first.get("jobType").is_none());
    let (_, v7) = s.get(&format!("/v7/JobSessions/{}", runs[1].id), t).await;
    assert!(v7["repositoryId"].is_string(), "{v7}");
    assert!(v7.get("jobId").is_none() && v7.get("eTag").is_none(), "{v7}");
    let (st, _) = s.get(&format!("/v6/Jobs/{}/JobSessions", Uuid::new_v4()), t).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Before v6 there are no job sessions; unknown ids are 404; no token is 401.
    let (st, _) = s.get("/v5/JobSessions", t).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    for bad in [Uuid::new_v4().to_string(), "not-a-guid".into()] {
        let (st, e) = s.get(&format!("/v8/JobSessions/{bad}"), t).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{bad}: {e}");
    }
    let (st, _) = s.get("/v8/JobSessions", None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn processed_objects_are_every_user_and_site_of_the_run() {
    let s = shared().await;
    let t = Some(s.token.as_str());
    let run = runs(&s).await.remove(1);
    // Every OneDrive and site the catalog has at the run's instant was processed by it.
    let kinds = [(repo::catalog::ContainerKind::OneDrive, "User"), (repo::catalog::ContainerKind::Site, "Site")];
    let mut want = Vec::new();
    for (kind, label) in kinds {
        let q = repo::catalog::ContainerQuery::new(s.org_id, run.started_at).kind(kind).page(0, 1000);
        for c in s.catalog.containers_at(&q).await.unwrap().rows {
            let id = match c.info {
                repo::catalog::ContainerInfo::OneDrive(d) => d.user_id,
                repo::catalog::ContainerInfo::Site(site) => site.site_id,
                other => panic!("{other:?}"),
            };
            want.push((label.to_string(), id));
        }
    }
    want.sort();
    let (st, page) = s.get(&format!("/v8/JobSessions/{}/ProcessedObjects?limit=1000", run.id), t).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    let mut got: Vec<(String, String)> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["type"].as_str().unwrap().to_string(), o["id"].as_str().unwrap().to_string()))
        .collect();
    got.sort();
    assert_eq!(got, want, "{page}");
    assert!(page["results"].as_array().unwrap().iter().all(|o| o["status"] == "Success"), "{page}");
    assert_eq!(page["totalCount"], want.len());
    let (st, _) = s.get(&format!("/v6/JobSessions/{}/ProcessedObjects", run.id), t).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "v7 on");
    let (st, _) = s.get(&format!("/v8/JobSessions/{}/ProcessedObjects", Uuid::new_v4()), t).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn log_items_are_the_catalog_log_of_the_run() {
    let s = shared().await;
    let t = Some(s.token.as_str());
    let run = runs(&s).await.remove(1);
    let log = s.catalog.session_log(run.id, 0, 10_000).await.unwrap();
    assert!(log.total >= 2, "a backup logs its start and end: {log:?}");

    let (st, page) = s.get(&format!("/v8/JobSessions/{}/LogItems?limit=10000", run.id), t).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    assert_eq!(page["totalCount"], log.total);
    let items = page["results"].as_array().unwrap();
    for (api, entry) in items.iter().zip(&log.rows) {
        assert_eq!(api["usn"], entry.seq);
        assert!(api["message"].as_str().unwrap().starts_with(&entry.message), "{api} vs {entry:?}");
        let want = match entry.level {
            LogLevel::Info => "Success",
            LogLevel::Warning => "Warning",
            LogLevel::Error => "Error",
        };
        assert_eq!(api["type"], want);
        assert_eq!(api["creationTime"], dotnet_time(entry.at));
        // An item is named by its path and container, never by the catalog's reference (container and Graph ids).
        if let Some(r) = &entry.item_ref {
            let text = api["message"].as_str().unwrap();
            assert!(!text.contains(r.as_str()), "{text}");
            if let Some(named) = s.catalog.describe_item(r, run.started_at).await.unwrap() {
                assert!(text.ends_with(&format!("({named})")), "{text} / {named}");
            }
        }
    }
    let named = items.iter().filter(|i| i["message"].as_str().unwrap().contains("(OneDrive of ")).count();
    assert!(named > 0, "the full backup logs OneDrive items by path: {page}");

    // Newest first, then one item by its id (also the id of its `self` link).
    let (_, desc) = s.get(&format!("/v8/JobSessions/{}/LogItems?orderAsc=false&limit=1", run.id), t).await;
    let newest = &desc["results"][0];
    assert_eq!(newest["usn"], log.rows.last().unwrap().seq);
    let id = newest["id"].as_str().unwrap();
    let (st, one) = s.get(&format!("/v8/JobSessions/{}/LogItems/{id}", run.id), t).await;
    assert_eq!(st, StatusCode::OK, "{one}");
    assert_eq!(one["message"], newest["message"]);
    assert_eq!(one["_links"]["self"]["href"], format!("/v8/JobSessions/{}/LogItems/{id}", run.id));
    // The same id under another session, or an id of no entry, is 404.
    let (other_run, _) = (runs(&s).await.remove(0), ());
    let (st, _) = s.get(&format!("/v8/JobSessions/{}/LogItems/{id}", other_run.id), t).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.get(&format!("/v8/JobSessions/{}/LogItems/{}", run.id, Uuid::new_v4()), t).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // By type: as many as the catalog has of that level; `Stop` matches nothing; v7 names the text `title`.
    let infos = log.rows.iter().filter(|e| e.level == LogLevel::Info).count();
    let (_, ok) = s.get(&format!("/v8/JobSessions/{}/LogItems?type=success&limit=10000", run.id), t).await;
    assert_eq!(ok["totalCount"], infos, "{ok}");
    let (_, stop) = s.get(&format!("/v8/JobSessions/{}/LogItems?type=Stop", run.id), t).await;
    assert_eq!(stop["totalCount"], 0);
    let (st, e) = s.get(&format!("/v8/JobSessions/{}/LogItems?type=Loud", run.id), t).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(e["message"].as_str().unwrap().contains("type"), "{e}");
    let (_, v7) = s.get(&format!("/v7/JobSessions/{}/LogItems", run.id), t).await;
    let first = &v7["results"][0];
    assert!(first["title"].as_str().unwrap().starts_with(&log.rows[0].message), "{first}");
    assert!(first.get("type").is_none() && first.get("message").is_none(), "{first}");
}
