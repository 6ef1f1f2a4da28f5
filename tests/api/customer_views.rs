//! The customer as agents see it (issue 17 item 3): `verified` in every agent-facing view of a
//! visitor, the pages of this visit, `GET /api/visitors/{visitor_id}/profile` with the same
//! customer's chats (and nobody else's), and the serving agent's reading of earlier transcripts.
//!
//! A verified visitor is made here by writing the identity columns in the store (what the
//! identity check writes), which is what the views read.

use diesel::prelude::*;
use serde_json::{json, Value};
use switchboard::domain::{PrincipalKind, VisitorId};
use switchboard::service::ServiceError;
use switchboard::store::schema::{page_views, visitors};

use crate::helpers::{text, Backend, Participant, TestApp};
use crate::on_every_backend;

on_every_backend!(
    every_agent_view_of_a_visitor_says_whether_it_is_verified,
    the_pages_of_this_visit_reach_back_to_the_first_gap_of_more_than_thirty_minutes,
    a_profile_lists_the_same_customers_chats_from_every_device_and_nobody_elses,
    the_agent_serving_a_visitor_reads_its_earlier_chats_and_nobody_else_does,
);

fn visitor_id(who: &Participant) -> VisitorId {
    VisitorId::parse(&who.id, "visitor_id").expect("a visitor id")
}

/// Makes `who` the verified customer `customer_id` of `site_id`, as the identity check does.
async fn verify(app: &TestApp, who: &Participant, site_id: &str, customer_id: &str, email: &str) {
    let (id, site, customer, email) =
        (who.id.clone(), site_id.to_string(), customer_id.to_string(), email.to_string());
    app.services
        .store
        .write(move |conn| {
            diesel::update(visitors::table.filter(visitors::id.eq(id)))
                .set((
                    visitors::site_id.eq(Some(site)),
                    visitors::customer_id.eq(Some(customer)),
                    visitors::email.eq(Some(email)),
                    visitors::verified.eq(1),
                ))
                .execute(conn)
                .map(drop)
                .map_err(ServiceError::from)
        })
        .await
        .expect("identity written");
}

/// The entry of `list` whose `key` is `id`.
fn entry<'a>(list: &'a Value, key: &str, id: &str) -> &'a Value {
    list.as_array()
        .and_then(|items| items.iter().find(|item| item[key] == id))
        .unwrap_or_else(|| panic!("no {key} {id} in {list}"))
}

