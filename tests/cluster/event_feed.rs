//! The event feed across nodes: events written through one node are read through another's
//! feed, a reader that stops and resumes (on either node) gets each once, in order, without
//! gaps — also while both nodes write at once —, a held read on one node is woken by an event
//! written through the other, and a key revoked on one node is refused on the other at once.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{text, Cluster, Participant};

/// A key with `events:read`, made by `admin` through node `node`.
async fn new_key(cluster: &Cluster, admin: &Participant, node: usize) -> Participant {
    let (status, made) = cluster
        .node(node)
        .post_json(Some(admin), "/api/admin/integration-keys", json!({"name": "CRM"}))
        .await;
    assert_eq!(status, 201, "{made}");
    Participant { id: text(&made["key"]["key_id"]), token: text(&made["secret"]) }
}

/// One read of the feed through node `node`; status and body.
async fn read(cluster: &Cluster, node: usize, key: &Participant, cursor: &str, query: &str) -> (u16, Value) {
    cluster.node(node).get_json(Some(key), &format!("/api/events?cursor={cursor}&{query}")).await
}

/// A chat between a new visitor (through `node`) and `agent`; the visitor and the chat id.
async fn chat_through(cluster: &Cluster, node: usize, agent: &Participant) -> (Participant, String) {
    let visitor = cluster.node(node).visitor().await;
    let (status, body) =
        cluster.node(node).post_json(Some(&visitor), "/api/chats", json!({"agent_id": agent.id})).await;
    assert_eq!(status, 201, "start: {body}");
    (visitor, text(&body["chat_id"]))
}

/// Reads pages (held up to 1 s) through `nodes` in turn until `stop` says the events read so
/// far are enough or 30 s pass; every event read and the last cursor.
async fn read_until(
    cluster: &Cluster,
    nodes: &[usize],
    key: &Participant,
    mut cursor: String,
    limit: u32,
    stop: impl Fn(&[Value]) -> bool,
) -> (Vec<Value>, String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut events = Vec::new();
    let mut turn = 0;
    while !stop(&events) && Instant::now() < deadline {
        let node = nodes[turn % nodes.len()];
        turn += 1;
        let (status, body) = read(cluster, node, key, &cursor, &format!("limit={limit}&timeout=1")).await;
        assert_eq!(status, 200, "{body}");
        events.extend(body["events"].as_array().expect("events").clone());
        cursor = text(&body["cursor"]);
    }
    (events, cursor)
}

fn ids(events: &[Value]) -> Vec<i64> {
    events.iter().map(|event| event["id"].as_i64().expect("id")).collect()
}

