//! One module per scenario of BENCHMARKS.md.

pub mod chats;
pub mod fanout;
pub mod idle;
pub mod latency;
pub mod logins;
pub mod slow;

/// What a scenario hands back: the JSON summary, and whether the run passed (integrity held;
/// for `integrity`, also no request errors).
pub struct Outcome {
    /// The figures.
    pub summary: serde_json::Value,
    /// False makes the process exit non-zero.
    pub ok: bool,
}
