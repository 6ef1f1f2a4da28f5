//! A visitor's own views: `GET /api/visitors/me` (who it is) and `GET /api/visitors/me/chats`
//! (its chats, newest first — on a verified customer's every device the same).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth;
use crate::http::error::ApiError;
use crate::service::Services;

routes! {
    "/api/visitors/me" => { get: me },
    "/api/visitors/me/chats" => { get: chats },
}

async fn me(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = auth::principal(&services, &request, None).await?;
    Ok(HttpResponse::Ok().json(services.visitor_self(&principal).await?))
}

async fn chats(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = auth::principal(&services, &request, None).await?;
    let (before, limit) = super::query::chat_page(&request)?;
    let chats = services.own_chats(&principal, before, limit).await?;
    Ok(HttpResponse::Ok().json(json!({ "chats": chats })))
}
