//! The ban list: agents ban visitors (and their addresses), admins ban addresses; a ban ends the
//! visitor's chats and refuses its requests until lifted or expired. Each visitor's address is
//! set by binding the client to its own 127.0.0.x (all of 127/8 is loopback on Linux).

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use switchboard::domain::{AgentId, BanDuration, Principal, Role, VisitorId};
use switchboard::service::bans::{BanTarget, NewBan};

use crate::helpers::{text, Backend, Participant, TestApp};
use crate::on_every_backend;

on_every_backend!(
    banning_a_visitor_with_its_address_ends_its_chat_and_refuses_it_and_its_address,
    a_plain_agent_cannot_ban_an_address_nor_see_one_and_an_admin_can,
    lifting_a_ban_lets_the_visitor_back_and_only_its_maker_or_an_admin_may,
    a_ban_with_a_duration_ends_by_itself,
    bad_input_is_refused_naming_the_field_and_bans_nothing,
    a_visitor_cannot_use_the_ban_api,
    a_ban_survives_a_restart_and_reaches_another_node_by_reload,
);

/// A client whose requests come from 127.0.0.`last`.
fn client_from(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// `POST /api/visitors` from `client`: the status and, when created, the visitor.
async fn visitor_via(app: &TestApp, client: &reqwest::Client) -> (u16, Value, Option<Participant>) {
    let response = client.post(app.url("/api/visitors")).json(&json!({})).send().await.expect("request");
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let visitor =
        (status == 201).then(|| Participant { id: text(&body["visitor_id"]), token: text(&body["token"]) });
    (status, body, visitor)
}

/// A visitor whose address is 127.0.0.`last`.
async fn visitor_from(app: &TestApp, last: u8) -> Participant {
    let (status, body, visitor) = visitor_via(app, &client_from(last)).await;
    assert_eq!(status, 201, "{body}");
    visitor.expect("created")
}

/// `GET /poll` (answering at once) as `who` from `client`: status and body.
async fn poll_via(app: &TestApp, client: &reqwest::Client, who: &Participant) -> (u16, Value) {
    let response = client
        .get(app.url("/poll"))
        .bearer_auth(&who.token)
        .query(&[("timeout", "0")])
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn assert_banned(answer: &(u16, Value)) {
    assert_eq!(answer.0, 403, "{}", answer.1);
    assert_eq!(answer.1["error"]["code"], "banned", "{}", answer.1);
}

/// Polls as `who` until an event of `chat_id` of type `kind` arrives (at most 20 polls).
async fn wait_for_event(app: &TestApp, who: &Participant, chat_id: &str, kind: &str) -> Value {
    let mut cursor = String::new();
    for _ in 0..20 {
        let answer = app.poll(who, &cursor, Some(2)).await;
        if let Some(event) = answer.events.iter().find(|e| e["chat_id"] == chat_id && e["type"] == kind) {
            return event.clone();
        }
        cursor = answer.cursor;
    }
    panic!("no {kind} event for {chat_id}");
}

async fn bans_seen_by(app: &TestApp, who: &Participant) -> Vec<Value> {
    let (status, body) = app.get_json(Some(who), "/api/bans").await;
    assert_eq!(status, 200, "{body}");
    body["bans"].as_array().cloned().expect("bans array")
}

async fn banning_a_visitor_with_its_address_ends_its_chat_and_refuses_it_and_its_address(backend: Backend) {
    let metrics = switchboard::metrics::recorder();
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = visitor_from(&app, 11).await;
    let neighbour = visitor_from(&app, 11).await;
    let elsewhere = visitor_from(&app, 12).await;
    let chat = app.start_chat(&visitor, &agent).await;
    app.send(&visitor, &chat, "m1", "rude words").await;

    let (status, body) = app
        .post_json(
            Some(&agent),
            "/api/bans",
            json!({"visitor_id": visitor.id, "include_ip": true, "reason": "abuse", "duration_mins": null}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["chats_closed"], 1);
    let ban = &body["ban"];
    assert_eq!(ban["visitor_id"], visitor.id.as_str());
    assert_eq!(ban["ip_banned"], true);
    assert!(ban.get("ip").is_none(), "a plain agent never sees the address: {ban}");
    assert_eq!(ban["reason"], "abuse");
    assert_eq!(ban["expires_at"], Value::Null);
    assert_eq!(ban["can_lift"], true);

    // The agent sees the chat end, for the ban.
    let closed = wait_for_event(&app, &agent, &chat, "chat.closed").await;
    assert_eq!(closed["reason"], "visitor_banned");
    assert_eq!(app.chat_state(&chat).await.0, "closed");

    // The visitor is refused whatever address it comes from now, on every request.
    assert_banned(&poll_via(&app, &client_from(40), &visitor).await);
    let send = app.send_raw(&visitor, &chat, "m2", "again").await;
    assert_eq!(send.status(), 403);
    assert_banned(&(403, send.json().await.expect("json")));
    assert_banned(&app.post_json(Some(&visitor), "/api/chats", json!({})).await);
    // Anyone from its address too, old visitor or new.
    assert_banned(&poll_via(&app, &client_from(11), &neighbour).await);
    let (status, body, _) = visitor_via(&app, &client_from(11)).await;
    assert_banned(&(status, body));
    // Not a visitor from another address, and not an agent from the banned one.
    assert_eq!(poll_via(&app, &client_from(12), &elsewhere).await.0, 200);
    assert_eq!(visitor_via(&app, &client_from(13)).await.0, 201);
    assert_eq!(poll_via(&app, &client_from(11), &agent).await.0, 200);
    assert!(
        metrics.render().contains(r#"switchboard_limits_hit_total{limit="ban"}"#),
        "refusals are counted"
    );
    // Nor can an agent pull the banned visitor back into a chat.
    let (status, body) =
        app.post_json(Some(&agent), "/api/chats/invite", json!({"visitor_id": visitor.id})).await;
    assert_eq!(status, 403, "{body}");
}

async fn a_plain_agent_cannot_ban_an_address_nor_see_one_and_an_admin_can(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.agent("E1", 3).await;
    let admin = app.admin("A1").await;

    let (status, body) = app.post_json(Some(&agent), "/api/bans", json!({"ip": "127.0.0.21"})).await;
    assert_eq!(status, 403, "{body}");
    assert!(bans_seen_by(&app, &admin).await.is_empty());
    assert_eq!(visitor_via(&app, &client_from(21)).await.0, 201);

    let (status, body) =
        app.post_json(Some(&admin), "/api/bans", json!({"ip": "127.0.0.21", "duration_mins": 60})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["ban"]["ip"], "127.0.0.21");
    assert_eq!(body["ban"]["visitor_id"], Value::Null);
    assert!(body["ban"]["expires_at"].as_i64().is_some());
    let (status, refused, _) = visitor_via(&app, &client_from(21)).await;
    assert_banned(&(status, refused));

    let seen_by_agent = bans_seen_by(&app, &agent).await;
    assert_eq!(seen_by_agent.len(), 1);
    assert!(seen_by_agent[0].get("ip").is_none(), "{}", seen_by_agent[0]);
    assert_eq!(seen_by_agent[0]["ip_banned"], true);
    assert_eq!(seen_by_agent[0]["can_lift"], false);
    let seen_by_admin = bans_seen_by(&app, &admin).await;
    assert_eq!(seen_by_admin[0]["ip"], "127.0.0.21");
    assert_eq!(seen_by_admin[0]["can_lift"], true);
    assert_eq!(seen_by_admin[0]["created_by_name"], "Admin A1");
}

async fn lifting_a_ban_lets_the_visitor_back_and_only_its_maker_or_an_admin_may(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let maker = app.agent("E1", 3).await;
    let other = app.agent("E2", 3).await;
    let admin = app.admin("A1").await;
    let visitor = visitor_from(&app, 31).await;

    let (status, body) = app.post_json(Some(&maker), "/api/bans", json!({"visitor_id": visitor.id})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["ban"]["ip_banned"], false);
    let ban_id = text(&body["ban"]["ban_id"]);
    assert_banned(&poll_via(&app, &client_from(31), &visitor).await);
    // Only the visitor: a new visitor from its address is welcome.
    assert_eq!(visitor_via(&app, &client_from(31)).await.0, 201);

    let lift = format!("/api/bans/{ban_id}/lift");
    let (status, body) = app.post_json(Some(&other), &lift, json!({})).await;
    assert_eq!(status, 403, "{body}");
    assert_banned(&poll_via(&app, &client_from(31), &visitor).await);

    let (status, body) = app.post_json(Some(&maker), &lift, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["ban"]["lifted_at"].as_i64().is_some());
    assert_eq!(poll_via(&app, &client_from(31), &visitor).await.0, 200);
    assert!(bans_seen_by(&app, &maker).await.is_empty());
    let (status, body) = app.post_json(Some(&maker), &lift, json!({})).await;
    assert_eq!((status, body["error"]["code"].clone()), (409, json!("ban_not_in_force")));

    // An admin lifts anyone's ban.
    let (_, body) = app.post_json(Some(&other), "/api/bans", json!({"visitor_id": visitor.id})).await;
    let second = text(&body["ban"]["ban_id"]);
    assert_banned(&poll_via(&app, &client_from(31), &visitor).await);
    let (status, body) = app.post_json(Some(&admin), &format!("/api/bans/{second}/lift"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(poll_via(&app, &client_from(31), &visitor).await.0, 200);

    let (status, body) =
        app.post_json(Some(&admin), &format!("/api/bans/{}/lift", uuid::Uuid::new_v4()), json!({})).await;
    assert_eq!((status, body["error"]["code"].clone()), (404, json!("ban_not_found")));
    let (status, body) = app.post_json(Some(&admin), "/api/bans/not-a-uuid/lift", json!({})).await;
    assert_eq!((status, body["error"]["field"].clone()), (400, json!("ban_id")));
}

async fn a_ban_with_a_duration_ends_by_itself(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.agent("E1", 3).await;
    let visitor = visitor_from(&app, 41).await;
    // The API takes whole minutes; the service takes any duration, which keeps this test short.
    let caller = Principal::Agent(AgentId(uuid::Uuid::parse_str(&agent.id).expect("uuid")), Role::Agent);
    let ban = NewBan {
        target: BanTarget::Visitor {
            visitor: VisitorId(uuid::Uuid::parse_str(&visitor.id).expect("uuid")),
            include_ip: true,
        },
        reason: None,
        duration: BanDuration::millis(4_000),
    };
    let made = app.services.ban(&caller, ban).await.expect("banned");
    let expires_at = made.ban.expires_at.expect("an end");
    assert_banned(&poll_via(&app, &client_from(41), &visitor).await);
    assert_eq!(bans_seen_by(&app, &agent).await.len(), 1);

    let wait = expires_at - switchboard::domain::now_ms() + 50;
    tokio::time::sleep(Duration::from_millis(u64::try_from(wait.max(0)).unwrap_or(0))).await;
    assert_eq!(poll_via(&app, &client_from(41), &visitor).await.0, 200);
    assert_eq!(visitor_via(&app, &client_from(41)).await.0, 201);
    assert!(bans_seen_by(&app, &agent).await.is_empty());
    let (status, _) =
        app.post_json(Some(&agent), &format!("/api/bans/{}/lift", made.ban.ban_id), json!({})).await;
    assert_eq!(status, 409);
}

async fn bad_input_is_refused_naming_the_field_and_bans_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let admin = app.admin("A1").await;
    let visitor = visitor_from(&app, 51).await;
    let chat = app.start_chat(&visitor, &agent).await;
    let before = app.store_counts().await;

    let cases = [
        (json!({}), "visitor_id"),
        (json!({"visitor_id": "nope"}), "visitor_id"),
        (json!({"visitor_id": 7}), "visitor_id"),
        (json!({"visitor_id": visitor.id, "include_ip": "yes"}), "include_ip"),
        (json!({"visitor_id": visitor.id, "duration_mins": 0}), "duration_mins"),
        (json!({"visitor_id": visitor.id, "duration_mins": -5}), "duration_mins"),
        (json!({"visitor_id": visitor.id, "duration_mins": 1.5}), "duration_mins"),
        (json!({"visitor_id": visitor.id, "duration_mins": 99_999_999}), "duration_mins"),
        (json!({"visitor_id": visitor.id, "reason": "x".repeat(501)}), "reason"),
        (json!({"visitor_id": visitor.id, "reason": "two\nlines"}), "reason"),
        (json!({"visitor_id": visitor.id, "ip": "127.0.0.51"}), "ip"),
        (json!({"ip": "127.0.0.256"}), "ip"),
        (json!({"ip": "0.0.0.0"}), "ip"),
    ];
    for (body, field) in cases {
        let (status, answer) = app.post_json(Some(&admin), "/api/bans", body.clone()).await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert_eq!(answer["error"]["field"], field, "{body} → {answer}");
    }
    let (status, answer) =
        app.post_json(Some(&agent), "/api/bans", json!({"visitor_id": uuid::Uuid::new_v4()})).await;
    assert_eq!((status, answer["error"]["code"].clone()), (404, json!("visitor_not_found")));

    assert!(bans_seen_by(&app, &admin).await.is_empty());
    assert_eq!(app.store_counts().await, before);
    assert_eq!(app.chat_state(&chat).await.0, "open");
    assert_eq!(poll_via(&app, &client_from(51), &visitor).await.0, 200);
}

async fn a_visitor_cannot_use_the_ban_api(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.agent("E1", 3).await;
    let visitor = visitor_from(&app, 61).await;
    let victim = visitor_from(&app, 62).await;
    let (_, body) = app.post_json(Some(&agent), "/api/bans", json!({"visitor_id": victim.id})).await;
    let ban_id = text(&body["ban"]["ban_id"]);

    let (status, body) = app.post_json(Some(&visitor), "/api/bans", json!({"visitor_id": victim.id})).await;
    assert_eq!((status, body["error"]["code"].clone()), (403, json!("forbidden")));
    let (status, _) = app.post_json(Some(&visitor), "/api/bans", json!({"ip": "127.0.0.62"})).await;
    assert_eq!(status, 403);
    let (status, _) = app.get_json(Some(&visitor), "/api/bans").await;
    assert_eq!(status, 403);
    let (status, _) = app.post_json(Some(&visitor), &format!("/api/bans/{ban_id}/lift"), json!({})).await;
    assert_eq!(status, 403);
    let (status, _) = app.post_json(None, "/api/bans", json!({"visitor_id": victim.id})).await;
    assert_eq!(status, 401);
    let (status, _) = app.get_json(None, "/api/bans").await;
    assert_eq!(status, 401);

    // Still exactly the one ban, still in force.
    assert_eq!(bans_seen_by(&app, &agent).await.len(), 1);
    assert_banned(&poll_via(&app, &client_from(62), &victim).await);
    assert_eq!(poll_via(&app, &client_from(61), &visitor).await.0, 200);
}

async fn a_ban_survives_a_restart_and_reaches_another_node_by_reload(backend: Backend) {
    let first = TestApp::spawn(backend).await;
    let admin = first.admin("A1").await;
    let visitor = visitor_from(&first, 71).await;
    let (status, _) = first
        .post_json(Some(&admin), "/api/bans", json!({"visitor_id": visitor.id, "include_ip": true}))
        .await;
    assert_eq!(status, 201);
    let db = first.db.clone();
    first.stop().await;

    // Read from the store at start: refused before any reload.
    let node_a = TestApp::start(db.clone(), |_| {}).await;
    assert_banned(&poll_via(&node_a, &client_from(71), &visitor).await);
    let (status, body, _) = visitor_via(&node_a, &client_from(71)).await;
    assert_banned(&(status, body));

    // A second node on the same store learns of a lift made on the first by its next reload.
    let node_b = TestApp::start(db, |_| {}).await;
    assert_banned(&poll_via(&node_b, &client_from(71), &visitor).await);
    let ban_id = text(&bans_seen_by(&node_a, &admin).await[0]["ban_id"]);
    let (status, _) = node_a.post_json(Some(&admin), &format!("/api/bans/{ban_id}/lift"), json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(poll_via(&node_a, &client_from(71), &visitor).await.0, 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    while poll_via(&node_b, &client_from(71), &visitor).await.0 != 200 {
        assert!(Instant::now() < deadline, "node b never learned of the lift");
        node_b.services.reload_bans().await.expect("reload");
    }
}
