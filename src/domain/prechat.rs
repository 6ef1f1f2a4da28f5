//! A site's pre-chat form (the fields its admins chose) and a visitor's answers to it.
//!
//! The form is stored in `sites.prechat_form` as a JSON list (`[]`: no form); the answers in
//! `chats.prechat` as a JSON list of `{"name", "label", "value"}` in the form's order. Both are
//! shown as text, never as markup. A form's texts (labels and options) hold at most
//! [`PrechatForm::MAX_TEXT_CHARS`] characters together and a visitor's answers at most
//! [`PrechatAnswers::MAX_TOTAL_CHARS`], so that both bodies stay within the documented body
//! limit (`http::body_limit`).

use serde::Serialize;

use super::{refuse_nul, ContactName, Email, InvalidInput};

/// What kind of answer a field asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PrechatType {
    /// The visitor's name (`domain::ContactName`, one line). Filled from a verified visitor's
    /// identity.
    Name,
    /// An email address (`domain::Email`). Filled from a verified visitor's identity.
    Email,
    /// A phone number: see [`PrechatAnswers::parse`].
    Phone,
    /// Free text, the visitor's question: up to 1,000 characters, line breaks kept.
    Text,
    /// One of the field's options.
    Choice,
}

impl PrechatType {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "name" => Self::Name,
            "email" => Self::Email,
            "phone" => Self::Phone,
            "text" => Self::Text,
            "choice" => Self::Choice,
            _ => return None,
        })
    }
}

/// One field of a pre-chat form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrechatField {
    /// Its key in the answers: a slug of 1–32 characters `a-z`, `0-9`, `_`, unique in the form.
    pub name: String,
    /// What it asks for.
    #[serde(rename = "type")]
    pub kind: PrechatType,
    /// What the widget shows next to it: 1–100 characters, no control character.
    pub label: String,
    /// Whether the visitor must answer it.
    pub required: bool,
    /// The choices of a `choice` field (1–20, distinct, 1–100 characters each); absent otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

/// A site's pre-chat form: at most [`PrechatForm::MAX_FIELDS`] fields; empty is no form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PrechatForm(Vec<PrechatField>);

/// Longest answer of a `text` field, in characters.
const MAX_TEXT_ANSWER_CHARS: usize = 1000;
/// Fewest and most characters of a phone number.
const PHONE_CHARS: (usize, usize) = (5, 32);

fn form_error(at: usize, reason: impl std::fmt::Display) -> InvalidInput {
    InvalidInput::new("fields", format!("fields[{at}]: {reason}"))
}

/// Trims `text` and checks it holds `1..=max` characters and no control character.
fn short_text(text: &str, max: usize) -> Result<&str, String> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > max {
        return Err(format!("must be 1 to {max} characters"));
    }
    if text.chars().any(char::is_control) {
        return Err("must not hold control characters".into());
    }
    Ok(text)
}

impl PrechatForm {
    /// Most fields per form.
    pub const MAX_FIELDS: usize = 10;
    /// Longest field name, in characters.
    pub const MAX_NAME_CHARS: usize = 32;
    /// Longest label or option, in characters.
    pub const MAX_LABEL_CHARS: usize = 100;
    /// Most options of a `choice` field.
    pub const MAX_OPTIONS: usize = 20;
    /// Most characters of all labels and options together.
    pub const MAX_TEXT_CHARS: usize = 2000;

    /// Checks the `fields` value an admin sends: a JSON list of
    /// `{"name", "type", "label", "required"?, "options"?}` (`required` defaults to false;
    /// `options` only, and always, for `choice`). Any other key is refused. Errors name the
    /// request field `fields` and say which entry and key are wrong.
    pub fn parse(value: &serde_json::Value) -> Result<Self, InvalidInput> {
        let entries =
            value.as_array().ok_or_else(|| InvalidInput::new("fields", "must be a list of fields"))?;
        if entries.len() > Self::MAX_FIELDS {
            return Err(InvalidInput::new(
                "fields",
                format!("must list at most {} fields", Self::MAX_FIELDS),
            ));
        }
        let mut fields: Vec<PrechatField> = Vec::with_capacity(entries.len());
        let mut text_chars = 0;
        for (at, entry) in entries.iter().enumerate() {
            let field = Self::parse_field(at, entry)?;
            if fields.iter().any(|f| f.name == field.name) {
                return Err(form_error(at, format!("name `{}` is used by another field", field.name)));
            }
            text_chars += field.label.chars().count();
            text_chars += field.options.iter().map(|o| o.chars().count()).sum::<usize>();
            fields.push(field);
        }
        if text_chars > Self::MAX_TEXT_CHARS {
            return Err(InvalidInput::new(
                "fields",
                format!("labels and options must hold at most {} characters together", Self::MAX_TEXT_CHARS),
            ));
        }
        Ok(Self(fields))
    }

