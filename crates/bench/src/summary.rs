//! `vault365-bench all`: every benchmark in one go and one table of the numbers that matter, each with the
//! baseline it is compared with, the ratio and the target.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::restore::RestoreResult;
use crate::save::SaveResult;
use crate::search::{SearchResult, SEARCH_MS_MAX};
use crate::BenchResult;

/// What a row's value (its ratio when it has a baseline, else its measured value) should be.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Target {
    AtMost(f64),
    AtLeast(f64),
    /// Informational row.
    None,
}

impl Target {
    fn met(self, v: Option<f64>) -> Option<bool> {
        match (self, v) {
            (Target::AtMost(t), Some(v)) => Some(v <= t + 1e-9),
            (Target::AtLeast(t), Some(v)) => Some(v >= t - 1e-9),
            _ => None,
        }
    }

    fn text(self) -> String {
        match self {
            Target::AtMost(t) => format!("≤ {}", trim(t)),
            Target::AtLeast(t) => format!("≥ {}", trim(t)),
            Target::None => "-".into(),
        }
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// One line of the table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub name: String,
    /// Unit of `measured` and `baseline`.
    pub unit: String,
    pub measured: Option<f64>,
    pub baseline: Option<f64>,
    /// `measured / baseline`.
    pub ratio: Option<f64>,
    pub target: Target,
    /// Whether the target is met (`None`: no target or nothing measured).
    pub met: Option<bool>,
}

impl Row {
    /// A row compared with a baseline; the target applies to the ratio.
    pub fn ratio(name: &str, unit: &str, measured: f64, baseline: f64, target: Target) -> Row {
        let ratio = (baseline != 0.0).then(|| measured / baseline);
        Row {
            name: name.into(),
            unit: unit.into(),
            measured: Some(measured),
            baseline: Some(baseline),
            ratio,
            met: target.met(ratio),
            target,
        }
    }

    /// A row without baseline; the target applies to the measured value.
    pub fn absolute(name: &str, unit: &str, measured: Option<f64>, target: Target) -> Row {
        Row {
            name: name.into(),
            unit: unit.into(),
            measured,
            baseline: None,
            ratio: None,
            met: target.met(measured),
            target,
        }
    }
}

/// Everything `all` measured; a benchmark that failed is `None` and its error is in `errors`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AllResult {
    pub backup: Option<BenchResult>,
    pub save: Option<SaveResult>,
    pub restore: Option<RestoreResult>,
    pub search: Option<SearchResult>,
    pub errors: Vec<String>,
    pub rows: Vec<Row>,
}

/// ZIP save throughput relative to `tar` over the same files: the ZIP side decrypts, decompresses and verifies
/// every chunk where tar only copies, so half of tar's speed is the bar.
pub const SAVE_ZIP_TO_TAR_MIN: f64 = 0.5;

/// Full-backup bytes read per tenant file byte: list-item attachments are read too but are not file content, so
/// a little above 1 is every version read once.
pub const FULL_READ_PER_TENANT_BYTE_MAX: f64 = 1.01;

/// Peak RSS growth a save may have, whatever its size (the ZIP is streamed: constant memory).
pub const SAVE_RSS_GROWTH_MAX_MIB: f64 = 128.0;

