//! The body limit admits every body the documented field limits allow, in every content type,
//! however the client writes it: a character as raw UTF-8, as a `\uXXXX` escape (two for a
//! character outside the BMP) in JSON, or as `%XX` per UTF-8 byte in a form.

use serde_json::{json, Value};
use switchboard::startup::Application;

use crate::helpers::{test_settings, text, Backend, Encoding, Participant, TestApp, TestDb};
use crate::on_every_backend;

on_every_backend!(
    a_message_at_the_length_limit_is_accepted_in_every_content_type_however_written,
    the_largest_documented_bodies_are_accepted_written_at_their_longest,
);

/// Each field of `fields` as `name{between}value`, name and text escaped with `escape`; a
/// value that is not text is written as its JSON, escaped too when `escape_json` is set.
fn escaped_members(
    fields: &Value,
    escape: impl Fn(&str) -> String,
    between: &str,
    escape_json: bool,
) -> Vec<String> {
    fields
        .as_object()
        .expect("an object")
        .iter()
        .map(|(name, value)| {
            let value = match value {
                Value::String(text) => escape(text),
                other if escape_json => escape(&other.to_string()),
                other => other.to_string(),
            };
            format!("{}{between}{value}", escape(name))
        })
        .collect()
}

/// JSON whose every character (keys too) is written as a `\uXXXX` escape: the longest way to
/// write a JSON body.
fn escaped_json(fields: &Value) -> Vec<u8> {
    let escape = |text: &str| {
        let units: String = text.encode_utf16().map(|unit| format!("\\u{unit:04x}")).collect();
        format!("\"{units}\"")
    };
    format!("{{{}}}", escaped_members(fields, escape, ":", false).join(",")).into_bytes()
}

/// A form whose every byte (names too) is written as `%XX`: the longest way to write a form.
fn escaped_form(fields: &Value) -> Vec<u8> {
    let escape = |text: &str| text.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
    escaped_members(fields, escape, "=", true).join("&").into_bytes()
}

/// The ways this suite writes a body: each content type as a client library would, and JSON,
/// text/plain and form with every character escaped.
const WRITINGS: [&str; 6] =
    ["JSON", "text/plain", "form", "escaped JSON", "escaped text/plain", "escaped form"];

/// `fields` written the way `how` names; the content type and the bytes.
fn write(how: &str, fields: &Value) -> (&'static str, Vec<u8>) {
    let encoding = match how {
        "JSON" | "escaped JSON" => Encoding::Json,
        "text/plain" | "escaped text/plain" => Encoding::TextPlain,
        _ => Encoding::Form,
    };
    let bytes = match how {
        "escaped JSON" | "escaped text/plain" => escaped_json(fields),
        "escaped form" => escaped_form(fields),
        _ => encoding.encode(fields),
    };
    (encoding.content_type(), bytes)
}

/// The body of the message at `seq` in `chat_id`, read back through the transcript.
async fn stored_body(app: &TestApp, who: &Participant, chat_id: &str, seq: i64) -> String {
    let path = format!("/api/chats/{chat_id}/messages?after_seq={}&limit=1", seq - 1);
    let (status, answer) = app.get_json(Some(who), &path).await;
    assert_eq!(status, 200, "{answer}");
    text(&answer["events"][0]["body"])
}

async fn a_message_at_the_length_limit_is_accepted_in_every_content_type_however_written(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    let max = app.services.settings.chat.max_message_chars;
    assert_eq!(max, 4000, "the documented default");
    // The limit counts characters (Unicode scalar values): an emoji is one, though it is two
    // UTF-16 units in JavaScript and a surrogate pair of escapes in JSON.
    let texts = [("CJK", "字".repeat(max)), ("emoji", "😀".repeat(max))];
    let mut failures = Vec::new();
    for (kind, message) in &texts {
        for (n, how) in WRITINGS.iter().enumerate() {
            // The longest client_msg_id (64 characters), fresh each time so each is stored anew.
            let client_msg_id = format!("{kind}-{n}-{}", "m".repeat(64 - 3 - kind.len()));
            let fields = json!({"chat_id": chat, "client_msg_id": client_msg_id, "body": message, "token": visitor.token});
            let (content_type, bytes) = write(how, &fields);
            let size = bytes.len();
            let (status, answer) = app.post_bytes(None, "/send", content_type, bytes).await;
            if status != 200 {
                failures.push(format!("{max} {kind} characters as {how} ({size} bytes): {status} {answer}"));
                continue;
            }
            let seq = answer["seq"].as_i64().expect("seq");
            if stored_body(&app, &visitor, &chat, seq).await != *message {
                failures.push(format!("{max} {kind} characters as {how}: stored otherwise"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

async fn the_largest_documented_bodies_are_accepted_written_at_their_longest(backend: Backend) {
    // Any site may embed, so that an `embed_origin` of the longest length is allowed.
    let app = TestApp::spawn_with(backend, |settings| settings.cors.allowed_origins = vec!["*".into()]).await;
    let agent = app.agent("E1", 3).await;
    let emoji = |n: usize| "😀".repeat(n);
    let url = |n: usize| format!("https://shop.example/{}", emoji(n - "https://shop.example/".len()));
    let origin = format!("https://{}.example", "a".repeat(255 - "https://.example".len()));
    assert_eq!(origin.len(), 255);
    let visitor_fields = json!({
        "name": emoji(64),
        "page_url": url(2048),
        "page_title": emoji(512),
        "referrer": url(2048),
        "embed_origin": origin,
    });
    let mut failures = Vec::new();
    let mut visitor: Option<Participant> = None;
    for how in WRITINGS {
        let (content_type, bytes) = write(how, &visitor_fields);
        let size = bytes.len();
        let (status, answer) = app.post_bytes(None, "/api/visitors", content_type, bytes).await;
        if status != 201 || answer["name"] != visitor_fields["name"] {
            failures.push(format!("POST /api/visitors as {how} ({size} bytes): {status} {answer}"));
        } else {
            visitor = Some(Participant { id: text(&answer["visitor_id"]), token: text(&answer["token"]) });
        }
    }
    let visitor = match visitor {
        Some(visitor) => visitor,
        None => app.visitor().await,
    };
    let offline_fields = json!({
        "name": emoji(64),
        "email": format!("{}@example.com", emoji(254 - "@example.com".len())),
        "body": emoji(4000),
        "token": visitor.token,
    });
    for how in WRITINGS {
        let (content_type, bytes) = write(how, &offline_fields);
        let size = bytes.len();
        let (status, answer) = app.post_bytes(None, "/api/offline-messages", content_type, bytes).await;
        if status != 201 {
            failures.push(format!("POST /api/offline-messages as {how} ({size} bytes): {status} {answer}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    let (status, listed) = app.get_json(Some(&agent), "/api/offline-messages").await;
    assert_eq!(status, 200);
    assert!(listed["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .all(|m| m["body"] == offline_fields["body"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_limit_too_small_for_the_field_limits_is_refused_at_start() {
    let db = TestDb::new(&Backend::Sqlite);
    let mut settings = test_settings(&db);
    settings.server.max_body_bytes = 16_384;
    let error = match Application::build(settings).await {
        Ok(_) => panic!("a server started with a body limit below the field limits"),
        Err(error) => error.to_string(),
    };
    assert!(error.contains("server.max_body_bytes = 16384"), "{error}");
}
