//! Sites: admins register the websites that embed the widget; each gets a signing secret shown
//! once and kept sealed; visitors say which site's widget made them.

use serde_json::{json, Value};

use crate::helpers::{text, Backend, TestApp};
use crate::on_every_backend;

on_every_backend!(
    an_admin_registers_a_site_and_its_secret_is_shown_once_and_stored_sealed,
    bad_site_fields_are_refused_naming_the_field_and_store_nothing,
    a_visitor_names_its_site_and_an_unknown_site_is_refused,
    an_admin_reads_changes_rotates_and_deletes_a_site,
    bad_site_changes_are_refused_naming_the_field_and_change_nothing,
    the_widget_look_of_a_site_is_public_and_holds_nothing_secret,
    a_sites_origins_admit_the_widget_at_run_time_and_stop_when_removed,
    a_visitor_naming_a_site_must_run_in_one_of_its_origins,
    a_site_stored_by_another_node_counts_here_after_a_reload,
);

/// Registers a site as an admin; the answer (`site`, `secret`).
pub async fn create_site(app: &TestApp, fields: Value) -> Value {
    // One admin per call: a test may register several sites.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let admin = app.admin(&format!("SITEADMIN{call}")).await;
    let (status, answer) = app.post_json(Some(&admin), "/api/admin/sites", fields).await;
    assert_eq!(status, 201, "{answer}");
    answer
}

async fn sites_stored(app: &TestApp) -> Vec<(String, String)> {
    use diesel::prelude::*;
    use switchboard::store::schema::sites;
    app.services
        .store
        .run(|conn| {
            sites::table
                .select((sites::secret_sealed, sites::secret_prefix))
                .load::<(String, String)>(conn)
                .map_err(switchboard::store::StoreError::from)
        })
        .await
        .expect("read sites")
}

async fn an_admin_registers_a_site_and_its_secret_is_shown_once_and_stored_sealed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let answer = create_site(
        &app,
        json!({"name": " Shop ", "origins": ["https://Shop.example:443", "http://127.0.0.1:9"],
               "greeting": "Hi!", "color": "#1A73E8", "default_lang": "ko", "require_verified": true}),
    )
    .await;
    let site = &answer["site"];
    assert_eq!(site["name"], "Shop");
    assert_eq!(site["origins"], json!(["https://shop.example", "http://127.0.0.1:9"]));
    assert_eq!(
        (&site["color"], &site["default_lang"], &site["require_verified"]),
        (&json!("#1a73e8"), &json!("ko"), &json!(true))
    );
    let secret = text(&answer["secret"]);
    assert!(secret.starts_with("sbs_") && secret.len() == 47, "{secret}");
    assert!(site.get("secret").is_none() && site.get("secret_sealed").is_none(), "{site}");
    assert_eq!(text(&site["secret_prefix"]), secret[..10]);

    let stored = sites_stored(&app).await;
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].0.contains(&secret[4..]), "the secret is not stored in clear");
    let row = app
        .services
        .site_row(switchboard::domain::SiteId::parse(&text(&site["site_id"]), "site_id").expect("id"))
        .await
        .expect("row");
    assert_eq!(
        app.services.site_secret(&row).await.expect("opens"),
        secret,
        "the sealed secret opens to the one shown"
    );

    let admin = app.admin("A2").await;
    let (status, listed) = app.get_json(Some(&admin), "/api/admin/sites").await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["sites"], json!([site]), "the list shows the site as made, without its secret");

    let agent = app.agent("E1", 1).await;
    assert_eq!(app.get_json(Some(&agent), "/api/admin/sites").await.0, 403);
    let (status, body) = app
        .post_json(Some(&agent), "/api/admin/sites", json!({"name": "x", "origins": ["https://x.test"]}))
        .await;
    assert_eq!((status, body["error"]["code"].clone()), (403, json!("forbidden")));
    let (status, _) =
        app.post_json(None, "/api/admin/sites", json!({"name": "x", "origins": ["https://x.test"]})).await;
    assert_eq!(status, 401);
    assert_eq!(sites_stored(&app).await.len(), 1, "refused calls stored nothing");
}

