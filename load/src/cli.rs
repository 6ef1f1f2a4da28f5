//! The command line: options shared by every scenario (which server, how to reach it, what to
//! print), then one subcommand per scenario.
//!
//! The shared options describe *where* the load goes and the subcommand *what* it is, so a later
//! round can split one scenario over several processes (each given a share of the visitors) by
//! re-running this binary with the same shared options.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use crate::wire::Wire;

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
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Start this `switchboard` binary on a fresh store (a temporary SQLite file unless
    /// --store says otherwise) and stop it at the end.
    #[arg(long, global = true, value_name = "PATH", conflicts_with = "url")]
    pub spawn_server: Option<PathBuf>,
    /// Measure nginx + nchan instead, the peer Switchboard is compared with: start this nginx
    /// (`--spawn-nchan=PATH`; default /usr/sbin/nginx) with a generated config (one worker, --nchan-module loaded),
    /// one channel per chat (the agent publishes with `POST /pub/<chat>`, the visitor long-polls
    /// `GET /sub/<chat>`), and stop it at the end. Chat scenarios then need `--senders agent`.
    #[arg(
        long,
        global = true,
        value_name = "NGINX",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "/usr/sbin/nginx",
        conflicts_with_all = ["url", "spawn_server"]
    )]
    pub spawn_nchan: Option<PathBuf>,
    /// The nchan module nginx loads (Debian's libnginx-mod-nchan).
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        default_value = "/usr/lib/nginx/modules/ngx_nchan_module.so"
    )]
    pub nchan_module: PathBuf,
    /// What the server at --url speaks (set by --spawn-nchan; a worker process is told).
    #[arg(long, global = true, value_enum, default_value_t = Wire::Switchboard, hide = true)]
    pub wire: Wire,
    /// Drive already running servers instead: one base URL, e.g. http://127.0.0.1:8080, or
    /// several nodes' URLs separated by commas (requests then go round them, as with --nodes).
    #[arg(long, global = true)]
    pub url: Option<String>,
    /// With --url: the (first) server's process id, so its RSS and CPU are sampled.
    #[arg(long, global = true)]
    pub server_pid: Option<u32>,
    /// Nodes to spawn on the one store (needs a PostgreSQL --store and --broker when more than
    /// one). Every request goes to the next node in turn, as through a load balancer without
    /// sticky sessions; a node that refuses the connection passes it to the next one.
    #[arg(long, global = true, default_value_t = 1, conflicts_with = "url")]
    pub nodes: usize,
    /// Redis of the spawned nodes, e.g. redis://127.0.0.1:6379: they run with
    /// `broker.kind = "redis"` and a key prefix made for this run, so runs sharing a Redis never
    /// see each other.
    #[arg(long, global = true, value_name = "URL", conflicts_with = "url")]
    pub broker: Option<String>,
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
    /// Threads of this generator's runtime: 1 runs every actor on one thread (no wake-ups
    /// across threads, the cheapest per message), N on a work-stealing pool of N, 0 one per
    /// core.
    #[arg(long, global = true, default_value_t = 1)]
    pub load_threads: usize,
}

impl TargetArgs {
    /// What the target speaks.
    pub fn wire(&self) -> Wire {
        if self.spawn_nchan.is_some() {
            Wire::Nchan
        } else {
            self.wire
        }
    }

