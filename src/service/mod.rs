//! The rules of Switchboard: who may do what, in which order things are stored and published.
//! Uses the store (truth), the hub (live state) and the domain types; knows nothing of HTTP.
//!
//! The one rule every write follows: store first, in one transaction, then publish the stored
//! events to the hub. A poll therefore never sees an event the store could lose, and a crash
//! between the two only delays delivery (the next poll reads the store).

pub mod agents;
pub mod announcements;
pub mod auth;
pub mod ban_list;
pub mod bans;
pub mod canned_replies;
mod capacity;
mod chat_rows;
pub mod chat_views;
pub mod chats;
pub mod customer;
pub mod data_rights;
pub mod email;
mod error;
pub mod feed;
pub mod feed_reader;
pub mod handover;
pub mod identity;
pub mod integration_keys;
pub mod live;
pub mod local_changes;
pub mod messages;
pub mod offline_messages;
pub mod outbox;
pub mod passwords;
pub mod poll;
pub mod prechat;
pub mod presence;
mod queue;
pub mod ratings;
pub mod readiness;
pub mod relay;
pub mod sender_names;
pub mod setup;
pub mod site_origins;
pub mod site_secrets;
pub mod sites;
pub mod timers;
pub mod token_cache;
pub mod transcripts;
pub mod visitor_me;
pub mod visitors;
pub mod vitals;
pub mod webhooks;

use std::sync::Arc;

use ban_list::BanList;
pub use error::ServiceError;
use relay::Relay;
use sender_names::SenderNames;
use token_cache::TokenCache;

use crate::broker::Broker;
use crate::config::Settings;
use crate::domain::{AgentId, AllowedOrigins, Event, Principal, Role};
use crate::hub::{ChatMeta, Hub, QuietMark};
use crate::pool::BoundedPool;
use crate::store::chats::ChatRow;
use crate::store::messages::{Appended, MessageRow};
use crate::store::{DbConn, Store};

/// Everything a request handler needs; built once at start and shared.
#[derive(Clone)]
pub struct Services {
    /// The durable store.
    pub store: Store,
    /// This node's live state.
    pub hub: Arc<Hub>,
    /// The settings the server started with.
    pub settings: Arc<Settings>,
    /// Who holds which token, so requests are authenticated without a store read.
    pub tokens: Arc<TokenCache>,
    /// Where stored events and notices go: this node's hub and, through the broker, the others.
    pub relay: Relay,
    /// Senders' display names, so a message is written without reading its sender's row.
    pub sender_names: Arc<SenderNames>,
    /// The bans in force, so a visitor's request is checked without a store read.
    pub bans: Arc<BanList>,
    /// `cors.allowed_origins`, parsed once: the sites the widget may run in.
    pub allowed_origins: Arc<AllowedOrigins>,
    /// The threads that hash and check passwords (`auth.hashing_threads`): argon2 takes 19 MiB
    /// per hash in flight, so only a few run at once, and a full queue is a quick 503.
    pub(crate) hashing: BoundedPool,
    /// Notified after a write added outbox rows, so the outbox sender need not wait for its
    /// next round (`service::outbox`).
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// The key sites' signing secrets are sealed with (`[sites]`, `service::site_secrets`).
    pub site_key: Arc<site_secrets::SiteKeyCell>,
    /// The registered sites' origins, where the widget may run beside `allowed_origins`
    /// (`service::site_origins`), so checking one costs no store read.
    pub site_origins: Arc<site_origins::SiteOriginSet>,
}

/// What a write transaction stored in one chat: the chat row after it, and the new events.
pub(crate) struct Stored {
    /// The chat as committed.
    pub row: ChatRow,
    /// Its new events, in seq order.
    pub events: Vec<Event>,
}

impl Services {
    /// The services over this store, hub, token cache and broker; fails only when the
    /// password hashing threads cannot be started or the site key cannot be had.
    pub fn new(
        store: Store,
        hub: Arc<Hub>,
        tokens: Arc<TokenCache>,
        broker: Broker,
        settings: Settings,
    ) -> std::io::Result<Self> {
        let relay = Relay::new(Arc::clone(&hub), Arc::clone(&tokens), broker);
        // `Application::build` refuses a bad allowlist before it gets here; the CLI, which never
        // checks where a widget runs, would get an empty one: nobody, never everybody.
        let allowed_origins = Arc::new(settings.cors.allowlist().unwrap_or_default());
        let site_key =
            Arc::new(site_secrets::SiteKeyCell::new(&settings.sites).map_err(std::io::Error::other)?);
        let hashing =
            BoundedPool::start("hashing", settings.auth.hashing_threads, settings.auth.hashing_queue)?;
        let sender_names = Arc::new(SenderNames::new(std::time::Duration::from_secs(
            settings.auth.agent_token_recheck_secs,
        )));
        Ok(Self {
            store,
            hub,
            settings: Arc::new(settings),
            tokens,
            relay,
            sender_names,
            bans: Arc::new(BanList::new()),
            allowed_origins,
            hashing,
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
            site_key,
            site_origins: Arc::new(site_origins::SiteOriginSet::new()),
        })
    }

