//! Who may call what: every endpoint × {no token, visitor in the chat, another visitor, agent
//! not in the chat, agent in the chat, admin}, each cell asserting its exact status. Every cell
//! runs against a fresh world, so a call that changes something cannot colour the next cell.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Backend, Participant, TestApp};
use crate::on_every_backend;

on_every_backend!(every_endpoint_answers_each_kind_of_caller_with_its_exact_status);

/// The callers, in the column order of [`MATRIX`].
const CALLERS: [&str; 6] =
    ["no token", "visitor", "other visitor", "agent not in chat", "agent in chat", "admin"];

/// A world in which every endpoint has a valid request.
struct World {
    visitor: Participant,
    other_visitor: Participant,
    agent_out: Participant,
    agent_in: Participant,
    admin: Participant,
    chat: String,
    closed_chat: String,
    /// An earlier chat of `visitor`, served by the admin and closed: `agent_in`, who serves
    /// `visitor` now in `chat`, may read it; `agent_out` may not.
    earlier_chat: String,
    /// A ban `agent_in` made, on a visitor of its own.
    ban: String,
    /// A team canned reply (the admin's).
    team_reply: String,
    /// `agent_in`'s own canned reply.
    own_reply: String,
    /// A webhook endpoint (the admin's) hearing messages.
    webhook: String,
    /// The event of the message in `chat`, which the webhook owes a call.
    webhook_event: i64,
    /// An integration key the admin made (its id).
    key: String,
    /// An offline message `visitor` left.
    offline: String,
    /// `other_visitor` as a site's customer: (site_id, customer_id).
    customer: (String, String),
    /// A site the admin registered (its id).
    site: String,
}

/// Creates a canned reply as `who`; its id.
async fn canned_reply(app: &TestApp, who: &Participant, scope: &str, cell: usize) -> String {
    let fields = json!({"scope": scope, "shortcut": format!("hello{cell}"), "body": "Hello!"});
    let (status, made) = app.post_json(Some(who), "/api/canned", fields).await;
    assert_eq!(status, 201, "{made}");
    made["canned"]["canned_id"].as_str().expect("canned id").to_string()
}

async fn world(app: &TestApp, cell: usize) -> World {
    let agent_in = app.online_agent(&format!("IN{cell}"), 3).await;
    let agent_out = app.online_agent(&format!("OUT{cell}"), 3).await;
    let admin = app.admin(&format!("ADM{cell}")).await;
    app.poll(&admin, "", Some(0)).await;
    let visitor = app.visitor().await;
    let earlier_chat = app.start_chat(&visitor, &admin).await;
    assert_eq!(app.close_chat_raw(&visitor, &earlier_chat).await.status(), 200);
    let closed_chat = app.start_chat(&visitor, &agent_in).await;
    assert_eq!(app.close_chat_raw(&visitor, &closed_chat).await.status(), 200);
    let chat = app.start_chat(&visitor, &agent_in).await;
    // Nothing listens on port 9 of this host: the call fails without leaving it.
    let hook = json!({"url": "http://127.0.0.1:9/hook", "events": "message"});
    let (status, made) = app.post_json(Some(&admin), "/api/admin/webhooks", hook).await;
    assert_eq!(status, 201, "{made}");
    let webhook = made["webhook"]["webhook_id"].as_str().expect("webhook id").to_string();
    app.send(&visitor, &chat, "v1", "hello").await;
    let (status, log) =
        app.get_json(Some(&admin), &format!("/api/admin/webhooks/{webhook}/deliveries")).await;
    assert_eq!(status, 200, "{log}");
    let webhook_event = log["deliveries"][0]["event_id"].as_i64().expect("the message's delivery");
    let other_visitor = app.visitor().await;
    app.poll(&other_visitor, "", Some(0)).await;
    let banned = app.visitor().await;
    let (status, made) = app.post_json(Some(&agent_in), "/api/bans", json!({"visitor_id": banned.id})).await;
    assert_eq!(status, 201, "{made}");
    let ban = made["ban"]["ban_id"].as_str().expect("ban id").to_string();
    let team_reply = canned_reply(app, &admin, "team", cell).await;
    let own_reply = canned_reply(app, &agent_in, "personal", cell).await;
    let (status, made) =
        app.post_json(Some(&admin), "/api/admin/integration-keys", json!({"name": "CRM sync"})).await;
    assert_eq!(status, 201, "{made}");
    let key = made["key"]["key_id"].as_str().expect("key id").to_string();
    let message = json!({"name": "Ann", "email": "ann@example.com", "body": "call me"});
    let (status, left) = app.post_json(Some(&visitor), "/api/offline-messages", message).await;
    assert_eq!(status, 201, "{left}");
    let offline = left["id"].as_str().expect("offline message id").to_string();
    let customer = (uuid::Uuid::new_v4().to_string(), format!("cust-{cell}"));
    let sql = format!(
        "UPDATE visitors SET site_id = '{}', customer_id = '{}' WHERE id = '{}'",
        customer.0, customer.1, other_visitor.id
    );
    app.services
        .store
        .write(move |conn| {
            diesel::RunQueryDsl::execute(diesel::sql_query(sql), conn)
                .map_err(switchboard::store::StoreError::from)
        })
        .await
        .expect("a customer");
    let (status, site) = app
        .post_json(
            Some(&admin),
            "/api/admin/sites",
            json!({"name": "Shop", "origins": ["https://shop.example"]}),
        )
        .await;
    assert_eq!(status, 201, "{site}");
    let site = site["site"]["site_id"].as_str().expect("site id").to_string();
    World {
        visitor,
        other_visitor,
        agent_out,
        agent_in,
        admin,
        chat,
        closed_chat,
        earlier_chat,
        ban,
        team_reply,
        own_reply,
        webhook,
        webhook_event,
        key,
        offline,
        site,
        customer,
    }
}

