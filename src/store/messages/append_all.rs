//! PostgreSQL's sends of one write batch in one round trip: one statement stores a run of
//! messages, each as [`super::BumpAndAppend`] would store it alone, where the writer would
//! otherwise wait for PostgreSQL once per message.
//!
//! The chats are locked in id order (`FOR UPDATE`, so the seqs read are the newest even while
//! another node writes the same chat, and two nodes' batches cannot deadlock on them), each
//! message that may be stored gets its chat's next seq in batch order, every chat's `last_seq`
//! moves once, and the answer says which message got which seq. A message left out — its
//! `client_msg_id` already stored, earlier in the batch too, or a member who may not write in the
//! chat — changes nothing.

use diesel::dsl::AsSelect as SelectBy;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Bool, Text};
use diesel::{Expression, QueryResult, RunQueryDsl};

use crate::domain::ChatId;
use crate::store::chats::ChatRow;

/// The statement, over one array per column; element `i` of each is the batch's message `i`.
pub(super) struct AppendAll<'a> {
    pub chat_ids: Vec<ChatId>,
    pub members: Vec<String>,
    pub by_visitor: Vec<bool>,
    pub kinds: Vec<&'a str>,
    pub client_msg_ids: Vec<&'a str>,
    pub payloads: Vec<&'a str>,
    pub ats: Vec<i64>,
}

/// One stored message: its place in the arrays (1-based) and the chat as the message left it.
pub(super) type StoredAt = (i64, ChatRow);

/// Before the arrays. A repeat of a `client_msg_id` within the batch is left out here (`DISTINCT
/// ON`, the first kept). It was a window's `nth = 1` filter, which PostgreSQL's generic plan
/// guessed would keep one row in two hundred: it then joined the batch to the locked chats by
/// a nested loop, n × m comparisons (30 of 55 ms for a batch of 300 over 250 chats, where the
/// hash join it picks now takes 2).
const HEAD: &str = "WITH input AS (SELECT DISTINCT ON (chat_id, client_msg_id) * FROM unnest(";

/// After the arrays: lock, number, bump, store, answer.
const TAIL: &str = ") WITH ORDINALITY AS t(chat_id, member, by_visitor, kind, client_msg_id, payload, at, ord) \
     ORDER BY chat_id, client_msg_id, ord), \
     locked AS (SELECT id, visitor_id, agent_id, status, last_seq, created_at, closed_at, close_reason, \
     queue_ticket, queue_position, visitor_read_seq, agent_read_seq FROM chats \
     WHERE id IN (SELECT chat_id FROM input) ORDER BY id FOR UPDATE), \
     fresh AS (SELECT i.*, l.last_seq + row_number() OVER (PARTITION BY i.chat_id ORDER BY i.ord) AS seq \
     FROM input i JOIN locked l ON l.id = i.chat_id \
     WHERE l.status <> 'closed' \
     AND i.member = CASE WHEN i.by_visitor THEN l.visitor_id ELSE l.agent_id END \
     AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.chat_id = i.chat_id AND m.client_msg_id = i.client_msg_id)), \
     bumped AS (UPDATE chats SET last_seq = f.seq, last_activity_at = f.at \
     FROM (SELECT DISTINCT ON (chat_id) chat_id, seq, at FROM fresh ORDER BY chat_id, seq DESC) f \
     WHERE chats.id = f.chat_id), \
     stored AS (INSERT INTO messages (chat_id, seq, kind, client_msg_id, payload, created_at) \
     SELECT chat_id, seq, kind, client_msg_id, payload, at FROM fresh) \
     SELECT f.ord, l.id, l.visitor_id, l.agent_id, l.status, f.seq, l.created_at, f.at, l.closed_at, \
     l.close_reason, l.queue_ticket, l.queue_position, l.visitor_read_seq, l.agent_read_seq \
     FROM fresh f JOIN locked l ON l.id = f.chat_id";

/// The cache key: the statement has one shape, whatever the batch's length.
pub(super) struct AppendAllId;

impl QueryId for AppendAll<'_> {
    type QueryId = AppendAllId;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryFragment<Pg> for AppendAll<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(HEAD);
        out.push_bind_param::<Array<Text>, _>(&self.chat_ids)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<Text>, _>(&self.members)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<Bool>, _>(&self.by_visitor)?;
        out.push_sql("::bool[], ");
        out.push_bind_param::<Array<Text>, _>(&self.kinds)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<Text>, _>(&self.client_msg_ids)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<Text>, _>(&self.payloads)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<BigInt>, _>(&self.ats)?;
        out.push_sql("::int8[]");
        out.push_sql(TAIL);
        Ok(())
    }
}

impl Query for AppendAll<'_> {
    type SqlType = (BigInt, <SelectBy<ChatRow, Pg> as Expression>::SqlType);
}

impl<Conn> RunQueryDsl<Conn> for AppendAll<'_> {}
