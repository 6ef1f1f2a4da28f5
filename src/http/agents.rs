//! Agent login and logout, and the list of agents a visitor may pick.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::client_ip::client_ip;
use super::{auth, body};
use crate::guard::Guard;
use crate::http::error::ApiError;
use crate::service::{ServiceError, Services};

routes! {
    "/api/agent/login" => { post: login },
    "/api/agent/logout" => { post: logout },
    "/api/agent/status" => { post: set_status },
    "/api/agents" => { get: available },
}

async fn login(
    services: web::Data<Services>,
    guard: web::Data<Guard>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let fields = body::fields(&services, &request, payload).await?;
    let employee_id = fields.required_text("employee_id")?;
    let password = fields.required_text("password")?;
    // Throttled before the store is asked: the same answer for an unknown ID as a known one.
    let attempt = guard.login_attempt(employee_id, client_ip(&request))?;
    match services.login(employee_id, password).await {
        Ok(outcome) => {
            attempt.succeeded();
            Ok(HttpResponse::Ok().json(outcome))
        }
        // A wrong guess stays counted.
        Err(error @ ServiceError::InvalidCredentials) => Err(error.into()),
        Err(error) => {
            attempt.not_a_guess();
            Err(error.into())
        }
    }
}

async fn logout(
    services: web::Data<Services>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let fields = body::fields(&services, &request, payload).await?;
    let token = auth::token_of(&request).or_else(|| fields.text("token").ok().flatten().map(str::to_string));
    let principal = services.authenticate(token.as_deref()).await?;
    if principal.kind() != crate::domain::PrincipalKind::Agent {
        return Err(ServiceError::Forbidden("only agents log out").into());
    }
    if let Some(token) = token {
        services.revoke_token(&token).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

async fn available(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    auth::principal(&services, &request, None).await?;
    let agents = services.available_agents().await?;
    Ok(HttpResponse::Ok().json(json!({ "agents": agents })))
}

async fn set_status(
    services: web::Data<Services>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, fields) = auth::caller_and_fields(&services, &request, payload).await?;
    let status = fields.required_text("status")?;
    services.set_agent_status(&principal, status).await?;
    Ok(HttpResponse::Ok().json(json!({ "status": status })))
}
