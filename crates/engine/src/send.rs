//! Send: backed-up files as attachments of an e-mail (the "send" action of the Veeam dialect).
//!
//! [`send`] validates the message (no CR/LF in header values, parseable addresses), checks the total size of the
//! attachments against the configured limit **before** reading or sending anything, reads each attachment from the
//! content repository (verifying its size), and hands the message to one transport:
//!
//! * [`Transport::Smtp`]: SMTP with `lettre` (tokio, rustls with the aws-lc-rs provider): plain, STARTTLS or implicit
//!   TLS, optional AUTH. The SMTP transaction commits only at the end of DATA, so a failure leaves nothing half-sent.
//! * [`Transport::Graph`]: Microsoft Graph with an organization's app (graph-notes §8.1): `sendMail` with inline
//!   attachments when each is < 3 MB; otherwise a draft, an attachment upload session per large file (chunks ≤ 4 MB)
//!   and `…/send`. A failure on the draft path deletes the draft (best effort), so nothing is sent.

use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use lettre::message::header::ContentType;
use lettre::message::{Attachment as MailAttachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use m365::{Credential, Endpoints, GraphClient, TenantConfig};
use repo::catalog::ItemKind;
use repo::store::{BlobRef, Repository};
use reqwest::Method;
use serde_json::{json, Value};

use crate::selection::{FileRef, SelectError, Selection, SessionView};

/// Default limit on the total size of a message's attachments: Exchange Online's default message size (35 MB).
pub const DEFAULT_MAX_MESSAGE_BYTES: u64 = 35 * 1024 * 1024;

/// Graph: attachments at or above this size go through an upload session (graph-notes §8.1).
pub const GRAPH_INLINE_LIMIT: u64 = 3 * 1024 * 1024;

/// Graph upload-session chunk size (≤ 4 MB, multiple of 320 KiB).
const GRAPH_CHUNK: usize = 320 * 1024 * 12;

/// Why a send failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The request is unusable (header injection, bad address, nothing to send…): a client error.
    #[error("{0}")]
    Invalid(String),
    /// The attachments exceed the configured limit; nothing was read or sent.
    #[error(
        "The message is too large: its attachments total {total} bytes, more than the configured limit of {limit} bytes; nothing was sent."
    )]
    TooLarge {
        /// Total size of the attachments (and text).
        total: u64,
        /// The configured limit.
        limit: u64,
    },
    /// Backed-up content could not be read; nothing was sent.
    #[error("{0}")]
    Content(String),
    /// The mail transport failed; nothing was sent.
    #[error("{0}")]
    Transport(String),
}

impl SendError {
    /// Whether the caller's request is at fault (→ HTTP 400).
    pub fn is_client_error(&self) -> bool {
        matches!(self, SendError::Invalid(_) | SendError::TooLarge { .. })
    }
}

/// Connection security of an SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain text (trusted relays only).
    Plain,
    /// Plain connection upgraded with STARTTLS (required).
    StartTls,
    /// Implicit TLS from the first byte (SMTPS, port 465).
    Ssl,
}

/// A custom SMTP server.
#[derive(Clone)]
pub struct SmtpSettings {
    /// Host name or address.
    pub server: String,
    /// Port.
    pub port: u16,
    /// Connection security.
    pub security: SmtpSecurity,
    /// AUTH user and password; `None` = no authentication.
    pub credentials: Option<(String, String)>,
    /// Accept any server certificate (test relays with self-signed certificates).
    pub accept_invalid_certs: bool,
    /// Timeout of the connection and of each exchange; with the message size it sets the deadline of the whole
    /// conversation ([`smtp_deadline`]).
    pub timeout: Duration,
}

/// The slowest body transfer a working SMTP server is granted: 64 KiB/s (a 35 MB message may take 9 minutes).
const SMTP_MIN_BYTES_PER_SEC: u64 = 64 * 1024;

