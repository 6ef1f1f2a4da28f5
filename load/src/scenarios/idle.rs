//! Scenario 1, idle: N visitors each holding a poll, stepped up through the asked Ns. At each
//! step, after the ramp settles, the server's CPU is measured over one re-poll cycle and its
//! RSS read at the end. The same steps run first against a bare actix-web handler that only
//! sleeps (`switchboard-baseline`), so the figure is what a held poll costs *above* actix-web.
//!
//! With `--in-chats` each visitor is in an open chat: agents are created and brought online
//! (their polls held by this process) before the reference reading, and before each step's
//! ramp the step's new visitors start a chat each, so the chat's memory counts in the figure.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::Outcome;
use crate::actors::{poll_loop, Ctx, Poller, StopSwitch};
use crate::cli::{IdleArgs, TargetArgs};
use crate::client::Api;
use crate::fleet::{Command, Reply, SETUP_CONCURRENCY};
use crate::ledger::Side;
use crate::plot::{line_chart, Series};
use crate::population;
use crate::procstat::{
    check_descriptors, cpu_percent, descriptor_limit, MachineSample, ProcSample, ProcWatch,
};
use crate::report::{self, Progress};
use crate::server::Target;
use crate::stats::errors_between;
use crate::wire::Wire;
use crate::workers::{share, Shares};

/// One step's figures.
struct Step {
    target: usize,
    held: i64,
    rss_kib: u64,
    fds: Option<u64>,
    cpu_percent: f64,
    load_cpu_percent: f64,
    answers_per_sec: f64,
    errors: BTreeMap<String, u64>,
    machine: Value,
}

/// One server's run through the steps.
struct Phase {
    description: String,
    reference_rss_kib: u64,
    steps: Vec<Step>,
    errors: BTreeMap<String, u64>,
}

impl Phase {
    /// Bytes of RSS per held poll at each step, from the reference (no polls held).
    fn per_poll(&self) -> Vec<Option<f64>> {
        self.steps
            .iter()
            .map(|step| {
                (step.held > 0).then(|| {
                    (step.rss_kib as f64 - self.reference_rss_kib as f64) * 1024.0 / step.held as f64
                })
            })
            .collect()
    }

    /// Least-squares slope of RSS against held polls, bytes per poll, the reference included.
    fn fitted_per_poll(&self) -> Option<f64> {
        let points: Vec<(f64, f64)> = std::iter::once((0.0, self.reference_rss_kib as f64 * 1024.0))
            .chain(self.steps.iter().map(|s| (s.held as f64, s.rss_kib as f64 * 1024.0)))
            .collect();
        let n = points.len() as f64;
        let (sx, sy) = points.iter().fold((0.0, 0.0), |(x, y), (px, py)| (x + px, y + py));
        let (mx, my) = (sx / n, sy / n);
        let (cov, var) = points
            .iter()
            .fold((0.0, 0.0), |(c, v), (x, y)| (c + (x - mx) * (y - my), v + (x - mx) * (x - mx)));
        (var > 0.0).then(|| cov / var)
    }

    fn json(&self) -> Value {
        let per_poll = self.per_poll();
        let steps: Vec<Value> = self
            .steps
            .iter()
            .zip(&per_poll)
            .map(|(step, per_poll)| {
                json!({
                    "target_polls": step.target,
                    "held_polls": step.held,
                    "rss_kib": step.rss_kib,
                    "rss_bytes_per_held_poll": per_poll.map(f64::round),
                    "open_fds": step.fds,
                    "cpu_percent_of_one_core": report::round1(step.cpu_percent),
                    "poll_answers_per_sec": report::round1(step.answers_per_sec),
                    "load_cpu_percent_of_one_core": report::round1(step.load_cpu_percent),
                    "errors_during_window": step.errors,
                    "machine": step.machine,
                })
            })
            .collect();
        json!({
            "server": self.description,
            "reference_rss_kib": self.reference_rss_kib,
            "fitted_rss_bytes_per_held_poll": self.fitted_per_poll().map(f64::round),
            "steps": steps,
            "errors": self.errors,
        })
    }

    fn series(&self, name: &str) -> Series {
        let points = std::iter::once((0.0, self.reference_rss_kib as f64 / 1024.0))
            .chain(self.steps.iter().map(|s| (s.held as f64, s.rss_kib as f64 / 1024.0)))
            .collect();
        Series { name: name.to_string(), points }
    }
}

