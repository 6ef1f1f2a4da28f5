//! Canned replies kept by the server: the team's, which every agent reads and only admins
//! change, and each agent's own, which nobody else sees (admins included).
//!
//! Rules:
//! - an agent lists the team's replies and its own, never another agent's;
//! - any agent creates, edits and deletes its own; only admins create, edit and delete the
//!   team's (a plain agent gets 403); another agent's reply is 404, as if it did not exist;
//! - a shortcut is unique among the team's and among each agent's own; an agent's own reply
//!   may share a team reply's shortcut, and then the agent's own wins when it types it;
//! - at most [`MAX_PER_SCOPE`] replies in the team's scope and in each agent's;
//! - an import (a reply a console kept in its browser) adds an agent's own reply with a
//!   shortcut made from its text, unless the agent has one with the same text already, so
//!   sending it again adds nothing.

use serde::Serialize;
use uuid::Uuid;

use super::error::is_unique_violation;
use super::{require_admin, require_agent, ServiceError, Services};
use crate::domain::{now_ms, AgentId, CannedScope, MessageBody, Principal, Shortcut};
use crate::store::canned_replies::{self, CannedReplyRow};
use crate::store::DbConn;

/// Most replies in the team's scope, and in each agent's own.
pub const MAX_PER_SCOPE: i64 = 200;

/// A canned reply as the console and admin pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct CannedReplyView {
    /// Its id.
    pub canned_id: String,
    /// `team` or `personal`.
    pub scope: &'static str,
    /// Typed after `/`.
    pub shortcut: String,
    /// The text.
    pub body: String,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms of the last change.
    pub updated_at: i64,
    /// Whether the caller may edit and delete it.
    pub can_edit: bool,
}

/// A change to a canned reply: what is absent stays as it is.
#[derive(Debug, Clone, Default)]
pub struct CannedChange {
    /// A new shortcut.
    pub shortcut: Option<Shortcut>,
    /// A new text.
    pub body: Option<MessageBody>,
}

fn view(row: CannedReplyRow, viewer: (AgentId, bool)) -> CannedReplyView {
    let (me, admin) = viewer;
    let can_edit = match row.owner_id {
        Some(owner) => owner == me,
        None => admin,
    };
    CannedReplyView {
        canned_id: row.id,
        scope: if row.owner_id.is_some() { "personal" } else { "team" },
        shortcut: row.shortcut,
        body: row.body,
        created_at: row.created_at,
        updated_at: row.updated_at,
        can_edit,
    }
}

fn viewer_of(principal: &Principal) -> Result<(AgentId, bool), ServiceError> {
    let me = require_agent(principal)?;
    Ok((me, require_admin(principal).is_ok()))
}

/// The owner a new reply of `scope` gets, refusing a plain agent a team reply.
fn owner_for(principal: &Principal, scope: CannedScope) -> Result<Option<AgentId>, ServiceError> {
    match scope {
        CannedScope::Team => {
            require_admin(principal)
                .map_err(|_| ServiceError::Forbidden("only admins may change team canned replies"))?;
            Ok(None)
        }
        CannedScope::Personal => Ok(Some(require_agent(principal)?)),
    }
}

/// The reply `id` if the caller may change it: 404 for another agent's own (or none), 403 for a
/// team reply and a caller who is no admin.
fn editable(conn: &mut DbConn, id: &str, viewer: (AgentId, bool)) -> Result<CannedReplyRow, ServiceError> {
    let row = canned_replies::find(conn, id)?.ok_or(ServiceError::CannedReplyNotFound)?;
    match row.owner_id {
        Some(owner) if owner != viewer.0 => Err(ServiceError::CannedReplyNotFound),
        None if !viewer.1 => Err(ServiceError::Forbidden("only admins may change team canned replies")),
        _ => Ok(row),
    }
}

/// A new reply of `owner`'s scope (`None`: the team's), made by `created_by` now.
fn new_row(
    owner: Option<AgentId>,
    shortcut: &Shortcut,
    body: &MessageBody,
    created_by: AgentId,
) -> CannedReplyRow {
    let now = now_ms();
    CannedReplyRow {
        id: Uuid::new_v4().to_string(),
        owner_id: owner,
        shortcut: shortcut.as_str().to_string(),
        body: body.as_str().to_string(),
        created_by,
        created_at: now,
        updated_at: now,
    }
}

fn refuse_when_full(conn: &mut DbConn, owner: Option<AgentId>, adding: i64) -> Result<(), ServiceError> {
    let held = canned_replies::count_of_scope(conn, owner)?;
    if held.saturating_add(adding) > MAX_PER_SCOPE {
        return Err(ServiceError::TooManyCannedReplies);
    }
    Ok(())
}

