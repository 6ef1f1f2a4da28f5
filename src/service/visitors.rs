//! Visitors: anonymous ones, and those a site's server vouches for (`service::identity`).

use std::collections::HashSet;
use std::net::IpAddr;

use rand::Rng;
use serde::Serialize;

use super::auth::issue_token;
use super::identity::check_identity;
use super::{require_agent, ServiceError, Services};
use crate::domain::{
    now_ms, refuse_nul, Embedding, InvalidInput, PageInfo, Principal, PrincipalKind, SiteId, VisitorId,
};
use crate::store::{page_views, visitors};

/// Most visitors `GET /api/visitors/online` lists.
pub const MAX_ONLINE_LISTED: usize = 500;

/// A visitor on the site now, as agents see it.
#[derive(Debug, Clone, Serialize)]
pub struct OnlineVisitor {
    /// Id.
    pub visitor_id: VisitorId,
    /// Display name.
    pub name: String,
    /// The page it is on.
    pub page_url: Option<String>,
    /// That page's title.
    pub page_title: Option<String>,
    /// Where it came from.
    pub referrer: Option<String>,
    /// Its browser.
    pub user_agent: Option<String>,
    /// Epoch ms when it arrived.
    pub first_seen: i64,
    /// Epoch ms of its latest page report.
    pub last_seen_at: i64,
    /// Milliseconds since it arrived.
    pub on_site_ms: i64,
    /// Whether it has a chat going (queued or open).
    pub in_chat: bool,
    /// Whether a signed identity of its site vouched for it.
    pub verified: bool,
}

/// A visitor just created, with the token to hand out once.
#[derive(Debug, Clone)]
pub struct NewVisitor {
    /// The visitor's id.
    pub visitor_id: VisitorId,
    /// The name agents see.
    pub name: String,
    /// Bearer token.
    pub token: String,
    /// Whether a site's server signed who it is.
    pub verified: bool,
    /// The site's id for the customer it is, when verified.
    pub customer_id: Option<String>,
}

/// Where a new visitor arrives from, as the widget (or an API client) tells it.
#[derive(Debug, Clone, Default)]
pub struct Arrival {
    /// The name the visitor gave, if any.
    pub name: Option<String>,
    /// The page the widget loaded on.
    pub page: Option<PageInfo>,
    /// The browser's user agent.
    pub user_agent: Option<String>,
    /// The client address.
    pub address: Option<IpAddr>,
    /// Where the widget says it runs; `None`: not checked (no widget in a page).
    pub embedding: Option<Embedding>,
    /// The site whose widget this is (`data-site` of the script tag).
    pub site_id: Option<SiteId>,
    /// The identity token the site's server signed (`data-identity`), if any; needs `site_id`.
    pub identity: Option<String>,
}

/// Longest visitor name, in characters.
pub const MAX_VISITOR_NAME_CHARS: usize = 64;

/// A visitor's display name: given (1–64 characters, trimmed, no NUL nor other control
/// character) or `Visitor NNNN`.
pub fn visitor_name(given: Option<&str>) -> Result<String, InvalidInput> {
    if let Some(name) = given {
        refuse_nul(name, "name")?;
    }
    match given.map(str::trim) {
        None | Some("") => Ok(format!("Visitor {:04}", rand::thread_rng().gen_range(0..10_000))),
        Some(name) if name.chars().count() > MAX_VISITOR_NAME_CHARS => {
            Err(InvalidInput::new("name", "must be at most 64 characters"))
        }
        Some(name) if name.chars().any(char::is_control) => {
            Err(InvalidInput::new("name", "must not hold control characters"))
        }
        Some(name) => Ok(name.to_string()),
    }
}

impl Services {
    /// Creates an anonymous visitor and its token.
    pub async fn create_visitor(&self, name: Option<&str>) -> Result<NewVisitor, ServiceError> {
        self.admit_visitor(Arrival { name: name.map(str::to_string), ..Arrival::default() }).await
    }

