//! Email actions (`service::email`): an agent's answer to an offline message, a closed chat's
//! transcript by email, and the admins' switch for email to visitor-typed addresses.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth;
use crate::domain::{ChatId, Email, InvalidInput, Lang, MessageBody};
use crate::guard::Guard;
use crate::http::error::ApiError;
use crate::service::offline_messages::MAX_OFFLINE_BODY_CHARS;
use crate::service::Services;

routes! {
    "/api/offline-messages/{offline_id}/answer" => { post: answer },
    "/api/chats/{chat_id}/transcript/email" => { post: transcript },
    "/api/admin/email" => { get: status, post: switch },
}

/// The optional `lang` field: `en`, `zh` or `ko`.
pub(crate) fn lang_field(fields: &super::body::Fields) -> Result<Option<Lang>, ApiError> {
    Ok(fields.text("lang")?.map(|lang| Lang::parse(lang, "lang")).transpose()?)
}

async fn answer(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, fields) = auth::caller_and_fields(&services, &request, payload).await?;
    let id = uuid::Uuid::parse_str(&path)
        .map_err(|_| InvalidInput::new("offline_id", "must be an offline message id"))?
        .to_string();
    let body = MessageBody::parse(fields.required_text("body")?, MAX_OFFLINE_BODY_CHARS)?;
    let answered = services.answer_offline_message(&principal, id, body).await?;
    Ok(HttpResponse::Ok().json(answered))
}

async fn transcript(
    services: web::Data<Services>,
    guard: web::Data<Guard>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, fields) = auth::caller_and_fields(&services, &request, payload).await?;
    let chat_id = ChatId::parse(&path, "chat_id")?;
    let to = Email::parse(fields.required_text("email")?)?;
    let lang = lang_field(&fields)?;
    if services.settings.email.enabled() {
        guard.check_visitor_email(&principal, to.as_str())?;
    }
    let id = services.email_transcript(&principal, chat_id, to, lang).await?;
    Ok(HttpResponse::Accepted().json(json!({ "id": id })))
}

async fn status(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = auth::principal(&services, &request, None).await?;
    Ok(HttpResponse::Ok().json(services.email_status(&principal).await?))
}

async fn switch(
    services: web::Data<Services>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, fields) = auth::caller_and_fields(&services, &request, payload).await?;
    let on = fields
        .boolean("visitor_email")?
        .ok_or_else(|| InvalidInput::new("visitor_email", "is required (true or false)"))?;
    Ok(HttpResponse::Ok().json(services.set_visitor_email(&principal, on).await?))
}
