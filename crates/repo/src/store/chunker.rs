//! Streaming content-defined chunking (FastCDC v2020, normalization level 1).
//!
//! Data arrives in arbitrary slices. A chunk starting at offset `s` is fully determined by the
//! bytes `s .. s + max_size` (the cut search never looks further), so the chunker emits a chunk
//! as soon as `max_size` bytes are buffered after its start. This yields exactly the cut points of
//! chunking the whole content at once, while buffering at most about two maximum chunks.

use fastcdc::v2020;

use super::config::ChunkerParams;

/// Incremental chunker.
pub(crate) struct StreamChunker {
    params: ChunkerParams,
    mask_s: u64,
    mask_l: u64,
    buf: Vec<u8>,
    /// Start of the not yet emitted data in `buf`.
    start: usize,
}

impl StreamChunker {
    /// `params` must be valid ([`ChunkerParams::validate`]); the repository validates them at open.
    pub(crate) fn new(params: ChunkerParams) -> Self {
        // Same masks as `v2020::FastCDC::new` (normalization level 1), computed once instead of
        // allocating gear tables per cut.
        let bits = v2020::logarithm2(params.avg_size);
        let mask_s = v2020::MASKS[(bits + 1) as usize];
        let mask_l = v2020::MASKS[(bits - 1) as usize];
        StreamChunker { params, mask_s, mask_l, buf: Vec::new(), start: 0 }
    }

    /// Largest slice [`StreamChunker::feed`] should get between calls to [`StreamChunker::next_chunk`].
    pub(crate) fn max_feed(&self) -> usize {
        self.params.max_size as usize
    }

    /// Appends data. Feed at most [`StreamChunker::max_feed`] bytes, then drain
    /// [`StreamChunker::next_chunk`], to keep the buffer bounded.
    pub(crate) fn feed(&mut self, data: &[u8]) {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            // Drop emitted data; amortised, since at least half the buffer goes.
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    fn cut(&self, data: &[u8]) -> usize {
        let p = &self.params;
        let (_, len) = v2020::cut(
            data,
            p.min_size as usize,
            p.avg_size as usize,
            p.max_size as usize,
            self.mask_s,
            self.mask_l,
            self.mask_s << 1,
            self.mask_l << 1,
        );
        len
    }

    /// Next chunk whose boundaries are final, if enough data is buffered.
    pub(crate) fn next_chunk(&mut self) -> Option<Vec<u8>> {
        let pending = &self.buf[self.start..];
        if pending.len() < self.params.max_size as usize {
            return None;
        }
        let len = self.cut(pending);
        let chunk = pending[..len].to_vec();
        self.start += len;
        Some(chunk)
    }

    /// At end of input: the remaining chunks one by one, then `None`.
    pub(crate) fn next_final_chunk(&mut self) -> Option<Vec<u8>> {
        let pending = &self.buf[self.start..];
        if pending.is_empty() {
            return None;
        }
        let len = self.cut(pending).clamp(1, pending.len());
        let chunk = pending[..len].to_vec();
        self.start += len;
        Some(chunk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo_random(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    fn chunk_streaming(params: ChunkerParams, data: &[u8], piece: usize) -> Vec<usize> {
        let mut c = StreamChunker::new(params);
        let mut sizes = Vec::new();
        for p in data.chunks(piece.max(1)) {
            for q in p.chunks(c.max_feed()) {
                c.feed(q);
                while let Some(ch) = c.next_chunk() {
                    sizes.push(ch.len());
                }
            }
            assert!(c.buf.len() < 3 * params.max_size as usize, "buffer must stay bounded");
        }
        while let Some(ch) = c.next_final_chunk() {
            sizes.push(ch.len());
        }
        sizes
    }

    #[test]
    fn streaming_matches_whole_buffer_fastcdc_for_any_feed_size() {
        let params = ChunkerParams { min_size: 2048, avg_size: 8192, max_size: 32768 };
        let data = pseudo_random(1_000_000, 42);
        let expected: Vec<usize> =
            v2020::FastCDC::new(&data, params.min_size, params.avg_size, params.max_size).map(|c| c.length).collect();
        assert!(expected.len() > 50);
        for piece in [1usize, 1000, 4096, 32768, 100_000, 2_000_000] {
            if piece == 1 {
                // Byte-by-byte only on a prefix: the property is the same, the run time is not.
                let prefix = &data[..200_000];
                let exp: Vec<usize> = v2020::FastCDC::new(prefix, params.min_size, params.avg_size, params.max_size)
                    .map(|c| c.length)
                    .collect();
                assert_eq!(chunk_streaming(params, prefix, 1), exp);
            } else {
                assert_eq!(chunk_streaming(params, &data, piece), expected, "feed size {piece}");
            }
        }
    }

    #[test]
    fn small_and_empty_inputs() {
        let params = ChunkerParams { min_size: 2048, avg_size: 8192, max_size: 32768 };
        assert!(chunk_streaming(params, &[], 10).is_empty());
        assert_eq!(chunk_streaming(params, &[1, 2, 3], 10), vec![3]);
        assert_eq!(chunk_streaming(params, &vec![0u8; 2000], 100), vec![2000]);
        // Zeros never match the mask: maximum-size chunks.
        assert_eq!(chunk_streaming(params, &vec![0u8; 100_000], 7000), vec![32768, 32768, 32768, 1696]);
    }
}
