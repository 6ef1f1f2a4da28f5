//! `GET /metrics`: Prometheus text that moves with what happens (held polls, chats by state,
//! messages, store latency, limits hit), served only to `metrics.allowed_from`.

use std::time::Duration;

use switchboard::domain::AddressList;

use crate::helpers::{Backend, TestApp};
use crate::on_every_backend;

/// Taken by every test for its whole run: a server of another test would count too.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

on_every_backend!(metrics_follow_polls_chats_messages_and_limits);

/// The value of the sample `name` (with its labels exactly as rendered), if present.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

async fn scrape(app: &TestApp) -> String {
    let response = app.client.get(app.url("/metrics")).send().await.expect("request");
    assert_eq!(response.status(), 200);
    let kind = response.headers()["content-type"].to_str().expect("ascii").to_string();
    assert!(kind.starts_with("text/plain"), "{kind}");
    response.text().await.expect("text")
}

/// The counter `name` (labels as rendered); 0 before its first increment.
fn counter(text: &str, name: &str) -> f64 {
    sample(text, name).unwrap_or(0.0)
}

const VISITOR_MESSAGES: &str = r#"switchboard_messages_total{from="visitor"}"#;
const AGENT_MESSAGES: &str = r#"switchboard_messages_total{from="agent"}"#;
const POLLS_REFUSED: &str = r#"switchboard_limits_hit_total{limit="max_held_polls"}"#;

async fn metrics_follow_polls_chats_messages_and_limits(backend: Backend) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let app = TestApp::spawn_with(backend, |settings| settings.server.max_held_polls = 1).await;
    let before = scrape(&app).await;

    let agent = app.online_agent("metrics-agent", 5).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    app.send(&visitor, &chat, "m-1", "hello").await;
    app.send(&visitor, &chat, "m-1", "hello").await; // a repeat is not a new message
    app.send(&agent, &chat, "a-1", "hi").await;

    // One poll held (the cap is 1) by a visitor with nothing to receive, a second refused.
    let (idle, other) = (app.visitor().await, app.visitor().await);
    let held = {
        let (url, token) = (app.url("/poll"), idle.token.clone());
        tokio::spawn(async move {
            reqwest::Client::new().get(format!("{url}?timeout=5&cursor=")).bearer_auth(token).send().await
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let text = loop {
        let text = scrape(&app).await;
        if sample(&text, "switchboard_held_polls") == Some(1.0) || std::time::Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(sample(&text, "switchboard_held_polls"), Some(1.0), "{text}");
    let refused = app.poll_raw(&other, "", Some(1), None).await;
    assert_eq!(refused.status(), 503);

    let text = scrape(&app).await;
    assert_eq!(sample(&text, r#"switchboard_chats{state="open"}"#), Some(1.0), "{text}");
    assert_eq!(sample(&text, r#"switchboard_chats{state="queued"}"#), Some(0.0), "{text}");
    for (name, moved) in [(VISITOR_MESSAGES, 1.0), (AGENT_MESSAGES, 1.0), (POLLS_REFUSED, 1.0)] {
        let (was, is) = (counter(&before, name), counter(&text, name));
        assert_eq!(is - was, moved, "{name} went from {was} to {is}");
    }
    assert!(
        sample(&text, r#"switchboard_store_seconds_count{op="write"}"#).is_some_and(|n| n > 0.0),
        "{text}"
    );
    assert!(sample(&text, r#"switchboard_store_seconds_bucket{op="read",le="+Inf"}"#).is_some(), "{text}");
    assert_eq!(sample(&text, "switchboard_vitals_up"), Some(1.0));
    held.abort();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_outside_the_allowlist_is_refused() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.metrics.allowed_from = AddressList::parse(&["10.0.0.0/8"]).expect("addresses");
    })
    .await;
    let (status, body) = app.get_json(None, "/metrics").await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");
    app.stop().await;
}
