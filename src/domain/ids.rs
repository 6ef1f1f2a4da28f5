use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::InvalidInput;

/// Parses a UUID a client sent (a path segment, a field); `field` names it in the error.
pub fn parse_uuid(text: &str, field: &'static str) -> Result<Uuid, InvalidInput> {
    Uuid::from_str(text).map_err(|_| InvalidInput::new(field, "must be a UUID"))
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[derive(diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random id.
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }

            /// Parses an id sent by a client; `field` names it in the error.
            pub fn parse(text: &str, field: &'static str) -> Result<Self, InvalidInput> {
                parse_uuid(text, field).map(Self)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_id!(
    /// A chat between one visitor and (at most) one agent.
    ChatId
);
uuid_id!(
    /// An anonymous website visitor.
    VisitorId
);
uuid_id!(
    /// A support agent (or admin).
    AgentId
);
uuid_id!(
    /// A website that embeds the widget, registered by an admin.
    SiteId
);

/// What an agent may do beyond chatting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Chats with visitors.
    Agent,
    /// Also manages agents and reads every transcript.
    Admin,
}

impl Role {
    /// The spelling used in the store and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Admin => "admin",
        }
    }

    /// Reads the store's spelling; anything unknown is the least powerful role.
    pub fn from_store(text: &str) -> Self {
        if text == "admin" {
            Role::Admin
        } else {
            Role::Agent
        }
    }
}

/// Which kind of participant a token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// An anonymous visitor.
    Visitor,
    /// A logged-in agent or admin.
    Agent,
}

impl PrincipalKind {
    /// The spelling used in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Visitor => "visitor",
            PrincipalKind::Agent => "agent",
        }
    }
}

/// Who is making a request, as proven by their token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Principal {
    /// An anonymous visitor.
    Visitor(VisitorId),
    /// An agent, with the role it had when the token was resolved.
    Agent(AgentId, Role),
}

impl Principal {
    /// The participant's id, whatever its kind.
    pub fn uuid(&self) -> Uuid {
        match self {
            Principal::Visitor(id) => id.0,
            Principal::Agent(id, _) => id.0,
        }
    }

    /// Visitor or agent.
    pub fn kind(&self) -> PrincipalKind {
        match self {
            Principal::Visitor(_) => PrincipalKind::Visitor,
            Principal::Agent(..) => PrincipalKind::Agent,
        }
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn an_id_parses_back_from_its_text(bits in any::<u128>()) {
            let id = ChatId(Uuid::from_u128(bits));
            prop_assert_eq!(ChatId::parse(&id.to_string(), "chat_id"), Ok(id));
            prop_assert_eq!(AgentId::parse(&id.0.simple().to_string(), "agent_id").map(|a| a.0), Ok(id.0));
        }

        #[test]
        fn any_text_is_an_id_or_an_error_naming_the_field(text in ".{0,48}") {
            match VisitorId::parse(&text, "visitor_id") {
                Ok(id) => prop_assert_eq!(VisitorId::parse(&id.to_string(), "visitor_id"), Ok(id)),
                Err(error) => prop_assert_eq!(error.field, "visitor_id"),
            }
        }
    }
}
