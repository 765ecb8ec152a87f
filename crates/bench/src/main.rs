//! `vault365-bench`: backup throughput against the in-process tenant emulator.
//!
//! ```text
//! cargo run --release -p bench -- [--quick | --seed SPEC] [--concurrency N] [--json]
//! ```
//! Progress goes to stderr; the report (or JSON with `--json`) to stdout.

use std::process::ExitCode;

use bench::{BenchOptions, MEDIUM_SEED, QUICK_SEED};
use clap::Parser;

/// Measure full and incremental backups of an emulated tenant.
#[derive(Parser, Debug)]
#[command(name = "vault365-bench", version)]
struct Args {
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

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,bench=info")),
        )
        .init();
    let seed = match (args.seed, args.quick) {
        (Some(s), _) => s,
        (None, true) => QUICK_SEED.to_string(),
        (None, false) => MEDIUM_SEED.to_string(),
    };
    let opts = BenchOptions {
        seed,
        concurrency: args.concurrency,
        checkpoint_items: args.checkpoint_items,
        change_fraction: args.change_percent / 100.0,
    };
    match bench::run(&opts).await {
        Ok(result) if args.json => match serde_json::to_string_pretty(&result) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: serializing the result: {e}");
                ExitCode::FAILURE
            }
        },
        Ok(result) => {
            print!("{}", bench::report::render(&result));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn arguments_parse_and_conflict() {
        Args::command().debug_assert();
        let a = Args::try_parse_from(["vault365-bench", "--seed", "users=1,files=10", "--concurrency", "4", "--json"])
            .unwrap();
        assert_eq!((a.seed.as_deref(), a.concurrency, a.json, a.quick), (Some("users=1,files=10"), 4, true, false));
        assert!(Args::try_parse_from(["vault365-bench", "--quick", "--seed", "users=1"]).is_err());
        assert!(Args::try_parse_from(["vault365-bench", "--concurrency", "many"]).is_err());
    }
}
