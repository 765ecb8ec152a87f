//! [`RunningRestores`]: the cancellation tokens of the restores running in this process, by restore session, so that
//! a Stop handled by this process cancels them at once (`restore_stop` registers them and cancels them).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Running restores by session id (a session may run several requests at once).
#[derive(Debug, Default)]
pub struct RunningRestores {
    next: AtomicU64,
    running: Mutex<HashMap<Uuid, Vec<(u64, CancellationToken)>>>,
}

impl RunningRestores {
    /// Registers `token` as a restore running under `session`; the returned number unregisters it.
    pub fn register(&self, session: Uuid, token: CancellationToken) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().entry(session).or_default().push((id, token));
        id
    }

    /// Forgets the restore `id` of `session` (it has ended).
    pub fn unregister(&self, session: Uuid, id: u64) {
        let mut running = self.lock();
        if let Some(list) = running.get_mut(&session) {
            list.retain(|(i, _)| *i != id);
            if list.is_empty() {
                running.remove(&session);
            }
        }
    }

    /// Cancels every restore running under `session`.
    pub fn cancel(&self, session: Uuid) {
        for (_, token) in self.lock().get(&session).into_iter().flatten() {
            token.cancel();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Vec<(u64, CancellationToken)>>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}
