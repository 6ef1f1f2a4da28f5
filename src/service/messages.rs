//! Sending a message: idempotent on `client_msg_id`, durable before it is acknowledged.

use std::sync::Arc;

use super::chats::chat_of;
use super::error::is_unique_violation;
use super::{ServiceError, Services, Stored};
use crate::domain::{
    now_ms, ChatId, ClientMsgId, Event, EventPayload, MessageBody, Principal, PrincipalKind, Sender, TabId,
};
use crate::hub::QuietMark;
use crate::store::messages::{self, Appended, MessageRow};
use crate::store::StoreError;

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

impl Services {
    /// Stores a message from `principal` in `chat_id` and delivers it — to every poll but the
    /// one `tab` holds, if the sender named its tab (`hub::quiet`).
    pub async fn send_message(
        &self,
        principal: &Principal,
        chat_id: ChatId,
        client_msg_id: ClientMsgId,
        body: MessageBody,
        tab: Option<TabId>,
    ) -> Result<SendOutcome, ServiceError> {
        let principal = *principal;
        let quiet = tab.map(|tab| QuietMark::of(principal.uuid(), tab));
        let sender_name = self.sender_name(principal).await?;
        let from = match principal.kind() {
            PrincipalKind::Visitor => Sender::Visitor,
            PrincipalKind::Agent => Sender::Agent,
        };
        let payload = EventPayload::Message {
            from,
            body: body.as_str().to_string(),
            client_msg_id: Some(client_msg_id.as_str().to_string()),
            sender_id: Some(principal.uuid()),
            sender_name,
        };
        // Two sends of one new client_msg_id can race on PostgreSQL: the loser hits the unique
        // index, rolls back, and on the second round finds the winner's seq. With several nodes,
        // two nodes' write batches can lock the same chats in opposite orders; PostgreSQL then
        // aborts one write (`store_busy`). A send is idempotent, so it is tried again here
        // before the client ever sees a 503.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let event = Event { chat_id, seq: 0, at: now_ms(), payload: payload.clone() };
            let row = MessageRow::from_event(&event)?;
            // Without a savepoint: every refusal below comes before anything is written.
            let outcome = self
                .append_message(principal, row, quiet, move |conn, appended, row| match appended {
                    Appended::Stored(chat) => {
                        let event = Event { seq: row.seq, ..event };
                        let outcome = SendOutcome { seq: event.seq, duplicate: false };
                        Ok((outcome, vec![Stored { row: chat, events: vec![event] }]))
                    }
                    Appended::Duplicate(seq) => {
                        // A repeat is answered only to the chat's own participants.
                        chat_of(conn, &principal, chat_id)?;
                        Ok((SendOutcome { seq, duplicate: true }, Vec::new()))
                    }
                    Appended::Refused => {
                        // Unknown chat, someone else's, or ended — in that order.
                        chat_of(conn, &principal, chat_id)?;
                        Err(ServiceError::ChatClosed)
                    }
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

    /// The name a message from `sender` is signed with: from memory, or read once and kept
    /// (`SenderNames`).
    async fn sender_name(&self, sender: Principal) -> Result<Option<String>, ServiceError> {
        if let Some(name) = self.sender_names.get(&sender) {
            return Ok(Some(name.to_string()));
        }
        let names = Arc::clone(&self.sender_names);
        let mark = names.mark();
        self.store
            .run(move |conn| {
                let name = messages::sender_name(conn, &sender).map_err(StoreError::from)?;
                if let Some(name) = &name {
                    names.remember(&sender, name, mark);
                }
                Ok(name)
            })
            .await
    }
}
