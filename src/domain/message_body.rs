use super::{refuse_nul, InvalidInput};

/// The text of a chat message: not empty, not only whitespace, at most a configured length.
/// Shown as text by every client, never as HTML, so it is stored as sent; no NUL (see
/// [`refuse_nul`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    /// Checks `text` against the rules; `max_chars` counts characters, not bytes.
    pub fn parse(text: &str, max_chars: usize) -> Result<Self, InvalidInput> {
        refuse_nul(text, "body")?;
        if text.trim().is_empty() {
            return Err(InvalidInput::new("body", "must not be empty"));
        }
        if text.chars().count() > max_chars {
            return Err(InvalidInput::new("body", format!("must be at most {max_chars} characters")));
        }
        Ok(Self(text.to_string()))
    }

    /// The text as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_body_is_refused() {
        assert!(MessageBody::parse("", 10).is_err());
        assert!(MessageBody::parse(" \n\t", 10).is_err());
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        assert!(MessageBody::parse("你好你好你好", 6).is_ok());
        assert!(MessageBody::parse("你好你好你好你", 6).is_err());
    }

    #[test]
    fn a_nul_is_refused_naming_the_body() {
        assert_eq!(MessageBody::parse("a\0b", 10).map_err(|e| e.field), Err("body"));
    }

    #[test]
    fn html_is_kept_as_text() {
        let body = MessageBody::parse("<b>hi</b>", 100).expect("valid body");
        assert_eq!(body.as_str(), "<b>hi</b>");
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn a_body_is_kept_exactly_or_refused_naming_the_body(text in any::<String>(), max_chars in 0usize..40) {
            match MessageBody::parse(&text, max_chars) {
                Ok(body) => {
                    prop_assert_eq!(body.as_str(), text.as_str());
                    prop_assert!(!text.trim().is_empty() && text.chars().count() <= max_chars);
                    prop_assert!(!text.contains('\0'));
                }
                Err(error) => {
                    prop_assert_eq!(error.field, "body");
                    prop_assert!(text.trim().is_empty() || text.chars().count() > max_chars || text.contains('\0'));
                }
            }
        }
    }
}
