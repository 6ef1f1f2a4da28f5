//! Where a request's token comes from: `Authorization: Bearer`, else a `token` query parameter,
//! else a `token` body field (for clients that cannot set headers).

use actix_web::http::header;
use actix_web::HttpRequest;

use super::body::Fields;
use crate::domain::Principal;
use crate::http::error::ApiError;
use crate::service::Services;

#[derive(serde::Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The token of the request's `Authorization: Bearer` header.
pub fn bearer_of(request: &HttpRequest) -> Option<String> {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|v| v.trim().to_string())
}

/// The token the request carries in its header or query string.
pub fn token_of(request: &HttpRequest) -> Option<String> {
    bearer_of(request).or_else(|| {
        serde_urlencoded::from_str::<TokenQuery>(request.query_string()).ok().and_then(|q| q.token)
    })
}

/// Resolves the request's token (header, query, or `body_token`) to a principal; a banned
/// visitor, or a visitor from a banned address, is refused here (403 `banned`).
pub async fn principal(
    services: &Services,
    request: &HttpRequest,
    body_token: Option<&str>,
) -> Result<Principal, ApiError> {
    let token = token_of(request).or_else(|| body_token.map(str::to_string));
    let principal = services.authenticate(token.as_deref()).await?;
    services.refuse_banned(&principal, super::client_ip::client_ip(request))?;
    Ok(principal)
}

/// The request's body fields, once its caller is known to be an admin (anyone else 403).
pub async fn admin_fields(
    services: &Services,
    request: &HttpRequest,
    payload: actix_web::web::Payload,
) -> Result<super::body::Fields, ApiError> {
    admin_and_fields(services, request, payload).await.map(|(_, fields)| fields)
}

/// The caller and the request's body fields, once the caller is known to be an admin (anyone
/// else 403): for the admin handlers whose service call names who acts (for its audit).
pub async fn admin_and_fields(
    services: &Services,
    request: &HttpRequest,
    payload: actix_web::web::Payload,
) -> Result<(Principal, Fields), ApiError> {
    let (principal, fields) = caller_and_fields(services, request, payload).await?;
    crate::service::require_admin(&principal)?;
    Ok((principal, fields))
}

/// Reads the request's body and resolves its caller (token from header, query or the body's
/// `token` field): the first step of every authenticated handler with a body.
pub async fn caller_and_fields(
    services: &Services,
    request: &HttpRequest,
    payload: actix_web::web::Payload,
) -> Result<(Principal, Fields), ApiError> {
    let fields = super::body::fields(services, request, payload).await?;
    let caller = principal(services, request, fields.text("token")?).await?;
    Ok((caller, fields))
}
