//! `GET /health` and `/health/live` over real HTTPS, without a token: ready while the catalog and the repository
//! answer, 503 naming the repository once its storage is gone.

use crate::common;

use common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn health_says_what_does_not_answer() {
    let s = TestServer::start(DEFAULT_SEED).await;
    let (st, live) = s.get("/health/live", None).await;
    assert_eq!((st, live["status"].as_str()), (StatusCode::OK, Some("ok")), "{live}");
    let (st, ready) = s.get("/health", None).await;
    assert_eq!(st, StatusCode::OK, "{ready}");
    assert_eq!((ready["catalog"].as_str(), ready["repository"].as_str()), (Some("ok"), Some("ok")), "{ready}");

    // The repository's storage goes away (a lost mount): readiness names it, liveness still answers.
    let repo_dir = s.dir.path().join("repo");
    std::fs::rename(&repo_dir, s.dir.path().join("repo-gone")).unwrap();
    let (st, ready) = s.get("/health", None).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{ready}");
    assert_eq!(ready["status"], "unavailable");
    assert_eq!(ready["catalog"], "ok");
    assert!(ready["repository"].as_str().unwrap().starts_with("unavailable"), "{ready}");
    assert_eq!(s.get("/health/live", None).await.0, StatusCode::OK);
    std::fs::rename(s.dir.path().join("repo-gone"), &repo_dir).unwrap();
    assert_eq!(s.get("/health", None).await.0, StatusCode::OK, "ready again");
}
