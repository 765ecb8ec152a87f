//! Email settings of the explorers (`/{version}/VeodEmailSettings`, `/VespEmailSettings`, `/VexEmailSettings`,
//! `/VetEmailSettings`): the PUT body (a partial update in any accepted spelling, see
//! [`crate::store::email_settings`]), the rule that drops a stored secret whose destination a PUT changes, and the GET
//! representation. The settings themselves live in the store.

use serde_json::{json, Value};

use crate::edge::error::ApiError;
use crate::edge::lenient::Obj;
use crate::state::AppState;
use crate::store::email_settings::{self, EmailSettings, Explorer};

/// The GET representation of `explorer`'s settings (no secrets).
pub async fn get(state: &AppState, explorer: Explorer) -> Result<Value, ApiError> {
    Ok(settings_json(&email_settings::get(state, explorer).await?))
}

/// PUT (partial update): secrets whose destination changed are dropped, settings that would send a credential
/// unencrypted are refused.
pub async fn put(state: &AppState, explorer: Explorer, body: &Obj) -> Result<(), ApiError> {
    let current = email_settings::get(state, explorer).await?;
    let mut next = apply(current.clone(), body)?;
    let dropped = drop_moved_secrets(&current, &mut next, body);
    email_settings::put(state, explorer, &next).await?;
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

/// The GET representation (no secrets).
fn settings_json(s: &EmailSettings) -> Value {
    let mut v = json!({
        "enableNotification": s.enable_notification,
        "server": s.server.clone().unwrap_or_default(),
        "port": s.port.unwrap_or(25),
        "from": s.from.clone().unwrap_or_default(),
        "useAuthentication": s.use_authentication,
        "useSSL": s.use_ssl,
        "username": s.username.clone().unwrap_or_default(),
        "authenticationType": s.authentication_type.clone().unwrap_or_else(|| "CustomSmtp".into()),
        "maxMessageSizeBytes": s.max_bytes(),
    });
    if s.is_m365() {
        v["clientId"] = json!(s.client_id.clone().unwrap_or_default());
        v["tenantId"] = json!(s.tenant_id.clone().unwrap_or_default());
        v["userId"] = json!(s.user_id);
        v["mailApiUrl"] = json!(s.mail_api());
        v["isAuthenticated"] = json!(s.client_secret.is_some());
    }
    v
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
        let j = settings_json(&b);
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
