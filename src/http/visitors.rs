//! `POST /api/visitors`: an anonymous visitor and its token.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::body;
use crate::error::ApiError;
use crate::service::Services;

/// Routes of this module.
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/visitors").route(web::post().to(create)));
}

async fn create(
    services: web::Data<Services>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let bytes = body::read_limited(&request, payload, services.settings.server.max_body_bytes).await?;
    let fields = body::parse(&request, &bytes)?;
    let visitor = services.create_visitor(fields.text("name")?).await?;
    Ok(HttpResponse::Created().json(json!({
        "visitor_id": visitor.visitor_id,
        "name": visitor.name,
        "token": visitor.token,
    })))
}
