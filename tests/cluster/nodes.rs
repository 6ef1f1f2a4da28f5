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
        cluster.node(start_on).post_json(Some(visitor), "/api/chats", json!({"agent_id": agent.id})).await;
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
        let answer = cluster.node(node).poll(who, cursor, Some(2)).await;
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
    cluster.node(2).poll(&agent, "", Some(0)).await;
    let visitor = cluster.node(0).visitor().await;
    let chat_id = chat_between(&cluster, &visitor, &agent, 0).await;
    let mut cursor = cluster.node(0).poll(&visitor, "", Some(0)).await.cursor;

    // The visitor holds a poll on A; the agent sends through B.
    let held = {
        let (cluster_ref, visitor, cursor) = (&cluster, visitor.clone(), cursor.clone());
        async move {
            let answer = cluster_ref.node(0).poll(&visitor, &cursor, Some(20)).await;
            (Instant::now(), answer)
        }
    };
    let send = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let sent_at = Instant::now();
        cluster.node(1).send(&agent, &chat_id, "m-0", "hello from B").await;
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
            cluster.node(n % 3).send(&agent, &chat_id, &format!("m-{n}"), &format!("message {n}")).await;
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
    cluster.node(1).poll(&agent, "", Some(0)).await;
    let mut visitors = Vec::new();
    for n in 0..50 {
        visitors.push(cluster.node(n % 3).visitor().await);
    }
    let starts = visitors.iter().enumerate().map(|(n, visitor)| {
        let cluster = &cluster;
        let agent_id = agent.id.clone();
        async move {
            cluster.node(n % 3).post_json(Some(visitor), "/api/chats", json!({"agent_id": agent_id})).await
        }
    });
    let answers = futures_util::future::join_all(starts).await;
    let assigned = answers.iter().filter(|(status, _)| *status == 201).count();
    let full = answers
        .iter()
        .filter(|(status, body)| *status == 409 && body["error"]["code"] == "agent_full")
        .count();
    assert_eq!((assigned, full), (3, 47), "answers: {answers:?}");

    // The agent's poll, on any node, holds exactly those three chats.
    let answer = cluster.node(2).poll(&agent, "", Some(0)).await;
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
    cluster.node(1).poll(&agent, "", Some(0)).await;
    let visitor = cluster.node(0).visitor().await;
    let chat_id = chat_between(&cluster, &visitor, &agent, 0).await;
    let mut cursor = cluster.node(0).poll(&visitor, "", Some(0)).await.cursor;
    for n in 1..=10 {
        cluster.node(1).send(&agent, &chat_id, &format!("m-{n}"), &format!("message {n}")).await;
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
        cluster.node(1 + n % 2).send(&agent, &chat_id, &format!("m-{n}"), &format!("message {n}")).await;
    }
    // The visitor's next polls land on B and C with the cursor it had.
    seen.extend(collect(&cluster, &visitor, &chat_id, &mut cursor, &[1, 2], 10).await);
    let expected: Vec<(i64, String)> = (1..=20).map(|n| (n + 1, format!("message {n}"))).collect();
    assert_eq!(seen, expected, "nothing lost or repeated across the kill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_through_one_node_locks_the_token_out_of_every_node_at_once() {
    let Some(cluster) = Cluster::start(3).await else { return };
    let admin = cluster.setup_admin().await;
    let agent = cluster.agent(&admin, 0, "E1", 5).await;
    // Every node has now trusted the token once (and would for `agent_token_recheck_secs`).
    for node in 0..3 {
        cluster.node(node).poll(&agent, "", Some(0)).await;
    }
    let (status, body) = cluster.node(0).post_json(Some(&agent), "/api/agent/logout", json!({})).await;
    assert_eq!(status, 204, "logout: {body}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    for node in 1..3 {
        let response = cluster
            .client
            .get(format!("{}/poll", cluster.url(node)))
            .bearer_auth(&agent.token)
            .query(&[("timeout", "0")])
            .send()
            .await
            .expect("poll request");
        assert_eq!(response.status(), 401, "node {node} still took the logged-out token");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announcement_between_two_polls_reaches_a_visitor_whose_next_poll_lands_elsewhere() {
    let Some(cluster) = Cluster::start(3).await else { return };
    let admin = cluster.setup_admin().await;
    let (online, never_polled) = (cluster.node(0).visitor().await, cluster.node(0).visitor().await);
    // Online through A; between two polls when the announcement goes out through C.
    let cursor = cluster.node(0).poll(&online, "", Some(0)).await.cursor;
    let (status, body) = cluster
        .node(2)
        .post_json(Some(&admin), "/api/admin/announcements", json!({"body": "Closing at 18:00."}))
        .await;
    assert_eq!(status, 201, "announce: {body}");
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Its next poll lands on B, where it never polled (held: the arrival is recorded beside it).
    let answer = cluster.node(1).poll(&online, &cursor, Some(5)).await;
    let shown: Vec<_> = answer.events.iter().filter(|event| event["type"] == "announcement").collect();
    assert_eq!(shown.len(), 1, "{:?}", answer.events);
    assert_eq!(shown[0]["body"], "Closing at 18:00.");
    // Once: the poll after that, on C, does not show it again.
    let again = cluster.node(2).poll(&online, &answer.cursor, Some(0)).await;
    assert!(again.events.iter().all(|event| event["type"] != "announcement"), "{:?}", again.events);
    // Who was not online when it went out does not get it on arriving.
    let late = cluster.node(1).poll(&never_polled, "", Some(0)).await;
    assert!(late.events.iter().all(|event| event["type"] != "announcement"), "{:?}", late.events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_without_its_redis_is_not_ready_until_redis_is_back() {
    let Some(opt_in) = crate::private::opted_in() else { return };
    let redis = crate::private::PrivateRedis::start();
    let cluster = Cluster::start_on(1, &opt_in.postgres_url, redis.url()).await;
    assert_eq!(cluster.readiness(0).await, 200);
    // Redis killed, down for 4 s, then a new one on the same port.
    let script = redis.restart_script(Duration::from_secs(4));
    let restart = std::thread::spawn(move || std::process::Command::new("sh").arg(&script).status());
    let deadline = Instant::now() + Duration::from_secs(4);
    let mut statuses = Vec::new();
    while Instant::now() < deadline {
        statuses.push(cluster.readiness(0).await);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(restart.join().expect("restart thread").expect("restart script").success());
    assert!(statuses.contains(&503), "never not ready while Redis was down: {statuses:?}");
    let back = Instant::now() + Duration::from_secs(15);
    while cluster.readiness(0).await != 200 {
        assert!(Instant::now() < back, "not ready again after Redis came back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
