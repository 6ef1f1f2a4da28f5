//! A site registered on one node admits its origin on another within the reload period (each
//! node reads the sites' origins from the store every `service::site_origins::RELOAD_EVERY`),
//! and stops admitting it there once deleted. The nodes share the site key.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{text, Cluster};

/// CORS status of a cross-origin `POST /api/visitors` from `origin`, through `node`.
async fn cors_status(cluster: &Cluster, node: usize, origin: &str) -> u16 {
    let wire = cluster.node(node);
    let response = wire
        .client
        .post(wire.url("/api/visitors"))
        .header("Origin", origin)
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("request");
    response.status().as_u16()
}

/// An identity of customer `u-1`, signed with `secret` as the site's server would.
fn identity(secret: &str) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let claims = json!({"sub": "u-1", "iat": now, "exp": now + 600});
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()).expect("a key");
    jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), &claims, &key)
        .expect("signs")
}

/// Waits until `node` answers `origin` with `status`, at most `within`; how long it took.
async fn until(cluster: &Cluster, node: usize, origin: &str, status: u16, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if cors_status(cluster, node, origin).await == status {
            return start.elapsed();
        }
        assert!(start.elapsed() < within, "node {node} still not {status} for {origin} after {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_made_on_one_node_admits_its_origin_on_another_within_seconds() {
    let key = "5a".repeat(32);
    let settings = [
        ("SWITCHBOARD_SITES__KEY", key.as_str()),
        ("SWITCHBOARD_CORS__ALLOWED_ORIGINS", r#"["https://config.example"]"#),
    ];
    let Some(cluster) = Cluster::start_with(2, &settings).await else { return };
    let admin = cluster.setup_admin().await;
    let origin = "https://site.example";
    assert_eq!(cors_status(&cluster, 1, origin).await, 403);
    let (status, made) = cluster
        .node(0)
        .post_json(Some(&admin), "/api/admin/sites", json!({"name": "Site", "origins": [origin]}))
        .await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(cors_status(&cluster, 0, origin).await, 201, "at once on the node that made it");
    let took = until(&cluster, 1, origin, 201, Duration::from_secs(8)).await;
    eprintln!("site origin admitted on the other node after {took:?}");
    // A secret sealed on one node opens on the other (the nodes share the site key): rotated on
    // node 1, an identity signed with the new secret is accepted on node 0, one signed with the
    // old secret is refused there at once.
    let site_id = text(&made["site"]["site_id"]);
    let (status, rotated) = cluster
        .node(1)
        .post_json(Some(&admin), &format!("/api/admin/sites/{site_id}/secret"), json!({}))
        .await;
    assert_eq!(status, 200, "{rotated}");
    for (secret, expected) in [(text(&rotated["secret"]), 201), (text(&made["secret"]), 401)] {
        let body = json!({"site_id": site_id, "identity": identity(&secret)});
        let (status, answer) = cluster.node(0).post_json(None, "/api/visitors", body).await;
        assert_eq!(status, expected, "{answer}");
    }
    let (status, _) = cluster
        .node(1)
        .post_json(Some(&admin), &format!("/api/admin/sites/{site_id}/delete"), json!({}))
        .await;
    assert_eq!(status, 200);
    let took = until(&cluster, 0, origin, 403, Duration::from_secs(8)).await;
    eprintln!("deleted site's origin refused on the other node after {took:?}");
}
