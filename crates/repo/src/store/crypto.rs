//! Key handling and authenticated encryption (AES-256-GCM from aws-lc-rs, Argon2id for the password).
//!
//! Every encrypted object has the frame `nonce (12) || ciphertext || tag (16)` with a random nonce.
//! Associated data binds each ciphertext to its role and name (chunk id, pack id, repository id),
//! so that objects cannot be swapped or renamed without detection.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use serde::{Deserialize, Serialize};

use super::error::{Result, StoreError};
use super::ids::ChunkId;

/// Bytes an encryption frame adds to its plaintext (nonce + tag).
pub(crate) const FRAME_OVERHEAD: usize = NONCE_LEN + TAG_LEN;
const TAG_LEN: usize = 16;

/// BLAKE3 `derive_key` contexts: globally unique, fixed forever (changing them breaks repositories).
const CTX_DATA_KEY: &str = "vault365 repository 2025-01 data encryption key";
const CTX_CHUNK_ID_KEY: &str = "vault365 repository 2025-01 chunk id key";
const CTX_SECRETS_KEY: &str = "vault365 repository 2026-11 settings secrets key";

/// Argon2id cost parameters for the password key derivation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory cost in KiB.
    pub memory_kib: u32,
    /// Number of passes.
    pub iterations: u32,
    /// Degree of parallelism (lanes).
    pub parallelism: u32,
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane: about a quarter of a second on a current core.
    fn default() -> Self {
        KdfParams { memory_kib: 64 * 1024, iterations: 3, parallelism: 1 }
    }
}

impl KdfParams {
    /// Bounds accepted from a stored config, so a tampered config cannot make `open` allocate
    /// unbounded memory or spin forever.
    pub(super) fn validate(&self) -> Result<()> {
        if self.parallelism == 0 || self.parallelism > 16 {
            return Err(StoreError::InvalidOptions(format!("argon2 parallelism {} not in 1..=16", self.parallelism)));
        }
        if self.memory_kib < 8 * self.parallelism || self.memory_kib > 4 * 1024 * 1024 {
            return Err(StoreError::InvalidOptions(format!(
                "argon2 memory {} KiB not in {}..=4194304",
                self.memory_kib,
                8 * self.parallelism
            )));
        }
        if self.iterations == 0 || self.iterations > 100 {
            return Err(StoreError::InvalidOptions(format!("argon2 iterations {} not in 1..=100", self.iterations)));
        }
        Ok(())
    }
}

/// Authentication failure of an encrypted frame (wrong key, tampering, truncation).
#[derive(Debug)]
pub(crate) struct AuthError;

/// Fills a fresh array from the system CSPRNG.
pub(crate) fn random<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    aws_lc_rs::rand::fill(&mut out).map_err(|_| StoreError::Internal("system random generator failed".into()))?;
    Ok(out)
}

/// An AES-256-GCM key.
pub(crate) struct AeadKey(LessSafeKey);

impl AeadKey {
    pub(crate) fn new(key: &[u8; 32]) -> Result<Self> {
        let unbound =
            UnboundKey::new(&AES_256_GCM, key).map_err(|_| StoreError::Internal("cannot create AEAD key".into()))?;
        Ok(AeadKey(LessSafeKey::new(unbound)))
    }

    /// Encrypts `plaintext` into a new frame.
    pub(crate) fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut buf = Vec::with_capacity(plaintext.len() + FRAME_OVERHEAD);
        buf.extend_from_slice(&[0u8; NONCE_LEN]);
        buf.extend_from_slice(plaintext);
        self.seal_framed(aad, buf)
    }

    /// Encrypts `buf[NONCE_LEN..]` in place; `buf[..NONCE_LEN]` is reserved for the nonce.
    ///
    /// Lets callers build the plaintext directly after the nonce slot, avoiding a copy of large chunks.
    pub(crate) fn seal_framed(&self, aad: &[u8], mut buf: Vec<u8>) -> Result<Vec<u8>> {
        debug_assert!(buf.len() >= NONCE_LEN);
        let nonce_bytes: [u8; NONCE_LEN] = random()?;
        buf[..NONCE_LEN].copy_from_slice(&nonce_bytes);
        let tag = self
            .0
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(aad),
                &mut buf[NONCE_LEN..],
            )
            .map_err(|_| StoreError::Internal("AEAD encryption failed".into()))?;
        buf.extend_from_slice(tag.as_ref());
        Ok(buf)
    }

    /// Decrypts and authenticates a frame.
    pub(crate) fn open(&self, aad: &[u8], frame: &[u8]) -> Result<Vec<u8>, AuthError> {
        if frame.len() < FRAME_OVERHEAD {
            return Err(AuthError);
        }
        let nonce = Nonce::try_assume_unique_for_key(&frame[..NONCE_LEN]).map_err(|_| AuthError)?;
        let mut buf = frame.to_vec();
        let len = self.0.open_within(nonce, Aad::from(aad), &mut buf, NONCE_LEN..).map_err(|_| AuthError)?.len();
        buf.truncate(len);
        Ok(buf)
    }
}

