//! The admin API for agents: who may call it, and what each route does.

use serde_json::{json, Value};

use crate::helpers::{text, Backend, Participant, TestApp};
use crate::on_every_backend;

on_every_backend!(
    every_admin_route_refuses_no_token_with_401_and_visitors_and_plain_agents_with_403,
    an_admin_lists_and_creates_agents_and_bad_input_names_the_field,
    an_admin_renames_an_agent_and_sets_capacity_from_json_or_a_form,
    raising_capacity_through_the_api_hands_a_waiting_chat_to_the_agent,
    a_disabled_agent_is_locked_out_at_once_and_enabled_again,
    a_password_reset_revokes_every_old_token_and_the_new_password_logs_in,
);

/// An error's code and field.
type Refusal<'a> = (&'a str, Option<&'a str>);

const PASSWORD: &str = "correct horse battery";

fn code(body: &Value) -> (&str, Option<&str>) {
    (body["error"]["code"].as_str().unwrap_or("<none>"), body["error"]["field"].as_str())
}

/// The listed agent with this employee id.
async fn listed(app: &TestApp, admin: &Participant, employee_id: &str) -> Value {
    let (status, body) = app.get_json(Some(admin), "/api/admin/agents").await;
    assert_eq!(status, 200, "{body}");
    let agents = body["agents"].as_array().expect("agents array");
    agents.iter().find(|a| a["employee_id"] == employee_id).cloned().unwrap_or(Value::Null)
}

async fn every_admin_route_refuses_no_token_with_401_and_visitors_and_plain_agents_with_403(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin("A1").await;
    let agent = app.agent("E1", 2).await;
    let visitor = app.visitor().await;
    let before = listed(&app, &admin, "E1").await;
    let create = json!({"employee_id": "E9", "name": "Nine", "password": "another password"});
    let writes: Vec<(&str, Value)> = vec![
        ("/api/admin/agents", create),
        ("/api/admin/agents/E1", json!({"name": "Renamed", "max_chats": 5})),
        ("/api/admin/agents/E1/disable", json!({})),
        ("/api/admin/agents/E1/enable", json!({})),
        ("/api/admin/agents/E1/password", json!({"password": "a new password"})),
    ];
    for (who, expected) in [
        (None, (401, "unauthorized")),
        (Some(&visitor), (403, "forbidden")),
        (Some(&agent), (403, "forbidden")),
    ] {
        let (status, body) = app.get_json(who, "/api/admin/agents").await;
        assert_eq!((status, code(&body).0), expected, "GET list as {who:?}");
        for (path, payload) in &writes {
            let (status, body) = app.post_json(who, path, payload.clone()).await;
            assert_eq!((status, code(&body).0), expected, "POST {path} as {who:?}");
        }
    }
    // Nothing changed: no new agent, same name and capacity, old password and token still good.
    assert_eq!(listed(&app, &admin, "E9").await, Value::Null);
    assert_eq!(listed(&app, &admin, "E1").await, before);
    assert_eq!(app.get_json(Some(&agent), "/api/agents").await.0, 200);
    assert!(app.login("E1", PASSWORD).await.is_ok());
}

