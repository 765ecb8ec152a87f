//! engine::send against a real SMTP peer over TCP (a minimal receiver below) and a real content repository.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use engine::send::{send, AttachmentSource, OutgoingMessage, SendError, SmtpSecurity, SmtpSettings, Transport};
use mail_parser::{MessageParser, MimeHeaders};
use repo::store::{local_store, InitOptions, Repository};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Starts a receiver; returns its port and the DATA of each accepted message. With `fail_data`, it answers the end
/// of DATA with 554 (the transaction is refused: nothing delivered).
async fn smtp_receiver(fail_data: bool) -> (u16, Arc<Mutex<Vec<Vec<u8>>>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let got: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let g = got.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = l.accept().await {
            let g = g.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut r = BufReader::new(r);
                w.write_all(b"220 ready\r\n").await.ok()?;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).await.ok()? == 0 {
                        return Some(());
                    }
                    let up = line.to_ascii_uppercase();
                    if up.starts_with("EHLO") {
                        w.write_all(b"250-test\r\n250 8BITMIME\r\n").await.ok()?;
                    } else if up.starts_with("DATA") {
                        w.write_all(b"354 go\r\n").await.ok()?;
                        let mut data = Vec::new();
                        loop {
                            let mut l = Vec::new();
                            if r.read_until(b'\n', &mut l).await.ok()? == 0 {
                                return Some(());
                            }
                            if l == b".\r\n" {
                                break;
                            }
                            data.extend_from_slice(if l.starts_with(b"..") { &l[1..] } else { &l[..] });
                        }
                        if fail_data {
                            w.write_all(b"554 rejected\r\n").await.ok()?;
                        } else {
                            g.lock().unwrap().push(data);
                            w.write_all(b"250 queued\r\n").await.ok()?;
                        }
                    } else if up.starts_with("QUIT") {
                        w.write_all(b"221 bye\r\n").await.ok()?;
                        return Some(());
                    } else {
                        w.write_all(b"250 OK\r\n").await.ok()?;
                    }
                }
            });
        }
    });
    (port, got)
}

fn smtp(port: u16) -> Transport {
    Transport::Smtp(SmtpSettings {
        server: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::Plain,
        credentials: None,
        accept_invalid_certs: false,
        timeout: Duration::from_secs(10),
    })
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
    let (port, got) = smtp_receiver(false).await;
    let report = send(&repo, &smtp(port), &msg(), &atts, 10_000_000).await.unwrap();
    assert_eq!(report.attachments, 3);
    let data = got.lock().unwrap()[0].clone();
    let m = MessageParser::default().parse(&data).unwrap();
    assert_eq!(m.subject(), Some("Files"));
    let parts: Vec<(String, Vec<u8>)> =
        m.attachments().map(|p| (p.attachment_name().unwrap_or_default().to_string(), p.contents().to_vec())).collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0], ("a.bin".to_string(), a.clone()));
    assert_eq!(parts[1], ("b.txt".to_string(), b.clone()));
    assert!(parts[2].1.is_empty());

    // Over the limit → TooLarge before connecting (the server is down, so any connection attempt would fail).
    let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    match send(&repo, &smtp(dead_port), &msg(), &atts, 1000).await {
        Err(SendError::TooLarge { limit: 1000, total }) => assert!(total > 300_000),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    // Server down → transport error naming it.
    let e = send(&repo, &smtp(dead_port), &msg(), &atts, 10_000_000).await.unwrap_err();
    assert!(matches!(e, SendError::Transport(_)) && e.to_string().contains(&dead_port.to_string()), "{e}");
    // The server refuses the message at the end of DATA → error, nothing delivered.
    let (port2, got2) = smtp_receiver(true).await;
    let e = send(&repo, &smtp(port2), &msg(), &atts, 10_000_000).await.unwrap_err();
    assert!(matches!(e, SendError::Transport(_)), "{e}");
    assert!(got2.lock().unwrap().is_empty());
    // Header injection → Invalid, nothing sent.
    let bad = OutgoingMessage { subject: "x\r\nBcc: evil@example.com".into(), ..msg() };
    assert!(matches!(send(&repo, &smtp(port), &bad, &atts, 10_000_000).await, Err(SendError::Invalid(_))));
    // Content missing for a non-empty file → Content error, nothing sent.
    let missing = vec![AttachmentSource { name: "m".into(), size: 5, content_ref: None }];
    assert!(matches!(send(&repo, &smtp(port), &msg(), &missing, 10_000_000).await, Err(SendError::Content(_))));
    assert_eq!(got.lock().unwrap().len(), 1);
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// Serves one SMTP session on `s`; `starttls` advertises STARTTLS and upgrades with it. Accepted DATA goes to `got`.
fn serve(
    s: Box<dyn Io>,
    starttls: Option<tokio_rustls::TlsAcceptor>,
    got: Arc<Mutex<Vec<Vec<u8>>>>,
    greet: bool,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<()>> + Send>> {
    Box::pin(async move {
        let mut r = BufReader::new(s);
        if greet {
            r.get_mut().write_all(b"220 ready\r\n").await.ok()?;
        }
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).await.ok()? == 0 {
                return Some(());
            }
            let up = line.to_ascii_uppercase();
            if up.starts_with("EHLO") {
                let ext: &[u8] = if starttls.is_some() { b"250-test\r\n250 STARTTLS\r\n" } else { b"250 test\r\n" };
                r.get_mut().write_all(ext).await.ok()?;
            } else if up.starts_with("STARTTLS") {
                r.get_mut().write_all(b"220 go ahead\r\n").await.ok()?;
                let acceptor = starttls.clone()?;
                let tls = acceptor.accept(r.into_inner()).await.ok()?;
                return serve(Box::new(tls), None, got, false).await;
            } else if up.starts_with("DATA") {
                r.get_mut().write_all(b"354 go\r\n").await.ok()?;
                let mut data = Vec::new();
                loop {
                    let mut l = Vec::new();
                    if r.read_until(b'\n', &mut l).await.ok()? == 0 {
                        return Some(());
                    }
                    if l == b".\r\n" {
                        break;
                    }
                    data.extend_from_slice(if l.starts_with(b"..") { &l[1..] } else { &l[..] });
                }
                got.lock().unwrap().push(data);
                r.get_mut().write_all(b"250 queued\r\n").await.ok()?;
            } else if up.starts_with("QUIT") {
                r.get_mut().write_all(b"221 bye\r\n").await.ok()?;
                return Some(());
            } else {
                r.get_mut().write_all(b"250 OK\r\n").await.ok()?;
            }
        }
    })
}

