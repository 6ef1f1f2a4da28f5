//! Request bodies: read with a size cap, parsed by content type. `POST` bodies arrive as
//! `application/json`, as `text/plain` holding JSON (no CORS preflight; what `XDomainRequest`
//! sends) or as `application/x-www-form-urlencoded`. In all three a body means one thing or is
//! refused (`400 invalid_body`): its text is UTF-8 (a form's once percent-decoded), and no
//! field is given twice (a JSON key repeated in any object, a form field repeated).

use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;

use super::strict_json::UniqueKeys;
use crate::domain::InvalidInput;
use crate::http::error::ApiError;
use crate::service::Services;

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("The request body must be at most {limit} bytes."),
    )
}

/// 408 `body_timeout`: the body did not arrive within `limits.body_timeout_secs` (a client
/// trickling it byte by byte holds a connection and a worker's attention for nothing).
fn body_timeout() -> ApiError {
    crate::metrics::limit_hit("body_timeout");
    ApiError::new(StatusCode::REQUEST_TIMEOUT, "body_timeout", "The request body did not arrive in time.")
}

/// Reads the whole body, refusing it with 413 as soon as it passes `limit` bytes.
pub async fn read_limited(
    request: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, ApiError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large(limit));
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::invalid_body(format!("The request body could not be read: {e}.")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The fields of a request body, whatever its content type.
#[derive(Debug, Default)]
pub struct Fields {
    values: serde_json::Map<String, serde_json::Value>,
    /// True when the body was a form, whose values are all text (numbers and booleans too).
    from_form: bool,
}

impl Fields {
    /// Whether the body holds `field`, even as null (a change that clears it).
    pub fn has(&self, field: &str) -> bool {
        self.values.contains_key(field)
    }

    /// A string field; `None` when absent or null, 400 naming the field when not a string.
    pub fn text(&self, field: &'static str) -> Result<Option<&str>, ApiError> {
        match self.values.get(field) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(InvalidInput::new(field, "must be a string").into()),
        }
    }

    /// An integer field (a form sends it as text).
    pub fn integer(&self, field: &'static str) -> Result<Option<i64>, ApiError> {
        let invalid = || ApiError::from(InvalidInput::new(field, "must be an integer"));
        match self.values.get(field) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::Number(number)) => number.as_i64().map(Some).ok_or_else(invalid),
            Some(serde_json::Value::String(text)) if self.from_form => {
                text.trim().parse().map(Some).map_err(|_| invalid())
            }
            Some(_) => Err(invalid()),
        }
    }

    /// A boolean field (a form sends `true`/`false` as text).
    pub fn boolean(&self, field: &'static str) -> Result<Option<bool>, ApiError> {
        let invalid = || ApiError::from(InvalidInput::new(field, "must be true or false"));
        match self.values.get(field) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::Bool(value)) => Ok(Some(*value)),
            Some(serde_json::Value::String(text)) if self.from_form => {
                text.trim().parse().map(Some).map_err(|_| invalid())
            }
            Some(_) => Err(invalid()),
        }
    }

    /// A list of names: a JSON array of strings, or one string of names separated by commas
    /// (all a form can send); answered as the comma-separated text.
    pub fn names(&self, field: &'static str) -> Result<Option<String>, ApiError> {
        let invalid = || ApiError::from(InvalidInput::new(field, "must be a list of strings"));
        match self.values.get(field) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(text)) => Ok(Some(text.clone())),
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().filter(|name| !name.contains(',')).ok_or_else(invalid))
                .collect::<Result<Vec<_>, _>>()
                .map(|names| Some(names.join(","))),
            Some(_) => Err(invalid()),
        }
    }

    /// A list of words: a JSON array of strings, or one string of words separated by spaces
    /// (all a form can send); `None` when absent or null.
    pub fn words(&self, field: &'static str) -> Result<Option<Vec<&str>>, ApiError> {
        let invalid = || ApiError::from(InvalidInput::new(field, "must be an array of strings"));
        match self.values.get(field) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(text)) => Ok(Some(text.split_whitespace().collect())),
            Some(serde_json::Value::Array(items)) => {
                items.iter().map(|item| item.as_str().ok_or_else(invalid)).collect::<Result<_, _>>().map(Some)
            }
            Some(_) => Err(invalid()),
        }
    }

    /// A structured field: a JSON value of `json_type` (`"object"` or `"array"`) in a JSON body,
    /// or a JSON text of at most `max_text_chars` characters holding one (all a form can send; its
    /// keys must not repeat either); `None` when absent, null or, in a form, blank.
    pub fn json(
        &self,
        field: &'static str,
        json_type: &'static str,
        max_text_chars: usize,
    ) -> Result<Option<serde_json::Value>, ApiError> {
        let fits = |value: &serde_json::Value| match json_type {
            "object" => value.is_object(),
            _ => value.is_array(),
        };
        let invalid = || ApiError::from(InvalidInput::new(field, format!("must be a JSON {json_type}")));
        match self.values.get(field) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(text)) if self.from_form => {
                if text.trim().is_empty() {
                    return Ok(None);
                }
                if text.chars().count() > max_text_chars {
                    return Err(InvalidInput::new(
                        field,
                        format!("must be a JSON text of at most {max_text_chars} characters"),
                    )
                    .into());
                }
                match serde_json::from_str::<UniqueKeys>(text) {
                    Ok(UniqueKeys(value)) if fits(&value) => Ok(Some(value)),
                    _ => Err(invalid()),
                }
            }
            Some(value) if fits(value) => Ok(Some(value.clone())),
            Some(_) => Err(invalid()),
        }
    }

    /// A string field that must be there.
    pub fn required_text(&self, field: &'static str) -> Result<&str, ApiError> {
        self.text(field)?.ok_or_else(|| InvalidInput::new(field, "is required").into())
    }

    /// A whole-number field that must be there.
    pub fn required_integer(&self, field: &'static str) -> Result<i64, ApiError> {
        self.integer(field)?.ok_or_else(|| InvalidInput::new(field, "is required").into())
    }
}

