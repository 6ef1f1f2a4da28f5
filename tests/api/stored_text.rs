//! The one rule for NUL (U+0000) in stored text: every text field the server stores refuses it
//! with `400 invalid_field` naming the field, in every content type and on both stores, and
//! nothing is stored (PostgreSQL's `text` cannot hold a NUL; SQLite would have kept it).

use serde_json::{json, Value};
use switchboard::store::{self, StoreError};

use crate::helpers::{Backend, Encoding, Participant, StoreCounts, TestApp};
use crate::on_every_backend;

on_every_backend!(
    a_nul_in_any_stored_text_field_is_a_400_naming_it_and_stores_nothing,
    the_first_admin_s_name_may_not_hold_a_nul_either,
);

const NUL: &str = "a\u{0}b";
const PAGE: &str = "https://shop.example/cart";

/// Everything a refused request could have changed.
#[derive(Debug, PartialEq)]
struct Snapshot {
    counts: StoreCounts,
    ratings: i64,
    offline_messages: i64,
    agents: Value,
    announcements: Value,
    bans: Value,
    chat: Value,
}

async fn snapshot(app: &TestApp, admin: &Participant, chat: &str) -> Snapshot {
    let (ratings, offline_messages) = app
        .services
        .store
        .run(|conn| {
            Ok::<_, StoreError>((store::ratings::count(conn)?, store::offline_messages::count(conn)?))
        })
        .await
        .expect("store");
    let read = |path: String| async move {
        let (status, body) = app.get_json(Some(admin), &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    };
    Snapshot {
        counts: app.store_counts().await,
        ratings,
        offline_messages,
        agents: read("/api/admin/agents".into()).await,
        announcements: read("/api/admin/announcements".into()).await,
        bans: read("/api/bans".into()).await,
        // The visitor's page fields, which a page report replaces.
        chat: read(format!("/api/chats/{chat}")).await,
    }
}

async fn a_nul_in_any_stored_text_field_is_a_400_naming_it_and_stores_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin("A1").await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    let (rater, rated) = app.closed_chat(&agent).await;
    let before = snapshot(&app, &admin, &chat).await;

    let offline = |field: &str| {
        let mut body = json!({"name": "Ana", "email": "ana@example.com", "body": "Call me"});
        body[field] = json!(if field == "email" { "a\u{0}b@example.com" } else { NUL });
        body
    };
    // (who, path, body, the field at fault)
    let cases: Vec<(Option<&Participant>, String, Value, &str)> = vec![
        (
            Some(&visitor),
            "/send".into(),
            json!({"chat_id": chat, "client_msg_id": "m-nul", "body": NUL}),
            "body",
        ),
        (Some(&rater), format!("/api/chats/{rated}/rating"), json!({"score": 4, "comment": NUL}), "comment"),
        (Some(&visitor), "/api/offline-messages".into(), offline("name"), "name"),
        (Some(&visitor), "/api/offline-messages".into(), offline("email"), "email"),
        (Some(&visitor), "/api/offline-messages".into(), offline("body"), "body"),
        (Some(&admin), "/api/admin/announcements".into(), json!({"body": NUL}), "body"),
        (Some(&agent), "/api/bans".into(), json!({"visitor_id": visitor.id, "reason": NUL}), "reason"),
        (None, "/api/visitors".into(), json!({"name": NUL}), "name"),
        (None, "/api/visitors".into(), json!({"page_url": format!("{PAGE}?q={NUL}")}), "page_url"),
        (None, "/api/visitors".into(), json!({"page_url": PAGE, "page_title": NUL}), "page_title"),
        (
            None,
            "/api/visitors".into(),
            json!({"page_url": PAGE, "referrer": format!("{PAGE}{NUL}")}),
            "referrer",
        ),
        (
            Some(&visitor),
            "/api/visitors/page".into(),
            json!({"page_url": format!("{PAGE}#{NUL}")}),
            "page_url",
        ),
        (
            Some(&visitor),
            "/api/visitors/page".into(),
            json!({"page_url": PAGE, "page_title": NUL}),
            "page_title",
        ),
        (Some(&visitor), "/api/visitors/page".into(), json!({"page_url": PAGE, "referrer": NUL}), "referrer"),
        (
            Some(&admin),
            "/api/admin/agents".into(),
            json!({"employee_id": "E9", "name": NUL, "password": "correct horse battery"}),
            "name",
        ),
        (Some(&admin), "/api/admin/agents/E1".into(), json!({"name": NUL}), "name"),
    ];

    let mut failures = Vec::new();
    for (who, path, body, field) in &cases {
        for encoding in Encoding::ALL {
            let (status, answer) = app.post_encoded(*who, path, encoding, body).await;
            let error = &answer["error"];
            if (status, error["code"].as_str(), error["field"].as_str())
                != (400, Some("invalid_field"), Some(*field))
            {
                failures.push(format!("{path} {field} as {encoding:?}: {status} {answer}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(snapshot(&app, &admin, &chat).await, before, "a refused NUL changed the store");
}

async fn the_first_admin_s_name_may_not_hold_a_nul_either(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = json!({"employee_id": "A1", "name": NUL, "password": "correct horse battery"});
    let (status, answer) = app.post_json(None, "/api/setup", body).await;
    assert_eq!((status, &answer["error"]["field"]), (400, &json!("name")), "{answer}");
    assert_eq!(app.get_json(None, "/api/setup").await, (200, json!({"needed": true})));
}
