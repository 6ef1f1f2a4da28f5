use serde::Serialize;

use super::InvalidInput;

/// What an agent chose: taking new chats or not. Being connected is presence, not this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    /// Takes new chats (when present and below capacity).
    Online,
    /// Keeps its chats but gets no new ones.
    Away,
}

impl AgentStatus {
    /// The spelling used in the store and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Online => "online",
            AgentStatus::Away => "away",
        }
    }

    /// Parses the wire's (and the store's) spelling; `field` names it in the error.
    pub fn parse(text: &str, field: &'static str) -> Result<Self, InvalidInput> {
        match text {
            "online" => Ok(AgentStatus::Online),
            "away" => Ok(AgentStatus::Away),
            _ => Err(InvalidInput::new(field, "must be `online` or `away`")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_parses_back_from_its_spelling_and_nothing_else_parses() {
        for status in [AgentStatus::Online, AgentStatus::Away] {
            assert_eq!(AgentStatus::parse(status.as_str(), "status"), Ok(status));
            assert_eq!(serde_json::to_value(status).ok(), Some(serde_json::json!(status.as_str())));
        }
        for bad in ["", "Online", "busy", "online "] {
            assert_eq!(AgentStatus::parse(bad, "status").map_err(|e| e.field), Err("status"), "{bad:?}");
        }
    }
}
