//! Live counters of a running job, read by the CLI's progress bar and the API's statistics.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Progress {
    pub items: AtomicU64,
    pub bytes_read: AtomicU64,
    pub bytes_stored: AtomicU64,
    pub warnings: AtomicU64,
    pub containers: AtomicU64,
}

impl Progress {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
