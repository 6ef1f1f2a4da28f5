//! Pre-chat forms: `POST /api/admin/sites/{site_id}/prechat-form` (admins set a site's fields;
//! the widget reads them with the site's look, `GET /api/sites/{site_id}/widget`). The answers
//! travel as `prechat` on `POST /api/chats` ([`answers_field`]). See `service::prechat`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth;
use super::body::Fields;
use crate::domain::{InvalidInput, PrechatForm, SiteId};
use crate::http::error::ApiError;
use crate::service::prechat::RawAnswers;
use crate::service::Services;

/// Longest JSON text a form body may send as `fields` or `prechat`, in characters.
pub const MAX_JSON_TEXT_CHARS: usize = 4000;

routes! {
    "/api/admin/sites/{site_id}/prechat-form" => { post: set_form },
}

/// The `prechat` field of `POST /api/chats`: an object of answers (in a form body, a JSON text
/// holding one).
pub fn answers_field(fields: &Fields) -> Result<Option<RawAnswers>, ApiError> {
    Ok(fields.json("prechat", "object", MAX_JSON_TEXT_CHARS)?.and_then(|value| match value {
        serde_json::Value::Object(answers) => Some(answers),
        _ => None,
    }))
}

async fn set_form(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (principal, fields) = auth::admin_and_fields(&services, &request, payload).await?;
    let site_id = SiteId::parse(&path, "site_id")?;
    let value = fields
        .json("fields", "array", MAX_JSON_TEXT_CHARS)?
        .ok_or_else(|| InvalidInput::new("fields", "is required: a list of fields ([] for no form)"))?;
    let form = PrechatForm::parse(&value)?;
    let site = services.set_prechat_form(&principal, site_id, form).await?;
    Ok(HttpResponse::Ok().json(json!({ "site": site })))
}
