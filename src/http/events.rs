//! `GET /api/events`: the event feed for integrations, held like `/poll` until there is
//! something after the reader's cursor. The caller is an integration key with `events:read`,
//! sent as `Authorization: Bearer sbk_…` (never in the query string, where logs and proxies
//! would keep it); see `service::feed_reader`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::poll::held_answer;
use super::{auth, hold_for};
use crate::domain::{FeedCursor, InvalidInput, Scope};
use crate::http::error::ApiError;
use crate::service::feed_reader::FeedRequest;
use crate::service::Services;

routes! {
    "/api/events" => { get: events },
}

/// Every query parameter is read as text and parsed here, so that a bad one gets an error
/// that names it.
#[derive(Deserialize)]
struct EventsQuery {
    cursor: Option<String>,
    limit: Option<String>,
    timeout: Option<String>,
}

/// The `limit` parameter: 1 to `poll.max_events`, which is also the default.
fn limit(text: Option<&str>, max: usize) -> Result<i64, InvalidInput> {
    let max = i64::try_from(max).unwrap_or(i64::MAX);
    match text {
        None | Some("") => Ok(max),
        Some(text) => match text.trim().parse::<i64>() {
            Ok(value) if (1..=max).contains(&value) => Ok(value),
            _ => Err(InvalidInput::new("limit", format!("must be a whole number from 1 to {max}"))),
        },
    }
}

async fn events(services: web::Data<Services>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let feed_request = {
        let query: EventsQuery = super::query::fields(&request)?;
        FeedRequest {
            cursor: FeedCursor::parse(query.cursor.as_deref())?,
            limit: limit(query.limit.as_deref(), services.settings.poll.max_events)?,
            hold: hold_for(query.timeout.as_deref(), &services.settings.poll)?,
        }
    };
    services.authenticate_integration(auth::bearer_of(&request).as_deref(), Scope::EventsRead).await?;
    drop(request);
    let answer = services.read_feed(feed_request).await?;
    let body = json!({
        "status": answer.status.as_str(),
        "cursor": answer.cursor.encode(),
        "events": answer.events,
    });
    Ok(held_answer(body.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_defaults_to_the_maximum_and_names_its_field() {
        assert_eq!(limit(None, 500), Ok(500));
        assert_eq!(limit(Some("1"), 500), Ok(1));
        for bad in ["0", "501", "-1", "x"] {
            assert_eq!(limit(Some(bad), 500).map_err(|e| e.field), Err("limit"), "{bad}");
        }
    }
}
