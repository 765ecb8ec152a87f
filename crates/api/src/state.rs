//! Shared state of every handler.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use repo::catalog::Catalog;
use repo::store::Repository;

/// Token lifetimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenPolicy {
    /// Access-token lifetime (the vendor's: 60 minutes; `expires_in` = 3600).
    pub access_ttl: chrono::Duration,
    /// Refresh-token lifetime (the vendor does not document one; 14 days here).
    pub refresh_ttl: chrono::Duration,
}

impl Default for TokenPolicy {
    fn default() -> TokenPolicy {
        TokenPolicy { access_ttl: chrono::Duration::minutes(60), refresh_ttl: chrono::Duration::days(14) }
    }
}

/// Everything a handler may need; cheap to clone (handles and `Arc`s).
///
/// Other components add fields here (with a default set in [`AppState::new`] and a `with_…` setter), so that
/// existing constructors keep compiling.
#[derive(Clone)]
pub struct AppState {
    /// The backup catalog (organizations, restore points, point-in-time item states). Its pool also holds the API's
    /// own tables (accounts, tokens).
    pub catalog: Catalog,
    /// The content repository; `None` when the server runs without one (browse-only, tests).
    pub repo: Option<Repository>,
    /// The server's data directory (TLS material under `tls/`, caches).
    pub data_dir: PathBuf,
    /// Token lifetimes.
    pub tokens: TokenPolicy,
    /// Largest accepted request body in bytes (set from [`crate::ApiConfig::max_body_bytes`] by `start`).
    pub max_body_bytes: usize,
    /// Whether email settings may send credentials unencrypted (set from
    /// [`crate::ApiConfig::allow_plaintext_mail_credentials`] by `start`; default false).
    pub allow_plaintext_mail_credentials: bool,
    /// A value shared by every clone; for components that need a cache/registry without a new field each.
    pub shared: Arc<SharedExtensions>,
}

/// Type-keyed values shared by all clones of an [`AppState`] (e.g. a restore-session registry).
#[derive(Default)]
pub struct SharedExtensions(Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>);

impl SharedExtensions {
    /// The shared value of type `T`, created by `init` on first use.
    pub fn get_or_insert_with<T: Send + Sync + 'static>(&self, init: impl FnOnce() -> T) -> Arc<T> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = map.get(&TypeId::of::<T>()).and_then(|v| Arc::clone(v).downcast::<T>().ok()) {
            return v;
        }
        let v = Arc::new(init());
        map.insert(TypeId::of::<T>(), v.clone());
        v
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("repo", &self.repo.as_ref().map(|r| r.id().to_string()))
            .field("data_dir", &self.data_dir)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State with default token lifetimes and body limit.
    pub fn new(catalog: Catalog, repo: Option<Repository>, data_dir: impl Into<PathBuf>) -> AppState {
        AppState {
            catalog,
            repo,
            data_dir: data_dir.into(),
            tokens: TokenPolicy::default(),
            max_body_bytes: crate::ApiConfig::default().max_body_bytes,
            allow_plaintext_mail_credentials: crate::ApiConfig::default().allow_plaintext_mail_credentials,
            shared: Arc::new(SharedExtensions::default()),
        }
    }

    /// Replaces the token lifetimes.
    pub fn with_token_policy(mut self, tokens: TokenPolicy) -> AppState {
        self.tokens = tokens;
        self
    }

    /// The SQL pool of the catalog (API tables live there too).
    pub fn pool(&self) -> &sqlx::AnyPool {
        self.catalog.pool()
    }
}
