//! Web origins (`https://shop.example`, `http://127.0.0.1:8080`) and the rule deciding where the
//! widget may run: the allowlist of `cors.allowed_origins`, and this server's own pages.

use std::fmt;

use super::InvalidInput;

/// A web origin as browsers write it: `http` or `https`, a host, a port only when it is not the
/// scheme's default. Scheme and host are lower case, so two spellings of one origin compare
/// equal; nothing else (path, query, user info, wildcard) is part of one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin(String);

impl Origin {
    /// Longest origin accepted, in bytes (a DNS name is at most 253).
    pub const MAX_LEN: usize = 255;

    /// Parses `scheme://host[:port]`; `field` names the input in the error. A default port
    /// (`:80` for http, `:443` for https) is dropped, as browsers drop it.
    pub fn parse(text: &str, field: &'static str) -> Result<Self, InvalidInput> {
        let refuse = |why: &str| {
            InvalidInput::new(field, format!("must be an origin like https://shop.example: {why}"))
        };
        if text.len() > Self::MAX_LEN {
            return Err(InvalidInput::new(field, format!("must be at most {} characters", Self::MAX_LEN)));
        }
        let (scheme, authority) = text.split_once("://").ok_or_else(|| refuse("no http:// or https://"))?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return Err(refuse("the scheme is not http or https")),
        };
        for (mark, what) in [('/', "a path"), ('?', "a query"), ('#', "a fragment"), ('@', "user info")] {
            if authority.contains(mark) {
                return Err(refuse(&format!("it has {what}")));
            }
        }
        let (host, port) = split_port(authority).ok_or_else(|| refuse("the host or port is not valid"))?;
        let port = match port {
            None => None,
            Some(digits) => match digits.parse::<u16>() {
                Ok(port) if port > 0 && digits.len() <= 5 && digits.bytes().all(|b| b.is_ascii_digit()) => {
                    (port != default_port).then_some(port)
                }
                _ => return Err(refuse("the port is not a number from 1 to 65535")),
            },
        };
        let host = host.to_ascii_lowercase();
        Ok(Self(match port {
            Some(port) => format!("{scheme}://{host}:{port}"),
            None => format!("{scheme}://{host}"),
        }))
    }

    /// The origin as text, e.g. `https://shop.example`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Splits `host[:port]` or `[v6]:port`; `None` when the host holds anything a host name or an
/// address cannot (so no space, `;`, `,`, quote or `*` ever reaches a header built from it).
fn split_port(authority: &str) -> Option<(&str, Option<&str>)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let v6 =
            !inside.is_empty() && inside.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if !v6 {
            return None;
        }
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (&authority[..inside.len() + 2], port)
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let name = host.starts_with('[')
        || (!host.is_empty()
            && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')));
    name.then_some((host, port))
}

/// The sites allowed to embed the widget and call the API from a browser
/// (`cors.allowed_origins`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// `["*"]`: every site.
    Any,
    /// These sites only (none when empty).
    Only(Vec<Origin>),
}

impl Default for AllowedOrigins {
    /// Nobody: what a missing allowlist must mean.
    fn default() -> Self {
        Self::Only(Vec::new())
    }
}

impl AllowedOrigins {
    /// Parses the configured entries: `*` anywhere means any site; every other entry must be an
    /// origin. The error names the entry and what is wrong with it.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let origins = entries
            .iter()
            .filter(|entry| entry.as_str() != "*")
            .map(|entry| {
                Origin::parse(entry, "origin").map_err(|error| format!("{entry:?} {}", error.reason))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(if entries.iter().any(|entry| entry == "*") { Self::Any } else { Self::Only(origins) })
    }

    /// Whether `origin` is on the list (always, for `*`).
    pub fn contains(&self, origin: &Origin) -> bool {
        match self {
            Self::Any => true,
            Self::Only(origins) => origins.contains(origin),
        }
    }

    /// Whether the widget may run in a page of `embedding.origin`: an allowed site, or a page of
    /// this server itself (its origin as the browser sees it, or — through a proxy that hides
    /// it — a same-origin request whose `Origin` is that page's).
    pub fn admits(&self, embedding: &Embedding) -> bool {
        let origin = &embedding.origin;
        self.contains(origin)
            || embedding.own_origin.as_ref() == Some(origin)
            || (embedding.same_origin_request && embedding.request_origin.as_ref() == Some(origin))
    }
}

/// Where a widget says it runs, with what its request shows, for [`AllowedOrigins::admits`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embedding {
    /// The origin of the page embedding the widget, as the widget's frame learned it.
    pub origin: Origin,
    /// This server's own origin as the browser sees it, when known.
    pub own_origin: Option<Origin>,
    /// The request's `Origin` header, when it is an origin.
    pub request_origin: Option<Origin>,
    /// The browser said the request comes from a page of this server's origin
    /// (`Sec-Fetch-Site: same-origin`, which page scripts cannot set).
    pub same_origin_request: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(text: &str) -> Origin {
        Origin::parse(text, "origin").expect(text)
    }

