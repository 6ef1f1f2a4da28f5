//! Scenario 4, fan-out: N visitors hold polls (split over `--processes`), then an admin posts
//! an announcement. For each visitor, the time from the start of that `POST` to the moment its
//! poll answer carrying the announcement (matched by `announcement_id`) had been read; the
//! figure is how long until the *last* held poll had it. Visitors keep re-polling with their
//! cursors as usual; the next round waits until they are all polling again.
//!
//! Receipt times are wall-clock epoch microseconds, taken in whichever process read the
//! answer: the processes share the machine's clock, so the parent subtracts its own POST start.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Deserialize;
use serde_json::{json, Value};

use super::Outcome;
use crate::cli::{FanoutArgs, TargetArgs};
use crate::client::{decode, Api};
use crate::fleet::{Command, FleetReceipts, Reply, SETUP_CONCURRENCY};
use crate::population;
use crate::procstat::{check_descriptors, cpu_percent, ProcWatch};
use crate::report::{self, latency_json, PeakWatch, Progress};
use crate::server::Target;
use crate::stats::{latency_histogram, record_latency};
use crate::tap::epoch_micros;
use crate::wire::Wire;
use crate::workers::{share, Shares};

/// The last held poll should have the announcement within this, µs.
const TARGET_LAST_US: u64 = 500_000;
/// …with at least this many polls held.
const TARGET_HELD: usize = 19_000;

#[derive(Deserialize)]
struct Announced {
    announcement_id: String,
}

/// Runs scenario 4.
pub async fn run(
    target_args: &TargetArgs,
    args: &FanoutArgs,
    progress: &Progress,
) -> Result<Outcome, String> {
    let processes = args.processes.max(1);
    // The parent holds only the admin's connection when the visitors are in workers.
    let ulimit_needed = check_descriptors((args.visitors.div_ceil(processes) + SETUP_CONCURRENCY) as u64)?;
    let target = Target::switchboard(target_args).await?;
    let peak = target.pid().map(|pid| PeakWatch::start(ProcWatch::new(pid)));
    let rounds = match Shares::start(processes, target_args, &target.urls(), Wire::Switchboard, progress) {
        Ok(mut shares) => {
            let rounds = drive(&mut shares, &target, target_args, args, progress).await;
            shares.stop().await;
            rounds
        }
        Err(error) => Err(error),
    };
    let description = target.description.clone();
    let tail = target.log_tail();
    target.stop().await;
    let mut figures = rounds.map_err(|error| format!("{error}\n{tail}"))?;
    if let Some(object) = figures.as_object_mut() {
        object.insert("scenario".into(), json!("fanout"));
        object.insert("server".into(), json!(description));
        object.insert(
            "settings".into(),
            json!({
                "visitors": args.visitors,
                "rounds": args.rounds,
                "processes": processes,
                "ramp_rate": args.ramp_rate,
                "hold_secs": target_args.hold,
                "source_addrs": target_args.source_addrs,
                "server_workers": target_args.server_workers,
            }),
        );
        object.insert(
            "targets".into(),
            json!({ "held_polls_min": TARGET_HELD, "last_us_max": TARGET_LAST_US }),
        );
        object.insert("ulimit_n_needed_per_process".into(), json!(ulimit_needed));
        object.insert("server_rss_peak_kib".into(), json!(peak.map(|peak| peak.peak_rss_kib())));
    }
    Ok(Outcome { summary: figures, ok: true })
}

/// Visitors, polls, then the rounds; the figures.
async fn drive(
    shares: &mut Shares,
    target: &Target,
    target_args: &TargetArgs,
    args: &FanoutArgs,
    progress: &Progress,
) -> Result<Value, String> {
    let parts = shares.count();
    let watch = target.pid().map(ProcWatch::new);
    let ticker = report::spawn_ticker(progress.clone(), shares.local_stats(), watch);
    let api = Api::new(&target.urls(), 1).map_err(|e| format!("HTTP client: {e}"))?;
    let admin =
        population::admin_token(&api, &target_args.admin_employee_id, &target_args.admin_password).await?;
    // A local fleet shows its own phases (with counts); workers are silent.
    if parts > 1 {
        progress.phase(&format!("creating {} visitors over {parts} processes", args.visitors), None);
    }
    let replies = shares.ask(|index| Command::Visitors { count: share(args.visitors, parts, index) }).await?;
    let created: usize =
        replies.iter().map(|reply| if let Reply::Visitors { created } = reply { *created } else { 0 }).sum();
    progress.log(&format!("{created} visitors created"));
    if parts > 1 {
        progress.phase(&format!("ramping to {created} polls over {parts} processes"), None);
    }
    let rate = (args.ramp_rate / parts as u32).max(1);
    shares.ask(|index| Command::Ramp { polls: share(created, parts, index), rate }).await?;
    // Polls past the server's cap are refused and retry: wait until the held count settles.
    let mut held = settle(shares, 0, Duration::from_secs(args.settle_timeout), progress).await?;
    let mut rounds = Vec::new();
    for round in 1..=args.rounds {
        let figures = announce(shares, &api, &admin, (round, held), watch, args, progress).await?;
        rounds.push(figures);
        held = settle(shares, held, Duration::from_secs(args.settle_timeout), progress).await?;
    }
    ticker.abort();
    let status = shares.status().await?;
    let errors_total: u64 = status.errors.values().sum();
    let last_max = rounds.iter().filter_map(|round| round["held"]["last_us"].as_u64()).max();
    let least_held = rounds.iter().filter_map(|round| round["held_at_post"].as_u64()).min();
    Ok(json!({
        "visitors_created": created,
        "rounds": rounds,
        "worst_last_us": last_max,
        "meets_targets": last_max.zip(least_held).map(|(last, held)| {
            last <= TARGET_LAST_US && held >= TARGET_HELD as u64
        }),
        "errors": status.errors,
        "errors_total": errors_total,
        "load_processes": { "cpu_secs": report::round1(status.cpu_secs), "rss_kib": status.rss_kib },
    }))
}

