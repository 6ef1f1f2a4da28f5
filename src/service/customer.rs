//! The customer behind a chat, as agents see it: who the visitor is (verified or not, the
//! customer id and email a signed identity gave, the site), the pages of this visit, and its
//! earlier chats with their ratings (`GET /api/visitors/{visitor_id}/profile`).
//!
//! One visitor row is one customer of a site (a verified customer's second device gets a token
//! for the same visitor), so "the same customer's chats" are that visitor's chats.
//!
//! Who may read a profile: admins, and an agent who is the agent of a chat of that visitor, open
//! or closed (the console shows it next to the chat the agent serves; an agent who served the
//! customer before keeps seeing who it was). Whoever else asks gets 403, whether or not the
//! visitor exists.

use std::collections::HashMap;

use serde::Serialize;

use super::chat_views::NamedAgent;
use super::{require_agent, ServiceError, Services};
use crate::domain::{ChatId, ChatStatus, PageLimit, Principal, Role, SiteId, VisitorId};
use crate::store::page_views::{self, PageViewRow};
use crate::store::visitors::{self, VisitorPageRow};
use crate::store::{chats, ratings, sites, DbConn};
use diesel::QueryResult;

/// A gap between two page views longer than this ends a visit (30 minutes, as web analytics
/// count sessions).
pub const VISIT_GAP_MS: i64 = 30 * 60 * 1000;

/// Most pages "this visit" lists.
pub const MAX_VISIT_PAGES: usize = 50;

/// The site a visitor came through, as agents see it.
#[derive(Debug, Clone, Serialize)]
pub struct SiteRef {
    /// Id.
    pub site_id: SiteId,
    /// Its name.
    pub name: String,
}

/// Who a visitor is, as far as a signed identity says.
#[derive(Debug, Clone, Serialize)]
pub struct VisitorIdentity {
    /// Whether a signed identity of its site vouched for it.
    pub verified: bool,
    /// The site's user id of that customer (`sub`), when verified.
    pub customer_id: Option<String>,
    /// The customer's email, from the identity.
    pub email: Option<String>,
    /// The site whose widget made the visitor, if it said.
    pub site: Option<SiteRef>,
}

/// A visitor in detail, as its profile shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileVisitor {
    /// Id.
    pub visitor_id: VisitorId,
    /// Display name.
    pub name: String,
    /// Who it is.
    #[serde(flatten)]
    pub identity: VisitorIdentity,
    /// The page it is on (last reported).
    pub page_url: Option<String>,
    /// That page's title.
    pub page_title: Option<String>,
    /// Where it came from.
    pub referrer: Option<String>,
    /// Its browser.
    pub user_agent: Option<String>,
    /// Epoch ms when it was made.
    pub first_seen: i64,
    /// Epoch ms of its latest page report.
    pub last_seen_at: Option<i64>,
}

/// A page of this visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VisitedPage {
    /// Its URL.
    pub url: String,
    /// Its title.
    pub title: Option<String>,
    /// Epoch ms the visitor reported it.
    pub at: i64,
}

/// One chat of the visitor, with its rating.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileChat {
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
    /// The agent who served it (last), if any did.
    pub agent: Option<NamedAgent>,
    /// The visitor's rating, 1–5.
    pub score: Option<i32>,
    /// The rating's words.
    pub comment: Option<String>,
}

/// What `GET /api/visitors/{visitor_id}/profile` answers.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    /// The visitor.
    pub visitor: ProfileVisitor,
    /// The pages of this visit, newest first.
    pub pages: Vec<VisitedPage>,
    /// Its chats, newest first, one page of them.
    pub chats: Vec<ProfileChat>,
}

/// Who a visitor is, from its row (reads the site's name when it names one).
pub(crate) fn identity_of(conn: &mut DbConn, row: &VisitorPageRow) -> QueryResult<VisitorIdentity> {
    let site = match row.site_id {
        Some(site_id) => sites::find(conn, site_id)?.map(|site| SiteRef { site_id, name: site.name }),
        None => None,
    };
    Ok(VisitorIdentity {
        verified: row.verified != 0,
        customer_id: row.customer_id.clone(),
        email: row.email.clone(),
        site,
    })
}

