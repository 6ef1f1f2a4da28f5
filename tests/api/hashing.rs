//! Password hashing runs on a few threads behind a bounded queue (`auth.hashing_threads`,
//! `auth.hashing_queue`): a burst of logins past the queue is refused at once with
//! `503 hashing_busy` and `Retry-After`, never queued without bound, and what is refused changes
//! nothing.

use futures_util::future::join_all;
use serde_json::json;

use switchboard::domain::AddressList;

use crate::helpers::{Backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_past_the_hashing_queue_get_503_hashing_busy_and_a_retry_succeeds() {
    let app = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.auth.hashing_threads = 1;
        settings.auth.hashing_queue = 1;
        // The login throttle counts a login in flight; here only hashing may refuse.
        settings.limits.exempt = AddressList::parse(&["127.0.0.0/8"]).expect("addresses");
    })
    .await;
    // Ten agents, six logins each: under the per-ID throttle (10 at a time), which would refuse
    // a burst for one ID with 429 before hashing is asked.
    let ids: Vec<String> = (0..10).map(|n| format!("A{}", 100 + n)).collect();
    for id in &ids {
        app.agent(id, 1).await;
    }
    let url = app.url("/api/agent/login");
    let attempts = (0..60).map(|n| {
        let login = json!({"employee_id": ids[n % ids.len()], "password": "correct horse battery"});
        let request = app.client.post(&url).json(&login);
        async move {
            let response = request.send().await.expect("answered");
            let status = response.status().as_u16();
            let retry_after =
                response.headers().get("retry-after").map(|v| v.to_str().unwrap_or("").to_owned());
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            (status, retry_after, body)
        }
    });
    let answers = join_all(attempts).await;
    let mut logged_in = 0;
    let mut busy = 0;
    for (status, retry_after, body) in &answers {
        match status {
            200 => {
                assert!(body["token"].is_string(), "{body}");
                logged_in += 1;
            }
            503 => {
                assert_eq!(body["error"]["code"], "hashing_busy", "{body}");
                assert_eq!(retry_after.as_deref(), Some("1"), "{body}");
                busy += 1;
            }
            other => panic!("login answered {other}: {body}"),
        }
    }
    println!("60 logins at once, 1 hashing thread, queue 1: {logged_in} logged in, {busy} refused busy");
    assert!(logged_in >= 1, "the first login always gets a thread");
    assert!(busy >= 1, "60 logins at once cannot all fit one thread and a queue of one");
    // Once the burst is over the same login goes through.
    assert!(app.login("A100", "correct horse battery").await.is_ok(), "a retry logs in");
    app.stop().await;
}
