//! The integration tests of the `emulator` crate, linked into one test binary (one link and one copy of the
//! dependencies instead of one per file). Run one file's tests with `cargo test -p emulator --test suite <file>::`.

mod common;
mod drive_support;

mod auth;
mod content;
mod control;
mod csdl_contract;
mod delta;
mod faults;
mod items;
mod lists;
mod mail;
mod msgraph_sdk;
mod permissions;
mod persistence;
mod seed;
mod sharepoint;
mod sites;
mod smoke;
mod upload;
mod users;
mod versions;
