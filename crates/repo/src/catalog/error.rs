//! Errors of the catalog.

/// Everything that can go wrong in a catalog operation.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The database reported an error (connection, I/O, SQL).
    #[error("catalog database error: {0}")]
    Database(#[source] sqlx::Error),
    /// A uniqueness rule was violated, e.g. an organization name that is already taken.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The row is still referenced by other rows (e.g. an organization that has jobs).
    #[error("{0} is still in use")]
    InUse(String),
    /// The job already has a running backup session (one job runs once at a time).
    #[error("{0}")]
    Busy(String),
    /// The addressed row does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The operation does not fit the current state (finishing a finished session, writing a state older than the
    /// current one, ...).
    #[error("invalid catalog operation: {0}")]
    InvalidState(String),
    /// A value read from the catalog cannot be interpreted (bad UUID, bad JSON, unknown enum label, parent cycle).
    #[error("corrupt catalog data: {0}")]
    Corrupt(String),
    /// The connection URL names a database this catalog does not support.
    #[error("unsupported catalog URL {0:?}: expected sqlite:// or postgres://")]
    UnsupportedUrl(String),
    /// The database was migrated by a newer vault365 than this one.
    #[error("catalog schema version {found} is newer than the supported version {supported}")]
    SchemaTooNew {
        /// Version found in `schema_version`.
        found: i64,
        /// Highest version this build knows.
        supported: i64,
    },
}

impl From<sqlx::Error> for CatalogError {
    fn from(e: sqlx::Error) -> Self {
        CatalogError::Database(e)
    }
}

/// Result type of the catalog.
pub type Result<T, E = CatalogError> = std::result::Result<T, E>;

/// Classifies constraint violations of `e`: a unique violation becomes `unique()`, a foreign-key violation `fk()`,
/// anything else stays a [`CatalogError::Database`].
pub(crate) fn constraint(
    e: sqlx::Error,
    unique: impl FnOnce() -> CatalogError,
    fk: impl FnOnce() -> CatalogError,
) -> CatalogError {
    if let Some(db) = e.as_database_error() {
        match db.kind() {
            sqlx::error::ErrorKind::UniqueViolation => return unique(),
            sqlx::error::ErrorKind::ForeignKeyViolation => return fk(),
            _ => {}
        }
    }
    CatalogError::Database(e)
}
