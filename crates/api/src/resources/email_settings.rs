//! Email settings of the explorers (`/{version}/VeodEmailSettings`, `/VespEmailSettings`, `/VexEmailSettings`,
//! `/VetEmailSettings`): the PUT body applied as a partial update ([`EmailSettingsUpdate`], in any accepted
//! spelling, see [`crate::store::email_settings`]), the rule that drops a stored secret whose destination a PUT
//! changes, and the GET answer ([`EmailSettingsAnswer`]). The settings themselves live in the store. Each operation
//! is one handler for the four explorers (registered at each explorer's path in `router.rs`): it reads the explorer
//! with [`EmailSettingsOf`]. `SendTest` is the spelling of the v6/v7 Exchange and Teams specs for `SendTestEmail`.

use axum::extract::{FromRequestParts, MatchedPath, State};
use axum::http::request::Parts;
use engine::send::{OutgoingMessage, SendError};

use crate::ctx::auth::CurrentUser;
use crate::edge::error::ApiError;
use crate::edge::lenient::{LenientJson, Patch};
use crate::edge::version::ApiVersion;
use crate::state::AppState;
use crate::store::email_settings::{self, EmailSettings, Explorer};
use crate::wire::email_settings::{EmailSettingsAnswer, EmailSettingsUpdate};
use crate::wire::selection::TestEmail;
use crate::wire::{Done, Json};

/// Extractor: the explorer whose settings the request path names (`/{version}/VespEmailSettings/SendTest` → Vesp),
/// so the operations are written once for the four explorers. It reads the route's template, which the edge
/// matched in its canonical spelling whatever the case the client sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmailSettingsOf(pub Explorer);

