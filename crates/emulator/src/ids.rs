//! Identifier formats imitating Microsoft's (graph-notes §0), generated deterministically from a
//! tenant seed and a counter so that a seeded tenant looks the same on every run. Clients must
//! treat all of them as opaque; the emulator imitates the shapes so parsing bugs surface.

use base64::Engine;

fn bytes(seed: &str, kind: &str, n: u64) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(seed.as_bytes());
    h.update(b"\0");
    h.update(kind.as_bytes());
    h.update(&n.to_le_bytes());
    *h.finalize().as_bytes()
}

/// A GUID in canonical lower-case form.
pub fn guid(seed: &str, kind: &str, n: u64) -> String {
    let b = bytes(seed, kind, n);
    let mut g = [0u8; 16];
    g.copy_from_slice(&b[..16]);
    g[6] = (g[6] & 0x0f) | 0x40; // version 4 shape
    g[8] = (g[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(g).to_string()
}

/// OneDrive/SharePoint driveItem id: 34 upper-case base32-looking characters starting `01`.
pub fn item_id(seed: &str, n: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let b = bytes(seed, "item", n);
    let mut s = String::from("01");
    for i in 0..32 {
        s.push(ALPHABET[(b[i] & 31) as usize] as char);
    }
    s
}

/// Business drive id: `b!` + base64url of three GUIDs (site collection, web, list).
pub fn drive_id(collection: &str, web: &str, list: &str) -> String {
    let mut raw = Vec::with_capacity(48);
    for g in [collection, web, list] {
        let u = uuid::Uuid::parse_str(g).expect("generated guid");
        raw.extend_from_slice(&u.to_bytes_le());
    }
    format!("b!{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

/// Random (non-deterministic) opaque token for request ids, device codes and the like.
pub fn random_token(len_bytes: usize) -> String {
    let mut buf = vec![0u8; len_bytes];
    aws_lc_rs::rand::fill(&mut buf).expect("system randomness");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

pub fn random_guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_match_microsoft() {
        let id = item_id("t", 1);
        assert_eq!(id.len(), 34);
        assert!(id.starts_with("01"));
        let d = drive_id(&guid("t", "a", 1), &guid("t", "b", 1), &guid("t", "c", 1));
        assert!(d.starts_with("b!"));
        assert_eq!(d.len(), 66);
        assert_eq!(guid("t", "a", 1), guid("t", "a", 1));
        assert_ne!(guid("t", "a", 1), guid("t", "a", 2));
    }
}
