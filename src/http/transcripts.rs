//! `GET /api/chats/{chat_id}/messages`: a chat's transcript, page by page.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::auth;
use crate::domain::{parse_non_negative, ChatId, PageLimit};
use crate::http::error::ApiError;
use crate::service::Services;

routes! {
    "/api/chats/{chat_id}/messages" => { get: transcript },
}

/// Query parameters, read as text and parsed here so a bad one gets an error naming it.
#[derive(Deserialize)]
struct TranscriptQuery {
    after_seq: Option<String>,
    limit: Option<String>,
}

async fn transcript(
    services: web::Data<Services>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let query: TranscriptQuery = super::query::fields(&request)?;
    let principal = auth::principal(&services, &request, None).await?;
    let chat_id = ChatId::parse(&path, "chat_id")?;
    let after_seq = parse_non_negative(query.after_seq.as_deref(), "after_seq")?.unwrap_or(0);
    let limit = PageLimit::parse(query.limit.as_deref())?;
    let page = services.transcript(&principal, chat_id, after_seq, limit).await?;
    // `Event` serialises to the same wire form `/poll` sends.
    Ok(HttpResponse::Ok().json(json!({
        "chat_id": page.chat_id,
        "events": page.events,
        "next_after_seq": page.next_after_seq,
    })))
}
