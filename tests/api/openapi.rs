//! `docs/openapi.json`, served at `/openapi.json`, against the router: every route the server
//! registers is in the document with its method, every operation of the document is a route,
//! and every route of the table really answers (so the table is the router, not a copy).

use std::collections::BTreeSet;

use serde_json::Value;
use switchboard::http::api_routes;

use crate::helpers::{Backend, TestApp};

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

fn documented(document: &Value) -> BTreeSet<(String, String)> {
    let paths = document["paths"].as_object().expect("the document has paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            let item = item.as_object().expect("a path item is an object");
            item.keys()
                .filter(|key| METHODS.contains(&key.as_str()))
                .map(|method| (method.clone(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_document_names_exactly_the_routes_of_the_router() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app.client.get(app.url("/openapi.json")).send().await.expect("request");
    assert_eq!(response.status(), 200);
    let document: Value = response.json().await.expect("the document is JSON");
    assert!(document["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "not OpenAPI 3");

    let in_document = documented(&document);
    let in_router: BTreeSet<(String, String)> =
        api_routes().iter().map(|route| (route.method.to_string(), route.path.to_string())).collect();
    let undocumented: Vec<_> = in_router.difference(&in_document).collect();
    let not_served: Vec<_> = in_document.difference(&in_router).collect();
    assert!(undocumented.is_empty(), "routes missing from docs/openapi.json: {undocumented:?}");
    assert!(not_served.is_empty(), "docs/openapi.json documents routes the router lacks: {not_served:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_of_the_table_is_served_with_its_method() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let routes = api_routes();
    assert!(routes.len() > 30, "the route table lost routes: {}", routes.len());
    for route in routes {
        // Any value for a path parameter: the route must be found (the handler may refuse it).
        let path = route.path.replace(['{', '}'], "");
        let request = match route.method {
            "get" => app.client.get(app.url(&path)),
            "post" => app.client.post(app.url(&path)).header("content-type", "application/json").body("{}"),
            other => panic!("a route with method {other}"),
        };
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let code = body["error"]["code"].as_str().unwrap_or("");
        // A handler's own refusal (401, 400, `chat_not_found`) has its own code; only the
        // router's fallbacks carry these two.
        assert!(
            !matches!(code, "not_found" | "method_not_allowed") && status != 405,
            "{} {} is not served: {status} {body}",
            route.method,
            route.path
        );
    }
    app.stop().await;
}
