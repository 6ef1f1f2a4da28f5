//! Accepting connections and speaking HTTP/1 to them: what actix-web's `HttpServer` does, built
//! from the same parts (actix-server accepts on the worker threads, actix-http's `HttpService`
//! serves the `App`) with the same settings, plus two things `HttpServer` cannot do. Every
//! connection is read through [`http10::LengthlessPosts`], so that a body-less HTTP/1.0 `POST`
//! (what nginx sends upstream) is served instead of refused by actix-http with a bare `400`;
//! and through [`first_head::FirstHead`], so that a first request head actix-http would refuse
//! with a bare `400`, `408` or `431` gets the same status with the error envelope.
//!
//! [`serve`] mirrors `HttpServer::new(app).on_connect(..).listen(listener)?.run()` of actix-web
//! 4.18 line by line; where a value is not ours, it is `HttpServer`'s default.

/// `AsyncWrite` for a connection adapter that only changes what is read (`$adapter<S>`, with the
/// connection in its `inner` field): every write passes to the connection unchanged, and so
/// does the shutdown unless `shutdown:` gives the adapter's own (a closure of the adapter and
/// the context).
macro_rules! writes_pass_through {
    ($adapter:ident) => {
        $crate::transport::writes_pass_through!($adapter, shutdown: |this: &mut $adapter<S>, cx| {
            std::pin::Pin::new(&mut this.inner).poll_shutdown(cx)
        });
    };
    ($adapter:ident, shutdown: $shutdown:expr) => {
        impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for $adapter<S> {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                data: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                data: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, data)
            }

            fn is_write_vectored(&self) -> bool {
                self.inner.is_write_vectored()
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::pin::Pin::new(&mut self.get_mut().inner).poll_flush(cx)
            }

            fn poll_shutdown(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let shutdown = $shutdown;
                shutdown(self.get_mut(), cx)
            }
        }
    };
}
use writes_pass_through;

pub mod first_head;
pub mod http10;

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_http::error::DispatchError;
use actix_http::{HttpService, KeepAlive, Protocol, Request, Response};
use actix_server::Server;
use actix_service::{
    fn_service, map_config, IntoServiceFactory, Service, ServiceFactory, ServiceFactoryExt as _,
};
use actix_web::body::MessageBody;
use actix_web::dev::{AppConfig, Extensions};
use tokio::net::TcpStream;

use first_head::FirstHead;
use http10::LengthlessPosts;

/// Pending connections the kernel queues before they are accepted (`HttpServer`'s number).
const BACKLOG: u32 = 1024;

/// An accepted connection as actix-http reads it: the first head checked ([`first_head`]), and
/// every HTTP/1.0 `POST` given a length ([`http10`]).
type Connection = FirstHead<LengthlessPosts<TcpStream>>;

/// actix-http's head timeout: ours and a second (none when ours is none).
fn backstop(head_timeout: Duration) -> Duration {
    if head_timeout.is_zero() {
        head_timeout
    } else {
        head_timeout + Duration::from_secs(1)
    }
}

/// How the server accepts and serves connections.
#[derive(Debug, Clone, Copy)]
pub struct Transport {
    /// Worker threads, each with its own copy of the `App`.
    pub workers: usize,
    /// Open connections per worker; past it a worker stops accepting until one closes.
    pub max_connections_per_worker: usize,
    /// How long a client may take to send its first request head (then `408`).
    pub client_request_timeout: Duration,
    /// Seconds a stopping server lets in-flight requests finish.
    pub shutdown_timeout_secs: u64,
}

/// Starts serving `app` on `listener`, with the operating system's signals left to us (stop it
/// with the returned server's handle). `on_connect` sees every accepted connection first and may
/// put values in its requests' extensions.
pub fn serve<F, I, S, B>(
    listener: TcpListener,
    transport: Transport,
    on_connect: impl Fn(&TcpStream, &mut Extensions) + Send + Clone + 'static,
    app: F,
) -> std::io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig, Error = actix_web::Error, InitError = ()> + 'static,
    S::Response: Into<Response<B>> + 'static,
    S::Service: 'static,
    <S::Service as Service<Request>>::Future: 'static,
    B: MessageBody + 'static,
{
    let local_addr = listener.local_addr()?;
    // `std` listens with a backlog of 128, and actix-server leaves a listener it is given as it
    // is (`HttpServer::backlog` has no effect on `listen`); listening again sets ours.
    socket2::SockRef::from(&listener).listen(BACKLOG as i32)?;
    let builder = Server::build();
    let stopping = builder.graceful_shutdown_signal();
    let accept = move || {
        let stopping = stopping.clone();
        let on_connect = on_connect.clone();
        let app = app().into_factory().map_err(|error: actix_web::Error| error.error_response());
        let http = HttpService::build()
            // Idle keep-alive connections close at once when the server stops.
            .graceful_shutdown_signal(move || {
                let stopping = stopping.clone();
                async move { stopping.notified().await }
            })
            .keep_alive(KeepAlive::default())
            // `FirstHead` answers a late first head itself, with the envelope; actix's own timer
            // (a bare `408`) stays as a backstop a second later.
            .client_request_timeout(backstop(transport.client_request_timeout))
            .client_disconnect_timeout(Duration::from_secs(1))
            .h1_allow_half_closed(true)
            .local_addr(local_addr)
            .on_connect_ext(move |io: &Connection, extensions: &mut Extensions| {
                on_connect(io.get_ref().get_ref(), extensions)
            })
            .finish(map_config(app, move |()| app_config(local_addr)));
        let head_timeout = transport.client_request_timeout;
        let decoder = first_head::decoder_settings();
        fn_service(move |io: TcpStream| {
            let decoder = decoder.clone();
            async move {
                let peer_addr = io.peer_addr().ok();
                let io: Connection = FirstHead::new(LengthlessPosts::new(io), head_timeout, decoder);
                Ok::<_, DispatchError>((io, Protocol::Http1, peer_addr))
            }
        })
        .and_then(http)
    };
    Ok(builder
        .workers(transport.workers)
        .max_concurrent_connections(transport.max_connections_per_worker)
        .backlog(BACKLOG)
        .shutdown_timeout(transport.shutdown_timeout_secs)
        .disable_signals()
        // `HttpServer`'s name for it, which actix-server logs at start.
        .listen(format!("actix-web-service-{local_addr}"), listener, accept)?
        .run())
}

/// The connection facts an `App` is built with, as `HttpServer` gives them: plain HTTP, and
/// the listening address as host name (for `ConnectionInfo` of a request without `Host`).
fn app_config(local_addr: SocketAddr) -> AppConfig {
    // actix-web builds it with a crate-private constructor; this is the one actix-test uses.
    // Outside semver, so an actix-web update that changes it fails to build, not to run.
    AppConfig::__priv_test_new(false, local_addr.to_string(), local_addr)
}
