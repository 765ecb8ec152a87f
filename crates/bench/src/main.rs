//! `vault365-bench`: benchmarks against the in-process tenant emulator.
//!
//! ```text
//! cargo run --release -p bench -- [--quick | --seed SPEC] [--concurrency N] [--json]   # backup (as `backup`)
//! cargo run --release -p bench -- save    [--quick | --seed SPEC] [--json]             # ZIP save vs tar, peak RSS
//! cargo run --release -p bench -- restore [--quick | --files N] [--json]               # requests per small file
//! cargo run --release -p bench -- search  [--quick | --items N] [--json]              # item search, 100k items
//! cargo run --release -p bench -- all     [--quick] [--json]                           # everything + ratio table
//! ```
//! Progress goes to stderr; the report (or JSON with `--json`) to stdout.

use std::path::PathBuf;
use std::process::ExitCode;

use bench::restore::RestoreBenchOptions;
use bench::save::SaveOptions;
use bench::{AllOptions, BenchOptions, MEDIUM_SEED, QUICK_SEED};
use clap::{Args, Parser, Subcommand};
use serde::Serialize;

/// Benchmarks of vault365 against an emulated tenant. Without a command: the backup benchmark.
#[derive(Parser, Debug)]
#[command(name = "vault365-bench", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    backup: BackupArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Full and incremental backups: throughput, requests per item, dedup ratio, peak RSS (the default).
    Backup(BackupArgs),
    /// Save a large OneDrive as a ZIP (engine::save) and compare with the system `tar`; peak RSS of the save.
    Save(SaveArgs),
    /// Restore small files to the tenant: requests per restored file and items per second.
    Restore(RestoreArgs),
    /// Item search over a large restore point (catalog only): milliseconds per search.
    Search(SearchArgs),
    /// Every benchmark in one go, then a table of ratios against their targets.
    All(AllArgs),
    /// Internal: one measured ZIP save in a process of its own (started by `save`).
    #[command(hide = true)]
    SaveProbe(ProbeArgs),
}

