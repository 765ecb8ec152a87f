//! The OpenAPI document and the Swagger UI: every served operation is documented; the version is a dropdown; `/`
//! leads to the UI.
//!
//! The test asks the app (in process, authenticated) for every operation of the vendor's v6, v7 and v8 documents
//! (`tests/data/vb365_operations.txt.zst`, one `METHOD /vN/path` a line) and for the v2–v5 forms (each v6 GET path
//! at v5, and `POST …/Action` on it). An operation is served when neither the fallback ("No HTTP resource was
//! found …") nor the method check (405) answers it; each served one must match a path and method of
//! `/swagger/openapi.json` (no exceptions: the route table registers a path and its document together).

use std::collections::BTreeSet;

use api::edge::paths::canonical_route;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

use crate::inproc::App;

/// A stand-in for every path parameter: a GUID, which id parameters accept and literal-valued ones refuse.
const ID: &str = "00000000-0000-4000-8000-000000000001";

/// Whether `method path` reaches a handler (the fallback and the method check answer at once; no answer in time
/// counts as served), logging in again when an earlier request (a logout) ended the token.
async fn reaches_a_handler(app: &mut App, method: &str, path: &str) -> bool {
    for _ in 0..2 {
        let Some((status, body)) = app.send(app.request(method, path, "{}")).await else { return true };
        if status == StatusCode::UNAUTHORIZED {
            app.log_in().await;
            continue;
        }
        let fallback = status == StatusCode::NOT_FOUND
            && body["message"].as_str().is_some_and(|m| m.starts_with("No HTTP resource was found"));
        return !(fallback || status == StatusCode::METHOD_NOT_ALLOWED);
    }
    panic!("{method} {path}: 401 even after a fresh logon");
}

/// `(METHOD, /vN/path)` of every vendor operation, then the v2–v5 forms.
fn operations() -> Vec<(String, String)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/vb365_operations.txt.zst");
    let packed = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = String::from_utf8(zstd::decode_all(&packed[..]).unwrap()).unwrap();
    let vendor: Vec<(String, String)> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (m, p) = l.split_once(' ').unwrap();
            (m.to_string(), p.to_string())
        })
        .collect();
    let action_era = vendor
        .iter()
        .filter(|(m, p)| m == "GET" && p.starts_with("/v6/"))
        .flat_map(|(_, p)| {
            let p = p.replacen("/v6/", "/v5/", 1);
            [("GET".to_string(), p.clone()), ("POST".to_string(), format!("{p}/Action"))]
        })
        .collect::<Vec<_>>();
    vendor.into_iter().chain(action_era).collect()
}

/// `METHOD /vN/a/{x}/B` → `METHOD /{version}/a/{x}/B` with literals in canonical spelling: the name of a
/// known-undocumented entry.
fn name(method: &str, path: &str) -> String {
    let rest = path.trim_start_matches('/').split_once('/').map(|(_, r)| r).unwrap_or("");
    format!("{method} {}", canonical_route(&format!("/{{version}}/{rest}")))
}

/// One key for the spellings of one operation across the vendor's documents (`{id}` vs `{restoreSessionId}`,
/// `Restore` vs `restore`).
fn identity(method: &str, path: &str) -> String {
    let segments =
        path.split('/').skip(2).map(|s| if s.starts_with('{') { "{}".to_string() } else { s.to_ascii_lowercase() });
    format!("{method} {}", segments.collect::<Vec<_>>().join("/"))
}

fn concrete(path: &str) -> String {
    path.split('/').map(|s| if s.starts_with('{') { ID } else { s }).collect::<Vec<_>>().join("/")
}

/// Whether the document has `method` on a path template matching the concrete `path` (parameters match any
/// segment, literals any case).
fn documented(doc: &Value, method: &str, path: &str) -> bool {
    let wanted: Vec<&str> = path.split('/').collect();
    doc["paths"].as_object().unwrap().iter().any(|(template, ops)| {
        let t: Vec<&str> = template.split('/').collect();
        t.len() == wanted.len()
            && t.iter().zip(&wanted).all(|(t, w)| t.starts_with('{') || t.eq_ignore_ascii_case(w))
            && ops.get(method.to_ascii_lowercase()).is_some()
    })
}

