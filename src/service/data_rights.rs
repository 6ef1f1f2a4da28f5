//! Data rights: an admin exports everything stored about one visitor (or a site's customer,
//! which is one visitor) and erases it; the retention task deletes closed chats and inactive
//! visitors older than `[retention]` says; each of these writes a line of the audit log, which
//! admins read.
//!
//! An erase is two writes:
//! 1. the visitor's live chats end with reason `visitor_erased` (capacity given back, the queue
//!    drained into the freed slots, `chat.closed` published like any close: every node's hub
//!    and the agent's poll get it) and its tokens are deleted and forgotten by every node's
//!    token cache at once (`Relay::forget_erased`): nothing the visitor sends is accepted after;
//! 2. everything about it goes (`store::data_rights::erase_visitor`) with the audit line, in one
//!    transaction; once committed every node forgets it (`Hub::erase_chats`: a closed chat
//!    keeps only its `chat.closed`, for an agent's poll that has not read it yet, until the
//!    sweeper drops it). A chat the visitor started between the two (a request already past
//!    its token check) is ended the same way in the second write.
//!
//! What the agents' report counted (closed chats, ratings and their scores, per agent) is added
//! to `agent_tallies` as the chats and ratings go, so `GET /api/admin/stats/agents` reads the
//! same before and after. Feed rows stay: they are references, and read `data: null` once
//! what they point at is gone.
//!
//! Retention deletes in batches of `batch_size` chats (or visitors), each batch one short write
//! through the store's writer: other writes queue behind one batch, not behind the whole purge.

use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::chats::end_chat;
use super::queue::{self, drain_locked};
use super::{require_admin, ServiceError, Services, Stored};
use crate::domain::{now_ms, AgentId, ChatId, CloseReason, DataSubject, PageLimit, Principal, VisitorId};
use crate::store::data_rights::{self as rights, AuditRow, Removed, VisitorData};
use crate::store::{DbConn, StoreError};

/// Audit actions.
pub mod action {
    /// An admin exported a visitor's data.
    pub const EXPORT: &str = "visitor.export";
    /// An admin erased a visitor's data.
    pub const ERASE: &str = "visitor.erase";
    /// The retention task deleted old data.
    pub const PURGE: &str = "retention.purge";
}

const DAY_MS: i64 = 86_400_000;

/// What an erase did.
#[derive(Debug, Clone, Serialize)]
pub struct Erased {
    /// The erased visitor.
    pub visitor_id: VisitorId,
    /// Live chats it ended first (reason `visitor_erased`).
    pub chats_ended: usize,
    /// Rows removed, per table.
    pub removed: Removed,
}

/// What one retention run removed.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Purged {
    /// Closed chats older than `closed_chat_days` (with their messages, ratings, emails).
    pub old_chats: Removed,
    /// Inactive visitors older than `inactive_visitor_days`, with everything about them.
    pub inactive_visitors: Removed,
    /// Writes it took.
    pub batches: u64,
}

/// A line of the audit log as admins read it.
#[derive(Debug, Clone, Serialize)]
pub struct AuditView {
    /// Its id.
    pub id: String,
    /// Epoch ms.
    pub at: i64,
    /// The admin, or `null` for the server (retention).
    pub actor_id: Option<String>,
    /// `visitor.export`, `visitor.erase`, `retention.purge`.
    pub action: String,
    /// The visitor's id, or `null`.
    pub subject: Option<String>,
    /// Counts and how the subject was named.
    pub detail: serde_json::Value,
}

fn audit_row(
    actor: Option<AgentId>,
    action: &str,
    subject: Option<VisitorId>,
    detail: &serde_json::Value,
) -> AuditRow {
    AuditRow {
        id: Uuid::new_v4().to_string(),
        at: now_ms(),
        actor_id: actor.map(|agent| agent.0.to_string()),
        action: action.to_string(),
        subject: subject.map(|visitor| visitor.0.to_string()),
        detail: detail.to_string(),
    }
}

/// How the subject was named, for the audit line: the site for a customer, never the customer's
/// own id (it is personal data, and after an erase it must not stay behind).
fn named_by(subject: &DataSubject) -> serde_json::Value {
    match subject {
        DataSubject::Visitor(_) => json!({ "by": "visitor_id" }),
        DataSubject::Customer { site_id, .. } => json!({ "by": "customer", "site_id": site_id.0 }),
    }
}