/// Keys derived from the repository master key.
pub(crate) struct Keys {
    /// Encrypts chunks, pack trailers and index objects.
    pub(crate) data: AeadKey,
    /// Key of the keyed BLAKE3 that names chunks.
    chunk_id: [u8; 32],
    /// Encrypts secrets the server keeps outside the repository (e.g. SMTP passwords in the catalog): every node
    /// that opens the repository can read them, a copy of the catalog alone cannot.
    pub(crate) secrets: AeadKey,
}

impl Keys {
    pub(crate) fn from_master(master: &[u8; 32]) -> Result<Self> {
        Ok(Keys {
            data: AeadKey::new(&blake3::derive_key(CTX_DATA_KEY, master))?,
            chunk_id: blake3::derive_key(CTX_CHUNK_ID_KEY, master),
            secrets: AeadKey::new(&blake3::derive_key(CTX_SECRETS_KEY, master))?,
        })
    }

    /// Identifier of a chunk with this plaintext.
    pub(crate) fn chunk_id(&self, plaintext: &[u8]) -> ChunkId {
        ChunkId(*blake3::keyed_hash(&self.chunk_id, plaintext).as_bytes())
    }
}

/// Derives the key-encryption key from the password with Argon2id.
///
/// CPU- and memory-heavy on purpose; call it from a blocking thread.
pub(crate) fn password_kek(password: &[u8], salt: &[u8], p: &KdfParams) -> Result<[u8; 32]> {
    let params = argon2::Params::new(p.memory_kib, p.iterations, p.parallelism, Some(32))
        .map_err(|e| StoreError::InvalidOptions(format!("argon2 parameters: {e}")))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = [0u8; 32];
    argon
        .hash_password_into(password, salt, &mut out)
        .map_err(|e| StoreError::InvalidOptions(format!("argon2 key derivation: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_roundtrip_and_aad_binding() {
        let key = AeadKey::new(&[9u8; 32]).unwrap();
        let frame = key.seal(b"aad-1", b"hello world").unwrap();
        assert_eq!(frame.len(), 11 + FRAME_OVERHEAD);
        assert_eq!(key.open(b"aad-1", &frame).unwrap(), b"hello world");
        assert!(key.open(b"aad-2", &frame).is_err(), "other associated data must fail");
        let mut tampered = frame.clone();
        tampered[15] ^= 1;
        assert!(key.open(b"aad-1", &tampered).is_err(), "flipped bit must fail");
        assert!(key.open(b"aad-1", &frame[..10]).is_err(), "truncated frame must fail");
        let other = AeadKey::new(&[8u8; 32]).unwrap();
        assert!(other.open(b"aad-1", &frame).is_err(), "other key must fail");
        // Random nonces: the same plaintext never encrypts to the same frame.
        assert_ne!(key.seal(b"aad-1", b"hello world").unwrap(), frame);
    }

    #[test]
    fn derived_keys_differ_and_chunk_ids_are_keyed() {
        let a = Keys::from_master(&[1u8; 32]).unwrap();
        let b = Keys::from_master(&[2u8; 32]).unwrap();
        assert_ne!(a.chunk_id(b"x"), b.chunk_id(b"x"));
        assert_eq!(a.chunk_id(b"x"), a.chunk_id(b"x"));
        assert_ne!(a.chunk_id(b"x").0, *blake3::hash(b"x").as_bytes());
    }

    #[test]
    fn argon2_rejects_bad_params() {
        let p = KdfParams { memory_kib: 1, iterations: 1, parallelism: 1 };
        assert!(matches!(password_kek(b"pw", b"saltsalt", &p), Err(StoreError::InvalidOptions(_))));
        let p = KdfParams { memory_kib: 64, iterations: 1, parallelism: 1 };
        let k1 = password_kek(b"pw", b"saltsalt", &p).unwrap();
        assert_eq!(k1, password_kek(b"pw", b"saltsalt", &p).unwrap());
        assert_ne!(k1, password_kek(b"pw2", b"saltsalt", &p).unwrap());
    }
}
