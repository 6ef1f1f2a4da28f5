//! Delivery: wake-ups, cursors, lost responses, overflow, idempotent sends, superseded polls.

use std::time::Instant;

use crate::helpers::{drain, seqs_of, Backend, TestApp};
use crate::on_every_backend;

on_every_backend!(
    a_held_poll_wakes_on_a_send_from_the_other_side,
    an_idle_poll_answers_at_the_hold_with_no_events_and_the_same_cursor,
    re_polling_with_an_older_cursor_returns_the_same_events_again,
    a_client_echoing_cursors_sees_every_message_once_and_in_order,
    messages_that_overflow_the_queue_are_served_from_the_store_in_order,
    the_same_client_msg_id_twice_stores_one_message_and_answers_the_same_seq,
    one_poll_covers_all_of_an_agents_chats,
    a_newer_poll_of_the_same_tab_supersedes_the_held_one,
);

async fn a_held_poll_wakes_on_a_send_from_the_other_side(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    let (_, cursor) = drain(&app, &agent, "", &chat, 1).await;

    // Held for up to 30 s: only a wake-up can answer it with the message before then.
    let held = {
        let (app, agent, cursor) = (&app, agent.clone(), cursor.clone());
        async move {
            let answer = app.poll(&agent, &cursor, Some(30)).await;
            (answer, Instant::now())
        }
    };
    let send = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let sent_at = Instant::now();
        app.send(&visitor, &chat, "m1", "hello").await;
        sent_at
    };
    let ((answer, answered_at), sent_at) = tokio::join!(held, send);
    assert_eq!(answer.status, "ok");
    assert_eq!(seqs_of(&answer.events, &chat), vec![2]);
    assert_eq!(answer.events[0]["body"], "hello");
    assert_eq!(answer.events[0]["from"], "visitor");
    // A figure for the reader, not an assertion: this machine is shared and noisy.
    eprintln!("send → held poll answered: {:?}", answered_at.saturating_duration_since(sent_at));
}

async fn an_idle_poll_answers_at_the_hold_with_no_events_and_the_same_cursor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    let (_, cursor) = drain(&app, &visitor, "", &chat, 1).await;
    assert!(!cursor.is_empty());

    let answer = app.poll(&visitor, &cursor, Some(1)).await;
    assert_eq!(answer.status, "timeout");
    assert!(answer.events.is_empty());
    assert_eq!(answer.cursor, cursor);

    // A visitor without chats, no cursor, server default hold.
    let lonely = app.visitor().await;
    let answer = app.poll(&lonely, "", None).await;
    assert_eq!((answer.status.as_str(), answer.cursor.as_str(), answer.events.len()), ("timeout", "", 0));
}

async fn re_polling_with_an_older_cursor_returns_the_same_events_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    let (_, before) = drain(&app, &visitor, "", &chat, 1).await;
    app.send(&agent, &chat, "a1", "one").await;
    app.send(&agent, &chat, "a2", "two").await;

    let first = app.poll(&visitor, &before, Some(0)).await;
    // The answer is "lost": the client polls again with the cursor it had.
    let again = app.poll(&visitor, &before, Some(0)).await;
    assert_eq!(seqs_of(&first.events, &chat), vec![2, 3]);
    assert_eq!(first.events, again.events);
    assert_eq!(first.cursor, again.cursor);
    let after = app.poll(&visitor, &first.cursor, Some(0)).await;
    assert!(after.events.is_empty());
}

async fn a_client_echoing_cursors_sees_every_message_once_and_in_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    const EACH: usize = 40;

    let visitor_sends = async {
        for n in 0..EACH {
            app.send(&visitor, &chat, &format!("v{n}"), &format!("from visitor {n}")).await;
        }
    };
    let agent_sends = async {
        for n in 0..EACH {
            app.send(&agent, &chat, &format!("a{n}"), &format!("from agent {n}")).await;
        }
    };
    let last_seq = 1 + 2 * EACH as i64;
    let watch = drain(&app, &visitor, "", &chat, last_seq);
    let ((events, _), (), ()) = tokio::join!(watch, visitor_sends, agent_sends);

    let expected: Vec<i64> = (1..=last_seq).collect();
    assert_eq!(seqs_of(&events, &chat), expected, "gapless, once, in order");
    // Each side's own messages arrive in the order it sent them.
    let bodies: Vec<&str> =
        events.iter().filter(|e| e["from"] == "agent").filter_map(|e| e["body"].as_str()).collect();
    let sent: Vec<String> = (0..EACH).map(|n| format!("from agent {n}")).collect();
    assert_eq!(bodies, sent);
}

