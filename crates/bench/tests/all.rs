//! The benchmarks end to end on tiny tenants, through the real binary: the emulator over HTTP on loopback, SQLite,
//! the content store, the save probe as a child process and the system `tar`. Nothing here asserts a time; the
//! tests check that each benchmark measures what it claims (same content on both sides of the save comparison,
//! every selected file restored, requests counted) and that the summary table holds every row.

use std::path::PathBuf;
use std::process::Command;

use bench::restore::{RestoreBenchOptions, RestoreResult};
use bench::save::SaveResult;
use bench::summary::{AllResult, Target};

fn exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_vault365-bench"))
}

fn row<'a>(all: &'a AllResult, name: &str) -> &'a bench::summary::Row {
    all.rows.iter().find(|r| r.name == name).unwrap_or_else(|| panic!("no row '{name}' in {:#?}", all.rows))
}

fn check_save(s: &SaveResult) {
    // `users=1,files=60`: every file is in the one OneDrive, one of them 4–6 MiB.
    assert_eq!(s.files, 60, "{s:?}");
    assert!(s.content_bytes > 4 * 1024 * 1024, "the large file is in the archive: {s:?}");
    assert_eq!((s.zip.files, s.zip.content_bytes), (s.files, s.content_bytes));
    assert_eq!(s.zip.archive_bytes, s.zip.expected_bytes, "the stream is exactly zip_size long");
    // Each side adds its headers to the same content.
    assert!(s.zip.archive_bytes > s.content_bytes && s.tar.archive_bytes > s.content_bytes, "{s:?}");
    assert!(s.zip_mb_per_s > 0.0 && s.tar_mb_per_s > 0.0, "{s:?}");
    assert!(s.zip_to_tar.is_some());
    if cfg!(target_os = "linux") {
        let (before, peak) = (s.zip.rss_before_bytes.unwrap(), s.zip.peak_rss_bytes.unwrap());
        assert!(before > 0 && peak > 0, "{s:?}");
        if s.zip.peak_rss_is_own {
            assert!(peak >= before, "{s:?}");
        }
    }
}

fn check_restore(r: &RestoreResult) {
    assert_eq!(r.options.files, 20);
    let names: Vec<&str> = r.runs.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["original", "copy"]);
    for run in &r.runs {
        assert_eq!((run.restored, run.failed, run.skipped), (20, 0, 0), "{run:?}");
        // Every restored file was uploaded at least once, so the tenant answered at least one request each.
        assert!(run.server.graph >= 20 && run.requests >= run.server.graph, "{run:?}");
        let per_file = run.requests_per_file.unwrap();
        assert!((per_file - run.requests as f64 / 20.0).abs() < 1e-9, "{run:?}");
        assert!(run.items_per_s > 0.0);
    }
    // The copy went into a new folder: the restore had to create it.
    assert!(r.runs[1].folders_created >= 1, "{:?}", r.runs[1]);
}

#[test]
fn all_quick_runs_every_benchmark_and_summarises_them() {
    let out = Command::new(exe()).args(["all", "--quick", "--json"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}\n{stderr}", out.status);
    let all: AllResult = serde_json::from_slice(&out.stdout).unwrap();
    assert!(all.errors.is_empty(), "{:?}", all.errors);

    let backup = all.backup.as_ref().expect("backup result");
    assert_eq!(backup.runs.len(), 3);
    check_save(all.save.as_ref().expect("save result"));
    check_restore(all.restore.as_ref().expect("restore result"));

    let save = all.save.as_ref().unwrap();
    let r = row(&all, "save: ZIP vs tar throughput");
    assert_eq!((r.measured, r.baseline, r.ratio), (Some(save.zip_mb_per_s), Some(save.tar_mb_per_s), save.zip_to_tar));
    let r = row(&all, "restore original: requests / small file");
    assert_eq!(r.target, Target::AtMost(1.0));
    assert_eq!(r.ratio, all.restore.as_ref().unwrap().runs[0].requests_per_file);
    assert_eq!(r.met, Some(r.ratio.unwrap() <= 1.0));
    assert_eq!(row(&all, "backup unchanged: bytes read").measured, Some(backup.ratios.unchanged_bytes_read as f64));
    for name in ["backup full: throughput", "save: peak RSS growth", "restore copy: items/s"] {
        row(&all, name);
    }
}

#[test]
fn restore_prints_a_row_per_run() {
    // The restore benchmark alone, as text (the cheapest one): one row per run with its counts.
    let out = Command::new(exe()).args(["restore", "--files", "5"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let original = text.lines().find(|l| l.starts_with("original ")).unwrap_or_else(|| panic!("{text}"));
    // run, wall s, restored, failed, …
    let cols: Vec<&str> = original.split_whitespace().collect();
    assert_eq!((cols[2], cols[3]), ("5", "0"), "{text}");
}

#[tokio::test]
async fn the_probe_names_a_missing_repository() {
    let dir = tempfile::tempdir().unwrap();
    let req = bench::probe::ProbeRequest {
        repo_dir: dir.path().join("no-repo"),
        catalog_url: format!("sqlite://{}?mode=rwc", dir.path().join("c.db").display()),
        container: uuid::Uuid::nil(),
        at: chrono::Utc::now(),
    };
    let err = bench::probe::spawn(&exe(), &req).await.unwrap_err().to_string();
    assert!(err.contains("save probe failed") && err.contains("opening the repository"), "{err}");
}

#[tokio::test]
async fn bad_restore_options_are_refused_before_any_work() {
    let err = bench::restore::run(&RestoreBenchOptions { files: 0, ..Default::default() }).await.unwrap_err();
    assert!(err.to_string().contains("files must be at least 1"), "{err}");
    let err = bench::restore::run(&RestoreBenchOptions { file_size: 8 << 20, ..Default::default() }).await.unwrap_err();
    assert!(err.to_string().contains("file size"), "{err}");
}
