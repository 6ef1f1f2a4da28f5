//! The send path's seq reservation as a statement diesel keeps prepared.
//!
//! diesel marks every `UPDATE` it builds as unsafe to cache (a changeset of optional fields can
//! change the SQL), so the reservation written with `diesel::update` was parsed and planned by
//! SQLite on every message: a fifth of the writer thread's time. This statement has one shape
//! per member column, so it says so and is prepared once per connection. It also holds the
//! duplicate check (`NOT EXISTS` the message's `client_msg_id`), one statement fewer per send.

use diesel::backend::Backend;
use diesel::dsl::AsSelect as SelectBy;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Text};
use diesel::{Expression, QueryResult, RunQueryDsl, Selectable, SelectableHelper};

use super::ChatRow;
use crate::domain::ChatId;

/// `UPDATE chats SET last_seq = last_seq + 1, last_activity_at = now WHERE id = … AND status
/// <> 'closed' AND <visitor_id|agent_id> = member AND NOT EXISTS (the message's client_msg_id
/// in the chat) RETURNING <the chat row>`; `BY_VISITOR` picks the member column, so each
/// spelling has its own type and cache entry.
pub(in crate::store) struct BumpSeq<'a, DB: Backend, const BY_VISITOR: bool>
where
    ChatRow: Selectable<DB>,
{
    id: &'a ChatId,
    member: &'a str,
    now: i64,
    client_msg_id: &'a str,
    returning: SelectBy<ChatRow, DB>,
}

impl<'a, DB: Backend, const BY_VISITOR: bool> BumpSeq<'a, DB, BY_VISITOR>
where
    ChatRow: Selectable<DB>,
{
    /// The reservation in chat `id` for `member` at `now` (epoch ms), made only when the chat
    /// does not hold `client_msg_id` yet.
    pub fn new(id: &'a ChatId, member: &'a str, now: i64, client_msg_id: &'a str) -> Self {
        Self { id, member, now, client_msg_id, returning: ChatRow::as_select() }
    }
}

/// The cache key: one per spelling.
pub(in crate::store) struct BumpSeqId<const BY_VISITOR: bool>;

impl<DB: Backend, const BY_VISITOR: bool> QueryId for BumpSeq<'_, DB, BY_VISITOR>
where
    ChatRow: Selectable<DB>,
{
    type QueryId = BumpSeqId<BY_VISITOR>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<DB, const BY_VISITOR: bool> QueryFragment<DB> for BumpSeq<'_, DB, BY_VISITOR>
where
    DB: Backend,
    ChatRow: Selectable<DB>,
    i64: ToSql<BigInt, DB>,
    str: ToSql<Text, DB>,
    ChatId: ToSql<Text, DB>,
    SelectBy<ChatRow, DB>: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE chats SET last_seq = last_seq + 1, last_activity_at = ");
        out.push_bind_param::<BigInt, i64>(&self.now)?;
        out.push_sql(" WHERE id = ");
        out.push_bind_param::<Text, ChatId>(self.id)?;
        out.push_sql(" AND status <> 'closed' AND ");
        out.push_sql(if BY_VISITOR { "visitor_id" } else { "agent_id" });
        out.push_sql(" = ");
        out.push_bind_param::<Text, str>(self.member)?;
        out.push_sql(" AND NOT EXISTS (SELECT 1 FROM messages WHERE chat_id = ");
        out.push_bind_param::<Text, ChatId>(self.id)?;
        out.push_sql(" AND client_msg_id = ");
        out.push_bind_param::<Text, str>(self.client_msg_id)?;
        out.push_sql(")");
        out.push_sql(" RETURNING ");
        self.returning.walk_ast(out.reborrow())
    }
}

impl<DB, const BY_VISITOR: bool> Query for BumpSeq<'_, DB, BY_VISITOR>
where
    DB: Backend,
    ChatRow: Selectable<DB>,
    SelectBy<ChatRow, DB>: Expression,
{
    type SqlType = <SelectBy<ChatRow, DB> as Expression>::SqlType;
}

impl<DB: Backend, Conn, const BY_VISITOR: bool> RunQueryDsl<Conn> for BumpSeq<'_, DB, BY_VISITOR> where
    ChatRow: Selectable<DB>
{
}
