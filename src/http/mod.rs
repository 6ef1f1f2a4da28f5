//! The HTTP edge: parse the request, call the service, shape the response. No rules here.
//! Every error answer is an [`error::ApiError`] in the one envelope.
//! Each API module declares its routes once with `routes!`, which gives it both `config(cfg)`
//! (what actix serves) and `ROUTES` (what [`api_routes`] lists, and what the test holding
//! `docs/openapi.json` to the router reads); [`configure`] chains them.

/// Declares a module's routes once: `"/path" => { get: handler, post: other }, …`. Expands to
/// `pub fn config(cfg)`, which registers them, and `pub const ROUTES`, which lists them.
macro_rules! routes {
    ($($path:literal => { $($method:ident: $handler:expr),+ $(,)? }),+ $(,)?) => {
        /// This module's routes, as `config` registers them.
        pub const ROUTES: &[crate::http::Route] =
            &[$($(crate::http::Route { method: stringify!($method), path: $path }),+),+];

        /// Registers this module's routes.
        pub fn config(cfg: &mut actix_web::web::ServiceConfig) {
            $(cfg.service(actix_web::web::resource($path)$(.route(actix_web::web::$method().to($handler)))+);)+
        }
    };
}

/// Lists the API modules once: [`configure`] registers them in this order and [`api_routes`]
/// lists their routes, so the two cannot disagree.
macro_rules! api_modules {
    ($($module:ident),+ $(,)?) => {
        fn configure_api(cfg: &mut web::ServiceConfig) {
            $(cfg.configure($module::config);)+
        }

        /// Every API route (method in lower case, path template as in `docs/openapi.json`); the
        /// front ends of `pages` are not API routes.
        pub fn api_routes() -> Vec<Route> {
            [$($module::ROUTES),+].concat()
        }
    };
}

mod admin;
mod agents;
mod announcements;
mod auth;
mod bans;
mod body;
pub mod body_limit;
mod canned_replies;
mod chat_views;
mod chats;
pub mod client_ip;
mod data_rights;
mod email;
pub mod error;
mod events;
mod integration_keys;
mod offline_messages;
mod openapi;
mod ops;
pub mod own_origin;
mod pages;
mod poll;
pub mod prechat;
mod query;
mod ratings;
mod send;
mod setup;
mod sites;
mod strict_json;
mod transcripts;
mod visitor_me;
mod visitors;
mod webhooks;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, ResponseError};

use crate::http::error::ApiError;

pub use pages::FrontEnds;
pub use poll::hold_for;

/// One API route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Route {
    /// `get` or `post`.
    pub method: &'static str,
    /// The path template, `{name}` for a path parameter.
    pub path: &'static str,
}

api_modules!(
    poll,
    send,
    visitors,
    agents,
    chats,
    announcements,
    ops,
    ratings,
    transcripts,
    offline_messages,
    email,
    admin,
    setup,
    chat_views,
    bans,
    canned_replies,
    webhooks,
    integration_keys,
    events,
    sites,
    prechat,
    data_rights,
    visitor_me,
    openapi,
);

/// Every route of the API, then the front ends.
pub fn configure(cfg: &mut web::ServiceConfig, front_ends: &FrontEnds) {
    cfg.configure(configure_api).configure(|cfg| pages::config(cfg, front_ends)).default_service(web::to(
        || async { Err::<actix_web::HttpResponse, _>(ApiError::route_not_found()) },
    ));
}

/// Turns every error answer that is not already our JSON envelope (actix's own 404/405, CORS
/// refusals, parser errors) into one, so clients only ever see one error shape.
pub fn error_envelope<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|response: ServiceResponse<B>| {
        let is_json = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        if is_json {
            return Ok(ErrorHandlerResponse::Response(response.map_into_left_body()));
        }
        let status = response.status();
        let error = match status {
            StatusCode::NOT_FOUND => ApiError::route_not_found(),
            StatusCode::METHOD_NOT_ALLOWED => {
                ApiError::new(status, "method_not_allowed", "This endpoint does not take that method.")
            }
            // actix-cors refuses a site outside `cors.allowed_origins` with a bare 400.
            StatusCode::BAD_REQUEST if response.request().headers().contains_key(header::ORIGIN) => {
                ApiError::origin_not_allowed()
            }
            StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(status, "payload_too_large", "The request is too large.")
            }
            s if s.is_client_error() => ApiError::new(status, "bad_request", "The request was refused."),
            _ => ApiError::new(status, "internal", "Something went wrong on our side."),
        };
        let (request, _) = response.into_parts();
        let rendered: actix_web::HttpResponse<BoxBody> = error.error_response();
        Ok(ErrorHandlerResponse::Response(ServiceResponse::new(request, rendered).map_into_right_body()))
    })
}
