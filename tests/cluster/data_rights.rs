//! An erase through one node of three: the visitor's token is refused by every node at once,
//! and its chat leaves every node's memory after its agent heard it end.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{messages_of, text, Cluster};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erase_through_one_node_locks_the_visitor_out_of_every_node_and_its_chat_leaves_every_memory() {
    let Some(cluster) = Cluster::start(3).await else { return };
    let admin = cluster.setup_admin().await;
    let agent = cluster.agent(&admin, 1, "E1", 1).await;
    cluster.node(1).poll(&agent, "", Some(0)).await;
    let visitor = cluster.node(0).visitor().await;
    let (status, body) =
        cluster.node(2).post_json(Some(&visitor), "/api/chats", json!({"agent_id": agent.id})).await;
    assert_eq!(status, 201, "start: {body}");
    let chat = text(&body["chat_id"]);
    cluster.node(0).send(&visitor, &chat, "m1", "my card is 4111").await;
    // Every node has trusted the visitor's token, and holds the chat (the agent polls each).
    let mut cursor = String::new();
    for node in 0..3 {
        let answer = cluster.node(node).poll(&visitor, "", Some(0)).await;
        assert_eq!(answer.status, "ok", "node {node}");
    }
    for node in [1, 2, 0, 1] {
        let answer = cluster.node(node).poll(&agent, &cursor, Some(0)).await;
        cursor = answer.cursor;
    }

    let (status, body) = cluster
        .node(0)
        .post_json(Some(&admin), &format!("/api/admin/visitors/{}/erase", visitor.id), json!({}))
        .await;
    assert_eq!(status, 200, "erase: {body}");
    tokio::time::sleep(Duration::from_millis(200)).await;

    for node in 0..3 {
        let response = cluster
            .client
            .get(format!("{}/poll", cluster.url(node)))
            .bearer_auth(&visitor.token)
            .query(&[("timeout", "0")])
            .send()
            .await
            .expect("poll request");
        assert_eq!(response.status(), 401, "node {node} still took the erased visitor's token");
    }
    for node in 0..3 {
        // With its cursor from before the erase, the agent hears the end on every node, and
        // nothing else of the chat.
        let answer = cluster.node(node).poll(&agent, &cursor, Some(0)).await;
        let of_chat: Vec<&Value> = answer.events.iter().filter(|e| e["chat_id"] == chat.as_str()).collect();
        assert_eq!(of_chat.len(), 1, "node {node}: {:?}", answer.events);
        assert_eq!(of_chat[0]["type"], "chat.closed", "node {node}");
        assert_eq!(of_chat[0]["reason"], "visitor_erased", "node {node}");
        // A console starting over hears no message of it from any node's memory.
        let fresh = cluster.node(node).poll(&agent, "", Some(0)).await;
        assert!(messages_of(&fresh.events, &chat).is_empty(), "node {node}: {:?}", fresh.events);
        // And once heard, it is gone.
        let after = cluster.node(node).poll(&agent, &answer.cursor, Some(0)).await;
        assert!(
            after.events.iter().all(|e| e["chat_id"] != chat.as_str()),
            "node {node}: {:?}",
            after.events
        );
    }
    // The agent's one slot is free again, through any node.
    let next = cluster.node(2).visitor().await;
    let (status, body) =
        cluster.node(2).post_json(Some(&next), "/api/chats", json!({"agent_id": agent.id})).await;
    assert_eq!(status, 201, "the slot was given back: {body}");
}
