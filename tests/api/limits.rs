//! Caps: past a limit the answer is a clear 503, and what was admitted keeps working.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{seqs_of, text, Backend, TestApp};
use crate::on_every_backend;

on_every_backend!(past_the_held_poll_cap_a_poll_gets_503_and_held_polls_keep_working);

async fn past_the_held_poll_cap_a_poll_gets_503_and_held_polls_keep_working(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.server.max_held_polls = 2).await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    let (_, visitor_cursor) = crate::helpers::drain(&app, &visitor, "", &chat, 1).await;
    let (_, agent_cursor) = crate::helpers::drain(&app, &agent, "", &chat, 1).await;
    let outsider = app.visitor().await;

    let held_visitor = app.poll(&visitor, &visitor_cursor, Some(30));
    let held_agent = app.poll(&agent, &agent_cursor, Some(30));
    let probe = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let refused = app.poll_raw(&outsider, "", Some(0), None).await;
        let status = refused.status().as_u16();
        let retry_after = refused.headers().get("retry-after").cloned();
        let body: Value = refused.json().await.expect("json");
        // The admitted polls still get their messages.
        app.send(&visitor, &chat, "m1", "hello").await;
        (status, retry_after, text(&body["error"]["code"]))
    };
    let (visitor_answer, agent_answer, (status, retry_after, code)) =
        tokio::join!(held_visitor, held_agent, probe);
    assert_eq!((status, code.as_str()), (503, "too_many_polls"));
    assert!(retry_after.is_some());
    assert_eq!(seqs_of(&visitor_answer.events, &chat), vec![2]);
    assert_eq!(seqs_of(&agent_answer.events, &chat), vec![2]);
    // Once they are answered, there is room again.
    assert_eq!(app.poll_raw(&outsider, "", Some(0), None).await.status(), 200);
}
