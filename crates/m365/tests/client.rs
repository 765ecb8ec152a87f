//! The m365 client against the tenant emulator (a real HTTP server on loopback): every credential
//! kind, token caching, paging, delta with resync, downloads verified by quickXorHash, and
//! throttling storms survived by honouring Retry-After.

use std::time::{Duration, Instant};

use emulator::{EmulatorConfig, RunningEmulator};
use m365::{Credential, Endpoints, GraphClient, M365Error, Resource, TenantConfig};
use serde_json::{json, Value};

struct Tenant {
    emu: RunningEmulator,
    _dir: tempfile::TempDir,
    tenant: String,
    client_id: String,
    secret: String,
}

async fn tenant(seed: &str) -> Tenant {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator::start(EmulatorConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        state_dir: dir.path().to_path_buf(),
        seed: Some(seed.into()),
        public_url: None,
    })
    .await
    .unwrap();
    let (tenant, app) = {
        let st = emu.emu.state();
        (st.tenant.id.clone(), emulator::seed::default_app(&st))
    };
    Tenant { emu, _dir: dir, tenant, client_id: app.client_id, secret: app.secret.unwrap() }
}

impl Tenant {
    fn client(&self, credential: Credential) -> GraphClient {
        let cfg = TenantConfig {
            endpoints: Endpoints::emulator(&self.emu.base_url()),
            tenant: self.tenant.clone(),
            client_id: self.client_id.clone(),
            credential,
        };
        let mut c = GraphClient::new(cfg, 4).unwrap();
        c.policy.base_delay = Duration::from_millis(20);
        c
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let resp = reqwest::Client::new()
            .request(method, format!("{}/_emulator{path}", self.emu.base_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "control {path}: {}", resp.status());
        resp.json().await.unwrap_or(Value::Null)
    }

    async fn token_requests(&self) -> u64 {
        let stats = self.control(reqwest::Method::GET, "/stats", json!(null)).await;
        let mut n = 0;
        if let Some(routes) = stats.get("routes").and_then(Value::as_object) {
            for (k, v) in routes {
                if k.contains("/oauth2/v2.0/token") {
                    n += v.get("total").and_then(Value::as_u64).unwrap_or(0);
                }
            }
        }
        n
    }
}

fn secret(t: &Tenant) -> Credential {
    Credential::Secret(t.secret.clone())
}

#[tokio::test]
async fn enumerates_and_downloads_with_verified_hashes() {
    let t = tenant("users=2,files=40,versions=2").await;
    let c = t.client(secret(&t));
    let users = c.users().await.unwrap();
    assert_eq!(users.len(), 2);
    let drive = c.user_drive(&users[0].user_principal_name).await.unwrap().expect("provisioned");
    let (items, delta_link) = c.delta_all(&c.drive_delta_start(&drive.id)).await.unwrap();
    assert!(delta_link.contains("token"), "deltaLink returned: {delta_link}");
    let files: Vec<_> = items.iter().filter(|i| i.get("file").is_some()).collect();
    assert!(!files.is_empty());
    for f in files.iter().take(5) {
        let item: m365::types::DriveItem = serde_json::from_value((*f).clone()).unwrap();
        let url = c.content_url(&drive.id, &item.id).await.unwrap();
        let mut buf = Vec::new();
        let n = c.download_to(&url, &mut buf).await.unwrap();
        assert_eq!(n, item.size.unwrap());
        assert_eq!(model::quickxor::quick_xor_base64(&buf), item.quick_xor().unwrap());
        let versions = c.versions(&drive.id, &item.id).await.unwrap();
        assert_eq!(versions.len(), 2, "seeded with two versions");
        let old = c.version_content_url(&drive.id, &item.id, &versions[1].id).await.unwrap();
        let mut old_bytes = Vec::new();
        c.download_to(&old, &mut old_bytes).await.unwrap();
        assert_eq!(old_bytes.len() as u64, versions[1].size.unwrap());
    }
    // Nothing changed: the deltaLink yields no items.
    let (again, _) = c.delta_all(&delta_link).await.unwrap();
    assert!(again.is_empty(), "no changes expected, got {}", again.len());
}

#[tokio::test]
async fn tokens_are_cached_and_renewed_after_revocation() {
    let t = tenant("users=3").await;
    let c = t.client(secret(&t));
    t.control(reqwest::Method::DELETE, "/stats", json!(null)).await;
    for _ in 0..5 {
        c.users().await.unwrap();
    }
    assert_eq!(t.token_requests().await, 1, "one token for five calls");
    // Revoke every issued token: the next call gets 401, fetches a new token and succeeds.
    t.control(reqwest::Method::POST, "/tokens/expire", json!({})).await;
    c.users().await.unwrap();
    assert_eq!(t.token_requests().await, 2);
}

#[tokio::test]
async fn certificate_credentials_rs256_and_ps256_reach_sharepoint() {
    let t = tenant("users=1,sites=1,items=3").await;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["vault365-test".into()]).unwrap().self_signed(&key).unwrap();
    t.control(
        reqwest::Method::POST,
        &format!("/apps/{}/certificates", t.client_id),
        json!({"certificate": cert.pem()}),
    )
    .await;
    for pss in [false, true] {
        let c = t.client(Credential::Certificate {
            key_pkcs8_der: key.serialize_der(),
            cert_der: cert.der().to_vec(),
            pss,
        });
        assert_eq!(c.users().await.unwrap().len(), 1);
        let sp = format!("{}.sharepoint.com", "contoso");
        c.tokens().token(&Resource::SharePoint(sp)).await.expect("certificate tokens are accepted for SharePoint");
    }
    // A secret-based app token for SharePoint is issued, but SharePoint REST refuses it.
    let c = t.client(secret(&t));
    let sites = c.sites().await.unwrap();
    let mut target = None;
    for site in &sites {
        if let Some(l) = c.lists(&site.id).await.unwrap().into_iter().find(|l| !l.is_document_library()) {
            target = Some((site.clone(), l));
        }
    }
    let (site, generic) = target.expect("a seeded team site with a generic list");
    let err = c.attachments(&site, &generic.id, "1").await.unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");

