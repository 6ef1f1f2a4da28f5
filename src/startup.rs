//! Building and running the server: `Application::build(settings)` binds its own listener
//! (port 0 picks a free one, which is how tests run real servers side by side) and reports the
//! port; `run_until_stopped` serves until a [`ShutdownHandle`] stops it.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::{Extensions, Server, ServerHandle};
use actix_web::middleware::{from_fn, Condition, DefaultHeaders};
use actix_web::{http, web, App};
use tokio::net::TcpStream;

use crate::broker::{Broker, BrokerError};
use crate::config::{BrokerKind, ConfigError, Settings};
use crate::domain::{AllowedOrigins, Origin};
use crate::guard::Guard;
use crate::http::client_ip::TrustedProxies;
use crate::http::own_origin::{is_same_origin_request, OwnOrigin};
use crate::http::FrontEnds;
use crate::hub::{Hub, HubSettings};
use crate::limits::Limits;
use crate::service::email::EmailCourier;
use crate::service::outbox::{Courier, OutboxSender, SenderSettings};
use crate::service::relay::inbound_handler;
use crate::service::site_origins::SiteOriginSet;
use crate::service::token_cache::TokenCache;
use crate::service::webhooks::courier::WebhookCourier;
use crate::service::Services;
use crate::store::{Store, StoreOpenError};
use crate::transport::Transport;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The store could not be opened or migrated.
    #[error(transparent)]
    Store(#[from] StoreOpenError),
    /// The broker could not be set up.
    #[error(transparent)]
    Broker(#[from] BrokerError),
    /// A setting is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The ban list could not be read.
    #[error("cannot read the ban list: {0}")]
    Bans(#[from] crate::store::StoreError),
    /// The sites' origins could not be read.
    #[error("cannot read the sites' origins: {0}")]
    Sites(crate::store::StoreError),
    /// The listener could not be bound.
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
}

/// A built, bound, not yet running server.
pub struct Application {
    port: u16,
    services: Services,
    server: Server,
    shutdown: ShutdownHandle,
    limits: Limits,
}

/// Stops a running server: answers every held poll at once, then lets actix finish in-flight
/// requests for at most `server.shutdown_timeout_secs`.
#[derive(Clone)]
pub struct ShutdownHandle {
    hub: Arc<Hub>,
    server: ServerHandle,
}

impl ShutdownHandle {
    /// Stops the server; returns once it has stopped.
    pub async fn shutdown(&self) {
        self.hub.shut_down();
        self.server.stop(true).await;
    }
}

impl Application {
    /// Opens the store (migrating it), binds the listener and prepares the server.
    pub async fn build(mut settings: Settings) -> Result<Self, StartupError> {
        // A body limit too small for the field limits is refused before the store is touched.
        settings.server.max_body_bytes =
            crate::http::body_limit::resolve(&settings).map_err(ConfigError::Value)?;
        let mut store_settings = settings.store.clone();
        if store_settings.max_write_batch == 0 && settings.broker.kind == BrokerKind::Redis {
            // Several nodes write to one PostgreSQL: a batch would hold the row locks of all
            // its writes until it commits, and two nodes' batches lock the same chats in
            // opposite orders. Measured on three nodes: 22 msg/s batched, 920 one by one.
            store_settings.max_write_batch = 1;
        }
        let store = tokio::task::spawn_blocking(move || Store::open(&store_settings))
            .await
            .map_err(|e| StartupError::Listen(std::io::Error::other(e)))??;
        Self::build_with_store(settings, store)
    }

    /// Like [`Application::build`], on a store that is already open.
    pub fn build_with_store(mut settings: Settings, store: Store) -> Result<Self, StartupError> {
        // `0` becomes the limit in force (the services read it); too small is refused.
        settings.server.max_body_bytes =
            crate::http::body_limit::resolve(&settings).map_err(ConfigError::Value)?;
        let server_settings = &settings.server;
        // Refused before anything starts (the services read the same allowlist).
        let allowlist = settings.cors.allowlist()?;
        let public_origin = server_settings.public_origin()?;
        // Installed before anything is counted, so the first scrape sees all of it.
        crate::metrics::recorder();
        let limits = Limits::for_this_process(
            server_settings.max_connections,
            server_settings.max_held_polls,
            settings.store.pool_size,
        );
        let hold_max = Duration::from_secs(settings.poll.max_hold_secs);
        let hub = Hub::new(HubSettings {
            ring_capacity: settings.chat.queue_capacity,
            max_held_polls: limits.max_held_polls,
            presence_lease: Duration::from_secs(settings.presence.lease_secs),
            presence_grace: Duration::from_secs(settings.presence.grace_secs),
            closed_chat_retention: hold_max * 2 + Duration::from_secs(10),
            idle_retention: Duration::from_secs(600),
            notice_ttl: Duration::from_secs(30),
        });
        let workers = match server_settings.workers {
            0 => std::thread::available_parallelism().map_or(2, usize::from),
            n => n,
        };
        let listener = TcpListener::bind((server_settings.host.as_str(), server_settings.port))?;
        let port = listener.local_addr()?.port();
        let tokens = Arc::new(TokenCache::for_settings(&settings.auth));
        let broker = Broker::start(&settings.broker, inbound_handler(Arc::clone(&hub), Arc::clone(&tokens)))?;
        let shared = Services::new(store, Arc::clone(&hub), tokens, broker, settings.clone())?;
        // Before the first request: a banned visitor is refused from the start.
        shared.load_bans_blocking()?;
        // Likewise: a registered site's pages may run the widget from the start.
        shared.load_site_origins_blocking().map_err(StartupError::Sites)?;
        let site_origins = Arc::clone(&shared.site_origins);
        let services = web::Data::new(shared.clone());
        let trusted_proxies = web::Data::new(TrustedProxies::new(settings.server.trusted_proxies.clone()));
        let guard = web::Data::new(Guard::new(&settings));
        let connection_guard = guard.clone();
        let sweeper_guard = guard.clone();
        let own_origin =
            web::Data::new(OwnOrigin::new(public_origin, settings.server.trusted_proxies.clone()));
        let front_ends = FrontEnds::new(
            std::path::PathBuf::from(&settings.server.public_dir),
            Arc::new(allowlist.clone()),
            Arc::clone(&site_origins),
        );
        // The access log (`logging::request`); when RUST_LOG leaves it out, it is not mounted.
        let log_requests = crate::logging::request::enabled();
        let transport = Transport {
            workers,
            max_connections_per_worker: limits.max_connections.div_ceil(workers),
            client_request_timeout: Duration::from_secs(settings.server.client_request_timeout_secs),
            shutdown_timeout_secs: settings.server.shutdown_timeout_secs,
        };
        // Counts the connection for its address (its slot goes into the requests' extensions).
        let on_connect = move |connection: &TcpStream, extensions: &mut Extensions| {
            let peer = connection.peer_addr().ok();
            if let Some(slot) = peer.and_then(|peer| connection_guard.connection_opened(peer.ip())) {
                extensions.insert(slot);
            }
        };
        let server = crate::transport::serve(listener, transport, on_connect, move || {
            App::new()
                .app_data(services.clone())
                .app_data(trusted_proxies.clone())
                .app_data(own_origin.clone())
                .app_data(guard.clone())
                // Inside CORS: a refused cross-origin widget can still read the 429.
                .wrap(crate::guard::middleware::LimitRequests)
                .wrap(cors(&allowlist, own_origin.get_ref().clone(), Arc::clone(&site_origins)))
                .wrap(crate::http::error_envelope())
                // API answers are per caller and change every moment; a response that sets its
                // own (the poll's stricter set, the front ends' no-cache) keeps it.
                // No answer is ever sniffed into another type (a JSON error rendered as HTML).
                .wrap(
                    DefaultHeaders::new()
                        .add((http::header::CACHE_CONTROL, "no-store"))
                        .add((http::header::X_CONTENT_TYPE_OPTIONS, "nosniff")),
                )
                .wrap(Condition::new(log_requests, from_fn(crate::logging::request::log_requests)))
                .configure(|cfg| crate::http::configure(cfg, &front_ends))
        })?;
        spawn_sweeper(shared.clone(), sweeper_guard);
        spawn_timers(shared.clone());
        spawn_ban_reload(shared.clone());
        spawn_site_origins_reload(shared.clone());
        spawn_outbox(shared.clone());
        spawn_retention(shared.clone());
        let renewer = shared.clone();
        tokio::spawn(async move { renewer.renew_presence_forever().await });
        log::info!(
            "listening on {}:{port}; {} descriptors allow {} connections and {} held polls",
            settings.server.host,
            limits.descriptors,
            limits.max_connections,
            limits.max_held_polls
        );
        let shutdown = ShutdownHandle { hub, server: server.handle() };
        Ok(Self { port, services: shared, server, shutdown, limits })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The services the routes call (for the CLI, tests and embedding).
    pub fn services(&self) -> Services {
        self.services.clone()
    }

    /// The caps in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// A handle that stops the server.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// Serves until stopped.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Cross-origin calls from the allowlisted sites and the registered sites' origins (looked up
/// at each request, so a site made or changed counts without a restart). A page of this server itself (`/demo/`, the
/// console) is always allowed, whatever host and port it is reached by: the browser says so
/// (`Sec-Fetch-Site: same-origin`), or its `Origin` is this server's own (see
/// `http::own_origin`; not the `Host` header alone, which a proxy in front may rewrite).
fn cors(allowed: &AllowedOrigins, own_origin: OwnOrigin, sites: Arc<SiteOriginSet>) -> Cors {
    let cors = Cors::default()
        .allowed_methods(vec!["GET", "POST"])
        .allowed_headers(vec![http::header::AUTHORIZATION, http::header::CONTENT_TYPE])
        // The widget backs off by it after a 503 or 429; a cross-origin page can only read it
        // when it is exposed.
        .expose_headers(vec![http::header::RETRY_AFTER])
        .max_age(3600)
        // A text/plain POST needs no preflight, so without this a refused site's request would
        // still run (the browser would only hide the answer). Refused means nothing happens.
        .block_on_origin_mismatch(true);
    let AllowedOrigins::Only(origins) = allowed else {
        // actix-cors ignores `allow_any_origin` once an origin function is set: one or the other.
        return cors.allow_any_origin();
    };
    let mut cors = cors.allowed_origin_fn(move |origin, request| {
        is_same_origin_request(request)
            || origin.to_str().ok().and_then(|origin| Origin::parse(origin, "origin").ok()).is_some_and(
                |origin| own_origin.of(request).is_some_and(|own| own == origin) || sites.admits(&origin),
            )
    });
    for origin in origins {
        cors = cors.allowed_origin(origin.as_str());
    }
    cors
}

/// Runs `round` every `period` (a late round is not made up for) until the node stops.
fn spawn_every<F, R>(services: Services, period: Duration, mut round: F)
where
    F: FnMut(Services) -> R + Send + 'static,
    R: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if services.hub.is_shutting_down() {
                break;
            }
            round(services.clone()).await;
        }
    });
}

