//! `chats`: one row per chat, holding its participants, status and last `seq`.

pub(super) mod seq_update;

use diesel::prelude::*;

use super::schema::{agents, chats};
use super::DbConn;
use crate::domain::{AgentId, ChatId, ChatStatus, VisitorId};

/// A chat as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = chats)]
pub struct ChatRow {
    /// Its id.
    pub id: ChatId,
    /// The visitor's id.
    pub visitor_id: VisitorId,
    /// The serving agent's id, if any.
    pub agent_id: Option<AgentId>,
    /// Queued, open or closed.
    pub status: ChatStatus,
    /// Seq of the chat's newest event; the next event gets `last_seq + 1`.
    pub last_seq: i64,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms of the last event.
    pub last_activity_at: i64,
    /// Epoch ms.
    pub closed_at: Option<i64>,
    /// Why it ended.
    pub close_reason: Option<String>,
    /// Its place in the waiting queue: lower is served first (see `counters::take_ticket`).
    pub queue_ticket: Option<i64>,
    /// The queue position last announced to the visitor, while queued.
    pub queue_position: Option<i32>,
    /// The visitor has read up to this seq.
    pub visitor_read_seq: i64,
    /// The agent has read up to this seq.
    pub agent_read_seq: i64,
}

impl ChatRow {
    /// A new chat of `visitor`, queued, with no events yet.
    pub fn queued(visitor: VisitorId, now: i64) -> Self {
        Self {
            id: ChatId::new(),
            visitor_id: visitor,
            agent_id: None,
            status: ChatStatus::Queued,
            last_seq: 0,
            created_at: now,
            last_activity_at: now,
            closed_at: None,
            close_reason: None,
            queue_ticket: None,
            queue_position: None,
            visitor_read_seq: 0,
            agent_read_seq: 0,
        }
    }
}

/// Adds a chat.
pub fn insert(conn: &mut DbConn, chat: &ChatRow) -> QueryResult<()> {
    diesel::insert_into(chats::table).values(chat).execute(conn).map(drop)
}

/// The chat with this id.
pub fn find(conn: &mut DbConn, id: ChatId) -> QueryResult<Option<ChatRow>> {
    chats::table.find(id).select(ChatRow::as_select()).first(conn).optional()
}

/// The chats with these ids.
pub fn find_many(conn: &mut DbConn, ids: &[ChatId]) -> QueryResult<Vec<ChatRow>> {
    chats::table.filter(chats::id.eq_any(ids)).select(ChatRow::as_select()).load(conn)
}

/// The visitor's chats that have not ended or ended after `closed_since` (epoch ms).
pub fn recent_for_visitor(
    conn: &mut DbConn,
    visitor_id: VisitorId,
    closed_since: i64,
) -> QueryResult<Vec<ChatRow>> {
    chats::table
        .filter(chats::visitor_id.eq(visitor_id))
        .filter(chats::status.ne(ChatStatus::Closed).or(chats::closed_at.gt(closed_since)))
        .select(ChatRow::as_select())
        .load(conn)
}

/// The agent's chats that have not ended or ended after `closed_since` (epoch ms).
pub fn recent_for_agent(
    conn: &mut DbConn,
    agent_id: AgentId,
    closed_since: i64,
) -> QueryResult<Vec<ChatRow>> {
    chats::table
        .filter(chats::agent_id.eq(agent_id))
        .filter(chats::status.ne(ChatStatus::Closed).or(chats::closed_at.gt(closed_since)))
        .select(ChatRow::as_select())
        .load(conn)
}

/// Queued chats, first come first served.
pub fn queued_in_order(conn: &mut DbConn) -> QueryResult<Vec<ChatRow>> {
    chats::table
        .filter(chats::status.eq(ChatStatus::Queued))
        .filter(chats::queue_ticket.is_not_null())
        .order((chats::queue_ticket.asc(), chats::id.asc()))
        .select(ChatRow::as_select())
        .load(conn)
}

/// Puts a queued chat in line with `ticket`.
pub fn set_queue_ticket(conn: &mut DbConn, id: ChatId, ticket: i64) -> QueryResult<()> {
    diesel::update(chats::table.find(id)).set(chats::queue_ticket.eq(ticket)).execute(conn).map(drop)
}

