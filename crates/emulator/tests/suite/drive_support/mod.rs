//! Helpers shared by the drive-item test files (items, content, versions): raw uploads,
//! requests with headers, and following 302s to pre-authenticated download URLs.
#![allow(dead_code)]

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::TestTenant;

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }
}

async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.unwrap().to_vec();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply { status, headers, json, bytes }
}

/// A Graph request with optional extra headers and a raw or JSON body.
pub async fn send(
    t: &TestTenant,
    token: &str,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
    json: Option<Value>,
) -> Reply {
    let url = if path.starts_with("http") { path.to_string() } else { t.graph(path) };
    let mut req = t.http.request(method, url).bearer_auth(token);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.body(b);
    }
    if let Some(j) = json {
        req = req.json(&j);
    }
    reply(req.send().await.unwrap()).await
}

/// Simple upload (PUT raw bytes).
pub async fn put(t: &TestTenant, token: &str, path: &str, bytes: &[u8]) -> Reply {
    send(t, token, Method::PUT, path, &[], Some(bytes.to_vec()), None).await
}

pub async fn patch(t: &TestTenant, token: &str, path: &str, body: Value) -> Reply {
    send(t, token, Method::PATCH, path, &[], None, Some(body)).await
}

/// `POST {parent}/children` creating a folder.
pub async fn mkdir(t: &TestTenant, token: &str, parent: &str, name: &str, behaviour: Option<&str>) -> Reply {
    let mut body = serde_json::json!({"name": name, "folder": {}});
    if let Some(b) = behaviour {
        body["@microsoft.graph.conflictBehavior"] = serde_json::json!(b);
    }
    send(t, token, Method::POST, &format!("{parent}/children"), &[], None, Some(body)).await
}

/// GET a pre-authenticated URL without any Authorization header.
pub async fn fetch(t: &TestTenant, url: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = t.http.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    reply(req.send().await.unwrap()).await
}

/// GET a `/content`-style path, assert the 302, and download from its Location.
pub async fn download(t: &TestTenant, token: &str, path: &str) -> Vec<u8> {
    let r = send(t, token, Method::GET, path, &[], None, None).await;
    assert_eq!(r.status, StatusCode::FOUND, "no redirect for {path}: {}", r.json);
    assert!(r.bytes.is_empty(), "302 must have no body");
    let loc = r.header("location").expect("Location header");
    assert!(loc.starts_with(&format!("{}/_dl/", t.base)), "unexpected Location {loc}");
    let d = fetch(t, &loc, &[]).await;
    assert_eq!(d.status, StatusCode::OK);
    d.bytes
}

/// Deterministic pseudo-random bytes.
pub fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[2] ^ seed).collect()
}