/// Reads the size-capped body and parses it: the first step of every handler with a body.
pub async fn fields(
    services: &Services,
    request: &HttpRequest,
    payload: web::Payload,
) -> Result<Fields, ApiError> {
    let limit = services.settings.server.max_body_bytes;
    let bytes = match services.settings.limits.body_timeout_secs {
        0 => read_limited(request, payload, limit).await?,
        secs => tokio::time::timeout(Duration::from_secs(secs), read_limited(request, payload, limit))
            .await
            .map_err(|_| body_timeout())??,
    };
    parse(request, &bytes)
}

/// Parses `bytes` by the request's content type. An empty body is an empty set of fields, so
/// bodies whose fields are all optional may be left out.
pub fn parse(request: &HttpRequest, bytes: &[u8]) -> Result<Fields, ApiError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Fields::default());
    }
    // `curl -d '{...}'` labels JSON as a form; a form body never starts with `{`.
    let looks_like_json = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    match content_type.as_str() {
        "application/x-www-form-urlencoded" if !looks_like_json => {
            Ok(Fields { values: form_values(bytes)?, from_form: true })
        }
        "application/json" | "text/plain" | "" | "application/x-www-form-urlencoded" => {
            match serde_json::from_slice(bytes) {
                Ok(UniqueKeys(serde_json::Value::Object(values))) => Ok(Fields { values, from_form: false }),
                Ok(_) => Err(ApiError::invalid_body("The JSON body must be an object.")),
                Err(e) => Err(ApiError::invalid_body(format!("The JSON body is not valid: {e}."))),
            }
        }
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("Content type `{other}` is not accepted; send application/json, text/plain or a form."),
        )),
    }
}