/// The rows of the table from whatever results are present.
pub fn rows(backup: Option<&BenchResult>, save: Option<&SaveResult>, restore: Option<&RestoreResult>) -> Vec<Row> {
    let mut rows = Vec::new();
    if let Some(b) = backup {
        if let Some(full) = b.runs.iter().find(|r| r.name == "full") {
            rows.push(Row::absolute("backup full: throughput", "MB/s", Some(full.mb_per_s), Target::None));
            rows.push(Row::ratio(
                "backup full: bytes read / tenant bytes",
                "MB",
                full.bytes_read as f64 / 1e6,
                b.tenant.bytes_all_versions as f64 / 1e6,
                Target::AtMost(FULL_READ_PER_TENANT_BYTE_MAX),
            ));
            rows.push(Row::absolute("backup full: peak RSS", "MiB", full.peak_rss_bytes.map(mib), Target::None));
        }
        rows.push(Row::absolute(
            "backup unchanged: bytes read",
            "B",
            Some(b.ratios.unchanged_bytes_read as f64),
            Target::AtMost(0.0),
        ));
        if let Some(changed) = b.runs.iter().find(|r| r.name == "incr-changed") {
            rows.push(Row::ratio(
                "backup incremental: bytes read / edited bytes",
                "MB",
                changed.bytes_read as f64 / 1e6,
                b.edits.bytes as f64 / 1e6,
                Target::AtMost(1.0),
            ));
            rows.push(Row::ratio(
                "backup incremental: requests / edited file",
                "req",
                changed.server.tenant_requests() as f64,
                b.edits.files as f64,
                Target::None,
            ));
        }
    }
    if let Some(s) = save {
        rows.push(Row::ratio(
            "save: ZIP vs tar throughput",
            "MB/s",
            s.zip_mb_per_s,
            s.tar_mb_per_s,
            Target::AtLeast(SAVE_ZIP_TO_TAR_MIN),
        ));
        rows.push(Row::absolute(
            "save: peak RSS growth",
            "MiB",
            s.peak_rss_growth_bytes().map(mib),
            Target::AtMost(SAVE_RSS_GROWTH_MAX_MIB),
        ));
    }
    if let Some(r) = restore {
        for run in &r.runs {
            rows.push(Row::ratio(
                &format!("restore {}: requests / small file", run.name),
                "req",
                run.requests as f64,
                run.restored as f64,
                Target::AtMost(1.0),
            ));
            rows.push(Row::absolute(
                &format!("restore {}: items/s", run.name),
                "items/s",
                Some(run.items_per_s),
                Target::None,
            ));
        }
    }
    rows
}

/// The search rows: each case's median time against [`SEARCH_MS_MAX`].
pub fn search_rows(search: Option<&SearchResult>) -> Vec<Row> {
    let Some(r) = search else { return Vec::new() };
    r.cases
        .iter()
        .map(|c| {
            let name = format!("search {}k items: {}", r.options.items / 1000, c.name);
            Row::absolute(&name, "ms", Some(c.median_ms), Target::AtMost(SEARCH_MS_MAX))
        })
        .collect()
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

fn num(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v.abs() >= 1000.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
    }
}

/// The table (and any failures) as text.
pub fn render(r: &AllResult) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<46} {:>8} {:>11} {:>11} {:>8} {:>8} {:>4}",
        "benchmark", "unit", "measured", "baseline", "ratio", "target", "met"
    );
    for row in &r.rows {
        let met = match row.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "-",
        };
        let _ = writeln!(
            s,
            "{:<46} {:>8} {:>11} {:>11} {:>8} {:>8} {:>4}",
            row.name,
            row.unit,
            num(row.measured),
            num(row.baseline),
            num(row.ratio),
            row.target.text(),
            met
        );
    }
    for e in &r.errors {
        let _ = writeln!(s, "FAILED: {e}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_apply_to_ratio_or_measured() {
        let r = Row::ratio("x", "req", 1500.0, 500.0, Target::AtMost(1.0));
        assert_eq!((r.ratio, r.met), (Some(3.0), Some(false)));
        let r = Row::ratio("x", "req", 500.0, 500.0, Target::AtMost(1.0));
        assert_eq!(r.met, Some(true));
        let r = Row::ratio("x", "MB/s", 10.0, 0.0, Target::AtLeast(1.0));
        assert_eq!((r.ratio, r.met), (None, None), "no baseline: no ratio, nothing judged");
        let r = Row::absolute("x", "MiB", Some(40.0), Target::AtMost(128.0));
        assert_eq!(r.met, Some(true));
        assert_eq!(Row::absolute("x", "B", None, Target::AtMost(0.0)).met, None);
    }

    #[test]
    fn renders_rows_and_failures() {
        let all = AllResult {
            rows: vec![
                Row::ratio("restore original: requests / small file", "req", 1500.0, 500.0, Target::AtMost(1.0)),
                Row::absolute("save: peak RSS growth", "MiB", Some(12.5), Target::AtMost(128.0)),
            ],
            errors: vec!["save: tar failed".into()],
            ..Default::default()
        };
        let text = render(&all);
        let line = text.lines().find(|l| l.starts_with("restore original")).unwrap();
        let cols: Vec<&str> = line.split_whitespace().rev().take(6).collect();
        assert_eq!(cols, ["NO", "1", "≤", "3.00", "500.00", "1500"]);
        assert!(text.lines().any(|l| l.starts_with("save: peak RSS growth") && l.ends_with("yes")));
        assert!(text.contains("FAILED: save: tar failed"));
    }
}
