//! Scenario 1, idle: N visitors each holding a poll, stepped up through the asked Ns. At each
//! step, after the ramp settles, the server's CPU is measured over one re-poll cycle and its
//! RSS read at the end. The same steps run first against a bare actix-web handler that only
//! sleeps (`switchboard-baseline`), so the figure is what a held poll costs *above* actix-web.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::Outcome;
use crate::actors::{poll_loop, Ctx, Poller, StopSwitch};
use crate::cli::{IdleArgs, TargetArgs};
use crate::client::Api;
use crate::ledger::Side;
use crate::plot::{line_chart, Series};
use crate::population;
use crate::procstat::{check_descriptors, cpu_percent, descriptor_limit, MachineSample, ProcWatch};
use crate::report::{self, Progress};
use crate::server::Target;
use crate::stats::Stats;

/// Connections kept out of `max` for the setup calls (visitor creation).
const SETUP_CONCURRENCY: usize = 16;

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
    let max = usize::try_from(descriptor_limit().saturating_sub(100)).unwrap_or(usize::MAX);
    let steps = parse_steps(&args.visitors, max)?;
    let top = steps.last().copied().unwrap_or(0);
    let ulimit_needed = check_descriptors((top + SETUP_CONCURRENCY) as u64)?;

    let baseline = if args.no_baseline {
        None
    } else {
        let binary = match &args.baseline {
            Some(path) => path.clone(),
            None => sibling_binary("switchboard-baseline")?,
        };
        let target = Target::baseline(&binary, target_args.server_workers).await?;
        progress.log(&format!("baseline: {}", target.description));
        let phase = measure(&target, None, &steps, target_args, args, progress).await;
        let tail = target.log_tail();
        target.stop().await;
        Some(phase.map_err(|error| format!("{error}\n{tail}"))?)
    };

    let target = Target::switchboard(target_args).await?;
    progress.log(&format!("switchboard: {}", target.description));
    let phase = async {
        let api =
            Api::new(&target.base_url, target_args.source_addrs).map_err(|e| format!("HTTP client: {e}"))?;
        let stats = Stats::new();
        let visitors = population::visitors(&api, &stats, progress, top, SETUP_CONCURRENCY).await?;
        if visitors.len() < top {
            return Err(format!(
                "only {} of {top} visitors could be created: {:?}",
                visitors.len(),
                stats.errors()
            ));
        }
        let tokens = visitors.into_iter().map(|visitor| visitor.token).collect();
        measure(&target, Some(tokens), &steps, target_args, args, progress).await
    }
    .await;
    let tail = target.log_tail();
    target.stop().await;
    let switchboard = phase.map_err(|error| format!("{error}\n{tail}"))?;

    let comparison = compare(&switchboard, baseline.as_ref());
    for line in &comparison {
        progress.log(&format!(
            "{} held: switchboard {} B/poll, baseline {} B/poll, above baseline {} B/poll; switchboard CPU {}% of a core",
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
        "settings": {
            "visitors": steps,
            "hold_secs": target_args.hold,
            "ramp_rate": args.ramp_rate,
            "settle_secs": args.settle,
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

/// Ramps held polls through `steps` against `target` (with `tokens`, one per visitor, or none
/// for the baseline) and measures each step.
async fn measure(
    target: &Target,
    tokens: Option<Vec<String>>,
    steps: &[usize],
    target_args: &TargetArgs,
    args: &IdleArgs,
    progress: &Progress,
) -> Result<Phase, String> {
    let api =
        Api::new(&target.base_url, target_args.source_addrs).map_err(|e| format!("HTTP client: {e}"))?;
    let stats = Arc::new(Stats::new());
    let ctx = Arc::new(Ctx {
        api,
        stats: Arc::clone(&stats),
        ledger: None,
        hold: target_args.hold,
        drop_every: None,
        received: AtomicU64::new(0),
    });
    let watch = target.pid.map(ProcWatch::new).ok_or("the server's pid is unknown: pass --server-pid")?;
    let me = ProcWatch::this_process();
    let ticker = report::spawn_ticker(progress.clone(), Arc::clone(&stats), Some(watch));
    // Let the setup's garbage settle before the reference reading.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let reference = watch.sample().ok_or("the server is gone")?;
    let (switch, stop) = StopSwitch::new();
    let mut polls = Vec::new();
    let mut figures = Vec::new();
    let batch = (args.ramp_rate.max(100) / 100) as usize;
    for &target_polls in steps {
        progress.phase(&format!("ramping to {target_polls} held polls"), Some(target_polls as u64));
        while polls.len() < target_polls {
            for _ in 0..batch.min(target_polls - polls.len()) {
                let index = polls.len();
                let poller = Poller {
                    token: tokens.as_ref().and_then(|tokens| tokens.get(index).cloned()),
                    side: Side::Visitor,
                    slot: index,
                    tab: format!("v{index}"),
                };
                polls.push(tokio::spawn(poll_loop(Arc::clone(&ctx), poller, None, stop.clone())));
            }
            progress.set_position(polls.len() as u64);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        progress.phase(
            &format!("{target_polls} polls: settling {} s, measuring {} s", args.settle, args.measure),
            None,
        );
        tokio::time::sleep(Duration::from_secs(args.settle)).await;
        let errors_before = stats.errors();
        let (from, me_from, answers_from) = (watch.sample(), me.sample(), stats.snapshot().polls_answered);
        let machine_from = MachineSample::now();
        let started = Instant::now();
        tokio::time::sleep(Duration::from_secs(args.measure)).await;
        let (to, me_to, snapshot) = (watch.sample(), me.sample(), stats.snapshot());
        let machine = report::machine_json(
            machine_from.as_ref(),
            MachineSample::now().as_ref(),
            (from.as_ref(), to.as_ref()),
            (me_from.as_ref(), me_to.as_ref()),
        );
        let (Some(from), Some(to)) = (from, to) else {
            return Err("the server is gone".into());
        };
        let errors = stats
            .errors()
            .into_iter()
            .filter_map(|(kind, count)| {
                let new = count - errors_before.get(&kind).copied().unwrap_or(0);
                (new > 0).then_some((kind, new))
            })
            .collect();
        figures.push(Step {
            target: target_polls,
            held: snapshot.polls_in_flight,
            rss_kib: to.rss_kib,
            fds: watch.open_fds(),
            cpu_percent: cpu_percent(&from, &to),
            load_cpu_percent: me_from.zip(me_to).map_or(0.0, |(a, b)| cpu_percent(&a, &b)),
            answers_per_sec: (snapshot.polls_answered - answers_from) as f64
                / started.elapsed().as_secs_f64(),
            errors,
            machine,
        });
        progress.log(&format!(
            "  {target_polls}: {} held, RSS {} MiB, CPU {:.1}% of a core",
            snapshot.polls_in_flight,
            to.rss_kib / 1024,
            cpu_percent(&from, &to)
        ));
    }
    switch.stop();
    futures_util::future::join_all(polls).await;
    ticker.abort();
    Ok(Phase {
        description: target.description.clone(),
        reference_rss_kib: reference.rss_kib,
        steps: figures,
        errors: stats.errors(),
    })
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
