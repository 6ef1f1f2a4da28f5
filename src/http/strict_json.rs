//! JSON read the way `serde_json::Value` reads it, except that an object naming a key twice is
//! an error, at any depth. `serde_json::Value` keeps the last of two equal keys, so a proxy or a
//! log reading the first would see another request than the one the server acted on.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A JSON value in which no object repeats a key; deserialize it with `serde_json::from_slice`.
#[derive(Debug, Clone, PartialEq)]
pub struct UniqueKeys(pub Value);

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueKeysVisitor).map(UniqueKeys)
    }
}

struct UniqueKeysVisitor;

impl<'de> Visitor<'de> for UniqueKeysVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        // JSON has no NaN or infinity, so every number it holds is finite.
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_string()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut values = Vec::new();
        while let Some(UniqueKeys(value)) = seq.next_element()? {
            values.push(value);
        }
        Ok(Value::Array(values))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut values = Map::new();
        // Keys arrive unescaped: `"b\u006fdy"` is `body` here.
        while let Some(key) = map.next_key::<String>()? {
            if values.contains_key(&key) {
                return Err(de::Error::custom(format_args!("the key `{key}` appears twice")));
            }
            let UniqueKeys(value) = map.next_value()?;
            values.insert(key, value);
        }
        Ok(Value::Object(values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Value, String> {
        serde_json::from_str::<UniqueKeys>(text).map(|UniqueKeys(value)| value).map_err(|e| e.to_string())
    }

    #[test]
    fn a_repeated_key_is_an_error_naming_it_however_it_is_spelt_and_at_any_depth() {
        for text in [
            r#"{"body":"one","body":"two"}"#,
            r#"{"body":"one","b\u006fdy":"two"}"#,
            r#"{"a":{"body":1,"body":1}}"#,
            r#"{"a":[1,{"b":[{"body":null,"body":null}]}]}"#,
        ] {
            let error = read(text).expect_err(text);
            assert!(error.contains("`body` appears twice"), "{text}: {error}");
        }
    }

    #[test]
    fn keys_that_differ_are_kept_and_values_read_as_serde_json_reads_them() {
        for text in [
            r#"{"body":"one","Body":"two","bödy":3}"#,
            r#"{"n":-5,"u":18446744073709551615,"f":2.5,"e":1e3,"b":true,"z":null,"s":"\ud83d\ude00"}"#,
            r#"[{"a":1},{"a":2}]"#,
            r#""text""#,
            "[]",
            "{}",
        ] {
            let expected: Value = serde_json::from_str(text).expect("valid JSON");
            assert_eq!(read(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn what_serde_json_refuses_is_refused() {
        for text in ["{", r#"{"a":1,}"#, r#"{"a":"\ud800"}"#, "1e400", "[1] 2"] {
            assert!(read(text).is_err(), "{text}");
        }
    }
}