/// Gives a queued chat to `agent_id` and reserves the seq of its `chat.assigned`. `None` when
/// the chat was no longer queued.
pub fn assign(conn: &mut DbConn, id: ChatId, agent_id: AgentId, now: i64) -> QueryResult<Option<ChatRow>> {
    let queued = chats::table.find(id).filter(chats::status.eq(ChatStatus::Queued));
    let updated = diesel::update(queued)
        .set((
            chats::status.eq(ChatStatus::Open),
            chats::agent_id.eq(agent_id),
            chats::queue_position.eq(None::<i32>),
            chats::last_seq.eq(chats::last_seq + 1),
            chats::last_activity_at.eq(now),
        ))
        .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find(conn, id)
}

/// Moves an open chat from `from_agent` to `to_agent` and reserves the seq of its
/// `chat.transferred`. `None` when the chat is not open with `from_agent`.
pub fn reassign(
    conn: &mut DbConn,
    id: ChatId,
    from_agent: AgentId,
    to_agent: AgentId,
    now: i64,
) -> QueryResult<Option<ChatRow>> {
    let held = chats::table
        .find(id)
        .filter(chats::status.eq(ChatStatus::Open))
        .filter(chats::agent_id.eq(from_agent));
    let updated = diesel::update(held)
        .set((
            chats::agent_id.eq(to_agent),
            chats::last_seq.eq(chats::last_seq + 1),
            chats::last_activity_at.eq(now),
        ))
        .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find(conn, id)
}

/// Records a queued chat's new position and reserves the seq of its `chat.queued`. `None` when
/// the chat was no longer queued.
pub fn move_in_queue(conn: &mut DbConn, id: ChatId, position: i32) -> QueryResult<Option<ChatRow>> {
    let queued = chats::table.find(id).filter(chats::status.eq(ChatStatus::Queued));
    let updated = diesel::update(queued)
        .set((chats::queue_position.eq(position), chats::last_seq.eq(chats::last_seq + 1)))
        .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find(conn, id)
}

/// Ends a chat that has not ended (open or queued) and reserves the seq of its closing event;
/// with `idle_before`, only if its last event is older than that (epoch ms). Returns the chat
/// as it is after, or `None` when it did not end here.
pub fn close(
    conn: &mut DbConn,
    id: ChatId,
    reason: &str,
    now: i64,
    idle_before: Option<i64>,
) -> QueryResult<Option<ChatRow>> {
    let live = chats::table
        .find(id)
        .filter(chats::status.ne(ChatStatus::Closed))
        .filter(chats::last_activity_at.lt(idle_before.unwrap_or(i64::MAX)));
    let updated = diesel::update(live)
        .set((
            chats::status.eq(ChatStatus::Closed),
            chats::closed_at.eq(now),
            chats::close_reason.eq(reason),
            chats::last_seq.eq(chats::last_seq + 1),
            chats::last_activity_at.eq(now),
            chats::queue_position.eq(None::<i32>),
        ))
        .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find(conn, id)
}

/// Moves one side's read marker forward to `seq` (never back, never past the last event);
/// returns whether it moved.
pub fn mark_read(conn: &mut DbConn, id: ChatId, by_visitor: bool, seq: i64) -> QueryResult<bool> {
    let chat = chats::table.find(id).filter(chats::last_seq.ge(seq));
    let updated = if by_visitor {
        diesel::update(chat.filter(chats::visitor_read_seq.lt(seq)))
            .set(chats::visitor_read_seq.eq(seq))
            .execute(conn)?
    } else {
        diesel::update(chat.filter(chats::agent_read_seq.lt(seq)))
            .set(chats::agent_read_seq.eq(seq))
            .execute(conn)?
    };
    Ok(updated == 1)
}

/// Open chats whose last event is older than `cutoff` (epoch ms), at most `limit`.
pub fn idle_open(conn: &mut DbConn, cutoff: i64, limit: i64) -> QueryResult<Vec<ChatRow>> {
    chats::table
        .filter(chats::status.eq(ChatStatus::Open))
        .filter(chats::last_activity_at.lt(cutoff))
        .limit(limit)
        .select(ChatRow::as_select())
        .load(conn)
}

