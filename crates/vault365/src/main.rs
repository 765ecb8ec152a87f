//! vault365 command line.

mod cmd;
mod config;
mod setup;
mod shutdown;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "vault365", version, about = "Self-hosted backup & restore for Microsoft 365")]
struct Cli {
    /// Configuration file (TOML); environment variables VAULT365_* override it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Everything in one process: a seeded tenant emulator, two backups, an admin account and the API.
    Demo {
        /// Working directory (kept: a second run reuses tenant, backups and account).
        #[arg(long, default_value = "vault365-demo")]
        dir: PathBuf,
        /// HTTPS port of the API.
        #[arg(long, default_value_t = 4443)]
        port: u16,
    },
    /// Run the Microsoft 365 tenant emulator (Entra ID + Graph + SharePoint REST subset).
    Emulator {
        /// Address to listen on, e.g. 127.0.0.1:5555.
        #[arg(long, default_value = "127.0.0.1:5555")]
        listen: SocketAddr,
        /// State directory (created if missing; reused across restarts).
        #[arg(long)]
        state: PathBuf,
        /// Seed spec for a fresh state, e.g. `users=5,files=200,versions=3,sites=2` or `large`.
        #[arg(long)]
        seed: Option<String>,
        /// Public base URL if not http://{listen}.
        #[arg(long)]
        public_url: Option<String>,
    },
    /// Manage protected organizations (Microsoft 365 tenants).
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Repository maintenance.
    Repo {
        #[command(subcommand)]
        command: RepoCommand,
    },
    /// Write a restore point out as plain files with JSON metadata sidecars.
    Export {
        /// Restore point id (see the backup output).
        #[arg(long)]
        restore_point: String,
        /// Destination directory (must be empty unless --overwrite).
        #[arg(long)]
        to: PathBuf,
        /// Also export every older version of each file.
        #[arg(long)]
        include_versions: bool,
        /// Allow a non-empty destination (files at the same paths are replaced).
        #[arg(long)]
        overwrite: bool,
    },
    /// Serve the Veeam-compatible REST API over HTTPS (`[api]` section of the config; default 0.0.0.0:4443).
    Serve {
        /// Also run backup tasks from the cluster queue in this process (see `vault365 worker`).
        #[arg(long)]
        worker: bool,
        #[command(flatten)]
        opts: WorkerFlags,
    },
    /// Run backup tasks from the queue in the catalog database until stopped: every node of a cluster sharing one
    /// PostgreSQL catalog and one S3 repository runs one; a task whose node dies is taken over.
    Worker {
        #[command(flatten)]
        opts: WorkerFlags,
    },
    /// Backup jobs: what runs when (`serve` runs the scheduled ones; the API's /Jobs manages the same jobs).
    Job {
        #[command(subcommand)]
        command: JobCommand,
    },
    /// Restore points: what can be explored, exported and restored.
    RestorePoint {
        #[command(subcommand)]
        command: RestorePointCommand,
    },
    /// Backup sessions: what each backup run did.
    Session {
        #[command(subcommand)]
        command: SessionCommand,
    },
    /// Tasks of the cluster queue.
    Task {
        #[command(subcommand)]
        command: TaskCommand,
    },
    /// Manage the local accounts that log on to the REST API.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Back up an organization now (full the first time, incremental afterwards).
    Backup {
        /// Organization name.
        #[arg(long)]
        org: String,
        /// Run this job of the organization (default: its `default` job, the whole organization).
        #[arg(long)]
        job: Option<String>,
        /// Items processed in parallel.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
        /// Items per checkpoint (store flush + catalog commit): fewer means less to redo after a crash.
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..))]
        checkpoint_items: u64,
        /// When standard error is not a terminal (cron, systemd), print a progress line every this many seconds.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
        progress_every: u64,
        /// Do not run it here: queue it for a worker (`vault365 worker`) and print the task id.
        #[arg(long)]
        enqueue: bool,
    },
}

