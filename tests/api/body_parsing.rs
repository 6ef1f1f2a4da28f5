//! A body means one thing or is refused: a form whose bytes are not UTF-8 once percent-decoded
//! is `400 invalid_body` as in JSON, and a field given twice — a repeated JSON key at any
//! depth, a repeated form field — is `400 invalid_body` rather than one of the two silently.

use serde_json::json;
use switchboard::store::{self, StoreError};

use crate::helpers::{Backend, Encoding, Participant, TestApp};
use crate::on_every_backend;

on_every_backend!(
    a_form_that_is_not_utf8_once_decoded_is_a_400_and_stores_nothing,
    a_field_given_twice_is_a_400_in_every_content_type_and_stores_nothing,
);

const FORM: &str = "application/x-www-form-urlencoded";

async fn rating_count(app: &TestApp) -> i64 {
    app.services.store.run(|conn| store::ratings::count(conn).map_err(StoreError::from)).await.expect("store")
}

/// Sends each `(who, path, content type, bytes)` and collects the ones not answered
/// `400 invalid_body`.
async fn refused_as_invalid_body(app: &TestApp, cases: Vec<(Option<&Participant>, String, &str, Vec<u8>)>) {
    let mut failures = Vec::new();
    for (who, path, content_type, bytes) in cases {
        let shown = String::from_utf8_lossy(&bytes).into_owned();
        let (status, answer) = app.post_bytes(who, &path, content_type, bytes).await;
        if (status, answer["error"]["code"].as_str()) != (400, Some("invalid_body")) {
            failures.push(format!("{path} {content_type} {shown}: {status} {answer}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

async fn a_form_that_is_not_utf8_once_decoded_is_a_400_and_stores_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    let before = app.store_counts().await;

    let send = |body: &[u8]| {
        let mut bytes = format!("chat_id={chat}&client_msg_id=m-bad&body=").into_bytes();
        bytes.extend_from_slice(body);
        (Some(&visitor), "/send".to_string(), FORM, bytes)
    };
    let offline = |name: &[u8]| {
        let mut bytes = b"email=ana%40example.com&body=Hello&name=".to_vec();
        bytes.extend_from_slice(name);
        (Some(&visitor), "/api/offline-messages".to_string(), FORM, bytes)
    };
    let cases = vec![
        send(b"%FF%FE"),
        send(b"caf%C3"),    // a sequence cut short
        send(b"%C0%AF"),    // an overlong `/`
        send(b"%ED%A0%80"), // a lone surrogate
        send(b"\xff\xfe"),  // raw, not percent-encoded
        send(b"ok&%FF=x"),  // in a field's name
        offline(b"%C3%28"),
        (None, "/api/visitors".to_string(), FORM, b"name=%E4%BD".to_vec()),
        // The same bytes in JSON and text/plain are refused alike.
        (Some(&visitor), "/send".to_string(), "application/json", {
            let mut bytes = format!(r#"{{"chat_id":"{chat}","client_msg_id":"m-bad","body":""#).into_bytes();
            bytes.extend_from_slice(b"\xff\xfe\"}");
            bytes
        }),
    ];
    refused_as_invalid_body(&app, cases).await;
    assert_eq!(app.store_counts().await, before, "a refused body changed the store");

    // A real U+FFFD, sent as its UTF-8, is text like any other.
    let (status, answer) = app
        .post_bytes(
            Some(&visitor),
            "/send",
            FORM,
            format!("chat_id={chat}&client_msg_id=m-fffd&body=%EF%BF%BD").into_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
}

async fn a_field_given_twice_is_a_400_in_every_content_type_and_stores_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    let (rater, rated) = app.closed_chat(&agent).await;
    let before = app.store_counts().await;

    let message =
        |rest: &str| format!(r#"{{"chat_id":"{chat}","client_msg_id":"m-dup",{rest}}}"#).into_bytes();
    let mut cases = Vec::new();
    for content_type in [Encoding::Json.content_type(), Encoding::TextPlain.content_type()] {
        for body in [
            message(r#""body":"one","body":"two""#),
            // The same key however it is spelt: serde reads `b\u006fdy` as `body`.
            message(r#""body":"one","b\u006fdy":"two""#),
            message(r#""body":"one","chat_id":"another""#),
            // At any depth, even in a field the route does not read.
            message(r#""body":"one","extra":{"k":1,"k":2}"#),
            message(r#""body":"one","extra":[{"k":{"x":1,"x":1}}]"#),
        ] {
            cases.push((Some(&visitor), "/send".to_string(), content_type, body));
        }
        let rating = format!("/api/chats/{rated}/rating");
        cases.push((Some(&rater), rating, content_type, br#"{"score":5,"comment":"ok","score":1}"#.to_vec()));
        cases.push((None, "/api/visitors".into(), content_type, br#"{"name":"Ann","name":"Bob"}"#.to_vec()));
    }
    let form = format!("chat_id={chat}&client_msg_id=m-dup&body=one&body=two").into_bytes();
    cases.push((Some(&visitor), "/send".into(), FORM, form));
    let form = format!("chat_id={chat}&client_msg_id=m-dup&body=one&b%6Fdy=two").into_bytes();
    cases.push((Some(&visitor), "/send".into(), FORM, form));
    cases.push((Some(&rater), format!("/api/chats/{rated}/rating"), FORM, b"score=5&score=1".to_vec()));
    cases.push((None, "/api/visitors".into(), FORM, b"name=Ann&name=Bob".to_vec()));
    refused_as_invalid_body(&app, cases).await;
    assert_eq!(app.store_counts().await, before, "a refused body changed the store");
    assert_eq!(rating_count(&app).await, 0);

    // Keys that differ only in case are two fields (and `Body` is not one the route reads).
    let fields = json!({"chat_id": chat, "client_msg_id": "m-ok", "body": "one", "Body": "two"});
    let (status, answer) = app.post_encoded(Some(&visitor), "/send", Encoding::Json, &fields).await;
    assert_eq!(status, 200, "{answer}");
}
