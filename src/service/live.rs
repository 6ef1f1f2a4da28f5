//! Typing indicators and read markers: what one side of a chat tells the other about now.
//! Typing is not stored; a read marker is (so a reloaded page shows it) and is also sent as a
//! notice.

use serde_json::json;

use super::{chat_meta, ServiceError, Services};
use crate::domain::{ChatId, ChatStatus, InvalidInput, Principal, PrincipalKind};
use crate::hub::ChatMeta;
use crate::store::{chats, StoreError};

/// The side `principal` speaks for, and the other side of `meta` (if it has one now).
fn sides(principal: &Principal, meta: &ChatMeta) -> (&'static str, Option<(PrincipalKind, uuid::Uuid)>) {
    match principal {
        Principal::Visitor(_) => ("visitor", meta.agent.map(|agent| (PrincipalKind::Agent, agent.0))),
        Principal::Agent(..) => ("agent", Some((PrincipalKind::Visitor, meta.visitor.0))),
    }
}

impl Services {
    /// The chat (from memory, or loaded from the store into it) if `principal` takes part in it.
    pub(crate) async fn member_chat(
        &self,
        principal: &Principal,
        chat_id: ChatId,
    ) -> Result<ChatMeta, ServiceError> {
        let meta = match self.hub.chat_meta(chat_id) {
            Some(meta) => meta,
            None => {
                let read_at = self.hub.memory_epoch();
                let row = self
                    .store
                    .run(move |conn| chats::find(conn, chat_id).map_err(StoreError::from))
                    .await?
                    .ok_or(ServiceError::ChatNotFound)?;
                let meta = chat_meta(&row);
                self.hub.insert_chats(read_at, [meta.clone()]);
                meta
            }
        };
        let member = match principal {
            Principal::Visitor(visitor) => meta.visitor == *visitor,
            Principal::Agent(agent, _) => meta.agent == Some(*agent),
        };
        if member {
            Ok(meta)
        } else {
            Err(ServiceError::Forbidden("this chat is not yours"))
        }
    }

    /// Tells the other side that `principal` is (or stopped) typing.
    pub async fn set_typing(
        &self,
        principal: &Principal,
        chat_id: ChatId,
        typing: bool,
    ) -> Result<(), ServiceError> {
        let meta = self.member_chat(principal, chat_id).await?;
        if meta.status == ChatStatus::Closed {
            return Err(ServiceError::ChatClosed);
        }
        let (from, other) = sides(principal, &meta);
        if let Some((kind, id)) = other {
            let fields = json!({
                "chat_id": chat_id, "seq": meta.last_seq, "type": "typing", "from": from, "typing": typing,
            });
            self.relay.notify(kind, id, &fields);
        }
        Ok(())
    }

    /// Records that `principal` has read `chat_id` up to `seq` and tells the other side.
    pub async fn mark_read(
        &self,
        principal: &Principal,
        chat_id: ChatId,
        seq: i64,
    ) -> Result<(), ServiceError> {
        let meta = self.member_chat(principal, chat_id).await?;
        let by_visitor = principal.kind() == PrincipalKind::Visitor;
        let (moved, last_seq) = self
            .store
            .run(move |conn| {
                let last_seq = chats::find(conn, chat_id)?.map_or(0, |row| row.last_seq);
                let moved = seq <= last_seq && chats::mark_read(conn, chat_id, by_visitor, seq)?;
                Ok::<_, StoreError>((moved, last_seq))
            })
            .await?;
        if seq < 0 || seq > last_seq {
            return Err(InvalidInput::new("seq", format!("must be between 0 and {last_seq}")).into());
        }
        let (from, other) = sides(principal, &meta);
        if let (true, Some((kind, id))) = (moved, other) {
            self.relay.notify(
                kind,
                id,
                &json!({ "chat_id": chat_id, "seq": seq, "type": "read", "from": from }),
            );
        }
        Ok(())
    }
}
