//! Pre-chat forms: admins set a site's fields, the widget reads them, and a visitor's answers
//! are checked against them on the server when its chat starts, stored with the chat and shown
//! to the agent as text.

use serde_json::{json, Value};

use crate::helpers::{text, Backend, Encoding, TestApp};
use crate::on_every_backend;
use crate::wire::Participant;

on_every_backend!(
    an_admin_sets_a_form_and_the_widget_reads_it,
    every_bad_form_is_refused_naming_fields_and_stores_nothing,
    answers_are_checked_on_the_server_and_a_refusal_starts_no_chat,
    answers_reach_the_agent_verbatim_as_text,
    without_a_form_there_is_nothing_to_answer,
    a_verified_visitor_is_not_asked_its_name_and_email,
);

fn form() -> Value {
    json!([
        {"name": "full_name", "type": "name", "label": "Your name", "required": true},
        {"name": "email", "type": "email", "label": "Email", "required": true},
        {"name": "phone", "type": "phone", "label": "Phone"},
        {"name": "question", "type": "text", "label": "Your question", "required": true},
        {"name": "topic", "type": "choice", "label": "Topic", "options": ["Billing", "Orders"]},
    ])
}

/// A site made by a new admin `employee_id`, with `fields` as its form; the admin and the site id.
async fn site_with_form(app: &TestApp, employee_id: &str, fields: Value) -> (Participant, String) {
    let admin = app.admin(employee_id).await;
    let (status, answer) = app
        .post_json(
            Some(&admin),
            "/api/admin/sites",
            json!({"name": "Shop", "origins": ["https://shop.example"]}),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    let site_id = text(&answer["site"]["site_id"]);
    let path = format!("/api/admin/sites/{site_id}/prechat-form");
    let (status, answer) = app.post_json(Some(&admin), &path, json!({ "fields": fields })).await;
    assert_eq!(status, 200, "{answer}");
    (admin, site_id)
}

async fn visitor_of(app: &TestApp, site_id: &str) -> Participant {
    let (status, answer) = app.post_json(None, "/api/visitors", json!({"site_id": site_id})).await;
    assert_eq!(status, 201, "{answer}");
    Participant { id: text(&answer["visitor_id"]), token: text(&answer["token"]) }
}

/// The form as the widget reads it, with the site's look (no token).
async fn public_form(app: &TestApp, site_id: &str) -> Value {
    let (status, answer) = app.get_json(None, &format!("/api/sites/{site_id}/widget")).await;
    assert_eq!(status, 200, "{answer}");
    answer["prechat_form"].clone()
}

async fn an_admin_sets_a_form_and_the_widget_reads_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, site_id) = site_with_form(&app, "A1", json!([])).await;
    assert_eq!(public_form(&app, &site_id).await, json!([]));

    let path = format!("/api/admin/sites/{site_id}/prechat-form");
    let (status, answer) = app.post_json(Some(&admin), &path, json!({ "fields": form() })).await;
    assert_eq!(status, 200, "{answer}");
    let mut expected = form();
    for field in expected.as_array_mut().expect("list") {
        if field.get("required").is_none() {
            field["required"] = json!(false);
        }
    }
    assert_eq!(answer["site"]["prechat_form"], expected, "the site view shows the form as stored");
    assert_eq!(answer["site"]["site_id"], json!(site_id));
    assert_eq!(public_form(&app, &site_id).await, expected, "the widget reads it without a token");

    // A form body sends the list as a JSON text.
    let one = json!([{"name": "q", "type": "text", "label": "Question <b>", "required": true}]);
    let (status, answer) =
        app.post_encoded(Some(&admin), &path, Encoding::Form, &json!({ "fields": one.to_string() })).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(public_form(&app, &site_id).await, one, "labels are kept verbatim");

    // Who may change it, and which site.
    let agent = app.agent("E1", 1).await;
    let (status, answer) = app.post_json(Some(&agent), &path, json!({ "fields": [] })).await;
    assert_eq!((status, text(&answer["error"]["code"])), (403, "forbidden".to_string()));
    assert_eq!(app.post_json(None, &path, json!({ "fields": [] })).await.0, 401);
    let unknown = format!("/api/admin/sites/{}/prechat-form", uuid::Uuid::new_v4());
    let (status, answer) = app.post_json(Some(&admin), &unknown, json!({ "fields": [] })).await;
    assert_eq!((status, text(&answer["error"]["code"])), (404, "site_not_found".to_string()));
    assert_eq!(public_form(&app, &site_id).await, one, "refused calls changed nothing");

    // An empty list removes the form.
    let (status, _) = app.post_json(Some(&admin), &path, json!({ "fields": [] })).await;
    assert_eq!(status, 200);
    assert_eq!(public_form(&app, &site_id).await, json!([]));
}

