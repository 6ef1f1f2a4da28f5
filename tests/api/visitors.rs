//! Visitor page tracking and the list of visitors on the site now.

use serde_json::{json, Value};

use crate::helpers::{text, Backend, Participant, TestApp};
use crate::on_every_backend;

on_every_backend!(
    the_page_a_visitor_reports_shows_in_the_online_list_newest_activity_first,
    only_agents_and_admins_see_who_is_online,
    a_bad_page_is_a_400_naming_the_field_and_changes_nothing,
);

fn code(body: &Value) -> (&str, Option<&str>) {
    (body["error"]["code"].as_str().unwrap_or("<none>"), body["error"]["field"].as_str())
}

/// A visitor created on a page, with a browser user agent.
async fn visitor_on(app: &TestApp, page: Value) -> Participant {
    let response = app
        .client
        .post(app.url("/api/visitors"))
        .header("user-agent", "Mozilla/5.0 (Test)")
        .json(&page)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.expect("json");
    Participant { id: text(&body["visitor_id"]), token: text(&body["token"]) }
}

/// The listed visitors, in order, as the agent sees them.
async fn online(app: &TestApp, agent: &Participant) -> Vec<Value> {
    let (status, body) = app.get_json(Some(agent), "/api/visitors/online").await;
    assert_eq!(status, 200, "{body}");
    body["visitors"].as_array().cloned().expect("visitors array")
}

fn ids(listed: &[Value]) -> Vec<String> {
    listed.iter().map(|v| text(&v["visitor_id"])).collect()
}

async fn the_page_a_visitor_reports_shows_in_the_online_list_newest_activity_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let ann = visitor_on(
        &app,
        json!({"name": "Ann", "page_url": "https://shop.example/", "page_title": "Shop", "referrer": "https://search.example/?q=shoes"}),
    )
    .await;
    app.poll(&ann, "", Some(0)).await;
    let never_polled = visitor_on(&app, json!({"page_url": "https://shop.example/hidden"})).await;

    let listed = online(&app, &agent).await;
    assert_eq!(ids(&listed), vec![ann.id.clone()], "only visitors polling now are listed");
    let row = &listed[0];
    assert_eq!(
        (row["name"].as_str(), row["page_url"].as_str(), row["page_title"].as_str()),
        (Some("Ann"), Some("https://shop.example/"), Some("Shop"))
    );
    assert_eq!(row["referrer"], "https://search.example/?q=shoes");
    assert_eq!(row["user_agent"], "Mozilla/5.0 (Test)");
    assert_eq!(row["in_chat"], false);
    let first_seen = row["first_seen"].as_i64().expect("first_seen");
    assert!(row["last_seen_at"].as_i64().expect("last_seen_at") >= first_seen);
    assert!(row["on_site_ms"].as_i64().expect("on_site_ms") >= 0);

    // Bob arrives without a page, then navigates: he is newest.
    let bob = app.visitor().await;
    app.poll(&bob, "", Some(0)).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (status, _) =
        app.post_json(Some(&bob), "/api/visitors/page", json!({"page_url": "https://shop.example/b"})).await;
    assert_eq!(status, 200);
    let listed = online(&app, &agent).await;
    assert_eq!(ids(&listed), vec![bob.id.clone(), ann.id.clone()]);
    assert_eq!(
        (listed[0]["page_url"].as_str(), listed[0]["page_title"].as_str()),
        (Some("https://shop.example/b"), None)
    );

    // Ann navigates: her page and title change, her referrer (where she came from) stays, and
    // she is newest again; nobody drops out of the list.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (status, body) = app
        .post_json(
            Some(&ann),
            "/api/visitors/page",
            json!({"page_url": "https://shop.example/cart", "page_title": "Cart"}),
        )
        .await;
    assert_eq!((status, body["page_url"].as_str()), (200, Some("https://shop.example/cart")));
    let listed = online(&app, &agent).await;
    assert_eq!(ids(&listed), vec![ann.id.clone(), bob.id.clone()]);
    assert_eq!(
        (listed[0]["page_url"].as_str(), listed[0]["page_title"].as_str()),
        (Some("https://shop.example/cart"), Some("Cart"))
    );
    assert_eq!(listed[0]["referrer"], "https://search.example/?q=shoes");
    assert_eq!(listed[0]["first_seen"].as_i64(), Some(first_seen), "first seen never moves");
    assert!(listed[0]["last_seen_at"].as_i64() > Some(first_seen));

    // A chat going shows as in_chat.
    app.start_chat(&bob, &agent).await;
    let listed = online(&app, &agent).await;
    let in_chat: Vec<(String, bool)> =
        listed.iter().map(|v| (text(&v["visitor_id"]), v["in_chat"].as_bool().expect("bool"))).collect();
    assert_eq!(in_chat, vec![(ann.id.clone(), false), (bob.id.clone(), true)]);
    assert!(!ids(&listed).contains(&never_polled.id));
}

