//! How large a request body may be: at least large enough for every body the documented field
//! limits allow, in every content type, however the client writes it. Field limits count
//! characters (Unicode scalar values); the longest way to write one character is 12 bytes in
//! each content type — in JSON a character outside the BMP as a surrogate pair of `\uXXXX`
//! escapes, in a form its 4 UTF-8 bytes as `%XX` each — so a 4,000-character message may take
//! 48,000 bytes. `server.max_body_bytes = 0` (the default) is [`smallest_limit`]; a smaller
//! non-zero value is refused at startup.

use super::prechat;
use crate::config::Settings;
use crate::domain::{
    ClientMsgId, ContactName, Email, EmployeeId, Greeting, KeyName, Origin, RatingComment, Scope, SiteName,
    SiteOrigins, MAX_BAN_REASON_CHARS, MAX_SECRET_CHARS, MAX_SHORTCUT_CHARS, MAX_TITLE_CHARS, MAX_URL_CHARS,
    WEBHOOK_EVENT_TYPES,
};
use crate::service::agents::{MAX_AGENT_NAME_CHARS, MAX_PASSWORD_CHARS};
use crate::service::auth::TOKEN_CHARS;
use crate::service::identity::MAX_IDENTITY_CHARS;
use crate::service::offline_messages::MAX_OFFLINE_BODY_CHARS;
use crate::service::visitors::MAX_VISITOR_NAME_CHARS;

/// Bytes one character of free text may take written the longest way (see the module doc).
const TEXT_BYTES_PER_CHAR: usize = 12;
/// Bytes one character of an ASCII-only value (ids, tokens, numbers, origins) may take: `\u00XX`
/// in JSON (a form's `%XX` is 3).
const ASCII_BYTES_PER_CHAR: usize = 6;
/// Whitespace between JSON tokens, as a pretty-printer adds: a newline and an indent per field,
/// many times over.
const WHITESPACE_ALLOWANCE: usize = 1024;

/// A UUID's length.
const UUID_CHARS: usize = 36;
/// The longest whole number in a body: an `i64` with its sign.
const INTEGER_CHARS: usize = 20;
/// The longest IP address text (IPv6 with an embedded IPv4).
const IP_CHARS: usize = 45;

/// What a body field may hold, at its longest.
#[derive(Debug, Clone, Copy)]
enum Value {
    /// Free text of at most this many characters.
    Text(usize),
    /// ASCII of at most this many characters.
    Ascii(usize),
}

impl Value {
    /// The field written the longest way as JSON (`"name":value,` with every character of the
    /// name and of a string value escaped) and as a form (`name=value&`, every byte `%XX`).
    fn longest(self, name: &str) -> (usize, usize) {
        let (json_value, form_value) = match self {
            Value::Text(chars) => (2 + chars * TEXT_BYTES_PER_CHAR, chars * TEXT_BYTES_PER_CHAR),
            Value::Ascii(chars) => (2 + chars * ASCII_BYTES_PER_CHAR, chars * 3),
        };
        let json = 2 + name.len() * ASCII_BYTES_PER_CHAR + 1 + json_value + 1;
        let form = name.len() * 3 + 1 + form_value + 1;
        (json, form)
    }
}

