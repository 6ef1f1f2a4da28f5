//! Sites, for admins: `GET /api/admin/sites` (every site, never a secret) and
//! `POST /api/admin/sites` (register a site; its signing secret is in this answer only). See
//! `service::sites`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth;
use crate::domain::{Color, Greeting, Lang, SiteName, SiteOrigins};
use crate::http::error::ApiError;
use crate::service::sites::NewSite;
use crate::service::{require_admin, Services};

routes! {
    "/api/admin/sites" => { get: list, post: create },
}

async fn list(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = auth::principal(&services, &request, None).await?;
    let sites = services.sites(&principal).await?;
    Ok(HttpResponse::Ok().json(json!({ "sites": sites })))
}

async fn create(
    services: web::Data<Services>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, fields) = auth::caller_and_fields(&services, &request, payload).await?;
    require_admin(&principal)?;
    let site = NewSite {
        name: SiteName::parse(fields.required_text("name")?)?,
        origins: SiteOrigins::parse(&fields.words("origins")?.unwrap_or_default())?,
        greeting: fields.text("greeting")?.map(Greeting::parse).transpose()?.flatten(),
        color: fields.text("color")?.map(Color::parse).transpose()?,
        default_lang: fields
            .text("default_lang")?
            .map(|text| Lang::parse(text, "default_lang"))
            .transpose()?,
        require_verified: fields.boolean("require_verified")?.unwrap_or(false),
    };
    let (site, secret) = services.create_site(&principal, site).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({ "site": site, "secret": secret })))
}
