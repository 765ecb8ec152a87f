//! Error type of the content store.

/// Result alias used throughout [`crate::store`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything that can go wrong in the content store.
///
/// Corrupted or tampered data never panics; it surfaces as [`StoreError::Corrupt`] (or
/// [`StoreError::WrongPassword`] for the repository key itself).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The location holds no repository `config` object (or one that is not ours).
    #[error("not a vault365 repository: {0}")]
    NotARepository(String),
    /// [`crate::store::Repository::init`] found an existing `config` object.
    #[error("a repository already exists at this location")]
    AlreadyInitialized,
    /// The password does not unlock the repository key (AEAD authentication failed).
    #[error("wrong repository password")]
    WrongPassword,
    /// The repository was written by a newer (or unknown) format version.
    #[error("unsupported repository format version {found} (this build supports version {supported})")]
    UnsupportedVersion {
        /// Version found in the `config` object.
        found: u32,
        /// Version this build reads and writes.
        supported: u32,
    },
    /// Invalid [`crate::store::InitOptions`] or an invalid parameter in a stored `config`.
    #[error("invalid repository options: {0}")]
    InvalidOptions(String),
    /// The chunk (hex id) is neither in the index nor pending in memory.
    #[error("chunk {0} is not in the repository")]
    ChunkNotFound(String),
    /// An object the index refers to does not exist in the backend.
    #[error("object {0} is missing from the repository")]
    MissingObject(String),
    /// Stored data failed authentication, decoding or hash verification.
    #[error("corrupt data in {object}: {detail}")]
    Corrupt {
        /// Object (or chunk) the corruption was found in.
        object: String,
        /// What exactly failed.
        detail: String,
    },
    /// A byte range outside a blob was requested.
    #[error("range {start}..{end} is outside the blob of {size} bytes")]
    RangeOutOfBounds {
        /// Requested start (inclusive).
        start: u64,
        /// Requested end (exclusive).
        end: u64,
        /// Size of the blob.
        size: u64,
    },
    /// Error of the object-store backend (local filesystem, S3, ...).
    #[error("storage backend error: {0}")]
    Backend(#[from] object_store::Error),
    /// Local I/O error (creating the repository directory).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Unexpected internal failure (random generator, background task).
    #[error("internal error: {0}")]
    Internal(String),
}

impl StoreError {
    pub(crate) fn corrupt(object: impl Into<String>, detail: impl Into<String>) -> Self {
        StoreError::Corrupt { object: object.into(), detail: detail.into() }
    }
}

impl From<tokio::task::JoinError> for StoreError {
    fn from(e: tokio::task::JoinError) -> Self {
        StoreError::Internal(format!("background task failed: {e}"))
    }
}
