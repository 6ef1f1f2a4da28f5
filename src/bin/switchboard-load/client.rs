//! The HTTP side: one connection pool per source address (connections of `http1`), and calls
//! whose every failure is classified (status and error code, or the kind of transport error)
//! instead of panicking.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;

use crate::http1::{Answer, Conn, Request};

/// A request that did not get a 2xx answer.
#[derive(Debug)]
pub enum CallError {
    /// The server answered with an error status.
    Status {
        /// The HTTP status.
        status: u16,
        /// `error.code` of the envelope, or `-` when the body was not one.
        code: String,
        /// The `Retry-After` header, when present.
        retry_after: Option<Duration>,
    },
    /// No answer: connect, timeout, reset …
    Transport(String),
    /// A 2xx answer whose body was not what the API documents.
    Decode(&'static str),
}

impl CallError {
    /// The error's kind for the error table, prefixed with the route (e.g. `POST /send`).
    pub fn kind(&self, route: &str) -> String {
        match self {
            CallError::Status { status, code, .. } => format!("{route} {status} {code}"),
            CallError::Transport(kind) => format!("{route} transport {kind}"),
            CallError::Decode(what) => format!("{route} undecodable {what}"),
        }
    }

    /// The `error.code`, if the server answered with an envelope.
    pub fn code(&self) -> Option<&str> {
        match self {
            CallError::Status { code, .. } => Some(code),
            _ => None,
        }
    }

    /// How long the server asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CallError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    error: EnvelopeError,
}

#[derive(Deserialize)]
struct EnvelopeError {
    code: String,
}

/// The server under load, reached through one pool of kept-alive connections per source
/// address. A request takes an idle connection of its pool (or makes one) and gives it back
/// after a whole answer, so each poll loop and send loop in effect keeps one connection.
#[derive(Clone)]
pub struct Api {
    inner: Arc<Inner>,
}

struct Inner {
    /// Where connections go.
    server: SocketAddr,
    /// The `Host` header (the URL's authority).
    host: String,
    /// A path the base URL carries, put before every request's path.
    prefix: String,
    pools: Vec<Pool>,
}

/// Idle connections from one source address.
struct Pool {
    local: IpAddr,
    idle: Mutex<Vec<Conn>>,
}

impl Pool {
    /// An idle connection still open, if any.
    fn take(&self) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        while let Some(conn) = idle.pop() {
            if conn.reusable() {
                return Some(conn);
            }
        }
        None
    }

    fn put(&self, conn: Conn) {
        self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(conn);
    }
}

impl Api {
    /// Pools toward `base` (e.g. `http://127.0.0.1:8080`) from 127.0.0.1 … 127.0.0.`source_addrs`.
    pub fn new(base: &str, source_addrs: u8) -> Result<Self, String> {
        let rest =
            base.strip_prefix("http://").ok_or_else(|| format!("{base}: only http:// URLs are supported"))?;
        let (host, prefix) = match rest.find('/') {
            Some(slash) => (&rest[..slash], rest[slash..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let with_port = if host.rsplit_once(':').is_some_and(|(_, port)| port.parse::<u16>().is_ok()) {
            host.to_string()
        } else {
            format!("{host}:80")
        };
        // Resolved once: the generator only ever talks to one server.
        let server = with_port
            .to_socket_addrs()
            .map_err(|e| format!("{host}: {e}"))?
            .find(SocketAddr::is_ipv4)
            .ok_or_else(|| format!("{host}: no IPv4 address"))?;
        let pools = (1..=source_addrs.max(1))
            .map(|last| Pool { local: IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)), idle: Mutex::default() })
            .collect();
        Ok(Self {
            inner: Arc::new(Inner { server, host: host.to_string(), prefix: prefix.to_string(), pools }),
        })
    }

    /// `GET path` (path and query) with an optional bearer token; the body of a 2xx answer.
    pub async fn get(
        &self,
        slot: usize,
        path: &str,
        token: Option<&str>,
        timeout: Duration,
    ) -> Result<Vec<u8>, CallError> {
        self.call(slot, "GET", path, token, None, timeout).await
    }

    /// `POST path` with a JSON body and an optional bearer token; the body of a 2xx answer.
    pub async fn post(
        &self,
        slot: usize,
        path: &str,
        token: Option<&str>,
        body: &serde_json::Value,
        timeout: Duration,
    ) -> Result<Vec<u8>, CallError> {
        self.post_raw(slot, path, token, body.to_string().as_bytes(), timeout).await
    }

    /// `POST path` with a JSON body already serialised.
    pub async fn post_raw(
        &self,
        slot: usize,
        path: &str,
        token: Option<&str>,
        body: &[u8],
        timeout: Duration,
    ) -> Result<Vec<u8>, CallError> {
        self.call(slot, "POST", path, token, Some(body), timeout).await
    }

    /// One request on a pooled connection of `slot`'s source address, within `timeout`
    /// (connecting included, as reqwest's total timeout did).
    async fn call(
        &self,
        slot: usize,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Vec<u8>, CallError> {
        let inner = &*self.inner;
        // `new` makes at least one pool, so the index is always in range.
        let pool = &inner.pools[slot % inner.pools.len()];
        let prefixed;
        let path = if inner.prefix.is_empty() {
            path
        } else {
            prefixed = format!("{}{path}", inner.prefix);
            &prefixed
        };
        let request = Request { method, host: &inner.host, path, token, body };
        let exchange = async {
            let mut conn = match pool.take() {
                Some(conn) => conn,
                None => tokio::time::timeout(CONNECT_TIMEOUT, Conn::connect(pool.local, inner.server))
                    .await
                    .map_err(|_| CallError::Transport(TIMED_OUT.to_string()))?
                    .map_err(|failure| CallError::Transport(failure.kind()))?,
            };
            let (answer, reusable) =
                conn.exchange(&request).await.map_err(|failure| CallError::Transport(failure.kind()))?;
            if reusable {
                pool.put(conn);
            }
            Ok::<Answer, CallError>(answer)
        };
        let answer = tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| CallError::Transport(TIMED_OUT.to_string()))??;
        if (200..300).contains(&answer.status) {
            return Ok(answer.body);
        }
        let code = serde_json::from_slice::<Envelope>(&answer.body)
            .map_or_else(|_| "-".to_string(), |e| e.error.code);
        Err(CallError::Status { status: answer.status, code, retry_after: answer.retry_after })
    }
}

/// How long a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A timeout's kind, in the words reqwest used for it.
const TIMED_OUT: &str = "timeout (operation timed out)";

/// Decodes a 2xx body as `T`.
pub fn decode<'a, T: Deserialize<'a>>(body: &'a [u8], what: &'static str) -> Result<T, CallError> {
    serde_json::from_slice(body).map_err(|_| CallError::Decode(what))
}
