//! `/_dl/{token}`: pre-authenticated, expiring, Range-capable download URLs (graph-notes §2.4).
//! The token is an HMAC-signed [`DownloadGrant`]; like Microsoft's URLs it needs no Authorization
//! header, expires on the emulator clock, and serves either the current or a specific version.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::emu::Emu;
use crate::error::GraphError;
use crate::preauth::DownloadGrant;

pub fn router() -> Router<Arc<Emu>> {
    Router::new().route("/_dl/{token}", get(download))
}

/// Outcome of a `Range` header against a body of known length.
#[derive(Debug, PartialEq, Eq)]
pub enum RangeReq {
    /// No (usable) range: send everything with 200. Multi-range and malformed headers land here,
    /// which HTTP allows (the service "may ignore Range").
    Full,
    /// Inclusive byte range.
    Part(u64, u64),
    Unsatisfiable,
}

pub fn parse_range(h: Option<&str>, len: u64) -> RangeReq {
    let Some(spec) = h.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeReq::Full;
    };
    if spec.contains(',') {
        return RangeReq::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeReq::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        // Suffix range: the last n bytes.
        return match b.parse::<u64>() {
            Ok(0) => RangeReq::Unsatisfiable,
            Ok(_) if len == 0 => RangeReq::Unsatisfiable,
            Ok(n) => RangeReq::Part(len.saturating_sub(n), len - 1),
            Err(_) => RangeReq::Full,
        };
    }
    let Ok(start) = a.parse::<u64>() else {
        return RangeReq::Full;
    };
    let end = if b.is_empty() {
        u64::MAX
    } else {
        match b.parse::<u64>() {
            Ok(e) if e >= start => e,
            _ => return RangeReq::Full,
        }
    };
    if start >= len {
        return RangeReq::Unsatisfiable;
    }
    RangeReq::Part(start, end.min(len - 1))
}

fn error(e: GraphError, headers: &HeaderMap) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let client = headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| request_id.clone());
    let mut r = e.into_response_with(&request_id, &client);
    if let (Ok(a), Ok(b)) = (HeaderValue::from_str(&request_id), HeaderValue::from_str(&client)) {
        r.headers_mut().insert("request-id", a);
        r.headers_mut().insert("client-request-id", b);
    }
    r
}

/// `attachment` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / 5987).
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' { c } else { '_' })
        .collect();
    let exact = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{exact}")
}

async fn download(State(emu): State<Arc<Emu>>, Path(token): Path<String>, headers: HeaderMap) -> Response {
    let key = crate::preauth::signing_key(&emu.state());
    let Some(grant) = crate::preauth::verify::<DownloadGrant>(&key, &token) else {
        let e = GraphError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "The download URL is not valid.")
            .inner("invalidSignature");
        return error(e, &headers);
    };
    if grant.e < emu.now().timestamp() {
        let e = GraphError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "The download URL has expired.")
            .inner("expiredToken");
        return error(e, &headers);
    }
    let found = {
        let st = emu.state();
        st.live_item(&grant.i).filter(|it| !it.is_folder).and_then(|it| {
            let v = match &grant.v {
                None => it.versions.last(),
                Some(l) => it.versions.iter().find(|v| &v.label == l),
            }?;
            Some((v.content.clone(), v.size, it.name.clone(), crate::graph::render::etag(it)))
        })
    };
    let Some((content, len, name, etag)) = found else {
        return error(GraphError::not_found("item"), &headers);
    };
    let range = parse_range(headers.get(header::RANGE).and_then(|v| v.to_str().ok()), len);
    let (status, start, end) = match range {
        RangeReq::Full => (StatusCode::OK, 0, len),
        RangeReq::Part(a, b) => (StatusCode::PARTIAL_CONTENT, a, b + 1),
        RangeReq::Unsatisfiable => {
            let e = GraphError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "invalidRange",
                "The requested range is not satisfiable.",
            )
            .header("Content-Range", format!("bytes */{len}"));
            return error(e, &headers);
        }
    };
    let stream = match emu.blobs.stream(&content, start, end) {
        Ok(s) => s,
        Err(e) => {
            let e =
                GraphError::new(StatusCode::INTERNAL_SERVER_ERROR, "generalException", format!("Storage error: {e}"));
            return error(e, &headers);
        }
    };
    let mime = mime_guess::from_path(&name).first_or_octet_stream().essence_str().to_string();
    let mut b = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, mime)
        .header(header::CONTENT_LENGTH, end - start)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_DISPOSITION, content_disposition(&name))
        .header(header::ETAG, etag);
    if status == StatusCode::PARTIAL_CONTENT {
        b = b.header(header::CONTENT_RANGE, format!("bytes {start}-{}/{len}", end - 1));
    }
    b.body(Body::from_stream(stream)).unwrap_or_else(|_| {
        error(GraphError::new(StatusCode::INTERNAL_SERVER_ERROR, "generalException", "Bad response header."), &headers)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 10), RangeReq::Full);
        assert_eq!(parse_range(Some("bytes=0-3"), 10), RangeReq::Part(0, 3));
        assert_eq!(parse_range(Some("bytes=4-"), 10), RangeReq::Part(4, 9));
        assert_eq!(parse_range(Some("bytes=5-100"), 10), RangeReq::Part(5, 9));
        assert_eq!(parse_range(Some("bytes=-3"), 10), RangeReq::Part(7, 9));
        assert_eq!(parse_range(Some("bytes=-30"), 10), RangeReq::Part(0, 9));
        assert_eq!(parse_range(Some("bytes=10-"), 10), RangeReq::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 10), RangeReq::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-"), 0), RangeReq::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=3-1"), 10), RangeReq::Full);
        assert_eq!(parse_range(Some("bytes=0-1,4-5"), 10), RangeReq::Full);
        assert_eq!(parse_range(Some("items=0-1"), 10), RangeReq::Full);
        assert_eq!(parse_range(Some("bytes=x-1"), 10), RangeReq::Full);
    }
}