async fn every_bad_form_is_refused_naming_fields_and_stores_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, site_id) = site_with_form(&app, "A1", form()).await;
    let before = public_form(&app, &site_id).await;
    let path = format!("/api/admin/sites/{site_id}/prechat-form");
    let field = |change: Value| {
        let mut base = json!({"name": "a", "type": "text", "label": "A"});
        for (key, value) in change.as_object().expect("object") {
            base[key] = value.clone();
        }
        json!([base])
    };
    let bad = [
        json!({"a": 1}),
        json!("not a list"),
        json!([1]),
        field(json!({"name": "Bad Name"})),
        field(json!({"name": ""})),
        field(json!({"name": "x".repeat(33)})),
        field(json!({"type": "date"})),
        field(json!({"label": ""})),
        field(json!({"label": "x".repeat(101)})),
        field(json!({"label": "a\u{1b}b"})),
        field(json!({"label": "a\u{0}b"})),
        field(json!({"required": 1})),
        field(json!({"options": ["x"]})),
        field(json!({"type": "choice"})),
        field(json!({"type": "choice", "options": []})),
        field(json!({"type": "choice", "options": ["x", "x"]})),
        field(json!({"type": "choice", "options": ["x".repeat(101)]})),
        field(json!({"type": "choice", "options": (0..21).map(|i| format!("o{i}")).collect::<Vec<_>>()})),
        field(json!({"placeholder": "x"})),
        json!([{"name": "a", "type": "text", "label": "A"}, {"name": "a", "type": "email", "label": "B"}]),
        json!((0..11)
            .map(|i| json!({"name": format!("f{i}"), "type": "text", "label": "L"}))
            .collect::<Vec<_>>()),
    ];
    for fields in bad {
        let (status, answer) = app.post_json(Some(&admin), &path, json!({ "fields": fields })).await;
        assert_eq!(status, 400, "{fields}: {answer}");
        assert_eq!(answer["error"]["code"], "invalid_field", "{fields}: {answer}");
        assert_eq!(answer["error"]["field"], "fields", "{fields}: {answer}");
    }
    let (status, answer) = app.post_json(Some(&admin), &path, json!({})).await;
    assert_eq!((status, text(&answer["error"]["code"])), (400, "missing_field".to_string()), "{answer}");
    let (status, answer) =
        app.post_encoded(Some(&admin), &path, Encoding::Form, &json!({"fields": "[{\"name\":"})).await;
    assert_eq!((status, text(&answer["error"]["field"])), (400, "fields".to_string()), "{answer}");
    assert_eq!(public_form(&app, &site_id).await, before, "nothing was stored");
}

/// `POST /api/chats` as `visitor` with `body`; the status and answer.
async fn start(app: &TestApp, visitor: &Participant, body: Value) -> (u16, Value) {
    app.post_json(Some(visitor), "/api/chats", body).await
}

