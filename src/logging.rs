//! Log output. Every line, of any target and level (actix's and the other crates' too), is
//! written by one formatter that first passes its text through [`redact::redact`], so a token
//! never reaches the log however it travelled. `[log] format` picks the shape: `text` (one
//! readable line) or `json` (one JSON object a line, with the structured fields of the access
//! log as fields of their own). `RUST_LOG` picks what is logged (default `info`).

pub mod redact;
pub mod request;

use std::io::Write;

use log::kv::{Key, Value, VisitSource, VisitValue};

use crate::config::{LogFormat, LogSettings};

/// Installs the logger for this process; a second call changes nothing (tests start many
/// servers in one process).
pub fn init(settings: &LogSettings) {
    let format = settings.format;
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format(move |out, record| {
            let timestamp = out.timestamp_millis().to_string();
            let line = match format {
                LogFormat::Text => text_line(&timestamp, record),
                LogFormat::Json => json_line(&timestamp, record),
            };
            writeln!(out, "{line}")
        })
        .try_init();
}

/// `2026-01-01T00:00:00.000Z INFO  target: message key=value …`, redacted.
pub fn text_line(timestamp: &str, record: &log::Record<'_>) -> String {
    let mut line = format!("{timestamp} {:<5} {}: {}", record.level(), record.target(), record.args());
    let mut fields = Fields::default();
    let _ = record.key_values().visit(&mut fields);
    for (key, value) in fields.0 {
        match value {
            serde_json::Value::String(text) => line.push_str(&format!(" {key}={text}")),
            other => line.push_str(&format!(" {key}={other}")),
        }
    }
    redact::redact(&line).into_owned()
}

/// `{"ts":…,"level":…,"target":…,"msg":…, key: value …}`, every text redacted.
pub fn json_line(timestamp: &str, record: &log::Record<'_>) -> String {
    let mut object = serde_json::Map::new();
    object.insert("ts".into(), timestamp.into());
    object.insert("level".into(), record.level().as_str().into());
    object.insert("target".into(), record.target().into());
    object.insert("msg".into(), redact::redact(&record.args().to_string()).into_owned().into());
    let mut fields = Fields::default();
    let _ = record.key_values().visit(&mut fields);
    for (key, value) in fields.0 {
        let value = match value {
            serde_json::Value::String(text) => redact::redact(&text).into_owned().into(),
            other => other,
        };
        // A field never hides the line's own keys.
        object.entry(key).or_insert(value);
    }
    serde_json::Value::Object(object).to_string()
}

/// A record's key-values, in order, as JSON values.
#[derive(Default)]
struct Fields(Vec<(String, serde_json::Value)>);

impl<'kvs> VisitSource<'kvs> for Fields {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), log::kv::Error> {
        let mut json = Json(serde_json::Value::Null);
        value.visit(&mut json)?;
        self.0.push((key.as_str().to_string(), json.0));
        Ok(())
    }
}

/// One value as JSON: numbers and booleans as such, anything else as its text.
struct Json(serde_json::Value);

impl<'v> VisitValue<'v> for Json {
    fn visit_any(&mut self, value: Value<'_>) -> Result<(), log::kv::Error> {
        self.0 = value.to_string().into();
        Ok(())
    }

    fn visit_u64(&mut self, value: u64) -> Result<(), log::kv::Error> {
        self.0 = value.into();
        Ok(())
    }

    fn visit_i64(&mut self, value: i64) -> Result<(), log::kv::Error> {
        self.0 = value.into();
        Ok(())
    }

    fn visit_f64(&mut self, value: f64) -> Result<(), log::kv::Error> {
        self.0 = value.into();
        Ok(())
    }

    fn visit_bool(&mut self, value: bool) -> Result<(), log::kv::Error> {
        self.0 = value.into();
        Ok(())
    }

    fn visit_str(&mut self, value: &str) -> Result<(), log::kv::Error> {
        self.0 = value.into();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "c2VjcmV0LXRva2VuLXZhbHVlLXRoYXQtbXVzdC1oaWRl";

    fn record_line(format: LogFormat, secret_in_field: bool) -> String {
        let query = format!("/poll?token={SECRET}");
        let kvs: [(&str, Value<'_>); 3] = [
            ("status", Value::from(200u16)),
            ("path", Value::from(if secret_in_field { query.as_str() } else { "/poll" })),
            ("ok", Value::from(true)),
        ];
        let args = format_args!("GET {query}");
        let record = log::Record::builder()
            .args(args)
            .level(log::Level::Info)
            .target("actix_http::h1")
            .key_values(&kvs)
            .build();
        match format {
            LogFormat::Text => text_line("2026-01-01T00:00:00.000Z", &record),
            LogFormat::Json => json_line("2026-01-01T00:00:00.000Z", &record),
        }
    }

    #[test]
    fn a_text_line_carries_its_fields_and_no_token() {
        let line = record_line(LogFormat::Text, true);
        assert!(!line.contains(SECRET), "{line}");
        assert!(
            line.starts_with("2026-01-01T00:00:00.000Z INFO  actix_http::h1: GET /poll?token="),
            "{line}"
        );
        assert!(line.ends_with("status=200 path=/poll?token=[redacted] ok=true"), "{line}");
    }

    #[test]
    fn a_json_line_is_one_object_with_typed_fields_and_no_token() {
        let line = record_line(LogFormat::Json, true);
        assert!(!line.contains(SECRET), "{line}");
        let object: serde_json::Value = serde_json::from_str(&line).expect("one JSON object");
        assert_eq!(object["level"], "INFO");
        assert_eq!(object["target"], "actix_http::h1");
        assert_eq!(object["status"], 200);
        assert_eq!(object["ok"], true);
        assert_eq!(object["msg"], "GET /poll?token=[redacted]");
        assert_eq!(object["path"], "/poll?token=[redacted]");
        let clean = record_line(LogFormat::Json, false);
        let object: serde_json::Value = serde_json::from_str(&clean).expect("one JSON object");
        assert_eq!(object["path"], "/poll");
    }
}
