//! PostgreSQL's send in one round trip: one statement reserves the chat's next seq — unless
//! the chat already holds the message's `client_msg_id` — and stores the message under it,
//! where SQLite (in the process, no round trips) runs the three statements one by one.

use diesel::dsl::AsSelect as SelectBy;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Text};
use diesel::{Expression, QueryResult, RunQueryDsl};

use crate::store::chats::seq_update::BumpSeq;
use crate::store::chats::ChatRow;

/// `WITH bumped AS (<BumpSeq> unless the client_msg_id is stored), stored AS (INSERT INTO
/// messages … SELECT … FROM bumped) SELECT * FROM bumped`: no row, and nothing written, when
/// the chat holds the client_msg_id already or the member may not write in it.
pub(super) struct BumpAndAppend<'a, const BY_VISITOR: bool> {
    pub bump: BumpSeq<'a, Pg, BY_VISITOR>,
    pub kind: &'a str,
    pub client_msg_id: &'a str,
    pub payload: &'a str,
    pub at: i64,
}

/// The cache key: one per member column.
pub(super) struct BumpAndAppendId<const BY_VISITOR: bool>;

impl<const BY_VISITOR: bool> QueryId for BumpAndAppend<'_, BY_VISITOR> {
    type QueryId = BumpAndAppendId<BY_VISITOR>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<const BY_VISITOR: bool> QueryFragment<Pg> for BumpAndAppend<'_, BY_VISITOR> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH bumped AS (");
        self.bump.walk_ast(out.reborrow())?;
        out.push_sql(
            "), stored AS (INSERT INTO messages (chat_id, seq, kind, client_msg_id, payload, created_at) \
             SELECT id, last_seq, ",
        );
        out.push_bind_param::<Text, str>(self.kind)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, str>(self.client_msg_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, str>(self.payload)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, i64>(&self.at)?;
        out.push_sql(" FROM bumped) SELECT * FROM bumped");
        Ok(())
    }
}

impl<const BY_VISITOR: bool> Query for BumpAndAppend<'_, BY_VISITOR> {
    type SqlType = <SelectBy<ChatRow, Pg> as Expression>::SqlType;
}

impl<Conn, const BY_VISITOR: bool> RunQueryDsl<Conn> for BumpAndAppend<'_, BY_VISITOR> {}