async fn an_admin_lists_and_creates_agents_and_bad_input_names_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin("A1").await;
    let online = app.online_agent("E1", 3).await;
    app.agent("E2", 2).await;

    let (status, body) = app.get_json(Some(&admin), "/api/admin/agents").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> =
        body["agents"].as_array().expect("array").iter().filter_map(|a| a["employee_id"].as_str()).collect();
    assert_eq!(ids, vec!["A1", "E1", "E2"]);
    let e1 = listed(&app, &admin, "E1").await;
    assert_eq!(e1["agent_id"], online.id.as_str());
    assert_eq!(
        (e1["name"].as_str(), e1["role"].as_str(), e1["status"].as_str()),
        (Some("Agent E1"), Some("agent"), Some("online"))
    );
    assert_eq!((e1["max_chats"].as_i64(), e1["active_chats"].as_i64()), (Some(3), Some(0)));
    assert_eq!((e1["disabled"].as_bool(), e1["online"].as_bool()), (Some(false), Some(true)));
    assert_eq!(listed(&app, &admin, "E2").await["online"], false, "logged in but never polled");
    assert_eq!(listed(&app, &admin, "A1").await["role"], "admin");

    let new = json!({"employee_id": "E3", "name": " Carol ", "password": "carol's password", "max_chats": 4, "role": "admin"});
    let (status, created) = app.post_json(Some(&admin), "/api/admin/agents", new.clone()).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        (created["employee_id"].as_str(), created["name"].as_str(), created["role"].as_str()),
        (Some("E3"), Some("Carol"), Some("admin"))
    );
    assert_eq!(
        (created["max_chats"].as_i64(), created["disabled"].as_bool(), created["online"].as_bool()),
        (Some(4), Some(false), Some(false))
    );
    let carol = app.login("E3", "carol's password").await.expect("the new agent logs in");
    assert_eq!(created["agent_id"], carol.id.as_str());
    assert_eq!(app.get_json(Some(&carol), "/api/admin/agents").await.0, 200, "role admin took");

    let (status, body) = app.post_json(Some(&admin), "/api/admin/agents", new).await;
    assert_eq!((status, code(&body)), (409, ("employee_id_taken", None)));
    // Without max_chats and role: the default capacity and a plain agent.
    let minimal = json!({"employee_id": "E4", "name": "Dan", "password": "dan's password"});
    let (status, body) = app.post_json(Some(&admin), "/api/admin/agents", minimal).await;
    assert_eq!((status, body["role"].as_str()), (201, Some("agent")));
    assert_eq!(
        body["max_chats"].as_i64(),
        Some(i64::from(app.services.settings.chat.default_agent_max_chats))
    );

    let base = json!({"employee_id": "E5", "name": "Eve", "password": "eve's password"});
    let bad: Vec<(&str, Value, Refusal)> = vec![
        ("employee_id", json!("has space"), ("invalid_field", Some("employee_id"))),
        ("name", json!("  "), ("invalid_field", Some("name"))),
        ("password", json!("short"), ("invalid_field", Some("password"))),
        ("password", Value::Null, ("missing_field", Some("password"))),
        ("max_chats", json!(0), ("invalid_field", Some("max_chats"))),
        ("max_chats", json!(101), ("invalid_field", Some("max_chats"))),
        ("max_chats", json!("3"), ("invalid_field", Some("max_chats"))),
        ("max_chats", json!(1.5), ("invalid_field", Some("max_chats"))),
        ("max_chats", json!(4_294_967_296_i64), ("invalid_field", Some("max_chats"))),
        ("role", json!("boss"), ("invalid_field", Some("role"))),
    ];
    for (field, value, expected) in bad {
        let mut payload = base.clone();
        payload[field] = value.clone();
        let (status, body) = app.post_json(Some(&admin), "/api/admin/agents", payload).await;
        assert_eq!((status, code(&body)), (400, expected), "{field} = {value}");
    }
    assert_eq!(listed(&app, &admin, "E5").await, Value::Null, "no refused create stored anything");
}

async fn an_admin_renames_an_agent_and_sets_capacity_from_json_or_a_form(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin("A1").await;
    app.agent("E1", 2).await;

    let (status, body) = app.post_json(Some(&admin), "/api/admin/agents/E1", json!({"name": "Alice"})).await;
    assert_eq!((status, body["name"].as_str(), body["max_chats"].as_i64()), (200, Some("Alice"), Some(2)));
    let (status, body) = app.post_json(Some(&admin), "/api/admin/agents/E1", json!({"max_chats": 7})).await;
    assert_eq!((status, body["name"].as_str(), body["max_chats"].as_i64()), (200, Some("Alice"), Some(7)));
    let form = app
        .client
        .post(app.url("/api/admin/agents/E1"))
        .bearer_auth(&admin.token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("max_chats=4&name=Alice+B")
        .send()
        .await
        .expect("request");
    assert_eq!(form.status(), 200);
    let body: Value = form.json().await.expect("json");
    assert_eq!((body["name"].as_str(), body["max_chats"].as_i64()), (Some("Alice B"), Some(4)));
    assert_eq!(listed(&app, &admin, "E1").await["max_chats"], 4, "stored");

    let (status, body) = app.post_json(Some(&admin), "/api/admin/agents/E1", json!({})).await;
    assert_eq!((status, code(&body).0), (400, "missing_field"));
    let (status, body) =
        app.post_json(Some(&admin), "/api/admin/agents/E1", json!({"max_chats": 0, "name": "Zed"})).await;
    assert_eq!((status, code(&body)), (400, ("invalid_field", Some("max_chats"))));
    let (status, body) =
        app.post_json(Some(&admin), "/api/admin/agents/E1", json!({"name": "x".repeat(65)})).await;
    assert_eq!((status, code(&body)), (400, ("invalid_field", Some("name"))));
    assert_eq!(listed(&app, &admin, "E1").await["name"], "Alice B", "refused updates changed nothing");

    for path in ["/api/admin/agents/E404", "/api/admin/agents/E404/disable", "/api/admin/agents/E404/enable"]
    {
        let (status, body) = app.post_json(Some(&admin), path, json!({"max_chats": 3})).await;
        assert_eq!((status, code(&body).0), (404, "agent_not_found"), "{path}");
    }
    let (status, body) = app
        .post_json(Some(&admin), "/api/admin/agents/E404/password", json!({"password": "long enough pw"}))
        .await;
    assert_eq!((status, code(&body).0), (404, "agent_not_found"));
}

async fn raising_capacity_through_the_api_hands_a_waiting_chat_to_the_agent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin("A1").await;
    let agent = app.online_agent("E1", 1).await;
    let busy = app.start_any_raw(&app.visitor().await).await;
    assert_eq!(busy.status(), 201);
    let waiting = app.visitor().await;
    let queued = app.start_any_raw(&waiting).await;
    assert_eq!(queued.status(), 201);
    let queued: Value = queued.json().await.expect("json");
    assert_eq!((queued["status"].as_str(), queued["position"].as_i64()), (Some("queued"), Some(1)));
    let chat = text(&queued["chat_id"]);

    let (status, body) = app.post_json(Some(&admin), "/api/admin/agents/E1", json!({"max_chats": 2})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["max_chats"].as_i64(), body["active_chats"].as_i64()), (Some(2), Some(2)));
    assert_eq!(app.chat_state(&chat).await, ("open".to_string(), Some(agent.id.clone())));
    // The visitor hears of it on its poll.
    let answer = app.poll(&waiting, "", Some(0)).await;
    let assigned = answer.events.iter().find(|e| e["type"] == "chat.assigned").expect("chat.assigned");
    assert_eq!(assigned["agent"]["agent_id"], agent.id.as_str());

    // Lowering it takes no chat away but stops new ones.
    let (status, body) = app.post_json(Some(&admin), "/api/admin/agents/E1", json!({"max_chats": 1})).await;
    assert_eq!((status, body["active_chats"].as_i64()), (200, Some(2)));
    let third = app.start_any_raw(&app.visitor().await).await;
    let third: Value = third.json().await.expect("json");
    assert_eq!(third["status"], "queued");
}