/// The deadline of one whole SMTP conversation for a message of `message_bytes`: twice `timeout` for the exchanges
/// (connect, greeting, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, the final reply) plus the body at
/// [`SMTP_MIN_BYTES_PER_SEC`].
///
/// Why a deadline of our own: lettre's async transport applies its `timeout` only to the TCP connect
/// (`AsyncNetworkStream::connect_tokio1`); the greeting and every reply after it are awaited without limit (the
/// blocking transport sets socket read timeouts, the async one has no equivalent). A peer that accepts the
/// connection and never speaks held a send until the kernel gave up on the connection, many minutes later.
pub fn smtp_deadline(timeout: Duration, message_bytes: u64) -> Duration {
    timeout.saturating_mul(2) + Duration::from_secs(message_bytes.div_ceil(SMTP_MIN_BYTES_PER_SEC))
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("server", &self.server)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|c| &c.0))
            .finish_non_exhaustive()
    }
}

/// Microsoft 365 mail through Graph with an organization's app (client credentials).
#[derive(Clone)]
pub struct GraphMailSettings {
    /// Token authority (`https://login.microsoftonline.com` or the emulator's base).
    pub authority: String,
    /// Graph root with version (`https://graph.microsoft.com/v1.0`).
    pub graph: String,
    /// Entra tenant id or domain.
    pub tenant: String,
    /// Application (client) id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
    /// The mailbox that sends (user id or UPN).
    pub sender: String,
}

impl std::fmt::Debug for GraphMailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphMailSettings")
            .field("graph", &self.graph)
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field("sender", &self.sender)
            .finish_non_exhaustive()
    }
}

impl GraphMailSettings {
    /// A Graph client for these settings.
    pub fn client(&self) -> Result<GraphClient, SendError> {
        let cfg = TenantConfig {
            endpoints: Endpoints {
                authority: self.authority.trim_end_matches('/').to_string(),
                graph: self.graph.trim_end_matches('/').to_string(),
                graph_resource: "https://graph.microsoft.com".into(),
            },
            tenant: self.tenant.clone(),
            client_id: self.client_id.clone(),
            credential: Credential::Secret(self.client_secret.clone()),
        };
        GraphClient::new(cfg, 4).map_err(|e| SendError::Transport(format!("Microsoft 365 mail client: {e}")))
    }
}

/// How the message leaves.
#[derive(Clone)]
pub enum Transport {
    /// A custom SMTP server.
    Smtp(SmtpSettings),
    /// Graph `sendMail` as `sender` with an existing client.
    Graph {
        /// The client (an organization's app with `Mail.Send`).
        client: GraphClient,
        /// The sending mailbox (user id or UPN).
        sender: String,
    },
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Smtp(s) => f.debug_tuple("Smtp").field(s).finish(),
            Transport::Graph { sender, .. } => f.debug_struct("Graph").field("sender", sender).finish_non_exhaustive(),
        }
    }
}

/// The message around the attachments.
#[derive(Debug, Clone, Default)]
pub struct OutgoingMessage {
    /// Sender address.
    pub from: String,
    /// Recipients: one or several addresses separated by `,` or `;`.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
}

/// One backed-up file to attach.
#[derive(Debug, Clone)]
pub struct AttachmentSource {
    /// File name shown to the recipient.
    pub name: String,
    /// Size recorded in the catalog (checked against the limit before reading).
    pub size: u64,
    /// Compact content reference in the repository; `None` only for an empty file (size 0).
    pub content_ref: Option<Vec<u8>>,
}

/// What was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendReport {
    /// Attachments sent.
    pub attachments: usize,
    /// Their total size in bytes.
    pub bytes: u64,
    /// Recipients.
    pub recipients: Vec<String>,
}

fn has_line_break(s: &str) -> bool {
    s.contains(['\r', '\n', '\0'])
}

/// Splits and validates a recipient list.
pub fn parse_recipients(to: &str) -> Result<Vec<Mailbox>, SendError> {
    if has_line_break(to) {
        return Err(SendError::Invalid("'to' must not contain line breaks.".into()));
    }
    let mut out = Vec::new();
    for part in to.split([',', ';']).map(str::trim).filter(|p| !p.is_empty()) {
        out.push(
            part.parse::<Mailbox>()
                .map_err(|e| SendError::Invalid(format!("'to' contains an invalid e-mail address '{part}': {e}.")))?,
        );
    }
    if out.is_empty() {
        return Err(SendError::Invalid("'to' must name at least one recipient.".into()));
    }
    Ok(out)
}

