//! Webhook values: an endpoint's URL ([`WebhookUrl`]), the event types an admin subscribes it
//! to ([`WebhookEvents`]), its signing secret ([`WebhookSecret`]), and the rule of which
//! addresses a call may go to ([`is_public_address`]).

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{refuse_nul, InvalidInput, MAX_URL_CHARS};

/// The event types an endpoint may hear, each with the feed kinds it covers: `chat.assigned`
/// also covers `chat.invited` (an agent opened the chat by inviting the visitor and serves it),
/// whose calls say `"type": "chat.invited"`.
pub const WEBHOOK_EVENT_TYPES: &[(&str, &[&str])] = &[
    ("chat.started", &["chat.started"]),
    ("chat.assigned", &["chat.assigned", "chat.invited"]),
    ("chat.transferred", &["chat.transferred"]),
    ("chat.closed", &["chat.closed"]),
    ("message", &["message"]),
    ("offline_message", &["offline_message"]),
    ("rating", &["rating"]),
];

/// Longest secret an admin may give, in characters.
pub const MAX_SECRET_CHARS: usize = 200;
/// Shortest secret an admin may give, in characters.
pub const MIN_SECRET_CHARS: usize = 16;

/// An endpoint's URL: absolute `http` or `https`, with a host, no user name or password, at most
/// [`MAX_URL_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(url::Url);

impl WebhookUrl {
    /// Parses the `url` field.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        let invalid = |reason: &str| InvalidInput::new("url", reason);
        refuse_nul(text, "url")?;
        let text = text.trim();
        if text.is_empty() {
            return Err(invalid("is required"));
        }
        if text.chars().count() > MAX_URL_CHARS {
            return Err(invalid(&format!("must be at most {MAX_URL_CHARS} characters")));
        }
        let url = url::Url::parse(text).map_err(|e| invalid(&format!("is not a valid URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("must be an http or https URL"));
        }
        if url.host().is_none() {
            return Err(invalid("must name a host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("must not hold a user name or password (sign with the secret instead)"));
        }
        if url.fragment().is_some() {
            return Err(invalid("must not have a #fragment"));
        }
        Ok(Self(url))
    }

    /// The URL.
    pub fn as_url(&self) -> &url::Url {
        &self.0
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The host when it is an IP address written out (no name to resolve).
    pub fn ip_host(&self) -> Option<IpAddr> {
        match self.0.host()? {
            url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            url::Host::Domain(_) => None,
        }
    }

    /// The host and port to resolve (the scheme's port when none is written).
    pub fn host_and_port(&self) -> (String, u16) {
        let host = self.0.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
        (host.to_string(), self.0.port_or_known_default().unwrap_or(80))
    }
}

/// The event types an endpoint hears: at least one, each from [`WEBHOOK_EVENT_TYPES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvents(BTreeSet<&'static str>);

impl WebhookEvents {
    /// Parses the `events` field: the types separated by commas (spaces allowed), or `*` for all.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        let mut types = BTreeSet::new();
        for name in text.split(',').map(str::trim).filter(|name| !name.is_empty()) {
            if name == "*" {
                types.extend(WEBHOOK_EVENT_TYPES.iter().map(|(name, _)| *name));
                continue;
            }
            let known = WEBHOOK_EVENT_TYPES.iter().find(|(known, _)| *known == name).ok_or_else(|| {
                let all: Vec<&str> = WEBHOOK_EVENT_TYPES.iter().map(|(name, _)| *name).collect();
                InvalidInput::new(
                    "events",
                    format!("`{name}` is not an event type (known: {})", all.join(", ")),
                )
            })?;
            types.insert(known.0);
        }
        if types.is_empty() {
            return Err(InvalidInput::new("events", "must name at least one event type"));
        }
        Ok(Self(types))
    }

    /// The types, comma-separated in a fixed order (as stored and shown).
    pub fn joined(&self) -> String {
        self.0.iter().copied().collect::<Vec<_>>().join(",")
    }

    /// The feed kinds these types cover (what the store's trigger matches).
    pub fn feed_kinds(&self) -> Vec<&'static str> {
        WEBHOOK_EVENT_TYPES
            .iter()
            .filter(|(name, _)| self.0.contains(name))
            .flat_map(|(_, kinds)| kinds.iter().copied())
            .collect()
    }
}

/// An endpoint's signing secret: printable ASCII without spaces, 16 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// Parses the `secret` field.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        let chars = text.chars().count();
        if !(MIN_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&chars) {
            return Err(InvalidInput::new(
                "secret",
                format!("must be {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} characters"),
            ));
        }
        if !text.chars().all(|c| c.is_ascii_graphic()) {
            return Err(InvalidInput::new("secret", "must be printable ASCII without spaces"));
        }
        Ok(Self(text.to_string()))
    }