#[derive(Args, Debug)]
struct BackupArgs {
    /// Emulator seed spec, e.g. `users=4,files=2000,versions=2,sites=2,items=20,size=65536`
    /// (default: a medium tenant, ~1 GB over 3,000 files).
    #[arg(long, conflicts_with = "quick")]
    seed: Option<String>,
    /// Use a tiny tenant (a smoke run of a few seconds).
    #[arg(long)]
    quick: bool,
    /// Items processed in parallel and requests in flight.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Items per checkpoint (content flush + catalog commit).
    #[arg(long, default_value_t = 200)]
    checkpoint_items: usize,
    /// Percentage of files edited before the last incremental.
    #[arg(long, default_value_t = 5.0)]
    change_percent: f64,
    /// Print the result as JSON (for the benchmark aggregator) instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct SaveArgs {
    /// Emulator seed spec; the user OneDrive with the most bytes is saved (default: `users=1,files=2000,size=65536`,
    /// about 330 MB).
    #[arg(long, conflicts_with = "quick")]
    seed: Option<String>,
    /// Use a tiny OneDrive (a smoke run).
    #[arg(long)]
    quick: bool,
    /// Backup concurrency.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Rounds of ZIP + tar, each side's fastest counts (default 3; 1 with --quick).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    rounds: Option<u32>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct RestoreArgs {
    /// Small files restored per run.
    #[arg(long, default_value_t = bench::restore::DEFAULT_FILES, conflicts_with = "quick")]
    files: usize,
    /// Average file size in bytes.
    #[arg(long, default_value_t = 4096)]
    size: u64,
    /// Restore 20 files (a smoke run).
    #[arg(long)]
    quick: bool,
    /// Requests in flight.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct SearchArgs {
    /// Items in the restore point.
    #[arg(long, default_value_t = bench::search::DEFAULT_ITEMS, conflicts_with = "quick")]
    items: usize,
    /// 5,000 items (a smoke run).
    #[arg(long)]
    quick: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct AllArgs {
    /// Tiny tenants everywhere (a smoke run of seconds).
    #[arg(long)]
    quick: bool,
    /// Print every result and the table as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct ProbeArgs {
    #[arg(long)]
    repo: PathBuf,
    #[arg(long)]
    catalog: String,
    #[arg(long)]
    container: uuid::Uuid,
    /// The restore point's instant (RFC 3339).
    #[arg(long)]
    at: chrono::DateTime<chrono::Utc>,
}

impl BackupArgs {
    fn options(&self) -> BenchOptions {
        let seed = match (&self.seed, self.quick) {
            (Some(s), _) => s.clone(),
            (None, true) => QUICK_SEED.to_string(),
            (None, false) => MEDIUM_SEED.to_string(),
        };
        BenchOptions {
            seed,
            concurrency: self.concurrency,
            checkpoint_items: self.checkpoint_items,
            change_fraction: self.change_percent / 100.0,
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,bench=info")),
        )
        .init();
    match cli.command {
        None => backup(&cli.backup).await,
        Some(Command::Backup(a)) => backup(&a).await,
        Some(Command::Save(a)) => save(&a).await,
        Some(Command::Restore(a)) => restore(&a).await,
        Some(Command::Search(a)) => search(&a).await,
        Some(Command::All(a)) => all(&a).await,
        Some(Command::SaveProbe(a)) => probe(a).await,
    }
}

/// The running executable, which the save benchmark starts again as its probe.
fn probe_exe() -> Result<PathBuf, ExitCode> {
    std::env::current_exe().map_err(|e| {
        eprintln!("error: cannot locate this executable for the save probe: {e}");
        ExitCode::FAILURE
    })
}

/// Prints `result` as JSON or through `render`.
fn emit<T: Serialize>(result: anyhow::Result<T>, json: bool, render: impl Fn(&T) -> String) -> ExitCode {
    match result {
        Ok(r) if json => match serde_json::to_string_pretty(&r) {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: serializing the result: {e}");
                ExitCode::FAILURE
            }
        },
        Ok(r) => {
            print!("{}", render(&r));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn backup(a: &BackupArgs) -> ExitCode {
    emit(bench::run(&a.options()).await, a.json, bench::report::render)
}

async fn save(a: &SaveArgs) -> ExitCode {
    let probe_exe = match probe_exe() {
        Ok(p) => p,
        Err(code) => return code,
    };
    let mut opts = if a.quick { SaveOptions::quick(probe_exe) } else { SaveOptions::standard(probe_exe) };
    if let Some(seed) = &a.seed {
        opts.seed = seed.clone();
    }
    opts.concurrency = a.concurrency;
    if let Some(rounds) = a.rounds {
        opts.repeat = rounds as usize;
    }
    emit(bench::save::run(&opts).await, a.json, bench::save::render)
}

async fn restore(a: &RestoreArgs) -> ExitCode {
    let files = if a.quick { 20 } else { a.files };
    let opts = RestoreBenchOptions { files, file_size: a.size, concurrency: a.concurrency };
    emit(bench::restore::run(&opts).await, a.json, bench::restore::render)
}

async fn search(a: &SearchArgs) -> ExitCode {
    let items = if a.quick { 5_000 } else { a.items };
    let opts = bench::search::SearchBenchOptions { items };
    emit(bench::search::run(&opts).await, a.json, bench::search::render)
}

async fn all(a: &AllArgs) -> ExitCode {
    let probe_exe = match probe_exe() {
        Ok(p) => p,
        Err(code) => return code,
    };
    let opts = if a.quick { AllOptions::quick(probe_exe) } else { AllOptions::standard(probe_exe) };
    let result = bench::run_all(&opts).await;
    let failed = !result.errors.is_empty();
    let code = emit(Ok(result), a.json, |r| {
        // Each benchmark's own report first, the table of ratios last.
        let mut s = String::new();
        if let Some(b) = &r.backup {
            s.push_str(&bench::report::render(b));
            s.push('\n');
        }
        if let Some(v) = &r.save {
            s.push_str(&bench::save::render(v));
            s.push('\n');
        }
        if let Some(v) = &r.restore {
            s.push_str(&bench::restore::render(v));
            s.push('\n');
        }
        if let Some(v) = &r.search {
            s.push_str(&bench::search::render(v));
            s.push('\n');
        }
        s.push_str(&bench::summary::render(r));
        s
    });
    if failed {
        ExitCode::FAILURE
    } else {
        code
    }
}

async fn probe(a: ProbeArgs) -> ExitCode {
    let req = bench::probe::ProbeRequest { repo_dir: a.repo, catalog_url: a.catalog, container: a.container, at: a.at };
    // Always JSON: the parent benchmark reads it.
    emit(bench::probe::run(&req).await, true, |_| String::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn arguments_parse_and_conflict() {
        Cli::command().debug_assert();
        let a = Cli::try_parse_from(["vault365-bench", "--seed", "users=1,files=10", "--concurrency", "4", "--json"])
            .unwrap();
        assert!(a.command.is_none(), "no command: the backup benchmark");
        let b = &a.backup;
        assert_eq!((b.seed.as_deref(), b.concurrency, b.json, b.quick), (Some("users=1,files=10"), 4, true, false));
        assert!(Cli::try_parse_from(["vault365-bench", "--quick", "--seed", "users=1"]).is_err());
        assert!(Cli::try_parse_from(["vault365-bench", "--concurrency", "many"]).is_err());
    }

    #[test]
    fn subcommands_parse() {
        let a = Cli::try_parse_from(["vault365-bench", "restore", "--files", "50", "--json"]).unwrap();
        assert!(matches!(a.command, Some(Command::Restore(RestoreArgs { files: 50, json: true, .. }))));
        let a = Cli::try_parse_from(["vault365-bench", "all", "--quick"]).unwrap();
        assert!(matches!(a.command, Some(Command::All(AllArgs { quick: true, json: false }))));
        assert!(Cli::try_parse_from(["vault365-bench", "save", "--quick", "--seed", "users=1"]).is_err());
        assert!(Cli::try_parse_from(["vault365-bench", "restore", "--files", "none"]).is_err());
        // Backup flags belong before no command or after `backup`, not with another command.
        assert!(Cli::try_parse_from(["vault365-bench", "--quick", "save"]).is_err());
        let req = bench::probe::ProbeRequest {
            repo_dir: "/tmp/r".into(),
            catalog_url: "sqlite:///tmp/c.db?mode=rwc".into(),
            container: uuid::Uuid::nil(),
            at: chrono::DateTime::parse_from_rfc3339("2026-01-05T09:00:00.123456Z").unwrap().into(),
        };
        let mut argv = vec!["vault365-bench".to_string()];
        argv.extend(req.args());
        let Some(Command::SaveProbe(p)) = Cli::try_parse_from(argv).unwrap().command else {
            panic!("save-probe did not parse");
        };
        assert_eq!((p.repo, p.catalog, p.container, p.at), (req.repo_dir, req.catalog_url, req.container, req.at));
    }
}
