//! Operations endpoints.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::client_ip::client_ip;
use crate::http::error::ApiError;
use crate::metrics::{render, Gauge};
use crate::service::Services;

routes! {
    "/healthz" => { get: healthz },
    "/readyz" => { get: readyz },
    "/metrics" => { get: metrics },
}

/// The process is up and serving HTTP.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The node can serve: it is not stopping and its store answers (see `service::readiness`).
async fn readyz(services: web::Data<Services>) -> Result<HttpResponse, ApiError> {
    match services.readiness().await {
        Ok(()) => Ok(HttpResponse::Ok().json(json!({ "status": "ready" }))),
        Err(why) => Err(ApiError::unavailable("not_ready", format!("This node is not ready: {why}."), 2)),
    }
}

/// Prometheus text format, for the addresses in `metrics.allowed_from`. Gauges of the present
/// moment are read now; when the store does not answer they are left out and
/// `switchboard_vitals_up` is 0.
async fn metrics(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    if !services.settings.metrics.allowed_from.contains(client_ip(&request)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Metrics are only served to the addresses in metrics.allowed_from.",
        ));
    }
    let gauges = match services.vitals().await {
        Ok(mut gauges) => {
            gauges.push(Gauge::new("switchboard_vitals_up", "1 when the store answered this scrape.", 1.0));
            gauges
        }
        Err(error) => {
            log::warn!("metrics: the present state could not be read: {error}");
            vec![Gauge::new("switchboard_vitals_up", "1 when the store answered this scrape.", 0.0)]
        }
    };
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(render(&gauges)))
}
