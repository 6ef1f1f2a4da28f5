//! Data rights: an admin exports everything about a visitor (or a site's customer) and erases
//! it; retention deletes what is older than `[retention]` says; each leaves an audit line.
//! Rows are counted per table before and after, for the erased visitor and for a neighbour
//! whose data must stay.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use diesel::sql_types::BigInt;
use diesel::{QueryableByName, RunQueryDsl};
use serde_json::{json, Value};
use switchboard::domain::now_ms;
use switchboard::store::StoreError;

use crate::helpers::{Backend, Participant, TestApp};
use crate::on_every_backend;

on_every_backend!(
    an_export_holds_every_kind_of_data_about_the_visitor_and_no_token,
    an_erase_removes_exactly_the_visitors_rows_keeps_the_agents_figures_and_kills_its_tokens,
    an_erase_during_an_open_chat_ends_it_for_the_agent_first_and_frees_the_slot,
    retention_removes_exactly_what_is_older_than_its_settings,
    only_admins_export_and_erase_and_bad_input_is_refused_naming_the_field,
);

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Runs `sql` (test setup: literal values only) through the store's writer.
async fn exec(app: &TestApp, sql: String) {
    app.services
        .store
        .write(move |conn| diesel::sql_query(sql).execute(conn).map_err(StoreError::from))
        .await
        .expect("setup statement");
}

async fn count(app: &TestApp, sql: String) -> i64 {
    app.services
        .store
        .run(move |conn| {
            diesel::sql_query(sql).get_result::<Count>(conn).map(|c| c.n).map_err(StoreError::from)
        })
        .await
        .expect("count")
}

/// The tables that hold a visitor's data, each with the condition naming its rows.
fn tables_of(visitor: &str) -> Vec<(&'static str, String)> {
    let chats = format!("(SELECT id FROM chats WHERE visitor_id = '{visitor}')");
    vec![
        ("visitors", format!("id = '{visitor}'")),
        ("chats", format!("visitor_id = '{visitor}'")),
        ("messages", format!("chat_id IN {chats}")),
        ("ratings", format!("chat_id IN {chats}")),
        ("offline_messages", format!("visitor_id = '{visitor}'")),
        ("page_views", format!("visitor_id = '{visitor}'")),
        ("tokens", format!("principal_id = '{visitor}'")),
        ("bans", format!("visitor_id = '{visitor}'")),
        (
            "outbox",
            format!("id LIKE '%.' || (SELECT MIN(id) FROM chats WHERE visitor_id = '{visitor}') || '%'"),
        ),
    ]
}

/// Rows of `visitor` per table.
async fn rows_of(app: &TestApp, visitor: &str) -> BTreeMap<&'static str, i64> {
    let mut rows = BTreeMap::new();
    for (table, filter) in tables_of(visitor) {
        rows.insert(table, count(app, format!("SELECT COUNT(*) AS n FROM {table} WHERE {filter}")).await);
    }
    rows
}

/// Rows per table, everybody's.
async fn totals(app: &TestApp) -> BTreeMap<&'static str, i64> {
    let mut rows = BTreeMap::new();
    for (table, _) in tables_of("") {
        rows.insert(table, count(app, format!("SELECT COUNT(*) AS n FROM {table}")).await);
    }
    rows.insert("feed_events", count(app, "SELECT COUNT(*) AS n FROM feed_events".into()).await);
    rows
}

async fn agent_stats(app: &TestApp, admin: &Participant) -> Value {
    let (status, body) = app.get_json(Some(admin), "/api/admin/stats/agents").await;
    assert_eq!(status, 200, "{body}");
    body["agents"].clone()
}

async fn audit(app: &TestApp, admin: &Participant, query: &str) -> Vec<Value> {
    let (status, body) = app.get_json(Some(admin), &format!("/api/admin/audit-log{query}")).await;
    assert_eq!(status, 200, "{body}");
    body["entries"].as_array().cloned().expect("entries")
}

