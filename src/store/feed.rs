//! `feed_events`: every event integrations hear of, numbered 1, 2, 3 … in commit order.
//!
//! Nothing here writes the feed: triggers do, in the transaction that stores each event (see
//! the `feed_outbox` migration), so no write path can forget it. A row points at what it
//! records; [`after`] reads the rows after a position together with the payload of the chat
//! events among them, and the service fetches the rest (offline messages, ratings, chats).

use diesel::prelude::*;

use super::schema::{feed_events, messages};
use super::DbConn;
use crate::domain::ChatId;

/// One numbered feed row, with the stored payload of the chat event it points at.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct FeedRow {
    /// Position in the feed: 1, 2, 3 … without gaps, in commit order.
    pub pos: i64,
    /// What happened: a chat event's `type` (`message`, `chat.assigned` …), `chat.started`,
    /// `rating` or `offline_message`.
    pub kind: String,
    /// The chat, for chat events, chat starts and ratings.
    pub chat_id: Option<ChatId>,
    /// The chat event's seq, for chat events.
    pub seq: Option<i64>,
    /// The offline message's id, for `offline_message`.
    pub ref_id: Option<String>,
    /// Epoch ms.
    pub created_at: i64,
    /// The chat event's stored payload (JSON), for chat events.
    pub payload: Option<String>,
}

/// Up to `limit` feed rows after position `after`, in order.
pub fn after(conn: &mut DbConn, after: i64, limit: i64) -> QueryResult<Vec<FeedRow>> {
    feed_events::table
        .left_join(
            messages::table.on(messages::chat_id
                .nullable()
                .eq(feed_events::chat_id)
                .and(messages::seq.nullable().eq(feed_events::seq))),
        )
        .filter(feed_events::pos.gt(after))
        .order(feed_events::pos)
        .limit(limit)
        .select((
            feed_events::pos,
            feed_events::kind,
            feed_events::chat_id,
            feed_events::seq,
            feed_events::ref_id,
            feed_events::created_at,
            messages::payload.nullable(),
        ))
        .load(conn)
}

/// The newest position (0 while the feed is empty).
pub fn head(conn: &mut DbConn) -> QueryResult<i64> {
    feed_events::table
        .select(diesel::dsl::max(feed_events::pos))
        .first::<Option<i64>>(conn)
        .map(|pos| pos.unwrap_or(0))
}
