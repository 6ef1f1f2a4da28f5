//! Abuse limits (`[limits]`): past each one the answer is 429 with `Retry-After`, the refused
//! request changes nothing, other addresses are served; slow bodies are cut off; a flood from
//! one address does not keep normal visitors from chatting.
//!
//! Every test client is on loopback; all of 127.0.0.0/8 is loopback on Linux, so a client bound
//! to 127.0.0.2 is another address to the server.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use switchboard::config::{LimitSettings, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::{text, Backend, Participant, TestApp};
use crate::on_every_backend;

/// A client whose connections come from `address`.
fn client_from(address: &str) -> reqwest::Client {
    let local: IpAddr = address.parse().expect("address");
    reqwest::Client::builder().local_address(local).timeout(Duration::from_secs(30)).build().expect("client")
}

/// Limits off but the ones a test names: every test starts from here.
fn only(tweak: impl FnOnce(&mut LimitSettings)) -> impl FnOnce(&mut Settings) {
    move |settings| {
        settings.limits = LimitSettings {
            connections_per_ip: 0,
            requests_per_ip_per_sec: 0,
            sends_per_visitor_per_sec: 0,
            login_failures_per_employee_id: 0,
            login_failures_per_ip: 0,
            visitors_per_ip_per_minute: 0,
            body_timeout_secs: 0,
            ..LimitSettings::default()
        };
        tweak(&mut settings.limits);
    }
}

/// Status, `Retry-After` (seconds) and error code of a response.
async fn refusal(response: reqwest::Response) -> (u16, Option<u64>, String) {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok());
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, retry_after, body["error"]["code"].as_str().unwrap_or("").to_string())
}

fn server_address(app: &TestApp) -> SocketAddr {
    app.address.trim_start_matches("http://").parse().expect("server address")
}

/// A raw TCP connection to the server from `local`.
async fn connect_from(app: &TestApp, local: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::new(local.parse().expect("address"), 0)).expect("bind");
    socket.connect(server_address(app)).await.expect("connect")
}

/// Reads one HTTP/1.1 response (head and `Content-Length` body): status and the whole text.
async fn read_response(stream: &mut TcpStream) -> (u16, String) {
    match try_read_response(stream).await {
        Ok(answer) => answer,
        Err(partial) => panic!("the server closed before answering: {partial}"),
    }
}

/// Like [`read_response`]; what came before the close when the server closes first.
async fn try_read_response(stream: &mut TcpStream) -> Result<(u16, String), String> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&bytes).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if bytes.len() >= end + 4 + length {
                let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
                return Ok((status, text));
            }
        }
        match stream.read(&mut chunk).await {
            Ok(read) if read > 0 => bytes.extend_from_slice(&chunk[..read]),
            _ => return Err(String::from_utf8_lossy(&bytes).to_string()),
        }
    }
}

/// True when the server has closed `stream` (reads end), within a few seconds.
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut rest = [0u8; 256];
    matches!(tokio::time::timeout(Duration::from_secs(5), stream.read(&mut rest)).await, Ok(Ok(0) | Err(_)))
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: switchboard\r\n\r\n";

on_every_backend!(past_the_request_rate_an_address_gets_429_and_other_addresses_are_served);

