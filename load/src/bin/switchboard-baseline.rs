//! `switchboard-baseline`: a bare actix-web server whose one route only sleeps — the baseline
//! of the idle benchmark (scenario 1 in BENCHMARKS.md). `GET /poll?timeout=S` answers after
//! `S` seconds (default 25, at most 55) with the body of an empty Switchboard poll; `/healthz`
//! answers at once. Same actix-web build and features as the server, nothing else.

use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use clap::Parser;
use serde::Deserialize;

/// A bare actix-web server that holds every `GET /poll` for its `timeout`.
#[derive(Debug, Parser)]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one (printed as `listening on 127.0.0.1:PORT`).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// actix workers; 0 = one per core.
    #[arg(long, default_value_t = 0)]
    workers: usize,
}

#[derive(Deserialize)]
struct PollQuery {
    timeout: Option<u64>,
}

async fn poll(query: web::Query<PollQuery>) -> HttpResponse {
    tokio::time::sleep(Duration::from_secs(query.timeout.unwrap_or(25).min(55))).await;
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"status":"timeout","cursor":"","events":[]}"#)
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(r#"{"status":"ok"}"#)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    // As many connections as the hard descriptor limit allows, like the server.
    let descriptors = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    let workers = match args.workers {
        0 => std::thread::available_parallelism().map_or(2, usize::from),
        n => n,
    };
    let max_connections = usize::try_from(descriptors).unwrap_or(usize::MAX);
    let listener = std::net::TcpListener::bind(("127.0.0.1", args.port))?;
    println!("listening on 127.0.0.1:{}", listener.local_addr()?.port());
    HttpServer::new(|| {
        App::new().route("/poll", web::get().to(poll)).route("/healthz", web::get().to(healthz))
    })
    .workers(workers)
    .max_connections(max_connections.div_ceil(workers))
    .backlog(1024)
    .disable_signals()
    .listen(listener)?
    .run()
    .await
}