/// A visitor with one of everything: identity columns, two page views, a closed chat (with
/// pre-chat answers, messages both ways and a rated comment), an offline message, an email
/// about its chat in the outbox, and a ban (of its id only); `tag` marks its texts.
async fn visitor_with_everything(
    app: &TestApp,
    agent: &Participant,
    site: &str,
    tag: &str,
) -> (Participant, String) {
    let visitor = app.visitor().await;
    let id = &visitor.id;
    exec(
        app,
        format!(
            "UPDATE visitors SET site_id = '{site}', customer_id = 'cust-{tag}', email = '{tag}@example.com', \
             verified = 1, last_seen_at = {} WHERE id = '{id}'",
            now_ms()
        ),
    )
    .await;
    for (n, url) in ["https://shop.example/a", "https://shop.example/b"].iter().enumerate() {
        exec(
            app,
            format!(
                "INSERT INTO page_views (id, visitor_id, url, title, at) VALUES ('{}', '{id}', '{url}', 'Page {tag}', {n})",
                uuid::Uuid::new_v4()
            ),
        )
        .await;
    }
    let chat = app.start_chat(&visitor, agent).await;
    exec(app, format!("UPDATE chats SET prechat = '[{{\"name\":\"phone\",\"value\":\"555-{tag}\"}}]' WHERE id = '{chat}'")).await;
    app.send(&visitor, &chat, "v1", &format!("visitor words {tag}")).await;
    app.send(agent, &chat, "a1", &format!("agent words {tag}")).await;
    assert_eq!(app.close_chat_raw(&visitor, &chat).await.status(), 200);
    let (status, body) = app
        .post_json(
            Some(&visitor),
            &format!("/api/chats/{chat}/rating"),
            json!({"score": 4, "comment": format!("comment {tag}")}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let message = json!({"name": format!("Name {tag}"), "email": format!("{tag}@example.com"), "body": format!("offline {tag}")});
    let (status, body) = app.post_json(Some(&visitor), "/api/offline-messages", message).await;
    assert_eq!(status, 201, "{body}");
    let payload = json!({"to": [format!("{tag}@example.com")], "subject": "Your chat"}).to_string();
    exec(
        app,
        format!(
            "INSERT INTO outbox (id, channel, target, payload, state, attempts, next_at, locked_until, created_at) \
             VALUES ('transcript.{chat}.x{tag}', 'email', 'transcript', '{payload}', 'pending', 0, 0, 0, 1)"
        ),
    )
    .await;
    let (status, body) = app
        .post_json(Some(agent), "/api/bans", json!({"visitor_id": id, "reason": format!("reason {tag}")}))
        .await;
    assert_eq!(status, 201, "{body}");
    (visitor, chat)
}

async fn an_export_holds_every_kind_of_data_about_the_visitor_and_no_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 5).await;
    let admin = app.admin("ADM").await;
    let site = uuid::Uuid::new_v4().to_string();
    let (visitor, chat) = visitor_with_everything(&app, &agent, &site, "one").await;
    let (other, _) = visitor_with_everything(&app, &agent, &site, "two").await;

    let response = app
        .client
        .get(app.url(&format!("/api/admin/visitors/{}/export", visitor.id)))
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let disposition = response.headers()["content-disposition"].to_str().expect("ascii").to_string();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    let raw = response.text().await.expect("body");
    let body: Value = serde_json::from_str(&raw).expect("json");
    let data = &body["data"];
    assert_eq!(data["visitor"]["id"], visitor.id.as_str());
    assert_eq!(data["visitor"]["customer_id"], "cust-one");
    assert_eq!(data["visitor"]["email"], "one@example.com");
    assert_eq!(data["page_views"].as_array().map(Vec::len), Some(2));
    assert_eq!(data["chats"].as_array().map(Vec::len), Some(1));
    assert_eq!(data["chats"][0]["id"], chat.as_str());
    assert!(data["chats"][0]["prechat"].as_str().is_some_and(|p| p.contains("555-one")));
    let messages = data["messages"].to_string();
    assert!(messages.contains("visitor words one") && messages.contains("agent words one"), "{messages}");
    assert_eq!(data["ratings"][0]["comment"], "comment one");
    assert_eq!(data["offline_messages"][0]["body"], "offline one");
    assert_eq!(data["bans"][0]["reason"], "reason one");
    assert_eq!(data["outbox"].as_array().map(Vec::len), Some(1));
    assert!(data["feed_events"].as_array().is_some_and(|rows| rows.len() >= 4), "{}", data["feed_events"]);
    assert!(data["tokens"].as_i64().is_some_and(|n| n >= 1));
    // Nothing of anyone else, and never a token.
    assert!(!raw.contains("two"), "another visitor's data leaked: {raw}");
    assert!(!raw.contains(&visitor.token) && !raw.contains(&agent.token) && !raw.contains(&admin.token));
    assert!(!raw.contains("token_hash"));

    // The same visitor by its customer id; an unknown customer is a 404.
    let path = format!("/api/admin/customers/export?site_id={site}&customer_id=cust-one");
    let (status, by_customer) = app.get_json(Some(&admin), &path).await;
    assert_eq!(status, 200, "{by_customer}");
    assert_eq!(by_customer["data"]["visitor"]["id"], visitor.id.as_str());
    let path = format!("/api/admin/customers/export?site_id={site}&customer_id=cust-nobody");
    let (status, body) = app.get_json(Some(&admin), &path).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("visitor_not_found")), "{body}");

    // Each export is in the audit log, newest first, without the customer's own id.
    let entries = audit(&app, &admin, "").await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert!(entries.iter().all(|e| e["action"] == "visitor.export" && e["subject"] == visitor.id.as_str()));
    assert!(entries.iter().all(|e| e["actor_id"] == admin.id.as_str()));
    assert_eq!(entries[0]["detail"]["by"], "customer");
    assert_eq!(entries[1]["detail"]["by"], "visitor_id");
    assert_eq!(
        entries[1]["detail"]["counts"]["messages"],
        data["messages"].as_array().map(Vec::len).unwrap_or(0)
    );
    assert!(!Value::Array(entries).to_string().contains("cust-one"));
    let _ = other;
    app.stop().await;
}

