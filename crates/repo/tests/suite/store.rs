//! Integration tests of the content store (`repo::store`) on the local filesystem and in memory.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::StreamExt;
use object_store::memory::InMemory;
use object_store::ObjectStore;
use repo::store::{local_store, BlobRef, ChunkId, InitOptions, Problem, Repository, StoreError};

const MIB: usize = 1024 * 1024;
const PASSWORD: &str = "correct horse battery staple";

/// Deterministic pseudo-random (incompressible) bytes.
fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Cheap KDF, default chunker, 4 MiB packs so that tests produce several packs.
fn opts() -> InitOptions {
    InitOptions { pack_size: 4 * MIB as u32, ..InitOptions::insecure_fast_kdf() }
}

async fn new_local() -> (tempfile::TempDir, Arc<dyn ObjectStore>, Repository) {
    let dir = tempfile::tempdir().unwrap();
    let store = local_store(&dir.path().join("repo")).unwrap();
    let repo = Repository::init_with(store.clone(), PASSWORD, opts()).await.unwrap();
    (dir, store, repo)
}

async fn write_in_pieces(repo: &Repository, data: &[u8], piece: usize) -> BlobRef {
    let mut w = repo.blob_writer();
    for p in data.chunks(piece) {
        w.write(p).await.unwrap();
    }
    w.finish().await.unwrap()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn init_open_roundtrip_and_config_is_self_describing() {
    let (dir, store, repo) = new_local().await;
    assert_eq!(repo.id().len(), 64);
    let reopened = Repository::open(store.clone(), PASSWORD).await.unwrap();
    assert_eq!(reopened.id(), repo.id());
    assert_eq!(reopened.chunker_params(), opts().chunker);
    assert_eq!(reopened.pack_size(), opts().pack_size);

    let again = Repository::init_with(store.clone(), PASSWORD, opts()).await.unwrap_err();
    assert!(matches!(again, StoreError::AlreadyInitialized), "{again}");

    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("repo/config")).unwrap()).unwrap();
    assert_eq!(config["format"], "vault365-repository");
    assert_eq!(config["version"], 1);
    assert_eq!(config["chunker"]["avg_size"], 1024 * 1024);
    assert_eq!(config["kdf"]["algorithm"], "argon2id-v19");
    assert_eq!(config["kdf"]["memory_kib"], 256);
    // Only the wrapped (encrypted) key is stored: 32 bytes + 28 bytes of nonce and tag.
    assert_eq!(config["wrapped_master_key"].as_str().unwrap().len(), 2 * (32 + 28));
}

#[tokio::test]
async fn wrong_password_is_refused() {
    let (_dir, store, _repo) = new_local().await;
    let err = Repository::open(store, "wrong").await.unwrap_err();
    assert!(matches!(err, StoreError::WrongPassword), "{err}");
    assert_eq!(err.to_string(), "wrong repository password");
}

#[tokio::test]
async fn empty_or_foreign_location_is_not_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    let store = local_store(&dir.path().join("fresh/nested")).unwrap();
    assert!(dir.path().join("fresh/nested").is_dir(), "local_store creates the directory");
    let err = Repository::open(store.clone(), PASSWORD).await.unwrap_err();
    assert!(matches!(err, StoreError::NotARepository(_)), "{err}");

    std::fs::write(dir.path().join("fresh/nested/config"), b"[core]\nrepositoryformatversion = 0\n").unwrap();
    let err = Repository::open(store, PASSWORD).await.unwrap_err();
    assert!(matches!(err, StoreError::NotARepository(_)), "{err}");

    let err = Repository::init_with(Arc::new(InMemory::new()), "", opts()).await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidOptions(_)), "empty password refused: {err}");
}

