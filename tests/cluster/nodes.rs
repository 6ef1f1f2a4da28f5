//! The rules of DESIGN.md across three nodes: delivery across nodes, polls that move between
//! nodes, capacity decided by the store, and a node killed mid-chat.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{messages_of, text, Cluster, Participant};

/// An agent online through `node` (it polled there once) and a visitor in a chat with it,
/// started through `start_on`; returns the chat id.
async fn chat_between(
    cluster: &Cluster,
    visitor: &Participant,
    agent: &Participant,
    start_on: usize,
) -> String {
    let (status, body) =
        cluster.post(start_on, Some(visitor), "/api/chats", json!({"agent_id": agent.id})).await;
    assert_eq!(status, 201, "start: {body}");
    text(&body["chat_id"])
}

/// Polls, echoing the cursor, over `nodes` in turn until `want` messages of `chat_id` arrived
/// (or 20 s passed); every message seen, in arrival order.
async fn collect(
    cluster: &Cluster,
    who: &Participant,
    chat_id: &str,
    cursor: &mut String,
    nodes: &[usize],
    want: usize,
) -> Vec<(i64, String)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    let mut turn = 0;
    while seen.len() < want && Instant::now() < deadline {
        let node = nodes[turn % nodes.len()];
        turn += 1;
        let answer = cluster.poll(node, who, cursor, 2).await;
        seen.extend(messages_of(&answer.events, chat_id));
        *cursor = answer.cursor;
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_through_one_node_wakes_a_poll_held_on_another_and_polls_may_move() {
    let Some(cluster) = Cluster::start(3).await else { return };
    let admin = cluster.setup_admin().await;
    let agent = cluster.agent(&admin, 1, "E1", 5).await;
    // Online through node C; chosen through node A: presence is shared.
    cluster.poll(2, &agent, "", 0).await;
    let visitor = cluster.visitor(0).await;
    let chat_id = chat_between(&cluster, &visitor, &agent, 0).await;
    let mut cursor = cluster.poll(0, &visitor, "", 0).await.cursor;

    // The visitor holds a poll on A; the agent sends through B.
    let held = {
        let (cluster_ref, visitor, cursor) = (&cluster, visitor.clone(), cursor.clone());
        async move {
            let answer = cluster_ref.poll(0, &visitor, &cursor, 20).await;
            (Instant::now(), answer)
        }
    };
    let send = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let sent_at = Instant::now();
        cluster.send(1, &agent, &chat_id, "m-0", "hello from B").await;
        sent_at
    };
    let ((answered_at, answer), sent_at) = tokio::join!(held, send);
    let latency = answered_at.saturating_duration_since(sent_at);
    eprintln!("cross-node wake-up: send through B answered the poll held on A after {latency:?}");
    assert_eq!(messages_of(&answer.events, &chat_id), vec![(2, "hello from B".to_string())]);
    // Woken by the bus, not found at the end of the 20 s hold.
    assert!(latency < Duration::from_secs(2), "the held poll was not woken: {latency:?}");
    cursor = answer.cursor;

    // Thirty more, sent through every node in turn; the visitor's polls go A, B, C, A, …
    let sends = async {
        for n in 1..=30 {
            cluster.send(n % 3, &agent, &chat_id, &format!("m-{n}"), &format!("message {n}")).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let (_, seen) = tokio::join!(sends, collect(&cluster, &visitor, &chat_id, &mut cursor, &[0, 1, 2], 30));
    let expected: Vec<(i64, String)> = (1..=30).map(|n| (n + 2, format!("message {n}"))).collect();
    assert_eq!(seen, expected, "every message once, in order, whichever node answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_starts_over_three_nodes_against_max_chats_3_assign_exactly_3() {
    let Some(cluster) = Cluster::start(3).await else { return };
    let admin = cluster.setup_admin().await;
    let agent = cluster.agent(&admin, 0, "E1", 3).await;
    cluster.poll(1, &agent, "", 0).await;
    let mut visitors = Vec::new();
    for n in 0..50 {
        visitors.push(cluster.visitor(n % 3).await);
    }
    let starts = visitors.iter().enumerate().map(|(n, visitor)| {
        let cluster = &cluster;
        let agent_id = agent.id.clone();
        async move { cluster.post(n % 3, Some(visitor), "/api/chats", json!({"agent_id": agent_id})).await }
    });
    let answers = futures_util::future::join_all(starts).await;
    let assigned = answers.iter().filter(|(status, _)| *status == 201).count();
    let full = answers
        .iter()
        .filter(|(status, body)| *status == 409 && body["error"]["code"] == "agent_full")
        .count();
    assert_eq!((assigned, full), (3, 47), "answers: {answers:?}");

    // The agent's poll, on any node, holds exactly those three chats.
    let answer = cluster.poll(2, &agent, "", 0).await;
    let mut chats: Vec<String> = answer
        .events
        .iter()
        .filter(|event| event["type"] == "chat.assigned")
        .map(|event| text(&event["chat_id"]))
        .collect();
    chats.sort();
    chats.dedup();
    assert_eq!(chats.len(), 3, "{:?}", answer.events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_chat_loses_nothing_and_its_visitor_goes_on_elsewhere() {
    let Some(mut cluster) = Cluster::start(3).await else { return };
    let admin = cluster.setup_admin().await;
    let agent = cluster.agent(&admin, 1, "E1", 5).await;
    cluster.poll(1, &agent, "", 0).await;
    let visitor = cluster.visitor(0).await;
    let chat_id = chat_between(&cluster, &visitor, &agent, 0).await;
    let mut cursor = cluster.poll(0, &visitor, "", 0).await.cursor;
    for n in 1..=10 {
        cluster.send(1, &agent, &chat_id, &format!("m-{n}"), &format!("message {n}")).await;
    }
    let mut seen = collect(&cluster, &visitor, &chat_id, &mut cursor, &[0], 10).await;

    // A poll held on A when A dies; messages keep coming through B meanwhile.
    let held = cluster
        .client
        .get(format!("{}/poll", cluster.url(0)))
        .bearer_auth(&visitor.token)
        .query(&[("cursor", cursor.clone()), ("timeout", "20".to_string())])
        .send();
    let held = tokio::spawn(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.kill(0);
    assert!(held.await.expect("poll task").is_err(), "the killed node's held poll must break");
    for n in 11..=20 {
        cluster.send(1 + n % 2, &agent, &chat_id, &format!("m-{n}"), &format!("message {n}")).await;
    }
    // The visitor's next polls land on B and C with the cursor it had.
    seen.extend(collect(&cluster, &visitor, &chat_id, &mut cursor, &[1, 2], 10).await);
    let expected: Vec<(i64, String)> = (1..=20).map(|n| (n + 1, format!("message {n}"))).collect();
    assert_eq!(seen, expected, "nothing lost or repeated across the kill");
}
