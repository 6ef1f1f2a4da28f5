//! `outbox`: deliveries owed to the world — an email, a webhook call — each written in the same
//! transaction as what causes it, then worked through by the outbox sender
//! (`crate::service::outbox`) at least once.
//!
//! A sender claims due rows ([`claim`]): on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so several
//! nodes share the outbox and never claim one row together; the claim lasts `lease_ms`, so a row
//! whose sender died (kill -9) is claimed again once its lease runs out. A row ends `sent` or,
//! after its retries, `failed`; [`requeue`] sends one again.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::schema::outbox;
use super::DbConn;

/// The states of a row.
pub mod state {
    /// Waiting to be sent (or sent again).
    pub const PENDING: &str = "pending";
    /// Delivered.
    pub const SENT: &str = "sent";
    /// Given up on after its retries, or refused for good.
    pub const FAILED: &str = "failed";
}

/// A delivery as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    /// The delivery's id, also its idempotency key.
    pub id: String,
    /// `email` or `webhook`.
    pub channel: String,
    /// Whom it goes to: a webhook endpoint's id, or an email's kind.
    pub target: String,
    /// The feed event that caused it, if one did.
    pub event_pos: Option<i64>,
    /// What the channel needs to send it (JSON).
    pub payload: String,
    /// [`state`].
    pub state: String,
    /// Tries so far (a claim counts as one).
    pub attempts: i32,
    /// Not tried before this (epoch ms).
    pub next_at: i64,
    /// Claimed by a sender until this (epoch ms); 0 when free.
    pub locked_until: i64,
    /// The last answer's code (an HTTP status, an SMTP reply code).
    pub last_status: Option<i32>,
    /// Why the last try failed.
    pub last_error: Option<String>,
    /// Epoch ms.
    pub created_at: i64,
    /// When it was sent or given up on.
    pub done_at: Option<i64>,
}

impl OutboxRow {
    /// A pending row, due at once.
    pub fn new(
        id: String,
        channel: &str,
        target: String,
        event_pos: Option<i64>,
        payload: String,
        now: i64,
    ) -> Self {
        Self {
            id,
            channel: channel.to_string(),
            target,
            event_pos,
            payload,
            state: state::PENDING.to_string(),
            attempts: 0,
            next_at: now,
            locked_until: 0,
            last_status: None,
            last_error: None,
            created_at: now,
            done_at: None,
        }
    }
}

/// Adds deliveries; a row whose id is already stored is left as it is (an id is an
/// idempotency key: writing the same delivery twice owes it once).
pub fn enqueue(conn: &mut DbConn, rows: &[OutboxRow]) -> QueryResult<usize> {
    let mut added = 0;
    for row in rows {
        added += match conn {
            DbConn::Postgres(pg) => {
                diesel::insert_into(outbox::table).values(row).on_conflict_do_nothing().execute(pg)?
            }
            DbConn::Sqlite(lite) => diesel::insert_or_ignore_into(outbox::table).values(row).execute(lite)?,
        };
    }
    Ok(added)
}

/// Claims up to `limit` rows of `channels` that are due at `now` and not claimed, for
/// `lease_ms`; each claim counts as a try. Oldest due first.
pub fn claim(
    conn: &mut DbConn,
    channels: &[&str],
    now: i64,
    lease_ms: i64,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    // The channel list goes in as one comma-joined text: one statement shape for any list.
    let lock = match conn {
        DbConn::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        DbConn::Sqlite(_) => "",
    };
    let sql = format!(
        "UPDATE outbox SET locked_until = $1 + $2, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_at <= $1 AND locked_until <= $1 \
         AND ',' || $3 || ',' LIKE '%,' || channel || ',%' ORDER BY next_at, id LIMIT $4{lock}) \
         RETURNING *"
    );
    diesel::sql_query(sql)
        .bind::<BigInt, _>(now)
        .bind::<BigInt, _>(lease_ms)
        .bind::<Text, _>(channels.join(","))
        .bind::<BigInt, _>(limit)
        .load::<OutboxRow>(conn)
        .map(|mut rows| {
            // RETURNING keeps no order.
            rows.sort_by(|a, b| (a.next_at, &a.id).cmp(&(b.next_at, &b.id)));
            rows
        })
}

/// `id` was delivered: the receiver answered `status`.
pub fn mark_sent(conn: &mut DbConn, id: &str, status: Option<i32>, now: i64) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::state.eq(state::SENT),
            outbox::locked_until.eq(0),
            outbox::last_status.eq(status),
            outbox::last_error.eq(None::<String>),
            outbox::done_at.eq(Some(now)),
        ))
        .execute(conn)
}

/// `id` failed this time (`status`, `error`): try again at `next_at`.
pub fn retry_at(
    conn: &mut DbConn,
    id: &str,
    status: Option<i32>,
    error: &str,
    next_at: i64,
) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::locked_until.eq(0),
            outbox::next_at.eq(next_at),
            outbox::last_status.eq(status),
            outbox::last_error.eq(Some(error)),
        ))
        .execute(conn)
}

/// `id` failed for good (`status`, `error`).
pub fn mark_failed(
    conn: &mut DbConn,
    id: &str,
    status: Option<i32>,
    error: &str,
    now: i64,
) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::state.eq(state::FAILED),
            outbox::locked_until.eq(0),
            outbox::last_status.eq(status),
            outbox::last_error.eq(Some(error)),
            outbox::done_at.eq(Some(now)),
        ))
        .execute(conn)
}

/// Sends `id` again: pending, due at `now`, unclaimed. False when there is no such row.
pub fn requeue(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<bool> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::state.eq(state::PENDING),
            outbox::next_at.eq(now),
            outbox::locked_until.eq(0),
            outbox::done_at.eq(None::<i64>),
        ))
        .execute(conn)
        .map(|n| n > 0)
}

/// One delivery by id.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<OutboxRow>> {
    outbox::table.find(id).select(OutboxRow::as_select()).first(conn).optional()
}

/// Up to `limit` deliveries of `channel` to `target`, newest first, made before `before` (epoch
/// ms, exclusive; `None` = now).
pub fn newest_for(
    conn: &mut DbConn,
    channel: &str,
    target: &str,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    let mut query = outbox::table
        .filter(outbox::channel.eq(channel))
        .filter(outbox::target.eq(target))
        .order((outbox::created_at.desc(), outbox::id.desc()))
        .limit(limit)
        .select(OutboxRow::as_select())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(outbox::created_at.lt(before));
    }
    query.load(conn)
}

/// How many rows of `channel` are in `state`.
pub fn count(conn: &mut DbConn, channel: &str, in_state: &str) -> QueryResult<i64> {
    outbox::table
        .filter(outbox::channel.eq(channel))
        .filter(outbox::state.eq(in_state))
        .count()
        .get_result(conn)
}

#[cfg(test)]
mod tests;
