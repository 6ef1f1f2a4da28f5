//! Operations endpoints.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::error::ApiError;
use crate::service::Services;

routes! {
    "/healthz" => { get: healthz },
    "/readyz" => { get: readyz },
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
