//! Abuse limits (`[limits]`): what one client address, one visitor or one employee ID may do.
//!
//! - [`ip_connections`]: open connections per client address, counted from `on_connect` to the
//!   connection's close;
//! - [`rates`]: requests per address (the [`middleware`], before any handler), sends per
//!   visitor, visitors created per address — keyed `governor` rate limiters;
//! - [`login_throttle`]: failed logins per employee ID and per address within a window;
//! - emails to addresses a visitor typed, per visitor and per address (`[email]`).
//!
//! Every refusal is a 429 with `Retry-After` in the one error envelope, changes nothing, and is
//! counted by `metrics::limit_hit`. Each node keeps its own counts. Addresses in
//! `limits.exempt` are never limited. State is in memory and swept by [`Guard::sweep`].

pub mod ip_connections;
pub mod login_throttle;
pub mod middleware;
pub mod rates;

use std::net::IpAddr;
use std::time::Duration;

use actix_web::http::StatusCode;

use crate::config::Settings;
use crate::domain::{canonical_ip, AddressList, Principal};
use crate::http::error::ApiError;
use ip_connections::{ConnectionCounter, ConnectionSlot};
use login_throttle::{LoginAttempt, LoginThrottle};
use rates::KeyedRate;

/// The abuse limits of one node; built from the settings, shared by every worker.
pub struct Guard {
    /// `limits.exempt`.
    exempt: AddressList,
    /// `server.trusted_proxies`: their connections carry many clients, so they are not capped.
    trusted_proxies: AddressList,
    connections: ConnectionCounter,
    requests: KeyedRate<IpAddr>,
    sends: KeyedRate<crate::domain::VisitorId>,
    visitors: KeyedRate<IpAddr>,
    logins: LoginThrottle,
    /// Emails to visitor-typed addresses, per visitor and per address (`[email]`).
    emails_by_visitor: KeyedRate<crate::domain::VisitorId>,
    emails_by_address: KeyedRate<String>,
}

/// Whom a per-address limit counts: an IPv4 address, or the /64 network of an IPv6 one (one
/// subscriber's usual share, in which a client can pick any address it likes).
pub fn subject(client: IpAddr) -> IpAddr {
    match canonical_ip(client) {
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(network.into())
        }
        v4 => v4,
    }
}

/// A 429 that tells the client when to come back (at least one second).
pub fn too_many(code: &'static str, message: &str, wait: Duration) -> ApiError {
    let seconds =
        u32::try_from(wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).unwrap_or(u32::MAX).max(1);
    ApiError { retry_after: Some(seconds), ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, message) }
}

impl Guard {
    /// The limits `settings` ask for.
    pub fn new(settings: &Settings) -> Self {
        let limits = &settings.limits;
        Self {
            exempt: limits.exempt.clone(),
            trusted_proxies: settings.server.trusted_proxies.clone(),
            connections: ConnectionCounter::new(limits.connections_per_ip),
            requests: KeyedRate::per_second(
                "requests_per_ip",
                "Too many requests from your address; slow down.",
                limits.requests_per_ip_per_sec,
                limits.request_burst_per_ip,
            ),
            sends: KeyedRate::per_second(
                "sends_per_visitor",
                "You are sending messages too fast; wait a moment.",
                limits.sends_per_visitor_per_sec,
                limits.send_burst_per_visitor,
            ),
            visitors: KeyedRate::per_minute(
                "visitors_per_ip",
                "Too many new visitors from your address; try again shortly.",
                limits.visitors_per_ip_per_minute,
            ),
            logins: LoginThrottle::new(
                limits.login_failures_per_employee_id,
                limits.login_failures_per_ip,
                Duration::from_secs(limits.login_window_secs),
            ),
            emails_by_visitor: KeyedRate::per_hour(
                "emails_per_visitor",
                "You have asked for too many emails; try again later.",
                settings.email.visitor_emails_per_visitor_per_hour,
            ),
            emails_by_address: KeyedRate::per_hour(
                "emails_per_address",
                "That address has been sent too many emails; try again later.",
                settings.email.visitor_emails_per_address_per_hour,
            ),
        }
    }

