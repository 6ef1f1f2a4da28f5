//! Offline messages: left by a visitor when nobody is online, listed for agents newest first.

use std::time::Duration;

use serde_json::{json, Value};
use switchboard::store::{self, StoreError};

use crate::helpers::{text, Backend, Participant, TestApp};
use crate::on_every_backend;

on_every_backend!(
    with_nobody_online_a_visitor_leaves_a_message_agents_can_read,
    agents_list_newest_first_and_page_with_before,
    a_bad_offline_message_is_a_400_naming_the_field_and_stores_nothing,
    only_visitors_leave_and_only_agents_read,
);

async fn error_of(response: reqwest::Response) -> (u16, String, Option<String>) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("error envelope");
    (status, text(&body["error"]["code"]), body["error"]["field"].as_str().map(str::to_string))
}

async fn leave_raw(app: &TestApp, who: &Participant, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/offline-messages"))
        .bearer_auth(&who.token)
        .json(&body)
        .send()
        .await
        .expect("request")
}

async fn leave(app: &TestApp, who: &Participant, body: &str) -> String {
    let response =
        leave_raw(app, who, json!({"name": "Ana", "email": "ana@example.com", "body": body})).await;
    assert_eq!(response.status(), 201);
    let answer: Value = response.json().await.expect("json");
    text(&answer["id"])
}

async fn list_raw(app: &TestApp, who: &Participant, query: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/offline-messages{query}")))
        .bearer_auth(&who.token)
        .send()
        .await
        .expect("request")
}

async fn list(app: &TestApp, who: &Participant, query: &str) -> Vec<Value> {
    let response = list_raw(app, who, query).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    body["messages"].as_array().cloned().expect("messages array")
}

async fn stored_count(app: &TestApp) -> i64 {
    app.services
        .store
        .run(|conn| store::offline_messages::count(conn).map_err(StoreError::from))
        .await
        .expect("store")
}

async fn with_nobody_online_a_visitor_leaves_a_message_agents_can_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.agent("E1", 3).await; // logged in, not polling: not online
    let visitor = app.visitor().await;
    let refused = app.start_any_raw(&visitor).await;
    assert_eq!(error_of(refused).await, (409, "no_agent_online".into(), None));

    let response = leave_raw(
        &app,
        &visitor,
        json!({"name": "  Ana Lima ", "email": "ana@example.com", "body": "Please call me <b>back</b>"}),
    )
    .await;
    assert_eq!(response.status(), 201);
    let id = text(&response.json::<Value>().await.expect("json")["id"]);

    let listed = list(&app, &agent, "").await;
    assert_eq!(listed.len(), 1);
    let message = &listed[0];
    assert_eq!(message["id"], id.as_str());
    assert_eq!(message["visitor_id"], visitor.id.as_str());
    assert_eq!(message["name"], "Ana Lima");
    assert_eq!(message["email"], "ana@example.com");
    assert_eq!(message["body"], "Please call me <b>back</b>");
    assert!(message["created_at"].as_i64().is_some_and(|at| at > 0));
    let admin = app.admin("A1").await;
    assert_eq!(list(&app, &admin, "").await, listed);
}

async fn agents_list_newest_first_and_page_with_before(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.agent("E1", 3).await;
    let visitor = app.visitor().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(leave(&app, &visitor, &format!("message {i}")).await);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let listed = list(&app, &agent, "").await;
    let listed_ids: Vec<String> = listed.iter().map(|m| text(&m["id"])).collect();
    assert_eq!(listed_ids, [ids[2].clone(), ids[1].clone(), ids[0].clone()]);

    let first_page = list(&app, &agent, "?limit=2").await;
    assert_eq!(first_page.len(), 2);
    let oldest_shown = first_page[1]["created_at"].as_i64().expect("created_at");
    let rest = list(&app, &agent, &format!("?limit=2&before={oldest_shown}")).await;
    assert_eq!(rest.iter().map(|m| text(&m["id"])).collect::<Vec<_>>(), [ids[0].clone()]);

    for (query, field) in
        [("?limit=0", "limit"), ("?limit=201", "limit"), ("?before=-5", "before"), ("?before=x", "before")]
    {
        let refused = list_raw(&app, &agent, query).await;
        assert_eq!(error_of(refused).await, (400, "invalid_field".into(), Some(field.into())), "{query}");
    }
}

async fn a_bad_offline_message_is_a_400_naming_the_field_and_stores_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let visitor = app.visitor().await;
    let good = json!({"name": "Ana", "email": "ana@example.com", "body": "Hello"});
    let with = |field: &str, value: Value| {
        let mut body = good.clone();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = good.clone();
        body.as_object_mut().expect("object").remove(field);
        body
    };
    let cases = [
        (without("name"), "missing_field", "name"),
        (without("email"), "missing_field", "email"),
        (without("body"), "missing_field", "body"),
        (with("name", json!("   ")), "invalid_field", "name"),
        (with("name", json!("n".repeat(65))), "invalid_field", "name"),
        (with("name", json!(42)), "invalid_field", "name"),
        (with("email", json!("ana.example.com")), "invalid_field", "email"),
        (with("email", json!("@example.com")), "invalid_field", "email"),
        (with("email", json!("ana@")), "invalid_field", "email"),
        (with("email", json!("a@b@c")), "invalid_field", "email"),
        (with("email", json!(format!("{}@example.com", "a".repeat(243)))), "invalid_field", "email"),
        (with("body", json!(" \n ")), "invalid_field", "body"),
        (with("body", json!("b".repeat(4001))), "invalid_field", "body"),
    ];
    for (body, code, field) in cases {
        let refused = leave_raw(&app, &visitor, body.clone()).await;
        assert_eq!(error_of(refused).await, (400, code.into(), Some(field.into())), "{body}");
    }
    assert_eq!(stored_count(&app).await, 0);

    // The limits themselves are accepted.
    let longest = json!({"name": "n".repeat(64), "email": format!("{}@example.com", "a".repeat(242)), "body": "b".repeat(4000)});
    assert_eq!(leave_raw(&app, &visitor, longest).await.status(), 201);
    assert_eq!(stored_count(&app).await, 1);
}

async fn only_visitors_leave_and_only_agents_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.agent("E1", 3).await;
    let visitor = app.visitor().await;
    let body = json!({"name": "Ana", "email": "ana@example.com", "body": "Hello"});

    let by_agent = leave_raw(&app, &agent, body.clone()).await;
    assert_eq!(error_of(by_agent).await, (403, "forbidden".into(), None));
    let anonymous =
        app.client.post(app.url("/api/offline-messages")).json(&body).send().await.expect("request");
    assert_eq!(error_of(anonymous).await, (401, "unauthorized".into(), None));
    assert_eq!(stored_count(&app).await, 0);

    leave(&app, &visitor, "Hello").await;
    let by_visitor = list_raw(&app, &visitor, "").await;
    assert_eq!(error_of(by_visitor).await, (403, "forbidden".into(), None));
    let anonymous = app.client.get(app.url("/api/offline-messages")).send().await.expect("request");
    assert_eq!(error_of(anonymous).await, (401, "unauthorized".into(), None));
    assert_eq!(list(&app, &agent, "").await.len(), 1);
}
