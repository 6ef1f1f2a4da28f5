//! The admin API for agents: list, create, update name and capacity, disable and enable,
//! reset password. Admins only (no token 401, anyone else 403).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::{auth, body};
use crate::domain::{InvalidInput, Role};
use crate::http::error::ApiError;
use crate::service::agents::{AgentSpec, AgentUpdate};
use crate::service::{require_admin, Services};

routes! {
    "/api/admin/agents" => { get: list, post: create },
    "/api/admin/agents/{employee_id}" => { post: update },
    "/api/admin/agents/{employee_id}/disable" => { post: disable },
    "/api/admin/agents/{employee_id}/enable" => { post: enable },
    "/api/admin/agents/{employee_id}/password" => { post: password },
}

/// An integer field that must fit a capacity.
fn max_chats(fields: &body::Fields) -> Result<Option<i32>, ApiError> {
    fields
        .integer("max_chats")?
        .map(|n| {
            i32::try_from(n).map_err(|_| InvalidInput::new("max_chats", "must be between 1 and 100").into())
        })
        .transpose()
}

async fn list(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    require_admin(&auth::principal(&services, &request, None).await?)?;
    let agents = services.list_agents().await?;
    Ok(HttpResponse::Ok().json(json!({ "agents": agents })))
}

async fn create(
    services: web::Data<Services>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let fields = auth::admin_fields(&services, &request, payload).await?;
    let role = match fields.text("role")? {
        None | Some("agent") => Role::Agent,
        Some("admin") => Role::Admin,
        Some(_) => return Err(InvalidInput::new("role", "must be `agent` or `admin`").into()),
    };
    let employee_id = fields.required_text("employee_id")?;
    let spec = AgentSpec {
        employee_id: employee_id.to_string(),
        name: fields.required_text("name")?.to_string(),
        password: fields.required_text("password")?.to_string(),
        max_chats: max_chats(&fields)?,
        role,
    };
    services.create_agent(spec).await?;
    let agent = services.find_agent(employee_id).await?;
    Ok(HttpResponse::Created().json(agent))
}

async fn update(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let fields = auth::admin_fields(&services, &request, payload).await?;
    let update =
        AgentUpdate { name: fields.text("name")?.map(str::to_string), max_chats: max_chats(&fields)? };
    let agent = services.update_agent(&path, update).await?;
    Ok(HttpResponse::Ok().json(agent))
}

async fn disable(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    set_disabled(services, request, path, payload, true).await
}

async fn enable(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    set_disabled(services, request, path, payload, false).await
}

async fn set_disabled(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    disabled: bool,
) -> Result<HttpResponse, ApiError> {
    auth::admin_fields(&services, &request, payload).await?;
    services.set_agent_disabled(&path, disabled).await?;
    let agent = services.find_agent(&path).await?;
    Ok(HttpResponse::Ok().json(agent))
}

async fn password(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let fields = auth::admin_fields(&services, &request, payload).await?;
    services.reset_agent_password(&path, fields.required_text("password")?).await?;
    let agent = services.find_agent(&path).await?;
    Ok(HttpResponse::Ok().json(agent))
}
