//! The HTTP side: one connection pool per source address (connections of `http1`), and calls
//! whose every failure is classified (status and error code, or the kind of transport error)
//! instead of panicking.

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;

use crate::http1::{Answer, Conn, Failure, Request};

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

    /// Whether a client rides this out by trying again (the same request, with the same
    /// `client_msg_id` for a send): no answer at all, 429, or 503.
    pub fn is_transient(&self) -> bool {
        match self {
            CallError::Transport(_) => true,
            CallError::Status { status, .. } => *status == 429 || *status == 503,
            CallError::Decode(_) => false,
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

/// The servers under load: one node, or several behind this client acting as a load balancer
/// without sticky sessions — every request goes to the next node in turn, and a node that
/// refuses the connection (a killed one) passes the request on to the one after it.
///
/// Each node is reached through one pool of kept-alive connections per source address. A
/// request takes an idle connection of its pool (or makes one) and gives it back after a whole
/// answer, so with one node each poll loop and send loop in effect keeps one connection.
#[derive(Clone)]
pub struct Api {
    inner: Arc<Inner>,
}

struct Inner {
    nodes: Vec<Node>,
    /// Round-robin position: the node of the next request is this modulo the node count.
    next: AtomicUsize,
    /// Requests passed on to another node because theirs refused the connection.
    rerouted: AtomicU64,
}

/// One node: where its connections go and what it answered.
struct Node {
    /// Its base URL as given.
    url: String,
    /// Where connections go.
    server: SocketAddr,
    /// The `Host` header (the URL's authority).
    host: String,
    /// A path the base URL carries, put before every request's path.
    prefix: String,
    pools: Vec<Pool>,
    /// Requests it answered (any status).
    answered: AtomicU64,
    /// Connections it refused.
    refused: AtomicU64,
}

/// Why a node did not answer.
enum NodeFailure {
    /// It refused the connection: nothing was sent, the next node may take the request.
    Refused,
    /// Anything else, as the caller sees it.
    Failed(CallError),
}

/// What one node did over a run, for the summary.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NodeCount {
    /// Its base URL.
    pub url: String,
    /// Requests it answered (any status).
    pub answered: u64,
    /// Connections it refused (each request then went to the next node).
    pub refused: u64,
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

impl Node {
    /// Pools toward `base` (e.g. `http://127.0.0.1:8080`) from 127.0.0.1 … 127.0.0.`source_addrs`.
    fn new(base: &str, source_addrs: u8) -> Result<Self, String> {
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
        // Resolved once: a node's address does not change during a run.
        let server = with_port
            .to_socket_addrs()
            .map_err(|e| format!("{host}: {e}"))?
            .find(SocketAddr::is_ipv4)
            .ok_or_else(|| format!("{host}: no IPv4 address"))?;
        let pools = (1..=source_addrs.max(1))
            .map(|last| Pool { local: IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)), idle: Mutex::default() })
            .collect();
        Ok(Self {
            url: base.to_string(),
            server,
            host: host.to_string(),
            prefix: prefix.to_string(),
            pools,
            answered: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        })
    }

    /// One request on a pooled connection of `slot`'s source address.
    async fn exchange(&self, slot: usize, request: &Request<'_>) -> Result<Answer, NodeFailure> {
        // `Node::new` makes at least one pool, so the index is always in range.
        let pool = &self.pools[slot % self.pools.len()];
        let prefixed;
        let path = if self.prefix.is_empty() {
            request.path
        } else {
            prefixed = format!("{}{}", self.prefix, request.path);
            &prefixed
        };
        let request = Request { host: &self.host, path, ..*request };
        let mut conn = match pool.take() {
            Some(conn) => conn,
            None => match tokio::time::timeout(CONNECT_TIMEOUT, Conn::connect(pool.local, self.server)).await
            {
                Err(_) => return Err(NodeFailure::Failed(CallError::Transport(TIMED_OUT.to_string()))),
                Ok(Err(Failure::Connect(ErrorKind::ConnectionRefused))) => {
                    self.refused.fetch_add(1, Ordering::Relaxed);
                    return Err(NodeFailure::Refused);
                }
                Ok(Err(failure)) => return Err(NodeFailure::Failed(CallError::Transport(failure.kind()))),
                Ok(Ok(conn)) => conn,
            },
        };
        let (answer, reusable) = conn
            .exchange(&request)
            .await
            .map_err(|failure| NodeFailure::Failed(CallError::Transport(failure.kind())))?;
        if reusable {
            pool.put(conn);
        }
        self.answered.fetch_add(1, Ordering::Relaxed);
        Ok(answer)
    }
}

impl Api {
    /// Pools toward each node of `bases` — one base URL (e.g. `http://127.0.0.1:8080`) or
    /// several separated by commas — from 127.0.0.1 … 127.0.0.`source_addrs`.
    pub fn new(bases: &str, source_addrs: u8) -> Result<Self, String> {
        let nodes = bases
            .split(',')
            .map(str::trim)
            .filter(|base| !base.is_empty())
            .map(|base| Node::new(base, source_addrs))
            .collect::<Result<Vec<_>, _>>()?;
        if nodes.is_empty() {
            return Err(format!("{bases:?}: no server URL"));
        }
        Ok(Self { inner: Arc::new(Inner { nodes, next: AtomicUsize::new(0), rerouted: AtomicU64::new(0) }) })
    }