#[tokio::test]
async fn write_read_roundtrip_of_various_contents() {
    let (_dir, store, repo) = new_local().await;
    let random = random_bytes(10 * MIB, 1);
    let compressible: Vec<u8> = (0..6 * MIB)
        .map(|i| b"The quick brown fox jumps over the lazy dog. "[i % 45] ^ ((i / 4096) as u8 & 1))
        .collect();
    let cases: Vec<(&str, Vec<u8>)> =
        vec![("empty", vec![]), ("tiny", b"hello".to_vec()), ("random", random), ("compressible", compressible)];
    let mut refs = Vec::new();
    for (name, data) in &cases {
        let r = write_in_pieces(&repo, data, 1_000_003).await;
        assert_eq!(r.size, data.len() as u64, "{name}");
        // Readable before flush, from the pending pack.
        assert_eq!(repo.read_blob(&r.chunks).await.unwrap(), *data, "{name} before flush");
        refs.push(r);
    }
    assert!(refs[0].chunks.is_empty());
    assert_eq!(refs[1].chunks.len(), 1, "content below the minimum is one chunk");
    assert!((4..=30).contains(&refs[2].chunks.len()), "10 MiB at ~1 MiB average: {}", refs[2].chunks.len());
    // Incompressible: stored size is the data plus a small per-chunk overhead (nonce, tag, flag).
    let overhead = refs[2].new_stored_bytes - 10 * MIB as u64;
    assert!(overhead <= 29 * refs[2].chunks.len() as u64, "overhead {overhead}");
    // Compressible data is stored compressed.
    assert!(refs[3].new_stored_bytes < (6 * MIB / 10) as u64, "stored {}", refs[3].new_stored_bytes);

    repo.flush().await.unwrap();
    assert_eq!(repo.stats().pending_chunks, 0);
    let reopened = Repository::open(store, PASSWORD).await.unwrap();
    for ((name, data), r) in cases.iter().zip(&refs) {
        let mut got = Vec::new();
        let mut s = std::pin::pin!(reopened.blob_stream(&r.chunks));
        while let Some(b) = s.next().await {
            let b = b.unwrap();
            assert!(b.len() <= 4 * MIB, "stream yields chunk-sized pieces");
            got.extend_from_slice(&b);
        }
        assert_eq!(got, *data, "{name} after reopen");
        // The compact catalog form restores the same chunk list.
        assert_eq!(BlobRef::from_compact(&r.to_compact()).unwrap().chunks, r.chunks);
    }
}

#[tokio::test]
async fn range_reads_cross_chunk_boundaries() {
    let repo = Repository::init_with(Arc::new(InMemory::new()), PASSWORD, opts()).await.unwrap();
    let data = random_bytes(5 * MIB + 12345, 2);
    let r = repo.write_blob(&data).await.unwrap();
    assert!(r.chunks.len() >= 2);
    repo.flush().await.unwrap();
    let first = repo.chunk_size(&r.chunks[0]).unwrap();
    for (s, e) in [(0, 1), (0, data.len() as u64), (first - 10, first + 10), (first, first), (1_000_000, 4_500_000)] {
        let got = repo.read_blob_range(&r.chunks, s, e).await.unwrap();
        assert_eq!(&got[..], &data[s as usize..e as usize], "range {s}..{e}");
    }
    let err = repo.read_blob_range(&r.chunks, 0, data.len() as u64 + 1).await.unwrap_err();
    assert!(matches!(err, StoreError::RangeOutOfBounds { .. }), "{err}");
    let err = repo.read_blob_range(&r.chunks, 10, 5).await.unwrap_err();
    assert!(matches!(err, StoreError::RangeOutOfBounds { .. }), "{err}");
}

#[tokio::test]
async fn dedup_identical_content_and_local_edits() {
    let repo = Repository::init_with(Arc::new(InMemory::new()), PASSWORD, opts()).await.unwrap();
    let data = random_bytes(20 * MIB, 3);
    let first = write_in_pieces(&repo, &data, 65536).await;
    assert_eq!(first.new_chunks, first.chunks.len() as u64);
    // Same content, fed in different slice sizes: same chunks, nothing stored.
    let second = write_in_pieces(&repo, &data, 777_777).await;
    assert_eq!(second.chunks, first.chunks);
    assert_eq!((second.new_chunks, second.new_stored_bytes), (0, 0));

    // Overwrite 100 bytes in the middle: content-defined chunking re-syncs after the edit.
    let mut edited = data.clone();
    for b in &mut edited[10 * MIB..10 * MIB + 100] {
        *b = !*b;
    }
    let third = write_in_pieces(&repo, &edited, MIB).await;
    assert!((1..=2).contains(&third.new_chunks), "edit stored {} new chunks", third.new_chunks);
    assert!(third.new_stored_bytes <= 8 * MIB as u64 + 64);
    // Insert bytes in the middle (shifts everything after): still only a few chunks are new.
    let mut inserted = data[..7 * MIB].to_vec();
    inserted.extend_from_slice(b"inserted text");
    inserted.extend_from_slice(&data[7 * MIB..]);
    let fourth = write_in_pieces(&repo, &inserted, MIB).await;
    assert!((1..=2).contains(&fourth.new_chunks), "insert stored {} new chunks", fourth.new_chunks);

    repo.flush().await.unwrap();
    let stats = repo.stats();
    let unique: HashSet<ChunkId> = [&first, &third, &fourth].iter().flat_map(|r| r.chunks.iter().copied()).collect();
    assert_eq!(stats.chunks, unique.len() as u64);
    assert_eq!(stats.chunks, first.new_chunks + third.new_chunks + fourth.new_chunks);
    assert_eq!(stats.raw_bytes, unique.iter().map(|c| repo.chunk_size(c).unwrap()).sum::<u64>());
    assert_eq!(repo.read_blob(&third.chunks).await.unwrap(), edited);
    assert_eq!(repo.read_blob(&fourth.chunks).await.unwrap(), inserted);
}