    /// The options a worker process gets: the same target, reached at `urls` (the nodes this
    /// run spawned or attached to, comma-separated) and speaking `wire`, no summary file, no
    /// progress bar.
    pub fn worker_args(&self, urls: &str, wire: Wire) -> Vec<String> {
        vec![
            "--url".into(),
            urls.into(),
            "--source-addrs".into(),
            self.source_addrs.to_string(),
            "--hold".into(),
            self.hold.to_string(),
            "--load-threads".into(),
            self.load_threads.to_string(),
            "--no-progress".into(),
            "--wire".into(),
            format!("{wire:?}").to_lowercase(),
        ]
    }
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
    /// Scenario 3: C chats sending at fixed total rates (open loop, senders at random
    /// phases); send→delivery percentiles at each rate, and their plot against the rate.
    Latency(LatencyArgs),
    /// Scenario 4: N visitors holding polls, then an admin announcement; how long until each
    /// held poll, and the last one, had it. Splits over --processes.
    Fanout(FanoutArgs),
    /// Scenario 5: agents keep sending while the visitors stop polling for --pause seconds;
    /// the server's RSS during the pause, then the visitors' catch-up with nothing lost.
    Slow(SlowArgs),
    /// Logins: N agents created through the admin API, then all logged in at once, each with
    /// its own password; the server's RSS before, during and after (Argon2's memory), and how
    /// the logins were answered (200, or 429/503 retried after Retry-After).
    Logins(LoginsArgs),
    /// (internal) A worker process of a split run.
    #[command(hide = true)]
    Worker(WorkerArgs),
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
    /// Split the visitors over this many worker processes (each under its own descriptor
    /// limit); `max` is then this many times one process's.
    #[arg(long, default_value_t = 1)]
    pub processes: usize,
    /// Hold the polls of visitors in open chats: before each step's ramp, each new visitor
    /// starts a chat with an agent (agents online through this process's polls, taking
    /// --chats-per-agent each), so the per-poll figure includes the chat's memory.
    #[arg(long)]
    pub in_chats: bool,
    /// With --in-chats: chats per agent (the agents' max_chats; the server allows 1–100).
    #[arg(long, default_value_t = 100)]
    pub chats_per_agent: usize,
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

/// The room of a chat scenario: who is in it and how its messages look.
#[derive(Debug, Args)]
pub struct RoomArgs {
    /// Concurrent chats (one visitor each). Default: 100 for throughput and integrity, 5,000
    /// for latency, 200 for slow.
    #[arg(long)]
    pub chats: Option<usize>,
    /// Chats per agent (the agents' max_chats); agents = ceil(chats / this).
    #[arg(long, default_value_t = 5)]
    pub agent_max_chats: usize,
    /// Characters in each message body.
    #[arg(long, default_value_t = 64)]
    pub body_chars: usize,
    /// Retries of one message (same client_msg_id) after a transport error, 429 or 503.
    #[arg(long, default_value_t = 3)]
    pub send_retries: u32,
    /// Seconds to wait for every acknowledged message to reach the other side (at the end,
    /// and between steps).
    #[arg(long, default_value_t = 30)]
    pub drain_timeout: u64,
    /// Concurrent requests while creating agents (an Argon2 hash per create and per login on
    /// the server), visitors and chats.
    #[arg(long, default_value_t = 16)]
    pub setup_concurrency: usize,
}

impl RoomArgs {
    /// `--chats`, or the scenario's `default`.
    pub fn chats_or(&self, default: usize) -> usize {
        self.chats.unwrap_or(default).max(1)
    }
}

/// Options of the chat scenarios (throughput and integrity).
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The room.
    #[command(flatten)]
    pub room: RoomArgs,
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
    /// Checks the checker: ignore every Nth chat event a poll brings, as if the server had lost
    /// it. The run must then fail (use a short --drain-timeout).
    #[arg(long, value_name = "N")]
    pub self_check_drop_every: Option<u64>,
    /// Crash safety: kill -9 the spawned server this many seconds after sending starts and
    /// start it again on the same store and port; with several --nodes, kill the first node and
    /// leave it dead (its visitors and agents carry on through the others). Every message
    /// acknowledged before the crash must still be delivered once. Sends are then retried until
    /// acknowledged.
    #[arg(long, value_name = "SECS")]
    pub crash_after: Option<f64>,
    /// Fault injection: run --fault-cmd this many seconds after sending starts. The drain waits
    /// for it to finish; sends are retried until acknowledged.
    #[arg(long, value_name = "SECS", requires = "fault_cmd")]
    pub fault_after: Option<f64>,
    /// The fault: a shell command (`sh -c`), run once, e.g. restarting Redis or stopping
    /// PostgreSQL for a few seconds. When it started, how long it took and its exit status go
    /// into the summary; a failing command fails the run.
    #[arg(long, value_name = "COMMAND", requires = "fault_after")]
    pub fault_cmd: Option<String>,
}

/// Scenario 3's options.
#[derive(Debug, Args)]
pub struct LatencyArgs {
    /// The room.
    #[command(flatten)]
    pub room: RoomArgs,
    /// Who sends.
    #[arg(long, value_enum, default_value_t = Senders::Both)]
    pub senders: Senders,
    /// Total messages per second to measure at, one step each, on the same chats (drained
    /// between steps).
    #[arg(long, value_delimiter = ',', default_value = "5000")]
    pub rates: Vec<f64>,
    /// Seconds of sending before each step's measured window.
    #[arg(long, default_value_t = 5)]
    pub warmup: u64,
    /// Seconds of each step's measured window.
    #[arg(long, default_value_t = 30)]
    pub duration: u64,
    /// Draw p50, p99 and p99.9 against the rate into this SVG file (log-scale latency).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
}

