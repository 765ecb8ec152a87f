//! [`Repository`]: opening, writing chunks into packs, reading them back.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutPayload};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use super::config::{ChunkerParams, Config, InitOptions};
use super::crypto::Keys;
use super::error::{Result, StoreError};
use super::ids::{ChunkId, PackId};
use super::pack::{self, IndexEntry, PackBuilder, SealedPack};

/// Name of the configuration object at the repository root.
pub(crate) const CONFIG_PATH: &str = "config";
/// Index objects fetched concurrently at open.
const INDEX_FETCH_CONCURRENCY: usize = 16;
/// Chunks fetched ahead of the consumer by [`Repository::blob_stream`].
const READ_AHEAD: usize = 2;

/// A content-addressed, deduplicating, compressing, encrypting chunk store on an
/// [`ObjectStore`] (restic-like layout: `config`, `data/`, `index/`).
///
/// Cheap to clone (an `Arc` inside); `Send + Sync`; meant to be shared by many tokio tasks that
/// write and read at the same time. All writers share one in-memory pack, uploaded when it reaches
/// the configured pack size or on [`Repository::flush`].
///
/// Durability: data written since the last successful [`Repository::flush`] lives only in memory
/// (it is readable, but lost if the process dies). Commit catalog records that reference chunks
/// only after `flush` returned `Ok`.
#[derive(Clone)]
pub struct Repository {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) store: Arc<dyn ObjectStore>,
    pub(super) config: Config,
    pub(super) keys: Keys,
    pub(super) state: Mutex<State>,
}

/// Mutable state behind one short-held lock (never held across an await).
#[derive(Default)]
pub(super) struct State {
    pub(super) index: ChunkIndex,
    /// The pack being filled.
    current: PackBuilder,
    /// Sealed packs whose pack or index object is not yet known to be stored (upload running,
    /// or failed and waiting for the next flush). Their chunks stay readable and deduplicated.
    in_flight: Vec<Arc<InFlightPack>>,
}

impl State {
    /// Whether a chunk is stored or pending anywhere (the dedup test).
    fn is_known(&self, id: &ChunkId) -> bool {
        self.index.chunks.contains_key(id)
            || self.current.contains(id)
            || self.in_flight.iter().any(|p| p.pack.contains(id))
    }

    fn seal_current(&mut self, keys: &Keys) -> Result<Arc<InFlightPack>> {
        let pack = self.current.seal(keys)?;
        let p = Arc::new(InFlightPack { pack, persisted: tokio::sync::Mutex::new(false) });
        self.in_flight.push(p.clone());
        Ok(p)
    }

    fn raw_len(&self, id: &ChunkId) -> Option<u32> {
        if let Some(l) = self.index.chunks.get(id) {
            return Some(l.raw_len);
        }
        self.current.frame(id).or_else(|| self.in_flight.iter().find_map(|p| p.pack.frame(id))).map(|(_, raw)| raw)
    }
}

pub(super) struct InFlightPack {
    pack: SealedPack,
    /// Held during the upload; `true` once pack and index object are stored.
    persisted: tokio::sync::Mutex<bool>,
}

#[derive(Clone, Copy)]
struct Location {
    pack: u32,
    offset: u64,
    stored_len: u32,
    raw_len: u32,
}

/// In-memory map chunk id → location, built from the `index/` objects. Pack ids are interned so
/// that an entry costs roughly 60–80 bytes (10 TB of content at 1 MiB chunks ≈ 10 M entries ≈ 800 MB).
#[derive(Default)]
pub(super) struct ChunkIndex {
    packs: Vec<PackId>,
    pack_pos: HashMap<PackId, u32>,
    chunks: HashMap<ChunkId, Location>,
    stored_bytes: u64,
    raw_bytes: u64,
}

impl ChunkIndex {
    pub(super) fn has_pack(&self, pack: &PackId) -> bool {
        self.pack_pos.contains_key(pack)
    }

    /// Adds a pack's entries; returns how many chunks were new. Idempotent per pack. A chunk
    /// already stored elsewhere keeps its first location.
    pub(super) fn add_pack(&mut self, pack: PackId, entries: &[IndexEntry]) -> u64 {
        if self.has_pack(&pack) {
            return 0;
        }
        let pos = self.packs.len() as u32;
        self.packs.push(pack);
        self.pack_pos.insert(pack, pos);
        let mut added = 0;
        for e in entries {
            if let std::collections::hash_map::Entry::Vacant(v) = self.chunks.entry(e.id) {
                v.insert(Location { pack: pos, offset: e.offset, stored_len: e.stored_len, raw_len: e.raw_len });
                self.stored_bytes += u64::from(e.stored_len);
                self.raw_bytes += u64::from(e.raw_len);
                added += 1;
            }
        }
        added
    }

