//! `ratings`: at most one per chat (its primary key), by the chat's visitor, of the agent who
//! served it.

use diesel::dsl::{count_star, sum};
use diesel::prelude::*;

use super::schema::ratings;
use super::DbConn;
use crate::domain::{AgentId, ChatId, VisitorId};

/// A rating as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ratings)]
pub struct RatingRow {
    /// The rated chat.
    pub chat_id: ChatId,
    /// The agent who served it.
    pub agent_id: AgentId,
    /// The visitor who rated.
    pub visitor_id: VisitorId,
    /// 1–5.
    pub score: i32,
    /// Optional words.
    pub comment: Option<String>,
    /// Epoch ms.
    pub created_at: i64,
}

/// How one agent is rated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRatingTotals {
    /// The agent.
    pub agent_id: AgentId,
    /// How many ratings.
    pub count: i64,
    /// Their scores added up.
    pub score_sum: i64,
}

/// Adds a rating; a second one for the same chat is a unique violation.
pub fn insert(conn: &mut DbConn, rating: &RatingRow) -> QueryResult<()> {
    diesel::insert_into(ratings::table).values(rating).execute(conn).map(drop)
}

/// The rating of this chat.
pub fn find(conn: &mut DbConn, chat_id: ChatId) -> QueryResult<Option<RatingRow>> {
    ratings::table.find(chat_id).select(RatingRow::as_select()).first(conn).optional()
}

/// Count and score sum per rated agent.
pub fn totals_by_agent(conn: &mut DbConn) -> QueryResult<Vec<AgentRatingTotals>> {
    let rows: Vec<(AgentId, i64, Option<i64>)> = ratings::table
        .group_by(ratings::agent_id)
        .select((ratings::agent_id, count_star(), sum(ratings::score)))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(agent_id, count, score_sum)| AgentRatingTotals {
            agent_id,
            count,
            score_sum: score_sum.unwrap_or(0),
        })
        .collect())
}

/// How many ratings are stored in all.
pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    ratings::table.count().get_result(conn)
}

/// The ratings of these chats.
pub fn of_chats(conn: &mut DbConn, chat_ids: &[ChatId]) -> QueryResult<Vec<RatingRow>> {
    ratings::table.filter(ratings::chat_id.eq_any(chat_ids)).select(RatingRow::as_select()).load(conn)
}
