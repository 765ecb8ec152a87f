//! One module per CLI command.

pub mod backup;
pub mod demo;
pub mod emulator;
pub mod export;
pub mod org;
pub mod repo;
pub mod serve;
pub mod session;
pub mod user;
pub mod worker;