/// Scenario 5's options.
#[derive(Debug, Args)]
pub struct SlowArgs {
    /// The room.
    #[command(flatten)]
    pub room: RoomArgs,
    /// Messages per second the agents send, over all chats.
    #[arg(long, default_value_t = 1000.0)]
    pub rate: f64,
    /// Seconds of sending with everyone polling before the pause.
    #[arg(long, default_value_t = 5)]
    pub warmup: u64,
    /// Seconds the slow visitors do not poll while the agents keep sending. A spawned server
    /// gets a presence grace long enough for it (or the visitors would count as gone).
    #[arg(long, default_value_t = 30)]
    pub pause: u64,
    /// Share of the visitors that pause (the first ones), 0 to 1.
    #[arg(long, default_value_t = 1.0)]
    pub slow_fraction: f64,
}

/// The logins scenario's options.
#[derive(Debug, Args)]
pub struct LoginsArgs {
    /// Agents to create, then to log in.
    #[arg(long, default_value_t = 200)]
    pub agents: usize,
    /// Agents created at a time (each create hashes a password on the server).
    #[arg(long, default_value_t = 32)]
    pub create_concurrency: usize,
    /// Logins at a time; default: every agent at once.
    #[arg(long)]
    pub login_concurrency: Option<usize>,
    /// Seconds a login (or a create) may take, from its first attempt, including its retries
    /// after 429 or 503; past them it has failed for good.
    #[arg(long, default_value_t = 60)]
    pub login_timeout: u64,
    /// Seconds to wait after the creates and after the logins before reading the server's RSS
    /// (the peak is sampled every 200 ms throughout).
    #[arg(long, default_value_t = 2)]
    pub settle: u64,
}

/// Scenario 4's options.
#[derive(Debug, Args)]
pub struct FanoutArgs {
    /// Visitors holding a poll. Past the server's cap they are refused (503) and counted as
    /// not holding.
    #[arg(long, default_value_t = 19_000)]
    pub visitors: usize,
    /// Announcements, one per round.
    #[arg(long, default_value_t = 3)]
    pub rounds: u32,
    /// Split the visitors over this many worker processes (each under its own descriptor
    /// limit).
    #[arg(long, default_value_t = 1)]
    pub processes: usize,
    /// New polls opened per second while ramping up (over all processes).
    #[arg(long, default_value_t = 2000)]
    pub ramp_rate: u32,
    /// Seconds to wait for every held poll to have the announcement.
    #[arg(long, default_value_t = 10)]
    pub round_timeout: u64,
    /// Seconds to wait, after a round, for the visitors to be polling again.
    #[arg(long, default_value_t = 30)]
    pub settle_timeout: u64,
}

/// The hidden worker: a share of a run's visitors in a process of its own, driven over
/// standard input and output by the parent run.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// This worker's number, from 0 (tab ids and pools are spread by it).
    #[arg(long, default_value_t = 0)]
    pub index: usize,
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn spawn_nchan_takes_its_path_only_after_an_equals_sign() {
        let cli = Cli::try_parse_from(["switchboard-load", "--spawn-nchan", "throughput", "--chats", "5"])
            .expect("a bare --spawn-nchan before the scenario");
        assert_eq!(cli.target.spawn_nchan.as_deref(), Some(Path::new("/usr/sbin/nginx")));
        assert_eq!(cli.target.wire(), Wire::Nchan);
        assert!(matches!(cli.scenario, Scenario::Throughput(_)));
        let cli =
            Cli::try_parse_from(["switchboard-load", "--spawn-nchan=/opt/nginx", "idle"]).expect("a path");
        assert_eq!(cli.target.spawn_nchan.as_deref(), Some(Path::new("/opt/nginx")));
        let both = Cli::try_parse_from(["switchboard-load", "--spawn-nchan", "--spawn-server", "/s", "idle"]);
        assert!(both.is_err(), "nchan and a Switchboard server are two targets");
        let switchboard =
            Cli::try_parse_from(["switchboard-load", "--spawn-server", "/s", "idle"]).expect("parses");
        assert_eq!(switchboard.target.wire(), Wire::Switchboard);
        assert!(switchboard
            .target
            .worker_args("http://x", Wire::Nchan)
            .ends_with(&["--wire".into(), "nchan".into()]));
    }
}
