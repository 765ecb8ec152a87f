//! Identifiers ([`ChunkId`], [`PackId`]) and the blob reference ([`BlobRef`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::{Result, StoreError};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// Length of the identifier in bytes.
            pub const LEN: usize = 32;

            /// The raw 32 bytes.
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// Lower-case hex form (64 characters).
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }

            /// Parses the 64-character hex form.
            pub fn from_hex(s: &str) -> Result<Self> {
                let mut out = [0u8; 32];
                hex::decode_to_slice(s, &mut out).map_err(|e| {
                    StoreError::corrupt(stringify!($name), format!("invalid hex identifier {s:?}: {e}"))
                })?;
                Ok(Self(out))
            }

            /// Reads an identifier from exactly 32 bytes.
            pub fn from_slice(b: &[u8]) -> Result<Self> {
                let arr: [u8; 32] = b.try_into().map_err(|_| {
                    StoreError::corrupt(stringify!($name), format!("identifier must be 32 bytes, got {}", b.len()))
                })?;
                Ok(Self(arr))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // A short prefix keeps debug output of long chunk lists readable.
                write!(f, "{}({})", stringify!($name), &self.to_hex()[..12])
            }
        }

        impl FromStr for $name {
            type Err = StoreError;
            fn from_str(s: &str) -> Result<Self> {
                Self::from_hex(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_hex())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::from_hex(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// Identifier of a chunk: keyed BLAKE3 (the repository's chunk-id key) of the chunk's plaintext.
    ///
    /// Keyed so that identifiers stored in the catalog reveal nothing about content to someone
    /// without the repository password. Text form: 64 lower-case hex characters.
    ChunkId
);

id_type!(
    /// Identifier of a pack file: plain BLAKE3 of the pack's bytes, so a pack's integrity can be
    /// verified without the key. Text form: 64 lower-case hex characters.
    PackId
);

/// Reference to a stored blob (a file's content): the ordered list of its chunks and its size.
///
/// `new_chunks` / `new_stored_bytes` are statistics of the write that produced this reference
/// (what deduplication could not avoid); they are not part of the blob's identity and are not
/// kept by the compact form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BlobRef {
    /// Chunks in content order.
    pub chunks: Vec<ChunkId>,
    /// Total plaintext size in bytes.
    pub size: u64,
    /// Chunks this write actually stored (not deduplicated).
    #[serde(default)]
    pub new_chunks: u64,
    /// Encrypted bytes this write added to packs.
    #[serde(default)]
    pub new_stored_bytes: u64,
}

/// Version byte of [`BlobRef::to_compact`].
const COMPACT_VERSION: u8 = 1;

impl BlobRef {
    /// Compact binary form for the catalog: `[version=1][size: u64 LE][chunk ids, 32 bytes each]`.
    pub fn to_compact(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(9 + self.chunks.len() * ChunkId::LEN);
        out.push(COMPACT_VERSION);
        out.extend_from_slice(&self.size.to_le_bytes());
        for c in &self.chunks {
            out.extend_from_slice(&c.0);
        }
        out
    }

    /// Parses [`BlobRef::to_compact`]; the statistics fields come back as zero.
    pub fn from_compact(b: &[u8]) -> Result<Self> {
        let bad = |d: &str| StoreError::corrupt("blob reference", d.to_string());
        let (&version, rest) = b.split_first().ok_or_else(|| bad("empty"))?;
        if version != COMPACT_VERSION {
            return Err(bad(&format!("unknown version {version}")));
        }
        if rest.len() < 8 || (rest.len() - 8) % ChunkId::LEN != 0 {
            return Err(bad(&format!("bad length {}", b.len())));
        }
        let size = u64::from_le_bytes(rest[..8].try_into().map_err(|_| bad("size"))?);
        let chunks = rest[8..].chunks_exact(ChunkId::LEN).map(ChunkId::from_slice).collect::<Result<Vec<_>>>()?;
        Ok(BlobRef { chunks, size, new_chunks: 0, new_stored_bytes: 0 })
    }

    /// Hex text of [`BlobRef::to_compact`].
    pub fn to_hex(&self) -> String {
        hex::encode(self.to_compact())
    }

    /// Parses [`BlobRef::to_hex`].
    pub fn from_hex(s: &str) -> Result<Self> {
        let b = hex::decode(s).map_err(|e| StoreError::corrupt("blob reference", format!("invalid hex: {e}")))?;
        Self::from_compact(&b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_id_hex_and_serde_roundtrip() {
        let id = ChunkId([7u8; 32]);
        let hex = id.to_hex();
        assert_eq!(hex.len(), 64);
        assert_eq!(ChunkId::from_hex(&hex).unwrap(), id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{hex}\""));
        assert_eq!(serde_json::from_str::<ChunkId>(&json).unwrap(), id);
        assert!(ChunkId::from_hex("abc").is_err());
        assert!(serde_json::from_str::<ChunkId>("\"zz\"").is_err());
    }

    #[test]
    fn blob_ref_compact_roundtrip_and_rejects_garbage() {
        let r = BlobRef {
            chunks: vec![ChunkId([1; 32]), ChunkId([2; 32])],
            size: 12345,
            new_chunks: 2,
            new_stored_bytes: 9,
        };
        let back = BlobRef::from_compact(&r.to_compact()).unwrap();
        assert_eq!(back.chunks, r.chunks);
        assert_eq!(back.size, 12345);
        assert_eq!(back.new_chunks, 0);
        assert_eq!(BlobRef::from_hex(&r.to_hex()).unwrap().chunks, r.chunks);
        let empty = BlobRef::default();
        assert_eq!(BlobRef::from_compact(&empty.to_compact()).unwrap(), empty);
        assert!(BlobRef::from_compact(&[]).is_err());
        assert!(BlobRef::from_compact(&[2, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
        let mut truncated = r.to_compact();
        truncated.pop();
        assert!(BlobRef::from_compact(&truncated).is_err());
    }
}