    // With the certificate, attachments are listed and their bytes match the tenant's.
    let c = t.client(Credential::Certificate {
        key_pkcs8_der: key.serialize_der(),
        cert_der: cert.der().to_vec(),
        pss: false,
    });
    let items = c.list_items(&site.id, &generic.id).await.unwrap();
    let with = items.iter().find(|i| i.has_attachments()).expect("a seeded item with attachments");
    let files = c.attachments(&site, &generic.id, &with.id).await.unwrap();
    assert!(!files.is_empty());
    let (url, resource) = c.attachment_value_url(&site, &generic.id, &with.id, &files[0].file_name).unwrap();
    let mut got = Vec::new();
    let mut stream = std::pin::pin!(c.download_stream(&url, Some(resource)));
    while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
        got.extend_from_slice(&chunk.unwrap());
    }
    let expected = {
        let st = t.emu.emu.state();
        let list = &st.lists[&generic.id];
        let item = &list.items[&with.id.parse::<u64>().unwrap()];
        let a = item.attachments.iter().find(|a| a.file_name == files[0].file_name).unwrap();
        t.emu.emu.blobs.read_all(&a.content).unwrap()
    };
    assert_eq!(got, expected);
}

#[tokio::test]
async fn password_credentials_and_bad_secret_errors() {
    let t = tenant("users=1").await;
    let (upn, password) = {
        let st = t.emu.emu.state();
        let u = st.users.values().next().unwrap().clone();
        (u.user_principal_name, u.password)
    };
    let c = t.client(Credential::Password { username: upn.clone(), password });
    let me: Value = c.get_json("/me").await.unwrap();
    assert_eq!(me["userPrincipalName"], upn.as_str());
    let bad = t.client(Credential::Secret("wrong".into()));
    match bad.users().await.unwrap_err() {
        M365Error::Token { status, error, .. } => {
            assert_eq!(status, 401);
            assert_eq!(error, "invalid_client");
        }
        other => panic!("expected a token error, got {other:?}"),
    }
}

#[tokio::test]
async fn throttling_storm_is_survived_and_retry_after_honoured() {
    let t = tenant("users=2,files=20").await;
    let c = t.client(secret(&t));
    c.users().await.unwrap(); // token first, so the storm hits Graph only
    t.control(
        reqwest::Method::POST,
        "/faults",
        json!({"path": "/v1.0/users", "status": 429, "retryAfter": 1, "count": 2}),
    )
    .await;
    let started = Instant::now();
    let users = c.users().await.unwrap();
    assert_eq!(users.len(), 2);
    assert!(started.elapsed() >= Duration::from_secs(2), "waited Retry-After twice: {:?}", started.elapsed());
    assert_eq!(c.stats.throttled.load(std::sync::atomic::Ordering::Relaxed), 2);
    // 503 without Retry-After falls back to exponential back-off.
    t.control(
        reqwest::Method::POST,
        "/faults",
        json!({"pathContains": "/delta", "status": 503, "noRetryAfter": true, "count": 3}),
    )
    .await;
    let drive = c.user_drive(&users[0].user_principal_name).await.unwrap().unwrap();
    let (items, _) = c.delta_all(&c.drive_delta_start(&drive.id)).await.unwrap();
    assert!(items.iter().any(|i| i.get("file").is_some()));
    // A storm longer than the retry budget surfaces as an error, not a hang.
    t.control(reqwest::Method::POST, "/faults", json!({"path": "/v1.0/users", "status": 503, "retryAfter": 0})).await;
    let mut quick = t.client(secret(&t));
    quick.policy.max_attempts = 3;
    let err = quick.users().await.unwrap_err();
    assert_eq!(err.status(), Some(503));
}