    /// Creates a visitor and its token, recording the page the widget loaded on, the
    /// browser's user agent, the client address and the site when given. A banned address is
    /// refused, so is a widget embedded in a site it may not run in (see
    /// [`Services::check_embedding`]), and so is an unknown site (`SiteNotFound`). With an
    /// identity the site's server signed, the visitor is that customer's one visitor (see
    /// `Services::admit_customer`): a bad identity is `IdentityInvalid` and makes nobody;
    /// without one, a site that requires verified visitors refuses (`VerificationRequired`).
    pub async fn admit_visitor(&self, arrival: Arrival) -> Result<NewVisitor, ServiceError> {
        if let Some(address) = arrival.address {
            self.refuse_banned_address(address)?;
        }
        if let Some(embedding) = &arrival.embedding {
            self.check_embedding(embedding)?;
        }
        let name = visitor_name(arrival.name.as_deref())?;
        let identity = arrival.identity.filter(|token| !token.is_empty());
        let site = match arrival.site_id {
            Some(site_id) => Some(self.site_row(site_id).await?),
            None if identity.is_some() => {
                return Err(InvalidInput::new(
                    "site_id",
                    "is required with identity: the site that signed it",
                )
                .into())
            }
            None => None,
        };
        let now = now_ms();
        let visited = arrival.page.clone();
        let page = page_update(arrival.page, arrival.user_agent, arrival.address, now);
        if let Some(site) = &site {
            if let Some(embedding) = &arrival.embedding {
                self.check_site_embedding(site, embedding)?;
            }
            match identity {
                Some(token) => {
                    let secret = self.site_secret(site).await?;
                    let identity = check_identity(&token, site.id, &secret)?;
                    return self.admit_customer(site.id, identity, name, page, visited).await;
                }
                None if site.require_verified != 0 => return Err(ServiceError::VerificationRequired),
                None => {}
            }
        }
        let visitor_id = VisitorId::new();
        let ttl = self.settings.auth.visitor_token_ttl_hours;
        let row = visitors::VisitorRow {
            id: visitor_id,
            name: name.clone(),
            created_at: now,
            site_id: arrival.site_id,
        };
        let view = visited.as_ref().map(|page| page_view(visitor_id, page, now));
        let token = self
            .store
            .write(move |conn| {
                visitors::insert(conn, &row)?;
                visitors::set_page(conn, row.id, &page)?;
                if let Some(view) = &view {
                    page_views::insert(conn, view)?;
                }
                Ok::<_, ServiceError>(issue_token(conn, PrincipalKind::Visitor, visitor_id.0, ttl)?)
            })
            .await?;
        Ok(NewVisitor { visitor_id, name, token, verified: false, customer_id: None })
    }

    /// Refuses a widget that says it runs in a page of a site outside `cors.allowed_origins`
    /// and every registered site's origins (unless that page is this server's own); a widget
    /// that names its site is also held to that site's origins
    /// ([`Services::check_site_embedding`]). The frame's Content-Security-Policy keeps
    /// browsers from showing the widget there; this keeps a visitor from being made there by a
    /// browser that ignores the policy. A client that sends no `embed_origin` is no widget in a
    /// page and is not checked.
    pub fn check_embedding(&self, embedding: &Embedding) -> Result<(), ServiceError> {
        if self.allowed_origins.admits(embedding) || self.site_origins.admits(&embedding.origin) {
            Ok(())
        } else {
            Err(ServiceError::OriginNotAllowed)
        }
    }

    /// A visitor navigated: records the page it is on now (and its user agent, when sent, and
    /// the address it came from), and adds it to the visitor's page views.
    pub async fn record_page(
        &self,
        principal: &Principal,
        page: PageInfo,
        user_agent: Option<String>,
        address: Option<IpAddr>,
    ) -> Result<(), ServiceError> {
        let Principal::Visitor(visitor_id) = *principal else {
            return Err(ServiceError::Forbidden("only visitors report the page they are on"));
        };
        let now = now_ms();
        let view = page_view(visitor_id, &page, now);
        let update = page_update(Some(page), user_agent, address, now);
        self.store
            .write(move |conn| {
                let found = visitors::set_page(conn, visitor_id, &update)?;
                // A token outlives nothing it names; a missing visitor means a bad token.
                if !found {
                    return Err(ServiceError::Unauthorized);
                }
                page_views::insert(conn, &view)?;
                Ok(())
            })
            .await
    }

