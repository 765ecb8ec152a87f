//! Compact JWS helpers. The emulator signs its own access tokens with HS256 under a per-tenant
//! key (it is both issuer and resource server; clients treat tokens as opaque).

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

pub fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

pub fn unb64(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

/// Sign `claims` with HS256.
pub fn sign_hs256(key: &[u8], header: &Value, claims: &Value) -> String {
    let signing_input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    let sig = hmac::sign(&k, signing_input.as_bytes());
    format!("{signing_input}.{}", b64(sig.as_ref()))
}

/// The three parts of a compact JWS, decoded; `None` if malformed.
pub struct Parsed {
    pub header: Value,
    pub claims: Value,
    pub signing_input: String,
    pub signature: Vec<u8>,
}

pub fn parse(token: &str) -> Option<Parsed> {
    let mut parts = token.split('.');
    let (h, c, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some(Parsed {
        header: serde_json::from_slice(&unb64(h)?).ok()?,
        claims: serde_json::from_slice(&unb64(c)?).ok()?,
        signing_input: format!("{h}.{c}"),
        signature: unb64(s)?,
    })
}

/// Verify an HS256 token and return its claims.
pub fn verify_hs256(key: &[u8], token: &str) -> Option<Value> {
    let p = parse(token)?;
    if p.header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return None;
    }
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::verify(&k, p.signing_input.as_bytes(), &p.signature).ok()?;
    Some(p.claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn roundtrip_and_tamper() {
        let t = sign_hs256(b"k", &json!({"alg":"HS256","typ":"JWT"}), &json!({"a":1}));
        assert_eq!(verify_hs256(b"k", &t).unwrap()["a"], 1);
        assert!(verify_hs256(b"other", &t).is_none());
        let mut bad = t.clone();
        bad.push('x');
        assert!(verify_hs256(b"k", &bad).is_none());
    }
}
