//! What the run shows while it runs (a progress line) and at its end (figures as JSON).

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Value};

use crate::procstat::{cpu_percent, load_average, MachineSample, ProcSample, ProcWatch};
use crate::stats::Stats;

/// The progress bar: the phase, a count when the phase has one, and the live counters.
#[derive(Clone)]
pub struct Progress {
    bar: ProgressBar,
    visible: bool,
    /// No lines at all (a worker process: its standard output is the parent's pipe, and
    /// the parent reports).
    quiet: bool,
}

impl Progress {
    /// A bar on standard error, or none (`enabled` false, or not a terminal); phases are then
    /// printed as lines.
    pub fn new(enabled: bool) -> Self {
        let visible = enabled && std::io::stderr().is_terminal();
        let bar = if visible {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(4))
        } else {
            ProgressBar::hidden()
        };
        Self { bar, visible, quiet: false }
    }

    /// Shows and prints nothing.
    pub fn silent() -> Self {
        Self { bar: ProgressBar::hidden(), visible: false, quiet: true }
    }

    /// Starts a phase, counted up to `total` when given.
    pub fn phase(&self, name: &str, total: Option<u64>) {
        let template = match total {
            Some(_) => "{elapsed_precise} {prefix} [{bar:30}] {pos}/{len} {wide_msg}",
            None => "{spinner} {elapsed_precise} {prefix} {wide_msg}",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.bar.set_style(style.progress_chars("=> "));
        }
        self.bar.set_prefix(name.to_string());
        self.bar.set_length(total.unwrap_or(0));
        self.bar.set_position(0);
        self.log(&format!("== {name}"));
    }

    /// One more done in the phase.
    pub fn inc(&self) {
        let before = self.bar.position();
        self.bar.inc(1);
        self.log_tenths(before);
    }

    /// Sets how many are done in the phase.
    pub fn set_position(&self, done: u64) {
        let before = self.bar.position();
        self.bar.set_position(done);
        self.log_tenths(before);
    }

    /// Without a bar, a line each time a counted phase passes another tenth, so a long setup
    /// (a thousand agents) still shows that it moves.
    fn log_tenths(&self, before: u64) {
        let (now, total) = (self.bar.position(), self.bar.length().unwrap_or(0));
        if self.visible || total < 500 || now * 10 / total == before * 10 / total {
            return;
        }
        self.log(&format!("   {} {now}/{total}", self.bar.prefix()));
    }

    /// Sets the live line.
    pub fn status(&self, line: String) {
        self.bar.set_message(line);
    }

    /// A line above the bar (or on standard error without one).
    pub fn log(&self, line: &str) {
        if self.quiet {
            return;
        }
        if self.visible {
            self.bar.println(line);
        } else {
            eprintln!("{line}");
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Updates the progress line from the counters (when they are this process's) and the
/// server's process every 250 ms.
pub fn spawn_ticker(
    progress: Progress,
    stats: Option<Arc<Stats>>,
    server: Option<ProcWatch>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut previous: Option<ProcSample> = None;
        let mut last_delivered = 0;
        let mut ticker = tokio::time::interval(Duration::from_millis(250));
        let mut rate = 0.0;
        let mut cpu: Option<f64> = None;
        loop {
            ticker.tick().await;
            let snap = stats.as_ref().map(|stats| stats.snapshot()).unwrap_or_default();
            let sample = server.and_then(|watch| watch.sample());
            match (&previous, &sample) {
                (Some(before), Some(now)) => {
                    let elapsed = now.at.duration_since(before.at).as_secs_f64();
                    if elapsed >= 1.0 {
                        rate = (snap.delivered - last_delivered) as f64 / elapsed;
                        last_delivered = snap.delivered;
                        cpu = Some(cpu_percent(before, now));
                        previous = sample;
                    }
                }
                _ => previous = sample,
            }
            let server_part = match (&sample, cpu) {
                (Some(now), Some(cpu)) => format!(" | server {} MiB, {cpu:.0}% CPU", now.rss_kib / 1024),
                (Some(now), None) => format!(" | server {} MiB", now.rss_kib / 1024),
                _ => String::new(),
            };
            let counters = match &stats {
                Some(_) => format!(
                    "held {} | acked {} | delivered {} ({rate:.0}/s) | errors {}",
                    snap.polls_in_flight, snap.sends_acked, snap.delivered, snap.errors
                ),
                None => "load in worker processes".to_string(),
            };
            progress.status(format!("{counters}{server_part}"));
        }
    })
}

/// The latency histogram as JSON, in microseconds.
pub fn latency_json(histogram: &Histogram<u64>) -> Value {
    if histogram.is_empty() {
        return json!({ "count": 0 });
    }
    json!({
        "count": histogram.len(),
        "min": histogram.min(),
        "mean": histogram.mean().round(),
        "p50": histogram.value_at_quantile(0.50),
        "p90": histogram.value_at_quantile(0.90),
        "p99": histogram.value_at_quantile(0.99),
        "p99_9": histogram.value_at_quantile(0.999),
        "max": histogram.max(),
    })
}

/// Samples a process in the background so a peak is not missed between measuring points.
pub struct PeakWatch {
    peak_rss_kib: Arc<Mutex<u64>>,
    task: tokio::task::JoinHandle<()>,
}

impl PeakWatch {
    /// Samples `watch` every 500 ms.
    pub fn start(watch: ProcWatch) -> Self {
        let peak_rss_kib = Arc::new(Mutex::new(0));
        let peak = Arc::clone(&peak_rss_kib);
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_millis(500));
            loop {
                ticker.tick().await;
                if let Some(sample) = watch.sample() {
                    let mut peak = peak.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    *peak = (*peak).max(sample.rss_kib);
                }
            }
        });
        Self { peak_rss_kib, task }
    }

    /// The highest RSS seen, KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        *self.peak_rss_kib.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for PeakWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// CPU and RSS of a process between two samples, as JSON.
