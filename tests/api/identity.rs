//! Verified identity: a site's server signs who its customer is (a JWT HS256 with the site's
//! secret); the visitor made with it is that customer's one visitor, on every device, with
//! every chat; anything else about the token is refused with a reason and stores nothing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::{drain, seqs_of, text, Backend, Participant, TestApp};
use crate::on_every_backend;

on_every_backend!(
    a_valid_identity_makes_the_customers_visitor_and_it_reads_itself,
    every_bad_identity_is_refused_naming_its_check_and_stores_nothing,
    a_token_replayed_after_the_customers_identity_changed_is_refused,
    a_site_that_requires_verification_refuses_the_anonymous_and_the_unproven,
    a_second_device_continues_the_open_chat_with_every_event_once_in_order,
    a_new_identity_is_another_visitor_who_sees_none_of_the_old_chats,
    devices_racing_on_two_nodes_end_on_one_visitor_per_customer,
    a_banned_customer_stays_banned_on_every_device,
    a_visitors_own_chats_come_newest_first_in_pages,
);

/// A site, registered by an admin of its own: (site_id, secret).
async fn site(app: &TestApp, require_verified: bool) -> (String, String) {
    static SITES: AtomicUsize = AtomicUsize::new(0);
    let admin = app.admin(&format!("SITES{}", SITES.fetch_add(1, Ordering::Relaxed))).await;
    let fields =
        json!({"name": "Shop", "origins": ["https://shop.example"], "require_verified": require_verified});
    let (status, made) = app.post_json(Some(&admin), "/api/admin/sites", fields).await;
    assert_eq!(status, 201, "{made}");
    (text(&made["site"]["site_id"]), text(&made["secret"]))
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64
}

/// Claims for customer `sub` issued `age` seconds ago, valid ten minutes.
fn claims(sub: &str, age: i64) -> Value {
    json!({"sub": sub, "name": "Ann Lee", "email": "ann@example.com", "iat": now() - age, "exp": now() - age + 600})
}

/// `claims` signed with `alg` and `secret`, as a site's server would.
fn sign_with(claims: &Value, alg: Algorithm, secret: &str) -> String {
    let key = EncodingKey::from_secret(secret.as_bytes()).expect("a key");
    encode(&Header::new(alg), claims, &key).expect("signs")
}

fn sign(claims: &Value, secret: &str) -> String {
    sign_with(claims, Algorithm::HS256, secret)
}

/// A token with this header and these claims and the signature given, built by hand.
fn hand_built(header: &str, claims: &Value, signature: &str) -> String {
    format!("{}.{}.{signature}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims.to_string()))
}

/// `POST /api/visitors` for `site_id` with `identity`; status and answer.
async fn arrive(app: &TestApp, site_id: &str, identity: &str) -> (u16, Value) {
    app.post_json(None, "/api/visitors", json!({"site_id": site_id, "identity": identity})).await
}

/// A device of the customer: a visitor made with `identity`, which must be accepted.
async fn device(app: &TestApp, site_id: &str, identity: &str) -> Participant {
    let (status, answer) = arrive(app, site_id, identity).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["verified"], true, "{answer}");
    Participant { id: text(&answer["visitor_id"]), token: text(&answer["token"]) }
}

/// The stored (name, email, verified, identity_at) of a visitor.
async fn stored(app: &TestApp, visitor_id: &str) -> (String, Option<String>, i32, Option<i64>) {
    let id = switchboard::domain::VisitorId::parse(visitor_id, "visitor_id").expect("id");
    let row = app
        .services
        .store
        .run(move |conn| {
            switchboard::store::visitors::find_with_identity(conn, id)
                .map_err(switchboard::store::StoreError::from)
        })
        .await
        .expect("read")
        .expect("stored");
    (row.name, row.email, row.verified, row.identity_at)
}

fn error_of(answer: &Value) -> (String, String) {
    (
        answer["error"]["code"].as_str().unwrap_or("<none>").to_string(),
        answer["error"]["message"].as_str().unwrap_or("").to_string(),
    )
}

