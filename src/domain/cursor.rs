use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::{ChatId, InvalidInput};

/// Longest cursor text accepted (about 100 chats); anything longer is not one we made.
const MAX_ENCODED_LEN: usize = 8 * 1024;

/// Where a client stands in each of its chats: the last `seq` it has seen per chat.
///
/// On the wire it is opaque (base64url of compact JSON) so clients echo it and never build one.
/// It holds only durable sequence numbers, so it means the same thing after a restart and on
/// every node. A chat missing from it is read from its first event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Last seq seen, per chat.
    #[serde(rename = "c", default, skip_serializing_if = "BTreeMap::is_empty")]
    chats: BTreeMap<ChatId, i64>,
    /// Id of the last notice seen (typing, read markers, announcements).
    #[serde(rename = "e", default, skip_serializing_if = "is_zero")]
    notices: i64,
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

impl Cursor {
    /// Decodes a cursor sent back by a client; absent or empty is the start.
    pub fn parse(text: Option<&str>) -> Result<Self, InvalidInput> {
        let text = match text {
            None | Some("") => return Ok(Self::default()),
            Some(text) => text,
        };
        let invalid = || InvalidInput::new("cursor", "is not a cursor this server issued");
        if text.len() > MAX_ENCODED_LEN {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if cursor.notices < 0 || cursor.chats.values().any(|seq| *seq < 0) {
            return Err(invalid());
        }
        Ok(cursor)
    }

    /// The opaque text form; the start encodes as the empty string.
    pub fn encode(&self) -> String {
        if self.chats.is_empty() && self.notices == 0 {
            return String::new();
        }
        // Serialising a map of ids to integers cannot fail.
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    /// Last seq seen in `chat`, 0 when the client has seen none of it.
    pub fn seen(&self, chat: ChatId) -> i64 {
        self.chats.get(&chat).copied().unwrap_or(0)
    }

    /// Records that the client has now seen `chat` up to `seq`.
    pub fn advance(&mut self, chat: ChatId, seq: i64) {
        let entry = self.chats.entry(chat).or_insert(0);
        *entry = (*entry).max(seq);
    }

    /// Forgets `chat` (closed and fully seen, or not the client's).
    pub fn forget(&mut self, chat: ChatId) {
        self.chats.remove(&chat);
    }

    /// Id of the last notice seen.
    pub fn notices_seen(&self) -> i64 {
        self.notices
    }

    /// Records that the client has seen notices up to `id`.
    pub fn advance_notices(&mut self, id: i64) {
        self.notices = self.notices.max(id);
    }

    /// The chats this cursor mentions.
    pub fn chats(&self) -> impl Iterator<Item = ChatId> + '_ {
        self.chats.keys().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_cursor_is_the_empty_string_both_ways() {
        assert_eq!(Cursor::default().encode(), "");
        assert_eq!(Cursor::parse(Some("")), Ok(Cursor::default()));
        assert_eq!(Cursor::parse(None), Ok(Cursor::default()));
    }

    #[test]
    fn a_cursor_survives_encoding() {
        let mut cursor = Cursor::default();
        let chat = ChatId::new();
        cursor.advance(chat, 7);
        let decoded = Cursor::parse(Some(&cursor.encode())).expect("own cursor parses");
        assert_eq!(decoded.seen(chat), 7);
        assert_eq!(decoded, cursor);
    }

    #[test]
    fn advancing_never_moves_backwards() {
        let mut cursor = Cursor::default();
        let chat = ChatId::new();
        cursor.advance(chat, 5);
        cursor.advance(chat, 3);
        assert_eq!(cursor.seen(chat), 5);
    }

    #[test]
    fn garbage_negative_and_oversized_cursors_are_refused() {
        assert!(Cursor::parse(Some("not base64 !")).is_err());
        assert!(Cursor::parse(Some(&URL_SAFE_NO_PAD.encode("[1,2]"))).is_err());
        let negative = format!("{{\"c\":{{\"{}\":-1}}}}", ChatId::new());
        assert!(Cursor::parse(Some(&URL_SAFE_NO_PAD.encode(negative))).is_err());
        assert!(Cursor::parse(Some(&"A".repeat(MAX_ENCODED_LEN + 1))).is_err());
    }
}
