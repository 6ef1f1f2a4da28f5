//! A whole chat, and the rules for starting one.

use serde_json::{json, Value};

use crate::helpers::{drain, seqs_of, text, Backend, TestApp};
use crate::on_every_backend;

on_every_backend!(
    a_visitor_and_an_agent_hold_a_whole_chat,
    a_chat_that_starts_and_ends_between_two_agent_polls_is_still_delivered_whole,
    an_agent_at_max_chats_is_refused_and_frees_a_slot_on_close,
    an_agent_who_is_not_polling_cannot_be_chosen,
    a_visitor_has_one_open_chat_at_a_time,
    past_max_active_chats_a_start_gets_503_with_retry_after,
    an_agent_renamed_mid_chat_signs_the_next_message_with_the_new_name,
);

async fn error_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("error envelope");
    (status, text(&body["error"]["code"]))
}

async fn a_visitor_and_an_agent_hold_a_whole_chat(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;

    let listed: Value = app
        .client
        .get(app.url("/api/agents"))
        .bearer_auth(&visitor.token)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(listed["agents"][0]["agent_id"], agent.id.as_str());
    assert_eq!(listed["agents"][0]["available"], true);

    let chat = app.start_chat(&visitor, &agent).await;
    app.send(&visitor, &chat, "v1", "Hi, my order is late").await;
    app.send(&agent, &chat, "a1", "Let me check that for you").await;
    let close = app.close_chat_raw(&visitor, &chat).await;
    assert_eq!(close.status(), 200);

    for who in [&visitor, &agent] {
        let (events, cursor) = drain(&app, who, "", &chat, 4).await;
        assert_eq!(seqs_of(&events, &chat), vec![1, 2, 3, 4]);
        let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
        assert_eq!(types, ["chat.assigned", "message", "message", "chat.closed"]);
        assert_eq!(events[1]["from"], "visitor");
        assert_eq!(events[2]["from"], "agent");
        assert_eq!(events[2]["sender_name"], "Agent E1");
        assert_eq!(events[3]["reason"], "closed_by_visitor");
        // Seen to its end, the closed chat is never replayed.
        let after = app.poll(who, &cursor, Some(0)).await;
        assert!(after.events.is_empty(), "replayed: {:?}", after.events);
    }
    let closed_again = app.close_chat_raw(&agent, &chat).await;
    assert_eq!(error_code(closed_again).await, (409, "chat_closed".into()));
    let late = app.send_raw(&agent, &chat, "a2", "anyone there?").await;
    assert_eq!(error_code(late).await, (409, "chat_closed".into()));
    assert_eq!(app.store_counts().await.open_chats, 0);
}

async fn an_agent_at_max_chats_is_refused_and_frees_a_slot_on_close(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 1).await;
    let (first, second) = (app.visitor().await, app.visitor().await);
    let chat = app.start_chat(&first, &agent).await;
    let before = app.store_counts().await;
    let refused = app.start_chat_raw(&second, &agent.id).await;
    assert_eq!(error_code(refused).await, (409, "agent_full".into()));
    assert_eq!(app.store_counts().await, before, "a refused start changes nothing");

    assert_eq!(app.close_chat_raw(&agent, &chat).await.status(), 200);
    assert_eq!(app.start_chat_raw(&second, &agent.id).await.status(), 201);
}

async fn an_agent_who_is_not_polling_cannot_be_chosen(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.agent("E1", 3).await;
    let visitor = app.visitor().await;
    let refused = app.start_chat_raw(&visitor, &agent.id).await;
    assert_eq!(error_code(refused).await, (409, "agent_offline".into()));
    let unknown = app.start_chat_raw(&visitor, &uuid::Uuid::new_v4().to_string()).await;
    assert_eq!(error_code(unknown).await, (404, "agent_not_found".into()));

    app.poll(&agent, "", Some(0)).await;
    assert_eq!(app.start_chat_raw(&visitor, &agent.id).await.status(), 201);
}

async fn a_visitor_has_one_open_chat_at_a_time(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    app.start_chat(&visitor, &agent).await;
    let before = app.store_counts().await;
    let again = app.start_chat_raw(&visitor, &agent.id).await;
    assert_eq!(error_code(again).await, (409, "chat_already_open".into()));
    assert_eq!(app.store_counts().await, before);
    let agents = app.services.list_agents().await.expect("agents");
    assert_eq!(agents[0].active_chats, 1, "the refused start gave its slot back");
}

async fn past_max_active_chats_a_start_gets_503_with_retry_after(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.chat.max_active_chats = 1).await;
    let agent = app.online_agent("E1", 5).await;
    let (first, second) = (app.visitor().await, app.visitor().await);
    let chat = app.start_chat(&first, &agent).await;
    let refused = app.start_chat_raw(&second, &agent.id).await;
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(error_code(refused).await, (503, "too_many_chats".into()));
    // What was admitted keeps working.
    app.send(&first, &chat, "m1", "still here").await;
}

async fn a_chat_that_starts_and_ends_between_two_agent_polls_is_still_delivered_whole(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let before = app.poll(&agent, "", Some(0)).await.cursor;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    app.send(&visitor, &chat, "v1", "quick question").await;
    assert_eq!(app.close_chat_raw(&visitor, &chat).await.status(), 200);

    // The agent polls again with the cursor it had before the chat existed (its last answer
    // could have been lost): the whole short chat arrives, and then never again.
    let (events, cursor) = drain(&app, &agent, &before, &chat, 3).await;
    assert_eq!(seqs_of(&events, &chat), vec![1, 2, 3]);
    let again = app.poll(&agent, &cursor, Some(0)).await;
    assert!(again.events.is_empty(), "replayed: {:?}", again.events);
}

/// Sender names are remembered in memory; a rename must still sign the very next message.
async fn an_agent_renamed_mid_chat_signs_the_next_message_with_the_new_name(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin("A1").await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    app.send(&agent, &chat, "a1", "before").await;
    let (status, _) = app.post_json(Some(&admin), "/api/admin/agents/E1", json!({"name": "Erin"})).await;
    assert_eq!(status, 200);
    app.send(&agent, &chat, "a2", "after").await;
    let (events, _) = drain(&app, &visitor, "", &chat, 3).await;
    let names: Vec<&str> = events.iter().filter_map(|e| e["sender_name"].as_str()).collect();
    assert_eq!(names, ["Agent E1", "Erin"]);
}
