//! Human-readable rendering of a [`BenchResult`].

use std::fmt::Write;

use crate::BenchResult;

const MB: f64 = 1e6;
const MIB: f64 = 1024.0 * 1024.0;

fn opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "-".to_string(), |x| format!("{x:.decimals$}"))
}

fn mib(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_string(), |b| format!("{:.0}", b as f64 / MIB))
}

/// The result as a text report: tenant, one table row per run, request breakdown, ratios and
/// the repository's final size.
pub fn render(r: &BenchResult) -> String {
    let mut s = String::new();
    let t = &r.tenant;
    let o = &r.options;
    // Writing into a String cannot fail.
    let _ = writeln!(s, "vault365 {} — seed '{}', concurrency {}", r.benchmark, o.seed, o.concurrency);
    let _ = writeln!(
        s,
        "tenant: {} files ({} of ≥4 MiB), {} versions, {:.1} MB current / {:.1} MB all versions, {} drives, \
         {} lists with {} items and {} attachments",
        t.files,
        t.large_files,
        t.versions,
        t.bytes as f64 / MB,
        t.bytes_all_versions as f64 / MB,
        t.drives,
        t.lists,
        t.list_items,
        t.attachments
    );
    let _ = writeln!(
        s,
        "set-up {:.1} s (seeding, Argon2id, catalog), peak RSS after set-up {} MiB",
        r.setup_secs,
        mib(r.setup_peak_rss_bytes)
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<15} {:>8} {:>7} {:>9} {:>7} {:>8} {:>8} {:>8} {:>11} {:>9}",
        "run", "wall s", "items", "MB read", "MB/s", "items/s", "requests", "req/item", "stored/read", "peak MiB"
    );
    for run in &r.runs {
        let _ = writeln!(
            s,
            "{:<15} {:>8.2} {:>7} {:>9.1} {:>7.1} {:>8.1} {:>8} {:>8} {:>11} {:>9}",
            run.name,
            run.wall_secs,
            run.items,
            run.bytes_read as f64 / MB,
            run.mb_per_s,
            run.items_per_s,
            run.server.tenant_requests(),
            opt(run.requests_per_item, 2),
            opt(run.stored_per_read, 3),
            mib(run.peak_rss_bytes)
        );
    }
    if !r.peak_rss_per_run {
        let _ = writeln!(s, "(peak RSS could not be reset between runs: the peaks are process-wide)");
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "requests by surface (server side) and client view:");
    for run in &r.runs {
        let v = &run.server;
        let _ = writeln!(
            s,
            "  {:<15} graph {:>6}  sharepoint {:>5}  download {:>6}  token {:>3}  other {:>3}  throttled {:>3} | \
             client sent {:>6}, retries {}",
            run.name,
            v.graph,
            v.sharepoint,
            v.download,
            v.token,
            v.other,
            v.throttled,
            run.client_requests,
            run.client_retries
        );
    }
    let q = &r.ratios;
    let _ = writeln!(s);
    let _ = writeln!(s, "ratios:");
    let _ = writeln!(
        s,
        "  incremental requests per changed item     {:>8}   ({} edited files, {:.1} MB)",
        opt(q.incremental_requests_per_changed_item, 2),
        r.edits.files,
        r.edits.bytes as f64 / MB
    );
    let _ = writeln!(s, "  unchanged run bytes read (should be 0)    {:>8}", q.unchanged_bytes_read);
    let _ = writeln!(s, "  unchanged run requests                    {:>8}", q.unchanged_requests);
    let _ = writeln!(
        s,
        "  incremental bytes read / edited bytes     {:>8}   (1.00 = only changed files downloaded)",
        opt(q.incremental_bytes_read_per_changed_byte, 2)
    );
    let _ = writeln!(
        s,
        "  full bytes read / tenant bytes (all vers) {:>8}   (1.00 = every version read once)",
        opt(q.full_bytes_read_per_tenant_byte, 2)
    );
    let p = &r.repository;
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "repository: {:.1} MB stored ({:.1} MB distinct plaintext) in {} packs / {} chunks, {:.1} MB on disk; \
         catalog {:.1} MB",
        p.stored_bytes as f64 / MB,
        p.raw_bytes as f64 / MB,
        p.packs,
        p.chunks,
        p.disk_bytes as f64 / MB,
        p.catalog_bytes as f64 / MB
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::ServerRequests;
    use crate::{BenchOptions, EditSummary, Ratios, RepositorySummary, RunResult, TenantSummary};

    fn run(name: &str, items: u64, bytes_read: u64) -> RunResult {
        RunResult {
            name: name.into(),
            status: "Success".into(),
            full_restore_point: Some(name == "full"),
            wall_secs: 2.0,
            items,
            bytes_read,
            bytes_stored: bytes_read / 2,
            warnings: 0,
            client_requests: 10,
            client_throttled: 0,
            client_retries: 0,
            server: ServerRequests { total: 12, graph: 6, download: 4, token: 2, ..Default::default() },
            peak_rss_bytes: Some(64 * 1024 * 1024),
            mb_per_s: bytes_read as f64 / 2e6,
            items_per_s: items as f64 / 2.0,
            requests_per_item: (items > 0).then(|| 10.0 / items as f64),
            stored_per_read: (bytes_read > 0).then_some(0.5),
        }
    }

    #[test]
    fn renders_every_run_and_marks_undefined_ratios() {
        let r = BenchResult {
            benchmark: crate::BENCHMARK.into(),
            options: BenchOptions::quick(),
            tenant: TenantSummary { files: 100, ..Default::default() },
            setup_secs: 1.5,
            setup_peak_rss_bytes: None,
            runs: vec![run("full", 100, 4_000_000), run("incr-unchanged", 0, 0), run("incr-changed", 5, 200_000)],
            edits: EditSummary { files: 5, bytes: 200_000, secs: 0.1 },
            ratios: Ratios { incremental_requests_per_changed_item: Some(2.0), ..Default::default() },
            repository: RepositorySummary::default(),
            peak_rss_per_run: false,
        };
        let text = render(&r);
        let full = text.lines().find(|l| l.starts_with("full ")).unwrap();
        // wall, items, MB read, MB/s, items/s, requests, req/item, stored/read, peak MiB
        let cols: Vec<&str> = full.split_whitespace().collect();
        assert_eq!(cols, ["full", "2.00", "100", "4.0", "2.0", "50.0", "10", "0.10", "0.500", "64"]);
        let unchanged = text.lines().find(|l| l.starts_with("incr-unchanged ")).unwrap();
        assert_eq!(unchanged.split_whitespace().nth(7), Some("-"), "no items: no requests per item");
        assert!(text.contains("peaks are process-wide"));
        assert!(text.contains("incremental requests per changed item         2.00"));
    }
}
