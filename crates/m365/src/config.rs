//! Where a tenant lives and how to authenticate to it.

use serde::{Deserialize, Serialize};

/// Base URLs. Microsoft's defaults, or the emulator's (one base URL serves all of them).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Endpoints {
    /// Token authority, e.g. `https://login.microsoftonline.com` (path `/{tenant}/oauth2/v2.0/…` is appended).
    pub authority: String,
    /// Graph root including the version, e.g. `https://graph.microsoft.com/v1.0`.
    pub graph: String,
    /// Resource identifier Graph tokens are requested for (`{graph_resource}/.default`).
    pub graph_resource: String,
}

impl Endpoints {
    pub fn microsoft() -> Self {
        Self {
            authority: "https://login.microsoftonline.com".into(),
            graph: "https://graph.microsoft.com/v1.0".into(),
            graph_resource: "https://graph.microsoft.com".into(),
        }
    }

    /// The vault365 tenant emulator at `base` (e.g. `http://127.0.0.1:5555`).
    pub fn emulator(base: &str) -> Self {
        let base = base.trim_end_matches('/');
        Self {
            authority: base.to_string(),
            graph: format!("{base}/v1.0"),
            graph_resource: "https://graph.microsoft.com".into(),
        }
    }
}

/// How the app proves who it is.
#[derive(Clone)]
pub enum Credential {
    /// Client secret (Graph accepts it; SharePoint REST does not).
    Secret(String),
    /// Certificate: PKCS#8 DER private key and DER certificate; `pss` selects PS256 + x5t#S256
    /// instead of RS256 + x5t.
    Certificate { key_pkcs8_der: Vec<u8>, cert_der: Vec<u8>, pss: bool },
    /// Delegated: resource owner password (ROPC) of a user.
    Password { username: String, password: String },
    /// Delegated: a refresh token obtained earlier (e.g. from a device-code sign-in).
    RefreshToken(String),
    /// Delegated: sign in interactively with a device code
    /// ([`crate::TokenProvider::start_device_code`]); afterwards renewed with the refresh token.
    DeviceCode,
}

impl std::fmt::Debug for Credential {
    // Credentials never reach logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            Credential::Secret(_) => "Secret",
            Credential::Certificate { .. } => "Certificate",
            Credential::Password { .. } => "Password",
            Credential::RefreshToken(_) => "RefreshToken",
            Credential::DeviceCode => "DeviceCode",
        };
        write!(f, "Credential::{kind}(<redacted>)")
    }
}

#[derive(Clone, Debug)]
pub struct TenantConfig {
    pub endpoints: Endpoints,
    /// Tenant id or verified domain.
    pub tenant: String,
    pub client_id: String,
    pub credential: Credential,
}
