//! Query strings: read as text fields and parsed by the handler, so that a bad value gets an
//! error naming its field rather than a generic one.

use actix_web::HttpRequest;
use serde::de::DeserializeOwned;

use crate::http::error::ApiError;

/// The request's query string as `T` (whose fields are `Option<String>`).
pub fn fields<T: DeserializeOwned>(request: &HttpRequest) -> Result<T, ApiError> {
    serde_urlencoded::from_str(request.query_string())
        .map_err(|e| ApiError::invalid_body(format!("The query string is not valid: {e}.")))
}
