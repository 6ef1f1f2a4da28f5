//! What a visitor may read about itself: who it is (`GET /api/visitors/me`) and its own chats,
//! newest first (`GET /api/visitors/me/chats`). A verified customer is one visitor on all of
//! its devices, so a second device lists the chats started on the first; a transcript is then
//! read from `GET /api/chats/{chat_id}/messages`, which a chat's visitor may read.

use serde::Serialize;

use super::{ServiceError, Services};
use crate::domain::{ChatId, ChatStatus, PageLimit, Principal, VisitorId};
use crate::store::{chats, visitors};

/// A visitor as it sees itself.
#[derive(Debug, Clone, Serialize)]
pub struct VisitorSelf {
    /// Its id.
    pub visitor_id: VisitorId,
    /// The name agents see.
    pub name: String,
    /// Whether a site's server signed who it is.
    pub verified: bool,
    /// The site's id for the customer it is, when verified.
    pub customer_id: Option<String>,
    /// The customer's email address, as the newest identity gave it.
    pub email: Option<String>,
}

/// One of the visitor's chats, as its list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct OwnChat {
    /// Id.
    pub chat_id: ChatId,
    /// `queued`, `open` or `closed`.
    pub status: ChatStatus,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms, once ended.
    pub closed_at: Option<i64>,
    /// Why it ended.
    pub close_reason: Option<String>,
    /// The agent serving it, or who served it last.
    pub agent_name: Option<String>,
    /// Seq of its newest event.
    pub last_seq: i64,
}

fn visitor_of(principal: &Principal) -> Result<VisitorId, ServiceError> {
    match *principal {
        Principal::Visitor(visitor) => Ok(visitor),
        Principal::Agent(..) => Err(ServiceError::Forbidden("only a visitor has a visitor's own views")),
    }
}

impl Services {
    /// The calling visitor, as it sees itself.
    pub async fn visitor_self(&self, principal: &Principal) -> Result<VisitorSelf, ServiceError> {
        let visitor_id = visitor_of(principal)?;
        let row = self
            .store
            .run(move |conn| visitors::find_with_identity(conn, visitor_id).map_err(ServiceError::from))
            .await?
            // A token outlives nothing it names; a missing visitor means a bad token.
            .ok_or(ServiceError::Unauthorized)?;
        Ok(VisitorSelf {
            visitor_id: row.id,
            name: row.name,
            verified: row.verified != 0,
            customer_id: row.customer_id,
            email: row.email,
        })
    }

    /// The calling visitor's chats, newest first; `before` is where the previous page ended:
    /// its last chat's `created_at` and id.
    pub async fn own_chats(
        &self,
        principal: &Principal,
        before: Option<(i64, String)>,
        limit: PageLimit,
    ) -> Result<Vec<OwnChat>, ServiceError> {
        let visitor_id = visitor_of(principal)?;
        self.store
            .run(move |conn| {
                let rows = chats::of_visitor_page(conn, visitor_id, before, limit.get())?;
                Ok(rows
                    .into_iter()
                    .map(|(row, agent_name)| OwnChat {
                        agent_name,
                        chat_id: row.id,
                        status: row.status,
                        created_at: row.created_at,
                        closed_at: row.closed_at,
                        close_reason: row.close_reason,
                        last_seq: row.last_seq,
                    })
                    .collect())
            })
            .await
    }
}
