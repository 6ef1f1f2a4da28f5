//! Sending a message: idempotent on `client_msg_id`, durable before it is acknowledged.

use super::chat_rows::store_event;
use super::chats::chat_of;
use super::error::is_unique_violation;
use super::{ServiceError, Services, Stored};
use crate::domain::{
    now_ms, ChatId, ClientMsgId, EventPayload, MessageBody, Principal, PrincipalKind, Sender,
};
use crate::store::{agents, chats, messages, visitors, DbConn, StoreError};

/// Tries of one send while the store answers busy (a deadlock between two nodes' batches,
/// or a full store queue).
const MAX_BUSY_ATTEMPTS: u64 = 4;

/// What a send did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendOutcome {
    /// The message's seq in its chat.
    pub seq: i64,
    /// True when this `client_msg_id` was already stored and nothing new was written.
    pub duplicate: bool,
}

fn sender_of(conn: &mut DbConn, principal: &Principal) -> Result<(Sender, Option<String>), ServiceError> {
    Ok(match *principal {
        Principal::Visitor(id) => (Sender::Visitor, visitors::find(conn, id)?.map(|v| v.name)),
        Principal::Agent(id, _) => (Sender::Agent, agents::find(conn, id)?.map(|a| a.name)),
    })
}

impl Services {
    /// Stores a message from `principal` in `chat_id` and delivers it.
    pub async fn send_message(
        &self,
        principal: &Principal,
        chat_id: ChatId,
        client_msg_id: ClientMsgId,
        body: MessageBody,
    ) -> Result<SendOutcome, ServiceError> {
        let principal = *principal;
        // Two sends of one new client_msg_id can race on PostgreSQL: the loser hits the unique
        // index, rolls back, and on the second round finds the winner's seq. With several nodes,
        // two nodes' write batches can lock the same chats in opposite orders; PostgreSQL then
        // aborts one write (`store_busy`). A send is idempotent, so it is tried again here
        // before the client ever sees a 503.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let (client_msg_id, body) = (client_msg_id.clone(), body.clone());
            let outcome = self
                .write_chat(move |conn| {
                    if let Some(seq) = messages::seq_of_client_msg_id(conn, chat_id, client_msg_id.as_str())?
                    {
                        // A repeat is answered only to the chat's own participants.
                        chat_of(conn, &principal, chat_id)?;
                        return Ok((SendOutcome { seq, duplicate: true }, Vec::new()));
                    }
                    let Some(row) = chats::next_message_seq(conn, chat_id, &principal, now_ms())? else {
                        // Nothing reserved: unknown chat, someone else's, or ended — in that order.
                        chat_of(conn, &principal, chat_id)?;
                        return Err(ServiceError::ChatClosed);
                    };
                    let seq = row.last_seq;
                    let (from, sender_name) = sender_of(conn, &principal)?;
                    let payload = EventPayload::Message {
                        from,
                        body: body.as_str().to_string(),
                        client_msg_id: Some(client_msg_id.as_str().to_string()),
                        sender_id: Some(principal.uuid()),
                        sender_name,
                    };
                    let event = store_event(conn, chat_id, seq, payload)?;
                    Ok((SendOutcome { seq, duplicate: false }, vec![Stored { row, events: vec![event] }]))
                })
                .await;
            match outcome {
                Err(ServiceError::Store(StoreError::Query(ref e)))
                    if is_unique_violation(e) && attempts < 2 =>
                {
                    continue
                }
                Err(ServiceError::Store(StoreError::Busy)) if attempts < MAX_BUSY_ATTEMPTS => {
                    tokio::time::sleep(std::time::Duration::from_millis(5 * attempts)).await;
                    continue;
                }
                other => {
                    if let Ok(SendOutcome { duplicate: false, .. }) = &other {
                        let from =
                            if principal.kind() == PrincipalKind::Visitor { "visitor" } else { "agent" };
                        metrics::counter!("switchboard_messages_total", "from" => from).increment(1);
                    }
                    return other;
                }
            }
        }
    }
}