async fn every_agent_view_of_a_visitor_says_whether_it_is_verified(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let site =
        crate::sites::create_site(&app, json!({"name": "Shop <b>", "origins": "https://shop.example"})).await;
    let site_id = text(&site["site"]["site_id"]);
    let agent = app.online_agent("CV1", 1).await;
    let admin = app.admin("CVADMIN").await;
    let known = app.visitor().await;
    let anonymous = app.visitor().await;
    verify(&app, &known, &site_id, "user-42", "ann@shop.example").await;
    app.poll(&known, "", Some(0)).await;
    app.poll(&anonymous, "", Some(0)).await;

    // Online.
    let (status, online) = app.get_json(Some(&agent), "/api/visitors/online").await;
    assert_eq!(status, 200, "{online}");
    assert_eq!(entry(&online["visitors"], "visitor_id", &known.id)["verified"], true, "{online}");
    assert_eq!(entry(&online["visitors"], "visitor_id", &anonymous.id)["verified"], false, "{online}");

    // The queue: the agent is busy with a third visitor, so both wait.
    let busy = app.visitor().await;
    let busy_chat = app.start_chat(&busy, &agent).await;
    let mut waiting = Vec::new();
    for who in [&known, &anonymous] {
        let body: Value = app.start_any_raw(who).await.json().await.expect("json");
        assert_eq!(body["status"], "queued", "{body}");
        waiting.push(text(&body["chat_id"]));
    }
    let (status, queue) = app.get_json(Some(&agent), "/api/queue").await;
    assert_eq!(status, 200, "{queue}");
    assert_eq!(entry(&queue["chats"], "chat_id", &waiting[0])["visitor_verified"], true, "{queue}");
    assert_eq!(entry(&queue["chats"], "chat_id", &waiting[1])["visitor_verified"], false, "{queue}");

    // One chat's details: the agent (and admins) see who it is; the visitor's own view is as before.
    assert_eq!(app.close_chat_raw(&busy, &busy_chat).await.status(), 200);
    let (_, known_chat) = app.get_json(Some(&admin), &format!("/api/chats/{}", waiting[0])).await;
    let visitor = &known_chat["visitor"];
    assert_eq!(
        (&visitor["verified"], &visitor["customer_id"], &visitor["email"]),
        (&json!(true), &json!("user-42"), &json!("ann@shop.example")),
        "{known_chat}"
    );
    assert_eq!(visitor["site"], json!({"site_id": site_id, "name": "Shop <b>"}), "{known_chat}");
    let (_, anonymous_chat) = app.get_json(Some(&admin), &format!("/api/chats/{}", waiting[1])).await;
    let visitor = &anonymous_chat["visitor"];
    assert_eq!(
        (&visitor["verified"], &visitor["customer_id"], &visitor["email"], &visitor["site"]),
        (&json!(false), &Value::Null, &Value::Null, &Value::Null),
        "{anonymous_chat}"
    );
    let (status, own) = app.get_json(Some(&known), &format!("/api/chats/{}", waiting[0])).await;
    assert_eq!(status, 200, "{own}");
    let keys: Vec<&String> = own["visitor"].as_object().expect("visitor").keys().collect();
    assert_eq!(
        keys,
        ["name", "page_title", "page_url", "referrer", "user_agent", "visitor_id"],
        "the visitor's own view is unchanged: {own}"
    );

    // The event feed's chat.started (the webhook body too).
    let feed = app.services.feed_after(0, 1000).await.expect("feed");
    let started = |chat: &str| {
        feed.iter()
            .find(|event| {
                event.kind == "chat.started"
                    && event.chat_id.map(|id| id.to_string()).as_deref() == Some(chat)
            })
            .map(|event| event.data.clone())
            .unwrap_or_else(|| panic!("no chat.started for {chat}"))
    };
    assert_eq!(started(&waiting[0])["visitor_verified"], true);
    assert_eq!(started(&waiting[1])["visitor_verified"], false);

    // History (closed chats).
    for (who, chat) in [(&known, &waiting[0]), (&anonymous, &waiting[1])] {
        let response = app.close_chat_raw(who, chat).await;
        assert_eq!(response.status(), 200);
    }
    let (status, history) = app.get_json(Some(&admin), "/api/chats/history").await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(entry(&history["chats"], "chat_id", &waiting[0])["visitor_verified"], true, "{history}");
    assert_eq!(entry(&history["chats"], "chat_id", &waiting[1])["visitor_verified"], false, "{history}");
    app.stop().await;
}

/// The URLs of this visit's pages in `visitor`'s profile, as `agent` reads it.
async fn visit_urls(app: &TestApp, agent: &Participant, visitor: &Participant) -> Vec<String> {
    let (status, body) = app.get_json(Some(agent), &format!("/api/visitors/{}/profile", visitor.id)).await;
    assert_eq!(status, 200, "{body}");
    body["pages"].as_array().expect("pages").iter().map(|page| text(&page["url"])).collect()
}

/// Moves the page view of `url` of `who` to `at`.
async fn move_view(app: &TestApp, who: &Participant, url: &str, at: i64) {
    let (id, url) = (who.id.clone(), url.to_string());
    let moved = app
        .services
        .store
        .write(move |conn| {
            diesel::update(
                page_views::table.filter(page_views::visitor_id.eq(id)).filter(page_views::url.eq(url)),
            )
            .set(page_views::at.eq(at))
            .execute(conn)
            .map_err(ServiceError::from)
        })
        .await
        .expect("moved");
    assert_eq!(moved, 1);
}

