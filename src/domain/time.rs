use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, the one time format of the store and the wire.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
