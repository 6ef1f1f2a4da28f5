//! Restarts and graceful shutdown.

use std::time::Duration;

use crate::helpers::{drain, seqs_of, Backend, TestApp};
use crate::on_every_backend;

on_every_backend!(
    after_a_restart_the_old_cursor_resumes_with_nothing_lost_or_repeated,
    shutdown_answers_every_held_poll_at_once,
);

async fn after_a_restart_the_old_cursor_resumes_with_nothing_lost_or_repeated(backend: Backend) {
    let first = TestApp::spawn(backend).await;
    let agent = first.online_agent("E1", 3).await;
    let visitor = first.visitor().await;
    let chat = first.start_chat(&visitor, &agent).await;
    first.send(&visitor, &chat, "m1", "before 1").await;
    first.send(&agent, &chat, "m2", "before 2").await;
    let (seen, cursor) = drain(&first, &visitor, "", &chat, 3).await;
    assert_eq!(seqs_of(&seen, &chat), vec![1, 2, 3]);
    // Sent but not yet polled when the server stops.
    first.send(&agent, &chat, "m3", "before 3, unseen").await;
    let db = first.db.clone();
    first.stop().await;

    let second = TestApp::start(db, |_| {}).await;
    // Tokens, chats and messages survived; the agent comes back online by polling.
    second.poll(&agent, "", Some(0)).await;
    second.send(&visitor, &chat, "m4", "after 1").await;
    // A retried send from before the restart is still recognised.
    let retried = second.send(&agent, &chat, "m3", "before 3, unseen").await;
    assert_eq!(retried, 4);
    let (events, _) = drain(&second, &visitor, &cursor, &chat, 5).await;
    assert_eq!(seqs_of(&events, &chat), vec![4, 5]);
    assert_eq!(events[0]["body"], "before 3, unseen");
    assert_eq!(events[1]["body"], "after 1");
}

async fn shutdown_answers_every_held_poll_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (ann, bob) = (app.visitor().await, app.visitor().await);
    let handle = app.shutdown_handle();
    let stop = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        handle.shutdown().await;
    };
    // Held for 50 s: "shutdown" (not "timeout") proves the stop answered them.
    let (a, b, ()) = tokio::join!(app.poll(&ann, "", Some(50)), app.poll(&bob, "", Some(50)), stop);
    assert_eq!(a.status, "shutdown");
    assert_eq!(b.status, "shutdown");
}
