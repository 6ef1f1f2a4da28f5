//! The event feed for integrations (`GET /api/events`) and the integration keys that read it:
//! a reader that stops and resumes from its cursor gets every event once, in order, without
//! gaps; a held read answers when an event arrives and with nothing at its timeout; bad cursors
//! are refused; a revoked key is refused at once; keys and session tokens are never mistaken
//! for each other.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use switchboard::domain::FeedCursor;

use crate::helpers::{text, Backend, Participant, TestApp};
use crate::on_every_backend;

on_every_backend!(
    a_reader_that_stops_and_resumes_gets_every_event_once_in_order,
    a_held_read_answers_when_an_event_arrives_and_with_nothing_at_its_timeout,
    bad_cursors_limits_and_timeouts_are_refused_with_the_envelope,
    keys_are_shown_once_revoked_at_once_and_never_taken_for_tokens,
    shutdown_answers_a_held_read_at_once,
    held_answers_are_kept_by_no_cache_and_not_buffered_by_nginx,
);

/// Creates an integration key as `admin`; the key as a participant (its id, the secret).
async fn new_key(app: &TestApp, admin: &Participant, name: &str) -> Participant {
    let (status, made) = app
        .post_json(
            Some(admin),
            "/api/admin/integration-keys",
            json!({"name": name, "scopes": ["events:read"]}),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    Participant { id: text(&made["key"]["key_id"]), token: text(&made["secret"]) }
}

/// One `GET /api/events` with `key`; the status and the JSON body.
async fn read(
    app: &TestApp,
    key: &Participant,
    cursor: &str,
    limit: Option<u32>,
    timeout: u64,
) -> (u16, Value) {
    let mut path = format!("/api/events?cursor={cursor}&timeout={timeout}");
    if let Some(limit) = limit {
        path.push_str(&format!("&limit={limit}"));
    }
    app.get_json(Some(key), &path).await
}

/// Reads pages of `limit` (no hold) from `cursor` until an answer is empty; the events and the
/// last cursor. At most `pages` pages.
async fn read_to_end(
    app: &TestApp,
    key: &Participant,
    cursor: &str,
    limit: u32,
    pages: usize,
) -> (Vec<Value>, String) {
    let mut cursor = cursor.to_string();
    let mut events = Vec::new();
    for _ in 0..pages {
        let (status, body) = read(app, key, &cursor, Some(limit), 0).await;
        assert_eq!(status, 200, "{body}");
        let page = body["events"].as_array().expect("events").clone();
        assert!(page.len() <= limit as usize, "a page holds at most `limit` events");
        cursor = text(&body["cursor"]);
        if page.is_empty() {
            assert_eq!(body["status"], "timeout", "{body}");
            break;
        }
        assert_eq!(body["status"], "ok", "{body}");
        events.extend(page);
    }
    (events, cursor)
}

fn ids(events: &[Value]) -> Vec<i64> {
    events.iter().map(|event| event["id"].as_i64().expect("id")).collect()
}

fn kinds(events: &[Value]) -> Vec<String> {
    events.iter().map(|event| text(&event["type"])).collect()
}

async fn head(app: &TestApp) -> i64 {
    app.services.feed_head().await.expect("feed head")
}

async fn rate(app: &TestApp, visitor: &Participant, chat: &str, score: i64) {
    let (status, body) =
        app.post_json(Some(visitor), &format!("/api/chats/{chat}/rating"), json!({"score": score})).await;
    assert_eq!(status, 201, "{body}");
}

async fn leave_offline_message(app: &TestApp, visitor: &Participant, body: &str) {
    let message = json!({"name": "Dana", "email": "dana@example.com", "body": body});
    let (status, answer) = app.post_json(Some(visitor), "/api/offline-messages", message).await;
    assert_eq!(status, 201, "{answer}");
}

async fn a_reader_that_stops_and_resumes_gets_every_event_once_in_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin("A1").await;
    let agent = app.online_agent("E1", 3).await;
    let key = new_key(&app, &admin, "CRM sync").await;

    // Before the reader starts: a chat with two messages.
    let ann = app.visitor().await;
    let first_chat = app.start_chat(&ann, &agent).await;
    app.send(&ann, &first_chat, "a1", "Hello, my order is late").await;
    app.send(&agent, &first_chat, "e1", "Let me look").await;
    app.send(&agent, &first_chat, "e2", "It left yesterday").await;

    // The reader reads two pages of two and stops, mid-stream.
    let (mut seen, cursor) = {
        let mut events = Vec::new();
        let mut cursor = String::new();
        for _ in 0..2 {
            let (status, body) = read(&app, &key, &cursor, Some(2), 0).await;
            assert_eq!(status, 200, "{body}");
            events.extend(body["events"].as_array().expect("events").clone());
            cursor = text(&body["cursor"]);
        }
        (events, cursor)
    };
    assert_eq!(ids(&seen), [1, 2, 3, 4]);
    assert!(head(&app).await > 4, "the reader stopped before the end of the feed");

    // While it is away: more messages, the chat closed and rated, an offline message, and a
    // second chat started and closed by its agent.
    app.send(&ann, &first_chat, "a2", "Thanks!").await;
    assert_eq!(app.close_chat_raw(&ann, &first_chat).await.status(), 200);
    rate(&app, &ann, &first_chat, 5).await;
    let dana = app.visitor().await;
    leave_offline_message(&app, &dana, "Please call me back").await;
    let bob = app.visitor().await;
    let second_chat = app.start_chat(&bob, &agent).await;
    app.send(&bob, &second_chat, "b1", "Hi").await;
    assert_eq!(app.close_chat_raw(&agent, &second_chat).await.status(), 200);

    // It comes back with its cursor, reading pages of three.
    let (resumed, end) = read_to_end(&app, &key, &cursor, 3, 100).await;
    seen.extend(resumed);
    let head = head(&app).await;
    assert_eq!(ids(&seen), (1..=head).collect::<Vec<_>>(), "every position once, in order, no gap");
    let all = kinds(&seen);
    for kind in ["chat.started", "chat.assigned", "message", "chat.closed", "rating", "offline_message"] {
        assert!(all.iter().any(|k| k == kind), "a `{kind}` event in {all:?}");
    }
    // Each chat's events come once each, in seq order.
    for chat in [&first_chat, &second_chat] {
        let seqs: Vec<i64> = seen
            .iter()
            .filter(|event| event["chat_id"] == chat.as_str() && !event["seq"].is_null())
            .map(|event| event["seq"].as_i64().expect("seq"))
            .collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "chat {chat}: {seqs:?}");
    }
    let bodies: Vec<String> =
        seen.iter().filter(|e| e["type"] == "message").map(|e| text(&e["data"]["body"])).collect();
    assert_eq!(bodies, ["Hello, my order is late", "Let me look", "It left yesterday", "Thanks!", "Hi"]);
    let rating = seen.iter().find(|e| e["type"] == "rating").expect("rating");
    assert_eq!(rating["chat_id"], first_chat.as_str());

    // Reading again from the end gives nothing; from the first cursor, the same events again.
    let (again, same) = read_to_end(&app, &key, &end, 3, 2).await;
    assert!(again.is_empty());
    assert_eq!(same, end, "an empty answer keeps the cursor");
    let (replayed, _) = read_to_end(&app, &key, &cursor, 100, 3).await;
    assert_eq!(ids(&replayed), ids(&seen[4..]));
}