    #[test]
    fn an_origin_is_lower_cased_and_loses_its_default_port() {
        assert_eq!(origin("HTTPS://Shop.Example").as_str(), "https://shop.example");
        assert_eq!(origin("https://shop.example:443").as_str(), "https://shop.example");
        assert_eq!(origin("http://shop.example:80").as_str(), "http://shop.example");
        assert_eq!(origin("http://shop.example:443").as_str(), "http://shop.example:443");
        assert_eq!(origin("http://127.0.0.1:8080").as_str(), "http://127.0.0.1:8080");
        assert_eq!(origin("http://[::1]:8080").as_str(), "http://[::1]:8080");
        assert_eq!(origin("https://[FD00::1]").as_str(), "https://[fd00::1]");
    }

    #[test]
    fn anything_but_scheme_host_and_port_is_refused_naming_the_field() {
        for bad in [
            "",
            "shop.example",
            "null",
            "ftp://shop.example",
            "javascript://x",
            "https://",
            "https://shop.example/",
            "https://shop.example/path",
            "https://shop.example?q",
            "https://shop.example#f",
            "https://user@shop.example",
            "https://shop.example:",
            "https://shop.example:0",
            "https://shop.example:65536",
            "https://shop.example:+80",
            "https://shop.example:80:80",
            "https://*.example",
            "https://shop example",
            "https://shop.example;",
            "https://shop,example",
            "https://'self'",
            "https://shop.example\"",
            "https://[::1",
            "https://[zz]",
            "https://[::1]x",
            "https://%73hop.example",
        ] {
            assert_eq!(Origin::parse(bad, "embed_origin").expect_err(bad).field, "embed_origin", "{bad}");
        }
        let long = format!("https://{}.example", "a".repeat(Origin::MAX_LEN));
        assert!(Origin::parse(&long, "embed_origin").expect_err("too long").reason.contains("at most"));
    }

    #[test]
    fn a_star_allows_any_site_and_a_bad_entry_is_named() {
        assert_eq!(AllowedOrigins::parse(&["https://a.example".into(), "*".into()]), Ok(AllowedOrigins::Any));
        let list = AllowedOrigins::parse(&["HTTPS://A.example".into()]).expect("valid");
        assert!(list.contains(&origin("https://a.example")));
        assert!(!list.contains(&origin("https://b.example")));
        let error = AllowedOrigins::parse(&["https://a.example; script-src *".into()]).expect_err("bad");
        assert!(error.contains("https://a.example; script-src *"), "{error}");
    }

    #[test]
    fn the_widget_runs_on_allowed_sites_and_on_this_servers_own_pages() {
        let list = AllowedOrigins::parse(&["https://shop.example".into()]).expect("valid");
        let at = |embed: &str| Embedding {
            origin: origin(embed),
            own_origin: Some(origin("https://chat.example")),
            request_origin: Some(origin("http://proxy.example:8000")),
            same_origin_request: false,
        };
        assert!(list.admits(&at("https://shop.example")));
        assert!(list.admits(&at("https://chat.example")), "this server's own page");
        assert!(!list.admits(&at("https://evil.example")));
        assert!(!list.admits(&at("http://proxy.example:8000")), "an Origin alone proves nothing");
        let same_origin = Embedding { same_origin_request: true, ..at("http://proxy.example:8000") };
        assert!(list.admits(&same_origin), "a page of this server reached through a proxy");
        let other = Embedding { same_origin_request: true, ..at("https://evil.example") };
        assert!(!list.admits(&other), "a same-origin request embedded elsewhere");
        assert!(AllowedOrigins::Any.admits(&at("https://evil.example")));
        assert!(
            !AllowedOrigins::default().admits(&Embedding { own_origin: None, ..at("https://chat.example") })
        );
    }
}