    fn get(&self, id: &ChunkId) -> Option<(PackId, IndexEntry)> {
        let l = self.chunks.get(id)?;
        Some((
            self.packs[l.pack as usize],
            IndexEntry { id: *id, offset: l.offset, stored_len: l.stored_len, raw_len: l.raw_len },
        ))
    }
}

/// Repository statistics (see [`Repository::stats`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Distinct chunks in the index.
    pub chunks: u64,
    /// Packs in the index.
    pub packs: u64,
    /// Encrypted bytes of the indexed chunks (pack trailers not counted).
    pub stored_bytes: u64,
    /// Plaintext bytes of the indexed chunks (after deduplication).
    pub raw_bytes: u64,
    /// Chunks written but not yet durable (awaiting upload / flush).
    pub pending_chunks: u64,
    /// Sealed packs awaiting (or retrying) upload.
    pub pending_packs: u64,
}

/// Creates `dir` if needed and returns a local-filesystem object store rooted there.
pub fn local_store(dir: &std::path::Path) -> Result<Arc<dyn ObjectStore>> {
    std::fs::create_dir_all(dir)?;
    Ok(Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir)?))
}

fn is_not_found(e: &object_store::Error) -> bool {
    matches!(e, object_store::Error::NotFound { .. })
}

impl Repository {
    /// Creates a repository with default options (Argon2id 64 MiB / 3 passes, 256 KiB/1 MiB/4 MiB
    /// chunks, 16 MiB packs, zstd 3). Fails with [`StoreError::AlreadyInitialized`] if a `config`
    /// object exists.
    pub async fn init(store: Arc<dyn ObjectStore>, password: &str) -> Result<Repository> {
        Self::init_with(store, password, InitOptions::default()).await
    }

    /// Creates a repository with the given options (validated; [`StoreError::InvalidOptions`]).
    pub async fn init_with(store: Arc<dyn ObjectStore>, password: &str, opts: InitOptions) -> Result<Repository> {
        if password.is_empty() {
            return Err(StoreError::InvalidOptions("the repository password must not be empty".into()));
        }
        opts.validate()?;
        let config_path = Path::from(CONFIG_PATH);
        match store.head(&config_path).await {
            Ok(_) => return Err(StoreError::AlreadyInitialized),
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(e.into()),
        }
        let pw = password.as_bytes().to_vec();
        let (config, master) = tokio::task::spawn_blocking(move || Config::create(&pw, &opts)).await??;
        let json = serde_json::to_vec_pretty(&config)
            .map_err(|e| StoreError::Internal(format!("cannot serialise config: {e}")))?;
        // Create-only write: two concurrent inits cannot both win.
        match store.put_opts(&config_path, PutPayload::from(json), PutMode::Create.into()).await {
            Ok(_) => {}
            Err(object_store::Error::AlreadyExists { .. }) => return Err(StoreError::AlreadyInitialized),
            Err(e) => return Err(e.into()),
        }
        let keys = Keys::from_master(&master)?;
        Ok(Self::from_parts(store, config, keys))
    }

    /// Opens an existing repository and loads its index.
    ///
    /// Errors: [`StoreError::NotARepository`] (no or foreign `config`), [`StoreError::WrongPassword`],
    /// [`StoreError::UnsupportedVersion`]. Unreadable index objects are skipped with a warning
    /// (their chunks count as absent; [`Repository::check`] reports them and
    /// [`Repository::rebuild_index`] repairs them).
    pub async fn open(store: Arc<dyn ObjectStore>, password: &str) -> Result<Repository> {
        let bytes = match store.get(&Path::from(CONFIG_PATH)).await {
            Ok(r) => r.bytes().await?,
            Err(e) if is_not_found(&e) => {
                return Err(StoreError::NotARepository("no config object at this location".into()));
            }
            Err(e) => return Err(e.into()),
        };
        let config = Config::parse(&bytes)?;
        let pw = password.as_bytes().to_vec();
        let cfg = config.clone();
        let master = tokio::task::spawn_blocking(move || cfg.unwrap_master(&pw)).await??;
        let keys = Keys::from_master(&master)?;
        let repo = Self::from_parts(store, config, keys);
        repo.refresh_index().await?;
        Ok(repo)
    }

    /// Whether the store answers: its `config` object is there (one small request; for health checks).
    pub async fn reachable(&self) -> Result<()> {
        self.inner.store.head(&Path::from(CONFIG_PATH)).await?;
        Ok(())
    }