/// Takes an open chat away from `agent_id` and puts it back in the queue with `ticket`;
/// reserves the seq of the event that says so. `None` when it is not open with that agent.
pub fn requeue(
    conn: &mut DbConn,
    id: ChatId,
    agent_id: AgentId,
    ticket: i64,
    now: i64,
) -> QueryResult<Option<ChatRow>> {
    let held =
        chats::table.find(id).filter(chats::status.eq(ChatStatus::Open)).filter(chats::agent_id.eq(agent_id));
    let updated = diesel::update(held)
        .set((
            chats::status.eq(ChatStatus::Queued),
            chats::agent_id.eq(None::<AgentId>),
            chats::queue_ticket.eq(ticket),
            chats::queue_position.eq(None::<i32>),
            chats::last_seq.eq(chats::last_seq + 1),
            chats::last_activity_at.eq(now),
        ))
        .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find(conn, id)
}

/// How many chats exist.
pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    chats::table.count().get_result(conn)
}

/// How many chats are in each status that is not closed (`queued`, `open`).
pub fn count_live_by_status(conn: &mut DbConn) -> QueryResult<Vec<(ChatStatus, i64)>> {
    chats::table
        .filter(chats::status.ne(ChatStatus::Closed))
        .group_by(chats::status)
        .select((chats::status, diesel::dsl::count_star()))
        .load(conn)
}

/// How many chats each agent has served to their end, per agent that has any.
pub fn closed_count_by_agent(conn: &mut DbConn) -> QueryResult<Vec<(AgentId, i64)>> {
    let rows: Vec<(Option<AgentId>, i64)> = chats::table
        .filter(chats::status.eq(ChatStatus::Closed))
        .filter(chats::agent_id.is_not_null())
        .group_by(chats::agent_id)
        .select((chats::agent_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(agent, count)| agent.map(|agent| (agent, count))).collect())
}

/// Closed chats in the order (closed_at, id) descending: all of them, or those `agent_id`
/// served to the end; only those after `before` in that order when given, which is
/// `(closed_at, id)` of the last chat of the previous page (or a time alone, `id` empty).
pub fn closed_page(
    conn: &mut DbConn,
    agent_id: Option<AgentId>,
    before: Option<(i64, String)>,
    limit: i64,
) -> QueryResult<Vec<ChatRow>> {
    let mut query = chats::table
        .filter(chats::status.eq(ChatStatus::Closed))
        .select(ChatRow::as_select())
        .order((chats::closed_at.desc(), chats::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(agent_id) = agent_id {
        query = query.filter(chats::agent_id.eq(agent_id));
    }
    if let Some((closed_at, id)) = before {
        query = query
            .filter(chats::closed_at.lt(closed_at).or(chats::closed_at.eq(closed_at).and(chats::id.lt(id))));
    }
    query.load(conn)
}

/// Chats of `visitor`, newest first (by `created_at`, then id), `limit` of them, after
/// `before` (the previous page's last `created_at` and id) when given; each with its agent's
/// name (`None` without an agent, or when the agent is gone).
pub fn of_visitor_page(
    conn: &mut DbConn,
    visitor: VisitorId,
    before: Option<(i64, String)>,
    limit: i64,
) -> QueryResult<Vec<(ChatRow, Option<String>)>> {
    let mut query = chats::table
        .left_join(agents::table.on(chats::agent_id.eq(agents::id.nullable())))
        .filter(chats::visitor_id.eq(visitor))
        .select((ChatRow::as_select(), agents::name.nullable()))
        .order((chats::created_at.desc(), chats::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((created_at, id)) = before {
        query = query.filter(
            chats::created_at.lt(created_at).or(chats::created_at.eq(created_at).and(chats::id.lt(id))),
        );
    }
    query.load(conn)
}

/// Whether `agent` serves `visitor` now: a chat between them is open.
pub fn serves(conn: &mut DbConn, agent: AgentId, visitor: VisitorId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        chats::table
            .filter(chats::visitor_id.eq(visitor))
            .filter(chats::agent_id.eq(agent))
            .filter(chats::status.eq(ChatStatus::Open)),
    ))
    .get_result(conn)
}

/// Whether `agent` is the agent of any chat of `visitor`, open or closed.
pub fn has_served(conn: &mut DbConn, agent: AgentId, visitor: VisitorId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        chats::table.filter(chats::visitor_id.eq(visitor)).filter(chats::agent_id.eq(agent)),
    ))
    .get_result(conn)
}
