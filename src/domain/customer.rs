//! A site's own id for one of its customers: the `sub` of the identity its server signs.

use super::{refuse_nul, InvalidInput};

/// A customer's id at its site (the identity token's `sub`): 1–128 characters, kept exactly as
/// the site wrote it (not trimmed: `"42"` and `" 42"` are two customers), no control
/// character. One visitor row per customer of a site (`visitors_customer` index).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CustomerId(String);

impl CustomerId {
    /// Longest id, in characters.
    pub const MAX_CHARS: usize = 128;

    /// Checks a customer id; `field` names it in the error (`sub` inside a token).
    pub fn parse(text: &str, field: &'static str) -> Result<Self, InvalidInput> {
        refuse_nul(text, field)?;
        let chars = text.chars().count();
        if chars == 0 || chars > Self::MAX_CHARS {
            return Err(InvalidInput::new(field, format!("must be 1 to {} characters", Self::MAX_CHARS)));
        }
        if text.chars().any(char::is_control) {
            return Err(InvalidInput::new(field, "must not hold control characters"));
        }
        Ok(Self(text.to_string()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_id_holds_1_to_128_characters_as_written() {
        assert_eq!(CustomerId::parse(" u-42 ", "sub").map(|id| id.as_str().to_string()), Ok(" u-42 ".into()));
        assert!(CustomerId::parse(&"名".repeat(128), "sub").is_ok());
        assert_eq!(CustomerId::parse(&"名".repeat(129), "sub").map_err(|e| e.field), Err("sub"));
        assert_eq!(CustomerId::parse("", "sub").map_err(|e| e.field), Err("sub"));
    }

    #[test]
    fn a_control_character_or_nul_is_refused() {
        for bad in ["a\nb", "a\u{7}", "\u{85}x", "a\0b"] {
            assert_eq!(CustomerId::parse(bad, "sub").map_err(|e| e.field), Err("sub"), "{bad:?}");
        }
    }
}
