//! Ratings: only the chat's visitor, only after it ended, once; the admin report per agent.

use serde_json::{json, Value};
use switchboard::store::{self, StoreError};

use crate::helpers::{text, Backend, Participant, TestApp};
use crate::on_every_backend;

on_every_backend!(
    a_visitor_rates_a_closed_chat_once,
    only_the_chats_own_visitor_may_rate_it,
    a_bad_score_or_comment_is_a_400_naming_the_field,
    a_chat_closed_while_queued_cannot_be_rated,
    the_admin_report_shows_counts_and_averages_per_agent,
    the_admin_report_is_for_admins_only,
);

async fn error_of(response: reqwest::Response) -> (u16, String, Option<String>) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("error envelope");
    (status, text(&body["error"]["code"]), body["error"]["field"].as_str().map(str::to_string))
}

async fn rate_raw(app: &TestApp, who: &Participant, chat_id: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/chats/{chat_id}/rating")))
        .bearer_auth(&who.token)
        .json(&body)
        .send()
        .await
        .expect("request")
}

async fn rating_count(app: &TestApp) -> i64 {
    app.services.store.run(|conn| store::ratings::count(conn).map_err(StoreError::from)).await.expect("store")
}

/// A chat between `visitor` and `agent`, closed by the visitor.
async fn closed_chat(app: &TestApp, visitor: &Participant, agent: &Participant) -> String {
    let chat = app.start_chat(visitor, agent).await;
    assert_eq!(app.close_chat_raw(visitor, &chat).await.status(), 200);
    chat
}

async fn stats(app: &TestApp, who: &Participant) -> Vec<Value> {
    let response = app
        .client
        .get(app.url("/api/admin/stats/agents"))
        .bearer_auth(&who.token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    body["agents"].as_array().cloned().expect("agents array")
}

async fn a_visitor_rates_a_closed_chat_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;

    let early = rate_raw(&app, &visitor, &chat, json!({"score": 5})).await;
    assert_eq!(error_of(early).await, (409, "chat_not_closed".into(), None));
    assert_eq!(rating_count(&app).await, 0);

    assert_eq!(app.close_chat_raw(&agent, &chat).await.status(), 200);
    let rated = rate_raw(&app, &visitor, &chat, json!({"score": 5, "comment": "Quick and kind"})).await;
    assert_eq!(rated.status(), 201);
    let body: Value = rated.json().await.expect("json");
    assert_eq!(body, json!({"chat_id": chat, "score": 5, "comment": "Quick and kind"}));

    let again = rate_raw(&app, &visitor, &chat, json!({"score": 1})).await;
    assert_eq!(error_of(again).await, (409, "already_rated".into(), None));
    assert_eq!(rating_count(&app).await, 1);
    let report = stats(&app, &app.admin("A1").await).await;
    let line = report.iter().find(|a| a["agent_id"] == agent.id.as_str()).expect("agent listed");
    assert_eq!(line["average_score"], 5.0, "the second rating changed nothing");
}

async fn only_the_chats_own_visitor_may_rate_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let (visitor, stranger) = (app.visitor().await, app.visitor().await);
    let chat = closed_chat(&app, &visitor, &agent).await;

    for who in [&stranger, &agent] {
        let refused = rate_raw(&app, who, &chat, json!({"score": 3})).await;
        assert_eq!(error_of(refused).await, (403, "forbidden".into(), None));
    }
    let unknown = rate_raw(&app, &visitor, &uuid::Uuid::new_v4().to_string(), json!({"score": 3})).await;
    assert_eq!(error_of(unknown).await, (404, "chat_not_found".into(), None));
    let anonymous = app
        .client
        .post(app.url(&format!("/api/chats/{chat}/rating")))
        .json(&json!({"score": 3}))
        .send()
        .await
        .expect("request");
    assert_eq!(error_of(anonymous).await, (401, "unauthorized".into(), None));
    assert_eq!(rating_count(&app).await, 0);

    // Still rateable by its own visitor afterwards.
    assert_eq!(rate_raw(&app, &visitor, &chat, json!({"score": 3})).await.status(), 201);
}

