//! One module per CLI command.

/// A command's end that is not plain success, with the process exit status it sets (README, "Exit status"); any other
/// error exits 1.
#[derive(Debug)]
pub struct Exit {
    /// The exit status.
    pub code: u8,
    /// What to print on standard error.
    pub message: String,
}

impl Exit {
    /// A backup that finished, with warnings (its restore point exists).
    pub const WARNINGS: u8 = 3;
    /// A backup refused because the organization is being backed up right now.
    pub const BUSY: u8 = 4;
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

pub mod api_backups;
pub mod backup;
pub mod demo;
pub mod emulator;
pub mod export;
pub mod job;
pub mod org;
pub mod repo;
pub mod restore_point;
pub mod serve;
pub mod session;
pub mod user;
pub mod worker;
