//! Read-only chat views for the console and admin pages: `GET /api/queue`,
//! `GET /api/chats/history`, `GET /api/chats/{chat_id}`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth;
use crate::domain::ChatId;
use crate::http::error::ApiError;
use crate::service::Services;

routes! {
    "/api/queue" => { get: queue },
    "/api/chats/history" => { get: history },
    "/api/chats/{chat_id}" => { get: details },
}

async fn queue(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = auth::principal(&services, &request, None).await?;
    let chats = services.waiting_queue(&principal).await?;
    Ok(HttpResponse::Ok().json(json!({ "chats": chats })))
}

async fn history(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = auth::principal(&services, &request, None).await?;
    let (before, limit) = super::query::chat_page(&request)?;
    let chats = services.chat_history(&principal, before, limit).await?;
    Ok(HttpResponse::Ok().json(json!({ "chats": chats })))
}

async fn details(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth::principal(&services, &request, None).await?;
    let chat_id = ChatId::parse(&path, "chat_id")?;
    let chat = services.chat_details(&principal, chat_id).await?;
    Ok(HttpResponse::Ok().json(chat))
}
