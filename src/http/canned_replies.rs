//! Canned replies: `GET /api/canned` (the team's and the caller's own), `POST /api/canned`
//! (create), `POST /api/canned/{canned_id}` (edit), `POST /api/canned/{canned_id}/delete` and
//! `POST /api/canned/import` (a reply a console kept in its browser). Agents only; see
//! `service::canned_replies`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::{auth, body};
use crate::domain::{parse_uuid, CannedScope, InvalidInput, MessageBody, Shortcut};
use crate::http::error::ApiError;
use crate::service::canned_replies::CannedChange;
use crate::service::{require_agent, Services};

routes! {
    "/api/canned" => { get: list, post: create },
    "/api/canned/import" => { post: import },
    "/api/canned/{canned_id}" => { post: update },
    "/api/canned/{canned_id}/delete" => { post: delete },
}

fn canned_id(path: &str) -> Result<uuid::Uuid, ApiError> {
    Ok(parse_uuid(path, "canned_id")?)
}

fn reply_body(services: &Services, text: &str) -> Result<MessageBody, ApiError> {
    Ok(MessageBody::parse(text, services.settings.chat.max_message_chars)?)
}

/// The caller and its body's fields, once the caller is known to be an agent.
async fn agent_fields(
    services: &Services,
    request: &HttpRequest,
    payload: web::Payload,
) -> Result<(crate::domain::Principal, body::Fields), ApiError> {
    let (principal, fields) = auth::caller_and_fields(services, request, payload).await?;
    require_agent(&principal)?;
    Ok((principal, fields))
}

async fn list(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = auth::principal(&services, &request, None).await?;
    let replies = services.canned_replies(&principal).await?;
    Ok(HttpResponse::Ok().json(json!({ "canned": replies })))
}

async fn create(
    services: web::Data<Services>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, fields) = agent_fields(&services, &request, payload).await?;
    let scope = CannedScope::parse(fields.required_text("scope")?, "scope")?;
    let shortcut = Shortcut::parse(fields.required_text("shortcut")?)?;
    let text = reply_body(&services, fields.required_text("body")?)?;
    let reply = services.create_canned_reply(&principal, scope, shortcut, text).await?;
    Ok(HttpResponse::Created().json(json!({ "canned": reply })))
}

async fn update(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, fields) = agent_fields(&services, &request, payload).await?;
    let id = canned_id(&path)?;
    let change = CannedChange {
        shortcut: fields.text("shortcut")?.map(Shortcut::parse).transpose()?,
        body: fields.text("body")?.map(|text| reply_body(&services, text)).transpose()?,
    };
    if change.shortcut.is_none() && change.body.is_none() {
        return Err(InvalidInput::new("body", "is required (or `shortcut`): nothing to change").into());
    }
    let reply = services.update_canned_reply(&principal, id, change).await?;
    Ok(HttpResponse::Ok().json(json!({ "canned": reply })))
}

async fn delete(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, _) = agent_fields(&services, &request, payload).await?;
    services.delete_canned_reply(&principal, canned_id(&path)?).await?;
    Ok(HttpResponse::Ok().json(json!({ "deleted": true })))
}

async fn import(
    services: web::Data<Services>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, fields) = agent_fields(&services, &request, payload).await?;
    let text = reply_body(&services, fields.required_text("body")?)?;
    let (reply, created) = services.import_canned_reply(&principal, text).await?;
    let mut response = if created { HttpResponse::Created() } else { HttpResponse::Ok() };
    Ok(response.json(json!({ "canned": reply, "imported": created })))
}
