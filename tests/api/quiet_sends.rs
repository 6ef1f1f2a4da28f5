//! A send with a `tab` does not wake that tab's own held poll: the other side and the sender's
//! other tabs are woken as always, and the message comes with the sending tab's next answer,
//! once. A bad `tab` is a 400 and stores nothing.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{drain, seqs_of, Backend, Encoding, Participant, TestApp};
use crate::on_every_backend;

on_every_backend!(
    the_sending_tabs_held_poll_stays_held_while_the_other_side_answers,
    another_tab_of_the_sender_is_woken_and_the_sending_tab_is_not,
    a_send_without_a_tab_wakes_the_senders_own_poll,
    a_bad_tab_is_a_400_in_every_body_type_and_stores_nothing,
);

/// The hold of the sending tab's poll: long enough that an answer well before it can only be
/// a wake-up.
const HOLD_SECS: u64 = 3;

/// A chat whose visitor and agent have both read it to seq 1; their cursors.
async fn read_chat(app: &TestApp) -> (Participant, Participant, String, String, String) {
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    let (_, visitor_cursor) = drain(app, &visitor, "", &chat, 1).await;
    let (_, agent_cursor) = drain(app, &agent, "", &chat, 1).await;
    (visitor, agent, chat, visitor_cursor, agent_cursor)
}

/// The output of `future` and the time from `started` until it was ready.
async fn timed<T>(started: Instant, future: impl std::future::Future<Output = T>) -> (T, Duration) {
    let output = future.await;
    (output, started.elapsed())
}

/// Sends `body` as `who` with `tab`, written in `encoding`; must answer 200.
async fn send_from_tab(
    app: &TestApp,
    who: &Participant,
    encoding: Encoding,
    fields: serde_json::Value,
) -> i64 {
    let (status, answer) = app.post_encoded(Some(who), "/send", encoding, &fields).await;
    assert_eq!(status, 200, "{encoding:?}: {answer}");
    answer["seq"].as_i64().expect("seq")
}

async fn the_sending_tabs_held_poll_stays_held_while_the_other_side_answers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (visitor, agent, chat, mut visitor_cursor, mut agent_cursor) = read_chat(&app).await;
    for (index, encoding) in Encoding::ALL.into_iter().enumerate() {
        let started = Instant::now();
        let own = app.poll_tab(&visitor, &visitor_cursor, Some(HOLD_SECS), Some("vt-1"));
        let other_side = app.poll(&agent, &agent_cursor, Some(30));
        let send = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let fields =
                json!({"chat_id": chat, "client_msg_id": format!("q{index}"), "body": "hi", "tab": "vt-1"});
            send_from_tab(&app, &visitor, encoding, fields).await
        };
        let ((own, own_after), (other, other_after), seq) =
            tokio::join!(timed(started, own), timed(started, other_side), send);
        assert_eq!(seqs_of(&other.events, &chat), vec![seq], "{encoding:?}: the agent is woken");
        assert!(
            other_after < Duration::from_secs(HOLD_SECS - 1),
            "{encoding:?}: agent after {other_after:?}"
        );
        assert!(
            own_after >= Duration::from_secs(HOLD_SECS) - Duration::from_millis(300),
            "{encoding:?}: the sending tab's poll was woken after {own_after:?}"
        );
        // The message is still in the tab's stream: its next answer (here, the hold's end) has it.
        assert_eq!(own.status, "ok", "{encoding:?}");
        assert_eq!(seqs_of(&own.events, &chat), vec![seq], "{encoding:?}");
        let again = app.poll_tab(&visitor, &own.cursor, Some(0), Some("vt-1")).await;
        assert!(seqs_of(&again.events, &chat).is_empty(), "{encoding:?}: once only");
        visitor_cursor = own.cursor;
        agent_cursor = other.cursor;
    }
}

async fn another_tab_of_the_sender_is_woken_and_the_sending_tab_is_not(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (visitor, agent, chat, visitor_cursor, _) = read_chat(&app).await;
    let started = Instant::now();
    let sending_tab = timed(started, app.poll_tab(&visitor, &visitor_cursor, Some(HOLD_SECS), Some("vt-1")));
    let other_tab = timed(started, app.poll_tab(&visitor, &visitor_cursor, Some(30), Some("vt-2")));
    let send = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let fields = json!({"chat_id": chat, "client_msg_id": "m1", "body": "hi", "tab": "vt-1"});
        send_from_tab(&app, &visitor, Encoding::Json, fields).await
    };
    let ((sending, sending_after), (other, other_after), seq) = tokio::join!(sending_tab, other_tab, send);
    assert_eq!(seqs_of(&other.events, &chat), vec![seq]);
    assert!(other_after < Duration::from_secs(HOLD_SECS - 1), "the other tab after {other_after:?}");
    assert!(
        sending_after >= Duration::from_secs(HOLD_SECS) - Duration::from_millis(300),
        "the sending tab's poll was woken after {sending_after:?}"
    );
    assert_eq!(seqs_of(&sending.events, &chat), vec![seq]);
    // And an event from the other side does wake the sending tab, with both messages, in order.
    let held = timed(started, app.poll_tab(&visitor, &visitor_cursor, Some(30), Some("vt-1")));
    let reply = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        app.send(&agent, &chat, "a1", "hello").await
    };
    let ((woken, _), reply_seq) = tokio::join!(held, reply);
    assert_eq!(seqs_of(&woken.events, &chat), vec![seq, reply_seq]);
}

async fn a_send_without_a_tab_wakes_the_senders_own_poll(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (visitor, _, chat, visitor_cursor, _) = read_chat(&app).await;
    let started = Instant::now();
    let held = async {
        let answer = app.poll_tab(&visitor, &visitor_cursor, Some(30), Some("vt-1")).await;
        (answer, started.elapsed())
    };
    let send = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        app.send(&visitor, &chat, "m1", "hi").await
    };
    let ((answer, after), seq) = tokio::join!(held, send);
    assert_eq!(seqs_of(&answer.events, &chat), vec![seq]);
    assert!(after < Duration::from_secs(10), "woken after {after:?}");
}

async fn a_bad_tab_is_a_400_in_every_body_type_and_stores_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (visitor, _, chat, _, _) = read_chat(&app).await;
    let before = app.store_counts().await;
    for encoding in Encoding::ALL {
        for tab in ["tab/1", "a b", &"t".repeat(65)] {
            let fields = json!({"chat_id": chat, "client_msg_id": "m1", "body": "hi", "tab": tab});
            let (status, answer) = app.post_encoded(Some(&visitor), "/send", encoding, &fields).await;
            assert_eq!(status, 400, "{encoding:?} {tab}: {answer}");
            assert_eq!(answer["error"]["code"], "invalid_field", "{encoding:?} {tab}");
            assert_eq!(answer["error"]["field"], "tab", "{encoding:?} {tab}");
        }
    }
    assert_eq!(app.store_counts().await, before);
}
