//! The integrity ledger: what each side of each chat received, and which messages the server
//! acknowledged, so the end of a run can say what was lost, duplicated or reordered.
//!
//! Both sides of a chat see all its events (seq 1, 2, 3 … without gaps), their own messages
//! included, so each side's receipts are checked for repeats, order and holes, and each
//! acknowledged message (200 on `POST /send`) must reach the *other* side exactly once, under
//! the seq the acknowledgement gave and with the same `client_msg_id`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A side of a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The visitor.
    Visitor,
    /// The agent.
    Agent,
}

impl Side {
    fn index(self) -> usize {
        match self {
            Side::Visitor => 0,
            Side::Agent => 1,
        }
    }

    /// The first character of the `client_msg_id`s this side makes.
    pub fn letter(self) -> char {
        match self {
            Side::Visitor => 'v',
            Side::Agent => 'a',
        }
    }

    fn from_letter(letter: u8) -> Option<Self> {
        match letter {
            b'v' => Some(Side::Visitor),
            b'a' => Some(Side::Agent),
            _ => None,
        }
    }
}

/// What a generated `client_msg_id` (`<side letter><number>.<send start in µs>`) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageTag {
    /// Who sent it.
    pub from: Side,
    /// The sender's message number in this chat, from 1.
    pub number: u64,
    /// When the first attempt to send it started, in µs of the run's clock.
    pub sent_at_us: u64,
}

impl MessageTag {
    /// The `client_msg_id` for this tag (characters the API allows: letters, digits, `.`).
    pub fn client_msg_id(&self) -> String {
        format!("{}{}.{}", self.from.letter(), self.number, self.sent_at_us)
    }

    /// Reads a `client_msg_id` made by [`MessageTag::client_msg_id`]; `None` for any other.
    pub fn parse(text: &str) -> Option<Self> {
        let from = Side::from_letter(*text.as_bytes().first()?)?;
        let (number, sent_at) = text.get(1..)?.split_once('.')?;
        Some(Self { from, number: number.parse().ok()?, sent_at_us: sent_at.parse().ok()? })
    }

    /// A key unique within a chat.
    fn key(&self) -> u64 {
        self.number << 1 | self.from.index() as u64
    }
}

/// No message tag: events that are not generated messages.
const NO_KEY: u64 = u64::MAX;

/// Receipts are indexed by seq; a seq past this is taken as corrupt rather than allocated for.
const MAX_SEQ: i64 = 50_000_000;

/// One side's receipts in one chat, indexed by seq.
#[derive(Debug, Default)]
struct Receipts {
    /// Times each seq was received (index 0 unused).
    counts: Vec<u32>,
    /// The message key received at each seq, `NO_KEY` for other events.
    keys: Vec<u64>,
    /// Highest seq received.
    highest: i64,
    /// Every seq up to this one has been received.
    contiguous: i64,
    duplicated: u64,
    reordered: u64,
    /// Seqs below 1 or past `MAX_SEQ`.
    out_of_range: u64,
}

impl Receipts {
    /// Takes in one event; true when it is the first receipt of `seq`.
    fn receive(&mut self, seq: i64, key: u64) -> bool {
        let index = match usize::try_from(seq) {
            Ok(index) if index > 0 && seq <= MAX_SEQ => index,
            _ => {
                self.out_of_range += 1;
                return false;
            }
        };
        if self.counts.len() <= index {
            self.counts.resize(index + 1, 0);
            self.keys.resize(index + 1, NO_KEY);
        }
        self.counts[index] += 1;
        if self.counts[index] > 1 {
            self.duplicated += 1;
            return false;
        }
        if seq < self.highest {
            self.reordered += 1;
        }
        self.keys[index] = key;
        self.highest = self.highest.max(seq);
        while self.counts.get(self.contiguous as usize + 1).is_some_and(|count| *count > 0) {
            self.contiguous += 1;
        }
        true
    }

    fn count(&self, seq: i64) -> u32 {
        usize::try_from(seq).ok().and_then(|index| self.counts.get(index)).copied().unwrap_or(0)
    }

    fn key(&self, seq: i64) -> u64 {
        usize::try_from(seq).ok().and_then(|index| self.keys.get(index)).copied().unwrap_or(NO_KEY)
    }

