//! The integration tests of the `engine` crate, linked into one test binary (one link and one copy of the
//! dependencies instead of one per file). Run one file's tests with `cargo test -p engine --test suite <file>::`.

mod common;

mod backup;
mod check;
mod export;
mod restore;
mod restore_stop;
mod save;
mod scaleout;
mod send;
mod sp_restore;
