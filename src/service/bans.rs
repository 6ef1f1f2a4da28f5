//! The ban list: agents ban a visitor (optionally with the address it last came from), admins
//! also ban an address directly; a banned visitor or address is refused every visitor request
//! with 403 `banned`, and the chats it has going end at once with reason `visitor_banned`.
//!
//! Rules:
//! - any agent bans a visitor, and may include its last address without ever seeing it;
//! - only admins ban an address given by hand, and only admins see addresses in the list
//!   (plain agents get `ip_banned: true` instead);
//! - the agent who made a ban, or an admin, lifts it; a ban with a duration ends by itself;
//! - agents are never refused by an address ban (they may share an office network with a
//!   visitor).
//!
//! Checks read the [`BanList`](super::ban_list::BanList) in memory. A ban or lift made on another node reaches this one
//! within [`RELOAD_EVERY`] (the list is read again from the store that often); the chats a ban
//! ends reach every node at once, as any stored event does.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use uuid::Uuid;

use super::ban_list::BanEntry;
use super::chats::end_chat;
use super::queue::{self, drain_locked};
use super::{chat_meta, require_admin, ServiceError, Services, Stored};
use crate::domain::{
    now_ms, AgentId, BanDuration, BanReason, BannedAddress, CloseReason, Event, Principal, Role, VisitorId,
};
use crate::hub::ChatMeta;
use crate::store::bans::{self, BanRow};
use crate::store::{agents, visitors, DbConn, StoreError};

/// How often every node reads the bans in force from the store again: the longest a ban or
/// lift made on another node takes to be enforced here.
pub const RELOAD_EVERY: Duration = Duration::from_secs(5);

/// Who or what to ban.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BanTarget {
    /// A visitor, and with `include_ip` the address it last came from.
    Visitor {
        /// The visitor.
        visitor: VisitorId,
        /// Whether its last address is banned too.
        include_ip: bool,
    },
    /// An address given by hand (admins only).
    Address(BannedAddress),
}

/// A ban as an agent asks for it.
#[derive(Debug, Clone)]
pub struct NewBan {
    /// Who or what.
    pub target: BanTarget,
    /// Why (optional).
    pub reason: Option<BanReason>,
    /// For how long.
    pub duration: BanDuration,
}

/// A ban as the console and admin pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct BanView {
    /// The ban's id.
    pub ban_id: String,
    /// The banned visitor, if one is.
    pub visitor_id: Option<VisitorId>,
    /// That visitor's display name, when known.
    pub visitor_name: Option<String>,
    /// Whether an address is banned.
    pub ip_banned: bool,
    /// The banned address: admins only, absent for everyone else.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// The agent who banned.
    pub created_by: AgentId,
    /// That agent's display name, when known.
    pub created_by_name: Option<String>,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms when it ends by itself; `null` = until lifted.
    pub expires_at: Option<i64>,
    /// Epoch ms when it was lifted, if it was.
    pub lifted_at: Option<i64>,
    /// Whether the caller may lift it.
    pub can_lift: bool,
}

/// A ban just made: how the caller sees it, and how many chats it ended.
#[derive(Debug, Clone)]
pub struct MadeBan {
    /// The ban.
    pub ban: BanView,
    /// Chats ended with reason `visitor_banned`.
    pub chats_closed: usize,
}

/// Reads a stored ban into what memory keeps; a malformed row is corrupt data.
fn entry_of(row: &BanRow) -> Result<BanEntry, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("ban {}: bad {what}", row.id));
    Ok(BanEntry {
        id: Uuid::parse_str(&row.id).map_err(|_| corrupt("id"))?,
        visitor: row.visitor_id.map(|visitor| visitor.0),
        ip: row
            .ip
            .as_deref()
            .map(|ip| BannedAddress::parse(ip, "ip"))
            .transpose()
            .map_err(|_| corrupt("ip"))?,
        expires_at: row.expires_at,
    })
}

/// The names a list of bans shows: visitors' and agents', by id.
#[derive(Default)]
struct Names {
    visitors: HashMap<VisitorId, String>,
    agents: HashMap<AgentId, String>,
}

