//! The emulator's shared state as every handler sees it: the tenant (behind one lock), the blob store, the clock,
//! fault rules and the debounced persistence. Lives apart from `server` (which imports every handler) so that the
//! handlers can depend on it without depending on the router.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, MutexGuard};
use tokio::sync::Notify;

use crate::content::BlobStore;
use crate::faults::Faults;
use crate::preauth::{self, signing_key, DownloadGrant};
use crate::state::{State, Time};

pub struct Emu {
    state: Mutex<State>,
    pub blobs: BlobStore,
    pub dir: PathBuf,
    base_url: String,
    pub faults: Mutex<Faults>,
    dirty: AtomicBool,
    wake: Notify,
}

impl Emu {
    /// An emulator over `st`, persisting into `dir` and serving at `base_url` (no trailing slash).
    pub fn new(st: State, blobs: BlobStore, dir: PathBuf, base_url: String) -> Self {
        Emu {
            state: Mutex::new(st),
            blobs,
            dir,
            base_url,
            faults: Mutex::new(Default::default()),
            dirty: AtomicBool::new(false),
            wake: Notify::new(),
        }
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock()
    }

    /// Public base URL, e.g. `http://127.0.0.1:4000` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// "Now" on the emulator clock (wall clock + the advance-clock offset).
    pub fn now(&self) -> Time {
        let off = self.state().settings.clock_offset_secs;
        chrono::Utc::now() + chrono::Duration::seconds(off)
    }

    /// Same as [`Emu::now`] for callers already holding the state lock.
    pub fn now_from(&self, st: &State) -> Time {
        chrono::Utc::now() + chrono::Duration::seconds(st.settings.clock_offset_secs)
    }

    /// Pre-authenticated download URL of an item's current version or of `version`.
    pub fn download_url(&self, st: &State, item_id: &str, version: Option<&str>) -> String {
        let grant = DownloadGrant {
            i: item_id.to_string(),
            v: version.map(str::to_string),
            e: (self.now_from(st) + chrono::Duration::hours(1)).timestamp(),
        };
        let token = preauth::sign(&signing_key(st), &grant);
        format!("{}/_dl/{token}", self.base_url())
    }

    /// Note that state changed; the background flusher persists it shortly after.
    pub fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Persist now (shutdown, `/_emulator/flush`, tests).
    pub fn flush(&self) -> std::io::Result<()> {
        self.dirty.store(false, Ordering::SeqCst);
        let bytes = self.state().to_json();
        crate::state::write_atomic(&self.dir.join("state.json"), &bytes)
    }

    /// Background task: persist shortly after each burst of changes.
    pub async fn flush_when_dirty(self: Arc<Self>) {
        loop {
            if !self.dirty.load(Ordering::SeqCst) {
                // notify_one stores a permit, so a mark_dirty between the check and here is not lost.
                self.wake.notified().await;
                continue;
            }
            // Debounce: one write for a burst of changes.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let e = self.clone();
            let _ = tokio::task::spawn_blocking(move || e.flush()).await;
        }
    }
}
