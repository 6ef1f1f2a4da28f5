//! What the console and admin pages read besides `/poll`: first-run setup, the waiting queue,
//! one chat's details, the history of closed chats, past announcements.

use diesel::RunQueryDsl;
use serde_json::{json, Value};
use switchboard::store::StoreError;

use crate::helpers::{text, Backend, TestApp};
use crate::on_every_backend;

on_every_backend!(
    the_first_admin_is_created_once_and_then_setup_is_over,
    racing_setup_forms_create_exactly_one_admin,
    the_queue_lists_waiting_chats_next_first_with_visitor_names,
    chat_details_name_the_visitor_its_page_and_the_agent,
    history_lists_an_agents_own_closed_chats_and_every_chat_for_admins,
    history_pages_by_closed_at_and_refuses_bad_values,
    announcements_are_listed_newest_first_for_admins,
);

async fn the_first_admin_is_created_once_and_then_setup_is_over(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(app.get_json(None, "/api/setup").await, (200, json!({"needed": true})));

    let short = json!({"employee_id": "root", "name": "Ada", "password": "short"});
    let (status, body) = app.post_json(None, "/api/setup", short).await;
    assert_eq!((status, text(&body["error"]["field"])), (400, "password".to_string()), "{body}");
    assert_eq!(app.get_json(None, "/api/setup").await.1["needed"], true, "a refused form changes nothing");

    let form = json!({"employee_id": "root", "name": "Ada", "password": "long enough"});
    let (status, body) = app.post_json(None, "/api/setup", form).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!((body["role"].as_str(), body["name"].as_str()), (Some("admin"), Some("Ada")));
    let (status, _) = app
        .get_json(
            Some(&crate::helpers::Participant { id: text(&body["agent_id"]), token: text(&body["token"]) }),
            "/api/admin/agents",
        )
        .await;
    assert_eq!(status, 200, "the answer's token is an admin's");
    assert!(app.login("root", "long enough").await.is_ok());

    assert_eq!(app.get_json(None, "/api/setup").await.1["needed"], false);
    let again = json!({"employee_id": "other", "name": "Eve", "password": "long enough"});
    let (status, body) = app.post_json(None, "/api/setup", again).await;
    assert_eq!((status, text(&body["error"]["code"])), (409, "setup_done".to_string()));
    assert!(app.login("other", "long enough").await.is_err(), "a refused setup creates nobody");
}

async fn racing_setup_forms_create_exactly_one_admin(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let forms = (0..8).map(|i| {
        let app = &app;
        async move {
            let form = json!({"employee_id": format!("root{i}"), "name": "Ada", "password": "long enough"});
            app.post_json(None, "/api/setup", form).await.0
        }
    });
    let mut statuses = futures_util::future::join_all(forms).await;
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409]);
    let admin = app.admin("check").await;
    let (_, body) = app.get_json(Some(&admin), "/api/admin/agents").await;
    let admins = body["agents"].as_array().expect("agents").iter().filter(|a| a["role"] == "admin").count();
    assert_eq!(admins, 2, "the one setup winner and the admin made to look: {body}");
}

async fn the_queue_lists_waiting_chats_next_first_with_visitor_names(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 1).await;
    let first = app.visitor().await;
    app.start_chat(&first, &agent).await;
    let mut waiting = Vec::new();
    for _ in 0..3 {
        let visitor = app.visitor().await;
        let body: Value = app.start_any_raw(&visitor).await.json().await.expect("json");
        assert_eq!(body["status"], "queued", "{body}");
        waiting.push((visitor, text(&body["chat_id"])));
    }
    let (status, body) = app.get_json(Some(&agent), "/api/queue").await;
    assert_eq!(status, 200, "{body}");
    let listed = body["chats"].as_array().expect("chats");
    let order: Vec<String> = listed.iter().map(|c| text(&c["chat_id"])).collect();
    let expected: Vec<String> = waiting.iter().map(|(_, chat)| chat.clone()).collect();
    assert_eq!(order, expected, "next first");
    let positions: Vec<i64> = listed.iter().filter_map(|c| c["position"].as_i64()).collect();
    assert_eq!(positions, [1, 2, 3]);
    assert_eq!(listed[0]["visitor_id"], waiting[0].0.id.as_str());
    assert!(text(&listed[0]["visitor_name"]).starts_with("Visitor"), "{}", listed[0]);

    assert_eq!(app.close_chat_raw(&waiting[0].0, &waiting[0].1).await.status(), 200);
    let (_, body) = app.get_json(Some(&agent), "/api/queue").await;
    assert_eq!(body["chats"].as_array().map(Vec::len), Some(2), "a chat that left the queue is gone");
    assert_eq!(body["chats"][0]["chat_id"], waiting[1].1.as_str());
}

