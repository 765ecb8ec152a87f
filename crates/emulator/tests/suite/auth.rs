//! Entra emulation (graph-notes §1, §12.A): certificate assertions, secrets, ROPC, device code,
//! refresh rotation, discovery, the control API, and bearer validation on Graph.

use crate::common;

use common::*;
use emulator::auth::assertion::{
    build_assertion, generate_certificate, sign_assertion, standard_claims, standard_header, x5t, x5t_s256,
    AssertionAlg,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

const GRAPH: &str = "https://graph.microsoft.com/.default";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn claims_of(token: &str) -> Value {
    emulator::auth::jwt::parse(token).expect("token is a JWS").claims
}

/// Assert an Entra error body with `error` and AADSTS `code`.
fn assert_oauth(v: &Value, error: &str, code: u64) {
    assert_eq!(v["error"], error, "unexpected body: {v}");
    assert_eq!(v["error_codes"][0], code, "unexpected body: {v}");
    let desc = v["error_description"].as_str().unwrap();
    assert!(desc.starts_with(&format!("AADSTS{code}: ")), "{desc}");
    assert!(desc.contains("Trace ID: ") && v["trace_id"].is_string() && v["correlation_id"].is_string());
}

async fn assertion_request(t: &TestTenant, assertion: &str, scope: &str) -> (StatusCode, Value) {
    t.token_request(&[
        ("grant_type", "client_credentials"),
        ("client_id", &t.client_id),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
        ("scope", scope),
    ])
    .await
}

fn signed(alg: AssertionAlg, header: Value, claims: Value) -> String {
    sign_assertion(&test_cert().0, alg, &header, &claims).unwrap()
}

#[tokio::test]
async fn certificate_assertions_rs256_and_ps256() {
    let t = TestTenant::start("users=1").await;
    let token = t.cert_token(GRAPH).await;
    let c = claims_of(&token);
    assert_eq!(c["appidacr"], "2");
    assert_eq!(c["aud"], "https://graph.microsoft.com");
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["tid"], t.tenant_id());
    assert!(c["roles"].as_array().unwrap().iter().any(|r| r == "Files.ReadWrite.All"));
    let (status, _) = t.get(&token, "/users").await;
    assert_eq!(status, 200);

    let (key, cert) = test_cert();
    let now = t.emu.emu.now().timestamp();
    // PS256 with x5t#S256 (current doc), via the public builder.
    let a = build_assertion(key, cert, &t.client_id, &t.token_url(), AssertionAlg::Ps256).unwrap();
    assert_eq!(emulator::auth::jwt::parse(&a).unwrap().header["x5t#S256"], x5t_s256(cert));
    let (status, v) = assertion_request(&t, &a, GRAPH).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3599);
    assert!(v.get("refresh_token").is_none());
    // PS256 naming the certificate by SHA-1 x5t only.
    let a = signed(
        AssertionAlg::Ps256,
        json!({"typ": "JWT", "x5t": x5t(cert)}),
        standard_claims(&t.client_id, &t.token_url(), now),
    );
    let (status, v) = assertion_request(&t, &a, GRAPH).await;
    assert_eq!(status, 200, "{v}");
    // aud in the domain form, and a SharePoint resource.
    let url = format!("{}/contoso.onmicrosoft.com/oauth2/v2.0/token", t.base);
    let a = signed(
        AssertionAlg::Rs256,
        standard_header(cert, AssertionAlg::Rs256),
        standard_claims(&t.client_id, &url, now),
    );
    let (status, v) = assertion_request(&t, &a, "https://contoso.sharepoint.com/.default").await;
    assert_eq!(status, 200, "{v}");
    let c = claims_of(v["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], "https://contoso.sharepoint.com");
    assert_eq!(c["appidacr"], "2");
}

#[tokio::test]
async fn certificate_assertion_failures() {
    let t = TestTenant::start("users=1").await;
    let (key, cert) = test_cert();
    t.register_cert(&t.client_id, cert).await;
    let now = t.emu.emu.now().timestamp();
    let url = t.token_url();
    let hdr = || standard_header(cert, AssertionAlg::Rs256);
    let std = || standard_claims(&t.client_id, &url, now);

    // Signature over different content.
    let good = signed(AssertionAlg::Rs256, hdr(), std());
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    parts[1] = emulator::auth::jwt::b64(
        json!({"iss": t.client_id, "sub": t.client_id, "aud": url, "exp": now + 60}).to_string().as_bytes(),
    );
    let (status, v) = assertion_request(&t, &parts.join("."), GRAPH).await;
    assert_eq!(status, 401);
    assert_oauth(&v, "invalid_client", 700027);

    // Header names the registered certificate, signed by another key.
    let (other_key, other_cert) = generate_certificate("intruder").unwrap();
    let forged = sign_assertion(&other_key, AssertionAlg::Rs256, &hdr(), &std()).unwrap();
    let (status, v) = assertion_request(&t, &forged, GRAPH).await;
    assert_eq!(status, 401);
    assert_oauth(&v, "invalid_client", 700027);

    // Certificate not registered on the app.
    let unknown = build_assertion(&other_key, &other_cert, &t.client_id, &url, AssertionAlg::Ps256).unwrap();
    let (status, v) = assertion_request(&t, &unknown, GRAPH).await;
    assert_eq!(status, 401);
    assert_oauth(&v, "invalid_client", 700027);

    // No thumbprint at all; unsupported algorithm.
    let a = signed(AssertionAlg::Rs256, json!({"typ": "JWT"}), std());
    assert_oauth(&assertion_request(&t, &a, GRAPH).await.1, "invalid_client", 700027);
    let hs = emulator::auth::jwt::sign_hs256(b"k", &json!({"alg": "HS256", "x5t": x5t(cert)}), &std());
    let (status, v) = assertion_request(&t, &hs, GRAPH).await;
    assert_eq!(status, 401);
    assert_oauth(&v, "invalid_client", 700027);

    // Wrong audience (the production authority is not this emulator), wrong issuer/subject.
    let mut c = std();
    c["aud"] = json!(format!("https://login.microsoftonline.com/{}/oauth2/v2.0/token", t.tenant_id()));
    let (status, v) = assertion_request(&t, &signed(AssertionAlg::Rs256, hdr(), c), GRAPH).await;
    assert_eq!(status, 401);
    assert_oauth(&v, "invalid_client", 700023);
    let mut c = std();
    c["sub"] = json!("00000000-0000-0000-0000-000000000001");
    let (status, v) = assertion_request(&t, &signed(AssertionAlg::Rs256, hdr(), c), GRAPH).await;
    assert_eq!(status, 401);
    assert_oauth(&v, "invalid_client", 700021);

    // Time window: expired beyond the 5-minute skew, not yet valid, no exp; inside the skew is fine.
    for (nbf, exp) in [(now - 1000, Some(now - 301)), (now + 330, Some(now + 900)), (now, None)] {
        let mut c = std();
        c["nbf"] = json!(nbf);
        match exp {
            Some(e) => c["exp"] = json!(e),
            None => {
                c.as_object_mut().unwrap().remove("exp");
            }
        }
        let (status, v) = assertion_request(&t, &signed(AssertionAlg::Rs256, hdr(), c), GRAPH).await;
        assert_eq!(status, 401, "nbf {nbf} exp {exp:?}");
        assert_oauth(&v, "invalid_client", 700024);
    }
    let mut c = std();
    c["exp"] = json!(now - 200);
    let (status, _) = assertion_request(&t, &signed(AssertionAlg::Rs256, hdr(), c), GRAPH).await;
    assert_eq!(status, 200);

    // Replay of the same jti.
    let once = signed(AssertionAlg::Rs256, hdr(), std());
    assert_eq!(assertion_request(&t, &once, GRAPH).await.0, 200);
    let (status, v) = assertion_request(&t, &once, GRAPH).await;
    assert_eq!(status, 401);
    assert_oauth(&v, "invalid_client", 700027);

    // Assertion type missing or wrong; malformed assertion.
    let (status, v) = t
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &t.client_id),
            ("client_assertion", &signed(AssertionAlg::Rs256, hdr(), std())),
            ("scope", GRAPH),
        ])
        .await;
    assert_eq!(status, 400);
    assert_oauth(&v, "invalid_request", 900144);
    let (status, v) = assertion_request(&t, "not.a.jwt", GRAPH).await;
    assert_eq!(status, 401);
    assert_eq!(v["error"], "invalid_client");

    // Removing the certificate makes its assertions fail.
    let resp = t
        .http
        .delete(format!("{}/_emulator/apps/{}/certificates/{}", t.base, t.client_id, x5t(cert)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert!(t.emu.emu.state().apps[&t.client_id].certificates.is_empty());
    let (status, v) = assertion_request(&t, &signed(AssertionAlg::Rs256, hdr(), std()), GRAPH).await;
    assert_eq!(status, 401);
    assert_oauth(&v, "invalid_client", 700027);
    let _ = key;
}

#[tokio::test]
async fn client_secret_and_scope_errors() {
    let t = TestTenant::start("users=1").await;
    let base = |secret: &'static str, scope: &'static str| {
        vec![("grant_type", "client_credentials"), ("client_secret", secret), ("scope", scope)]
    };
    let with_client = |mut f: Vec<(&'static str, &'static str)>, id: &str| {
        let id: &'static str = Box::leak(id.to_string().into_boxed_str());
        f.push(("client_id", id));
        f
    };
    let secret: &'static str = Box::leak(t.secret.clone().into_boxed_str());

    let token = t.graph_token().await;
    assert_eq!(claims_of(&token)["appidacr"], "1");

    let (status, v) = t.token_request(&with_client(base("wrong", GRAPH), &t.client_id)).await;
    assert_eq!(status, 401);
    assert_oauth(&v, "invalid_client", 7000215);

    let (status, v) =
        t.token_request(&[("grant_type", "client_credentials"), ("client_id", &t.client_id), ("scope", GRAPH)]).await;
    assert_eq!(status, 401);
    assert_oauth(&v, "invalid_client", 7000218);

    let (status, v) = t.token_request(&with_client(base(secret, GRAPH), "11111111-2222-3333-4444-555555555555")).await;
    assert_eq!(status, 400);
    assert_oauth(&v, "unauthorized_client", 700016);

    let (status, v) =
        t.token_request(&with_client(base(secret, "https://graph.microsoft.com/Files.Read.All"), &t.client_id)).await;
    assert_eq!(status, 400);
    assert_oauth(&v, "invalid_scope", 70011);

    let two = "https://graph.microsoft.com/.default https://contoso.sharepoint.com/.default";
    let (status, v) = t.token_request(&with_client(base(secret, two), &t.client_id)).await;
    assert_eq!(status, 400);
    assert_oauth(&v, "invalid_scope", 70011);

    let (status, v) =
        t.token_request(&with_client(base(secret, "https://fabrikam.sharepoint.com/.default"), &t.client_id)).await;
    assert_eq!(status, 400);
    assert_oauth(&v, "invalid_resource", 500011);

    let (status, v) = t.token_request(&[("client_id", t.client_id.as_str())]).await;
    assert_eq!(status, 400);
    assert_oauth(&v, "invalid_request", 900144);
    let (status, v) = t.token_request(&[("grant_type", "authorization_code"), ("client_id", &t.client_id)]).await;
    assert_eq!(status, 400);
    assert_oauth(&v, "unsupported_grant_type", 70003);

    // Unknown tenant.
    let resp = t
        .http
        .post(format!("{}/fabrikam.onmicrosoft.com/oauth2/v2.0/token", t.base))
        .form(&with_client(base(secret, GRAPH), &t.client_id))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_oauth(&resp.json().await.unwrap(), "invalid_request", 90002);
}

#[tokio::test]
async fn ropc_success_and_failures() {
    let t = TestTenant::start("users=2").await;
    let (uid, upn, _) = t.user(0);
    let pw = TestTenant::password_of(&upn);
    let scope = "https://graph.microsoft.com/Files.ReadWrite.All offline_access openid profile";
    let form = |user: &str, pass: &str, scope: &str| {
        vec![
            ("grant_type".to_string(), "password".to_string()),
            ("client_id".to_string(), t.client_id.clone()),
            ("username".to_string(), user.to_string()),
            ("password".to_string(), pass.to_string()),
            ("scope".to_string(), scope.to_string()),
        ]
    };
    let post = |tenant: String, f: Vec<(String, String)>| {
        let http = t.http.clone();
        let url = format!("{}/{tenant}/oauth2/v2.0/token", t.base);
        async move {
            let r = http.post(url).form(&f).send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };

    let (status, v) = post(t.tenant_id(), form(&upn, &pw, scope)).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3599);
    let granted = v["scope"].as_str().unwrap();
    assert!(granted.contains("Files.ReadWrite.All") && granted.contains("offline_access"), "{granted}");
    assert!(v["refresh_token"].is_string());
    let c = claims_of(v["access_token"].as_str().unwrap());
    assert_eq!(c["idtyp"], "user");
    assert_eq!(c["oid"], uid);
    assert_eq!(c["upn"], upn);
    assert_eq!(c["appidacr"], "0");
    assert!(c["scp"].as_str().unwrap().split(' ').any(|s| s == "Files.ReadWrite.All"));
    assert!(c.get("roles").is_none());
    let id = claims_of(v["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], t.client_id);
    assert_eq!(id["preferred_username"], upn);
    assert_eq!(id["oid"], uid);
    assert_eq!(t.emu.emu.state().refresh_tokens.len(), 1);

    // organizations works; no offline_access/openid → neither refresh nor id token.
    let (status, v) = post("organizations".into(), form(&upn.to_uppercase(), &pw, "User.Read")).await;
    assert_eq!(status, 200, "{v}");
    assert!(v.get("refresh_token").is_none() && v.get("id_token").is_none());
    assert_eq!(v["scope"], "User.Read");

    // .default → the app's consented permissions; SharePoint delegated scopes.
    let (status, v) = post(t.tenant_id(), form(&upn, &pw, "https://graph.microsoft.com/.default")).await;
    assert_eq!(status, 200, "{v}");
    assert!(claims_of(v["access_token"].as_str().unwrap())["scp"].as_str().unwrap().contains("Sites.FullControl.All"));
    let (status, v) = post(t.tenant_id(), form(&upn, &pw, "https://contoso.sharepoint.com/AllSites.FullControl")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["scope"], "https://contoso.sharepoint.com/AllSites.FullControl");
    assert_eq!(claims_of(v["access_token"].as_str().unwrap())["aud"], "https://contoso.sharepoint.com");

    for tenant in ["common", "consumers"] {
        let (status, v) = post(tenant.into(), form(&upn, &pw, scope)).await;
        assert_eq!(status, 400, "{tenant}");
        assert_eq!(v["error"], "invalid_request");
    }
    let (status, v) = post(t.tenant_id(), form(&upn, "wrong", scope)).await;
    assert_eq!(status, 400);
    assert_oauth(&v, "invalid_grant", 50126);
    let (status, v) = post(t.tenant_id(), form("nobody@contoso.onmicrosoft.com", &pw, scope)).await;
    assert_eq!(status, 400);
    assert_oauth(&v, "invalid_grant", 50034);
    let (status, v) = post(t.tenant_id(), form(&upn, &pw, "https://graph.microsoft.com/Calendars.Read")).await;
    assert_eq!(status, 400);
    assert_oauth(&v, "invalid_grant", 65001);
    assert_eq!(v["suberror"], "consent_required");
    let (status, v) = post(t.tenant_id(), form(&upn, &pw, "")).await;
    assert_eq!(status, 400);
    assert_oauth(&v, "invalid_request", 900144);
    let mut no_user = form(&upn, &pw, scope);
    no_user.retain(|(k, _)| k != "username");
    let (status, v) = post(t.tenant_id(), no_user).await;
    assert_eq!(status, 400);
    assert_oauth(&v, "invalid_request", 900144);

    t.emu.emu.state().users.get_mut(&uid).unwrap().mfa_required = true;
    let (status, v) = post(t.tenant_id(), form(&upn, &pw, scope)).await;
    assert_eq!(status, 400);
    assert_oauth(&v, "invalid_grant", 50076);
    {
        let mut st = t.emu.emu.state();
        let u = st.users.get_mut(&uid).unwrap();
        u.mfa_required = false;
        u.disabled = true;
    }
    let (status, v) = post(t.tenant_id(), form(&upn, &pw, scope)).await;
    assert_eq!(status, 400);
    assert_oauth(&v, "invalid_grant", 50057);
}

/// Register a confidential (non-public) app through the control API.
async fn confidential_app(t: &TestTenant, secret: &str) -> String {
    let resp = t
        .http
        .post(format!("{}/_emulator/apps", t.base))
        .json(&json!({"display_name": "confidential", "secret": secret, "roles": ["User.Read.All"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["public_client"], false);
    v["client_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn ropc_confidential_app_needs_credentials() {
    let t = TestTenant::start("users=1").await;
    let (_, upn, _) = t.user(0);
    let pw = TestTenant::password_of(&upn);
    let app = confidential_app(&t, "s3cret").await;
    let mut f = vec![
        ("grant_type", "password"),
        ("client_id", app.as_str()),
        ("username", upn.as_str()),
        ("password", pw.as_str()),
        ("scope", "User.Read"),
    ];
    let (status, v) = t.token_request(&f).await;
    assert_eq!(status, 401);
    assert_oauth(&v, "invalid_client", 7000218);
    f.push(("client_secret", "nope"));
    let (status, v) = t.token_request(&f).await;
    assert_eq!(status, 401);
    assert_oauth(&v, "invalid_client", 7000215);
    f.pop();
    f.push(("client_secret", "s3cret"));
    let (status, v) = t.token_request(&f).await;
    assert_eq!(status, 200, "{v}");
    let c = claims_of(v["access_token"].as_str().unwrap());
    assert_eq!(c["appidacr"], "1");
    assert_eq!(c["appid"], app);
    // The same app, app-only via a certificate registered through the control API (PEM body).
    let (_, cert) = test_cert();
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        base64_std(cert).as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join("\n")
    );
    let resp = t.http.post(format!("{}/_emulator/apps/{app}/certificates", t.base)).body(pem).send().await.unwrap();
    assert_eq!(resp.status(), 201);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["x5t"], x5t(cert));
    let a = build_assertion(&test_cert().0, cert, &app, &t.token_url(), AssertionAlg::Rs256).unwrap();
    let (status, v) = t
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &app),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &a),
            ("scope", GRAPH),
        ])
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(claims_of(v["access_token"].as_str().unwrap())["roles"], json!(["User.Read.All"]));
}

fn base64_std(d: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(d)
}

#[tokio::test]
async fn control_api_validation() {
    let t = TestTenant::start("users=1").await;
    let post = |path: &str, body: Value| {
        let r = t.http.post(format!("{}{path}", t.base)).json(&body).send();
        async move { r.await.unwrap().status() }
    };
    assert_eq!(post("/_emulator/apps", json!({"client_id": "not-a-guid"})).await, 400);
    assert_eq!(post("/_emulator/apps", json!({"roles": "Files.Read.All"})).await, 400);
    assert_eq!(post("/_emulator/apps", json!({"client_id": t.client_id})).await, 409);
    let id = "0a0b0c0d-0000-4000-8000-000000000001";
    assert_eq!(post("/_emulator/apps", json!({"client_id": id, "public_client": true})).await, 201);
    assert!(t.emu.emu.state().apps[id].public_client);
    let resp = t.http.get(format!("{}/_emulator/apps/{id}", t.base)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        t.http.get(format!("{}/_emulator/apps", t.base)).send().await.unwrap().json::<Value>().await.unwrap()["value"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let certs = format!("/_emulator/apps/{id}/certificates");
    assert_eq!(post(&certs, json!({"certificate": "bm90IGEgY2VydA=="})).await, 400);
    assert_eq!(post(&certs, json!({"nothing": 1})).await, 400);
    assert_eq!(
        post(
            "/_emulator/apps/11111111-1111-1111-1111-111111111111/certificates",
            json!({"certificate": base64_std(&test_cert().1)})
        )
        .await,
        404
    );
    assert_eq!(post(&certs, json!({"certificate": base64_std(&test_cert().1)})).await, 201);
    assert_eq!(post(&certs, json!({"certificate": base64_std(&test_cert().1)})).await, 201);
    assert_eq!(t.emu.emu.state().apps[id].certificates.len(), 1, "re-registering is idempotent");
    let resp = t.http.delete(format!("{}{certs}/ABCDEF", t.base)).send().await.unwrap();
    assert_eq!(resp.status(), 404);

    assert_eq!(post("/_emulator/devicecode/approve", json!({"user_code": "NOPE1234", "user": "x"})).await, 404);
    assert_eq!(post("/_emulator/devicecode/approve", json!({"user": "x"})).await, 400);
    assert_eq!(post("/_emulator/devicecode/decline", json!({"user_code": "NOPE1234"})).await, 404);
}

async fn start_device_code(t: &TestTenant, client_id: &str, scope: &str) -> Value {
    let resp = t
        .http
        .post(format!("{}/{}/oauth2/v2.0/devicecode", t.base, t.tenant_id()))
        .form(&[("client_id", client_id), ("scope", scope)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn poll(t: &TestTenant, client_id: &str, device_code: &str) -> (StatusCode, Value) {
    t.token_request(&[("grant_type", DEVICE_GRANT), ("client_id", client_id), ("device_code", device_code)]).await
}

fn advance_clock(t: &TestTenant, secs: i64) {
    t.emu.emu.state().settings.clock_offset_secs += secs;
}

#[tokio::test]
async fn device_code_flow() {
    let t = TestTenant::start("users=2").await;
    let (uid, upn, _) = t.user(1);
    let scope = "https://graph.microsoft.com/Files.ReadWrite.All offline_access";
    let dc = start_device_code(&t, &t.client_id, scope).await;
    assert_eq!(dc["expires_in"], 900);
    assert_eq!(dc["interval"], 5);
    let user_code = dc["user_code"].as_str().unwrap();
    let device_code = dc["device_code"].as_str().unwrap();
    let uri = dc["verification_uri"].as_str().unwrap();
    assert_eq!(uri, format!("{}/devicelogin", t.base));
    assert!(dc["message"].as_str().unwrap().contains(user_code) && dc["message"].as_str().unwrap().contains(uri));
    assert!(dc.get("verification_uri_complete").is_none());

    let (status, v) = poll(&t, &t.client_id, device_code).await;
    assert_eq!(status, 400);
    assert_oauth(&v, "authorization_pending", 70016);
    let (status, v) = poll(&t, &t.client_id, device_code).await;
    assert_eq!(status, 400);
    assert_eq!(v["error"], "slow_down");
    advance_clock(&t, 5);
    assert_eq!(poll(&t, &t.client_id, device_code).await.1["error"], "authorization_pending");

    // Another app cannot redeem it; unknown codes are bad_verification_code.
    let (status, v) = poll(&t, &t.client_id, "bogus").await;
    assert_eq!(status, 400);
    assert_eq!(v["error"], "bad_verification_code");

    let resp = t
        .http
        .post(format!("{}/_emulator/devicecode/approve", t.base))
        .json(&json!({"user_code": user_code.to_lowercase(), "user": upn}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(t.emu.emu.state().device_codes[device_code].approved_user.as_deref(), Some(uid.as_str()));
    let (status, v) = poll(&t, &t.client_id, device_code).await;
    assert_eq!(status, 200, "{v}");
    assert!(v["refresh_token"].is_string());
    let token = v["access_token"].as_str().unwrap();
    assert_eq!(claims_of(token)["oid"], uid);
    let (status, me) = t.get(token, "/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["userPrincipalName"], upn);
    // Single use.
    let (status, v) = poll(&t, &t.client_id, device_code).await;
    assert_eq!(status, 400);
    assert_eq!(v["error"], "invalid_grant");
}

#[tokio::test]
async fn device_code_declined_expired_and_errors() {
    let t = TestTenant::start("users=1").await;
    let (_, upn, _) = t.user(0);
    let scope = "User.Read offline_access";
    let dc = start_device_code(&t, &t.client_id, scope).await;
    let resp = t
        .http
        .post(format!("{}/_emulator/devicecode/decline", t.base))
        .json(&json!({"user_code": dc["user_code"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (status, v) = poll(&t, &t.client_id, dc["device_code"].as_str().unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(v["error"], "authorization_declined");

    let dc = start_device_code(&t, &t.client_id, scope).await;
    advance_clock(&t, 901);
    let (status, v) = poll(&t, &t.client_id, dc["device_code"].as_str().unwrap()).await;
    assert_eq!(status, 400);
    assert_oauth(&v, "expired_token", 70019);
    let resp = t
        .http
        .post(format!("{}/_emulator/devicecode/approve", t.base))
        .json(&json!({"user_code": dc["user_code"], "user": upn}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400, "expired codes cannot be approved");

    // A confidential app must authenticate when redeeming.
    let app = confidential_app(&t, "s3cret").await;
    let dc = start_device_code(&t, &app, scope).await;
    let resp = t
        .http
        .post(format!("{}/_emulator/devicecode/approve", t.base))
        .json(&json!({"user_code": dc["user_code"], "user": upn}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (status, v) = poll(&t, &app, dc["device_code"].as_str().unwrap()).await;
    assert_eq!(status, 401);
    assert_oauth(&v, "invalid_client", 7000218);
    // …and the code belongs to that app only.
    let (status, v) = poll(&t, &t.client_id, dc["device_code"].as_str().unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(v["error"], "invalid_grant");

    // Bad devicecode requests.
    let url = format!("{}/{}/oauth2/v2.0/devicecode", t.base, t.tenant_id());
    let r = t.http.post(&url).form(&[("scope", scope)]).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_oauth(&r.json().await.unwrap(), "invalid_request", 900144);
    let r = t
        .http
        .post(&url)
        .form(&[
            ("client_id", t.client_id.as_str()),
            ("scope", "https://graph.microsoft.com/User.Read https://contoso.sharepoint.com/AllSites.Read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_oauth(&r.json().await.unwrap(), "invalid_scope", 70011);
    let r = t
        .http
        .post(format!("{}/nowhere.example/oauth2/v2.0/devicecode", t.base))
        .form(&[("client_id", t.client_id.as_str()), ("scope", scope)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_oauth(&r.json().await.unwrap(), "invalid_request", 90002);
}

#[tokio::test]
async fn device_login_page_signs_in() {
    let t = TestTenant::start("users=1").await;
    let (_, upn, _) = t.user(0);
    let dc = start_device_code(&t, &t.client_id, "User.Read").await;
    let page = t.http.get(format!("{}/devicelogin", t.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<form"));
    let code = dc["user_code"].as_str().unwrap();
    let submit = |pw: String| {
        let r = t.http.post(format!("{}/devicelogin", t.base)).form(&[
            ("user_code", code.to_string()),
            ("username", upn.clone()),
            ("password", pw),
            ("action", "approve".to_string()),
        ]);
        async move { r.send().await.unwrap().status() }
    };
    assert_eq!(submit("wrong".into()).await, 401);
    assert_eq!(poll(&t, &t.client_id, dc["device_code"].as_str().unwrap()).await.1["error"], "authorization_pending");
    assert_eq!(submit(TestTenant::password_of(&upn)).await, 200);
    let (status, v) = poll(&t, &t.client_id, dc["device_code"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{v}");
}

#[tokio::test]
async fn refresh_token_rotation() {
    let t = TestTenant::start("users=1").await;
    let (uid, upn, _) = t.user(0);
    let pw = TestTenant::password_of(&upn);
    let (status, v) = t
        .token_request(&[
            ("grant_type", "password"),
            ("client_id", &t.client_id),
            ("username", &upn),
            ("password", &pw),
            ("scope", "https://graph.microsoft.com/Files.ReadWrite.All offline_access"),
        ])
        .await;
    assert_eq!(status, 200);
    let rt1 = v["refresh_token"].as_str().unwrap().to_string();
    let refresh = |rt: String, scope: Option<&'static str>| {
        let mut f = vec![
            ("grant_type", "refresh_token".to_string()),
            ("client_id", t.client_id.clone()),
            ("refresh_token", rt),
        ];
        if let Some(s) = scope {
            f.push(("scope", s.to_string()));
        }
        let r = t.http.post(t.token_url()).form(&f).send();
        async move {
            let r = r.await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, v) = refresh(rt1.clone(), None).await;
    assert_eq!(status, 200, "{v}");
    let rt2 = v["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt2);
    let c = claims_of(v["access_token"].as_str().unwrap());
    assert_eq!(c["oid"], uid);
    assert_eq!(c["scp"], "Files.ReadWrite.All");
    let (status, v) = refresh(rt1, None).await;
    assert_eq!(status, 400);
    assert_oauth(&v, "invalid_grant", 700082);

    // A refresh token also redeems for another resource.
    let (status, v) = refresh(rt2, Some("https://contoso.sharepoint.com/AllSites.Read")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(claims_of(v["access_token"].as_str().unwrap())["aud"], "https://contoso.sharepoint.com");
    let rt3 = v["refresh_token"].as_str().unwrap().to_string();

    // Another client cannot use it.
    let other = confidential_app(&t, "pw").await;
    let (status, v) = t
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("client_id", &other),
            ("client_secret", "pw"),
            ("refresh_token", &rt3),
        ])
        .await;
    assert_eq!(status, 400);
    assert_eq!(v["error"], "invalid_grant");

    // Expiry after 90 days on the emulator clock.
    advance_clock(&t, 91 * 24 * 3600);
    let (status, v) = refresh(rt3, None).await;
    assert_eq!(status, 400);
    assert_oauth(&v, "invalid_grant", 700082);
    let (status, v) = refresh("garbage".into(), None).await;
    assert_eq!(status, 400);
    assert_oauth(&v, "invalid_grant", 700082);
}

#[tokio::test]
async fn openid_configuration_and_keys() {
    let t = TestTenant::start("users=1").await;
    let tid = t.tenant_id();
    for tenant in [tid.as_str(), "contoso.onmicrosoft.com", "organizations"] {
        let resp =
            t.http.get(format!("{}/{tenant}/v2.0/.well-known/openid-configuration", t.base)).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["token_endpoint"], format!("{}/{tenant}/oauth2/v2.0/token", t.base));
        assert_eq!(v["device_authorization_endpoint"], format!("{}/{tenant}/oauth2/v2.0/devicecode", t.base));
        assert_eq!(v["authorization_endpoint"], format!("{}/{tenant}/oauth2/v2.0/authorize", t.base));
        let jwks = v["jwks_uri"].as_str().unwrap();
        assert!(jwks.starts_with(&t.base));
        let keys: Value = t.http.get(jwks).send().await.unwrap().json().await.unwrap();
        assert!(keys["keys"].is_array());
        let issuer = v["issuer"].as_str().unwrap();
        if tenant == "organizations" {
            assert_eq!(issuer, format!("{}/{{tenantid}}/v2.0", t.base));
        } else {
            assert_eq!(issuer, format!("{}/{tid}/v2.0", t.base));
        }
    }
    let resp =
        t.http.get(format!("{}/fabrikam.com/v2.0/.well-known/openid-configuration", t.base)).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_oauth(&resp.json().await.unwrap(), "invalid_tenant", 90002);
}

#[tokio::test]
async fn bearer_validation_on_graph() {
    let t = TestTenant::start("users=1").await;
    let token = t.graph_token().await;
    assert_eq!(t.get(&token, "/users").await.0, 200);

    // Tampered payload (same signature).
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let mut c = claims_of(&token);
    c["roles"] = json!(["Directory.ReadWrite.All"]);
    parts[1] = emulator::auth::jwt::b64(c.to_string().as_bytes());
    let (status, v) = t.get(&parts.join("."), "/users").await;
    assert_eq!(status, 401);
    assert_graph_error(&v, "InvalidAuthenticationToken");

    // Missing header / wrong scheme.
    let resp = t.http.get(t.graph("/users")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let resp = t.http.get(t.graph("/users")).header("authorization", format!("Basic {token}")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_graph_error(&resp.json().await.unwrap(), "InvalidAuthenticationToken");

    // SharePoint-audience token on Graph.
    let sp = t.cert_token("https://contoso.sharepoint.com/.default").await;
    let (status, v) = t.get(&sp, "/users").await;
    assert_eq!(status, 401);
    assert_graph_error(&v, "InvalidAuthenticationToken");

    // Token epoch bump (revokes everything issued before).
    t.emu.emu.state().settings.token_epoch += 1;
    let (status, v) = t.get(&token, "/users").await;
    assert_eq!(status, 401);
    assert_graph_error(&v, "InvalidAuthenticationToken");
    let fresh = t.graph_token().await;
    assert_eq!(t.get(&fresh, "/users").await.0, 200);

    // Expiry on the emulator clock.
    advance_clock(&t, 3600);
    let (status, v) = t.get(&fresh, "/users").await;
    assert_eq!(status, 401);
    assert_graph_error(&v, "InvalidAuthenticationToken");
    assert_eq!(v["error"]["innerError"]["code"], "expiredToken");

    // A token for an app with no permissions carries neither roles nor scp.
    let resp = t
        .http
        .post(format!("{}/_emulator/apps", t.base))
        .json(&json!({"secret": "x", "roles": []}))
        .send()
        .await
        .unwrap();
    let app: Value = resp.json().await.unwrap();
    let (status, v) = t
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", app["client_id"].as_str().unwrap()),
            ("client_secret", "x"),
            ("scope", GRAPH),
        ])
        .await;
    assert_eq!(status, 200);
    let bare = v["access_token"].as_str().unwrap();
    assert_eq!(claims_of(bare)["roles"], json!([]));
    let (status, v) = t.get(bare, "/users").await;
    assert_eq!(status, 403);
    assert_graph_error(&v, "accessDenied");

    // A delegated token dies with its user.
    let (uid, upn, _) = t.user(0);
    let ut = t.user_token(&upn, &TestTenant::password_of(&upn), "User.Read").await;
    assert_eq!(t.get(&ut, "/me").await.0, 200);
    t.emu.emu.state().users.get_mut(&uid).unwrap().disabled = true;
    let (status, v) = t.get(&ut, "/me").await;
    assert_eq!(status, 401);
    assert_graph_error(&v, "InvalidAuthenticationToken");
}
