//! Body-less `POST`s as proxies send them, over a raw socket: HTTP/1.0 (nginx's default to its
//! upstreams) and HTTP/1.1, with `Content-Length: 0` or none.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Backend, TestApp};

/// One answer read off the socket: the status code and the body parsed as JSON (`Null` when
/// it is not JSON).
async fn raw(app: &TestApp, request: &str) -> (u16, Value) {
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    // HTTP/1.0 and `Connection: close`: the server closes once it has answered.
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("answered in time")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<none>")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_that_declares_an_empty_body_is_served_in_http_1_0_and_1_1() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for version in ["HTTP/1.0", "HTTP/1.1"] {
        let head = |path: &str| {
            format!("POST {path} {version}\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        };
        let (status, body) = raw(&app, &head("/api/visitors")).await;
        assert_eq!(status, 201, "{version}: {body}");
        assert!(body["token"].is_string(), "{version}: {body}");
        let (status, body) = raw(&app, &head("/api/agent/login")).await;
        assert_eq!((status, code(&body)), (400, "missing_field"), "{version}");
        let (status, body) = raw(&app, &head("/send")).await;
        assert_eq!((status, code(&body)), (401, "unauthorized"), "{version}");
    }
    app.stop().await;
}

/// What nginx sends upstream (HTTP/1.0) for a client `POST` without a body or a length.
/// actix-http's request decoder alone would refuse it (RFC 1945 §7.2.2) with a bare `400`
/// before any code of ours runs; `transport::http10` adds the `Content-Length: 0` it lacks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_1_0_post_without_a_length_is_an_empty_body() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (status, body) = raw(&app, "POST /api/visitors HTTP/1.0\r\nHost: x\r\n\r\n").await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = raw(&app, "POST /api/agent/login HTTP/1.0\r\nHost: x\r\n\r\n").await;
    assert_eq!((status, code(&body)), (400, "missing_field"));
    let (status, body) = raw(&app, "POST /send HTTP/1.0\r\nHost: x\r\n\r\n").await;
    assert_eq!((status, code(&body)), (401, "unauthorized"));
    app.stop().await;
}

/// An HTTP/1.0 client or proxy that keeps its connection alive and sends its requests at once:
/// one with a body, then body-less `POST`s without a length. The first body looks like a
/// request head; it is read as the body it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_1_0_keep_alive_connection_carries_several_posts_without_a_length() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let lookalike = "POST /api/visitors HTTP/1.0\r\n\r\n";
    let requests = [
        format!(
            "POST /api/agent/login HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: {}\r\n\r\n{lookalike}",
            lookalike.len()
        ),
        "POST /api/visitors HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".to_owned(),
        "POST /send HTTP/1.0\r\n\r\n".to_owned(),
    ];
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream.write_all(requests.concat().as_bytes()).await.expect("write");
    let mut answers = Vec::new();
    // The last request is not keep-alive: the server closes once it has answered it.
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answers))
        .await
        .expect("answered in time")
        .expect("read");
    let answers = String::from_utf8_lossy(&answers);
    let statuses: Vec<&str> =
        answers.match_indices("HTTP/1.").filter_map(|(at, _)| answers[at..].split(' ').nth(1)).collect();
    assert_eq!(statuses, ["400", "201", "401"], "{answers}");
    // Both refusals are ours, in the error envelope (not actix's bare 400).
    assert_eq!(answers.matches(r#"{"error":{"code":"#).count(), 2, "{answers}");
    assert!(answers.contains(r#""code":"unauthorized""#), "{answers}");
    app.stop().await;
}
