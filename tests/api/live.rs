//! Notices: typing indicators and read markers between the two sides of a chat, and
//! announcements to everyone online.

use serde_json::{json, Value};

use crate::helpers::{drain, Backend, TestApp};
use crate::on_every_backend;

on_every_backend!(
    typing_reaches_the_other_side_once_and_is_not_stored,
    a_read_marker_moves_forward_only_and_is_told,
    an_announcement_reaches_every_online_visitor_and_agent,
    a_notice_takes_no_seq_of_its_own_and_carries_the_one_it_refers_to,
);

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

async fn typing_reaches_the_other_side_once_and_is_not_stored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    let (_, cursor) = drain(&app, &agent, "", &chat, 1).await;
    let before = app.store_counts().await;

    let held = app.poll(&agent, &cursor, Some(30));
    let typing = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        app.post_as(&visitor, &format!("/api/chats/{chat}/typing"), json!({"typing": true})).await
    };
    let (answer, response) = tokio::join!(held, typing);
    assert_eq!(response.status(), 204);
    let shown = of_type(&answer.events, "typing");
    assert_eq!(shown.len(), 1, "{:?}", answer.events);
    assert_eq!((shown[0]["from"].clone(), shown[0]["typing"].clone()), (json!("visitor"), json!(true)));
    assert_eq!(shown[0]["chat_id"], chat.as_str());
    assert_eq!(app.store_counts().await, before, "typing is not stored");

    // A lost answer is repeated from the old cursor; the new cursor never repeats it.
    let again = app.poll(&agent, &cursor, Some(0)).await;
    assert_eq!(of_type(&again.events, "typing").len(), 1);
    let after = app.poll(&agent, &answer.cursor, Some(0)).await;
    assert!(after.events.is_empty(), "{:?}", after.events);
    // The typist does not hear itself; an outsider may not type.
    assert!(of_type(&app.poll(&visitor, "", Some(0)).await.events, "typing").is_empty());
    let stranger = app.visitor().await;
    assert_eq!(app.post_as(&stranger, &format!("/api/chats/{chat}/typing"), json!({})).await.status(), 403);
}

async fn a_read_marker_moves_forward_only_and_is_told(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    app.send(&visitor, &chat, "v1", "hello").await;
    let (_, cursor) = drain(&app, &visitor, "", &chat, 2).await;
    let path = format!("/api/chats/{chat}/read");
    let read = |seq: Value| app.post_as(&agent, &path, json!({ "seq": seq }));

    assert_eq!(read(json!(2)).await.status(), 204);
    let answer = app.poll(&visitor, &cursor, Some(0)).await;
    let told = of_type(&answer.events, "read");
    assert_eq!(told.len(), 1);
    assert_eq!((told[0]["seq"].clone(), told[0]["from"].clone()), (json!(2), json!("agent")));

    // Backwards is accepted but changes nothing and tells nobody.
    assert_eq!(read(json!(1)).await.status(), 204);
    assert!(app.poll(&visitor, &answer.cursor, Some(0)).await.events.is_empty());
    for bad in [json!(99), json!(-1), json!("2")] {
        let response = read(bad).await;
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"]["field"], "seq");
    }
}

async fn an_announcement_reaches_every_online_visitor_and_agent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin("A1").await;
    let agent = app.online_agent("E1", 3).await;
    let (online, never_polled) = (app.visitor().await, app.visitor().await);
    app.poll(&online, "", Some(0)).await;

    let send = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        app.post_as(&admin, "/api/admin/announcements", json!({"body": "We close at 18:00 today."})).await
    };
    let (visitor_answer, agent_answer, response) =
        tokio::join!(app.poll(&online, "", Some(30)), app.poll(&agent, "", Some(30)), send);
    assert_eq!(response.status(), 201);
    for answer in [&visitor_answer, &agent_answer] {
        let shown = of_type(&answer.events, "announcement");
        assert_eq!(shown.len(), 1, "{:?}", answer.events);
        assert_eq!(shown[0]["body"], "We close at 18:00 today.");
        assert!(shown[0].get("chat_id").is_none());
    }
    // Who was not online when it was sent does not get it later.
    assert!(of_type(&app.poll(&never_polled, "", Some(0)).await.events, "announcement").is_empty());
    // Only admins announce; the text follows the message rules.
    for who in [&agent, &online] {
        let refused = app.post_as(who, "/api/admin/announcements", json!({"body": "hi"})).await;
        assert_eq!(refused.status(), 403);
    }
    let blank = app.post_as(&admin, "/api/admin/announcements", json!({"body": "  "})).await;
    assert_eq!(blank.status(), 400);
}

/// Notices are outside the chat's numbering: none takes a seq, so the chat's events stay 1..n
/// without gaps. The `seq` a notice carries points into that numbering: for `typing`, the
/// chat's newest event when the notice was made; for `read`, how far that side has read.
async fn a_notice_takes_no_seq_of_its_own_and_carries_the_one_it_refers_to(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    assert_eq!(app.send(&visitor, &chat, "v1", "hello").await, 2);
    let (_, cursor) = drain(&app, &agent, "", &chat, 2).await;

    let typing = app.post_as(&visitor, &format!("/api/chats/{chat}/typing"), json!({"typing": true})).await;
    assert_eq!(typing.status(), 204);
    let read = app.post_as(&visitor, &format!("/api/chats/{chat}/read"), json!({"seq": 1})).await;
    assert_eq!(read.status(), 204);
    assert_eq!(app.send(&visitor, &chat, "v2", "again").await, 3, "the notices took no seq");

    let (mut events, mut cursor) = (Vec::new(), cursor);
    for _ in 0..10 {
        let seen = |kind: &str| !of_type(&events, kind).is_empty();
        if seen("typing") && seen("read") && events.iter().any(|e| e["seq"] == 3 && e["type"] == "message") {
            break;
        }
        let answer = app.poll(&agent, &cursor, Some(2)).await;
        events.extend(answer.events);
        cursor = answer.cursor;
    }
    let notice =
        |kind: &str| of_type(&events, kind).first().map(|e| (e["chat_id"].clone(), e["seq"].clone()));
    assert_eq!(notice("typing"), Some((json!(chat), json!(2))), "{events:?}");
    assert_eq!(notice("read"), Some((json!(chat), json!(1))), "{events:?}");
    let seqs: Vec<i64> = events
        .iter()
        .filter(|e| {
            e["chat_id"] == chat.as_str() && !["typing", "read"].contains(&e["type"].as_str().unwrap_or(""))
        })
        .map(|e| e["seq"].as_i64().expect("seq"))
        .collect();
    assert_eq!(seqs, [3], "the chat's own events are numbered without the notices");
}
