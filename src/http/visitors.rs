//! Visitors: `POST /api/visitors` (a visitor and its token — anonymous, or the customer a
//! site's signed `identity` names; refused when the widget says it runs in a site it may not),
//! `POST /api/visitors/page` (the visitor navigated), `GET /api/visitors/online` (agents: who
//! is on the site now) and `GET /api/visitors/{visitor_id}/profile` (agents of its chats and
//! admins: who the customer is, this visit's pages, its chats).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::client_ip::client_ip;
use super::own_origin::{is_same_origin_request, OwnOrigin};
use super::{auth, body};
use crate::domain::{user_agent, Embedding, Origin, PageInfo, SiteId, VisitorId};
use crate::guard::Guard;
use crate::http::error::ApiError;
use crate::service::visitors::Arrival;
use crate::service::Services;

routes! {
    "/api/visitors" => { post: create },
    "/api/visitors/page" => { post: page },
    "/api/visitors/online" => { get: online },
    "/api/visitors/{visitor_id}/profile" => { get: profile },
}

/// The request's `User-Agent`, cut to size.
fn user_agent_of(request: &HttpRequest) -> Option<String> {
    let value = request.headers().get(header::USER_AGENT)?;
    user_agent(Some(&String::from_utf8_lossy(value.as_bytes())))
}

/// Where the widget says it runs (`embed_origin`, the origin its frame got from the browser
/// with the host page's messages), with what the request shows of this server's own pages;
/// `None` when the client sent no `embed_origin` (API clients, curl).
fn embedding_of(request: &HttpRequest, embed_origin: Option<&str>) -> Result<Option<Embedding>, ApiError> {
    let Some(embed_origin) = embed_origin else { return Ok(None) };
    let head = request.head();
    let request_origin = head
        .headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| Origin::parse(value, "origin").ok());
    Ok(Some(Embedding {
        origin: Origin::parse(embed_origin, "embed_origin")?,
        own_origin: request.app_data::<web::Data<OwnOrigin>>().and_then(|own| own.of(head)),
        request_origin,
        same_origin_request: is_same_origin_request(head),
    }))
}

async fn create(
    services: web::Data<Services>,
    guard: web::Data<Guard>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    // First, so a flood of creations costs no body read and no store call.
    guard.check_new_visitor(client_ip(&request))?;
    let fields = body::fields(&services, &request, payload).await?;
    let page = PageInfo::parse_optional(
        fields.text("page_url")?,
        fields.text("page_title")?,
        fields.text("referrer")?,
    )?;
    let embedding = embedding_of(&request, fields.text("embed_origin")?)?;
    let arrival = Arrival {
        name: fields.text("name")?.map(str::to_string),
        page,
        user_agent: user_agent_of(&request),
        address: Some(client_ip(&request)),
        embedding,
        site_id: fields.text("site_id")?.map(|text| SiteId::parse(text, "site_id")).transpose()?,
        identity: fields.text("identity")?.map(str::to_string),
    };
    let visitor = services.admit_visitor(arrival).await?;
    Ok(HttpResponse::Created().json(json!({
        "visitor_id": visitor.visitor_id,
        "name": visitor.name,
        "token": visitor.token,
        "verified": visitor.verified,
        "customer_id": visitor.customer_id,
    })))
}

async fn page(
    services: web::Data<Services>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, fields) = auth::caller_and_fields(&services, &request, payload).await?;
    let page = PageInfo::parse(
        fields.required_text("page_url")?,
        fields.text("page_title")?,
        fields.text("referrer")?,
    )?;
    let url = page.url.clone();
    services.record_page(&principal, page, user_agent_of(&request), Some(client_ip(&request))).await?;
    Ok(HttpResponse::Ok().json(json!({ "page_url": url })))
}

async fn online(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = auth::principal(&services, &request, None).await?;
    let visitors = services.online_visitors(&principal).await?;
    Ok(HttpResponse::Ok().json(json!({ "visitors": visitors })))
}

async fn profile(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth::principal(&services, &request, None).await?;
    let visitor_id = VisitorId::parse(&path, "visitor_id")?;
    let (before, limit) = super::query::chat_page(&request)?;
    let profile = services.visitor_profile(&principal, visitor_id, before, limit).await?;
    Ok(HttpResponse::Ok().json(profile))
}
