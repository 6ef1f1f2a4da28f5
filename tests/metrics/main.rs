//! `GET /metrics` in a test process of its own. The counters behind it are recorded into one
//! recorder per process: here no server but the test's own counts while it runs (the tests take
//! turns), so each counter must move by exactly what the test did.

// The protocol suite's server helpers and the wire client; this binary uses a part of each.
#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;
#[path = "../common/pg_url.rs"]
mod pg_url;
#[allow(dead_code)]
#[path = "../common/wire.rs"]
mod wire;

mod endpoint;
