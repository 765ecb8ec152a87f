//! Content store: deduplicated, compressed, encrypted chunk storage on an [`object_store`] backend.
//!
//! # Model
//! A *blob* (one file version's content) is cut into content-defined chunks (FastCDC v2020,
//! 256 KiB / 1 MiB / 4 MiB by default). A chunk is named by the keyed BLAKE3 of its plaintext
//! ([`ChunkId`]), compressed with zstd when that helps, encrypted with AES-256-GCM (chunk id as
//! associated data) and appended to a *pack* (~16 MiB). A blob is remembered as a [`BlobRef`]:
//! its chunk list and size, which the catalog stores.
//!
//! # Layout (self-describing, restic-like)
//! ```text
//! config                 JSON: format, version, id, chunker/pack/zstd parameters, Argon2id
//!                        parameters + salt, master key wrapped under the password
//! data/{xx}/{pack id}    packs: chunk frames + encrypted index trailer + footer
//! index/{pack id}        encrypted list of (chunk id, offset, stored length, raw length)
//! ```
//! The in-memory index (chunk id → pack location) is loaded from `index/` at open. A pack is
//! uploaded before its index object, so a crash leaves at worst an unindexed pack, which
//! [`Repository::check`] reports as harmless and [`Repository::rebuild_index`] adopts.
//!
//! # Backends
//! [`local_store`] (a directory) or [`s3_store`] (an S3-compatible bucket, see [`S3Config`]); anything else that
//! implements [`ObjectStore`] works too.
//!
//! # Use
//! ```no_run
//! # async fn demo(dir: &std::path::Path) -> repo::store::Result<()> {
//! use futures::StreamExt;
//! use repo::store::{local_store, Repository};
//! let repo = Repository::init(local_store(dir)?, "password").await?;
//! let mut w = repo.blob_writer();
//! w.write(b"hello ").await?;
//! w.write(b"world").await?;
//! let blob = w.finish().await?;
//! repo.flush().await?; // now durable: safe to commit a catalog record referencing `blob`
//! let mut content = repo.blob_stream(&blob.chunks);
//! while let Some(bytes) = content.next().await {
//!     let _bytes = bytes?;
//! }
//! # Ok(()) }
//! ```

mod check;
mod chunker;
mod config;
mod crypto;
mod error;
mod ids;
mod pack;
mod repository;
mod s3;
mod writer;

pub use check::{CheckReport, Problem, RebuildReport};
pub use config::{ChunkerParams, InitOptions, FORMAT_VERSION};
pub use crypto::KdfParams;
pub use error::{Result, StoreError};
pub use ids::{BlobRef, ChunkId, PackId};
pub use repository::{local_store, Repository, Stats};
pub use s3::{s3_store, S3Config, DEFAULT_REGION};
pub use writer::BlobWriter;

/// The storage abstraction a [`Repository`] is built on (re-exported so callers need no direct `object_store`
/// dependency): [`local_store`] and [`s3_store`] return one.
pub use object_store::ObjectStore;
