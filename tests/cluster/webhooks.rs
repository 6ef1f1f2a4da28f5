//! Two nodes share the outbox: each sends webhook calls, and no call is made by both (their
//! claims take rows with `FOR UPDATE SKIP LOCKED`).

use std::time::Duration;

use serde_json::json;

use crate::support::{text, Cluster};
use crate::webhook_receiver::{Behaviour, Receiver};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_send_every_call_once_between_them() {
    const EVENTS: usize = 60;
    let settings = [("SWITCHBOARD_WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true")];
    let Some(cluster) = Cluster::start_with(2, &settings).await else { return };
    // Slow enough that both nodes' senders have rows in flight at once.
    let receiver =
        Receiver::start(Behaviour { delay: Duration::from_millis(100), ..Behaviour::default() }).await;
    let admin = cluster.setup_admin().await;
    let hook = json!({"url": receiver.url, "events": ["offline_message"]});
    let (status, made) = cluster.node(0).post_json(Some(&admin), "/api/admin/webhooks", hook).await;
    assert_eq!(status, 201, "{made}");
    receiver.set_secret(&text(&made["webhook"]["secret"]));

    for n in 0..EVENTS {
        let node = cluster.node(n % 2);
        let visitor = node.visitor().await;
        let message = json!({"name": "Ana", "email": "ana@example.com", "body": format!("message {n}")});
        let (status, answer) = node.post_json(Some(&visitor), "/api/offline-messages", message).await;
        assert_eq!(status, 201, "{answer}");
    }
    let all = receiver.wait_until(Duration::from_secs(60), |_| receiver.taken().len() == EVENTS).await;
    assert!(all, "every call made: {} of {EVENTS}", receiver.taken().len());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let calls = receiver.calls();
    assert!(calls.iter().all(|call| call.signed), "every call signed");
    let twice: Vec<_> = receiver.taken().into_iter().filter(|(_, times)| *times > 1).collect();
    assert!(twice.is_empty(), "calls made twice: {twice:?}");
    assert_eq!(calls.len(), EVENTS, "no call made twice, none retried");
}
