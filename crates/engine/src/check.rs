//! `repo check`: verifies the content store and that everything the catalog references is in it.
//!
//! [`check_repository`] runs [`Repository::check`] (index objects, pack presence, and with `read_data` every pack's
//! bytes) and then walks every content reference the catalog holds ([`Catalog::referenced_content`]): each must
//! decode as a [`BlobRef`] and each of its chunks must be in the store's index. Damage the store check found is
//! attributed to the catalog: for every lost or corrupt chunk the summary says how many content references (file
//! contents, versions, attachments) need it, i.e. how much backed-up data is affected.
//!
//! `Repository::contains` answers from the index loaded when the repository was opened, so for an authoritative
//! answer check a freshly opened [`Repository`]. Damage behind that in-memory index (a pack deleted after opening)
//! is still found: when the store check reports missing or damaged packs, every referenced chunk is read once to
//! find which ones are affected (costly, but only on a damaged repository).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use futures::StreamExt;
use repo::catalog::{Catalog, CatalogError};
use repo::store::{BlobRef, CheckReport, ChunkId, Problem, Repository, StoreError};
use serde::Serialize;

/// Failures that prevent the check itself (as opposed to problems it finds).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The content store could not be listed or read (backend failure).
    #[error("content store: {0}")]
    Store(#[from] StoreError),
    /// The catalog could not be read.
    #[error("catalog: {0}")]
    Catalog(#[from] CatalogError),
}

/// One problem found by [`check_repository`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum CheckProblem {
    /// A problem of the content store itself, as [`Repository::check`] reported it.
    Store {
        /// The store's problem.
        problem: Problem,
    },
    /// A content reference in the catalog is not a valid [`BlobRef`]: the data it stood for cannot be located.
    UndecodableReference {
        /// Hex of the reference's first bytes.
        reference: String,
        /// Why decoding failed.
        detail: String,
    },
    /// A chunk the catalog needs is not in the store's index.
    MissingChunk {
        /// The chunk.
        chunk: ChunkId,
        /// Content references (file contents, versions, attachments) that include it.
        references: u64,
    },
    /// A chunk the catalog needs is indexed but cannot be read back intact (its pack is gone or damaged).
    DamagedChunk {
        /// The chunk.
        chunk: ChunkId,
        /// Content references that include it.
        references: u64,
        /// What failed.
        detail: String,
    },
}

impl fmt::Display for CheckProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckProblem::Store { problem } => write!(f, "content store: {problem}"),
            CheckProblem::UndecodableReference { reference, detail } => {
                write!(f, "catalog content reference {reference} cannot be decoded: {detail}")
            }
            CheckProblem::MissingChunk { chunk, references } => {
                write!(f, "chunk {chunk} is missing from the store ({references} content references need it)")
            }
            CheckProblem::DamagedChunk { chunk, references, detail } => {
                write!(f, "chunk {chunk} cannot be read: {detail} ({references} content references need it)")
            }
        }
    }
}

/// Result of [`check_repository`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckSummary {
    /// The content store's own report (counts, unindexed packs, problems).
    pub store: CheckReport,
    /// Whether pack data was read and verified.
    pub read_data: bool,
    /// Distinct content references found in the catalog.
    pub references: u64,
    /// Chunk references checked (a chunk shared by several references counts once per reference).
    pub chunk_references: u64,
    /// Everything wrong: the store's problems first, then undecodable references, missing and damaged chunks.
    pub problems: Vec<CheckProblem>,
}

impl CheckSummary {
    /// True when neither the store nor the cross-check found a problem.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks the content store (reading all pack data when `read_data`) and that every content reference in the catalog
/// decodes and has all its chunks in the store. Problems are collected, not returned as errors; see [`CheckError`]
/// for what aborts.
pub async fn check_repository(
    catalog: &Catalog,
    repo: &Repository,
    read_data: bool,
) -> Result<CheckSummary, CheckError> {
    let store = repo.check(read_data).await?;
    // Chunks the store check already named as corrupt.
    let mut known_bad: HashMap<ChunkId, String> = HashMap::new();
    let mut probe = false;
    for p in &store.problems {
        match p {
            Problem::BadChunk { chunk, detail, .. } => {
                known_bad.insert(*chunk, detail.clone());
            }
            // The index cannot tell which chunks lived in a missing or damaged pack: read them to find out.
            Problem::MissingPack { .. } | Problem::BadPack { .. } => probe = true,
            _ => {}
        }
    }

    let mut undecodable = Vec::new();
    let mut missing: BTreeMap<ChunkId, u64> = BTreeMap::new();
    let mut damaged: BTreeMap<ChunkId, (u64, String)> = BTreeMap::new();
    // Probe results (`Some(detail)` = unreadable); only filled on a damaged store.
    let mut probed: HashMap<ChunkId, Option<String>> = HashMap::new();
    let mut references = 0u64;
    let mut chunk_references = 0u64;

    let mut refs = catalog.referenced_content();
    while let Some(r) = refs.next().await {
        let r = r?;
        references += 1;
        let blob = match BlobRef::from_compact(&r) {
            Ok(b) => b,
            Err(e) => {
                undecodable
                    .push(CheckProblem::UndecodableReference { reference: hex_prefix(&r), detail: e.to_string() });
                continue;
            }
        };
        // A chunk repeated inside one blob (e.g. runs of zeros) counts once for that reference.
        let distinct: HashSet<ChunkId> = blob.chunks.iter().copied().collect();
        chunk_references += distinct.len() as u64;
        for c in distinct {
            if !repo.contains(&c) {
                *missing.entry(c).or_default() += 1;
                continue;
            }
            let bad = match known_bad.get(&c) {
                Some(detail) => Some(detail.clone()),
                None if probe => match probed.get(&c) {
                    Some(result) => result.clone(),
                    None => {
                        let result = repo.read_chunk(&c).await.err().map(|e| e.to_string());
                        probed.insert(c, result.clone());
                        result
                    }
                },
                None => None,
            };
            if let Some(detail) = bad {
                damaged.entry(c).or_insert((0, detail)).0 += 1;
            }
        }
    }
    drop(refs);

    let mut problems: Vec<CheckProblem> =
        store.problems.iter().cloned().map(|problem| CheckProblem::Store { problem }).collect();
    problems.extend(undecodable);
    problems.extend(missing.into_iter().map(|(chunk, references)| CheckProblem::MissingChunk { chunk, references }));
    problems.extend(damaged.into_iter().map(|(chunk, (references, detail))| CheckProblem::DamagedChunk {
        chunk,
        references,
        detail,
    }));
    Ok(CheckSummary { store, read_data, references, chunk_references, problems })
}

/// Hex of the first 32 bytes of `b` (enough to find the row; references can be long).
fn hex_prefix(b: &[u8]) -> String {
    let mut s: String = b.iter().take(32).map(|x| format!("{x:02x}")).collect();
    if b.len() > 32 {
        s.push('…');
    }
    s
}