/// `(method, path, body)` of a valid request in `w`; `cell` keeps created names unique.
type Request = fn(&World, usize) -> (Method, String, Value);

/// Each endpoint with its expected status per caller, in [`CALLERS`] order.
const MATRIX: &[(&str, Request, [u16; 6])] = &[
    (
        "GET /poll",
        |_, _| (Method::GET, "/poll?timeout=0".into(), Value::Null),
        [401, 200, 200, 200, 200, 200],
    ),
    (
        "POST /send",
        |w, _| {
            (Method::POST, "/send".into(), json!({"chat_id": w.chat, "client_msg_id": "m-x", "body": "hi"}))
        },
        [401, 200, 403, 403, 200, 403],
    ),
    (
        "POST /api/visitors",
        |_, _| (Method::POST, "/api/visitors".into(), json!({})),
        [201, 201, 201, 201, 201, 201],
    ),
    (
        "POST /api/visitors/page",
        |_, _| (Method::POST, "/api/visitors/page".into(), json!({"page_url": "https://shop.example/cart"})),
        [401, 200, 200, 403, 403, 403],
    ),
    (
        "GET /api/visitors/online",
        |_, _| (Method::GET, "/api/visitors/online".into(), Value::Null),
        [401, 403, 403, 200, 200, 200],
    ),
    (
        "GET /api/visitors/me",
        |_, _| (Method::GET, "/api/visitors/me".into(), Value::Null),
        [401, 200, 200, 403, 403, 403],
    ),
    (
        "GET /api/visitors/me/chats",
        |_, _| (Method::GET, "/api/visitors/me/chats".into(), Value::Null),
        [401, 200, 200, 403, 403, 403],
    ),
    (
        "POST /api/agent/login",
        |_, cell| {
            let body = json!({"employee_id": format!("IN{cell}"), "password": "correct horse battery"});
            (Method::POST, "/api/agent/login".into(), body)
        },
        [200, 200, 200, 200, 200, 200],
    ),
    (
        "POST /api/agent/logout",
        |_, _| (Method::POST, "/api/agent/logout".into(), json!({})),
        [401, 403, 403, 204, 204, 204],
    ),
    (
        "POST /api/agent/status",
        |_, _| (Method::POST, "/api/agent/status".into(), json!({"status": "away"})),
        [401, 403, 403, 200, 200, 200],
    ),
    (
        "GET /api/agents",
        |_, _| (Method::GET, "/api/agents".into(), Value::Null),
        [401, 200, 200, 200, 200, 200],
    ),
    // The visitor in the chat already has one open: 409, which is not an authorisation refusal.
    (
        "POST /api/chats",
        |_, _| (Method::POST, "/api/chats".into(), json!({})),
        [401, 409, 201, 403, 403, 403],
    ),
    (
        "POST /api/chats/invite",
        |w, _| (Method::POST, "/api/chats/invite".into(), json!({"visitor_id": w.other_visitor.id})),
        [401, 403, 403, 201, 201, 201],
    ),
    (
        "POST /api/chats/{chat_id}/close",
        |w, _| (Method::POST, format!("/api/chats/{}/close", w.chat), json!({})),
        [401, 200, 403, 403, 200, 403],
    ),
    (
        "POST /api/chats/{chat_id}/transfer",
        |w, _| (Method::POST, format!("/api/chats/{}/transfer", w.chat), json!({"agent_id": w.agent_out.id})),
        [401, 403, 403, 403, 200, 403],
    ),
    (
        "POST /api/chats/{chat_id}/typing",
        |w, _| (Method::POST, format!("/api/chats/{}/typing", w.chat), json!({"typing": true})),
        [401, 204, 403, 403, 204, 403],
    ),
    (
        "POST /api/chats/{chat_id}/read",
        |w, _| (Method::POST, format!("/api/chats/{}/read", w.chat), json!({"seq": 1})),
        [401, 204, 403, 403, 204, 403],
    ),
    (
        "POST /api/chats/{chat_id}/rating",
        |w, _| (Method::POST, format!("/api/chats/{}/rating", w.closed_chat), json!({"score": 5})),
        [401, 201, 403, 403, 403, 403],
    ),
    (
        "GET /api/chats/{chat_id}/messages",
        |w, _| (Method::GET, format!("/api/chats/{}/messages", w.chat), Value::Null),
        [401, 200, 403, 403, 200, 200],
    ),
    (
        "GET /api/chats/{chat_id}/messages",
        // The visitor's earlier chat with another agent: the agent serving the visitor now reads it.
        |w, _| (Method::GET, format!("/api/chats/{}/messages", w.earlier_chat), Value::Null),
        [401, 200, 403, 403, 200, 200],
    ),
    (
        "GET /api/visitors/{visitor_id}/profile",
        |w, _| (Method::GET, format!("/api/visitors/{}/profile", w.visitor.id), Value::Null),
        [401, 403, 403, 403, 200, 200],
    ),
    (
        "POST /api/offline-messages",
        |_, _| {
            let body = json!({"name": "Ann", "email": "ann@example.com", "body": "call me"});
            (Method::POST, "/api/offline-messages".into(), body)
        },
        [401, 201, 201, 403, 403, 403],
    ),
    (
        "GET /api/offline-messages",
        |_, _| (Method::GET, "/api/offline-messages".into(), Value::Null),
        [401, 403, 403, 200, 200, 200],
    ),
    // Any agent answers; without [email] (as here) the answer is stored, not mailed.
    (
        "POST /api/offline-messages/{offline_id}/answer",
        |w, _| (Method::POST, format!("/api/offline-messages/{}/answer", w.offline), json!({"body": "hi"})),
        [401, 403, 403, 200, 200, 200],
    ),
    // Its visitor, its agent and admins get as far as "email is off" (no [email] here).
    (
        "POST /api/chats/{chat_id}/transcript/email",
        |w, _| {
            let body = json!({"email": "ann@example.com"});
            (Method::POST, format!("/api/chats/{}/transcript/email", w.closed_chat), body)
        },
        [401, 409, 403, 403, 409, 409],
    ),
    (
        "GET /api/admin/email",
        |_, _| (Method::GET, "/api/admin/email".into(), Value::Null),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/admin/email",
        |_, _| (Method::POST, "/api/admin/email".into(), json!({"visitor_email": false})),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/admin/announcements",
        |_, _| (Method::POST, "/api/admin/announcements".into(), json!({"body": "hello all"})),
        [401, 403, 403, 403, 403, 201],
    ),
    (
        "GET /api/admin/stats/agents",
        |_, _| (Method::GET, "/api/admin/stats/agents".into(), Value::Null),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "GET /api/admin/agents",
        |_, _| (Method::GET, "/api/admin/agents".into(), Value::Null),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/admin/agents",
        |_, cell| {
            let body =
                json!({"employee_id": format!("NEW{cell}"), "name": "New", "password": "long enough pw"});
            (Method::POST, "/api/admin/agents".into(), body)
        },
        [401, 403, 403, 403, 403, 201],
    ),
    (
        "POST /api/admin/agents/{employee_id}",
        |_, cell| (Method::POST, format!("/api/admin/agents/OUT{cell}"), json!({"max_chats": 4})),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/admin/agents/{employee_id}/disable",
        |_, cell| (Method::POST, format!("/api/admin/agents/OUT{cell}/disable"), json!({})),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/admin/agents/{employee_id}/enable",
        |_, cell| (Method::POST, format!("/api/admin/agents/OUT{cell}/enable"), json!({})),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/admin/agents/{employee_id}/password",
        |_, cell| {
            (
                Method::POST,
                format!("/api/admin/agents/OUT{cell}/password"),
                json!({"password": "a new password"}),
            )
        },
        [401, 403, 403, 403, 403, 200],
    ),
    ("GET /healthz", |_, _| (Method::GET, "/healthz".into(), Value::Null), [200, 200, 200, 200, 200, 200]),
    ("GET /readyz", |_, _| (Method::GET, "/readyz".into(), Value::Null), [200, 200, 200, 200, 200, 200]),
    // Public documents and operations data: no token needed (metrics by address, loopback here).
    (
        "GET /openapi.json",
        |_, _| (Method::GET, "/openapi.json".into(), Value::Null),
        [200, 200, 200, 200, 200, 200],
    ),
    ("GET /metrics", |_, _| (Method::GET, "/metrics".into(), Value::Null), [200, 200, 200, 200, 200, 200]),
    (
        "GET /api/setup",
        |_, _| (Method::GET, "/api/setup".into(), Value::Null),
        [200, 200, 200, 200, 200, 200],
    ),
    // Agents exist in every world, so setup is over for everyone, token or not.
    (
        "POST /api/setup",
        |_, cell| {
            let body =
                json!({"employee_id": format!("SET{cell}"), "name": "Late", "password": "long enough"});
            (Method::POST, "/api/setup".into(), body)
        },
        [409, 409, 409, 409, 409, 409],
    ),
    (
        "GET /api/queue",
        |_, _| (Method::GET, "/api/queue".into(), Value::Null),
        [401, 403, 403, 200, 200, 200],
    ),
    (
        "GET /api/chats/history",
        |_, _| (Method::GET, "/api/chats/history".into(), Value::Null),
        [401, 403, 403, 200, 200, 200],
    ),
    (
        "GET /api/chats/{chat_id}",
        |w, _| (Method::GET, format!("/api/chats/{}", w.chat), Value::Null),
        [401, 200, 403, 403, 200, 200],
    ),
    (
        "GET /api/admin/announcements",
        |_, _| (Method::GET, "/api/admin/announcements".into(), Value::Null),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/bans",
        |w, _| (Method::POST, "/api/bans".into(), json!({"visitor_id": w.other_visitor.id})),
        [401, 403, 403, 201, 201, 201],
    ),
    ("GET /api/bans", |_, _| (Method::GET, "/api/bans".into(), Value::Null), [401, 403, 403, 200, 200, 200]),
    // Lifted by the agent who made the ban or by an admin.
    (
        "POST /api/bans/{ban_id}/lift",
        |w, _| (Method::POST, format!("/api/bans/{}/lift", w.ban), json!({})),
        [401, 403, 403, 403, 200, 200],
    ),
    (
        "GET /api/canned",
        |_, _| (Method::GET, "/api/canned".into(), Value::Null),
        [401, 403, 403, 200, 200, 200],
    ),
    // Each agent's own: any agent. The team's: admins.
    (
        "POST /api/canned",
        |_, _| {
            (Method::POST, "/api/canned".into(), json!({"scope": "personal", "shortcut": "x", "body": "x"}))
        },
        [401, 403, 403, 201, 201, 201],
    ),
    (
        "POST /api/canned",
        |_, _| (Method::POST, "/api/canned".into(), json!({"scope": "team", "shortcut": "x", "body": "x"})),
        [401, 403, 403, 403, 403, 201],
    ),
    (
        "POST /api/canned/import",
        |_, _| (Method::POST, "/api/canned/import".into(), json!({"body": "Thanks!"})),
        [401, 403, 403, 201, 201, 201],
    ),
    // A team reply: admins change it. An agent's own: that agent; nobody else even finds it.
    (
        "POST /api/canned/{canned_id}",
        |w, _| (Method::POST, format!("/api/canned/{}", w.team_reply), json!({"body": "Hi"})),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/canned/{canned_id}",
        |w, _| (Method::POST, format!("/api/canned/{}", w.own_reply), json!({"body": "Hi"})),
        [401, 403, 403, 404, 200, 404],
    ),
    (
        "POST /api/canned/{canned_id}/delete",
        |w, _| (Method::POST, format!("/api/canned/{}/delete", w.team_reply), json!({})),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/canned/{canned_id}/delete",
        |w, _| (Method::POST, format!("/api/canned/{}/delete", w.own_reply), json!({})),
        [401, 403, 403, 404, 200, 404],
    ),
    (
        "GET /api/admin/webhooks",
        |_, _| (Method::GET, "/api/admin/webhooks".into(), Value::Null),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/admin/webhooks",
        |_, _| {
            let body = json!({"url": "http://127.0.0.1:9/other", "events": ["rating"]});
            (Method::POST, "/api/admin/webhooks".into(), body)
        },
        [401, 403, 403, 403, 403, 201],
    ),
    (
        "POST /api/admin/webhooks/{webhook_id}",
        |w, _| {
            (Method::POST, format!("/api/admin/webhooks/{}", w.webhook), json!({"events": "message,rating"}))
        },
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/admin/webhooks/{webhook_id}/delete",
        |w, _| (Method::POST, format!("/api/admin/webhooks/{}/delete", w.webhook), json!({})),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/admin/webhooks/{webhook_id}/disable",
        |w, _| (Method::POST, format!("/api/admin/webhooks/{}/disable", w.webhook), json!({})),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/admin/webhooks/{webhook_id}/enable",
        |w, _| (Method::POST, format!("/api/admin/webhooks/{}/enable", w.webhook), json!({})),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "GET /api/admin/webhooks/{webhook_id}/deliveries",
        |w, _| (Method::GET, format!("/api/admin/webhooks/{}/deliveries", w.webhook), Value::Null),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/admin/webhooks/{webhook_id}/deliveries/{event_id}/resend",
        |w, _| {
            let path = format!("/api/admin/webhooks/{}/deliveries/{}/resend", w.webhook, w.webhook_event);
            (Method::POST, path, json!({}))
        },
        [401, 403, 403, 403, 403, 202],
    ),
    // The event feed takes integration keys only: no session token opens it, an admin's neither
    // (tests/api/event_feed.rs reads it with a key).
    (
        "GET /api/events",
        |_, _| (Method::GET, "/api/events?timeout=0".into(), Value::Null),
        [401, 401, 401, 401, 401, 401],
    ),
    (
        "GET /api/admin/integration-keys",
        |_, _| (Method::GET, "/api/admin/integration-keys".into(), Value::Null),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/admin/integration-keys",
        |_, _| (Method::POST, "/api/admin/integration-keys".into(), json!({"name": "Warehouse"})),
        [401, 403, 403, 403, 403, 201],
    ),
    (
        "POST /api/admin/integration-keys/{key_id}/revoke",
        |w, _| (Method::POST, format!("/api/admin/integration-keys/{}/revoke", w.key), json!({})),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "GET /api/admin/sites",
        |_, _| (Method::GET, "/api/admin/sites".into(), Value::Null),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/admin/sites",
        |_, _| {
            (Method::POST, "/api/admin/sites".into(), json!({"name": "B", "origins": ["https://b.example"]}))
        },
        [401, 403, 403, 403, 403, 201],
    ),
    (
        "GET /api/admin/sites/{site_id}",
        |w, _| (Method::GET, format!("/api/admin/sites/{}", w.site), Value::Null),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/admin/sites/{site_id}",
        |w, _| (Method::POST, format!("/api/admin/sites/{}", w.site), json!({"color": "#123456"})),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/admin/sites/{site_id}/secret",
        |w, _| (Method::POST, format!("/api/admin/sites/{}/secret", w.site), json!({})),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/admin/sites/{site_id}/delete",
        |w, _| (Method::POST, format!("/api/admin/sites/{}/delete", w.site), json!({})),
        [401, 403, 403, 403, 403, 200],
    ),
    // What the widget's frame shows on a site: public.
    (
        "GET /api/sites/{site_id}/widget",
        |w, _| (Method::GET, format!("/api/sites/{}/widget", w.site), Value::Null),
        [200, 200, 200, 200, 200, 200],
    ),
    // A site's pre-chat form: admins set it; anyone (the widget, before it has a token) reads it.
    (
        "POST /api/admin/sites/{site_id}/prechat-form",
        |w, _| {
            let fields = json!([{"name": "q", "type": "text", "label": "Question", "required": true}]);
            (Method::POST, format!("/api/admin/sites/{}/prechat-form", w.site), json!({ "fields": fields }))
        },
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "GET /api/admin/visitors/{visitor_id}/export",
        |w, _| (Method::GET, format!("/api/admin/visitors/{}/export", w.visitor.id), Value::Null),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/admin/visitors/{visitor_id}/erase",
        |w, _| (Method::POST, format!("/api/admin/visitors/{}/erase", w.other_visitor.id), json!({})),
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "GET /api/admin/customers/export",
        |w, _| {
            let path =
                format!("/api/admin/customers/export?site_id={}&customer_id={}", w.customer.0, w.customer.1);
            (Method::GET, path, Value::Null)
        },
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/admin/customers/erase",
        |w, _| {
            let path =
                format!("/api/admin/customers/erase?site_id={}&customer_id={}", w.customer.0, w.customer.1);
            (Method::POST, path, json!({}))
        },
        [401, 403, 403, 403, 403, 200],
    ),
    (
        "GET /api/admin/audit-log",
        |_, _| (Method::GET, "/api/admin/audit-log".into(), Value::Null),
        [401, 403, 403, 403, 403, 200],
    ),
];