async fn an_erase_removes_exactly_the_visitors_rows_keeps_the_agents_figures_and_kills_its_tokens(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 5).await;
    let admin = app.admin("ADM").await;
    let site = uuid::Uuid::new_v4().to_string();
    let (visitor, chat) = visitor_with_everything(&app, &agent, &site, "one").await;
    let (other, _) = visitor_with_everything(&app, &agent, &site, "two").await;
    // A second token of the same visitor (its second device, say): both die.
    let second_token = visitor.token.clone();

    let stats_before = agent_stats(&app, &admin).await;
    let mine_before = rows_of(&app, &visitor.id).await;
    let other_before = rows_of(&app, &other.id).await;
    let totals_before = totals(&app).await;
    assert!(mine_before.values().all(|n| *n >= 1), "the fixture has one of each: {mine_before:?}");

    let (status, body) =
        app.post_json(Some(&admin), &format!("/api/admin/visitors/{}/erase", visitor.id), json!({})).await;
    assert_eq!(status, 200, "{body}");
    let removed = &body["removed"];
    for (table, n) in &mine_before {
        // A ban without an address goes whole; the counts say what went.
        assert_eq!(removed[*table].as_i64(), Some(*n), "{table}: {body}");
    }

    let mine_after = rows_of(&app, &visitor.id).await;
    assert!(mine_after.values().all(|n| *n == 0), "left behind: {mine_after:?}");
    assert_eq!(rows_of(&app, &other.id).await, other_before, "the neighbour's rows are untouched");
    let totals_after = totals(&app).await;
    for (table, before) in &totals_before {
        let gone = mine_before.get(table).copied().unwrap_or(0);
        assert_eq!(totals_after[table], before - gone, "{table}");
    }
    // The feed keeps its rows (references, now reading `null`): positions stay without gaps.
    assert_eq!(totals_after["feed_events"], totals_before["feed_events"]);

    // The report reads the same: ratings, their average, closed chats.
    assert_eq!(agent_stats(&app, &admin).await, stats_before);

    // Its tokens are refused at once.
    let poll = app.poll_raw(&visitor, "", Some(0), None).await;
    assert_eq!(poll.status(), 401);
    let poll =
        app.client.get(app.url("/poll?timeout=0")).bearer_auth(&second_token).send().await.expect("poll");
    assert_eq!(poll.status(), 401);
    // The chat is gone for its agent too.
    let (status, _) = app.get_json(Some(&agent), &format!("/api/chats/{chat}")).await;
    assert_eq!(status, 404);

    // Erasing again: nobody to erase. Erasing the neighbour by customer id works the same.
    let (status, body) =
        app.post_json(Some(&admin), &format!("/api/admin/visitors/{}/erase", visitor.id), json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("visitor_not_found")), "{body}");
    let path = format!("/api/admin/customers/erase?site_id={site}&customer_id=cust-two");
    let (status, body) = app.post_json(Some(&admin), &path, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["visitor_id"], other.id.as_str());
    assert!(rows_of(&app, &other.id).await.values().all(|n| *n == 0));
    assert_eq!(agent_stats(&app, &admin).await, stats_before);

    let entries = audit(&app, &admin, "").await;
    let erases: Vec<&Value> = entries.iter().filter(|e| e["action"] == "visitor.erase").collect();
    assert_eq!(erases.len(), 2, "{entries:?}");
    assert_eq!(erases[0]["subject"], other.id.as_str());
    assert_eq!(erases[1]["subject"], visitor.id.as_str());
    assert_eq!(erases[1]["detail"]["removed"]["messages"].as_i64(), Some(mine_before["messages"]));
    // Paging: one line, then the ones before it.
    let first = audit(&app, &admin, "?limit=1").await;
    assert_eq!(first.len(), 1);
    let at = first[0]["at"].as_i64().expect("at");
    assert!(audit(&app, &admin, &format!("?before={at}")).await.iter().all(|e| e["at"].as_i64() < Some(at)));
    app.stop().await;
}

