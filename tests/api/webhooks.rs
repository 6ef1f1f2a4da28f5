//! Webhooks against a real receiver (`webhook_receiver`): every event an endpoint hears is
//! delivered, signed, once per event id even when the receiver fails the first tries; an endpoint
//! that keeps failing is disabled with the reason; "send again" delivers again; private targets
//! are refused unless allowed; and a server killed with SIGKILL mid-sending, started again on
//! its store, delivers every call with none it had marked sent sent twice.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use switchboard::config::Settings;
use switchboard::store::{self, StoreError};

use crate::helpers::{text, Backend, Participant, TestApp, TestDb, WireClient};
use crate::on_every_backend;
use crate::webhook_receiver::{Behaviour, Receiver};

on_every_backend!(
    every_event_is_delivered_signed_and_taken_once_after_failed_tries,
    an_endpoint_that_keeps_failing_is_disabled_and_send_again_delivers_once_enabled,
    a_call_that_runs_out_of_retries_disables_its_endpoint,
    private_targets_and_bad_input_are_refused_and_change_nothing,
    a_kill_9_mid_sending_loses_no_call_and_sends_none_marked_sent_again,
);

/// Private targets allowed (the receiver is on 127.0.0.1) and retries 100 ms apart.
fn quick(settings: &mut Settings) {
    settings.webhooks.allow_private_targets = true;
    settings.webhooks.first_retry_ms = 100;
    settings.webhooks.longest_retry_secs = 1;
}

/// Registers an endpoint as `admin`; the status and answer.
async fn register_raw(app: &WireClient, admin: &Participant, body: Value) -> (u16, Value) {
    app.post_json(Some(admin), "/api/admin/webhooks", body).await
}

/// Registers an endpoint for `receiver` hearing `events`, and tells the receiver its secret; the id.
async fn register(app: &WireClient, admin: &Participant, receiver: &Receiver, events: Value) -> String {
    let (status, answer) = register_raw(app, admin, json!({"url": receiver.url, "events": events})).await;
    assert_eq!(status, 201, "{answer}");
    receiver.set_secret(&text(&answer["webhook"]["secret"]));
    text(&answer["webhook"]["webhook_id"])
}

/// The endpoint as listed.
async fn endpoint(app: &TestApp, admin: &Participant, id: &str) -> Value {
    let (status, answer) = app.get_json(Some(admin), "/api/admin/webhooks").await;
    assert_eq!(status, 200, "{answer}");
    answer["webhooks"]
        .as_array()
        .expect("a list")
        .iter()
        .find(|webhook| webhook["webhook_id"] == id)
        .cloned()
        .expect("the endpoint is listed")
}

/// The endpoint's delivery log.
async fn deliveries(app: &WireClient, admin: &Participant, id: &str) -> Vec<Value> {
    deliveries_page(app, admin, id, "").await
}

/// A page of the endpoint's delivery log (`query`: `?before=…&limit=…`).
async fn deliveries_page(app: &WireClient, admin: &Participant, id: &str, query: &str) -> Vec<Value> {
    let (status, answer) =
        app.get_json(Some(admin), &format!("/api/admin/webhooks/{id}/deliveries{query}")).await;
    assert_eq!(status, 200, "{answer}");
    answer["deliveries"].as_array().cloned().expect("a list")
}

