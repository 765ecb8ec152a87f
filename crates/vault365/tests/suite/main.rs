//! The integration tests of the `vault365` crate, linked into one test binary (one link and one copy of the
//! dependencies instead of one per file). Run one file's tests with `cargo test -p vault365 --test suite <file>::`.

mod common;

mod backup_cli;
mod cluster_cli;
mod demo_cli;
mod emulator_cli;
mod jobs_cli;
mod logon_cli;
mod reliability_cli;
mod scaleout_cli;
mod serve_cli;
mod veeam_client;