/// What a held-read test writes while the read is held.
#[derive(Debug, Clone, Copy)]
enum Write {
    /// A chat message (a chat event: the hub publishes it).
    Message,
    /// An offline message (no chat event: the write wakes the feed itself).
    OfflineMessage,
    /// A rating (no chat event either).
    Rating,
}

/// Holds a read (20 s) after `cursor`, writes `write` 1.3 s into the hold, and returns the
/// answer and how long after the write's answer it came. Without a wake-up the read would find
/// the write only at its next look at the store, once a second: about 0.6 s later.
async fn held_through(
    app: &TestApp,
    key: &Participant,
    cursor: &str,
    write: Write,
    agent: &Participant,
) -> (Value, Duration) {
    // What the write needs is made before the hold: only the write itself is timed.
    let visitor = app.visitor().await;
    let chat = match write {
        Write::OfflineMessage => None,
        Write::Message | Write::Rating => {
            // Online again (a poll renews its presence), so it can be chosen.
            app.poll(agent, "", Some(0)).await;
            let chat = app.start_chat(&visitor, agent).await;
            if let Write::Rating = write {
                assert_eq!(app.close_chat_raw(&visitor, &chat).await.status(), 200);
            }
            Some(chat)
        }
    };
    let (_, cursor) = read_to_end(app, key, cursor, 100, 10).await;
    let held = {
        let (wire, key) = (app.wire.clone(), key.clone());
        tokio::spawn(async move {
            let (status, body) =
                wire.get_json(Some(&key), &format!("/api/events?cursor={cursor}&timeout=20")).await;
            assert_eq!(status, 200, "{body}");
            (body, Instant::now())
        })
    };
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let chat = chat.unwrap_or_default();
    match write {
        Write::Message => {
            app.send(&visitor, &chat, "v1", "Anyone there?").await;
        }
        Write::OfflineMessage => leave_offline_message(app, &visitor, "Call me").await,
        Write::Rating => rate(app, &visitor, &chat, 4).await,
    }
    let written = Instant::now();
    let (body, answered) = held.await.expect("held read");
    (body, answered.saturating_duration_since(written))
}

