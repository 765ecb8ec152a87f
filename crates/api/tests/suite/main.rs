//! The integration tests of the `api` crate, linked into one test binary (one link and one copy of the
//! dependencies instead of one per file). Run one file's tests with `cargo test -p api --test suite <file>::`.

mod common;
#[path = "../../../engine/tests/suite/smtp_server/mod.rs"]
mod smtp_server;

mod http;
mod onedrive;
mod organizations;
mod restore;
mod restore_jobs;
mod save;
mod search;
mod security;
mod send;
mod sessions;
mod sharepoint;
mod sp_restore;
