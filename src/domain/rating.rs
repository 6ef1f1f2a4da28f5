use super::{refuse_nul, InvalidInput};

/// A visitor's score for a chat: a whole number from 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Score(i32);

impl Score {
    /// The lowest score.
    pub const MIN: i64 = 1;
    /// The highest score.
    pub const MAX: i64 = 5;

    /// Checks a whole number sent as `score`.
    pub fn parse(value: i64) -> Result<Self, InvalidInput> {
        if !(Self::MIN..=Self::MAX).contains(&value) {
            return Err(InvalidInput::new("score", "must be a whole number from 1 to 5"));
        }
        i32::try_from(value)
            .map(Self)
            .map_err(|_| InvalidInput::new("score", "must be a whole number from 1 to 5"))
    }

    /// The score as a number.
    pub fn get(self) -> i32 {
        self.0
    }
}

/// The optional words a visitor adds to a score: at most [`RatingComment::MAX_CHARS`]
/// characters. A blank comment is no comment. Shown as text, never as HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingComment(String);

impl RatingComment {
    /// Longest comment, in characters.
    pub const MAX_CHARS: usize = 1000;

    /// Checks the `comment` field; `None` when absent or blank.
    pub fn parse(text: Option<&str>) -> Result<Option<Self>, InvalidInput> {
        let Some(text) = text else { return Ok(None) };
        refuse_nul(text, "comment")?;
        if text.trim().is_empty() {
            return Ok(None);
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err(InvalidInput::new(
                "comment",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(Some(Self(text.to_string())))
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
    fn scores_one_to_five_are_accepted() {
        for value in 1..=5 {
            assert_eq!(Score::parse(value).map(Score::get), Ok(value as i32));
        }
    }

    #[test]
    fn scores_outside_one_to_five_name_the_field() {
        for value in [0, 6, -1, i64::MAX, i64::MIN] {
            assert_eq!(Score::parse(value).map_err(|e| e.field), Err("score"), "{value}");
        }
    }

    #[test]
    fn a_blank_comment_is_none_and_a_long_one_is_refused() {
        assert_eq!(RatingComment::parse(None), Ok(None));
        assert_eq!(RatingComment::parse(Some("  \n")), Ok(None));
        let kind = RatingComment::parse(Some("Very helpful")).expect("valid").expect("present");
        assert_eq!(kind.as_str(), "Very helpful");
        assert!(RatingComment::parse(Some(&"字".repeat(1000))).is_ok());
        let long = RatingComment::parse(Some(&"a".repeat(1001))).expect_err("too long");
        assert_eq!(long.field, "comment");
    }

    #[test]
    fn a_nul_in_a_comment_is_refused_naming_it() {
        for bad in ["c\0c", "\0", " \0 "] {
            assert_eq!(RatingComment::parse(Some(bad)).map_err(|e| e.field), Err("comment"), "{bad:?}");
        }
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn a_score_is_1_to_5_and_nothing_else(value in any::<i64>()) {
            match Score::parse(value) {
                Ok(score) => prop_assert_eq!(i64::from(score.get()), value),
                Err(error) => {
                    prop_assert_eq!(error.field, "score");
                    prop_assert!(!(1..=5).contains(&value));
                }
            }
        }

        #[test]
        fn a_comment_is_kept_as_sent_or_refused_naming_it(text in any::<String>()) {
            match RatingComment::parse(Some(&text)) {
                Ok(Some(comment)) => prop_assert_eq!(comment.as_str(), text.as_str()),
                Ok(None) => prop_assert!(text.trim().is_empty()),
                Err(error) => {
                    prop_assert_eq!(error.field, "comment");
                    prop_assert!(text.chars().count() > RatingComment::MAX_CHARS || text.contains('\0'));
                }
            }
        }
    }
}