/// Ends chats whose time is up (inactivity, visitor gone) and hands back the chats of agents
/// who are gone; see `service::timers`.
fn spawn_timers(services: Services) {
    let every = Duration::from_millis(services.settings.chat.timer_interval_ms.max(50));
    spawn_every(services, every, |services| async move {
        if let Err(error) = services.run_timers().await {
            log::warn!("chat timers failed this round: {error}");
        }
    });
}

/// The couriers of the outbox's channels that this node's settings turn on (see
/// `service::outbox`).
fn couriers(services: &Services) -> Vec<Arc<dyn Courier>> {
    let mut couriers: Vec<Arc<dyn Courier>> = Vec::new();
    match EmailCourier::new(&services.settings.email, services.store.clone()) {
        Ok(Some(email)) => couriers.push(email),
        Ok(None) => {}
        Err(error) => log::error!("email is configured but cannot be sent: {error}"),
    }
    // Webhook endpoints live in the store, so the courier always runs: without rows it costs one
    // claim a second.
    match WebhookCourier::new(services.clone()) {
        Ok(courier) => couriers.push(Arc::new(courier)),
        Err(error) => log::error!("webhooks: no HTTP client, no calls will be made: {error}"),
    }
    couriers
}

/// Works through the outbox (emails, webhook calls) until the node stops; nothing runs while no
/// channel is configured.
fn spawn_outbox(services: Services) {
    let sender = OutboxSender::new(
        services.store.clone(),
        couriers(&services),
        SenderSettings {
            lease: Duration::from_secs(services.settings.outbox.lease_secs),
            ..SenderSettings::default()
        },
        Arc::clone(&services.outbox_wake),
    );
    if sender.is_idle() {
        return;
    }
    let hub = Arc::clone(&services.hub);
    tokio::spawn(sender.run(move || hub.is_shutting_down()));
}

