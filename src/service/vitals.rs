//! What `/metrics` reports about the present moment on this node: held polls, chats by state
//! (the waiting queue is `queued`), who is online, the store's backlog. Read when scraped;
//! counters and histograms are recorded where things happen (see `crate::metrics`).

use super::{ServiceError, Services};
use crate::domain::{ChatStatus, PrincipalKind};
use crate::metrics::Gauge;
use crate::store::chats;

impl Services {
    /// Every gauge of the present moment. The store and (with several nodes) the broker are
    /// asked once each.
    pub async fn vitals(&self) -> Result<Vec<Gauge>, ServiceError> {
        let by_status =
            self.store.run(|conn| Ok::<_, ServiceError>(chats::count_live_by_status(conn)?)).await?;
        let chats_in =
            |status: ChatStatus| by_status.iter().find(|(s, _)| *s == status).map_or(0, |(_, count)| *count);
        let agents = self.present(PrincipalKind::Agent).await?.len();
        let visitors = self.present(PrincipalKind::Visitor).await?.len();
        let count = |n: usize| n as f64;
        Ok(vec![
            Gauge::new(
                "switchboard_held_polls",
                "Polls held open on this node.",
                count(self.hub.held_polls()),
            ),
            Gauge::new(
                "switchboard_chats",
                "Chats by state, all nodes (queued = the waiting queue).",
                chats_in(ChatStatus::Queued) as f64,
            )
            .label("state", "queued"),
            Gauge::new(
                "switchboard_chats",
                "Chats by state, all nodes (queued = the waiting queue).",
                chats_in(ChatStatus::Open) as f64,
            )
            .label("state", "open"),
            Gauge::new("switchboard_online", "Participants online, all nodes.", count(agents))
                .label("role", "agent"),
            Gauge::new("switchboard_online", "Participants online, all nodes.", count(visitors))
                .label("role", "visitor"),
            Gauge::new(
                "switchboard_live_chats_in_memory",
                "Chats this node keeps in memory.",
                count(self.hub.live_chats()),
            ),
            Gauge::new(
                "switchboard_store_queued_calls",
                "Store calls waiting for a store thread or the writer.",
                count(self.store.queued_calls()),
            ),
        ])
    }
}
