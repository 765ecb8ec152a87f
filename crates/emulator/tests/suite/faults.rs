//! Fault injection (graph-notes §9.2): injected 429/503 with Retry-After and Graph error bodies,
//! one-shot and every-Nth budgets, method/path matching, latency, and the per-route counters.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn post_faults(t: &TestTenant, body: Value) -> (StatusCode, Value) {
    let resp = t.http.post(format!("{}/_emulator/faults", t.base)).json(&body).send().await.unwrap();
    let s = resp.status();
    (s, resp.json().await.unwrap_or(Value::Null))
}

async fn control(t: &TestTenant, method: Method, path: &str) -> (StatusCode, Value) {
    let resp = t.http.request(method, format!("{}/_emulator{path}", t.base)).send().await.unwrap();
    let s = resp.status();
    (s, resp.json().await.unwrap_or(Value::Null))
}

async fn raw_get(t: &TestTenant, token: &str, path: &str) -> reqwest::Response {
    t.http.get(t.graph(path)).bearer_auth(token).send().await.unwrap()
}

#[tokio::test]
async fn throttling_429_then_recovers() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (s, rule) = post_faults(&t, json!({"path": "/v1.0/users", "status": 429, "retryAfter": 7, "count": 1})).await;
    assert_eq!(s, 201, "{rule}");
    assert!(rule["id"].as_str().is_some_and(|i| !i.is_empty()));
    let resp = raw_get(&t, &token, "/users").await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "7");
    assert!(resp.headers().contains_key("request-id"));
    let body: Value = resp.json().await.unwrap();
    assert_graph_error(&body, "activityLimitReached");
    assert_eq!(body["error"]["innerError"]["code"], "throttledRequest");
    // One-shot: the next request goes through and the exhausted rule is gone.
    let resp = raw_get(&t, &token, "/users").await;
    assert_ne!(resp.status(), 429);
    let (_, list) = control(&t, Method::GET, "/faults").await;
    assert_eq!(list["value"], json!([]));
}

#[tokio::test]
async fn service_unavailable_every_nth_and_method_filter() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (s, _) =
        post_faults(&t, json!({"pathContains": "/users", "method": "GET", "status": 503, "everyNth": 3, "count": 2}))
            .await;
    assert_eq!(s, 201);
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let resp = raw_get(&t, &token, "/users").await;
        statuses.push(resp.status() == 503);
        if resp.status() == 503 {
            assert_eq!(resp.headers()["retry-after"], "1", "503 defaults to Retry-After: 1");
            let body: Value = resp.json().await.unwrap();
            assert_graph_error(&body, "serviceNotAvailable");
        }
    }
    assert_eq!(statuses, [false, false, true, false, false, true, false, false]);
    // A POST-only rule leaves GETs alone; a 500 without Retry-After.
    let (s, _) = post_faults(&t, json!({"path": "/v1.0/", "method": "POST", "status": 500, "count": 1})).await;
    assert_eq!(s, 201);
    assert_ne!(raw_get(&t, &token, "/users").await.status(), 500);
    let resp = t.http.post(t.graph("/users")).bearer_auth(&token).json(&json!({})).send().await.unwrap();
    assert_eq!(resp.status(), 500);
    assert!(!resp.headers().contains_key("retry-after"));
    let body: Value = resp.json().await.unwrap();
    assert_graph_error(&body, "generalException");
}

