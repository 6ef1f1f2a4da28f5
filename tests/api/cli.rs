//! The `switchboard` command line against a real store.

use std::process::{Command, Output, Stdio};

use serde_json::json;

use crate::helpers::{Backend, TestApp, TestDb};

fn switchboard(db: &TestDb, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["--config", "/nonexistent/config.toml"])
        .args(args)
        .env("SWITCHBOARD_STORE__URL", &db.url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run switchboard");
    if let Some(input) = stdin {
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    }
    child.wait_with_output().expect("switchboard finishes")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_added_by_the_cli_log_in_and_disabled_ones_cannot() {
    let db = TestDb::new(&Backend::Sqlite);
    let added = switchboard(
        &db,
        &["agent", "add", "--employee-id", "E1001", "--name", "Alice", "--max-chats", "3"],
        Some("s3cret-pass\n"),
    );
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let taken = switchboard(
        &db,
        &["agent", "add", "--employee-id", "E1001", "--name", "Twin", "--password", "another-pass"],
        None,
    );
    assert!(!taken.status.success(), "a second E1001 must be refused");
    let short = switchboard(
        &db,
        &["agent", "add", "--employee-id", "E2", "--name", "Bob", "--password", "short"],
        None,
    );
    assert!(!short.status.success(), "a short password must be refused");

    assert!(switchboard(&db, &["agent", "set-capacity", "E1001", "7"], None).status.success());
    let listed = stdout(&switchboard(&db, &["agent", "list"], None));
    let line = listed.lines().find(|l| l.starts_with("E1001")).expect("E1001 listed");
    assert!(line.contains("Alice") && line.contains(" 7 "), "{line}");
    assert!(!listed.contains("Bob"));

    // A change made by another process reaches this server's token cache within the recheck.
    let app = TestApp::start(db.clone(), |settings| settings.auth.agent_token_recheck_secs = 1).await;
    let login = |password: &'static str| {
        app.client
            .post(app.url("/api/agent/login"))
            .json(&json!({"employee_id": "E1001", "password": password}))
            .send()
    };
    let ok = login("s3cret-pass").await.expect("request");
    assert_eq!(ok.status(), 200);
    let ok: serde_json::Value = ok.json().await.expect("json");
    assert_eq!(ok["max_chats"], 7);
    let token = ok["token"].as_str().expect("token").to_string();
    let agents_list = || app.client.get(app.url("/api/agents")).bearer_auth(&token).send();
    assert_eq!(agents_list().await.expect("request").status(), 200, "the token is now cached");

    assert!(switchboard(&db, &["agent", "disable", "E1001"], None).status.success());
    assert_eq!(login("s3cret-pass").await.expect("request").status(), 401);
    let refused_at = std::time::Instant::now();
    while agents_list().await.expect("request").status() != 401 {
        assert!(
            refused_at.elapsed() < std::time::Duration::from_secs(10),
            "the cached token outlived the recheck"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let missing = switchboard(&db, &["agent", "disable", "E404"], None);
    assert!(!missing.status.success());
}

#[test]
fn migrate_applies_the_schema_and_an_unknown_config_key_is_named() {
    let db = TestDb::new(&Backend::Sqlite);
    let migrated = switchboard(&db, &["migrate"], None);
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));

    let output = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["--config", "/nonexistent/config.toml", "migrate"])
        .env("SWITCHBOARD_STORE__URL", &db.url)
        .env("SWITCHBOARD_SERVER__PROT", "1")
        .output()
        .expect("run switchboard");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("prot"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_messages_are_sent_is_whole_and_holds_what_came_before() {
    let db = TestDb::new(&Backend::Sqlite);
    let app = TestApp::start(db.clone(), |_| {}).await;
    let agent = app.online_agent("backup-agent", 5).await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    for n in 0..20 {
        app.send(&visitor, &chat, &format!("before-{n}"), "before the backup").await;
    }
    let before = app.store_counts().await;

    // The server keeps taking messages while the copy is made.
    let writer = {
        let (url, token, chat) = (app.url("/send"), visitor.token.clone(), chat.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for n in 0..200 {
                let body = json!({"chat_id": chat, "client_msg_id": format!("during-{n}"), "body": "during"});
                let sent = client.post(&url).bearer_auth(&token).json(&body).send().await.expect("send");
                assert_eq!(sent.status(), 200, "a send failed while the backup ran");
            }
        })
    };
    let folder = tempfile::tempdir().expect("temp dir");
    let copy = folder.path().join("copy.db");
    let copy_arg = copy.display().to_string();
    let backed_up = tokio::task::spawn_blocking({
        let db = db.clone();
        move || switchboard(&db, &["backup", &copy_arg], None)
    })
    .await
    .expect("backup ran");
    assert!(backed_up.status.success(), "{}", String::from_utf8_lossy(&backed_up.stderr));
    writer.await.expect("the sends went on");

    // The copy opens as a store of its own and holds at least what was stored before it began.
    let copied = TestDb::existing_sqlite(&copy);
    let restored = TestApp::start(copied, |_| {}).await;
    let counts = restored.store_counts().await;
    assert!(counts.messages >= before.messages, "the copy lost messages: {counts:?} < {before:?}");
    assert_eq!((counts.chats, counts.visitors), (before.chats, before.visitors));
    restored.stop().await;

    let again = switchboard(&db, &["backup", &copy.display().to_string()], None);
    assert!(!again.status.success(), "a backup must never overwrite a file");
    app.stop().await;
}
