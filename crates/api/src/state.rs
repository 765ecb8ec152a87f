//! Shared state of every handler.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use m365::Endpoints;
use repo::catalog::Catalog;
use repo::store::Repository;
use uuid::Uuid;

use crate::store::running_restores::RunningRestores;

/// Idle time after which a working restore session is stopped (the vendor does not document its value).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(8 * 3600);

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
/// Every setting is a typed field with its default set in [`AppState::new`]; the few that change while the server
/// runs are [`Shared`] by all clones.
#[derive(Clone)]
pub struct AppState {
    /// The backup catalog (organizations, restore points, point-in-time item states). Its pool also holds the API's
    /// own tables (`store`: accounts, tokens, restore sessions, restore jobs, …), created by its migrations.
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
    /// Idle time after which a working restore session is stopped, lazily at its next lookup
    /// (`store::sessions`; default [`DEFAULT_IDLE_TIMEOUT`]). Tests shorten it on a running server.
    pub session_idle_timeout: Shared<Duration>,
    /// How restores reach the tenant when the organization's config does not say (`ctx::restore_auth`;
    /// default Microsoft's cloud). Tests point a running server at the emulator.
    pub restore_access: Shared<RestoreAccess>,
    /// This server node and process, as recorded on the restore jobs it runs (`store::restore_jobs`).
    pub node: Arc<NodeIdentity>,
    /// The restores running in this process, so that a Stop cancels them at once (`store::restore_stop`).
    pub running_restores: Arc<RunningRestores>,
    /// The time zone of job schedules (set from [`crate::ApiConfig::time_zone`] by `start`; default UTC).
    pub time_zone: chrono_tz::Tz,
    /// Starts backup runs for `POST /Jobs/{id}/start`: the process serving the API knows the organizations'
    /// credentials (`vault365 serve` and `demo` set it; `None`: this server does not start backups).
    pub backups: Option<Arc<dyn StartBackup>>,
}

/// Starting a backup run of a job now, in this process (see [`AppState::backups`]).
pub trait StartBackup: Send + Sync + 'static {
    /// Starts a run of `job`: the session exists when the future ends, the backup goes on in the background.
    fn start(
        &self,
        job: repo::catalog::Job,
    ) -> futures::future::BoxFuture<'static, Result<repo::catalog::Session, StartRefused>>;
}

/// Why a backup run did not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartRefused {
    /// A backup of the organization is running (the message names it).
    Busy(String),
    /// The organization cannot be backed up now (credentials, repository; the message says why).
    Failed(String),
}

/// A setting every clone of the [`AppState`] shares, replaceable while the server runs.
#[derive(Debug, Default)]
pub struct Shared<T>(Arc<Mutex<T>>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Arc::clone(&self.0))
    }
}

impl<T: Clone> Shared<T> {
    /// A setting starting at `value`.
    pub fn new(value: T) -> Shared<T> {
        Shared(Arc::new(Mutex::new(value)))
    }

    /// The value in force.
    pub fn get(&self) -> T {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the value for every clone of the state.
    pub fn set(&self, value: T) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = value;
    }
}

/// How restores reach the tenant.
#[derive(Debug, Clone)]
pub struct RestoreAccess {
    /// Authority and Graph endpoints.
    pub endpoints: Endpoints,
    /// Client id used for password and device-code sign-in when the organization's config has no `applicationId`.
    pub client_id: Option<String>,
}

impl Default for RestoreAccess {
    fn default() -> Self {
        RestoreAccess { endpoints: Endpoints::microsoft(), client_id: None }
    }
}

/// Who runs a restore job: recovery after a restart fails the jobs of this node's earlier processes at once, and
/// those of other nodes when their heartbeat stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeIdentity {
    /// Stable across restarts of this node: kept in `{data_dir}/node-id`.
    pub node: String,
    /// Random per [`AppState::new`] (per process, as the state is built once at start).
    pub instance: String,
}

impl NodeIdentity {
    /// The node id kept in `data_dir/node-id` (created when missing) and a new instance id. When the directory
    /// cannot be written, a random node id: recovery then relies on the heartbeat alone.
    pub fn load(data_dir: &Path) -> NodeIdentity {
        NodeIdentity { node: node_id(data_dir), instance: Uuid::new_v4().to_string() }
    }
}

fn node_id(data_dir: &Path) -> String {
    let path = data_dir.join("node-id");
    if let Some(id) = std::fs::read_to_string(&path).ok().and_then(|s| Uuid::parse_str(s.trim()).ok()) {
        return id.to_string();
    }
    let id = Uuid::new_v4().to_string();
    let written = std::fs::create_dir_all(data_dir).and_then(|_| std::fs::write(&path, &id));
    if let Err(e) = written {
        tracing::warn!("restore jobs: cannot keep the node id in {}: {e}", path.display());
    }
    id
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
    /// Reads (or creates) the node id in `data_dir`.
    pub fn new(catalog: Catalog, repo: Option<Repository>, data_dir: impl Into<PathBuf>) -> AppState {
        let data_dir = data_dir.into();
        AppState {
            catalog,
            repo,
            node: Arc::new(NodeIdentity::load(&data_dir)),
            data_dir,
            tokens: TokenPolicy::default(),
            max_body_bytes: crate::ApiConfig::default().max_body_bytes,
            allow_plaintext_mail_credentials: crate::ApiConfig::default().allow_plaintext_mail_credentials,
            session_idle_timeout: Shared::new(DEFAULT_IDLE_TIMEOUT),
            restore_access: Shared::new(RestoreAccess::default()),
            running_restores: Arc::default(),
            time_zone: chrono_tz::Tz::UTC,
            backups: None,
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