async fn a_bad_score_or_comment_is_a_400_naming_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let chat = closed_chat(&app, &visitor, &agent).await;

    let missing = rate_raw(&app, &visitor, &chat, json!({"comment": "no score"})).await;
    assert_eq!(error_of(missing).await, (400, "missing_field".into(), Some("score".into())));
    for score in [json!(0), json!(6), json!(-3), json!(4.5), json!("4"), json!(true), json!(1e20)] {
        let refused = rate_raw(&app, &visitor, &chat, json!({ "score": score })).await;
        assert_eq!(error_of(refused).await, (400, "invalid_field".into(), Some("score".into())), "{score}");
    }
    let long = rate_raw(&app, &visitor, &chat, json!({"score": 4, "comment": "x".repeat(1001)})).await;
    assert_eq!(error_of(long).await, (400, "invalid_field".into(), Some("comment".into())));
    let wrong_type = rate_raw(&app, &visitor, &chat, json!({"score": 4, "comment": 7})).await;
    assert_eq!(error_of(wrong_type).await, (400, "invalid_field".into(), Some("comment".into())));
    assert_eq!(rating_count(&app).await, 0, "refused ratings store nothing");

    // A form sends the score as text; that is a number there.
    let form = app
        .client
        .post(app.url(&format!("/api/chats/{chat}/rating")))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("token={}&score=4&comment=", visitor.token))
        .send()
        .await
        .expect("request");
    assert_eq!(form.status(), 201);
    let body: Value = form.json().await.expect("json");
    assert_eq!(body, json!({"chat_id": chat, "score": 4, "comment": null}));
}

async fn a_chat_closed_while_queued_cannot_be_rated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let _agent = app.online_agent("E1", 1).await;
    let (first, second) = (app.visitor().await, app.visitor().await);
    assert_eq!(app.start_any_raw(&first).await.status(), 201);
    let queued = app.start_any_raw(&second).await;
    assert_eq!(queued.status(), 201);
    let body: Value = queued.json().await.expect("json");
    assert_eq!(body["status"], "queued");
    let chat = text(&body["chat_id"]);
    assert_eq!(app.close_chat_raw(&second, &chat).await.status(), 200);

    let refused = rate_raw(&app, &second, &chat, json!({"score": 2})).await;
    assert_eq!(error_of(refused).await, (409, "chat_not_rateable".into(), None));
    assert_eq!(rating_count(&app).await, 0);
}

async fn the_admin_report_shows_counts_and_averages_per_agent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rated = app.online_agent("E1", 3).await;
    let unrated = app.online_agent("E2", 3).await;
    let admin = app.admin("A1").await;
    for score in [4, 5] {
        let visitor = app.visitor().await;
        let chat = closed_chat(&app, &visitor, &rated).await;
        assert_eq!(rate_raw(&app, &visitor, &chat, json!({ "score": score })).await.status(), 201);
    }
    // Closed but not rated, and open: neither adds a rating; only the closed one counts as closed.
    let visitor = app.visitor().await;
    closed_chat(&app, &visitor, &rated).await;
    app.start_chat(&app.visitor().await, &unrated).await;

    let report = stats(&app, &admin).await;
    assert_eq!(report.len(), 3, "every agent, admins included: {report:?}");
    let line = |id: &str| report.iter().find(|a| a["agent_id"] == id).cloned().expect("listed");
    let first = line(&rated.id);
    assert_eq!(first["employee_id"], "E1");
    assert_eq!(first["name"], "Agent E1");
    assert_eq!(first["ratings"], 2);
    assert_eq!(first["average_score"], 4.5);
    assert_eq!(first["chats_closed"], 3);
    let second = line(&unrated.id);
    assert_eq!(second["ratings"], 0);
    assert_eq!(second["average_score"], Value::Null);
    assert_eq!(second["chats_closed"], 0);
}

async fn the_admin_report_is_for_admins_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let url = app.url("/api/admin/stats/agents");
    let anonymous = app.client.get(&url).send().await.expect("request");
    assert_eq!(error_of(anonymous).await, (401, "unauthorized".into(), None));
    for who in [&visitor, &agent] {
        let refused = app.client.get(&url).bearer_auth(&who.token).send().await.expect("request");
        assert_eq!(error_of(refused).await, (403, "forbidden".into(), None));
    }
    let admin = app.admin("A1").await;
    assert_eq!(stats(&app, &admin).await.len(), 2);
}
