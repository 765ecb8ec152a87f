//! Client assertions for certificate credentials (graph-notes §1.2): a JWT signed with the app's
//! private key, naming the certificate by thumbprint (`x5t` = SHA-1 for RS256, `x5t#S256` for PS256).

use aws_lc_rs::{digest, rand::SystemRandom, signature};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;

use crate::error::{M365Error, Result};

fn b64(d: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(d)
}

/// Build a signed assertion for `client_id` addressed to `token_url`, valid for 10 minutes.
pub fn client_assertion(
    key_pkcs8_der: &[u8],
    cert_der: &[u8],
    client_id: &str,
    token_url: &str,
    pss: bool,
) -> Result<String> {
    let key = signature::RsaKeyPair::from_pkcs8(key_pkcs8_der)
        .map_err(|e| M365Error::Config(format!("certificate private key is not a PKCS#8 RSA key: {e}")))?;
    let now = chrono::Utc::now().timestamp();
    let header = if pss {
        json!({"alg": "PS256", "typ": "JWT", "x5t#S256": b64(digest::digest(&digest::SHA256, cert_der).as_ref())})
    } else {
        json!({"alg": "RS256", "typ": "JWT",
               "x5t": b64(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der).as_ref())})
    };
    let claims = json!({
        "aud": token_url, "iss": client_id, "sub": client_id,
        "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now, "iat": now, "exp": now + 600,
    });
    let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let mut sig = vec![0u8; key.public_modulus_len()];
    let alg: &dyn signature::RsaEncoding = if pss { &signature::RSA_PSS_SHA256 } else { &signature::RSA_PKCS1_SHA256 };
    key.sign(alg, &SystemRandom::new(), input.as_bytes(), &mut sig)
        .map_err(|_| M365Error::Config("signing the client assertion failed".into()))?;
    Ok(format!("{input}.{}", b64(&sig)))
}