fn chat_ids(ids: &[String]) -> Result<Vec<ChatId>, StoreError> {
    ids.iter()
        .map(|id| Uuid::parse_str(id).map(ChatId).map_err(|_| StoreError::Corrupt(format!("chat id {id}"))))
        .collect()
}

/// Ends `visitor`'s live chats for reason `visitor_erased` and drains the queue; runs under the
/// queue lock (the caller takes it).
fn end_live_chats(
    conn: &mut DbConn,
    visitor: VisitorId,
    present: &[AgentId],
) -> Result<(usize, Vec<Stored>), ServiceError> {
    let live = chat_ids(&rights::live_chats_of(conn, &visitor.0.to_string())?)?;
    let mut stored = Vec::new();
    for chat_id in live {
        stored.extend(end_chat(conn, chat_id, CloseReason::VisitorErased, None)?);
    }
    let ended = stored.len();
    if ended > 0 {
        stored.extend(drain_locked(conn, present)?);
    }
    Ok((ended, stored))
}

impl Services {
    /// The visitor `subject` names; `VisitorNotFound` when none.
    async fn subject_visitor(&self, subject: &DataSubject) -> Result<VisitorId, ServiceError> {
        let subject = subject.clone();
        self.store
            .run(move |conn| {
                let id = match subject {
                    DataSubject::Visitor(visitor) => {
                        crate::store::visitors::find(conn, visitor)?.map(|row| row.id)
                    }
                    DataSubject::Customer { site_id, customer_id } => {
                        rights::visitor_of_customer(conn, &site_id.0.to_string(), &customer_id)?
                            .and_then(|id| Uuid::parse_str(&id).ok())
                            .map(VisitorId)
                    }
                };
                id.ok_or(ServiceError::VisitorNotFound)
            })
            .await
    }

    /// Everything stored about the visitor `subject` names (admins); writes an audit line.
    pub async fn export_visitor(
        &self,
        principal: &Principal,
        subject: DataSubject,
    ) -> Result<VisitorData, ServiceError> {
        let admin = require_admin(principal)?;
        let visitor = self.subject_visitor(&subject).await?;
        let data = self
            .store
            .run(move |conn| {
                rights::export(conn, &visitor.0.to_string())?.ok_or(ServiceError::VisitorNotFound)
            })
            .await?;
        let mut detail = named_by(&subject);
        detail["counts"] = json!({
            "chats": data.chats.len(),
            "messages": data.messages.len(),
            "ratings": data.ratings.len(),
            "offline_messages": data.offline_messages.len(),
            "page_views": data.page_views.len(),
        });
        let row = audit_row(Some(admin), action::EXPORT, Some(visitor), &detail);
        self.store.write(move |conn| rights::audit(conn, &row).map_err(ServiceError::from)).await?;
        Ok(data)
    }

    /// Erases everything about the visitor `subject` names (admins); see the module doc.
    pub async fn erase_visitor(
        &self,
        principal: &Principal,
        subject: DataSubject,
    ) -> Result<Erased, ServiceError> {
        let admin = require_admin(principal)?;
        let visitor = self.subject_visitor(&subject).await?;
        let present = self.present_agents().await?;
        let first_present = present.clone();
        // 1. Its chats end and its tokens die.
        let (ended, tokens) = self
            .write_chat_then(
                move |conn| {
                    queue::lock(conn)?;
                    let (ended, stored) = end_live_chats(conn, visitor, &first_present)?;
                    let tokens = crate::store::tokens::delete_for_principal(conn, visitor.0)?;
                    Ok(((ended, tokens), stored))
                },
                move |relay, _| relay.forget_erased(visitor.0, &[]),
            )
            .await?;
        // 2. Everything goes.
        let detail_base = named_by(&subject);
        let (late, removed, chats) = self
            .write_chat_then(
                move |conn| {
                    queue::lock(conn)?;
                    let (late, stored) = end_live_chats(conn, visitor, &present)?;
                    let id = visitor.0.to_string();
                    let chats = chat_ids(&rights::chat_ids_of(conn, &id)?)?;
                    let mut removed = rights::erase_visitor(conn, &id)?;
                    removed.tokens += i64::try_from(tokens).unwrap_or(i64::MAX);
                    if removed.visitors == 0 {
                        return Err(ServiceError::VisitorNotFound);
                    }
                    let mut detail = detail_base;
                    detail["removed"] = json!(removed);
                    rights::audit(conn, &audit_row(Some(admin), action::ERASE, Some(visitor), &detail))?;
                    Ok(((late, removed, chats), stored))
                },
                move |relay, (_, _, chats)| relay.forget_erased(visitor.0, chats),
            )
            .await?;
        log::info!("data rights: visitor {} erased ({} chats)", visitor.0, chats.len());
        Ok(Erased { visitor_id: visitor, chats_ended: ended + late, removed })
    }