    /// What each node answered and refused so far, in the order the URLs were given.
    pub fn node_counts(&self) -> Vec<NodeCount> {
        self.inner
            .nodes
            .iter()
            .map(|node| NodeCount {
                url: node.url.clone(),
                answered: node.answered.load(Ordering::Relaxed),
                refused: node.refused.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Requests passed on to another node because theirs refused the connection.
    pub fn rerouted(&self) -> u64 {
        self.inner.rerouted.load(Ordering::Relaxed)
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

    /// One request to the next node in turn, on a pooled connection of `slot`'s source
    /// address, within `timeout` (connecting included, as reqwest's total timeout did). A node
    /// that refuses the connection hands the request to the next one; nothing was sent to it,
    /// so this is safe for any request.
    async fn call(
        &self,
        slot: usize,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Vec<u8>, CallError> {
        let answer =
            self.answer(slot, &Request { method, host: "", path, token, body, extra: &[] }, timeout).await?;
        if (200..300).contains(&answer.status) {
            return Ok(answer.body);
        }
        Err(status_error(&answer))
    }

    /// `request` (its host is filled in by the node) and its whole answer, whatever the
    /// status: nchan's subscriber tells a timeout (408) from a message by it, and carries its
    /// cursor in headers.
    pub async fn answer(
        &self,
        slot: usize,
        request: &Request<'_>,
        timeout: Duration,
    ) -> Result<Answer, CallError> {
        let inner = &*self.inner;
        let count = inner.nodes.len();
        let first = if count == 1 { 0 } else { inner.next.fetch_add(1, Ordering::Relaxed) % count };
        let exchange = async {
            for step in 0..count {
                let node = &inner.nodes[(first + step) % count];
                match node.exchange(slot, request).await {
                    Ok(answer) => return Ok(answer),
                    Err(NodeFailure::Failed(error)) => return Err(error),
                    Err(NodeFailure::Refused) if step + 1 < count => {
                        inner.rerouted.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(NodeFailure::Refused) => {}
                }
            }
            Err(CallError::Transport(format!("connect {:?}", ErrorKind::ConnectionRefused)))
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| CallError::Transport(TIMED_OUT.to_string()))?
    }
}

/// The error of an answer outside 2xx: its status, and the envelope's code when it has one.
pub fn status_error(answer: &Answer) -> CallError {
    let code =
        serde_json::from_slice::<Envelope>(&answer.body).map_or_else(|_| "-".to_string(), |e| e.error.code);
    CallError::Status { status: answer.status, code, retry_after: answer.retry_after }
}

/// How long a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A timeout's kind, in the words reqwest used for it.
const TIMED_OUT: &str = "timeout (operation timed out)";

/// Decodes a 2xx body as `T`.
pub fn decode<'a, T: Deserialize<'a>>(body: &'a [u8], what: &'static str) -> Result<T, CallError> {
    serde_json::from_slice(body).map_err(|_| CallError::Decode(what))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A node that answers every request with `200 ok`; its base URL.
    async fn answering_node() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    let mut buffer = [0u8; 1024];
                    while let Ok(read) = stream.read(&mut buffer).await {
                        if read == 0 {
                            break;
                        }
                        seen.extend_from_slice(&buffer[..read]);
                        while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                            seen.drain(..end + 4);
                            let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                            if stream.write_all(answer).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        url
    }

    /// The base URL of a port nothing listens on.
    async fn dead_node() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        format!("http://{}", listener.local_addr().expect("address"))
    }

    #[tokio::test]
    async fn requests_go_round_the_nodes_and_a_refusing_node_passes_them_on() {
        let (first, dead, last) = (answering_node().await, dead_node().await, answering_node().await);
        let api = Api::new(&format!("{first},{dead}, {last}"), 1).expect("api");
        for _ in 0..6 {
            let body = api.get(0, "/healthz", None, Duration::from_secs(5)).await.expect("answered");
            assert_eq!(body, b"ok");
        }
        let counts: Vec<(u64, u64)> = api.node_counts().iter().map(|n| (n.answered, n.refused)).collect();
        assert_eq!(counts, vec![(2, 0), (0, 2), (4, 0)]);
        assert_eq!(api.rerouted(), 2);
    }

    #[tokio::test]
    async fn when_every_node_refuses_the_request_fails_as_refused() {
        let api = Api::new(&format!("{},{}", dead_node().await, dead_node().await), 1).expect("api");
        let error = api.get(0, "/healthz", None, Duration::from_secs(5)).await.expect_err("refused");
        assert_eq!(error.kind("GET /healthz"), "GET /healthz transport connect ConnectionRefused");
        assert!(error.is_transient());
        assert_eq!(api.rerouted(), 1);
    }
}