/// Waits up to `secs` for `done` to hold of the endpoint as listed.
async fn wait_for_endpoint(
    app: &TestApp,
    admin: &Participant,
    id: &str,
    secs: u64,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let until = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let found = endpoint(app, admin, id).await;
        if done(&found) || std::time::Instant::now() > until {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits up to `secs` for `done` to hold of the delivery log.
async fn wait_for_log(
    app: &WireClient,
    admin: &Participant,
    id: &str,
    secs: u64,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let until = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let log = deliveries(app, admin, id).await;
        if done(&log) || std::time::Instant::now() > until {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A visitor leaves an offline message: one `offline_message` event.
async fn leave_offline_message(app: &WireClient, visitor: &Participant, body: &str) {
    let message = json!({"name": "Ana", "email": "ana@example.com", "body": body});
    let (status, answer) = app.post_json(Some(visitor), "/api/offline-messages", message).await;
    assert_eq!(status, 201, "{answer}");
}

/// The feed's events (id → type) after position 0.
async fn feed(app: &TestApp) -> BTreeMap<i64, String> {
    let events = app.services.feed_after(0, 1000).await.expect("feed");
    events.into_iter().map(|event| (event.id, event.kind)).collect()
}

async fn every_event_is_delivered_signed_and_taken_once_after_failed_tries(backend: Backend) {
    let app = TestApp::spawn_with(backend, quick).await;
    let admin = app.admin("A1").await;
    let all = Receiver::start(Behaviour { fail_first: 2, ..Behaviour::default() }).await;
    let messages_only = Receiver::start(Behaviour::default()).await;
    let all_id = register(&app, &admin, &all, json!("*")).await;
    let messages_id = register(&app, &admin, &messages_only, json!(["message"])).await;

    // Every type: a chat started and assigned, three messages, closed, rated; an offline message.
    let agent = app.online_agent("E1", 2).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    for n in 1..=3 {
        app.send(&visitor, &chat, &format!("m{n}"), &format!("hello {n}")).await;
    }
    assert_eq!(app.close_chat_raw(&visitor, &chat).await.status(), 200);
    let (status, answer) =
        app.post_json(Some(&visitor), &format!("/api/chats/{chat}/rating"), json!({"score": 5})).await;
    assert_eq!(status, 201, "{answer}");
    leave_offline_message(&app, &visitor, "call me back").await;

    let heard: BTreeMap<i64, String> =
        feed(&app).await.into_iter().filter(|(_, kind)| kind != "chat.queued").collect();
    let kinds: BTreeSet<&str> = heard.values().map(String::as_str).collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            "chat.started",
            "chat.assigned",
            "message",
            "chat.closed",
            "rating",
            "offline_message"
        ]),
        "the events made"
    );
    let ids: BTreeSet<i64> = heard.keys().copied().collect();
    let every_one_taken = |receiver: &Receiver, ids: &BTreeSet<i64>| {
        let taken: BTreeSet<i64> = receiver.taken().keys().copied().collect();
        &taken == ids
    };
    let delivered = all.wait_until(Duration::from_secs(30), |_| every_one_taken(&all, &ids)).await;
    assert!(delivered, "every event taken: {:?} of {ids:?}", all.taken());

    let calls = all.calls();
    assert!(calls.iter().all(|call| call.signed), "every call signed: {calls:?}");
    for (id, kind) in &heard {
        let tries: Vec<_> = calls.iter().filter(|call| call.id == *id).collect();
        assert_eq!(tries.len(), 3, "event {id}: two 503s, then taken");
        assert_eq!(tries[2].body["type"], kind.as_str(), "event {id}'s body says its type");
        assert_eq!(tries[2].body["id"], *id, "the body's id is the Webhook-Id");
        assert_eq!(tries[0].body, tries[2].body, "a retry sends the same body");
        let waited = tries[1].at - tries[0].at;
        assert!(
            waited >= Duration::from_millis(75),
            "event {id}: a retry waits its backoff, waited {waited:?}"
        );
    }
    assert!(all.taken().values().all(|&times| times == 1), "none taken twice: {:?}", all.taken());

    let messages: BTreeSet<i64> =
        heard.iter().filter(|(_, kind)| *kind == "message").map(|(id, _)| *id).collect();
    assert!(
        messages_only
            .wait_until(Duration::from_secs(10), |_| every_one_taken(&messages_only, &messages))
            .await
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(messages_only.calls().len(), 3, "an endpoint hears only its types");

    let log = wait_for_log(&app, &admin, &all_id, 10, |log| log.iter().all(|d| d["state"] == "sent")).await;
    assert_eq!(log.len(), heard.len(), "{log:?}");
    for delivery in &log {
        assert_eq!(delivery["state"], "sent", "{delivery}");
        assert_eq!(delivery["attempts"], 3, "{delivery}");
        assert_eq!(delivery["last_status"], 200, "{delivery}");
    }
    let newest = log[0]["event_id"].as_i64().expect("event id");
    assert_eq!(log[0]["event_type"], "offline_message");
    let older = deliveries_page(&app, &admin, &all_id, &format!("?before={newest}&limit=2")).await;
    let older_ids: Vec<i64> = older.iter().filter_map(|d| d["event_id"].as_i64()).collect();
    assert_eq!(older_ids, [newest - 1, newest - 2], "paged by event id");
    assert_eq!(endpoint(&app, &admin, &all_id).await["consecutive_failures"], 0);
    assert_eq!(endpoint(&app, &admin, &messages_id).await["events"], json!(["message"]));
    app.stop().await;
}

async fn an_endpoint_that_keeps_failing_is_disabled_and_send_again_delivers_once_enabled(backend: Backend) {
    let app = TestApp::spawn_with(backend, |settings| {
        quick(settings);
        settings.webhooks.disable_after_failures = 3;
    })
    .await;
    let admin = app.admin("A1").await;
    let receiver = Receiver::start(Behaviour { always_fail: true, ..Behaviour::default() }).await;
    let id = register(&app, &admin, &receiver, json!("offline_message")).await;
    let visitor = app.visitor().await;
    leave_offline_message(&app, &visitor, "first").await;

    let disabled = wait_for_endpoint(&app, &admin, &id, 20, |e| e["enabled"] == false).await;
    assert_eq!(disabled["enabled"], false, "{disabled}");
    let reason = text(&disabled["disabled_reason"]);
    assert!(reason.contains("3 tries in a row failed") && reason.contains("500"), "{reason}");
    let log = wait_for_log(&app, &admin, &id, 10, |log| log.iter().all(|d| d["state"] == "failed")).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["state"], "failed", "{log:?}");
    let first = log[0]["event_id"].as_i64().expect("event id");
    assert_eq!(receiver.calls().len(), 3, "no call after it was disabled");

    // Disabled: new events owe it nothing, and nothing is sent again until it is enabled.
    leave_offline_message(&app, &visitor, "while disabled").await;
    let resend = format!("/api/admin/webhooks/{id}/deliveries/{first}/resend");
    let (status, answer) = app.post_json(Some(&admin), &resend, json!({})).await;
    assert_eq!((status, &answer["error"]["code"]), (409, &json!("webhook_disabled")), "{answer}");

    receiver.set_behaviour(Behaviour::default());
    let (status, answer) =
        app.post_json(Some(&admin), &format!("/api/admin/webhooks/{id}/enable"), json!({})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (answer["webhook"]["enabled"].clone(), answer["webhook"]["consecutive_failures"].clone()),
        (json!(true), json!(0))
    );
    assert!(answer["webhook"]["disabled_reason"].is_null());
    let (status, answer) = app.post_json(Some(&admin), &resend, json!({})).await;
    assert_eq!(status, 202, "{answer}");
    assert!(
        receiver.wait_until(Duration::from_secs(10), |_| receiver.taken().get(&first) == Some(&1)).await,
        "sent again"
    );
    leave_offline_message(&app, &visitor, "after").await;
    let log =
        wait_for_log(&app, &admin, &id, 10, |log| log.len() == 2 && log.iter().all(|d| d["state"] == "sent"))
            .await;
    assert_eq!(log.len(), 2, "the event made while disabled owes nothing: {log:?}");
    assert!(log.iter().all(|d| d["state"] == "sent"), "{log:?}");

    let (status, answer) = app
        .post_json(Some(&admin), &format!("/api/admin/webhooks/{id}/deliveries/999999/resend"), json!({}))
        .await;
    assert_eq!((status, &answer["error"]["code"]), (404, &json!("delivery_not_found")), "{answer}");
    app.stop().await;
}

async fn a_call_that_runs_out_of_retries_disables_its_endpoint(backend: Backend) {
    let app = TestApp::spawn_with(backend, |settings| {
        quick(settings);
        settings.webhooks.retry_for_secs = 2;
        settings.webhooks.disable_after_failures = 0;
    })
    .await;
    let admin = app.admin("A1").await;
    let receiver = Receiver::start(Behaviour { always_fail: true, ..Behaviour::default() }).await;
    let id = register(&app, &admin, &receiver, json!(["offline_message"])).await;
    leave_offline_message(&app, &app.visitor().await, "nobody takes it").await;

    let disabled = wait_for_endpoint(&app, &admin, &id, 20, |e| e["enabled"] == false).await;
    let reason = text(&disabled["disabled_reason"]);
    assert!(reason.contains("failed for 2 s"), "{reason}");
    let log = deliveries(&app, &admin, &id).await;
    assert_eq!(
        (log[0]["state"].clone(), log[0]["last_status"].clone()),
        (json!("failed"), json!(500)),
        "{log:?}"
    );
    // Retries are shown by the first test; here a loaded machine may make the first try late.
    assert!(!receiver.calls().is_empty(), "tried before giving up");
    app.stop().await;
}

async fn private_targets_and_bad_input_are_refused_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend.clone()).await;
    let admin = app.admin("A1").await;
    let refused = |answer: &(u16, Value), field: &str| {
        assert_eq!(answer.0, 400, "{}", answer.1);
        assert_eq!(answer.1["error"]["field"], field, "{}", answer.1);
    };
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/",
        "http://[::ffff:192.168.0.1]/",
    ] {
        let answer = register_raw(&app, &admin, json!({"url": url, "events": "*"})).await;
        refused(&answer, "url");
        assert!(text(&answer.1["error"]["message"]).contains("private"), "{url}: {}", answer.1);
    }
    for (body, field) in [
        (json!({"url": "ftp://example.com/", "events": "*"}), "url"),
        (json!({"url": "https://user:pw@example.com/", "events": "*"}), "url"),
        (json!({"events": "*"}), "url"),
        (json!({"url": "https://example.com/"}), "events"),
        (json!({"url": "https://example.com/", "events": "chat.queued"}), "events"),
        (json!({"url": "https://example.com/", "events": [1]}), "events"),
        (json!({"url": "https://example.com/", "events": "*", "secret": "short"}), "secret"),
    ] {
        refused(&register_raw(&app, &admin, body).await, field);
    }
    let agent = app.agent("E1", 1).await;
    let (status, _) = register_raw(&app, &agent, json!({"url": "https://example.com/", "events": "*"})).await;
    assert_eq!(status, 403);
    let (status, answer) = app.get_json(Some(&admin), "/api/admin/webhooks").await;
    assert_eq!((status, answer["webhooks"].as_array().map(Vec::len)), (200, Some(0)), "nothing stored");
    app.stop().await;

    // Registered while allowed; then the setting is off: the call is checked at send time.
    let db = TestDb::new(&backend);
    let receiver = Receiver::start(Behaviour::default()).await;
    let allowed = TestApp::start(db.clone(), quick).await;
    let admin = allowed.admin("A1").await;
    let id = register(&allowed, &admin, &receiver, json!("*")).await;
    let answer = allowed
        .post_json(Some(&admin), &format!("/api/admin/webhooks/{id}"), json!({"url": "http://10.0.0.1/"}))
        .await;
    assert_eq!(answer.0, 200, "allowed: {}", answer.1);
    let answer = allowed
        .post_json(Some(&admin), &format!("/api/admin/webhooks/{id}"), json!({"url": receiver.url}))
        .await;
    assert_eq!(answer.0, 200, "{}", answer.1);
    allowed.stop().await;
    let strict = TestApp::start(db, |settings| {
        quick(settings);
        settings.webhooks.allow_private_targets = false;
    })
    .await;
    let admin = strict.login("A1", "correct horse battery").await.expect("admin logs in");
    let answer = strict
        .post_json(Some(&admin), &format!("/api/admin/webhooks/{id}"), json!({"url": receiver.url}))
        .await;
    refused(&answer, "url");
    leave_offline_message(&strict, &strict.visitor().await, "to a private address").await;
    let log = wait_for_log(&strict, &admin, &id, 10, |log| log.iter().any(|d| d["state"] == "failed")).await;
    assert_eq!(log[0]["state"], "failed", "{log:?}");
    assert!(text(&log[0]["last_error"]).contains("private"), "{log:?}");
    assert!(receiver.calls().is_empty(), "no call reached the private address");
    strict.stop().await;
}