async fn bad_site_fields_are_refused_naming_the_field_and_store_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin("A1").await;
    let good = json!({"name": "Shop", "origins": ["https://shop.example"]});
    for (field, value) in [
        ("name", json!("")),
        ("name", json!("a\u{7}b")),
        ("origins", json!([])),
        ("origins", json!(["https://shop.example/path"])),
        ("origins", json!(["ftp://shop.example"])),
        ("origins", json!("*")),
        ("greeting", json!("x".repeat(281))),
        ("color", json!("red")),
        ("default_lang", json!("fr")),
        ("require_verified", json!("yes")),
    ] {
        let mut body = good.clone();
        body[field] = value.clone();
        let (status, answer) = app.post_json(Some(&admin), "/api/admin/sites", body).await;
        assert_eq!(status, 400, "{field}={value}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{field}={value}: {answer}");
    }
    let (status, answer) = app.post_json(Some(&admin), "/api/admin/sites", json!({"name": "Shop"})).await;
    assert_eq!((status, answer["error"]["field"].clone()), (400, json!("origins")), "{answer}");
    assert!(sites_stored(&app).await.is_empty());
}

async fn a_visitor_names_its_site_and_an_unknown_site_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let site = create_site(&app, json!({"name": "Shop", "origins": ["https://shop.example"]})).await;
    let site_id = text(&site["site"]["site_id"]);
    let before = app.store_counts().await;
    for (site_id, status, code) in [
        (uuid::Uuid::new_v4().to_string(), 404, "site_not_found"),
        ("not-a-uuid".to_string(), 400, "invalid_field"),
    ] {
        let (got, answer) = app.post_json(None, "/api/visitors", json!({"site_id": site_id})).await;
        assert_eq!((got, text(&answer["error"]["code"])), (status, code.to_string()), "{answer}");
    }
    assert_eq!(app.store_counts().await, before, "no visitor made");
    let (status, answer) = app.post_json(None, "/api/visitors", json!({"site_id": site_id})).await;
    assert_eq!(status, 201, "{answer}");
    let visitor =
        switchboard::domain::VisitorId::parse(&text(&answer["visitor_id"]), "visitor_id").expect("id");
    let stored = app
        .services
        .store
        .run(move |conn| {
            switchboard::store::visitors::find(conn, visitor).map_err(switchboard::store::StoreError::from)
        })
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.site_id.map(|id| id.to_string()), Some(site_id));
}

/// The stored site `site_id` (sealed secret and prefix), or none.
async fn stored_site(app: &TestApp, site_id: &str) -> Option<switchboard::store::sites::SiteRow> {
    let id = switchboard::domain::SiteId::parse(site_id, "site_id").expect("id");
    app.services
        .store
        .run(move |conn| {
            switchboard::store::sites::find(conn, id).map_err(switchboard::store::StoreError::from)
        })
        .await
        .expect("read site")
}