async fn past_the_request_rate_an_address_gets_429_and_other_addresses_are_served(backend: Backend) {
    // Installed before the first refusal, so the refusal is recorded.
    let metrics = switchboard::metrics::recorder();
    let app = TestApp::spawn_with(
        backend,
        only(|limits| {
            limits.requests_per_ip_per_sec = 1;
            limits.request_burst_per_ip = 5;
        }),
    )
    .await;
    let flooder = client_from("127.0.0.2");
    for _ in 0..5 {
        assert_eq!(flooder.get(app.url("/healthz")).send().await.expect("request").status(), 200);
    }
    let before = app.store_counts().await;
    let refused = flooder.post(app.url("/api/visitors")).json(&json!({})).send().await.expect("request");
    let (status, retry_after, code) = refusal(refused).await;
    assert_eq!((status, code.as_str()), (429, "rate_limited"));
    assert!(retry_after.is_some_and(|seconds| seconds >= 1), "Retry-After: {retry_after:?}");
    assert_eq!(app.store_counts().await, before, "a refused request changes nothing");
    // Another address is served meanwhile.
    let (status, _) = app.get_json(None, "/healthz").await;
    assert_eq!(status, 200);
    let rendered = metrics.render();
    assert!(rendered.contains(r#"switchboard_limits_hit_total{limit="requests_per_ip"}"#), "{rendered}");
}

on_every_backend!(past_the_send_rate_a_visitor_gets_429_and_the_message_is_not_stored);

async fn past_the_send_rate_a_visitor_gets_429_and_the_message_is_not_stored(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        only(|limits| {
            limits.sends_per_visitor_per_sec = 1;
            limits.send_burst_per_visitor = 3;
        }),
    )
    .await;
    let agent = app.online_agent("E1", 3).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    for n in 0..3 {
        app.send(&visitor, &chat, &format!("v{n}"), "hello").await;
    }
    let before = app.store_counts().await;
    let (status, retry_after, code) =
        refusal(app.send_raw(&visitor, &chat, "v3", "one too many").await).await;
    assert_eq!((status, code.as_str()), (429, "rate_limited"));
    let retry_after = retry_after.expect("Retry-After");
    assert!(retry_after >= 1);
    assert_eq!(app.store_counts().await, before, "the refused message is not stored");
    // Agents are not limited by it.
    for n in 0..5 {
        app.send(&agent, &chat, &format!("a{n}"), "answer").await;
    }
    // After the wait it asked for, the same message goes through, once.
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    let seq = app.send(&visitor, &chat, "v3", "one too many").await;
    let (events, _) = crate::helpers::drain(&app, &agent, "", &chat, seq).await;
    let bodies: Vec<String> = events
        .iter()
        .filter(|event| event["type"] == "message" && event["from"] == "visitor")
        .map(|event| text(&event["body"]))
        .collect();
    assert_eq!(bodies, vec!["hello", "hello", "hello", "one too many"]);
}

on_every_backend!(past_the_visitors_per_minute_an_address_gets_429_and_no_visitor_is_made);

async fn past_the_visitors_per_minute_an_address_gets_429_and_no_visitor_is_made(backend: Backend) {
    let app = TestApp::spawn_with(backend, only(|limits| limits.visitors_per_ip_per_minute = 3)).await;
    let busy = client_from("127.0.0.2");
    for _ in 0..3 {
        assert_eq!(busy.post(app.url("/api/visitors")).send().await.expect("request").status(), 201);
    }
    let before = app.store_counts().await;
    let (status, retry_after, code) =
        refusal(busy.post(app.url("/api/visitors")).send().await.expect("request")).await;
    assert_eq!((status, code.as_str()), (429, "rate_limited"));
    assert!(retry_after.is_some_and(|seconds| (1..=60).contains(&seconds)), "Retry-After: {retry_after:?}");
    assert_eq!(app.store_counts().await, before, "no visitor and no token made");
    // Another address still gets its visitor.
    let other = client_from("127.0.0.3");
    assert_eq!(other.post(app.url("/api/visitors")).send().await.expect("request").status(), 201);
}

/// `POST /api/agent/login` from `client`: status, `Retry-After` and body.
async fn login_from(
    app: &TestApp,
    client: &reqwest::Client,
    employee_id: &str,
    password: &str,
) -> (u16, Option<String>, Value) {
    let response = client
        .post(app.url("/api/agent/login"))
        .json(&json!({"employee_id": employee_id, "password": password}))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap_or("").to_string());
    (status, retry_after, response.json().await.unwrap_or(Value::Null))
}

on_every_backend!(the_login_throttle_answers_an_unknown_employee_id_exactly_like_a_known_one);

