//! Removes token values from log text: `token=…` (query strings and forms), `Bearer …`
//! (headers) and `"token":"…"` (JSON, escaped or not, and `token: "…"` in `Debug` output).
//! It errs on the side of hiding: any value after a `token` key goes, and so does anything
//! shaped like an integration key (`sbk_…`), whatever key it comes after.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// What a removed value is shown as.
pub const REDACTED: &str = "[redacted]";

/// A `token` key (any case, `access_token` too) with `=` or `:` after it and maybe quotes or
/// the backslashes of escaped JSON around them, then the value.
static TOKEN_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)(token(?:\\*["'])?\s*(?:=|:|%3D)\s*(?:\\*["'])?)[^"'\\&\s;,)}\]]+"#)
        .unwrap_or_else(|e| unreachable!("the token pattern is valid: {e}"))
});

/// An `Authorization` scheme and its credentials.
static BEARER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(bearer(?:\s|%20|\+)+)[^"'\\&\s;,)}\]]+"#)
        .unwrap_or_else(|e| unreachable!("the bearer pattern is valid: {e}"))
});

/// An integration key (`service::integration_keys`), wherever it is: `sbk_` and what follows.
static INTEGRATION_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(sbk_)[A-Za-z0-9_-]+")
        .unwrap_or_else(|e| unreachable!("the integration key pattern is valid: {e}"))
});

/// `text` with every token value replaced by [`REDACTED`]; borrowed when there was none.
pub fn redact(text: &str) -> Cow<'_, str> {
    // Nearly every line holds neither word: skip the patterns for those.
    let lower_has =
        |word: &str| text.as_bytes().windows(word.len()).any(|w| w.eq_ignore_ascii_case(word.as_bytes()));
    if !lower_has("token") && !lower_has("bearer") && !text.contains("sbk_") {
        return Cow::Borrowed(text);
    }
    let replacement = format!("${{1}}{REDACTED}");
    let text = match TOKEN_FIELD.replace_all(text, replacement.as_str()) {
        Cow::Borrowed(_) => Cow::Borrowed(text),
        Cow::Owned(owned) => Cow::Owned(owned),
    };
    let text = match INTEGRATION_KEY.replace_all(&text, replacement.as_str()) {
        Cow::Borrowed(_) => text,
        Cow::Owned(owned) => Cow::Owned(owned),
    };
    match BEARER.replace_all(&text, replacement.as_str()) {
        Cow::Borrowed(_) => text,
        Cow::Owned(owned) => Cow::Owned(owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "Zm9vYmFyLWJhei1zZWNyZXQtdG9rZW4tMTIzNDU2Nzg5";

    #[test]
    fn every_way_a_token_travels_is_hidden() {
        let lines = [
            format!("GET /poll?cursor=abc&token={SECRET}&timeout=25 HTTP/1.1"),
            format!("GET /poll?TOKEN={SECRET}"),
            format!("authorization: Bearer {SECRET}"),
            format!(r#"{{"authorization": "bearer {SECRET}"}}"#),
            format!(r#"{{"token":"{SECRET}","status":"away"}}"#),
            format!(r#"{{ "token" : "{SECRET}" }}"#),
            format!(r#"b"{{\"token\":\"{SECRET}\",\"body\":\"hi\"}}""#),
            format!("LoginOutcome {{ token: \"{SECRET}\" }}"),
            format!("token={SECRET}&status=away"),
            format!("access_token={SECRET}"),
            format!("?token%3D{SECRET}"),
            format!("Authorization: Bearer%20{SECRET}"),
        ];
        for line in lines {
            let redacted = redact(&line);
            assert!(!redacted.contains(SECRET), "{line} -> {redacted}");
            assert!(redacted.contains(REDACTED), "{line} -> {redacted}");
        }
    }

    #[test]
    fn an_integration_key_is_hidden_after_any_name() {
        let key = format!("sbk_{SECRET}");
        for line in [
            format!("GET /api/events?key={key}&timeout=25"),
            format!(r#"{{"secret":"{key}"}}"#),
            format!("authorization: Bearer {key}"),
        ] {
            let redacted = redact(&line);
            assert!(!redacted.contains(SECRET), "{line} -> {redacted}");
        }
        assert_eq!(redact(&format!("?key={key}&x=1")), format!("?key=sbk_{REDACTED}&x=1"));
    }

    #[test]
    fn the_rest_of_the_line_is_kept() {
        let line = format!("GET /poll?cursor=abc&token={SECRET}&timeout=25");
        assert_eq!(redact(&line), format!("GET /poll?cursor=abc&token={REDACTED}&timeout=25"));
        let json = format!(r#"{{"token":"{SECRET}","status":"away"}}"#);
        assert_eq!(redact(&json), format!(r#"{{"token":"{REDACTED}","status":"away"}}"#));
    }

    #[test]
    fn a_line_without_a_token_is_untouched_and_not_copied() {
        for line in ["listening on 127.0.0.1:8080", "tokens swept: 3", "POST /send 200"] {
            assert!(matches!(redact(line), Cow::Borrowed(same) if same == line), "{line}");
        }
    }
}
