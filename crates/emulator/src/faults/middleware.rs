//! The middleware that applies the fault rules to every tenant-facing request and counts what it served.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{route_key, FaultRule};
use crate::emu::Emu;

/// The error body an injected status carries, in the dialect of the surface it is injected into.
fn fault_response(rule: &FaultRule, path: &str, sp_verbose: bool) -> Response {
    let status = StatusCode::from_u16(rule.status.unwrap_or(500)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (default_code, default_inner, default_msg) = match status.as_u16() {
        429 => ("activityLimitReached", Some("throttledRequest"), "The request has been throttled."),
        503 => ("serviceNotAvailable", None, "The service is temporarily unavailable. Please retry later."),
        500 => ("generalException", None, "An unspecified error has occurred."),
        504 => ("gatewayTimeout", None, "The gateway timed out."),
        502 => ("badGateway", None, "Bad gateway."),
        401 => ("InvalidAuthenticationToken", None, "Access token has expired or is not yet valid."),
        403 => ("accessDenied", None, "Access denied."),
        404 => ("itemNotFound", None, "The resource could not be found."),
        409 => ("resourceModified", None, "The resource has changed."),
        _ => ("generalException", None, "Injected fault."),
    };
    let code = rule.code.as_deref().unwrap_or(default_code);
    let inner = rule.inner_code.as_deref().or(default_inner);
    let message = rule.message.as_deref().unwrap_or(default_msg);
    let mut resp = if path.starts_with("/_sp/") {
        crate::error::sharepoint_error(status, code, message, sp_verbose)
    } else if path.contains("/oauth2/") {
        let error = if status.as_u16() == 429 || status.is_server_error() { "temporarily_unavailable" } else { code };
        crate::error::oauth_error(status, error, 90_000, message)
    } else {
        let id = uuid::Uuid::new_v4().to_string();
        let mut e = crate::error::GraphError::new(status, code, message);
        e.inner_code = inner.map(str::to_string);
        e.into_response_with(&id, &id)
    };
    let default_retry = matches!(status.as_u16(), 429 | 503).then_some(1);
    if let Some(secs) = rule.retry_after.or(default_retry).filter(|_| !rule.no_retry_after) {
        resp.headers_mut().insert("retry-after", secs.into());
    }
    resp.into_response()
}

/// Middleware applied to every tenant-facing route (not `/_emulator`).
pub async fn layer(State(emu): State<Arc<Emu>>, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    // SharePoint answers `odata=verbose` clients with `error` instead of `odata.error`.
    let sp_verbose = req
        .headers()
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.to_ascii_lowercase().contains("odata=verbose"));
    let decision = emu.faults.lock().decide(&method, &path);
    if decision.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(decision.latency_ms)).await;
    }
    let (resp, injected) = match &decision.fail {
        Some(rule) => (fault_response(rule, &path, sp_verbose), true),
        None => (next.run(req).await, false),
    };
    emu.faults.lock().record(route_key(&method, &path), resp.status().as_u16(), injected);
    match decision.truncate_after {
        Some(n) if !injected => truncate_body(resp, n),
        _ => resp,
    }
}

/// Pass the first `limit` body bytes, then fail the stream: hyper aborts the connection, which is
/// what a client sees when a transfer breaks (Content-Length promised more).
fn truncate_body(resp: Response, limit: u64) -> Response {
    use futures::StreamExt;
    let (parts, body) = resp.into_parts();
    let mut left = limit;
    let stream = body.into_data_stream().map(move |chunk| match chunk {
        Ok(mut bytes) => {
            if left == 0 {
                return Err(std::io::Error::other("transfer cut by fault injection"));
            }
            if (bytes.len() as u64) > left {
                bytes.truncate(left as usize);
            }
            left -= bytes.len() as u64;
            Ok(bytes)
        }
        Err(e) => Err(std::io::Error::other(e)),
    });
    // A body ending short of its Content-Length also makes hyper drop the connection.
    Response::from_parts(parts, axum::body::Body::from_stream(stream))
}
