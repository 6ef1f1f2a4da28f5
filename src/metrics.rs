//! Prometheus metrics, served at `GET /metrics`.
//!
//! Counters and histograms are recorded where things happen, through the `metrics` facade
//! (`metrics::counter!`); gauges of current state (held polls, chats by state, queue length)
//! are read from the hub and store when scraped. One recorder per process: servers built
//! side by side in one test process share it.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// The process's recorder, installed on first use.
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        PrometheusBuilder::new().install_recorder().unwrap_or_else(|_| {
            // Another recorder is already installed (an embedding program's): ours still
            // renders, it only sees nothing recorded through the facade.
            PrometheusBuilder::new().build_recorder().handle()
        })
    })
}

/// Counts one refusal by an abuse limit or a cap (`switchboard_limits_hit_total{limit=…}`).
pub fn limit_hit(limit: &'static str) {
    metrics::counter!("switchboard_limits_hit_total", "limit" => limit).increment(1);
}