async fn messages_that_overflow_the_queue_are_served_from_the_store_in_order(backend: Backend) {
    let capacity = 4;
    let app = TestApp::spawn_with(backend, |s| s.chat.queue_capacity = capacity).await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    let (_, agent_cursor) = drain(&app, &agent, "", &chat, 1).await;
    let total = 3 * capacity as i64;
    for n in 0..total {
        app.send(&visitor, &chat, &format!("m{n}"), &format!("message {n}")).await;
    }
    let last_seq = 1 + total;

    // Nobody polled: from the empty cursor the whole chat comes back, from the store.
    let (events, _) = drain(&app, &visitor, "", &chat, last_seq).await;
    assert_eq!(seqs_of(&events, &chat), (1..=last_seq).collect::<Vec<_>>());
    // From a cursor older than memory holds: the gap is served, nothing skipped.
    let (events, _) = drain(&app, &agent, &agent_cursor, &chat, last_seq).await;
    assert_eq!(seqs_of(&events, &chat), (2..=last_seq).collect::<Vec<_>>());
}

async fn the_same_client_msg_id_twice_stores_one_message_and_answers_the_same_seq(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;

    let first = app.send(&visitor, &chat, "dup-1", "hello").await;
    let retry = app.send_raw(&visitor, &chat, "dup-1", "hello").await;
    assert_eq!(retry.status(), 200);
    let retry: serde_json::Value = retry.json().await.expect("json");
    assert_eq!(retry["seq"].as_i64(), Some(first));
    assert_eq!(retry["duplicate"], true);

    // Ten at once with one new id: one stored, all ten answered with its seq.
    let racing = (0..10).map(|_| app.send(&visitor, &chat, "dup-2", "again"));
    let seqs = futures_join_all(racing).await;
    assert!(seqs.iter().all(|seq| *seq == seqs[0]), "{seqs:?}");
    assert_eq!(seqs[0], first + 1);

    let (events, _) = drain(&app, &visitor, "", &chat, first + 1).await;
    assert_eq!(seqs_of(&events, &chat), vec![1, 2, 3]);
    assert_eq!(app.store_counts().await.messages, 3);
}

async fn one_poll_covers_all_of_an_agents_chats(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let (ann, bob) = (app.visitor().await, app.visitor().await);
    let chat_a = app.start_chat(&ann, &agent).await;
    let chat_b = app.start_chat(&bob, &agent).await;
    app.send(&ann, &chat_a, "m", "from ann").await;
    app.send(&bob, &chat_b, "m", "from bob").await;

    let answer = app.poll(&agent, "", Some(0)).await;
    assert_eq!(seqs_of(&answer.events, &chat_a), vec![1, 2]);
    assert_eq!(seqs_of(&answer.events, &chat_b), vec![1, 2]);
    // Visitors only ever see their own chat.
    let answer = app.poll(&ann, "", Some(0)).await;
    assert!(seqs_of(&answer.events, &chat_b).is_empty());
}

async fn a_newer_poll_of_the_same_tab_supersedes_the_held_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let visitor = app.visitor().await;
    let older = app.poll_tab(&visitor, "", Some(30), Some("tab-1"));
    let newer = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        // Another tab does not disturb tab-1's poll.
        let other = app.poll_tab(&visitor, "", Some(0), Some("tab-2")).await;
        let newer = app.poll_tab(&visitor, "", Some(1), Some("tab-1")).await;
        (other, newer)
    };
    let (older, (other, newer)) = tokio::join!(older, newer);
    assert_eq!(older.status, "superseded");
    assert_eq!(other.status, "timeout");
    assert_eq!(newer.status, "timeout");
}

/// Runs futures concurrently and collects their outputs in order.
async fn futures_join_all<F: std::future::Future<Output = i64>>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<i64> {
    futures_util::future::join_all(futures).await
}
