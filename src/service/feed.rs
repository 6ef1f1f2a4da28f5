//! The event feed as integrations see it: each `feed_events` row (`store::feed`) made into a
//! [`FeedEvent`] with the data of what it records — the body of `GET /api/events` and of a
//! webhook call. No permission is checked here: the HTTP layer checks the integration key, and
//! the outbox's couriers run inside the server.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{json, Value};

use super::{ServiceError, Services};
use crate::domain::{ChatId, VisitorId};
use crate::store::feed::{self, FeedRow};
use crate::store::{chats, offline_messages, ratings, visitors, DbConn, StoreError};

/// One event of the feed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedEvent {
    /// The event's id and position in the feed: 1, 2, 3 … without gaps, in commit order.
    pub id: i64,
    /// What happened: `chat.started`, a chat event's type (`message`, `chat.queued`,
    /// `chat.assigned`, `chat.invited`, `chat.transferred`, `chat.closed`), `rating` or
    /// `offline_message`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When it was stored, epoch ms.
    pub at: i64,
    /// The chat it happened in, if any.
    pub chat_id: Option<ChatId>,
    /// Its seq in the chat, for chat events.
    pub seq: Option<i64>,
    /// What happened, by type: a chat event's fields as `/poll` gives them; for `chat.started`
    /// the visitor (id, name, whether verified); for `rating` the score; for `offline_message` the message. `null` when what
    /// it records is gone.
    pub data: Value,
}

impl Services {
    /// Up to `limit` events after position `after`, in order.
    pub async fn feed_after(&self, after: i64, limit: i64) -> Result<Vec<FeedEvent>, ServiceError> {
        self.store.run(move |conn| feed_events(conn, after, limit)).await
    }

    /// The event at `pos`, if there is one.
    pub async fn feed_event(&self, pos: i64) -> Result<Option<FeedEvent>, ServiceError> {
        let found = self.store.run(move |conn| feed_events(conn, pos - 1, 1)).await?;
        Ok(found.into_iter().find(|event| event.id == pos))
    }

    /// The newest position (0 while the feed is empty).
    pub async fn feed_head(&self) -> Result<i64, ServiceError> {
        self.store.run(|conn| feed::head(conn).map_err(|e| ServiceError::from(StoreError::from(e)))).await
    }
}

/// The events after `after`, each with its data, read with a few queries whatever their kinds.
fn feed_events(conn: &mut DbConn, after: i64, limit: i64) -> Result<Vec<FeedEvent>, ServiceError> {
    let store = |e: diesel::result::Error| ServiceError::from(StoreError::from(e));
    let rows = feed::after(conn, after, limit).map_err(store)?;
    let chat_ids = |kind: &str| -> Vec<ChatId> {
        rows.iter().filter(|row| row.kind == kind).filter_map(|row| row.chat_id).collect()
    };
    let started = chats::find_many(conn, &chat_ids("chat.started")).map_err(store)?;
    let visitor_ids: Vec<VisitorId> = started.iter().map(|chat| chat.visitor_id).collect();
    let names: HashMap<VisitorId, (String, bool)> = visitors::names_verified_of(conn, &visitor_ids)
        .map_err(store)?
        .into_iter()
        .map(|(id, name, verified)| (id, (name, verified != 0)))
        .collect();
    let started: HashMap<ChatId, Value> = started
        .into_iter()
        .map(|chat| {
            let (name, verified) = match names.get(&chat.visitor_id) {
                Some((name, verified)) => (Some(name), *verified),
                None => (None, false),
            };
            let data = json!({
                "visitor_id": chat.visitor_id,
                "visitor_name": name,
                "visitor_verified": verified,
                "agent_id": chat.agent_id,
            });
            (chat.id, data)
        })
        .collect();
    let rated: HashMap<ChatId, Value> = ratings::of_chats(conn, &chat_ids("rating"))
        .map_err(store)?
        .into_iter()
        .map(|rating| {
            let data = json!({
                "agent_id": rating.agent_id,
                "visitor_id": rating.visitor_id,
                "score": rating.score,
                "comment": rating.comment,
            });
            (rating.chat_id, data)
        })
        .collect();
    let offline_ids: Vec<String> = rows
        .iter()
        .filter(|row| row.kind == "offline_message")
        .filter_map(|row| row.ref_id.clone())
        .collect();
    let left: HashMap<String, Value> = offline_messages::find_many(conn, &offline_ids)
        .map_err(store)?
        .into_iter()
        .map(|message| {
            let data = json!({
                "id": message.id,
                "visitor_id": message.visitor_id,
                "name": message.name,
                "email": message.email,
                "body": message.body,
            });
            (message.id, data)
        })
        .collect();
    rows.into_iter()
        .map(|row| {
            let data = match row.kind.as_str() {
                "chat.started" => row.chat_id.and_then(|id| started.get(&id).cloned()),
                "rating" => row.chat_id.and_then(|id| rated.get(&id).cloned()),
                "offline_message" => row.ref_id.as_ref().and_then(|id| left.get(id).cloned()),
                _ => chat_event_data(&row)?,
            };
            Ok(FeedEvent {
                id: row.pos,
                kind: row.kind,
                at: row.created_at,
                chat_id: row.chat_id,
                seq: row.seq,
                data: data.unwrap_or(Value::Null),
            })
        })
        .collect()
}

/// A chat event's stored payload without its `type` (the event carries that), as `/poll` gives
/// its fields.
fn chat_event_data(row: &FeedRow) -> Result<Option<Value>, ServiceError> {
    let Some(payload) = &row.payload else {
        return Ok(None);
    };
    let mut data: Value = serde_json::from_str(payload)
        .map_err(|e| ServiceError::from(StoreError::Corrupt(format!("feed event {}: {e}", row.pos))))?;
    if let Some(fields) = data.as_object_mut() {
        fields.remove("type");
    }
    Ok(Some(data))
}
