//! Integration keys, for admins: `GET /api/admin/integration-keys` (list, never the keys
//! themselves), `POST /api/admin/integration-keys` (create: the key is in this answer only) and
//! `POST /api/admin/integration-keys/{key_id}/revoke`. See `service::integration_keys`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::{auth, body};
use crate::domain::{parse_uuid, KeyName, Scope, Scopes};
use crate::http::error::ApiError;
use crate::service::Services;

routes! {
    "/api/admin/integration-keys" => { get: list, post: create },
    "/api/admin/integration-keys/{key_id}/revoke" => { post: revoke },
}

fn key_id(path: &str) -> Result<uuid::Uuid, ApiError> {
    Ok(parse_uuid(path, "key_id")?)
}

/// The `scopes` field: a JSON array of scope names, or (a form) one text of names separated by
/// spaces; absent is `events:read`.
fn scopes(fields: &body::Fields) -> Result<Scopes, ApiError> {
    let names = fields.words("scopes")?.unwrap_or_else(|| vec![Scope::EventsRead.as_str()]);
    Ok(Scopes::parse(names)?)
}

async fn list(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = auth::principal(&services, &request, None).await?;
    let keys = services.integration_keys(&principal).await?;
    Ok(HttpResponse::Ok().json(json!({ "keys": keys })))
}

async fn create(
    services: web::Data<Services>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, fields) = auth::admin_and_fields(&services, &request, payload).await?;
    let name = KeyName::parse(fields.required_text("name")?)?;
    let scopes = scopes(&fields)?;
    let (key, secret) = services.create_integration_key(&principal, name, scopes).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({ "key": key, "secret": secret })))
}

async fn revoke(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, _) = auth::admin_and_fields(&services, &request, payload).await?;
    let key = services.revoke_integration_key(&principal, key_id(&path)?).await?;
    Ok(HttpResponse::Ok().json(json!({ "key": key })))
}
