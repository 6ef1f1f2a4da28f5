//! First run: `GET /api/setup` says whether the first admin must still be created, and
//! `POST /api/setup` creates it and logs it in (see `service::setup`).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::body;
use crate::http::error::ApiError;
use crate::service::Services;

routes! {
    "/api/setup" => { get: status, post: set_up },
}

async fn status(services: web::Data<Services>) -> Result<HttpResponse, ApiError> {
    let needed = services.setup_needed().await?;
    Ok(HttpResponse::Ok().json(json!({ "needed": needed })))
}

async fn set_up(
    services: web::Data<Services>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let fields = body::fields(&services, &request, payload).await?;
    let outcome = services
        .set_up_first_admin(
            fields.required_text("employee_id")?,
            fields.required_text("name")?,
            fields.required_text("password")?,
        )
        .await?;
    Ok(HttpResponse::Created().json(outcome))
}
