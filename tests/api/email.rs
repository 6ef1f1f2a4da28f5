//! Email over SMTP through the outbox, against a real SMTP server on loopback
//! (`smtp_sink`): who gets what, headers and threading, escaping, language, the rate limits,
//! the admin switch, retries while the server is down, and a kill -9 of the real binary.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use switchboard::config::{Settings, SmtpTls};
use switchboard::store::{self, StoreError};

use crate::helpers::{text, Backend, Participant, TestApp, TestDb};
use crate::on_every_backend;
use crate::smtp_sink::{self, free_port, Received, SmtpSink};

on_every_backend!(
    an_offline_message_mails_the_team_and_acknowledges_the_visitor_escaped_and_in_their_language,
    an_agents_answer_is_stored_and_mailed_threaded_under_the_acknowledgement,
    a_chat_that_went_quiet_before_any_agent_wrote_is_mailed_to_the_team,
    a_closed_chats_transcript_is_mailed_on_request_of_its_visitor_or_agent,
    emails_to_typed_addresses_are_limited_per_visitor_and_per_address_and_counted,
    the_admin_switch_stops_email_to_visitors_and_keeps_the_teams,
    an_email_written_while_the_smtp_server_is_down_is_delivered_once_it_is_up,
    after_a_kill_9_mid_sending_every_email_arrives_and_only_one_in_flight_may_arrive_twice,
);

const WAIT: Duration = Duration::from_secs(20);

/// Email on, to the sink's `port`, retried quickly.
fn email_on(port: u16) -> impl FnOnce(&mut Settings) {
    move |settings| {
        settings.email.server = "127.0.0.1".into();
        settings.email.port = port;
        settings.email.tls = SmtpTls::None;
        settings.email.from = "Help Desk <help@example.com>".into();
        settings.email.team = vec!["team@example.com".into(), "lead@example.com".into()];
        settings.email.retry_first_ms = 200;
        settings.email.timeout_secs = 5;
    }
}

/// The one message whose envelope goes to `to`.
fn mail_to<'a>(mails: &'a [Received], to: &str) -> &'a Received {
    let found: Vec<&Received> =
        mails.iter().filter(|mail| mail.rcpt_tos.iter().any(|rcpt| rcpt == to)).collect();
    assert_eq!(found.len(), 1, "one message to {to}: {mails:#?}");
    found[0]
}

async fn leave(app: &TestApp, visitor: &Participant, body: Value) -> (u16, Value) {
    app.post_json(Some(visitor), "/api/offline-messages", body).await
}

async fn leave_ok(app: &TestApp, visitor: &Participant, body: Value) -> String {
    let (status, answer) = leave(app, visitor, body).await;
    assert_eq!(status, 201, "{answer}");
    text(&answer["id"])
}

/// The outbox rows of email in `state`.
async fn email_rows(app: &TestApp, state: &'static str) -> i64 {
    app.services
        .store
        .run(move |conn| store::outbox::count(conn, "email", state).map_err(StoreError::from))
        .await
        .expect("store")
}