async fn chat_details_name_the_visitor_its_page_and_the_agent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 2).await;
    let page = json!({"page_url": "https://shop.example/boots", "page_title": "Boots", "referrer": "https://search.example/"});
    let (status, created) = app.post_json(None, "/api/visitors", page).await;
    assert_eq!(status, 201);
    let visitor =
        crate::helpers::Participant { id: text(&created["visitor_id"]), token: text(&created["token"]) };
    let chat = app.start_chat(&visitor, &agent).await;
    app.send(&visitor, &chat, "v1", "hello").await;

    let (status, body) = app.get_json(Some(&agent), &format!("/api/chats/{chat}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "open");
    assert_eq!(body["visitor"]["visitor_id"], visitor.id.as_str());
    assert_eq!(body["visitor"]["page_title"], "Boots");
    assert_eq!(body["visitor"]["referrer"], "https://search.example/");
    assert_eq!(body["agent"]["agent_id"], agent.id.as_str());
    assert_eq!(body["last_seq"], 2, "assigned, then the message");

    let (status, body) = app.get_json(Some(&visitor), &format!("/api/chats/{chat}")).await;
    assert_eq!((status, body["chat_id"].as_str()), (200, Some(chat.as_str())));
    let stranger = app.visitor().await;
    let (status, _) = app.get_json(Some(&stranger), &format!("/api/chats/{chat}")).await;
    assert_eq!(status, 403);
    let unknown = uuid::Uuid::new_v4();
    let (status, body) = app.get_json(Some(&agent), &format!("/api/chats/{unknown}")).await;
    assert_eq!((status, text(&body["error"]["code"])), (404, "chat_not_found".to_string()));
    let (status, body) = app.get_json(Some(&agent), "/api/chats/not-a-uuid").await;
    assert_eq!((status, text(&body["error"]["field"])), (400, "chat_id".to_string()));
}

async fn history_lists_an_agents_own_closed_chats_and_every_chat_for_admins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.online_agent("E1", 3).await;
    let bob = app.online_agent("E2", 3).await;
    let admin = app.admin("A1").await;
    let mut by_agent = Vec::new();
    for agent in [&alice, &bob, &alice] {
        let visitor = app.visitor().await;
        let chat = app.start_chat(&visitor, agent).await;
        assert_eq!(app.close_chat_raw(&visitor, &chat).await.status(), 200);
        by_agent.push((visitor, chat));
        // Distinct closing times, so that "most recent first" has one right answer.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let rated = &by_agent[2];
    let rating = json!({"score": 4, "comment": "quick"});
    assert_eq!(app.post_json(Some(&rated.0), &format!("/api/chats/{}/rating", rated.1), rating).await.0, 201);
    let open_visitor = app.visitor().await;
    app.start_chat(&open_visitor, &alice).await;

    let (status, body) = app.get_json(Some(&alice), "/api/chats/history").await;
    assert_eq!(status, 200, "{body}");
    let mine: Vec<String> =
        body["chats"].as_array().expect("chats").iter().map(|c| text(&c["chat_id"])).collect();
    assert_eq!(
        mine,
        [by_agent[2].1.clone(), by_agent[0].1.clone()],
        "alice's own, most recent first, no open one"
    );
    let newest = &body["chats"][0];
    assert_eq!((newest["score"].as_i64(), newest["comment"].as_str()), (Some(4), Some("quick")));
    assert_eq!(newest["agent_name"], "Agent E1");
    assert_eq!(newest["close_reason"], "closed_by_visitor");
    assert!(body["chats"][1]["score"].is_null());

    let (_, body) = app.get_json(Some(&admin), "/api/chats/history").await;
    assert_eq!(body["chats"].as_array().map(Vec::len), Some(3), "admins see every closed chat: {body}");
}

async fn history_pages_by_closed_at_and_refuses_bad_values(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let mut chats = Vec::new();
    for _ in 0..5 {
        let visitor = app.visitor().await;
        let chat = app.start_chat(&visitor, &agent).await;
        assert_eq!(app.close_chat_raw(&visitor, &chat).await.status(), 200);
        chats.push(chat);
    }
    // Two chats closed in the same millisecond must still each come once.
    let same_time = app.services.store.run(move |conn| {
        diesel::sql_query("UPDATE chats SET closed_at = 1000").execute(conn).map_err(StoreError::from)
    });
    same_time.await.expect("store");
    let mut by_order = chats.clone();
    by_order.sort();
    let mut seen = Vec::new();
    let mut query = "/api/chats/history?limit=2".to_string();
    for _ in 0..5 {
        let (status, body) = app.get_json(Some(&agent), &query).await;
        assert_eq!(status, 200, "{body}");
        let page = body["chats"].as_array().cloned().expect("chats");
        if page.is_empty() {
            break;
        }
        seen.extend(page.iter().map(|c| text(&c["chat_id"])));
        let last = page.last().expect("a chat");
        let (at, id) = (last["closed_at"].as_i64().expect("closed_at"), text(&last["chat_id"]));
        query = format!("/api/chats/history?limit=2&before={at}&before_chat={id}");
    }
    by_order.reverse();
    assert_eq!(seen, by_order, "every closed chat once, (closed_at, id) descending");
    let (_, body) = app.get_json(Some(&agent), "/api/chats/history?before=1000").await;
    assert_eq!(body["chats"], json!([]), "a time alone keeps chats closed strictly before it");

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("before=-1", "before"),
        ("before=x", "before"),
        ("before=1&before_chat=x", "before_chat"),
    ] {
        let (status, body) = app.get_json(Some(&agent), &format!("/api/chats/history?{query}")).await;
        assert_eq!((status, text(&body["error"]["field"])), (400, field.to_string()), "{query}: {body}");
    }
}

async fn announcements_are_listed_newest_first_for_admins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin("A1").await;
    for body in ["first", "second", "third"] {
        let (status, _) =
            app.post_json(Some(&admin), "/api/admin/announcements", json!({"body": body})).await;
        assert_eq!(status, 201);
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let (status, body) = app.get_json(Some(&admin), "/api/admin/announcements?limit=2").await;
    assert_eq!(status, 200, "{body}");
    let bodies: Vec<String> =
        body["announcements"].as_array().expect("list").iter().map(|a| text(&a["body"])).collect();
    assert_eq!(bodies, ["third", "second"]);
    let (status, body) = app.get_json(Some(&admin), "/api/admin/announcements?limit=x").await;
    assert_eq!((status, text(&body["error"]["field"])), (400, "limit".to_string()));
}
