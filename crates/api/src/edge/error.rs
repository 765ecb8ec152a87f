//! API errors and their era-specific JSON shapes (veeam-api-notes §3).
//!
//! Handlers return `Result<_, ApiError>`. [`ApiError`]'s `IntoResponse` writes the v2–v6 shape `{message}` and
//! attaches the error to the response; the edge middleware ([`crate::edge`]) knows the request's API version and
//! re-renders the body for v7 (`{message, errorCode}`) and v8 (`{message, errorCode, stackTrace: null}`). Handlers
//! therefore never deal with eras when failing.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::edge::version::ApiVersion;

/// The body of every 401: ASP.NET Web API's wording, which clients may show verbatim.
pub const UNAUTHORIZED_MESSAGE: &str = "Authorization has been denied for this request.";

/// `RESTExceptionInfo.errorCode` values (v8 enum; v7 only knows `ProxyOffline`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ErrorCode {
    /// The backup proxy serving the data is offline.
    ProxyOffline,
    /// A change token is outdated.
    OutdatedChangeToken,
    /// The caller may not access the resource (403).
    ResourceAccessDenied,
    /// Unknown id (404).
    ResourceNotFound,
    /// A request parameter or body failed validation (400).
    ParameterValidationFailure,
    /// The organization is being transferred.
    OrganizationTransfer,
    /// Repository owner change refused.
    RepositoryOwnerChangeTooManyLinks,
    /// An operation timed out.
    Timeout,
    /// The resource is in a state that forbids the operation (409), e.g. a stopped restore session.
    OperationConflict,
    /// A downstream HTTP call failed.
    HttpError,
}

/// An error response: HTTP status, human-readable `message` and an optional v7+/v8 `errorCode`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    /// HTTP status code.
    pub status: StatusCode,
    /// The `message` property (always present).
    pub message: String,
    /// The `errorCode` property (v7+; `null` when `None`).
    pub code: Option<ErrorCode>,
    /// The status v2–v7 answer instead of `status`, for the few errors whose status changed in v8.
    pub status_before_v8: Option<StatusCode>,
}