/// Validates the sender address.
pub fn parse_sender(from: &str) -> Result<Mailbox, SendError> {
    if has_line_break(from) {
        return Err(SendError::Invalid("'from' must not contain line breaks.".into()));
    }
    let from = from.trim();
    if from.is_empty() {
        return Err(SendError::Invalid(
            "'from' is required (or configure a default sender in the email settings).".into(),
        ));
    }
    from.parse::<Mailbox>()
        .map_err(|e| SendError::Invalid(format!("'from' is not a valid e-mail address '{from}': {e}.")))
}

/// Validates the header values of `msg` (no CR/LF injection, parseable addresses).
pub fn validate(msg: &OutgoingMessage) -> Result<(Mailbox, Vec<Mailbox>), SendError> {
    if has_line_break(&msg.subject) {
        return Err(SendError::Invalid("'subject' must not contain line breaks.".into()));
    }
    Ok((parse_sender(&msg.from)?, parse_recipients(&msg.to)?))
}

fn content_type_of(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "txt" => "text/plain",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _ => "application/octet-stream",
    }
}

/// A loaded attachment.
struct Loaded {
    name: String,
    data: Bytes,
}

async fn load(repo: &Repository, a: &AttachmentSource) -> Result<Loaded, SendError> {
    let Some(content_ref) = &a.content_ref else {
        if a.size == 0 {
            return Ok(Loaded { name: a.name.clone(), data: Bytes::new() });
        }
        return Err(SendError::Content(format!("No content was backed up for '{}'; nothing was sent.", a.name)));
    };
    let blob = BlobRef::from_compact(content_ref)
        .map_err(|e| SendError::Content(format!("The backed-up content of '{}' cannot be decoded: {e}", a.name)))?;
    let data = repo
        .read_blob(&blob.chunks)
        .await
        .map_err(|e| SendError::Content(format!("The backed-up content of '{}' cannot be read: {e}", a.name)))?;
    if data.len() as u64 != blob.size {
        return Err(SendError::Content(format!(
            "The backed-up content of '{}' is {} bytes, the repository recorded {}.",
            a.name,
            data.len(),
            blob.size
        )));
    }
    Ok(Loaded { name: a.name.clone(), data: Bytes::from(data) })
}

/// The mail attachments for `selection` as `view` shows it: single files, or every file below each tree. A file
/// without backed-up content fails the send, unless `skip_missing` leaves it out.
pub async fn attachments(
    view: &SessionView<'_>,
    selection: &Selection,
    skip_missing: bool,
) -> Result<Vec<AttachmentSource>, SelectError> {
    let files = match selection {
        Selection::Files(files) => files.clone(),
        Selection::Trees(trees) => {
            let mut files = Vec::new();
            for tree in trees {
                files.extend(view.walk(tree, ItemKind::File).await?.iter().map(FileRef::of));
            }
            files
        }
    };
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        if !f.has_content() && skip_missing {
            continue;
        }
        f.require_content()?;
        out.push(AttachmentSource { name: f.name, size: f.size.max(0) as u64, content_ref: f.content_ref });
    }
    Ok(out)
}

/// Sends `msg` with `attachments` through `transport`; fails before sending anything when the input is invalid,
/// the total exceeds `max_bytes`, or content cannot be read.
pub async fn send(
    repo: &Repository,
    transport: &Transport,
    msg: &OutgoingMessage,
    attachments: &[AttachmentSource],
    max_bytes: u64,
) -> Result<SendReport, SendError> {
    let (from, to) = validate(msg)?;
    let total: u64 = attachments.iter().map(|a| a.size).sum::<u64>() + msg.text.len() as u64;
    if total > max_bytes {
        return Err(SendError::TooLarge { total, limit: max_bytes });
    }
    let mut loaded = Vec::with_capacity(attachments.len());
    let mut bytes = 0u64;
    for a in attachments {
        let l = load(repo, a).await?;
        bytes += l.data.len() as u64;
        if bytes + msg.text.len() as u64 > max_bytes {
            return Err(SendError::TooLarge { total: bytes + msg.text.len() as u64, limit: max_bytes });
        }
        loaded.push(l);
    }
    match transport {
        Transport::Smtp(s) => send_smtp(s, msg, from, to.clone(), &loaded).await?,
        Transport::Graph { client, sender } => send_graph(client, sender, msg, &to, &loaded).await?,
    }
    Ok(SendReport { attachments: loaded.len(), bytes, recipients: to.iter().map(|m| m.email.to_string()).collect() })
}