async fn an_offline_message_mails_the_team_and_acknowledges_the_visitor_escaped_and_in_their_language(
    backend: Backend,
) {
    if !smtp_sink::available() {
        return;
    }
    let port = free_port();
    let sink = SmtpSink::start(port);
    let app = TestApp::spawn_with(backend, email_on(port)).await;
    let visitor = app.visitor().await;
    let name = "<script>alert(1)</script> Ana";
    let body = "Hi <b>there</b> & bye\nline two";
    let id = leave_ok(
        &app,
        &visitor,
        json!({"name": name, "email": "ana@example.com", "body": body, "lang": "zh"}),
    )
    .await;
    let mails = sink.wait_for(2, WAIT).await;
    assert_eq!(mails.len(), 2, "{mails:#?}");

    let team = mail_to(&mails, "team@example.com");
    let mut rcpts = team.rcpt_tos.clone();
    rcpts.sort();
    assert_eq!(rcpts, ["lead@example.com", "team@example.com"]);
    assert!(team.header("Reply-To").is_some_and(|reply| reply.contains("<ana@example.com>")), "{team:#?}");
    assert_eq!(team.message_id(), format!("<offline_team.{id}@example.com>"));
    assert!(team.header("From").is_some_and(|from| from.contains("help@example.com")));
    assert_eq!(team.content_type, "multipart/alternative");
    assert!(team.text.contains(name) && team.text.contains("Hi <b>there</b> & bye"), "{}", team.text);
    let html = &team.html;
    assert!(!html.contains("<script>") && !html.contains("<b>"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; Ana"), "{html}");
    assert!(html.contains("Hi &lt;b&gt;there&lt;/b&gt; &amp; bye<br>"), "{html}");

    let ack = mail_to(&mails, "ana@example.com");
    assert_eq!(ack.message_id(), format!("<offline_ack.{id}@example.com>"));
    assert_eq!(ack.header("Subject"), Some("我们已收到您的留言"));
    assert_eq!(ack.header("Content-Language"), Some("zh"));
    assert!(ack.text.contains("感谢您的留言") && ack.text.contains(name), "{}", ack.text);
    assert!(ack.html.contains("<html lang=\"zh\">") && ack.html.contains("感谢您的留言"), "{}", ack.html);
    assert!(!ack.html.contains("<script>") && ack.html.contains("&lt;script&gt;"), "{}", ack.html);
    assert_eq!(ack.header("Reply-To"), None);

    // Both rows are marked sent; nothing is sent again.
    for _ in 0..100 {
        if email_rows(&app, "sent").await == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(email_rows(&app, "sent").await, 2);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(sink.received().len(), 2, "each email once");

    // Korean, and English when the widget did not say.
    let ko = leave_ok(
        &app,
        &visitor,
        json!({"name": "민수", "email": "ko@example.com", "body": "안녕", "lang": "ko"}),
    )
    .await;
    let en =
        leave_ok(&app, &visitor, json!({"name": "Bo", "email": "en@example.com", "body": "hello"})).await;
    let mails = sink.wait_for(6, WAIT).await;
    let ko_ack = mail_to(&mails, "ko@example.com");
    assert_eq!(
        (ko_ack.header("Subject"), ko_ack.message_id()),
        (Some("메시지를 받았습니다"), format!("<offline_ack.{ko}@example.com>").as_str())
    );
    assert!(ko_ack.text.contains("민수님, 안녕하세요."), "{}", ko_ack.text);
    let en_ack = mail_to(&mails, "en@example.com");
    assert_eq!(
        (en_ack.header("Subject"), en_ack.message_id()),
        (Some("We received your message"), format!("<offline_ack.{en}@example.com>").as_str())
    );
    // A line break typed into the name ends no header (and stops no sender).
    let nl = leave_ok(
        &app,
        &visitor,
        json!({"name": "Ana\r\nBcc: evil@example.com", "email": "nl@example.com", "body": "hi"}),
    )
    .await;
    let mails = sink.wait_for(8, WAIT).await;
    assert_eq!(mails.len(), 8, "{mails:#?}");
    let team = mails
        .iter()
        .find(|mail| mail.message_id() == format!("<offline_team.{nl}@example.com>"))
        .expect("sent");
    assert_eq!(team.header("Subject"), Some("Offline message from Ana  Bcc: evil@example.com"));
    assert!(mails
        .iter()
        .all(|mail| mail.header("Bcc").is_none() && !mail.rcpt_tos.iter().any(|r| r.contains("evil"))));
    // A language that is none of the three is refused, and nothing is stored.
    let (status, refused) =
        leave(&app, &visitor, json!({"name": "X", "email": "x@example.com", "body": "x", "lang": "fr"}))
            .await;
    assert_eq!(
        (status, text(&refused["error"]["code"]), text(&refused["error"]["field"])),
        (400, "invalid_field".to_string(), "lang".to_string())
    );
}

async fn an_agents_answer_is_stored_and_mailed_threaded_under_the_acknowledgement(backend: Backend) {
    if !smtp_sink::available() {
        return;
    }
    let port = free_port();
    let sink = SmtpSink::start(port);
    let app = TestApp::spawn_with(backend, email_on(port)).await;
    let agent = app.agent("E1", 3).await;
    let visitor = app.visitor().await;
    let id = leave_ok(
        &app,
        &visitor,
        json!({"name": "민수", "email": "ko@example.com", "body": "전화 주세요", "lang": "ko"}),
    )
    .await;
    let mails = sink.wait_for(2, WAIT).await;
    let ack_id = mail_to(&mails, "ko@example.com").message_id().to_string();

    let path = format!("/api/offline-messages/{id}/answer");
    let (status, refused) = app.post_json(Some(&visitor), &path, json!({"body": "x"})).await;
    assert_eq!((status, text(&refused["error"]["code"])), (403, "forbidden".to_string()));
    let (status, answered) =
        app.post_json(Some(&agent), &path, json!({"body": "We will call <you> & yours"})).await;
    assert_eq!(status, 200, "{answered}");
    assert_eq!((answered["id"].as_str(), answered["emailed"].as_bool()), (Some(id.as_str()), Some(true)));
    let (status, again) = app.post_json(Some(&agent), &path, json!({"body": "twice"})).await;
    assert_eq!((status, text(&again["error"]["code"])), (409, "already_answered".to_string()));
    let unknown = format!("/api/offline-messages/{}/answer", uuid::Uuid::new_v4());
    let (status, missing) = app.post_json(Some(&agent), &unknown, json!({"body": "x"})).await;
    assert_eq!((status, text(&missing["error"]["code"])), (404, "offline_message_not_found".to_string()));

    let mails = sink.wait_for(3, WAIT).await;
    assert_eq!(mails.len(), 3, "{mails:#?}");
    let answer = mails
        .iter()
        .find(|mail| mail.message_id() == format!("<offline_answer.{id}@example.com>"))
        .expect("the answer");
    assert_eq!(answer.rcpt_tos, ["ko@example.com"]);
    assert_eq!(answer.header("In-Reply-To"), Some(ack_id.as_str()));
    assert_eq!(answer.header("References"), Some(ack_id.as_str()));
    assert_eq!(answer.header("Subject"), Some("Re: 메시지를 받았습니다"));
    assert!(
        answer.text.contains("We will call <you> & yours") && answer.text.contains("Agent E1"),
        "{}",
        answer.text
    );
    assert!(
        answer.html.contains("We will call &lt;you&gt; &amp; yours") && !answer.html.contains("<you>"),
        "{}",
        answer.html
    );

    // The answer is stored with the message.
    let (status, listed) = app.get_json(Some(&agent), "/api/offline-messages").await;
    assert_eq!(status, 200);
    let message = &listed["messages"][0];
    assert_eq!(
        (text(&message["answer"]), text(&message["answered_by"]), text(&message["lang"])),
        ("We will call <you> & yours".to_string(), agent.id.clone(), "ko".to_string())
    );
    assert!(message["answered_at"].as_i64().is_some());
}

async fn a_chat_that_went_quiet_before_any_agent_wrote_is_mailed_to_the_team(backend: Backend) {
    if !smtp_sink::available() {
        return;
    }
    let port = free_port();
    let sink = SmtpSink::start(port);
    let app = TestApp::spawn_with(backend, |settings| {
        email_on(port)(settings);
        settings.chat.inactivity_secs = 1;
        settings.chat.timer_interval_ms = 100;
    })
    .await;
    let agent = app.online_agent("E1", 3).await;
    let (unanswered, answered) = (app.visitor().await, app.visitor().await);
    let quiet = app.start_chat(&unanswered, &agent).await;
    app.send(&unanswered, &quiet, "q1", "Anyone <there>?").await;
    let served = app.start_chat(&answered, &agent).await;
    app.send(&answered, &served, "s1", "Hello").await;
    app.send(&agent, &served, "s2", "Hi, how can I help?").await;
    for _ in 0..100 {
        if app.chat_state(&quiet).await.0 == "closed" && app.chat_state(&served).await.0 == "closed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.chat_state(&quiet).await.0, "closed");
    assert_eq!(app.chat_state(&served).await.0, "closed");
    let mails = sink.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let mails = if mails.len() == 1 { sink.received() } else { mails };
    assert_eq!(mails.len(), 1, "only the unanswered chat: {mails:#?}");
    let mail = &mails[0];
    assert_eq!(mail.message_id(), format!("<unanswered_chat.{quiet}@example.com>"));
    assert!(
        mail.header("Subject").is_some_and(|subject| subject.starts_with("Unanswered chat")),
        "{mail:#?}"
    );
    assert!(mail.text.contains("Anyone <there>?"), "{}", mail.text);
    assert!(mail.html.contains("Anyone &lt;there&gt;?"), "{}", mail.html);
}

async fn a_closed_chats_transcript_is_mailed_on_request_of_its_visitor_or_agent(backend: Backend) {
    if !smtp_sink::available() {
        return;
    }
    let port = free_port();
    let sink = SmtpSink::start(port);
    let app = TestApp::spawn_with(backend, email_on(port)).await;
    let agent = app.online_agent("E1", 3).await;
    let (visitor, stranger) = (app.visitor().await, app.visitor().await);
    let response = app.post_as(&visitor, "/api/chats", json!({"agent_id": agent.id, "lang": "ko"})).await;
    assert_eq!(response.status(), 201);
    let chat = text(&response.json::<Value>().await.expect("json")["chat_id"]);
    app.send(&visitor, &chat, "v1", "My order <#42>").await;
    app.send(&agent, &chat, "a1", "Found it & fixed it").await;
    let path = format!("/api/chats/{chat}/transcript/email");
    let (status, open) = app.post_json(Some(&visitor), &path, json!({"email": "v@example.com"})).await;
    assert_eq!((status, text(&open["error"]["code"])), (409, "chat_not_closed".to_string()));
    assert_eq!(app.close_chat_raw(&visitor, &chat).await.status(), 200);
    let (status, forbidden) = app.post_json(Some(&stranger), &path, json!({"email": "s@example.com"})).await;
    assert_eq!((status, text(&forbidden["error"]["code"])), (403, "forbidden".to_string()));

    // The visitor asks from the widget (language given); the agent asks for them (the
    // language the widget told at the chat's start).
    let (status, mine) =
        app.post_json(Some(&visitor), &path, json!({"email": "v@example.com", "lang": "zh"})).await;
    assert_eq!(status, 202, "{mine}");
    let (status, theirs) = app.post_json(Some(&agent), &path, json!({"email": "given@example.com"})).await;
    assert_eq!(status, 202, "{theirs}");
    let mails = sink.wait_for(2, WAIT).await;
    assert_eq!(mails.len(), 2, "{mails:#?}");
    let zh = mail_to(&mails, "v@example.com");
    assert_eq!(zh.message_id(), format!("<{}@example.com>", text(&mine["id"])));
    assert_eq!(zh.header("Subject"), Some("您的聊天记录"));
    let ko = mail_to(&mails, "given@example.com");
    assert_eq!(ko.header("Subject"), Some("채팅 기록"));
    for mail in [zh, ko] {
        assert!(
            mail.text.contains("My order <#42>") && mail.text.contains("Found it & fixed it"),
            "{}",
            mail.text
        );
        assert!(
            mail.html.contains("My order &lt;#42&gt;") && mail.html.contains("Found it &amp; fixed it"),
            "{}",
            mail.html
        );
        assert!(!mail.html.contains("<#42>"), "{}", mail.html);
    }
}

async fn emails_to_typed_addresses_are_limited_per_visitor_and_per_address_and_counted(backend: Backend) {
    let metrics = switchboard::metrics::recorder();
    // Nobody listens on the port: the rows are written all the same.
    let app = TestApp::spawn_with(backend, |settings| {
        email_on(free_port())(settings);
        settings.email.visitor_emails_per_visitor_per_hour = 2;
        settings.email.visitor_emails_per_address_per_hour = 3;
    })
    .await;
    let message = |email: &str| json!({"name": "Ana", "email": email, "body": "hello"});
    let (first, second, third) = (app.visitor().await, app.visitor().await, app.visitor().await);
    leave_ok(&app, &first, message("x@example.com")).await;
    leave_ok(&app, &first, message("X@example.com")).await;
    let (status, refused) = leave(&app, &first, message("y@example.com")).await;
    assert_eq!((status, text(&refused["error"]["code"])), (429, "rate_limited".to_string()), "per visitor");
    leave_ok(&app, &second, message("x@EXAMPLE.com")).await;
    let (status, refused) = leave(&app, &third, message("x@example.com")).await;
    assert_eq!((status, text(&refused["error"]["code"])), (429, "rate_limited".to_string()), "per address");
    leave_ok(&app, &third, message("z@example.com")).await;
    let stored = app
        .services
        .store
        .run(|conn| store::offline_messages::count(conn).map_err(StoreError::from))
        .await
        .expect("store");
    assert_eq!(stored, 4, "a refused message is not stored");
    let rendered = metrics.render();
    for limit in ["emails_per_visitor", "emails_per_address"] {
        assert!(
            rendered.contains(&format!("switchboard_limits_hit_total{{limit=\"{limit}\"}}")),
            "{rendered}"
        );
    }
    assert!(rendered.contains("switchboard_visitor_emails_total{kind=\"offline_ack\"}"), "{rendered}");
}

async fn the_admin_switch_stops_email_to_visitors_and_keeps_the_teams(backend: Backend) {
    if !smtp_sink::available() {
        return;
    }
    let port = free_port();
    let sink = SmtpSink::start(port);
    let app = TestApp::spawn_with(backend, email_on(port)).await;
    let admin = app.admin("A1").await;
    let agent = app.online_agent("E1", 3).await;
    let (status, refused) =
        app.post_json(Some(&agent), "/api/admin/email", json!({"visitor_email": false})).await;
    assert_eq!((status, text(&refused["error"]["code"])), (403, "forbidden".to_string()));
    let (status, shown) = app.get_json(Some(&admin), "/api/admin/email").await;
    assert_eq!((status, shown), (200, json!({"configured": true, "visitor_email": true})));
    let (status, switched) =
        app.post_json(Some(&admin), "/api/admin/email", json!({"visitor_email": false})).await;
    assert_eq!((status, switched), (200, json!({"configured": true, "visitor_email": false})));

    let visitor = app.visitor().await;
    let id =
        leave_ok(&app, &visitor, json!({"name": "Ana", "email": "ana@example.com", "body": "hello"})).await;
    let (status, answered) = app
        .post_json(Some(&agent), &format!("/api/offline-messages/{id}/answer"), json!({"body": "hi"}))
        .await;
    assert_eq!((status, answered["emailed"].as_bool()), (200, Some(false)));
    let chat = app.start_chat(&visitor, &agent).await;
    assert_eq!(app.close_chat_raw(&visitor, &chat).await.status(), 200);
    let (status, off) = app
        .post_json(
            Some(&visitor),
            &format!("/api/chats/{chat}/transcript/email"),
            json!({"email": "ana@example.com"}),
        )
        .await;
    assert_eq!((status, text(&off["error"]["code"])), (409, "email_off".to_string()));

    let mails = sink.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let mails = if mails.len() == 1 { sink.received() } else { mails };
    assert_eq!(mails.len(), 1, "the team's email only: {mails:#?}");
    assert_eq!(mails[0].message_id(), format!("<offline_team.{id}@example.com>"));
}

async fn an_email_written_while_the_smtp_server_is_down_is_delivered_once_it_is_up(backend: Backend) {
    if !smtp_sink::available() {
        return;
    }
    let port = free_port();
    let app = TestApp::spawn_with(backend, email_on(port)).await;
    let visitor = app.visitor().await;
    let id =
        leave_ok(&app, &visitor, json!({"name": "Ana", "email": "ana@example.com", "body": "hello"})).await;
    // Tried and failed: the row waits for its retry.
    let ack = format!("offline_ack.{id}");
    let mut row = None;
    for _ in 0..100 {
        let id = ack.clone();
        let found = app
            .services
            .store
            .run(move |conn| store::outbox::find(conn, &id).map_err(StoreError::from))
            .await
            .expect("store")
            .expect("the row");
        if found.last_error.is_some() {
            row = Some(found);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let row = row.expect("a failed try is recorded");
    assert_eq!((row.state.as_str(), row.attempts >= 1), ("pending", true), "{row:?}");

    let sink = SmtpSink::start(port);
    let mails = sink.wait_for(2, WAIT).await;
    let mut ids: Vec<&str> = mails.iter().map(Received::message_id).collect();
    ids.sort_unstable();
    assert_eq!(ids, [format!("<offline_ack.{id}@example.com>"), format!("<offline_team.{id}@example.com>")]);
}

/// The real binary on `db`, email to the sink on `smtp_port`, limits off.
fn spawn_server(db: &TestDb, port: u16, smtp_port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["--config", "/nonexistent/config.toml", "serve"])
        .env("SWITCHBOARD_STORE__URL", &db.url)
        .env("SWITCHBOARD_SERVER__PORT", port.to_string())
        .env("SWITCHBOARD_SERVER__WORKERS", "1")
        .env("SWITCHBOARD_SERVER__PUBLIC_DIR", "")
        .env("SWITCHBOARD_LIMITS__REQUESTS_PER_IP_PER_SEC", "0")
        .env("SWITCHBOARD_LIMITS__VISITORS_PER_IP_PER_MINUTE", "0")
        .env("SWITCHBOARD_EMAIL__SERVER", "127.0.0.1")
        .env("SWITCHBOARD_EMAIL__PORT", smtp_port.to_string())
        .env("SWITCHBOARD_EMAIL__TLS", "none")
        .env("SWITCHBOARD_EMAIL__FROM", "\"help@example.com\"")
        .env("SWITCHBOARD_EMAIL__TEAM", r#"["team@example.com"]"#)
        .env("SWITCHBOARD_EMAIL__RETRY_FIRST_MS", "200")
        .env("SWITCHBOARD_EMAIL__VISITOR_EMAILS_PER_VISITOR_PER_HOUR", "0")
        .env("SWITCHBOARD_EMAIL__VISITOR_EMAILS_PER_ADDRESS_PER_HOUR", "0")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run switchboard")
}

async fn wait_until_up(client: &reqwest::Client, url: &str) {
    for _ in 0..400 {
        if client.get(format!("{url}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not come up");
}

/// What 120 s would do to the claims of a process that died: they run out (set by hand, so the
/// test need not wait out the two-minute lease).
fn expire_claims(db: &TestDb) {
    use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
    let sql = "UPDATE outbox SET locked_until = 0";
    match db.url.strip_prefix("sqlite://") {
        Some(file) => {
            let mut conn = SqliteConnection::establish(file).expect("open the SQLite store");
            diesel::sql_query(sql).execute(&mut conn).expect("expire claims");
        }
        None => {
            let mut conn = PgConnection::establish(&db.url).expect("connect to the store");
            diesel::sql_query(sql).execute(&mut conn).expect("expire claims");
        }
    }
}

async fn after_a_kill_9_mid_sending_every_email_arrives_and_only_one_in_flight_may_arrive_twice(
    backend: Backend,
) {
    if !smtp_sink::available() {
        return;
    }
    let smtp_port = free_port();
    // A slow server, so that the kill finds emails on their way: claimed, not yet delivered.
    let sink = SmtpSink::start_slow(smtp_port, 100);
    let db = TestDb::new(&backend);
    let client = reqwest::Client::new();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut first = spawn_server(&db, port, smtp_port);
    wait_until_up(&client, &url).await;
    let visitor: Value =
        client.post(format!("{url}/api/visitors")).send().await.expect("visitor").json().await.expect("json");
    let token = text(&visitor["token"]);
    let mut expected = Vec::new();
    for n in 0..30 {
        let body = json!({"name": format!("V{n}"), "email": format!("v{n}@example.com"), "body": "hello"});
        let response = client
            .post(format!("{url}/api/offline-messages"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .expect("leave");
        assert_eq!(response.status(), 201);
        let id = text(&response.json::<Value>().await.expect("json")["id"]);
        expected.push(format!("<offline_team.{id}@example.com>"));
        expected.push(format!("<offline_ack.{id}@example.com>"));
    }
    // kill -9 while the sender is at work: every message is stored, not every email sent.
    first.kill().expect("kill -9");
    first.wait().expect("reaped");
    let before = sink.received().len();
    assert!(
        before < expected.len(),
        "the kill came after every email was sent ({before}): nothing was tested"
    );
    // The rows the dead process had claimed and not recorded: the only ones that may have reached
    // the server already (between its "250 OK" and our record of it) and so arrive twice.
    let in_flight = claimed_rows(&db);

    expire_claims(&db);
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut second = spawn_server(&db, port, smtp_port);
    wait_until_up(&client, &url).await;
    let ids = |mails: &[Received]| -> std::collections::BTreeSet<String> {
        mails.iter().map(|mail| mail.message_id().to_string()).collect()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while ids(&sink.received()).len() < expected.len() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let _ = second.kill();
    let _ = second.wait();
    let mails = sink.received();
    let expected: std::collections::BTreeSet<String> = expected.into_iter().collect();
    assert_eq!(ids(&mails), expected, "every email arrived ({before} before the kill), and nothing else");
    let mut seen = std::collections::BTreeSet::new();
    let twice: Vec<String> = mails
        .iter()
        .map(|mail| mail.message_id().to_string())
        .filter(|id| !seen.insert(id.clone()))
        .collect();
    for id in &twice {
        let row = id.trim_start_matches('<').split('@').next().unwrap_or_default();
        assert!(
            in_flight.contains(row),
            "{id} arrived twice though the dead process had not been sending it: {twice:?}, in flight {in_flight:?}"
        );
    }
    assert_eq!(mails.len(), expected.len() + twice.len());
    eprintln!(
        "kill -9: {before} of {} sent before, {} in flight, {} arrived twice",
        expected.len(),
        in_flight.len(),
        twice.len()
    );
}

/// The ids of the email rows claimed and not yet recorded as sent.
fn claimed_rows(db: &TestDb) -> std::collections::BTreeSet<String> {
    use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection};
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
    }
    let sql = "SELECT id FROM outbox WHERE state = 'pending' AND locked_until > 0";
    let rows: Vec<Id> = match db.url.strip_prefix("sqlite://") {
        Some(file) => {
            let mut conn = SqliteConnection::establish(file).expect("open the SQLite store");
            diesel::sql_query(sql).load(&mut conn).expect("claimed rows")
        }
        None => {
            let mut conn = PgConnection::establish(&db.url).expect("connect to the store");
            diesel::sql_query(sql).load(&mut conn).expect("claimed rows")
        }
    };
    rows.into_iter().map(|row| row.id).collect()
}
