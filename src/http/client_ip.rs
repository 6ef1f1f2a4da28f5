//! The address a request comes from, for the abuse limits and the ban list.
//!
//! The peer address is the client unless the peer is a trusted reverse proxy
//! (`server.trusted_proxies`); then the client is the rightmost `X-Forwarded-For` entry that is
//! not itself a trusted proxy. Entries left of it were written by the client and prove nothing.

use std::net::IpAddr;

use actix_web::http::header::HeaderMap;
use actix_web::{web, HttpRequest};

use crate::domain::{canonical_ip, AddressList};

/// The reverse proxies whose `X-Forwarded-For` is believed: `server.trusted_proxies`, as the
/// settings hold it (parsed when they were read), given to the app as `web::Data`.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(AddressList);

impl TrustedProxies {
    /// The proxies of this list.
    pub fn new(list: AddressList) -> Self {
        Self(list)
    }

    /// Whether `address` is one of the trusted proxies.
    pub fn trusts(&self, address: IpAddr) -> bool {
        self.0.contains(address)
    }

    /// The client address of a request whose TCP peer is `peer`.
    pub fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical_ip(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        let mut client = peer;
        for entry in forwarded.iter().rev() {
            match entry.parse::<IpAddr>() {
                Ok(address) => {
                    client = canonical_ip(address);
                    if !self.trusts(client) {
                        break;
                    }
                }
                // A malformed entry ends what can be believed: the last trusted hop stands.
                Err(_) => break,
            }
        }
        client
    }
}

/// The client address of `request` (see the module doc), by the `TrustedProxies` the app
/// holds as `web::Data`; `0.0.0.0` when the peer is unknown, which only happens in unit tests
/// that build requests without a socket.
pub fn client_ip(request: &HttpRequest) -> IpAddr {
    let peer = request.peer_addr().map_or(IpAddr::from([0, 0, 0, 0]), |address| address.ip());
    match request.app_data::<web::Data<TrustedProxies>>() {
        Some(trusted) => trusted.client_of(peer, request.headers()),
        None => canonical_ip(peer),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(forwarded: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in forwarded {
            map.append(
                HeaderName::from_static("x-forwarded-for"),
                HeaderValue::from_str(value).expect("value"),
            );
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    fn trusting(entries: &[&str]) -> TrustedProxies {
        TrustedProxies::new(AddressList::parse(entries).expect("valid"))
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = trusting(&["10.0.0.0/8"]);
        assert_eq!(trusted.client_of(ip("203.0.113.9"), &headers(&["1.1.1.1"])), ip("203.0.113.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_client_is_the_rightmost_untrusted_entry() {
        let trusted = trusting(&["127.0.0.1", "10.0.0.0/8"]);
        let forwarded = headers(&["6.6.6.6, 198.51.100.7", "10.1.2.3"]);
        assert_eq!(trusted.client_of(ip("127.0.0.1"), &forwarded), ip("198.51.100.7"));
        assert_eq!(trusted.client_of(ip("::ffff:127.0.0.1"), &forwarded), ip("198.51.100.7"));
        assert_eq!(trusted.client_of(ip("127.0.0.1"), &headers(&[])), ip("127.0.0.1"));
        assert_eq!(trusted.client_of(ip("127.0.0.1"), &headers(&["junk, 10.0.0.5"])), ip("10.0.0.5"));
    }
}
