//! Verification ([`Repository::check`]) and index reconstruction ([`Repository::rebuild_index`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};

use super::error::{Result, StoreError};
use super::ids::{ChunkId, PackId};
use super::pack::{self, IndexEntry, FOOTER_LEN};
use super::repository::Repository;

/// Packs read concurrently by `check(read_data = true)` (bounds memory to this many packs).
const READ_CONCURRENCY: usize = 2;
/// Index objects fetched concurrently.
const INDEX_CONCURRENCY: usize = 16;

/// One problem found by [`Repository::check`] or [`Repository::rebuild_index`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Problem {
    /// An index object refers to a pack that does not exist: its chunks are lost.
    MissingPack {
        /// The missing pack.
        pack: PackId,
        /// Chunks the index lists in it.
        chunks: u64,
    },
    /// An index object cannot be read, decrypted or decoded.
    BadIndex {
        /// Object path.
        path: String,
        /// What failed.
        detail: String,
    },
    /// A pack is unreadable, has a wrong hash, or its trailer is damaged or disagrees with the index.
    BadPack {
        /// The pack.
        pack: PackId,
        /// What failed.
        detail: String,
    },
    /// A chunk does not decrypt, decompress or match its id.
    BadChunk {
        /// Pack holding it.
        pack: PackId,
        /// The chunk.
        chunk: ChunkId,
        /// What failed.
        detail: String,
    },
    /// An object under `data/` or `index/` that is not named like ours.
    StrayObject {
        /// Object path.
        path: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::MissingPack { pack, chunks } => write!(f, "pack {pack} is missing ({chunks} chunks lost)"),
            Problem::BadIndex { path, detail } => write!(f, "index object {path}: {detail}"),
            Problem::BadPack { pack, detail } => write!(f, "pack {pack}: {detail}"),
            Problem::BadChunk { pack, chunk, detail } => write!(f, "chunk {chunk} in pack {pack}: {detail}"),
            Problem::StrayObject { path } => write!(f, "unexpected object {path}"),
        }
    }
}

/// Result of [`Repository::check`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    /// Pack objects found under `data/`.
    pub packs: u64,
    /// Index objects found under `index/`.
    pub index_objects: u64,
    /// Distinct chunks listed by readable index objects.
    pub chunks: u64,
    /// Chunks whose data was read and verified (`read_data` only).
    pub chunks_verified: u64,
    /// Pack bytes downloaded (`read_data` only).
    pub bytes_read: u64,
    /// Packs without an index object: left by an interrupted write. Not an error (nothing refers
    /// to them); [`Repository::rebuild_index`] adopts them.
    pub unindexed_packs: Vec<PackId>,
    /// Everything that is wrong.
    pub problems: Vec<Problem>,
}

impl CheckReport {
    /// True when no problem was found.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Result of [`Repository::rebuild_index`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RebuildReport {
    /// Packs found under `data/`.
    pub packs_scanned: u64,
    /// Index objects (re)written from pack trailers.
    pub indexes_written: u64,
    /// Chunks that became known through the rewritten indexes.
    pub chunks_added: u64,
    /// Packs that could not be indexed.
    pub problems: Vec<Problem>,
}

impl Repository {
    /// Lists `data/` (pack id → size) and `index/` (pack ids), noting stray objects.
    async fn list_objects(&self, problems: &mut Vec<Problem>) -> Result<(BTreeMap<PackId, u64>, Vec<PackId>)> {
        let store = &self.inner.store;
        let mut packs = BTreeMap::new();
        let metas: Vec<_> = store.list(Some(&Path::from("data"))).try_collect().await?;
        for m in metas {
            match pack::parse_data_path(&m.location) {
                Some(id) => {
                    packs.insert(id, m.size);
                }
                None => problems.push(Problem::StrayObject { path: m.location.to_string() }),
            }
        }
        let mut indexes = Vec::new();
        let metas: Vec<_> = store.list(Some(&Path::from("index"))).try_collect().await?;
        for m in metas {
            match pack::parse_index_path(&m.location) {
                Some(id) => indexes.push(id),
                None => problems.push(Problem::StrayObject { path: m.location.to_string() }),
            }
        }
        indexes.sort();
        Ok((packs, indexes))
    }

