//! What integrations are made of: the scopes an integration key grants, the name an admin gives
//! it, and the cursor of the event feed (`GET /api/events`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::{refuse_nul, InvalidInput};

/// What an integration key may do. New scopes come as new variants; a scope this server does
/// not know is refused when a key is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read the event feed: `GET /api/events`.
    EventsRead,
}

impl Scope {
    /// Every scope, in the order lists are written.
    pub const ALL: [Scope; 1] = [Scope::EventsRead];

    /// The wire (and stored) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::EventsRead => "events:read",
        }
    }

    /// The scope called `text`, if there is one.
    pub fn from_name(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == text)
    }
}

/// The scopes of one key: at least one, each once, in [`Scope::ALL`] order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// Checks the `scopes` field: a list of scope names, none unknown, not empty.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, InvalidInput> {
        let mut scopes = Vec::new();
        for name in names {
            let scope = Scope::from_name(name).ok_or_else(|| {
                let known: Vec<&str> = Scope::ALL.iter().map(|scope| scope.as_str()).collect();
                InvalidInput::new("scopes", format!("holds an unknown scope; known: {}", known.join(", ")))
            })?;
            scopes.push(scope);
        }
        if scopes.is_empty() {
            return Err(InvalidInput::new("scopes", "must name at least one scope"));
        }
        scopes.sort_unstable();
        scopes.dedup();
        Ok(Self(scopes))
    }

    /// The scopes as stored: space-separated names. Names this server no longer knows are
    /// dropped (so they grant nothing).
    pub fn from_store(text: &str) -> Self {
        let mut scopes: Vec<Scope> = text.split_whitespace().filter_map(Scope::from_name).collect();
        scopes.sort_unstable();
        scopes.dedup();
        Self(scopes)
    }

    /// The stored form: space-separated names.
    pub fn to_store(&self) -> String {
        self.names().collect::<Vec<_>>().join(" ")
    }

    /// The names, in order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().map(|scope| scope.as_str())
    }

    /// Whether `scope` is among them.
    pub fn grants(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }
}

/// The name an admin gives an integration key: 1–64 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyName(String);

impl KeyName {
    /// Longest name, in characters.
    pub const MAX_CHARS: usize = 64;

    /// Checks the `name` field.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        refuse_nul(text, "name")?;
        let text = text.trim();
        if text.is_empty() || text.chars().count() > Self::MAX_CHARS {
            return Err(InvalidInput::new("name", format!("must be 1 to {} characters", Self::MAX_CHARS)));
        }
        Ok(Self(text.to_string()))
    }

    /// The name, trimmed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a reader of the event feed stands: the position of the last event it has seen (0:
/// none). Opaque on the wire (base64url of compact JSON, like [`Cursor`](super::Cursor), but
/// a `/poll` cursor is refused here).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedCursor {
    /// The last position seen.
    #[serde(rename = "f")]
    pos: i64,
}

impl FeedCursor {
    /// The cursor after position `pos`.
    pub fn at(pos: i64) -> Self {
        Self { pos: pos.max(0) }
    }

    /// Decodes a cursor a client sent back; absent or empty is the start (position 0).
    pub fn parse(text: Option<&str>) -> Result<Self, InvalidInput> {
        let text = match text {
            None | Some("") => return Ok(Self::default()),
            Some(text) => text,
        };
        let invalid = || InvalidInput::new("cursor", "is not an event feed cursor this server issued");
        if text.len() > 64 {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let cursor: FeedCursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if cursor.pos < 0 {
            return Err(invalid());
        }
        Ok(cursor)
    }

    /// The opaque text form; the start encodes as the empty string.
    pub fn encode(&self) -> String {
        if self.pos == 0 {
            return String::new();
        }
        URL_SAFE_NO_PAD.encode(format!("{{\"f\":{}}}", self.pos))
    }

    /// The last position seen.
    pub fn pos(&self) -> i64 {
        self.pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ChatId, Cursor};

    #[test]
    fn a_feed_cursor_survives_encoding_and_the_start_is_empty() {
        assert_eq!(FeedCursor::parse(None), Ok(FeedCursor::at(0)));
        assert_eq!(FeedCursor::at(0).encode(), "");
        let cursor = FeedCursor::at(41);
        assert_eq!(FeedCursor::parse(Some(&cursor.encode())), Ok(cursor));
    }

    #[test]
    fn garbage_negative_and_poll_cursors_are_refused() {
        assert!(FeedCursor::parse(Some("not base64 !")).is_err());
        assert!(FeedCursor::parse(Some(&URL_SAFE_NO_PAD.encode("{\"f\":-1}"))).is_err());
        assert!(FeedCursor::parse(Some(&URL_SAFE_NO_PAD.encode("{\"f\":1.5}"))).is_err());
        let mut poll = Cursor::default();
        poll.advance(ChatId::new(), 3);
        assert_eq!(FeedCursor::parse(Some(&poll.encode())).map_err(|e| e.field), Err("cursor"));
    }

    #[test]
    fn scopes_refuse_unknown_and_empty_lists_and_store_as_names() {
        let scopes = Scopes::parse(["events:read", "events:read"]).expect("known scope");
        assert_eq!(scopes.to_store(), "events:read");
        assert!(scopes.grants(Scope::EventsRead));
        assert_eq!(Scopes::parse(["events:write"]).map_err(|e| e.field), Err("scopes"));
        assert_eq!(Scopes::parse([]).map_err(|e| e.field), Err("scopes"));
        assert!(!Scopes::from_store("gone:scope").grants(Scope::EventsRead));
    }
}
