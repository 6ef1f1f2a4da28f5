use serde::Serialize;

/// Where a chat is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum ChatStatus {
    /// Waiting in the queue for the next free agent.
    Queued,
    /// Visitor and agent are talking.
    Open,
    /// Ended; the reason is stored with it.
    Closed,
}

impl ChatStatus {
    /// The spelling used in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatStatus::Queued => "queued",
            ChatStatus::Open => "open",
            ChatStatus::Closed => "closed",
        }
    }

    /// Reads the store's spelling; anything unknown counts as ended.
    pub fn from_store(text: &str) -> Self {
        match text {
            "queued" => ChatStatus::Queued,
            "open" => ChatStatus::Open,
            _ => ChatStatus::Closed,
        }
    }
}
