//! Announcements: an admin's message to every visitor and agent online now.

use serde::Serialize;
use serde_json::json;

use super::{require_admin, ServiceError, Services};
use crate::domain::{now_ms, MessageBody, PageLimit, Principal};
use crate::store::announcements::{self, AnnouncementRow};
use crate::store::StoreError;

/// A past announcement, as admins list them.
#[derive(Debug, Clone, Serialize)]
pub struct PastAnnouncement {
    /// Id.
    pub announcement_id: String,
    /// The text.
    pub body: String,
    /// Epoch ms.
    pub created_at: i64,
}

impl Services {
    /// The newest announcements, newest first (admins).
    pub async fn announcements(
        &self,
        principal: &Principal,
        limit: PageLimit,
    ) -> Result<Vec<PastAnnouncement>, ServiceError> {
        require_admin(principal)?;
        let rows = self
            .store
            .run(move |conn| announcements::newest(conn, limit.get()).map_err(ServiceError::from))
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| PastAnnouncement {
                announcement_id: row.id,
                body: row.body,
                created_at: row.created_at,
            })
            .collect())
    }

    /// Stores the announcement and gives it to every participant present on this node; returns
    /// its id.
    pub async fn announce(&self, principal: &Principal, body: MessageBody) -> Result<String, ServiceError> {
        let author = require_admin(principal)?;
        let row = AnnouncementRow {
            id: uuid::Uuid::new_v4().to_string(),
            author_id: author,
            body: body.as_str().to_string(),
            created_at: now_ms(),
        };
        let (id, text) = (row.id.clone(), row.body.clone());
        self.store.write(move |conn| announcements::insert(conn, &row).map_err(StoreError::from)).await?;
        self.relay.notify_everyone(&json!({ "type": "announcement", "announcement_id": id, "body": text }));
        Ok(id)
    }
}
