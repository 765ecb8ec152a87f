//! On-storage formats: chunk frames, pack files, pack indexes, object paths.
//!
//! ```text
//! chunk frame (stored in a pack):  nonce(12) || AES-256-GCM( flag(1) || payload ) || tag(16)
//!                                   flag 0 = payload is the plaintext, 1 = payload is zstd
//!                                   associated data = chunk id (a frame cannot be moved to another id)
//! pack  data/{2 hex}/{pack id}:     chunk frame* || trailer || trailer_len (u32 LE) || "V365PK01"
//!                                   trailer = encrypted pack index (AAD "vault365 pack trailer v1")
//!                                   pack id = BLAKE3(all pack bytes)
//! index index/{pack id}:           encrypted pack index (AAD "vault365 index v1 " + pack id hex)
//! pack index plaintext:             version=1 (u8) || count (u32 LE) ||
//!                                   count * [chunk id(32) offset(u64 LE) stored_len(u32 LE) raw_len(u32 LE)]
//! ```

use std::collections::HashMap;
use std::ops::Range;

use bytes::Bytes;
use object_store::path::Path;

use super::crypto::{Keys, FRAME_OVERHEAD};
use super::error::Result;
use super::ids::{ChunkId, PackId};

/// Last 8 bytes of every pack.
pub(crate) const PACK_MAGIC: &[u8; 8] = b"V365PK01";
/// Trailer length (u32) + magic.
pub(crate) const FOOTER_LEN: u64 = 12;
/// Smallest possible chunk frame: frame overhead + flag byte + at least one payload byte.
pub(crate) const MIN_FRAME_LEN: u32 = FRAME_OVERHEAD as u32 + 2;

const INDEX_VERSION: u8 = 1;
const ENTRY_LEN: usize = 48;
const TRAILER_AAD: &[u8] = b"vault365 pack trailer v1";
const FLAG_RAW: u8 = 0;
const FLAG_ZSTD: u8 = 1;

/// Location of one chunk inside a pack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    pub(crate) id: ChunkId,
    pub(crate) offset: u64,
    pub(crate) stored_len: u32,
    pub(crate) raw_len: u32,
}

impl IndexEntry {
    pub(crate) fn range(&self) -> Range<u64> {
        self.offset..self.offset + u64::from(self.stored_len)
    }
}

pub(crate) fn encode_index(entries: &[IndexEntry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + entries.len() * ENTRY_LEN);
    out.push(INDEX_VERSION);
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    for e in entries {
        out.extend_from_slice(&e.id.0);
        out.extend_from_slice(&e.offset.to_le_bytes());
        out.extend_from_slice(&e.stored_len.to_le_bytes());
        out.extend_from_slice(&e.raw_len.to_le_bytes());
    }
    out
}

pub(crate) fn decode_index(b: &[u8]) -> Result<Vec<IndexEntry>, String> {
    if b.len() < 5 {
        return Err("pack index shorter than its header".into());
    }
    if b[0] != INDEX_VERSION {
        return Err(format!("unknown pack index version {}", b[0]));
    }
    let count = u32::from_le_bytes([b[1], b[2], b[3], b[4]]) as usize;
    let body = &b[5..];
    if body.len() != count.saturating_mul(ENTRY_LEN) {
        return Err(format!("pack index claims {count} entries but has {} bytes", body.len()));
    }
    let u32_at = |e: &[u8], at: usize| u32::from_le_bytes([e[at], e[at + 1], e[at + 2], e[at + 3]]);
    Ok(body
        .chunks_exact(ENTRY_LEN)
        .map(|e| {
            let mut id = [0u8; 32];
            id.copy_from_slice(&e[..32]);
            let mut off = [0u8; 8];
            off.copy_from_slice(&e[32..40]);
            IndexEntry {
                id: ChunkId(id),
                offset: u64::from_le_bytes(off),
                stored_len: u32_at(e, 40),
                raw_len: u32_at(e, 44),
            }
        })
        .collect())
}

