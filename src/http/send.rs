//! `POST /send`: one chat message, idempotent on `client_msg_id`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth;
use super::client_ip::client_ip;
use crate::domain::{ChatId, ClientMsgId, MessageBody, TabId};
use crate::guard::Guard;
use crate::http::error::ApiError;
use crate::service::Services;

routes! {
    "/send" => { post: send },
}

async fn send(
    services: web::Data<Services>,
    guard: web::Data<Guard>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, fields) = auth::caller_and_fields(&services, &request, payload).await?;
    let chat_id = ChatId::parse(fields.required_text("chat_id")?, "chat_id")?;
    let client_msg_id = ClientMsgId::parse(fields.required_text("client_msg_id")?)?;
    let text = MessageBody::parse(fields.required_text("body")?, services.settings.chat.max_message_chars)?;
    let tab = TabId::parse(fields.text("tab")?)?;
    guard.check_send(&principal, client_ip(&request))?;
    // The sending tab's own held poll is not woken by this message (it comes with its next answer).
    let outcome = services.send_message(&principal, chat_id, client_msg_id, text, tab).await?;
    Ok(HttpResponse::Ok().json(json!({
        "chat_id": chat_id,
        "seq": outcome.seq,
        "duplicate": outcome.duplicate,
    })))
}
