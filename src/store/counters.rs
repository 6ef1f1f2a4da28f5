//! `counters`: totals that must stay atomic across nodes.

use diesel::prelude::*;

use super::schema::counters;
use super::DbConn;

/// Chats open right now, against `chat.max_active_chats`.
pub const OPEN_CHATS: &str = "open_chats";

/// The queue's lock and ticket dispenser. Every transaction that changes the queue or hands
/// out capacity from it takes this row first, so on PostgreSQL they take turns on every node.
pub const QUEUE_LOCK: &str = "queue_lock";

/// Locks `name`'s row until the transaction ends and returns its new value: a number no other
/// transaction gets, growing in lock order.
pub fn take_ticket(conn: &mut DbConn, name: &str) -> QueryResult<i64> {
    diesel::update(counters::table.find(name)).set(counters::value.eq(counters::value + 1)).execute(conn)?;
    get(conn, name)
}

/// Adds one to `name` if it is below `cap`; returns whether it did.
pub fn take(conn: &mut DbConn, name: &str, cap: i64) -> QueryResult<bool> {
    diesel::update(counters::table.find(name).filter(counters::value.lt(cap)))
        .set(counters::value.eq(counters::value + 1))
        .execute(conn)
        .map(|n| n == 1)
}

/// Takes one from `name`, never below zero.
pub fn release(conn: &mut DbConn, name: &str) -> QueryResult<()> {
    diesel::update(counters::table.find(name).filter(counters::value.gt(0)))
        .set(counters::value.eq(counters::value - 1))
        .execute(conn)
        .map(drop)
}

/// The current value of `name`.
pub fn get(conn: &mut DbConn, name: &str) -> QueryResult<i64> {
    counters::table.find(name).select(counters::value).first(conn)
}
