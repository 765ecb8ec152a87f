//! Building certificate client assertions (graph-notes §1.2) — the client side of what
//! `verify_client_assertion` checks. Public so tests and the real client share one implementation.

use aws_lc_rs::{digest, rand::SystemRandom, signature};
use serde_json::{json, Value};

use super::jwt::b64;

/// JWS algorithm of a client assertion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssertionAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256, certificate named by `x5t` (SHA-1 thumbprint).
    Rs256,
    /// RSASSA-PSS with SHA-256, certificate named by `x5t#S256` (SHA-256 thumbprint).
    Ps256,
}

impl AssertionAlg {
    pub fn name(self) -> &'static str {
        match self {
            AssertionAlg::Rs256 => "RS256",
            AssertionAlg::Ps256 => "PS256",
        }
    }
}

/// `x5t`: base64url of the certificate's SHA-1 thumbprint.
pub fn x5t(cert_der: &[u8]) -> String {
    b64(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der).as_ref())
}

/// `x5t#S256`: base64url of the certificate's SHA-256 thumbprint.
pub fn x5t_s256(cert_der: &[u8]) -> String {
    b64(digest::digest(&digest::SHA256, cert_der).as_ref())
}

/// Upper-case hex SHA-1 thumbprint, the form the Entra portal shows.
pub fn thumbprint_hex(cert_der: &[u8]) -> String {
    hex::encode_upper(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der).as_ref())
}

/// A fresh RSA-2048 key (PKCS#8 DER) and a self-signed certificate for it (DER).
pub fn generate_certificate(common_name: &str) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
    let cert = params.self_signed(&key)?;
    Ok((key.serialize_der(), cert.der().to_vec()))
}

/// Sign an arbitrary header and claim set with `alg` (the header's `alg` is set to match).
/// Lets tests craft assertions with wrong claims that still carry a valid signature.
pub fn sign_assertion(
    key_pkcs8_der: &[u8],
    alg: AssertionAlg,
    header: &Value,
    claims: &Value,
) -> anyhow::Result<String> {
    let key = signature::RsaKeyPair::from_pkcs8(key_pkcs8_der)
        .map_err(|e| anyhow::anyhow!("private key is not a PKCS#8 RSA key: {e}"))?;
    let mut header = header.clone();
    header["alg"] = json!(alg.name());
    let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let enc: &'static dyn signature::RsaEncoding = match alg {
        AssertionAlg::Rs256 => &signature::RSA_PKCS1_SHA256,
        AssertionAlg::Ps256 => &signature::RSA_PSS_SHA256,
    };
    let mut sig = vec![0u8; key.public_modulus_len()];
    key.sign(enc, &SystemRandom::new(), input.as_bytes(), &mut sig)
        .map_err(|_| anyhow::anyhow!("signing the client assertion failed"))?;
    Ok(format!("{input}.{}", b64(&sig)))
}

/// The standard claim set: `aud` = token URL, `iss` = `sub` = client id, fresh `jti`, valid for
/// 10 minutes from `now` (epoch seconds).
pub fn standard_claims(client_id: &str, token_url: &str, now: i64) -> Value {
    json!({
        "aud": token_url,
        "iss": client_id,
        "sub": client_id,
        "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now,
        "iat": now,
        "exp": now + 600,
    })
}

/// The header Microsoft documents for `alg`: RS256 with `x5t`, PS256 with `x5t#S256`.
pub fn standard_header(cert_der: &[u8], alg: AssertionAlg) -> Value {
    match alg {
        AssertionAlg::Rs256 => json!({"alg": "RS256", "typ": "JWT", "x5t": x5t(cert_der)}),
        AssertionAlg::Ps256 => json!({"alg": "PS256", "typ": "JWT", "x5t#S256": x5t_s256(cert_der)}),
    }
}

/// A ready-to-send assertion for `client_id` addressed to `token_url`, valid for 10 minutes of the
/// wall clock (tests that advance the emulator clock should use [`standard_claims`] with its time).
pub fn build_assertion(
    key_pkcs8_der: &[u8],
    cert_der: &[u8],
    client_id: &str,
    token_url: &str,
    alg: AssertionAlg,
) -> anyhow::Result<String> {
    let claims = standard_claims(client_id, token_url, chrono::Utc::now().timestamp());
    sign_assertion(key_pkcs8_der, alg, &standard_header(cert_der, alg), &claims)
}