async fn an_erase_during_an_open_chat_ends_it_for_the_agent_first_and_frees_the_slot(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 1).await;
    let admin = app.admin("ADM").await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    app.send(&visitor, &chat, "v1", "my address is 1 Main St").await;
    let mut cursor = String::new();
    for _ in 0..5 {
        let answer = app.poll(&agent, &cursor, Some(0)).await;
        cursor = answer.cursor;
    }
    // The agent is full.
    let next = app.visitor().await;
    assert_eq!(app.start_chat_raw(&next, &agent.id).await.status(), 409);

    // The agent's poll is held while the admin erases.
    let held = {
        let (wire, agent, cursor) = (app.wire.clone(), agent.clone(), cursor.clone());
        tokio::spawn(async move { wire.poll(&agent, &cursor, Some(20)).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, body) =
        app.post_json(Some(&admin), &format!("/api/admin/visitors/{}/erase", visitor.id), json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["chats_ended"], 1);
    let answer = held.await.expect("poll task");
    let closed: Vec<&Value> = answer.events.iter().filter(|e| e["chat_id"] == chat.as_str()).collect();
    assert_eq!(closed.len(), 1, "{:?}", answer.events);
    assert_eq!(closed[0]["type"], "chat.closed");
    assert_eq!(closed[0]["reason"], "visitor_erased");
    assert!(!answer.events.to_string_lossy().contains("Main St"));

    // A console that was not polling at the erase (its cursor from before) still hears of the
    // end from memory, and of nothing else; a fresh one (no cursor) hears nothing of the chat.
    let late = app.poll(&agent, &cursor, Some(0)).await;
    let late_events: Vec<&Value> = late.events.iter().filter(|e| e["chat_id"] == chat.as_str()).collect();
    assert_eq!(late_events.len(), 1, "{:?}", late.events);
    assert_eq!(late_events[0]["reason"], "visitor_erased");
    let fresh = app.poll(&agent, "", Some(0)).await;
    assert!(fresh.events.iter().all(|e| e["type"] != "message"), "{:?}", fresh.events);
    assert!(!fresh.events.to_string_lossy().contains("Main St"));

    // Then the chat is gone: the next polls bring nothing of it, the store has none of it.
    let later = app.poll(&agent, &answer.cursor, Some(0)).await;
    assert!(later.events.iter().all(|e| e["chat_id"] != chat.as_str()), "{:?}", later.events);
    assert_eq!(count(&app, format!("SELECT COUNT(*) AS n FROM chats WHERE id = '{chat}'")).await, 0);
    assert_eq!(count(&app, format!("SELECT COUNT(*) AS n FROM messages WHERE chat_id = '{chat}'")).await, 0);
    // The visitor's token is dead; the agent's slot is free again.
    assert_eq!(app.poll_raw(&visitor, "", Some(0), None).await.status(), 401);
    assert_eq!(app.start_chat_raw(&next, &agent.id).await.status(), 201);
    assert_eq!(app.store_counts().await.open_chats, 1);
    app.stop().await;
}

/// A string of the events, to look for text that must not be there.
trait Lossy {
    fn to_string_lossy(&self) -> String;
}

impl Lossy for Vec<Value> {
    fn to_string_lossy(&self) -> String {
        Value::Array(self.clone()).to_string()
    }
}

const DAY: i64 = 86_400_000;

async fn chat_exists(app: &TestApp, chat: &str) -> bool {
    count(app, format!("SELECT COUNT(*) AS n FROM chats WHERE id = '{chat}'")).await == 1
}

async fn retention_removes_exactly_what_is_older_than_its_settings(backend: Backend) {
    let app = TestApp::spawn_with(backend, |settings| {
        settings.retention.closed_chat_days = 30;
        settings.retention.inactive_visitor_days = 90;
        // Small batches: the purge below takes several writes.
        settings.retention.batch_size = 2;
        // The task itself would run only after an hour: the test calls the purge.
        settings.retention.interval_secs = 3600;
    })
    .await;
    let agent = app.online_agent("E1", 10).await;
    let admin = app.admin("ADM").await;
    let now = now_ms();
    let cutoff = now - 30 * DAY;

    // A regular: five closed chats, three closed just before the cutoff, two just after.
    let regular = app.visitor().await;
    let mut old = Vec::new();
    let mut recent = Vec::new();
    for n in 0..5 {
        let chat = app.start_chat(&regular, &agent).await;
        app.send(&regular, &chat, &format!("m{n}"), "hello").await;
        assert_eq!(app.close_chat_raw(&regular, &chat).await.status(), 200);
        let (status, body) = app
            .post_json(Some(&regular), &format!("/api/chats/{chat}/rating"), json!({"score": n % 5 + 1}))
            .await;
        assert_eq!(status, 201, "{body}");
        let closed_at = if n < 3 { cutoff - 60_000 } else { cutoff + 60_000 };
        exec(&app, format!("UPDATE chats SET closed_at = {closed_at} WHERE id = '{chat}'")).await;
        if n < 3 {
            old.push(chat)
        } else {
            recent.push(chat)
        }
    }
    // Gone quiet long ago, with a (recently closed) chat: goes whole.
    let gone = app.visitor().await;
    let gone_chat = app.start_chat(&gone, &agent).await;
    assert_eq!(app.close_chat_raw(&gone, &gone_chat).await.status(), 200);
    // Quiet as long, but with a chat going: stays.
    let talking = app.visitor().await;
    let talking_chat = app.start_chat(&talking, &agent).await;
    // Never seen, made long ago: goes. Seen just after the cutoff: stays.
    let never = app.visitor().await;
    let lately = app.visitor().await;
    let long_ago = now - 90 * DAY - 60_000;
    for id in [&gone.id, &talking.id, &regular.id] {
        exec(
            &app,
            format!(
                "UPDATE visitors SET last_seen_at = {} WHERE id = '{id}'",
                if *id == regular.id { now } else { long_ago }
            ),
        )
        .await;
    }
    exec(
        &app,
        format!("UPDATE visitors SET last_seen_at = NULL, created_at = {long_ago} WHERE id = '{}'", never.id),
    )
    .await;
    exec(
        &app,
        format!("UPDATE visitors SET last_seen_at = {} WHERE id = '{}'", now - 90 * DAY + 60_000, lately.id),
    )
    .await;

    let stats_before = agent_stats(&app, &admin).await;
    let totals_before = totals(&app).await;
    let purged = app.services.purge_retention(now).await.expect("purge");
    assert_eq!(purged.old_chats.chats, 3);
    assert_eq!(purged.inactive_visitors.visitors, 2);
    assert!(purged.batches >= 3, "batches of 2: {}", purged.batches);

    for chat in &old {
        assert!(!chat_exists(&app, chat).await, "an old chat stayed");
        assert_eq!(
            count(&app, format!("SELECT COUNT(*) AS n FROM messages WHERE chat_id = '{chat}'")).await,
            0
        );
    }
    for chat in &recent {
        assert!(chat_exists(&app, chat).await, "a recent chat went");
    }
    assert!(!chat_exists(&app, &gone_chat).await);
    assert!(chat_exists(&app, &talking_chat).await);
    for (who, stays) in [(&regular, true), (&gone, false), (&talking, true), (&never, false), (&lately, true)]
    {
        let n = count(&app, format!("SELECT COUNT(*) AS n FROM visitors WHERE id = '{}'", who.id)).await;
        assert_eq!(n == 1, stays, "visitor {}", who.id);
    }
    let totals_after = totals(&app).await;
    assert_eq!(totals_after["chats"], totals_before["chats"] - 4);
    assert_eq!(totals_after["ratings"], totals_before["ratings"] - 3);
    assert_eq!(totals_after["visitors"], totals_before["visitors"] - 2);
    // The report is unchanged though three rated chats and another closed one went.
    assert_eq!(agent_stats(&app, &admin).await, stats_before);
    // The gone visitor's token went with it.
    assert_eq!(app.poll_raw(&gone, "", Some(0), None).await.status(), 401);
    assert_eq!(app.poll_raw(&talking, "", Some(0), None).await.status(), 200);

    // One audit line for the run; a run that finds nothing writes none.
    let entries = audit(&app, &admin, "").await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["action"], "retention.purge");
    assert_eq!(entries[0]["actor_id"], Value::Null);
    assert_eq!(entries[0]["detail"]["old_chats"]["chats"], 3);
    assert_eq!(entries[0]["detail"]["inactive_visitors"]["visitors"], 2);
    let again = app.services.purge_retention(now).await.expect("purge");
    assert_eq!(again.old_chats.chats + again.inactive_visitors.visitors, 0);
    assert_eq!(audit(&app, &admin, "").await.len(), 1);
    app.stop().await;
}

