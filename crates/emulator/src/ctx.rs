//! Per-request context handed to every Graph handler: the caller, the parsed query, the body,
//! "now" on the emulator clock, and helpers for OData responses (paging, `$select`).

use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Value};

use crate::auth::Principal;
use crate::emu::Emu;
use crate::error::GraphError;
use crate::state::{IdentityRef, IdentitySet, Time};

/// Query options as sent; names compared case-insensitively and with or without `$`.
#[derive(Debug, Clone, Default)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Self {
        Query(raw.map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default())
    }
    pub fn get(&self, name: &str) -> Option<&str> {
        let want = name.trim_start_matches('$');
        self.0.iter().find(|(k, _)| k.trim_start_matches('$').eq_ignore_ascii_case(want)).map(|(_, v)| v.as_str())
    }
    /// Re-encode, replacing (or adding) one option.
    pub fn with(&self, name: &str, value: &str) -> String {
        let want = name.trim_start_matches('$');
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            if !k.trim_start_matches('$').eq_ignore_ascii_case(want) {
                ser.append_pair(k, v);
            }
        }
        ser.append_pair(name, value);
        ser.finish()
    }
}

pub struct Ctx<'a> {
    pub emu: &'a Emu,
    pub principal: Principal,
    pub method: Method,
    /// Path below the Graph root, e.g. `/drives/b!x/root/children` (as received, still encoded).
    pub path: String,
    pub query: Query,
    pub headers: &'a HeaderMap,
    pub body: Bytes,
    pub now: Time,
}

impl Ctx<'_> {
    /// Absolute Graph root, e.g. `http://127.0.0.1:4000/v1.0`.
    pub fn graph_base(&self) -> String {
        format!("{}/v1.0", self.emu.base_url())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// JSON body, or a Graph 400 saying why it is not.
    pub fn json_body(&self) -> Result<Value, GraphError> {
        if self.body.is_empty() {
            return Ok(json!({}));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", format!("Invalid JSON body: {e}")))
    }

    /// Who a write is attributed to (`lastModifiedBy`): the calling user and/or application.
    pub fn actor(&self) -> IdentitySet {
        let st = self.emu.state();
        let application = self.principal.app_id.as_ref().map(|a| IdentityRef {
            id: a.clone(),
            display_name: st.apps.get(a).map(|x| x.display_name.clone()).unwrap_or_else(|| "SharePoint App".into()),
            email: None,
        });
        let user = self.principal.user_id.as_ref().and_then(|u| st.users.get(u)).map(|u| IdentityRef {
            id: u.id.clone(),
            display_name: u.display_name.clone(),
            email: Some(u.mail.clone()),
        });
        IdentitySet { user, application }
    }

    /// Apply `$select` (always keeping `id` and `@` annotations).
    pub fn select(&self, v: Value) -> Value {
        select_fields(v, self.query.get("select"))
    }

    /// A collection response with `$top`/`$skiptoken` paging and an absolute `@odata.nextLink`.
    pub fn paged(&self, values: Vec<Value>) -> Response {
        let page = self
            .query
            .get("top")
            .and_then(|t| t.parse::<usize>().ok())
            .filter(|t| *t > 0)
            .unwrap_or(self.emu.state().settings.page_size)
            .max(1);
        let skip = self.query.get("skiptoken").and_then(|t| t.parse::<usize>().ok()).unwrap_or(0);
        let total = values.len();
        let slice: Vec<Value> = values.into_iter().skip(skip).take(page).map(|v| self.select(v)).collect();
        let mut body = serde_json::Map::new();
        body.insert("value".into(), Value::Array(slice));
        if skip + page < total {
            let next = format!(
                "{}{}?{}",
                self.graph_base(),
                self.path,
                self.query.with("$skiptoken", &(skip + page).to_string())
            );
            body.insert("@odata.nextLink".into(), json!(next));
        }
        (StatusCode::OK, axum::Json(Value::Object(body))).into_response()
    }

    pub fn ok(&self, v: Value) -> Response {
        (StatusCode::OK, axum::Json(self.select(v))).into_response()
    }
    pub fn created(&self, v: Value) -> Response {
        (StatusCode::CREATED, axum::Json(self.select(v))).into_response()
    }
}

pub fn select_fields(v: Value, select: Option<&str>) -> Value {
    let (Some(sel), Value::Object(map)) = (select, &v) else {
        return v;
    };
    let wanted: Vec<String> = sel.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    if wanted.is_empty() || wanted.iter().any(|w| w == "*") {
        return v;
    }
    let out = map
        .iter()
        .filter(|(k, _)| k.as_str() == "id" || k.starts_with('@') || wanted.iter().any(|w| w == *k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(out)
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
