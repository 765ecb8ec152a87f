//! Client for Microsoft 365: Entra ID authentication, Microsoft Graph (drives, items, delta,
//! versions, permissions, sites, lists) and SharePoint REST. Base URLs are configuration, so the
//! same code talks to Microsoft's cloud or to the vault365 tenant emulator.

pub mod api;
pub mod assertion;
pub mod auth;
pub mod client;
pub mod config;
pub mod error;
pub mod retry;
pub mod sp_write;
pub mod types;
pub mod write;

pub use auth::{Resource, TokenProvider};
pub use client::{DeltaPage, GraphClient};
pub use config::{Credential, Endpoints, TenantConfig};
pub use error::M365Error;