async fn a_held_read_answers_when_an_event_arrives_and_with_nothing_at_its_timeout(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin("A1").await;
    let agent = app.online_agent("E1", 10).await;
    let key = new_key(&app, &admin, "Warehouse").await;
    let (_, cursor) = read_to_end(&app, &key, "", 100, 5).await;

    // Nothing new: held for the whole timeout, then 200 with no events and the same cursor.
    let started = Instant::now();
    let (status, body) = read(&app, &key, &cursor, None, 1).await;
    assert_eq!(status, 200, "{body}");
    assert!(started.elapsed() >= Duration::from_millis(950), "held for the timeout");
    assert_eq!(body["status"], "timeout");
    assert_eq!(body["events"], json!([]));
    assert_eq!(text(&body["cursor"]), cursor);

    // Each kind of write answers a held read at once: the fastest of three rounds came well
    // before the read's own next look at the store (a load spike may slow one round, not all).
    for (write, kind) in
        [(Write::Message, "message"), (Write::OfflineMessage, "offline_message"), (Write::Rating, "rating")]
    {
        let mut fastest = Duration::MAX;
        for _ in 0..3 {
            let (body, latency) = held_through(&app, &key, &cursor, write, &agent).await;
            assert_eq!(body["status"], "ok", "{body}");
            let kinds = kinds(body["events"].as_array().expect("events"));
            assert_eq!(kinds.last().map(String::as_str), Some(kind), "{write:?}: {kinds:?}");
            fastest = fastest.min(latency);
        }
        eprintln!("a held read woken by a {kind} after {fastest:?} (fastest of 3)");
        assert!(fastest < Duration::from_millis(300), "{write:?} did not wake the held read: {fastest:?}");
    }
}

