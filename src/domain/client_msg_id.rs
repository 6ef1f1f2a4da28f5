use super::{digest64, InvalidInput};

/// Longest client-made id accepted.
const MAX_LEN: usize = 64;

fn parse_token(text: &str, field: &'static str) -> Result<String, InvalidInput> {
    if text.is_empty() {
        return Err(InvalidInput::new(field, "must not be empty"));
    }
    if text.len() > MAX_LEN {
        return Err(InvalidInput::new(field, format!("must be at most {MAX_LEN} characters")));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':');
    if !text.chars().all(allowed) {
        return Err(InvalidInput::new(field, "may only hold letters, digits and - _ . :"));
    }
    Ok(text.to_string())
}

/// The client-made id that makes a send idempotent: the same id twice stores one message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientMsgId(String);

impl ClientMsgId {
    /// Longest id, in characters.
    pub const MAX_CHARS: usize = MAX_LEN;

    /// 1–64 characters of `A-Z a-z 0-9 - _ . :`.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        parse_token(text, "client_msg_id").map(Self)
    }

    /// The id as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A browser tab's own id: a newer poll of the same tab supersedes the held one.
///
/// Kept as a 64-bit digest of the text ([`digest64`], the same on every node): tabs are only
/// ever compared with the same participant's other tabs, and a held poll then carries no
/// string of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TabId(u64);

impl TabId {
    /// Same alphabet as [`ClientMsgId`]. Absent means the poll names no tab; such polls never
    /// supersede each other (two pages on one token would otherwise cancel each other forever).
    pub fn parse(text: Option<&str>) -> Result<Option<Self>, InvalidInput> {
        match text {
            None | Some("") => Ok(None),
            Some(text) => parse_token(text, "tab").map(|tab| Some(Self(digest64(&[tab.as_bytes()])))),
        }
    }

    /// The digest the tab is kept as.
    pub fn digest(self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_msg_id_of_64_safe_characters_is_accepted() {
        assert!(ClientMsgId::parse(&"a".repeat(64)).is_ok());
        assert!(ClientMsgId::parse("m-1_2.3:4").is_ok());
    }

    #[test]
    fn an_empty_long_or_odd_client_msg_id_is_refused() {
        assert!(ClientMsgId::parse("").is_err());
        assert!(ClientMsgId::parse(&"a".repeat(65)).is_err());
        assert!(ClientMsgId::parse("a b").is_err());
        assert!(ClientMsgId::parse("<script>").is_err());
    }

    #[test]
    fn a_missing_tab_is_no_tab() {
        assert_eq!(TabId::parse(None), Ok(None));
        assert_eq!(TabId::parse(Some("")), Ok(None));
        assert!(TabId::parse(Some("tab/1")).is_err());
        assert_eq!(TabId::parse(Some("t1")), TabId::parse(Some("t1")));
        assert_ne!(TabId::parse(Some("t1")), TabId::parse(Some("t2")));
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn an_id_of_the_alphabet_is_kept_as_sent(text in "[A-Za-z0-9_.:-]{1,64}") {
            prop_assert_eq!(ClientMsgId::parse(&text).map(|id| id.as_str().to_string()), Ok(text.clone()));
            prop_assert!(TabId::parse(Some(&text)).is_ok_and(|tab| tab.is_some()));
        }

        #[test]
        fn any_text_is_an_id_of_the_alphabet_or_an_error_naming_the_field(text in ".{0,80}") {
            match ClientMsgId::parse(&text) {
                Ok(id) => {
                    prop_assert!((1..=MAX_LEN).contains(&id.as_str().len()));
                    prop_assert!(id.as_str().chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c)));
                }
                Err(error) => prop_assert_eq!(error.field, "client_msg_id"),
            }
            if let Err(error) = TabId::parse(Some(&text)) {
                prop_assert_eq!(error.field, "tab");
            }
        }

        #[test]
        fn the_same_tab_text_is_the_same_tab(text in "[A-Za-z0-9_.:-]{1,64}", other in "[A-Za-z0-9_.:-]{1,64}") {
            prop_assert_eq!(TabId::parse(Some(&text)), TabId::parse(Some(&text.clone())));
            if text != other {
                prop_assert_ne!(TabId::parse(Some(&text)), TabId::parse(Some(&other)));
            }
        }
    }
}
