//! The outbox courier of the `webhook` channel: one row is one call of one event to one
//! endpoint (`service::outbox` decides when; this decides how).
//!
//! A call is `POST <url>` with the event as JSON (`service::feed::FeedEvent`) and the headers
//! `Webhook-Id` (the event's id, the same on every try: the receiver's idempotency key),
//! `Webhook-Timestamp` (epoch seconds of this try) and `Webhook-Signature`
//! ([`super::signature`]). Redirects are not followed and no proxy is used.
//!
//! How an answer counts: 2xx delivered; 408, 429, 5xx, a timeout or no answer at all: tried
//! again later; any other answer (3xx, 4xx): refused for good, no retry (the receiver said
//! the call itself is wrong). Every failed try counts against the endpoint, which is disabled
//! after `webhooks.disable_after_failures` in a row or when a call runs out of retries.

use std::time::Duration;

use crate::config::WebhookSettings;
use crate::domain::{is_public_address, now_ms, WebhookUrl};
use crate::service::outbox::{Backoff, Courier, Delivering, Delivery};
use crate::service::Services;
use crate::store::outbox::OutboxRow;
use crate::store::webhooks::{self, EndpointRow};
use crate::store::StoreError;

use super::signature::sign;
use super::targets::{PrivateTarget, PublicResolver};

/// The outbox channel of webhook calls.
pub const CHANNEL: &str = "webhook";

/// What a call not made at all says in the log (its endpoint is gone or disabled): such a row
/// does not count against the endpoint.
const NOT_TRIED: &str = "not sent: ";

/// Longest error text kept in the delivery log, in characters.
const MAX_ERROR_CHARS: usize = 500;

/// Makes webhook calls.
pub struct WebhookCourier {
    services: Services,
    client: reqwest::Client,
    settings: WebhookSettings,
}

impl WebhookCourier {
    /// A courier for `services`' store and feed, with `services.settings.webhooks`; fails when
    /// the HTTP client cannot be built (no TLS roots).
    pub fn new(services: Services) -> Result<Self, reqwest::Error> {
        let settings = services.settings.webhooks.clone();
        let mut client = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_secs))
            .connect_timeout(Duration::from_secs(settings.timeout_secs))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("Switchboard-Webhooks/", env!("CARGO_PKG_VERSION")));
        if !settings.allow_private_targets {
            client = client.dns_resolver(PublicResolver::shared());
        }
        Ok(Self { services, client: client.build()?, settings })
    }

    /// The endpoint of `row`, if it is there to call.
    async fn endpoint(&self, row: &OutboxRow) -> Result<EndpointRow, Delivery> {
        let id = row.target.clone();
        let found =
            self.services.store.run(move |conn| webhooks::find(conn, &id).map_err(StoreError::from)).await;
        match found {
            Ok(Some(endpoint)) if endpoint.enabled != 0 => Ok(endpoint),
            Ok(Some(_)) => Err(not_made(row, "the endpoint is disabled")),
            Ok(None) => Err(not_made(row, "the endpoint was deleted")),
            Err(error) => Err(Delivery::Retry { status: None, error: format!("store: {error}") }),
        }
    }

    /// The call's body: the event as the feed gives it.
    async fn body(&self, row: &OutboxRow) -> Result<(i64, Vec<u8>), Delivery> {
        let Some(pos) = row.event_pos else {
            return Err(refused(None, format!("{NOT_TRIED}the delivery names no event")));
        };
        match self.services.feed_event(pos).await {
            Ok(Some(event)) => serde_json::to_vec(&event)
                .map(|body| (pos, body))
                .map_err(|e| refused(None, format!("{NOT_TRIED}the event cannot be written: {e}"))),
            Ok(None) => Err(refused(None, format!("{NOT_TRIED}event {pos} is gone"))),
            Err(error) => Err(Delivery::Retry { status: None, error: format!("store: {error}") }),
        }
    }

    /// Makes the call of `row` once.
    async fn call(&self, row: &OutboxRow) -> Delivery {
        let endpoint = match self.endpoint(row).await {
            Ok(endpoint) => endpoint,
            Err(not_made) => return not_made,
        };
        let url = match WebhookUrl::parse(&endpoint.url) {
            Ok(url) => url,
            Err(error) => return refused(None, format!("the URL is not valid: {}", error.reason)),
        };
        if let Some(ip) =
            url.ip_host().filter(|ip| !self.settings.allow_private_targets && !is_public_address(*ip))
        {
            return refused(None, format!("{ip} is a private, loopback or link-local address"));
        }
        let (event_id, body) = match self.body(row).await {
            Ok(body) => body,
            Err(not_made) => return not_made,
        };
        let timestamp = now_ms() / 1000;
        let signature = sign(&endpoint.secret, timestamp, &body);
        let sent = self
            .client
            .post(url.as_url().clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Webhook-Id", event_id.to_string())
            .header("Webhook-Timestamp", timestamp.to_string())
            .header("Webhook-Signature", signature)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(answer) => judge(answer.status()),
            Err(error) => failed_call(&error),
        }
    }
}