#[derive(clap::Args)]
struct WorkerFlags {
    /// This node's name in the cluster (default: host name and process id).
    #[arg(long, env = "VAULT365_NODE")]
    node: Option<String>,
    /// Take over a task whose node sent no heartbeat for this many seconds.
    #[arg(long, default_value_t = 60)]
    stale_after_secs: u64,
    /// Items processed in parallel by one backup.
    #[arg(long, default_value_t = 8)]
    worker_concurrency: usize,
}

impl WorkerFlags {
    fn args(&self) -> cmd::worker::WorkerArgs {
        cmd::worker::WorkerArgs {
            node: self.node.clone(),
            stale_after: std::time::Duration::from_secs(self.stale_after_secs),
            concurrency: self.worker_concurrency,
        }
    }
}

#[derive(Subcommand)]
enum SessionCommand {
    /// Backup sessions, oldest first: status, counters, start and end.
    List {
        /// Only this organization's.
        #[arg(long)]
        org: Option<String>,
    },
    /// One session and its log.
    Show { id: String },
}

/// When a job runs by itself (none given: only when started).
#[derive(clap::Args)]
struct ScheduleFlags {
    /// Daily at this time (HH:MM, the `[api] time_zone`).
    #[arg(long)]
    daily: Option<String>,
    /// With --daily: Everyday (default), Workdays, Weekends or a weekday.
    #[arg(long)]
    days: Option<String>,
    /// Periodically: Minutes5, Minutes10, Minutes15, Minutes30, Hours1, Hours2, Hours4, Hours8 or Hours12.
    #[arg(long)]
    every: Option<String>,
    /// With --every: minutes after each interval's start.
    #[arg(long)]
    offset: Option<u32>,
    /// Only when started (`job start`, `backup`, the API).
    #[arg(long)]
    manual: bool,
}

impl ScheduleFlags {
    fn args(self) -> cmd::job::ScheduleArgs {
        let ScheduleFlags { daily, days, every, offset, manual } = self;
        cmd::job::ScheduleArgs { daily, days, every, offset, manual }
    }
}

#[derive(Subcommand)]
enum JobCommand {
    /// Add a job to an organization.
    Add {
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        schedule: ScheduleFlags,
        /// Added disabled: the scheduler leaves it alone until `job enable`.
        #[arg(long)]
        disabled: bool,
    },
    /// The jobs: id, organization, name, schedule, next run.
    List {
        /// Only this organization's.
        #[arg(long)]
        org: Option<String>,
    },
    /// One job and its last runs.
    Show { id: String },
    /// Change a job: only what is given.
    Edit {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        schedule: ScheduleFlags,
    },
    /// Let the scheduler run the job again (from its next scheduled time on).
    Enable { id: String },
    /// No scheduled runs (it can still be started).
    Disable { id: String },
    /// Queue a run now for a worker (`serve --worker` or `vault365 worker`).
    Start { id: String },
    /// Stop the job's running backup at its next checkpoint (what it committed stays).
    Stop { id: String },
    /// Remove a job; its backups stay restorable.
    Remove { id: String },
}

#[derive(Subcommand)]
enum TaskCommand {
    /// One task: status, node, attempts, result or error.
    Show { id: String },
    /// Queued and running tasks.
    List,
}

#[derive(Subcommand)]
enum RestorePointCommand {
    /// Restore points, oldest first: id (for `export`), time, full or incremental, containers, items, bytes.
    List {
        /// Only this organization's.
        #[arg(long)]
        org: Option<String>,
    },
}