    /// Seqs from 1 to `last` never received.
    fn missing_up_to(&self, last: i64) -> u64 {
        (1..=last).filter(|seq| self.count(*seq) == 0).count() as u64
    }
}

/// One chat's ledger.
#[derive(Debug, Default)]
pub struct ChatLedger {
    receipts: [Receipts; 2],
    /// Acknowledged messages: key → (sender, seq).
    acks: HashMap<u64, (Side, i64)>,
    /// The same message acknowledged under two different seqs (stored twice).
    conflicting_acks: u64,
    /// The highest seq the server has said exists (acks, chat start, close).
    expected_last: i64,
    /// Only this side receives (nchan: the agent publishes, only the visitor subscribes);
    /// `None`: both do, as in Switchboard's chats.
    only_receiver: Option<Side>,
}

impl ChatLedger {
    /// `side` received an event; `tag` when it is a generated message. Returns true on the
    /// first receipt of that seq by that side.
    pub fn receive(&mut self, side: Side, seq: i64, tag: Option<MessageTag>) -> bool {
        self.receipts[side.index()].receive(seq, tag.map_or(NO_KEY, |tag| tag.key()))
    }

    /// The server acknowledged `tag` under `seq`.
    pub fn ack(&mut self, tag: MessageTag, seq: i64) {
        if let Some((_, earlier)) = self.acks.insert(tag.key(), (tag.from, seq)) {
            if earlier != seq {
                self.conflicting_acks += 1;
            }
        }
        self.reached(seq);
    }

    /// The server said the chat has reached `seq` (its start, a close).
    pub fn reached(&mut self, seq: i64) {
        self.expected_last = self.expected_last.max(seq);
    }

    /// Both sides (or the only receiving one) have received everything up to what the server
    /// said exists.
    pub fn drained(&self) -> bool {
        self.receiving().all(|side| side.contiguous >= self.expected_last)
    }

    /// The receipts of the sides that receive.
    fn receiving(&self) -> impl Iterator<Item = &Receipts> {
        let only = self.only_receiver.map(Side::index);
        self.receipts
            .iter()
            .enumerate()
            .filter(move |(index, _)| only.is_none_or(|only| only == *index))
            .map(|(_, receipts)| receipts)
    }

    fn verdict(&self) -> Verdict {
        let mut verdict = Verdict { acked: self.acks.len() as u64, ..Verdict::default() };
        for (key, (from, seq)) in &self.acks {
            let other = &self.receipts[1 - from.index()];
            if other.count(*seq) == 0 {
                verdict.lost += 1;
            } else if other.key(*seq) != *key {
                verdict.mismatched += 1;
            }
        }
        for side in self.receiving() {
            verdict.duplicated += side.duplicated;
            verdict.reordered += side.reordered;
            verdict.mismatched += side.out_of_range;
            verdict.gaps += side.missing_up_to(side.highest.max(self.expected_last));
        }
        verdict.duplicated += self.conflicting_acks;
        verdict
    }
}

/// What the ledger found.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Verdict {
    /// Chats in the ledger.
    pub chats: u64,
    /// Messages acknowledged with 200.
    pub acked: u64,
    /// Acknowledged messages the other side never received.
    pub lost: u64,
    /// Events a side received more than once, plus messages acknowledged under two seqs.
    pub duplicated: u64,
    /// Events received after one with a higher seq.
    pub reordered: u64,
    /// Seqs a side never received, below the highest it received or the server announced
    /// (any event, not only acknowledged messages).
    pub gaps: u64,
    /// Acknowledged seqs that reached the other side holding a different message, and events
    /// with an impossible seq.
    pub mismatched: u64,
    /// Chats where both sides received everything the server announced.
    pub drained_chats: u64,
}

impl Verdict {
    /// Nothing lost, repeated, reordered, missing or mixed up.
    pub fn ok(&self) -> bool {
        self.lost == 0
            && self.duplicated == 0
            && self.reordered == 0
            && self.gaps == 0
            && self.mismatched == 0
    }
}

/// Every chat's ledger, by chat id.
#[derive(Default)]
pub struct Ledger {
    chats: Mutex<HashMap<String, Arc<Mutex<ChatLedger>>>>,
    only_receiver: Option<Side>,
}

impl Ledger {
    /// A ledger whose chats only `side` receives (nchan's channels: the visitor subscribes,
    /// the agent only publishes).
    pub fn receiving_only(side: Side) -> Self {
        Self { only_receiver: Some(side), ..Self::default() }
    }

