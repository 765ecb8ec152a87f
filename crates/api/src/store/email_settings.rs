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
//!
//! A stored secret is bound to where it is sent. Since GET never shows it, a PUT that only moves the destination
//! would otherwise let any caller send the stored secret to a host of their choosing (`SendTestEmail` then
//! authenticates there). So a PUT that changes where or how a secret travels drops it unless the same PUT sets a
//! new one ([`drop_moved_secrets`]): `userPassword` when the effective server, port, connection security, username
//! or certificate check changes; `clientSecret` when `tenantId`, `clientId`, `authorityUrl` or `mailApiUrl`
//! changes. Sending the same value again is not a change. And no secret crosses the network unencrypted
//! ([`EmailSettings::check_encryption`], at PUT and at send time): SMTP AUTH without TLS and `http://` Microsoft 365
//! endpoints are refused unless the server allows them (`allow_plaintext_mail_credentials` in `[api]`).

use std::time::Duration;

use base64::Engine;
use engine::send::{GraphMailSettings, SmtpSecurity, SmtpSettings, Transport, DEFAULT_MAX_MESSAGE_BYTES};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::{AnyPool, Row};

use crate::edge::error::ApiError;
use crate::edge::lenient::Obj;
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

/// A stored secret that a PUT dropped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedSecret {
    /// The secret's input name (`userPassword`, `clientSecret`).
    pub secret: &'static str,
    /// The input names of the settings whose change dropped it.
    pub changed: Vec<&'static str>,
}

/// Drops from `next` (the settings after the PUT `o`) each secret of `before` whose destination changed, unless
/// `o` sets that secret itself. The caller then has to enter it again for the new destination.
pub fn drop_moved_secrets(before: &EmailSettings, next: &mut EmailSettings, o: &Obj) -> Vec<DroppedSecret> {
    let mut dropped = Vec::new();
    let smtp_changed: Vec<&'static str> = [
        ("server", !same_host(&before.server, &next.server)),
        ("port", before.effective_port() != next.effective_port()),
        ("connectionSecurity", before.security() != next.security()),
        ("username", before.username != next.username),
        ("acceptInvalidCertificates", before.accept_invalid_certificates != next.accept_invalid_certificates),
    ]
    .into_iter()
    .filter_map(|(name, changed)| changed.then_some(name))
    .collect();
    let password_given = o.has("userPassword") || o.has("password");
    if !smtp_changed.is_empty() && !password_given && next.password.is_some() {
        next.password = None;
        dropped.push(DroppedSecret { secret: "userPassword", changed: smtp_changed });
    }
    let graph_changed: Vec<&'static str> = [
        ("tenantId", before.tenant_id != next.tenant_id),
        ("clientId", before.client_id != next.client_id),
        ("authorityUrl", before.authority() != next.authority()),
        ("mailApiUrl", before.mail_api() != next.mail_api()),
    ]
    .into_iter()
    .filter_map(|(name, changed)| changed.then_some(name))
    .collect();
    if !graph_changed.is_empty() && !o.has("clientSecret") && next.client_secret.is_some() {
        next.client_secret = None;
        dropped.push(DroppedSecret { secret: "clientSecret", changed: graph_changed });
    }
    dropped
}

/// Host names compare case-insensitively (`Mail.Contoso.com` is `mail.contoso.com`).
fn same_host(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (a, b) => a == b,
    }
}

