//! Email settings used by the "send" actions (veeam-api-notes §11): one record per explorer (`Veod`, `Vesp`, `Vex`,
//! `Vet`) in the API-owned table `api_email_settings` on the catalog pool (portable SQL: `TEXT` only, `$n`
//! placeholders).
//!
//! The PUT body and the GET answer are wire types (`wire::email_settings`: `EmailSettingsUpdate`,
//! `EmailSettingsAnswer`), applied and built in `resources::email_settings`. Accepted input spellings
//! (case-insensitive; where two are sent, the first listed wins): `server` | `smtpServer`; `username` (so also
//! `userName`) | `user`; `userPassword` | `password`; `port`; `useSSL`; `useStartTls` / `connectionSecurity`
//! (`None|StartTls|Ssl`, ours); `useAuthentication`; `from`; `enableNotification`; `maxMessageSizeBytes` (ours, default
//! 35 MB). Transport: `authenticationType` = `CustomSmtp` (default) | `Microsoft365` with `tenantId`, `clientId`,
//! `clientSecret`, `userId` (the sending mailbox), `mailApiUrl` (Graph root, default
//! `https://graph.microsoft.com/v1.0`) and `authorityUrl` (ours, default `https://login.microsoftonline.com`).
//!
//! PUT is a partial update (omitted properties keep their values; `null` or blank clears one). Secrets (`userPassword`,
//! `clientSecret`) are write-only: GET never returns them. In the catalog they are sealed with a key derived from the
//! repository key (`Repository::seal_secret`), so every node that opens the repository can send, while a copy of the
//! catalog database alone does not reveal them. A secret that no longer opens (the catalog now serves another
//! repository) reads as not configured, so a PUT can set it again.
//!
//! Security when `connectionSecurity` is not given: `useSSL` true on port 465 → implicit TLS, `useSSL` true on any
//! other port → STARTTLS (Veeam's "secure connection" on 587), `useStartTls` true → STARTTLS, otherwise plain.
//!
//! A stored secret is bound to where it is sent. Since GET never shows it, a PUT that only moves the destination would
//! otherwise let any caller send the stored secret to a host of their choosing (`SendTestEmail` then authenticates
//! there). So a PUT that changes where or how a secret travels drops it unless the same PUT sets a new one
//! (`drop_moved_secrets` in the resource): `userPassword` when the effective server, port, connection security,
//! username or certificate check changes; `clientSecret` when `tenantId`, `clientId`, `authorityUrl` or `mailApiUrl`
//! changes. Sending the same value again is not a change. And no secret crosses the network unencrypted
//! ([`EmailSettings::check_encryption`], at PUT and at send time): SMTP AUTH without TLS and `http://` Microsoft 365
//! endpoints are refused unless the server allows them (`allow_plaintext_mail_credentials` in `[api]`).

use std::time::Duration;

use base64::Engine;
use engine::send::{GraphMailSettings, SmtpSecurity, SmtpSettings, Transport, DEFAULT_MAX_MESSAGE_BYTES};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::Row;

use crate::state::AppState;
use crate::store::{StoreError, StoreResult};

/// Which explorer's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Explorer {
    /// OneDrive (`/VeodEmailSettings`).
    Veod,
    /// SharePoint (`/VespEmailSettings`).
    Vesp,
    /// Exchange (`/VexEmailSettings`): kept and tested like the others, so scripts that configure every explorer
    /// work; vault365 sends nothing from Exchange backups yet.
    Vex,
    /// Teams (`/VetEmailSettings`), likewise.
    Vet,
}

impl Explorer {
    /// Every explorer with email settings.
    pub const ALL: [Explorer; 4] = [Explorer::Veod, Explorer::Vesp, Explorer::Vex, Explorer::Vet];

    fn key(self) -> &'static str {
        match self {
            Explorer::Veod => "veod",
            Explorer::Vesp => "vesp",
            Explorer::Vex => "vex",
            Explorer::Vet => "vet",
        }
    }

    /// The settings resource name.
    pub fn resource(self) -> &'static str {
        match self {
            Explorer::Veod => "VeodEmailSettings",
            Explorer::Vesp => "VespEmailSettings",
            Explorer::Vex => "VexEmailSettings",
            Explorer::Vet => "VetEmailSettings",
        }
    }
}