async fn answers_are_checked_on_the_server_and_a_refusal_starts_no_chat(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, site_id) = site_with_form(&app, "A1", form()).await;
    let agent = app.online_agent("E1", 5).await;
    let visitor = visitor_of(&app, &site_id).await;
    let good = json!({"full_name": "Ana", "email": "ana@example.com", "question": "Where is my order?"});
    let with = |key: &str, value: Value| {
        let mut answers = good.clone();
        match value {
            Value::Null => {
                answers.as_object_mut().expect("object").remove(key);
            }
            value => answers[key] = value,
        }
        answers
    };
    let before = app.store_counts().await;
    for (answers, names) in [
        (with("question", Value::Null), "question"),
        (with("question", json!("   ")), "question"),
        (with("full_name", Value::Null), "full_name"),
        (with("email", json!("ana.example.com")), "email"),
        (with("phone", json!("call me maybe")), "phone"),
        (with("phone", json!("123")), "phone"),
        (with("question", json!("x".repeat(1001))), "question"),
        (with("question", json!("a\u{7}b")), "question"),
        (with("full_name", json!("Ana\nBob")), "full_name"),
        (with("topic", json!("Refunds")), "topic"),
        (with("topic", json!(["Billing"])), "topic"),
        (with("favourite_colour", json!("blue")), "favourite_colour"),
    ] {
        for agent_id in [Some(agent.id.clone()), None] {
            let body = json!({ "agent_id": agent_id, "prechat": answers });
            let (status, answer) = start(&app, &visitor, body).await;
            assert_eq!(status, 400, "{answers}: {answer}");
            assert_eq!(answer["error"]["code"], "invalid_field", "{answer}");
            assert_eq!(answer["error"]["field"], "prechat", "{answer}");
            assert!(text(&answer["error"]["message"]).contains(names), "names the form's field: {answer}");
        }
    }
    for body in [json!({}), json!({"prechat": "not an object"}), json!({"prechat": []})] {
        let (status, answer) = start(&app, &visitor, body.clone()).await;
        assert_eq!(
            (status, text(&answer["error"]["field"])),
            (400, "prechat".to_string()),
            "{body}: {answer}"
        );
    }
    assert_eq!(app.store_counts().await, before, "no chat was made by any refused start");

    // A form body sends the answers as a JSON text.
    let phone = with("phone", json!("+82 (10) 1234-5678"));
    let (status, answer) = app
        .post_encoded(
            Some(&visitor),
            "/api/chats",
            Encoding::Form,
            &json!({"agent_id": agent.id, "prechat": phone.to_string()}),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    let chat_id = text(&answer["chat_id"]);
    let (_, details) = app.get_json(Some(&agent), &format!("/api/chats/{chat_id}")).await;
    let phone_answer =
        details["prechat"].as_array().expect("answers").iter().find(|a| a["name"] == "phone").cloned();
    assert_eq!(phone_answer, Some(json!({"name": "phone", "label": "Phone", "value": "+82 (10) 1234-5678"})));
}

async fn answers_reach_the_agent_verbatim_as_text(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, site_id) = site_with_form(&app, "A1", form()).await;
    let agent = app.online_agent("E1", 5).await;
    let visitor = visitor_of(&app, &site_id).await;
    let answers = json!({"full_name": " <b>x</b> ", "email": "ana@example.com",
        "question": "<script>alert(1)</script>\nsecond line & \"quotes\"", "topic": "Orders", "phone": ""});
    let (status, answer) = start(&app, &visitor, json!({ "prechat": answers })).await;
    assert_eq!(status, 201, "{answer}");
    let chat_id = text(&answer["chat_id"]);
    let expected = json!([
        {"name": "full_name", "label": "Your name", "value": "<b>x</b>"},
        {"name": "email", "label": "Email", "value": "ana@example.com"},
        {"name": "question", "label": "Your question", "value": "<script>alert(1)</script>\nsecond line & \"quotes\""},
        {"name": "topic", "label": "Topic", "value": "Orders"},
    ]);
    for who in [&agent, &admin, &visitor] {
        let (status, details) = app.get_json(Some(who), &format!("/api/chats/{chat_id}")).await;
        assert_eq!(status, 200, "{details}");
        assert_eq!(details["prechat"], expected, "answers in the form's order, trimmed, markup kept as text");
    }
    let stranger = app.agent("E2", 1).await;
    assert_eq!(app.get_json(Some(&stranger), &format!("/api/chats/{chat_id}")).await.0, 403);

    // Changing the form later leaves the chat's answers (and their labels) as given.
    let path = format!("/api/admin/sites/{site_id}/prechat-form");
    assert_eq!(app.post_json(Some(&admin), &path, json!({ "fields": [] })).await.0, 200);
    let (_, details) = app.get_json(Some(&agent), &format!("/api/chats/{chat_id}")).await;
    assert_eq!(details["prechat"], expected);
}