/// Every route that reads a body, with its documented fields at their longest (docs/api.md);
/// `token` is in every body whose route takes one.
fn documented_bodies(max_message_chars: usize) -> Vec<(&'static str, Vec<(&'static str, Value)>)> {
    use Value::{Ascii, Text};
    let token = ("token", Ascii(TOKEN_CHARS));
    let uuid = Ascii(UUID_CHARS);
    let integer = Ascii(INTEGER_CHARS);
    let boolean = Ascii("false".len());
    let lang = Ascii("en".len());
    let page = [
        ("page_url", Text(MAX_URL_CHARS)),
        ("page_title", Text(MAX_TITLE_CHARS)),
        ("referrer", Text(MAX_URL_CHARS)),
    ];
    let agent = [
        ("employee_id", Ascii(EmployeeId::MAX_CHARS)),
        ("name", Text(MAX_AGENT_NAME_CHARS)),
        ("password", Text(MAX_PASSWORD_CHARS)),
    ];
    let token_only = || vec![token];
    // A site as an admin describes it: every origin at its longest, as a JSON list.
    let site = vec![
        token,
        ("name", Text(SiteName::MAX_CHARS)),
        ("origins", Ascii(2 + SiteOrigins::MAX * (Origin::MAX_LEN + 4))),
        ("greeting", Text(Greeting::MAX_CHARS)),
        ("color", Ascii("#rrggbb".len())),
        ("default_lang", lang),
        ("require_verified", boolean),
    ];
    // Every event type once, as an array (`"a","b"`: three characters more per name than the
    // names alone) or comma-separated; `*` is shorter.
    let webhook_events = ("events", Ascii(WEBHOOK_EVENT_TYPES.iter().map(|(name, _)| name.len() + 3).sum()));
    // Every scope once, as a JSON list (`["events:read", …]`: quotes, comma and space each).
    let scopes = Ascii(2 + Scope::ALL.iter().map(|scope| scope.as_str().len() + 4).sum::<usize>());
    vec![
        (
            "/send",
            vec![
                token,
                ("chat_id", uuid),
                ("client_msg_id", Ascii(ClientMsgId::MAX_CHARS)),
                ("body", Text(max_message_chars)),
                // A tab id has the alphabet and length of a client_msg_id.
                ("tab", Ascii(ClientMsgId::MAX_CHARS)),
            ],
        ),
        (
            "/api/visitors",
            [
                ("name", Text(MAX_VISITOR_NAME_CHARS)),
                ("embed_origin", Ascii(Origin::MAX_LEN)),
                ("site_id", uuid),
                // A JWT is base64url and dots: ASCII.
                ("identity", Ascii(MAX_IDENTITY_CHARS)),
            ]
            .into_iter()
            .chain(page)
            .collect(),
        ),
        ("/api/visitors/page", [token].into_iter().chain(page).collect()),
        ("/api/agent/login", vec![agent[0], agent[2]]),
        ("/api/agent/logout", token_only()),
        ("/api/agent/status", vec![token, ("status", Ascii("online".len()))]),
        // `prechat` at its longest is a form body's JSON text of the answers (a JSON body's
        // object of at most `PrechatAnswers::MAX_TOTAL_CHARS` characters of answers is shorter).
        (
            "/api/chats",
            vec![token, ("agent_id", uuid), ("lang", lang), ("prechat", Text(prechat::MAX_JSON_TEXT_CHARS))],
        ),
        ("/api/chats/invite", vec![token, ("visitor_id", uuid)]),
        ("/api/chats/{chat_id}/transfer", vec![token, ("agent_id", uuid)]),
        ("/api/chats/{chat_id}/close", token_only()),
        ("/api/chats/{chat_id}/typing", vec![token, ("typing", boolean)]),
        ("/api/chats/{chat_id}/read", vec![token, ("seq", integer)]),
        (
            "/api/chats/{chat_id}/rating",
            vec![token, ("score", integer), ("comment", Text(RatingComment::MAX_CHARS))],
        ),
        (
            "/api/offline-messages",
            vec![
                token,
                ("name", Text(ContactName::MAX_CHARS)),
                ("email", Text(Email::MAX_CHARS)),
                ("body", Text(MAX_OFFLINE_BODY_CHARS)),
                ("lang", lang),
            ],
        ),
        ("/api/offline-messages/{offline_id}/answer", vec![token, ("body", Text(MAX_OFFLINE_BODY_CHARS))]),
        (
            "/api/chats/{chat_id}/transcript/email",
            vec![token, ("email", Text(Email::MAX_CHARS)), ("lang", lang)],
        ),
        ("/api/admin/email", vec![token, ("visitor_email", boolean)]),
        ("/api/admin/announcements", vec![token, ("body", Text(max_message_chars))]),
        (
            "/api/admin/agents",
            [token, ("max_chats", integer), ("role", Ascii("agent".len()))]
                .into_iter()
                .chain(agent)
                .collect(),
        ),
        ("/api/admin/agents/{employee_id}", vec![token, agent[1], ("max_chats", integer)]),
        ("/api/admin/agents/{employee_id}/disable", token_only()),
        ("/api/admin/agents/{employee_id}/enable", token_only()),
        ("/api/admin/agents/{employee_id}/password", vec![token, agent[2]]),
        (
            "/api/bans",
            vec![
                token,
                ("visitor_id", uuid),
                ("ip", Ascii(IP_CHARS)),
                ("include_ip", boolean),
                ("reason", Text(MAX_BAN_REASON_CHARS)),
                ("duration_mins", integer),
            ],
        ),
        ("/api/bans/{ban_id}/lift", token_only()),
        (
            "/api/canned",
            vec![
                token,
                ("scope", Ascii("personal".len())),
                ("shortcut", Ascii(MAX_SHORTCUT_CHARS)),
                ("body", Text(max_message_chars)),
            ],
        ),
        ("/api/canned/import", vec![token, ("body", Text(max_message_chars))]),
        (
            "/api/canned/{canned_id}",
            vec![token, ("shortcut", Ascii(MAX_SHORTCUT_CHARS)), ("body", Text(max_message_chars))],
        ),
        ("/api/canned/{canned_id}/delete", token_only()),
        (
            "/api/admin/webhooks",
            vec![token, ("url", Text(MAX_URL_CHARS)), webhook_events, ("secret", Ascii(MAX_SECRET_CHARS))],
        ),
        (
            "/api/admin/webhooks/{webhook_id}",
            vec![token, ("url", Text(MAX_URL_CHARS)), webhook_events, ("secret", Ascii(MAX_SECRET_CHARS))],
        ),
        ("/api/admin/webhooks/{webhook_id}/delete", token_only()),
        ("/api/admin/webhooks/{webhook_id}/enable", token_only()),
        ("/api/admin/webhooks/{webhook_id}/disable", token_only()),
        ("/api/admin/webhooks/{webhook_id}/deliveries/{event_id}/resend", token_only()),
        ("/api/admin/integration-keys", vec![token, ("name", Text(KeyName::MAX_CHARS)), ("scopes", scopes)]),
        ("/api/admin/integration-keys/{key_id}/revoke", token_only()),
        ("/api/admin/sites", site.clone()),
        ("/api/admin/sites/{site_id}", site.clone()),
        ("/api/admin/sites/{site_id}/secret", token_only()),
        ("/api/admin/sites/{site_id}/delete", token_only()),
        ("/api/admin/visitors/{visitor_id}/erase", token_only()),
        ("/api/admin/customers/erase", token_only()),
        // Likewise `fields`: a JSON list of at most `PrechatForm::MAX_TEXT_CHARS` characters of
        // labels and options, or a form body's JSON text.
        (
            "/api/admin/sites/{site_id}/prechat-form",
            vec![token, ("fields", Text(prechat::MAX_JSON_TEXT_CHARS))],
        ),
        ("/api/setup", agent.to_vec()),
    ]
}

