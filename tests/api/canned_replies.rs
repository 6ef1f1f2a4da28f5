//! Canned replies kept by the server: the team's (admins change them) and each agent's own
//! (nobody else sees them), with shortcuts unique per scope, and the one-time import of the
//! replies a console kept in its browser.

use serde_json::{json, Value};

use crate::helpers::{text, Backend, Participant, TestApp};
use crate::on_every_backend;

on_every_backend!(
    each_agent_sees_the_team_replies_and_its_own_and_changes_only_what_it_may,
    bad_input_is_refused_naming_the_field_and_stores_nothing,
    an_import_adds_an_agents_own_replies_once_with_shortcuts_made_from_their_text,
    a_scope_holds_at_most_its_limit_of_replies,
);

/// `GET /api/canned` as `who`: the replies, as `scope/shortcut=body`, in the order answered.
async fn listed(app: &TestApp, who: &Participant) -> Vec<String> {
    let (status, body) = app.get_json(Some(who), "/api/canned").await;
    assert_eq!(status, 200, "{body}");
    body["canned"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|reply| {
            format!("{}/{}={}", text(&reply["scope"]), text(&reply["shortcut"]), text(&reply["body"]))
        })
        .collect()
}

/// Creates a reply as `who`; the status and answer.
async fn create(app: &TestApp, who: &Participant, scope: &str, shortcut: &str, body: &str) -> (u16, Value) {
    app.post_json(Some(who), "/api/canned", json!({"scope": scope, "shortcut": shortcut, "body": body})).await
}

/// Creates a reply as `who`, which must succeed; its id.
async fn created(app: &TestApp, who: &Participant, scope: &str, shortcut: &str, body: &str) -> String {
    let (status, answer) = create(app, who, scope, shortcut, body).await;
    assert_eq!(status, 201, "{answer}");
    text(&answer["canned"]["canned_id"])
}

fn assert_error(answer: &(u16, Value), status: u16, code: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["error"]["code"], code, "{}", answer.1);
}