/// A form's fields, read as the URL standard reads `application/x-www-form-urlencoded`
/// (`&`-separated `name=value`, `+` a space, `%XX` a byte), except that the decoded bytes must
/// be UTF-8 — as a JSON body's must — where the standard would put U+FFFD in their place, and
/// that a name given twice is refused rather than one of its values kept.
fn form_values(bytes: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    let decode = |part: &[u8]| {
        let spaced: Vec<u8> = part.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
        percent_encoding::percent_decode(&spaced).decode_utf8().map(|text| text.into_owned()).map_err(|_| {
            ApiError::invalid_body("The form body is not valid: its text is not UTF-8 once percent-decoded.")
        })
    };
    let mut values = serde_json::Map::new();
    for pair in bytes.split(|&b| b == b'&').filter(|pair| !pair.is_empty()) {
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &[][..]),
        };
        let name = decode(name)?;
        if values.contains_key(&name) {
            return Err(ApiError::invalid_body(format!(
                "The form body is not valid: the field `{name}` appears twice."
            )));
        }
        values.insert(name, serde_json::Value::String(decode(value)?));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn with_type(content_type: &str) -> HttpRequest {
        TestRequest::default().insert_header((header::CONTENT_TYPE, content_type)).to_http_request()
    }

    #[test]
    fn json_text_and_form_bodies_all_parse() {
        let json = parse(&with_type("application/json"), br#"{"a":"x","n":3}"#).expect("json");
        assert_eq!(json.text("a"), Ok(Some("x")));
        let text = parse(&with_type("text/plain;charset=UTF-8"), br#"{"a":"x"}"#).expect("text");
        assert_eq!(text.text("a"), Ok(Some("x")));
        let form = parse(&with_type("application/x-www-form-urlencoded"), b"a=x+y&n=4").expect("form");
        assert_eq!(form.text("a"), Ok(Some("x y")));
        let typed = parse(&with_type("application/x-www-form-urlencoded"), b"n=4&b=true").expect("form");
        assert_eq!((typed.integer("n"), typed.boolean("b")), (Ok(Some(4)), Ok(Some(true))));
        let json = parse(&with_type("application/json"), br#"{"n":"4","b":"true"}"#).expect("json");
        assert_eq!(json.integer("n").map_err(|e| e.field), Err(Some("n")));
        assert_eq!(json.boolean("b").map_err(|e| e.field), Err(Some("b")));
    }

    #[test]
    fn a_wrong_typed_field_is_a_400_that_names_it() {
        let fields = parse(&with_type("application/json"), br#"{"a":5,"n":"3"}"#).expect("json");
        let error = fields.text("a").expect_err("number is not text");
        assert_eq!((error.code, error.field), ("invalid_field", Some("a")));
        assert_eq!(fields.required_text("missing").expect_err("absent").code, "missing_field");
    }

    #[test]
    fn an_integer_is_a_json_number_or_form_text_and_nothing_else() {
        let json =
            parse(&with_type("application/json"), br#"{"n":3,"s":"3","f":2.5,"b":true}"#).expect("json");
        assert_eq!(json.integer("n"), Ok(Some(3)));
        assert_eq!(json.integer("absent"), Ok(None));
        for field in ["s", "f", "b"] {
            let error = json.integer(field).expect_err(field);
            assert_eq!((error.code, error.field), ("invalid_field", Some(field)));
        }
        let form = parse(&with_type("application/x-www-form-urlencoded"), b"n=4&x=four").expect("form");
        assert_eq!(form.integer("n"), Ok(Some(4)));
        assert_eq!(form.integer("x").expect_err("not a number").field, Some("x"));
    }

    #[test]
    fn a_broken_body_is_a_400_and_an_odd_content_type_a_415() {
        let broken = parse(&with_type("application/json"), b"{").expect_err("broken");
        assert_eq!((broken.status, broken.code), (StatusCode::BAD_REQUEST, "invalid_body"));
        let array = parse(&with_type("application/json"), b"[1]").expect_err("not an object");
        assert_eq!(array.code, "invalid_body");
        let curl_style =
            parse(&with_type("application/x-www-form-urlencoded"), br#"{"a":"x"}"#).expect("json in a form");
        assert_eq!(curl_style.text("a"), Ok(Some("x")));
        let odd = parse(&with_type("image/png"), b"x").expect_err("odd type");
        assert_eq!(odd.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    #[test]
    fn a_form_is_read_as_browsers_write_it() {
        let form = parse(&with_type("application/x-www-form-urlencoded"), b"a=x+y%2B%E5%AD%97&b&=e&&c=50%")
            .expect("form");
        assert_eq!(form.text("a"), Ok(Some("x y+字")));
        assert_eq!(form.text("b"), Ok(Some("")));
        assert_eq!(form.text(""), Ok(Some("e")));
        assert_eq!(form.text("c"), Ok(Some("50%")), "a stray % stays, as the URL standard says");
    }

    #[test]
    fn a_form_that_is_not_utf8_once_decoded_is_a_400_as_in_json() {
        for body in [&b"body=%FF%FE"[..], b"body=caf%C3", b"body=%ED%A0%80", b"body=\xff", b"%C3%28=x"] {
            let error = parse(&with_type("application/x-www-form-urlencoded"), body).expect_err("not UTF-8");
            assert_eq!((error.status, error.code), (StatusCode::BAD_REQUEST, "invalid_body"), "{body:?}");
        }
        let json = parse(&with_type("application/json"), b"{\"body\":\"\xff\xfe\"}").expect_err("not UTF-8");
        assert_eq!(json.code, "invalid_body");
        let replacement =
            parse(&with_type("application/x-www-form-urlencoded"), b"body=%EF%BF%BD").expect("UTF-8");
        assert_eq!(replacement.text("body"), Ok(Some("\u{fffd}")));
    }

    #[test]
    fn a_field_given_twice_is_a_400_in_every_content_type() {
        let bodies: [(&str, &[u8]); 5] = [
            ("application/json", br#"{"body":"one","body":"two"}"#),
            ("text/plain;charset=UTF-8", br#"{"body":"one","b\u006fdy":"two"}"#),
            ("application/json", br#"{"body":"one","x":{"k":1,"k":2}}"#),
            ("application/x-www-form-urlencoded", b"body=one&body=two"),
            ("application/x-www-form-urlencoded", b"body=one&b%6Fdy=two"),
        ];
        for (content_type, body) in bodies {
            let error = parse(&with_type(content_type), body).expect_err("repeated");
            assert_eq!(
                (error.status, error.code),
                (StatusCode::BAD_REQUEST, "invalid_body"),
                "{content_type}"
            );
            assert!(error.message.contains("appears twice"), "{}", error.message);
        }
    }

    #[test]
    fn integers_come_from_json_numbers_or_form_text() {
        let json =
            parse(&with_type("application/json"), br#"{"n":4,"s":"4","f":4.5,"z":null}"#).expect("json");
        assert_eq!(json.integer("n"), Ok(Some(4)));
        assert_eq!(json.integer("z"), Ok(None));
        assert_eq!(json.integer("absent"), Ok(None));
        for field in ["s", "f"] {
            let error = json.integer(field).expect_err("not a JSON integer");
            assert_eq!((error.code, error.field), ("invalid_field", Some(field)));
        }
        assert_eq!(json.required_integer("absent").expect_err("absent").code, "missing_field");

        let form = parse(&with_type("application/x-www-form-urlencoded"), b"n=5&bad=five").expect("form");
        assert_eq!(form.integer("n"), Ok(Some(5)));
        assert_eq!(form.integer("bad").expect_err("not a number").field, Some("bad"));
        let curl_style =
            parse(&with_type("application/x-www-form-urlencoded"), br#"{"n":"5"}"#).expect("json in a form");
        assert!(curl_style.integer("n").is_err(), "JSON text is not a number, whatever the label");
    }
}

#[cfg(test)]
mod proptests {
    use std::collections::BTreeMap;
    use std::pin::Pin;

    use actix_web::error::PayloadError;
    use actix_web::test::TestRequest;
    use actix_web::FromRequest;
    use proptest::prelude::*;

    use super::*;

    const CONTENT_TYPES: [&str; 3] =
        ["application/json", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded"];

    fn with_type(content_type: &str) -> HttpRequest {
        TestRequest::default().insert_header((header::CONTENT_TYPE, content_type)).to_http_request()
    }

    /// One field's value, as a client means it.
    #[derive(Debug, Clone)]
    enum Value {
        Text(String),
        Integer(i64),
        Boolean(bool),
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<String>().prop_map(Value::Text),
            any::<i64>().prop_map(Value::Integer),
            any::<bool>().prop_map(Value::Boolean),
        ]
    }

    /// Field names: any text, our real names among them.
    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec!["token", "body", "chat_id", "score", "limit"]).prop_map(String::from),
            any::<String>(),
        ]
    }

    fn as_json(fields: &BTreeMap<String, Value>) -> Vec<u8> {
        let object: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    Value::Text(text) => serde_json::Value::from(text.as_str()),
                    Value::Integer(n) => serde_json::Value::from(*n),
                    Value::Boolean(b) => serde_json::Value::from(*b),
                };
                (name.clone(), value)
            })
            .collect();
        serde_json::to_vec(&object).expect("a map serialises")
    }

    /// What an HTML form sends: every value as text.
    fn as_form(fields: &BTreeMap<String, Value>) -> Vec<u8> {
        let pairs: Vec<(&str, String)> = fields
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    Value::Text(text) => text.clone(),
                    Value::Integer(n) => n.to_string(),
                    Value::Boolean(b) => b.to_string(),
                };
                (name.as_str(), value)
            })
            .collect();
        serde_urlencoded::to_string(pairs).expect("pairs serialise").into_bytes()
    }

    /// Leaked because `Fields` takes `&'static str` names (they are literals in handlers).
    fn leak(name: &str) -> &'static str {
        Box::leak(name.to_string().into_boxed_str())
    }

    fn check_error(error: &ApiError) -> Result<(), TestCaseError> {
        let expected = [
            (StatusCode::BAD_REQUEST, "invalid_body"),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        ];
        prop_assert!(expected.contains(&(error.status, error.code)), "{error:?}");
        Ok(())
    }

    fn run<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().build().expect("runtime").block_on(future)
    }

    /// `read_limited` over `body` cut into `chunks`, with or without a declared length.
    fn read(body: &[u8], chunks: usize, declare: bool, limit: usize) -> Result<web::Bytes, ApiError> {
        let mut request = TestRequest::default();
        if declare {
            request = request.insert_header((header::CONTENT_LENGTH, body.len().to_string()));
        }
        let request = request.to_http_request();
        let size = body.len().div_ceil(chunks.max(1)).max(1);
        let parts: Vec<Result<web::Bytes, PayloadError>> =
            body.chunks(size).map(|chunk| Ok(web::Bytes::copy_from_slice(chunk))).collect();
        let stream: Pin<Box<dyn futures_util::Stream<Item = Result<web::Bytes, PayloadError>>>> =
            Box::pin(futures_util::stream::iter(parts));
        let mut payload = actix_web::dev::Payload::from(stream);
        run(async {
            let payload = web::Payload::from_request(&request, &mut payload).await.expect("payload");
            read_limited(&request, payload, limit).await
        })
    }

    proptest! {
        #[test]
        fn any_bytes_of_any_content_type_parse_or_are_a_clean_error(
            bytes in prop::collection::vec(any::<u8>(), 0..300),
            content_type in prop_oneof![prop::sample::select(CONTENT_TYPES.to_vec()).prop_map(String::from),
                                        "[ -~]{0,40}"],
        ) {
            let request = TestRequest::default()
                .insert_header((header::CONTENT_TYPE, content_type.as_str()))
                .to_http_request();
            match parse(&request, &bytes) {
                Ok(fields) => {
                    // Whatever parsed answers every accessor with a value or a 400 naming it.
                    for error in [fields.text("a").err(), fields.integer("a").err(), fields.boolean("a").err()]
                        .into_iter()
                        .flatten()
                    {
                        prop_assert_eq!(error.field, Some("a"));
                    }
                }
                Err(error) => check_error(&error)?,
            }
        }

        #[test]
        fn json_like_bytes_never_panic(text in r#"[{}\[\]":,a-z0-9\\ .eE+-]{0,80}"#) {
            for content_type in CONTENT_TYPES {
                if let Err(error) = parse(&with_type(content_type), text.as_bytes()) {
                    check_error(&error)?;
                }
            }
        }

        #[test]
        fn the_same_fields_read_the_same_in_all_three_content_types(
            fields in prop::collection::btree_map(name(), value(), 0..6),
        ) {
            let json = as_json(&fields);
            let form = as_form(&fields);
            let parsed = [
                parse(&with_type(CONTENT_TYPES[0]), &json).expect("JSON parses"),
                parse(&with_type(CONTENT_TYPES[1]), &json).expect("text/plain JSON parses"),
                parse(&with_type(CONTENT_TYPES[2]), &form).expect("form parses"),
            ];
            for (name, value) in &fields {
                let field = leak(name);
                for (kind, body) in CONTENT_TYPES.iter().zip(&parsed) {
                    match value {
                        Value::Text(text) => {
                            prop_assert_eq!(body.text(field), Ok(Some(text.as_str())), "{}", kind);
                            prop_assert_eq!(body.required_text(field), Ok(text.as_str()), "{}", kind);
                        }
                        Value::Integer(n) => {
                            prop_assert_eq!(body.integer(field), Ok(Some(*n)), "{}", kind);
                            prop_assert_eq!(body.required_integer(field), Ok(*n), "{}", kind);
                        }
                        Value::Boolean(b) => prop_assert_eq!(body.boolean(field), Ok(Some(*b)), "{}", kind),
                    }
                }
            }
            // A field that is not there is absent in every encoding alike.
            let missing = "\u{0}not a field";
            for body in &parsed {
                prop_assert_eq!(body.text(missing), Ok(None));
                prop_assert_eq!(body.required_text(missing).map_err(|e| (e.code, e.field)),
                                Err(("missing_field", Some(missing))));
            }
        }

        #[test]
        fn a_number_out_of_range_is_refused_alike_in_json_and_forms(n in (i64::MAX as u64 + 1)..=u64::MAX) {
            let json = format!(r#"{{"n":{n}}}"#);
            let form = format!("n={n}");
            let from_json = parse(&with_type("application/json"), json.as_bytes()).expect("json");
            let from_form = parse(&with_type("application/x-www-form-urlencoded"), form.as_bytes()).expect("form");
            for body in [from_json, from_form] {
                let error = body.integer("n").expect_err("too big for an i64");
                prop_assert_eq!((error.code, error.field), ("invalid_field", Some("n")));
            }
        }

        #[test]
        fn a_body_over_the_limit_is_a_413_and_one_within_it_arrives_whole(
            body in prop::collection::vec(any::<u8>(), 0..600),
            limit in 0usize..600,
            chunks in 1usize..8,
            declare in any::<bool>(),
        ) {
            match read(&body, chunks, declare, limit) {
                Ok(read) => {
                    prop_assert!(body.len() <= limit);
                    prop_assert_eq!(&read[..], &body[..]);
                }
                Err(error) => {
                    prop_assert!(body.len() > limit, "{} bytes within {} refused: {:?}", body.len(), limit, error);
                    prop_assert_eq!((error.status, error.code), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));
                }
            }
        }
    }
}
