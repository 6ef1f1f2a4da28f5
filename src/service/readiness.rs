//! Whether this node can serve: what a load balancer asks before it sends the node traffic.
//! `/healthz` only says the process answers HTTP; ready also means the store answers and the
//! node is not stopping, and with Redis that the broker is connected.

use std::time::Duration;

use super::Services;

/// Longest wait for the store's answer; a store slower than this counts as unreachable.
const STORE_ANSWER_WITHIN: Duration = Duration::from_secs(2);

/// Why the node is not ready.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotReady {
    /// The node is shutting down.
    #[error("the node is shutting down")]
    ShuttingDown,
    /// The store did not answer a query.
    #[error("the store does not answer: {0}")]
    Store(String),
    /// Redis cannot be reached: wake-ups from other nodes and presence would be missing.
    #[error("the broker is not connected")]
    Broker,
}

impl Services {
    /// `Ok` when the node is not stopping and the store answers a query within two seconds.
    pub async fn readiness(&self) -> Result<(), NotReady> {
        if self.hub.is_shutting_down() {
            return Err(NotReady::ShuttingDown);
        }
        if !self.relay.broker().is_connected() {
            return Err(NotReady::Broker);
        }
        match tokio::time::timeout(STORE_ANSWER_WITHIN, self.store.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(NotReady::Store(error.to_string())),
            Err(_) => Err(NotReady::Store(format!("no answer within {} s", STORE_ANSWER_WITHIN.as_secs()))),
        }
    }
}