async fn only_admins_export_and_erase_and_bad_input_is_refused_naming_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agent = app.online_agent("E1", 5).await;
    let admin = app.admin("ADM").await;
    let visitor = app.visitor().await;
    let chat = app.start_chat(&visitor, &agent).await;
    let export = format!("/api/admin/visitors/{}/export", visitor.id);
    let erase = format!("/api/admin/visitors/{}/erase", visitor.id);
    for who in [&agent, &visitor] {
        assert_eq!(app.get_json(Some(who), &export).await.0, 403);
        assert_eq!(app.post_json(Some(who), &erase, json!({})).await.0, 403);
        assert_eq!(app.get_json(Some(who), "/api/admin/audit-log").await.0, 403);
    }
    assert_eq!(app.get_json(None, &export).await.0, 401);
    let cases = [
        ("GET", "/api/admin/visitors/not-a-uuid/export".to_string(), "visitor_id"),
        ("POST", "/api/admin/visitors/not-a-uuid/erase".to_string(), "visitor_id"),
        ("GET", "/api/admin/customers/export?customer_id=x".to_string(), "site_id"),
        ("POST", format!("/api/admin/customers/erase?site_id={}", uuid::Uuid::new_v4()), "customer_id"),
        ("POST", "/api/admin/customers/erase?site_id=nope&customer_id=x".to_string(), "site_id"),
        ("GET", "/api/admin/audit-log?limit=0".to_string(), "limit"),
        ("GET", "/api/admin/audit-log?before=-1".to_string(), "before"),
    ];
    for (method, path, field) in cases {
        let (status, body) = if method == "GET" {
            app.get_json(Some(&admin), &path).await
        } else {
            app.post_json(Some(&admin), &path, json!({})).await
        };
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["field"], field, "{path}: {body}");
    }
    // Nothing changed: the chat is still open, its visitor still polls, no audit line.
    assert_eq!(app.chat_state(&chat).await.0, "open");
    assert_eq!(app.poll_raw(&visitor, "", Some(0), None).await.status(), 200);
    assert!(audit(&app, &admin, "").await.is_empty());
    app.stop().await;
}