#[derive(Subcommand)]
enum RepoCommand {
    /// Verify every pack and index, and every catalog reference into the repository.
    Check {
        /// Also read and verify every chunk (decrypt + hash).
        #[arg(long)]
        read_data: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an API account (password of at least 12 characters); the password comes from --password, else from
    /// the first line of standard input.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, env = "VAULT365_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Change an API account's password (its tokens are revoked); the new password comes from --password, else from
    /// the first line of standard input.
    Passwd {
        #[arg(long)]
        name: String,
        #[arg(long, env = "VAULT365_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// The API accounts: name, id, creation time.
    List,
    /// Remove an API account; its tokens stop working at once.
    Remove {
        #[arg(long)]
        name: String,
    },
    /// Clear the lockout that failed logons put on an account name and/or a client address.
    Unlock {
        /// Account name (any case).
        #[arg(long, required_unless_present = "address")]
        name: Option<String>,
        /// Client IP address.
        #[arg(long)]
        address: Option<String>,
    },
}

// Parsed once per process; boxing the big variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum OrgCommand {
    /// Register a tenant: its app registration and credentials.
    Add {
        #[arg(long)]
        name: String,
        /// Tenant id or verified domain.
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        client_id: Option<String>,
        /// App secret (Graph only: SharePoint REST needs a certificate).
        #[arg(long, env = "VAULT365_CLIENT_SECRET", hide_env_values = true)]
        client_secret: Option<String>,
        /// PEM certificate registered on the app.
        #[arg(long)]
        certificate: Option<PathBuf>,
        /// PEM PKCS#8 private key of the certificate.
        #[arg(long)]
        private_key: Option<PathBuf>,
        /// Token authority base URL (default Microsoft's).
        #[arg(long)]
        authority: Option<String>,
        /// Graph base URL including the version (default Microsoft's).
        #[arg(long)]
        graph: Option<String>,
        /// Register a vault365 tenant emulator at this URL instead.
        #[arg(long, conflicts_with_all = ["tenant", "client_id", "client_secret", "certificate", "private_key"])]
        emulator: Option<String>,
        /// Per-tenant request budget: stay under N Graph/SharePoint requests a minute.
        #[arg(long)]
        requests_per_minute: Option<u32>,
    },
    /// List registered organizations.
    List,
    /// Change a registered organization: its credentials (a mistyped secret, a renewed certificate), app id,
    /// request budget or name. Only the options given change.
    Edit {
        #[arg(long)]
        name: String,
        /// New name.
        #[arg(long)]
        rename: Option<String>,
        #[arg(long)]
        client_id: Option<String>,
        /// New app secret.
        #[arg(long, env = "VAULT365_CLIENT_SECRET", hide_env_values = true)]
        client_secret: Option<String>,
        /// New PEM certificate (with --private-key).
        #[arg(long, requires = "private_key")]
        certificate: Option<PathBuf>,
        /// Its PEM PKCS#8 private key.
        #[arg(long, requires = "certificate")]
        private_key: Option<PathBuf>,
        /// New per-tenant request budget (requests a minute).
        #[arg(long)]
        requests_per_minute: Option<u32>,
    },
    /// Sign in as the organization's app and read one user and one site: a wrong secret or a missing permission
    /// shows now, not in the next backup.
    Test {
        #[arg(long)]
        name: String,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Everything this process creates holds tenant data or secrets (catalog and its WAL, repository, credentials, TLS
    // key, exports): readable by its owner only (files 0600, directories 0700), whatever the caller's umask.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => match e.downcast_ref::<cmd::Exit>() {
            Some(exit) => {
                eprintln!("{}", exit.message);
                std::process::ExitCode::from(exit.code)
            }
            None => {
                eprintln!("error: {e:#}");
                std::process::ExitCode::FAILURE
            }
        },
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let load = || config::Config::load(cli.config.as_deref());
    match cli.command {
        Command::Demo { dir, port } => cmd::demo::run(dir, port).await,
        Command::Emulator { listen, state, seed, public_url } => {
            cmd::emulator::run(listen, state, seed, public_url).await
        }
        Command::Org { command: OrgCommand::List } => cmd::org::list(&load()?).await,
        Command::Org { command: OrgCommand::Test { name } } => cmd::org::test(&load()?, &name).await,
        Command::Org {
            command:
                OrgCommand::Edit { name, rename, client_id, client_secret, certificate, private_key, requests_per_minute },
        } => {
            let edit =
                cmd::org::EditArgs { rename, client_id, client_secret, certificate, private_key, requests_per_minute };
            cmd::org::edit(&load()?, &name, edit).await
        }
        Command::Org {
            command:
                OrgCommand::Add {
                    name,
                    tenant,
                    client_id,
                    client_secret,
                    certificate,
                    private_key,
                    authority,
                    graph,
                    emulator,
                    requests_per_minute,
                },
        } => {
            let args = cmd::org::AddArgs {
                name,
                tenant,
                client_id,
                client_secret,
                certificate,
                private_key,
                authority,
                graph,
                emulator,
                requests_per_minute,
            };
            cmd::org::add(&load()?, args).await
        }
        Command::RestorePoint { command: RestorePointCommand::List { org } } => {
            cmd::restore_point::list(&load()?, org.as_deref()).await
        }
        Command::Repo { command: RepoCommand::Check { read_data } } => cmd::repo::check(&load()?, read_data).await,
        Command::Export { restore_point, to, include_versions, overwrite } => {
            let opts = engine::export::ExportOptions { include_versions, overwrite };
            cmd::export::run(&load()?, &restore_point, &to, opts).await
        }
        Command::Serve { worker, opts } => cmd::serve::run(&load()?, worker.then(|| opts.args())).await,
        Command::Worker { opts } => cmd::worker::run(&load()?, &opts.args()).await,
        Command::Session { command: SessionCommand::List { org } } => {
            cmd::session::list(&load()?, org.as_deref()).await
        }
        Command::Session { command: SessionCommand::Show { id } } => cmd::session::show(&load()?, &id).await,
        Command::Job { command } => match command {
            JobCommand::Add { org, name, description, schedule, disabled } => {
                cmd::job::add(&load()?, &org, &name, description, &schedule.args(), disabled).await
            }
            JobCommand::List { org } => cmd::job::list(&load()?, org.as_deref()).await,
            JobCommand::Show { id } => cmd::job::show(&load()?, &id).await,
            JobCommand::Edit { id, name, description, schedule } => {
                cmd::job::edit(&load()?, &id, name, description, &schedule.args()).await
            }
            JobCommand::Enable { id } => cmd::job::set_enabled(&load()?, &id, true).await,
            JobCommand::Disable { id } => cmd::job::set_enabled(&load()?, &id, false).await,
            JobCommand::Start { id } => cmd::job::start(&load()?, &id).await,
            JobCommand::Stop { id } => cmd::job::stop(&load()?, &id).await,
            JobCommand::Remove { id } => cmd::job::remove(&load()?, &id).await,
        },
        Command::Task { command: TaskCommand::Show { id } } => cmd::worker::show(&load()?, &id).await,
        Command::Task { command: TaskCommand::List } => cmd::worker::list(&load()?).await,
        Command::User { command: UserCommand::Add { name, password } } => {
            cmd::user::add(&load()?, &name, password).await
        }
        Command::User { command: UserCommand::Passwd { name, password } } => {
            cmd::user::passwd(&load()?, &name, password).await
        }
        Command::User { command: UserCommand::List } => cmd::user::list(&load()?).await,
        Command::User { command: UserCommand::Remove { name } } => cmd::user::remove(&load()?, &name).await,
        Command::User { command: UserCommand::Unlock { name, address } } => {
            cmd::user::unlock(&load()?, name.as_deref(), address.as_deref()).await
        }
        Command::Backup { org, job, enqueue: true, .. } => {
            cmd::worker::enqueue_backup(&load()?, &org, job.as_deref()).await
        }
        Command::Backup { org, job, concurrency, quiet, checkpoint_items, progress_every, enqueue: false } => {
            let output = cmd::backup::Output { quiet, progress_every: Duration::from_secs(progress_every) };
            cmd::backup::run(&load()?, &org, job.as_deref(), concurrency, checkpoint_items as usize, output).await
        }
    }
}
