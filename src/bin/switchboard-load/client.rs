//! The HTTP side: one connection pool per source address, and calls whose every failure is
//! classified (status and error code, or the kind of transport error) instead of panicking.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;

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

/// The server under load, reached through one pool per source address.
#[derive(Clone)]
pub struct Api {
    base: String,
    clients: Vec<reqwest::Client>,
}

impl Api {
    /// Pools toward `base` (e.g. `http://127.0.0.1:8080`) from 127.0.0.1 … 127.0.0.`source_addrs`.
    pub fn new(base: &str, source_addrs: u8) -> Result<Self, reqwest::Error> {
        let clients = (1..=source_addrs.max(1))
            .map(|last| {
                reqwest::Client::builder()
                    .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
                    .tcp_nodelay(true)
                    .connect_timeout(Duration::from_secs(10))
                    .pool_max_idle_per_host(usize::MAX)
                    .pool_idle_timeout(Duration::from_secs(90))
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { base: base.trim_end_matches('/').to_string(), clients })
    }

    /// The pool of `slot` (actors are spread over the source addresses by their index).
    fn client(&self, slot: usize) -> &reqwest::Client {
        // `new` makes at least one pool, so the index is always in range.
        &self.clients[slot % self.clients.len()]
    }

    /// `GET path` (path and query) with an optional bearer token; the body of a 2xx answer.
    pub async fn get(
        &self,
        slot: usize,
        path: &str,
        token: Option<&str>,
        timeout: Duration,
    ) -> Result<impl AsRef<[u8]>, CallError> {
        let mut request = self.client(slot).get(format!("{}{path}", self.base)).timeout(timeout);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        finish(request.send().await).await
    }

    /// `POST path` with a JSON body and an optional bearer token; the body of a 2xx answer.
    pub async fn post(
        &self,
        slot: usize,
        path: &str,
        token: Option<&str>,
        body: &serde_json::Value,
        timeout: Duration,
    ) -> Result<impl AsRef<[u8]>, CallError> {
        let mut request = self
            .client(slot)
            .post(format!("{}{path}", self.base))
            .timeout(timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        finish(request.send().await).await
    }
}

/// Reads the answer: the body of a 2xx, or the classified error.
async fn finish(sent: Result<reqwest::Response, reqwest::Error>) -> Result<impl AsRef<[u8]>, CallError> {
    let response = sent.map_err(|error| CallError::Transport(transport_kind(&error)))?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = response.bytes().await.map_err(|error| CallError::Transport(transport_kind(&error)))?;
    if status.is_success() {
        return Ok(body);
    }
    let code = serde_json::from_slice::<Envelope>(&body).map_or_else(|_| "-".to_string(), |e| e.error.code);
    Err(CallError::Status { status: status.as_u16(), code, retry_after })
}

/// Decodes a 2xx body as `T`.
pub fn decode<T: DeserializeOwned>(body: &[u8], what: &'static str) -> Result<T, CallError> {
    serde_json::from_slice(body).map_err(|_| CallError::Decode(what))
}

/// A short name for a transport failure: reqwest's category and the underlying I/O error kind
/// (`connect ConnectionRefused`, `timeout`, `body ConnectionReset` …).
fn transport_kind(error: &reqwest::Error) -> String {
    let category = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_body() {
        "body"
    } else if error.is_request() {
        "request"
    } else {
        "other"
    };
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return format!("{category} {:?}", io.kind());
        }
        source = cause.source();
    }
    category.to_string()
}
