//! Offline messages: a visitor who finds nobody online leaves a name, an email and a message;
//! agents list them, newest first.

use serde::Serialize;

use super::{require_agent, ServiceError, Services};
use crate::domain::{now_ms, ContactName, Email, MessageBody, PageLimit, Principal, VisitorId};
use crate::store::offline_messages::{self, OfflineMessageRow};

/// Longest offline message, in characters.
pub const MAX_OFFLINE_BODY_CHARS: usize = 4000;

/// What a visitor leaves, parsed.
#[derive(Debug, Clone)]
pub struct NewOfflineMessage {
    /// Who to answer.
    pub name: ContactName,
    /// Where to answer.
    pub email: Email,
    /// The message (1–[`MAX_OFFLINE_BODY_CHARS`] characters, not blank).
    pub body: MessageBody,
}

/// An offline message as listed to agents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfflineMessage {
    /// Id.
    pub id: String,
    /// The visitor who left it.
    pub visitor_id: VisitorId,
    /// The name given.
    pub name: String,
    /// The email given.
    pub email: String,
    /// The message, shown as text.
    pub body: String,
    /// Epoch ms.
    pub created_at: i64,
}

impl From<OfflineMessageRow> for OfflineMessage {
    fn from(row: OfflineMessageRow) -> Self {
        Self {
            id: row.id,
            visitor_id: row.visitor_id,
            name: row.name,
            email: row.email,
            body: row.body,
            created_at: row.created_at,
        }
    }
}

impl Services {
    /// A visitor leaves an offline message; returns its id.
    pub async fn leave_offline_message(
        &self,
        principal: &Principal,
        message: NewOfflineMessage,
    ) -> Result<String, ServiceError> {
        let Principal::Visitor(visitor) = *principal else {
            return Err(ServiceError::Forbidden("only visitors leave offline messages"));
        };
        let row = OfflineMessageRow {
            id: uuid::Uuid::new_v4().to_string(),
            visitor_id: visitor,
            name: message.name.as_str().to_string(),
            email: message.email.as_str().to_string(),
            body: message.body.as_str().to_string(),
            created_at: now_ms(),
        };
        let hub = std::sync::Arc::clone(&self.hub);
        self.store
            .write_then(
                move |conn| {
                    offline_messages::insert(conn, &row)?;
                    Ok::<_, ServiceError>(row.id)
                },
                // The message is in the event feed now: wake its held readers.
                move |_| hub.feed_grew(),
            )
            .await
    }

    /// Offline messages left before `before` (epoch ms; `None` = now), newest first (agents and
    /// admins).
    pub async fn list_offline_messages(
        &self,
        principal: &Principal,
        before: Option<i64>,
        limit: PageLimit,
    ) -> Result<Vec<OfflineMessage>, ServiceError> {
        require_agent(principal)?;
        let rows = self
            .store
            .run(move |conn| offline_messages::newest(conn, before, limit.get()).map_err(ServiceError::from))
            .await?;
        Ok(rows.into_iter().map(OfflineMessage::from).collect())
    }
}
