//! The front ends in `server.public_dir`, served at `/`: `/widget.js`, `/agent/`, `/admin/`,
//! `/demo/`. Only `GET` and `HEAD` reach the files, so any other method on an unknown path still
//! gets the JSON 404 of the API. Responses are gzipped when the browser accepts it and marked
//! `no-cache`: browsers revalidate (a cheap 304) and a new widget reaches every site at once.

use std::path::Path;

use actix_files::Files;
use actix_web::middleware::{Compress, DefaultHeaders};
use actix_web::{guard, web, HttpResponse};

/// Routes of this module; nothing when `public_dir` is not a folder.
pub fn config(cfg: &mut web::ServiceConfig, public_dir: &Path) {
    if !public_dir.is_dir() {
        log::warn!("no front ends: {} is not a folder", public_dir.display());
        return;
    }
    let get_or_head = || guard::Any(guard::Get()).or(guard::Head());
    cfg.service(
        web::resource("/demo").route(web::route().guard(get_or_head()).to(|| async { redirect("/demo/") })),
    )
    .service(web::resource("/").route(web::route().guard(get_or_head()).to(|| async { redirect("/demo/") })))
    .service(
        web::scope("")
            .guard(get_or_head())
            .wrap(Compress::default())
            .wrap(DefaultHeaders::new().add(("Cache-Control", "no-cache")))
            .service(Files::new("/", public_dir).index_file("index.html").redirect_to_slash_directory()),
    );
}

fn redirect(to: &'static str) -> HttpResponse {
    HttpResponse::Found().insert_header(("Location", to)).finish()
}