#[tokio::test]
async fn delta_resync_is_reported_with_a_fresh_location() {
    let t = tenant("users=1,files=10").await;
    let c = t.client(secret(&t));
    let u = &c.users().await.unwrap()[0];
    let drive = c.user_drive(&u.user_principal_name).await.unwrap().unwrap();
    let (_, link) = c.delta_all(&c.drive_delta_start(&drive.id)).await.unwrap();
    t.control(reqwest::Method::POST, "/delta/resync", json!({"driveId": drive.id})).await;
    match c.delta_all(&link).await.unwrap_err() {
        M365Error::ResyncRequired { location } => {
            let loc = location.expect("410 carries Location");
            let (items, _) = c.delta_all(&loc).await.unwrap();
            assert!(items.len() > 1, "fresh enumeration lists the drive");
        }
        other => panic!("expected resync, got {other:?}"),
    }
}

#[tokio::test]
async fn unprovisioned_onedrive_is_none() {
    let t = tenant("users=1").await;
    let c = t.client(secret(&t));
    {
        let mut st = t.emu.emu.state();
        let id = st.users.keys().next().unwrap().clone();
        st.users.get_mut(&id).unwrap().drive_id = None;
    }
    let u = &c.users().await.unwrap()[0];
    assert!(c.user_drive(&u.user_principal_name).await.unwrap().is_none());
}

#[tokio::test]
async fn broken_download_resumes_with_range() {
    let t = tenant("users=1,files=60,size=300000").await;
    let c = t.client(secret(&t));
    let u = &c.users().await.unwrap()[0];
    let drive = c.user_drive(&u.user_principal_name).await.unwrap().unwrap();
    let (items, _) = c.delta_all(&c.drive_delta_start(&drive.id)).await.unwrap();
    let big: m365::types::DriveItem = items
        .iter()
        .map(|i| serde_json::from_value::<m365::types::DriveItem>(i.clone()).unwrap())
        .filter(|i| i.file.is_some())
        .max_by_key(|i| i.size.unwrap_or(0))
        .unwrap();
    let size = big.size.unwrap();
    assert!(size > 1_000_000, "need a large file, largest is {size}");
    // The first two transfers break after 100 kB each; the client resumes from where it was.
    t.control(reqwest::Method::POST, "/faults", json!({"path": "/_dl", "truncateAfter": 100_000, "count": 2})).await;
    let url = c.content_url(&drive.id, &big.id).await.unwrap();
    let mut buf = Vec::new();
    let n = c.download_to(&url, &mut buf).await.unwrap();
    assert_eq!(n, size);
    assert_eq!(model::quickxor::quick_xor_base64(&buf), big.quick_xor().unwrap());
    assert!(c.stats.retries.load(std::sync::atomic::Ordering::Relaxed) >= 2);
}

#[tokio::test]
async fn device_code_sign_in_completes_after_approval() {
    let t = tenant("users=1").await;
    let cfg = TenantConfig {
        endpoints: Endpoints::emulator(&t.emu.base_url()),
        tenant: t.tenant.clone(),
        client_id: t.client_id.clone(),
        credential: Credential::DeviceCode,
    };
    let c = GraphClient::new(cfg, 2).unwrap();
    // Before sign-in there is no token to be had.
    assert!(c.users().await.is_err());
    let dc = c.tokens().start_device_code().await.unwrap();
    assert!(!dc.user_code.is_empty());
    let upn = t.emu.emu.state().users.values().next().unwrap().user_principal_name.clone();
    let approve =
        t.control(reqwest::Method::POST, "/devicecode/approve", json!({"user_code": dc.user_code, "user": upn}));
    let (done, _) = tokio::join!(c.tokens().complete_device_code(&dc), approve);
    done.unwrap();
    let me: Value = c.get_json("/me").await.unwrap();
    assert_eq!(me["userPrincipalName"], upn.as_str());
}