async fn a_valid_identity_makes_the_customers_visitor_and_it_reads_itself(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (site_id, secret) = site(&app, false).await;
    let token = sign(&claims("u-1", 5), &secret);
    let (status, answer) = arrive(&app, &site_id, &token).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(
        (&answer["verified"], &answer["customer_id"], &answer["name"]),
        (&json!(true), &json!("u-1"), &json!("Ann Lee"))
    );
    let visitor = Participant { id: text(&answer["visitor_id"]), token: text(&answer["token"]) };
    let (name, email, verified, identity_at) = stored(&app, &visitor.id).await;
    assert_eq!((name.as_str(), email.as_deref(), verified), ("Ann Lee", Some("ann@example.com"), 1));
    assert!((identity_at.expect("identity_at") - (now() - 5) * 1000).abs() <= 2000, "iat in ms");

    let (status, me) = app.get_json(Some(&visitor), "/api/visitors/me").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        me,
        json!({"visitor_id": visitor.id, "name": "Ann Lee", "verified": true, "customer_id": "u-1",
               "email": "ann@example.com"})
    );

    // Anonymous visitors work as before, with or without a site, and say so.
    for body in [json!({}), json!({"site_id": site_id})] {
        let (status, answer) = app.post_json(None, "/api/visitors", body).await;
        assert_eq!(status, 201, "{answer}");
        assert_eq!((&answer["verified"], &answer["customer_id"]), (&json!(false), &Value::Null));
        let anonymous = Participant { id: text(&answer["visitor_id"]), token: text(&answer["token"]) };
        let (_, me) = app.get_json(Some(&anonymous), "/api/visitors/me").await;
        assert_eq!(
            (&me["verified"], &me["customer_id"], &me["email"]),
            (&json!(false), &Value::Null, &Value::Null)
        );
    }
    // Agents have no visitor's view of themselves.
    let agent = app.agent("E1", 1).await;
    assert_eq!(app.get_json(Some(&agent), "/api/visitors/me").await.0, 403);
    assert_eq!(app.get_json(Some(&agent), "/api/visitors/me/chats").await.0, 403);
    assert_eq!(app.get_json(None, "/api/visitors/me").await.0, 401);
}

