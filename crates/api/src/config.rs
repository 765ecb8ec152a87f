//! Server configuration (the `[api]` section of vault365's configuration file).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

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
///
/// [api.limits]                         # connection limits and timeouts (defaults shown)
/// max_connections = 1024               # open connections in total, TLS handshakes included
/// max_connections_per_address = 64     # per client IP address (IPv6: per /64 network)
/// handshake_timeout_secs = 10          # to complete the TLS handshake
/// header_read_timeout_secs = 30        # to send a request's headers (HTTP/1)
/// body_read_timeout_secs = 60          # to send a whole request body, then 408
/// idle_timeout_secs = 120              # a connection without a request in flight and without traffic is closed
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
    /// Connection limits and timeouts (`[api.limits]`).
    pub limits: ConnectionLimits,
    /// The time zone of job schedules (an IANA name such as `Europe/Berlin`; default `UTC`): a daily job at
    /// `22:00` runs at 22:00 there, daylight saving included.
    pub time_zone: String,
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
            limits: ConnectionLimits::default(),
            time_zone: "UTC".into(),
        }
    }
}

impl ApiConfig {
    /// [`ApiConfig::time_zone`], checked. Error: the name is no time zone (the message names the setting).
    pub fn schedule_time_zone(&self) -> Result<chrono_tz::Tz, String> {
        self.time_zone.trim().parse().map_err(|_| {
            format!(
                "api.time_zone: {:?} is not a time zone (use an IANA name such as Europe/Berlin, or UTC)",
                self.time_zone
            )
        })
    }

    /// The defaults with another listen address (tests use `127.0.0.1:0`).
    pub fn listening_on(listen: SocketAddr) -> ApiConfig {
        ApiConfig { listen, ..ApiConfig::default() }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Connection limits and timeouts (`[api.limits]`).

/// How many connections the server holds open and how long it waits for clients, so that idle or slow clients
/// cannot exhaust file descriptors and starve everyone else. Connections over a cap are closed at once, before the
/// TLS handshake.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectionLimits {
    /// Open connections in total, counted from TCP accept to close (TLS handshakes in progress included).
    /// Keep it well below the process's open-file limit (`ulimit -n`).
    pub max_connections: usize,
    /// Open connections per client address (IPv6: per /64 network), so that one client cannot take them all.
    /// Behind a load balancer or proxy that connects from one address, set it to `max_connections`.
    pub max_connections_per_address: usize,
    /// Seconds a client gets to complete the TLS handshake.
    pub handshake_timeout_secs: u64,
    /// Seconds a client gets to send the headers of a request (HTTP/1; this also bounds the wait for the next
    /// request on a kept-alive HTTP/1 connection).
    pub header_read_timeout_secs: u64,
    /// Seconds a client gets to send a whole request body, counted from the request's headers; then 408.
    pub body_read_timeout_secs: u64,
    /// Seconds after which a connection without a request in flight and without any bytes read or written is
    /// closed (HTTP/1 keep-alive and HTTP/2 alike).
    pub idle_timeout_secs: u64,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            max_connections: 1024,
            max_connections_per_address: 64,
            handshake_timeout_secs: 10,
            header_read_timeout_secs: 30,
            body_read_timeout_secs: 60,
            idle_timeout_secs: 120,
        }
    }
}

impl ConnectionLimits {
    /// Refuses values that would make the server unusable (a zero cap or timeout), naming the field.
    pub fn validate(&self) -> Result<(), String> {
        let fields = [
            ("max_connections", self.max_connections as u64),
            ("max_connections_per_address", self.max_connections_per_address as u64),
            ("handshake_timeout_secs", self.handshake_timeout_secs),
            ("header_read_timeout_secs", self.header_read_timeout_secs),
            ("body_read_timeout_secs", self.body_read_timeout_secs),
            ("idle_timeout_secs", self.idle_timeout_secs),
        ];
        match fields.iter().find(|(_, v)| *v == 0) {
            Some((name, _)) => Err(format!("[api.limits] {name} must be at least 1")),
            None => Ok(()),
        }
    }

    /// [`ConnectionLimits::handshake_timeout_secs`] as a duration.
    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_secs(self.handshake_timeout_secs)
    }

    /// [`ConnectionLimits::header_read_timeout_secs`] as a duration.
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs)
    }

    /// [`ConnectionLimits::body_read_timeout_secs`] as a duration.
    pub fn body_read_timeout(&self) -> Duration {
        Duration::from_secs(self.body_read_timeout_secs)
    }

    /// [`ConnectionLimits::idle_timeout_secs`] as a duration.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_per_field_and_reject_unknown_names() {
        let cfg: ApiConfig = serde_json::from_value(serde_json::json!({"limits": {"idle_timeout_secs": 5}})).unwrap();
        assert_eq!(cfg.limits.idle_timeout(), Duration::from_secs(5));
        assert_eq!(cfg.limits.max_connections, ConnectionLimits::default().max_connections);
        assert!(cfg.limits.validate().is_ok());
        let typo = serde_json::from_value::<ApiConfig>(serde_json::json!({"limits": {"idle_timeout": 5}}));
        assert!(typo.unwrap_err().to_string().contains("idle_timeout"));
        let zero = ConnectionLimits { max_connections_per_address: 0, ..ConnectionLimits::default() };
        assert_eq!(zero.validate().unwrap_err(), "[api.limits] max_connections_per_address must be at least 1");
    }
}
