//! The integration tests of the `api` crate, linked into one test binary (one link and one copy of the
//! dependencies instead of one per file). Run one file's tests with `cargo test -p api --test suite <file>::`.

mod common;

mod connection_limits;
mod email_security;
mod eras;
mod health;
mod http;
mod inproc;
mod job_sessions;
mod jobs;
mod logon_security;
mod onedrive;
mod openapi;
mod organizations;
mod restore;
mod restore_jobs;
mod restore_semantics;
mod restore_stop;
mod save;
mod search;
mod security;
mod send;
mod sessions;
mod sharepoint;
mod sp_restore;
mod vendor_contract;
