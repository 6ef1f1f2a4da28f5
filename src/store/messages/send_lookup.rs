//! What a send needs to know before it writes, asked in one statement: whether its
//! `client_msg_id` is stored already, and the sender's display name. On PostgreSQL that is
//! one round trip of the writer instead of two.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{QueryResult, RunQueryDsl};

use crate::domain::ChatId;

/// `SELECT (the seq of chat_id's client_msg_id), (the name of sender_id in visitors|agents)`;
/// `BY_VISITOR` picks the table, so each spelling is its own prepared statement.
pub(super) struct SendLookup<'a, const BY_VISITOR: bool> {
    pub chat_id: &'a ChatId,
    pub client_msg_id: &'a str,
    pub sender_id: &'a str,
}

/// The cache key: one per sender table.
pub(super) struct SendLookupId<const BY_VISITOR: bool>;

impl<const BY_VISITOR: bool> QueryId for SendLookup<'_, BY_VISITOR> {
    type QueryId = SendLookupId<BY_VISITOR>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<DB, const BY_VISITOR: bool> QueryFragment<DB> for SendLookup<'_, BY_VISITOR>
where
    DB: Backend,
    str: ToSql<Text, DB>,
    ChatId: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("SELECT (SELECT seq FROM messages WHERE chat_id = ");
        out.push_bind_param::<Text, ChatId>(self.chat_id)?;
        out.push_sql(" AND client_msg_id = ");
        out.push_bind_param::<Text, str>(self.client_msg_id)?;
        out.push_sql(if BY_VISITOR {
            "), (SELECT name FROM visitors WHERE id = "
        } else {
            "), (SELECT name FROM agents WHERE id = "
        });
        out.push_bind_param::<Text, str>(self.sender_id)?;
        out.push_sql(")");
        Ok(())
    }
}

impl<const BY_VISITOR: bool> Query for SendLookup<'_, BY_VISITOR> {
    type SqlType = (Nullable<BigInt>, Nullable<Text>);
}

impl<Conn, const BY_VISITOR: bool> RunQueryDsl<Conn> for SendLookup<'_, BY_VISITOR> {}
