//! Starting and closing chats.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth;
use crate::domain::{AgentId, ChatId, VisitorId};
use crate::http::error::ApiError;
use crate::service::chats::StartOutcome;
use crate::service::Services;

routes! {
    "/api/chats" => { post: start },
    "/api/chats/invite" => { post: invite },
    "/api/chats/{chat_id}/transfer" => { post: transfer },
    "/api/chats/{chat_id}/close" => { post: close },
    "/api/chats/{chat_id}/typing" => { post: typing },
    "/api/chats/{chat_id}/read" => { post: read },
}

async fn start(
    services: web::Data<Services>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, fields) = auth::caller_and_fields(&services, &request, payload).await?;
    let agent_id = fields.text("agent_id")?.map(|id| AgentId::parse(id, "agent_id")).transpose()?;
    let lang = super::email::lang_field(&fields)?;
    let prechat = super::prechat::answers_field(&fields)?;
    let chat = services.start_chat(&principal, agent_id, lang, prechat).await?;
    let (status, agent, position) = match chat.outcome {
        StartOutcome::Assigned(agent) => ("open", Some(agent), None),
        StartOutcome::Queued(position) => ("queued", None, Some(position)),
    };
    Ok(HttpResponse::Created().json(json!({
        "chat_id": chat.chat_id,
        "status": status,
        "agent": agent,
        "position": position,
        "seq": chat.seq,
    })))
}

async fn close(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, _) = auth::caller_and_fields(&services, &request, payload).await?;
    let chat_id = ChatId::parse(&path, "chat_id")?;
    let closed = services.close_chat(&principal, chat_id).await?;
    Ok(HttpResponse::Ok().json(json!({
        "chat_id": closed.chat_id,
        "seq": closed.seq,
        "reason": closed.reason,
    })))
}

async fn typing(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, fields) = auth::caller_and_fields(&services, &request, payload).await?;
    let chat_id = ChatId::parse(&path, "chat_id")?;
    let typing = fields.boolean("typing")?.unwrap_or(true);
    services.set_typing(&principal, chat_id, typing).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn read(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, fields) = auth::caller_and_fields(&services, &request, payload).await?;
    let chat_id = ChatId::parse(&path, "chat_id")?;
    let seq = fields.required_integer("seq")?;
    services.mark_read(&principal, chat_id, seq).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn invite(
    services: web::Data<Services>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, fields) = auth::caller_and_fields(&services, &request, payload).await?;
    let visitor = VisitorId::parse(fields.required_text("visitor_id")?, "visitor_id")?;
    let (chat_id, seq) = services.invite(&principal, visitor).await?;
    Ok(HttpResponse::Created().json(json!({ "chat_id": chat_id, "seq": seq })))
}

async fn transfer(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, fields) = auth::caller_and_fields(&services, &request, payload).await?;
    let chat_id = ChatId::parse(&path, "chat_id")?;
    let to = AgentId::parse(fields.required_text("agent_id")?, "agent_id")?;
    let seq = services.transfer(&principal, chat_id, to).await?;
    Ok(HttpResponse::Ok().json(json!({ "chat_id": chat_id, "seq": seq })))
}