/// The longest body of `fields`, written the longest way its content types allow.
fn longest_body(fields: &[(&'static str, Value)]) -> usize {
    let (json, form) = fields.iter().fold((2, 0), |(json, form), (name, value)| {
        let (field_json, field_form) = value.longest(name);
        (json + field_json, form + field_form)
    });
    json.max(form) + WHITESPACE_ALLOWANCE
}

/// The smallest body limit that admits every documented body in every content type, with
/// messages of up to `max_message_chars` characters.
pub fn smallest_limit(max_message_chars: usize) -> usize {
    documented_bodies(max_message_chars).iter().map(|(_, fields)| longest_body(fields)).max().unwrap_or(0)
}

/// The body limit `settings` ask for: `server.max_body_bytes`, or [`smallest_limit`] when it is
/// 0; an error naming both when it is below [`smallest_limit`].
pub fn resolve(settings: &Settings) -> Result<usize, String> {
    let chars = settings.chat.max_message_chars;
    let smallest = smallest_limit(chars);
    match settings.server.max_body_bytes {
        0 => Ok(smallest),
        bytes if bytes < smallest => Err(format!(
            "server.max_body_bytes = {bytes} is below {smallest}, the smallest that admits every request \
             body the field limits allow (with chat.max_message_chars = {chars}); raise it, or set 0 for \
             exactly that"
        )),
        bytes => Ok(bytes),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_route_that_reads_a_body_is_counted() {
        let posts: BTreeSet<&str> =
            crate::http::api_routes().iter().filter(|r| r.method == "post").map(|r| r.path).collect();
        let counted: BTreeSet<&str> = documented_bodies(4000).iter().map(|(path, _)| *path).collect();
        assert_eq!(counted, posts);
    }

    #[test]
    fn the_default_admits_the_longest_page_report_and_follows_the_message_limit() {
        // The visitor's page fields (2048 + 512 + 2048 characters, a name, an origin, a site and
        // an identity token) make the longest body until messages pass 5,751 characters.
        assert_eq!(smallest_limit(4000), 71_508);
        assert_eq!(smallest_limit(0), 71_508);
        let send = |chars: usize| 2 + 34 + 46 + 82 + 28 + 260 + 218 + 386 + 2 + chars * 12 + 408 + 1024;
        assert_eq!(smallest_limit(10_000), send(10_000));
        assert!(smallest_limit(4000) >= send(4000));
    }

    #[test]
    fn the_documented_default_is_the_one_computed() {
        for (file, text) in [
            ("config.toml", include_str!("../../config.toml")),
            ("docs/api.md", include_str!("../../docs/api.md")),
        ] {
            assert!(text.contains("71,508 bytes"), "{file} quotes the default body limit");
        }
    }

    #[test]
    fn zero_is_the_smallest_limit_and_a_value_below_it_is_refused_by_name() {
        let mut settings = Settings::default();
        assert_eq!(settings.server.max_body_bytes, 0);
        assert_eq!(resolve(&settings), Ok(71_508));
        settings.server.max_body_bytes = 16_384;
        let error = resolve(&settings).expect_err("below the smallest");
        assert!(error.contains("server.max_body_bytes = 16384") && error.contains("71508"), "{error}");
        settings.server.max_body_bytes = 1 << 20;
        assert_eq!(resolve(&settings), Ok(1 << 20));
        settings.chat.max_message_chars = 100_000;
        assert!(resolve(&settings).is_err(), "a larger message limit needs a larger body limit");
    }

    #[test]
    fn a_field_written_the_longest_way_is_counted_exactly() {
        // `"body":"😀"` with every character escaped, then a comma.
        let written = format!("\"{}\":\"\\ud83d\\ude00\",", "\\u0062\\u006f\\u0064\\u0079");
        assert_eq!(Value::Text(1).longest("body").0, written.len());
        // `body=%F0%9F%98%80&`
        assert_eq!(Value::Text(1).longest("body").1, "%62%6F%64%79=%F0%9F%98%80&".len());
    }
}