#[tokio::test]
async fn index_persists_across_reopen() {
    let (_dir, store, repo) = new_local().await;
    let data = random_bytes(9 * MIB, 4);
    let r = repo.write_blob(&data).await.unwrap();
    repo.flush().await.unwrap();
    let before = repo.stats();
    assert!(before.packs >= 2, "4 MiB packs: {before:?}");
    drop(repo);

    let repo = Repository::open(store, PASSWORD).await.unwrap();
    assert_eq!(repo.stats(), before);
    assert!(r.chunks.iter().all(|c| repo.contains(c)));
    let again = repo.write_blob(&data).await.unwrap();
    assert_eq!(again.new_chunks, 0, "dedup against the loaded index");
    assert_eq!(repo.read_blob(&r.chunks).await.unwrap(), data);
}

#[tokio::test]
async fn drop_without_flush_loses_only_pending_data() {
    let (_dir, store, repo) = new_local().await;
    let durable = random_bytes(3 * MIB, 5);
    let a = repo.write_blob(&durable).await.unwrap();
    repo.flush().await.unwrap();
    let pending = random_bytes(MIB, 6);
    let b = repo.write_blob(&pending).await.unwrap();
    assert!(!repo.contains(&b.chunks[0]), "pending chunks are not durable yet");
    assert_eq!(repo.read_blob(&b.chunks).await.unwrap(), pending, "but readable");
    assert_eq!(repo.stats().pending_chunks, b.chunks.len() as u64);
    drop(repo); // "crash": no flush

    let repo = Repository::open(store, PASSWORD).await.unwrap();
    let report = repo.check(true).await.unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    assert!(report.unindexed_packs.is_empty());
    let err = repo.read_chunk(&b.chunks[0]).await.unwrap_err();
    assert!(matches!(err, StoreError::ChunkNotFound(_)), "{err}");
    // Re-writing stores exactly what was lost.
    assert_eq!(repo.write_blob(&durable).await.unwrap().new_chunks, 0);
    let b2 = repo.write_blob(&pending).await.unwrap();
    assert_eq!(b2.chunks, b.chunks);
    assert_eq!(b2.new_chunks, b.chunks.len() as u64);
    repo.flush().await.unwrap();
    assert_eq!(repo.read_blob(&a.chunks).await.unwrap(), durable);
}

#[tokio::test]
async fn pack_without_index_is_harmless_and_rebuild_index_adopts_it() {
    let (dir, store, repo) = new_local().await;
    let data = random_bytes(10 * MIB, 7);
    let r = repo.write_blob(&data).await.unwrap();
    repo.flush().await.unwrap();
    let packs = repo.stats().packs;
    assert!(packs >= 2);
    // Simulate a crash between pack upload and index upload: remove one index object.
    let indexes = files_under(&dir.path().join("repo/index"));
    assert_eq!(indexes.len() as u64, packs);
    std::fs::remove_file(&indexes[0]).unwrap();
    drop(repo);

    let repo = Repository::open(store.clone(), PASSWORD).await.unwrap();
    let report = repo.check(true).await.unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(report.unindexed_packs.len(), 1);
    assert_eq!(report.packs, packs);
    let lost: Vec<_> = r.chunks.iter().filter(|c| !repo.contains(c)).collect();
    assert!(!lost.is_empty() && lost.len() < r.chunks.len());
    // Only the unindexed pack's chunks are stored again.
    let again = repo.write_blob(&data).await.unwrap();
    let lost_unique: HashSet<_> = lost.iter().collect();
    assert_eq!(again.new_chunks, lost_unique.len() as u64);
    repo.flush().await.unwrap();

    // rebuild_index writes the missing index object from the pack trailer.
    let rebuilt = repo.rebuild_index().await.unwrap();
    assert_eq!(rebuilt.indexes_written, 1);
    assert_eq!(rebuilt.chunks_added, 0, "its chunks were re-stored meanwhile");
    assert!(rebuilt.problems.is_empty(), "{:?}", rebuilt.problems);
    let report = repo.check(true).await.unwrap();
    assert!(report.is_ok() && report.unindexed_packs.is_empty(), "{report:?}");
    assert_eq!(report.chunks_verified, repo.stats().chunks + lost_unique.len() as u64);
}