/// Checks that entries lie inside the chunk area `0..data_end` of a pack and are plausible.
pub(crate) fn validate_entries(entries: &[IndexEntry], data_end: u64, max_raw: u32) -> Result<(), String> {
    for e in entries {
        if e.stored_len < MIN_FRAME_LEN || e.range().end > data_end {
            return Err(format!(
                "chunk {} at {}+{} lies outside the pack's chunk area (0..{data_end})",
                e.id, e.offset, e.stored_len
            ));
        }
        if e.raw_len == 0 || e.raw_len > max_raw {
            return Err(format!("chunk {} has implausible size {}", e.id, e.raw_len));
        }
    }
    Ok(())
}

fn index_aad(pack: &PackId) -> Vec<u8> {
    format!("vault365 index v1 {pack}").into_bytes()
}

/// Encrypted `index/{pack}` object for these entries.
pub(crate) fn seal_index_object(keys: &Keys, pack: &PackId, entries: &[IndexEntry]) -> Result<Vec<u8>> {
    keys.data.seal(&index_aad(pack), &encode_index(entries))
}

/// Decrypts and decodes an `index/{pack}` object.
pub(crate) fn open_index_object(keys: &Keys, pack: &PackId, frame: &[u8]) -> Result<Vec<IndexEntry>, String> {
    let plain = keys
        .data
        .open(&index_aad(pack), frame)
        .map_err(|_| "index object fails authentication (corrupt, or belongs to another pack)".to_string())?;
    decode_index(&plain)
}

/// Parses the 12-byte pack footer; returns the trailer length.
pub(crate) fn parse_footer(footer: &[u8]) -> Result<u32, String> {
    if footer.len() != FOOTER_LEN as usize || &footer[4..] != PACK_MAGIC {
        return Err("pack footer magic missing (not a pack, or truncated)".into());
    }
    Ok(u32::from_le_bytes([footer[0], footer[1], footer[2], footer[3]]))
}

/// Decrypts and decodes a pack trailer.
pub(crate) fn open_trailer(keys: &Keys, frame: &[u8]) -> Result<Vec<IndexEntry>, String> {
    let plain = keys.data.open(TRAILER_AAD, frame).map_err(|_| "pack trailer fails authentication".to_string())?;
    decode_index(&plain)
}

/// Reads the index out of a complete pack held in memory; returns entries and the chunk area end.
pub(crate) fn read_trailer_from_pack(keys: &Keys, pack: &[u8]) -> Result<(Vec<IndexEntry>, u64), String> {
    let len = pack.len() as u64;
    if len < FOOTER_LEN {
        return Err("pack shorter than its footer".into());
    }
    let trailer_len = u64::from(parse_footer(&pack[(len - FOOTER_LEN) as usize..])?);
    let data_end = len
        .checked_sub(FOOTER_LEN + trailer_len)
        .ok_or_else(|| format!("trailer length {trailer_len} exceeds pack size {len}"))?;
    let entries = open_trailer(keys, &pack[data_end as usize..(len - FOOTER_LEN) as usize])?;
    Ok((entries, data_end))
}

/// `data/{first 2 hex}/{pack id}`.
pub(crate) fn data_path(pack: &PackId) -> Path {
    let hex = pack.to_hex();
    Path::from(format!("data/{}/{hex}", &hex[..2]))
}

/// `index/{pack id}`.
pub(crate) fn index_path(pack: &PackId) -> Path {
    Path::from(format!("index/{pack}"))
}

/// Pack id of a `data/..` path, if it is one of ours.
pub(crate) fn parse_data_path(p: &Path) -> Option<PackId> {
    let parts: Vec<_> = p.parts().collect();
    if parts.len() != 3 || parts[0].as_ref() != "data" {
        return None;
    }
    let id = PackId::from_hex(parts[2].as_ref()).ok()?;
    (id.to_hex()[..2] == *parts[1].as_ref()).then_some(id)
}

/// Pack id of an `index/..` path, if it is one of ours.
pub(crate) fn parse_index_path(p: &Path) -> Option<PackId> {
    let parts: Vec<_> = p.parts().collect();
    if parts.len() != 2 || parts[0].as_ref() != "index" {
        return None;
    }
    PackId::from_hex(parts[1].as_ref()).ok()
}