impl ApiError {
    /// An error with any status and no error code.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into(), code: None, status_before_v8: None }
    }

    /// 400 with `ParameterValidationFailure`: bad body, bad query, bad parameter.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message).with_code(ErrorCode::ParameterValidationFailure)
    }

    /// 401 with the standard text. Clients react to 401 by re-authenticating.
    pub fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, UNAUTHORIZED_MESSAGE)
    }

    /// 403 with `ResourceAccessDenied` (RBAC scope).
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, message).with_code(ErrorCode::ResourceAccessDenied)
    }

    /// 404 with `ResourceNotFound`. Use it for unknown ids — never 400, because the PHP portal logs out on 400.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message).with_code(ErrorCode::ResourceNotFound)
    }

    /// An operation on a stopped restore session: v8 answers 409 `OperationConflict`, v2–v7 answered 500 (which
    /// clients map to "session expired"); the edge picks the status of the request's era.
    pub fn session_stopped(message: impl Into<String>) -> ApiError {
        ApiError { status_before_v8: Some(StatusCode::INTERNAL_SERVER_ERROR), ..ApiError::conflict(message) }
    }

    /// 409 with `OperationConflict`, e.g. an operation on a stopped restore session.
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, message).with_code(ErrorCode::OperationConflict)
    }

    /// 413: the request body exceeds the configured limit.
    pub fn payload_too_large(limit: usize) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("The request body exceeds the limit of {limit} bytes."))
            .with_code(ErrorCode::ParameterValidationFailure)
    }

    /// 500: a backend failure. Log the details; the message goes to the client.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// Sets the error code.
    pub fn with_code(mut self, code: ErrorCode) -> ApiError {
        self.code = Some(code);
        self
    }

    /// The JSON body for `version` (`None`: outside any version, e.g. an unknown version prefix → `{message}`).
    ///
    /// v2–v6: `{message}`; v7: `{message, errorCode}` where only `ProxyOffline` is a valid v7 code (a generated v7
    /// client rejects other enum values, so they become `null`); v8: `{message, errorCode, stackTrace: null}`.
    pub fn body(&self, version: Option<ApiVersion>) -> Value {
        serde_json::to_value(self.info(version)).unwrap_or(Value::Null)
    }

    /// The `RESTExceptionInfo` of `version`'s era (see [`ApiError::body`]).
    pub fn info(&self, version: Option<ApiVersion>) -> RestExceptionInfo {
        let message = self.message.clone();
        match version.map(|v| v.number()) {
            Some(8) => RestExceptionInfo { message, error_code: Some(self.code), stack_trace: Some(None) },
            Some(7) => {
                let code = self.code.filter(|c| *c == ErrorCode::ProxyOffline);
                RestExceptionInfo { message, error_code: Some(code), stack_trace: None }
            }
            _ => RestExceptionInfo { message, error_code: None, stack_trace: None },
        }
    }

    /// The complete response for `version`, without the marker extension used for re-rendering.
    pub fn render(&self, version: Option<ApiVersion>) -> Response {
        let body = serde_json::to_vec(&self.body(version)).unwrap_or_else(|_| b"{}".to_vec());
        let status = match (version, self.status_before_v8) {
            (Some(v), Some(before)) if !v.is_v8() => before,
            _ => self.status,
        };
        let mut resp = (status, body).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

/// The error body (`RESTExceptionInfo`) as one era writes it: an absent property is left out, a present one may be
/// null ([`ApiError::info`]).
#[derive(Debug, Serialize, ToSchema)]
pub struct RestExceptionInfo {
    /// Error message.
    pub message: String,
    /// v7+: error code (v7 only `ProxyOffline`), nullable.
    #[serde(rename = "errorCode", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub error_code: Option<Option<ErrorCode>>,
    /// v8: always null.
    #[serde(rename = "stackTrace", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub stack_trace: Option<Option<String>>,
}

/// The content type of every JSON response.
pub const JSON_UTF8: &str = "application/json; charset=utf-8";

/// Response extension carrying the error so the edge middleware can re-render it for the request's era.
#[derive(Debug, Clone)]
pub(crate) struct RenderedError(pub ApiError);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = self.render(None);
        resp.extensions_mut().insert(RenderedError(self));
        resp
    }
}

impl From<repo::catalog::CatalogError> for ApiError {
    fn from(e: repo::catalog::CatalogError) -> ApiError {
        tracing::error!("catalog error: {e}");
        ApiError::internal(format!("Catalog error: {e}"))
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        tracing::error!("database error: {e}");
        ApiError::internal("A database error occurred.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes_per_era() {
        let e = ApiError::not_found("Restore session not found.");
        assert_eq!(e.body(Some(ApiVersion(5))), json!({"message": "Restore session not found."}));
        assert_eq!(e.body(Some(ApiVersion(6))), json!({"message": "Restore session not found."}));
        assert_eq!(e.body(Some(ApiVersion(7))), json!({"message": "Restore session not found.", "errorCode": null}));
        assert_eq!(
            e.body(Some(ApiVersion(8))),
            json!({"message": "Restore session not found.", "errorCode": "ResourceNotFound", "stackTrace": null})
        );
        let offline = ApiError::internal("offline").with_code(ErrorCode::ProxyOffline);
        assert_eq!(offline.body(Some(ApiVersion(7)))["errorCode"], "ProxyOffline");
        assert_eq!(e.body(None), json!({"message": "Restore session not found."}));
    }

    #[test]
    fn unauthorized_text() {
        let e = ApiError::unauthorized();
        assert_eq!(e.status, StatusCode::UNAUTHORIZED);
        assert_eq!(e.body(Some(ApiVersion(4))), json!({"message": UNAUTHORIZED_MESSAGE}));
        assert!(e.render(None).headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
