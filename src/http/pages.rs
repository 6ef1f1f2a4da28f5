//! The front ends in `server.public_dir`, served at `/`: `/widget.js`, `/widget/`, `/agent/`,
//! `/admin/`, `/demo/`. Only `GET` and `HEAD` reach the files, so any other method on an unknown
//! path still gets the JSON 404 of the API. Responses are gzipped when the browser accepts it and
//! marked `no-cache`: browsers revalidate (a cheap 304) and a new widget reaches every site at once.
//!
//! The agent console and the admin pages hold agent tokens, so they are sent with a strict
//! Content-Security-Policy (their own scripts, styles and API only; no inline code) and may not
//! be framed. The widget's frame pages (`/widget/*.html`, which hold a visitor's token) get the
//! same policy, except that the sites of `cors.allowed_origins` and the registered sites'
//! origins (read at each request from `service::site_origins`, so a site's change counts
//! without a restart) may frame them: that is where the widget may run. `widget.js` and the frame's scripts are loaded by other sites' pages and
//! get no policy; neither does `/demo/`, a sample customer page.

use std::path::{Path, PathBuf};

use actix_files::{Files, PathBufWrap};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{from_fn, Compress, DefaultHeaders, Next};
use actix_web::{guard, web, HttpResponse};

use std::sync::Arc;

use crate::domain::{AllowedOrigins, Origin};
use crate::service::site_origins::SiteOriginSet;

/// The policy of the console and admin pages: nothing but their own files and API, no inline
/// script or style, never in a frame.
pub const STAFF_PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'self'; object-src 'none'";

/// The front ends and who may frame the widget's frame.
#[derive(Clone)]
pub struct FrontEnds {
    /// The folder served at `/`.
    public_dir: PathBuf,
    /// Where the frame may run: `cors.allowed_origins` and the registered sites' origins.
    ancestors: FrameAncestors,
}

/// Who may frame the widget's frame pages.
#[derive(Clone)]
struct FrameAncestors {
    /// `cors.allowed_origins`.
    allowed: Arc<AllowedOrigins>,
    /// The registered sites' origins, as they are now.
    sites: Arc<SiteOriginSet>,
}

impl FrameAncestors {
    /// The frame pages' policy now (see [`frame_page_csp`]).
    fn policy(&self) -> HeaderValue {
        let sites = match *self.allowed {
            AllowedOrigins::Any => Vec::new(),
            AllowedOrigins::Only(_) => self.sites.all(),
        };
        // The origins were parsed (letters, digits, `.-_:[]` only), so the value is a valid
        // header; were it not, the frame could be embedded nowhere (the staff pages' policy).
        HeaderValue::from_str(&frame_page_csp(&self.allowed, &sites))
            .unwrap_or_else(|_| HeaderValue::from_static(STAFF_PAGE_CSP))
    }
}

impl FrontEnds {
    /// The front ends in `public_dir`, whose frame may be embedded by `allowed` sites and the
    /// registered `sites`' origins.
    pub fn new(public_dir: PathBuf, allowed: Arc<AllowedOrigins>, sites: Arc<SiteOriginSet>) -> Self {
        Self { public_dir, ancestors: FrameAncestors { allowed, sites } }
    }
}

/// The frame pages' policy: the staff pages' one, except that this server's pages, the
/// allowed sites (any site, for `*`) and the registered `sites`' origins may frame them.
fn frame_page_csp(allowed: &AllowedOrigins, sites: &[Origin]) -> String {
    let ancestors = match allowed {
        AllowedOrigins::Any => "*".to_string(),
        AllowedOrigins::Only(origins) => {
            let mut ancestors = vec!["'self'"];
            for origin in origins.iter().chain(sites) {
                if !ancestors.contains(&origin.as_str()) {
                    ancestors.push(origin.as_str());
                }
            }
            ancestors.join(" ")
        }
    };
    STAFF_PAGE_CSP.replace("frame-ancestors 'none'", &format!("frame-ancestors {ancestors}"))
}

/// Which policy a front-end file is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PageKind {
    /// Console or admin: [`STAFF_PAGE_CSP`], never framed.
    Staff,
    /// The widget's frame: [`frame_page_csp`].
    WidgetFrame,
    /// Anything else: no policy.
    Other,
}

