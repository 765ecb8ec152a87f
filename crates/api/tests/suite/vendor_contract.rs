//! Contract test: every v8 resource the API serves, reached by following `_links` from the restore sessions and the
//! organizations list, must match the vendor's published schema (`vb365_rest_v8.json` in shared/reference): required
//! properties present, types as declared, `null` only where the schema says `nullable`, enum values and property
//! names spelled as declared. Generated clients (veeam-365 and the like) parse responses
//! with exactly these rules, so a slip here breaks them even when our own tests pass.

use crate::common;

use std::collections::{BTreeSet, HashSet, VecDeque};

use common::*;
use reqwest::StatusCode;
use serde_json::{Map, Value};

/// Requests a crawl may make at most (the tenant of [`DEFAULT_SEED`] needs about a hundred).
const MAX_REQUESTS: usize = 400;

struct Contract {
    doc: Value,
    /// GET paths of the schema, as segment lists (`{x}` matches any segment).
    gets: Vec<(String, Vec<String>)>,
}

impl Contract {
    fn load() -> Contract {
        // A zstd copy of shared/reference/veeam-openapi/vb365_rest_v8.json (paths and schemas only), kept in the
        // repository so that a clean clone (CI) has it.
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/vb365_rest_v8.json.zst");
        let packed = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let doc: Value = serde_json::from_slice(&zstd::decode_all(&packed[..]).unwrap()).unwrap();
        let gets = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, ops)| ops.get("get").is_some())
            .map(|(p, _)| (p.clone(), segments(p)))
            .collect();
        Contract { doc, gets }
    }

    /// The schema template of a served path, when the vendor documents a GET for it.
    fn template(&self, path: &str) -> Option<&str> {
        let wanted = segments(path);
        self.gets
            .iter()
            .filter(|(_, t)| {
                t.len() == wanted.len()
                    && t.iter().zip(&wanted).all(|(t, w)| t.starts_with('{') || t.eq_ignore_ascii_case(w))
            })
            // A literal segment beats a parameter (`/Folders/{id}` vs `/{kind}/{id}`).
            .max_by_key(|(_, t)| t.iter().filter(|s| !s.starts_with('{')).count())
            .map(|(p, _)| p.as_str())
    }

    fn response_schema(&self, template: &str) -> Option<&Value> {
        self.doc["paths"][template]["get"]["responses"]["200"]["content"]["application/json"].get("schema")
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.trim_start_matches("#/components/schemas/");
                self.resolve(&self.doc["components"]["schemas"][name])
            }
            None => schema,
        }
    }

    /// Every way `value` (at `at`) breaks `schema`.
    fn check(&self, value: &Value, schema: &Value, at: &str, errors: &mut BTreeSet<String>) {
        let schema = self.resolve(schema);
        for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            self.check(value, part, at, errors);
        }
        if value.is_null() {
            if schema.get("nullable") != Some(&Value::Bool(true)) && schema.get("type").is_some() {
                errors.insert(format!("{at}: null, but the schema does not allow null"));
            }
            return;
        }
        let ok = match schema.get("type").and_then(Value::as_str) {
            Some("string") => value.is_string(),
            Some("integer") => value.is_i64() || value.is_u64(),
            Some("number") => value.is_number(),
            Some("boolean") => value.is_boolean(),
            Some("array") => value.is_array(),
            Some("object") => value.is_object(),
            _ => true,
        };
        if !ok {
            errors.insert(format!("{at}: {value} is not of type {}", schema["type"]));
            return;
        }
        if let (Some(allowed), Some(s)) = (schema.get("enum").and_then(Value::as_array), value.as_str()) {
            if !allowed.iter().any(|a| a.as_str() == Some(s)) {
                errors.insert(format!("{at}: '{s}' is not one of {}", Value::Array(allowed.clone())));
            }
        }
        if schema.get("format").and_then(Value::as_str) == Some("date-time") {
            if let Some(s) = value.as_str() {
                // The vendor's .NET stack writes item times without an offset (`2026-01-05T09:03:49`), sessions with
                // one; ISO 8601 allows both and its clients read both.
                let local = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f");
                if chrono::DateTime::parse_from_rfc3339(s).is_err() && local.is_err() {
                    errors.insert(format!("{at}: '{s}' is not an ISO 8601 date-time"));
                }
            }
        }
        if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
            for (i, v) in arr.iter().enumerate() {
                self.check(v, items, &format!("{at}[{i}]"), errors);
            }
        }
        if let Some(obj) = value.as_object() {
            self.check_object(obj, schema, at, errors);
        }
    }

    fn check_object(&self, obj: &Map<String, Value>, schema: &Value, at: &str, errors: &mut BTreeSet<String>) {
        let props = schema.get("properties").and_then(Value::as_object);
        let extra = schema.get("additionalProperties").filter(|a| a.is_object());
        for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let name = required.as_str().unwrap_or_default();
            if !obj.contains_key(name) {
                errors.insert(format!("{at}: required property '{name}' is missing"));
            }
        }
        for (k, v) in obj {
            let child = format!("{at}.{k}");
            match (props.and_then(|p| p.get(k)), extra) {
                (Some(s), _) | (None, Some(s)) => self.check(v, s, &child, errors),
                (None, None) => {
                    // Extra properties (`totalCount`, …) are ignored by clients; a known one spelled in another case
                    // is not: their parsers match names exactly.
                    if let Some(known) = props.and_then(|p| p.keys().find(|n| n.eq_ignore_ascii_case(k))) {
                        errors.insert(format!("{at}: property '{k}' is spelled '{known}' in the schema"));
                    }
                }
            }
        }
    }
}

