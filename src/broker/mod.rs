//! Wake-ups between nodes. With `memory` there is one node and nothing crosses a process; with
//! `redis`, every node publishes what it stored on one Redis pub/sub channel, hears what the
//! others stored, and keeps presence leases in Redis sorted sets.
//!
//! The broker moves bytes and knows nothing of chats: the service layer says what a message
//! means. It never decides anything either — the store does — so a message Redis drops only
//! delays a delivery: every (re)subscription is reported as [`Inbound::Resync`], on which the
//! node forgets what memory holds and reads the store again, and a node that could not publish
//! for a while tells every node to do the same once it can.

mod leases;
mod redis_bus;

use std::sync::Arc;

pub use leases::{LeaseKind, LeaseScores};
use redis_bus::RedisBus;

use crate::config::{BrokerKind, BrokerSettings};

/// What another node (or, for numbered messages, any node including this one) published.
#[derive(Debug)]
pub enum Inbound {
    /// A message another node published with [`Broker::publish`].
    Message(Vec<u8>),
    /// A message some node published with [`Broker::publish_numbered`], with the id Redis gave
    /// it. Every node sees these in id order.
    Numbered {
        /// Increasing across the cluster and across Redis restarts (microseconds of Redis's
        /// clock, made unique).
        id: i64,
        /// What was published.
        payload: Vec<u8>,
    },
    /// Messages may have been missed (the subscription was (re)made, or a node could not
    /// publish for a while): memory must not be trusted until re-read from the store.
    Resync,
}

/// Receives what arrives from other nodes; runs on the broker's task, so it must not block.
pub type InboundHandler = Arc<dyn Fn(Inbound) + Send + Sync>;

/// Why the broker could not start.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The Redis URL does not parse.
    #[error("broker.url is not a Redis URL: {0}")]
    BadUrl(String),
    /// A Redis command failed or Redis is unreachable.
    #[error("redis: {0}")]
    Redis(String),
}

impl From<redis::RedisError> for BrokerError {
    fn from(error: redis::RedisError) -> Self {
        BrokerError::Redis(error.to_string())
    }
}

/// This node's end of the bus; cheap to clone.
#[derive(Clone)]
pub enum Broker {
    /// One node: nothing is published anywhere.
    Memory,
    /// Several nodes through Redis.
    Redis(Arc<RedisBus>),
}

impl Broker {
    /// Starts the broker `settings` name. With Redis, connects in the background (and keeps
    /// reconnecting); `handler` hears every inbound message. Must run inside a Tokio runtime.
    pub fn start(settings: &BrokerSettings, handler: InboundHandler) -> Result<Self, BrokerError> {
        match settings.kind {
            BrokerKind::Memory => Ok(Broker::Memory),
            BrokerKind::Redis => {
                Ok(Broker::Redis(RedisBus::start(&settings.url, &settings.prefix, handler)?))
            }
        }
    }

    /// True when messages cross to other nodes (Redis).
    pub fn is_shared(&self) -> bool {
        matches!(self, Broker::Redis(_))
    }

    /// Sends `payload` to every other node; never blocks. Kept in order and retried while
    /// Redis is away; when too much waits, the oldest is dropped and every node is told to
    /// resync once Redis is back.
    pub fn publish(&self, payload: Vec<u8>) {
        if let Broker::Redis(bus) = self {
            bus.publish(payload);
        }
    }

    /// Sends `payload` to every node, this one included, numbered by Redis (see
    /// [`Inbound::Numbered`]); never blocks. With `memory` nothing is sent: the caller
    /// delivers locally.
    pub fn publish_numbered(&self, payload: Vec<u8>) {
        if let Broker::Redis(bus) = self {
            bus.publish_numbered(payload);
        }
    }

    /// Whether the node can reach its broker now (always true for `memory`).
    pub fn is_connected(&self) -> bool {
        match self {
            Broker::Memory => true,
            Broker::Redis(bus) => bus.is_connected(),
        }
    }

    /// The presence leases in Redis; `None` for `memory` (the hub holds presence then).
    pub fn leases(&self) -> Option<&leases::Leases> {
        match self {
            Broker::Memory => None,
            Broker::Redis(bus) => Some(bus.leases()),
        }
    }
}
