//! The one engine behind every API dialect: backup, restore (original location, copyTo; OneDrive and SharePoint),
//! save (ZIP / raw), send (email) of a [`selection::Selection`], export and check.
//! It reads the tenant through `m365`, stores content in the `repo` content store and records
//! what it saw in the `repo` catalog.

pub mod backup;
pub mod check;
pub mod export;
pub mod job;
pub mod progress;
pub mod restore;
mod restore_view;
pub mod save;
pub mod selection;
pub mod send;
pub mod sp_restore;

pub use backup::{
    run_backup, start_backup, stopped, BackupBusy, BackupContext, BackupReport, BackupRun, BackupScope, BackupStopped,
    SESSION_HEARTBEAT,
};