const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
const DEFAULT_MAIL_API: &str = "https://graph.microsoft.com/v1.0";

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
            v["mailApiUrl"] = json!(self.mail_api());
            v["isAuthenticated"] = json!(self.client_secret.is_some());
        }
        v
    }

    /// The message size limit.
    pub fn max_bytes(&self) -> u64 {
        self.max_message_size_bytes.unwrap_or(DEFAULT_MAX_MESSAGE_BYTES)
    }

    /// The token authority the client secret is sent to.
    fn authority(&self) -> &str {
        self.authority_url.as_deref().unwrap_or(DEFAULT_AUTHORITY).trim_end_matches('/')
    }

    /// The Graph root the bearer token is sent to.
    fn mail_api(&self) -> &str {
        self.mail_api_url.as_deref().unwrap_or(DEFAULT_MAIL_API).trim_end_matches('/')
    }

    /// The port connected to: the configured one, else the default of the connection security.
    fn effective_port(&self) -> u16 {
        self.port.unwrap_or(match self.security() {
            SmtpSecurity::Ssl => 465,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Plain => 25,
        })
    }

    /// 400 naming the field when these settings would send a credential unencrypted and the server does not
    /// allow it (`allow_plaintext_mail_credentials`): SMTP AUTH without TLS, an `http://` Microsoft 365 endpoint.
    /// A URL that is neither `https://` nor `http://` is refused always.
    pub fn check_encryption(&self, explorer: Explorer, allow_plaintext: bool) -> Result<(), ApiError> {
        const HOW: &str = "allow_plaintext_mail_credentials = true in the server's [api] configuration";
        if !self.is_m365() && self.use_authentication && self.security() == SmtpSecurity::Plain && !allow_plaintext {
            return Err(ApiError::bad_request(format!(
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
                return Err(ApiError::bad_request(format!(
                    "'{name}' must be an https:// URL: over http:// the Microsoft 365 credentials would cross the \
                     network unencrypted (a local test tenant needs {HOW})."
                )));
            }
            if !https && !http {
                return Err(ApiError::bad_request(format!("'{name}' must be an https:// URL, not '{url}'.")));
            }
        }
        Ok(())
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

    /// The transport these settings describe, or a 400 naming what is missing or would travel unencrypted
    /// (`allow_plaintext`: the server's `allow_plaintext_mail_credentials`).
    pub fn transport(&self, explorer: Explorer, allow_plaintext: bool) -> Result<Transport, ApiError> {
        self.check_encryption(explorer, allow_plaintext)?;
        let missing = |what: &str| {
            ApiError::bad_request(format!(
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

/// PUT handler body (partial update): secrets whose destination changed are dropped, settings that would send a
/// credential unencrypted are refused.
pub async fn put(state: &AppState, explorer: Explorer, body: &Obj) -> Result<(), ApiError> {
    let current = load(state, explorer).await?.unwrap_or_default();
    let mut next = apply(current.clone(), body)?;
    let dropped = drop_moved_secrets(&current, &mut next, body);
    next.check_encryption(explorer, state.allow_plaintext_mail_credentials)?;
    store(state, explorer, &next).await?;
    for d in dropped {
        tracing::info!(
            settings = explorer.resource(),
            secret = d.secret,
            changed = ?d.changed,
            "the stored email secret was dropped because its destination changed; it must be entered again"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::lenient::Body;

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

    fn put_body(json: &str) -> Obj {
        Body::parse(json.as_bytes()).unwrap()
    }

    /// `before` with the PUT `json` applied the way `put` does; the secrets dropped.
    fn after_put(before: &EmailSettings, json: &str) -> (EmailSettings, Vec<DroppedSecret>) {
        let o = put_body(json);
        let mut next = apply(before.clone(), &o).unwrap();
        let dropped = drop_moved_secrets(before, &mut next, &o);
        (next, dropped)
    }

    fn smtp_with_password() -> EmailSettings {
        apply(
            EmailSettings::default(),
            &put_body(
                r#"{"server":"mail.contoso.com","port":587,"connectionSecurity":"StartTls","useAuthentication":true,
                    "username":"mailer","userPassword":"hunter2"}"#,
            ),
        )
        .unwrap()
    }

    #[test]
    fn a_new_smtp_destination_drops_the_password() {
        let before = smtp_with_password();
        for (body, field) in [
            (r#"{"server":"attacker.example"}"#, "server"),
            (r#"{"smtpServer":"127.0.0.1"}"#, "server"),
            (r#"{"port":2525}"#, "port"),
            (r#"{"connectionSecurity":"Ssl"}"#, "connectionSecurity"),
            (r#"{"connectionSecurity":"None"}"#, "connectionSecurity"),
            (r#"{"connectionSecurity":null,"useSSL":false}"#, "connectionSecurity"),
            (r#"{"username":"someone-else"}"#, "username"),
            (r#"{"acceptInvalidCertificates":true}"#, "acceptInvalidCertificates"),
        ] {
            let (next, dropped) = after_put(&before, body);
            assert_eq!(next.password, None, "{body}");
            assert_eq!(dropped.len(), 1, "{body}");
            assert_eq!(dropped[0].secret, "userPassword");
            assert!(dropped[0].changed.contains(&field), "{body}: {dropped:?}");
            // The same change with a new password keeps the new one.
            let with_new = format!("{},\"userPassword\":\"new\"}}", body.trim_end_matches('}'));
            let (next, dropped) = after_put(&before, &with_new);
            assert_eq!((next.password.as_deref(), dropped), (Some("new"), vec![]), "{with_new}");
        }
        // Sending the stored values again (other spellings, host case, the same effective security) changes nothing.
        for same in [
            r#"{"server":"MAIL.contoso.com","port":"587","connectionSecurity":"StartTls","username":"mailer"}"#,
            r#"{"smtpServer":"mail.contoso.com","userName":"mailer","useAuthentication":true}"#,
            r#"{"from":"backup@contoso.com","enableNotification":true,"maxMessageSizeBytes":1000}"#,
            // The Graph fields are not where the SMTP password goes.
            r#"{"tenantId":"t","clientId":"c","authorityUrl":"https://login.example","mailApiUrl":"https://g.example"}"#,
        ] {
            let (next, dropped) = after_put(&before, same);
            assert_eq!((next.password.as_deref(), dropped), (Some("hunter2"), vec![]), "{same}");
        }
        // `useSSL` on 587 is STARTTLS already: not a change of the effective security.
        let legacy =
            apply(EmailSettings::default(), &put_body(r#"{"server":"m","port":587,"useSSL":true,"password":"p"}"#))
                .unwrap();
        let (next, dropped) = after_put(&legacy, r#"{"connectionSecurity":"StartTls"}"#);
        assert_eq!((next.password.as_deref(), dropped), (Some("p"), vec![]));
    }

    #[test]
    fn a_new_microsoft365_destination_drops_the_client_secret() {
        let before = apply(
            EmailSettings::default(),
            &put_body(
                r#"{"authenticationType":"Microsoft365","tenantId":"contoso","clientId":"app","clientSecret":"s3cret",
                    "userId":"sender@contoso.com"}"#,
            ),
        )
        .unwrap();
        for (body, field) in [
            (r#"{"tenantId":"fabrikam"}"#, "tenantId"),
            (r#"{"clientId":"other-app"}"#, "clientId"),
            (r#"{"authorityUrl":"https://login.attacker.example"}"#, "authorityUrl"),
            (r#"{"mailApiUrl":"https://graph.attacker.example/v1.0"}"#, "mailApiUrl"),
        ] {
            let (next, dropped) = after_put(&before, body);
            assert_eq!(next.client_secret, None, "{body}");
            assert_eq!(dropped, vec![DroppedSecret { secret: "clientSecret", changed: vec![field] }], "{body}");
            let with_new = format!("{},\"clientSecret\":\"new\"}}", body.trim_end_matches('}'));
            let (next, dropped) = after_put(&before, &with_new);
            assert_eq!((next.client_secret.as_deref(), dropped), (Some("new"), vec![]), "{with_new}");
        }
        // The defaults spelled out, a trailing slash, another sending mailbox: same destination.
        for same in [
            r#"{"authorityUrl":"https://login.microsoftonline.com/","mailApiUrl":"https://graph.microsoft.com/v1.0"}"#,
            r#"{"tenantId":"contoso","clientId":"app","userId":"other@contoso.com","server":"smtp.example"}"#,
        ] {
            let (next, dropped) = after_put(&before, same);
            assert_eq!((next.client_secret.as_deref(), dropped), (Some("s3cret"), vec![]), "{same}");
        }
    }

    fn refusal(s: &EmailSettings, allow: bool) -> Option<String> {
        s.check_encryption(Explorer::Veod, allow).err().map(|e| e.to_string())
    }

    #[test]
    fn credentials_never_travel_unencrypted_unless_allowed() {
        let plain_auth = apply(smtp_with_password(), &put_body(r#"{"connectionSecurity":"None"}"#)).unwrap();
        let e = refusal(&plain_auth, false).expect("plain AUTH refused");
        assert!(e.contains("'connectionSecurity'"), "{e}");
        assert_eq!(refusal(&plain_auth, true), None);
        // The legacy spelling: no SSL, no STARTTLS → plain.
        let legacy = apply(
            EmailSettings::default(),
            &put_body(r#"{"server":"m","useSSL":false,"useAuthentication":true,"password":"p"}"#),
        )
        .unwrap();
        assert!(refusal(&legacy, false).is_some_and(|e| e.contains("'connectionSecurity'")));
        // Without AUTH a plain relay is fine; with TLS AUTH is fine.
        let relay = apply(plain_auth.clone(), &put_body(r#"{"useAuthentication":false}"#)).unwrap();
        assert_eq!(refusal(&relay, false), None);
        assert_eq!(refusal(&smtp_with_password(), false), None);
        assert!(plain_auth.transport(Explorer::Veod, false).is_err());
        assert!(plain_auth.transport(Explorer::Veod, true).is_ok());

        let m365 =
            r#"{"authenticationType":"Microsoft365","tenantId":"t","clientId":"c","clientSecret":"s","userId":"u"}"#;
        let m365 = apply(EmailSettings::default(), &put_body(m365)).unwrap();
        assert_eq!(refusal(&m365, false), None);
        for field in ["authorityUrl", "mailApiUrl"] {
            let http = apply(m365.clone(), &put_body(&format!(r#"{{"{field}":"HTTP://127.0.0.1:1"}}"#))).unwrap();
            let e = refusal(&http, false).expect("http refused");
            assert!(e.contains(&format!("'{field}'")), "{e}");
            assert_eq!(refusal(&http, true), None);
            let other = apply(m365.clone(), &put_body(&format!(r#"{{"{field}":"ftp://x"}}"#))).unwrap();
            assert!(refusal(&other, true).is_some_and(|e| e.contains(&format!("'{field}'"))));
        }
    }
}