/// Stores `chats` closed chats of `visitor` with `agent`, closed at 1000 (long ago), each with
/// `messages` messages, 500 chats per write.
async fn old_chats(app: &TestApp, visitor: &str, agent: &str, chats: usize, messages: usize) {
    for start in (0..chats).step_by(500) {
        let ids: Vec<String> =
            (start..chats.min(start + 500)).map(|_| uuid::Uuid::new_v4().to_string()).collect();
        let chat_rows: Vec<String> = ids
            .iter()
            .map(|id| {
                format!(
                    "('{id}', '{visitor}', '{agent}', 'closed', {messages}, 1000, 1000, 1000, 'closed_by_visitor', 0, 0)"
                )
            })
            .collect();
        let message_rows: Vec<String> = ids
            .iter()
            .flat_map(|id| {
                (1..=messages).map(move |seq| {
                    format!("('{id}', {seq}, 'message', NULL, '{{\"type\":\"message\",\"from\":\"visitor\",\"body\":\"old words\"}}', 1000)")
                })
            })
            .collect();
        let sql = [
            format!(
                "INSERT INTO chats (id, visitor_id, agent_id, status, last_seq, created_at, last_activity_at, \
                 closed_at, close_reason, visitor_read_seq, agent_read_seq) VALUES {}",
                chat_rows.join(", ")
            ),
            format!(
                "INSERT INTO messages (chat_id, seq, kind, client_msg_id, payload, created_at) VALUES {}",
                message_rows.join(", ")
            ),
        ];
        for statement in sql {
            exec(app, statement).await;
        }
    }
}

