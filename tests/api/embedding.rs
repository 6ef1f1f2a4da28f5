//! `embed_origin` on `POST /api/visitors`: the widget's frame says which site's page it runs
//! in, and a site outside `cors.allowed_origins` gets no visitor.

use serde_json::{json, Value};
use switchboard::domain::AddressList;

use crate::helpers::{Backend, TestApp};
use crate::on_every_backend;

on_every_backend!(
    a_widget_in_a_site_outside_the_allowlist_gets_no_visitor_in_any_content_type,
    a_bad_embed_origin_is_a_400_naming_it_and_creates_nothing,
    the_widget_may_run_in_the_pages_of_this_server_itself,
);

const SHOP: &str = "https://shop.example";

/// The three encodings a `POST` body may come in.
const KINDS: [&str; 3] = ["application/json", "text/plain", "application/x-www-form-urlencoded"];

/// `POST /api/visitors` with `embed_origin` encoded as `kind`, and `headers`; the status and the
/// JSON answer.
async fn create(app: &TestApp, kind: &str, embed_origin: &Value, headers: &[(&str, &str)]) -> (u16, Value) {
    let body = match (kind, embed_origin) {
        ("application/x-www-form-urlencoded", Value::String(text)) => {
            serde_urlencoded::to_string([("embed_origin", text)]).expect("form")
        }
        ("application/x-www-form-urlencoded", other) => format!("embed_origin={other}"),
        _ => json!({ "embed_origin": embed_origin }).to_string(),
    };
    let mut request = app.client.post(app.url("/api/visitors")).header("Content-Type", kind).body(body);
    for &(name, value) in headers {
        request = request.header(name, value);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn error_of(body: &Value) -> (&str, Option<&str>) {
    (body["error"]["code"].as_str().unwrap_or("<none>"), body["error"]["field"].as_str())
}

async fn shop_only(backend: Backend, tweak: impl FnOnce(&mut switchboard::config::Settings)) -> TestApp {
    TestApp::spawn_with(backend, |settings| {
        settings.cors.allowed_origins = vec![SHOP.into()];
        tweak(settings);
    })
    .await
}

async fn a_widget_in_a_site_outside_the_allowlist_gets_no_visitor_in_any_content_type(backend: Backend) {
    let app = shop_only(backend, |_| {}).await;
    let before = app.store_counts().await;
    for kind in KINDS {
        let (status, body) = create(&app, kind, &json!("https://evil.example"), &[]).await;
        assert_eq!((status, error_of(&body).0), (403, "origin_not_allowed"), "{kind}: {body}");
        assert_eq!(
            body["error"]["message"],
            "This site is not allowed to use this chat server (cors.allowed_origins).",
            "the same refusal as CORS'"
        );
    }
    assert_eq!(app.store_counts().await, before, "a refused site gets no visitor");

    for (kind, origin) in KINDS.iter().zip([SHOP, "HTTPS://Shop.Example", "https://shop.example:443"]) {
        let (status, body) = create(&app, kind, &json!(origin), &[]).await;
        assert_eq!(status, 201, "{kind} {origin}: {body}");
        assert!(body["token"].is_string());
    }
    assert_eq!(app.store_counts().await.visitors, before.visitors + 3);

    // Without the field nothing is checked: API clients, curl, the load generator.
    let (status, _) = app.post_json(None, "/api/visitors", json!({})).await;
    assert_eq!(status, 201);
    app.stop().await;

    let any =
        TestApp::spawn_with(Backend::Sqlite, |settings| settings.cors.allowed_origins = vec!["*".into()])
            .await;
    let (status, _) = create(&any, KINDS[0], &json!("https://evil.example"), &[]).await;
    assert_eq!(status, 201, "`*` lets the widget run anywhere");
    any.stop().await;
}

async fn a_bad_embed_origin_is_a_400_naming_it_and_creates_nothing(backend: Backend) {
    let app = shop_only(backend, |_| {}).await;
    let before = app.store_counts().await;
    let long = format!("https://{}.example", "a".repeat(260));
    for bad in [
        json!(""),
        json!("shop.example"),
        json!("null"),
        json!("https://shop.example/page"),
        json!("https://shop.example/"),
        json!("javascript:alert(1)"),
        json!("https://shop example"),
        json!("https://*.example"),
        json!(long),
    ] {
        for kind in KINDS {
            let (status, body) = create(&app, kind, &bad, &[]).await;
            assert_eq!(
                (status, error_of(&body)),
                (400, ("invalid_field", Some("embed_origin"))),
                "{kind} {bad}"
            );
        }
    }
    let (status, body) = create(&app, KINDS[0], &json!(42), &[]).await;
    assert_eq!((status, error_of(&body)), (400, ("invalid_field", Some("embed_origin"))));
    assert_eq!(app.store_counts().await, before);
    app.stop().await;
}

async fn the_widget_may_run_in_the_pages_of_this_server_itself(backend: Backend) {
    let app = shop_only(backend.clone(), |_| {}).await;
    let before = app.store_counts().await;
    // `/demo/` reached directly: the Host header names this server.
    let (status, body) = create(&app, KINDS[0], &json!(app.address), &[]).await;
    assert_eq!(status, 201, "{body}");

    // `/demo/` through a proxy that rewrites Host: the browser says the request is same-origin
    // and the widget's page is the one that sent it.
    let proxy = "http://proxy.example:8000";
    let through_proxy = [("Origin", proxy), ("Sec-Fetch-Site", "same-origin")];
    let (status, body) = create(&app, KINDS[1], &json!(proxy), &through_proxy).await;
    assert_eq!(status, 201, "{body}");
    let counted = app.store_counts().await.visitors;
    assert_eq!(counted, before.visitors + 2);

    // Neither fact alone is enough, and the page must be the one that sent the request.
    for (headers, embed) in [
        (&[][..], proxy),
        (&[("Sec-Fetch-Site", "same-origin")][..], proxy),
        (&through_proxy[..], "https://evil.example"),
    ] {
        let (status, body) = create(&app, KINDS[0], &json!(embed), headers).await;
        assert_eq!((status, error_of(&body).0), (403, "origin_not_allowed"), "{headers:?} {embed}");
    }
    assert_eq!(app.store_counts().await.visitors, counted, "no visitor for a refused page");
    app.stop().await;

    // The origin of `server.public_url`, and the one a trusted proxy forwards.
    let public = shop_only(backend.clone(), |settings| settings.server.public_url = proxy.into()).await;
    let (status, body) = create(&public, KINDS[2], &json!(proxy), &[]).await;
    assert_eq!(status, 201, "{body}");
    public.stop().await;
    let behind = shop_only(backend, |settings| {
        settings.server.trusted_proxies = AddressList::parse(&["127.0.0.1"]).expect("addresses")
    })
    .await;
    let forwarded = [("X-Forwarded-Host", "proxy.example:8000")];
    let (status, body) = create(&behind, KINDS[0], &json!(proxy), &forwarded).await;
    assert_eq!(status, 201, "{body}");
    behind.stop().await;
}
