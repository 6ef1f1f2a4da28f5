//! `switchboard-load`: a load generator that speaks Switchboard's public API like real
//! visitors and agents, measures the server (send→delivery latency, messages/s, RSS and CPU
//! from `/proc`), and checks integrity: every acknowledged message delivered to the other side
//! exactly once and in order. See BENCHMARKS.md for the scenarios and their commands.
//!
//! # Layout
//! - `cli`: the command line (shared target options, one subcommand per scenario).
//! - `client`: the HTTP client (one pool per source address) and error classification.
//! - `http1`: one kept-alive HTTP/1.1 connection, written lean (the generator shares the
//!   server's cores).
//! - `actors`: the poll loop of a visitor or agent and the send loop of a chat side.
//! - `tap`: what a scenario watches of a poll loop (announcements, a poll in flight) and its
//!   pause switch.
//! - `ledger`: what each side received and what the server acknowledged; the integrity verdict.
//! - `stats`: counters, errors by kind, the latency histogram.
//! - `population`: the admin, agents and visitors a run creates.
//! - `chatroom`: a room of agents and visitors with open chats, a window of sending, the end.
//! - `session`: a chat scenario's run from starting the server to the integrity verdict.
//! - `fleet`, `workers`: visitors holding polls in this process or split over worker
//!   processes (past one process's descriptor limit), driven by the same commands.
//! - `procstat`: RSS and CPU from `/proc/<pid>`; the descriptor budget.
//! - `server`: spawning (and always stopping) the server — one node or several on one
//!   PostgreSQL and Redis — or the baseline, or attaching to running nodes; `node`: one such
//!   process; `database`: the fresh PostgreSQL database of a run.
//! - `client` also acts as the load balancer of several nodes: round-robin, no stickiness,
//!   a refused connection passed on to the next node.
//! - `disruption`: crashes and faults timed from the start of sending, and the end of a run
//!   waiting for them; `crash`: `--crash-after`; `fault`: `--fault-after`/`--fault-cmd`.
//! - `wire`: what the target speaks — Switchboard's API, or nginx + nchan's publisher and
//!   long-poll subscriber (the peer Switchboard is compared with, `--spawn-nchan`); `nchan`:
//!   the nginx config generated for it.
//! - `report`, `plot`: the progress bar, the JSON summary, the SVG chart.
//! - `scenarios`: `idle` (scenario 1), `chats` (throughput and integrity), `latency` (3),
//!   `fanout` (4), `slow` (5), `logins` (Argon2's memory and the login queue).
//!
//! Exit status: 0 when the run passed, 1 when integrity failed (or, for `integrity`, any
//! request failed; for `logins`, a login failed for good or a request errored), 2 when the run
//! could not be carried out.

mod actors;
mod chatroom;
mod cli;
mod client;
mod crash;
mod database;
mod disruption;
mod fault;
mod fleet;
mod http1;
mod ledger;
mod nchan;
mod node;
mod plot;
mod population;
mod procstat;
mod report;
mod scenarios;
mod server;
mod session;
mod stats;
mod tap;
mod wire;
mod workers;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Scenario};
use report::Progress;
use scenarios::chats::Mode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match runtime(cli.target.load_threads) {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("switchboard-load: cannot start the runtime: {error}");
            return ExitCode::from(2);
        }
    };
    if let Scenario::Worker(args) = &cli.scenario {
        return worker(&runtime, &cli, args);
    }
    let measurable_on_nchan = matches!(
        cli.scenario,
        Scenario::Idle(_) | Scenario::Throughput(_) | Scenario::Integrity(_) | Scenario::Latency(_)
    );
    if cli.target.wire() == cli::Wire::Nchan && !measurable_on_nchan {
        eprintln!("switchboard-load: nchan runs idle, throughput, integrity and latency only");
        return ExitCode::from(2);
    }
    let progress = Progress::new(!cli.target.no_progress);
    let outcome = runtime.block_on(async {
        let run = async {
            match &cli.scenario {
                Scenario::Idle(args) => scenarios::idle::run(&cli.target, args, &progress).await,
                Scenario::Throughput(args) => {
                    scenarios::chats::run(&cli.target, args, Mode::Throughput, &progress).await
                }
                Scenario::Integrity(args) => {
                    scenarios::chats::run(&cli.target, args, Mode::Integrity, &progress).await
                }
                Scenario::Latency(args) => scenarios::latency::run(&cli.target, args, &progress).await,
                Scenario::Fanout(args) => scenarios::fanout::run(&cli.target, args, &progress).await,
                Scenario::Slow(args) => scenarios::slow::run(&cli.target, args, &progress).await,
                Scenario::Logins(args) => scenarios::logins::run(&cli.target, args, &progress).await,
                Scenario::Worker(_) => Err("a worker runs only under a parent run".into()),
            }
        };
        // Ctrl-C drops the run, and with it every server it started (their Drop kills them).
        tokio::select! {
            outcome = run => outcome,
            _ = tokio::signal::ctrl_c() => Err("interrupted".to_string()),
        }
    });
    progress.finish();
    // Poll and send tasks still winding down must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match outcome {
        Ok(outcome) => {
            if let Err(error) = report::emit(&outcome.summary, cli.target.json_out.as_deref()) {
                eprintln!("switchboard-load: {error}");
                return ExitCode::from(2);
            }
            if outcome.ok {
                ExitCode::SUCCESS
            } else {
                eprintln!("switchboard-load: FAILED (see integrity and errors above)");
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("switchboard-load: {error}");
            ExitCode::from(2)
        }
    }
}

/// The runtime `--load-threads` asks for. The generator shares the cores with the server it
/// measures, and on a work-stealing pool each event tends to wake a second thread (a futex
/// wake and two context switches), which at low rates costs more than the request itself.
fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    match threads {
        1 => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        0 => tokio::runtime::Builder::new_multi_thread().enable_all().build(),
        n => tokio::runtime::Builder::new_multi_thread().worker_threads(n).enable_all().build(),
    }
}

/// A worker process of a split run: serves its parent until told to stop or orphaned.
fn worker(runtime: &tokio::runtime::Runtime, cli: &Cli, args: &cli::WorkerArgs) -> ExitCode {
    let outcome = runtime.block_on(async {
        tokio::select! {
            outcome = workers::serve(&cli.target, args) => outcome,
            _ = tokio::signal::ctrl_c() => Err("interrupted".to_string()),
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("switchboard-load worker {}: {error}", args.index);
            ExitCode::from(2)
        }
    }
}