/// Not a check but a figure (no timing is asserted): how long a send takes while retention
/// purges 10,000 old chats, in batches of 200 (each its own write) and in one write of them
/// all. Run with `--nocapture` to see it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_during_a_large_purge_waits_for_one_batch_not_for_the_purge() {
    const CHATS: usize = 10_000;
    for batch in [200_u64, 1_000_000] {
        let app = TestApp::spawn_with(Backend::Sqlite, |settings| {
            settings.retention.closed_chat_days = 1;
            settings.retention.batch_size = batch;
        })
        .await;
        let agent = app.online_agent("E1", 5).await;
        let visitor = app.visitor().await;
        let chat = app.start_chat(&visitor, &agent).await;
        let quiet = app.visitor().await;
        old_chats(&app, &quiet.id, &agent.id, CHATS, 4).await;
        let services = app.services.clone();
        let purge = tokio::spawn(async move {
            let started = Instant::now();
            let purged = services.purge_retention(now_ms()).await.expect("purge");
            (purged, started.elapsed())
        });
        let mut latencies = Vec::new();
        while !purge.is_finished() {
            let started = Instant::now();
            app.send(&visitor, &chat, &format!("m{}", latencies.len()), "still here").await;
            latencies.push(started.elapsed());
        }
        let (purged, took) = purge.await.expect("purge task");
        assert_eq!(purged.old_chats.chats, CHATS as i64);
        assert_eq!(purged.old_chats.messages, 4 * CHATS as i64);
        latencies.sort();
        let at = |q: f64| {
            latencies.get(((latencies.len() as f64 - 1.0) * q) as usize).copied().unwrap_or_default()
        };
        eprintln!(
            "purge of {CHATS} chats in batches of {batch}: {} writes, {:.0} ms; {} sends meanwhile: median {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            purged.batches,
            took.as_secs_f64() * 1000.0,
            latencies.len(),
            at(0.5).as_secs_f64() * 1000.0,
            at(0.99).as_secs_f64() * 1000.0,
            at(1.0).as_secs_f64() * 1000.0,
        );
        app.stop().await;
    }
}
