//! `agents`: support staff, their capacity and how many chats they hold now.

use diesel::dsl;
use diesel::prelude::*;

use super::schema::agents;
use super::DbConn;
use crate::domain::{AgentId, AgentStatus};

/// An agent as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = agents)]
pub struct AgentRow {
    /// Its id.
    pub id: AgentId,
    /// The fixed login id.
    pub employee_id: String,
    /// Display name.
    pub name: String,
    /// argon2 PHC string.
    pub password_hash: String,
    /// `agent` or `admin`.
    pub role: String,
    /// What the agent chose (being connected is presence, not this).
    pub status: AgentStatus,
    /// Most chats at once.
    pub max_chats: i32,
    /// Chats held now; kept in step with `chats` in the same transactions.
    pub active_chats: i32,
    /// 1 when the agent may not log in or take chats.
    pub disabled: i32,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms of its last auto-assignment; the oldest goes first among equally loaded agents.
    pub last_assigned_at: i64,
}

impl AgentRow {
    /// Whether the agent may be given chats, presence and room aside: enabled and `online`
    /// (not away). The private `takes_chats()` below is the same rule in SQL.
    pub fn takes_chats(&self) -> bool {
        self.disabled == 0 && self.status == AgentStatus::Online
    }
}

/// [`AgentRow::takes_chats`] as a filter.
fn takes_chats() -> dsl::And<dsl::Eq<agents::disabled, i32>, dsl::Eq<agents::status, AgentStatus>> {
    agents::disabled.eq(0).and(agents::status.eq(AgentStatus::Online))
}

/// A new agent.
#[derive(Debug, Insertable)]
#[diesel(table_name = agents)]
pub struct NewAgent<'a> {
    /// Its id.
    pub id: AgentId,
    /// The fixed login id.
    pub employee_id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// argon2 PHC string.
    pub password_hash: &'a str,
    /// `agent` or `admin`.
    pub role: &'a str,
    /// Most chats at once.
    pub max_chats: i32,
    /// Epoch ms.
    pub created_at: i64,
}

/// Adds an agent.
pub fn insert(conn: &mut DbConn, agent: &NewAgent<'_>) -> QueryResult<()> {
    diesel::insert_into(agents::table).values(agent).execute(conn).map(drop)
}

/// How many agents exist, disabled ones included.
pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    agents::table.count().get_result(conn)
}

/// The agent with this login id.
pub fn find_by_employee_id(conn: &mut DbConn, employee_id: &str) -> QueryResult<Option<AgentRow>> {
    agents::table
        .filter(agents::employee_id.eq(employee_id))
        .select(AgentRow::as_select())
        .first(conn)
        .optional()
}

/// The agent with this id.
pub fn find(conn: &mut DbConn, id: AgentId) -> QueryResult<Option<AgentRow>> {
    agents::table.find(id).select(AgentRow::as_select()).first(conn).optional()
}

/// Every agent, by login id.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<AgentRow>> {
    agents::table.order(agents::employee_id).select(AgentRow::as_select()).load(conn)
}

/// The agents with these ids that are not disabled.
pub fn find_enabled(conn: &mut DbConn, ids: &[AgentId]) -> QueryResult<Vec<AgentRow>> {
    agents::table
        .filter(agents::id.eq_any(ids))
        .filter(agents::disabled.eq(0))
        .order(agents::name)
        .select(AgentRow::as_select())
        .load(conn)
}

/// Sets `max_chats`; returns whether the agent exists.
pub fn set_max_chats(conn: &mut DbConn, employee_id: &str, max_chats: i32) -> QueryResult<bool> {
    diesel::update(agents::table.filter(agents::employee_id.eq(employee_id)))
        .set(agents::max_chats.eq(max_chats))
        .execute(conn)
        .map(|n| n == 1)
}

/// Disables or re-enables an agent; returns whether the agent exists.
pub fn set_disabled(conn: &mut DbConn, employee_id: &str, disabled: bool) -> QueryResult<bool> {
    diesel::update(agents::table.filter(agents::employee_id.eq(employee_id)))
        .set(agents::disabled.eq(i32::from(disabled)))
        .execute(conn)
        .map(|n| n == 1)
}

/// Takes one chat slot of the agent if it is enabled and below `max_chats`; one statement, so
/// concurrent starts (on any node) can never push it past its capacity.
pub fn take_slot(conn: &mut DbConn, id: AgentId, now: i64) -> QueryResult<bool> {
    diesel::update(
        agents::table
            .find(id)
            .filter(agents::disabled.eq(0))
            .filter(agents::active_chats.lt(agents::max_chats)),
    )
    .set((agents::active_chats.eq(agents::active_chats + 1), agents::last_assigned_at.eq(now)))
    .execute(conn)
    .map(|n| n == 1)
}

/// Of the agents `ids`, those that can take a chat now (enabled, `online`, below capacity),
/// least loaded first, then the one assigned longest ago.
pub fn available_in(conn: &mut DbConn, ids: &[AgentId]) -> QueryResult<Vec<AgentRow>> {
    agents::table
        .filter(agents::id.eq_any(ids))
        .filter(takes_chats())
        .filter(agents::active_chats.lt(agents::max_chats))
        .order((agents::active_chats.asc(), agents::last_assigned_at.asc(), agents::id.asc()))
        .select(AgentRow::as_select())
        .load(conn)
}

/// How many of the agents `ids` are enabled and `online`, full or not.
pub fn count_online_in(conn: &mut DbConn, ids: &[AgentId]) -> QueryResult<i64> {
    agents::table.filter(agents::id.eq_any(ids)).filter(takes_chats()).count().get_result(conn)
}

/// Sets the agent's chosen status.
pub fn set_status(conn: &mut DbConn, id: AgentId, status: AgentStatus) -> QueryResult<()> {
    diesel::update(agents::table.find(id)).set(agents::status.eq(status)).execute(conn).map(drop)
}

/// Gives back one chat slot.
pub fn release_slot(conn: &mut DbConn, id: AgentId) -> QueryResult<()> {
    diesel::update(agents::table.find(id).filter(agents::active_chats.gt(0)))
        .set(agents::active_chats.eq(agents::active_chats - 1))
        .execute(conn)
        .map(drop)
}

/// What an admin may change of an agent; `None` leaves a column as it is (at least one must
/// be set).
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = agents)]
pub struct AgentChanges {
    /// New display name.
    pub name: Option<String>,
    /// New capacity.
    pub max_chats: Option<i32>,
}

/// Applies `changes`; returns whether the agent exists.
pub fn update(conn: &mut DbConn, employee_id: &str, changes: &AgentChanges) -> QueryResult<bool> {
    diesel::update(agents::table.filter(agents::employee_id.eq(employee_id)))
        .set(changes)
        .execute(conn)
        .map(|n| n == 1)
}

/// Replaces the agent's password hash; returns its id, or `None` when there is no such agent.
pub fn set_password_hash(
    conn: &mut DbConn,
    employee_id: &str,
    password_hash: &str,
) -> QueryResult<Option<AgentId>> {
    let updated = diesel::update(agents::table.filter(agents::employee_id.eq(employee_id)))
        .set(agents::password_hash.eq(password_hash))
        .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    Ok(find_by_employee_id(conn, employee_id)?.map(|agent| agent.id))
}

/// Display names of the agents with these ids, as (id, name).
pub fn names_of(conn: &mut DbConn, ids: &[AgentId]) -> QueryResult<Vec<(AgentId, String)>> {
    agents::table.filter(agents::id.eq_any(ids)).select((agents::id, agents::name)).load(conn)
}
