use crate::domain::InvalidInput;
use crate::hub::AdmitError;
use crate::store::StoreError;

/// Why a service call refused or failed. Each variant maps to exactly one HTTP status and error
/// code in `crate::http::error`; nothing here knows about HTTP.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A field is malformed.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// No token, or one that is unknown, expired or revoked.
    #[error("a valid token is required")]
    Unauthorized,
    /// Wrong employee id or password (deliberately not saying which).
    #[error("employee id or password is wrong")]
    InvalidCredentials,
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// No such chat.
    #[error("no such chat")]
    ChatNotFound,
    /// No such agent.
    #[error("no such agent")]
    AgentNotFound,
    /// The chat has ended.
    #[error("the chat is closed")]
    ChatClosed,
    /// The agent holds `max_chats` chats already.
    #[error("the agent cannot take another chat now")]
    AgentFull,
    /// The agent is not online (not polling, away, or disabled).
    #[error("the agent is not online")]
    AgentOffline,
    /// No agent is online at all: leave an offline message instead.
    #[error("no agent is online right now")]
    NoAgentOnline,
    /// No such visitor.
    #[error("no such visitor")]
    VisitorNotFound,
    /// The visitor is not on the site now (not polling).
    #[error("the visitor is not on the site now")]
    VisitorOffline,
    /// The visitor already has a chat going.
    #[error("you already have an open chat")]
    ChatAlreadyOpen,
    /// The invited visitor already has a chat going (the inviting agent's view of the above).
    #[error("the visitor is already in a chat")]
    VisitorInChat,
    /// The employee id is taken.
    #[error("that employee id is already taken")]
    EmployeeIdTaken,
    /// The first admin exists already; setup is over.
    #[error("setup is done: an agent exists already, log in instead")]
    SetupDone,
    /// A node limit is reached: try again shortly.
    #[error("too many polls are held; try again shortly")]
    TooManyPolls,
    /// `chat.max_active_chats` is reached.
    #[error("too many chats are open; try again shortly")]
    TooManyChats,
    /// The node is stopping.
    #[error("the server is shutting down")]
    ShuttingDown,
    /// Password hashing's queue (`auth.hashing_queue`) is full: too many logins or password
    /// changes at once.
    #[error("too many logins at once; try again shortly")]
    HashingBusy,
    /// Redis (presence leases, wake-ups between nodes) cannot be reached.
    #[error("the broker is unavailable: {0}")]
    BrokerUnavailable(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The chat has not ended yet, so it cannot be rated.
    #[error("the chat can be rated once it has ended")]
    ChatNotClosed,
    /// The chat has been rated already.
    #[error("the chat has already been rated")]
    AlreadyRated,
    /// The visitor, or the address it comes from, is banned.
    #[error("you cannot use this chat")]
    Banned,
    /// The widget says it runs in a page of a site outside `cors.allowed_origins`.
    #[error("this site is not allowed to use this chat server")]
    OriginNotAllowed,
    /// No such ban.
    #[error("no such ban")]
    BanNotFound,
    /// The ban was lifted already, or has expired.
    #[error("the ban is no longer in force")]
    BanNotInForce,
    /// No such canned reply (or another agent's own, which nobody else may see).
    #[error("no such canned reply")]
    CannedReplyNotFound,
    /// Another canned reply of the same scope has this shortcut.
    #[error("another canned reply has this shortcut")]
    ShortcutTaken,
    /// The scope holds `service::canned_replies::MAX_PER_SCOPE` replies already.
    #[error("there are too many canned replies; delete some first")]
    TooManyCannedReplies,
    /// No such webhook endpoint.
    #[error("no such webhook endpoint")]
    WebhookNotFound,
    /// The endpoint has no delivery of that event.
    #[error("the endpoint has no delivery of that event")]
    DeliveryNotFound,
    /// The endpoint is disabled: nothing is sent to it until it is enabled again.
    #[error("the endpoint is disabled; enable it first")]
    WebhookDisabled,
    /// `service::webhooks::MAX_ENDPOINTS` endpoints exist already.
    #[error("there are too many webhook endpoints; delete some first")]
    TooManyWebhooks,
    /// No such integration key.
    #[error("no such integration key")]
    IntegrationKeyNotFound,
    /// The chat ended before any agent served it: there is nobody to rate.
    #[error("the chat ended before an agent took it, so there is nobody to rate")]
    ChatNotRateable,
    /// Email is not configured (`[email]`), or an admin switched visitor email off.
    #[error("{0}")]
    EmailOff(&'static str),
    /// No offline message has this id.
    #[error("no such offline message")]
    OfflineMessageNotFound,
    /// The offline message has its answer already.
    #[error("this offline message has been answered already")]
    AlreadyAnswered,
    /// A transcript is emailed once the chat has ended.
    #[error("the transcript can be emailed once the chat has ended")]
    ChatStillOpen,
    /// No site has this id.
    #[error("no such site")]
    SiteNotFound,
    /// A visitor identity the site's server should have signed is not valid: the reason says
    /// which check failed (signature, algorithm, expiry, site, claims).
    #[error("the visitor identity is not valid: {0}")]
    IdentityInvalid(String),
    /// A valid identity token older than the newest one accepted for its customer, saying
    /// something else: a replay after the customer's identity changed.
    #[error("a newer identity of this customer has been seen; sign a new token")]
    IdentityReplayed,
    /// The site admits only visitors whose identity its server signed.
    #[error("this site requires a signed visitor identity")]
    VerificationRequired,
    /// The node's site key cannot open a site's secret (another key than the one it was
    /// sealed with): an operator error, not the caller's.
    #[error("this site's secret cannot be read with this server's site key")]
    SiteKeyMismatch,
    /// The node's site key cannot be read or made (`[sites]`): an operator error.
    #[error("this server's site key is unavailable: {0}")]
    SiteKeyUnavailable(String),
}

impl From<diesel::result::Error> for ServiceError {
    fn from(error: diesel::result::Error) -> Self {
        ServiceError::Store(StoreError::from(error))
    }
}

impl crate::store::WriteError for ServiceError {
    fn is_store_failure(&self) -> bool {
        matches!(self, ServiceError::Store(_))
    }
}

impl From<AdmitError> for ServiceError {
    fn from(error: AdmitError) -> Self {
        match error {
            AdmitError::TooManyPolls => ServiceError::TooManyPolls,
            AdmitError::ShuttingDown => ServiceError::ShuttingDown,
        }
    }
}

/// True when a diesel error is a unique-constraint violation.
pub(crate) fn is_unique_violation(error: &diesel::result::Error) -> bool {
    matches!(
        error,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

impl From<crate::broker::BrokerError> for ServiceError {
    fn from(error: crate::broker::BrokerError) -> Self {
        ServiceError::BrokerUnavailable(error.to_string())
    }
}
