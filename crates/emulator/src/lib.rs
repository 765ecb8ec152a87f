//! vault365's Microsoft 365 tenant emulator: Entra ID token endpoints, a Microsoft Graph v1.0
//! subset (users, drives, items, delta, versions, permissions, uploads, sites, lists, mail) and
//! SharePoint REST list-item attachments, with persisted state, deterministic seeding, fault
//! injection and a `/_emulator` control API. See graph-notes §12 for the behaviour it imitates.

// Handlers return full HTTP responses as their error type; boxing them would only add noise.
#![allow(clippy::result_large_err)]

pub mod auth;
pub mod content;
pub mod control;
pub mod ctx;
pub mod download;
pub mod emu;
pub mod error;
pub mod faults;
pub mod graph;
pub mod ids;
pub mod preauth;
pub mod seed;
pub mod server;
pub mod sharepoint;
pub mod state;
pub mod upload_url;

pub use server::{start, EmulatorConfig, RunningEmulator};