#[tokio::test]
async fn rebuild_index_from_packs_alone() {
    let (dir, store, repo) = new_local().await;
    let data = random_bytes(9 * MIB, 8);
    let r = repo.write_blob(&data).await.unwrap();
    repo.flush().await.unwrap();
    let before = repo.stats();
    std::fs::remove_dir_all(dir.path().join("repo/index")).unwrap();
    drop(repo);

    let repo = Repository::open(store.clone(), PASSWORD).await.unwrap();
    assert_eq!(repo.stats().chunks, 0);
    let rebuilt = repo.rebuild_index().await.unwrap();
    assert_eq!(rebuilt.packs_scanned, before.packs);
    assert_eq!(rebuilt.indexes_written, before.packs);
    assert_eq!(rebuilt.chunks_added, before.chunks);
    assert_eq!(repo.stats(), before);
    assert_eq!(repo.read_blob(&r.chunks).await.unwrap(), data);
    // Idempotent, and the rewritten index objects load at the next open.
    assert_eq!(repo.rebuild_index().await.unwrap().indexes_written, 0);
    let reopened = Repository::open(store, PASSWORD).await.unwrap();
    assert_eq!(reopened.stats(), before);
}

#[tokio::test]
async fn corruption_is_detected_by_check_and_reads() {
    let (dir, store, repo) = new_local().await;
    let data = random_bytes(2 * MIB, 9);
    let r = repo.write_blob(&data).await.unwrap();
    repo.flush().await.unwrap();
    let packs = files_under(&dir.path().join("repo/data"));
    assert_eq!(packs.len(), 1);
    // Flip one byte inside the first chunk's ciphertext.
    let mut bytes = std::fs::read(&packs[0]).unwrap();
    bytes[1000] ^= 0x01;
    std::fs::write(&packs[0], &bytes).unwrap();

    let repo = Repository::open(store.clone(), PASSWORD).await.unwrap();
    let quick = repo.check(false).await.unwrap();
    assert!(quick.is_ok(), "structure is intact: {:?}", quick.problems);
    let full = repo.check(true).await.unwrap();
    assert!(!full.is_ok());
    assert!(full.problems.iter().any(|p| matches!(p, Problem::BadPack { detail, .. } if detail.contains("hash"))));
    let bad: Vec<_> = full
        .problems
        .iter()
        .filter_map(|p| match p {
            Problem::BadChunk { chunk, .. } => Some(*chunk),
            _ => None,
        })
        .collect();
    assert_eq!(bad, vec![r.chunks[0]], "exactly the damaged chunk is reported");
    assert_eq!(full.chunks_verified, r.chunks.len() as u64 - 1);
    let err = repo.read_chunk(&r.chunks[0]).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(repo.read_chunk(&r.chunks[1]).await.is_ok(), "other chunks still readable");
    let streamed: Vec<_> = repo.blob_stream(&r.chunks).collect().await;
    assert!(streamed[0].is_err());
}