async fn every_bad_identity_is_refused_naming_its_check_and_stores_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (site_a, secret_a) = site(&app, false).await;
    let (site_b, secret_b) = site(&app, false).await;
    // A customer of site A who exists already: a bad token must not touch it either.
    let known = device(&app, &site_a, &sign(&claims("u-1", 5), &secret_a)).await;
    let before = app.store_counts().await;
    let good = claims("u-1", 5);
    let with = |name: &str, value: Value| {
        let mut claims = good.clone();
        if value.is_null() {
            claims.as_object_mut().expect("object").remove(name);
        } else {
            claims[name] = value;
        }
        claims
    };
    let signature_of = |token: &str| token.rsplit('.').next().expect("signature").to_string();
    let genuine = sign(&good, &secret_a);
    let mut altered = with("sub", json!("u-2"));
    altered["iat"] = good["iat"].clone();
    let cases: Vec<(&str, String, &str)> = vec![
        ("forged signature", sign(&good, "sbs_not-the-site-secret"), "signature"),
        (
            "altered claims",
            hand_built(r#"{"alg":"HS256","typ":"JWT"}"#, &altered, &signature_of(&genuine)),
            "signature",
        ),
        ("alg none", hand_built(r#"{"alg":"none","typ":"JWT"}"#, &good, ""), "only HS256"),
        ("alg None", hand_built(r#"{"alg":"None"}"#, &good, ""), "only HS256"),
        ("HS384", sign_with(&good, Algorithm::HS384, &secret_a), "only HS256"),
        ("HS512", sign_with(&good, Algorithm::HS512, &secret_a), "only HS256"),
        (
            "RS256 header",
            hand_built(r#"{"alg":"RS256","typ":"JWT"}"#, &good, &signature_of(&genuine)),
            "only HS256",
        ),
        ("expired", sign(&with("exp", json!(now() - 120)), &secret_a), "expired"),
        ("issued in the future", sign(&with("iat", json!(now() + 600)), &secret_a), "future"),
        ("no exp", sign(&with("exp", Value::Null), &secret_a), "exp is missing"),
        ("no iat", sign(&with("iat", Value::Null), &secret_a), "iat is missing"),
        ("no sub", sign(&with("sub", Value::Null), &secret_a), "sub is missing"),
        ("lives too long", sign(&with("exp", json!(now() + 2 * 86_400)), &secret_a), "24 hours"),
        ("another site's token", sign(&good, &secret_b), "signature"),
        ("another site's audience", sign(&with("aud", json!(site_b)), &secret_a), "another site"),
        ("a long sub", sign(&with("sub", json!("x".repeat(129))), &secret_a), "sub"),
        ("a bad email", sign(&with("email", json!("ann at example")), &secret_a), "email"),
        ("a bad name", sign(&with("name", json!("a\u{7}b")), &secret_a), "name"),
        ("not a JWT", "hello".to_string(), "not a JWT"),
        ("too long", format!("{genuine}{}", "x".repeat(2048)), "longer"),
    ];
    for (case, token, reason) in cases {
        let (status, answer) = arrive(&app, &site_a, &token).await;
        let (code, message) = error_of(&answer);
        assert_eq!((status, code.as_str()), (401, "identity_invalid"), "{case}: {answer}");
        assert_eq!(answer["error"]["field"], "identity", "{case}");
        assert!(message.contains(reason), "{case}: the message says which check failed: {message}");
    }
    // The same token for the site that signed it is fine; for another, not.
    let (status, _) = arrive(&app, &site_b, &genuine).await;
    assert_eq!(status, 401, "site A's token sent for site B");
    let (status, answer) = app.post_json(None, "/api/visitors", json!({"identity": genuine})).await;
    assert_eq!(
        (status, &answer["error"]["code"], &answer["error"]["field"]),
        (400, &json!("missing_field"), &json!("site_id"))
    );
    assert_eq!(app.store_counts().await, before, "nothing stored: no visitor, no token");
    assert_eq!(stored(&app, &known.id).await.0, "Ann Lee", "the customer's visitor is untouched");
}

async fn a_token_replayed_after_the_customers_identity_changed_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (site_id, secret) = site(&app, false).await;
    let old = sign(&claims("u-1", 100), &secret);
    let first = device(&app, &site_id, &old).await;
    // The customer changes their email; the site signs a newer identity.
    let mut changed = claims("u-1", 50);
    changed["email"] = json!("ann@new.example");
    changed["name"] = json!("Ann Park");
    let second = device(&app, &site_id, &sign(&changed, &secret)).await;
    assert_eq!(second.id, first.id, "the same customer is the same visitor");
    let (name, email, _, identity_at) = stored(&app, &first.id).await;
    assert_eq!((name.as_str(), email.as_deref()), ("Ann Park", Some("ann@new.example")));
    let newest = identity_at.expect("identity_at");

    let before = app.store_counts().await;
    let (status, answer) = arrive(&app, &site_id, &old).await;
    assert_eq!((status, error_of(&answer).0.as_str()), (401, "identity_replayed"), "{answer}");
    assert_eq!(app.store_counts().await, before, "a replay stores nothing");
    assert_eq!(
        stored(&app, &first.id).await,
        (name.clone(), email.clone(), 1, Some(newest)),
        "nor changes the customer"
    );

    // An older token that says what is true now is no replay: another device may hold one.
    let mut same_but_older = changed.clone();
    same_but_older["iat"] = json!(now() - 80);
    let third = device(&app, &site_id, &sign(&same_but_older, &secret)).await;
    assert_eq!(third.id, first.id);
    assert_ne!(third.token, second.token, "each device its own token");
    assert_eq!(stored(&app, &first.id).await.3, Some(newest), "the newest identity stays the newest");
    // The same claims again on a second device, signed now: accepted, and newest.
    let again = device(&app, &site_id, &sign(&claims_like(&changed, 0), &secret)).await;
    assert_eq!(again.id, first.id);
    for who in [&first, &second, &third, &again] {
        assert_eq!(app.get_json(Some(who), "/api/visitors/me").await.0, 200, "every device's token works");
    }
}

/// `base` issued `age` seconds ago.
fn claims_like(base: &Value, age: i64) -> Value {
    let mut claims = base.clone();
    claims["iat"] = json!(now() - age);
    claims["exp"] = json!(now() - age + 600);
    claims
}

async fn a_site_that_requires_verification_refuses_the_anonymous_and_the_unproven(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (site_id, secret) = site(&app, true).await;
    let before = app.store_counts().await;
    let (status, answer) = app.post_json(None, "/api/visitors", json!({"site_id": site_id})).await;
    assert_eq!((status, error_of(&answer).0.as_str()), (403, "verification_required"), "{answer}");
    let (status, answer) = arrive(&app, &site_id, "").await;
    assert_eq!(
        (status, error_of(&answer).0.as_str()),
        (403, "verification_required"),
        "an empty identity is none"
    );
    let (status, answer) = arrive(&app, &site_id, &sign(&claims("u-1", 5), "sbs_forged")).await;
    assert_eq!((status, error_of(&answer).0.as_str()), (401, "identity_invalid"), "{answer}");
    assert_eq!(app.store_counts().await, before, "nothing stored");
    device(&app, &site_id, &sign(&claims("u-1", 5), &secret)).await;
    // A widget without a site is not this site's: it keeps working anonymously.
    assert_eq!(app.post_json(None, "/api/visitors", json!({})).await.0, 201);
}

async fn a_second_device_continues_the_open_chat_with_every_event_once_in_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (site_id, secret) = site(&app, false).await;
    let agent = app.online_agent("E1", 2).await;
    let phone = device(&app, &site_id, &sign(&claims("u-1", 5), &secret)).await;
    let chat = app.start_chat(&phone, &agent).await;
    app.send(&phone, &chat, "p1", "hello from the phone").await;
    app.send(&agent, &chat, "a1", "hi Ann").await;
    let last = app.send(&phone, &chat, "p2", "one more thing").await;
    let (phone_events, phone_cursor) = drain(&app, &phone, "", &chat, last).await;
    assert_eq!(seqs_of(&phone_events, &chat), (1..=last).collect::<Vec<_>>());

    // The laptop: the same customer, its own token, the same visitor; an empty cursor starts
    // at the open chat's first event.
    let laptop = device(&app, &site_id, &sign(&claims("u-1", 2), &secret)).await;
    assert_eq!(laptop.id, phone.id);
    assert_ne!(laptop.token, phone.token);
    let (laptop_events, laptop_cursor) = drain(&app, &laptop, "", &chat, last).await;
    assert_eq!(seqs_of(&laptop_events, &chat), (1..=last).collect::<Vec<_>>(), "1..n once, in order");
    let bodies: Vec<&str> = laptop_events.iter().filter_map(|e| e["body"].as_str()).collect();
    assert_eq!(bodies, ["hello from the phone", "hi Ann", "one more thing"]);
    let (status, listed) = app.get_json(Some(&laptop), "/api/visitors/me/chats").await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["chats"][0]["chat_id"], chat.as_str());
    assert_eq!(
        (&listed["chats"][0]["status"], &listed["chats"][0]["agent_name"]),
        (&json!("open"), &json!("Agent E1"))
    );
    assert_eq!(listed["chats"][0]["last_seq"], last);
    let (status, transcript) = app.get_json(Some(&laptop), &format!("/api/chats/{chat}/messages")).await;
    assert_eq!((status, transcript["events"].as_array().map(Vec::len)), (200, Some(last as usize)));

    // Both go on: every new message reaches each device once.
    let from_laptop = app.send(&laptop, &chat, "l1", "typed on the laptop").await;
    let from_agent = app.send(&agent, &chat, "a2", "noted").await;
    assert_eq!((from_laptop, from_agent), (last + 1, last + 2));
    for (who, events, cursor) in
        [(&phone, phone_events, phone_cursor), (&laptop, laptop_events, laptop_cursor)]
    {
        let (more, cursor) = drain(&app, who, &cursor, &chat, from_agent).await;
        let mut all = events.clone();
        all.extend(more);
        assert_eq!(
            seqs_of(&all, &chat),
            (1..=from_agent).collect::<Vec<_>>(),
            "each device: every event once"
        );
        let quiet = app.poll(who, &cursor, Some(0)).await;
        assert!(seqs_of(&quiet.events, &chat).is_empty(), "nothing twice: {:?}", quiet.events);
    }
}

async fn a_new_identity_is_another_visitor_who_sees_none_of_the_old_chats(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (site_id, secret) = site(&app, false).await;
    let agent = app.online_agent("E1", 2).await;
    let ann = device(&app, &site_id, &sign(&claims("u-1", 5), &secret)).await;
    let closed = app.start_chat(&ann, &agent).await;
    app.send(&ann, &closed, "m1", "my order is late").await;
    assert_eq!(app.close_chat_raw(&ann, &closed).await.status(), 200);
    let open = app.start_chat(&ann, &agent).await;

    // Logout, and Bob logs in on the same browser; then a logout to no identity at all.
    let bob = device(&app, &site_id, &sign(&claims("u-2", 1), &secret)).await;
    let (status, answer) = app.post_json(None, "/api/visitors", json!({"site_id": site_id})).await;
    assert_eq!(status, 201);
    let anonymous = Participant { id: text(&answer["visitor_id"]), token: text(&answer["token"]) };
    for other in [&bob, &anonymous] {
        assert_ne!(other.id, ann.id);
        let (status, listed) = app.get_json(Some(other), "/api/visitors/me/chats").await;
        assert_eq!((status, listed["chats"].clone()), (200, json!([])), "none of Ann's chats");
        for chat in [&closed, &open] {
            let (status, answer) = app.get_json(Some(other), &format!("/api/chats/{chat}/messages")).await;
            assert_eq!((status, error_of(&answer).0.as_str()), (403, "forbidden"), "{answer}");
        }
        let events = app.poll(other, "", Some(0)).await.events;
        assert!(
            events.iter().all(|e| e["chat_id"] != closed.as_str() && e["chat_id"] != open.as_str()),
            "{events:?}"
        );
    }
    let (_, listed) = app.get_json(Some(&ann), "/api/visitors/me/chats").await;
    let ids: Vec<String> =
        listed["chats"].as_array().expect("chats").iter().map(|c| text(&c["chat_id"])).collect();
    assert_eq!(ids, [open.clone(), closed.clone()], "Ann still has both, newest first");
}

async fn devices_racing_on_two_nodes_end_on_one_visitor_per_customer(backend: Backend) {
    // Two nodes on one store write one transaction at a time, as every multi-node deployment
    // does (`store.max_write_batch` is 1 with the Redis broker): batches of both nodes holding
    // each other's new customer rows would deadlock (a 503 store_busy, seen here).
    let one_by_one = |settings: &mut switchboard::config::Settings| settings.store.max_write_batch = 1;
    let node_a = TestApp::spawn_with(backend, one_by_one).await;
    let node_b = TestApp::start(node_a.db.clone(), one_by_one).await;
    let (site_id, secret) = site(&node_a, false).await;
    let customers = 6;
    let devices = 4;
    let mut racing = Vec::new();
    for customer in 0..customers {
        for device in 0..devices {
            let node = if device % 2 == 0 { &node_a } else { &node_b };
            let (client, url) = (node.client.clone(), node.url("/api/visitors"));
            let token = sign(&claims(&format!("u-{customer}"), device), &secret);
            let body = json!({"site_id": site_id, "identity": token});
            racing.push(tokio::spawn(async move {
                let response = client.post(url).json(&body).send().await.expect("request");
                let status = response.status().as_u16();
                let answer: Value = response.json().await.expect("json");
                (customer, status, answer)
            }));
        }
    }
    let mut seen: Vec<Vec<String>> = vec![Vec::new(); customers as usize];
    for task in racing {
        let (customer, status, answer) = task.await.expect("task");
        assert_eq!(status, 201, "customer {customer}: {answer}");
        seen[customer as usize].push(text(&answer["visitor_id"]));
    }
    for (customer, ids) in seen.iter().enumerate() {
        assert!(ids.iter().all(|id| id == &ids[0]), "customer {customer} is one visitor: {ids:?}");
    }
    let distinct: std::collections::HashSet<&String> = seen.iter().map(|ids| &ids[0]).collect();
    assert_eq!(distinct.len(), customers as usize);
    assert_eq!(node_a.store_counts().await.visitors, i64::from(customers), "one row per customer");
    node_b.stop().await;
}

async fn a_banned_customer_stays_banned_on_every_device(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (site_id, secret) = site(&app, false).await;
    let agent = app.agent("E1", 1).await;
    let phone = device(&app, &site_id, &sign(&claims("u-1", 5), &secret)).await;
    let (status, made) = app.post_json(Some(&agent), "/api/bans", json!({"visitor_id": phone.id})).await;
    assert_eq!(status, 201, "{made}");
    let before = app.store_counts().await;
    let (status, answer) = arrive(&app, &site_id, &sign(&claims("u-1", 1), &secret)).await;
    assert_eq!((status, error_of(&answer).0.as_str()), (403, "banned"), "{answer}");
    assert_eq!(app.store_counts().await, before, "no token for the banned customer");
    // Another customer of the site is not banned.
    device(&app, &site_id, &sign(&claims("u-2", 1), &secret)).await;
}

async fn a_visitors_own_chats_come_newest_first_in_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (site_id, secret) = site(&app, false).await;
    let agent = app.online_agent("E1", 1).await;
    let ann = device(&app, &site_id, &sign(&claims("u-1", 5), &secret)).await;
    let mut made = Vec::new();
    for _ in 0..3 {
        let chat = app.start_chat(&ann, &agent).await;
        assert_eq!(app.close_chat_raw(&ann, &chat).await.status(), 200);
        made.push(chat);
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    made.reverse();
    let (status, first) = app.get_json(Some(&ann), "/api/visitors/me/chats?limit=2").await;
    assert_eq!(status, 200, "{first}");
    let page: Vec<Value> = first["chats"].as_array().cloned().expect("chats");
    assert_eq!(page.iter().map(|c| text(&c["chat_id"])).collect::<Vec<_>>(), made[..2]);
    assert_eq!(
        (&page[0]["status"], &page[0]["close_reason"]),
        (&json!("closed"), &json!("closed_by_visitor"))
    );
    assert!(page[0]["closed_at"].as_i64().is_some());
    let last = &page[1];
    let next = format!(
        "/api/visitors/me/chats?limit=2&before={}&before_chat={}",
        last["created_at"].as_i64().expect("created_at"),
        text(&last["chat_id"])
    );
    let (_, rest) = app.get_json(Some(&ann), &next).await;
    let rest: Vec<String> =
        rest["chats"].as_array().expect("chats").iter().map(|c| text(&c["chat_id"])).collect();
    assert_eq!(rest, made[2..]);
    for (query, field) in
        [("limit=0", "limit"), ("before=-1", "before"), ("before=1&before_chat=x", "before_chat")]
    {
        let (status, answer) = app.get_json(Some(&ann), &format!("/api/visitors/me/chats?{query}")).await;
        assert_eq!((status, &answer["error"]["field"]), (400, &json!(field)), "{query}: {answer}");
    }
}
