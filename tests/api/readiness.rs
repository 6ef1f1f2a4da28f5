//! `/readyz`: ready while the store answers, not ready (503 `not_ready`) once it does not,
//! while `/healthz` still says the process is up.

use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::helpers::{Backend, TestApp, TestDb};
use crate::on_every_backend;

on_every_backend!(a_serving_node_is_ready);

async fn a_serving_node_is_ready(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, body) = app.get_json(None, "/readyz").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_database_is_gone_is_not_ready_but_alive() {
    let Some(backend) = Backend::postgres() else { return };
    let Backend::Postgres(server_url) = &backend else { return };
    let db = TestDb::new(&backend);
    let app = TestApp::start(db.clone(), |_| {}).await;
    assert_eq!(app.get_json(None, "/readyz").await.0, 200);

    // The store goes away under the running node: its database is dropped, its sessions cut.
    let name = db.database_name().expect("a PostgreSQL database").to_string();
    let mut admin = PgConnection::establish(server_url).expect("connect");
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut admin).expect("drop");

    let deadline = Instant::now() + Duration::from_secs(20);
    let body = loop {
        let (status, body) = app.get_json(None, "/readyz").await;
        if status == 503 {
            break body;
        }
        assert!(Instant::now() < deadline, "still ready with its database gone: {status} {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(body["error"]["code"], "not_ready");
    assert_eq!(app.get_json(None, "/healthz").await.0, 200, "the process itself still answers");
    // Stopped here rather than left to wind down: its pool retries the dropped database.
    app.stop().await;
}
