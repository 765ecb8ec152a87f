//! The operations, one module per resource family. They are registered in the route table, `router.rs` (see "How to
//! add an operation" there).

pub mod actions;
pub mod auth;
pub mod browse;
pub mod browse_util;
pub mod email_settings;
pub mod health;
pub mod job_items;
pub mod job_sessions;
pub mod jobs;
pub mod onedrive;
pub mod organizations;
pub mod restore;
pub mod restore_sessions;
pub mod route_paths;
pub mod save;
pub mod scope;
pub mod search;
pub mod send;
pub mod sharepoint;
pub mod sp_attachments;
pub mod sp_restore;
