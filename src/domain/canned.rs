//! What a canned reply is made of: its scope (the team's or one agent's own) and its shortcut,
//! the word an agent types after `/` in the console to expand it. Its text is a
//! [`MessageBody`](super::MessageBody): it is sent as one.

use super::{refuse_nul, InvalidInput};

/// Longest shortcut, in characters.
pub const MAX_SHORTCUT_CHARS: usize = 32;

/// Whose a canned reply is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CannedScope {
    /// Every agent's; only admins create, edit and delete it.
    Team,
    /// One agent's own; only that agent sees, edits and deletes it.
    Personal,
}

impl CannedScope {
    /// `team` or `personal`; `field` names it in the error.
    pub fn parse(text: &str, field: &'static str) -> Result<Self, InvalidInput> {
        match text {
            "team" => Ok(Self::Team),
            "personal" => Ok(Self::Personal),
            _ => Err(InvalidInput::new(field, "must be `team` or `personal`")),
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Team => "team",
            Self::Personal => "personal",
        }
    }
}

/// A canned reply's shortcut: 1 to 32 of `a`–`z`, `0`–`9`, `_` and `-` (typed as `/refund`,
/// stored as `refund`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Shortcut(String);

impl Shortcut {
    /// Checks `text` against the rule, naming `shortcut` in the error.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        refuse_nul(text, "shortcut")?;
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-';
        if text.is_empty() || text.chars().count() > MAX_SHORTCUT_CHARS || !text.chars().all(allowed) {
            return Err(InvalidInput::new(
                "shortcut",
                format!("must be 1 to {MAX_SHORTCUT_CHARS} of a-z, 0-9, `_` and `-` (no `/`, no capitals)"),
            ));
        }
        Ok(Self(text.to_string()))
    }

    /// A shortcut made from a reply's first words (`Hello! Thanks…` → `hello-thanks`), for
    /// replies that came without one; `reply` when the text has no letter or digit of a-z, 0-9.
    pub fn from_text(text: &str) -> Self {
        let words: Vec<String> = text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|word| !word.is_empty())
            .take(2)
            .map(str::to_ascii_lowercase)
            .collect();
        let mut made = words.join("-");
        made.truncate(MAX_SHORTCUT_CHARS - 4); // room for a `-NNN` that makes it unique
        let made = made.trim_end_matches('-');
        Self(if made.is_empty() { "reply".to_string() } else { made.to_string() })
    }

    /// This shortcut with `-n` after it, cut to fit: the `n`th try at a unique one.
    pub fn numbered(&self, n: usize) -> Self {
        let suffix = format!("-{n}");
        let mut base = self.0.clone();
        base.truncate(MAX_SHORTCUT_CHARS.saturating_sub(suffix.len()));
        Self(base + &suffix)
    }

    /// The text, without the `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shortcut_is_a_short_lower_case_token() {
        for good in ["refund", "a", "thanks-2", "opening_hours", &"x".repeat(MAX_SHORTCUT_CHARS)] {
            assert_eq!(Shortcut::parse(good).expect(good).as_str(), good);
        }
        for bad in ["", "/refund", "Refund", "re fund", "réfund", "a\0", &"x".repeat(MAX_SHORTCUT_CHARS + 1)]
        {
            assert_eq!(Shortcut::parse(bad).expect_err(bad).field, "shortcut", "{bad:?}");
        }
    }

    #[test]
    fn a_shortcut_made_from_text_is_itself_a_valid_shortcut() {
        assert_eq!(Shortcut::from_text("Hello! Thanks for reaching out").as_str(), "hello-thanks");
        assert_eq!(Shortcut::from_text("你好").as_str(), "reply");
        let long = Shortcut::from_text(&"abcdefghij".repeat(10));
        assert!(Shortcut::parse(long.numbered(123).as_str()).is_ok());
        assert_eq!(Shortcut::from_text("One").numbered(2).as_str(), "one-2");
    }

    #[test]
    fn a_scope_is_team_or_personal() {
        assert_eq!(CannedScope::parse("team", "scope"), Ok(CannedScope::Team));
        assert_eq!(CannedScope::parse("personal", "scope"), Ok(CannedScope::Personal));
        assert_eq!(CannedScope::parse("Team", "scope").map_err(|e| e.field), Err("scope"));
    }
}
