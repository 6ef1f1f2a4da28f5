//! Presence is a lease renewed by polling, with a grace for reloads; ends without a click.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{keep_polling, quick_timers, text, Backend, Participant, TestApp};
use crate::on_every_backend;

on_every_backend!(
    an_agent_that_stops_polling_goes_offline_then_its_chat_goes_to_another_agent,
    a_reload_inside_the_grace_keeps_the_agent_online_and_its_chats,
    a_visitor_who_leaves_the_site_ends_the_chat_with_visitor_left,
    a_chat_without_messages_closes_for_inactivity,
    a_queued_visitor_who_never_returns_after_a_restart_is_closed_as_visitor_left,
    a_waiting_chat_drains_once_an_agent_has_room_even_without_a_wake_up,
);

fn after(seconds: f64) -> Instant {
    Instant::now() + Duration::from_secs_f64(seconds)
}

async fn listed(app: &TestApp, who: &Participant) -> Vec<String> {
    let body: Value = app
        .client
        .get(app.url("/api/agents"))
        .bearer_auth(&who.token)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    body["agents"].as_array().expect("agents").iter().map(|a| text(&a["agent_id"])).collect()
}

fn closed_reason(events: &[Value], chat: &str) -> Option<String> {
    events.iter().find(|e| e["chat_id"] == chat && e["type"] == "chat.closed").map(|e| text(&e["reason"]))
}

async fn an_agent_that_stops_polling_goes_offline_then_its_chat_goes_to_another_agent(backend: Backend) {
    let app = TestApp::spawn_with(backend, quick_timers).await;
    let ann = app.online_agent("E1", 1).await;
    let bob = app.online_agent("E2", 1).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &ann).await;

    // Ann stops polling; Bob and the visitor keep going.
    let watch = async {
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let offline = !listed(&app, &visitor).await.contains(&ann.id);
        let still_hers = app.chat_state(&chat).await.1 == Some(ann.id.clone());
        (offline, still_hers)
    };
    let (visitor_events, _, (offline, still_hers)) =
        tokio::join!(keep_polling(&app, &visitor, after(4.0)), keep_polling(&app, &bob, after(4.0)), watch);
    assert!(offline, "past the lease Ann is not offered to visitors");
    assert!(still_hers, "inside the grace Ann keeps her chat");

    assert_eq!(app.chat_state(&chat).await, ("open".to_string(), Some(bob.id.clone())));
    let in_chat: Vec<&Value> = visitor_events.iter().filter(|e| e["chat_id"] == chat.as_str()).collect();
    let system = in_chat.iter().position(|e| e["type"] == "message" && e["from"] == "system");
    let to_bob = in_chat
        .iter()
        .position(|e| e["type"] == "chat.assigned" && e["agent"]["agent_id"] == bob.id.as_str());
    assert!(matches!((system, to_bob), (Some(s), Some(b)) if s < b), "{in_chat:?}");
    let loads = app.services.list_agents().await.expect("agents");
    assert_eq!(loads.iter().map(|a| a.active_chats).collect::<Vec<_>>(), vec![0, 1]);
}

async fn a_reload_inside_the_grace_keeps_the_agent_online_and_its_chats(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        quick_timers(s);
        s.presence.grace_secs = 3;
    })
    .await;
    let ann = app.online_agent("E1", 1).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &ann).await;

    // Ann's page reloads: no poll for 2 s (past the 1 s lease, inside lease + 3 s grace).
    let reload = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        app.poll(&ann, "", Some(0)).await;
        listed(&app, &visitor).await.contains(&ann.id)
    };
    let (visitor_events, back_online) = tokio::join!(keep_polling(&app, &visitor, after(3.0)), reload);
    assert!(back_online);
    assert_eq!(app.chat_state(&chat).await, ("open".to_string(), Some(ann.id.clone())));
    assert!(!visitor_events.iter().any(|e| e["from"] == "system"), "no hand-back happened");
}

async fn a_visitor_who_leaves_the_site_ends_the_chat_with_visitor_left(backend: Backend) {
    let app = TestApp::spawn_with(backend, quick_timers).await;
    let ann = app.online_agent("E1", 1).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &ann).await;
    let agent_events = keep_polling(&app, &ann, after(4.0)).await;
    assert_eq!(closed_reason(&agent_events, &chat).as_deref(), Some("visitor_left"));
    assert_eq!(app.services.list_agents().await.expect("agents")[0].active_chats, 0);
}

async fn a_chat_without_messages_closes_for_inactivity(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        quick_timers(s);
        s.chat.inactivity_secs = 1;
    })
    .await;
    let ann = app.online_agent("E1", 1).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &ann).await;
    let (visitor_events, _) =
        tokio::join!(keep_polling(&app, &visitor, after(3.0)), keep_polling(&app, &ann, after(3.0)));
    assert_eq!(closed_reason(&visitor_events, &chat).as_deref(), Some("inactivity"));
}

async fn a_queued_visitor_who_never_returns_after_a_restart_is_closed_as_visitor_left(backend: Backend) {
    let first = TestApp::spawn(backend).await;
    let ann = first.online_agent("E1", 1).await;
    first.start_chat(&first.visitor().await, &ann).await;
    let waiting = first.visitor().await;
    let response = first.start_any_raw(&waiting).await;
    let chat = text(&response.json::<Value>().await.expect("json")["chat_id"]);
    assert_eq!(first.chat_state(&chat).await.0, "queued");
    let db = first.db.clone();
    first.stop().await;

    // After the restart only Ann comes back; the waiting visitor never polls again.
    let second = TestApp::start(db, quick_timers).await;
    keep_polling(&second, &ann, after(3.5)).await;
    let id = switchboard::domain::ChatId::parse(&chat, "chat_id").expect("a chat id");
    let row = second
        .services
        .store
        .run(move |conn| {
            switchboard::store::chats::find(conn, id).map_err(switchboard::store::StoreError::from)
        })
        .await
        .expect("store")
        .expect("chat");
    assert_eq!((row.status.as_str(), row.close_reason.as_deref()), ("closed", Some("visitor_left")));
}

async fn a_waiting_chat_drains_once_an_agent_has_room_even_without_a_wake_up(backend: Backend) {
    let app = TestApp::spawn_with(backend, quick_timers).await;
    let ann = app.online_agent("E1", 1).await;
    let first = app.visitor().await;
    app.start_chat(&first, &ann).await;
    let waiting = app.visitor().await;
    let chat = text(&app.start_any_raw(&waiting).await.json::<Value>().await.expect("json")["chat_id"]);

    // Room appears behind the services' back: nothing wakes the queue but the timer round.
    app.services
        .store
        .run(|conn| {
            switchboard::store::agents::set_max_chats(conn, "E1", 2)
                .map_err(switchboard::store::StoreError::from)
        })
        .await
        .expect("store");
    let until = after(1.5);
    tokio::join!(
        keep_polling(&app, &ann, until),
        keep_polling(&app, &waiting, until),
        keep_polling(&app, &first, until)
    );
    assert_eq!(app.chat_state(&chat).await, ("open".to_string(), Some(ann.id.clone())));
}
