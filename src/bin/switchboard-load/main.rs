//! `switchboard-load`: a load generator that speaks Switchboard's public API like real
//! visitors and agents, measures the server (send→delivery latency, messages/s, RSS and CPU
//! from `/proc`), and checks integrity: every acknowledged message delivered to the other side
//! exactly once and in order. See BENCHMARKS.md for the scenarios and their commands.
//!
//! # Layout
//! - `cli`: the command line (shared target options, one subcommand per scenario).
//! - `client`: the HTTP client (one pool per source address) and error classification.
//! - `actors`: the poll loop of a visitor or agent and the send loop of a chat side.
//! - `ledger`: what each side received and what the server acknowledged; the integrity verdict.
//! - `stats`: counters, errors by kind, the latency histogram.
//! - `population`: the admin, agents and visitors a run creates.
//! - `procstat`: RSS and CPU from `/proc/<pid>`; the descriptor budget.
//! - `server`: spawning (and always stopping) the server or the baseline, or attaching.
//! - `report`, `plot`: the progress bar, the JSON summary, the SVG chart.
//! - `scenarios`: `idle` (scenario 1), `chats` (throughput and integrity).
//!
//! Exit status: 0 when the run passed, 1 when integrity failed (or, for `integrity`, any
//! request failed), 2 when the run could not be carried out.

mod actors;
mod cli;
mod client;
mod ledger;
mod plot;
mod population;
mod procstat;
mod report;
mod scenarios;
mod server;
mod stats;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Scenario};
use report::Progress;
use scenarios::chats::Mode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("switchboard-load: cannot start the runtime: {error}");
            return ExitCode::from(2);
        }
    };
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