    fn from_parts(store: Arc<dyn ObjectStore>, config: Config, keys: Keys) -> Repository {
        Repository { inner: Arc::new(Inner { store, config, keys, state: Mutex::new(State::default()) }) }
    }

    /// Loads `index/` objects not yet in memory (e.g. written by another node sharing the
    /// bucket); returns how many packs were added. Called by [`Repository::open`].
    pub async fn refresh_index(&self) -> Result<u64> {
        let metas: Vec<_> = self.inner.store.list(Some(&Path::from("index"))).try_collect().await?;
        let wanted: Vec<PackId> = {
            let st = self.inner.state.lock();
            metas.iter().filter_map(|m| pack::parse_index_path(&m.location)).filter(|p| !st.index.has_pack(p)).collect()
        };
        let loaded: Vec<(PackId, Result<Vec<IndexEntry>>)> = futures::stream::iter(wanted)
            .map(|p| async move { (p, self.load_index_object(&p).await) })
            .buffer_unordered(INDEX_FETCH_CONCURRENCY)
            .collect()
            .await;
        let mut added = 0;
        let mut st = self.inner.state.lock();
        for (p, res) in loaded {
            match res {
                Ok(entries) => {
                    st.index.add_pack(p, &entries);
                    added += 1;
                }
                Err(e) => tracing::warn!(pack = %p, error = %e, "skipping unreadable index object"),
            }
        }
        Ok(added)
    }

    /// Fetches, decrypts and sanity-checks `index/{pack}`.
    pub(super) async fn load_index_object(&self, p: &PackId) -> Result<Vec<IndexEntry>> {
        let path = pack::index_path(p);
        let bytes = match self.inner.store.get(&path).await {
            Ok(r) => r.bytes().await?,
            Err(e) if is_not_found(&e) => return Err(StoreError::MissingObject(path.to_string())),
            Err(e) => return Err(e.into()),
        };
        let entries =
            pack::open_index_object(&self.inner.keys, p, &bytes).map_err(|d| StoreError::corrupt(path.as_ref(), d))?;
        pack::validate_entries(&entries, u64::MAX, self.max_chunk())
            .map_err(|d| StoreError::corrupt(path.as_ref(), d))?;
        Ok(entries)
    }

    pub(super) fn max_chunk(&self) -> u32 {
        self.inner.config.chunker.max_size
    }

    /// Random repository id (64 hex characters), fixed at init.
    pub fn id(&self) -> &str {
        &self.inner.config.id
    }

    /// Chunk size bounds of this repository.
    pub fn chunker_params(&self) -> ChunkerParams {
        self.inner.config.chunker
    }

    /// Encrypts a secret the server stores outside the repository (AES-256-GCM under a key derived from the
    /// repository key). `purpose` is bound as associated data, so a sealed value only opens for the same purpose.
    pub fn seal_secret(&self, purpose: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
        self.inner.keys.secrets.seal(&secret_aad(&self.inner.config.id, purpose), plaintext)
    }

    /// Decrypts a value of [`Repository::seal_secret`]; `Corrupt` when it was sealed by another repository, for
    /// another purpose, or altered.
    pub fn open_secret(&self, purpose: &str, sealed: &[u8]) -> Result<Vec<u8>> {
        self.inner.keys.secrets.open(&secret_aad(&self.inner.config.id, purpose), sealed).map_err(|_| {
            StoreError::Corrupt {
                object: format!("sealed secret '{purpose}'"),
                detail: "authentication failed (sealed by another repository, for another purpose, or altered)".into(),
            }
        })
    }

    /// Target pack size in bytes.
    pub fn pack_size(&self) -> u32 {
        self.inner.config.pack_size
    }

