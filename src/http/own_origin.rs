//! This server's own origin as the browser sees it, found in one place for the two rules that
//! need it: CORS (a page of this server may always call the API) and where the widget may run.
//!
//! In order: `server.public_url` when set; else, when the TCP peer is a trusted proxy
//! (`server.trusted_proxies`) that sent `X-Forwarded-Host`, that host (first value) with the
//! scheme of `X-Forwarded-Proto` (first value; else this connection's); else this connection's
//! scheme and the `Host` header. A proxy that rewrites `Host` and says nothing makes the last one
//! wrong: that is what `public_url` is for.

use actix_web::dev::RequestHead;
use actix_web::http::header::{self, HeaderMap};

use crate::domain::{AddressList, Origin};

/// The scheme of every connection this server accepts: it listens on plain TCP only (TLS ends
/// at a proxy, which says so with `X-Forwarded-Proto`).
const CONNECTION_SCHEME: &str = "http";

/// What finds the own origin of a request: built once at start from the settings.
#[derive(Debug, Clone, Default)]
pub struct OwnOrigin {
    /// `server.public_url`, parsed.
    public_url: Option<Origin>,
    /// Whose `X-Forwarded-Host` and `X-Forwarded-Proto` are believed (`server.trusted_proxies`).
    trusted_proxies: AddressList,
}

impl OwnOrigin {
    /// The rule for this `public_url` and these proxies.
    pub fn new(public_url: Option<Origin>, trusted_proxies: AddressList) -> Self {
        Self { public_url, trusted_proxies }
    }

    /// This server's origin as the browser that sent `head` sees it; `None` when the request
    /// does not say (no `Host`, or one that is no host).
    pub fn of(&self, head: &RequestHead) -> Option<Origin> {
        if let Some(public) = &self.public_url {
            return Some(public.clone());
        }
        let trusted = head.peer_addr.is_some_and(|peer| self.trusted_proxies.contains(peer.ip()));
        let headers = &head.headers;
        if let (true, Some(host)) = (trusted, first_value(headers, "x-forwarded-host")) {
            let scheme = first_value(headers, "x-forwarded-proto").unwrap_or(CONNECTION_SCHEME);
            return Origin::parse(&format!("{scheme}://{host}"), "x-forwarded-host").ok();
        }
        let host = headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .or_else(|| head.uri.authority().map(|authority| authority.as_str()))?;
        Origin::parse(&format!("{CONNECTION_SCHEME}://{host}"), "host").ok()
    }
}

/// The first entry of a header that proxies append to (`a, b` or several lines), trimmed.
fn first_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let value = headers.get(name)?.to_str().ok()?;
    let first = value.split(',').next()?.trim();
    (!first.is_empty()).then_some(first)
}

/// Whether the browser says `head` comes from a page of this server's origin. Browsers set
/// `Sec-Fetch-Site` and page scripts cannot; older browsers do not send it at all.
pub fn is_same_origin_request(head: &RequestHead) -> bool {
    head.headers
        .get("sec-fetch-site")
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"same-origin"))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn own(
        public_url: Option<&str>,
        trusted: &[&str],
        peer: &str,
        headers: &[(&str, &str)],
    ) -> Option<String> {
        let trusted = AddressList::parse(trusted).expect("valid");
        let public = public_url.map(|url| Origin::parse(url, "public_url").expect("valid"));
        let mut request = TestRequest::default().peer_addr(peer.parse().expect("address"));
        for &(name, value) in headers {
            request = request.insert_header((name, value));
        }
        let request = request.to_http_request();
        OwnOrigin::new(public, trusted).of(request.head()).map(|origin| origin.to_string())
    }

    #[test]
    fn the_public_url_wins_over_every_header() {
        let headers = [("host", "127.0.0.1:8080"), ("x-forwarded-host", "other.example")];
        let found = own(Some("https://chat.example"), &["127.0.0.1"], "127.0.0.1:5000", &headers);
        assert_eq!(found.as_deref(), Some("https://chat.example"));
    }

    #[test]
    fn a_trusted_proxy_names_the_host_and_scheme_and_an_untrusted_peer_does_not() {
        let headers = [
            ("host", "127.0.0.1:8080"),
            ("x-forwarded-host", "Proxy.example:8443, inner.example"),
            ("x-forwarded-proto", "https"),
        ];
        let found = own(None, &["127.0.0.1"], "127.0.0.1:5000", &headers);
        assert_eq!(found.as_deref(), Some("https://proxy.example:8443"));
        let found = own(None, &["127.0.0.1"], "127.0.0.1:5000", &headers[..2]);
        assert_eq!(found.as_deref(), Some("http://proxy.example:8443"), "no proto: this connection's");
        let found = own(None, &[], "127.0.0.1:5000", &headers);
        assert_eq!(found.as_deref(), Some("http://127.0.0.1:8080"), "untrusted: the Host header");
        let found = own(None, &["127.0.0.1"], "127.0.0.1:5000", &[("x-forwarded-host", "a b")]);
        assert_eq!(found, None, "a forwarded host that is no host");
    }

    #[test]
    fn without_a_host_there_is_no_own_origin() {
        assert_eq!(own(None, &[], "127.0.0.1:5000", &[]), None);
        assert_eq!(own(None, &[], "127.0.0.1:5000", &[("host", "x;y")]), None);
    }

    #[test]
    fn only_sec_fetch_site_same_origin_is_a_same_origin_request() {
        let with =
            |value: &str| TestRequest::default().insert_header(("sec-fetch-site", value)).to_http_request();
        assert!(is_same_origin_request(with("same-origin").head()));
        assert!(!is_same_origin_request(with("same-site").head()));
        assert!(!is_same_origin_request(with("cross-site").head()));
        assert!(!is_same_origin_request(TestRequest::default().to_http_request().head()));
    }
}
