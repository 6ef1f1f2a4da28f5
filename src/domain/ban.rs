//! What an agent gives when banning: an address, a reason, a duration.

use std::net::IpAddr;

use super::{canonical_ip, refuse_nul, InvalidInput};

/// Longest reason kept, in characters.
pub const MAX_BAN_REASON_CHARS: usize = 500;

/// Longest ban with an end, in minutes (ten years); longer is "until lifted" (no duration).
pub const MAX_BAN_MINUTES: i64 = 10 * 365 * 24 * 60;

/// A client address to ban, in the one form the server compares: `::ffff:1.2.3.4` is
/// `1.2.3.4` ([`canonical_ip`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BannedAddress(pub IpAddr);

impl BannedAddress {
    /// Parses an IPv4 or IPv6 address; `field` names it in the error.
    pub fn parse(text: &str, field: &'static str) -> Result<Self, InvalidInput> {
        let address: IpAddr =
            text.trim().parse().map_err(|_| InvalidInput::new(field, "must be an IPv4 or IPv6 address"))?;
        let address = Self::from_ip(address);
        if address.0.is_unspecified() {
            return Err(InvalidInput::new(field, "must be a client address, not 0.0.0.0 or ::"));
        }
        Ok(address)
    }

    /// The canonical form of an address a request came from.
    pub fn from_ip(address: IpAddr) -> Self {
        Self(canonical_ip(address))
    }
}

impl std::fmt::Display for BannedAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a ban was made: optional, trimmed, at most `MAX_BAN_REASON_CHARS` (500), one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanReason(String);

impl BanReason {
    /// `None` for an absent or blank reason.
    pub fn parse(text: Option<&str>) -> Result<Option<Self>, InvalidInput> {
        if let Some(text) = text {
            refuse_nul(text, "reason")?;
        }
        let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        if text.chars().count() > MAX_BAN_REASON_CHARS {
            return Err(InvalidInput::new(
                "reason",
                format!("must be at most {MAX_BAN_REASON_CHARS} characters"),
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(InvalidInput::new("reason", "must not hold control characters or line breaks"));
        }
        Ok(Some(Self(text.to_string())))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How long a ban lasts: `None` is until lifted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BanDuration(Option<i64>);

impl BanDuration {
    /// Whole minutes, 1 to `MAX_BAN_MINUTES` (ten years); absent = until lifted.
    pub fn parse(minutes: Option<i64>) -> Result<Self, InvalidInput> {
        match minutes {
            None => Ok(Self(None)),
            Some(m) if (1..=MAX_BAN_MINUTES).contains(&m) => Ok(Self(Some(m * 60_000))),
            Some(_) => Err(InvalidInput::new(
                "duration_mins",
                format!(
                    "must be a whole number of minutes from 1 to {MAX_BAN_MINUTES}, or null for until lifted"
                ),
            )),
        }
    }

    /// A ban of exactly `ms` milliseconds (tests and tools; not reachable from the API).
    pub fn millis(ms: i64) -> Self {
        Self(Some(ms.max(1)))
    }

    /// When a ban made at `now` ends, `None` for never.
    pub fn expires_at(self, now: i64) -> Option<i64> {
        self.0.map(|ms| now.saturating_add(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_compared_in_one_form() {
        let mapped = BannedAddress::parse("::ffff:203.0.113.9", "ip").expect("valid");
        assert_eq!(mapped, BannedAddress::parse(" 203.0.113.9 ", "ip").expect("valid"));
        assert_eq!(mapped.to_string(), "203.0.113.9");
        assert!(BannedAddress::parse("2001:db8::1", "ip").is_ok());
    }

    #[test]
    fn what_is_no_client_address_is_refused() {
        for bad in ["", "1.2.3", "1.2.3.4/24", "example.com", "0.0.0.0", "::"] {
            assert_eq!(BannedAddress::parse(bad, "ip").expect_err(bad).field, "ip");
        }
    }

    #[test]
    fn a_reason_is_optional_short_and_one_line() {
        assert_eq!(BanReason::parse(None), Ok(None));
        assert_eq!(BanReason::parse(Some("   ")), Ok(None));
        assert_eq!(BanReason::parse(Some(" spam ")).expect("valid").expect("some").as_str(), "spam");
        assert!(BanReason::parse(Some("a\nb")).is_err());
        assert_eq!(BanReason::parse(Some("a\0b")).map_err(|e| e.reason.contains("NUL")), Err(true));
        assert!(BanReason::parse(Some(&"x".repeat(MAX_BAN_REASON_CHARS + 1))).is_err());
    }

    #[test]
    fn a_duration_is_whole_minutes_or_until_lifted() {
        assert_eq!(BanDuration::parse(None).expect("valid").expires_at(5), None);
        assert_eq!(BanDuration::parse(Some(2)).expect("valid").expires_at(5), Some(120_005));
        for bad in [0, -1, MAX_BAN_MINUTES + 1] {
            assert_eq!(BanDuration::parse(Some(bad)).expect_err("refused").field, "duration_mins");
        }
    }
}
