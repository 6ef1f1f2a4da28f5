//! `webhook_endpoints` and `webhook_subscriptions`: where admins want events POSTed, and which
//! feed kinds each enabled endpoint hears.
//!
//! The subscriptions are what the `feed_webhooks` trigger reads to write an outbox row per
//! endpoint in the transaction of each event (see the `webhooks` migration); they exist only
//! while their endpoint is enabled, so every function here that enables, disables or changes an
//! endpoint writes them too.

use diesel::prelude::*;

use super::schema::{outbox, webhook_endpoints, webhook_subscriptions};
use super::DbConn;

/// An endpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointRow {
    /// UUID.
    pub id: String,
    /// Where calls go (`http` or `https`).
    pub url: String,
    /// The key of each call's signature.
    pub secret: String,
    /// The event types it hears, comma-separated.
    pub events: String,
    /// 1 while calls are made to it, 0 once disabled.
    pub enabled: i32,
    /// Why it was disabled (by an admin, or after failing too long).
    pub disabled_reason: Option<String>,
    /// Failed tries since the last delivered one.
    pub consecutive_failures: i32,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms of the last change.
    pub updated_at: i64,
}

/// Stores a new endpoint, hearing `kinds` when it is enabled.
pub fn insert(conn: &mut DbConn, row: &EndpointRow, kinds: &[&str]) -> QueryResult<()> {
    diesel::insert_into(webhook_endpoints::table).values(row).execute(conn)?;
    if row.enabled != 0 {
        subscribe(conn, &row.id, kinds)?;
    }
    Ok(())
}

/// Every endpoint, oldest first.
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<EndpointRow>> {
    webhook_endpoints::table
        .order((webhook_endpoints::created_at.asc(), webhook_endpoints::id.asc()))
        .select(EndpointRow::as_select())
        .load(conn)
}

/// How many endpoints there are.
pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    webhook_endpoints::table.count().get_result(conn)
}

/// The endpoint with this id.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<EndpointRow>> {
    webhook_endpoints::table.find(id).select(EndpointRow::as_select()).first(conn).optional()
}

/// Writes an endpoint's URL, secret and event types (`kinds`, heard while it is enabled).
pub fn update(conn: &mut DbConn, row: &EndpointRow, kinds: &[&str]) -> QueryResult<()> {
    diesel::update(webhook_endpoints::table.find(&row.id))
        .set((
            webhook_endpoints::url.eq(&row.url),
            webhook_endpoints::secret.eq(&row.secret),
            webhook_endpoints::events.eq(&row.events),
            webhook_endpoints::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    unsubscribe(conn, &row.id)?;
    if row.enabled != 0 {
        subscribe(conn, &row.id, kinds)?;
    }
    Ok(())
}

/// Enables an endpoint again (hearing `kinds`, with its failures forgotten); true when it was
/// disabled.
pub fn enable(conn: &mut DbConn, id: &str, kinds: &[&str], now: i64) -> QueryResult<bool> {
    let changed = diesel::update(webhook_endpoints::table.find(id).filter(webhook_endpoints::enabled.eq(0)))
        .set((
            webhook_endpoints::enabled.eq(1),
            webhook_endpoints::disabled_reason.eq(None::<String>),
            webhook_endpoints::consecutive_failures.eq(0),
            webhook_endpoints::updated_at.eq(now),
        ))
        .execute(conn)?;
    if changed > 0 {
        unsubscribe(conn, id)?;
        subscribe(conn, id, kinds)?;
    }
    Ok(changed > 0)
}

/// Disables an endpoint for `reason`: no event makes a call to it any more. True when it was
/// enabled.
pub fn disable(conn: &mut DbConn, id: &str, reason: &str, now: i64) -> QueryResult<bool> {
    let changed = diesel::update(webhook_endpoints::table.find(id).filter(webhook_endpoints::enabled.ne(0)))
        .set((
            webhook_endpoints::enabled.eq(0),
            webhook_endpoints::disabled_reason.eq(Some(reason)),
            webhook_endpoints::updated_at.eq(now),
        ))
        .execute(conn)?;
    unsubscribe(conn, id)?;
    Ok(changed > 0)
}

/// Deletes an endpoint with its subscriptions and its deliveries (sent, failed and owed); false
/// when there was none.
pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    unsubscribe(conn, id)?;
    diesel::delete(outbox::table.filter(outbox::channel.eq("webhook")).filter(outbox::target.eq(id)))
        .execute(conn)?;
    diesel::delete(webhook_endpoints::table.find(id)).execute(conn).map(|n| n > 0)
}

/// A call to `id` was taken: its failures start again from 0 (written only when not 0 already).
pub fn record_success(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    diesel::update(webhook_endpoints::table.find(id).filter(webhook_endpoints::consecutive_failures.ne(0)))
        .set(webhook_endpoints::consecutive_failures.eq(0))
        .execute(conn)
        .map(drop)
}

/// A call to `id` failed: counts it, and answers the failures in a row so far (`None` when the
/// endpoint is gone).
pub fn record_failure(conn: &mut DbConn, id: &str) -> QueryResult<Option<i32>> {
    diesel::update(webhook_endpoints::table.find(id))
        .set(webhook_endpoints::consecutive_failures.eq(webhook_endpoints::consecutive_failures + 1))
        .execute(conn)?;
    webhook_endpoints::table.find(id).select(webhook_endpoints::consecutive_failures).first(conn).optional()
}

fn subscribe(conn: &mut DbConn, id: &str, kinds: &[&str]) -> QueryResult<()> {
    for kind in kinds {
        diesel::insert_into(webhook_subscriptions::table)
            .values((webhook_subscriptions::kind.eq(*kind), webhook_subscriptions::endpoint_id.eq(id)))
            .execute(conn)?;
    }
    Ok(())
}

fn unsubscribe(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    diesel::delete(webhook_subscriptions::table.filter(webhook_subscriptions::endpoint_id.eq(id)))
        .execute(conn)
        .map(drop)
}

/// A delivery to an endpoint, with the kind of the event it carries.
pub type DeliveryRow = (super::outbox::OutboxRow, Option<String>);

/// Up to `limit` deliveries to endpoint `id`, newest event first, of events before `before`
/// (a feed position, exclusive; `None`: from the newest), each with its event's kind.
pub fn deliveries(
    conn: &mut DbConn,
    id: &str,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    use super::schema::feed_events;
    let mut query = outbox::table
        .left_join(feed_events::table.on(feed_events::pos.nullable().eq(outbox::event_pos)))
        .filter(outbox::channel.eq("webhook"))
        .filter(outbox::target.eq(id))
        .order((outbox::event_pos.desc(), outbox::id.desc()))
        .limit(limit)
        .select((super::outbox::OutboxRow::as_select(), feed_events::kind.nullable()))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(outbox::event_pos.lt(before));
    }
    query.load(conn)
}

/// Sends delivery `id` again (`outbox::requeue`), its tries counted afresh from `now`: it is
/// retried for as long as a new one would be. False when there is no such delivery.
pub fn send_again(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<bool> {
    if !super::outbox::requeue(conn, id, now)? {
        return Ok(false);
    }
    diesel::update(outbox::table.find(id))
        .set((outbox::attempts.eq(0), outbox::created_at.eq(now)))
        .execute(conn)
        .map(|n| n > 0)
}
