//! Ends without a click. Every node runs these rounds; each change is a conditional update
//! under the queue lock, so two nodes doing the same round change a chat once.
//!
//! - no message for `chat.inactivity_secs` → closed, reason `inactivity`;
//! - the visitor gone (no poll for lease + grace) → closed, reason `visitor_left`;
//! - either of those two before any agent wrote → an email to the team, in the same
//!   transaction (`service::email`);
//! - the agent gone → each of its chats goes back to the front of the queue, with a system
//!   message telling the visitor, and the queue drains (another agent may take it at once);
//! - and a safety net: waiting chats drain whenever an agent present here has room, whatever
//!   wake-up was missed.
//!
//! The queue itself is read from the store every round and held in memory, so a waiting chat
//! whose visitor never comes back (after a restart, or after memory dropped the idle chat) is
//! still seen leaving.

use super::capacity;
use super::chat_rows::store_event;
use super::chats::end_chat;
use super::queue::{self, drain_locked};
use super::{chat_meta, ServiceError, Services, Stored};
use crate::domain::{now_ms, AgentId, ChatId, ChatStatus, CloseReason, EventPayload, PrincipalKind, Sender};
use crate::store::{agents, chats, StoreError};

/// Most inactive chats closed per round (the rest wait for the next round).
const INACTIVE_PER_ROUND: i64 = 200;

/// Tickets of chats handed back by a gone agent sort before every ordinary ticket (which count
/// up from 1); among themselves, by the queue-lock ticket of the round that handed them back.
const FRONT_OF_QUEUE: i64 = i64::MIN / 2;

/// What a round of timers did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TimerRound {
    /// Chats closed for inactivity.
    pub inactive: usize,
    /// Chats closed because the visitor left.
    pub visitor_left: usize,
    /// Chats handed back to the queue because their agent is gone.
    pub requeued: usize,
}

impl Services {
    /// One round of automatic ends; see the module doc.
    pub async fn run_timers(&self) -> Result<TimerRound, ServiceError> {
        let cutoff = now_ms()
            .saturating_sub(i64::try_from(self.settings.chat.inactivity_secs * 1000).unwrap_or(i64::MAX));
        let present = self.present_agents().await?;
        let present_for_drain = present.clone();
        let read_at = self.hub.memory_epoch();
        let (waiting, idle, room) = self
            .store
            .run(move |conn| {
                let waiting = chats::queued_in_order(conn)?;
                let idle = chats::idle_open(conn, cutoff, 1)?;
                let room = !waiting.is_empty() && !agents::available_in(conn, &present)?.is_empty();
                Ok::<_, StoreError>((waiting, idle, room))
            })
            .await?;
        self.hub.insert_chats(read_at, waiting.iter().map(chat_meta).collect::<Vec<_>>());

        let live = self.hub.live_chat_metas();
        let visitors: Vec<_> = live.iter().map(|(chat, since)| (chat.visitor.0, *since)).collect();
        let visitors_gone = self.gone(PrincipalKind::Visitor, &visitors).await?;
        let left: Vec<ChatId> = live
            .iter()
            .zip(&visitors_gone)
            .filter(|(_, gone)| **gone)
            .map(|((chat, _), _)| chat.chat_id)
            .collect();
        let served: Vec<(ChatId, AgentId, tokio::time::Instant)> = live
            .iter()
            .filter(|(chat, _)| chat.status == ChatStatus::Open && !left.contains(&chat.chat_id))
            .filter_map(|(chat, since)| chat.agent.map(|agent| (chat.chat_id, agent, *since)))
            .collect();
        let agents: Vec<_> = served.iter().map(|(_, agent, since)| (agent.0, *since)).collect();
        let agents_gone = self.gone(PrincipalKind::Agent, &agents).await?;
        let abandoned: Vec<(ChatId, AgentId)> = served
            .iter()
            .zip(&agents_gone)
            .filter(|(_, gone)| **gone)
            .map(|((chat, agent, _), _)| (*chat, *agent))
            .collect();
        if left.is_empty() && abandoned.is_empty() && idle.is_empty() && !room {
            // The usual round: reads only, no write under the queue lock.
            return Ok(TimerRound::default());
        }

        let message = "Your agent was disconnected. You are back at the front of the queue.".to_string();
        let mailroom = self.mailroom();
        let round = self
            .write_chat(move |conn| {
                let lock_ticket = queue::lock(conn)?;
                let mut stored: Vec<Stored> = Vec::new();
                let mut counts = TimerRound::default();
                for row in chats::idle_open(conn, cutoff, INACTIVE_PER_ROUND)? {
                    let chat_id = row.id;
                    // Only if still idle: a send that committed since the read keeps it open.
                    if let Some(ended) = end_chat(conn, chat_id, CloseReason::Inactivity, Some(cutoff))? {
                        if let Some(room) = &mailroom {
                            room.chat_ended(conn, chat_id, CloseReason::Inactivity)?;
                        }
                        stored.push(ended);
                        counts.inactive += 1;
                    }
                }
                for chat_id in left {
                    if let Some(ended) = end_chat(conn, chat_id, CloseReason::VisitorLeft, None)? {
                        if let Some(room) = &mailroom {
                            room.chat_ended(conn, chat_id, CloseReason::VisitorLeft)?;
                        }
                        stored.push(ended);
                        counts.visitor_left += 1;
                    }
                }
                for (chat_id, agent) in abandoned {
                    let ticket = FRONT_OF_QUEUE + lock_ticket;
                    let Some(row) = chats::requeue(conn, chat_id, agent, ticket, now_ms())? else {
                        continue;
                    };
                    capacity::release_slot(conn, agent)?;
                    let payload = EventPayload::Message {
                        from: Sender::System,
                        body: message.clone(),
                        client_msg_id: None,
                        sender_id: None,
                        sender_name: None,
                    };
                    let event = store_event(conn, chat_id, row.last_seq, payload)?;
                    stored.push(Stored { row, events: vec![event] });
                    counts.requeued += 1;
                }
                // One drain for everything freed this round, and for any missed wake-up.
                stored.extend(drain_locked(conn, &present_for_drain)?);
                Ok((counts, stored))
            })
            .await?;
        if round != TimerRound::default() {
            if round.inactive + round.visitor_left > 0 && self.settings.email.enabled() {
                self.emails_written();
            }
            log::info!("chat timers: {round:?}");
        }
        Ok(round)
    }
}