    /// The ledger of `chat_id`, made on first mention (an agent may hear of a chat before the
    /// visitor's start call has returned).
    pub fn chat(&self, chat_id: &str) -> Arc<Mutex<ChatLedger>> {
        let mut chats = self.chats.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let only_receiver = self.only_receiver;
        Arc::clone(
            chats.entry(chat_id.to_string()).or_insert_with(|| {
                Arc::new(Mutex::new(ChatLedger { only_receiver, ..ChatLedger::default() }))
            }),
        )
    }

    /// Chats drained, of all chats.
    pub fn drained(&self) -> (usize, usize) {
        let chats = self.all();
        let drained = chats.iter().filter(|chat| lock(chat).drained()).count();
        (drained, chats.len())
    }

    /// Sums every chat's verdict.
    pub fn verdict(&self) -> Verdict {
        let mut total = Verdict::default();
        for chat in self.all() {
            let chat = lock(&chat);
            let verdict = chat.verdict();
            total.chats += 1;
            total.acked += verdict.acked;
            total.lost += verdict.lost;
            total.duplicated += verdict.duplicated;
            total.reordered += verdict.reordered;
            total.gaps += verdict.gaps;
            total.mismatched += verdict.mismatched;
            total.drained_chats += u64::from(chat.drained());
        }
        total
    }

    fn all(&self) -> Vec<Arc<Mutex<ChatLedger>>> {
        self.chats.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).values().cloned().collect()
    }
}

/// Locks a chat's ledger; a panicked holder leaves counts that are still worth reading.
pub fn lock(chat: &Mutex<ChatLedger>) -> std::sync::MutexGuard<'_, ChatLedger> {
    chat.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(from: Side, number: u64) -> MessageTag {
        MessageTag { from, number, sent_at_us: 5 }
    }

    #[test]
    fn a_message_tag_survives_its_client_msg_id() {
        let original = tag(Side::Agent, 42);
        assert_eq!(MessageTag::parse(&original.client_msg_id()), Some(original));
        assert_eq!(MessageTag::parse("d-1"), None);
    }

    #[test]
    fn an_acknowledged_message_delivered_once_in_order_is_clean() {
        let mut chat = ChatLedger::default();
        chat.reached(1);
        chat.ack(tag(Side::Visitor, 1), 2);
        for side in [Side::Visitor, Side::Agent] {
            chat.receive(side, 1, None);
            chat.receive(side, 2, Some(tag(Side::Visitor, 1)));
        }
        assert!(chat.drained());
        assert!(chat.verdict().ok());
    }

    #[test]
    fn lost_duplicated_reordered_and_mismatched_are_counted() {
        let mut chat = ChatLedger::default();
        chat.ack(tag(Side::Visitor, 1), 1);
        chat.ack(tag(Side::Visitor, 2), 2);
        chat.ack(tag(Side::Visitor, 3), 3);
        chat.receive(Side::Agent, 3, Some(tag(Side::Visitor, 1)));
        chat.receive(Side::Agent, 2, Some(tag(Side::Visitor, 2)));
        chat.receive(Side::Agent, 2, Some(tag(Side::Visitor, 2)));
        let verdict = chat.verdict();
        assert_eq!((verdict.lost, verdict.duplicated, verdict.reordered, verdict.mismatched), (1, 1, 1, 1));
        // The agent misses seq 1; the visitor received nothing of 1..=3.
        assert_eq!(verdict.gaps, 4);
        assert!(!chat.drained());
    }

    #[test]
    fn a_chat_only_the_visitor_receives_is_judged_on_the_visitor_alone() {
        let ledger = Ledger::receiving_only(Side::Visitor);
        let chat = ledger.chat("c0");
        let mut chat = lock(&chat);
        chat.ack(tag(Side::Agent, 1), 1);
        chat.ack(tag(Side::Agent, 2), 2);
        chat.receive(Side::Visitor, 1, Some(tag(Side::Agent, 1)));
        assert!(!chat.drained());
        assert_eq!(chat.verdict().lost, 1);
        chat.receive(Side::Visitor, 2, Some(tag(Side::Agent, 2)));
        assert!(chat.drained());
        assert!(chat.verdict().ok());
    }
}