async fn the_login_throttle_answers_an_unknown_employee_id_exactly_like_a_known_one(backend: Backend) {
    let app = TestApp::spawn_with(backend, only(|limits| limits.login_failures_per_employee_id = 3)).await;
    let known = app.agent("E1", 3).await;
    let guesser = client_from("127.0.0.2");
    let mut answers = Vec::new();
    for employee_id in ["E1", "NOBODY"] {
        let mut seen = Vec::new();
        for _ in 0..3 {
            seen.push(login_from(&app, &guesser, employee_id, "wrong password").await);
        }
        let throttled = login_from(&app, &guesser, employee_id, "wrong password").await;
        assert_eq!(throttled.0, 429, "{employee_id}: {throttled:?}");
        assert_eq!(throttled.2["error"]["code"], "login_throttled");
        assert!(throttled
            .1
            .as_deref()
            .and_then(|s| s.parse::<u64>().ok())
            .is_some_and(|s| (1..=300).contains(&s)));
        seen.push(throttled);
        answers.push(seen);
    }
    // Same statuses and bodies, wrong password or throttled, known ID or not. (Retry-After
    // counts down between the two runs, so it is compared by presence only.)
    let shape = |seen: &Vec<(u16, Option<String>, Value)>| {
        seen.iter().map(|(status, retry, body)| (*status, retry.is_some(), body.clone())).collect::<Vec<_>>()
    };
    assert_eq!(shape(&answers[0]), shape(&answers[1]));
    assert_eq!(answers[0][0].0, 401);
    // Throttled, even the right password is refused and no token is issued.
    let before = app.store_counts().await;
    let (status, _, body) = login_from(&app, &app.client, "E1", "correct horse battery").await;
    assert_eq!((status, text(&body["error"]["code"])), (429, "login_throttled".to_string()));
    assert_eq!(app.store_counts().await, before);
    // The agent's token from before still works, and another ID is not throttled.
    let (status, _) = app.get_json(Some(&known), "/api/agents").await;
    assert_eq!(status, 200);
    app.agent("E2", 3).await;
}

on_every_backend!(past_the_failed_logins_of_an_address_every_employee_id_is_throttled_there);

async fn past_the_failed_logins_of_an_address_every_employee_id_is_throttled_there(backend: Backend) {
    let app = TestApp::spawn_with(backend, only(|limits| limits.login_failures_per_ip = 3)).await;
    app.agent("E1", 3).await;
    let guesser = client_from("127.0.0.2");
    for employee_id in ["A1", "A2", "A3"] {
        assert_eq!(login_from(&app, &guesser, employee_id, "guess").await.0, 401);
    }
    let (status, retry_after, body) = login_from(&app, &guesser, "E1", "correct horse battery").await;
    assert_eq!((status, text(&body["error"]["code"])), (429, "login_throttled".to_string()));
    assert!(retry_after.is_some());
    // The agent logs in from its own address.
    assert!(app.login("E1", "correct horse battery").await.is_ok());
}

on_every_backend!(past_the_connection_cap_an_address_gets_429_too_many_connections_and_is_closed);

