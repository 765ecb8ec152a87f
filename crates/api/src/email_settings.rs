//! Email settings used by the "send" actions (veeam-api-notes §11): one record per explorer (`Veod`, `Vesp`) in
//! the API-owned table `api_email_settings` on the catalog pool (portable SQL: `TEXT` only, `$n` placeholders).
//!
//! Accepted input spellings (case-insensitive): `server` | `smtpServer`; `username` | `userName` | `user`;
//! `userPassword` | `password`; `port`; `useSSL`; `useStartTls` / `connectionSecurity` (`None|StartTls|Ssl`, ours);
//! `useAuthentication`; `from`; `enableNotification`; `maxMessageSizeBytes` (ours, default 35 MB). Transport:
//! `authenticationType` = `CustomSmtp` (default) | `Microsoft365` with `tenantId`, `clientId`, `clientSecret`,
//! `userId` (the sending mailbox), `mailApiUrl` (Graph root, default `https://graph.microsoft.com/v1.0`) and
//! `authorityUrl` (ours, default `https://login.microsoftonline.com`).
//!
//! PUT is a partial update (omitted properties keep their values). Secrets (`userPassword`, `clientSecret`) are
//! write-only: GET never returns them. In the catalog they are sealed with a key derived from the repository key
//! (`Repository::seal_secret`), so every node that opens the repository can send, while a copy of the catalog
//! database alone does not reveal them. A secret that no longer opens (the catalog now serves another repository)
//! reads as not configured, so a PUT can set it again.
//!
//! Security when `connectionSecurity` is not given: `useSSL` true on port 465 → implicit TLS, `useSSL` true on any
//! other port → STARTTLS (Veeam's "secure connection" on 587), `useStartTls` true → STARTTLS, otherwise plain.

use std::time::Duration;

use base64::Engine;
use engine::send::{GraphMailSettings, SmtpSecurity, SmtpSettings, Transport, DEFAULT_MAX_MESSAGE_BYTES};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::{AnyPool, Row};

use crate::dialect::Obj;
use crate::error::ApiError;
use crate::state::AppState;

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

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS api_email_settings (
    explorer VARCHAR(16) PRIMARY KEY,
    settings TEXT NOT NULL
)";

async fn ensure_schema(pool: &AnyPool) -> Result<(), ApiError> {
    sqlx::query(SCHEMA).execute(pool).await?;
    Ok(())
}

