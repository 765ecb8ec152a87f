//! Measurements outside the engine's own report: process memory, disk usage, and the emulator's
//! server-side request counters broken down by surface.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Peak resident set size of this process in bytes (`VmHWM` in `/proc/self/status`); `None` where
/// procfs is unavailable (not Linux).
pub fn peak_rss_bytes() -> Option<u64> {
    proc_status_kib("VmHWM:").map(|k| k * 1024)
}

/// Current resident set size in bytes (`VmRSS`).
pub fn current_rss_bytes() -> Option<u64> {
    proc_status_kib("VmRSS:").map(|k| k * 1024)
}

fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].split_whitespace().next()?.parse().ok()
}

/// Reset the peak-RSS high-water mark to the current RSS (Linux ≥ 4.0: writing `5` to
/// `/proc/self/clear_refs`), so each run's peak is its own and not set-up's (the emulator's
/// seeding, Argon2's 64 MiB). Returns whether it worked; if not, peaks are process-wide.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Total size of the regular files under `dir` (0 if it does not exist).
pub fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}

/// Requests the emulator answered during one run, by the surface they hit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRequests {
    /// Every tenant-facing request (control API excluded).
    pub total: u64,
    /// Microsoft Graph (`/v1.0/…`).
    pub graph: u64,
    /// SharePoint REST (`/_sp/…`).
    pub sharepoint: u64,
    /// Pre-authenticated content downloads (`/_dl/…`).
    pub download: u64,
    /// Entra token endpoint.
    pub token: u64,
    /// Anything else (uploads, discovery).
    pub other: u64,
    /// Answered 429 or 503.
    pub throttled: u64,
}

impl ServerRequests {
    /// Classify the route counters of `GET /_emulator/stats` (`{"total", "throttled", "routes":
    /// {"GET /v1.0/drives/{id}/…": {"total": n, …}}}`); unknown shapes count as zero.
    pub fn from_stats(stats: &Value) -> ServerRequests {
        let mut out = ServerRequests {
            total: stats["total"].as_u64().unwrap_or(0),
            throttled: stats["throttled"].as_u64().unwrap_or(0),
            ..Default::default()
        };
        if let Some(routes) = stats["routes"].as_object() {
            for (key, r) in routes {
                let n = r["total"].as_u64().unwrap_or(0);
                // Keys are "METHOD /path"; the path's first segment names the surface.
                let path = key.split_once(' ').map_or(key.as_str(), |(_, p)| p);
                let slot = if path.starts_with("/v1.0/") {
                    &mut out.graph
                } else if path.starts_with("/_sp/") {
                    &mut out.sharepoint
                } else if path.starts_with("/_dl/") {
                    &mut out.download
                } else if path.contains("/oauth2/") {
                    &mut out.token
                } else {
                    &mut out.other
                };
                *slot += n;
            }
        }
        out
    }

    /// Requests that a real tenant bills against its Graph/SharePoint throttling budget: Graph,
    /// SharePoint REST and content downloads (tokens come from Entra, which is separate).
    pub fn tenant_requests(&self) -> u64 {
        self.graph + self.sharepoint + self.download
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classifies_routes_by_surface() {
        let stats = json!({
            "total": 11, "throttled": 1, "injected": 0,
            "routes": {
                "GET /v1.0/drives/{id}/root/delta": {"total": 3},
                "GET /v1.0/users": {"total": 1},
                "GET /_dl/{id}": {"total": 4},
                "GET /_sp/{id}/_api/web/{id}/AttachmentFiles": {"total": 1},
                "POST /{id}/oauth2/v2.0/token": {"total": 1},
                "PUT /_up/{id}": {"total": 1}
            }
        });
        let s = ServerRequests::from_stats(&stats);
        assert_eq!(
            s,
            ServerRequests { total: 11, graph: 4, sharepoint: 1, download: 4, token: 1, other: 1, throttled: 1 }
        );
        assert_eq!(s.tenant_requests(), 9);
        assert_eq!(ServerRequests::from_stats(&json!("nonsense")), ServerRequests::default());
    }

    #[test]
    fn sizes_a_directory_tree() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("a/b")).unwrap();
        std::fs::write(d.path().join("x"), [0u8; 10]).unwrap();
        std::fs::write(d.path().join("a/b/y"), [0u8; 5]).unwrap();
        assert_eq!(dir_bytes(d.path()), 15);
        assert_eq!(dir_bytes(&d.path().join("missing")), 0);
    }

    #[test]
    fn reads_memory_on_linux() {
        if cfg!(target_os = "linux") {
            // Current first: the high-water mark read afterwards can only be at least as high.
            let current = current_rss_bytes().unwrap();
            let peak = peak_rss_bytes().unwrap();
            assert!(current > 0 && peak >= current, "peak {peak} < current {current}");
        }
    }
}