/// Runs scenario 1.
pub async fn run(target_args: &TargetArgs, args: &IdleArgs, progress: &Progress) -> Result<Outcome, String> {
    if target_args.wire() == Wire::Nchan && args.in_chats {
        return Err("--in-chats holds polls of visitors in Switchboard chats: nchan has none".into());
    }
    if target_args.nodes > 1 || target_args.url.as_deref().is_some_and(|urls| urls.contains(',')) {
        return Err("idle measures one server process's memory per held poll: give it one node".into());
    }
    let processes = args.processes.max(1);
    let per_process = usize::try_from(descriptor_limit().saturating_sub(100)).unwrap_or(usize::MAX);
    let steps = parse_steps(&args.visitors, per_process.saturating_mul(processes))?;
    let top = steps.last().copied().unwrap_or(0);
    // Each process holds its share; workers inherit this process's limit.
    let ulimit_needed = check_descriptors((top.div_ceil(processes) + SETUP_CONCURRENCY) as u64)?;

    let baseline = if args.no_baseline {
        None
    } else {
        let binary = match &args.baseline {
            Some(path) => path.clone(),
            None => sibling_binary("switchboard-baseline")?,
        };
        let target = Target::baseline(&binary, target_args.server_workers).await?;
        progress.log(&format!("baseline: {}", target.description));
        let phase = measure(&target, Wire::Switchboard, 0, &steps, target_args, args, progress).await;
        let tail = target.log_tail();
        target.stop().await;
        Some(phase.map_err(|error| format!("{error}\n{tail}"))?)
    };

    // nchan's subscribers need no visitor made first: each holds a poll on a channel of its own.
    let wire = target_args.wire();
    let visitors = if wire == Wire::Nchan { 0 } else { top };
    let target = Target::switchboard(target_args).await?;
    progress.log(&format!("{wire:?}: {}", target.description).to_lowercase());
    let phase = measure(&target, wire, visitors, &steps, target_args, args, progress).await;
    let tail = target.log_tail();
    target.stop().await;
    let switchboard = phase.map_err(|error| format!("{error}\n{tail}"))?;

    // The figures of nchan's run keep Switchboard's keys, so that runs compare field by field.
    let comparison = compare(&switchboard, baseline.as_ref());
    let name = format!("{wire:?}").to_lowercase();
    for line in &comparison {
        progress.log(&format!(
            "{} held: {name} {} B/poll, baseline {} B/poll, above baseline {} B/poll; {name} CPU {}% of a core",
            line["held_polls"], line["switchboard_bytes_per_poll"], line["baseline_bytes_per_poll"],
            line["above_baseline_bytes_per_poll"], line["switchboard_cpu_percent_of_one_core"]
        ));
    }
    if let Some(path) = &args.plot {
        let mut series = vec![switchboard.series("switchboard")];
        if let Some(baseline) = &baseline {
            series.push(baseline.series("bare actix-web (sleeping handler)"));
        }
        let svg = line_chart("Server RSS against held polls", "held polls", "server RSS (MiB)", &series);
        std::fs::write(path, svg).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let summary = json!({
        "scenario": "idle",
        "target": wire,
        "settings": {
            "visitors": steps,
            "processes": processes,
            "hold_secs": target_args.hold,
            "ramp_rate": args.ramp_rate,
            "settle_secs": args.settle,
            "in_chats": args.in_chats,
            "chats_per_agent": args.in_chats.then_some(args.chats_per_agent),
            "measure_secs": args.measure,
            "source_addrs": target_args.source_addrs,
            "server_workers": target_args.server_workers,
        },
        "ulimit_n_needed": ulimit_needed,
        "baseline": baseline.as_ref().map(Phase::json),
        "switchboard": switchboard.json(),
        "comparison": comparison,
    });
    Ok(Outcome { summary, ok: true })
}

/// `1000,5000,max` → [1000, 5000, max]; increasing and within `max`.
fn parse_steps(texts: &[String], max: usize) -> Result<Vec<usize>, String> {
    let mut steps = Vec::new();
    for text in texts {
        let step = match text.trim() {
            "max" => max,
            number => number
                .parse::<usize>()
                .map_err(|_| format!("--visitors: {number} is not a number or `max`"))?,
        };
        if step > max {
            return Err(format!("--visitors {step}: this process may hold at most {max} polls (ulimit -n)"));
        }
        if steps.last().is_some_and(|last| *last >= step) {
            return Err("--visitors must increase".into());
        }
        steps.push(step);
    }
    if steps.is_empty() {
        return Err("--visitors is empty".into());
    }
    Ok(steps)
}

/// The binary `name` next to this one.
fn sibling_binary(name: &str) -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let path = me.with_file_name(name);
    if !path.exists() {
        return Err(format!(
            "{} not found: build it (cargo build --release --bins) or pass --baseline",
            path.display()
        ));
    }
    Ok(path)
}

