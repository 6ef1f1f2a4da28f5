//! What the target speaks: Switchboard's API, or nginx + nchan's publisher and long-poll
//! subscriber, the peer Switchboard is compared with. The actors are the same for both; this
//! module holds what differs: nchan's publish request, the seq its acknowledgement stands for,
//! and its subscriber loop with nchan's cursor.
//!
//! A chat is one nchan channel, named by the chat id (or, for held polls only, the poller's tab
//! id). The agent publishes `POST /pub/<chat>` with a body that starts with the same tag
//! Switchboard's sender puts in its `client_msg_id`; the visitor long-polls `GET /sub/<chat>`,
//! echoing each answer's `Last-Modified` as `If-Modified-Since` and its `Etag` as
//! `If-None-Match`. nchan answers one message per request by default (its multipart mode is
//! off), so a subscriber behind by several messages reads them in as many requests. nchan has
//! no seq: with one sender per chat, the sender's message number is the seq.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::ValueEnum;
use tokio::sync::oneshot;

use crate::actors::{back_off, record_events, Ctx, Poller, Stop, WireEvent};
use crate::client::status_error;
use crate::http1::{Answer, Request};
use crate::ledger::{ChatLedger, MessageTag};

/// What the target speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Wire {
    /// Switchboard's public API.
    Switchboard,
    /// nginx + nchan: a publisher and a long-poll subscriber location per channel.
    Nchan,
}

/// nchan's long-poll timeout answer: the cursor stays as it was.
const TIMED_OUT: u16 = 408;

/// The path and body of an nchan publish: the tag, a space, the text.
pub fn nchan_publish(chat_id: &str, client_msg_id: &str, text: &str) -> (String, Vec<u8>) {
    let mut body = Vec::with_capacity(client_msg_id.len() + 1 + text.len());
    body.extend_from_slice(client_msg_id.as_bytes());
    body.push(b' ');
    body.extend_from_slice(text.as_bytes());
    (format!("/pub/{chat_id}"), body)
}

/// The seq a published message stands for: its number (one sender per chat).
pub fn nchan_seq(tag: &MessageTag) -> i64 {
    i64::try_from(tag.number).unwrap_or(i64::MAX)
}

/// The tag a delivered message body starts with.
pub fn nchan_tag(body: &[u8]) -> Option<&str> {
    let end = body.iter().position(|byte| *byte == b' ').unwrap_or(body.len());
    std::str::from_utf8(&body[..end]).ok().filter(|tag| !tag.is_empty())
}

/// A subscriber's place in its channel: the request headers that ask for what follows the
/// last message read (none before the first, so nchan starts at the oldest message).
#[derive(Debug, Default)]
pub struct NchanCursor {
    /// `If-Modified-Since` and `If-None-Match` lines.
    pub headers: Vec<String>,
}

impl NchanCursor {
    /// Moves past the message `answer` brought; an answer without `Last-Modified` (a timeout,
    /// an error) leaves the cursor where it was.
    pub fn advance(&mut self, answer: &Answer) {
        if let Some(cursor) = &answer.cursor {
            let (modified, etag) = &**cursor;
            self.headers = vec![format!("if-modified-since: {modified}"), format!("if-none-match: {etag}")];
        }
    }
}

/// A subscriber's loop on channel `poller.tab` until stopped: each message read goes to the
/// ledger as the visitor's receipt of seq = its number, as a Switchboard poll answer's events
/// do. The first answer (a message or a timeout) is reported on `online`.
pub async fn subscribe_loop(
    ctx: Arc<Ctx>,
    poller: Poller,
    online: Option<oneshot::Sender<()>>,
    mut stop: Stop,
) {
    let mut online = online;
    let channel = poller.tab.as_str();
    let path = format!("/sub/{channel}");
    let mut cursor = NchanCursor::default();
    let mut chats: HashMap<String, Arc<Mutex<ChatLedger>>> = HashMap::new();
    let mut latencies = Vec::new();
    let timeout = Duration::from_secs(ctx.hold + 15);
    while !stop.is_stopped() {
        let request =
            Request { method: "GET", host: "", path: &path, token: None, body: None, extra: &cursor.headers };
        let answer = {
            let _in_flight = ctx.stats.poll_started();
            tokio::select! {
                answer = ctx.api.answer(poller.slot, &request, timeout) => answer,
                () = stop.wait() => break,
            }
        };
        let error = match answer {
            Ok(answer) if answer.status == 200 => {
                ctx.stats.poll_answered();
                cursor.advance(&answer);
                match nchan_tag(&answer.body).and_then(|text| MessageTag::parse(text).map(|tag| (text, tag)))
                {
                    Some((text, tag)) => {
                        if let Some(ledger) = &ctx.ledger {
                            let event = WireEvent::message(channel, nchan_seq(&tag), text);
                            record_events(&ctx, ledger, &mut chats, poller.side, &[event], &mut latencies);
                        }
                    }
                    None => ctx.stats.error("GET /sub message without a tag".into()),
                }
                None
            }
            Ok(answer) if answer.status == TIMED_OUT => {
                ctx.stats.poll_answered();
                None
            }
            Ok(answer) => Some(status_error(&answer)),
            Err(error) => Some(error),
        };
        if let Some(error) = error {
            ctx.stats.call_error("GET /sub", &error);
            if !back_off(&mut stop, error.retry_after()).await {
                break;
            }
            continue;
        }
        if let Some(online) = online.take() {
            let _ = online.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Side;

    fn answer(head: Option<(&str, &str)>) -> Answer {
        Answer {
            status: 200,
            retry_after: None,
            body: b"a7.99 xx".to_vec(),
            cursor: head.map(|(modified, etag)| Box::new((modified.to_string(), etag.to_string()))),
        }
    }

    #[test]
    fn the_cursor_echoes_the_last_answer_and_survives_a_timeout() {
        let mut cursor = NchanCursor::default();
        assert!(cursor.headers.is_empty(), "the first poll asks for the oldest message");
        cursor.advance(&answer(Some(("Mon, 07 Dec 2026 09:16:41 GMT", "1"))));
        assert_eq!(
            cursor.headers,
            ["if-modified-since: Mon, 07 Dec 2026 09:16:41 GMT", "if-none-match: 1"].map(String::from)
        );
        cursor.advance(&Answer { status: TIMED_OUT, ..answer(None) });
        assert_eq!(cursor.headers[1], "if-none-match: 1");
        cursor.advance(&answer(Some(("Mon, 07 Dec 2026 09:16:42 GMT", "0"))));
        assert_eq!(cursor.headers[0], "if-modified-since: Mon, 07 Dec 2026 09:16:42 GMT");
    }

    #[test]
    fn a_published_body_carries_the_tag_the_subscriber_reads_back() {
        let tag = MessageTag { from: Side::Agent, number: 7, sent_at_us: 99 };
        let (path, body) = nchan_publish("c3", &tag.client_msg_id(), "xx");
        assert_eq!(path, "/pub/c3");
        assert_eq!(body, b"a7.99 xx");
        let read = nchan_tag(&body).and_then(MessageTag::parse);
        assert_eq!(read, Some(tag));
        assert_eq!(nchan_seq(&tag), 7);
        assert_eq!(nchan_tag(b""), None);
    }
}
