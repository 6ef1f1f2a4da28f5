//! Counters every actor updates: requests, held polls, errors by kind, and the send→delivery
//! latency histogram.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use hdrhistogram::Histogram;

use crate::client::CallError;

/// Latencies are recorded in microseconds, from 1 µs to 10 minutes, 3 significant digits.
const LATENCY_MAX_US: u64 = 600_000_000;

/// Errors by kind in `after` and not yet in `before`.
pub fn errors_between(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .filter_map(|(kind, count)| {
            let new = count.saturating_sub(before.get(kind).copied().unwrap_or(0));
            (new > 0).then(|| (kind.clone(), new))
        })
        .collect()
}

/// An empty latency histogram: µs, 1 µs to 10 minutes, 3 significant digits.
pub fn latency_histogram() -> Histogram<u64> {
    // 1 µs to 10 min at 3 digits is a valid range, so this cannot fail.
    Histogram::new_with_bounds(1, LATENCY_MAX_US, 3).expect("valid bounds")
}

/// Records `latency_us` in `histogram`, clamped to its range.
pub fn record_latency(histogram: &mut Histogram<u64>, latency_us: u64) {
    histogram.saturating_record(latency_us.clamp(1, LATENCY_MAX_US));
}

/// Shared counters of one run.
pub struct Stats {
    /// The run's clock: `client_msg_id`s carry their send time as microseconds since it.
    started: Instant,
    /// Errors by kind: `"<METHOD> <route> <status> <code>"` or `"<METHOD> <route> transport <kind>"`.
    errors: Mutex<BTreeMap<String, u64>>,
    errors_total: AtomicU64,
    /// Errors a client rides out by retrying: no answer (connect, reset, timeout), 429, 503.
    transient_errors: AtomicU64,
    /// Messages given up without an acknowledgement (retries spent, a refusal, or stopped).
    sends_abandoned: AtomicU64,
    /// Polls sent and not yet answered: the polls the server holds, seen from this side.
    polls_in_flight: AtomicI64,
    polls_peak: AtomicI64,
    polls_answered: AtomicU64,
    sends_started: AtomicU64,
    sends_acked: AtomicU64,
    /// Messages received by the side that did not send them (first receipt only).
    delivered: AtomicU64,
    latency: Mutex<Histogram<u64>>,
}

/// Counts a poll as in flight while it lives.
pub struct PollInFlight<'a>(&'a Stats);

impl Drop for PollInFlight<'_> {
    fn drop(&mut self) {
        self.0.polls_in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Snapshot {
    /// Errors of every kind.
    pub errors: u64,
    /// Of them, errors a client rides out by retrying (no answer, 429, 503).
    pub transient_errors: u64,
    /// Messages given up without an acknowledgement.
    pub sends_abandoned: u64,
    /// Polls in flight now.
    pub polls_in_flight: i64,
    /// Most polls in flight at once so far.
    pub polls_peak: i64,
    /// Poll answers received.
    pub polls_answered: u64,
    /// Send attempts.
    pub sends_started: u64,
    /// Messages acknowledged with 200.
    pub sends_acked: u64,
    /// Messages delivered to the other side.
    pub delivered: u64,
}

impl Stats {
    /// Fresh counters; the run's clock starts now.
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            errors: Mutex::new(BTreeMap::new()),
            errors_total: AtomicU64::new(0),
            transient_errors: AtomicU64::new(0),
            sends_abandoned: AtomicU64::new(0),
            polls_in_flight: AtomicI64::new(0),
            polls_peak: AtomicI64::new(0),
            polls_answered: AtomicU64::new(0),
            sends_started: AtomicU64::new(0),
            sends_acked: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            latency: Mutex::new(latency_histogram()),
        }
    }

    /// Microseconds since the run started.
    pub fn micros_now(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// Counts one error of `kind`.
    pub fn error(&self, kind: String) {
        self.errors_total.fetch_add(1, Ordering::Relaxed);
        let mut errors = self.errors.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *errors.entry(kind).or_insert(0) += 1;
    }

    /// Counts a failed request to `route` (e.g. `POST /send`) by its kind, and whether a
    /// retry rides it out.
    pub fn call_error(&self, route: &str, error: &CallError) {
        if error.is_transient() {
            self.transient_errors.fetch_add(1, Ordering::Relaxed);
        }
        self.error(error.kind(route));
    }

    /// Counts a message given up without an acknowledgement.
    pub fn send_abandoned(&self) {
        self.sends_abandoned.fetch_add(1, Ordering::Relaxed);
    }

    /// Errors by kind so far.
    pub fn errors(&self) -> BTreeMap<String, u64> {
        self.errors.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Errors by kind counted since `before` (an earlier [`Stats::errors`]).
    pub fn errors_since(&self, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
        errors_between(before, &self.errors())
    }

    /// Marks a poll in flight until the returned guard is dropped.
    pub fn poll_started(&self) -> PollInFlight<'_> {
        let now = self.polls_in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.polls_peak.fetch_max(now, Ordering::Relaxed);
        PollInFlight(self)
    }

    /// Counts a poll answer.
    pub fn poll_answered(&self) {
        self.polls_answered.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a send attempt.
    pub fn send_started(&self) {
        self.sends_started.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an acknowledged message.
    pub fn send_acked(&self) {
        self.sends_acked.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts deliveries to the other side and records their latencies (µs).
    pub fn delivered(&self, latencies_us: &[u64]) {
        if latencies_us.is_empty() {
            return;
        }
        self.delivered.fetch_add(latencies_us.len() as u64, Ordering::Relaxed);
        let mut histogram = self.latency.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for &latency in latencies_us {
            record_latency(&mut histogram, latency);
        }
    }

    /// Forgets the latencies recorded so far (the end of a warm-up).
    pub fn reset_latency(&self) {
        self.latency.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).reset();
    }

    /// A copy of the latency histogram.
    pub fn latency(&self) -> Histogram<u64> {
        self.latency.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            errors: self.errors_total.load(Ordering::Relaxed),
            transient_errors: self.transient_errors.load(Ordering::Relaxed),
            sends_abandoned: self.sends_abandoned.load(Ordering::Relaxed),
            polls_in_flight: self.polls_in_flight.load(Ordering::Relaxed),
            polls_peak: self.polls_peak.load(Ordering::Relaxed),
            polls_answered: self.polls_answered.load(Ordering::Relaxed),
            sends_started: self.sends_started.load(Ordering::Relaxed),
            sends_acked: self.sends_acked.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
        }
    }
}
