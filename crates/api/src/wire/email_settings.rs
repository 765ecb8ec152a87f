//! The email settings of the explorers (`/{version}/VeodEmailSettings`, `…/VespEmailSettings`, `…/VexEmailSettings`,
//! `…/VetEmailSettings`): the PUT body, a partial update, and the GET answer (no secrets).
//!
//! The PUT body is read as a [`Patch`](crate::edge::lenient::Patch): an absent property keeps the stored value, a
//! property sent as `null` or blank clears it (`Option<Option<_>>`: `None` absent, `Some(None)` clear). The other
//! spellings clients send (`smtpServer`, `user`, `password`) are fields of their own rather than serde aliases: an
//! alias and its name in one body would be a "given twice" error, while the settings have always read the first
//! spelling found and ignored the rest (`server` before `smtpServer`, `username` before `user`, `userPassword` before
//! `password`). `userName` is `username` in another case, which every property name may be.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::edge::lenient::de::nullable;
use crate::store::email_settings::EmailSettings;

/// How SMTP connects: overrides the legacy `useSSL` / `useStartTls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum ConnectionSecurity {
    /// Plain (credentials only with `allow_plaintext_mail_credentials`).
    None,
    StartTls,
    /// Implicit TLS.
    Ssl,
}

impl ConnectionSecurity {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionSecurity::None => "None",
            ConnectionSecurity::StartTls => "StartTls",
            ConnectionSecurity::Ssl => "Ssl",
        }
    }
}

/// How mail is sent: through an SMTP server, or through Microsoft 365 (Graph) with an app registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum AuthenticationType {
    CustomSmtp,
    Microsoft365,
}

impl AuthenticationType {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthenticationType::CustomSmtp => "CustomSmtp",
            AuthenticationType::Microsoft365 => "Microsoft365",
        }
    }
}

/// The body of `PUT …EmailSettings`: the settings to change (a partial update; see the module documentation).
/// Secrets are write-only, and a stored secret is dropped when the destination it is sent to changes, unless the same
/// body sets it again.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTEmailSettings)]
pub struct EmailSettingsUpdate {
    /// Whether items may be sent at all.
    pub enable_notification: Option<bool>,
    /// The SMTP server (host name or address).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub server: Option<Option<String>>,
    /// Another spelling of `server` (used when `server` is absent).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub smtp_server: Option<Option<String>>,
    /// 1 … 65535 (default: that of the connection security: 25, 587 or 465).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub port: Option<Option<i64>>,
    /// Legacy: a secure connection (implicit TLS on 465, STARTTLS on any other port).
    #[serde(rename = "useSSL")]
    pub use_ssl: Option<bool>,
    /// Legacy: STARTTLS.
    pub use_start_tls: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<ConnectionSecurity>)]
    pub connection_security: Option<Option<ConnectionSecurity>>,
    /// SMTP AUTH with `username` and `userPassword`.
    pub use_authentication: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub username: Option<Option<String>>,
    /// Another spelling of `username` (used when `username` is absent).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub user: Option<Option<String>>,
    /// The SMTP password (write-only).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Password)]
    pub user_password: Option<Option<String>>,
    /// Another spelling of `userPassword` (used when `userPassword` is absent).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Password)]
    pub password: Option<Option<String>>,
    /// The sender address (no line breaks).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub from: Option<Option<String>>,
    /// The limit of a message with its attachments (default 35 MB).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<u64>)]
    pub max_message_size_bytes: Option<Option<u64>>,
    /// Accept any server certificate (test servers only).
    pub accept_invalid_certificates: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<AuthenticationType>)]
    pub authentication_type: Option<Option<AuthenticationType>>,
    /// Microsoft 365: the tenant.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub tenant_id: Option<Option<String>>,
    /// Microsoft 365: the app registration.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub client_id: Option<Option<String>>,
    /// Microsoft 365: the app's secret (write-only).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Password)]
    pub client_secret: Option<Option<String>>,
    /// Microsoft 365: the sending mailbox.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub user_id: Option<Option<String>>,
    /// Microsoft 365: the Graph root (default `https://graph.microsoft.com/v1.0`).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub mail_api_url: Option<Option<String>>,
    /// Microsoft 365: the token authority (default `https://login.microsoftonline.com`).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub authority_url: Option<Option<String>>,
}

impl EmailSettingsUpdate {
    /// `server`, else `smtpServer`.
    pub fn server(&self) -> Option<Option<&str>> {
        first(&self.server, &self.smtp_server)
    }

    /// `username` (any case, so also `userName`), else `user`.
    pub fn username(&self) -> Option<Option<&str>> {
        first(&self.username, &self.user)
    }

    /// `userPassword`, else `password`.
    pub fn password(&self) -> Option<Option<&str>> {
        first(&self.user_password, &self.password)
    }
}

/// The first spelling that was sent (`Some(None)`: sent as `null` or blank).
fn first<'a>(a: &'a Option<Option<String>>, b: &'a Option<Option<String>>) -> Option<Option<&'a str>> {
    a.as_ref().or(b.as_ref()).map(Option::as_deref)
}

/// The answer of `GET …EmailSettings`: the settings without their secrets, the defaults filled in.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = RESTEmailSettingsAnswer)]
pub struct EmailSettingsAnswer {
    pub enable_notification: bool,
    /// Empty when not configured.
    pub server: String,
    /// The configured port (25 when none is).
    pub port: u16,
    pub from: String,
    pub use_authentication: bool,
    #[serde(rename = "useSSL")]
    pub use_ssl: bool,
    pub username: String,
    /// `CustomSmtp` | `Microsoft365`.
    pub authentication_type: String,
    pub max_message_size_bytes: u64,
    /// Only when `authenticationType` is `Microsoft365`.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub microsoft365: Option<Microsoft365Answer>,
}

/// The Microsoft 365 part of [`EmailSettingsAnswer`].
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Microsoft365Answer {
    pub client_id: String,
    pub tenant_id: String,
    /// The sending mailbox (`null` when not configured).
    pub user_id: Option<String>,
    /// The Graph root in force.
    pub mail_api_url: String,
    /// Whether a client secret is stored.
    pub is_authenticated: bool,
}

impl From<&EmailSettings> for EmailSettingsAnswer {
    fn from(s: &EmailSettings) -> EmailSettingsAnswer {
        EmailSettingsAnswer {
            enable_notification: s.enable_notification,
            server: s.server.clone().unwrap_or_default(),
            port: s.port.unwrap_or(25),
            from: s.from.clone().unwrap_or_default(),
            use_authentication: s.use_authentication,
            use_ssl: s.use_ssl,
            username: s.username.clone().unwrap_or_default(),
            authentication_type: s.authentication_type.clone().unwrap_or_else(|| "CustomSmtp".into()),
            max_message_size_bytes: s.max_bytes(),
            microsoft365: s.is_m365().then(|| Microsoft365Answer {
                client_id: s.client_id.clone().unwrap_or_default(),
                tenant_id: s.tenant_id.clone().unwrap_or_default(),
                user_id: s.user_id.clone(),
                mail_api_url: s.mail_api().to_string(),
                is_authenticated: s.client_secret.is_some(),
            }),
        }
    }
}
