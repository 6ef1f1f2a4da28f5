use super::{refuse_nul, InvalidInput};

/// The name a visitor leaves with an offline message: 1–64 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactName(String);

impl ContactName {
    /// Longest name, in characters.
    pub const MAX_CHARS: usize = 64;

    /// Checks the `name` field.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        refuse_nul(text, "name")?;
        let text = text.trim();
        if text.is_empty() {
            return Err(InvalidInput::new("name", "must not be empty"));
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err(InvalidInput::new("name", format!("must be at most {} characters", Self::MAX_CHARS)));
        }
        Ok(Self(text.to_string()))
    }

    /// The name, trimmed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address to answer an offline message: one `@` with text on both sides, no
/// whitespace, at most 254 characters. Whether it receives mail is not checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Longest address, in characters (RFC 5321's path limit).
    pub const MAX_CHARS: usize = 254;

    /// Checks the `email` field.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        refuse_nul(text, "email")?;
        let text = text.trim();
        if text.chars().count() > Self::MAX_CHARS {
            return Err(InvalidInput::new(
                "email",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        let well_formed = match text.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.is_empty()
                    && !domain.contains('@')
                    && !text.chars().any(char::is_whitespace)
            }
            None => false,
        };
        if !well_formed {
            return Err(InvalidInput::new("email", "must be an email address like name@example.com"));
        }
        Ok(Self(text.to_string()))
    }

    /// The address, trimmed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed_and_must_hold_1_to_64_characters() {
        assert_eq!(ContactName::parse("  Ana ").map(|n| n.as_str().to_string()), Ok("Ana".into()));
        assert_eq!(ContactName::parse("   ").map_err(|e| e.field), Err("name"));
        assert!(ContactName::parse(&"名".repeat(64)).is_ok());
        assert!(ContactName::parse(&"名".repeat(65)).is_err());
    }

    #[test]
    fn an_email_has_one_at_with_text_on_both_sides() {
        assert!(Email::parse("ana@example.com").is_ok());
        for bad in ["", "ana", "@example.com", "ana@", "a@b@c", "an a@example.com"] {
            assert_eq!(Email::parse(bad).map_err(|e| e.field), Err("email"), "{bad:?}");
        }
    }

    #[test]
    fn a_nul_in_a_name_or_an_email_is_refused_naming_it() {
        assert_eq!(ContactName::parse("An\0a").map_err(|e| e.field), Err("name"));
        assert_eq!(Email::parse("an\0a@example.com").map_err(|e| e.field), Err("email"));
    }

    #[test]
    fn an_email_is_at_most_254_characters() {
        let longest = format!("{}@example.com", "a".repeat(254 - 12));
        assert!(Email::parse(&longest).is_ok());
        let too_long = format!("a{longest}");
        assert_eq!(Email::parse(&too_long).map_err(|e| e.field), Err("email"));
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn a_name_is_trimmed_and_parses_again_to_itself(text in any::<String>()) {
            match ContactName::parse(&text) {
                Ok(name) => {
                    prop_assert_eq!(name.as_str(), text.trim());
                    prop_assert_eq!(ContactName::parse(name.as_str()), Ok(name.clone()));
                }
                Err(error) => prop_assert_eq!(error.field, "name"),
            }
        }

        #[test]
        fn an_address_parses_again_to_itself(text in prop_oneof![any::<String>(), "[ a-z.@]{0,20}@[a-z.@ ]{0,20}"]) {
            match Email::parse(&text) {
                Ok(email) => {
                    prop_assert_eq!(email.as_str(), text.trim());
                    prop_assert_eq!(email.as_str().matches('@').count(), 1);
                    prop_assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
                }
                Err(error) => prop_assert_eq!(error.field, "email"),
            }
        }

        #[test]
        fn a_plain_address_is_accepted(local in "[a-z0-9.+_-]{1,30}", domain in "[a-z0-9-]{1,30}\\.[a-z]{2,6}") {
            let address = format!("{local}@{domain}");
            prop_assert_eq!(Email::parse(&address).map(|e| e.as_str().to_string()), Ok(address.clone()));
        }
    }
}
