//! Body-less `POST`s as proxies send them, over a raw socket: HTTP/1.0 (nginx's default to its
//! upstreams) and HTTP/1.1, with `Content-Length: 0` or none.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Backend, TestApp};

/// One answer read off the socket: the status code and the body parsed as JSON (`Null` when
/// it is not JSON). HTTP/1.0 and `Connection: close`: the server closes once it has answered.
async fn raw(app: &TestApp, request: &str) -> (u16, Value) {
    let answer = send_unread(app, request.as_bytes()).await;
    (answer.status, answer.body)
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

/// An answer as it came off the socket: status, head (lower-cased) and body as JSON.
struct RawAnswer {
    status: u16,
    head: String,
    body: Value,
}

/// Sends `request` on a new connection, whatever the server does with it (it may stop reading
/// and answer early), and reads until the server closes.
async fn send_unread(app: &TestApp, request: &[u8]) -> RawAnswer {
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.expect("connect");
    // A refused head may be answered before it is all sent: a failed write is not the test's.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("answered and closed in time")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    RawAnswer {
        status: head.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0),
        head: head.to_ascii_lowercase(),
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

/// Request heads that actix-http refuses before any code of ours runs, as a black-box run sent
/// them: each gets the status actix gives it, with the error envelope, and the connection
/// closes (`transport::first_head`). The server serves on afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_heads_actix_cannot_read_get_its_status_with_the_envelope() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let parameters = (0..10_000).map(|i| format!("p{i}=1")).collect::<Vec<_>>().join("&");
    let many_fields: String = (0..97).map(|i| format!("X-Field-{i}: {i}\r\n")).collect();
    let cases: [(&str, Vec<u8>, u16, &str); 9] = [
        (
            "10,000 query parameters",
            format!("GET /poll?{parameters} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes(),
            400,
            "malformed_request",
        ),
        (
            "a 100 KB chat id",
            format!("GET /api/chats/{}/messages HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(100_000)).into_bytes(),
            400,
            "malformed_request",
        ),
        (
            "a 600 KB header",
            format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(600_000)).into_bytes(),
            431,
            "head_too_large",
        ),
        (
            "97 header fields",
            format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{many_fields}\r\n").into_bytes(),
            431,
            "head_too_large",
        ),
        ("a NUL byte in a header", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n".to_vec(), 400, "malformed_request"),
        ("a garbage request line", b"HELLO THERE\r\n\r\n".to_vec(), 400, "malformed_request"),
        ("an unknown version", b"GET /healthz HTTP/1.7\r\nHost: x\r\n\r\n".to_vec(), 400, "malformed_request"),
        (
            "two lengths",
            b"POST /api/visitors HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}".to_vec(),
            400,
            "malformed_request",
        ),
        (
            "a length and chunked",
            b"POST /api/visitors HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}"
                .to_vec(),
            400,
            "malformed_request",
        ),
    ];
    for (case, request, status, expected_code) in cases {
        let answer = send_unread(&app, &request).await;
        assert_eq!((answer.status, code(&answer.body)), (status, expected_code), "{case}: {}", answer.head);
        assert!(answer.body["error"]["message"].is_string(), "{case}: {}", answer.body);
        assert!(answer.head.contains("\r\ncontent-type: application/json"), "{case}: {}", answer.head);
        assert!(answer.head.contains("\r\nconnection: close"), "{case}: {}", answer.head);
    }
    let (status, _) = raw(&app, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert_eq!(status, 200, "still serving");
    assert_eq!(app.store_counts().await.visitors, 0, "no refused POST made a visitor");
    app.stop().await;
}

/// A first head that has not arrived when `server.client_request_timeout_secs` runs out: actix
/// would close with a bare `408`; it is `408 head_timeout` with the envelope.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_that_does_not_arrive_in_time_gets_408_with_the_envelope() {
    let app =
        TestApp::spawn_with(Backend::Sqlite, |settings| settings.server.client_request_timeout_secs = 1)
            .await;
    let answer = send_unread(&app, b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await;
    assert_eq!((answer.status, code(&answer.body)), (408, "head_timeout"), "{}", answer.head);
    assert!(answer.head.contains("\r\nconnection: close"), "{}", answer.head);
    app.stop().await;
}