/// Sends a test message without attachments.
pub async fn send_test(transport: &Transport, msg: &OutgoingMessage) -> Result<(), SendError> {
    let (from, to) = validate(msg)?;
    match transport {
        Transport::Smtp(s) => send_smtp(s, msg, from, to, &[]).await,
        Transport::Graph { client, sender } => send_graph(client, sender, msg, &to, &[]).await,
    }
}

fn build_message(
    msg: &OutgoingMessage,
    from: Mailbox,
    to: Vec<Mailbox>,
    atts: &[Loaded],
) -> Result<Message, SendError> {
    let mut b = Message::builder().from(from).subject(msg.subject.clone());
    for m in to {
        b = b.to(m);
    }
    let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(msg.text.clone()));
    for a in atts {
        let ct = ContentType::parse(content_type_of(&a.name)).unwrap_or(ContentType::TEXT_PLAIN);
        parts = parts.singlepart(MailAttachment::new(a.name.clone()).body(a.data.to_vec(), ct));
    }
    b.multipart(parts).map_err(|e| SendError::Invalid(format!("The message cannot be built: {e}")))
}

async fn send_smtp(
    s: &SmtpSettings,
    msg: &OutgoingMessage,
    from: Mailbox,
    to: Vec<Mailbox>,
    atts: &[Loaded],
) -> Result<(), SendError> {
    let message = build_message(msg, from, to, atts)?;
    let tls = || {
        TlsParameters::builder(s.server.clone())
            .dangerous_accept_invalid_certs(s.accept_invalid_certs)
            .build_rustls()
            .map_err(|e| SendError::Transport(format!("TLS settings for SMTP server {}: {e}", s.server)))
    };
    let tls = match s.security {
        SmtpSecurity::Plain => Tls::None,
        SmtpSecurity::StartTls => Tls::Required(tls()?),
        SmtpSecurity::Ssl => Tls::Wrapper(tls()?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.server.clone())
        .port(s.port)
        .tls(tls)
        .hello_name(ClientId::Domain("vault365.localdomain".into()))
        .timeout(Some(s.timeout));
    if let Some((u, p)) = &s.credentials {
        builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
    }
    let transport = builder.build();
    let raw = message.formatted();
    let deadline = smtp_deadline(s.timeout, raw.len() as u64);
    // On expiry the connection is dropped; unless the server had the whole DATA already, it commits nothing.
    match tokio::time::timeout(deadline, transport.send_raw(message.envelope(), &raw)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(SendError::Transport(format!(
            "The SMTP server {}:{} did not accept the message: {e}",
            s.server, s.port
        ))),
        Err(_) => Err(SendError::Transport(format!(
            "The SMTP server {}:{} did not complete the conversation within {deadline:?} (timeout {:?} per exchange).",
            s.server, s.port, s.timeout
        ))),
    }
}

fn graph_message(msg: &OutgoingMessage, to: &[Mailbox]) -> Value {
    json!({
        "subject": msg.subject,
        "body": {"contentType": "Text", "content": msg.text},
        "from": {"emailAddress": {"address": msg.from.trim()}},
        "toRecipients": to.iter().map(|m| json!({"emailAddress": {"address": m.email.to_string()}})).collect::<Vec<_>>(),
    })
}

fn inline_attachment(a: &Loaded) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.fileAttachment",
        "name": a.name,
        "contentType": content_type_of(&a.name),
        "contentBytes": base64::engine::general_purpose::STANDARD.encode(&a.data),
    })
}

fn graph_err(what: &str) -> impl FnOnce(m365::M365Error) -> SendError + '_ {
    move |e| SendError::Transport(format!("Microsoft 365 mail ({what}) failed: {e}"))
}