/// Ramps held polls through `steps` against `target` — as `visitors` visitors created first,
/// or without tokens when 0 (the baseline) — and measures each step.
#[allow(clippy::too_many_arguments)]
async fn measure(
    target: &Target,
    wire: Wire,
    visitors: usize,
    steps: &[usize],
    target_args: &TargetArgs,
    args: &IdleArgs,
    progress: &Progress,
) -> Result<Phase, String> {
    let mut shares = Shares::start(args.processes, target_args, &target.urls(), wire, progress)?;
    let phase = measure_on(&mut shares, target, visitors, steps, target_args, args, progress).await;
    shares.stop().await;
    phase
}

/// Agents online through this process's polls, for `--in-chats`.
struct OnlineAgents {
    ids: Vec<String>,
    per_agent: usize,
    switch: StopSwitch,
    loops: Vec<JoinHandle<()>>,
}

impl OnlineAgents {
    /// Creates enough agents for `visitors` chats and waits for each one's first poll answer.
    async fn start(
        target: &Target,
        target_args: &TargetArgs,
        visitors: usize,
        per_agent: usize,
        progress: &Progress,
    ) -> Result<Self, String> {
        let per_agent = per_agent.max(1);
        let api =
            Api::new(&target.urls(), target_args.source_addrs).map_err(|e| format!("HTTP client: {e}"))?;
        let ctx = Arc::new(Ctx::new(api, None, target_args.hold));
        let admin =
            population::admin_token(&ctx.api, &target_args.admin_employee_id, &target_args.admin_password)
                .await?;
        let count = visitors.div_ceil(per_agent);
        let agents =
            population::agents(&ctx.api, &ctx.stats, progress, &admin, count, per_agent, SETUP_CONCURRENCY)
                .await?;
        if agents.len() < count {
            return Err(format!("only {} of {count} agents could be created", agents.len()));
        }
        let (switch, stop) = StopSwitch::new();
        let mut loops = Vec::new();
        let mut onlines = Vec::new();
        for (index, agent) in agents.iter().enumerate() {
            let (online, arrived) = oneshot::channel();
            onlines.push(arrived);
            let poller = Poller::new(Some(agent.token.clone()), Side::Agent, index, format!("a{index}"));
            loops.push(tokio::spawn(poll_loop(Arc::clone(&ctx), poller, Some(online), stop.clone())));
        }
        for arrived in onlines {
            tokio::time::timeout(Duration::from_secs(60), arrived)
                .await
                .map_err(|_| "an agent's first poll got no answer within 60 s")?
                .map_err(|_| "an agent's poll loop ended before its first answer")?;
        }
        let ids = agents.into_iter().map(|agent| agent.agent_id).collect();
        Ok(Self { ids, per_agent, switch, loops })
    }

    async fn stop(self) {
        self.switch.stop();
        futures_util::future::join_all(self.loops).await;
    }
}

async fn measure_on(
    shares: &mut Shares,
    target: &Target,
    visitors: usize,
    steps: &[usize],
    target_args: &TargetArgs,
    args: &IdleArgs,
    progress: &Progress,
) -> Result<Phase, String> {
    let parts = shares.count();
    let watch = target.watch().ok_or("the server's pid is unknown: pass --server-pid")?;
    let ticker = report::spawn_ticker(progress.clone(), shares.local_stats(), Some(watch));
    let mut agents = None;
    let result = async {
        if visitors > 0 {
            if parts > 1 {
                progress.phase(&format!("creating {visitors} visitors over {parts} processes"), None);
            }
            let replies =
                shares.ask(|index| Command::Visitors { count: share(visitors, parts, index) }).await?;
            let created: usize = replies
                .iter()
                .map(|reply| if let Reply::Visitors { created } = reply { *created } else { 0 })
                .sum();
            if created < visitors {
                let errors = shares.status().await?.errors;
                return Err(format!("only {created} of {visitors} visitors could be created: {errors:?}"));
            }
            if args.in_chats {
                agents = Some(
                    OnlineAgents::start(target, target_args, visitors, args.chats_per_agent, progress)
                        .await?,
                );
            }
        }
        // Each fleet's first visitor's number in the run (the order they were created in).
        let firsts: Vec<usize> = (0..parts)
            .scan(0, |next, index| {
                let first = *next;
                *next += share(visitors, parts, index);
                Some(first)
            })
            .collect();
        // Let the setup's garbage settle before the reference reading.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let reference = watch.sample().ok_or("the server is gone")?;
        let mut figures = Vec::new();
        let rate = args.ramp_rate / parts as u32;
        for &target_polls in steps {
            if parts > 1 {
                progress.phase(&format!("ramping to {target_polls} held polls over {parts} processes"), None);
            }
            if let Some(agents) = &agents {
                progress.phase(&format!("{target_polls} visitors in chats"), None);
                shares
                    .ask(|index| Command::Chats {
                        upto: share(target_polls, parts, index),
                        first: firsts.get(index).copied().unwrap_or(0),
                        agents: agents.ids.clone(),
                        per_agent: agents.per_agent,
                    })
                    .await?;
            }
            shares.ask(|index| Command::Ramp { polls: share(target_polls, parts, index), rate }).await?;
            progress.phase(
                &format!("{target_polls} polls: settling {} s, measuring {} s", args.settle, args.measure),
                None,
            );
            tokio::time::sleep(Duration::from_secs(args.settle)).await;
            let step = measure_step(shares, watch, target_polls, args.measure).await?;
            progress.log(&format!(
                "  {target_polls}: {} held, RSS {} MiB, CPU {:.1}% of a core",
                step.held,
                step.rss_kib / 1024,
                step.cpu_percent
            ));
            figures.push(step);
        }
        Ok((reference, figures))
    }
    .await;
    ticker.abort();
    if let Some(agents) = agents {
        agents.stop().await;
    }
    let (reference, figures) = result?;
    let errors = shares.status().await?.errors;
    Ok(Phase {
        description: target.description.clone(),
        reference_rss_kib: reference.rss_kib,
        steps: figures,
        errors,
    })
}

