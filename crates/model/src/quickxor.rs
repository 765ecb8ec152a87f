//! Microsoft's quickXorHash, the only content hash OneDrive for Business and SharePoint expose.
//!
//! Definition (graph-notes §10): every input byte at absolute position `i` is XORed into a 160-bit
//! little-endian register at bit offset `(11 * i) mod 160`, wrapping around; at the end the 64-bit
//! little-endian length is XORed into output bytes 12..20. Because offsets repeat every 160 bytes we
//! fold input into a 160-byte block and rotate each byte lane into place only once, in `finalize`.

use base64::Engine;

const WIDTH_BITS: usize = 160;
const SHIFT: usize = 11;

/// Streaming quickXorHash state; feed with [`QuickXor::update`] in chunks of any size.
#[derive(Clone)]
pub struct QuickXor {
    /// `lanes[k]` holds the XOR of all bytes whose position is congruent to k modulo 160.
    lanes: [u8; WIDTH_BITS],
    length: u64,
}

impl Default for QuickXor {
    fn default() -> Self {
        Self::new()
    }
}

impl QuickXor {
    pub fn new() -> Self {
        Self { lanes: [0; WIDTH_BITS], length: 0 }
    }

    pub fn update(&mut self, data: &[u8]) {
        let mut lane = (self.length % WIDTH_BITS as u64) as usize;
        for &b in data {
            self.lanes[lane] ^= b;
            lane += 1;
            if lane == WIDTH_BITS {
                lane = 0;
            }
        }
        self.length += data.len() as u64;
    }

    /// The raw 20-byte digest.
    pub fn digest(&self) -> [u8; 20] {
        let mut out = [0u8; 20];
        for (k, &b) in self.lanes.iter().enumerate() {
            if b == 0 {
                continue;
            }
            let offset = (SHIFT * k) % WIDTH_BITS;
            for bit in 0..8 {
                if b & (1 << bit) != 0 {
                    let pos = (offset + bit) % WIDTH_BITS;
                    out[pos / 8] ^= 1 << (pos % 8);
                }
            }
        }
        for (i, lb) in self.length.to_le_bytes().iter().enumerate() {
            out[12 + i] ^= lb;
        }
        out
    }

    /// The digest as Graph returns it in `file.hashes.quickXorHash` (standard base64, padded).
    pub fn finalize_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.digest())
    }
}

/// quickXorHash of a whole buffer, base64-encoded.
pub fn quick_xor_base64(data: &[u8]) -> String {
    let mut h = QuickXor::new();
    h.update(data);
    h.finalize_base64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn published_vectors() {
        assert_eq!(quick_xor_base64(b""), "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        assert_eq!(quick_xor_base64(b"J"), "SgAAAAAAAAAAAAAAAQAAAAAAAAA=");
        assert_eq!(quick_xor_base64(b"hello world"), "aCgDG9jwBhDc4Q1yawMZAAAAAAA=");
        let input = base64::engine::general_purpose::STANDARD.decode("2fuxhBJXtpWFe8dOfdGeHw==").unwrap();
        assert_eq!(quick_xor_base64(&input), "O9tHLAghgSvYohKFyMMxnNCHaHg=");
    }

    #[test]
    fn chunking_does_not_change_the_hash() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let whole = quick_xor_base64(&data);
        for chunk in [1usize, 7, 160, 161, 1000] {
            let mut h = QuickXor::new();
            for c in data.chunks(chunk) {
                h.update(c);
            }
            assert_eq!(h.finalize_base64(), whole, "chunk size {chunk}");
        }
    }
}
