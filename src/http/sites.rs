//! Sites, for admins: `GET /api/admin/sites` (every site, never a secret),
//! `POST /api/admin/sites` (register a site; its signing secret is in this answer only),
//! `GET|POST /api/admin/sites/{site_id}` (read, change), `POST .../secret` (rotate: the new
//! secret is in this answer only), `POST .../delete`. And for the widget's frame, no token:
//! `GET /api/sites/{site_id}/widget` (its look there). See `service::sites`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth;
use super::body::Fields;
use crate::domain::{Color, Greeting, InvalidInput, Lang, SiteId, SiteName, SiteOrigins};
use crate::http::error::ApiError;
use crate::service::sites::{NewSite, SiteEdit};
use crate::service::{require_admin, Services};

routes! {
    "/api/admin/sites" => { get: list, post: create },
    "/api/admin/sites/{site_id}" => { get: show, post: change },
    "/api/admin/sites/{site_id}/secret" => { post: rotate },
    "/api/admin/sites/{site_id}/delete" => { post: delete },
    "/api/sites/{site_id}/widget" => { get: widget },
}

/// How long a browser or proxy may keep the widget's look of a site: changes show within it.
const WIDGET_LOOK_MAX_AGE_SECS: u32 = 5;

fn site_id(path: &str) -> Result<SiteId, ApiError> {
    Ok(SiteId::parse(path, "site_id")?)
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
    let (principal, fields) = auth::admin_and_fields(&services, &request, payload).await?;
    let given = fields_of(&fields)?;
    let required = |field| InvalidInput::new(field, "is required");
    let site = NewSite {
        name: given.name.ok_or_else(|| required("name"))?,
        origins: given.origins.ok_or_else(|| required("origins"))?,
        greeting: given.greeting.flatten(),
        color: given.color.flatten(),
        default_lang: given.default_lang.flatten(),
        require_verified: given.require_verified.unwrap_or(false),
    };
    let (site, secret) = services.create_site(&principal, site).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({ "site": site, "secret": secret })))
}

async fn show(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth::principal(&services, &request, None).await?;
    require_admin(&principal)?;
    let site = services.site(&principal, site_id(&path)?).await?;
    Ok(HttpResponse::Ok().json(json!({ "site": site })))
}

/// A field that may be cleared: absent leaves it (`None`), null or blank clears it
/// (`Some(None)`), anything else is parsed.
fn clearable<T>(
    fields: &Fields,
    field: &'static str,
    parse: impl FnOnce(&str) -> Result<Option<T>, InvalidInput>,
) -> Result<Option<Option<T>>, ApiError> {
    if !fields.has(field) {
        return Ok(None);
    }
    match fields.text(field)? {
        None => Ok(Some(None)),
        Some(text) if text.trim().is_empty() => Ok(Some(None)),
        Some(text) => Ok(Some(parse(text)?)),
    }
}

/// The site's fields a body gives (to make a site, or to change one), every one parsed (the
/// first bad one is named): absent is `None`; a blank or null greeting, color or language is
/// `Some(None)`.
fn fields_of(fields: &Fields) -> Result<SiteEdit, ApiError> {
    let edit = SiteEdit {
        name: fields.text("name")?.map(SiteName::parse).transpose()?,
        origins: fields.words("origins")?.map(|origins| SiteOrigins::parse(&origins)).transpose()?,
        greeting: clearable(fields, "greeting", Greeting::parse)?,
        color: clearable(fields, "color", |text| Color::parse(text).map(Some))?,
        default_lang: clearable(fields, "default_lang", |text| Lang::parse(text, "default_lang").map(Some))?,
        require_verified: fields.boolean("require_verified")?,
    };
    if fields.has("origins") && edit.origins.is_none() {
        return Err(InvalidInput::new("origins", "must list at least one origin").into());
    }
    Ok(edit)
}

/// The changes a body asks for: at least one.
fn edit_of(fields: &Fields) -> Result<SiteEdit, ApiError> {
    let edit = fields_of(fields)?;
    if edit.is_empty() {
        return Err(InvalidInput::new(
            "name",
            "is required (or `origins`, `greeting`, `color`, `default_lang`, `require_verified`): nothing to change",
        )
        .into());
    }
    Ok(edit)
}

async fn change(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, fields) = auth::admin_and_fields(&services, &request, payload).await?;
    let id = site_id(&path)?;
    let site = services.change_site(&principal, id, edit_of(&fields)?).await?;
    Ok(HttpResponse::Ok().json(json!({ "site": site })))
}

async fn rotate(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, _) = auth::admin_and_fields(&services, &request, payload).await?;
    let (site, secret) = services.rotate_site_secret(&principal, site_id(&path)?).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({ "site": site, "secret": secret })))
}

async fn delete(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, _) = auth::admin_and_fields(&services, &request, payload).await?;
    let deleted = services.delete_site(&principal, site_id(&path)?).await?;
    Ok(HttpResponse::Ok().json(deleted))
}

async fn widget(services: web::Data<Services>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let look = services.widget_look(site_id(&path)?).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", format!("public, max-age={WIDGET_LOOK_MAX_AGE_SECS}")))
        .json(look))
}