fn segments(path: &str) -> Vec<String> {
    path.split('?').next().unwrap_or("").split('/').filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// Every `_links.*.href` anywhere in `v`.
fn hrefs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if k == "_links" {
                    for link in child.as_object().into_iter().flat_map(|l| l.values()) {
                        if let Some(h) = link.get("href").and_then(Value::as_str) {
                            out.push(h.to_string());
                        }
                    }
                } else {
                    hrefs(child, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|c| hrefs(c, out)),
        _ => {}
    }
}

#[tokio::test]
async fn every_reachable_v8_resource_matches_the_vendor_schema() {
    let contract = Contract::load();
    let s = TestServer::start(DEFAULT_SEED).await;
    let t = Some(s.token.as_str());
    let mut queue: VecDeque<String> = VecDeque::from(["/v8/Organizations".to_string(), "/v8/RestoreSessions".into()]);
    for kind in ["Veod", "Vesp"] {
        let id = s.explore(8, kind, None).await;
        queue.push_back(format!("/v8/RestoreSessions/{id}"));
    }
    let mut seen = HashSet::new();
    let mut errors = BTreeSet::new();
    let mut checked = BTreeSet::new();
    let mut requests = 0;
    while let Some(href) = queue.pop_front() {
        let path = href.strip_prefix(&s.base).unwrap_or(&href).to_string();
        if !seen.insert(path.clone()) {
            continue;
        }
        let Some(template) = contract.template(&path) else { continue };
        let Some(schema) = contract.response_schema(template) else { continue };
        assert!(requests < MAX_REQUESTS, "the crawl did not end within {MAX_REQUESTS} requests");
        requests += 1;
        let (status, body) = s.get(&path, t).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        let mut found = BTreeSet::new();
        contract.check(&body, schema, template, &mut found);
        errors.extend(found.into_iter().map(|e| format!("{e} (GET {path})")));
        checked.insert(template.to_string());
        let mut next = Vec::new();
        hrefs(&body, &mut next);
        queue.extend(next);
    }
    // The crawl must reach the resources clients browse, or the test proves nothing.
    for must in [
        "/v8/RestoreSessions/{restoreSessionId}",
        "/v8/RestoreSessions/{restoreSessionId}/Organization/OneDrives",
        "/v8/RestoreSessions/{restoreSessionId}/Organization/OneDrives/{oneDriveId}/Documents",
        "/v8/RestoreSessions/{restoreSessionId}/Organization/Sites",
    ] {
        assert!(checked.contains(must), "the crawl never reached {must}; reached: {checked:#?}");
    }
    // One line per distinct defect (the first request that showed it).
    let mut distinct = BTreeSet::new();
    let report: Vec<&String> = errors.iter().filter(|e| distinct.insert(e.split(" (GET ").next().unwrap())).collect();
    assert!(report.is_empty(), "{} contract violations:\n{report:#?}", report.len());
    s.api.shutdown().await;
}