/// What the foreign origin saw: (method and path, Authorization header if any).
type Seen = std::sync::Arc<parking_lot::Mutex<Vec<(String, Option<String>)>>>;

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// Another origin on another port: records every request and answers like Graph, a download or an upload would.
async fn foreign_origin() -> (String, Seen) {
    use axum::http::{HeaderMap, Method, Uri};
    let seen: Seen = Default::default();
    let s = seen.clone();
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
        let s = s.clone();
        async move {
            let auth = headers.get("authorization").map(|v| v.to_str().unwrap_or("?").to_string());
            s.lock().push((format!("{method} {}", uri.path()), auth));
            match method {
                Method::PUT => (axum::http::StatusCode::CREATED, axum::Json(json!({"id": "uploaded"}))),
                _ if uri.path().starts_with("/_dl/") => (axum::http::StatusCode::OK, axum::Json(json!("bytes"))),
                _ => (axum::http::StatusCode::OK, axum::Json(json!({"value": [{"id": "stolen"}]}))),
            }
        }
    });
    (serve(app).await, seen)
}

/// A Graph (and token endpoint) whose pages link to `foreign`: a next page, a delta page and an upload session.
async fn graph_linking_to(foreign: &str) -> String {
    use axum::routing::{get, post};
    let f = foreign.to_string();
    let (f1, f2, f3) = (f.clone(), f.clone(), f.clone());
    let app = axum::Router::new()
        .route(
            "/{tenant}/oauth2/v2.0/token",
            post(|| async { axum::Json(json!({"access_token": "the-tenant-token", "expires_in": 3600})) }),
        )
        .route(
            "/v1.0/users",
            get(move || async move {
                axum::Json(json!({"value": [{"id": "1"}], "@odata.nextLink": format!("{f1}/v1.0/users?$skiptoken=2")}))
            }),
        )
        .route(
            "/v1.0/drives/d/root/delta",
            get(move || async move {
                axum::Json(json!({"value": [], "@odata.nextLink": format!("{f2}/v1.0/drives/d/root/delta?token=2")}))
            }),
        )
        .route(
            "/v1.0/drives/d/items/root:/big.bin:/createUploadSession",
            post(move || async move { axum::Json(json!({"uploadUrl": format!("{f3}/_up/session-1")})) }),
        );
    serve(app).await
}

/// A nextLink or deltaLink naming another origin is refused with a clear error and the tenant's token never reaches
/// that origin; pre-authenticated download and upload URLs elsewhere are used, without the token.
#[tokio::test]
async fn links_to_another_origin_never_get_the_token() {
    let (foreign, seen) = foreign_origin().await;
    let graph = graph_linking_to(&foreign).await;
    let cfg = TenantConfig {
        endpoints: Endpoints::emulator(&graph),
        tenant: "contoso".into(),
        client_id: "app".into(),
        credential: Credential::Secret("s".into()),
    };
    let c = GraphClient::new(cfg, 2).unwrap();

    let e = c.get_all("/users").await.unwrap_err();
    assert!(matches!(e, M365Error::UntrustedUrl { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains(&foreign) && msg.contains(&graph), "{msg}");
    let e = c.delta_all("/drives/d/root/delta").await.unwrap_err();
    assert!(matches!(e, M365Error::UntrustedUrl { .. }), "{e:?}");
    // Absolute links given directly are held to the same rule.
    let e = c.get_json::<Value>(&format!("{foreign}/v1.0/me")).await.unwrap_err();
    assert!(matches!(e, M365Error::UntrustedUrl { .. }), "{e:?}");
    assert!(seen.lock().is_empty(), "the foreign origin was asked: {:?}", seen.lock());

    // Pre-authenticated URLs may live elsewhere; they are fetched without any token.
    let mut out = Vec::new();
    c.download_to(&format!("{foreign}/_dl/grant"), &mut out).await.unwrap();
    assert_eq!(out, b"\"bytes\"");
    let body = json!({"item": {"@microsoft.graph.conflictBehavior": "replace"}});
    let done = m365::write::upload_via_session(
        &c,
        "/drives/d/items/root:/big.bin:/createUploadSession",
        &body,
        bytes::Bytes::from_static(b"data"),
    )
    .await
    .unwrap();
    assert_eq!(done["id"], "uploaded");
    let seen = seen.lock().clone();
    assert_eq!(
        seen.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(),
        ["GET /_dl/grant", "PUT /_up/session-1"],
        "{seen:?}"
    );
    assert!(seen.iter().all(|(_, auth)| auth.is_none()), "a token reached the foreign origin: {seen:?}");
}
