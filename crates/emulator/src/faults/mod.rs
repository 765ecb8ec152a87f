//! Fault injection (graph-notes §9.2, §12.0 item 5): per-route throttling (429/503 + Retry-After),
//! one-shot or every-Nth 5xx, latency; plus per-route request counters that tests and benchmarks
//! read through `/_emulator/stats`. The rules and counters live here; `middleware` applies them to requests.

mod middleware;

pub use middleware::layer;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One fault rule. Matching: `method` (any if absent), then `path` as a prefix of the request path
/// (e.g. `/v1.0/drives`) and/or `pathContains` as a substring (e.g. `/delta`); neither = every route.
/// Action: `latencyMs` and/or an injected `status`. Budget: `count` = the next N matching requests
/// (1 = one-shot), `everyNth` = every Nth matching request; both = every Nth, N times; neither = always.
#[derive(Clone, Debug, Serialize, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRule {
    #[serde(default)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_contains: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Retry-After seconds for an injected status; 429/503 default to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Send no Retry-After at all (clients must fall back to exponential back-off).
    #[serde(default)]
    pub no_retry_after: bool,
    /// Override of the error code / inner code / message of the injected error body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inner_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Broken transfer: send the real response but cut its body after this many bytes (the
    /// connection drops mid-download, so clients must resume with Range).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncate_after: Option<u64>,
    /// Remaining number of times the rule fires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every_nth: Option<u64>,
    /// Matching requests seen so far (read-only).
    #[serde(default)]
    pub matched: u64,
    /// Times the rule fired so far (read-only).
    #[serde(default)]
    pub fired: u64,
}

impl FaultRule {
    /// Reject rules that could never do anything or would produce an invalid response.
    pub fn validate(&self) -> Result<(), String> {
        if self.status.is_none() && self.latency_ms.is_none() && self.truncate_after.is_none() {
            return Err("a fault rule needs 'status', 'latencyMs' and/or 'truncateAfter'".into());
        }
        if self.status.is_some() && self.truncate_after.is_some() {
            return Err("'truncateAfter' cuts a real response; it cannot go with an injected 'status'".into());
        }
        if let Some(s) = self.status {
            if !(400..=599).contains(&s) {
                return Err(format!("'status' must be an HTTP error status (400-599), got {s}"));
            }
        }
        if self.every_nth == Some(0) {
            return Err("'everyNth' must be at least 1".into());
        }
        if self.count == Some(0) {
            return Err("'count' must be at least 1".into());
        }
        if self.latency_ms.is_some_and(|l| l > 600_000) {
            return Err("'latencyMs' must be at most 600000".into());
        }
        if let Some(m) = &self.method {
            if m.parse::<axum::http::Method>().is_err() {
                return Err(format!("'method' is not an HTTP method: {m}"));
            }
        }
        for p in [&self.path, &self.path_contains].into_iter().flatten() {
            if p.is_empty() {
                return Err("'path' / 'pathContains' must not be empty".into());
            }
        }
        Ok(())
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.count != Some(0)
            && self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self.path.as_deref().is_none_or(|p| path.starts_with(p))
            && self.path_contains.as_deref().is_none_or(|p| path.contains(p))
    }
}

/// Counters of one route (method + normalised path).
#[derive(Clone, Debug, Serialize, Default)]
pub struct RouteStats {
    pub total: u64,
    /// Answered 429 or 503 (injected or not).
    pub throttled: u64,
    /// Answered with an injected fault status.
    pub injected: u64,
    /// Response status → count.
    pub statuses: BTreeMap<u16, u64>,
}

#[derive(Clone, Debug, Serialize, Default)]
pub struct Stats {
    pub total: u64,
    pub throttled: u64,
    pub injected: u64,
    pub routes: BTreeMap<String, RouteStats>,
}

/// Active fault rules and request counters (in memory only: a restart clears them).
#[derive(Debug, Default)]
pub struct Faults {
    pub rules: Vec<FaultRule>,
    pub stats: Stats,
    next_id: u64,
}

/// What the layer does to one request.
#[derive(Debug, Default, PartialEq)]
pub struct Decision {
    pub latency_ms: u64,
    pub fail: Option<FaultRule>,
    pub truncate_after: Option<u64>,
}

impl Faults {
    /// Add a validated rule; returns it with its id.
    pub fn add(&mut self, mut rule: FaultRule) -> Result<FaultRule, String> {
        rule.validate()?;
        self.next_id += 1;
        if rule.id.is_empty() {
            rule.id = format!("fault-{}", self.next_id);
        } else if self.rules.iter().any(|r| r.id == rule.id) {
            return Err(format!("a fault rule with id '{}' exists already", rule.id));
        }
        rule.matched = 0;
        rule.fired = 0;
        self.rules.push(rule.clone());
        Ok(rule)
    }

    pub fn remove(&mut self, id: &str) -> bool {
        let before = self.rules.len();
        self.rules.retain(|r| r.id != id);
        self.rules.len() != before
    }