pub fn process_json(from: Option<&ProcSample>, to: Option<&ProcSample>, peak_rss_kib: Option<u64>) -> Value {
    match (from, to) {
        (Some(from), Some(to)) => json!({
            "rss_start_kib": from.rss_kib,
            "rss_end_kib": to.rss_kib,
            "rss_peak_kib": peak_rss_kib,
            "cpu_percent_of_one_core": round1(cpu_percent(from, to)),
            "threads": to.threads,
        }),
        _ => Value::Null,
    }
}

/// The machine during a window: all CPU in use, and what processes other than the server and
/// this generator used (other work on the machine skews the figures; this says how much).
pub fn machine_json(
    from: Option<&MachineSample>,
    to: Option<&MachineSample>,
    server: (Option<&ProcSample>, Option<&ProcSample>),
    load: (Option<&ProcSample>, Option<&ProcSample>),
) -> Value {
    let Some(busy) = from.zip(to).map(|(from, to)| MachineSample::busy_percent(from, to)) else {
        return Value::Null;
    };
    let used = |pair: (Option<&ProcSample>, Option<&ProcSample>)| {
        pair.0.zip(pair.1).map_or(0.0, |(from, to)| cpu_percent(from, to))
    };
    json!({
        "cores": std::thread::available_parallelism().map_or(0, usize::from),
        "busy_percent_of_one_core": round1(busy),
        "others_percent_of_one_core": round1((busy - used(server) - used(load)).max(0.0)),
        "load_average_1m": load_average(),
    })
}

/// Rounds to one decimal.
pub fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// Rounds to three decimals.
pub fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// Prints the summary on standard output and, when asked, to a file.
pub fn emit(summary: &Value, file: Option<&std::path::Path>) -> Result<(), String> {
    let text = serde_json::to_string_pretty(summary).map_err(|e| e.to_string())?;
    println!("{text}");
    if let Some(path) = file {
        std::fs::write(path, format!("{text}\n")).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