    fn parse_field(at: usize, entry: &serde_json::Value) -> Result<PrechatField, InvalidInput> {
        let object = entry.as_object().ok_or_else(|| form_error(at, "must be an object"))?;
        if let Some(key) = object
            .keys()
            .find(|key| !matches!(key.as_str(), "name" | "type" | "label" | "required" | "options"))
        {
            return Err(form_error(at, format!("`{key}` is not a field property")));
        }
        let text = |key: &str| match object.get(key) {
            Some(serde_json::Value::String(text)) => {
                refuse_nul(text, "fields").map_err(|e| form_error(at, format!("{key}: {}", e.reason)))?;
                Ok(text.as_str())
            }
            Some(_) => Err(form_error(at, format!("{key}: must be a string"))),
            None => Err(form_error(at, format!("{key}: is required"))),
        };
        let name = text("name")?;
        let slug = !name.is_empty()
            && name.len() <= Self::MAX_NAME_CHARS
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !slug {
            return Err(form_error(
                at,
                format!("name: must be 1 to {} characters of a-z, 0-9 and _", Self::MAX_NAME_CHARS),
            ));
        }
        let kind = PrechatType::parse(text("type")?)
            .ok_or_else(|| form_error(at, "type: must be name, email, phone, text or choice"))?;
        let label = short_text(text("label")?, Self::MAX_LABEL_CHARS)
            .map_err(|e| form_error(at, format!("label: {e}")))?;
        let required = match object.get("required") {
            None | Some(serde_json::Value::Null) => false,
            Some(serde_json::Value::Bool(required)) => *required,
            Some(_) => return Err(form_error(at, "required: must be true or false")),
        };
        let options = match (kind, object.get("options")) {
            (PrechatType::Choice, Some(serde_json::Value::Array(items))) => Self::parse_options(at, items)?,
            (PrechatType::Choice, _) => {
                return Err(form_error(at, "options: a choice field needs a list of options"))
            }
            (_, None | Some(serde_json::Value::Null)) => Vec::new(),
            (_, Some(_)) => return Err(form_error(at, "options: only a choice field has options")),
        };
        Ok(PrechatField { name: name.to_string(), kind, label: label.to_string(), required, options })
    }

    fn parse_options(at: usize, items: &[serde_json::Value]) -> Result<Vec<String>, InvalidInput> {
        if items.is_empty() || items.len() > Self::MAX_OPTIONS {
            return Err(form_error(at, format!("options: must list 1 to {} options", Self::MAX_OPTIONS)));
        }
        let mut options: Vec<String> = Vec::with_capacity(items.len());
        for item in items {
            let option = item
                .as_str()
                .ok_or_else(|| form_error(at, "options: each option must be a string"))
                .and_then(|text| {
                    refuse_nul(text, "fields")
                        .map_err(|e| form_error(at, format!("options: {}", e.reason)))?;
                    short_text(text, Self::MAX_LABEL_CHARS)
                        .map_err(|e| form_error(at, format!("options: {e}")))
                })?;
            if options.iter().any(|o| o == option) {
                return Err(form_error(at, format!("options: `{option}` is listed twice")));
            }
            options.push(option.to_string());
        }
        Ok(options)
    }

    /// The form stored in `sites.prechat_form`; a stored text that no longer parses is no form
    /// (it was checked when written).
    pub fn from_stored(text: &str) -> Self {
        serde_json::from_str(text).ok().and_then(|value| Self::parse(&value).ok()).unwrap_or_default()
    }