fn acceptor() -> tokio_rustls::TlsAcceptor {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap().self_signed(&key).unwrap();
    let cfg = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        tokio_rustls::rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
    .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(cfg))
}

#[tokio::test]
async fn smtp_over_tls_and_starttls() {
    let dir = tempfile::tempdir().unwrap();
    let a = b"tls attachment".to_vec();
    let (repo, refs) = repo_with(dir.path(), &[&a]).await;
    let atts =
        vec![AttachmentSource { name: "a.txt".into(), size: a.len() as u64, content_ref: Some(refs[0].clone()) }];
    for security in [SmtpSecurity::Ssl, SmtpSecurity::StartTls] {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let got: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let g = got.clone();
        let acc = acceptor();
        tokio::spawn(async move {
            while let Ok((sock, _)) = l.accept().await {
                let (g, acc) = (g.clone(), acc.clone());
                tokio::spawn(async move {
                    if security == SmtpSecurity::Ssl {
                        let tls = acc.accept(sock).await.ok()?;
                        serve(Box::new(tls), None, g, true).await
                    } else {
                        serve(Box::new(sock), Some(acc), g, true).await
                    }
                });
            }
        });
        let mut t = SmtpSettings {
            server: "localhost".into(),
            port,
            security,
            credentials: Some(("mailer".into(), "secret".into())),
            accept_invalid_certs: false,
            timeout: Duration::from_secs(10),
        };
        // A self-signed certificate is refused unless explicitly accepted.
        let e = send(&repo, &Transport::Smtp(t.clone()), &msg(), &atts, 1_000_000).await.unwrap_err();
        assert!(matches!(e, SendError::Transport(_)), "{e}");
        assert!(got.lock().unwrap().is_empty());
        t.accept_invalid_certs = true;
        // The receiver advertises no AUTH, so this send goes without credentials.
        t.credentials = None;
        send(&repo, &Transport::Smtp(t), &msg(), &atts, 1_000_000)
            .await
            .unwrap_or_else(|e| panic!("{security:?}: {e}"));
        let data = got.lock().unwrap()[0].clone();
        let m = MessageParser::default().parse(&data).unwrap();
        assert_eq!(m.attachments().next().unwrap().contents(), &a[..]);
    }
}
