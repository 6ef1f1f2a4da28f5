//! The rows every chat write shares: a new chat's insert and storing one of its events. Used by starting, queueing, handing over, timers and sending alike, so none of them
//! borrows from another.

use super::error::is_unique_violation;
use super::ServiceError;
use crate::domain::{now_ms, ChatId, Event, EventPayload};
use crate::store::chats::{self, ChatRow};
use crate::store::messages::{self, MessageRow};
use crate::store::DbConn;

/// Stores `payload` as the chat's event number `seq`.
pub(crate) fn store_event(
    conn: &mut DbConn,
    chat_id: ChatId,
    seq: i64,
    payload: EventPayload,
) -> Result<Event, ServiceError> {
    let event = Event { chat_id, seq, at: now_ms(), payload };
    messages::insert(conn, &MessageRow::from_event(&event)?)?;
    Ok(event)
}

/// Inserts a chat; the one-live-chat-per-visitor index turns a second one into a 409.
pub(crate) fn insert_chat(conn: &mut DbConn, row: &ChatRow) -> Result<(), ServiceError> {
    chats::insert(conn, row).map_err(|e| {
        if is_unique_violation(&e) {
            ServiceError::ChatAlreadyOpen
        } else {
            e.into()
        }
    })
}
