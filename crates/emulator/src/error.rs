//! The three error dialects the emulator speaks:
//! - Graph: `{"error":{"code","message","innerError":{"code"?,"date","request-id","client-request-id"}}}`
//! - Entra token endpoint: `{"error","error_description","error_codes",…}` ([`oauth_error`])
//! - SharePoint REST: `{"odata.error":{"code","message":{"lang","value"}}}`

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// A Graph error; rendered into the envelope by the dispatcher, which knows the request ids.
#[derive(Debug, Clone)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub inner_code: Option<String>,
    /// Extra response headers (Retry-After, Location for 410 resync, …).
    pub headers: Vec<(String, String)>,
}

pub type GraphResult = Result<Response, GraphError>;

impl GraphError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self { status, code: code.to_string(), message: message.into(), inner_code: None, headers: Vec::new() }
    }
    pub fn inner(mut self, code: &str) -> Self {
        self.inner_code = Some(code.to_string());
        self
    }
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "itemNotFound", format!("The resource could not be found: {what}"))
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalidRequest", message)
    }
    pub fn conflict_name() -> Self {
        Self::new(StatusCode::CONFLICT, "nameAlreadyExists", "The specified item name already exists.")
    }
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", message)
    }
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "accessDenied", message)
    }
    pub fn not_supported(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "notSupported", message)
    }

    /// Render with the request's ids.
    pub fn into_response_with(self, request_id: &str, client_request_id: &str) -> Response {
        let mut inner = serde_json::Map::new();
        if let Some(c) = &self.inner_code {
            inner.insert("code".into(), json!(c));
        }
        inner.insert("date".into(), json!(chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string()));
        inner.insert("request-id".into(), json!(request_id));
        inner.insert("client-request-id".into(), json!(client_request_id));
        let body = json!({"error": {"code": self.code, "message": self.message, "innerError": inner}});
        let mut resp = (self.status, axum::Json(body)).into_response();
        for (k, v) in self.headers {
            if let (Ok(k), Ok(v)) = (axum::http::HeaderName::try_from(k), HeaderValue::try_from(v)) {
                resp.headers_mut().insert(k, v);
            }
        }
        resp
    }
}

/// SharePoint REST error (`odata.error` shape; verbose clients get `error`).
pub fn sharepoint_error(status: StatusCode, code: &str, message: &str, verbose: bool) -> Response {
    let inner = json!({"code": code, "message": {"lang": "en-US", "value": message}});
    let body = if verbose { json!({"error": inner}) } else { json!({"odata.error": inner}) };
    (status, axum::Json(body)).into_response()
}

/// Entra's token-endpoint error body (graph-notes §1.6).
pub fn oauth_error(status: StatusCode, error: &str, aadsts: u32, description: &str) -> Response {
    (status, axum::Json(oauth_error_body(error, aadsts, description))).into_response()
}

/// [`oauth_error`] with extra top-level fields (e.g. `suberror`).
pub fn oauth_error_with(status: StatusCode, error: &str, aadsts: u32, description: &str, extra: Value) -> Response {
    let mut body = oauth_error_body(error, aadsts, description);
    if let (Value::Object(m), Value::Object(extra)) = (&mut body, extra) {
        m.extend(extra);
    }
    (status, axum::Json(body)).into_response()
}

fn oauth_error_body(error: &str, aadsts: u32, description: &str) -> Value {
    let trace = uuid::Uuid::new_v4().to_string();
    let corr = uuid::Uuid::new_v4().to_string();
    let ts = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
    json!({
        "error": error,
        "error_description": format!("AADSTS{aadsts}: {description}\r\nTrace ID: {trace}\r\nCorrelation ID: {corr}\r\nTimestamp: {ts}"),
        "error_codes": [aadsts],
        "timestamp": ts,
        "trace_id": trace,
        "correlation_id": corr,
        "error_uri": format!("https://login.microsoftonline.com/error?code={aadsts}"),
    })
}
