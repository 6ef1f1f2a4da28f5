//! Ids and parsed values. Every value that comes from outside is parsed into one of these types
//! once, at the edge; code behind the edge never re-checks it. Depends on nothing in the crate.

mod address_list;
mod agent_status;
mod ban;
mod canned;
mod chat_status;
mod client_msg_id;
mod contact;
mod cursor;
mod customer;
mod data_subject;
mod digest;
mod employee_id;
mod event;
mod ids;
mod integration;
mod lang;
mod message_body;
mod origin;
mod page_info;
mod paging;
mod prechat;
mod rating;
mod site;
mod text;
mod time;
mod webhook;

pub use address_list::{canonical_ip, AddressList};
pub use agent_status::AgentStatus;
pub use ban::{BanDuration, BanReason, BannedAddress, MAX_BAN_REASON_CHARS};
pub use canned::{CannedScope, Shortcut, MAX_SHORTCUT_CHARS};
pub use chat_status::ChatStatus;
pub use client_msg_id::{ClientMsgId, TabId};
pub use contact::{ContactName, Email};
pub use cursor::Cursor;
pub use customer::CustomerId;
pub use data_subject::DataSubject;
pub use digest::digest64;
pub use employee_id::EmployeeId;
pub use event::{AgentRef, Audience, CloseReason, Event, EventPayload, EventRecord, Sender};
pub use ids::{parse_uuid, AgentId, ChatId, Principal, PrincipalKind, Role, SiteId, VisitorId};
pub use integration::{FeedCursor, KeyName, Scope, Scopes};
pub use lang::Lang;
pub use message_body::MessageBody;
pub use origin::{AllowedOrigins, Embedding, Origin};
pub use page_info::{user_agent, PageInfo, MAX_TITLE_CHARS, MAX_URL_CHARS};
pub use paging::{parse_non_negative, PageLimit};
pub use prechat::{KnownVisitor, PrechatAnswer, PrechatAnswers, PrechatField, PrechatForm, PrechatType};
pub use rating::{RatingComment, Score};
pub use site::{Color, Greeting, SiteName, SiteOrigins};
pub use text::refuse_nul;
pub use time::now_ms;
pub use webhook::{
    is_public_address, WebhookEvents, WebhookSecret, WebhookUrl, MAX_SECRET_CHARS, WEBHOOK_EVENT_TYPES,
};

/// Why an input value was refused; the HTTP layer turns it into a 400 naming `field`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidInput {
    /// The request field at fault.
    pub field: &'static str,
    /// A human sentence saying what is wrong.
    pub reason: String,
}

impl InvalidInput {
    /// Builds the error for `field`.
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self { field, reason: reason.into() }
    }
}