    async fn load_indexes(&self, ids: Vec<PackId>) -> Vec<(PackId, Result<Vec<IndexEntry>>)> {
        futures::stream::iter(ids)
            .map(|p| async move { (p, self.load_index_object(&p).await) })
            .buffer_unordered(INDEX_CONCURRENCY)
            .collect()
            .await
    }

    /// Verifies the repository as stored (not the in-memory state) and lists every problem
    /// instead of stopping at the first.
    ///
    /// Always: every index object decrypts, and each entry lies inside an existing pack.
    /// With `read_data`: every pack is downloaded (a few at a time), its BLAKE3 must equal its
    /// name, its trailer must match its index object, and every chunk must decrypt and match its
    /// keyed hash. Unindexed packs are only listed, not read. Backend failures (e.g. listing)
    /// abort with an error; damage is reported.
    pub async fn check(&self, read_data: bool) -> Result<CheckReport> {
        let mut report = CheckReport::default();
        let (packs, index_ids) = self.list_objects(&mut report.problems).await?;
        report.packs = packs.len() as u64;
        report.index_objects = index_ids.len() as u64;
        let indexed_set: HashSet<PackId> = index_ids.iter().copied().collect();
        report.unindexed_packs = packs.keys().filter(|p| !indexed_set.contains(p)).copied().collect();

        let mut loaded = self.load_indexes(index_ids).await;
        loaded.sort_by_key(|(p, _)| *p);
        let mut chunk_ids = HashSet::new();
        let mut to_read: Vec<(PackId, Vec<IndexEntry>)> = Vec::new();
        for (p, res) in loaded {
            let entries = match res {
                Ok(e) => e,
                Err(e) => {
                    report
                        .problems
                        .push(Problem::BadIndex { path: pack::index_path(&p).to_string(), detail: e.to_string() });
                    continue;
                }
            };
            chunk_ids.extend(entries.iter().map(|e| e.id));
            let Some(&size) = packs.get(&p) else {
                report.problems.push(Problem::MissingPack { pack: p, chunks: entries.len() as u64 });
                continue;
            };
            if let Err(detail) = pack::validate_entries(&entries, size.saturating_sub(FOOTER_LEN), self.max_chunk()) {
                report
                    .problems
                    .push(Problem::BadPack { pack: p, detail: format!("index does not fit the pack: {detail}") });
                continue;
            }
            to_read.push((p, entries));
        }
        report.chunks = chunk_ids.len() as u64;

        if read_data {
            let results: Vec<(u64, u64, Vec<Problem>)> = futures::stream::iter(to_read)
                .map(|(p, entries)| self.verify_pack(p, entries))
                .buffered(READ_CONCURRENCY)
                .collect()
                .await;
            for (bytes, verified, problems) in results {
                report.bytes_read += bytes;
                report.chunks_verified += verified;
                report.problems.extend(problems);
            }
        }
        Ok(report)
    }