/// The server binary on `db`, with `env`; its address once it listens.
fn spawn_server(db: &TestDb, env: &[(&str, &str)]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["--config", "/nonexistent/config.toml", "serve"])
        .env("SWITCHBOARD_STORE__URL", &db.url)
        .env("SWITCHBOARD_SERVER__PORT", "0")
        .env("SWITCHBOARD_SERVER__WORKERS", "1")
        .env("SWITCHBOARD_LIMITS__REQUESTS_PER_IP_PER_SEC", "0")
        .env("SWITCHBOARD_LIMITS__VISITORS_PER_IP_PER_MINUTE", "0")
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the server");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let port = loop {
        let line = lines.next().expect("the server logs until it listens").expect("a log line");
        if let Some((_, rest)) = line.split_once("listening on ") {
            let address = rest.split(';').next().expect("address");
            break address.rsplit(':').next().expect("port").to_string();
        }
    };
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, format!("http://127.0.0.1:{port}"))
}

/// The webhook rows of the store as `(event id, state)`, read with the server down.
async fn outbox_rows(db: &TestDb, endpoint: &str) -> Vec<(i64, String)> {
    let settings = switchboard::config::StoreSettings { url: db.url.clone(), ..Default::default() };
    let store = tokio::task::spawn_blocking(move || store::Store::open(&settings))
        .await
        .expect("join")
        .expect("store opens");
    let endpoint = endpoint.to_string();
    let rows = store
        .run(move |conn| {
            store::outbox::newest_for(conn, "webhook", &endpoint, None, 1000).map_err(StoreError::from)
        })
        .await
        .expect("read the outbox");
    rows.into_iter().map(|row| (row.event_pos.expect("an event"), row.state)).collect()
}

