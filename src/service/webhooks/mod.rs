//! Webhooks: admins register endpoints (URL, secret, event types) and each event of the feed
//! they hear is POSTed to them, signed, at least once.
//!
//! Rules:
//! - admins only (anyone else 403); an unknown endpoint is 404 `webhook_not_found`;
//! - a URL is `http` or `https`; unless `webhooks.allow_private_targets`, one whose host is (or
//!   resolves to) a loopback, private, link-local or other non-public address is refused when
//!   registered, and again at each call ([`targets`]), since DNS may change;
//! - the outbox row of a call is written by the store in the transaction of its event (the
//!   `feed_webhooks` trigger, for the endpoints enabled then); [`courier::WebhookCourier`]
//!   sends it with retries and backoff for `webhooks.retry_for_secs`;
//! - an endpoint whose calls failed `webhooks.disable_after_failures` times in a row, or one of
//!   whose calls ran out of retries, is disabled with the reason; the calls still owed to a
//!   disabled (or deleted) endpoint are not made, and are marked failed;
//! - an admin sees each endpoint's deliveries (state, tries, last answer code and error) and may
//!   send one again (same event id: a receiver that took it already drops it).

pub mod courier;
pub mod signature;
pub mod targets;

use rand::RngCore;
use serde::Serialize;
use uuid::Uuid;

use super::{ServiceError, Services};
use crate::domain::{now_ms, PageLimit, WebhookEvents, WebhookSecret, WebhookUrl};
use crate::store::outbox;
use crate::store::webhooks::{self, EndpointRow};

/// Most endpoints a server keeps.
pub const MAX_ENDPOINTS: i64 = 50;

/// An endpoint as the admin pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointView {
    /// Its id.
    pub webhook_id: String,
    /// Where calls go.
    pub url: String,
    /// The key of each call's signature (admins only see it).
    pub secret: String,
    /// The event types it hears.
    pub events: Vec<String>,
    /// Whether calls are made to it.
    pub enabled: bool,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// Failed tries since the last delivered call.
    pub consecutive_failures: i32,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms of the last change.
    pub updated_at: i64,
}

/// One delivery in an endpoint's log.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryView {
    /// The event's id: the call's `Webhook-Id`, the body's `id`.
    pub event_id: Option<i64>,
    /// The event's type.
    pub event_type: Option<String>,
    /// `pending` (owed, maybe being retried), `sent` or `failed`.
    pub state: String,
    /// Tries so far.
    pub attempts: i32,
    /// The last answer's HTTP status, if there was an answer.
    pub last_status: Option<i32>,
    /// Why the last try failed.
    pub last_error: Option<String>,
    /// When the call became owed (the event, or the last "send again"), epoch ms.
    pub created_at: i64,
    /// When a pending delivery is tried next, epoch ms.
    pub next_at: Option<i64>,
    /// When it was delivered or given up on, epoch ms.
    pub done_at: Option<i64>,
}

/// What an admin gives to register an endpoint or change one; what is absent stays as it is
/// (a new endpoint without a secret gets a random one).
#[derive(Debug, Clone, Default)]
pub struct EndpointSpec {
    /// Where calls go.
    pub url: Option<WebhookUrl>,
    /// The event types it hears.
    pub events: Option<WebhookEvents>,
    /// The signing secret.
    pub secret: Option<WebhookSecret>,
}

