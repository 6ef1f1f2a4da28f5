//! Hardening (issue 7): security headers, why a cross-site page cannot act as an agent, and
//! that no unauthenticated answer tells whether an employee id exists.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{Backend, TestApp};
use crate::on_every_backend;

on_every_backend!(
    staff_pages_have_a_strict_policy_and_embedded_pages_can_still_be_framed,
    a_cookie_is_never_a_token,
    a_form_from_a_site_outside_the_allowlist_is_refused_and_changes_nothing,
    login_answers_the_same_for_an_unknown_id_and_a_wrong_password,
    setup_answers_the_same_for_an_existing_and_an_unknown_id,
);

const STAFF_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

async fn staff_pages_have_a_strict_policy_and_embedded_pages_can_still_be_framed(backend: Backend) {
    let app = TestApp::spawn_with(backend, |settings| {
        settings.server.public_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/public").into();
    })
    .await;
    for path in ["/agent/", "/agent/console.js", "/agent/console.css", "/admin/", "/admin/admin.js"] {
        let response = app.client.get(app.url(path)).send().await.expect("get");
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "content-security-policy").as_deref(), Some(STAFF_CSP), "{path}");
        assert_eq!(header(&response, "x-frame-options").as_deref(), Some("DENY"), "{path}");
        assert_eq!(header(&response, "x-content-type-options").as_deref(), Some("nosniff"), "{path}");
        assert_eq!(header(&response, "referrer-policy").as_deref(), Some("no-referrer"), "{path}");
    }
    // The admin page has no inline script left to add the trailing slash: the server does.
    let no_redirects =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    for (path, to) in [("/admin", "/admin/"), ("/agent", "/agent/")] {
        let response = no_redirects.get(app.url(path)).send().await.expect("get");
        assert!(response.status().is_redirection(), "{path}: {}", response.status());
        assert_eq!(header(&response, "location").as_deref(), Some(to), "{path}");
    }
    // The widget and the demo are embedded in other sites: never refused a frame.
    for path in ["/widget.js", "/widget/app.js", "/demo/"] {
        let response = app.client.get(app.url(path)).send().await.expect("get");
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(header(&response, "x-frame-options"), None, "{path}");
        assert_eq!(header(&response, "content-security-policy"), None, "{path}");
        assert_eq!(header(&response, "x-content-type-options").as_deref(), Some("nosniff"), "{path}");
    }
    // Every API answer, errors and refusals included, is nosniff.
    let responses = [
        app.client.get(app.url("/api/setup")).send().await.expect("get"),
        app.client.get(app.url("/healthz")).send().await.expect("get"),
        app.client.get(app.url("/api/nope")).send().await.expect("get"),
        app.client.get(app.url("/api/agents")).send().await.expect("get"),
        app.client.post(app.url("/api/visitors")).send().await.expect("post"),
    ];
    for response in responses {
        let url = response.url().to_string();
        assert_eq!(header(&response, "x-content-type-options").as_deref(), Some("nosniff"), "{url}");
        assert_eq!(header(&response, "x-frame-options"), None, "{url}");
    }
    app.stop().await;
}

/// The status the store has for `employee_id`.
async fn status_of(app: &TestApp, employee_id: &str) -> String {
    app.services.find_agent(employee_id).await.expect("agent").status.as_str().to_string()
}

async fn a_cookie_is_never_a_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.agent("E1001", 2).await;
    let before = status_of(&app, "E1001").await;
    let after = if before == "online" { "away" } else { "online" };
    // Whatever name a browser might attach it under, a cookie holding the token is not one.
    let cookie = format!("token={0}; Authorization=Bearer%20{0}; switchboard_token={0}", agent.token);
    for (content_type, body) in [
        ("application/json", json!({ "status": after }).to_string()),
        ("application/x-www-form-urlencoded", format!("status={after}")),
        ("text/plain", json!({ "status": after }).to_string()),
    ] {
        let response = app
            .client
            .post(app.url("/api/agent/status"))
            .header("Cookie", &cookie)
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .expect("post");
        assert_eq!(response.status(), 401, "{content_type}");
        let body: Value = response.json().await.expect("json envelope");
        assert_eq!(body["error"]["code"], "unauthorized", "{content_type}");
    }
    let response =
        app.client.get(app.url("/api/agents")).header("Cookie", &cookie).send().await.expect("get");
    assert_eq!(response.status(), 401);
    assert_eq!(status_of(&app, "E1001").await, before, "a cookie-only request changed nothing");
    // The same token in a place the API reads it works, so the refusal was the cookie's.
    let (status, _) = app.post_json(Some(&agent), "/api/agent/status", json!({ "status": after })).await;
    assert_eq!(status, 200);
    assert_eq!(status_of(&app, "E1001").await, after);
    app.stop().await;
}

