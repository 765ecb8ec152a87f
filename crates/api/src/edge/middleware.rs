//! The edge middleware, wrapped around the whole router (it runs before routing):
//! * answers 404 JSON for any path outside `/v2` … `/v8` (except the Swagger UI under `/swagger`, `GET /`, which leads
//!   there, and the health checks under `/health`);
//! * canonicalises the path ([`crate::edge::paths`]): literal segments in canonical spelling, no trailing slash;
//! * records the [`ApiVersion`] in the request extensions;
//! * renders every error response in the version's shape: [`ApiError`] responses are re-rendered, and non-JSON
//!   error responses (axum's own rejections, 405, 413) are turned into JSON errors;
//! * answers 408 when the request body did not arrive in time ([`crate::edge::body_deadline`]).

use std::any::Any;
use std::borrow::Cow;

use axum::extract::Request;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::edge::body_deadline::BodyDeadline;
use crate::edge::error::{ApiError, ErrorCode, RenderedError};
use crate::edge::version::ApiVersion;

/// The message of every 413.
const TOO_LARGE: &str = "The request body is too large.";

/// The middleware function (see the module docs).
pub async fn edge(mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let to_the_ui = path == "/" && matches!(*req.method(), Method::GET | Method::HEAD);
    // The UI and the health checks are outside the vendor's dialect (no version, no canonicalisation).
    if first == "swagger" || first == "health" || to_the_ui {
        return next.run(req).await;
    }
    let Some(version) = ApiVersion::parse(first) else {
        return route_not_found(&path).render(None);
    };
    if let Cow::Owned(canonical) = crate::edge::paths::table().canonicalize(&path) {
        let pq = match req.uri().query() {
            Some(q) => format!("{canonical}?{q}"),
            None => canonical,
        };
        let mut parts = req.uri().clone().into_parts();
        if let Ok(pq) = pq.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
        }
    }
    let method = req.method().clone();
    req.extensions_mut().insert(version);
    let body_deadline = req.extensions().get::<BodyDeadline>().cloned();
    let resp = next.run(req).await;
    if let Some(deadline) = body_deadline.filter(BodyDeadline::expired) {
        // Whatever the handler made of the failed body read, the cause is the slow client.
        let secs = deadline.timeout().as_secs();
        return ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!("The request body was not received within {secs} s."),
        )
        .with_code(ErrorCode::Timeout)
        .render(Some(version));
    }
    render_errors(resp, version, &method).await
}

async fn render_errors(resp: Response, version: ApiVersion, method: &Method) -> Response {
    if let Some(RenderedError(e)) = resp.extensions().get::<RenderedError>() {
        let mut e = e.clone();
        // Extractors report an oversized body in axum's words ("Failed to buffer the request body: length limit
        // exceeded"); clients get one clear message instead, unless the error already names the limit.
        if e.status == StatusCode::PAYLOAD_TOO_LARGE && !e.message.contains("limit of") {
            e.message = TOO_LARGE.to_string();
        }
        let mut out = e.render(Some(version));
        copy_extra_headers(resp.headers(), out.headers_mut());
        return out;
    }
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(resp.headers()) {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(b) => String::from_utf8_lossy(&b).trim().to_string(),
        Err(_) => String::new(),
    };
    let message = match status {
        StatusCode::METHOD_NOT_ALLOWED => format!("The requested resource does not support http method '{method}'."),
        StatusCode::PAYLOAD_TOO_LARGE => TOO_LARGE.to_string(),
        _ if !text.is_empty() => text,
        _ => status.canonical_reason().unwrap_or("Error").to_string(),
    };
    let mut err = ApiError::new(status, message);
    err.code = match status {
        StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNPROCESSABLE_ENTITY => {
            Some(ErrorCode::ParameterValidationFailure)
        }
        StatusCode::NOT_FOUND => Some(ErrorCode::ResourceNotFound),
        StatusCode::FORBIDDEN => Some(ErrorCode::ResourceAccessDenied),
        StatusCode::CONFLICT => Some(ErrorCode::OperationConflict),
        _ => None,
    };
    let mut out = err.render(Some(version));
    copy_extra_headers(&parts.headers, out.headers_mut());
    out
}

/// Keeps headers such as `Allow` (405) or `Retry-After` on a re-rendered error.
fn copy_extra_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(v) = from.get(&name) {
            to.insert(name, v.clone());
        }
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.contains("json"))
}

/// "No HTTP resource was found …": the 404 of a path no route serves (the fallback answers it to an authenticated
/// caller).
pub fn route_not_found(path: &str) -> ApiError {
    ApiError::not_found(format!("No HTTP resource was found that matches the request URI '{path}'."))
}

/// The catch-panic layer's response: 500 JSON; the panic message is logged, never sent.
pub fn panic_response(err: Box<dyn Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("(non-string panic payload)");
    tracing::error!("request handler panicked: {detail}");
    ApiError::internal("An error has occurred.").into_response()
}
