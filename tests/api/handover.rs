//! Invitations and transfers, each bound by capacity like every other path.

use serde_json::{json, Value};

use crate::helpers::{drain, seqs_of, text, Backend, TestApp};
use crate::on_every_backend;

on_every_backend!(
    an_agent_invites_a_visitor_on_the_site_and_capacity_holds,
    a_transfer_moves_the_chat_with_its_transcript_and_capacity_holds,
);

async fn code_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("json");
    (status, text(&body["error"]["code"]))
}

async fn an_agent_invites_a_visitor_on_the_site_and_capacity_holds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 1).await;
    let (browsing, away, other) = (app.visitor().await, app.visitor().await, app.visitor().await);
    app.poll(&other, "", Some(0)).await;

    // The visitor is browsing with a held poll; the invitation opens its chat by itself.
    let held = app.poll(&browsing, "", Some(30));
    let invite = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        app.post_as(&agent, "/api/chats/invite", json!({ "visitor_id": browsing.id })).await
    };
    let (answer, response) = tokio::join!(held, invite);
    assert_eq!(response.status(), 201);
    let chat = text(&response.json::<Value>().await.expect("json")["chat_id"]);
    assert_eq!(seqs_of(&answer.events, &chat), vec![1]);
    assert_eq!(answer.events[0]["type"], "chat.invited");
    assert_eq!(answer.events[0]["agent"]["agent_id"], agent.id.as_str());
    assert_eq!(app.chat_state(&chat).await.0, "open");
    app.send(&browsing, &chat, "v1", "oh hi").await;

    let before = app.store_counts().await;
    let full = app.post_as(&agent, "/api/chats/invite", json!({ "visitor_id": other.id })).await;
    assert_eq!(code_of(full).await, (409, "agent_full".into()));
    let gone = app.post_as(&agent, "/api/chats/invite", json!({ "visitor_id": away.id })).await;
    assert_eq!(code_of(gone).await, (409, "visitor_offline".into()));
    let by_visitor = app.post_as(&other, "/api/chats/invite", json!({ "visitor_id": browsing.id })).await;
    assert_eq!(code_of(by_visitor).await, (403, "forbidden".into()));
    assert_eq!(app.store_counts().await, before, "refused invitations store nothing");
}

async fn a_transfer_moves_the_chat_with_its_transcript_and_capacity_holds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ann = app.online_agent("E1", 2).await;
    let bob = app.online_agent("E2", 1).await;
    let carl = app.agent("E3", 5).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &ann).await;
    app.send(&visitor, &chat, "v1", "my order is late").await;
    let (_, ann_cursor) = drain(&app, &ann, "", &chat, 2).await;
    let path = format!("/api/chats/{chat}/transfer");

    // Carl never polled: offline. The visitor and Bob may not move Ann's chat.
    let offline = app.post_as(&ann, &path, json!({ "agent_id": carl.id })).await;
    assert_eq!(code_of(offline).await, (409, "agent_offline".into()));
    let not_owner = app.post_as(&bob, &path, json!({ "agent_id": bob.id })).await;
    assert_eq!(code_of(not_owner).await, (403, "forbidden".into()));

    assert_eq!(app.post_as(&ann, &path, json!({ "agent_id": bob.id })).await.status(), 200);
    let (bob_events, _) = drain(&app, &bob, "", &chat, 3).await;
    assert_eq!(seqs_of(&bob_events, &chat), vec![1, 2, 3], "the transcript follows");
    assert_eq!(bob_events[2]["type"], "chat.transferred");
    assert_eq!(bob_events[2]["to"]["agent_id"], bob.id.as_str());
    let (visitor_events, _) = drain(&app, &visitor, "", &chat, 3).await;
    assert_eq!(visitor_events[2]["type"], "chat.transferred");
    let ann_answer = app.poll(&ann, &ann_cursor, Some(0)).await;
    assert!(ann_answer
        .events
        .iter()
        .any(|e| e["type"] == "chat.transferred" && e["chat_id"] == chat.as_str()));
    assert_eq!(app.send_raw(&ann, &chat, "a1", "still mine?").await.status(), 403);
    app.send(&bob, &chat, "b1", "Bob here").await;

    let agents = app.services.list_agents().await.expect("agents");
    let load = |id: &str| agents.iter().find(|a| a.agent_id.to_string() == id).map(|a| a.active_chats);
    assert_eq!((load(&ann.id), load(&bob.id)), (Some(0), Some(1)));

    // Bob is full now: a transfer to him is refused and changes nothing.
    let second = app.visitor().await;
    let other_chat = app.start_chat(&second, &ann).await;
    let before = app.store_counts().await;
    let full =
        app.post_as(&ann, &format!("/api/chats/{other_chat}/transfer"), json!({ "agent_id": bob.id })).await;
    assert_eq!(code_of(full).await, (409, "agent_full".into()));
    assert_eq!(app.store_counts().await, before);
    assert_eq!(app.chat_state(&other_chat).await.1, Some(ann.id.clone()));
}