/// Compresses (if that helps) and encrypts one chunk into a frame.
pub(crate) fn seal_chunk(keys: &Keys, id: &ChunkId, plain: &[u8], level: i32) -> Result<Vec<u8>> {
    let compressed = zstd::bulk::compress(plain, level).ok().filter(|c| c.len() < plain.len());
    let (flag, payload) = match &compressed {
        Some(c) => (FLAG_ZSTD, c.as_slice()),
        None => (FLAG_RAW, plain),
    };
    let mut buf = Vec::with_capacity(FRAME_OVERHEAD + 1 + payload.len());
    buf.extend_from_slice(&[0u8; 12]);
    buf.push(flag);
    buf.extend_from_slice(payload);
    keys.data.seal_framed(&id.0, buf)
}

/// Decrypts, decompresses and verifies one chunk frame.
pub(crate) fn open_chunk(keys: &Keys, id: &ChunkId, frame: &[u8], raw_len: u32) -> Result<Vec<u8>, String> {
    let plain =
        keys.data.open(&id.0, frame).map_err(|_| "chunk fails authentication (corrupt or swapped)".to_string())?;
    let (&flag, payload) = plain.split_first().ok_or("empty chunk frame")?;
    let data = match flag {
        FLAG_RAW => payload.to_vec(),
        // Capacity = the authenticated raw length, so a bad frame cannot inflate without bound.
        FLAG_ZSTD => zstd::bulk::decompress(payload, raw_len as usize).map_err(|e| format!("zstd: {e}"))?,
        other => return Err(format!("unknown chunk flag {other}")),
    };
    if data.len() != raw_len as usize {
        return Err(format!("chunk has {} bytes, index says {raw_len}", data.len()));
    }
    if keys.chunk_id(&data) != *id {
        return Err("chunk content does not match its id".into());
    }
    Ok(data)
}

/// A pack being filled in memory.
#[derive(Default)]
pub(crate) struct PackBuilder {
    buf: Vec<u8>,
    entries: Vec<IndexEntry>,
    by_id: HashMap<ChunkId, usize>,
}

impl PackBuilder {
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn chunk_count(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn contains(&self, id: &ChunkId) -> bool {
        self.by_id.contains_key(id)
    }

    /// Copy of a pending chunk's frame and its raw length.
    pub(crate) fn frame(&self, id: &ChunkId) -> Option<(Bytes, u32)> {
        let e = &self.entries[*self.by_id.get(id)?];
        let r = e.range();
        Some((Bytes::copy_from_slice(&self.buf[r.start as usize..r.end as usize]), e.raw_len))
    }

    /// Reserves room for a whole pack up front, so the buffer does not grow by doubling (which
    /// could nearly double peak memory per pack).
    pub(crate) fn reserve(&mut self, bytes: usize) {
        self.buf.reserve(bytes.saturating_sub(self.buf.len()));
    }

    pub(crate) fn add(&mut self, id: ChunkId, frame: &[u8], raw_len: u32) {
        let offset = self.buf.len() as u64;
        self.buf.extend_from_slice(frame);
        self.by_id.insert(id, self.entries.len());
        self.entries.push(IndexEntry { id, offset, stored_len: frame.len() as u32, raw_len });
    }

    /// Appends the encrypted trailer and footer and names the pack, leaving the builder empty.
    ///
    /// On error (only a failing random generator) the builder keeps its chunks.
    pub(crate) fn seal(&mut self, keys: &Keys) -> Result<SealedPack> {
        let trailer = keys.data.seal(TRAILER_AAD, &encode_index(&self.entries))?;
        let PackBuilder { mut buf, entries, by_id } = std::mem::take(self);
        buf.extend_from_slice(&trailer);
        buf.extend_from_slice(&(trailer.len() as u32).to_le_bytes());
        buf.extend_from_slice(PACK_MAGIC);
        let id = PackId(*blake3::hash(&buf).as_bytes());
        Ok(SealedPack { id, bytes: Bytes::from(buf), entries, by_id })
    }
}

/// A complete pack, ready to upload.
pub(crate) struct SealedPack {
    pub(crate) id: PackId,
    pub(crate) bytes: Bytes,
    pub(crate) entries: Vec<IndexEntry>,
    by_id: HashMap<ChunkId, usize>,
}

impl SealedPack {
    pub(crate) fn contains(&self, id: &ChunkId) -> bool {
        self.by_id.contains_key(id)
    }

