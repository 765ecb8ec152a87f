//! Entra ID emulation: the token endpoint (`/{tenant}/oauth2/v2.0/token`), device codes, and
//! validation of the bearer tokens it issued on every Graph and SharePoint call.

pub mod assertion;
pub mod control;
mod endpoint;
mod flows;
pub mod jwt;
mod tokens;

pub use control::router as control_router;
pub use endpoint::*;
pub use flows::*;
pub use tokens::*;

use axum::http::HeaderMap;
use serde_json::Value;

use crate::emu::Emu;
use crate::error::GraphError;

/// Resource a token was issued for (its `aud`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    Graph,
    /// A SharePoint host such as `contoso.sharepoint.com`.
    SharePoint(String),
}

/// The authenticated caller of a Graph or SharePoint request.
#[derive(Clone, Debug, Default)]
pub struct Principal {
    /// Application (client) id — present for every token.
    pub app_id: Option<String>,
    /// Signed-in user for delegated tokens (ROPC, device code, refresh).
    pub user_id: Option<String>,
    /// "0" public client, "1" secret, "2" certificate.
    pub appidacr: String,
    pub roles: Vec<String>,
    pub scopes: Vec<String>,
    pub claims: Value,
}

impl Principal {
    pub fn is_app_only(&self) -> bool {
        self.user_id.is_none()
    }
}

/// Extract and validate the bearer token for `want`. Errors are Graph-shaped 401s; the
/// SharePoint surface re-renders them in its own dialect.
pub fn authenticate(emu: &Emu, headers: &HeaderMap, want: &Audience) -> Result<Principal, GraphError> {
    let raw = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| GraphError::unauthenticated("Access token is empty."))?;
    let token = raw
        .strip_prefix("Bearer ")
        .or_else(|| raw.strip_prefix("bearer "))
        .ok_or_else(|| GraphError::unauthenticated("Access token validation failure. Invalid authorization scheme."))?;
    validate_access_token(emu, token.trim(), want)
}
