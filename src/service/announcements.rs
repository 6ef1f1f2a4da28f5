//! Announcements: an admin's message to every visitor and agent online now.

use serde_json::json;

use super::{require_admin, ServiceError, Services};
use crate::domain::{now_ms, MessageBody, Principal};
use crate::store::announcements::{self, AnnouncementRow};
use crate::store::StoreError;

impl Services {
    /// Stores the announcement and gives it to every participant present on this node; returns
    /// its id.
    pub async fn announce(&self, principal: &Principal, body: MessageBody) -> Result<String, ServiceError> {
        let author = require_admin(principal)?;
        let row = AnnouncementRow {
            id: uuid::Uuid::new_v4().to_string(),
            author_id: author.to_string(),
            body: body.as_str().to_string(),
            created_at: now_ms(),
        };
        let (id, text) = (row.id.clone(), row.body.clone());
        self.store.run(move |conn| announcements::insert(conn, &row).map_err(StoreError::from)).await?;
        self.hub.notify_everyone(&json!({ "type": "announcement", "announcement_id": id, "body": text }));
        Ok(id)
    }
}