async fn an_admin_reads_changes_rotates_and_deletes_a_site(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let made = create_site(
        &app,
        json!({"name": "Shop", "origins": ["https://shop.example"], "greeting": "Hi", "color": "#112233",
               "default_lang": "ko"}),
    )
    .await;
    let site_id = text(&made["site"]["site_id"]);
    let path = format!("/api/admin/sites/{site_id}");
    let admin = app.admin("A1").await;
    let (status, shown) = app.get_json(Some(&admin), &path).await;
    assert_eq!((status, &shown["site"]), (200, &made["site"]), "{shown}");

    // Blank or null clears; absent leaves as it is.
    let (status, changed) = app
        .post_json(
            Some(&admin),
            &path,
            json!({"name": "Shop 2", "origins": "https://b.example https://c.example", "greeting": null,
                   "color": " ", "require_verified": true}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    let site = &changed["site"];
    assert_eq!(site["name"], "Shop 2");
    assert_eq!(site["origins"], json!(["https://b.example", "https://c.example"]));
    assert_eq!((&site["greeting"], &site["color"]), (&Value::Null, &Value::Null), "{site}");
    assert_eq!((&site["default_lang"], &site["require_verified"]), (&json!("ko"), &json!(true)));
    assert_eq!(app.get_json(Some(&admin), &path).await.1["site"], *site, "the change is stored");
    let (_, changed) = app.post_json(Some(&admin), &path, json!({"default_lang": ""})).await;
    assert_eq!(changed["site"]["default_lang"], Value::Null);

    // Rotation: a new secret, shown once; the old sealed value is gone.
    let old_secret = text(&made["secret"]);
    let before = stored_site(&app, &site_id).await.expect("stored");
    let (status, rotated) = app.post_json(Some(&admin), &format!("{path}/secret"), json!({})).await;
    assert_eq!(status, 200, "{rotated}");
    let secret = text(&rotated["secret"]);
    assert!(secret.starts_with("sbs_") && secret.len() == 47 && secret != old_secret, "{secret}");
    assert_eq!(text(&rotated["site"]["secret_prefix"]), secret[..10]);
    assert_ne!(rotated["site"]["secret_prefix"], made["site"]["secret_prefix"]);
    let after = stored_site(&app, &site_id).await.expect("stored");
    assert_ne!(after.secret_sealed, before.secret_sealed, "the old sealed secret is replaced");
    assert!(after.secret_rotated_at >= before.secret_rotated_at);
    assert_eq!(app.services.site_secret(&after).await.expect("opens"), secret);
    assert!(rotated["site"].get("secret_sealed").is_none());
    let (_, shown) = app.get_json(Some(&admin), &path).await;
    assert!(shown["site"].get("secret").is_none(), "never shown again: {shown}");

    // Delete: its visitors stay, belonging to no site. (An anonymous visitor first needs a site
    // that admits one.)
    let (status, _) = app.post_json(Some(&admin), &path, json!({"require_verified": false})).await;
    assert_eq!(status, 200);
    let (status, visitor) = app.post_json(None, "/api/visitors", json!({"site_id": site_id})).await;
    assert_eq!(status, 201, "{visitor}");
    let visitors_before = app.store_counts().await.visitors;
    let (status, deleted) = app.post_json(Some(&admin), &format!("{path}/delete"), json!({})).await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(
        (deleted["site"]["site_id"].clone(), deleted["visitors_detached"].clone()),
        (json!(site_id), json!(1))
    );
    assert!(stored_site(&app, &site_id).await.is_none());
    assert_eq!(app.store_counts().await.visitors, visitors_before, "its visitors are kept");
    let id = switchboard::domain::VisitorId::parse(&text(&visitor["visitor_id"]), "visitor_id").expect("id");
    let row = app
        .services
        .store
        .run(move |conn| {
            switchboard::store::visitors::find(conn, id).map_err(switchboard::store::StoreError::from)
        })
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(row.site_id, None);
    for (method, route) in [
        ("GET", path.clone()),
        ("POST", path.clone()),
        ("POST", format!("{path}/secret")),
        ("POST", format!("{path}/delete")),
    ] {
        let (status, answer) = if method == "GET" {
            app.get_json(Some(&admin), &route).await
        } else {
            app.post_json(Some(&admin), &route, json!({"name": "x"})).await
        };
        assert_eq!(
            (status, text(&answer["error"]["code"])),
            (404, "site_not_found".into()),
            "{method} {route}"
        );
    }

    // Only admins; a token is needed.
    let other = text(
        &create_site(&app, json!({"name": "B", "origins": ["https://b.example"]})).await["site"]["site_id"],
    );
    let other_path = format!("/api/admin/sites/{other}");
    let agent = app.agent("E1", 1).await;
    let stored = stored_site(&app, &other).await;
    for route in [other_path.clone(), format!("{other_path}/secret"), format!("{other_path}/delete")] {
        let (status, answer) = app.post_json(Some(&agent), &route, json!({"name": "x"})).await;
        assert_eq!((status, text(&answer["error"]["code"])), (403, "forbidden".into()), "{route}");
        assert_eq!(app.post_json(None, &route, json!({"name": "x"})).await.0, 401, "{route}");
    }
    assert_eq!(app.get_json(Some(&agent), &other_path).await.0, 403);
    assert_eq!(app.get_json(None, &other_path).await.0, 401);
    assert_eq!(stored_site(&app, &other).await, stored, "refused calls changed nothing");
    let (status, answer) = app.get_json(Some(&admin), "/api/admin/sites/not-an-id").await;
    assert_eq!((status, answer["error"]["field"].clone()), (400, json!("site_id")));
}

async fn bad_site_changes_are_refused_naming_the_field_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let made =
        create_site(&app, json!({"name": "Shop", "origins": ["https://shop.example"], "color": "#112233"}))
            .await;
    let path = format!("/api/admin/sites/{}", text(&made["site"]["site_id"]));
    let admin = app.admin("A1").await;
    let before = stored_site(&app, &text(&made["site"]["site_id"])).await;
    for (field, value) in [
        ("name", json!("")),
        ("name", json!(7)),
        ("origins", json!([])),
        ("origins", json!(null)),
        ("origins", json!(["https://shop.example/path"])),
        ("origins", json!("*")),
        ("greeting", json!("x".repeat(281))),
        ("greeting", json!(["hi"])),
        ("color", json!("red")),
        ("default_lang", json!("fr")),
        ("require_verified", json!("yes")),
    ] {
        // A good change beside it is not stored either.
        let body = json!({"color": "#445566", field: value.clone()});
        let (status, answer) = app.post_json(Some(&admin), &path, body).await;
        assert_eq!(status, 400, "{field}={value}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{field}={value}: {answer}");
    }
    let (status, answer) = app.post_json(Some(&admin), &path, json!({})).await;
    assert_eq!(
        (status, answer["error"]["code"].clone()),
        (400, json!("missing_field")),
        "nothing to change: {answer}"
    );
    assert_eq!(stored_site(&app, &text(&made["site"]["site_id"])).await, before, "nothing changed");
}

async fn the_widget_look_of_a_site_is_public_and_holds_nothing_secret(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let made = create_site(
        &app,
        json!({"name": "Shop", "origins": ["https://shop.example"], "greeting": "<b>Hi</b>", "color": "#112233"}),
    )
    .await;
    let site_id = text(&made["site"]["site_id"]);
    let path = format!("/api/sites/{site_id}/widget");
    let response = app.client.get(app.url(&path)).send().await.expect("get");
    assert_eq!(response.status(), 200);
    let cache = response.headers().get("cache-control").and_then(|v| v.to_str().ok()).map(str::to_string);
    assert_eq!(cache.as_deref(), Some("public, max-age=5"), "cacheable for a few seconds only");
    let look: Value = response.json().await.expect("json");
    assert_eq!(
        look,
        json!({"site_id": site_id, "name": "Shop", "greeting": "<b>Hi</b>", "color": "#112233",
               "default_lang": null, "require_verified": false, "prechat_form": []})
    );
    let admin = app.admin("A1").await;
    app.post_json(Some(&admin), &format!("/api/admin/sites/{site_id}"), json!({"color": "#abcdef"})).await;
    let (_, look) = app.get_json(None, &path).await;
    assert_eq!(look["color"], "#abcdef", "a change shows at once (for a client that asks again)");
    let (status, answer) = app.get_json(None, &format!("/api/sites/{}/widget", uuid::Uuid::new_v4())).await;
    assert_eq!((status, text(&answer["error"]["code"])), (404, "site_not_found".into()));
    let (status, answer) = app.get_json(None, "/api/sites/nope/widget").await;
    assert_eq!((status, answer["error"]["field"].clone()), (400, json!("site_id")));
}

const SHOP: &str = "https://shop.example";

/// A server whose allowlist is [`SHOP`] only, serving the front ends.
async fn shop_only(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |settings| {
        settings.cors.allowed_origins = vec![SHOP.into()];
        settings.server.public_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/public").into();
    })
    .await
}