async fn a_kill_9_mid_sending_loses_no_call_and_sends_none_marked_sent_again(backend: Backend) {
    const EVENTS: usize = 40;
    let db = TestDb::new(&backend);
    // Slow: 8 calls in flight take 300 ms each, so the kill lands among them.
    let receiver =
        Receiver::start(Behaviour { delay: Duration::from_millis(300), ..Behaviour::default() }).await;
    let env = [
        ("SWITCHBOARD_WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true"),
        ("SWITCHBOARD_WEBHOOKS__TIMEOUT_SECS", "1"),
        ("SWITCHBOARD_WEBHOOKS__FIRST_RETRY_MS", "100"),
        ("SWITCHBOARD_OUTBOX__LEASE_SECS", "2"),
    ];
    let (mut first, address) = spawn_server(&db, &env);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");
    let app = WireClient { address, client: client.clone() };
    let setup = json!({"employee_id": "A1", "name": "Admin", "password": "correct horse battery"});
    let (status, answer) = app.post_json(None, "/api/setup", setup).await;
    assert_eq!(status, 201, "{answer}");
    let admin = Participant { id: text(&answer["agent_id"]), token: text(&answer["token"]) };
    let id = register(&app, &admin, &receiver, json!(["offline_message"])).await;
    let visitor = app.visitor().await;
    for n in 0..EVENTS {
        leave_offline_message(&app, &visitor, &format!("message {n}")).await;
    }
    assert!(receiver.wait_until(Duration::from_secs(20), |calls| calls.len() >= 12).await, "calls began");
    first.kill().expect("kill -9");
    first.wait().expect("the server is gone");
    let calls_before_kill = receiver.calls().len();

    let rows = outbox_rows(&db, &id).await;
    assert_eq!(rows.len(), EVENTS, "one row per event, written with it");
    let sent_before: BTreeSet<i64> =
        rows.iter().filter(|(_, state)| state == "sent").map(|(id, _)| *id).collect();
    let taken_before: BTreeSet<i64> = receiver.taken().keys().copied().collect();
    assert!(
        !sent_before.is_empty() && sent_before.len() < EVENTS,
        "killed mid-sending: {} sent",
        sent_before.len()
    );
    assert!(taken_before.len() > sent_before.len(), "some calls were taken but not yet marked sent");

    let (mut second, address) = spawn_server(&db, &env);
    let all: BTreeSet<i64> = rows.iter().map(|(id, _)| *id).collect();
    let everything = receiver
        .wait_until(Duration::from_secs(30), |_| {
            receiver.taken().keys().copied().collect::<BTreeSet<_>>() == all
        })
        .await;
    let app = WireClient { address, client };
    let log = wait_for_log(&app, &admin, &id, 10, |log| log.iter().all(|d| d["state"] == "sent")).await;
    let _ = second.kill();
    let _ = second.wait();
    assert!(everything, "every event delivered after the restart: {} of {EVENTS}", receiver.taken().len());
    assert!(log.iter().all(|d| d["state"] == "sent") && log.len() == EVENTS, "{log:?}");

    let after: Vec<i64> = receiver.calls()[calls_before_kill..].iter().map(|call| call.id).collect();
    let again: Vec<&i64> = after.iter().filter(|id| sent_before.contains(id)).collect();
    assert!(again.is_empty(), "rows marked sent were sent again: {again:?}");
    let taken = receiver.taken();
    let twice: BTreeSet<i64> = taken.iter().filter(|(_, &n)| n > 1).map(|(id, _)| *id).collect();
    assert!(
        twice.is_subset(&taken_before.difference(&sent_before).copied().collect()),
        "only calls in flight at the kill come twice: {twice:?}"
    );
}
