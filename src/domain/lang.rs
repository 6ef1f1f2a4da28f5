//! The languages the widget speaks, and so the languages of the emails a visitor gets.

use super::InvalidInput;

/// A widget language: English, Chinese or Korean.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English, also when the widget did not say.
    #[default]
    En,
    /// Chinese (simplified).
    Zh,
    /// Korean.
    Ko,
}

impl Lang {
    /// Parses a `lang` field (`field` names it in the error): exactly `en`, `zh` or `ko`.
    pub fn parse(text: &str, field: &'static str) -> Result<Self, InvalidInput> {
        match text {
            "en" => Ok(Self::En),
            "zh" => Ok(Self::Zh),
            "ko" => Ok(Self::Ko),
            _ => Err(InvalidInput::new(field, "must be one of en, zh, ko")),
        }
    }

    /// A stored value read back; anything unknown (or none) is English.
    pub fn from_stored(text: Option<&str>) -> Self {
        text.and_then(|text| Self::parse(text, "lang").ok()).unwrap_or_default()
    }

    /// The code: `en`, `zh` or `ko` (also the `Content-Language` of an email).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Zh => "zh",
            Self::Ko => "ko",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_three_codes_parse_and_they_read_back() {
        for lang in [Lang::En, Lang::Zh, Lang::Ko] {
            assert_eq!(Lang::parse(lang.as_str(), "lang"), Ok(lang));
            assert_eq!(Lang::from_stored(Some(lang.as_str())), lang);
        }
        for bad in ["", "EN", "zh-CN", "fr", "ko "] {
            assert_eq!(Lang::parse(bad, "lang").map_err(|e| e.field), Err("lang"), "{bad:?}");
        }
        assert_eq!(Lang::from_stored(None), Lang::En);
    }
}