fn names_for(conn: &mut DbConn, rows: &[BanRow]) -> Result<Names, StoreError> {
    let mut names = Names::default();
    let visitor_ids: Vec<VisitorId> = rows.iter().filter_map(|row| row.visitor_id).collect();
    let agent_ids: Vec<AgentId> = rows.iter().map(|row| row.created_by).collect();
    for ids in visitor_ids.chunks(1000) {
        names.visitors.extend(visitors::names_of(conn, ids)?);
    }
    for ids in agent_ids.chunks(1000) {
        names.agents.extend(agents::names_of(conn, ids)?);
    }
    Ok(names)
}

/// How `viewer` sees a ban: addresses for admins only.
fn view(row: BanRow, names: &Names, viewer: (AgentId, Role)) -> BanView {
    let (me, role) = viewer;
    let admin = role == Role::Admin;
    BanView {
        visitor_name: row.visitor_id.as_ref().and_then(|id| names.visitors.get(id).cloned()),
        created_by_name: names.agents.get(&row.created_by).cloned(),
        can_lift: row.lifted_at.is_none() && (admin || row.created_by == me),
        ban_id: row.id,
        visitor_id: row.visitor_id,
        ip_banned: row.ip.is_some(),
        ip: if admin { row.ip } else { None },
        reason: row.reason,
        created_by: row.created_by,
        created_at: row.created_at,
        expires_at: row.expires_at,
        lifted_at: row.lifted_at,
    }
}

fn viewer_of(principal: &Principal) -> Result<(AgentId, Role), ServiceError> {
    match principal {
        Principal::Agent(id, role) => Ok((*id, *role)),
        Principal::Visitor(_) => Err(ServiceError::Forbidden("only agents may do this")),
    }
}

impl Services {
    /// Refuses a request by a banned visitor, or by any visitor from a banned address, with
    /// `Banned`. Agents pass: an address ban is for visitors.
    pub fn refuse_banned(&self, principal: &Principal, address: IpAddr) -> Result<(), ServiceError> {
        let Principal::Visitor(visitor) = principal else { return Ok(()) };
        let now = now_ms();
        if self.bans.visitor_banned(visitor.0, now)
            || self.bans.address_banned(BannedAddress::from_ip(address), now)
        {
            crate::metrics::limit_hit("ban");
            return Err(ServiceError::Banned);
        }
        Ok(())
    }

    /// Refuses a new visitor from a banned address with `Banned`.
    pub fn refuse_banned_address(&self, address: IpAddr) -> Result<(), ServiceError> {
        if self.bans.address_banned(BannedAddress::from_ip(address), now_ms()) {
            crate::metrics::limit_hit("ban");
            return Err(ServiceError::Banned);
        }
        Ok(())
    }

    /// Bans a visitor (any agent) or an address (admins); ends the chats the ban covers.
    pub async fn ban(&self, principal: &Principal, ban: NewBan) -> Result<MadeBan, ServiceError> {
        let viewer = viewer_of(principal)?;
        if let BanTarget::Address(_) = ban.target {
            require_admin(principal)?;
        }
        let present = self.present_agents().await?;
        let list = Arc::clone(&self.bans);
        let relay = self.relay.clone();
        let (row, closed) = self
            .store
            .write_then(
                move |conn| {
                    let now = now_ms();
                    let (visitor, ip) = match ban.target {
                        BanTarget::Address(address) => (None, Some(address)),
                        BanTarget::Visitor { visitor, include_ip } => {
                            let last_ip =
                                bans::last_ip_of(conn, visitor)?.ok_or(ServiceError::VisitorNotFound)?;
                            // An address that does not parse was never written by this server.
                            let ip = last_ip
                                .filter(|_| include_ip)
                                .and_then(|ip| BannedAddress::parse(&ip, "ip").ok());
                            (Some(visitor), ip)
                        }
                    };
                    // The queue lock first, as every transaction that ends chats takes it.
                    queue::lock(conn)?;
                    let row = BanRow {
                        id: Uuid::new_v4().to_string(),
                        visitor_id: visitor,
                        ip: ip.map(|ip| ip.to_string()),
                        reason: ban.reason.as_ref().map(|r| r.as_str().to_string()),
                        created_by: viewer.0,
                        created_at: now,
                        expires_at: ban.duration.expires_at(now),
                        lifted_at: None,
                        lifted_by: None,
                    };
                    bans::insert(conn, &row)?;
                    let mut chat_ids = match row.visitor_id {
                        Some(visitor) => bans::live_chats_of(conn, visitor)?,
                        None => Vec::new(),
                    };
                    if let Some(ip) = &row.ip {
                        chat_ids.extend(bans::live_chats_at(conn, ip)?);
                    }
                    chat_ids.sort();
                    chat_ids.dedup();
                    let mut stored: Vec<Stored> = Vec::new();
                    for chat_id in chat_ids {
                        stored.extend(end_chat(conn, chat_id, CloseReason::VisitorBanned, None)?);
                    }
                    let closed = stored.len();
                    stored.extend(drain_locked(conn, &present)?);
                    let entry = entry_of(&row)?;
                    let published: Vec<_> =
                        stored.into_iter().map(|chat| (chat_meta(&chat.row), chat.events)).collect();
                    Ok::<_, ServiceError>(((row, closed), entry, published))
                },
                move |(_, entry, published): &(_, BanEntry, Vec<(ChatMeta, Vec<Event>)>)| {
                    // Memory refuses the visitor before its poll hears that its chat ended, so
                    // the poll that follows is already refused.
                    list.add(*entry);
                    for (meta, events) in published {
                        relay.publish(meta, events, None);
                    }
                },
            )
            .await
            .map(|(made, _, _)| made)?;
        let names = self.ban_names(vec![row.clone()]).await?;
        Ok(MadeBan { ban: view(row, &names, viewer), chats_closed: closed })
    }

