//! The integration tests of the `repo` crate, linked into one test binary (one link and one copy of the
//! dependencies instead of one per file). Run one file's tests with `cargo test -p repo --test suite <file>::`.

mod catalog;
mod store;
mod store_s3;
