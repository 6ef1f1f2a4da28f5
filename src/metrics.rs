//! Prometheus metrics, served at `GET /metrics`.
//!
//! Counters and histograms are recorded where things happen, through the `metrics` facade
//! (`metrics::counter!`) into one recorder per process. Gauges of the present moment (held
//! polls, chats by state, queue length) are read from the node's hub and store when scraped
//! and rendered as [`Gauge`]s, so servers built side by side in one process (the tests) each
//! report their own.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Bucket bounds of the store-latency histogram, in seconds: a commit's fsync is ~1–10 ms, a
/// store in trouble takes seconds.
const STORE_SECONDS_BUCKETS: [f64; 12] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

/// The process's recorder, installed on first use (the server installs it at start).
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = || {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("switchboard_store_seconds".into()),
                    &STORE_SECONDS_BUCKETS,
                )
                .unwrap_or_else(|_| PrometheusBuilder::new())
        };
        builder().install_recorder().unwrap_or_else(|_| {
            // Another recorder is already installed (an embedding program's): ours still
            // renders, it only sees nothing recorded through the facade.
            builder().build_recorder().handle()
        })
    })
}

/// Counts one refusal by an abuse limit or a cap (`switchboard_limits_hit_total{limit=…}`).
pub fn limit_hit(limit: &'static str) {
    metrics::counter!("switchboard_limits_hit_total", "limit" => limit).increment(1);
}

/// One gauge sample of the present moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Gauge {
    name: &'static str,
    help: &'static str,
    label: Option<(&'static str, &'static str)>,
    value: f64,
}

impl Gauge {
    /// A sample of `name` without labels.
    pub fn new(name: &'static str, help: &'static str, value: f64) -> Self {
        Self { name, help, label: None, value }
    }

    /// The same sample with one label.
    pub fn label(self, key: &'static str, value: &'static str) -> Self {
        Self { label: Some((key, value)), ..self }
    }
}

/// Prometheus text for `gauges` (samples of one name kept together), then everything recorded
/// through the facade.
pub fn render(gauges: &[Gauge]) -> String {
    let mut text = String::new();
    let mut previous = "";
    for gauge in gauges {
        if gauge.name != previous {
            text.push_str(&format!("# HELP {} {}\n# TYPE {} gauge\n", gauge.name, gauge.help, gauge.name));
            previous = gauge.name;
        }
        match gauge.label {
            Some((key, value)) => {
                text.push_str(&format!("{}{{{key}=\"{value}\"}} {}\n", gauge.name, gauge.value))
            }
            None => text.push_str(&format!("{} {}\n", gauge.name, gauge.value)),
        }
    }
    text.push_str(&recorder().render());
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_render_in_the_text_format_with_one_header_per_name() {
        let text = render(&[
            Gauge::new("a_chats", "Chats.", 2.0).label("state", "open"),
            Gauge::new("a_chats", "Chats.", 0.0).label("state", "queued"),
            Gauge::new("a_polls", "Polls.", 7.0),
        ]);
        let expected = "# HELP a_chats Chats.\n# TYPE a_chats gauge\na_chats{state=\"open\"} 2\n\
                        a_chats{state=\"queued\"} 0\n# HELP a_polls Polls.\n# TYPE a_polls gauge\na_polls 7\n";
        assert!(text.starts_with(expected), "{text}");
    }
}