    /// A new random secret: `whsec_` and 32 random bytes in hex.
    pub fn random(bytes: [u8; 32]) -> Self {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Self(format!("whsec_{hex}"))
    }

    /// The secret.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether a call may go to `ip` without `webhooks.allow_private_targets`: false for loopback,
/// private (RFC 1918, unique local), link-local, shared (CGNAT), unspecified, documentation,
/// benchmarking, multicast and reserved addresses, and for IPv6 addresses that embed one of those
/// IPv4 addresses (mapped, compatible, NAT64, 6to4).
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    // NAT64 (64:ff9b::/96) and the deprecated IPv4-compatible form (::a.b.c.d) carry an IPv4
    // address: judged by it.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] || segments[..6] == [0; 6] {
        let [.., high, low] = segments;
        let v4 = Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
        if !ip.is_loopback() && !ip.is_unspecified() {
            return is_public_v4(v4);
        }
    }
    // 6to4 (2002::/16) routes to the IPv4 address in its next 32 bits.
    if segments[0] == 0x2002 {
        let v4 = Ipv4Addr::from((u32::from(segments[1]) << 16) | u32::from(segments[2]));
        return is_public_v4(v4);
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local
        || (segments[0] & 0xffc0) == 0xfe80 // link-local
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (segments[0] == 0x2001 && segments[1] == 0x0db8)) // documentation
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_and_link_local_addresses_are_not_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "2002:a00:1::1",
            "224.0.0.1",
            "255.255.255.255",
        ] {
            let ip: IpAddr = private.parse().expect("an address");
            assert!(!is_public_address(ip), "{private} must not count as public");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2002:808:808::"]
        {
            let ip: IpAddr = public.parse().expect("an address");
            assert!(is_public_address(ip), "{public} is public");
        }
    }

    #[test]
    fn urls_are_http_or_https_with_a_host_and_no_credentials() {
        assert!(WebhookUrl::parse("https://hooks.example.com/in?x=1").is_ok());
        assert!(WebhookUrl::parse("http://[::1]:8080/").is_ok());
        for bad in ["", "ftp://example.com/", "https://user:pw@example.com/", "not a url", "mailto:a@b.c"] {
            assert!(WebhookUrl::parse(bad).is_err(), "{bad:?} must be refused");
        }
        let url = WebhookUrl::parse("http://[::1]:8080/x").expect("valid");
        assert_eq!(url.ip_host(), Some("::1".parse().expect("ip")));
        assert_eq!(url.host_and_port(), ("::1".to_string(), 8080));
    }

    #[test]
    fn event_types_are_known_ones_and_assigned_covers_invited() {
        let events = WebhookEvents::parse(" message , chat.assigned").expect("valid");
        assert_eq!(events.joined(), "chat.assigned,message");
        assert_eq!(events.feed_kinds(), ["chat.assigned", "chat.invited", "message"]);
        assert_eq!(WebhookEvents::parse("*").expect("all").feed_kinds().len(), 8);
        assert!(WebhookEvents::parse("chat.queued").is_err());
        assert!(WebhookEvents::parse(" , ").is_err());
    }
}
