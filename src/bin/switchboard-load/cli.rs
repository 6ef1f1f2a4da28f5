//! The command line: options shared by every scenario (which server, how to reach it, what to
//! print), then one subcommand per scenario.
//!
//! The shared options describe *where* the load goes and the subcommand *what* it is, so a later
//! round can split one scenario over several processes (each given a share of the visitors) by
//! re-running this binary with the same shared options.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Drives a Switchboard server like real visitors and agents, measures it, and checks that
/// every acknowledged message is delivered exactly once and in order.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// Where the load goes and what is printed.
    #[command(flatten)]
    pub target: TargetArgs,
    /// The scenario.
    #[command(subcommand)]
    pub scenario: Scenario,
}

/// Which server, how connections reach it, and where the summary goes.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Start this `switchboard` binary on a fresh store (a temporary SQLite file unless
    /// --store says otherwise) and stop it at the end.
    #[arg(long, global = true, value_name = "PATH", conflicts_with = "url")]
    pub spawn_server: Option<PathBuf>,
    /// Drive an already running server at this base URL instead, e.g. http://127.0.0.1:8080.
    #[arg(long, global = true)]
    pub url: Option<String>,
    /// With --url: the server's process id, so its RSS and CPU are sampled.
    #[arg(long, global = true)]
    pub server_pid: Option<u32>,
    /// Store of a spawned server: `sqlite` (a file in a temporary folder) or a PostgreSQL URL
    /// such as postgres://postgres@127.0.0.1:5432/postgres, on which a fresh database is created
    /// for the run and dropped after it.
    #[arg(long, global = true, default_value = "sqlite")]
    pub store: String,
    /// actix workers of a spawned server (and of the baseline); 0 = one per core.
    #[arg(long, global = true, default_value_t = 0)]
    pub server_workers: usize,
    /// `RUST_LOG` of a spawned server. The default leaves out the one-line-per-request access
    /// log, which would otherwise be measured too.
    #[arg(long, global = true, default_value = "warn")]
    pub server_log: String,
    /// Extra `SWITCHBOARD_*` settings for a spawned server, as KEY=VALUE (repeatable).
    #[arg(long = "server-env", global = true, value_name = "KEY=VALUE")]
    pub server_env: Vec<String>,
    /// Spread connections over this many source addresses, 127.0.0.1, 127.0.0.2, …; each one
    /// gives about 28,000 ephemeral ports toward one server port.
    #[arg(long, global = true, default_value_t = 1)]
    pub source_addrs: u8,
    /// Seconds a poll is held (`timeout` of GET /poll); the server caps it.
    #[arg(long, global = true, default_value_t = 25)]
    pub hold: u64,
    /// Employee id of an admin to log in as when the server is already set up (attached
    /// servers); on a fresh server `POST /api/setup` creates it.
    #[arg(long, global = true, default_value = "LOADADMIN")]
    pub admin_employee_id: String,
    /// Password of that admin.
    #[arg(long, global = true, default_value = "load-admin-password")]
    pub admin_password: String,
    /// Also write the JSON summary to this file.
    #[arg(long, global = true, value_name = "FILE")]
    pub json_out: Option<PathBuf>,
    /// No progress bar (it is also left out when standard error is not a terminal).
    #[arg(long, global = true)]
    pub no_progress: bool,
}

/// One subcommand per scenario of BENCHMARKS.md.
#[derive(Debug, Subcommand)]
pub enum Scenario {
    /// Scenario 1: N visitors each holding a poll; server RSS per held poll beside a bare
    /// actix-web handler that only sleeps, and the CPU of the steady re-poll churn.
    Idle(IdleArgs),
    /// Scenario 2: C chats sending as fast as the server takes them (or at --rate); delivered
    /// messages/s and send→delivery latency.
    Throughput(ChatArgs),
    /// A short, strict run for CI: C chats, M messages each, then every chat closed. Fails on
    /// any lost, duplicated or reordered event and on any request error.
    Integrity(ChatArgs),
}

/// Scenario 1's options.
#[derive(Debug, Args)]
pub struct IdleArgs {
    /// Held polls to measure at, in increasing order; `max` is as many as this process's
    /// descriptor limit allows.
    #[arg(long, value_delimiter = ',', default_value = "1000,5000,10000,max")]
    pub visitors: Vec<String>,
    /// The baseline server binary (a bare actix-web handler that only sleeps); default: the
    /// `switchboard-baseline` next to this binary.
    #[arg(long, value_name = "PATH")]
    pub baseline: Option<PathBuf>,
    /// Skip the baseline.
    #[arg(long)]
    pub no_baseline: bool,
    /// New polls opened per second while ramping up.
    #[arg(long, default_value_t = 2000)]
    pub ramp_rate: u32,
    /// Seconds to wait after a ramp before measuring.
    #[arg(long, default_value_t = 5)]
    pub settle: u64,
    /// Seconds over which the server's CPU is measured at each step (at least one hold, so
    /// every poll is re-issued once).
    #[arg(long, default_value_t = 30)]
    pub measure: u64,
    /// Draw RSS against held polls into this SVG file.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
}

/// Who sends in each chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Senders {
    /// Visitor and agent both send.
    Both,
    /// Only the visitor sends.
    Visitor,
    /// Only the agent sends.
    Agent,
}

/// Options of the chat scenarios (throughput and integrity).
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// Concurrent chats (one visitor each).
    #[arg(long, default_value_t = 100)]
    pub chats: usize,
    /// Chats per agent (the agents' max_chats); agents = ceil(chats / this).
    #[arg(long, default_value_t = 5)]
    pub agent_max_chats: usize,
    /// Who sends.
    #[arg(long, value_enum, default_value_t = Senders::Both)]
    pub senders: Senders,
    /// Messages per chat, split between the senders. Sending stops when every chat has sent
    /// them (integrity's default: 20) or --duration has passed, whichever comes first.
    #[arg(long)]
    pub messages: Option<u64>,
    /// Seconds of sending (throughput's default: 30), measured after --warmup.
    #[arg(long)]
    pub duration: Option<u64>,
    /// Seconds of sending before the measured window.
    #[arg(long, default_value_t = 2)]
    pub warmup: u64,
    /// Messages per second over all chats; 0 = each sender sends its next message as soon as
    /// the previous one is acknowledged.
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// Characters in each message body.
    #[arg(long, default_value_t = 64)]
    pub body_chars: usize,
    /// Retries of one message (same client_msg_id) after a transport error, 429 or 503.
    #[arg(long, default_value_t = 3)]
    pub send_retries: u32,
    /// Seconds to wait at the end for every acknowledged message to reach the other side.
    #[arg(long, default_value_t = 30)]
    pub drain_timeout: u64,
    /// Checks the checker: ignore every Nth chat event a poll brings, as if the server had lost
    /// it. The run must then fail (use a short --drain-timeout).
    #[arg(long, value_name = "N")]
    pub self_check_drop_every: Option<u64>,
    /// Concurrent requests while creating agents, visitors and chats.
    #[arg(long, default_value_t = 16)]
    pub setup_concurrency: usize,
}
