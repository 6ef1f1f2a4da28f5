//! The front ends served at `/`, and the allowlist of sites that may embed the widget.

use serde_json::Value;

use crate::helpers::{text, Backend, TestApp};
use crate::on_every_backend;

on_every_backend!(
    the_front_ends_are_served_gzipped_and_revalidated,
    a_site_outside_the_allowlist_is_refused_and_changes_nothing,
    a_star_in_the_allowlist_lets_any_site_in_and_exposes_retry_after,
);

async fn the_front_ends_are_served_gzipped_and_revalidated(backend: Backend) {
    let app = TestApp::spawn_with(backend, |settings| {
        settings.server.public_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/public").into();
    })
    .await;
    let response =
        app.client.get(app.url("/widget.js")).header("Accept-Encoding", "gzip").send().await.expect("get");
    assert_eq!(response.status(), 200);
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    assert!(header("content-type").is_some_and(|t| t.contains("javascript")), "{:?}", header("content-type"));
    assert_eq!(header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(header("cache-control").as_deref(), Some("no-cache"));

    let no_redirects =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    for (path, to) in [("/", "/demo/"), ("/demo", "/demo/")] {
        let response = no_redirects.get(app.url(path)).send().await.expect("get");
        assert_eq!(response.status(), 302, "{path}");
        assert_eq!(response.headers().get("location").and_then(|v| v.to_str().ok()), Some(to));
    }
    for page in ["/demo/", "/agent/", "/admin/"] {
        let response = app.client.get(app.url(page)).send().await.expect("get");
        assert_eq!(response.status(), 200, "{page}");
        assert!(response.text().await.expect("text").contains("<html"), "{page} is an HTML page");
    }
    // API answers are never cached: set once for every route, errors included.
    for path in ["/api/setup", "/healthz", "/api/queue"] {
        let response = app.client.get(app.url(path)).send().await.expect("get");
        let cache = response.headers().get("cache-control").and_then(|v| v.to_str().ok()).map(str::to_string);
        assert_eq!(cache.as_deref(), Some("no-store"), "{path}");
    }
    // Files answer GET and HEAD only; anything else, or a missing file, is the API's JSON 404.
    for (method, path) in [(reqwest::Method::GET, "/nope.js"), (reqwest::Method::POST, "/widget.js")] {
        let response = app.client.request(method.clone(), app.url(path)).send().await.expect("request");
        assert_eq!(response.status(), 404, "{method} {path}");
        let body: Value = response.json().await.expect("json envelope");
        assert_eq!(body["error"]["code"], "not_found");
    }
}

async fn a_site_outside_the_allowlist_is_refused_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn_with(backend, |settings| {
        settings.cors.allowed_origins = vec!["https://shop.example".into()];
    })
    .await;
    let before = app.store_counts().await;
    let response = app
        .client
        .post(app.url("/api/visitors"))
        .header("Origin", "https://elsewhere.example")
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.expect("json envelope");
    assert_eq!(text(&body["error"]["code"]), "origin_not_allowed");
    assert_eq!(app.store_counts().await, before, "a refused site's request runs nothing");

    let allowed = app
        .client
        .post(app.url("/api/visitors"))
        .header("Origin", "https://shop.example")
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(allowed.status(), 201);
    let allow = allowed.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok());
    assert_eq!(allow, Some("https://shop.example"));

    // The server's own pages (the demo, the console) are same-origin, whatever the allowlist.
    let own = app.address.clone();
    let same = app
        .client
        .post(app.url("/api/visitors"))
        .header("Origin", own)
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(same.status(), 201);
}

async fn a_star_in_the_allowlist_lets_any_site_in_and_exposes_retry_after(backend: Backend) {
    let app = TestApp::spawn_with(backend, |settings| settings.cors.allowed_origins = vec!["*".into()]).await;
    let response = app
        .client
        .post(app.url("/api/visitors"))
        .header("Origin", "https://any.example")
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 201);
    let header =
        |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_lowercase);
    assert!(header("access-control-allow-origin").is_some(), "{:?}", response.headers());
    assert_eq!(header("access-control-expose-headers").as_deref(), Some("retry-after"));
}