async fn each_agent_sees_the_team_replies_and_its_own_and_changes_only_what_it_may(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin("A1").await;
    let ann = app.agent("E1", 2).await;
    let bob = app.agent("E2", 2).await;

    let team = created(&app, &admin, "team", "refund", "Your refund is on its way.").await;
    // Ann's own may share the team's shortcut (hers wins in her console); Bob's may share hers.
    let anns = created(&app, &ann, "personal", "refund", "I have sent your refund.").await;
    created(&app, &ann, "personal", "hi", "Hi, Ann here!").await;
    let bobs = created(&app, &bob, "personal", "hi", "Hi, Bob here!").await;

    assert_eq!(
        listed(&app, &ann).await,
        [
            "team/refund=Your refund is on its way.",
            "personal/hi=Hi, Ann here!",
            "personal/refund=I have sent your refund."
        ]
    );
    assert_eq!(
        listed(&app, &bob).await,
        ["team/refund=Your refund is on its way.", "personal/hi=Hi, Bob here!"]
    );
    assert_eq!(
        listed(&app, &admin).await,
        ["team/refund=Your refund is on its way."],
        "admins see no agent's own"
    );
    let (_, body) = app.get_json(Some(&ann), "/api/canned").await;
    let can_edit: Vec<bool> =
        body["canned"].as_array().expect("list").iter().map(|r| r["can_edit"] == true).collect();
    assert_eq!(can_edit, [false, true, true]);

    // A plain agent cannot create, edit or delete a team reply.
    assert_error(&create(&app, &ann, "team", "other", "x").await, 403, "forbidden");
    let edit = json!({"body": "Changed"});
    assert_error(
        &app.post_json(Some(&ann), &format!("/api/canned/{team}"), edit.clone()).await,
        403,
        "forbidden",
    );
    assert_error(
        &app.post_json(Some(&ann), &format!("/api/canned/{team}/delete"), json!({})).await,
        403,
        "forbidden",
    );
    // Another agent's own reply does not exist for anyone else, admins included.
    for who in [&ann, &admin] {
        assert_error(
            &app.post_json(Some(who), &format!("/api/canned/{bobs}"), edit.clone()).await,
            404,
            "canned_reply_not_found",
        );
        assert_error(
            &app.post_json(Some(who), &format!("/api/canned/{bobs}/delete"), json!({})).await,
            404,
            "canned_reply_not_found",
        );
    }
    assert_eq!(
        listed(&app, &bob).await,
        ["team/refund=Your refund is on its way.", "personal/hi=Hi, Bob here!"]
    );

    // An admin edits the team's; every agent sees it. An agent edits and deletes its own.
    let (status, answer) = app
        .post_json(
            Some(&admin),
            &format!("/api/canned/{team}"),
            json!({"shortcut": "refunds", "body": "Refunded."}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["canned"]["shortcut"], "refunds");
    let (status, _) =
        app.post_json(Some(&ann), &format!("/api/canned/{anns}"), json!({"body": "Sent!"})).await;
    assert_eq!(status, 200);
    assert_eq!(
        listed(&app, &ann).await,
        ["team/refunds=Refunded.", "personal/hi=Hi, Ann here!", "personal/refund=Sent!"]
    );
    let (status, _) = app.post_json(Some(&ann), &format!("/api/canned/{anns}/delete"), json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(listed(&app, &ann).await, ["team/refunds=Refunded.", "personal/hi=Hi, Ann here!"]);
    let (status, _) = app.post_json(Some(&admin), &format!("/api/canned/{team}/delete"), json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(listed(&app, &bob).await, ["personal/hi=Hi, Bob here!"]);

    // Visitors have no canned replies; no token is 401.
    let visitor = app.visitor().await;
    assert_error(&app.get_json(Some(&visitor), "/api/canned").await, 403, "forbidden");
    assert_error(&create(&app, &visitor, "personal", "x", "x").await, 403, "forbidden");
    assert_error(&app.get_json(None, "/api/canned").await, 401, "unauthorized");
    app.stop().await;
}

async fn bad_input_is_refused_naming_the_field_and_stores_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ann = app.agent("E1", 2).await;
    let id = created(&app, &ann, "personal", "refund", "Your refund is on its way.").await;
    let max = app.services.settings.chat.max_message_chars;
    let too_long = "x".repeat(max + 1);
    let cases = [
        (json!({"scope": "personal", "shortcut": "/refund2", "body": "x"}), "shortcut"),
        (json!({"scope": "personal", "shortcut": "Refund2", "body": "x"}), "shortcut"),
        (json!({"scope": "personal", "shortcut": "x".repeat(33), "body": "x"}), "shortcut"),
        (json!({"scope": "personal", "shortcut": "a\u{0}", "body": "x"}), "shortcut"),
        (json!({"scope": "personal", "body": "x"}), "shortcut"),
        (json!({"scope": "mine", "shortcut": "ok", "body": "x"}), "scope"),
        (json!({"shortcut": "ok", "body": "x"}), "scope"),
        (json!({"scope": "personal", "shortcut": "ok", "body": "   "}), "body"),
        (json!({"scope": "personal", "shortcut": "ok", "body": too_long}), "body"),
        (json!({"scope": "personal", "shortcut": "ok", "body": "a\u{0}b"}), "body"),
        (json!({"scope": "personal", "shortcut": "ok", "body": 7}), "body"),
    ];
    for (fields, field) in cases {
        let (status, answer) = app.post_json(Some(&ann), "/api/canned", fields.clone()).await;
        assert_eq!(status, 400, "{fields}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{fields}: {answer}");
    }
    // The same shortcut twice in one scope.
    let taken = create(&app, &ann, "personal", "refund", "Again").await;
    assert_error(&taken, 409, "shortcut_taken");
    assert_eq!(taken.1["error"]["field"], "shortcut");
    let other = created(&app, &ann, "personal", "other", "Other").await;
    let renamed =
        app.post_json(Some(&ann), &format!("/api/canned/{other}"), json!({"shortcut": "refund"})).await;
    assert_error(&renamed, 409, "shortcut_taken");
    // Edits: nothing to change, a bad id, an unknown one, a bad value.
    let path = format!("/api/canned/{id}");
    assert_error(&app.post_json(Some(&ann), &path, json!({})).await, 400, "missing_field");
    assert_error(&app.post_json(Some(&ann), &path, json!({"body": "a\u{0}"})).await, 400, "invalid_field");
    assert_error(
        &app.post_json(Some(&ann), "/api/canned/nope", json!({"body": "x"})).await,
        400,
        "invalid_field",
    );
    let unknown = format!("/api/canned/{}", uuid::Uuid::new_v4());
    assert_error(
        &app.post_json(Some(&ann), &unknown, json!({"body": "x"})).await,
        404,
        "canned_reply_not_found",
    );
    assert_error(&import(&app, &ann, "a\u{0}").await, 400, "invalid_field");
    assert_error(&import(&app, &ann, " ").await, 400, "invalid_field");
    assert_error(&app.post_json(Some(&ann), "/api/canned/import", json!({})).await, 400, "missing_field");

    assert_eq!(
        listed(&app, &ann).await,
        ["personal/other=Other", "personal/refund=Your refund is on its way."]
    );
    app.stop().await;
}

/// `POST /api/canned/import` of `body` as `who`: the status and answer.
async fn import(app: &TestApp, who: &Participant, body: &str) -> (u16, Value) {
    app.post_json(Some(who), "/api/canned/import", json!({ "body": body })).await
}

async fn an_import_adds_an_agents_own_replies_once_with_shortcuts_made_from_their_text(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ann = app.agent("E1", 2).await;
    let bob = app.agent("E2", 2).await;
    created(&app, &ann, "personal", "hello-thanks", "Already mine").await;
    let texts =
        ["Hello! Thanks for reaching out", "Let me check that for you.", "Hello! Thanks for reaching out"];
    let mut answers = Vec::new();
    for reply in texts {
        let (status, answer) = import(&app, &ann, reply).await;
        answers.push((status, answer["imported"].clone(), text(&answer["canned"]["shortcut"])));
    }
    assert_eq!(
        answers,
        [
            (201, json!(true), "hello-thanks-2".to_string()),
            (201, json!(true), "let-me".to_string()),
            (200, json!(false), "hello-thanks-2".to_string()),
        ],
        "a text Ann has already is answered with her reply, and nothing is added"
    );
    let (status, answer) = import(&app, &ann, "Already mine").await;
    assert_eq!((status, answer["imported"].clone()), (200, json!(false)));
    assert_eq!(
        listed(&app, &ann).await,
        [
            "personal/hello-thanks=Already mine",
            "personal/hello-thanks-2=Hello! Thanks for reaching out",
            "personal/let-me=Let me check that for you.",
        ]
    );
    assert_eq!(listed(&app, &bob).await, Vec::<String>::new(), "an import is the importer's own");
    app.stop().await;
}

async fn a_scope_holds_at_most_its_limit_of_replies(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ann = app.agent("E1", 2).await;
    let admin = app.admin("A1").await;
    for n in 0..200 {
        let (status, answer) = import(&app, &ann, &format!("Reply number {n}")).await;
        assert_eq!(status, 201, "{answer}");
    }
    assert_eq!(listed(&app, &ann).await.len(), 200);
    assert_error(&create(&app, &ann, "personal", "one-more", "x").await, 409, "too_many_canned_replies");
    assert_error(&import(&app, &ann, "One more").await, 409, "too_many_canned_replies");
    // The limit is per scope: the team's and another agent's are not full.
    created(&app, &admin, "team", "one-more", "x").await;
    created(&app, &admin, "personal", "one-more", "x").await;
    app.stop().await;
}
