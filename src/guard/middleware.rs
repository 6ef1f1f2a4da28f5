//! The per-address checks that run before any handler: the connection cap and the request
//! rate. Mounted inside CORS, so a refusal still carries the headers a cross-origin widget
//! needs to read it (and back off by its `Retry-After`).
//!
//! A plain `Transform` rather than `middleware::from_fn`: a held poll keeps its request's
//! future for the whole hold, and this one adds no allocation and next to no bytes to it. A
//! refusal is boxed: answered at once, it would otherwise size every passed request's future
//! (and CORS's box around it) by a whole response.

use actix_web::body::EitherBody;
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::ConnectionType;
use actix_web::{web, ResponseError};
use futures_util::future::{ready, Either, FutureExt as _, LocalBoxFuture, MapOk, Ready, TryFutureExt};

use super::ip_connections::ConnectionSlot;
use super::{too_many, Guard};
use crate::http::client_ip::client_ip;

/// How long a client over the connection cap is told to wait.
const CONNECTIONS_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

/// The middleware: 429 `too_many_connections` (and close) on a connection that came past the
/// cap, 429 `rate_limited` past the request rate; otherwise the handler.
pub struct LimitRequests;

impl<S, B> Transform<S, ServiceRequest> for LimitRequests
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = LimitRequestsService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(LimitRequestsService { service }))
    }
}

/// The service [`LimitRequests`] wraps around the app.
pub struct LimitRequestsService<S> {
    service: S,
}

type Passed<B> = fn(ServiceResponse<B>) -> ServiceResponse<EitherBody<B>>;

/// A refusal, answered at once.
type Refused<B> = LocalBoxFuture<'static, Result<ServiceResponse<EitherBody<B>>, actix_web::Error>>;

impl<S, B> Service<ServiceRequest> for LimitRequestsService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = Either<Refused<B>, MapOk<S::Future, Passed<B>>>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        match refusal(&request) {
            Some(refused) => {
                Either::Left(ready(Ok(request.into_response(refused).map_into_right_body())).boxed_local())
            }
            None => {
                let passed: Passed<B> = ServiceResponse::map_into_left_body;
                Either::Right(self.service.call(request).map_ok(passed))
            }
        }
    }
}

/// The refusal `request` gets, if any.
fn refusal(request: &ServiceRequest) -> Option<actix_web::HttpResponse> {
    let guard = request.app_data::<web::Data<Guard>>()?;
    if request.conn_data::<ConnectionSlot>().is_some_and(ConnectionSlot::is_over) {
        crate::metrics::limit_hit("connections_per_ip");
        let mut response = too_many(
            "too_many_connections",
            "Too many open connections from your address.",
            CONNECTIONS_RETRY_AFTER,
        )
        .error_response();
        response.head_mut().set_connection_type(ConnectionType::Close);
        return Some(response);
    }
    guard.check_request(client_ip(request.request())).err().map(|error| error.error_response())
}
