//! engine::send against a real SMTP server over TCP (aiosmtpd, started by `test_support::smtp`) and a real content repository:
//! delivery byte for byte, TLS/STARTTLS, AUTH, and every failure leaving nothing half-sent.

use std::time::Duration;

use engine::send::{
    send, send_test, AttachmentSource, OutgoingMessage, SendError, SmtpSecurity, SmtpSettings, Transport,
};
use mail_parser::{MessageParser, MimeHeaders};
use repo::store::{local_store, InitOptions, Repository};
use test_support::smtp::{Options, Security, SmtpServer};

fn settings(port: u16) -> SmtpSettings {
    SmtpSettings {
        server: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::Plain,
        credentials: None,
        accept_invalid_certs: false,
        timeout: Duration::from_secs(10),
    }
}

fn smtp(port: u16) -> Transport {
    Transport::Smtp(settings(port))
}

fn msg() -> OutgoingMessage {
    OutgoingMessage {
        from: "backup@contoso.com".into(),
        to: "r.clark@contoso.com".into(),
        subject: "Files".into(),
        text: "attached".into(),
    }
}

async fn repo_with(dir: &std::path::Path, blobs: &[&[u8]]) -> (Repository, Vec<Vec<u8>>) {
    let repo = Repository::init_with(local_store(dir).unwrap(), "pw", InitOptions::insecure_fast_kdf()).await.unwrap();
    let mut refs = Vec::new();
    for b in blobs {
        refs.push(repo.write_blob(b).await.unwrap().to_compact());
    }
    repo.flush().await.unwrap();
    (repo, refs)
}

/// (name, bytes) of every attachment of a MIME message.
fn attachments(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let m = MessageParser::default().parse(data).expect("a parseable message");
    m.attachments().map(|p| (p.attachment_name().unwrap_or_default().to_string(), p.contents().to_vec())).collect()
}

#[tokio::test]
async fn smtp_delivery_and_failures() {
    let dir = tempfile::tempdir().unwrap();
    let a: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let b = b"second file\r\n.\r\nwith a dot line".to_vec();
    let (repo, refs) = repo_with(dir.path(), &[&a, &b]).await;
    let atts = vec![
        AttachmentSource { name: "a.bin".into(), size: a.len() as u64, content_ref: Some(refs[0].clone()) },
        AttachmentSource { name: "b.txt".into(), size: b.len() as u64, content_ref: Some(refs[1].clone()) },
        AttachmentSource { name: "empty.txt".into(), size: 0, content_ref: None },
    ];
    let server = SmtpServer::start();
    let report = send(&repo, &smtp(server.port), &msg(), &atts, 10_000_000).await.unwrap();
    assert_eq!(report.attachments, 3);
    let got = server.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].mail_from, "backup@contoso.com");
    assert_eq!(got[0].rcpt, vec!["r.clark@contoso.com".to_string()]);
    let m = MessageParser::default().parse(&got[0].data).unwrap();
    assert_eq!(m.subject(), Some("Files"));
    let parts = attachments(&got[0].data);
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0], ("a.bin".to_string(), a.clone()));
    assert_eq!(parts[1], ("b.txt".to_string(), b.clone()));
    assert!(parts[2].1.is_empty());
    let connections = server.connections();
    assert_eq!(connections, 1);

    // Over the limit → TooLarge, and the (running) server saw no connection at all.
    match send(&repo, &smtp(server.port), &msg(), &atts, 1000).await {
        Err(SendError::TooLarge { limit: 1000, total }) => assert!(total > 300_000),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    // Header injection → Invalid; content missing for a non-empty file → Content: neither connects.
    let bad = OutgoingMessage { subject: "x\r\nBcc: evil@example.com".into(), ..msg() };
    assert!(matches!(send(&repo, &smtp(server.port), &bad, &atts, 10_000_000).await, Err(SendError::Invalid(_))));
    let missing = vec![AttachmentSource { name: "m".into(), size: 5, content_ref: None }];
    let r = send(&repo, &smtp(server.port), &msg(), &missing, 10_000_000).await;
    assert!(matches!(r, Err(SendError::Content(_))), "{r:?}");
    assert_eq!(server.connections(), connections);
    assert_eq!(server.count(), 1);
    server.assert_nothing_partial();

    // The server refuses the message at the end of DATA (554) → transport error with the reply, nothing stored.
    let rejecting = SmtpServer::start_with(Options { reject_data: true, ..Options::default() });
    let e = send(&repo, &smtp(rejecting.port), &msg(), &atts, 10_000_000).await.unwrap_err();
    assert!(matches!(e, SendError::Transport(_)) && e.to_string().contains("554"), "{e}");
    assert_eq!(rejecting.events().iter().filter(|e| e["event"] == "rejected").count(), 1);
    assert_eq!(rejecting.count(), 0);
    rejecting.assert_nothing_partial();

    // The server dies once it has the whole message, before answering → transport error naming it; nothing stored.
    let mut crashing = SmtpServer::start_with(Options { crash_in_data: true, ..Options::default() });
    let e = send(&repo, &smtp(crashing.port), &msg(), &atts, 10_000_000).await.unwrap_err();
    assert!(matches!(e, SendError::Transport(_)) && e.to_string().contains(&crashing.port.to_string()), "{e}");
    assert!(crashing.events().iter().any(|e| e["event"] == "crash"), "{:?}", crashing.events());
    assert!(crashing.exits(), "the crashing server is still running");
    assert_eq!(crashing.count(), 0);
    crashing.assert_nothing_partial();

    // Server down (stopped) → transport error naming it; what it had stored is unchanged.
    let mut server = server;
    server.stop();
    let e = send(&repo, &smtp(server.port), &msg(), &atts, 10_000_000).await.unwrap_err();
    assert!(matches!(e, SendError::Transport(_)) && e.to_string().contains(&server.port.to_string()), "{e}");
    assert_eq!(server.count(), 1);
    server.assert_nothing_partial();
}

