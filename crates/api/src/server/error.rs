//! Start-up failures of the server, in a module of their own so that the parts of the server (TLS) can return them
//! without importing the server.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Start-up failures.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// TLS material missing or unusable.
    #[error("TLS: {0}")]
    Tls(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The failure.
        source: std::io::Error,
    },
    /// A configuration value is unusable (the message names it).
    #[error("configuration: {0}")]
    Config(String),
    /// The API tables could not be created.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

impl ServerError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> ServerError {
        ServerError::Io { path: path.to_path_buf(), source }
    }
}