/// Stored settings (JSON in the table).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct EmailSettings {
    pub enable_notification: bool,
    pub server: Option<String>,
    pub port: Option<u16>,
    pub use_ssl: bool,
    pub use_start_tls: bool,
    /// `None|StartTls|Ssl`; overrides `use_ssl`/`use_start_tls`.
    pub connection_security: Option<String>,
    pub use_authentication: bool,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: Option<String>,
    pub max_message_size_bytes: Option<u64>,
    pub accept_invalid_certificates: bool,
    /// `CustomSmtp` | `Microsoft365`.
    pub authentication_type: Option<String>,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub user_id: Option<String>,
    pub mail_api_url: Option<String>,
    pub authority_url: Option<String>,
}

/// The stored settings of `explorer` (`None` when never set).
pub async fn load(state: &AppState, explorer: Explorer) -> StoreResult<Option<EmailSettings>> {
    let row = sqlx::query("SELECT settings FROM api_email_settings WHERE explorer = $1")
        .bind(explorer.key())
        .fetch_optional(state.pool())
        .await?;
    match row {
        None => Ok(None),
        Some(r) => {
            let text: String = r.try_get("settings")?;
            from_stored(state, explorer, &text).map(Some)
        }
    }
}

/// Fields of [`EmailSettings`] that hold secrets; stored sealed as `sealed_<field>` (base64).
const SECRET_FIELDS: [&str; 2] = ["password", "client_secret"];

fn secret_purpose(explorer: Explorer, field: &str) -> String {
    format!("email-settings:{}:{field}", explorer.key())
}

/// The catalog representation: JSON with the secrets sealed (kept plain only when the server runs without a
/// repository, which only browse-only test servers do).
fn to_stored(state: &AppState, explorer: Explorer, s: &EmailSettings) -> StoreResult<String> {
    let mut v = serde_json::to_value(s).map_err(|e| StoreError::Internal(e.to_string()))?;
    if let (Some(repo), Some(obj)) = (&state.repo, v.as_object_mut()) {
        for field in SECRET_FIELDS {
            if let Some(Value::String(secret)) = obj.remove(field) {
                let sealed = repo
                    .seal_secret(&secret_purpose(explorer, field), secret.as_bytes())
                    .map_err(|e| StoreError::Internal(format!("Cannot encrypt the email setting '{field}': {e}")))?;
                obj.insert(format!("sealed_{field}"), json!(base64::engine::general_purpose::STANDARD.encode(sealed)));
            }
        }
    }
    serde_json::to_string(&v).map_err(|e| StoreError::Internal(e.to_string()))
}

fn from_stored(state: &AppState, explorer: Explorer, text: &str) -> StoreResult<EmailSettings> {
    let corrupt = |e: String| StoreError::Internal(format!("Stored email settings of {}: {e}", explorer.resource()));
    let mut v: Value = serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
    let obj = v.as_object_mut().ok_or_else(|| corrupt("not a JSON object".into()))?;
    for field in SECRET_FIELDS {
        let Some(sealed) = obj.remove(&format!("sealed_{field}")) else { continue };
        let opened = state.repo.as_ref().and_then(|repo| {
            let bytes = base64::engine::general_purpose::STANDARD.decode(sealed.as_str()?).ok()?;
            repo.open_secret(&secret_purpose(explorer, field), &bytes).ok()
        });
        match opened.and_then(|b| String::from_utf8(b).ok()) {
            Some(secret) => {
                obj.insert(field.to_string(), json!(secret));
            }
            None => tracing::warn!(
                settings = explorer.resource(),
                field,
                "a stored email secret does not open with this server's repository key; treated as not configured"
            ),
        }
    }
    serde_json::from_value(v).map_err(|e| corrupt(e.to_string()))
}