    /// Downloads one pack and verifies it; returns (bytes read, chunks verified, problems).
    async fn verify_pack(&self, p: PackId, entries: Vec<IndexEntry>) -> (u64, u64, Vec<Problem>) {
        let bytes = match self.inner.store.get(&pack::data_path(&p)).await {
            Ok(r) => match r.bytes().await {
                Ok(b) => b,
                Err(e) => return (0, 0, vec![Problem::BadPack { pack: p, detail: format!("cannot read: {e}") }]),
            },
            Err(e) => return (0, 0, vec![Problem::BadPack { pack: p, detail: format!("cannot read: {e}") }]),
        };
        let inner = self.inner.clone();
        let len = bytes.len() as u64;
        let res = tokio::task::spawn_blocking(move || {
            let keys = &inner.keys;
            let mut problems = Vec::new();
            if *blake3::hash(&bytes).as_bytes() != p.0 {
                problems.push(Problem::BadPack { pack: p, detail: "content hash does not match the pack id".into() });
            }
            match pack::read_trailer_from_pack(keys, &bytes) {
                Ok((trailer, _)) if trailer == entries => {}
                Ok(_) => {
                    problems.push(Problem::BadPack { pack: p, detail: "trailer differs from the index object".into() })
                }
                Err(d) => problems.push(Problem::BadPack { pack: p, detail: format!("trailer: {d}") }),
            }
            let mut verified = 0;
            for e in &entries {
                let r = e.range();
                match pack::open_chunk(keys, &e.id, &bytes[r.start as usize..r.end as usize], e.raw_len) {
                    Ok(_) => verified += 1,
                    Err(detail) => problems.push(Problem::BadChunk { pack: p, chunk: e.id, detail }),
                }
            }
            (verified, problems)
        })
        .await;
        match res {
            Ok((verified, problems)) => (len, verified, problems),
            Err(e) => (len, 0, vec![Problem::BadPack { pack: p, detail: format!("verification task failed: {e}") }]),
        }
    }

    /// Writes an index object for every pack that has none (or an unreadable one), from the
    /// encrypted index trailer each pack carries, and adds those chunks to the in-memory index.
    ///
    /// Recovers from a crash between pack and index upload, and from lost or damaged index
    /// objects. Only pack footers and trailers are downloaded, not whole packs.
    pub async fn rebuild_index(&self) -> Result<RebuildReport> {
        let mut report = RebuildReport::default();
        let mut ignored = Vec::new();
        let (packs, index_ids) = self.list_objects(&mut ignored).await?;
        report.packs_scanned = packs.len() as u64;
        let good: HashSet<PackId> =
            self.load_indexes(index_ids).await.into_iter().filter(|(_, r)| r.is_ok()).map(|(p, _)| p).collect();
        let mut added_entries: HashMap<PackId, Vec<IndexEntry>> = HashMap::new();
        for (&p, &size) in packs.iter().filter(|(p, _)| !good.contains(p)) {
            match self.index_from_trailer(&p, size).await {
                Ok(entries) => {
                    let obj = pack::seal_index_object(&self.inner.keys, &p, &entries)?;
                    self.inner.store.put(&pack::index_path(&p), PutPayload::from(obj)).await?;
                    report.indexes_written += 1;
                    added_entries.insert(p, entries);
                }
                Err(e) => report.problems.push(Problem::BadPack { pack: p, detail: e.to_string() }),
            }
        }
        let mut st = self.inner.state.lock();
        for (p, entries) in added_entries {
            report.chunks_added += st.index.add_pack(p, &entries);
        }
        Ok(report)
    }

    /// Reads and validates a pack's trailer with two ranged GETs (footer, then trailer).
    async fn index_from_trailer(&self, p: &PackId, size: u64) -> Result<Vec<IndexEntry>> {
        let path = pack::data_path(p);
        let corrupt = |d: String| StoreError::corrupt(path.as_ref(), d);
        if size < FOOTER_LEN {
            return Err(corrupt("pack shorter than its footer".into()));
        }
        let footer = self.inner.store.get_range(&path, size - FOOTER_LEN..size).await?;
        let trailer_len = u64::from(pack::parse_footer(&footer).map_err(corrupt)?);
        let data_end = size
            .checked_sub(FOOTER_LEN + trailer_len)
            .ok_or_else(|| corrupt(format!("trailer length {trailer_len} exceeds pack size {size}")))?;
        let trailer = self.inner.store.get_range(&path, data_end..size - FOOTER_LEN).await?;
        let entries = pack::open_trailer(&self.inner.keys, &trailer).map_err(corrupt)?;
        pack::validate_entries(&entries, data_end, self.max_chunk()).map_err(corrupt)?;
        Ok(entries)
    }
}
