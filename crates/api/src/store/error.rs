//! [`StoreError`]: how the API's tables fail. The store knows no HTTP; `From<StoreError> for ApiError`
//! (in `ctx::store_error`) gives each failure its status and message.

/// A failure of the API's tables.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed (500 "A database error occurred."; the cause is logged, not shown).
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// No record of that id for this caller: unknown, malformed, or another user's (404 with this message).
    #[error("{0}")]
    NotFound(String),
    /// The restore session is stopped. Its answer depends on the era, which the caller knows
    /// (`ctx::working`); without one it is the v2–v7 answer (500).
    #[error("the restore session is stopped")]
    SessionStopped,
    /// Input that cannot be stored or used; the message names the field (400).
    #[error("{0}")]
    Invalid(String),
    /// A stored value is unreadable, or the store could not complete a write (500 with this message).
    #[error("{0}")]
    Internal(String),
}

/// The store's result type.
pub type StoreResult<T> = Result<T, StoreError>;