    /// Runs `work` as one write (see [`Store::write`]) and publishes what it stored (to this
    /// node's hub and the other nodes) on the writer thread, right after the commit.
    /// Publishing there (not in the request's future) matters: actix drops a request future whose client went away, and a commit
    /// whose publish was dropped would stay invisible to polls that trust memory.
    pub(crate) async fn write_chat<T, F>(&self, work: F) -> Result<T, ServiceError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<(T, Vec<Stored>), ServiceError> + Send + 'static,
    {
        self.write_chat_then(work, |_, _| {}).await
    }

    /// Like [`Services::write_chat`], then runs `after` on the same thread once the events are
    /// published: for what must also survive a dropped request, such as a notice.
    pub(crate) async fn write_chat_then<T, F, A>(&self, work: F, after: A) -> Result<T, ServiceError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<(T, Vec<Stored>), ServiceError> + Send + 'static,
        A: FnOnce(&Relay, &T) + Send + 'static,
    {
        let (work, publish) = self.publishing(work, after);
        let (value, _) = self.store.write_then(work, publish).await?;
        Ok(value)
    }

    /// Appends message `row` from `member` (see [`Store::append_then`]: appends waiting
    /// together are stored together), then runs `work` with what the append did, in the same
    /// transaction and without a savepoint, and publishes what `work` hands over as
    /// [`Services::write_chat`] does — without waking the tab `quiet` marks (`hub::quiet`).
    pub(crate) async fn append_message<T, F>(
        &self,
        member: Principal,
        row: MessageRow,
        quiet: Option<QuietMark>,
        work: F,
    ) -> Result<T, ServiceError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn, Appended, MessageRow) -> Result<(T, Vec<Stored>), ServiceError>
            + Send
            + 'static,
    {
        let work = move |conn: &mut DbConn, appended, row| work(conn, appended, row).map(for_the_hub);
        let (value, _) = self.store.append_then(member, row, work, self.publisher(quiet, |_, _| {})).await?;
        Ok(value)
    }

    /// `work` made to hand over what the hub keeps, and what publishes it after the commit.
    #[allow(clippy::type_complexity)]
    fn publishing<T, F, A>(
        &self,
        work: F,
        after: A,
    ) -> (
        impl FnOnce(&mut DbConn) -> Result<(T, Published), ServiceError> + Send + 'static,
        impl FnOnce(&(T, Published)) + Send + 'static,
    )
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<(T, Vec<Stored>), ServiceError> + Send + 'static,
        A: FnOnce(&Relay, &T) + Send + 'static,
    {
        (move |conn: &mut DbConn| work(conn).map(for_the_hub), self.publisher(None, after))
    }

    /// Publishes what a write handed over once it is committed, then runs `after`.
    fn publisher<T, A>(
        &self,
        quiet: Option<QuietMark>,
        after: A,
    ) -> impl FnOnce(&(T, Published)) + Send + 'static
    where
        A: FnOnce(&Relay, &T) + Send + 'static,
    {
        let relay = self.relay.clone();
        move |(value, published): &(T, Published)| {
            for (meta, events) in published {
                relay.publish(meta, events, quiet);
            }
            after(&relay, value);
        }
    }
}

/// What a write stored, read into what the hub keeps before the commit, so that publishing
/// cannot fail.
fn for_the_hub<T>((value, stored): (T, Vec<Stored>)) -> (T, Published) {
    (value, stored.into_iter().map(|chat| (chat_meta(&chat.row), chat.events)).collect())
}

/// What a write publishes once committed: per chat, what the hub keeps and the new events.
type Published = Vec<(ChatMeta, Vec<Event>)>;

/// The agent behind `principal`, or 403 for visitors.
pub fn require_agent(principal: &Principal) -> Result<AgentId, ServiceError> {
    match principal {
        Principal::Agent(id, _) => Ok(*id),
        Principal::Visitor(_) => Err(ServiceError::Forbidden("only agents may do this")),
    }
}

/// The admin behind `principal`, or 403 for visitors and plain agents.
pub fn require_admin(principal: &Principal) -> Result<AgentId, ServiceError> {
    match principal {
        Principal::Agent(id, Role::Admin) => Ok(*id),
        _ => Err(ServiceError::Forbidden("only admins may do this")),
    }
}

/// Reads a chat row into what the hub keeps.
pub(crate) fn chat_meta(row: &ChatRow) -> ChatMeta {
    ChatMeta {
        chat_id: row.id,
        visitor: row.visitor_id,
        agent: row.agent_id,
        status: row.status,
        last_seq: row.last_seq,
    }
}
