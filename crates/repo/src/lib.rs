//! Repository: content store and catalog.
pub mod catalog;
pub mod store;