/// The stored settings of `explorer` (`None` when never set).
pub async fn load(state: &AppState, explorer: Explorer) -> Result<Option<EmailSettings>, ApiError> {
    ensure_schema(state.pool()).await?;
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
fn to_stored(state: &AppState, explorer: Explorer, s: &EmailSettings) -> Result<String, ApiError> {
    let mut v = serde_json::to_value(s).map_err(|e| ApiError::internal(e.to_string()))?;
    if let (Some(repo), Some(obj)) = (&state.repo, v.as_object_mut()) {
        for field in SECRET_FIELDS {
            if let Some(Value::String(secret)) = obj.remove(field) {
                let sealed = repo
                    .seal_secret(&secret_purpose(explorer, field), secret.as_bytes())
                    .map_err(|e| ApiError::internal(format!("Cannot encrypt the email setting '{field}': {e}")))?;
                obj.insert(format!("sealed_{field}"), json!(base64::engine::general_purpose::STANDARD.encode(sealed)));
            }
        }
    }
    serde_json::to_string(&v).map_err(|e| ApiError::internal(e.to_string()))
}

fn from_stored(state: &AppState, explorer: Explorer, text: &str) -> Result<EmailSettings, ApiError> {
    let corrupt = |e: String| ApiError::internal(format!("Stored email settings of {}: {e}", explorer.resource()));
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

async fn store(state: &AppState, explorer: Explorer, s: &EmailSettings) -> Result<(), ApiError> {
    ensure_schema(state.pool()).await?;
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

fn first_str(o: &Obj, names: &[&str]) -> Result<Option<Option<String>>, ApiError> {
    for n in names {
        if o.get(n).is_some() {
            return Ok(Some(o.str(n)?.filter(|s| !s.trim().is_empty())));
        }
    }
    Ok(None)
}

/// Applies a PUT body (partial update).
pub fn apply(mut s: EmailSettings, o: &Obj) -> Result<EmailSettings, ApiError> {
    if let Some(b) = o.bool("enableNotification")? {
        s.enable_notification = b;
    }
    if let Some(v) = first_str(o, &["server", "smtpServer"])? {
        s.server = v.map(|v| v.trim().to_string());
    }
    if o.get("port").is_some() {
        s.port = match o.i64("port")? {
            None => None,
            Some(p) if (1..=65535).contains(&p) => Some(p as u16),
            Some(_) => return Err(ApiError::bad_request("'port' must be between 1 and 65535")),
        };
    }
    if let Some(b) = o.bool("useSSL")? {
        s.use_ssl = b;
    }
    if let Some(b) = o.bool("useStartTls")? {
        s.use_start_tls = b;
    }
    if o.get("connectionSecurity").is_some() {
        s.connection_security = o.enum_of("connectionSecurity", &["None", "StartTls", "Ssl"])?.map(str::to_string);
    }
    if let Some(b) = o.bool("useAuthentication")? {
        s.use_authentication = b;
    }
    if let Some(v) = first_str(o, &["username", "userName", "user"])? {
        s.username = v;
    }
    if let Some(v) = first_str(o, &["userPassword", "password"])? {
        s.password = v;
    }
    if let Some(v) = first_str(o, &["from"])? {
        if v.as_deref().is_some_and(|f| f.contains(['\r', '\n'])) {
            return Err(ApiError::bad_request("'from' must not contain line breaks"));
        }
        s.from = v;
    }
    if o.get("maxMessageSizeBytes").is_some() {
        s.max_message_size_bytes = o.u64("maxMessageSizeBytes")?;
    }
    if let Some(b) = o.bool("acceptInvalidCertificates")? {
        s.accept_invalid_certificates = b;
    }
    if o.get("authenticationType").is_some() {
        s.authentication_type = o.enum_of("authenticationType", &["CustomSmtp", "Microsoft365"])?.map(str::to_string);
    }
    for (name, field) in [
        ("tenantId", &mut s.tenant_id),
        ("clientId", &mut s.client_id),
        ("clientSecret", &mut s.client_secret),
        ("userId", &mut s.user_id),
        ("mailApiUrl", &mut s.mail_api_url),
        ("authorityUrl", &mut s.authority_url),
    ] {
        if let Some(v) = first_str(o, &[name])? {
            *field = v;
        }
    }
    Ok(s)
}

impl EmailSettings {
    fn is_m365(&self) -> bool {
        self.authentication_type.as_deref() == Some("Microsoft365")
    }

    /// The GET representation (no secrets).
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "enableNotification": self.enable_notification,
            "server": self.server.clone().unwrap_or_default(),
            "port": self.port.unwrap_or(25),
            "from": self.from.clone().unwrap_or_default(),
            "useAuthentication": self.use_authentication,
            "useSSL": self.use_ssl,
            "username": self.username.clone().unwrap_or_default(),
            "authenticationType": self.authentication_type.clone().unwrap_or_else(|| "CustomSmtp".into()),
            "maxMessageSizeBytes": self.max_bytes(),
        });
        if self.is_m365() {
            v["clientId"] = json!(self.client_id.clone().unwrap_or_default());
            v["tenantId"] = json!(self.tenant_id.clone().unwrap_or_default());
            v["userId"] = json!(self.user_id);
            v["mailApiUrl"] =
                json!(self.mail_api_url.clone().unwrap_or_else(|| "https://graph.microsoft.com/v1.0".into()));
            v["isAuthenticated"] = json!(self.client_secret.is_some());
        }
        v
    }

    /// The message size limit.
    pub fn max_bytes(&self) -> u64 {
        self.max_message_size_bytes.unwrap_or(DEFAULT_MAX_MESSAGE_BYTES)
    }

    fn security(&self) -> SmtpSecurity {
        match self.connection_security.as_deref() {
            Some("None") => SmtpSecurity::Plain,
            Some("StartTls") => SmtpSecurity::StartTls,
            Some("Ssl") => SmtpSecurity::Ssl,
            _ if self.use_ssl && self.port == Some(465) => SmtpSecurity::Ssl,
            _ if self.use_ssl || self.use_start_tls => SmtpSecurity::StartTls,
            _ => SmtpSecurity::Plain,
        }
    }

    /// The transport these settings describe, or a 400 naming what is missing.
    pub fn transport(&self, explorer: Explorer) -> Result<Transport, ApiError> {
        let missing = |what: &str| {
            ApiError::bad_request(format!(
                "Email settings are incomplete: {what} is not configured. Configure it with PUT /{}.",
                explorer.resource()
            ))
        };
        if self.is_m365() {
            let g = GraphMailSettings {
                authority: self.authority_url.clone().unwrap_or_else(|| "https://login.microsoftonline.com".into()),
                graph: self.mail_api_url.clone().unwrap_or_else(|| "https://graph.microsoft.com/v1.0".into()),
                tenant: self.tenant_id.clone().ok_or_else(|| missing("'tenantId'"))?,
                client_id: self.client_id.clone().ok_or_else(|| missing("'clientId'"))?,
                client_secret: self.client_secret.clone().ok_or_else(|| missing("'clientSecret'"))?,
                sender: self.user_id.clone().ok_or_else(|| missing("'userId' (the sending mailbox)"))?,
            };
            let client = g.client().map_err(|e| ApiError::internal(e.to_string()))?;
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
        let security = self.security();
        let port = self.port.unwrap_or(match security {
            SmtpSecurity::Ssl => 465,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Plain => 25,
        });
        Ok(Transport::Smtp(SmtpSettings {
            server,
            port,
            security,
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
) -> Result<(Explorer, EmailSettings), ApiError> {
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
    Err(ApiError::bad_request(format!(
        "Email settings are not configured: configure an SMTP server or Microsoft 365 mail with PUT /{} before \
         sending items.",
        tried.iter().map(|e| e.resource()).collect::<Vec<_>>().join(" or PUT /")
    )))
}

fn enabled(explorer: Explorer, s: EmailSettings) -> Result<(Explorer, EmailSettings), ApiError> {
    if !s.enable_notification {
        return Err(ApiError::bad_request(format!(
            "Sending email is disabled in the email settings: set 'enableNotification' to true with PUT /{}.",
            explorer.resource()
        )));
    }
    Ok((explorer, s))
}

/// GET handler body.
pub async fn get(state: &AppState, explorer: Explorer) -> Result<Value, ApiError> {
    Ok(load(state, explorer).await?.unwrap_or_default().to_json())
}

/// PUT handler body (partial update).
pub async fn put(state: &AppState, explorer: Explorer, body: &Obj) -> Result<(), ApiError> {
    let current = load(state, explorer).await?.unwrap_or_default();
    let next = apply(current, body)?;
    store(state, explorer, &next).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Body;

    #[test]
    fn both_spellings_and_partial_update() {
        let a = apply(
            EmailSettings::default(),
            &Body::parse(
                br#"{"smtpServer":"mail.x","port":"2525","useAuthentication":"true","userName":"u","password":"p"}"#,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(a.server.as_deref(), Some("mail.x"));
        assert_eq!(a.port, Some(2525));
        assert_eq!(a.password.as_deref(), Some("p"));
        let b = apply(a, &Body::parse(br#"{"server":"smtp.y","from":"a@b.c"}"#).unwrap()).unwrap();
        assert_eq!(b.server.as_deref(), Some("smtp.y"));
        assert_eq!(b.username.as_deref(), Some("u"));
        let j = b.to_json();
        assert!(j.get("userPassword").is_none() && j.get("password").is_none());
        assert!(!j.to_string().contains("\"p\""));
        assert!(apply(EmailSettings::default(), &Body::parse(br#"{"port":70000}"#).unwrap()).is_err());
    }
}
