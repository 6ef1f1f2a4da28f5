//! Data rights: everything stored about one visitor (read for an export), its removal (an
//! erase, or retention's purge of old chats and inactive visitors), the per-agent tallies
//! (`agent_tallies`) that keep the agents' report right once the chats and ratings it counted
//! are gone, and the audit log (`audit_log`) of who exported or erased what.
//!
//! Rows are read here as plain strings and numbers, column by column, so that an export shows
//! what is stored exactly as it is stored. The event feed (`feed_events`) is left alone: its rows
//! point at what they record (a chat and seq, an offline message's id) and hold no personal
//! data; once what they point at is gone they read `data: null` (`service::feed`), and the
//! feed's positions stay 1, 2, 3 … without gaps.

use diesel::dsl::count_star;
use diesel::prelude::*;
use serde::Serialize;

use super::schema::{
    agent_tallies, audit_log, bans, chats, feed_events, messages, offline_messages, outbox, page_views,
    ratings, tokens, visitors,
};
use super::DbConn;

/// A visitor row, every column (a visitor has no secret columns; its tokens live in `tokens`).
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = visitors)]
pub struct VisitorExport {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub page_url: Option<String>,
    pub page_title: Option<String>,
    pub referrer: Option<String>,
    pub user_agent: Option<String>,
    pub last_seen_at: Option<i64>,
    pub last_ip: Option<String>,
    pub lang: Option<String>,
    pub site_id: Option<String>,
    pub customer_id: Option<String>,
    pub email: Option<String>,
    pub verified: i32,
    pub identity_at: Option<i64>,
}

/// A page the visitor reported.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = page_views)]
pub struct PageViewExport {
    pub id: String,
    pub url: String,
    pub title: Option<String>,
    pub at: i64,
}

/// A chat row, with its pre-chat answers as stored (JSON text).
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = chats)]
pub struct ChatExport {
    pub id: String,
    pub agent_id: Option<String>,
    pub status: String,
    pub last_seq: i64,
    pub created_at: i64,
    pub last_activity_at: i64,
    pub closed_at: Option<i64>,
    pub close_reason: Option<String>,
    pub visitor_read_seq: i64,
    pub agent_read_seq: i64,
    pub prechat: Option<String>,
}

/// A chat event (message or system event), its stored payload as JSON text.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = messages)]
pub struct MessageExport {
    pub chat_id: String,
    pub seq: i64,
    pub kind: String,
    pub client_msg_id: Option<String>,
    pub payload: String,
    pub created_at: i64,
}

/// A rating the visitor gave.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = ratings)]
pub struct RatingExport {
    pub chat_id: String,
    pub agent_id: String,
    pub score: i32,
    pub comment: Option<String>,
    pub created_at: i64,
}

/// An offline message the visitor left, and its answer.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = offline_messages)]
pub struct OfflineExport {
    pub id: String,
    pub name: String,
    pub email: String,
    pub body: String,
    pub created_at: i64,
    pub lang: Option<String>,
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at: Option<i64>,
}

/// A ban naming the visitor.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = bans)]
pub struct BanExport {
    pub id: String,
    pub ip: Option<String>,
    pub reason: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub lifted_at: Option<i64>,
    pub lifted_by: Option<String>,
}

/// An email in the outbox about the visitor (its chats, its offline messages).
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = outbox)]
pub struct OutboxExport {
    pub id: String,
    pub target: String,
    pub state: String,
    pub payload: String,
    pub created_at: i64,
    pub done_at: Option<i64>,
}

/// An event feed row of one of the visitor's chats or offline messages: a reference only.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = feed_events)]
pub struct FeedExport {
    pub pos: i64,
    pub kind: String,
    pub chat_id: Option<String>,
    pub seq: Option<i64>,
    pub ref_id: Option<String>,
    pub created_at: i64,
}

/// Everything stored about one visitor.
#[derive(Debug, Clone, Serialize)]
pub struct VisitorData {
    pub visitor: VisitorExport,
    pub page_views: Vec<PageViewExport>,
    pub chats: Vec<ChatExport>,
    pub messages: Vec<MessageExport>,
    pub ratings: Vec<RatingExport>,
    pub offline_messages: Vec<OfflineExport>,
    pub bans: Vec<BanExport>,
    pub outbox: Vec<OutboxExport>,
    pub feed_events: Vec<FeedExport>,
    /// How many tokens the visitor holds (never their values nor their hashes).
    pub tokens: i64,
}