/// What an answer's status makes of the call (see the module doc).
fn judge(status: reqwest::StatusCode) -> Delivery {
    let code = Some(i32::from(status.as_u16()));
    if status.is_success() {
        return Delivery::Sent { status: code };
    }
    let error = format!("the endpoint answered {status}");
    match status.as_u16() {
        408 | 429 | 500..=599 => Delivery::Retry { status: code, error },
        _ => Delivery::Refused { status: code, error },
    }
}

/// A call that got no answer: a private target is refused for good, anything else (no
/// connection, a timeout, a broken answer) is tried again.
fn failed_call(error: &reqwest::Error) -> Delivery {
    let mut text = if error.is_timeout() { "no answer in time".to_string() } else { error.to_string() };
    let mut source = std::error::Error::source(error);
    let mut private = None;
    while let Some(cause) = source {
        if let Some(target) = cause.downcast_ref::<PrivateTarget>() {
            private = Some(target.0.clone());
        }
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    match private {
        Some(reason) => refused(None, reason),
        None => Delivery::Retry { status: None, error: shortened(text) },
    }
}

/// A call not made because of `why`; the log keeps the last try's answer code and error.
fn not_made(row: &OutboxRow, why: &str) -> Delivery {
    let error = match &row.last_error {
        Some(last) => format!("{NOT_TRIED}{why} (the last try: {last})"),
        None => format!("{NOT_TRIED}{why}"),
    };
    refused(row.last_status, error)
}

fn refused(status: Option<i32>, error: String) -> Delivery {
    Delivery::Refused { status, error: shortened(error) }
}

fn shortened(text: String) -> String {
    match text.char_indices().nth(MAX_ERROR_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

impl Courier for WebhookCourier {
    fn channel(&self) -> &'static str {
        CHANNEL
    }

    fn backoff(&self) -> Backoff {
        Backoff {
            first: Duration::from_millis(self.settings.first_retry_ms),
            longest: Duration::from_secs(self.settings.longest_retry_secs),
            give_up_after: Duration::from_secs(self.settings.retry_for_secs),
        }
    }

    fn deliver<'a>(&'a self, row: &'a OutboxRow) -> Delivering<'a> {
        Box::pin(self.call(row))
    }

    /// Counts the endpoint's failures in a row, and disables it after too many or when a call
    /// ran out of retries.
    fn settled<'a>(&'a self, row: &'a OutboxRow, delivery: &'a Delivery, gave_up: bool) -> Delivering<'a> {
        Box::pin(async move {
            let id = row.target.clone();
            let (error, ran_out) = match delivery {
                Delivery::Sent { .. } => {
                    let written = self
                        .services
                        .store
                        .write(move |conn| webhooks::record_success(conn, &id).map_err(StoreError::from))
                        .await;
                    if let Err(error) = written {
                        log::warn!("webhooks: endpoint {} not marked as working: {error}", row.target);
                    }
                    return delivery.clone();
                }
                Delivery::Refused { error, .. } if error.starts_with(NOT_TRIED) => return delivery.clone(),
                Delivery::Refused { error, .. } => (error.clone(), false),
                Delivery::Retry { error, .. } => (error.clone(), gave_up),
            };
            let (limit, retry_for) = (self.settings.disable_after_failures, self.settings.retry_for_secs);
            let written = self
                .services
                .store
                .write(move |conn| {
                    let Some(failures) = webhooks::record_failure(conn, &id)? else {
                        return Ok::<_, StoreError>(None);
                    };
                    let reason = if ran_out {
                        Some(format!("a call failed for {retry_for} s (webhooks.retry_for_secs); the last try: {error}"))
                    } else if limit > 0 && i64::from(failures) >= i64::from(limit) {
                        Some(format!("{failures} tries in a row failed; the last: {error}"))
                    } else {
                        None
                    };
                    match reason {
                        Some(reason) if webhooks::disable(conn, &id, &reason, now_ms())? => Ok(Some(reason)),
                        _ => Ok(None),
                    }
                })
                .await;
            match written {
                Ok(Some(reason)) => log::warn!("webhooks: endpoint {} disabled: {reason}", row.target),
                Ok(None) => {}
                Err(error) => {
                    log::warn!("webhooks: a failure of endpoint {} not counted: {error}", row.target)
                }
            }
            delivery.clone()
        })
    }
}
