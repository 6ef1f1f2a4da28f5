//! Ratings: the chat's visitor rates the agent who served it, once, after the chat ended; admins
//! read the per-agent report.

use std::collections::HashMap;

use serde::Serialize;

use super::error::is_unique_violation;
use super::{require_admin, ServiceError, Services};
use crate::domain::{now_ms, AgentId, ChatId, ChatStatus, Principal, RatingComment, Score};
use crate::store::ratings::{self, RatingRow};
use crate::store::{agents, chats, data_rights};

/// A rating just stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredRating {
    /// The rated chat.
    pub chat_id: ChatId,
    /// 1–5.
    pub score: i32,
    /// Optional words.
    pub comment: Option<String>,
}

/// One agent's line in the admin report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentStats {
    /// Id.
    pub agent_id: AgentId,
    /// Login id.
    pub employee_id: String,
    /// Display name.
    pub name: String,
    /// How many ratings the agent received.
    pub ratings: i64,
    /// Their mean, rounded to 2 decimals; `None` without ratings.
    pub average_score: Option<f64>,
    /// How many chats the agent served to their end.
    pub chats_closed: i64,
}

/// The mean of `count` scores adding up to `sum`, rounded to 2 decimals.
pub fn average(sum: i64, count: i64) -> Option<f64> {
    if count <= 0 {
        return None;
    }
    #[allow(clippy::cast_precision_loss)] // counts and sums of 1–5 stay far below 2^52
    let mean = sum as f64 / count as f64;
    Some((mean * 100.0).round() / 100.0)
}

impl Services {
    /// The chat's visitor rates it: only after it ended, only if an agent served it, once.
    pub async fn rate_chat(
        &self,
        principal: &Principal,
        chat_id: ChatId,
        score: Score,
        comment: Option<RatingComment>,
    ) -> Result<StoredRating, ServiceError> {
        let principal = *principal;
        let hub = std::sync::Arc::clone(&self.hub);
        self.store
            .write_then(
                move |conn| {
                    let chat = chats::find(conn, chat_id)?.ok_or(ServiceError::ChatNotFound)?;
                    let is_visitor =
                        matches!(principal, Principal::Visitor(visitor) if visitor == chat.visitor_id);
                    if !is_visitor {
                        return Err(ServiceError::Forbidden("only the chat's visitor may rate it"));
                    }
                    if chat.status != ChatStatus::Closed {
                        return Err(ServiceError::ChatNotClosed);
                    }
                    let agent_id = chat.agent_id.ok_or(ServiceError::ChatNotRateable)?;
                    if ratings::find(conn, chat_id)?.is_some() {
                        return Err(ServiceError::AlreadyRated);
                    }
                    let row = RatingRow {
                        chat_id,
                        agent_id,
                        visitor_id: chat.visitor_id,
                        score: score.get(),
                        comment: comment.map(|c| c.as_str().to_string()),
                        created_at: now_ms(),
                    };
                    // The primary key settles a race between two ratings of the same chat.
                    ratings::insert(conn, &row).map_err(|e| {
                        if is_unique_violation(&e) {
                            ServiceError::AlreadyRated
                        } else {
                            e.into()
                        }
                    })?;
                    Ok(StoredRating { chat_id, score: row.score, comment: row.comment })
                },
                // The rating is in the event feed now: wake its held readers.
                move |_| hub.feed_grew(),
            )
            .await
    }

    /// Every agent with its ratings and closed chats (admins only).
    pub async fn agent_stats(&self, principal: &Principal) -> Result<Vec<AgentStats>, ServiceError> {
        require_admin(principal)?;
        self.store
            .run(|conn| {
                let mut totals: HashMap<AgentId, (i64, i64)> = ratings::totals_by_agent(conn)?
                    .into_iter()
                    .map(|t| (t.agent_id, (t.count, t.score_sum)))
                    .collect();
                let mut closed: HashMap<AgentId, i64> =
                    chats::closed_count_by_agent(conn)?.into_iter().collect();
                // What erased or purged chats and ratings counted (`service::data_rights`).
                for (agent, chats_closed, rated, score_sum) in data_rights::tallies(conn)? {
                    let Ok(agent) = uuid::Uuid::parse_str(&agent).map(AgentId) else { continue };
                    *closed.entry(agent).or_default() += chats_closed;
                    let total = totals.entry(agent).or_default();
                    total.0 += rated;
                    total.1 += score_sum;
                }
                let stats = agents::list(conn)?
                    .into_iter()
                    .map(|agent| {
                        let (count, sum) = totals.get(&agent.id).copied().unwrap_or((0, 0));
                        AgentStats {
                            chats_closed: closed.get(&agent.id).copied().unwrap_or(0),
                            ratings: count,
                            average_score: average(sum, count),
                            agent_id: agent.id,
                            employee_id: agent.employee_id,
                            name: agent.name,
                        }
                    })
                    .collect();
                Ok(stats)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_average_is_rounded_to_two_decimals_and_absent_without_ratings() {
        assert_eq!(average(0, 0), None);
        assert_eq!(average(9, 2), Some(4.5));
        assert_eq!(average(13, 3), Some(4.33));
        assert_eq!(average(14, 3), Some(4.67));
        assert_eq!(average(5, 1), Some(5.0));
    }
}
