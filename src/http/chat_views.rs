//! Read-only chat views for the console and admin pages: `GET /api/queue`,
//! `GET /api/chats/history`, `GET /api/chats/{chat_id}`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::auth;
use crate::domain::{parse_non_negative, ChatId, PageLimit};
use crate::http::error::ApiError;
use crate::service::Services;

routes! {
    "/api/queue" => { get: queue },
    "/api/chats/history" => { get: history },
    "/api/chats/{chat_id}" => { get: details },
}

/// Query parameters of the history, read as text so a bad one gets an error naming it.
#[derive(Deserialize)]
struct HistoryQuery {
    limit: Option<String>,
    before: Option<String>,
    before_chat: Option<String>,
}

async fn queue(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = auth::principal(&services, &request, None).await?;
    let chats = services.waiting_queue(&principal).await?;
    Ok(HttpResponse::Ok().json(json!({ "chats": chats })))
}

async fn history(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let query: HistoryQuery = super::query::fields(&request)?;
    let principal = auth::principal(&services, &request, None).await?;
    let limit = PageLimit::parse(query.limit.as_deref())?;
    let before = parse_non_negative(query.before.as_deref(), "before")?;
    let before_chat = match query.before_chat.as_deref() {
        None | Some("") => String::new(),
        Some(id) => ChatId::parse(id, "before_chat")?.to_string(),
    };
    // With no chat the id test `id < ""` never holds: a time alone keeps chats closed before it.
    let before = before.map(|at| (at, before_chat));
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