    /// The bans in force, newest first; addresses for admins only.
    pub async fn list_bans(&self, principal: &Principal) -> Result<Vec<BanView>, ServiceError> {
        let viewer = viewer_of(principal)?;
        let (rows, names) = self
            .store
            .run(move |conn| {
                let rows = bans::in_force(conn, now_ms())?;
                let names = names_for(conn, &rows)?;
                Ok::<_, ServiceError>((rows, names))
            })
            .await?;
        Ok(rows.into_iter().map(|row| view(row, &names, viewer)).collect())
    }

    /// Lifts a ban in force: the agent who made it, or an admin.
    pub async fn lift_ban(&self, principal: &Principal, ban_id: Uuid) -> Result<BanView, ServiceError> {
        let viewer = viewer_of(principal)?;
        let list = Arc::clone(&self.bans);
        let row = self
            .store
            .write_then(
                move |conn| {
                    let id = ban_id.to_string();
                    let row = bans::find(conn, &id)?.ok_or(ServiceError::BanNotFound)?;
                    if viewer.1 != Role::Admin && row.created_by != viewer.0 {
                        return Err(ServiceError::Forbidden(
                            "only an admin or the agent who made a ban may lift it",
                        ));
                    }
                    let row =
                        bans::lift(conn, &id, viewer.0, now_ms())?.ok_or(ServiceError::BanNotInForce)?;
                    let entry = entry_of(&row)?;
                    Ok::<_, ServiceError>((row, entry))
                },
                move |(_, entry): &(BanRow, BanEntry)| list.lift(entry),
            )
            .await
            .map(|(row, _)| row)?;
        let names = self.ban_names(vec![row.clone()]).await?;
        Ok(view(row, &names, viewer))
    }

    async fn ban_names(&self, rows: Vec<BanRow>) -> Result<Names, ServiceError> {
        Ok(self.store.run(move |conn| names_for(conn, &rows)).await?)
    }

    /// Reads the bans in force into memory (at start, before serving: blocks).
    pub fn load_bans_blocking(&self) -> Result<usize, StoreError> {
        let changes = self.bans.changes();
        let entries = self.store.run_blocking(|conn| read_entries(conn, now_ms()))?;
        self.bans.replace(&entries, changes, now_ms());
        Ok(entries.len())
    }

    /// Reads the bans in force into memory again: bans and lifts made on other nodes arrive,
    /// expired bans leave. False when a change made here meanwhile deferred it.
    pub async fn reload_bans(&self) -> Result<bool, ServiceError> {
        let changes = self.bans.changes();
        let entries = self.store.run(|conn| read_entries(conn, now_ms())).await?;
        Ok(self.bans.replace(&entries, changes, now_ms()))
    }
}

fn read_entries(conn: &mut DbConn, now: i64) -> Result<Vec<BanEntry>, StoreError> {
    bans::in_force(conn, now)?.iter().map(entry_of).collect()
}