    /// The stored form: a JSON list.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "[]".to_string())
    }

    /// Whether the site has no form.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One answer as stored and shown to agents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PrechatAnswer {
    /// The field's name.
    pub name: String,
    /// The field's label when the visitor answered.
    pub label: String,
    /// The answer, trimmed.
    pub value: String,
}

/// What a verified visitor's identity says, which the form does not ask again.
#[derive(Debug, Clone, Copy)]
pub struct KnownVisitor<'a> {
    /// The visitor's name, as its identity gave it.
    pub name: &'a str,
    /// The identity's email, if it gave one.
    pub email: Option<&'a str>,
}

/// A visitor's answers to a form, checked against it, in the form's order; blank optional
/// fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PrechatAnswers(Vec<PrechatAnswer>);

fn answer_error(name: &str, reason: impl std::fmt::Display) -> InvalidInput {
    InvalidInput::new("prechat", format!("{name}: {reason}"))
}

impl PrechatAnswers {
    /// Most characters of all answers together.
    pub const MAX_TOTAL_CHARS: usize = 2000;

    /// Checks `answers` (field name → string) against `form`. Refused, naming the request field
    /// `prechat` and the form's field: a name the form does not have, a value that is not a
    /// string, a required field missing or blank, and a value that does not fit its type —
    /// `name` 1–64 characters; `email` as `domain::Email`; `phone` 5–32 characters of digits,
    /// spaces and `+ - ( )` with at least 5 digits; `text` up to 1,000 characters; `choice`
    /// exactly one of the options. Only a `text` answer may hold line breaks; no answer holds
    /// another control character. For a verified visitor (`known`), `name` and `email` fields
    /// take the identity's value (whatever was sent); an `email` field is not required of one
    /// whose identity gave no email.
    pub fn parse(
        form: &PrechatForm,
        answers: &serde_json::Map<String, serde_json::Value>,
        known: Option<KnownVisitor<'_>>,
    ) -> Result<Self, InvalidInput> {
        if let Some(unknown) = answers.keys().find(|key| !form.0.iter().any(|field| &field.name == *key)) {
            let shown: String = unknown.chars().take(PrechatForm::MAX_NAME_CHARS).collect();
            return Err(InvalidInput::new(
                "prechat",
                format!("`{shown}` is not a field of this site's form"),
            ));
        }
        let mut out = Vec::new();
        let mut total = 0;
        for field in &form.0 {
            let from_identity = known.map(|known| match field.kind {
                PrechatType::Name => Some(known.name),
                PrechatType::Email => known.email,
                _ => None,
            });
            let identity_asks =
                known.is_some() && matches!(field.kind, PrechatType::Name | PrechatType::Email);
            let sent = match answers.get(&field.name) {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(text)) => Some(text.as_str()),
                Some(_) => return Err(answer_error(&field.name, "must be a string")),
            };
            let given = match from_identity.flatten() {
                Some(value) => Some(value),
                None => sent.filter(|text| !text.trim().is_empty()),
            };
            let Some(given) = given else {
                if field.required && !identity_asks {
                    return Err(answer_error(&field.name, format!("`{}` is required", field.label)));
                }
                continue;
            };
            let value = Self::check(field, given)?;
            total += value.chars().count();
            out.push(PrechatAnswer { name: field.name.clone(), label: field.label.clone(), value });
        }
        if total > Self::MAX_TOTAL_CHARS {
            return Err(InvalidInput::new(
                "prechat",
                format!("the answers must hold at most {} characters together", Self::MAX_TOTAL_CHARS),
            ));
        }
        Ok(Self(out))
    }

    fn check(field: &PrechatField, text: &str) -> Result<String, InvalidInput> {
        let name = field.name.as_str();
        refuse_nul(text, "prechat").map_err(|e| answer_error(name, e.reason))?;
        let text = text.trim();
        let line_breaks = field.kind == PrechatType::Text;
        if text.chars().any(|c| c.is_control() && !(line_breaks && (c == '\n' || c == '\r'))) {
            return Err(answer_error(name, "must not hold control characters"));
        }
        let chars = text.chars().count();
        match field.kind {
            PrechatType::Name => {
                ContactName::parse(text).map_err(|e| answer_error(name, e.reason))?;
            }
            PrechatType::Email => {
                Email::parse(text).map_err(|e| answer_error(name, e.reason))?;
            }
            PrechatType::Phone => {
                let digits = text.chars().filter(char::is_ascii_digit).count();
                let allowed =
                    text.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')'));
                if !allowed || chars < PHONE_CHARS.0 || chars > PHONE_CHARS.1 || digits < PHONE_CHARS.0 {
                    return Err(answer_error(
                        name,
                        "must be a phone number: 5 to 32 characters of digits, spaces and + - ( ), at least 5 digits",
                    ));
                }
            }
            PrechatType::Text if chars > MAX_TEXT_ANSWER_CHARS => {
                return Err(answer_error(name, format!("must be at most {MAX_TEXT_ANSWER_CHARS} characters")))
            }
            PrechatType::Choice if !field.options.iter().any(|option| option == text) => {
                return Err(answer_error(name, "must be one of the field's options"))
            }
            _ => {}
        }
        Ok(text.to_string())
    }

    /// The stored form (`chats.prechat`): a JSON list (`[]`: the site asked, nothing was answered).
    pub fn to_stored(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "[]".to_string())
    }

    /// Answers read back from `chats.prechat`; `None` when there are none (or the text does
    /// not parse).
    pub fn from_stored(text: Option<&str>) -> Option<Vec<PrechatAnswer>> {
        text.and_then(|text| serde_json::from_str(text).ok())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn form() -> PrechatForm {
        PrechatForm::parse(&json!([
            {"name": "full_name", "type": "name", "label": "Your name", "required": true},
            {"name": "email", "type": "email", "label": "Email", "required": true},
            {"name": "phone", "type": "phone", "label": "Phone"},
            {"name": "question", "type": "text", "label": "Question", "required": true},
            {"name": "topic", "type": "choice", "label": "Topic", "options": ["Billing", "Orders"]},
        ]))
        .expect("form")
    }

    fn answers(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        value.as_object().cloned().expect("object")
    }

    #[test]
    fn a_form_round_trips_through_its_stored_text() {
        let form = form();
        assert_eq!(PrechatForm::from_stored(&form.to_stored()), form);
        assert!(form.to_stored().contains(r#""type":"choice""#));
        assert!(!form.to_stored().contains(r#""options":[]"#));
        assert!(PrechatForm::from_stored("[]").is_empty());
        assert!(PrechatForm::from_stored("not json").is_empty());
    }

    #[test]
    fn every_bad_form_shape_is_refused_naming_fields() {
        let field = |extra: serde_json::Value| {
            let mut base = json!({"name": "a", "type": "text", "label": "A"});
            for (key, value) in extra.as_object().expect("object") {
                base[key] = value.clone();
            }
            json!([base])
        };
        let bad = [
            json!({}),
            json!("[]"),
            field(json!({"name": "A"})),
            field(json!({"name": ""})),
            field(json!({"name": "a-b"})),
            field(json!({"name": "x".repeat(33)})),
            field(json!({"type": "date"})),
            field(json!({"label": " "})),
            field(json!({"label": "x".repeat(101)})),
            field(json!({"label": "a\u{7}b"})),
            field(json!({"label": "a\u{0}b"})),
            field(json!({"required": "yes"})),
            field(json!({"options": ["a"]})),
            field(json!({"type": "choice"})),
            field(json!({"type": "choice", "options": []})),
            field(json!({"type": "choice", "options": ["a", "a"]})),
            field(json!({"type": "choice", "options": [" "]})),
            field(json!({"type": "choice", "options": [1]})),
            field(json!({"type": "choice", "options": (0..21).map(|i| i.to_string()).collect::<Vec<_>>()})),
            field(json!({"colour": "red"})),
            json!([{"name": "a", "type": "text", "label": "A"}, {"name": "a", "type": "phone", "label": "B"}]),
            json!((0..11)
                .map(|i| json!({"name": format!("f{i}"), "type": "text", "label": "L"}))
                .collect::<Vec<_>>()),
            json!((0..5)
                .map(|i| json!({"name": format!("f{i}"), "type": "choice", "label": "x".repeat(100),
                    "options": (0..20).map(|j| format!("{j}{}", "o".repeat(90))).collect::<Vec<_>>()}))
                .collect::<Vec<_>>()),
        ];
        for value in bad {
            let error = PrechatForm::parse(&value).expect_err(&value.to_string());
            assert_eq!(error.field, "fields", "{value}");
        }
        let ten = json!((0..10)
            .map(|i| json!({"name": format!("f{i}"), "type": "text", "label": "L"}))
            .collect::<Vec<_>>());
        assert_eq!(PrechatForm::parse(&ten).expect("ten").0.len(), 10);
        assert!(PrechatForm::parse(&json!([])).expect("none").is_empty());
    }

    #[test]
    fn answers_are_checked_against_the_form() {
        let form = form();
        let good = json!({"full_name": " Ana ", "email": "ana@example.com", "question": "Where?\nNow",
            "topic": "Orders", "phone": "+1 (555) 010-9999"});
        let parsed = PrechatAnswers::parse(&form, &answers(good), None).expect("good");
        let values: Vec<_> = parsed.0.iter().map(|a| (a.name.as_str(), a.value.as_str())).collect();
        assert_eq!(
            values,
            [
                ("full_name", "Ana"),
                ("email", "ana@example.com"),
                ("phone", "+1 (555) 010-9999"),
                ("question", "Where?\nNow"),
                ("topic", "Orders")
            ]
        );
        let base = json!({"full_name": "Ana", "email": "a@b.c", "question": "Q"});
        let with = |key: &str, value: serde_json::Value| {
            let mut v = base.clone();
            v[key] = value;
            answers(v)
        };
        let bad = [
            with("question", json!(" ")),
            with("full_name", json!(null)),
            with("email", json!("not-an-email")),
            with("phone", json!("12ab5678")),
            with("phone", json!("1234")),
            with("phone", json!("+ ( ) - 12")),
            with("phone", json!("1".repeat(33))),
            with("question", json!("x".repeat(1001))),
            with("topic", json!("billing")),
            with("full_name", json!("A\nB")),
            with("question", json!("a\u{7}b")),
            with("question", json!("a\u{0}b")),
            with("unknown", json!("x")),
            with("full_name", json!(5)),
            with("full_name", json!("x".repeat(65))),
        ];
        for value in bad {
            let error = PrechatAnswers::parse(&form, &value, None).expect_err(&format!("{value:?}"));
            assert_eq!(error.field, "prechat");
        }
        let missing =
            PrechatAnswers::parse(&form, &answers(json!({"email": "a@b.c", "question": "Q"})), None)
                .expect_err("required");
        assert!(missing.reason.starts_with("full_name:"), "{}", missing.reason);
        let optional =
            PrechatAnswers::parse(&form, &with("phone", json!("  ")), None).expect("blank optional");
        assert_eq!(optional.0.len(), 3);
    }

    #[test]
    fn a_verified_visitor_is_not_asked_what_the_identity_gives() {
        let form = form();
        let known = KnownVisitor { name: "Ana Verified", email: None };
        let parsed = PrechatAnswers::parse(
            &form,
            &answers(json!({"full_name": "Other", "question": "Q"})),
            Some(known),
        )
        .expect("verified");
        assert_eq!(parsed.0[0].value, "Ana Verified");
        assert_eq!(parsed.0.len(), 2);
        assert!(PrechatAnswers::parse(&form, &answers(json!({"question": "Q"})), None).is_err());
        assert!(
            PrechatAnswers::parse(&form, &answers(json!({})), Some(known)).is_err(),
            "question still asked"
        );
    }

    #[test]
    fn the_answers_together_are_bounded() {
        let form = PrechatForm::parse(&json!([
            {"name": "a", "type": "text", "label": "A"}, {"name": "b", "type": "text", "label": "B"},
            {"name": "c", "type": "text", "label": "C"},
        ]))
        .expect("form");
        let full = answers(json!({"a": "x".repeat(1000), "b": "x".repeat(1000)}));
        assert!(PrechatAnswers::parse(&form, &full, None).is_ok());
        let over = answers(json!({"a": "x".repeat(1000), "b": "x".repeat(1000), "c": "x"}));
        assert!(PrechatAnswers::parse(&form, &over, None).is_err());
    }
}
