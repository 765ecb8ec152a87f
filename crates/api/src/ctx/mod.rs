//! Request contexts: extractors that authenticate the caller and load the resource a route addresses (the working
//! restore session, its OneDrive or site), so that handlers receive resolved values instead of raw ids.

pub mod auth;
pub mod catalog_view;
pub mod drive;
pub mod restore_auth;
pub mod site;
mod store_error;
pub mod working;
