//! The ban list: `POST /api/bans` (ban a visitor, or an address: admins), `GET /api/bans`
//! (the bans in force) and `POST /api/bans/{ban_id}/lift`. Agents only; see `service::bans`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::{auth, body};
use crate::domain::{parse_uuid, BanDuration, BanReason, BannedAddress, InvalidInput, VisitorId};
use crate::http::error::ApiError;
use crate::service::bans::{BanTarget, NewBan};
use crate::service::{require_agent, Services};

routes! {
    "/api/bans" => { post: create, get: list },
    "/api/bans/{ban_id}/lift" => { post: lift },
}

/// `visitor_id` (with `include_ip`) or `ip`, exactly one.
fn target(fields: &body::Fields) -> Result<BanTarget, ApiError> {
    match (fields.text("visitor_id")?, fields.text("ip")?) {
        (Some(_), Some(_)) => {
            Err(InvalidInput::new("ip", "must not be given with `visitor_id`: ban one or the other").into())
        }
        (Some(visitor), None) => Ok(BanTarget::Visitor {
            visitor: VisitorId::parse(visitor, "visitor_id")?,
            include_ip: fields.boolean("include_ip")?.unwrap_or(false),
        }),
        (None, Some(ip)) => Ok(BanTarget::Address(BannedAddress::parse(ip, "ip")?)),
        (None, None) => Err(InvalidInput::new("visitor_id", "is required (or `ip`, for admins)").into()),
    }
}

async fn create(
    services: web::Data<Services>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, fields) = auth::caller_and_fields(&services, &request, payload).await?;
    require_agent(&principal)?;
    let ban = NewBan {
        target: target(&fields)?,
        reason: BanReason::parse(fields.text("reason")?)?,
        duration: BanDuration::parse(fields.integer("duration_mins")?)?,
    };
    let made = services.ban(&principal, ban).await?;
    Ok(HttpResponse::Created().json(json!({ "ban": made.ban, "chats_closed": made.chats_closed })))
}

async fn list(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = auth::principal(&services, &request, None).await?;
    let bans = services.list_bans(&principal).await?;
    Ok(HttpResponse::Ok().json(json!({ "bans": bans })))
}

async fn lift(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, _) = auth::caller_and_fields(&services, &request, payload).await?;
    require_agent(&principal)?;
    let ban_id = parse_uuid(&path, "ban_id")?;
    let ban = services.lift_ban(&principal, ban_id).await?;
    Ok(HttpResponse::Ok().json(json!({ "ban": ban })))
}
