//! Server configuration (the `[api]` section of vault365's configuration file).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// How the API server listens and presents itself.
///
/// ```toml
/// [api]
/// listen = "0.0.0.0:4443"
/// tls_cert = "/etc/vault365/api.crt"   # PEM chain; omit both to use a generated self-signed pair
/// tls_key = "/etc/vault365/api.key"    # PEM PKCS#8/PKCS#1/SEC1 key
/// max_body_bytes = 1048576
/// allow_plaintext_mail_credentials = false   # true only for a trusted relay / local test endpoints
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Address to listen on (default `0.0.0.0:4443`, the vendor's port). Port 0 picks a free port.
    pub listen: SocketAddr,
    /// PEM certificate chain. With `tls_key`; when both are absent a self-signed certificate is generated on first
    /// start and kept under `<data_dir>/tls/`.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Extra DNS names / IP addresses for the generated self-signed certificate (besides localhost, 127.0.0.1, ::1).
    pub tls_names: Vec<String>,
    /// Largest accepted request body (default 1 MiB: JSON option bodies are small).
    pub max_body_bytes: usize,
    /// Let email settings send credentials unencrypted (default false): SMTP AUTH over a connection without TLS
    /// (`connectionSecurity` `None`), and `http://` Microsoft 365 endpoints (`authorityUrl` gets the client secret,
    /// `mailApiUrl` the bearer token). Both put a mail credential on the wire in clear text, so one switch covers
    /// both; turn it on only for a relay on a trusted network or a local test tenant (the emulator speaks plain HTTP).
    pub allow_plaintext_mail_credentials: bool,
}

impl Default for ApiConfig {
    fn default() -> ApiConfig {
        ApiConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], 4443)),
            tls_cert: None,
            tls_key: None,
            tls_names: Vec::new(),
            max_body_bytes: 1024 * 1024,
            allow_plaintext_mail_credentials: false,
        }
    }
}

impl ApiConfig {
    /// The defaults with another listen address (tests use `127.0.0.1:0`).
    pub fn listening_on(listen: SocketAddr) -> ApiConfig {
        ApiConfig { listen, ..ApiConfig::default() }
    }
}
