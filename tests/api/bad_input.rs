//! Bad input gets its 4xx and the error envelope, and changes nothing in the store.

use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

use crate::helpers::{Backend, TestApp};
use crate::on_every_backend;

on_every_backend!(every_bad_request_gets_its_4xx_with_the_envelope_and_changes_nothing);

struct Case {
    name: &'static str,
    request: RequestBuilder,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
}

async fn every_bad_request_gets_its_4xx_with_the_envelope_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let stranger = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    app.send(&visitor, &chat, "m1", "hello").await;
    let before = app.store_counts().await;

    let send = || app.client.post(app.url("/send"));
    let as_visitor = |builder: RequestBuilder| builder.bearer_auth(&visitor.token);
    let message = |chat_id: Value, client_msg_id: Value, body: Value| json!({"chat_id": chat_id, "client_msg_id": client_msg_id, "body": body});
    let good = |text: &str| message(json!(chat), json!("m-new"), json!(text));
    let long_text = "x".repeat(app.services.settings.chat.max_message_chars + 1);
    let oversized = "y".repeat(app.services.settings.server.max_body_bytes + 1);
    let missing_chat = uuid::Uuid::new_v4().to_string();

    let cases = vec![
        Case {
            name: "malformed JSON",
            request: as_visitor(send()).header("content-type", "application/json").body("{\"chat_id\": "),
            status: 400,
            code: "invalid_body",
            field: None,
        },
        Case {
            name: "JSON that is not an object",
            request: as_visitor(send()).json(&json!(["hello"])),
            status: 400,
            code: "invalid_body",
            field: None,
        },
        Case {
            name: "chat_id of the wrong type",
            request: as_visitor(send()).json(&message(json!(5), json!("m-new"), json!("hi"))),
            status: 400,
            code: "invalid_field",
            field: Some("chat_id"),
        },
        Case {
            name: "body of the wrong type",
            request: as_visitor(send()).json(&message(json!(chat), json!("m-new"), json!({"html": "<b>"}))),
            status: 400,
            code: "invalid_field",
            field: Some("body"),
        },
        Case {
            name: "chat_id not a UUID",
            request: as_visitor(send()).json(&message(json!("chat-1"), json!("m-new"), json!("hi"))),
            status: 400,
            code: "invalid_field",
            field: Some("chat_id"),
        },
        Case {
            name: "missing client_msg_id",
            request: as_visitor(send()).json(&json!({"chat_id": chat, "body": "hi"})),
            status: 400,
            code: "missing_field",
            field: Some("client_msg_id"),
        },
        Case {
            name: "missing body",
            request: as_visitor(send()).json(&json!({"chat_id": chat, "client_msg_id": "m-new"})),
            status: 400,
            code: "missing_field",
            field: Some("body"),
        },
        Case {
            name: "empty request body",
            request: as_visitor(send()).header("content-type", "application/json"),
            status: 400,
            code: "missing_field",
            field: Some("chat_id"),
        },
        Case {
            name: "blank message",
            request: as_visitor(send()).json(&good("   ")),
            status: 400,
            code: "invalid_field",
            field: Some("body"),
        },
        Case {
            name: "message over max_message_chars",
            request: as_visitor(send()).json(&good(&long_text)),
            status: 400,
            code: "invalid_field",
            field: Some("body"),
        },
        Case {
            name: "client_msg_id with odd characters",
            request: as_visitor(send()).json(&message(json!(chat), json!("m new<"), json!("hi"))),
            status: 400,
            code: "invalid_field",
            field: Some("client_msg_id"),
        },
        Case {
            name: "body over max_body_bytes",
            request: as_visitor(send()).header("content-type", "text/plain").body(oversized),
            status: 413,
            code: "payload_too_large",
            field: None,
        },
        Case {
            name: "unsupported content type",
            request: as_visitor(send()).header("content-type", "application/xml").body("<send/>"),
            status: 415,
            code: "unsupported_media_type",
            field: None,
        },
        Case {
            name: "no token",
            request: send().json(&good("hi")),
            status: 401,
            code: "unauthorized",
            field: None,
        },
        Case {
            name: "unknown token",
            request: send().bearer_auth("not-a-token").json(&good("hi")),
            status: 401,
            code: "unauthorized",
            field: None,
        },
        Case {
            name: "a chat that is not yours",
            request: send().bearer_auth(&stranger.token).json(&good("let me in")),
            status: 403,
            code: "forbidden",
            field: None,
        },
        Case {
            name: "a chat that does not exist",
            request: as_visitor(send()).json(&message(json!(missing_chat), json!("m-new"), json!("hi"))),
            status: 404,
            code: "chat_not_found",
            field: None,
        },
        Case {
            name: "a visitor trying to reach another visitor",
            request: app
                .client
                .post(app.url("/api/chats"))
                .bearer_auth(&stranger.token)
                .json(&json!({"agent_id": visitor.id})),
            status: 404,
            code: "agent_not_found",
            field: None,
        },
        Case {
            name: "an agent starting a chat",
            request: app
                .client
                .post(app.url("/api/chats"))
                .bearer_auth(&agent.token)
                .json(&json!({"agent_id": agent.id})),
            status: 403,
            code: "forbidden",
            field: None,
        },
        Case {
            name: "closing someone else's chat",
            request: app
                .client
                .post(app.url(&format!("/api/chats/{chat}/close")))
                .bearer_auth(&stranger.token),
            status: 403,
            code: "forbidden",
            field: None,
        },
        Case {
            name: "a poll with a forged cursor",
            request: app
                .client
                .get(app.url("/poll?cursor=bm90LWEtY3Vyc29y&timeout=0"))
                .bearer_auth(&visitor.token),
            status: 400,
            code: "invalid_cursor",
            field: Some("cursor"),
        },
        Case {
            name: "a poll with a negative timeout",
            request: app.client.get(app.url("/poll?timeout=-5")).bearer_auth(&visitor.token),
            status: 400,
            code: "invalid_field",
            field: Some("timeout"),
        },
        Case {
            name: "a poll without a token",
            request: app.client.get(app.url("/poll?timeout=0")),
            status: 401,
            code: "unauthorized",
            field: None,
        },
        Case {
            name: "a login with a wrong password",
            request: app
                .client
                .post(app.url("/api/agent/login"))
                .json(&json!({"employee_id": "E1", "password": "wrong password"})),
            status: 401,
            code: "invalid_credentials",
            field: None,
        },
        Case {
            name: "a login with an unknown employee id",
            request: app
                .client
                .post(app.url("/api/agent/login"))
                .json(&json!({"employee_id": "E404", "password": "wrong password"})),
            status: 401,
            code: "invalid_credentials",
            field: None,
        },
        Case {
            name: "a visitor name that is too long",
            request: app.client.post(app.url("/api/visitors")).json(&json!({"name": "n".repeat(65)})),
            status: 400,
            code: "invalid_field",
            field: Some("name"),
        },
        Case {
            name: "an unknown route",
            request: app.client.get(app.url("/api/nothing-here")),
            status: 404,
            code: "not_found",
            field: None,
        },
        Case {
            name: "a wrong method",
            request: app.client.request(Method::GET, app.url("/send")),
            status: 405,
            code: "method_not_allowed",
            field: None,
        },
    ];

    let mut failures = Vec::new();
    for case in cases {
        let response = case.request.send().await.expect("request");
        let status = response.status().as_u16();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let error = &body["error"];
        let ok = status == case.status
            && content_type.starts_with("application/json")
            && error["code"] == case.code
            && error["message"].as_str().is_some_and(|m| !m.is_empty())
            && error["field"].as_str() == case.field;
        if !ok {
            failures.push(format!("{}: got {status} {body}", case.name));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(app.store_counts().await, before, "bad requests changed the store");
}