async fn a_form_from_a_site_outside_the_allowlist_is_refused_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1001", 2).await;
    let visitor = app.visitor().await;
    let chat_id = app.start_chat(&visitor, &agent).await;
    let before = status_of(&app, "E1001").await;
    let after = if before == "online" { "away" } else { "online" };
    let counts_before = app.store_counts().await;
    // What a hostile page's auto-submitting <form> sends, token and all: a simple request
    // with no preflight, so only the origin check stands between it and the API.
    let close_path = format!("/api/chats/{chat_id}/close");
    let attempts = [
        ("/api/agent/status", format!("token={}&status={after}", agent.token)),
        ("/send", format!("token={}&chat_id={chat_id}&client_msg_id=evil-1&body=hi", agent.token)),
        (close_path.as_str(), format!("token={}", agent.token)),
        ("/api/agent/logout", format!("token={}", agent.token)),
    ];
    for (path, form) in attempts {
        let response = app
            .client
            .post(app.url(path))
            .header("Origin", "https://evil.example")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .expect("post");
        assert_eq!(response.status(), 403, "{path}");
        let body: Value = response.json().await.expect("json envelope");
        assert_eq!(body["error"]["code"], "origin_not_allowed", "{path}");
    }
    assert_eq!(status_of(&app, "E1001").await, before, "the status did not change");
    assert_eq!(app.store_counts().await, counts_before, "no message, no close");
    assert_eq!(app.chat_state(&chat_id).await.0, "open");
    let (status, _) = app.get_json(Some(&agent), "/api/agents").await;
    assert_eq!(status, 200, "the token was not logged out");
    app.stop().await;
}

/// One login attempt: its answer and how long it took.
async fn attempt(app: &TestApp, employee_id: &str, password: &str) -> ((u16, Value), Duration) {
    let started = Instant::now();
    let answer = app
        .post_json(None, "/api/agent/login", json!({ "employee_id": employee_id, "password": password }))
        .await;
    (answer, started.elapsed())
}

async fn login_answers_the_same_for_an_unknown_id_and_a_wrong_password(backend: Backend) {
    // 90 failed logins: the throttle (tests/api/abuse.rs) would answer most of them.
    let app = TestApp::spawn_with(backend, |settings| {
        settings.limits.login_failures_per_employee_id = 0;
        settings.limits.login_failures_per_ip = 0;
    })
    .await;
    app.agent("E1001", 2).await;
    app.agent("E1002", 2).await;
    app.services.set_agent_disabled("E1002", true).await.expect("disabled");
    // Every login so far made the decoy: no case below pays for it.
    let cases = [
        ("wrong password", "E1001", "wrong horse battery"),
        ("unknown id", "E9999", "wrong horse battery"),
        ("malformed id", "not an id!", "wrong horse battery"),
        ("disabled, right password", "E1002", "correct horse battery"),
        ("empty password", "E1001", ""),
        ("empty password, unknown id", "E9999", ""),
    ];
    // Rounds go through every case in turn, so a busy moment of the machine falls on all alike.
    let rounds = 15;
    let mut times = vec![Vec::new(); cases.len()];
    let mut reference: Option<(u16, Value)> = None;
    for _ in 0..rounds {
        for (i, (case, employee_id, password)) in cases.iter().enumerate() {
            let ((status, body), took) = attempt(&app, employee_id, password).await;
            times[i].push(took);
            let (expected_status, expected_body) = reference.get_or_insert_with(|| (status, body.clone()));
            assert_eq!(status, *expected_status, "{case}");
            assert_eq!(body, *expected_body, "{case}: the whole answer is the same");
        }
    }
    // Printed, not asserted: timings on a shared machine only inform.
    for ((case, _, _), mut times) in cases.iter().zip(times) {
        times.sort();
        let median = times[times.len() / 2];
        println!("login timing: {case:<28} median {:>7.1} ms over {rounds}", median.as_secs_f64() * 1e3);
    }
    let (status, body) = reference.expect("answers");
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "invalid_credentials");
    app.stop().await;
}

async fn setup_answers_the_same_for_an_existing_and_an_unknown_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.agent("E1001", 2).await;
    let mut answers = Vec::new();
    for employee_id in ["E1001", "E9999"] {
        let body =
            json!({ "employee_id": employee_id, "name": "Mallory", "password": "correct horse battery" });
        answers.push(app.post_json(None, "/api/setup", body).await);
    }
    assert_eq!(answers[0], answers[1], "setup says nothing about which ids exist");
    assert_eq!(answers[0].0, 409, "{:?}", answers[0]);
    let (status, body) = app.get_json(None, "/api/setup").await;
    assert_eq!((status, body), (200, json!({ "needed": false })));
    app.stop().await;
}