    /// The visitors present on this node now (holding or recently holding a poll), newest
    /// activity first, at most [`MAX_ONLINE_LISTED`]. Agents and admins only.
    pub async fn online_visitors(&self, principal: &Principal) -> Result<Vec<OnlineVisitor>, ServiceError> {
        require_agent(principal)?;
        let present = self.present_visitors().await?;
        if present.is_empty() {
            return Ok(Vec::new());
        }
        let (rows, in_chat) = self
            .store
            .run(move |conn| {
                let (mut rows, mut in_chat) = (Vec::new(), HashSet::new());
                // In slices, so that a crowded site stays under every backend's bind limit.
                for ids in present.chunks(1000) {
                    rows.extend(visitors::pages_of(conn, ids)?);
                    in_chat.extend(visitors::with_live_chat(conn, ids)?);
                }
                Ok::<_, ServiceError>((rows, in_chat))
            })
            .await?;
        let now = now_ms();
        let mut listed: Vec<OnlineVisitor> = rows
            .into_iter()
            .map(|row| OnlineVisitor {
                in_chat: in_chat.contains(&row.id),
                verified: row.verified != 0,
                last_seen_at: row.last_seen_at.unwrap_or(row.created_at),
                on_site_ms: now.saturating_sub(row.created_at).max(0),
                first_seen: row.created_at,
                visitor_id: row.id,
                name: row.name,
                page_url: row.page_url,
                page_title: row.page_title,
                referrer: row.referrer,
                user_agent: row.user_agent,
            })
            .collect();
        listed.sort_by(|a, b| {
            (b.last_seen_at, b.first_seen, &b.visitor_id).cmp(&(a.last_seen_at, a.first_seen, &a.visitor_id))
        });
        listed.truncate(MAX_ONLINE_LISTED);
        Ok(listed)
    }
}

/// The page view a page report adds.
pub(crate) fn page_view(visitor_id: VisitorId, page: &PageInfo, now: i64) -> page_views::PageViewRow {
    page_views::PageViewRow {
        id: uuid::Uuid::new_v4().to_string(),
        visitor_id,
        url: page.url.clone(),
        title: page.title.clone(),
        at: now,
    }
}

/// The columns a page report writes. The title belongs to the page and is replaced (cleared
/// when the new page has none); an absent referrer or user agent keeps what was stored, so the
/// site the visitor first came from is not lost on navigation.
fn page_update(
    page: Option<PageInfo>,
    user_agent: Option<String>,
    address: Option<IpAddr>,
    now: i64,
) -> visitors::PageUpdate {
    let (page_url, page_title, referrer) = match page {
        Some(page) => (Some(page.url), Some(page.title), page.referrer),
        None => (None, None, None),
    };
    let last_ip = address.map(|ip| crate::domain::BannedAddress::from_ip(ip).to_string());
    visitors::PageUpdate { page_url, page_title, referrer, user_agent, last_seen_at: now, last_ip }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_name_becomes_a_numbered_visitor() {
        let name = visitor_name(None).expect("default name");
        assert!(name.starts_with("Visitor "), "{name}");
    }

    #[test]
    fn a_long_or_control_name_is_refused() {
        assert!(visitor_name(Some(&"x".repeat(65))).is_err());
        assert!(visitor_name(Some("a\u{7}b")).is_err());
        assert_eq!(visitor_name(Some("a\0b")).map_err(|e| e.field), Err("name"));
        assert_eq!(visitor_name(Some("  Ann ")), Ok("Ann".to_string()));
    }
}
