//! The per-address checks that run before any handler: the connection cap and the request
//! rate. Mounted inside CORS, so a refusal still carries the headers a cross-origin widget
//! needs to read it (and back off by its `Retry-After`).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::{web, ResponseError};

use super::ip_connections::ConnectionSlot;
use super::{too_many, Guard};
use crate::http::client_ip::client_ip;

/// How long a client over the connection cap is told to wait.
const CONNECTIONS_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

/// `from_fn` middleware: 429 `too_many_connections` (and close) on a connection that came
/// past the cap, 429 `rate_limited` past the request rate; otherwise the handler.
pub async fn limit_requests(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if let Some(guard) = request.app_data::<web::Data<Guard>>().cloned() {
        let over_cap = request.conn_data::<ConnectionSlot>().is_some_and(ConnectionSlot::is_over);
        let refusal = if over_cap {
            crate::metrics::limit_hit("connections_per_ip");
            Some(too_many(
                "too_many_connections",
                "Too many open connections from your address.",
                CONNECTIONS_RETRY_AFTER,
            ))
        } else {
            guard.check_request(client_ip(request.request())).err()
        };
        if let Some(error) = refusal {
            let mut response = error.error_response();
            if over_cap {
                response.head_mut().set_connection_type(ConnectionType::Close);
            }
            return Ok(request.into_response(response).map_into_right_body());
        }
    }
    next.call(request).await.map(ServiceResponse::map_into_left_body)
}