    /// The audit log, newest first (admins): `limit` lines before `before` (epoch ms).
    pub async fn audit_log(
        &self,
        principal: &Principal,
        before: Option<i64>,
        limit: PageLimit,
    ) -> Result<Vec<AuditView>, ServiceError> {
        require_admin(principal)?;
        let rows = self
            .store
            .run(move |conn| rights::audit_page(conn, before, limit.get()).map_err(StoreError::from))
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| AuditView {
                detail: serde_json::from_str(&row.detail).unwrap_or(serde_json::Value::Null),
                id: row.id,
                at: row.at,
                actor_id: row.actor_id,
                action: row.action,
                subject: row.subject,
            })
            .collect())
    }

    /// One retention run (see `[retention]`): closed chats older than `closed_chat_days`, then
    /// visitors inactive for `inactive_visitor_days`, in batches of `batch_size`, each its own
    /// write; an audit line when something went. `now` is the clock it measures ages from.
    pub async fn purge_retention(&self, now: i64) -> Result<Purged, ServiceError> {
        let settings = self.settings.retention.clone();
        let batch = i64::try_from(settings.batch_size.max(1)).unwrap_or(i64::MAX);
        let mut purged = Purged::default();
        if settings.closed_chat_days > 0 {
            let cutoff = now.saturating_sub(days_ms(settings.closed_chat_days));
            loop {
                let removed = self
                    .store
                    .write(move |conn| {
                        let ids = rights::closed_before(conn, cutoff, batch)?;
                        rights::erase_chats(conn, &ids).map_err(ServiceError::from)
                    })
                    .await?;
                purged.batches += 1;
                purged.old_chats.add(removed);
                if removed.chats < batch || self.hub.is_shutting_down() {
                    break;
                }
            }
        }
        if settings.inactive_visitor_days > 0 {
            let cutoff = now.saturating_sub(days_ms(settings.inactive_visitor_days));
            loop {
                let (removed, seen, gone) = self
                    .store
                    .write(move |conn| {
                        let ids = rights::inactive_before(conn, cutoff, batch)?;
                        let mut removed = Removed::default();
                        let mut gone = Vec::new();
                        for id in &ids {
                            // A chat started since the look above keeps its visitor.
                            if rights::live_chats_of(conn, id)?.is_empty() {
                                removed.add(rights::erase_visitor(conn, id)?);
                                gone.extend(Uuid::parse_str(id).ok());
                            }
                        }
                        Ok::<_, ServiceError>((removed, ids.len(), gone))
                    })
                    .await?;
                for visitor in gone {
                    self.relay.forget_erased(visitor, &[]);
                }
                purged.batches += 1;
                purged.inactive_visitors.add(removed);
                if i64::try_from(seen).unwrap_or(0) < batch || self.hub.is_shutting_down() {
                    break;
                }
            }
        }
        if !purged.old_chats.is_empty() || !purged.inactive_visitors.is_empty() {
            let detail = json!({
                "old_chats": purged.old_chats,
                "inactive_visitors": purged.inactive_visitors,
                "batches": purged.batches,
                "closed_chat_days": settings.closed_chat_days,
                "inactive_visitor_days": settings.inactive_visitor_days,
            });
            let row = audit_row(None, action::PURGE, None, &detail);
            self.store.write(move |conn| rights::audit(conn, &row).map_err(ServiceError::from)).await?;
        }
        Ok(purged)
    }
}

fn days_ms(days: u64) -> i64 {
    i64::try_from(days).unwrap_or(i64::MAX / DAY_MS).saturating_mul(DAY_MS)
}