#[tokio::test]
async fn smtp_over_tls_and_starttls_with_auth() {
    let dir = tempfile::tempdir().unwrap();
    let a = b"tls attachment".to_vec();
    let (repo, refs) = repo_with(dir.path(), &[&a]).await;
    let atts =
        vec![AttachmentSource { name: "a.txt".into(), size: a.len() as u64, content_ref: Some(refs[0].clone()) }];
    let auth = Some(("mailer".to_string(), "secret".to_string()));
    for (security, server_security) in
        [(SmtpSecurity::Ssl, Security::Ssl), (SmtpSecurity::StartTls, Security::StartTls)]
    {
        let server =
            SmtpServer::start_with(Options { security: server_security, auth: auth.clone(), ..Options::default() });
        let mut t =
            SmtpSettings { server: "localhost".into(), security, credentials: auth.clone(), ..settings(server.port) };
        // A self-signed certificate is refused unless explicitly accepted.
        let e = send(&repo, &Transport::Smtp(t.clone()), &msg(), &atts, 1_000_000).await.unwrap_err();
        assert!(matches!(e, SendError::Transport(_)), "{e}");
        assert_eq!(server.count(), 0);
        t.accept_invalid_certs = true;
        // A wrong password → refused by the server's AUTH, nothing stored.
        let wrong = SmtpSettings { credentials: Some(("mailer".into(), "wrong".into())), ..t.clone() };
        let e = send(&repo, &Transport::Smtp(wrong), &msg(), &atts, 1_000_000).await.unwrap_err();
        assert!(matches!(e, SendError::Transport(_)), "{security:?}: {e}");
        assert_eq!(server.auth_attempts(), vec![("mailer".to_string(), false)], "{security:?}");
        assert_eq!(server.count(), 0);
        // The right credentials over TLS → delivered, authenticated as `mailer`.
        send(&repo, &Transport::Smtp(t), &msg(), &atts, 1_000_000)
            .await
            .unwrap_or_else(|e| panic!("{security:?}: {e}\n{}", server.stderr()));
        let got = server.last();
        assert_eq!(got.user.as_deref(), Some("mailer"), "{security:?}");
        let m = MessageParser::default().parse(&got.data).unwrap();
        assert_eq!(m.attachments().next().unwrap().contents(), &a[..]);
        server.assert_nothing_partial();
    }

    // Plain with AUTH required: without credentials the server refuses MAIL (530); with them it delivers.
    let server = SmtpServer::start_with(Options { auth: auth.clone(), ..Options::default() });
    let e = send(&repo, &smtp(server.port), &msg(), &atts, 1_000_000).await.unwrap_err();
    assert!(matches!(e, SendError::Transport(_)) && e.to_string().contains("530"), "{e}");
    assert_eq!(server.count(), 0);
    let t = SmtpSettings { credentials: auth.clone(), ..settings(server.port) };
    send(&repo, &Transport::Smtp(t), &msg(), &atts, 1_000_000).await.unwrap();
    assert_eq!(server.last().user.as_deref(), Some("mailer"));
    server.assert_nothing_partial();
}

/// A peer that accepts the TCP connection and then never says a word (no greeting, no TLS handshake): the send fails
/// with an error naming the server once its deadline is over, instead of waiting for the kernel to give up on the
/// connection (lettre's own timeout covers only the TCP connect).
#[tokio::test]
async fn a_silent_smtp_peer_does_not_hold_the_send() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            held.push(conn);
        }
    });
    for security in [SmtpSecurity::Plain, SmtpSecurity::StartTls, SmtpSecurity::Ssl] {
        let transport = Transport::Smtp(SmtpSettings { security, timeout: Duration::from_secs(1), ..settings(port) });
        // A hang test, not a speed test: the bound is generous.
        let result = tokio::time::timeout(Duration::from_secs(20), send_test(&transport, &msg()))
            .await
            .unwrap_or_else(|_| panic!("{security:?}: the send still waits for the silent peer after 20 s"));
        let e = result.expect_err("nothing can be sent to a silent peer");
        assert!(matches!(e, SendError::Transport(_)), "{security:?}: {e}");
        assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{security:?}: {e}");
    }
    holder.abort();
}