/// Waits until at least `want` polls are held (0: until the count stops growing for 2 s), or
/// `timeout`; the count then.
async fn settle(
    shares: &mut Shares,
    want: i64,
    timeout: Duration,
    progress: &Progress,
) -> Result<i64, String> {
    progress.phase("waiting for every visitor to poll again", None);
    let deadline = Instant::now() + timeout;
    let (mut best, mut since) = (0, Instant::now());
    loop {
        let held = shares.status().await?.held;
        if held > best {
            (best, since) = (held, Instant::now());
        }
        let steady = want == 0 && since.elapsed() >= Duration::from_secs(2);
        if (want > 0 && held >= want) || steady {
            return Ok(held);
        }
        if Instant::now() > deadline {
            progress.log(&format!("only {held} polls held after {} s (wanted {want})", timeout.as_secs()));
            return Ok(held);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One round: the announcement, then waiting until every held poll has it (or the timeout).
/// The server's and the load's CPU over the round say who was busy when it was slow.
async fn announce(
    shares: &mut Shares,
    api: &Api,
    admin: &str,
    (round, held): (u32, i64),
    watch: Option<ProcWatch>,
    args: &FanoutArgs,
    progress: &Progress,
) -> Result<Value, String> {
    progress.phase(&format!("round {round}: announcing to {held} held polls"), None);
    let load_before = shares.status().await?.cpu_secs;
    let server_before = watch.and_then(|watch| watch.sample());
    let body = json!({ "body": format!("Load fan-out round {round} ({:08x})", rand::random::<u32>()) });
    let posted_us = epoch_micros();
    let answer = api.post(0, "/api/admin/announcements", Some(admin), &body, Duration::from_secs(60)).await;
    let post_us = epoch_micros().saturating_sub(posted_us);
    let id = answer
        .and_then(|body| decode::<Announced>(body.as_ref(), "announcement answer"))
        .map_err(|error| error.kind("POST /api/admin/announcements"))?
        .announcement_id;
    let deadline = Instant::now() + Duration::from_secs(args.round_timeout);
    loop {
        let receipts = shares.receipts(&id, posted_us, false).await?;
        if receipts.held_missing == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The visitors not holding at the moment get it with their next poll, if the server still
    // counts them present: give them the time to poll again before the final count.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let receipts = shares.receipts(&id, posted_us, true).await?;
    let server_after = watch.and_then(|watch| watch.sample());
    let round_secs = epoch_micros().saturating_sub(posted_us) as f64 / 1e6;
    let load_cpu = (shares.status().await?.cpu_secs - load_before) / round_secs * 100.0;
    let mut figures = round_json(round, &id, held, post_us, posted_us, &receipts);
    if let Some(object) = figures.as_object_mut() {
        let server_cpu =
            server_before.zip(server_after).map(|(from, to)| report::round1(cpu_percent(&from, &to)));
        object.insert("round_secs".into(), json!(report::round1(round_secs)));
        object.insert("server_cpu_percent_of_one_core".into(), json!(server_cpu));
        object.insert("load_cpu_percent_of_one_core".into(), json!(report::round1(load_cpu)));
    }
    progress.log(&format!(
        "round {round}: {} of {} held polls had it (missing {}); p50 {} µs, p99 {} µs, last {} µs; POST took {post_us} µs; not holding at the POST: {} (got it later: {})",
        receipts.held_received,
        receipts.held_received + receipts.held_missing,
        receipts.held_missing,
        figures["held"]["p50"],
        figures["held"]["p99"],
        figures["held"]["last_us"],
        receipts.later_received + receipts.not_holding_missing,
        receipts.later_received,
    ));
    Ok(figures)
}

/// A round's figures: latencies from the POST start, µs.
fn round_json(
    round: u32,
    id: &str,
    held: i64,
    post_us: u64,
    posted_us: u64,
    receipts: &FleetReceipts,
) -> Value {
    let held_latency = histogram(&receipts.held_times_us, posted_us);
    let later_latency = histogram(&receipts.later_times_us, posted_us);
    let mut held_json = latency_json(&held_latency);
    if let Some(object) = held_json.as_object_mut() {
        object.insert("last_us".into(), json!((!held_latency.is_empty()).then(|| held_latency.max())));
    }
    json!({
        "round": round,
        "announcement_id": id,
        "polls_held_before": held,
        "held_at_post": receipts.held_received + receipts.held_missing,
        "held_received": receipts.held_received,
        "held_missing": receipts.held_missing,
        "not_holding_at_post": receipts.later_received + receipts.not_holding_missing,
        "not_holding_received_later": receipts.later_received,
        "post_us": post_us,
        "held": held_json,
        "later": latency_json(&later_latency),
    })
}

/// Latencies of `times_us` (epoch µs) from `from_us`.
fn histogram(times_us: &[u64], from_us: u64) -> Histogram<u64> {
    let mut histogram = latency_histogram();
    for time in times_us {
        record_latency(&mut histogram, time.saturating_sub(from_us));
    }
    histogram
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_count_from_the_post_start() {
        let histogram = histogram(&[1_000_100, 1_000_300, 999_000], 1_000_000);
        assert_eq!(histogram.len(), 3);
        assert_eq!(histogram.max(), 300);
        // A receipt stamped before the POST (clock step) counts as 1 µs, never negative.
        assert_eq!(histogram.min(), 1);
    }
}
