//! The one error shape on the wire, and which error type goes where.
//!
//! - `domain::InvalidInput`: a value from outside failed to parse (always names the field).
//! - `service::ServiceError`: a rule refused the request, or the store failed.
//! - `store::StoreError`: the store itself failed; reaches HTTP only through `ServiceError`.
//! - [`ApiError`]: the HTTP form of all of them — status, snake_case code, human message,
//!   optional field, optional `Retry-After` — rendered as
//!   `{"error": {"code": ..., "message": ..., "field": ...}}`. Handlers return `ApiError`; no
//!   handler builds an error body by hand.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::InvalidInput;
use crate::service::ServiceError;
use crate::store::StoreError;

/// An error answer; see the module doc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable snake_case code clients switch on.
    pub code: &'static str,
    /// A sentence for a human.
    pub message: String,
    /// The input field at fault, if one is.
    pub field: Option<&'static str>,
    /// Seconds to wait before retrying (503, 429).
    pub retry_after: Option<u32>,
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    /// An error with no field and no retry hint.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), field: None, retry_after: None }
    }

    /// A 503 that tells the client when to come back.
    pub fn unavailable(code: &'static str, message: impl Into<String>, retry_after: u32) -> Self {
        Self { retry_after: Some(retry_after), ..Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message) }
    }

    /// 400 `invalid_body`: the body is not parseable in its content type.
    pub fn invalid_body(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_body", message)
    }

    /// 403 `origin_not_allowed`: a page of a site outside `cors.allowed_origins`, refused by
    /// CORS or embedding the widget. One message for both, so clients see one refusal.
    pub fn origin_not_allowed() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "This site is not allowed to use this chat server (cors.allowed_origins).",
        )
    }

    /// 404 for a route that does not exist.
    pub fn route_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "No such endpoint.")
    }
}

impl ApiError {
    fn envelope(&self) -> Envelope<'_> {
        Envelope { error: Body { code: self.code, message: &self.message, field: self.field } }
    }

    /// The envelope as JSON text, for an answer written below actix-web (`transport`).
    pub fn envelope_json(&self) -> String {
        serde_json::to_string(&self.envelope()).unwrap_or_default()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(self.envelope())
    }
}

