//! Who is online, for every rule that asks: choosing an agent, the online lists, the
//! "visitor left" and "agent gone" timers. Online means polling. With one node (`memory`) the
//! hub knows; with several (`redis`) a participant may poll any node, so the leases live in
//! Redis where every node reads them (`broker::leases`), renewed by each node for whoever polls
//! there.

use std::time::Duration;

use uuid::Uuid;

use super::{ServiceError, Services};
use crate::broker::LeaseKind;
use crate::domain::{AgentId, PrincipalKind, VisitorId};

fn lease_kind(kind: PrincipalKind) -> LeaseKind {
    match kind {
        PrincipalKind::Visitor => LeaseKind::Visitor,
        PrincipalKind::Agent => LeaseKind::Agent,
    }
}

impl Services {
    fn lease(&self) -> Duration {
        Duration::from_secs(self.settings.presence.lease_secs)
    }

    /// Participants of `kind` online now, on any node: this node's hub knows with `memory`,
    /// the Redis leases with several nodes.
    pub(crate) async fn present(&self, kind: PrincipalKind) -> Result<Vec<Uuid>, ServiceError> {
        match self.relay.broker().leases() {
            None => Ok(self.hub.present(kind)),
            Some(leases) => Ok(leases.seen_within(lease_kind(kind), self.lease()).await?),
        }
    }

    /// Agents online now, on any node.
    pub async fn present_agents(&self) -> Result<Vec<AgentId>, ServiceError> {
        Ok(self.present(PrincipalKind::Agent).await?.into_iter().map(AgentId).collect())
    }

    /// Visitors online now, on any node.
    pub async fn present_visitors(&self) -> Result<Vec<VisitorId>, ServiceError> {
        Ok(self.present(PrincipalKind::Visitor).await?.into_iter().map(VisitorId).collect())
    }

    /// Whether the participant is online now, on any node.
    pub async fn is_present(&self, kind: PrincipalKind, id: Uuid) -> Result<bool, ServiceError> {
        if self.hub.is_present(kind, id) {
            return Ok(true);
        }
        let Some(leases) = self.relay.broker().leases() else {
            return Ok(false);
        };
        let scores = leases.scores(lease_kind(kind), &[id]).await?;
        let lease_ms = i64::try_from(self.lease().as_millis()).unwrap_or(i64::MAX);
        Ok(scores
            .last_seen_ms
            .first()
            .copied()
            .flatten()
            .is_some_and(|seen| scores.now_ms - seen <= lease_ms))
    }

    /// For each `(id, since)`, whether that participant has been away longer than lease and
    /// grace, counting from the later of its last poll (on any node) and `since` (when this
    /// node first held the chat in question).
    pub(crate) async fn gone(
        &self,
        kind: PrincipalKind,
        who: &[(Uuid, tokio::time::Instant)],
    ) -> Result<Vec<bool>, ServiceError> {
        let Some(leases) = self.relay.broker().leases() else {
            return Ok(who.iter().map(|(id, since)| self.hub.is_gone(kind, *id, *since)).collect());
        };
        if who.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = who.iter().map(|(id, _)| *id).collect();
        let scores = leases.scores(lease_kind(kind), &ids).await?;
        let limit =
            Duration::from_secs(self.settings.presence.lease_secs + self.settings.presence.grace_secs);
        let limit_ms = i64::try_from(limit.as_millis()).unwrap_or(i64::MAX);
        let now = tokio::time::Instant::now();
        Ok(who
            .iter()
            .zip(scores.last_seen_ms)
            .map(|((id, since), last_seen)| {
                if self.hub.is_present(kind, *id) {
                    return false;
                }
                // `since` on Redis's clock: as long ago as it is on ours.
                let since_ago = i64::try_from(now.saturating_duration_since(*since).as_millis()).unwrap_or(0);
                let origin = last_seen.unwrap_or(i64::MIN).max(scores.now_ms - since_ago);
                scores.now_ms - origin > limit_ms
            })
            .collect())
    }

    /// A participant arrived on this node: marks it as polling on every node at once (an agent
    /// must be choosable through every node before its first poll is held), and hands it the
    /// notices to everyone it was online for but missed by arriving here.
    pub(crate) async fn arrive(&self, kind: PrincipalKind, id: Uuid) -> Result<(), ServiceError> {
        let Some(leases) = self.relay.broker().leases() else { return Ok(()) };
        if let Some(before_ms) = leases.arrive(lease_kind(kind), id).await? {
            let lease_ms = i64::try_from(self.lease().as_millis()).unwrap_or(i64::MAX);
            // Notice ids are microseconds of Redis's clock, like the lease scores' milliseconds.
            let online_until = before_ms.saturating_add(lease_ms).saturating_mul(1000);
            self.hub.catch_up_broadcasts(kind, id, online_until);
        }
        Ok(())
    }

    /// Keeps the Redis leases of everyone polling this node fresh: every third of a lease, the
    /// participants holding a poll here or whose poll here ended since the last round. Nothing
    /// to do with `memory`.
    pub async fn renew_presence_forever(&self) {
        let Some(leases) = self.relay.broker().leases() else { return };
        let every = (self.lease() / 3).max(Duration::from_millis(500));
        let mut since = tokio::time::Instant::now();
        let mut ticker = tokio::time::interval(every);
        loop {
            ticker.tick().await;
            if self.hub.is_shutting_down() {
                return;
            }
            let round = tokio::time::Instant::now();
            for kind in [PrincipalKind::Visitor, PrincipalKind::Agent] {
                // In slices, so that Redis is never busy with one call for long.
                for ids in self.hub.polled_since(kind, since).chunks(2_000) {
                    if let Err(error) = leases.renew(lease_kind(kind), ids).await {
                        log::warn!("presence: renewing {} leases failed: {error}", ids.len());
                    }
                }
            }
            since = round;
        }
    }
}