#[tokio::test]
async fn token_endpoint_faults_use_the_entra_dialect() {
    let t = TestTenant::start("users=1").await;
    let (s, _) =
        post_faults(&t, json!({"pathContains": "/oauth2/v2.0/token", "status": 429, "noRetryAfter": true, "count": 1}))
            .await;
    assert_eq!(s, 201);
    let resp = t
        .http
        .post(format!("{}/{}/oauth2/v2.0/token", t.base, t.tenant_id()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert!(!resp.headers().contains_key("retry-after"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(body["error_codes"].is_array());
    t.graph_token().await; // next one succeeds (asserts 200 inside)
}

#[tokio::test]
async fn latency_is_applied() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (s, rule) = post_faults(&t, json!({"path": "/v1.0/users", "latencyMs": 400})).await;
    assert_eq!(s, 201);
    let started = Instant::now();
    let resp = raw_get(&t, &token, "/users").await;
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_ne!(resp.status(), 429);
    let id = rule["id"].as_str().unwrap();
    let (s, _) = control(&t, Method::DELETE, &format!("/faults/{id}")).await;
    assert_eq!(s, 204);
    let started = Instant::now();
    raw_get(&t, &token, "/users").await;
    assert!(started.elapsed() < Duration::from_millis(350));
    let (s, v) = control(&t, Method::DELETE, &format!("/faults/{id}")).await;
    assert_eq!(s, 404);
    assert_eq!(v["error"]["code"], "itemNotFound");
}

#[tokio::test]
async fn control_api_is_never_faulted_and_rules_clear() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (s, v) = post_faults(&t, json!({"rules": [{"status": 503, "id": "all"}, {"latencyMs": 1}]})).await;
    assert_eq!(s, 201);
    assert_eq!(v["value"].as_array().unwrap().len(), 2);
    assert_eq!(raw_get(&t, &token, "/users").await.status(), 503);
    assert_eq!(raw_get(&t, &token, "/drives/x").await.status(), 503);
    let (s, list) = control(&t, Method::GET, "/faults").await;
    assert_eq!(s, 200);
    assert_eq!(list["value"][0]["id"], "all");
    assert_eq!(list["value"][0]["fired"], 2);
    let (s, _) = post_faults(&t, json!({"id": "all", "status": 500})).await;
    assert_eq!(s, 409, "duplicate ids are refused");
    let (s, _) = control(&t, Method::DELETE, "/faults").await;
    assert_eq!(s, 204);
    assert_ne!(raw_get(&t, &token, "/users").await.status(), 503);
}

#[tokio::test]
async fn invalid_rules_are_rejected() {
    let t = TestTenant::start("users=1").await;
    for bad in [
        json!({"path": "/v1.0"}),
        json!({"status": 200}),
        json!({"status": 429, "everyNth": 0}),
        json!({"status": 429, "count": 0}),
        json!({"status": 429, "method": "G E T"}),
        json!({"status": 429, "colour": "red"}),
        json!({"status": "429"}),
        json!(42),
        json!({"rules": "x"}),
    ] {
        let (s, v) = post_faults(&t, bad.clone()).await;
        assert_eq!(s, 400, "{bad} → {v}");
        assert_eq!(v["error"]["code"], "invalidRequest");
    }
    // All-or-nothing: a bad rule in a batch adds none.
    let (s, _) = post_faults(&t, json!([{"status": 500}, {"status": 99}])).await;
    assert_eq!(s, 400);
    assert_eq!(control(&t, Method::GET, "/faults").await.1["value"], json!([]));
}

#[tokio::test]
async fn stats_count_requests_per_route() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    let (s, _) = control(&t, Method::DELETE, "/stats").await;
    assert_eq!(s, 204);
    post_faults(&t, json!({"path": "/v1.0/drives", "status": 429, "count": 2})).await;
    for _ in 0..3 {
        raw_get(&t, &token, "/users").await;
    }
    for id in ["b!one", "b!two", "b!three"] {
        raw_get(&t, &token, &format!("/drives/{id}/root/children")).await;
    }
    let (s, st) = control(&t, Method::GET, "/stats").await;
    assert_eq!(s, 200);
    assert_eq!(st["total"], 6);
    assert_eq!(st["throttled"], 2);
    assert_eq!(st["injected"], 2);
    assert_eq!(st["routes"]["GET /v1.0/users"]["total"], 3);
    let children = &st["routes"]["GET /v1.0/drives/{id}/root/children"];
    assert_eq!(children["total"], 3, "{st}");
    assert_eq!(children["throttled"], 2);
    assert_eq!(children["statuses"]["429"], 2);
    // The control API itself is not counted; a reset starts from zero.
    control(&t, Method::DELETE, "/stats").await;
    let (_, st) = control(&t, Method::GET, "/stats").await;
    assert_eq!(st["total"], 0);
    assert_eq!(st["routes"], json!({}));
}

#[tokio::test]
async fn sharepoint_rest_faults_use_the_sharepoint_dialect() {
    let t = TestTenant::start("users=1,sites=1").await;
    let (s, _) = post_faults(&t, json!({"pathContains": "/_api/", "status": 503, "retryAfter": 31, "count": 2})).await;
    assert_eq!(s, 201);
    let url = format!("{}/_sp/contoso.sharepoint.com/sites/finance/_api/web/lists", t.base);
    let resp = t.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "31");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["odata.error"]["code"], "serviceNotAvailable", "{body}");
    assert!(body["odata.error"]["message"]["value"].is_string());
    let resp = t.http.get(&url).header("accept", "application/json;odata=verbose").send().await.unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "serviceNotAvailable", "{body}");
    // Budget spent: the request reaches SharePoint REST again (which wants a token).
    assert_eq!(t.http.get(&url).send().await.unwrap().status(), 401);
}