async fn the_pages_of_this_visit_reach_back_to_the_first_gap_of_more_than_thirty_minutes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("PV1", 1).await;
    let first = json!({"page_url": "https://shop.example/a", "page_title": "<img src=x onerror=alert(1)>"});
    let (status, made) = app.post_json(None, "/api/visitors", first).await;
    assert_eq!(status, 201, "{made}");
    let visitor = Participant { id: text(&made["visitor_id"]), token: text(&made["token"]) };
    for page in ["b", "c", "d"] {
        let fields =
            json!({"page_url": format!("https://shop.example/{page}"), "page_title": page.to_uppercase()});
        let (status, body) = app.post_json(Some(&visitor), "/api/visitors/page", fields).await;
        assert_eq!(status, 200, "{body}");
    }
    let refused = json!({"page_url": "javascript:alert(1)"});
    assert_eq!(app.post_json(Some(&visitor), "/api/visitors/page", refused).await.0, 400);
    app.start_chat(&visitor, &agent).await;
    let urls = |names: &[&str]| names.iter().map(|n| format!("https://shop.example/{n}")).collect::<Vec<_>>();
    // Made with a page, then three reports (the refused one adds nothing): one visit, newest first.
    assert_eq!(visit_urls(&app, &agent, &visitor).await, urls(&["d", "c", "b", "a"]));

    let minute = 60_000;
    let now = switchboard::domain::now_ms();
    move_view(&app, &visitor, "https://shop.example/d", now).await;
    move_view(&app, &visitor, "https://shop.example/c", now - 10 * minute).await;
    // Exactly 30 minutes before "c": still this visit.
    move_view(&app, &visitor, "https://shop.example/b", now - 40 * minute).await;
    // 30 minutes and 1 ms before "b": the visit before.
    move_view(&app, &visitor, "https://shop.example/a", now - 70 * minute - 1).await;
    assert_eq!(visit_urls(&app, &agent, &visitor).await, urls(&["d", "c", "b"]));
    move_view(&app, &visitor, "https://shop.example/a", now - 70 * minute).await;
    assert_eq!(
        visit_urls(&app, &agent, &visitor).await,
        urls(&["d", "c", "b", "a"]),
        "a gap of exactly 30 minutes is no gap"
    );

    let (_, body) = app.get_json(Some(&agent), &format!("/api/visitors/{}/profile", visitor.id)).await;
    assert_eq!(body["pages"][3]["title"], "<img src=x onerror=alert(1)>", "titles are kept as typed: {body}");
    assert_eq!(body["pages"][0]["title"], "D");
    app.stop().await;
}

/// A second token for the visitor behind `who`: the same customer on another device.
async fn second_device(app: &TestApp, who: &Participant) -> Participant {
    let id = visitor_id(who);
    let token = app
        .services
        .store
        .write(move |conn| {
            switchboard::service::auth::issue_token(conn, PrincipalKind::Visitor, id.0, 24)
                .map_err(ServiceError::from)
        })
        .await
        .expect("token");
    Participant { id: who.id.clone(), token }
}

