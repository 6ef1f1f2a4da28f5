//! The cursor's chats: the last seq seen per chat, as a vector sorted by chat id.
//!
//! A held poll keeps its cursor for the whole hold, and nearly every cursor names one chat (a
//! visitor's) or a few: a `BTreeMap` allocates a whole node of eleven entries (about 280 bytes)
//! for one, a sorted vector exactly the entries it has. On the wire it is the same JSON object,
//! keys in ascending order as the map wrote them; a key given twice keeps its last value, as
//! the map did.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::ChatId;

/// Last seq seen per chat, sorted by chat id, each chat once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct SeenChats(Vec<(ChatId, i64)>);

impl SeenChats {
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn position(&self, chat: ChatId) -> Result<usize, usize> {
        self.0.binary_search_by(|(known, _)| known.cmp(&chat))
    }

    /// Last seq seen in `chat`, if the cursor names it.
    pub(super) fn get(&self, chat: ChatId) -> Option<i64> {
        self.position(chat).ok().map(|at| self.0[at].1)
    }

    /// Records `seq` for `chat` unless a higher one is there (0 for a chat not named yet).
    pub(super) fn raise(&mut self, chat: ChatId, seq: i64) {
        match self.position(chat) {
            Ok(at) => self.0[at].1 = self.0[at].1.max(seq),
            Err(at) => self.0.insert(at, (chat, seq.max(0))),
        }
    }

    /// Forgets `chat`.
    pub(super) fn remove(&mut self, chat: ChatId) {
        if let Ok(at) = self.position(chat) {
            self.0.remove(at);
        }
    }

    /// Every chat with its seq, in ascending chat order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (ChatId, i64)> + '_ {
        self.0.iter().copied()
    }

    /// Sorts freshly read pairs; of a chat given twice, the later pair stays.
    fn from_pairs(mut pairs: Vec<(ChatId, i64)>) -> Self {
        // Stable, so pairs of one chat keep their order; reversed first, so the last comes first.
        pairs.reverse();
        pairs.sort_by_key(|pair| pair.0);
        pairs.dedup_by(|later, earlier| later.0 == earlier.0);
        pairs.shrink_to_fit();
        Self(pairs)
    }
}

impl FromIterator<(ChatId, i64)> for SeenChats {
    fn from_iter<I: IntoIterator<Item = (ChatId, i64)>>(pairs: I) -> Self {
        Self::from_pairs(pairs.into_iter().collect())
    }
}

impl Serialize for SeenChats {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (chat, seq) in &self.0 {
            map.serialize_entry(chat, seq)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for SeenChats {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs;

        impl<'de> Visitor<'de> for Pairs {
            type Value = SeenChats;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a map of chat ids to seqs")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SeenChats, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0).min(128));
                while let Some(pair) = map.next_entry::<ChatId, i64>()? {
                    pairs.push(pair);
                }
                Ok(SeenChats::from_pairs(pairs))
            }
        }

        deserializer.deserialize_map(Pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(n: u128) -> ChatId {
        ChatId(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn chats_stay_sorted_and_named_once() {
        let mut seen = SeenChats::default();
        seen.raise(chat(3), 1);
        seen.raise(chat(1), 4);
        seen.raise(chat(2), 0);
        seen.raise(chat(3), 7);
        seen.raise(chat(3), 5);
        assert_eq!(seen.iter().collect::<Vec<_>>(), vec![(chat(1), 4), (chat(2), 0), (chat(3), 7)]);
        seen.remove(chat(2));
        assert_eq!((seen.get(chat(2)), seen.get(chat(3))), (None, Some(7)));
    }

    #[test]
    fn a_chat_given_twice_keeps_its_last_value_as_the_map_did() {
        let json = format!(r#"{{"{a}":5,"{b}":1,"{a}":2}}"#, a = chat(9), b = chat(4));
        let seen: SeenChats = serde_json::from_str(&json).expect("a map");
        assert_eq!(seen.iter().collect::<Vec<_>>(), vec![(chat(4), 1), (chat(9), 2)]);
        let map: std::collections::BTreeMap<ChatId, i64> = serde_json::from_str(&json).expect("a map");
        assert_eq!(serde_json::to_string(&seen).ok(), serde_json::to_string(&map).ok());
    }
}