/// What a page of `origin` gets: (CORS status of a cross-origin `POST /api/visitors`, its
/// `Access-Control-Allow-Origin`, status of a widget saying it runs there, the frame's
/// `frame-ancestors` lists it).
async fn what_origin_gets(app: &TestApp, origin: &str) -> (u16, Option<String>, u16, bool) {
    let response = app
        .client
        .post(app.url("/api/visitors"))
        .header("Origin", origin)
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("request");
    let allow = response
        .headers()
        .get("access-control-allow-origin")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let cors = response.status().as_u16();
    let (embedded, _) = app.post_json(None, "/api/visitors", json!({"embed_origin": origin})).await;
    let frame = app.client.get(app.url("/widget/frame.html")).send().await.expect("frame");
    let policy = frame
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let ancestors =
        policy.split(';').find(|part| part.trim().starts_with("frame-ancestors")).unwrap_or("").to_string();
    (cors, allow, embedded, ancestors.split_whitespace().any(|word| word == origin))
}

async fn a_sites_origins_admit_the_widget_at_run_time_and_stop_when_removed(backend: Backend) {
    let app = shop_only(backend).await;
    let new = "https://new.example";
    assert_eq!(what_origin_gets(&app, new).await, (403, None, 403, false), "not yet a site");
    assert_eq!(what_origin_gets(&app, SHOP).await, (201, Some(SHOP.into()), 201, true), "the config's");

    let made = create_site(&app, json!({"name": "New", "origins": [new]})).await;
    assert_eq!(what_origin_gets(&app, new).await, (201, Some(new.into()), 201, true), "a site's, no restart");
    assert_eq!(what_origin_gets(&app, SHOP).await, (201, Some(SHOP.into()), 201, true), "the config's still");

    let admin = app.admin("A1").await;
    let path = format!("/api/admin/sites/{}", text(&made["site"]["site_id"]));
    let (status, _) = app.post_json(Some(&admin), &path, json!({"origins": ["https://moved.example"]})).await;
    assert_eq!(status, 200);
    assert_eq!(what_origin_gets(&app, new).await, (403, None, 403, false), "removed from the site");
    assert_eq!(what_origin_gets(&app, "https://moved.example").await.0, 201);

    assert_eq!(app.post_json(Some(&admin), &format!("{path}/delete"), json!({})).await.0, 200);
    assert_eq!(
        what_origin_gets(&app, "https://moved.example").await,
        (403, None, 403, false),
        "site deleted"
    );
    assert_eq!(what_origin_gets(&app, SHOP).await, (201, Some(SHOP.into()), 201, true));
}