/// Deletes closed chats and inactive visitors older than `[retention]` says, every
/// `interval_secs` (see `service::data_rights`); nothing runs while both are 0 (keep forever).
fn spawn_retention(services: Services) {
    let settings = &services.settings.retention;
    if settings.closed_chat_days == 0 && settings.inactive_visitor_days == 0 {
        return;
    }
    let every = Duration::from_secs(settings.interval_secs.max(1));
    spawn_every(services, every, |services| async move {
        match services.purge_retention(crate::domain::now_ms()).await {
            Ok(purged) if purged.old_chats.chats + purged.inactive_visitors.visitors > 0 => log::info!(
                "retention: {} old chats and {} inactive visitors deleted in {} batches",
                purged.old_chats.chats,
                purged.inactive_visitors.visitors,
                purged.batches
            ),
            Ok(_) => {}
            Err(error) => log::warn!("retention: this run failed: {error}"),
        }
    });
}

/// Reads the bans in force from the store again (other nodes' bans and lifts, expiries).
fn spawn_ban_reload(services: Services) {
    spawn_every(services, crate::service::bans::RELOAD_EVERY, |services| async move {
        if let Err(error) = services.reload_bans().await {
            log::warn!("ban list: reload failed, keeping the one in memory: {error}");
        }
    });
}

/// Reads the sites' origins from the store again (other nodes' new, changed, deleted sites).
fn spawn_site_origins_reload(services: Services) {
    spawn_every(services, crate::service::site_origins::RELOAD_EVERY, |services| async move {
        if let Err(error) = services.reload_site_origins().await {
            log::warn!("sites' origins: reload failed, keeping those in memory: {error}");
        }
    });
}

/// Drops from memory what the store already has and no poll needs (see `Hub::sweep`), the
/// tokens nobody used lately (see `service::token_cache`), the senders' names no longer trusted
/// (`service::sender_names`), and the abuse limits' state that
/// no longer limits anyone; and folds recorded histogram samples into their buckets.
fn spawn_sweeper(services: Services, guard: web::Data<Guard>) {
    spawn_every(services, Duration::from_secs(5), move |services| {
        services.hub.sweep();
        services.tokens.sweep(crate::domain::now_ms());
        services.sender_names.sweep();
        guard.sweep();
        // The recorder keeps histogram samples until they are folded into buckets; without
        // a scrape nothing would fold them and they would pile up.
        crate::metrics::recorder().run_upkeep();
        std::future::ready(())
    });
}