/// Writes the settings of `explorer` (secrets sealed).
async fn store(state: &AppState, explorer: Explorer, s: &EmailSettings) -> StoreResult<()> {
    let text = to_stored(state, explorer, s)?;
    let updated = sqlx::query("UPDATE api_email_settings SET settings = $1 WHERE explorer = $2")
        .bind(&text)
        .bind(explorer.key())
        .execute(state.pool())
        .await?;
    if updated.rows_affected() == 0 {
        let inserted = sqlx::query("INSERT INTO api_email_settings (explorer, settings) VALUES ($1, $2)")
            .bind(explorer.key())
            .bind(&text)
            .execute(state.pool())
            .await;
        match inserted {
            Ok(_) => {}
            // A concurrent PUT inserted first: update instead.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                sqlx::query("UPDATE api_email_settings SET settings = $1 WHERE explorer = $2")
                    .bind(&text)
                    .bind(explorer.key())
                    .execute(state.pool())
                    .await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
const DEFAULT_MAIL_API: &str = "https://graph.microsoft.com/v1.0";

impl EmailSettings {
    /// Whether mail goes through Microsoft 365 (Graph) rather than SMTP.
    pub fn is_m365(&self) -> bool {
        self.authentication_type.as_deref() == Some("Microsoft365")
    }

    /// The message size limit.
    pub fn max_bytes(&self) -> u64 {
        self.max_message_size_bytes.unwrap_or(DEFAULT_MAX_MESSAGE_BYTES)
    }

    /// The token authority the client secret is sent to.
    pub fn authority(&self) -> &str {
        self.authority_url.as_deref().unwrap_or(DEFAULT_AUTHORITY).trim_end_matches('/')
    }

    /// The Graph root the bearer token is sent to.
    pub fn mail_api(&self) -> &str {
        self.mail_api_url.as_deref().unwrap_or(DEFAULT_MAIL_API).trim_end_matches('/')
    }

    /// The port connected to: the configured one, else the default of the connection security.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(match self.security() {
            SmtpSecurity::Ssl => 465,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Plain => 25,
        })
    }

    /// 400 naming the field when these settings would send a credential unencrypted and the server does not
    /// allow it (`allow_plaintext_mail_credentials`): SMTP AUTH without TLS, an `http://` Microsoft 365 endpoint.
    /// A URL that is neither `https://` nor `http://` is refused always.
    pub fn check_encryption(&self, explorer: Explorer, allow_plaintext: bool) -> StoreResult<()> {
        const HOW: &str = "allow_plaintext_mail_credentials = true in the server's [api] configuration";
        if !self.is_m365() && self.use_authentication && self.security() == SmtpSecurity::Plain && !allow_plaintext {
            return Err(StoreError::Invalid(format!(
                "'connectionSecurity' must be StartTls or Ssl when 'useAuthentication' is on: the password would \
                 cross the network unencrypted. Set 'connectionSecurity' with PUT /{} (a trusted relay without TLS \
                 needs {HOW}).",
                explorer.resource()
            )));
        }
        for (name, url) in [("authorityUrl", &self.authority_url), ("mailApiUrl", &self.mail_api_url)] {
            let Some(url) = url else { continue };
            let lower = url.to_ascii_lowercase();
            let has = |scheme: &str| lower.strip_prefix(scheme).is_some_and(|rest| !rest.is_empty());
            let (https, http) = (has("https://"), has("http://"));
            if http && !allow_plaintext {
                return Err(StoreError::Invalid(format!(
                    "'{name}' must be an https:// URL: over http:// the Microsoft 365 credentials would cross the \
                     network unencrypted (a local test tenant needs {HOW})."
                )));
            }
            if !https && !http {
                return Err(StoreError::Invalid(format!("'{name}' must be an https:// URL, not '{url}'.")));
            }
        }
        Ok(())
    }

    /// The SMTP connection security in force (`connectionSecurity`, else derived from `useSSL`/`useStartTls`).
    pub fn security(&self) -> SmtpSecurity {
        match self.connection_security.as_deref() {
            Some("None") => SmtpSecurity::Plain,
            Some("StartTls") => SmtpSecurity::StartTls,
            Some("Ssl") => SmtpSecurity::Ssl,
            _ if self.use_ssl && self.port == Some(465) => SmtpSecurity::Ssl,
            _ if self.use_ssl || self.use_start_tls => SmtpSecurity::StartTls,
            _ => SmtpSecurity::Plain,
        }
    }

    /// The transport these settings describe, or a 400 naming what is missing or would travel unencrypted
    /// (`allow_plaintext`: the server's `allow_plaintext_mail_credentials`).
    pub fn transport(&self, explorer: Explorer, allow_plaintext: bool) -> StoreResult<Transport> {
        self.check_encryption(explorer, allow_plaintext)?;
        let missing = |what: &str| {
            StoreError::Invalid(format!(
                "Email settings are incomplete: {what} is not configured. Configure it with PUT /{}.",
                explorer.resource()
            ))
        };
        if self.is_m365() {
            let g = GraphMailSettings {
                authority: self.authority().to_string(),
                graph: self.mail_api().to_string(),
                tenant: self.tenant_id.clone().ok_or_else(|| missing("'tenantId'"))?,
                client_id: self.client_id.clone().ok_or_else(|| missing("'clientId'"))?,
                client_secret: self.client_secret.clone().ok_or_else(|| missing("'clientSecret'"))?,
                sender: self.user_id.clone().ok_or_else(|| missing("'userId' (the sending mailbox)"))?,
            };
            let client = g.client().map_err(|e| StoreError::Internal(e.to_string()))?;
            return Ok(Transport::Graph { client, sender: g.sender });
        }
        let server = self.server.clone().ok_or_else(|| missing("the SMTP server ('server')"))?;
        let credentials = if self.use_authentication {
            Some((
                self.username.clone().ok_or_else(|| missing("'username' (useAuthentication is on)"))?,
                self.password.clone().ok_or_else(|| missing("'userPassword' (useAuthentication is on)"))?,
            ))
        } else {
            None
        };
        Ok(Transport::Smtp(SmtpSettings {
            server,
            port: self.effective_port(),
            security: self.security(),
            credentials,
            accept_invalid_certs: self.accept_invalid_certificates,
            timeout: Duration::from_secs(30),
        }))
    }
}