/// The bodies of the `message` events, each with how often it came.
fn message_counts(events: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for event in events.iter().filter(|event| event["type"] == "message") {
        *counts.entry(text(&event["data"]["body"])).or_default() += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_on_one_node_gets_every_event_written_through_another_once() {
    let Some(cluster) = Cluster::start(2).await else { return };
    let admin = cluster.setup_admin().await;
    let agent = cluster.agent(&admin, 0, "E1", 10).await;
    cluster.node(0).poll(&agent, "", Some(0)).await;
    cluster.node(1).poll(&agent, "", Some(0)).await;
    // Made through B, used through A and B.
    let key = new_key(&cluster, &admin, 1).await;

    // Written through A: a chat, three messages, closed and rated, an offline message.
    let (ann, first) = chat_through(&cluster, 0, &agent).await;
    for n in 0..3 {
        cluster.node(0).send(&ann, &first, &format!("a{n}"), &format!("ann {n}")).await;
    }
    let (status, _) =
        cluster.node(0).post_json(Some(&ann), &format!("/api/chats/{first}/close"), json!({})).await;
    assert_eq!(status, 200);
    let (status, body) = cluster
        .node(0)
        .post_json(Some(&ann), &format!("/api/chats/{first}/rating"), json!({"score": 4}))
        .await;
    assert_eq!(status, 201, "{body}");
    let dana = cluster.node(0).visitor().await;
    let offline = json!({"name": "Dana", "email": "dana@example.com", "body": "call me"});
    let (status, body) = cluster.node(0).post_json(Some(&dana), "/api/offline-messages", offline).await;
    assert_eq!(status, 201, "{body}");

    // The reader, on B, reads three events and stops.
    let (mut seen, cursor) = read_until(&cluster, &[1], &key, String::new(), 3, |e| e.len() >= 3).await;
    assert_eq!(ids(&seen), [1, 2, 3]);

    // While it is away, both nodes write at once: two chats, 15 messages through each node.
    let (bob, through_a) = chat_through(&cluster, 0, &agent).await;
    let (cleo, through_b) = chat_through(&cluster, 1, &agent).await;
    let writes_a = async {
        for n in 0..15 {
            cluster.node(0).send(&bob, &through_a, &format!("b{n}"), &format!("bob {n}")).await;
        }
    };
    let writes_b = async {
        for n in 0..15 {
            cluster.node(1).send(&cleo, &through_b, &format!("c{n}"), &format!("cleo {n}")).await;
        }
    };
    // And a second reader follows live on both nodes while they write, from where the first
    // stopped: it must not skip an event a commit of the other node numbered earlier.
    let live = read_until(&cluster, &[0, 1], &key, cursor.clone(), 4, |events| {
        let counts = message_counts(events);
        counts.keys().filter(|body| body.starts_with("bob") || body.starts_with("cleo")).count() == 30
    });
    let ((), (), (live_events, _)) = tokio::join!(writes_a, writes_b, live);

    // The first reader comes back, on A then B in turn, in pages of 5.
    let (resumed, _) = read_until(&cluster, &[0, 1], &key, cursor, 5, |events| {
        events.iter().filter(|event| event["type"] == "message").count() >= 33
    })
    .await;
    seen.extend(resumed);
    for (reader, events) in [("resumed", &seen), ("live", &[&seen[..3], &live_events[..]].concat())] {
        let numbers = ids(events);
        let last = *numbers.last().expect("events");
        assert_eq!(numbers, (1..=last).collect::<Vec<_>>(), "{reader}: once each, in order, no gap");
        let counts = message_counts(events);
        assert_eq!(counts.len(), 33, "{reader}: {counts:?}");
        assert!(counts.values().all(|&n| n == 1), "{reader}: a message twice: {counts:?}");
        // Each chat's own events in seq order.
        for chat in [&first, &through_a, &through_b] {
            let seqs: Vec<i64> = events
                .iter()
                .filter(|e| e["chat_id"] == chat.as_str() && !e["seq"].is_null())
                .map(|e| e["seq"].as_i64().expect("seq"))
                .collect();
            assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{reader}: chat {chat} seqs {seqs:?}");
        }
    }
    for kind in ["chat.started", "chat.assigned", "chat.closed", "rating", "offline_message"] {
        assert!(seen.iter().any(|e| e["type"] == kind), "a {kind} event");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_held_on_one_node_is_answered_by_an_event_written_through_the_other() {
    let Some(cluster) = Cluster::start(2).await else { return };
    let admin = cluster.setup_admin().await;
    let agent = cluster.agent(&admin, 0, "E1", 10).await;
    cluster.node(0).poll(&agent, "", Some(0)).await;
    let key = new_key(&cluster, &admin, 0).await;
    let (visitor, chat) = chat_through(&cluster, 0, &agent).await;
    let (_, cursor) = read_until(&cluster, &[1], &key, String::new(), 100, |e| e.len() >= 2).await;

    for (what, write) in [("a message", 0), ("an offline message", 1)] {
        let (status, body) = read(&cluster, 1, &key, &cursor, "timeout=0").await;
        assert_eq!(status, 200, "{body}");
        let cursor = text(&body["cursor"]);
        let held = async {
            let (status, body) = read(&cluster, 1, &key, &cursor, "timeout=20").await;
            (Instant::now(), status, body)
        };
        let written = async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let at = Instant::now();
            if write == 0 {
                cluster.node(0).send(&visitor, &chat, "v1", "hello from A").await;
            } else {
                let other = cluster.node(0).visitor().await;
                let fields = json!({"name": "Eve", "email": "eve@example.com", "body": "later"});
                let (status, body) =
                    cluster.node(0).post_json(Some(&other), "/api/offline-messages", fields).await;
                assert_eq!(status, 201, "{body}");
            }
            at
        };
        let ((answered, status, body), written_at) = tokio::join!(held, written);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "ok", "{what}: {body}");
        let latency = answered.saturating_duration_since(written_at);
        eprintln!("feed across nodes: {what} through A answered the read held on B after {latency:?}");
        // A chat event wakes B through Redis; an offline message is found by B's own look at
        // the store, once a second.
        assert!(latency < Duration::from_secs(3), "{what}: the held read was not answered: {latency:?}");
    }

    // Revoked through A: refused through B at once.
    let revoke = format!("/api/admin/integration-keys/{}/revoke", key.id);
    let (status, body) = cluster.node(0).post_json(Some(&admin), &revoke, json!({})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = read(&cluster, 1, &key, "", "timeout=0").await;
    assert_eq!((status, &body["error"]["code"]), (401, &json!("unauthorized")), "{body}");
}
