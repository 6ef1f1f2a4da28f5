//! Query strings: read as text fields and parsed by the handler, so that a bad value gets an
//! error naming its field rather than a generic one.

use actix_web::HttpRequest;
use serde::de::DeserializeOwned;

use crate::domain::{parse_non_negative, ChatId, PageLimit};
use crate::http::error::ApiError;

/// The request's query string as `T` (whose fields are `Option<String>`).
pub fn fields<T: DeserializeOwned>(request: &HttpRequest) -> Result<T, ApiError> {
    serde_urlencoded::from_str(request.query_string())
        .map_err(|e| ApiError::invalid_body(format!("The query string is not valid: {e}.")))
}

/// The paging of a list of chats: `limit`, and where the previous page ended — `before` (epoch
/// ms) and `before_chat` (that chat's id, so chats of the same millisecond are neither skipped
/// nor repeated).
#[derive(serde::Deserialize)]
struct ChatPageQuery {
    limit: Option<String>,
    before: Option<String>,
    before_chat: Option<String>,
}

/// A list of chats' paging from the query string: the `(time, chat id)` the page starts after,
/// when given, and its size. With `before` alone the chat id is empty, and the id test
/// `id < ""` never holds: a time alone keeps the chats before it.
pub fn chat_page(request: &HttpRequest) -> Result<(Option<(i64, String)>, PageLimit), ApiError> {
    let query: ChatPageQuery = fields(request)?;
    let limit = PageLimit::parse(query.limit.as_deref())?;
    let before = parse_non_negative(query.before.as_deref(), "before")?;
    let before_chat = match query.before_chat.as_deref() {
        None | Some("") => String::new(),
        Some(id) => ChatId::parse(id, "before_chat")?.to_string(),
    };
    Ok((before.map(|at| (at, before_chat)), limit))
}
