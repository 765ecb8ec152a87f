//! The content store on a real S3-compatible server (`VAULT365_TEST_S3=s3+http://KEY:SECRET@host:port/bucket`,
//! started by `scripts/test.sh` through `scripts/s3-test-server.sh`). Each test works under a fresh key prefix.
//!
//! Unset variable: the tests skip with a printed note (developer run). Set variable with an unreachable server or
//! wrong credentials: the tests FAIL.

use std::sync::Arc;

use futures::TryStreamExt;
use repo::store::{s3_store, BlobRef, InitOptions, ObjectStore, Problem, Repository, S3Config, StoreError};

const MIB: usize = 1024 * 1024;
const PASSWORD: &str = "correct horse battery staple";

/// The test server's settings with a fresh prefix, or `None` (after a note) when the variable is unset.
fn config() -> Option<S3Config> {
    let url = test_support::test_server_var("VAULT365_TEST_S3", "S3 store")?;
    let mut cfg = S3Config::from_url(&url).unwrap_or_else(|e| panic!("VAULT365_TEST_S3: {e}"));
    cfg.prefix = Some(format!("store-test-{}", uuid::Uuid::new_v4().simple()));
    Some(cfg)
}

/// A store on the test bucket; panics (fails the test) when the server does not answer.
async fn store(cfg: &S3Config) -> Arc<dyn ObjectStore> {
    let store = s3_store(cfg).unwrap();
    store
        .list(None)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_or_else(|e| panic!("VAULT365_TEST_S3 is set but the server is unreachable: {e}"));
    store
}

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

fn opts() -> InitOptions {
    InitOptions { pack_size: 4 * MIB as u32, ..InitOptions::insecure_fast_kdf() }
}

async fn write(repo: &Repository, data: &[u8]) -> BlobRef {
    let mut w = repo.blob_writer();
    for piece in data.chunks(300_000) {
        w.write(piece).await.unwrap();
    }
    w.finish().await.unwrap()
}

#[tokio::test]
async fn init_open_write_read_dedup_and_check_on_s3() {
    let Some(cfg) = config() else { return };
    let store = store(&cfg).await;
    assert!(matches!(Repository::open(store.clone(), PASSWORD).await, Err(StoreError::NotARepository(_))));
    let repo = Repository::init_with(store.clone(), PASSWORD, opts()).await.unwrap();
    // The conditional put refuses a second init on the same prefix (the key is never overwritten).
    let again = Repository::init_with(store.clone(), PASSWORD, opts()).await.unwrap_err();
    assert!(matches!(again, StoreError::AlreadyInitialized), "{again}");

    let data = random_bytes(9 * MIB, 1);
    let small = b"small file on S3".to_vec();
    let big = write(&repo, &data).await;
    let little = write(&repo, &small).await;
    assert_eq!(big.new_chunks, big.chunks.len() as u64);
    // Dedup: the same content again stores nothing.
    let dup = write(&repo, &data).await;
    assert_eq!((dup.chunks.clone(), dup.new_chunks, dup.new_stored_bytes), (big.chunks.clone(), 0, 0));
    repo.flush().await.unwrap();
    let stats = repo.stats();
    assert!(stats.packs >= 2, "4 MiB packs: {stats:?}");
    assert_eq!(stats.pending_chunks, 0);

    // Another process (node) opening the bucket reads everything and deduplicates against it.
    let other = Repository::open(s3_store(&cfg).unwrap(), PASSWORD).await.unwrap();
    assert_eq!(other.id(), repo.id());
    assert_eq!(other.read_blob(&big.chunks).await.unwrap(), data);
    assert_eq!(other.read_blob(&little.chunks).await.unwrap(), small);
    assert_eq!(other.read_blob_range(&big.chunks, MIB as u64, MIB as u64 + 10).await.unwrap()[..], data[MIB..MIB + 10]);
    assert_eq!(write(&other, &data).await.new_chunks, 0);
    // What the other node writes becomes visible here after refresh_index.
    let from_other = write(&other, &random_bytes(MIB, 2)).await;
    other.flush().await.unwrap();
    assert!(!repo.contains(&from_other.chunks[0]));
    assert!(repo.refresh_index().await.unwrap() > 0);
    assert!(repo.contains(&from_other.chunks[0]));

    let report = repo.check(true).await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.chunks_verified, report.chunks);

    assert!(matches!(Repository::open(store.clone(), "wrong").await, Err(StoreError::WrongPassword)));
}

#[tokio::test]
async fn a_lost_pack_on_s3_is_reported() {
    let Some(cfg) = config() else { return };
    let store = store(&cfg).await;
    let repo = Repository::init_with(store.clone(), PASSWORD, opts()).await.unwrap();
    let blob = write(&repo, &random_bytes(6 * MIB, 3)).await;
    repo.flush().await.unwrap();
    let packs: Vec<_> = store.list(Some(&"data".into())).try_collect().await.unwrap();
    assert!(packs.len() >= 2, "{packs:?}");
    use object_store::ObjectStoreExt;
    store.delete(&packs[0].location).await.unwrap();

    let repo = Repository::open(store, PASSWORD).await.unwrap();
    let report = repo.check(false).await.unwrap();
    assert!(report.problems.iter().any(|p| matches!(p, Problem::MissingPack { .. })), "{report:?}");
    let mut missing = 0;
    for c in &blob.chunks {
        match repo.read_chunk(c).await {
            Err(StoreError::MissingObject(_)) => missing += 1,
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => {}
        }
    }
    assert!(missing > 0);
}

#[tokio::test]
async fn wrong_credentials_are_a_backend_error() {
    let Some(mut cfg) = config() else { return };
    cfg.secret_key.push_str("-wrong");
    let err = Repository::open(s3_store(&cfg).unwrap(), PASSWORD).await.unwrap_err();
    assert!(matches!(err, StoreError::Backend(_)), "{err}");
}