impl PageKind {
    /// The kind of the file `Files` serves for `path` (the request path not yet routed). Read
    /// the way `Files` reads it — percent-decoded, empty segments dropped, `..` applied — so that
    /// `/%61gent/` or `//widget/frame.html` cannot fetch a page without its policy.
    fn of(path: &str) -> Self {
        let Ok(file) = PathBufWrap::parse_path(path, false) else { return Self::Other };
        let file: &Path = file.as_ref();
        let mut parts = file.iter().filter_map(|part| part.to_str()).map(str::to_ascii_lowercase);
        let first = parts.next().unwrap_or_default();
        let last = parts.next_back();
        match first.as_str() {
            "agent" | "admin" => Self::Staff,
            // Only the HTML pages: the frame's scripts and styles are plain files.
            "widget" if last.is_some_and(|name| name.ends_with(".html") || name.ends_with(".htm")) => {
                Self::WidgetFrame
            }
            _ => Self::Other,
        }
    }
}

/// Adds the staff pages' and the widget frame's security headers to their answers.
async fn page_headers(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
    ancestors: FrameAncestors,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let kind = PageKind::of(request.match_info().unprocessed());
    let mut response = next.call(request).await?;
    let headers = response.headers_mut();
    match kind {
        PageKind::Staff => {
            headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(STAFF_PAGE_CSP));
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        }
        PageKind::WidgetFrame => {
            // No X-Frame-Options: it cannot name a list of sites.
            headers.insert(header::CONTENT_SECURITY_POLICY, ancestors.policy());
            headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        }
        PageKind::Other => {}
    }
    Ok(response)
}

/// Routes of this module; nothing when `public_dir` is not a folder.
pub fn config(cfg: &mut web::ServiceConfig, front_ends: &FrontEnds) {
    let public_dir = &front_ends.public_dir;
    if !public_dir.is_dir() {
        log::warn!("no front ends: {} is not a folder", public_dir.display());
        return;
    }
    let ancestors = front_ends.ancestors.clone();
    let get_or_head = || guard::Any(guard::Get()).or(guard::Head());
    cfg.service(
        web::resource("/demo").route(web::route().guard(get_or_head()).to(|| async { redirect("/demo/") })),
    )
    .service(web::resource("/").route(web::route().guard(get_or_head()).to(|| async { redirect("/demo/") })))
    .service(
        web::scope("")
            .guard(get_or_head())
            .wrap(Compress::default())
            .wrap(from_fn(move |request, next| page_headers(request, next, ancestors.clone())))
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
            assert_eq!(PageKind::of(path), PageKind::Staff, "{path}");
        }
        for path in ["/widget.js", "/widget/app.js", "/demo/", "/agents", "/administrator/", "/"] {
            assert_ne!(PageKind::of(path), PageKind::Staff, "{path}");
        }
    }

    #[test]
    fn only_the_html_pages_of_the_widget_folder_are_frame_pages() {
        for path in ["/widget/frame.html", "/widget/other.HTML", "/widget/sub/x.htm"] {
            assert_eq!(PageKind::of(path), PageKind::WidgetFrame, "{path}");
        }
        for path in ["/widget.js", "/widget/app.js", "/widget/", "/demo/frame.html", "/widgets/frame.html"] {
            assert_eq!(PageKind::of(path), PageKind::Other, "{path}");
        }
    }

    #[test]
    fn a_page_is_known_however_its_path_is_spelled() {
        for path in ["/%61gent/", "//agent/", "//admin/index.html", "/demo/../agent/", "/%41GENT/"] {
            assert_eq!(PageKind::of(path), PageKind::Staff, "{path}");
        }
        for path in
            ["/widget/frame%2ehtml", "//widget/frame.html", "/%77idget/frame.html", "/x/../widget/frame.html"]
        {
            assert_eq!(PageKind::of(path), PageKind::WidgetFrame, "{path}");
        }
    }

    #[test]
    fn the_frame_may_be_framed_by_this_server_and_the_allowed_sites_only() {
        let two = AllowedOrigins::parse(&["https://a.example".into(), "http://b.example:8080".into()])
            .expect("valid");
        let policy = frame_page_csp(&two, &[]);
        assert!(
            policy.contains("; frame-ancestors 'self' https://a.example http://b.example:8080; "),
            "{policy}"
        );
        assert!(frame_page_csp(&AllowedOrigins::Any, &[]).contains("; frame-ancestors *; "));
        assert_eq!(
            frame_page_csp(&AllowedOrigins::default(), &[]),
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'; \
             object-src 'none'"
        );
    }

    #[test]
    fn the_registered_sites_may_frame_it_too_each_origin_once() {
        let one = AllowedOrigins::parse(&["https://a.example".into()]).expect("valid");
        let sites = [
            Origin::parse("https://a.example", "o").expect("o"),
            Origin::parse("https://s.example", "o").expect("o"),
        ];
        let policy = frame_page_csp(&one, &sites);
        assert!(
            policy.contains("; frame-ancestors 'self' https://a.example https://s.example; "),
            "{policy}"
        );
    }
}