#[tokio::test]
async fn missing_pack_and_damaged_index_are_reported() {
    let (dir, store, repo) = new_local().await;
    let data = random_bytes(9 * MIB, 10);
    let r = repo.write_blob(&data).await.unwrap();
    repo.flush().await.unwrap();
    let packs = files_under(&dir.path().join("repo/data"));
    let indexes = files_under(&dir.path().join("repo/index"));
    assert!(packs.len() >= 2);
    // Lose one pack, damage another pack's index object.
    std::fs::remove_file(&packs[0]).unwrap();
    let lost_pack = packs[0].file_name().unwrap().to_str().unwrap().to_string();
    let damaged = indexes.iter().find(|p| p.file_name().unwrap().to_str().unwrap() != lost_pack).unwrap();
    let mut bytes = std::fs::read(damaged).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(damaged, &bytes).unwrap();
    std::fs::write(dir.path().join("repo/data/stray.txt"), b"?").unwrap();

    // Open survives a bad index object (skips it).
    let repo = Repository::open(store.clone(), PASSWORD).await.unwrap();
    let report = repo.check(false).await.unwrap();
    let kinds: Vec<_> = report.problems.iter().map(|p| serde_json::to_value(p).unwrap()["kind"].clone()).collect();
    assert_eq!(report.problems.len(), 3, "{:?}", report.problems);
    assert!(kinds.contains(&"missingPack".into()), "{kinds:?}");
    assert!(kinds.contains(&"badIndex".into()), "{kinds:?}");
    assert!(kinds.contains(&"strayObject".into()), "{kinds:?}");
    // Chunks of the lost pack are still indexed but their data is gone; chunks listed only by
    // the damaged index object are unknown.
    let (mut missing, mut unknown) = (0, 0);
    for c in &r.chunks {
        match repo.read_chunk(c).await {
            Err(StoreError::MissingObject(path)) => {
                assert!(path.contains(&lost_pack), "{path}");
                missing += 1;
            }
            Err(StoreError::ChunkNotFound(_)) => unknown += 1,
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => {}
        }
    }
    assert!(missing > 0 && unknown > 0, "missing {missing}, unknown {unknown}");

    // rebuild_index repairs the damaged index object (its pack is intact); the lost pack stays lost.
    let rebuilt = repo.rebuild_index().await.unwrap();
    assert_eq!(rebuilt.indexes_written, 1);
    assert_eq!(rebuilt.chunks_added, unknown);
    let report = repo.check(true).await.unwrap();
    let mut kinds: Vec<String> = report
        .problems
        .iter()
        .map(|p| serde_json::to_value(p).unwrap()["kind"].as_str().unwrap().to_string())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["missingPack", "strayObject"]);
    assert!(report.problems.iter().all(|p| !p.to_string().is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_share_packs_and_dedup() {
    let repo = Repository::init_with(Arc::new(InMemory::new()), PASSWORD, opts()).await.unwrap();
    let shared = random_bytes(3 * MIB, 100);
    let mut tasks = Vec::new();
    for t in 0..6u64 {
        let repo = repo.clone();
        let shared = shared.clone();
        tasks.push(tokio::spawn(async move {
            let own = random_bytes(2 * MIB + t as usize * 1000, 200 + t);
            let a = write_in_pieces(&repo, &own, 300_000).await;
            let b = write_in_pieces(&repo, &shared, 500_000).await;
            (own, a, b)
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    repo.flush().await.unwrap();
    let stats = repo.stats();
    assert_eq!((stats.pending_chunks, stats.pending_packs), (0, 0));
    let unique: HashSet<ChunkId> =
        results.iter().flat_map(|(_, a, b)| a.chunks.iter().chain(&b.chunks).copied()).collect();
    let total_new: u64 = results.iter().map(|(_, a, b)| a.new_chunks + b.new_chunks).sum();
    assert_eq!(total_new, unique.len() as u64, "every chunk stored exactly once");
    assert_eq!(stats.chunks, unique.len() as u64);
    for (own, a, b) in &results {
        assert_eq!(&repo.read_blob(&a.chunks).await.unwrap(), own);
        assert_eq!(repo.read_blob(&b.chunks).await.unwrap(), shared);
    }
    let report = repo.check(true).await.unwrap();
    assert!(report.is_ok() && report.unindexed_packs.is_empty(), "{report:?}");
    assert_eq!(report.chunks_verified, stats.chunks);
}

/// Backend that can be told to fail uploads of packs or of index objects.
#[derive(Debug)]
struct FlakyStore {
    inner: InMemory,
    /// Path prefix whose uploads fail ("" = none).
    fail_prefix: parking_lot::Mutex<&'static str>,
}

impl std::fmt::Display for FlakyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FlakyStore")
    }
}

mod flaky_impl {
    use super::FlakyStore;
    use futures::stream::BoxStream;
    use object_store::path::Path;
    use object_store::{
        CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore, PutMultipartOptions,
        PutOptions, PutPayload, PutResult, Result,
    };

    #[async_trait::async_trait]
    impl ObjectStore for FlakyStore {
        async fn put_opts(&self, location: &Path, payload: PutPayload, opts: PutOptions) -> Result<PutResult> {
            let prefix = *self.fail_prefix.lock();
            if !prefix.is_empty() && location.as_ref().starts_with(prefix) {
                return Err(object_store::Error::Generic { store: "flaky", source: "injected upload failure".into() });
            }
            self.inner.put_opts(location, payload, opts).await
        }
        async fn put_multipart_opts(
            &self,
            location: &Path,
            opts: PutMultipartOptions,
        ) -> Result<Box<dyn MultipartUpload>> {
            self.inner.put_multipart_opts(location, opts).await
        }
        async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
            self.inner.get_opts(location, options).await
        }
        fn delete_stream(&self, locations: BoxStream<'static, Result<Path>>) -> BoxStream<'static, Result<Path>> {
            self.inner.delete_stream(locations)
        }
        fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
            self.inner.list(prefix)
        }
        async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
            self.inner.list_with_delimiter(prefix).await
        }
        async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
            self.inner.copy_opts(from, to, options).await
        }
    }
}

#[tokio::test]
async fn failed_uploads_are_retried_by_flush() {
    let flaky = Arc::new(FlakyStore { inner: InMemory::new(), fail_prefix: parking_lot::Mutex::new("") });
    let store: Arc<dyn ObjectStore> = flaky.clone();
    let repo = Repository::init_with(store.clone(), PASSWORD, opts()).await.unwrap();
    let data = random_bytes(12 * MIB, 11);

    // Pack uploads fail: the write that fills a pack reports the error, the data stays in memory.
    *flaky.fail_prefix.lock() = "data/";
    let mut w = repo.blob_writer();
    let err = w.write(&data).await.unwrap_err();
    assert!(matches!(err, StoreError::Backend(_)), "{err}");
    drop(w);
    assert_eq!(repo.stats().pending_packs, 1);
    assert!(matches!(repo.flush().await.unwrap_err(), StoreError::Backend(_)), "flush fails while the backend does");

    // Index uploads fail after the pack went up: the in-process version of "crash between the two".
    *flaky.fail_prefix.lock() = "index/";
    assert!(repo.flush().await.is_err());
    assert_eq!(repo.stats().chunks, 0, "nothing is indexed before its index object is stored");
    let report = repo.check(false).await.unwrap();
    assert!(report.is_ok());
    assert!(!report.unindexed_packs.is_empty());

    // Backend healthy again: flush retries and everything written before is durable.
    *flaky.fail_prefix.lock() = "";
    repo.flush().await.unwrap();
    let stats = repo.stats();
    assert_eq!((stats.pending_chunks, stats.pending_packs), (0, 0));
    let r = repo.write_blob(&data).await.unwrap();
    let durable_before = r.chunks.len() as u64 - r.new_chunks;
    assert!(durable_before > 0, "chunks written before the failure were kept, not lost");
    repo.flush().await.unwrap();
    let reopened = Repository::open(store, PASSWORD).await.unwrap();
    assert_eq!(reopened.read_blob(&r.chunks).await.unwrap(), data);
    let report = reopened.check(true).await.unwrap();
    assert!(report.is_ok() && report.unindexed_packs.is_empty(), "{report:?}");
}

#[tokio::test]
async fn secrets_sealed_by_a_repository_open_only_there_and_for_their_purpose() {
    let (_dir, store, repo) = new_local().await;
    let sealed = repo.seal_secret("email:Veod:password", b"hunter2").unwrap();
    assert!(!sealed.windows(7).any(|w| w == b"hunter2"), "the secret must not be readable in the sealed value");
    assert_ne!(sealed, repo.seal_secret("email:Veod:password", b"hunter2").unwrap(), "random nonce per seal");

    // Any node that opens the repository with its password reads it back.
    let reopened = Repository::open(store, PASSWORD).await.unwrap();
    assert_eq!(reopened.open_secret("email:Veod:password", &sealed).unwrap(), b"hunter2");

    // Another purpose, an altered value, or another repository: refused.
    let e = repo.open_secret("email:Vesp:password", &sealed).unwrap_err();
    assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
    let mut altered = sealed.clone();
    *altered.last_mut().unwrap() ^= 1;
    assert!(repo.open_secret("email:Veod:password", &altered).is_err());
    assert!(repo.open_secret("email:Veod:password", &sealed[..10]).is_err());
    let other = Repository::init_with(Arc::new(InMemory::new()), PASSWORD, opts()).await.unwrap();
    assert!(other.open_secret("email:Veod:password", &sealed).is_err());
}