impl EmailSettingsOf {
    /// The explorer whose settings resource is the second segment of `path` (`/{version}/VeodEmailSettings/…`).
    pub fn from_path(path: &str) -> Option<EmailSettingsOf> {
        let resource = path.trim_start_matches('/').split('/').nth(1)?;
        Explorer::ALL.into_iter().find(|e| e.resource().eq_ignore_ascii_case(resource)).map(EmailSettingsOf)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for EmailSettingsOf {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let path = parts.extensions.get::<MatchedPath>().map_or(parts.uri.path(), MatchedPath::as_str);
        // Only reachable when a handler that takes it is registered on another path: a programming error.
        EmailSettingsOf::from_path(path)
            .ok_or_else(|| ApiError::internal(format!("'{path}' names no explorer's email settings")))
    }
}

/// The email settings of an explorer's restores (no secrets).
#[utoipa::path(
    get,
    path = "/{version}/VeodEmailSettings",
    tag = "Email settings",
    params(("version" = String, Path, description = "API version: v2 … v8")),
    responses(
        (status = 200, description = "The settings", body = EmailSettingsAnswer),
        (status = 401, description = "No or invalid token", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn get_email_settings(
    State(state): State<AppState>,
    _user: CurrentUser,
    EmailSettingsOf(explorer): EmailSettingsOf,
) -> Result<Json<EmailSettingsAnswer>, ApiError> {
    Ok(Json(EmailSettingsAnswer::from(&email_settings::get(&state, explorer).await?)))
}

/// Changes the email settings of an explorer's restores: a partial update; secrets whose destination changes are
/// dropped, settings that would send a credential unencrypted are refused.
#[utoipa::path(
    put,
    path = "/{version}/VeodEmailSettings",
    tag = "Email settings",
    params(("version" = String, Path, description = "API version: v2 … v8")),
    request_body = EmailSettingsUpdate,
    responses(
        (status = 200, description = "Changed (v2–v7)"),
        (status = 204, description = "Changed (v8)"),
        (status = 400, description = "Invalid settings", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn put_email_settings(
    State(state): State<AppState>,
    _user: CurrentUser,
    version: ApiVersion,
    EmailSettingsOf(explorer): EmailSettingsOf,
    LenientJson(Patch(body)): LenientJson<Patch<EmailSettingsUpdate>>,
) -> Result<Done, ApiError> {
    let (state, body) = (&state, &body);
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
    Ok(Done(version))
}

/// Sends a test message with the email settings of an explorer's restores.
#[utoipa::path(
    post,
    path = "/{version}/VeodEmailSettings/SendTestEmail",
    tag = "Email settings",
    params(("version" = String, Path, description = "API version: v2 … v8")),
    request_body = TestEmail,
    responses(
        (status = 200, description = "Sent (v2–v7)"),
        (status = 204, description = "Sent (v8)"),
        (status = 400, description = "No recipient, or settings missing", body = crate::openapi::RestExceptionInfo),
        (status = 500, description = "The mail server refused", body = crate::openapi::RestExceptionInfo)
    ),
    security(("bearer" = []))
)]
pub async fn send_test_email(
    State(state): State<AppState>,
    _user: CurrentUser,
    version: ApiVersion,
    EmailSettingsOf(explorer): EmailSettingsOf,
    LenientJson(body): LenientJson<TestEmail>,
) -> Result<Done, ApiError> {
    let (_, settings) = email_settings::for_send(&state, explorer, None).await?;
    let transport = settings.transport(explorer, state.allow_plaintext_mail_credentials)?;
    let msg = OutgoingMessage {
        from: settings.from.clone().or_else(|| settings.user_id.clone()).unwrap_or_default(),
        to: body.email,
        subject: "vault365 test email".into(),
        text: "This is a test message sent with the email settings of vault365.".into(),
    };
    engine::send::send_test(&transport, &msg).await.map_err(send_error)?;
    Ok(Done(version))
}

/// Maps an engine error: the request's fault → 400, otherwise 500 with the reason.
pub fn send_error(e: SendError) -> ApiError {
    if e.is_client_error() {
        ApiError::bad_request(e.to_string())
    } else {
        ApiError::internal(e.to_string())
    }
}

/// Sets `field` when the body sent it: `Some(None)` (`null` or blank) clears it.
fn set<T>(field: &mut Option<T>, sent: Option<Option<T>>) {
    if let Some(v) = sent {
        *field = v;
    }
}

/// Sets `field` when the body sent a value (`null` and blank leave a flag as it is).
fn set_flag(field: &mut bool, sent: Option<bool>) {
    if let Some(b) = sent {
        *field = b;
    }
}

/// Applies a PUT body (partial update).
pub fn apply(mut s: EmailSettings, u: &EmailSettingsUpdate) -> Result<EmailSettings, ApiError> {
    let owned = |v: Option<Option<&str>>| v.map(|v| v.map(str::to_string));
    set_flag(&mut s.enable_notification, u.enable_notification);
    set(&mut s.server, u.server().map(|v| v.map(|v| v.trim().to_string())));
    if let Some(port) = u.port {
        s.port = match port {
            None => None,
            Some(p) => Some(
                u16::try_from(p)
                    .ok()
                    .filter(|p| *p >= 1)
                    .ok_or_else(|| ApiError::bad_request("'port' must be between 1 and 65535"))?,
            ),
        };
    }
    set_flag(&mut s.use_ssl, u.use_ssl);
    set_flag(&mut s.use_start_tls, u.use_start_tls);
    set(&mut s.connection_security, u.connection_security.map(|v| v.map(|c| c.as_str().to_string())));
    set_flag(&mut s.use_authentication, u.use_authentication);
    set(&mut s.username, owned(u.username()));
    set(&mut s.password, owned(u.password()));
    if let Some(Some(from)) = &u.from {
        if from.contains(['\r', '\n']) {
            return Err(ApiError::bad_request("'from' must not contain line breaks"));
        }
    }
    set(&mut s.from, u.from.clone());
    set(&mut s.max_message_size_bytes, u.max_message_size_bytes);
    set_flag(&mut s.accept_invalid_certificates, u.accept_invalid_certificates);
    set(&mut s.authentication_type, u.authentication_type.map(|v| v.map(|a| a.as_str().to_string())));
    set(&mut s.tenant_id, u.tenant_id.clone());
    set(&mut s.client_id, u.client_id.clone());
    set(&mut s.client_secret, u.client_secret.clone());
    set(&mut s.user_id, u.user_id.clone());
    set(&mut s.mail_api_url, u.mail_api_url.clone());
    set(&mut s.authority_url, u.authority_url.clone());
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

/// Drops from `next` (the settings after the PUT `body`) each secret of `before` whose destination changed, unless
/// `body` sets that secret itself. The caller then has to enter it again for the new destination.
///
/// A secret sent as `null` or blank counts as set here: `apply` has cleared it already, so nothing is left to drop.
pub fn drop_moved_secrets(
    before: &EmailSettings,
    next: &mut EmailSettings,
    body: &EmailSettingsUpdate,
) -> Vec<DroppedSecret> {
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
    let password_given = body.password().is_some();
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
    if !graph_changed.is_empty() && body.client_secret.is_none() && next.client_secret.is_some() {
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

    /// Each explorer's four paths are documented, with the typed body and answer, and each one's handler reads its
    /// own explorer from the path.
    #[test]
    fn email_settings_documented_per_explorer() {
        let doc = serde_json::to_value(crate::router::document()).unwrap();
        for e in Explorer::ALL {
            let base = format!("/{{version}}/{}", e.resource());
            for path in [base.clone(), format!("{base}/SendTestEmail"), format!("{base}/SendTest")] {
                assert_eq!(EmailSettingsOf::from_path(&path), Some(EmailSettingsOf(e)), "{path}");
            }
            let ops = &doc["paths"][&base];
            assert_eq!(
                ops["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/RESTEmailSettingsAnswer",
                "{base}"
            );
            assert_eq!(
                ops["put"]["requestBody"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/RESTEmailSettings",
                "{base}"
            );
            for test in ["SendTestEmail", "SendTest"] {
                assert!(doc["paths"][format!("{base}/{test}")]["post"].is_object(), "{base}/{test}");
            }
        }
        let update = &doc["components"]["schemas"]["RESTEmailSettings"]["properties"];
        for name in ["server", "smtpServer", "useSSL", "userPassword", "connectionSecurity", "authenticationType"] {
            assert!(update[name].is_object(), "{name}: {update}");
        }
    }
    use crate::edge::lenient::{Body, Patch};

    #[test]
    fn both_spellings_and_partial_update() {
        let a = apply(
            EmailSettings::default(),
            &put_body(
                r#"{"smtpServer":"mail.x","port":"2525","useAuthentication":"true","userName":"u","password":"p"}"#,
            ),
        )
        .unwrap();
        assert_eq!(a.server.as_deref(), Some("mail.x"));
        assert_eq!(a.port, Some(2525));
        assert_eq!(a.password.as_deref(), Some("p"));
        let b = apply(a, &put_body(r#"{"server":"smtp.y","from":"a@b.c"}"#)).unwrap();
        assert_eq!(b.server.as_deref(), Some("smtp.y"));
        assert_eq!(b.username.as_deref(), Some("u"));
        let j = serde_json::to_value(EmailSettingsAnswer::from(&b)).unwrap();
        assert!(j.get("userPassword").is_none() && j.get("password").is_none());
        assert!(!j.to_string().contains("\"p\""));
        assert!(apply(EmailSettings::default(), &put_body(r#"{"port":70000}"#)).is_err());
    }

    /// What the PUT handler reads (`LenientJson<Patch<EmailSettingsUpdate>>`).
    fn typed(json: &str) -> Result<EmailSettingsUpdate, ApiError> {
        Ok(Body::parse(json.as_bytes())?.to_typed::<Patch<EmailSettingsUpdate>>()?.0)
    }

    fn put_body(json: &str) -> EmailSettingsUpdate {
        typed(json).unwrap()
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

    /// Every spelling in any case; the first spelling found wins, as the by-name reads did (serde aliases would
    /// refuse a body with both as "given twice").
    #[test]
    fn spellings_in_any_case() {
        for body in [
            r#"{"SERVER":"m","USERNAME":"u","USERPASSWORD":"p"}"#,
            r#"{"smtpserver":"m","userName":"u","Password":"p"}"#,
            r#"{"SmtpServer":"m","User":"u","password":"p"}"#,
            r#"{"server":"m","smtpServer":"other","username":"u","user":"x","userPassword":"p","password":"y"}"#,
            r#"{"smtpServer":"other","Server":"m","user":"x","UserName":"u","password":"y","userpassword":"p"}"#,
        ] {
            let s = apply(EmailSettings::default(), &put_body(body)).unwrap();
            assert_eq!(
                (s.server.as_deref(), s.username.as_deref(), s.password.as_deref()),
                (Some("m"), Some("u"), Some("p")),
                "{body}"
            );
        }
        let s = apply(
            EmailSettings::default(),
            &put_body(
                r#"{"ENABLENOTIFICATION":"1","usessl":"True","UseStartTLS":0,"connectionsecurity":"starttls",
                    "AuthenticationType":"microsoft365","TenantID":"t","maxmessagesizebytes":"1000","Port":" 587 ",
                    "acceptinvalidcertificates":"false","FROM":"a@b.c"}"#,
            ),
        )
        .unwrap();
        assert!(s.enable_notification && s.use_ssl && !s.use_start_tls && !s.accept_invalid_certificates);
        assert_eq!(s.connection_security.as_deref(), Some("StartTls"));
        assert_eq!(s.authentication_type.as_deref(), Some("Microsoft365"));
        assert_eq!((s.tenant_id.as_deref(), s.max_message_size_bytes, s.port), (Some("t"), Some(1000), Some(587)));
        assert_eq!(s.from.as_deref(), Some("a@b.c"));
        // The server name is kept without surrounding blanks; other texts as sent.
        let s = apply(EmailSettings::default(), &put_body(r#"{"server":" m ","username":" u "}"#)).unwrap();
        assert_eq!((s.server.as_deref(), s.username.as_deref()), (Some("m"), Some(" u ")));
    }

    fn configured() -> EmailSettings {
        apply(
            EmailSettings::default(),
            &put_body(
                r#"{"enableNotification":true,"server":"m","port":587,"connectionSecurity":"Ssl","useSSL":true,
                    "useAuthentication":true,"username":"u","userPassword":"p","from":"f@x","maxMessageSizeBytes":9,
                    "authenticationType":"CustomSmtp","tenantId":"t","clientId":"c","clientSecret":"s","userId":"i",
                    "mailApiUrl":"https://g","authorityUrl":"https://a"}"#,
            ),
        )
        .unwrap()
    }

    #[test]
    fn absent_keeps_null_and_blank_clear() {
        let before = configured();
        // Absent: nothing changes (a body of other properties, an empty body, `null` flags).
        for body in [
            "{}",
            "",
            r#"{"unknown":1}"#,
            r#"{"enableNotification":null,"useSSL":"","useAuthentication":null,"acceptInvalidCertificates":" "}"#,
        ] {
            assert_eq!(apply(before.clone(), &put_body(body)).unwrap(), before, "{body}");
        }
        // `null` or blank: cleared.
        for clear in ["null", r#""""#, r#"" ""#] {
            let body = [
                "server",
                "port",
                "connectionSecurity",
                "username",
                "userPassword",
                "from",
                "maxMessageSizeBytes",
                "authenticationType",
                "tenantId",
                "clientId",
                "clientSecret",
                "userId",
                "mailApiUrl",
                "authorityUrl",
            ]
            .map(|name| format!(r#""{name}":{clear}"#))
            .join(",");
            let s = apply(before.clone(), &put_body(&format!("{{{body}}}"))).unwrap();
            let cleared = EmailSettings {
                enable_notification: true,
                use_ssl: true,
                use_authentication: true,
                ..EmailSettings::default()
            };
            assert_eq!(s, cleared, "{clear}");
        }
        // The other spellings clear too, unless the first spelling is there.
        let s = apply(before.clone(), &put_body(r#"{"smtpServer":null,"user":"","password":null}"#)).unwrap();
        assert_eq!((s.server, s.username, s.password), (None, None, None));
        let s = apply(before.clone(), &put_body(r#"{"server":null,"smtpServer":"x"}"#)).unwrap();
        assert_eq!(s.server, None);
        let s = apply(before.clone(), &put_body(r#"{"server":"y","smtpServer":null}"#)).unwrap();
        assert_eq!(s.server.as_deref(), Some("y"));
        // Flags take their value only from a value.
        let s = apply(before, &put_body(r#"{"enableNotification":"false","useSSL":0}"#)).unwrap();
        assert!(!s.enable_notification && !s.use_ssl);
    }

    #[test]
    fn bad_values_name_the_field() {
        let e = |body: &str| match typed(body) {
            Ok(u) => apply(EmailSettings::default(), &u).unwrap_err().message,
            Err(e) => e.message,
        };
        for port in ["0", "70000", "-1", r#""65536""#] {
            assert_eq!(e(&format!(r#"{{"port":{port}}}"#)), "'port' must be between 1 and 65535", "{port}");
        }
        assert_eq!(e(r#"{"port":"x"}"#), "'port' must be an integer");
        assert_eq!(e(r#"{"Port":25.5}"#), "'port' must be an integer");
        assert_eq!(
            e(r#"{"connectionSecurity":"tls"}"#),
            "'connectionSecurity' must be one of: None, StartTls, Ssl (got 'tls')"
        );
        assert_eq!(
            e(r#"{"authenticationType":1}"#),
            "'authenticationType' must be one of: CustomSmtp, Microsoft365 (got '1')"
        );
        assert_eq!(e(r#"{"useSSL":"yes"}"#), "'useSSL' must be a boolean");
        assert_eq!(e(r#"{"maxMessageSizeBytes":-5}"#), "'maxMessageSizeBytes' must be a non-negative integer");
        assert_eq!(e(r#"{"server":[]}"#), "'server' must be a string");
        assert_eq!(e(r#"{"from":"a@b.c\r\nBcc: x@y.z"}"#), "'from' must not contain line breaks");
        // Numbers and booleans are their text, as .NET read them.
        let s = apply(EmailSettings::default(), &put_body(r#"{"username":42,"clientId":true}"#)).unwrap();
        assert_eq!((s.username.as_deref(), s.client_id.as_deref()), (Some("42"), Some("True")));
    }

    #[test]
    fn the_answer_keeps_its_shape() {
        let smtp = configured();
        assert_eq!(
            serde_json::to_value(EmailSettingsAnswer::from(&smtp)).unwrap(),
            serde_json::json!({
                "enableNotification": true, "server": "m", "port": 587, "from": "f@x", "useAuthentication": true,
                "useSSL": true, "username": "u", "authenticationType": "CustomSmtp", "maxMessageSizeBytes": 9,
            })
        );
        assert_eq!(
            serde_json::to_value(EmailSettingsAnswer::from(&EmailSettings::default())).unwrap(),
            serde_json::json!({
                "enableNotification": false, "server": "", "port": 25, "from": "", "useAuthentication": false,
                "useSSL": false, "username": "", "authenticationType": "CustomSmtp",
                "maxMessageSizeBytes": engine::send::DEFAULT_MAX_MESSAGE_BYTES,
            })
        );
        let m365 = apply(smtp, &put_body(r#"{"authenticationType":"Microsoft365","userId":null}"#)).unwrap();
        assert_eq!(
            serde_json::to_value(EmailSettingsAnswer::from(&m365)).unwrap(),
            serde_json::json!({
                "enableNotification": true, "server": "m", "port": 587, "from": "f@x", "useAuthentication": true,
                "useSSL": true, "username": "u", "authenticationType": "Microsoft365", "maxMessageSizeBytes": 9,
                "clientId": "c", "tenantId": "t", "userId": null, "mailApiUrl": "https://g", "isAuthenticated": true,
            })
        );
    }

    #[test]
    fn the_explorer_from_the_path() {
        for e in Explorer::ALL {
            for path in [format!("/{{version}}/{}", e.resource()), format!("/v8/{}/SendTest", e.resource())] {
                assert_eq!(EmailSettingsOf::from_path(&path), Some(EmailSettingsOf(e)), "{path}");
            }
        }
        assert_eq!(EmailSettingsOf::from_path("/v8/vespemailsettings"), Some(EmailSettingsOf(Explorer::Vesp)));
        assert_eq!(EmailSettingsOf::from_path("/v8/AuditEmailSettings"), None);
        assert_eq!(EmailSettingsOf::from_path("/VeodEmailSettings"), None);
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
