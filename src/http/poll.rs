//! `GET /poll`: the held request that carries every event to a participant.

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::http::header::ContentType;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::auth;
use crate::config::PollSettings;
use crate::domain::{Cursor, InvalidInput, TabId};
use crate::http::error::ApiError;
use crate::service::poll::PollRequest;
use crate::service::Services;

routes! {
    "/poll" => { get: poll },
}

/// Every query parameter is read as text and parsed here, so that a bad one gets an error
/// that names it.
#[derive(Deserialize)]
struct PollQuery {
    cursor: Option<String>,
    timeout: Option<String>,
    tab: Option<String>,
}

#[derive(Serialize)]
struct PollBody<'a> {
    status: &'static str,
    cursor: String,
    events: Vec<&'a RawValue>,
}

/// The hold the client gets: what it asked for (`timeout`, whole seconds), capped by the
/// server's maximum; the server's default when it did not ask.
pub fn hold_for(timeout: Option<&str>, settings: &PollSettings) -> Result<Duration, InvalidInput> {
    let seconds = match timeout {
        None | Some("") => settings.hold_secs,
        Some(text) => text
            .trim()
            .parse::<u64>()
            .map_err(|_| InvalidInput::new("timeout", "must be a whole number of seconds, 0 or more"))?,
    };
    Ok(Duration::from_secs(seconds.min(settings.max_hold_secs)))
}

async fn poll(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let poll_request = {
        // Parsed and dropped before the hold: a held poll keeps no copy of its query string.
        let query: PollQuery = super::query::fields(&request)?;
        PollRequest {
            cursor: Cursor::parse(query.cursor.as_deref())?,
            hold: hold_for(query.timeout.as_deref(), &services.settings.poll)?,
            tab: TabId::parse(query.tab.as_deref())?,
        }
    };
    let principal = auth::principal(&services, &request, None).await?;
    drop(request);
    let answer = services.poll(&principal, poll_request).await?;
    let body = PollBody {
        status: answer.status.as_str(),
        cursor: answer.cursor.encode(),
        events: answer
            .events
            .iter()
            .map(|event| event.json.as_ref())
            .chain(answer.notices.iter().map(|notice| notice.json.as_ref()))
            .collect(),
    };
    // Each event's JSON was rendered once, when it was published; the answer copies it into a
    // buffer sized for all of it, so a large answer does not grow (and move) its buffer.
    let size = 64 + body.cursor.len() + body.events.iter().map(|event| event.get().len() + 1).sum::<usize>();
    let mut bytes = Vec::with_capacity(size);
    // Plain strings and already-valid JSON: writing them cannot fail.
    serde_json::to_writer(&mut bytes, &body).map_err(|_| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Something went wrong on our side.")
    })?;
    Ok(held_answer(bytes))
}

/// The answer to a held request (`/poll`, `/api/events`): JSON that no cache or proxy keeps or
/// transforms, and that nginx passes on at once rather than buffering it.
pub fn held_answer(body: impl MessageBody + 'static) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store, no-cache, no-transform, private"))
        .insert_header(("Pragma", "no-cache"))
        .insert_header(("Expires", "0"))
        .insert_header(("X-Accel-Buffering", "no"))
        .insert_header(ContentType::json())
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hold_defaults_caps_and_accepts_zero() {
        let settings = PollSettings { hold_secs: 25, max_hold_secs: 55, max_events: 10 };
        assert_eq!(hold_for(None, &settings), Ok(Duration::from_secs(25)));
        assert_eq!(hold_for(Some("0"), &settings), Ok(Duration::ZERO));
        assert_eq!(hold_for(Some("10"), &settings), Ok(Duration::from_secs(10)));
        assert_eq!(hold_for(Some("600"), &settings), Ok(Duration::from_secs(55)));
    }

    #[test]
    fn a_negative_or_fractional_timeout_names_the_field() {
        let settings = PollSettings::default();
        assert_eq!(hold_for(Some("-1"), &settings).map_err(|e| e.field), Err("timeout"));
        assert_eq!(hold_for(Some("1.5"), &settings).map_err(|e| e.field), Err("timeout"));
    }
}
