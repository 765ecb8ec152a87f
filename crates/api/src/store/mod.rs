//! API-owned state in the catalog database: accounts and tokens, logon throttling, restore sessions and their
//! events, restore jobs and their stop signals, device codes, email settings; plus the argon2 pool that hashes
//! account passwords. The tables come with the catalog's versioned migrations (`repo::catalog`, version 4); the
//! functions fail with [`StoreError`], which knows no HTTP.

pub mod accounts;
pub mod device_codes;
pub mod email_settings;
pub mod error;
pub mod logon_throttle;
pub mod password_pool;
pub mod restore_jobs;
pub mod restore_stop;
pub mod running_restores;
pub mod sessions;

pub use error::{StoreError, StoreResult};