/// One step's window: the server's CPU over `measure` seconds, its RSS at the end.
async fn measure_step(
    shares: &mut Shares,
    watch: ProcWatch,
    target_polls: usize,
    measure: u64,
) -> Result<Step, String> {
    let before = shares.status().await?;
    let (from, machine_from, started) = (watch.sample(), MachineSample::now(), Instant::now());
    tokio::time::sleep(Duration::from_secs(measure)).await;
    let (to, machine_to) = (watch.sample(), MachineSample::now());
    let after = shares.status().await?;
    let elapsed = started.elapsed().as_secs_f64();
    // The load's CPU as samples of one process, so the machine's share of others is right.
    let load = |status: &crate::fleet::FleetStatus, at: Instant| ProcSample {
        at,
        rss_kib: status.rss_kib,
        cpu_secs: status.cpu_secs,
        threads: 0,
    };
    let (load_from, load_to) =
        (load(&before, started), load(&after, started + Duration::from_secs_f64(elapsed)));
    let machine = report::machine_json(
        machine_from.as_ref(),
        machine_to.as_ref(),
        (from.as_ref(), to.as_ref()),
        (Some(&load_from), Some(&load_to)),
    );
    let (Some(from), Some(to)) = (from, to) else {
        return Err("the server is gone".into());
    };
    let step = Step {
        target: target_polls,
        held: after.held,
        rss_kib: to.rss_kib,
        fds: watch.open_fds(),
        cpu_percent: cpu_percent(&from, &to),
        load_cpu_percent: cpu_percent(&load_from, &load_to),
        answers_per_sec: (after.answered - before.answered) as f64 / elapsed,
        errors: errors_between(&before.errors, &after.errors),
        machine,
    };
    Ok(step)
}

/// Switchboard beside the baseline, step by step.
fn compare(switchboard: &Phase, baseline: Option<&Phase>) -> Vec<Value> {
    let ours = switchboard.per_poll();
    let theirs = baseline.map(Phase::per_poll).unwrap_or_default();
    switchboard
        .steps
        .iter()
        .enumerate()
        .map(|(index, step)| {
            let mine = ours.get(index).copied().flatten();
            let base = theirs.get(index).copied().flatten();
            json!({
                "target_polls": step.target,
                "held_polls": step.held,
                "switchboard_bytes_per_poll": mine.map(f64::round),
                "baseline_bytes_per_poll": base.map(f64::round),
                "above_baseline_bytes_per_poll": mine.zip(base).map(|(m, b)| (m - b).round()),
                "switchboard_cpu_percent_of_one_core": report::round1(step.cpu_percent),
                "baseline_cpu_percent_of_one_core":
                    baseline.and_then(|b| b.steps.get(index)).map(|s| report::round1(s.cpu_percent)),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_parse_with_max_and_must_increase() {
        let texts = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_steps(&texts(&["10", "max"]), 50), Ok(vec![10, 50]));
        assert!(parse_steps(&texts(&["10", "5"]), 50).is_err());
        assert!(parse_steps(&texts(&["60"]), 50).is_err());
    }
}