/// The settings to send with for `explorer`, with fallback to `fallback` when `explorer`'s are not configured;
/// 400 when neither is configured or sending is disabled.
pub async fn for_send(
    state: &AppState,
    explorer: Explorer,
    fallback: Option<Explorer>,
) -> StoreResult<(Explorer, EmailSettings)> {
    let mut tried = vec![explorer];
    if let Some(s) = load(state, explorer).await? {
        return enabled(explorer, s);
    }
    if let Some(f) = fallback {
        tried.push(f);
        if let Some(s) = load(state, f).await? {
            return enabled(f, s);
        }
    }
    Err(StoreError::Invalid(format!(
        "Email settings are not configured: configure an SMTP server or Microsoft 365 mail with PUT /{} before \
         sending items.",
        tried.iter().map(|e| e.resource()).collect::<Vec<_>>().join(" or PUT /")
    )))
}

fn enabled(explorer: Explorer, s: EmailSettings) -> StoreResult<(Explorer, EmailSettings)> {
    if !s.enable_notification {
        return Err(StoreError::Invalid(format!(
            "Sending email is disabled in the email settings: set 'enableNotification' to true with PUT /{}.",
            explorer.resource()
        )));
    }
    Ok((explorer, s))
}

/// The settings of `explorer`; the defaults when never set.
pub async fn get(state: &AppState, explorer: Explorer) -> StoreResult<EmailSettings> {
    Ok(load(state, explorer).await?.unwrap_or_default())
}

/// Stores the settings of `explorer`, unless they would send a credential unencrypted and the server does not allow
/// it ([`EmailSettings::check_encryption`]).
pub async fn put(state: &AppState, explorer: Explorer, settings: &EmailSettings) -> StoreResult<()> {
    settings.check_encryption(explorer, state.allow_plaintext_mail_credentials)?;
    store(state, explorer, settings).await
}
