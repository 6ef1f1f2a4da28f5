//! `POST /api/admin/announcements`: an admin's message to everyone online; `GET` lists the
//! past ones.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::auth;
use crate::domain::{MessageBody, PageLimit};
use crate::http::error::ApiError;
use crate::service::Services;

routes! {
    "/api/admin/announcements" => { post: announce, get: list },
}

async fn announce(
    services: web::Data<Services>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, fields) = auth::caller_and_fields(&services, &request, payload).await?;
    let text = MessageBody::parse(fields.required_text("body")?, services.settings.chat.max_message_chars)?;
    let id = services.announce(&principal, text).await?;
    Ok(HttpResponse::Created().json(json!({ "announcement_id": id })))
}

/// Query parameters of the list.
#[derive(Deserialize)]
struct ListQuery {
    limit: Option<String>,
}

async fn list(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let query: ListQuery = super::query::fields(&request)?;
    let principal = auth::principal(&services, &request, None).await?;
    let limit = PageLimit::parse(query.limit.as_deref())?;
    let announcements = services.announcements(&principal, limit).await?;
    Ok(HttpResponse::Ok().json(json!({ "announcements": announcements })))
}