    /// Apply the rules to a request: latencies add up; the first firing status rule wins.
    pub fn decide(&mut self, method: &str, path: &str) -> Decision {
        let mut d = Decision::default();
        for r in self.rules.iter_mut().filter(|r| r.matches(method, path)) {
            if d.fail.is_some() && r.status.is_some() {
                // A status rule behind the one that fires does not see this request: its budget is kept.
                continue;
            }
            r.matched += 1;
            if r.every_nth.is_some_and(|n| r.matched % n != 0) {
                continue;
            }
            r.fired += 1;
            if let Some(c) = r.count.as_mut() {
                *c -= 1;
            }
            d.latency_ms += r.latency_ms.unwrap_or(0);
            if let Some(n) = r.truncate_after {
                d.truncate_after = Some(d.truncate_after.map_or(n, |m| m.min(n)));
            }
            if r.status.is_some() {
                d.fail = Some(r.clone());
            }
        }
        // Exhausted rules disappear so GET /faults shows what is still armed.
        self.rules.retain(|r| r.count != Some(0));
        d
    }

    pub fn record(&mut self, route: String, status: u16, injected: bool) {
        let throttled = status == 429 || status == 503;
        let s = &mut self.stats;
        s.total += 1;
        s.throttled += throttled as u64;
        s.injected += injected as u64;
        let r = s.routes.entry(route).or_default();
        r.total += 1;
        r.throttled += throttled as u64;
        r.injected += injected as u64;
        *r.statuses.entry(status).or_default() += 1;
    }
}

/// Fixed words of the emulator's URL spaces; any other segment is an id, a name or a path.
const KEYWORDS: &[&str] = &[
    "v1.0",
    "users",
    "me",
    "drives",
    "drive",
    "items",
    "root",
    "children",
    "content",
    "delta",
    "versions",
    "restoreVersion",
    "permissions",
    "invite",
    "createLink",
    "createUploadSession",
    "copy",
    "listItem",
    "sites",
    "getAllSites",
    "subsites",
    "lists",
    "fields",
    "sendMail",
    "messages",
    "send",
    "attachments",
    "oauth2",
    "v2.0",
    "token",
    "devicecode",
    ".well-known",
    "openid-configuration",
    "_dl",
    "_up",
    "_sp",
    "_api",
    "web",
    "AttachmentFiles",
    "add",
    "$value",
    "mailFolders",
    "$batch",
    "search",
    "microsoft.graph.delta",
    "upload",
    "_vti_bin",
];

/// `GET /v1.0/drives/b!x/items/01AB/content` → `GET /v1.0/drives/{id}/items/{id}/content`; runs of
/// non-keyword segments (ids, `root:/a/b.txt:` paths) collapse into one `{id}`.
pub fn route_key(method: &str, path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut prev_id = false;
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        let bare = seg.split('(').next().unwrap_or(seg);
        let word = if seg.eq_ignore_ascii_case("root:") || seg.starts_with("root:") {
            Some("root:")
        } else {
            KEYWORDS
                .iter()
                .find(|k| k.eq_ignore_ascii_case(bare) || k.eq_ignore_ascii_case(seg.trim_matches(':')))
                .copied()
        };
        match word {
            Some(w) => {
                out.push('/');
                out.push_str(w);
                if seg.contains('(') {
                    out.push_str("({id})");
                }
                prev_id = false;
            }
            None if prev_id => {}
            None => {
                out.push_str("/{id}");
                prev_id = true;
            }
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    format!("{method} {out}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: &str) -> FaultRule {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn budgets_and_matching() {
        let mut f = Faults::default();
        f.add(rule(r#"{"pathContains":"/delta","status":429,"count":2,"everyNth":2}"#)).unwrap();
        let fired: Vec<bool> = (0..6).map(|_| f.decide("GET", "/v1.0/drives/x/root/delta").fail.is_some()).collect();
        assert_eq!(fired, [false, true, false, true, false, false]);
        assert!(f.rules.is_empty());
        f.add(rule(r#"{"path":"/v1.0/users","method":"post","status":503}"#)).unwrap();
        assert!(f.decide("GET", "/v1.0/users").fail.is_none());
        assert!(f.decide("POST", "/v1.0/users/x").fail.is_some());
        assert!(f.decide("POST", "/v1.0/drives").fail.is_none());
        assert!(f.add(rule(r#"{"path":"/x"}"#)).is_err());
        assert!(f.add(rule(r#"{"status":200}"#)).is_err());
        assert!(serde_json::from_str::<FaultRule>(r#"{"statuss":500}"#).is_err());
    }

    #[test]
    fn route_keys_hide_ids() {
        assert_eq!(
            route_key("GET", "/v1.0/drives/b!abc/items/01XYZ/content"),
            "GET /v1.0/drives/{id}/items/{id}/content"
        );
        assert_eq!(
            route_key("GET", "/v1.0/drives/b!abc/root:/a/b.txt:/content"),
            "GET /v1.0/drives/{id}/root:/{id}/content"
        );
        assert_eq!(route_key("POST", "/tid/oauth2/v2.0/token"), "POST /{id}/oauth2/v2.0/token");
    }
}
