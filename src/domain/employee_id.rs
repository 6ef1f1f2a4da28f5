use super::InvalidInput;

/// The fixed id an agent logs in with, e.g. `E1001`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmployeeId(String);

impl EmployeeId {
    /// Longest id, in characters.
    pub const MAX_CHARS: usize = 32;

    /// 1–32 characters of letters, digits, `-`, `_` and `.`.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        let text = text.trim();
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if text.is_empty() || text.len() > Self::MAX_CHARS || !text.chars().all(allowed) {
            return Err(InvalidInput::new("employee_id", "must be 1–32 letters, digits, '-', '_' or '.'"));
        }
        Ok(Self(text.to_string()))
    }

    /// The id as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_employee_id_is_trimmed_and_checked() {
        assert_eq!(EmployeeId::parse(" E1001 ").map(|e| e.as_str().to_string()), Ok("E1001".into()));
        assert!(EmployeeId::parse("").is_err());
        assert!(EmployeeId::parse("e 1").is_err());
        assert!(EmployeeId::parse(&"x".repeat(33)).is_err());
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn any_text_is_a_trimmed_id_that_parses_to_itself_or_an_error_naming_the_field(text in ".{0,40}") {
            match EmployeeId::parse(&text) {
                Ok(id) => {
                    prop_assert_eq!(id.as_str(), text.trim());
                    prop_assert_eq!(EmployeeId::parse(id.as_str()), Ok(id.clone()));
                }
                Err(error) => prop_assert_eq!(error.field, "employee_id"),
            }
        }

        #[test]
        fn an_id_of_the_alphabet_is_accepted(text in "[A-Za-z0-9_.-]{1,32}") {
            prop_assert_eq!(EmployeeId::parse(&text).map(|id| id.as_str().to_string()), Ok(text.clone()));
        }
    }
}
