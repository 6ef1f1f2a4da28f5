//! Data rights, for admins: export everything about a visitor (`GET …/export`, a JSON
//! download), erase it (`POST …/erase`), by visitor id or by a site's customer id, and read the
//! audit log (`GET /api/admin/audit-log`). See `service::data_rights`.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::auth;
use crate::domain::{parse_non_negative, DataSubject, PageLimit, Principal, VisitorId};
use crate::http::error::ApiError;
use crate::service::{require_admin, Services};

routes! {
    "/api/admin/visitors/{visitor_id}/export" => { get: export_visitor },
    "/api/admin/visitors/{visitor_id}/erase" => { post: erase_visitor },
    "/api/admin/customers/export" => { get: export_customer },
    "/api/admin/customers/erase" => { post: erase_customer },
    "/api/admin/audit-log" => { get: audit_log },
}

/// `site_id` and `customer_id`, read as text and parsed here.
#[derive(Deserialize)]
struct CustomerQuery {
    site_id: Option<String>,
    customer_id: Option<String>,
}

#[derive(Deserialize)]
struct AuditQuery {
    limit: Option<String>,
    before: Option<String>,
}

fn customer(request: &HttpRequest) -> Result<DataSubject, ApiError> {
    let query: CustomerQuery = super::query::fields(request)?;
    Ok(DataSubject::customer(query.site_id.as_deref(), query.customer_id.as_deref())?)
}

async fn export(
    services: &Services,
    principal: &Principal,
    subject: DataSubject,
) -> Result<HttpResponse, ApiError> {
    let data = services.export_visitor(principal, subject).await?;
    let name = format!("visitor-{}.json", data.visitor.id);
    Ok(HttpResponse::Ok()
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(name)],
        })
        .json(json!({ "exported_at": crate::domain::now_ms(), "data": data })))
}

async fn erase(
    services: &Services,
    request: &HttpRequest,
    payload: web::Payload,
    subject: impl FnOnce() -> Result<DataSubject, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let (principal, _) = auth::admin_and_fields(services, request, payload).await?;
    let erased = services.erase_visitor(&principal, subject()?).await?;
    Ok(HttpResponse::Ok().json(json!({
        "visitor_id": erased.visitor_id,
        "chats_ended": erased.chats_ended,
        "removed": erased.removed,
    })))
}

async fn export_visitor(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth::principal(&services, &request, None).await?;
    require_admin(&principal)?;
    let visitor = VisitorId::parse(&path, "visitor_id")?;
    export(&services, &principal, DataSubject::Visitor(visitor)).await
}

async fn export_customer(
    services: web::Data<Services>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let principal = auth::principal(&services, &request, None).await?;
    require_admin(&principal)?;
    export(&services, &principal, customer(&request)?).await
}

async fn erase_visitor(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let path = path.into_inner();
    erase(&services, &request, payload, move || {
        Ok(DataSubject::Visitor(VisitorId::parse(&path, "visitor_id")?))
    })
    .await
}

async fn erase_customer(
    services: web::Data<Services>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let subject = customer(&request);
    erase(&services, &request, payload, move || subject).await
}

async fn audit_log(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let query: AuditQuery = super::query::fields(&request)?;
    let principal = auth::principal(&services, &request, None).await?;
    require_admin(&principal)?;
    let limit = PageLimit::parse(query.limit.as_deref())?;
    let before = parse_non_negative(query.before.as_deref(), "before")?;
    let entries = services.audit_log(&principal, before, limit).await?;
    Ok(HttpResponse::Ok().json(json!({ "entries": entries })))
}