async fn past_the_connection_cap_an_address_gets_429_too_many_connections_and_is_closed(backend: Backend) {
    let app = TestApp::spawn_with(backend, only(|limits| limits.connections_per_ip = 2)).await;
    // Two connections, each answered once so the server has surely counted it; kept open.
    let mut first = connect_from(&app, "127.0.0.2").await;
    let mut second = connect_from(&app, "127.0.0.2").await;
    for stream in [&mut first, &mut second] {
        stream.write_all(HEALTHZ).await.expect("write");
        assert_eq!(read_response(stream).await.0, 200);
    }
    let mut third = connect_from(&app, "127.0.0.2").await;
    third.write_all(HEALTHZ).await.expect("write");
    let (status, answer) = read_response(&mut third).await;
    assert_eq!(status, 429, "{answer}");
    assert!(answer.contains("too_many_connections"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("retry-after:"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    assert!(closed_by_server(&mut third).await, "the refused connection is closed");
    // Another address is served.
    assert_eq!(app.get_json(None, "/healthz").await.0, 200);
    // Once one closes, there is room again (the server notices the close a moment later).
    drop(first);
    let mut admitted = false;
    for _ in 0..50 {
        let mut again = connect_from(&app, "127.0.0.2").await;
        again.write_all(HEALTHZ).await.expect("write");
        if read_response(&mut again).await.0 == 200 {
            admitted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(admitted, "a closed connection gives its place back");
}

on_every_backend!(a_body_trickled_byte_by_byte_is_cut_off_with_408_and_changes_nothing);

async fn a_body_trickled_byte_by_byte_is_cut_off_with_408_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn_with(backend, only(|limits| limits.body_timeout_secs = 2)).await;
    let body = br#"{"name": "a visitor who takes forever to say so", "page_url": "https://x.example/"}"#;
    let mut stream = connect_from(&app, "127.0.0.2").await;
    let head = format!(
        "POST /api/visitors HTTP/1.1\r\nHost: switchboard\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write head");
    let (mut reader, mut writer) = stream.into_split();
    let sent = Arc::new(AtomicU64::new(0));
    let trickle = {
        let sent = Arc::clone(&sent);
        tokio::spawn(async move {
            for byte in body {
                if writer.write_all(&[*byte]).await.is_err() {
                    break;
                }
                sent.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    };
    let mut answer = Vec::new();
    let mut chunk = [0u8; 1024];
    // Until the server closes (or the whole body would have been sent twice over).
    let deadline = Instant::now() + Duration::from_secs(2 * body.len() as u64);
    while Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(1), reader.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(read)) => answer.extend_from_slice(&chunk[..read]),
            Err(_) => continue,
        }
    }
    trickle.abort();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");
    let sent = sent.load(Ordering::SeqCst);
    assert!(
        sent < body.len() as u64,
        "answered before the body was complete ({sent} of {} bytes)",
        body.len()
    );
    assert_eq!(app.store_counts().await.visitors, 0, "nothing was made");
}

on_every_backend!(a_head_trickled_byte_by_byte_is_cut_off);

async fn a_head_trickled_byte_by_byte_is_cut_off(backend: Backend) {
    let app = TestApp::spawn_with(backend, |settings| settings.server.client_request_timeout_secs = 2).await;
    let mut stream = connect_from(&app, "127.0.0.2").await;
    let head =
        b"GET /healthz HTTP/1.1\r\nHost: switchboard\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let mut sent = 0;
    let mut answer = Vec::new();
    let mut chunk = [0u8; 1024];
    for byte in head {
        if stream.write_all(&[*byte]).await.is_err() {
            break;
        }
        sent += 1;
        match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(read)) => {
                answer.extend_from_slice(&chunk[..read]);
                // The rest of the answer, until the server closes.
                let rest = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer));
                let _ = rest.await;
                break;
            }
            Err(_) => {}
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(sent < head.len(), "cut off before the head was complete (sent {sent} of {})", head.len());
    // `408 head_timeout` with the envelope (transport::first_head), not actix's bare 408.
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#"{"error":{"code":"head_timeout""#), "{answer}");
}

/// What one flooding task saw.
#[derive(Default)]
struct FloodCounts {
    answered: AtomicU64,
    refused: AtomicU64,
}

on_every_backend!(a_flood_from_one_address_does_not_keep_normal_visitors_from_chatting);

async fn a_flood_from_one_address_does_not_keep_normal_visitors_from_chatting(backend: Backend) {
    // The default limits, on two workers.
    let app = TestApp::spawn_with(backend, |settings| {
        settings.limits = LimitSettings::default();
        settings.server.workers = 2;
    })
    .await;
    let app = Arc::new(app);
    let agent = app.online_agent("E1", 5).await;
    let mut visitors = Vec::new();
    for _ in 0..5 {
        let visitor = app.visitor().await;
        let chat = app.start_chat(&visitor, &agent).await;
        visitors.push((visitor, chat));
    }

    let stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new(FloodCounts::default());
    let mut flooders = Vec::new();
    for task in 0..8 {
        let (app, stop, counts) = (Arc::clone(&app), Arc::clone(&stop), Arc::clone(&counts));
        flooders.push(tokio::spawn(async move {
            let client = client_from("127.0.0.2");
            while !stop.load(Ordering::Relaxed) {
                let request = if task % 2 == 0 {
                    client.post(app.url("/api/visitors")).json(&json!({"name": "flood"}))
                } else {
                    client.get(app.url("/healthz"))
                };
                match request.send().await.map(|response| response.status().as_u16()) {
                    Ok(429) => counts.refused.fetch_add(1, Ordering::Relaxed),
                    Ok(_) => counts.answered.fetch_add(1, Ordering::Relaxed),
                    Err(_) => 0,
                };
            }
        }));
    }
    // And one that hoards connections, past the per-address cap.
    let hoarder = {
        let (app, counts) = (Arc::clone(&app), Arc::clone(&counts));
        tokio::spawn(async move {
            let mut held = Vec::new();
            for _ in 0..250 {
                let mut stream = connect_from(&app, "127.0.0.2").await;
                if stream.write_all(HEALTHZ).await.is_err() {
                    continue;
                }
                if let Ok(Ok((status, _))) =
                    tokio::time::timeout(Duration::from_secs(5), try_read_response(&mut stream)).await
                {
                    if status == 429 {
                        counts.refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
                held.push(stream);
            }
            held
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Meanwhile the normal visitors chat, and the agent polls for every message.
    let agent_task = {
        let (app, agent) = (Arc::clone(&app), agent.clone());
        let chats: Vec<String> = visitors.iter().map(|(_, chat)| chat.clone()).collect();
        tokio::spawn(async move { agent_receives(&app, &agent, &chats, 10).await })
    };
    let mut senders = Vec::new();
    for (visitor, chat) in visitors.clone() {
        let app = Arc::clone(&app);
        senders.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            for n in 0..10 {
                let started = Instant::now();
                let response = app.send_raw(&visitor, &chat, &format!("m{n}"), &format!("message {n}")).await;
                assert_eq!(response.status(), 200, "a normal visitor's send is acknowledged");
                latencies.push(started.elapsed());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for sender in senders {
        latencies.extend(sender.await.expect("sender"));
    }
    let received = tokio::time::timeout(Duration::from_secs(60), agent_task)
        .await
        .expect("the agent receives every message in time")
        .expect("agent task");
    stop.store(true, Ordering::Relaxed);
    for flooder in flooders {
        flooder.await.expect("flooder");
    }
    let held = hoarder.await.expect("hoarder");

    for (visitor, chat) in &visitors {
        let bodies: Vec<&str> = received
            .iter()
            .filter(|event| is_visitor_message(event, chat))
            .filter_map(|event| event["body"].as_str())
            .collect();
        let expected: Vec<String> = (0..10).map(|n| format!("message {n}")).collect();
        assert_eq!(bodies, expected, "every message of visitor {} reached the agent, in order", visitor.id);
    }
    let refused = counts.refused.load(Ordering::Relaxed);
    assert!(refused > 0, "the flooder was refused");
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    println!(
        "flood: {} answered, {refused} refused (429), {} connections held; normal sends: p50 {:?}, \
         p90 {:?}, max {:?}",
        counts.answered.load(Ordering::Relaxed),
        held.len(),
        at(0.5),
        at(0.9),
        at(1.0)
    );
}

fn is_visitor_message(event: &Value, chat: &str) -> bool {
    event["chat_id"] == chat && event["type"] == "message" && event["from"] == "visitor"
}

/// Polls as the agent until every chat has `count` visitor messages; every event seen.
async fn agent_receives(app: &TestApp, agent: &Participant, chats: &[String], count: usize) -> Vec<Value> {
    let mut cursor = String::new();
    let mut events: Vec<Value> = Vec::new();
    loop {
        let done = chats
            .iter()
            .all(|chat| events.iter().filter(|event| is_visitor_message(event, chat)).count() >= count);
        if done {
            return events;
        }
        let answer = app.poll(agent, &cursor, Some(5)).await;
        events.extend(answer.events);
        cursor = answer.cursor;
    }
}
