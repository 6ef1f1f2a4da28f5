//! Sites: admins register the websites that embed the widget; each gets a signing secret shown
//! once and kept sealed; visitors say which site's widget made them.

use serde_json::{json, Value};

use crate::helpers::{text, Backend, TestApp};
use crate::on_every_backend;

on_every_backend!(
    an_admin_registers_a_site_and_its_secret_is_shown_once_and_stored_sealed,
    bad_site_fields_are_refused_naming_the_field_and_store_nothing,
    a_visitor_names_its_site_and_an_unknown_site_is_refused,
);

/// Registers a site as an admin; the answer (`site`, `secret`).
pub async fn create_site(app: &TestApp, fields: Value) -> Value {
    let admin = app.admin("SITEADMIN").await;
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
        app.services.site_secret(&row).expect("opens"),
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
