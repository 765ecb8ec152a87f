//! Domain types shared by every vault365 crate. Kept free of I/O so that both the tenant
//! emulator and the real client agree on the same definitions.

pub mod quickxor;
