//! The front ends in `server.public_dir`, served at `/`: `/widget.js`, `/agent/`, `/admin/`,
//! `/demo/`. Only `GET` and `HEAD` reach the files, so any other method on an unknown path still
//! gets the JSON 404 of the API. Responses are gzipped when the browser accepts it and marked
//! `no-cache`: browsers revalidate (a cheap 304) and a new widget reaches every site at once.
//!
//! The agent console and the admin pages hold agent tokens, so they are sent with a strict
//! Content-Security-Policy (their own scripts, styles and API only; no inline code) and may not
//! be framed. The widget and `/demo/` are made to be embedded in other sites and are not.

use std::path::Path;

use actix_files::Files;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{from_fn, Compress, DefaultHeaders, Next};
use actix_web::{guard, web, HttpResponse};

/// The policy of the console and admin pages: nothing but their own files and API, no inline
/// script or style, never in a frame.
pub const STAFF_PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'self'; object-src 'none'";

/// Whether `path` is one of the staff pages (console or admin), which get [`STAFF_PAGE_CSP`].
fn is_staff_page(path: &str) -> bool {
    ["/agent", "/admin"]
        .iter()
        .any(|prefix| path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

/// Adds the staff pages' security headers to their answers.
async fn staff_page_headers(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let staff = is_staff_page(request.path());
    let mut response = next.call(request).await?;
    if staff {
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(STAFF_PAGE_CSP));
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    }
    Ok(response)
}

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
            .wrap(from_fn(staff_page_headers))
            .wrap(DefaultHeaders::new().add(("Cache-Control", "no-cache")))
            .service(Files::new("/", public_dir).index_file("index.html").redirect_to_slash_directory()),
    );
}

fn redirect(to: &'static str) -> HttpResponse {
    HttpResponse::Found().insert_header(("Location", to)).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_console_and_admin_folders_are_staff_pages() {
        for path in ["/agent", "/agent/", "/agent/console.js", "/admin/", "/admin/admin.css"] {
            assert!(is_staff_page(path), "{path}");
        }
        for path in ["/widget.js", "/widget/app.js", "/demo/", "/agents", "/administrator/", "/"] {
            assert!(!is_staff_page(path), "{path}");
        }
    }
}
