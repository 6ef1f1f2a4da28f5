//! Webhook endpoints, admins only (no token 401, anyone else 403): `GET /api/admin/webhooks`
//! (the endpoints and the event types there are), `POST /api/admin/webhooks` (register),
//! `POST /api/admin/webhooks/{webhook_id}` (change), `…/delete`, `…/enable`, `…/disable`,
//! `GET …/deliveries` (the delivery log) and `POST …/deliveries/{event_id}/resend` (send one
//! again). See `service::webhooks`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::{auth, body};
use crate::domain::{
    parse_non_negative, parse_uuid, InvalidInput, PageLimit, WebhookEvents, WebhookSecret, WebhookUrl,
    WEBHOOK_EVENT_TYPES,
};
use crate::http::error::ApiError;
use crate::service::webhooks::EndpointSpec;
use crate::service::{require_admin, Services};

routes! {
    "/api/admin/webhooks" => { get: list, post: create },
    "/api/admin/webhooks/{webhook_id}" => { post: update },
    "/api/admin/webhooks/{webhook_id}/delete" => { post: delete },
    "/api/admin/webhooks/{webhook_id}/enable" => { post: enable },
    "/api/admin/webhooks/{webhook_id}/disable" => { post: disable },
    "/api/admin/webhooks/{webhook_id}/deliveries" => { get: deliveries },
    "/api/admin/webhooks/{webhook_id}/deliveries/{event_id}/resend" => { post: resend },
}

fn webhook_id(path: &str) -> Result<uuid::Uuid, ApiError> {
    Ok(parse_uuid(path, "webhook_id")?)
}

fn event_id(path: &str) -> Result<i64, ApiError> {
    path.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| InvalidInput::new("event_id", "must be a positive whole number").into())
}

/// The endpoint fields of a body, each parsed when present.
fn spec(fields: &body::Fields) -> Result<EndpointSpec, ApiError> {
    Ok(EndpointSpec {
        url: fields.text("url")?.map(WebhookUrl::parse).transpose()?,
        events: fields.names("events")?.as_deref().map(WebhookEvents::parse).transpose()?,
        secret: fields.text("secret")?.map(WebhookSecret::parse).transpose()?,
    })
}

async fn list(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    require_admin(&auth::principal(&services, &request, None).await?)?;
    let webhooks = services.webhooks().await?;
    let types: Vec<&str> = WEBHOOK_EVENT_TYPES.iter().map(|(name, _)| *name).collect();
    Ok(HttpResponse::Ok().json(json!({ "webhooks": webhooks, "event_types": types })))
}

async fn create(
    services: web::Data<Services>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let fields = auth::admin_fields(&services, &request, payload).await?;
    // Named by field, in the order of the docs.
    fields.required_text("url")?;
    if fields.names("events")?.is_none() {
        return Err(InvalidInput::new("events", "is required").into());
    }
    let webhook = services.create_webhook(spec(&fields)?).await?;
    Ok(HttpResponse::Created().json(json!({ "webhook": webhook })))
}

async fn update(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let fields = auth::admin_fields(&services, &request, payload).await?;
    let id = webhook_id(&path)?;
    let change = spec(&fields)?;
    if change.url.is_none() && change.events.is_none() && change.secret.is_none() {
        return Err(InvalidInput::new("url", "is required (or `events`, `secret`): nothing to change").into());
    }
    let webhook = services.update_webhook(id, change).await?;
    Ok(HttpResponse::Ok().json(json!({ "webhook": webhook })))
}

async fn delete(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    auth::admin_fields(&services, &request, payload).await?;
    services.delete_webhook(webhook_id(&path)?).await?;
    Ok(HttpResponse::Ok().json(json!({ "deleted": true })))
}

async fn enable(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    auth::admin_fields(&services, &request, payload).await?;
    let webhook = services.enable_webhook(webhook_id(&path)?).await?;
    Ok(HttpResponse::Ok().json(json!({ "webhook": webhook })))
}

async fn disable(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    auth::admin_fields(&services, &request, payload).await?;
    let webhook = services.disable_webhook(webhook_id(&path)?).await?;
    Ok(HttpResponse::Ok().json(json!({ "webhook": webhook })))
}

#[derive(Deserialize)]
struct DeliveriesQuery {
    before: Option<String>,
    limit: Option<String>,
}

async fn deliveries(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let query: DeliveriesQuery = super::query::fields(&request)?;
    require_admin(&auth::principal(&services, &request, None).await?)?;
    let id = webhook_id(&path)?;
    let limit = PageLimit::parse(query.limit.as_deref())?;
    let before = parse_non_negative(query.before.as_deref(), "before")?;
    let deliveries = services.webhook_deliveries(id, before, limit).await?;
    Ok(HttpResponse::Ok().json(json!({ "deliveries": deliveries })))
}

async fn resend(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    auth::admin_fields(&services, &request, payload).await?;
    let (id, event) = path.into_inner();
    services.resend_webhook(webhook_id(&id)?, event_id(&event)?).await?;
    Ok(HttpResponse::Accepted().json(json!({ "queued": true })))
}
