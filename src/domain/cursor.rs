use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::{ChatId, InvalidInput};

mod seen_chats;

use seen_chats::SeenChats;

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
    #[serde(rename = "c", default, skip_serializing_if = "SeenChats::is_empty")]
    chats: SeenChats,
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
        if cursor.notices < 0 || cursor.chats.iter().any(|(_, seq)| seq < 0) {
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
        self.chats.get(chat).unwrap_or(0)
    }

    /// Records that the client has now seen `chat` up to `seq`.
    pub fn advance(&mut self, chat: ChatId, seq: i64) {
        self.chats.raise(chat, seq);
    }

    /// Forgets `chat` (closed and fully seen, or not the client's).
    pub fn forget(&mut self, chat: ChatId) {
        self.chats.remove(chat);
    }

    /// Id of the last notice seen.
    pub fn notices_seen(&self) -> i64 {
        self.notices
    }

    /// Records that the client has seen notices up to `id`.
    pub fn advance_notices(&mut self, id: i64) {
        self.notices = self.notices.max(id);
    }

    /// The chats this cursor mentions, in ascending order.
    pub fn chats(&self) -> impl Iterator<Item = ChatId> + '_ {
        self.chats.iter().map(|(chat, _)| chat)
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

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    fn chat_id() -> impl Strategy<Value = ChatId> {
        any::<u128>().prop_map(|bits| ChatId(uuid::Uuid::from_u128(bits)))
    }

    /// Cursors as the server makes them: non-negative seqs and notice ids.
    fn cursor() -> impl Strategy<Value = Cursor> {
        (prop::collection::btree_map(chat_id(), 0..=i64::MAX, 0..12), 0..=i64::MAX)
            .prop_map(|(chats, notices)| Cursor { chats: chats.into_iter().collect(), notices })
    }

    proptest! {
        #[test]
        fn every_cursor_the_server_makes_parses_back_to_itself(cursor in cursor()) {
            let text = cursor.encode();
            prop_assert!(text.len() <= MAX_ENCODED_LEN);
            prop_assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{text} is not URL-safe");
            prop_assert_eq!(Cursor::parse(Some(&text)), Ok(cursor));
        }

        #[test]
        fn any_text_is_a_cursor_or_an_error_naming_the_cursor(text in ".{0,200}") {
            match Cursor::parse(Some(&text)) {
                // Whatever was accepted means the same thing once re-encoded.
                Ok(parsed) => prop_assert_eq!(Cursor::parse(Some(&parsed.encode())), Ok(parsed)),
                Err(error) => prop_assert_eq!(error.field, "cursor"),
            }
        }

        #[test]
        fn any_json_behind_the_base64_is_a_valid_cursor_or_an_error(json in cursor_like_json()) {
            let text = URL_SAFE_NO_PAD.encode(json.as_bytes());
            match Cursor::parse(Some(&text)) {
                Ok(parsed) => {
                    prop_assert!(parsed.notices_seen() >= 0);
                    prop_assert!(parsed.chats().all(|chat| parsed.seen(chat) >= 0));
                    prop_assert_eq!(Cursor::parse(Some(&parsed.encode())), Ok(parsed));
                }
                Err(error) => prop_assert_eq!(error.field, "cursor"),
            }
        }

        /// A client that edits its cursor edits the numbers in it: one byte of the JSON under
        /// the base64 is overwritten with a digit or a minus sign, half the time at the first
        /// digit of a seq or notice id (where a minus makes it negative). Most such cursors still
        /// parse, so the property is asserted on them rather than on refused garbage.
        #[test]
        fn a_tampered_cursor_never_goes_negative(cursor in cursor(), at_a_number in any::<bool>(),
                                                  flip in any::<prop::sample::Index>(),
                                                  byte in prop_oneof![Just(b'-'), b'0'..=b'9']) {
            let mut json = URL_SAFE_NO_PAD.decode(cursor.encode()).expect("our own base64");
            prop_assume!(!json.is_empty());
            let number_starts: Vec<usize> = json
                .windows(2)
                .enumerate()
                .filter(|(_, pair)| pair[0] == b':' && pair[1].is_ascii_digit())
                .map(|(at, _)| at + 1)
                .collect();
            let at = if at_a_number {
                number_starts[flip.index(number_starts.len())]
            } else {
                flip.index(json.len())
            };
            json[at] = byte;
            let goes_negative = serde_json::from_slice::<serde_json::Value>(&json).is_ok_and(|value| {
                let chats = value["c"].as_object().into_iter().flat_map(|chats| chats.values());
                chats.chain([&value["e"]]).any(|number| number.as_i64().is_some_and(|n| n < 0))
            });
            match Cursor::parse(Some(&URL_SAFE_NO_PAD.encode(&json))) {
                Ok(parsed) => {
                    prop_assert!(!goes_negative, "accepted {}", String::from_utf8_lossy(&json));
                    prop_assert!(parsed.notices_seen() >= 0);
                    prop_assert!(parsed.chats().all(|chat| parsed.seen(chat) >= 0));
                }
                Err(error) => prop_assert_eq!(error.field, "cursor"),
            }
        }
    }

    /// JSON that is close to a cursor: right and wrong keys, ids, numbers of every sign and size.
    fn cursor_like_json() -> impl Strategy<Value = String> {
        let id = prop_oneof![chat_id().prop_map(|c| c.to_string()), "[a-z0-9-]{0,40}"];
        let number = prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|n| format!("{n:?}")),
            Just("null".to_string()),
            Just("\"7\"".to_string()),
            Just("1e400".to_string()),
        ];
        let chats = prop::collection::vec((id, number.clone()), 0..4).prop_map(|pairs| {
            let body: Vec<String> = pairs.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            format!("{{{}}}", body.join(","))
        });
        (prop::option::of(chats), prop::option::of(number), prop::option::of("[a-z]{1,3}")).prop_map(
            |(chats, notices, extra)| {
                let mut fields = Vec::new();
                if let Some(chats) = chats {
                    fields.push(format!("\"c\":{chats}"));
                }
                if let Some(notices) = notices {
                    fields.push(format!("\"e\":{notices}"));
                }
                if let Some(extra) = extra {
                    fields.push(format!("\"{extra}\":1"));
                }
                format!("{{{}}}", fields.join(","))
            },
        )
    }
}