async fn a_visitor_naming_a_site_must_run_in_one_of_its_origins(backend: Backend) {
    let app = shop_only(backend).await;
    let a = text(
        &create_site(&app, json!({"name": "A", "origins": ["https://a.example"]})).await["site"]["site_id"],
    );
    create_site(&app, json!({"name": "B", "origins": ["https://b.example"]})).await;
    let before = app.store_counts().await;
    let (status, answer) = app
        .post_json(None, "/api/visitors", json!({"site_id": a, "embed_origin": "https://b.example"}))
        .await;
    assert_eq!(
        (status, text(&answer["error"]["code"])),
        (403, "origin_not_allowed".into()),
        "another site's origin"
    );
    assert_eq!(app.store_counts().await, before, "no visitor made");
    for origin in ["https://a.example", SHOP] {
        let (status, answer) =
            app.post_json(None, "/api/visitors", json!({"site_id": a, "embed_origin": origin})).await;
        assert_eq!(status, 201, "{origin}: {answer}");
    }
}

async fn a_site_stored_by_another_node_counts_here_after_a_reload(backend: Backend) {
    let app = shop_only(backend).await;
    let origin = "https://elsewhere.example";
    // Written to the store as another node would, without telling this one.
    let row = switchboard::store::sites::SiteRow {
        id: switchboard::domain::SiteId::new(),
        name: "Elsewhere".into(),
        origins: origin.into(),
        secret_sealed: app.services.site_key.get().expect("site key").seal("sbs_x"),
        secret_prefix: "sbs_x".into(),
        secret_rotated_at: 0,
        greeting: None,
        color: None,
        default_lang: None,
        require_verified: 0,
        prechat_form: "[]".into(),
        created_at: 0,
        updated_at: 0,
    };
    let id = row.id;
    app.services
        .store
        .write(move |conn| {
            switchboard::store::sites::insert(conn, &row).map_err(switchboard::store::StoreError::from)
        })
        .await
        .expect("insert");
    let every = switchboard::service::site_origins::RELOAD_EVERY;
    let deadline = std::time::Instant::now() + every * 2 + std::time::Duration::from_secs(2);
    while what_origin_gets(&app, origin).await.0 != 201 {
        assert!(std::time::Instant::now() < deadline, "not admitted within two reloads");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(what_origin_gets(&app, origin).await, (201, Some(origin.into()), 201, true));
    app.services
        .store
        .write(move |conn| {
            switchboard::store::sites::delete(conn, id).map_err(switchboard::store::StoreError::from)
        })
        .await
        .expect("delete");
    let deadline = std::time::Instant::now() + every * 2 + std::time::Duration::from_secs(2);
    while what_origin_gets(&app, origin).await.0 != 403 {
        assert!(std::time::Instant::now() < deadline, "still admitted two reloads after its deletion");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