#[tokio::test]
async fn every_served_operation_is_documented() {
    let mut app = App::start().await;
    let doc = serde_json::to_value(api::router::document()).unwrap();
    let mut served = BTreeSet::new();
    let mut undocumented = BTreeSet::new();
    for (method, path) in operations() {
        let id = identity(&method, &path);
        if served.contains(&id) {
            continue;
        }
        let request_path = concrete(&path);
        if !reaches_a_handler(&mut app, &method, &request_path).await {
            continue;
        }
        served.insert(id);
        if !documented(&doc, &method, &request_path) {
            undocumented.insert(name(&method, &path));
        }
    }
    println!("OpenAPI: documented {} of {} served operations", served.len() - undocumented.len(), served.len());
    assert!(served.len() > 150, "only {} operations reached a handler: is the probe broken?", served.len());
    assert!(undocumented.is_empty(), "served but not in the OpenAPI document: {undocumented:#?}");
}

#[tokio::test]
async fn root_redirects_to_swagger() {
    let app = App::start().await;
    let resp = app.app.clone().oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    assert_eq!(resp.headers()[header::LOCATION], "/swagger/");
}

/// "Try it out" needs a server relative to the UI's host, the version as a choice (newest first), and the bearer
/// scheme on every operation but the token one (and the health checks, which are outside the vendor's dialect).
#[tokio::test]
async fn the_document_offers_the_versions_and_the_bearer_scheme() {
    let doc = serde_json::to_value(api::router::document()).unwrap();
    assert_eq!(doc["servers"], serde_json::json!([{"url": "/"}]));
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let paths = doc["paths"].as_object().unwrap();
    for (path, ops) in paths {
        if path.starts_with("/health") {
            // Outside the vendor's dialect: no version, no token (load balancers and monitors ask).
            assert!(ops["get"]["security"].is_null(), "{path}: {ops}");
            continue;
        }
        for (method, op) in ops.as_object().unwrap() {
            let version = op["parameters"]
                .as_array()
                .and_then(|ps| ps.iter().find(|p| p["name"] == "version"))
                .unwrap_or_else(|| panic!("{method} {path}: no version parameter"));
            assert_eq!(version["in"], "path");
            assert_eq!(version["schema"]["default"], "v8", "{method} {path}");
            assert_eq!(
                version["schema"]["enum"],
                serde_json::json!(["v8", "v7", "v6", "v5", "v4", "v3", "v2"]),
                "{method} {path}"
            );
            let anonymous = path == "/{version}/token";
            assert_eq!(
                op["security"] == serde_json::json!([{"bearer": []}]),
                !anonymous,
                "{method} {path}: {}",
                op["security"]
            );
        }
    }
}

/// Every request body and every JSON answer is documented with a schema (not a bare string), and the only POSTs
/// without a body are the ones that take none.
#[test]
fn bodies_and_answers_have_schemas() {
    let doc = serde_json::to_value(api::router::document()).unwrap();
    let mut missing = Vec::new();
    let mut bodiless = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            match op.get("requestBody") {
                Some(body) => {
                    for (content_type, c) in body["content"].as_object().unwrap() {
                        if c["schema"].is_null() || c["schema"]["type"] == "string" {
                            missing.push(format!("{method} {path}: request {content_type}"));
                        }
                    }
                }
                None if method == "post" || method == "put" => {
                    bodiless.insert(format!("{method} {path}"));
                }
                None => {}
            }
            for (status, answer) in op["responses"].as_object().unwrap() {
                let Some(content) = answer.get("content").and_then(Value::as_object) else { continue };
                for (content_type, c) in content {
                    if status.starts_with('2') && content_type.contains("json") && c["schema"].is_null() {
                        missing.push(format!("{method} {path}: {status} {content_type}"));
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "undocumented bodies: {missing:#?}");
    // The vendor's bodiless actions.
    let expected: BTreeSet<String> = [
        "post /{version}/Jobs/{id}/disable",
        "post /{version}/Jobs/{id}/enable",
        "post /{version}/Jobs/{id}/stop",
        "post /{version}/RestoreSessions/{id}/stop",
        "post /{version}/token/logout",
    ]
    .map(String::from)
    .into();
    assert_eq!(bodiless, expected);
}