    /// A chunk's frame (zero-copy slice) and raw length.
    pub(crate) fn frame(&self, id: &ChunkId) -> Option<(Bytes, u32)> {
        let e = &self.entries[*self.by_id.get(id)?];
        let r = e.range();
        Some((self.bytes.slice(r.start as usize..r.end as usize), e.raw_len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys::from_master(&[3u8; 32]).unwrap()
    }

    #[test]
    fn chunk_frames_roundtrip_compressed_and_raw() {
        let k = keys();
        let text = b"abcabcabc".repeat(1000);
        let id = k.chunk_id(&text);
        let frame = seal_chunk(&k, &id, &text, 3).unwrap();
        assert!(frame.len() < text.len() / 10, "compressible data shrinks");
        assert_eq!(open_chunk(&k, &id, &frame, text.len() as u32).unwrap(), text);
        // Incompressible data: raw, overhead is exactly nonce + tag + flag.
        let noise: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        let nid = k.chunk_id(&noise);
        let nframe = seal_chunk(&k, &nid, &noise, 3).unwrap();
        assert!(nframe.len() <= noise.len() + FRAME_OVERHEAD + 1);
        assert_eq!(open_chunk(&k, &nid, &nframe, noise.len() as u32).unwrap(), noise);
        // Frame under another id (swapped chunks), wrong length, flipped bit: all refused.
        assert!(open_chunk(&k, &nid, &frame, text.len() as u32).is_err());
        assert!(open_chunk(&k, &id, &frame, text.len() as u32 - 1).is_err());
        let mut bad = frame.clone();
        bad[20] ^= 0x40;
        assert!(open_chunk(&k, &id, &bad, text.len() as u32).is_err());
    }

    #[test]
    fn pack_trailer_and_index_object_roundtrip() {
        let k = keys();
        let mut b = PackBuilder::default();
        let mut ids = Vec::new();
        for i in 0..5u8 {
            let data = vec![i; 1000 + i as usize];
            let id = k.chunk_id(&data);
            b.add(id, &seal_chunk(&k, &id, &data, 3).unwrap(), data.len() as u32);
            ids.push(id);
        }
        let pack = b.seal(&k).unwrap();
        assert_eq!(pack.id.0, *blake3::hash(&pack.bytes).as_bytes());
        let (entries, data_end) = read_trailer_from_pack(&k, &pack.bytes).unwrap();
        assert_eq!(entries, pack.entries);
        validate_entries(&entries, data_end, 1 << 20).unwrap();
        let obj = seal_index_object(&k, &pack.id, &entries).unwrap();
        assert_eq!(open_index_object(&k, &pack.id, &obj).unwrap(), entries);
        assert!(open_index_object(&k, &PackId([0; 32]), &obj).is_err(), "index bound to its pack id");
        let (frame, raw) = pack.frame(&ids[2]).unwrap();
        assert_eq!(open_chunk(&k, &ids[2], &frame, raw).unwrap(), vec![2u8; 1002]);
        assert!(validate_entries(&entries, data_end - 1, 1 << 20).is_err());
        assert!(read_trailer_from_pack(&k, &pack.bytes[..pack.bytes.len() - 1]).is_err());
    }

    #[test]
    fn index_decoding_rejects_garbage() {
        assert!(decode_index(&[]).is_err());
        assert!(decode_index(&[2, 0, 0, 0, 0]).is_err());
        assert!(decode_index(&[1, 1, 0, 0, 0]).is_err());
        assert!(decode_index(&[1, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert_eq!(decode_index(&[1, 0, 0, 0, 0]).unwrap(), vec![]);
    }

    #[test]
    fn paths_roundtrip() {
        let id = PackId([0xab; 32]);
        assert_eq!(data_path(&id).as_ref(), format!("data/ab/{id}"));
        assert_eq!(parse_data_path(&data_path(&id)), Some(id));
        assert_eq!(parse_index_path(&index_path(&id)), Some(id));
        assert_eq!(parse_data_path(&Path::from(format!("data/cd/{id}"))), None);
        assert_eq!(parse_index_path(&Path::from("index/xyz")), None);
    }
}
