//! What an admin says about a site: its name, its origins, and the widget's look there.

use super::{refuse_nul, InvalidInput, Origin};

/// A site's name, as admins see it: 1–64 characters, trimmed, no control character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteName(String);

impl SiteName {
    /// Longest name, in characters.
    pub const MAX_CHARS: usize = 64;

    /// Checks the `name` field.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        refuse_nul(text, "name")?;
        let text = text.trim();
        if text.is_empty() || text.chars().count() > Self::MAX_CHARS {
            return Err(InvalidInput::new("name", format!("must be 1 to {} characters", Self::MAX_CHARS)));
        }
        if text.chars().any(char::is_control) {
            return Err(InvalidInput::new("name", "must not hold control characters"));
        }
        Ok(Self(text.to_string()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The origins of a site's pages (1 to [`SiteOrigins::MAX`], no repeats), where the widget may
/// run and whose pages may call the API. Stored as one text, space-separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteOrigins(Vec<Origin>);

impl SiteOrigins {
    /// Most origins per site.
    pub const MAX: usize = 20;

    /// Checks the `origins` field: each entry an origin (`https://shop.example`).
    pub fn parse(entries: &[&str]) -> Result<Self, InvalidInput> {
        if entries.is_empty() || entries.len() > Self::MAX {
            return Err(InvalidInput::new("origins", format!("must list 1 to {} origins", Self::MAX)));
        }
        let mut origins: Vec<Origin> = Vec::with_capacity(entries.len());
        for entry in entries {
            let origin = Origin::parse(entry, "origins")?;
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        Ok(Self(origins))
    }

    /// A stored list read back; entries that no longer parse are skipped.
    pub fn from_stored(text: &str) -> Self {
        Self(text.split_whitespace().filter_map(|entry| Origin::parse(entry, "origins").ok()).collect())
    }

    /// The stored form: the origins separated by spaces.
    pub fn to_stored(&self) -> String {
        self.0.iter().map(Origin::as_str).collect::<Vec<_>>().join(" ")
    }

    /// The origins.
    pub fn iter(&self) -> impl Iterator<Item = &Origin> {
        self.0.iter()
    }

    /// Whether `origin` is one of them.
    pub fn contains(&self, origin: &Origin) -> bool {
        self.0.contains(origin)
    }
}

/// The widget's greeting on a site: 1–280 characters, no NUL; line breaks are kept, other
/// control characters refused. Shown as text, never as markup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting(String);

impl Greeting {
    /// Longest greeting, in characters.
    pub const MAX_CHARS: usize = 280;

    /// Checks the `greeting` field; blank is no greeting (`None`).
    pub fn parse(text: &str) -> Result<Option<Self>, InvalidInput> {
        refuse_nul(text, "greeting")?;
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err(InvalidInput::new(
                "greeting",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(InvalidInput::new(
                "greeting",
                "must not hold control characters other than line breaks",
            ));
        }
        Ok(Some(Self(text.to_string())))
    }

    /// The greeting.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The widget's accent color on a site: `#rrggbb`, kept in lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Color(String);

impl Color {
    /// Checks the `color` field.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        let hex =
            text.strip_prefix('#').filter(|hex| hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()));
        hex.map(|hex| Self(format!("#{}", hex.to_ascii_lowercase())))
            .ok_or_else(|| InvalidInput::new("color", "must be a color like #1a73e8"))
    }

    /// `#rrggbb`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised_deduplicated_and_bounded() {
        let origins =
            SiteOrigins::parse(&["https://Shop.example:443", "https://shop.example", "http://a.test:8080"])
                .expect("origins");
        assert_eq!(origins.to_stored(), "https://shop.example http://a.test:8080");
        assert_eq!(SiteOrigins::from_stored(&origins.to_stored()), origins);
        assert_eq!(SiteOrigins::parse(&[]).expect_err("none").field, "origins");
        assert_eq!(SiteOrigins::parse(&["https://a.test/path"]).expect_err("path").field, "origins");
        let many: Vec<String> = (0..21).map(|i| format!("https://s{i}.test")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(SiteOrigins::parse(&many).is_err());
    }

    #[test]
    fn colors_greetings_and_names_are_checked() {
        assert_eq!(Color::parse("#1A73E8").expect("color").as_str(), "#1a73e8");
        for bad in ["1a73e8", "#1a73e", "#1a73eg", "red", "#1a73e8;x"] {
            assert!(Color::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Greeting::parse("  ").expect("blank"), None);
        assert_eq!(Greeting::parse("Hi\nthere").expect("two lines").map(|g| g.0), Some("Hi\nthere".into()));
        assert!(Greeting::parse("a\u{7}b").is_err());
        assert!(Greeting::parse(&"x".repeat(281)).is_err());
        assert!(SiteName::parse(" ").is_err());
        assert_eq!(SiteName::parse(" Shop ").expect("name").as_str(), "Shop");
    }
}