async fn bad_cursors_limits_and_timeouts_are_refused_with_the_envelope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin("A1").await;
    let agent = app.online_agent("E1", 3).await;
    let key = new_key(&app, &admin, "CRM").await;
    let visitor = app.visitor().await;
    app.start_chat(&visitor, &agent).await;
    let poll_cursor = app.poll(&visitor, "", Some(0)).await.cursor;
    assert!(!poll_cursor.is_empty());
    let ahead = FeedCursor::at(head(&app).await + 1).encode();
    let cases = [
        ("cursor=not%20a%20cursor", "invalid_cursor", "cursor"),
        (&*format!("cursor={poll_cursor}"), "invalid_cursor", "cursor"),
        (&*format!("cursor={ahead}"), "invalid_cursor", "cursor"),
        ("limit=0", "invalid_field", "limit"),
        ("limit=100000", "invalid_field", "limit"),
        ("limit=ten", "invalid_field", "limit"),
        ("timeout=-1", "invalid_field", "timeout"),
    ];
    for (query, code, field) in cases {
        let (status, body) = app.get_json(Some(&key), &format!("/api/events?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], code, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
    // The head itself is a cursor the server may have issued.
    let at_head = FeedCursor::at(head(&app).await).encode();
    let (status, body) = read(&app, &key, &at_head, None, 0).await;
    assert_eq!((status, &body["status"]), (200, &json!("timeout")), "{body}");
}

async fn keys_are_shown_once_revoked_at_once_and_never_taken_for_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin("A1").await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let key = new_key(&app, &admin, "  CRM sync  ").await;
    assert!(key.token.starts_with("sbk_") && key.token.len() == 47, "{}", key.token);

    // Listed with its name, prefix and scopes, never with the key itself.
    let (status, listed) = app.get_json(Some(&admin), "/api/admin/integration-keys").await;
    assert_eq!(status, 200, "{listed}");
    assert!(!listed.to_string().contains(&key.token[4..]), "the secret is never listed");
    let entry = &listed["keys"][0];
    assert_eq!(entry["name"], "CRM sync");
    assert_eq!(entry["scopes"], json!(["events:read"]));
    assert_eq!(entry["prefix"], &key.token[..12]);
    assert_eq!(entry["created_by_name"], "Admin A1");
    assert!(entry["revoked_at"].is_null());

    // The key reads the feed; no session token does, and the key opens nothing else.
    assert_eq!(read(&app, &key, "", None, 0).await.0, 200);
    for who in [&admin, &agent, &visitor] {
        let (status, body) = read(&app, who, "", None, 0).await;
        assert_eq!((status, &body["error"]["code"]), (401, &json!("unauthorized")), "{body}");
    }
    for path in ["/api/canned", "/api/admin/integration-keys", "/poll?timeout=0", "/api/bans"] {
        let (status, body) = app.get_json(Some(&key), path).await;
        assert_eq!(status, 401, "{path}: {body}");
    }
    let (status, _) = app.get_json(None, &format!("/api/events?timeout=0&token={}", key.token)).await;
    assert_eq!(status, 401, "a key in the query string is not taken");
    let (status, _) = app.get_json(None, "/api/events?timeout=0").await;
    assert_eq!(status, 401);

    // Bad input: refused with the envelope, nothing stored.
    let refused = [
        (json!({"name": "X", "scopes": ["events:read", "chats:write"]}), "scopes"),
        (json!({"name": "X", "scopes": []}), "scopes"),
        (json!({"name": "X", "scopes": "events:read"}), ""),
        (json!({"name": "X", "scopes": 3}), "scopes"),
        (json!({"name": "   "}), "name"),
        (json!({"scopes": ["events:read"]}), "name"),
        (json!({"name": "x".repeat(65)}), "name"),
    ];
    for (fields, field) in refused {
        let (status, body) = app.post_json(Some(&admin), "/api/admin/integration-keys", fields.clone()).await;
        if field.is_empty() {
            // A text of space-separated scopes is what a form sends: accepted.
            assert_eq!(status, 201, "{fields}: {body}");
            continue;
        }
        assert_eq!(status, 400, "{fields}: {body}");
        assert_eq!(body["error"]["field"], field, "{fields}: {body}");
    }
    let (_, listed) = app.get_json(Some(&admin), "/api/admin/integration-keys").await;
    assert_eq!(listed["keys"].as_array().expect("keys").len(), 2, "only the good ones were stored");

    // Revoked: refused at once, still listed; revoking again changes nothing.
    let revoke = format!("/api/admin/integration-keys/{}/revoke", key.id);
    let (status, revoked) = app.post_json(Some(&admin), &revoke, json!({})).await;
    assert_eq!(status, 200, "{revoked}");
    let revoked_at = revoked["key"]["revoked_at"].as_i64().expect("revoked_at");
    let (status, body) = read(&app, &key, "", None, 0).await;
    assert_eq!((status, &body["error"]["code"]), (401, &json!("unauthorized")), "{body}");
    let (status, again) = app.post_json(Some(&admin), &revoke, json!({})).await;
    assert_eq!((status, again["key"]["revoked_at"].as_i64()), (200, Some(revoked_at)));
    let unknown = format!("/api/admin/integration-keys/{}/revoke", uuid::Uuid::new_v4());
    let (status, body) = app.post_json(Some(&admin), &unknown, json!({})).await;
    assert_eq!((status, &body["error"]["code"]), (404, &json!("integration_key_not_found")));
    let (status, body) =
        app.post_json(Some(&admin), "/api/admin/integration-keys/nope/revoke", json!({})).await;
    assert_eq!((status, &body["error"]["field"]), (400, &json!("key_id")));

    // Something shaped like a key is never a session token, even if the store held one so
    // (a token drawn before tokens avoided the prefix): refused before the store is asked.
    let shaped = format!("sbk_{}", "A".repeat(43));
    let visitor_id = uuid::Uuid::parse_str(&visitor.id).expect("visitor id");
    let row = switchboard::store::tokens::TokenRow {
        token_hash: switchboard::service::auth::hash_token(&shaped),
        principal_kind: "visitor".into(),
        principal_id: visitor_id.to_string(),
        created_at: 0,
        expires_at: i64::MAX,
    };
    app.services
        .store
        .write(move |conn| {
            switchboard::store::tokens::insert(conn, &row).map_err(switchboard::store::StoreError::from)
        })
        .await
        .expect("token stored");
    let shaped = Participant { id: visitor.id.clone(), token: shaped };
    let (status, body) = app.get_json(Some(&shaped), "/poll?timeout=0").await;
    assert_eq!(status, 401, "{body}");

    // A revoked key is still no token either; another key keeps working.
    let other = new_key(&app, &admin, "Other").await;
    assert_eq!(read(&app, &other, "", None, 0).await.0, 200);
    let seen: HashSet<String> = [key.token.clone(), other.token.clone()].into();
    assert_eq!(seen.len(), 2);
}

async fn shutdown_answers_a_held_read_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin("A1").await;
    let key = new_key(&app, &admin, "CRM").await;
    let handle = app.shutdown_handle();
    let stop = async {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        handle.shutdown().await;
    };
    // Held for 50 s: "shutdown" (not "timeout") proves the stop answered it.
    let started = Instant::now();
    let ((status, body), ()) = tokio::join!(read(&app, &key, "", None, 50), stop);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "shutdown", "{body}");
    assert_eq!(body["events"], json!([]));
    assert_eq!(body["cursor"], "");
    // At once: not at the read's next look at the store (about 2 s after it began).
    assert!(started.elapsed() < Duration::from_millis(1700), "answered after {:?}", started.elapsed());
}

/// `/poll` and `/api/events` answer alike: nothing in between may keep or transform a held
/// answer, and nginx passes it on at once.
async fn held_answers_are_kept_by_no_cache_and_not_buffered_by_nginx(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin("A1").await;
    let key = new_key(&app, &admin, "Warehouse").await;
    let visitor = app.visitor().await;
    for (who, path) in [(&key, "/api/events?timeout=0"), (&visitor, "/poll?timeout=0")] {
        let response = app.client.get(app.url(path)).bearer_auth(&who.token).send().await.expect("request");
        assert_eq!(response.status().as_u16(), 200, "{path}");
        let header =
            |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        assert_eq!(header("cache-control"), "no-store, no-cache, no-transform, private", "{path}");
        assert_eq!(header("x-accel-buffering"), "no", "{path}");
        assert_eq!(header("content-type"), "application/json", "{path}");
    }
}
