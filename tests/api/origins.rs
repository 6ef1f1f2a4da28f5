//! This server's own origin behind a proxy (`server.public_url`, a trusted `X-Forwarded-Host`,
//! `Sec-Fetch-Site`) for CORS, and the widget frame's Content-Security-Policy built from
//! `cors.allowed_origins`.

use serde_json::{json, Value};
use switchboard::config::Settings;
use switchboard::domain::AddressList;
use switchboard::startup::Application;

use crate::helpers::{test_settings, Backend, TestApp, TestDb};

/// What nginx with a bare `proxy_pass` shows the browser: its own host and port, while it sends
/// this server `Host: 127.0.0.1:PORT` (reqwest's, from the URL) and no `X-Forwarded-Host`.
const PROXY: &str = "http://proxy.example:8000";

/// A console login sent with `headers`; the status and the error code (`""` for none).
async fn login_with(app: &TestApp, headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = app
        .client
        .post(app.url("/api/agent/login"))
        .json(&json!({"employee_id": "E1", "password": "correct horse battery"}));
    for &(name, value) in headers {
        request = request.header(name, value);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["error"]["code"].as_str().unwrap_or("").to_string())
}

async fn app_with_agent(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let app = TestApp::spawn_with(Backend::Sqlite, tweak).await;
    app.agent("E1", 2).await;
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_behind_a_proxy_that_rewrites_host_may_log_in() {
    let plain = app_with_agent(|_| {}).await;
    let refused = (403, "origin_not_allowed".to_string());
    assert_eq!(login_with(&plain, &[("Origin", PROXY)]).await, refused, "Host alone says 127.0.0.1");
    assert_eq!(
        login_with(&plain, &[("Origin", PROXY), ("Sec-Fetch-Site", "same-origin")]).await.0,
        200,
        "the browser says the console is a page of this server"
    );
    assert_eq!(login_with(&plain, &[("Origin", PROXY), ("Sec-Fetch-Site", "cross-site")]).await, refused);
    // Nobody trusts this peer: its forwarded host proves nothing.
    assert_eq!(
        login_with(&plain, &[("Origin", PROXY), ("X-Forwarded-Host", "proxy.example:8000")]).await,
        refused
    );

    let public = app_with_agent(|settings| settings.server.public_url = PROXY.into()).await;
    assert_eq!(login_with(&public, &[("Origin", PROXY)]).await.0, 200, "server.public_url is the own origin");
    assert_eq!(login_with(&public, &[("Origin", "http://elsewhere.example")]).await, refused);

    let behind_nginx = app_with_agent(|settings| {
        settings.server.trusted_proxies = AddressList::parse(&["127.0.0.1", "::1"]).expect("addresses");
    })
    .await;
    assert_eq!(
        login_with(&behind_nginx, &[("Origin", PROXY), ("X-Forwarded-Host", "proxy.example:8000")]).await.0,
        200,
        "a trusted proxy's X-Forwarded-Host is the own origin"
    );
    let tls = [
        ("Origin", "https://proxy.example"),
        ("X-Forwarded-Host", "proxy.example"),
        ("X-Forwarded-Proto", "https"),
    ];
    assert_eq!(login_with(&behind_nginx, &tls).await.0, 200, "with the scheme the proxy forwards");
    assert_eq!(
        login_with(&behind_nginx, &[("Origin", PROXY), ("X-Forwarded-Host", "other.example")]).await,
        refused
    );
    for app in [plain, public, behind_nginx] {
        app.stop().await;
    }
}

/// What `Application::build` says of settings changed by `tweak`.
async fn start_error(tweak: impl FnOnce(&mut Settings)) -> String {
    let db = TestDb::new(&Backend::Sqlite);
    let mut settings = test_settings(&db);
    tweak(&mut settings);
    match Application::build(settings).await {
        Ok(_) => "started".into(),
        Err(error) => error.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_url_or_allowed_origin_that_is_no_origin_stops_the_start() {
    for bad in [
        "chat.example.com",
        "ftp://chat.example.com",
        "https://chat.example.com/chat",
        "https://chat.example.com?x",
        "https://u:p@chat.example.com",
    ] {
        let error = start_error(|settings| settings.server.public_url = bad.into()).await;
        assert!(
            error.contains("invalid configuration") && error.contains("server.public_url"),
            "{bad}: {error}"
        );
    }
    for bad in [
        "https://shop.example; script-src *",
        "https://a.example https://b.example",
        "https://a.example,https://b.example",
        "https://'self'",
    ] {
        let error = start_error(|settings| settings.cors.allowed_origins = vec![bad.into()]).await;
        assert!(
            error.contains("invalid configuration") && error.contains("cors.allowed_origins"),
            "{bad}: {error}"
        );
    }
}

/// `GET path`: the status and the two headers the frame policy sets.
async fn page_headers(app: &TestApp, path: &str) -> (u16, Option<String>, Option<String>) {
    let response = app.client.get(app.url(path)).send().await.expect("request");
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    (response.status().as_u16(), header("content-security-policy"), header("referrer-policy"))
}

fn frame_policy(ancestors: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         frame-ancestors {ancestors}; base-uri 'none'; form-action 'self'; object-src 'none'"
    )
}

/// `/widget/<a script or style of the frame>` (the widget's files are being reworked: any will do).
fn a_widget_file_that_is_not_a_page() -> String {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/public/widget");
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .expect("public/widget")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".js") || name.ends_with(".css"))
        .collect();
    names.sort();
    format!("/widget/{}", names.first().expect("a script in public/widget"))
}

async fn front_ends_allowing(origins: &[&str]) -> TestApp {
    let origins: Vec<String> = origins.iter().map(|origin| origin.to_string()).collect();
    TestApp::spawn_with(Backend::Sqlite, move |settings| {
        settings.server.public_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/public").into();
        settings.cors.allowed_origins = origins;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_frame_may_be_framed_by_the_allowed_sites_only() {
    let app = front_ends_allowing(&["https://a.example", "http://b.example:8080"]).await;
    let expected = frame_policy("'self' https://a.example http://b.example:8080");
    for path in ["/widget/frame.html", "/%77idget/frame.html", "//widget/frame%2ehtml"] {
        let (status, policy, referrer) = page_headers(&app, path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(policy.as_deref(), Some(expected.as_str()), "{path}");
        assert_eq!(referrer.as_deref(), Some("no-referrer"), "{path}");
    }
    // The loader and the frame's scripts are plain files other sites' pages load.
    for path in ["/widget.js".to_string(), a_widget_file_that_is_not_a_page()] {
        let path = path.as_str();
        let (status, policy, _) = page_headers(&app, path).await;
        assert_eq!((status, policy), (200, None), "{path}");
    }
    // The console keeps its own policy, however its path is spelled.
    for path in ["/agent/", "/%61gent/", "//admin/"] {
        let (status, policy, _) = page_headers(&app, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(policy.is_some_and(|p| p.contains("frame-ancestors 'none'")), "{path}");
    }
    app.stop().await;

    let any = front_ends_allowing(&["*"]).await;
    let (status, policy, _) = page_headers(&any, "/widget/frame.html").await;
    assert_eq!((status, policy), (200, Some(frame_policy("*"))));
    any.stop().await;
}
