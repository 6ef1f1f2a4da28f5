//! Offline messages: left by visitors when nobody is online, listed for agents.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::auth;
use crate::domain::{parse_non_negative, ContactName, Email, MessageBody, PageLimit};
use crate::guard::Guard;
use crate::http::error::ApiError;
use crate::service::offline_messages::{NewOfflineMessage, MAX_OFFLINE_BODY_CHARS};
use crate::service::Services;

routes! {
    "/api/offline-messages" => { post: leave, get: list },
}

/// Query parameters, read as text and parsed here so a bad one gets an error naming it.
#[derive(Deserialize)]
struct ListQuery {
    limit: Option<String>,
    before: Option<String>,
}

async fn leave(
    services: web::Data<Services>,
    guard: web::Data<Guard>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, fields) = auth::caller_and_fields(&services, &request, payload).await?;
    let message = NewOfflineMessage {
        name: ContactName::parse(fields.required_text("name")?)?,
        email: Email::parse(fields.required_text("email")?)?,
        body: MessageBody::parse(fields.required_text("body")?, MAX_OFFLINE_BODY_CHARS)?,
        lang: super::email::lang_field(&fields)?,
    };
    // The acknowledgement goes to the typed address: limited per visitor and per address.
    if services.settings.email.enabled() {
        guard.check_visitor_email(&principal, message.email.as_str())?;
    }
    let id = services.leave_offline_message(&principal, message).await?;
    Ok(HttpResponse::Created().json(json!({ "id": id })))
}

async fn list(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let query: ListQuery = super::query::fields(&request)?;
    let principal = auth::principal(&services, &request, None).await?;
    let limit = PageLimit::parse(query.limit.as_deref())?;
    let before = parse_non_negative(query.before.as_deref(), "before")?;
    let messages = services.list_offline_messages(&principal, before, limit).await?;
    Ok(HttpResponse::Ok().json(json!({ "messages": messages })))
}