async fn without_a_form_there_is_nothing_to_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, site_id) = site_with_form(&app, "A1", json!([])).await;
    let agent = app.online_agent("E1", 5).await;
    for visitor in [app.visitor().await, visitor_of(&app, &site_id).await] {
        let before = app.store_counts().await;
        let (status, answer) = start(&app, &visitor, json!({"prechat": {"question": "hi"}})).await;
        assert_eq!((status, text(&answer["error"]["field"])), (400, "prechat".to_string()), "{answer}");
        assert_eq!(app.store_counts().await, before);
        let (status, answer) = start(&app, &visitor, json!({"agent_id": agent.id, "prechat": {}})).await;
        assert_eq!(status, 201, "{answer}");
        let (_, details) =
            app.get_json(Some(&agent), &format!("/api/chats/{}", text(&answer["chat_id"]))).await;
        assert_eq!(details["prechat"], Value::Null, "no form, no answers: {details}");
        assert_eq!(app.close_chat_raw(&visitor, &text(&answer["chat_id"])).await.status(), 200);
    }
}

async fn a_verified_visitor_is_not_asked_its_name_and_email(backend: Backend) {
    use diesel::prelude::*;
    use switchboard::store::schema::visitors;

    let app = TestApp::spawn(backend).await;
    let (_, site_id) = site_with_form(&app, "A1", form()).await;
    let agent = app.online_agent("E1", 5).await;
    let visitor = visitor_of(&app, &site_id).await;
    // What the identity check writes for a visitor whose site signed its identity.
    let id = switchboard::domain::VisitorId::parse(&visitor.id, "visitor_id").expect("id");
    app.services
        .store
        .write(move |conn| {
            diesel::update(visitors::table.find(id))
                .set((
                    visitors::verified.eq(1),
                    visitors::name.eq("Ana Verified"),
                    visitors::email.eq(Some("ana@shop.example")),
                ))
                .execute(conn)
                .map_err(switchboard::store::StoreError::from)
        })
        .await
        .expect("verify");

    let (status, answer) = start(&app, &visitor, json!({"prechat": {"question": "Hi"}})).await;
    assert_eq!(status, 201, "{answer}");
    let (_, details) = app.get_json(Some(&agent), &format!("/api/chats/{}", text(&answer["chat_id"]))).await;
    assert_eq!(
        details["prechat"],
        json!([
            {"name": "full_name", "label": "Your name", "value": "Ana Verified"},
            {"name": "email", "label": "Email", "value": "ana@shop.example"},
            {"name": "question", "label": "Your question", "value": "Hi"},
        ]),
        "name and email come from the identity"
    );
    assert_eq!(app.close_chat_raw(&visitor, &text(&answer["chat_id"])).await.status(), 200);
    // The other fields are still required of it.
    let (status, answer) = start(&app, &visitor, json!({"prechat": {}})).await;
    assert_eq!((status, text(&answer["error"]["field"])), (400, "prechat".to_string()), "{answer}");
}