async fn every_endpoint_answers_each_kind_of_caller_with_its_exact_status(backend: Backend) {
    // The worlds' webhooks call 127.0.0.1 (and fail there).
    let app = TestApp::spawn_with(backend, |settings| settings.webhooks.allow_private_targets = true).await;
    let mut wrong = Vec::new();
    let mut cell = 0;
    for (endpoint, request, expected) in MATRIX {
        for (column, caller) in CALLERS.iter().enumerate() {
            cell += 1;
            let w = world(&app, cell).await;
            let who = [
                None,
                Some(&w.visitor),
                Some(&w.other_visitor),
                Some(&w.agent_out),
                Some(&w.agent_in),
                Some(&w.admin),
            ][column];
            let (method, path, body) = request(&w, cell);
            let mut builder = app.client.request(method, app.url(&path));
            if let Some(who) = who {
                builder = builder.bearer_auth(&who.token);
            }
            if !body.is_null() {
                builder = builder.json(&body);
            }
            let status = builder.send().await.expect("request").status().as_u16();
            // Every cell shares the team's canned replies: none is left behind, so the team's
            // limit is never reached (a cell that deleted it already gets a 404 here).
            app.post_json(Some(&w.admin), &format!("/api/canned/{}/delete", w.team_reply), json!({})).await;
            // So are the webhook endpoints, whose number is capped too.
            let (_, listed) = app.get_json(Some(&w.admin), "/api/admin/webhooks").await;
            for webhook in listed["webhooks"].as_array().into_iter().flatten() {
                let id = webhook["webhook_id"].as_str().unwrap_or_default();
                app.post_json(Some(&w.admin), &format!("/api/admin/webhooks/{id}/delete"), json!({})).await;
            }
            if status != expected[column] {
                wrong.push(format!("{endpoint} as {caller}: expected {}, got {status}", expected[column]));
            }
        }
    }
    assert!(wrong.is_empty(), "{} of {cell} cells wrong:\n{}", wrong.len(), wrong.join("\n"));
    let routes = MATRIX.len();
    eprintln!("authorization matrix: {routes} endpoints × {} callers = {cell} cells", CALLERS.len());
}

#[test]
fn the_matrix_names_every_route_of_the_router() {
    let missing: Vec<String> = switchboard::http::api_routes()
        .iter()
        .map(|route| format!("{} {}", route.method.to_uppercase(), route.path))
        .filter(|name| !MATRIX.iter().any(|(endpoint, _, _)| endpoint == name))
        .collect();
    assert!(missing.is_empty(), "routes missing from the authorization matrix: {missing:?}");
}