async fn a_profile_lists_the_same_customers_chats_from_every_device_and_nobody_elses(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ann = app.online_agent("PR1", 2).await;
    let bob = app.online_agent("PR2", 2).await;
    let admin = app.admin("PRADMIN").await;
    let phone = app.visitor().await;
    let laptop = second_device(&app, &phone).await;
    let stranger = app.visitor().await;

    let first = app.start_chat(&phone, &bob).await;
    app.send(&phone, &first, "p1", "from the phone").await;
    assert_eq!(app.close_chat_raw(&phone, &first).await.status(), 200);
    let rating = json!({"score": 4, "comment": "<b>quick</b>"});
    let (status, body) = app.post_json(Some(&phone), &format!("/api/chats/{first}/rating"), rating).await;
    assert_eq!(status, 201, "{body}");
    let others = app.start_chat(&stranger, &ann).await;
    let second = app.start_chat(&laptop, &ann).await;

    let path = format!("/api/visitors/{}/profile", phone.id);
    let (status, profile) = app.get_json(Some(&ann), &path).await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["visitor"]["visitor_id"], phone.id.as_str());
    assert_eq!(profile["visitor"]["verified"], false);
    let listed: Vec<String> =
        profile["chats"].as_array().expect("chats").iter().map(|c| text(&c["chat_id"])).collect();
    assert_eq!(listed, [second.clone(), first.clone()], "both devices' chats, newest first, not {others}");
    let (open, closed) = (&profile["chats"][0], &profile["chats"][1]);
    assert_eq!(
        (open["status"].as_str(), open["agent"]["agent_id"].as_str()),
        (Some("open"), Some(ann.id.as_str()))
    );
    assert_eq!(
        (&closed["status"], &closed["agent"]["agent_id"], &closed["score"], &closed["comment"]),
        (&json!("closed"), &json!(bob.id), &json!(4), &json!("<b>quick</b>")),
        "{profile}"
    );
    assert_eq!(closed["close_reason"], "closed_by_visitor");

    // Paged: one at a time.
    let (_, page) = app.get_json(Some(&ann), &format!("{path}?limit=1")).await;
    assert_eq!(page["chats"].as_array().map(Vec::len), Some(1));
    let last = &page["chats"][0];
    let next = format!("{path}?limit=1&before={}&before_chat={}", last["created_at"], text(&last["chat_id"]));
    let (_, page) = app.get_json(Some(&ann), &next).await;
    assert_eq!(page["chats"][0]["chat_id"], first.as_str(), "{page}");

    // Who may ask: the agent of an earlier chat (bob) and admins; the stranger's agent may read
    // the stranger's profile, where none of this customer's chats appear.
    assert_eq!(app.get_json(Some(&bob), &path).await.0, 200);
    assert_eq!(app.get_json(Some(&admin), &path).await.0, 200);
    let (_, theirs) = app.get_json(Some(&ann), &format!("/api/visitors/{}/profile", stranger.id)).await;
    let listed: Vec<String> =
        theirs["chats"].as_array().expect("chats").iter().map(|c| text(&c["chat_id"])).collect();
    assert_eq!(listed, [others]);
    let (status, body) = app.get_json(Some(&bob), &format!("/api/visitors/{}/profile", stranger.id)).await;
    assert_eq!((status, text(&body["error"]["code"])), (403, "forbidden".to_string()), "{body}");
    assert_eq!(app.get_json(Some(&laptop), &path).await.0, 403, "a visitor does not read profiles");
    let unknown = format!("/api/visitors/{}/profile", uuid::Uuid::new_v4());
    let (status, body) = app.get_json(Some(&admin), &unknown).await;
    assert_eq!((status, text(&body["error"]["code"])), (404, "visitor_not_found".to_string()), "{body}");
    assert_eq!(
        app.get_json(Some(&ann), &unknown).await.0,
        403,
        "an agent learns nothing of unknown visitors"
    );
    let (status, body) = app.get_json(Some(&admin), "/api/visitors/nope/profile").await;
    assert_eq!((status, text(&body["error"]["field"])), (400, "visitor_id".to_string()), "{body}");
    let (status, body) = app.get_json(Some(&admin), &format!("{path}?limit=0")).await;
    assert_eq!((status, text(&body["error"]["field"])), (400, "limit".to_string()), "{body}");
    let (status, body) = app.get_json(Some(&admin), &format!("{path}?before=1&before_chat=x")).await;
    assert_eq!((status, text(&body["error"]["field"])), (400, "before_chat".to_string()), "{body}");
    app.stop().await;
}

async fn the_agent_serving_a_visitor_reads_its_earlier_chats_and_nobody_else_does(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ann = app.online_agent("TR1", 2).await;
    let bob = app.online_agent("TR2", 2).await;
    let carl = app.online_agent("TR3", 2).await;
    let visitor = app.visitor().await;
    let stranger = app.visitor().await;

    let earlier = app.start_chat(&visitor, &bob).await;
    app.send(&visitor, &earlier, "e1", "my order is late").await;
    assert_eq!(app.close_chat_raw(&visitor, &earlier).await.status(), 200);
    let transcript = format!("/api/chats/{earlier}/messages");
    assert_eq!(app.get_json(Some(&ann), &transcript).await.0, 403, "ann serves the visitor in no chat yet");

    let now = app.start_chat(&visitor, &ann).await;
    let (status, body) = app.get_json(Some(&ann), &transcript).await;
    assert_eq!(status, 200, "{body}");
    let bodies: Vec<&str> = body["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|event| event["type"] == "message")
        .filter_map(|event| event["body"].as_str())
        .collect();
    assert_eq!(bodies, ["my order is late"]);
    assert_eq!(app.get_json(Some(&carl), &transcript).await.0, 403, "another agent may not");
    assert_eq!(app.get_json(Some(&stranger), &transcript).await.0, 403, "nor another visitor");
    assert_eq!(app.get_json(Some(&bob), &transcript).await.0, 200, "the chat's own agent still may");

    // Serving a visitor opens its chats, not others': ann's own stranger's chat with carl stays shut.
    let others = app.start_chat(&stranger, &carl).await;
    assert_eq!(app.get_json(Some(&ann), &format!("/api/chats/{others}/messages")).await.0, 403);

    // Once the chat ends, ann no longer serves the visitor.
    assert_eq!(app.close_chat_raw(&ann, &now).await.status(), 200);
    assert_eq!(app.get_json(Some(&ann), &transcript).await.0, 403);
    app.stop().await;
}
