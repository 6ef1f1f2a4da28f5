//! Transcripts: a chat's events, page by page, for its visitor, its agent and admins.

use serde_json::Value;

use crate::helpers::{drain, seqs_of, text, Backend, Participant, TestApp};
use crate::on_every_backend;

on_every_backend!(
    paging_returns_every_event_exactly_once_as_the_poll_sends_it,
    only_the_chats_participants_and_admins_read_it,
    bad_paging_values_are_400s_naming_the_field,
);

async fn error_of(response: reqwest::Response) -> (u16, String, Option<String>) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("error envelope");
    (status, text(&body["error"]["code"]), body["error"]["field"].as_str().map(str::to_string))
}

async fn page_raw(app: &TestApp, who: &Participant, chat_id: &str, query: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/chats/{chat_id}/messages{query}")))
        .bearer_auth(&who.token)
        .send()
        .await
        .expect("request")
}

async fn page(app: &TestApp, who: &Participant, chat_id: &str, query: &str) -> Value {
    let response = page_raw(app, who, chat_id, query).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["chat_id"], chat_id);
    body
}

/// A closed chat of 7 events: assigned, five messages, closed.
async fn whole_chat(app: &TestApp) -> (Participant, Participant, String) {
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    for i in 0..5 {
        let who = if i % 2 == 0 { &visitor } else { &agent };
        app.send(who, &chat, &format!("m{i}"), &format!("message {i}")).await;
    }
    assert_eq!(app.close_chat_raw(&visitor, &chat).await.status(), 200);
    (visitor, agent, chat)
}

async fn paging_returns_every_event_exactly_once_as_the_poll_sends_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (visitor, agent, chat) = whole_chat(&app).await;

    let mut events = Vec::new();
    let mut after = 0;
    let mut nexts = Vec::new();
    for _ in 0..10 {
        let body = page(&app, &visitor, &chat, &format!("?after_seq={after}&limit=3")).await;
        events.extend(body["events"].as_array().cloned().expect("events"));
        match body["next_after_seq"].as_i64() {
            Some(next) => {
                nexts.push(next);
                after = next;
            }
            None => {
                assert_eq!(body["next_after_seq"], Value::Null);
                break;
            }
        }
    }
    assert_eq!(nexts, vec![3, 6]);
    assert_eq!(seqs_of(&events, &chat), (1..=7).collect::<Vec<_>>());

    // The same wire form as the poll.
    let (polled, _) = drain(&app, &visitor, "", &chat, 7).await;
    assert_eq!(events, polled);

    // Exactly a page left: no further page is announced. Defaults: from the start, 50.
    let exact = page(&app, &agent, &chat, "?after_seq=4&limit=3").await;
    assert_eq!(seqs_of(exact["events"].as_array().expect("events"), &chat), vec![5, 6, 7]);
    assert_eq!(exact["next_after_seq"], Value::Null);
    let all = page(&app, &agent, &chat, "").await;
    assert_eq!(all["events"].as_array().map(Vec::len), Some(7));
    assert_eq!(all["next_after_seq"], Value::Null);
    let past_the_end = page(&app, &agent, &chat, "?after_seq=99").await;
    assert_eq!(past_the_end["events"], serde_json::json!([]));
}

async fn only_the_chats_participants_and_admins_read_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (visitor, agent, chat) = whole_chat(&app).await;
    let stranger = app.visitor().await;
    let other_agent = app.online_agent("E2", 3).await;
    let admin = app.admin("A1").await;

    for who in [&stranger, &other_agent] {
        let refused = page_raw(&app, who, &chat, "").await;
        assert_eq!(error_of(refused).await, (403, "forbidden".into(), None));
    }
    for who in [&visitor, &agent, &admin] {
        let body = page(&app, who, &chat, "?limit=200").await;
        assert_eq!(body["events"].as_array().map(Vec::len), Some(7));
    }
    let unknown = page_raw(&app, &admin, &uuid::Uuid::new_v4().to_string(), "").await;
    assert_eq!(error_of(unknown).await, (404, "chat_not_found".into(), None));
    let anonymous =
        app.client.get(app.url(&format!("/api/chats/{chat}/messages"))).send().await.expect("request");
    assert_eq!(error_of(anonymous).await, (401, "unauthorized".into(), None));
}

async fn bad_paging_values_are_400s_naming_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (visitor, _agent, chat) = whole_chat(&app).await;
    let cases = [
        ("?limit=0", "limit"),
        ("?limit=201", "limit"),
        ("?limit=ten", "limit"),
        ("?after_seq=-1", "after_seq"),
        ("?after_seq=1.5", "after_seq"),
    ];
    for (query, field) in cases {
        let refused = page_raw(&app, &visitor, &chat, query).await;
        assert_eq!(error_of(refused).await, (400, "invalid_field".into(), Some(field.into())), "{query}");
    }
    let bad_id = page_raw(&app, &visitor, "not-a-uuid", "").await;
    assert_eq!(error_of(bad_id).await, (400, "invalid_field".into(), Some("chat_id".into())));
}
