//! Errors from Microsoft 365 calls, keeping the service's codes so callers can branch on them
//! (never on messages, as Microsoft advises).

#[derive(Debug, thiserror::Error)]
pub enum M365Error {
    /// A Graph or SharePoint error response.
    #[error("HTTP {status} {code}: {message}")]
    Api {
        status: u16,
        code: String,
        /// Nested `innerError.code` chain, outermost first.
        inner_codes: Vec<String>,
        message: String,
    },
    /// The token endpoint refused (`error` is e.g. `invalid_grant`, `authorization_pending`).
    #[error("token request failed ({status} {error}): {description}")]
    Token { status: u16, error: String, description: String },
    /// A delta token can no longer be served (410 Gone): re-enumerate from `location`.
    #[error("delta resync required")]
    ResyncRequired { location: Option<String> },
    #[error("transport error: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("invalid response: {0}")]
    Invalid(String),
    #[error("{0}")]
    Config(String),
    /// A link (nextLink, deltaLink, Location) names a host the request's token must not be sent to.
    #[error("refused to send a token to {origin}: links are followed only on {allowed}")]
    UntrustedUrl { origin: String, allowed: String },
}

impl M365Error {
    pub fn status(&self) -> Option<u16> {
        match self {
            M365Error::Api { status, .. } | M365Error::Token { status, .. } => Some(*status),
            M365Error::ResyncRequired { .. } => Some(410),
            _ => None,
        }
    }

    /// Does the error (or an inner error) carry `code`?
    pub fn has_code(&self, code: &str) -> bool {
        match self {
            M365Error::Api { code: c, inner_codes, .. } => c == code || inner_codes.iter().any(|i| i == code),
            M365Error::Token { error, .. } => error == code,
            _ => false,
        }
    }

    /// Build from a Graph (`{"error":{code,message,innerError}}`) or SharePoint (`odata.error`) body.
    pub fn from_body(status: u16, body: &[u8]) -> Self {
        let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let err = v.get("error").or_else(|| v.get("odata.error")).cloned().unwrap_or_default();
        let code = err.get("code").and_then(|c| c.as_str()).unwrap_or("unknown").to_string();
        let message = match err.get("message") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(m) => m.get("value").and_then(|x| x.as_str()).unwrap_or_default().to_string(),
            None => String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        };
        let mut inner_codes = Vec::new();
        let mut cur = err.get("innerError").or_else(|| err.get("innererror"));
        while let Some(i) = cur {
            if let Some(c) = i.get("code").and_then(|c| c.as_str()) {
                inner_codes.push(c.to_string());
            }
            cur = i.get("innerError").or_else(|| i.get("innererror"));
        }
        M365Error::Api { status, code, inner_codes, message }
    }
}

pub type Result<T> = std::result::Result<T, M365Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_graph_and_sharepoint_errors() {
        let e = M365Error::from_body(
            416,
            br#"{"error":{"code":"invalidRange","message":"overlap","innerError":{"code":"fragmentOverlap"}}}"#,
        );
        assert!(e.has_code("invalidRange") && e.has_code("fragmentOverlap"));
        assert_eq!(e.status(), Some(416));
        let e = M365Error::from_body(
            401,
            br#"{"odata.error":{"code":"-1, x","message":{"lang":"en-US","value":"Unsupported app only token."}}}"#,
        );
        assert!(e.to_string().contains("Unsupported app only token."));
        let e = M365Error::from_body(502, b"<html>bad gateway</html>");
        assert!(e.has_code("unknown"));
    }
}
