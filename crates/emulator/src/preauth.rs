//! Pre-authenticated URLs (downloads, upload sessions): an HMAC-signed, expiring token in the
//! path, so such URLs need no Authorization header, exactly like Microsoft's.

use aws_lc_rs::hmac;
use base64::Engine;
use serde::{de::DeserializeOwned, Serialize};

use crate::auth::jwt::{b64, unb64};
use crate::state::State;

/// The tenant's HMAC key, which signs both pre-authenticated URLs and the access tokens.
pub fn signing_key(st: &State) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(&st.signing_key).unwrap_or_default()
}

/// Sign `payload` into an opaque URL-safe token.
pub fn sign<T: Serialize>(key: &[u8], payload: &T) -> String {
    let body = b64(&serde_json::to_vec(payload).expect("payload serialises"));
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), body.as_bytes());
    format!("{body}.{}", b64(&tag.as_ref()[..16]))
}

/// Verify and decode a token made by [`sign`].
pub fn verify<T: DeserializeOwned>(key: &[u8], token: &str) -> Option<T> {
    let (body, tag) = token.split_once('.')?;
    let expect = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), body.as_bytes());
    let tag = unb64(tag)?;
    if tag.len() != 16 || !constant_time_eq(&tag, &expect.as_ref()[..16]) {
        return None;
    }
    serde_json::from_slice(&unb64(body)?).ok()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Payload of a download URL.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct DownloadGrant {
    /// Item id.
    pub i: String,
    /// Version label; `None` = current version.
    pub v: Option<String>,
    /// Expiry (unix seconds, emulator clock).
    pub e: i64,
}
