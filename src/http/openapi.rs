//! `GET /openapi.json`: the OpenAPI document of every API route (docs/openapi.json), built into
//! the binary so that it always matches the server that serves it.

use actix_web::http::header;
use actix_web::HttpResponse;

/// The document, as written in docs/openapi.json.
pub const DOCUMENT: &str = include_str!("../../docs/openapi.json");

routes! {
    "/openapi.json" => { get: document },
}

async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .content_type("application/json")
        .body(DOCUMENT)
}

#[cfg(test)]
mod tests {
    use super::DOCUMENT;

    #[test]
    fn the_document_is_json_of_openapi_3() {
        let document: serde_json::Value = serde_json::from_str(DOCUMENT).expect("docs/openapi.json is JSON");
        assert_eq!(document["openapi"].as_str().map(|v| v.starts_with("3.")), Some(true));
        assert!(document["paths"]["/openapi.json"]["get"].is_object());
    }
}