async fn a_disabled_agent_is_locked_out_at_once_and_enabled_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin("A1").await;
    let agent = app.agent("E1", 2).await;
    assert_eq!(app.get_json(Some(&agent), "/api/agents").await.0, 200);

    let (status, body) = app.post_json(Some(&admin), "/api/admin/agents/E1/disable", json!({})).await;
    assert_eq!((status, body["disabled"].as_bool()), (200, Some(true)));
    let (status, body) = app.get_json(Some(&agent), "/api/agents").await;
    assert_eq!((status, code(&body).0), (401, "unauthorized"));
    assert_eq!(app.login("E1", PASSWORD).await.err(), Some(401));
    assert_eq!(listed(&app, &admin, "E1").await["disabled"], true);

    let (status, body) = app.post_json(Some(&admin), "/api/admin/agents/E1/enable", json!({})).await;
    assert_eq!((status, body["disabled"].as_bool()), (200, Some(false)));
    assert_eq!(app.get_json(Some(&agent), "/api/agents").await.0, 200, "the token was not revoked");
    assert!(app.login("E1", PASSWORD).await.is_ok());
}

async fn a_password_reset_revokes_every_old_token_and_the_new_password_logs_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin("A1").await;
    let first = app.agent("E1", 2).await;
    let second = app.login("E1", PASSWORD).await.expect("second session");
    let other = app.agent("E2", 2).await;

    let (status, body) =
        app.post_json(Some(&admin), "/api/admin/agents/E1/password", json!({"password": "short"})).await;
    assert_eq!((status, code(&body)), (400, ("invalid_field", Some("password"))));
    let (status, body) = app.post_json(Some(&admin), "/api/admin/agents/E1/password", json!({})).await;
    assert_eq!((status, code(&body)), (400, ("missing_field", Some("password"))));
    assert_eq!(app.get_json(Some(&first), "/api/agents").await.0, 200, "a refused reset revoked nothing");

    let (status, body) = app
        .post_json(Some(&admin), "/api/admin/agents/E1/password", json!({"password": "a brand new password"}))
        .await;
    assert_eq!((status, body["employee_id"].as_str()), (200, Some("E1")));
    for token in [&first, &second] {
        let (status, body) = app.get_json(Some(token), "/api/agents").await;
        assert_eq!((status, code(&body).0), (401, "unauthorized"));
    }
    assert_eq!(app.login("E1", PASSWORD).await.err(), Some(401));
    let fresh = app.login("E1", "a brand new password").await.expect("new password logs in");
    assert_eq!(fresh.id, first.id);
    assert_eq!(app.get_json(Some(&fresh), "/api/agents").await.0, 200);
    assert_eq!(app.get_json(Some(&other), "/api/agents").await.0, 200, "other agents keep their tokens");
    assert_eq!(app.get_json(Some(&admin), "/api/admin/agents").await.0, 200);
}