    /// The backend this repository lives on.
    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.inner.store
    }

    /// Stores one chunk unless already known. Returns its id and, if it was new, its stored size.
    pub(super) async fn store_chunk(&self, data: Vec<u8>) -> Result<(ChunkId, Option<u64>)> {
        let raw_len = data.len() as u32;
        let inner = self.inner.clone();
        // Hashing and compression+encryption are CPU work: keep them off the async threads.
        let (id, frame) = tokio::task::spawn_blocking(move || -> Result<(ChunkId, Option<Vec<u8>>)> {
            let id = inner.keys.chunk_id(&data);
            if inner.state.lock().is_known(&id) {
                return Ok((id, None));
            }
            let frame = pack::seal_chunk(&inner.keys, &id, &data, inner.config.compression_level)?;
            Ok((id, Some(frame)))
        })
        .await??;
        let Some(frame) = frame else { return Ok((id, None)) };
        let full = {
            let mut st = self.inner.state.lock();
            // Re-check: another task may have stored the same chunk while this one was encrypting.
            if st.is_known(&id) {
                return Ok((id, None));
            }
            if st.current.is_empty() {
                let cfg = &self.inner.config;
                st.current.reserve(cfg.pack_size as usize + cfg.chunker.max_size as usize + 4096);
            }
            st.current.add(id, &frame, raw_len);
            if st.current.len() >= self.inner.config.pack_size as usize {
                Some(st.seal_current(&self.inner.keys)?)
            } else {
                None
            }
        };
        if let Some(p) = full {
            self.persist(p).await?;
        }
        Ok((id, Some(frame.len() as u64)))
    }

    /// Uploads a sealed pack, then its index object, then publishes it in the in-memory index.
    ///
    /// Order matters for crash safety: a crash between the two writes leaves an unindexed pack
    /// (harmless, recoverable by [`Repository::rebuild_index`]), never an index entry without data.
    async fn persist(&self, p: Arc<InFlightPack>) -> Result<()> {
        let mut done = p.persisted.lock().await;
        if *done {
            return Ok(());
        }
        let id = p.pack.id;
        self.inner.store.put(&pack::data_path(&id), PutPayload::from(p.pack.bytes.clone())).await?;
        let index = pack::seal_index_object(&self.inner.keys, &id, &p.pack.entries)?;
        self.inner.store.put(&pack::index_path(&id), PutPayload::from(index)).await?;
        *done = true;
        let mut st = self.inner.state.lock();
        st.index.add_pack(id, &p.pack.entries);
        st.in_flight.retain(|q| !Arc::ptr_eq(q, &p));
        tracing::debug!(pack = %id, chunks = p.pack.entries.len(), bytes = p.pack.bytes.len(), "pack stored");
        Ok(())
    }

    /// Uploads the pending pack and its index, and waits for (or retries) every upload started
    /// earlier, including other tasks' and failed ones. After `Ok`, every chunk written before
    /// the call is durable. Call it before committing a restore point.
    pub async fn flush(&self) -> Result<()> {
        let packs = {
            let mut st = self.inner.state.lock();
            if !st.current.is_empty() {
                st.seal_current(&self.inner.keys)?;
            }
            st.in_flight.clone()
        };
        let results = futures::future::join_all(packs.into_iter().map(|p| self.persist(p))).await;
        results.into_iter().collect::<Result<Vec<()>>>()?;
        Ok(())
    }

    /// Whether the chunk is durably stored (in the index). Chunks pending in memory do not count.
    pub fn contains(&self, id: &ChunkId) -> bool {
        self.inner.state.lock().index.chunks.contains_key(id)
    }

    /// Plaintext size of a stored or pending chunk.
    pub fn chunk_size(&self, id: &ChunkId) -> Option<u64> {
        self.inner.state.lock().raw_len(id).map(u64::from)
    }

    /// Reads one chunk (stored or still pending), decrypts, decompresses and verifies its keyed
    /// hash. Errors: [`StoreError::ChunkNotFound`], [`StoreError::MissingObject`] (pack gone),
    /// [`StoreError::Corrupt`].
    pub async fn read_chunk(&self, id: &ChunkId) -> Result<Bytes> {
        enum Source {
            Stored(PackId, IndexEntry),
            Memory(Bytes, u32),
        }
        let source = {
            let st = self.inner.state.lock();
            if let Some((p, e)) = st.index.get(id) {
                Source::Stored(p, e)
            } else if let Some((frame, raw)) =
                st.current.frame(id).or_else(|| st.in_flight.iter().find_map(|p| p.pack.frame(id)))
            {
                Source::Memory(frame, raw)
            } else {
                return Err(StoreError::ChunkNotFound(id.to_hex()));
            }
        };
        let (frame, raw_len, object) = match source {
            Source::Memory(frame, raw) => (frame, raw, "pending pack".to_string()),
            Source::Stored(p, e) => {
                let path = pack::data_path(&p);
                let frame = match self.inner.store.get_range(&path, e.range()).await {
                    Ok(b) => b,
                    Err(err) if is_not_found(&err) => return Err(StoreError::MissingObject(path.to_string())),
                    Err(err) => return Err(err.into()),
                };
                if frame.len() != e.stored_len as usize {
                    return Err(StoreError::corrupt(path.as_ref(), format!("short read of chunk {id}")));
                }
                (frame, e.raw_len, path.to_string())
            }
        };
        let inner = self.inner.clone();
        let id = *id;
        let data = tokio::task::spawn_blocking(move || pack::open_chunk(&inner.keys, &id, &frame, raw_len))
            .await?
            .map_err(|d| StoreError::corrupt(format!("chunk {id} in {object}"), d))?;
        Ok(Bytes::from(data))
    }

    /// Streams a blob's content chunk by chunk (one ranged GET per chunk, small read-ahead, so
    /// memory stays constant whatever the blob size). Pass `&blob_ref.chunks`.
    ///
    /// On an error the stream yields it; consumers should stop there.
    pub fn blob_stream(&self, chunks: &[ChunkId]) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        let repo = self.clone();
        futures::stream::iter(chunks.to_vec())
            .map(move |id| {
                let repo = repo.clone();
                async move { repo.read_chunk(&id).await }
            })
            .buffered(READ_AHEAD)
    }

    /// Streams bytes `range` of a blob (for HTTP range requests); only the overlapping chunks are
    /// read. [`StoreError::RangeOutOfBounds`] if the range ends past the blob.
    pub fn blob_range_stream(
        &self,
        chunks: &[ChunkId],
        range: Range<u64>,
    ) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        let plan = self.plan_range(chunks, range.clone());
        let repo = self.clone();
        let items: Vec<Result<(ChunkId, Range<usize>)>> = match plan {
            Ok(p) => p.into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        };
        futures::stream::iter(items)
            .map(move |item| {
                let repo = repo.clone();
                async move {
                    let (id, r) = item?;
                    let data = repo.read_chunk(&id).await?;
                    if r.end > data.len() {
                        return Err(StoreError::corrupt(format!("chunk {id}"), "shorter than its recorded size"));
                    }
                    Ok(data.slice(r))
                }
            })
            .buffered(READ_AHEAD)
    }

    /// Which part of which chunk covers `range`.
    fn plan_range(&self, chunks: &[ChunkId], range: Range<u64>) -> Result<Vec<(ChunkId, Range<usize>)>> {
        let sizes: Vec<u64> = {
            let st = self.inner.state.lock();
            chunks
                .iter()
                .map(|id| st.raw_len(id).map(u64::from).ok_or_else(|| StoreError::ChunkNotFound(id.to_hex())))
                .collect::<Result<_>>()?
        };
        let size: u64 = sizes.iter().sum();
        if range.start > range.end || range.end > size {
            return Err(StoreError::RangeOutOfBounds { start: range.start, end: range.end, size });
        }
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let mut plan = Vec::new();
        let mut pos = 0u64;
        for (id, len) in chunks.iter().zip(sizes) {
            let (start, end) = (pos, pos + len);
            if start >= range.end {
                break;
            }
            if end > range.start {
                let from = range.start.saturating_sub(start);
                let to = range.end.min(end) - start;
                plan.push((*id, from as usize..to as usize));
            }
            pos = end;
        }
        Ok(plan)
    }

    /// Reads a whole blob into memory (small blobs and tests; prefer [`Repository::blob_stream`]).
    pub async fn read_blob(&self, chunks: &[ChunkId]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut s = std::pin::pin!(self.blob_stream(chunks));
        while let Some(b) = s.next().await {
            out.extend_from_slice(&b?);
        }
        Ok(out)
    }

    /// Reads bytes `start..end` of a blob into memory.
    pub async fn read_blob_range(&self, chunks: &[ChunkId], start: u64, end: u64) -> Result<Bytes> {
        let mut out = Vec::new();
        let mut s = std::pin::pin!(self.blob_range_stream(chunks, start..end));
        while let Some(b) = s.next().await {
            out.extend_from_slice(&b?);
        }
        Ok(Bytes::from(out))
    }

    /// Counts from the in-memory index and the pending packs.
    pub fn stats(&self) -> Stats {
        let st = self.inner.state.lock();
        let in_flight_chunks: usize = st.in_flight.iter().map(|p| p.pack.entries.len()).sum();
        Stats {
            chunks: st.index.chunks.len() as u64,
            packs: st.index.packs.len() as u64,
            stored_bytes: st.index.stored_bytes,
            raw_bytes: st.index.raw_bytes,
            pending_chunks: (st.current.chunk_count() + in_flight_chunks) as u64,
            pending_packs: st.in_flight.len() as u64,
        }
    }
}

impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository").field("id", &self.id()).field("store", &self.inner.store.to_string()).finish()
    }
}

/// Associated data of a sealed secret: the repository and the secret's purpose.
fn secret_aad(repository_id: &str, purpose: &str) -> Vec<u8> {
    format!("vault365 secret\0{repository_id}\0{purpose}").into_bytes()
}
