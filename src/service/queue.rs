//! The waiting queue: chats started for "any agent" wait here, first come first served, until
//! an agent has room. Draining runs inside the transaction that changed something the queue
//! depends on (a chat started or ended, an agent arrived or came back from away), so the queue
//! empties by itself whenever capacity frees up.
//!
//! Lock order on PostgreSQL, the same in every transaction so that none can deadlock: a new
//! chat's row (inserted before anything else is held), then the queue lock, then the chat
//! being closed, then the `open_chats` counter, then agent rows, then queued chats' rows.

use super::capacity;
use super::chat_rows::store_event;
use super::{ServiceError, Services, Stored};
use crate::domain::{now_ms, AgentId, AgentRef, EventPayload};
use crate::store::{agents, chats, counters, DbConn};

/// Takes the queue lock; every queue transaction calls this before touching chats or agents.
pub(crate) fn lock(conn: &mut DbConn) -> Result<i64, ServiceError> {
    Ok(counters::take_ticket(conn, counters::QUEUE_LOCK)?)
}

/// Gives queued chats, in ticket order, to the least-loaded available agents among `present`
/// (read just before the write, on every node), and tells every chat still waiting its new
/// position when it changed. Must run inside a write transaction that holds the queue lock. An
/// agent who arrives after `present` was read drains the queue itself on its first poll.
pub(crate) fn drain_locked(conn: &mut DbConn, present: &[AgentId]) -> Result<Vec<Stored>, ServiceError> {
    let candidates = present;
    let now = now_ms();
    let mut stored = Vec::new();
    let mut agents_left = !candidates.is_empty();
    let mut position = 0;
    for waiting in chats::queued_in_order(conn)? {
        let chat_id = waiting.id;
        if agents_left {
            match take_best_agent(conn, candidates, now)? {
                Some(agent) => {
                    let row = chats::assign(conn, waiting.id, agent.agent_id, now)?
                        .ok_or(ServiceError::ChatClosed)?;
                    let event =
                        store_event(conn, chat_id, row.last_seq, EventPayload::ChatAssigned { agent })?;
                    stored.push(Stored { row, events: vec![event] });
                    continue;
                }
                None => agents_left = false,
            }
        }
        position += 1;
        if waiting.queue_position != Some(position) {
            if let Some(row) = chats::move_in_queue(conn, waiting.id, position)? {
                let event = store_event(conn, chat_id, row.last_seq, EventPayload::ChatQueued { position })?;
                stored.push(Stored { row, events: vec![event] });
            }
        }
    }
    Ok(stored)
}

/// Takes a slot of the least-loaded available agent (ties: the one assigned longest ago).
fn take_best_agent(
    conn: &mut DbConn,
    candidates: &[AgentId],
    now: i64,
) -> Result<Option<AgentRef>, ServiceError> {
    for agent in agents::available_in(conn, candidates)? {
        // A chosen-agent start on another connection may have taken the last slot meanwhile.
        if capacity::take_slot(conn, agent.id, now)? {
            return Ok(Some(AgentRef { agent_id: agent.id, name: agent.name }));
        }
    }
    Ok(None)
}

impl Services {
    /// Drains the queue now (an agent arrived or became available).
    pub async fn drain_queue(&self) -> Result<(), ServiceError> {
        let present = self.present_agents().await?;
        if present.is_empty() {
            return Ok(());
        }
        self.write_chat(move |conn| {
            lock(conn)?;
            Ok(((), drain_locked(conn, &present)?))
        })
        .await
    }
}