fn view(row: EndpointRow) -> EndpointView {
    EndpointView {
        webhook_id: row.id,
        url: row.url,
        secret: row.secret,
        events: row.events.split(',').filter(|e| !e.is_empty()).map(str::to_string).collect(),
        enabled: row.enabled != 0,
        disabled_reason: row.disabled_reason,
        consecutive_failures: row.consecutive_failures,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

fn delivery_view((row, kind): webhooks::DeliveryRow) -> DeliveryView {
    let pending = row.state == outbox::state::PENDING;
    DeliveryView {
        event_id: row.event_pos,
        event_type: kind,
        state: row.state,
        attempts: row.attempts,
        last_status: row.last_status,
        last_error: row.last_error,
        created_at: row.created_at,
        next_at: pending.then_some(row.next_at),
        done_at: row.done_at,
    }
}

/// The feed kinds of a stored endpoint's event types.
fn kinds_of(row: &EndpointRow) -> Vec<&'static str> {
    WebhookEvents::parse(&row.events).map(|events| events.feed_kinds()).unwrap_or_default()
}

fn found(row: Option<EndpointRow>) -> Result<EndpointRow, ServiceError> {
    row.ok_or(ServiceError::WebhookNotFound)
}

impl Services {
    /// Refuses a URL whose host is not public, unless the settings allow it.
    async fn check_target(&self, url: &WebhookUrl) -> Result<(), ServiceError> {
        if self.settings.webhooks.allow_private_targets {
            return Ok(());
        }
        targets::check(url).await.map_err(|reason| crate::domain::InvalidInput::new("url", reason).into())
    }

    /// Every endpoint, oldest first.
    pub async fn webhooks(&self) -> Result<Vec<EndpointView>, ServiceError> {
        let rows = self.store.run(|conn| Ok::<_, ServiceError>(webhooks::all(conn)?)).await?;
        Ok(rows.into_iter().map(view).collect())
    }

    /// Registers an endpoint, enabled; `spec.url` and `spec.events` are required (the HTTP layer
    /// says so by field).
    pub async fn create_webhook(&self, spec: EndpointSpec) -> Result<EndpointView, ServiceError> {
        let (Some(url), Some(events)) = (spec.url, spec.events) else {
            return Err(crate::domain::InvalidInput::new("url", "and `events` are required").into());
        };
        self.check_target(&url).await?;
        let secret = spec.secret.unwrap_or_else(|| {
            let mut bytes = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut bytes);
            WebhookSecret::random(bytes)
        });
        let now = now_ms();
        let row = EndpointRow {
            id: Uuid::new_v4().to_string(),
            url: url.as_str().to_string(),
            secret: secret.as_str().to_string(),
            events: events.joined(),
            enabled: 1,
            disabled_reason: None,
            consecutive_failures: 0,
            created_at: now,
            updated_at: now,
        };
        let stored = row.clone();
        self.store
            .write(move |conn| {
                if webhooks::count(conn)? >= MAX_ENDPOINTS {
                    return Err(ServiceError::TooManyWebhooks);
                }
                webhooks::insert(conn, &stored, &events.feed_kinds())?;
                Ok(())
            })
            .await?;
        Ok(view(row))
    }

    /// Changes an endpoint's URL, event types or secret.
    pub async fn update_webhook(&self, id: Uuid, spec: EndpointSpec) -> Result<EndpointView, ServiceError> {
        if let Some(url) = &spec.url {
            self.check_target(url).await?;
        }
        self.store
            .write(move |conn| {
                let mut row = found(webhooks::find(conn, &id.to_string())?)?;
                if let Some(url) = spec.url {
                    row.url = url.as_str().to_string();
                }
                if let Some(events) = spec.events {
                    row.events = events.joined();
                }
                if let Some(secret) = spec.secret {
                    row.secret = secret.as_str().to_string();
                }
                row.updated_at = now_ms();
                webhooks::update(conn, &row, &kinds_of(&row))?;
                Ok(view(row))
            })
            .await
    }

    /// Deletes an endpoint and its delivery log; the calls it was owed are not made.
    pub async fn delete_webhook(&self, id: Uuid) -> Result<(), ServiceError> {
        self.store
            .write(move |conn| match webhooks::delete(conn, &id.to_string())? {
                true => Ok(()),
                false => Err(ServiceError::WebhookNotFound),
            })
            .await
    }

    /// Enables an endpoint (again): the next events are sent to it; those that happened while
    /// it was disabled are not (an admin may send any of them again).
    pub async fn enable_webhook(&self, id: Uuid) -> Result<EndpointView, ServiceError> {
        self.store
            .write(move |conn| {
                let id = id.to_string();
                let row = found(webhooks::find(conn, &id)?)?;
                webhooks::enable(conn, &id, &kinds_of(&row), now_ms())?;
                Ok(view(found(webhooks::find(conn, &id)?)?))
            })
            .await
    }

    /// Disables an endpoint by an admin's hand.
    pub async fn disable_webhook(&self, id: Uuid) -> Result<EndpointView, ServiceError> {
        self.store
            .write(move |conn| {
                let id = id.to_string();
                found(webhooks::find(conn, &id)?)?;
                webhooks::disable(conn, &id, "disabled by an admin", now_ms())?;
                Ok(view(found(webhooks::find(conn, &id)?)?))
            })
            .await
    }

    /// An endpoint's deliveries, newest event first, of events before `before`.
    pub async fn webhook_deliveries(
        &self,
        id: Uuid,
        before: Option<i64>,
        limit: PageLimit,
    ) -> Result<Vec<DeliveryView>, ServiceError> {
        let rows = self
            .store
            .run(move |conn| {
                let id = id.to_string();
                found(webhooks::find(conn, &id)?)?;
                Ok::<_, ServiceError>(webhooks::deliveries(conn, &id, before, limit.get())?)
            })
            .await?;
        Ok(rows.into_iter().map(delivery_view).collect())
    }

    /// Sends the call of event `event_id` to endpoint `id` again, at once and with its retries
    /// (409 `webhook_disabled` while the endpoint is disabled).
    pub async fn resend_webhook(&self, id: Uuid, event_id: i64) -> Result<(), ServiceError> {
        self.store
            .write(move |conn| {
                let id = id.to_string();
                let endpoint = found(webhooks::find(conn, &id)?)?;
                if endpoint.enabled == 0 {
                    return Err(ServiceError::WebhookDisabled);
                }
                match webhooks::send_again(conn, &format!("{id}:{event_id}"), now_ms())? {
                    true => Ok(()),
                    false => Err(ServiceError::DeliveryNotFound),
                }
            })
            .await?;
        self.outbox_wake.notify_one();
        Ok(())
    }
}
