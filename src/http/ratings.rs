//! Rating a chat, and the per-agent report for admins.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth;
use crate::domain::{ChatId, RatingComment, Score};
use crate::http::error::ApiError;
use crate::service::Services;

routes! {
    "/api/chats/{chat_id}/rating" => { post: rate },
    "/api/admin/stats/agents" => { get: agent_stats },
}

async fn rate(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, fields) = auth::caller_and_fields(&services, &request, payload).await?;
    let chat_id = ChatId::parse(&path, "chat_id")?;
    let score = Score::parse(fields.required_integer("score")?)?;
    let comment = RatingComment::parse(fields.text("comment")?)?;
    let rating = services.rate_chat(&principal, chat_id, score, comment).await?;
    Ok(HttpResponse::Created().json(rating))
}

async fn agent_stats(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = auth::principal(&services, &request, None).await?;
    let agents = services.agent_stats(&principal).await?;
    Ok(HttpResponse::Ok().json(json!({ "agents": agents })))
}