/// What a removal took away, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Removed {
    pub visitors: i64,
    pub chats: i64,
    pub messages: i64,
    pub ratings: i64,
    pub offline_messages: i64,
    pub page_views: i64,
    pub tokens: i64,
    pub bans: i64,
    pub outbox: i64,
}

impl Removed {
    /// Adds `other` to these counts.
    pub fn add(&mut self, other: Removed) {
        self.visitors += other.visitors;
        self.chats += other.chats;
        self.messages += other.messages;
        self.ratings += other.ratings;
        self.offline_messages += other.offline_messages;
        self.page_views += other.page_views;
        self.tokens += other.tokens;
        self.bans += other.bans;
        self.outbox += other.outbox;
    }

    /// Whether nothing was removed.
    pub fn is_empty(&self) -> bool {
        *self == Removed::default()
    }
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The visitor that is `customer_id` of `site_id` (at most one: a unique index).
pub fn visitor_of_customer(
    conn: &mut DbConn,
    site_id: &str,
    customer_id: &str,
) -> QueryResult<Option<String>> {
    visitors::table
        .filter(visitors::site_id.eq(site_id))
        .filter(visitors::customer_id.eq(customer_id))
        .select(visitors::id)
        .first(conn)
        .optional()
}

pub fn chat_ids_of(conn: &mut DbConn, visitor: &str) -> QueryResult<Vec<String>> {
    chats::table.filter(chats::visitor_id.eq(visitor)).select(chats::id).order(chats::created_at).load(conn)
}

fn offline_ids_of(conn: &mut DbConn, visitor: &str) -> QueryResult<Vec<String>> {
    offline_messages::table
        .filter(offline_messages::visitor_id.eq(visitor))
        .select(offline_messages::id)
        .load(conn)
}

/// The emails in the outbox about these chats and offline messages: an email's id is
/// `kind.key`, the key being the chat's or offline message's id (a transcript's is
/// `chat_id.random`).
fn outbox_ids_about(conn: &mut DbConn, keys: &[String]) -> QueryResult<Vec<String>> {
    let mut ids = Vec::new();
    for key in keys {
        ids.extend(
            outbox::table
                .filter(outbox::channel.eq("email"))
                .filter(outbox::id.like(format!("%.{key}%")))
                .select(outbox::id)
                .load::<String>(conn)?,
        );
    }
    Ok(ids)
}

/// Everything stored about `visitor`; `None` when there is no such visitor.
pub fn export(conn: &mut DbConn, visitor: &str) -> QueryResult<Option<VisitorData>> {
    let Some(row) =
        visitors::table.find(visitor).select(VisitorExport::as_select()).first(conn).optional()?
    else {
        return Ok(None);
    };
    let chat_ids = chat_ids_of(conn, visitor)?;
    let offline_ids = offline_ids_of(conn, visitor)?;
    let keys: Vec<String> = chat_ids.iter().chain(&offline_ids).cloned().collect();
    let outbox_ids = outbox_ids_about(conn, &keys)?;
    Ok(Some(VisitorData {
        visitor: row,
        page_views: page_views::table
            .filter(page_views::visitor_id.eq(visitor))
            .order((page_views::at, page_views::id))
            .select(PageViewExport::as_select())
            .load(conn)?,
        chats: chats::table
            .filter(chats::visitor_id.eq(visitor))
            .order((chats::created_at, chats::id))
            .select(ChatExport::as_select())
            .load(conn)?,
        messages: messages::table
            .filter(messages::chat_id.eq_any(&chat_ids))
            .order((messages::chat_id, messages::seq))
            .select(MessageExport::as_select())
            .load(conn)?,
        ratings: ratings::table
            .filter(ratings::chat_id.eq_any(&chat_ids))
            .order(ratings::created_at)
            .select(RatingExport::as_select())
            .load(conn)?,
        offline_messages: offline_messages::table
            .filter(offline_messages::visitor_id.eq(visitor))
            .order((offline_messages::created_at, offline_messages::id))
            .select(OfflineExport::as_select())
            .load(conn)?,
        bans: bans::table
            .filter(bans::visitor_id.eq(visitor))
            .order(bans::created_at)
            .select(BanExport::as_select())
            .load(conn)?,
        outbox: outbox::table
            .filter(outbox::id.eq_any(&outbox_ids))
            .order(outbox::created_at)
            .select(OutboxExport::as_select())
            .load(conn)?,
        feed_events: feed_events::table
            .filter(feed_events::chat_id.eq_any(&chat_ids).or(feed_events::ref_id.eq_any(&offline_ids)))
            .order(feed_events::pos)
            .select(FeedExport::as_select())
            .load(conn)?,
        tokens: tokens::table.filter(tokens::principal_id.eq(visitor)).count().get_result(conn)?,
    }))
}

/// Adds to `agent`'s tallies (one upsert, so erasures on several nodes add up).
fn add_tally(
    conn: &mut DbConn,
    agent: &str,
    chats_closed: i64,
    rated: i64,
    score_sum: i64,
) -> QueryResult<()> {
    let row = (
        agent_tallies::agent_id.eq(agent),
        agent_tallies::chats_closed.eq(chats_closed),
        agent_tallies::ratings.eq(rated),
        agent_tallies::score_sum.eq(score_sum),
    );
    let change = (
        agent_tallies::chats_closed.eq(agent_tallies::chats_closed + chats_closed),
        agent_tallies::ratings.eq(agent_tallies::ratings + rated),
        agent_tallies::score_sum.eq(agent_tallies::score_sum + score_sum),
    );
    let upsert = diesel::insert_into(agent_tallies::table)
        .values(row)
        .on_conflict(agent_tallies::agent_id)
        .do_update()
        .set(change);
    match conn {
        DbConn::Postgres(pg) => upsert.execute(pg),
        DbConn::Sqlite(lite) => upsert.execute(lite),
    }
    .map(drop)
}

/// Every agent's tallies of what was removed: (agent, chats closed, ratings, score sum).
pub fn tallies(conn: &mut DbConn) -> QueryResult<Vec<(String, i64, i64, i64)>> {
    agent_tallies::table
        .select((
            agent_tallies::agent_id,
            agent_tallies::chats_closed,
            agent_tallies::ratings,
            agent_tallies::score_sum,
        ))
        .load(conn)
}

/// Removes these chats (closed ones: the caller ended any live one first) with their messages,
/// ratings and the emails about them, and adds what the agents' report counted to
/// `agent_tallies`.
pub fn erase_chats(conn: &mut DbConn, chat_ids: &[String]) -> QueryResult<Removed> {
    let mut removed = Removed::default();
    for ids in chat_ids.chunks(500) {
        // Locked first (PostgreSQL): of two nodes purging the same chats, the second finds only
        // what the first left, and so counts nothing twice. SQLite has one writer at a time.
        let locked = chats::table.filter(chats::id.eq_any(ids)).select(chats::id);
        let ids: Vec<String> = match conn {
            DbConn::Postgres(pg) => locked.for_update().load(pg)?,
            DbConn::Sqlite(lite) => locked.load(lite)?,
        };
        let ids = ids.as_slice();
        let closed: Vec<(Option<String>, i64)> = chats::table
            .filter(chats::id.eq_any(ids))
            .filter(chats::status.eq("closed"))
            .filter(chats::agent_id.is_not_null())
            .group_by(chats::agent_id)
            .select((chats::agent_id, count_star()))
            .load(conn)?;
        for (agent, n) in closed {
            if let Some(agent) = agent {
                add_tally(conn, &agent, n, 0, 0)?;
            }
        }
        let rated: Vec<(String, i32)> = ratings::table
            .filter(ratings::chat_id.eq_any(ids))
            .select((ratings::agent_id, ratings::score))
            .load(conn)?;
        for (agent, score) in &rated {
            add_tally(conn, agent, 0, 1, i64::from(*score))?;
        }
        let emails = outbox_ids_about(conn, ids)?;
        removed.outbox +=
            count(diesel::delete(outbox::table.filter(outbox::id.eq_any(&emails))).execute(conn)?);
        removed.ratings +=
            count(diesel::delete(ratings::table.filter(ratings::chat_id.eq_any(ids))).execute(conn)?);
        removed.messages +=
            count(diesel::delete(messages::table.filter(messages::chat_id.eq_any(ids))).execute(conn)?);
        removed.chats += count(diesel::delete(chats::table.filter(chats::id.eq_any(ids))).execute(conn)?);
    }
    Ok(removed)
}

/// Removes everything stored about `visitor` (its chats must have ended): chats with their
/// messages, ratings and emails, offline messages with theirs, page views, tokens, the bans
/// naming it (an address ban it came with stays, without the visitor and the reason), and the
/// visitor row.
pub fn erase_visitor(conn: &mut DbConn, visitor: &str) -> QueryResult<Removed> {
    let chat_ids = chat_ids_of(conn, visitor)?;
    let mut removed = erase_chats(conn, &chat_ids)?;
    let offline_ids = offline_ids_of(conn, visitor)?;
    let emails = outbox_ids_about(conn, &offline_ids)?;
    removed.outbox += count(diesel::delete(outbox::table.filter(outbox::id.eq_any(&emails))).execute(conn)?);
    removed.offline_messages += count(
        diesel::delete(offline_messages::table.filter(offline_messages::visitor_id.eq(visitor)))
            .execute(conn)?,
    );
    removed.page_views +=
        count(diesel::delete(page_views::table.filter(page_views::visitor_id.eq(visitor))).execute(conn)?);
    removed.tokens +=
        count(diesel::delete(tokens::table.filter(tokens::principal_id.eq(visitor))).execute(conn)?);
    removed.bans += count(
        diesel::delete(bans::table.filter(bans::visitor_id.eq(visitor)).filter(bans::ip.is_null()))
            .execute(conn)?,
    );
    diesel::update(bans::table.filter(bans::visitor_id.eq(visitor)))
        .set((bans::visitor_id.eq(None::<String>), bans::reason.eq(None::<String>)))
        .execute(conn)?;
    removed.visitors += count(diesel::delete(visitors::table.find(visitor)).execute(conn)?);
    Ok(removed)
}

/// The live (queued or open) chats of `visitor`.
pub fn live_chats_of(conn: &mut DbConn, visitor: &str) -> QueryResult<Vec<String>> {
    chats::table
        .filter(chats::visitor_id.eq(visitor))
        .filter(chats::status.ne("closed"))
        .select(chats::id)
        .load(conn)
}

/// Up to `limit` chats closed before `cutoff` (epoch ms), oldest first.
pub fn closed_before(conn: &mut DbConn, cutoff: i64, limit: i64) -> QueryResult<Vec<String>> {
    chats::table
        .filter(chats::status.eq("closed"))
        .filter(chats::closed_at.lt(cutoff))
        .order((chats::closed_at, chats::id))
        .select(chats::id)
        .limit(limit)
        .load(conn)
}

/// Up to `limit` visitors last seen (or, never seen, made) before `cutoff` (epoch ms) and with
/// no live chat.
pub fn inactive_before(conn: &mut DbConn, cutoff: i64, limit: i64) -> QueryResult<Vec<String>> {
    let live = chats::table.filter(chats::status.ne("closed")).select(chats::visitor_id);
    visitors::table
        .filter(
            visitors::last_seen_at
                .lt(cutoff)
                .or(visitors::last_seen_at.is_null().and(visitors::created_at.lt(cutoff))),
        )
        .filter(visitors::id.ne_all(live))
        .order(visitors::created_at)
        .select(visitors::id)
        .limit(limit)
        .load(conn)
}

/// One line of the audit log.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    /// UUID.
    pub id: String,
    /// Epoch ms.
    pub at: i64,
    /// The admin who did it; `None` for the server itself (retention).
    pub actor_id: Option<String>,
    /// `visitor.export`, `visitor.erase` or `retention.purge`.
    pub action: String,
    /// Whom it was about: a visitor id; `None` for retention.
    pub subject: Option<String>,
    /// What it did (JSON text): counts.
    pub detail: String,
}

/// Adds a line to the audit log.
pub fn audit(conn: &mut DbConn, row: &AuditRow) -> QueryResult<()> {
    diesel::insert_into(audit_log::table).values(row).execute(conn).map(drop)
}

/// Up to `limit` lines of the audit log, newest first; only those before `before` (epoch ms)
/// when given.
pub fn audit_page(conn: &mut DbConn, before: Option<i64>, limit: i64) -> QueryResult<Vec<AuditRow>> {
    let mut query = audit_log::table
        .order((audit_log::at.desc(), audit_log::id.desc()))
        .limit(limit)
        .select(AuditRow::as_select())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(audit_log::at.lt(before));
    }
    query.load(conn)
}