/// Inserts `row`; a shortcut another node stored meanwhile is still a 409.
fn insert(conn: &mut DbConn, row: &CannedReplyRow) -> Result<(), ServiceError> {
    canned_replies::insert(conn, row).map_err(|e| {
        if is_unique_violation(&e) {
            ServiceError::ShortcutTaken
        } else {
            e.into()
        }
    })
}

impl Services {
    /// The team's replies, then the caller's own, each by shortcut.
    pub async fn canned_replies(&self, principal: &Principal) -> Result<Vec<CannedReplyView>, ServiceError> {
        let viewer = viewer_of(principal)?;
        let rows = self
            .store
            .run(move |conn| {
                let mut rows = canned_replies::of_scope(conn, None)?;
                rows.extend(canned_replies::of_scope(conn, Some(viewer.0))?);
                Ok::<_, ServiceError>(rows)
            })
            .await?;
        Ok(rows.into_iter().map(|row| view(row, viewer)).collect())
    }

    /// Creates a reply in `scope` (the team's: admins only).
    pub async fn create_canned_reply(
        &self,
        principal: &Principal,
        scope: CannedScope,
        shortcut: Shortcut,
        body: MessageBody,
    ) -> Result<CannedReplyView, ServiceError> {
        let viewer = viewer_of(principal)?;
        let owner = owner_for(principal, scope)?;
        let row = self
            .store
            .write(move |conn| {
                if canned_replies::shortcut_taken(conn, owner, shortcut.as_str(), None)? {
                    return Err(ServiceError::ShortcutTaken);
                }
                refuse_when_full(conn, owner, 1)?;
                let row = new_row(owner, &shortcut, &body, viewer.0);
                insert(conn, &row)?;
                Ok(row)
            })
            .await?;
        Ok(view(row, viewer))
    }

    /// Changes a reply's shortcut, text, or both.
    pub async fn update_canned_reply(
        &self,
        principal: &Principal,
        id: Uuid,
        change: CannedChange,
    ) -> Result<CannedReplyView, ServiceError> {
        let viewer = viewer_of(principal)?;
        let row = self
            .store
            .write(move |conn| {
                let id = id.to_string();
                let mut row = editable(conn, &id, viewer)?;
                if let Some(shortcut) = change.shortcut {
                    if canned_replies::shortcut_taken(conn, row.owner_id, shortcut.as_str(), Some(&id))? {
                        return Err(ServiceError::ShortcutTaken);
                    }
                    row.shortcut = shortcut.as_str().to_string();
                }
                if let Some(body) = change.body {
                    row.body = body.as_str().to_string();
                }
                row.updated_at = now_ms();
                canned_replies::update(conn, &id, &row.shortcut, &row.body, row.updated_at).map_err(|e| {
                    if is_unique_violation(&e) {
                        ServiceError::ShortcutTaken
                    } else {
                        e.into()
                    }
                })?;
                Ok(row)
            })
            .await?;
        Ok(view(row, viewer))
    }

    /// Deletes a reply.
    pub async fn delete_canned_reply(&self, principal: &Principal, id: Uuid) -> Result<(), ServiceError> {
        let viewer = viewer_of(principal)?;
        self.store
            .write(move |conn| {
                let id = id.to_string();
                editable(conn, &id, viewer)?;
                canned_replies::delete(conn, &id)?;
                Ok::<_, ServiceError>(())
            })
            .await
    }

    /// Adds `body` to the caller's own replies (see the module doc); the reply, and whether it
    /// is new (false: the caller had this text already, and nothing changed).
    pub async fn import_canned_reply(
        &self,
        principal: &Principal,
        body: MessageBody,
    ) -> Result<(CannedReplyView, bool), ServiceError> {
        let viewer = viewer_of(principal)?;
        let (row, created) = self
            .store
            .write(move |conn| {
                let owner = Some(viewer.0);
                let held = canned_replies::of_scope(conn, owner)?;
                if let Some(same) = held.iter().find(|row| row.body == body.as_str()) {
                    return Ok((same.clone(), false));
                }
                refuse_when_full(conn, owner, 1)?;
                let base = Shortcut::from_text(body.as_str());
                let free = |shortcut: &Shortcut| !held.iter().any(|row| row.shortcut == shortcut.as_str());
                // The numbered ones never run out: `find` returns.
                let shortcut = std::iter::once(base.clone())
                    .chain((2..).map(|n| base.numbered(n)))
                    .find(free)
                    .unwrap_or(base);
                let row = new_row(owner, &shortcut, &body, viewer.0);
                insert(conn, &row)?;
                Ok::<_, ServiceError>((row, true))
            })
            .await?;
        Ok((view(row, viewer), created))
    }
}