async fn send_graph(
    client: &GraphClient,
    sender: &str,
    msg: &OutgoingMessage,
    to: &[Mailbox],
    atts: &[Loaded],
) -> Result<(), SendError> {
    let user = m365::api::encode_segment(sender);
    let mut message = graph_message(msg, to);
    // Inline attachments may total less than 3 MB; the others go through upload sessions.
    let mut inline_total = 0u64;
    let (mut inline, mut large) = (Vec::new(), Vec::new());
    for a in atts {
        let n = a.data.len() as u64;
        if inline_total + n < GRAPH_INLINE_LIMIT {
            inline_total += n;
            inline.push(a);
        } else {
            large.push(a);
        }
    }
    message["attachments"] = Value::Array(inline.iter().map(|a| inline_attachment(a)).collect());
    if large.is_empty() {
        client
            .send_json(
                Method::POST,
                &format!("/users/{user}/sendMail"),
                &json!({"message": message, "saveToSentItems": false}),
            )
            .await
            .map_err(graph_err("sendMail"))?;
        return Ok(());
    }
    // Large path: a draft with the inline attachments, upload sessions for the others, then send.
    let draft = client
        .send_json(Method::POST, &format!("/users/{user}/messages"), &message)
        .await
        .map_err(graph_err("draft"))?;
    let Some(id) = draft.get("id").and_then(Value::as_str).map(str::to_string) else {
        return Err(SendError::Transport("Microsoft 365 mail: the draft has no id".into()));
    };
    let msg_path = format!("/users/{user}/messages/{}", m365::api::encode_segment(&id));
    let result = async {
        for a in &large {
            upload_attachment(client, &msg_path, a).await?;
        }
        let resp = client
            .send(client.graph_call(Method::POST, &format!("{msg_path}/send")))
            .await
            .map_err(graph_err("send"))?;
        if !resp.status().is_success() {
            return Err(graph_err("send")(m365::client::error_of(resp).await));
        }
        Ok(())
    }
    .await;
    if result.is_err() {
        // Nothing half-sent: the draft goes away (best effort).
        let _ = client.send(client.graph_call(Method::DELETE, &msg_path)).await;
    }
    result
}

async fn upload_attachment(client: &GraphClient, msg_path: &str, a: &Loaded) -> Result<(), SendError> {
    let session = client
        .send_json(
            Method::POST,
            &format!("{msg_path}/attachments/createUploadSession"),
            &json!({"AttachmentItem": {"attachmentType": "file", "name": a.name, "size": a.data.len()}}),
        )
        .await
        .map_err(graph_err("createUploadSession"))?;
    let url = session
        .get("uploadUrl")
        .and_then(Value::as_str)
        .ok_or_else(|| SendError::Transport("Microsoft 365 mail: the upload session has no uploadUrl".into()))?
        .to_string();
    let total = a.data.len();
    let mut start = 0usize;
    while start < total {
        let end = (start + GRAPH_CHUNK).min(total);
        let call = m365::client::Call {
            method: Method::PUT,
            url: url.clone(),
            resource: None,
            body: Some(a.data.slice(start..end)),
            headers: vec![
                ("content-type", "application/octet-stream".into()),
                ("content-range", format!("bytes {start}-{}/{total}", end - 1)),
            ],
        };
        let resp = client.send(call).await.map_err(graph_err("attachment upload"))?;
        if !resp.status().is_success() {
            return Err(graph_err("attachment upload")(m365::client::error_of(resp).await));
        }
        start = end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smtp_deadline_grows_with_the_message() {
        let t = Duration::from_secs(30);
        assert_eq!(smtp_deadline(t, 1000), Duration::from_secs(61));
        // A 35 MB message: the exchanges plus 35 MB at 64 KiB/s.
        assert_eq!(smtp_deadline(t, 35 * 1024 * 1024), Duration::from_secs(60 + 560));
    }

    #[test]
    fn header_injection_is_refused() {
        let ok = OutgoingMessage {
            from: "a@contoso.com".into(),
            to: "b@contoso.com; c@contoso.com".into(),
            subject: "s".into(),
            text: "t\r\nmulti-line body is fine".into(),
        };
        let (_, to) = validate(&ok).unwrap();
        assert_eq!(to.len(), 2);
        for bad in [
            OutgoingMessage { subject: "x\r\nBcc: evil@x.com".into(), ..ok.clone() },
            OutgoingMessage { to: "b@contoso.com\nBcc: evil@x.com".into(), ..ok.clone() },
            OutgoingMessage { from: "a@contoso.com\r\n".into(), ..ok.clone() },
            OutgoingMessage { to: "not an address".into(), ..ok.clone() },
            OutgoingMessage { to: " ; ".into(), ..ok.clone() },
        ] {
            let e = validate(&bad).unwrap_err();
            assert!(e.is_client_error(), "{e}");
        }
    }
}