impl From<InvalidInput> for ApiError {
    fn from(error: InvalidInput) -> Self {
        let code = if error.reason.starts_with("is required") { "missing_field" } else { "invalid_field" };
        let code = if error.field == "cursor" { "invalid_cursor" } else { code };
        Self {
            field: Some(error.field),
            ..Self::new(StatusCode::BAD_REQUEST, code, format!("`{}` {}.", error.field, error.reason))
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        use StatusCode as S;
        let message = sentence(&error.to_string());
        match error {
            ServiceError::Invalid(invalid) => invalid.into(),
            ServiceError::Unauthorized => {
                Self::new(S::UNAUTHORIZED, "unauthorized", "A valid token is required.")
            }
            ServiceError::InvalidCredentials => Self::new(S::UNAUTHORIZED, "invalid_credentials", message),
            ServiceError::Forbidden(_) => Self::new(S::FORBIDDEN, "forbidden", message),
            ServiceError::ChatNotFound => Self::new(S::NOT_FOUND, "chat_not_found", message),
            ServiceError::AgentNotFound => Self::new(S::NOT_FOUND, "agent_not_found", message),
            ServiceError::ChatClosed => Self::new(S::CONFLICT, "chat_closed", message),
            ServiceError::AgentFull => Self::new(S::CONFLICT, "agent_full", message),
            ServiceError::AgentOffline => Self::new(S::CONFLICT, "agent_offline", message),
            ServiceError::ChatAlreadyOpen | ServiceError::VisitorInChat => {
                Self::new(S::CONFLICT, "chat_already_open", message)
            }
            ServiceError::NoAgentOnline => Self::new(S::CONFLICT, "no_agent_online", message),
            ServiceError::VisitorNotFound => Self::new(S::NOT_FOUND, "visitor_not_found", message),
            ServiceError::VisitorOffline => Self::new(S::CONFLICT, "visitor_offline", message),
            ServiceError::EmployeeIdTaken => Self::new(S::CONFLICT, "employee_id_taken", message),
            ServiceError::SetupDone => Self::new(S::CONFLICT, "setup_done", message),
            ServiceError::TooManyPolls => {
                crate::metrics::limit_hit("max_held_polls");
                Self::unavailable("too_many_polls", message, 2)
            }
            ServiceError::TooManyChats => {
                crate::metrics::limit_hit("max_active_chats");
                Self::unavailable("too_many_chats", message, 10)
            }
            ServiceError::ShuttingDown => Self::unavailable("shutting_down", message, 1),
            ServiceError::HashingBusy => {
                crate::metrics::limit_hit("hashing_queue");
                Self::unavailable("hashing_busy", message, 1)
            }
            ServiceError::Store(store) => store.into(),
            ServiceError::BrokerUnavailable(detail) => {
                log::warn!("broker unavailable: {detail}");
                Self::unavailable("broker_unavailable", "Presence is unavailable; try again shortly.", 2)
            }
            ServiceError::ChatNotClosed => Self::new(S::CONFLICT, "chat_not_closed", message),
            ServiceError::AlreadyRated => Self::new(S::CONFLICT, "already_rated", message),
            ServiceError::ChatNotRateable => Self::new(S::CONFLICT, "chat_not_rateable", message),
            ServiceError::Banned => Self::new(S::FORBIDDEN, "banned", message),
            ServiceError::OriginNotAllowed => Self::origin_not_allowed(),
            ServiceError::BanNotFound => Self::new(S::NOT_FOUND, "ban_not_found", message),
            ServiceError::BanNotInForce => Self::new(S::CONFLICT, "ban_not_in_force", message),
            ServiceError::CannedReplyNotFound => Self::new(S::NOT_FOUND, "canned_reply_not_found", message),
            ServiceError::ShortcutTaken => {
                Self { field: Some("shortcut"), ..Self::new(S::CONFLICT, "shortcut_taken", message) }
            }
            ServiceError::TooManyCannedReplies => Self::new(S::CONFLICT, "too_many_canned_replies", message),
            ServiceError::WebhookNotFound => Self::new(S::NOT_FOUND, "webhook_not_found", message),
            ServiceError::DeliveryNotFound => Self::new(S::NOT_FOUND, "delivery_not_found", message),
            ServiceError::WebhookDisabled => Self::new(S::CONFLICT, "webhook_disabled", message),
            ServiceError::TooManyWebhooks => Self::new(S::CONFLICT, "too_many_webhooks", message),
            ServiceError::IntegrationKeyNotFound => {
                Self::new(S::NOT_FOUND, "integration_key_not_found", message)
            }
            ServiceError::EmailOff(_) => Self::new(S::CONFLICT, "email_off", message),
            ServiceError::OfflineMessageNotFound => {
                Self::new(S::NOT_FOUND, "offline_message_not_found", message)
            }
            ServiceError::AlreadyAnswered => Self::new(S::CONFLICT, "already_answered", message),
            ServiceError::ChatStillOpen => Self::new(S::CONFLICT, "chat_not_closed", message),
            ServiceError::SiteNotFound => Self::new(S::NOT_FOUND, "site_not_found", message),
            ServiceError::IdentityInvalid(_) => {
                Self { field: Some("identity"), ..Self::new(S::UNAUTHORIZED, "identity_invalid", message) }
            }
            ServiceError::IdentityReplayed => {
                Self { field: Some("identity"), ..Self::new(S::UNAUTHORIZED, "identity_replayed", message) }
            }
            ServiceError::VerificationRequired => Self::new(S::FORBIDDEN, "verification_required", message),
            ServiceError::SiteKeyMismatch => {
                log::error!("{message} (is [sites] key_file or SWITCHBOARD_SITES__KEY the one the site was made with?)");
                Self::new(S::INTERNAL_SERVER_ERROR, "site_key_mismatch", message)
            }
            ServiceError::SiteKeyUnavailable(_) => {
                log::error!("{message}");
                Self::new(
                    S::INTERNAL_SERVER_ERROR,
                    "site_key_unavailable",
                    "The server's site key is unavailable; see its log.",
                )
            }
        }
    }
}

/// `the chat is closed` → `The chat is closed.`
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Busy => {
                crate::metrics::limit_hit("store_queue");
                Self::unavailable("store_busy", "The store is busy; try again shortly.", 1)
            }
            StoreError::Unavailable(detail) => {
                log::warn!("store unavailable: {detail}");
                Self::unavailable("store_unavailable", "The store is unavailable; try again shortly.", 2)
            }
            StoreError::Query(_) | StoreError::Corrupt(_) => {
                log::error!("store failure: {error}");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Something went wrong on our side.")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    #[actix_web::test]
    async fn the_error_envelope_has_code_message_and_field() {
        let error = ApiError::from(InvalidInput::new("body", "must not be empty"));
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let bytes = to_bytes(response.into_body()).await.expect("body");
        let json: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(json["error"]["code"], "invalid_field");
        assert_eq!(json["error"]["field"], "body");
        assert_eq!(json["error"]["message"], "`body` must not be empty.");
    }

    #[actix_web::test]
    async fn a_503_carries_retry_after() {
        let response = ApiError::from(ServiceError::TooManyPolls).error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers().get(header::RETRY_AFTER).map(|v| v.as_bytes()), Some(&b"2"[..]));
    }
}