/// The pages of this visit out of a visitor's page views, newest first: back from the newest
/// view to the first gap of more than [`VISIT_GAP_MS`] between two views, at most
/// [`MAX_VISIT_PAGES`]. The newest view always belongs to the visit, however old it is.
pub fn this_visit(newest_first: Vec<PageViewRow>) -> Vec<VisitedPage> {
    let mut pages: Vec<VisitedPage> = Vec::new();
    for view in newest_first.into_iter().take(MAX_VISIT_PAGES) {
        if let Some(later) = pages.last() {
            if later.at - view.at > VISIT_GAP_MS {
                break;
            }
        }
        pages.push(VisitedPage { url: view.url, title: view.title, at: view.at });
    }
    pages
}

impl Services {
    /// A visitor's profile: who it is, this visit's pages, one page of its chats (newest first,
    /// after `before`: the previous page's last `created_at` and chat id). Admins, and agents
    /// who are (or were) the agent of one of its chats.
    pub async fn visitor_profile(
        &self,
        principal: &Principal,
        visitor_id: VisitorId,
        before: Option<(i64, String)>,
        limit: PageLimit,
    ) -> Result<Profile, ServiceError> {
        let me = require_agent(principal)?;
        let admin = matches!(principal, Principal::Agent(_, Role::Admin));
        self.store
            .run(move |conn| {
                if !admin && !chats::has_served(conn, me, visitor_id)? {
                    return Err(ServiceError::Forbidden("only an agent of this visitor's chats may see it"));
                }
                let row = visitors::page_of(conn, visitor_id)?.ok_or(ServiceError::VisitorNotFound)?;
                let identity = identity_of(conn, &row)?;
                let pages = this_visit(page_views::newest(conn, visitor_id, MAX_VISIT_PAGES as i64)?);
                let rows = chats::of_visitor_page(conn, visitor_id, before, limit.get())?;
                let chat_ids: Vec<ChatId> = rows.iter().map(|(chat, _)| chat.id).collect();
                let rated: HashMap<_, _> =
                    ratings::of_chats(conn, &chat_ids)?.into_iter().map(|r| (r.chat_id, r)).collect();
                let chats = rows
                    .into_iter()
                    .map(|(chat, agent_name)| {
                        let rating = rated.get(&chat.id);
                        ProfileChat {
                            agent: chat
                                .agent_id
                                .zip(agent_name)
                                .map(|(agent_id, name)| NamedAgent { agent_id, name }),
                            score: rating.map(|r| r.score),
                            comment: rating.and_then(|r| r.comment.clone()),
                            chat_id: chat.id,
                            status: chat.status,
                            created_at: chat.created_at,
                            closed_at: chat.closed_at,
                            close_reason: chat.close_reason,
                        }
                    })
                    .collect();
                let visitor = ProfileVisitor {
                    visitor_id: row.id,
                    name: row.name,
                    identity,
                    page_url: row.page_url,
                    page_title: row.page_title,
                    referrer: row.referrer,
                    user_agent: row.user_agent,
                    first_seen: row.created_at,
                    last_seen_at: row.last_seen_at,
                };
                Ok(Profile { visitor, pages, chats })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(at: i64, url: &str) -> PageViewRow {
        PageViewRow {
            id: at.to_string(),
            visitor_id: VisitorId(uuid::Uuid::nil()),
            url: url.into(),
            title: None,
            at,
        }
    }

    #[test]
    fn a_visit_reaches_back_to_the_first_gap_longer_than_thirty_minutes() {
        let t = 100 * VISIT_GAP_MS;
        let views = vec![
            view(t, "c"),
            view(t - VISIT_GAP_MS, "b"), // exactly 30 minutes: the same visit
            view(t - 2 * VISIT_GAP_MS - 1, "a"), // 30 minutes and 1 ms before "b": an earlier visit
            view(t - 2 * VISIT_GAP_MS - 2, "z"),
        ];
        let urls: Vec<String> = this_visit(views).into_iter().map(|page| page.url).collect();
        assert_eq!(urls, ["c", "b"]);
    }

    #[test]
    fn a_visit_lists_at_most_fifty_pages() {
        let views: Vec<PageViewRow> = (0..60).map(|i| view(1_000_000 - i, "p")).collect();
        assert_eq!(this_visit(views).len(), MAX_VISIT_PAGES);
        assert!(this_visit(Vec::new()).is_empty());
    }
}
