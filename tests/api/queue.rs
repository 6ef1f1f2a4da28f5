//! "Any agent": least-loaded assignment, the waiting queue, its positions, and its draining.

use serde_json::Value;

use crate::helpers::{seqs_of, text, Backend, Participant, TestApp};
use crate::on_every_backend;

on_every_backend!(
    fifty_simultaneous_starts_against_max_chats_3_assign_3_queue_47_and_drain_in_order,
    with_nobody_online_an_any_agent_start_gets_409_no_agent_online,
    any_agent_means_the_least_loaded_then_the_longest_idle,
    an_agent_coming_online_takes_a_waiting_chat_and_away_takes_none,
    a_visitor_leaving_the_queue_moves_only_those_behind_up,
);

/// `(chat_id, status, position)` of an any-agent start that must succeed.
async fn start_any(app: &TestApp, visitor: &Participant) -> (String, String, Option<i64>) {
    let response = app.start_any_raw(visitor).await;
    assert_eq!(response.status(), 201, "start failed");
    let body: Value = response.json().await.expect("json");
    (text(&body["chat_id"]), text(&body["status"]), body["position"].as_i64())
}

/// Every `chat.queued` position the visitor was told, in order, and whether it was then assigned.
async fn queue_story(app: &TestApp, visitor: &Participant, chat: &str) -> (Vec<i64>, bool) {
    let answer = app.poll(visitor, "", Some(0)).await;
    let seqs = seqs_of(&answer.events, chat);
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "gapless");
    let positions =
        answer.events.iter().filter(|e| e["type"] == "chat.queued").filter_map(|e| e["position"].as_i64());
    let assigned = answer.events.iter().any(|e| e["type"] == "chat.assigned");
    (positions.collect(), assigned)
}

async fn fifty_simultaneous_starts_against_max_chats_3_assign_3_queue_47_and_drain_in_order(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let mut visitors = Vec::new();
    for _ in 0..50 {
        visitors.push(app.visitor().await);
    }
    let starts = futures_util::future::join_all(visitors.iter().map(|v| start_any(&app, v))).await;

    let assigned: Vec<&String> =
        starts.iter().filter(|(_, status, _)| status == "open").map(|(c, _, _)| c).collect();
    assert_eq!(assigned.len(), 3, "exactly max_chats assigned");
    let mut positions: Vec<i64> = starts.iter().filter_map(|(_, _, position)| *position).collect();
    positions.sort_unstable();
    assert_eq!(positions, (1..=47).collect::<Vec<_>>(), "the rest queued at 1..47");
    assert_eq!(app.services.list_agents().await.expect("agents")[0].active_chats, 3);

    // By queue position: index 0 holds position 1.
    let mut waiting: Vec<(usize, &String, i64)> = starts
        .iter()
        .enumerate()
        .filter_map(|(i, (chat, _, position))| position.map(|p| (i, chat, p)))
        .collect();
    waiting.sort_by_key(|(_, _, position)| *position);

    // Each close frees one slot, and the head of the queue takes it.
    let mut open: Vec<String> = assigned.into_iter().cloned().collect();
    for (_, chat, _) in &waiting {
        let closing = open.remove(0);
        assert_eq!(app.close_chat_raw(&agent, &closing).await.status(), 200);
        assert_eq!(app.chat_state(chat).await, ("open".to_string(), Some(agent.id.clone())));
        open.push((*chat).clone());
    }
    // The last one in line was told every position from 47 down to 1, then was assigned.
    let (last_visitor, last_chat, _) = waiting[46];
    let (told, was_assigned) = queue_story(&app, &visitors[last_visitor], last_chat).await;
    assert_eq!(told, (1..=47).rev().collect::<Vec<_>>());
    assert!(was_assigned);
    assert_eq!(app.services.list_agents().await.expect("agents")[0].active_chats, 3);
}

async fn with_nobody_online_an_any_agent_start_gets_409_no_agent_online(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let visitor = app.visitor().await;
    let refused = app.start_any_raw(&visitor).await;
    assert_eq!(refused.status(), 409);
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["error"]["code"], "no_agent_online");

    // An agent who is away does not count as online.
    let agent = app.online_agent("E1", 3).await;
    app.set_status(&agent, "away").await;
    assert_eq!(app.start_any_raw(&visitor).await.status(), 409);
    app.set_status(&agent, "online").await;
    assert_eq!(app.start_any_raw(&visitor).await.status(), 201);
    assert_eq!(app.store_counts().await.chats, 1, "refused starts stored nothing");
}

async fn any_agent_means_the_least_loaded_then_the_longest_idle(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ann = app.online_agent("E1", 3).await;
    let bob = app.online_agent("E2", 3).await;
    let first = app.visitor().await;
    app.start_chat(&first, &ann).await;

    let (chat, status, _) = start_any(&app, &app.visitor().await).await;
    assert_eq!(status, "open");
    assert_eq!(app.chat_state(&chat).await.1, Some(bob.id.clone()), "least loaded");
    // Both hold one chat now; Ann was assigned longest ago.
    let (chat, _, _) = start_any(&app, &app.visitor().await).await;
    assert_eq!(app.chat_state(&chat).await.1, Some(ann.id.clone()), "longest idle");
}

async fn an_agent_coming_online_takes_a_waiting_chat_and_away_takes_none(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ann = app.online_agent("E1", 1).await;
    let (first, second, third) = (app.visitor().await, app.visitor().await, app.visitor().await);
    start_any(&app, &first).await;
    let (waiting, status, position) = start_any(&app, &second).await;
    assert_eq!((status.as_str(), position), ("queued", Some(1)));

    // Bob logs in: his first poll brings him online and hands him the waiting chat.
    let bob = app.agent("E2", 1).await;
    let answer = app.poll(&bob, "", Some(0)).await;
    assert_eq!(seqs_of(&answer.events, &waiting), vec![1, 2]);
    assert_eq!(app.chat_state(&waiting).await.1, Some(bob.id.clone()));

    // Both full, Ann away: the next one waits, and Ann's closing frees no slot for it to take.
    let (queued, status, _) = start_any(&app, &third).await;
    assert_eq!(status, "queued");
    app.set_status(&ann, "away").await;
    let ann_chat = app.poll(&ann, "", Some(0)).await.events[0]["chat_id"].as_str().map(str::to_string);
    let ann_chat = ann_chat.expect("Ann's chat");
    assert_eq!(app.close_chat_raw(&ann, &ann_chat).await.status(), 200);
    assert_eq!(app.chat_state(&queued).await.0, "queued");
    app.set_status(&ann, "online").await;
    assert_eq!(app.chat_state(&queued).await, ("open".to_string(), Some(ann.id.clone())));
}

async fn a_visitor_leaving_the_queue_moves_only_those_behind_up(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 1).await;
    start_any(&app, &app.visitor().await).await;
    let line: Vec<Participant> = vec![app.visitor().await, app.visitor().await, app.visitor().await];
    let mut chats = Vec::new();
    for visitor in &line {
        chats.push(start_any(&app, visitor).await.0);
    }
    assert_eq!(app.close_chat_raw(&line[1], &chats[1]).await.status(), 200);

    assert_eq!(queue_story(&app, &line[0], &chats[0]).await, (vec![1], false));
    assert_eq!(queue_story(&app, &line[2], &chats[2]).await, (vec![3, 2], false));
    let _ = agent;
}