    /// One more email from `sender` (visitors only: staff are not limited) to `address`, which
    /// the visitor typed: per visitor, then per address (lower-cased). Exempt client addresses
    /// are limited too: the limit protects the mailbox, not the server.
    pub fn check_visitor_email(&self, sender: &Principal, address: &str) -> Result<(), ApiError> {
        let Principal::Visitor(visitor) = sender else { return Ok(()) };
        self.emails_by_visitor.check(visitor)?;
        self.emails_by_address.check(&address.to_lowercase())
    }

    /// True when `client` is on the exempt list.
    pub fn is_exempt(&self, client: IpAddr) -> bool {
        self.exempt.contains(client)
    }

    /// A new connection from `peer`: the slot to keep in the connection's extensions (its drop
    /// closes the count), or `None` when the peer is exempt, a trusted proxy or the cap is off.
    pub fn connection_opened(&self, peer: IpAddr) -> Option<ConnectionSlot> {
        let peer = canonical_ip(peer);
        if self.exempt.contains(peer) || self.trusted_proxies.contains(peer) {
            return None;
        }
        self.connections.open(subject(peer))
    }

    /// One more request from `client`.
    pub fn check_request(&self, client: IpAddr) -> Result<(), ApiError> {
        if self.is_exempt(client) {
            return Ok(());
        }
        self.requests.check(&subject(client))
    }

    /// One more message from `sender` (visitors only; agents are staff).
    pub fn check_send(&self, sender: &Principal, client: IpAddr) -> Result<(), ApiError> {
        match sender {
            Principal::Visitor(visitor) if !self.is_exempt(client) => self.sends.check(visitor),
            _ => Ok(()),
        }
    }

    /// One more visitor created from `client`.
    pub fn check_new_visitor(&self, client: IpAddr) -> Result<(), ApiError> {
        if self.is_exempt(client) {
            return Ok(());
        }
        self.visitors.check(&subject(client))
    }

    /// A login to `employee_id` from `client`, counted as failed until told otherwise; 429
    /// `login_throttled` when either has too many failures in the window.
    pub fn login_attempt(&self, employee_id: &str, client: IpAddr) -> Result<LoginAttempt<'_>, ApiError> {
        let client = (!self.is_exempt(client)).then_some(subject(client));
        self.logins.attempt(employee_id, client)
    }

    /// Forgets what no longer limits anyone, so memory stays bounded.
    pub fn sweep(&self) {
        self.requests.sweep();
        self.sends.sweep();
        self.visitors.sweep();
        self.logins.sweep();
        self.emails_by_visitor.sweep();
        self.emails_by_address.sweep();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(too_many("x", "x", Duration::from_millis(10)).retry_after, Some(1));
        assert_eq!(too_many("x", "x", Duration::from_millis(1_500)).retry_after, Some(2));
        assert_eq!(too_many("x", "x", Duration::ZERO).retry_after, Some(1));
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_network_and_an_ipv4_one_by_its_address() {
        let ip = |text: &str| text.parse::<IpAddr>().expect("ip");
        assert_eq!(subject(ip("2001:db8:1:2:aaaa::1")), subject(ip("2001:db8:1:2:bbbb::9")));
        assert_ne!(subject(ip("2001:db8:1:2::1")), subject(ip("2001:db8:1:3::1")));
        assert_eq!(subject(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_ne!(subject(ip("192.0.2.1")), subject(ip("192.0.2.2")));
    }

    #[test]
    fn an_exempt_address_is_never_limited() {
        let mut settings = Settings::default();
        settings.limits.requests_per_ip_per_sec = 1;
        settings.limits.request_burst_per_ip = 1;
        settings.limits.exempt = AddressList::parse(&["10.0.0.0/8"]).expect("valid");
        let guard = Guard::new(&settings);
        let exempt: IpAddr = "10.1.2.3".parse().expect("ip");
        let other: IpAddr = "192.0.2.1".parse().expect("ip");
        for _ in 0..10 {
            assert!(guard.check_request(exempt).is_ok());
        }
        assert!(guard.connection_opened(exempt).is_none());
        assert!(guard.check_request(other).is_ok());
        let refused = guard.check_request(other).expect_err("over the rate");
        assert_eq!((refused.status.as_u16(), refused.code), (429, "rate_limited"));
    }
}
