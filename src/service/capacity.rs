//! Capacity: the one home of the rules that count chats against an agent's `max_chats` and
//! against `chat.max_active_chats`. Every path that hands out or gives back capacity comes
//! here — a chat started with a chosen agent, an invitation, the queue's assignments, a
//! transfer, a close, a gone agent's chats going back to the queue — so none can push an agent
//! past its capacity. Each count is one conditional update, run inside the transaction that
//! opens, moves or ends the chat, so it holds under any concurrency and on any number of nodes.
//! Rows are taken in the lock order of `queue`.

use super::chat_rows::insert_chat;
use super::ServiceError;
use crate::domain::{AgentId, ChatStatus, VisitorId};
use crate::store::agents::{self, AgentRow};
use crate::store::chats::ChatRow;
use crate::store::{counters, DbConn};

/// Whether `agent` may be given chats now: `present` (polling, on any node), enabled, and
/// `online` rather than away (`AgentRow::takes_chats`, which the queue's `agents::available_in`
/// asks in SQL). Whether it has room is decided by [`take_slot`], in the statement that takes
/// the slot.
pub(crate) fn can_take_chats(agent: &AgentRow, present: bool) -> bool {
    present && agent.takes_chats()
}

/// Opens a chat between `visitor` and `agent` as one step of the caller's write and answers its
/// row: open, with seq 1 reserved for the caller's first event. In the lock order of `queue`:
/// the new chat's row goes in first (if this visitor's previous chat is closing right now,
/// PostgreSQL makes the insert wait on the one-live-chat index before this transaction holds the
/// counter and agent rows the closing one needs next), then the `open_chats` counter, then the
/// agent's row. `ChatAlreadyOpen`, `TooManyChats` or `AgentFull` when it cannot open.
pub(crate) fn open_with_agent(
    conn: &mut DbConn,
    visitor: VisitorId,
    agent: AgentId,
    max_active: i64,
    now: i64,
) -> Result<ChatRow, ServiceError> {
    let row = ChatRow {
        status: ChatStatus::Open,
        agent_id: Some(agent),
        last_seq: 1,
        ..ChatRow::queued(visitor, now)
    };
    insert_chat(conn, &row)?;
    count_chat(conn, max_active)?;
    if !take_slot(conn, agent, now)? {
        return Err(ServiceError::AgentFull);
    }
    Ok(row)
}

/// Counts a new chat against `chat.max_active_chats`; `TooManyChats` when that many are live.
pub(crate) fn count_chat(conn: &mut DbConn, max_active: i64) -> Result<(), ServiceError> {
    if counters::take(conn, counters::OPEN_CHATS, max_active)? {
        Ok(())
    } else {
        Err(ServiceError::TooManyChats)
    }
}

/// Takes one of `agent`'s slots if it is enabled and below `max_chats`; `false` when not. One
/// statement, so concurrent starts (on any node) can never push it past its capacity.
pub(crate) fn take_slot(conn: &mut DbConn, agent: AgentId, now: i64) -> Result<bool, ServiceError> {
    Ok(agents::take_slot(conn, agent, now)?)
}

/// Gives back one of `agent`'s slots: its chat ended, moved on or went back to the queue.
pub(crate) fn release_slot(conn: &mut DbConn, agent: AgentId) -> Result<(), ServiceError> {
    Ok(agents::release_slot(conn, agent)?)
}

/// Moves a chat's slot from `from` to `to` (a transfer): `AgentFull` when `to` has no room.
pub(crate) fn move_slot(conn: &mut DbConn, from: AgentId, to: AgentId, now: i64) -> Result<(), ServiceError> {
    if !take_slot(conn, to, now)? {
        return Err(ServiceError::AgentFull);
    }
    release_slot(conn, from)
}

/// Gives back what a chat that just ended held: its place among `chat.max_active_chats` and its
/// agent's slot, if it had an agent.
pub(crate) fn release_chat(conn: &mut DbConn, row: &ChatRow) -> Result<(), ServiceError> {
    counters::release(conn, counters::OPEN_CHATS)?;
    if let Some(agent) = row.agent_id {
        release_slot(conn, agent)?;
    }
    Ok(())
}
