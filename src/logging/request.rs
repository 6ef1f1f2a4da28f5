//! The access log: one line per request, written when its answer has been sent (so a held poll
//! is logged once, with its whole hold), under the target `switchboard::request`. It carries
//! the method, the path without its query string (a token may travel there), the status, the
//! bytes sent, the time taken, the client address (`server.trusted_proxies` honoured) and a
//! request id, which the answer also carries as `X-Request-Id`.

use std::net::IpAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use futures_util::future::LocalBoxFuture;

/// The log target of the access log.
pub const TARGET: &str = "switchboard::request";

/// The status logged for a request whose client left before it was answered (as nginx does).
const CLIENT_WENT_AWAY: u16 = 499;

/// The header that carries a request's id back to the client.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Whether the access log is on (`RUST_LOG` may leave the target out); when off the
/// middleware is not mounted at all.
pub fn enabled() -> bool {
    log::log_enabled!(target: TARGET, log::Level::Info)
}

/// The middleware (for `actix_web::middleware::from_fn`). Its future is boxed: `from_fn` puts
/// the middleware's future inside every request's, and `Condition` sizes its own by the larger
/// of its two arms even with the log off, so every held poll's connection would otherwise
/// carry room for the entry it never writes.
pub fn log_requests<B: MessageBody + 'static>(
    request: ServiceRequest,
    next: Next<B>,
) -> LocalBoxFuture<'static, Result<ServiceResponse<BoxBody>, actix_web::Error>> {
    Box::pin(logged(request, next))
}

/// The request through the rest of the app, its entry written when the answer is done.
async fn logged(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let mut entry = Entry {
        method: request.method().clone(),
        path: request.path().to_string(),
        client_ip: crate::http::client_ip::client_ip(request.request()),
        request_id: uuid::Uuid::new_v4().simple().to_string(),
        status: None,
        bytes: 0,
        started,
    };
    let mut response = match next.call(request).await {
        Ok(response) => response.map_into_boxed_body(),
        Err(error) => {
            entry.status = Some(error.as_response_error().status_code());
            return Err(error);
        }
    };
    if let Ok(value) = HeaderValue::from_str(&entry.request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    entry.status = Some(response.status());
    Ok(response.map_body(move |_, body| BoxBody::new(LoggedBody { body, entry })))
}

/// What the line says; written when the body is dropped (sent, or the client went away).
struct Entry {
    method: Method,
    path: String,
    client_ip: IpAddr,
    request_id: String,
    /// `None` while no answer is made: the client went away first (logged as 499).
    status: Option<StatusCode>,
    bytes: u64,
    started: Instant,
}

impl Drop for Entry {
    fn drop(&mut self) {
        let status = self.status.map_or(CLIENT_WENT_AWAY, |status| status.as_u16());
        let duration_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        log::info!(
            target: TARGET,
            method = self.method.as_str(),
            path = self.path.as_str(),
            status = status,
            bytes = self.bytes,
            duration_ms = duration_ms,
            client_ip:display = self.client_ip,
            request_id = self.request_id.as_str();
            "{} {} {}",
            self.method,
            self.path,
            status
        );
    }
}

/// A response body that counts the bytes sent through it.
struct LoggedBody {
    body: BoxBody,
    entry: Entry,
}

impl MessageBody for LoggedBody {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        let next = Pin::new(&mut this.body).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &next {
            this.entry.bytes += chunk.len() as u64;
        }
        next
    }
}
