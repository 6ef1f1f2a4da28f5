//! A visitor's own views: `GET /api/visitors/me` (who it is) and `GET /api/visitors/me/chats`
//! (its chats, newest first — on a verified customer's every device the same).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::auth;
use crate::domain::{parse_non_negative, ChatId, PageLimit};
use crate::http::error::ApiError;
use crate::service::Services;

routes! {
    "/api/visitors/me" => { get: me },
    "/api/visitors/me/chats" => { get: chats },
}

/// Query parameters of the chat list, read as text so a bad one gets an error naming it.
#[derive(Deserialize)]
struct ChatsQuery {
    limit: Option<String>,
    before: Option<String>,
    before_chat: Option<String>,
}

async fn me(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = auth::principal(&services, &request, None).await?;
    Ok(HttpResponse::Ok().json(services.visitor_self(&principal).await?))
}

async fn chats(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let query: ChatsQuery = super::query::fields(&request)?;
    let principal = auth::principal(&services, &request, None).await?;
    let limit = PageLimit::parse(query.limit.as_deref())?;
    let before = parse_non_negative(query.before.as_deref(), "before")?;
    let before_chat = match query.before_chat.as_deref() {
        None | Some("") => String::new(),
        Some(id) => ChatId::parse(id, "before_chat")?.to_string(),
    };
    // With no chat the id test `id < ""` never holds: a time alone keeps chats made before it.
    let before = before.map(|at| (at, before_chat));
    let chats = services.own_chats(&principal, before, limit).await?;
    Ok(HttpResponse::Ok().json(json!({ "chats": chats })))
}
