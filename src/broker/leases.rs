//! Presence leases in Redis, shared by every node: one sorted set per kind
//! (`{prefix}:presence:visitor`, `{prefix}:presence:agent`), member = participant id, score =
//! when it last polled, in milliseconds of *Redis's* clock. Every time is read and compared on
//! Redis, inside one script, so the nodes' clocks never need to agree.

use std::time::Duration;

use uuid::Uuid;

use super::BrokerError;

/// Longest a lease call waits for Redis.
const CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// Entries older than this leave the sets (far past any lease and grace).
const FORGET_AFTER_MS: i64 = 3_600_000;

/// Marks the ids as seen now; drops entries nobody renewed for an hour.
const RENEW: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #ARGV - 1 do
  redis.call('ZADD', KEYS[1], now, ARGV[i])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[#ARGV]))
return now
";

/// Marks ARGV[1] as seen now; returns when it was seen before (-1: never), and now.
const ARRIVE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local before = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now, ARGV[1])
if before then return { tonumber(before), now } else return { -1, now } end
";

/// The ids seen within the last ARGV[1] milliseconds.
const SEEN_WITHIN: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGE', KEYS[1], now - tonumber(ARGV[1]), '+inf', 'BYSCORE')
";

/// Redis's now, then each id's last-seen time (nil when unknown).
const SCORES: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = { now }
for i = 1, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score then out[i + 1] = tonumber(score) else out[i + 1] = -1 end
end
return out
";

/// Which set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseKind {
    /// Visitors.
    Visitor,
    /// Agents.
    Agent,
}

/// When each of several participants last polled, on Redis's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseScores {
    /// Redis's clock when it answered, epoch ms.
    pub now_ms: i64,
    /// Last poll of each asked id, in the order asked; `None` when none is known.
    pub last_seen_ms: Vec<Option<i64>>,
}

/// See the module doc.
pub struct Leases {
    client: redis::Client,
    visitors: String,
    agents: String,
    connection: tokio::sync::Mutex<Option<redis::aio::MultiplexedConnection>>,
    renew: redis::Script,
    arrive: redis::Script,
    seen_within: redis::Script,
    scores: redis::Script,
}

impl Leases {
    pub(super) fn new(client: redis::Client, prefix: &str) -> Self {
        Self {
            client,
            visitors: format!("{prefix}:presence:visitor"),
            agents: format!("{prefix}:presence:agent"),
            connection: tokio::sync::Mutex::new(None),
            renew: redis::Script::new(RENEW),
            arrive: redis::Script::new(ARRIVE),
            seen_within: redis::Script::new(SEEN_WITHIN),
            scores: redis::Script::new(SCORES),
        }
    }

    fn key(&self, kind: LeaseKind) -> &str {
        match kind {
            LeaseKind::Visitor => &self.visitors,
            LeaseKind::Agent => &self.agents,
        }
    }

    /// A connection, made when there is none (it is shared; clones are cheap).
    async fn connection(&self) -> Result<redis::aio::MultiplexedConnection, BrokerError> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let connection = tokio::time::timeout(CALL_TIMEOUT, self.client.get_multiplexed_async_connection())
            .await
            .map_err(|_| BrokerError::Redis("connecting timed out".into()))??;
        *slot = Some(connection.clone());
        Ok(connection)
    }

    /// Runs `invocation`; a failed call drops the connection so the next one reconnects.
    async fn call<T: redis::FromRedisValue>(
        &self,
        invocation: redis::ScriptInvocation<'_>,
    ) -> Result<T, BrokerError> {
        let mut connection = self.connection().await?;
        let outcome = tokio::time::timeout(CALL_TIMEOUT, invocation.invoke_async(&mut connection)).await;
        let result = match outcome {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(error)) => BrokerError::from(error),
            Err(_) => BrokerError::Redis("the call timed out".into()),
        };
        *self.connection.lock().await = None;
        Err(result)
    }

    /// Marks `ids` as polling now.
    pub async fn renew(&self, kind: LeaseKind, ids: &[Uuid]) -> Result<(), BrokerError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut invocation = self.renew.key(self.key(kind));
        for id in ids {
            invocation.arg(id.to_string());
        }
        invocation.arg(FORGET_AFTER_MS);
        self.call::<i64>(invocation).await.map(drop)
    }

    /// Marks `id` as polling now; answers when it was last seen polling before (epoch ms on
    /// Redis's clock; `None`: never).
    pub async fn arrive(&self, kind: LeaseKind, id: Uuid) -> Result<Option<i64>, BrokerError> {
        let mut invocation = self.arrive.key(self.key(kind));
        invocation.arg(id.to_string());
        let answer: Vec<i64> = self.call(invocation).await?;
        Ok(answer.first().copied().filter(|before| *before >= 0))
    }

    /// Everyone of `kind` that polled within `within`.
    pub async fn seen_within(&self, kind: LeaseKind, within: Duration) -> Result<Vec<Uuid>, BrokerError> {
        let millis = i64::try_from(within.as_millis()).unwrap_or(i64::MAX);
        let mut invocation = self.seen_within.key(self.key(kind));
        invocation.arg(millis);
        let ids: Vec<String> = self.call(invocation).await?;
        Ok(ids.iter().filter_map(|id| Uuid::parse_str(id).ok()).collect())
    }

    /// When each of `ids` last polled.
    pub async fn scores(&self, kind: LeaseKind, ids: &[Uuid]) -> Result<LeaseScores, BrokerError> {
        let mut invocation = self.scores.key(self.key(kind));
        for id in ids {
            invocation.arg(id.to_string());
        }
        let answer: Vec<i64> = self.call(invocation).await?;
        let (now_ms, rest) = answer.split_first().ok_or_else(|| BrokerError::Redis("empty answer".into()))?;
        let last_seen_ms = rest.iter().map(|&score| (score >= 0).then_some(score)).collect();
        Ok(LeaseScores { now_ms: *now_ms, last_seen_ms })
    }
}