async fn only_agents_and_admins_see_who_is_online(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin("A1").await;
    let agent = app.agent("E1", 2).await;
    let visitor = visitor_on(&app, json!({"page_url": "https://shop.example/"})).await;
    app.poll(&visitor, "", Some(0)).await;

    let (status, body) = app.get_json(None, "/api/visitors/online").await;
    assert_eq!((status, code(&body).0), (401, "unauthorized"));
    let (status, body) = app.get_json(Some(&visitor), "/api/visitors/online").await;
    assert_eq!((status, code(&body).0), (403, "forbidden"));
    for who in [&agent, &admin] {
        let (status, body) = app.get_json(Some(who), "/api/visitors/online").await;
        assert_eq!(status, 200);
        assert_eq!(body["visitors"][0]["visitor_id"], visitor.id.as_str());
    }
    // Reporting a page is for visitors only.
    let page = json!({"page_url": "https://shop.example/x"});
    let (status, body) = app.post_json(Some(&agent), "/api/visitors/page", page.clone()).await;
    assert_eq!((status, code(&body).0), (403, "forbidden"));
    let (status, body) = app.post_json(None, "/api/visitors/page", page).await;
    assert_eq!((status, code(&body).0), (401, "unauthorized"));
}

async fn a_bad_page_is_a_400_naming_the_field_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 2).await;
    let before = app.store_counts().await;
    let refused: Vec<(Value, (&str, Option<&str>))> = vec![
        (json!({"page_url": "javascript:alert(1)"}), ("invalid_field", Some("page_url"))),
        (
            json!({"page_url": format!("https://a.example/{}", "x".repeat(2048))}),
            ("invalid_field", Some("page_url")),
        ),
        (json!({"page_url": 42}), ("invalid_field", Some("page_url"))),
        (json!({"page_title": "No URL"}), ("missing_field", Some("page_url"))),
        (
            json!({"page_url": "https://a.example/", "page_title": "t".repeat(513)}),
            ("invalid_field", Some("page_title")),
        ),
        (
            json!({"page_url": "https://a.example/", "referrer": "r".repeat(2049)}),
            ("invalid_field", Some("referrer")),
        ),
    ];
    for (body, expected) in &refused {
        let (status, answer) = app.post_json(None, "/api/visitors", body.clone()).await;
        assert_eq!((status, code(&answer)), (400, *expected), "create with {body}");
    }
    assert_eq!(app.store_counts().await, before, "no visitor was created");

    let visitor =
        visitor_on(&app, json!({"page_url": "https://a.example/start", "page_title": "Start"})).await;
    app.poll(&visitor, "", Some(0)).await;
    let (status, answer) =
        app.post_json(Some(&visitor), "/api/visitors/page", json!({"page_title": "x"})).await;
    assert_eq!((status, code(&answer)), (400, ("missing_field", Some("page_url"))));
    for (body, expected) in refused.into_iter().filter(|(body, _)| body.get("page_url").is_some()) {
        let (status, answer) = app.post_json(Some(&visitor), "/api/visitors/page", body.clone()).await;
        assert_eq!((status, code(&answer)), (400, expected), "page with {body}");
    }
    let listed = online(&app, &agent).await;
    assert_eq!(
        (listed[0]["page_url"].as_str(), listed[0]["page_title"].as_str()),
        (Some("https://a.example/start"), Some("Start")),
        "refused reports changed nothing"
    );
}
