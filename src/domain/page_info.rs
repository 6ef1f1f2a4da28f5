use super::{refuse_nul, InvalidInput};

/// Longest page URL or referrer kept, in characters.
pub const MAX_URL_CHARS: usize = 2048;
/// Longest page title kept, in characters.
pub const MAX_TITLE_CHARS: usize = 512;
/// Longest user agent kept, in characters; longer ones are cut, not refused.
pub const MAX_USER_AGENT_CHARS: usize = 512;

/// The page a visitor is on, as the widget reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageInfo {
    /// An `http` or `https` URL of at most `MAX_URL_CHARS` (2048) characters.
    pub url: String,
    /// The document title (trimmed, at most 512 characters, control characters as spaces, no
    /// NUL); `None` when empty or absent.
    pub title: Option<String>,
    /// Where the visitor came from (at most 2048 characters); `None` when empty or absent.
    pub referrer: Option<String>,
}

impl PageInfo {
    /// Parses the three widget fields. `url` must be an absolute `http(s)` URL without spaces or
    /// control characters; an empty `title` or `referrer` (what `document.referrer` is for a
    /// direct visit) means none.
    pub fn parse(url: &str, title: Option<&str>, referrer: Option<&str>) -> Result<Self, InvalidInput> {
        Ok(Self {
            url: parse_url(url, "page_url")?,
            title: parse_title(title)?,
            referrer: parse_referrer(referrer)?,
        })
    }

    /// Like [`PageInfo::parse`] for bodies where the page is optional: no `url` is no page, and
    /// then `title` and `referrer` must be absent too.
    pub fn parse_optional(
        url: Option<&str>,
        title: Option<&str>,
        referrer: Option<&str>,
    ) -> Result<Option<Self>, InvalidInput> {
        match url {
            Some(url) => Self::parse(url, title, referrer).map(Some),
            None if title.is_some() || referrer.is_some() => {
                Err(InvalidInput::new("page_url", "is required with `page_title` or `referrer`"))
            }
            None => Ok(None),
        }
    }
}

fn parse_url(text: &str, field: &'static str) -> Result<String, InvalidInput> {
    refuse_nul(text, field)?;
    let text = text.trim();
    if text.is_empty() {
        return Err(InvalidInput::new(field, "is required"));
    }
    if text.chars().count() > MAX_URL_CHARS {
        return Err(InvalidInput::new(field, format!("must be at most {MAX_URL_CHARS} characters")));
    }
    let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &text[8..]
    } else if lower.starts_with("http://") {
        &text[7..]
    } else {
        return Err(InvalidInput::new(field, "must be an http or https URL"));
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(InvalidInput::new(field, "must be an http or https URL"));
    }
    Ok(text.to_string())
}

fn parse_title(title: Option<&str>) -> Result<Option<String>, InvalidInput> {
    let Some(title) = title else { return Ok(None) };
    // A NUL is refused as in every stored text; tabs or newlines from the page's markup
    // become plain spaces.
    refuse_nul(title, "page_title")?;
    // Trimmed after that, so a control character at either end leaves no space behind.
    let title: String = title.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let title = title.trim();
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(InvalidInput::new("page_title", format!("must be at most {MAX_TITLE_CHARS} characters")));
    }
    Ok((!title.is_empty()).then(|| title.to_string()))
}

fn parse_referrer(referrer: Option<&str>) -> Result<Option<String>, InvalidInput> {
    if let Some(referrer) = referrer {
        refuse_nul(referrer, "referrer")?;
    }
    let Some(referrer) = referrer.map(str::trim).filter(|r| !r.is_empty()) else { return Ok(None) };
    if referrer.chars().count() > MAX_URL_CHARS {
        return Err(InvalidInput::new("referrer", format!("must be at most {MAX_URL_CHARS} characters")));
    }
    if referrer.chars().any(char::is_control) {
        return Err(InvalidInput::new("referrer", "must not hold control characters"));
    }
    Ok(Some(referrer.to_string()))
}

/// A browser's `User-Agent` as kept: control characters dropped, trimmed, cut to
/// 512 characters; `None` when nothing is left. A header, not a field: the HTTP parser refuses
/// a NUL in any header before a handler runs, and one could not survive this anyway.
pub fn user_agent(header: Option<&str>) -> Option<String> {
    let kept: String = header?.chars().filter(|c| !c.is_control()).take(MAX_USER_AGENT_CHARS).collect();
    let kept = kept.trim();
    (!kept.is_empty()).then(|| kept.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_an_http_url_with_an_optional_title_and_referrer() {
        let page = PageInfo::parse(" https://shop.example/cart?x=1 ", Some(" Cart\n"), Some(""))
            .expect("valid page");
        assert_eq!(page.url, "https://shop.example/cart?x=1");
        assert_eq!(page.title.as_deref(), Some("Cart"));
        assert_eq!(page.referrer, None);
        let page = PageInfo::parse("HTTP://a.b", Some("  "), Some("https://search.example/?q=x"))
            .expect("valid page");
        assert_eq!((page.title, page.referrer.as_deref()), (None, Some("https://search.example/?q=x")));
    }

    #[test]
    fn anything_but_an_http_url_is_refused_naming_page_url() {
        for bad in ["", "ftp://a.b/", "javascript:alert(1)", "https://", "http:///x", "https://a b/", "/cart"]
        {
            let error = PageInfo::parse(bad, None, None).expect_err(bad);
            assert_eq!(error.field, "page_url", "{bad}");
        }
        let long = format!("https://a.b/{}", "x".repeat(MAX_URL_CHARS));
        assert_eq!(PageInfo::parse(&long, None, None).expect_err("too long").field, "page_url");
        let just_fits = format!("https://a.b/{}", "x".repeat(MAX_URL_CHARS - 12));
        assert!(PageInfo::parse(&just_fits, None, None).is_ok());
    }

    #[test]
    fn a_long_title_or_referrer_is_refused_naming_it() {
        let title = "t".repeat(MAX_TITLE_CHARS + 1);
        assert_eq!(
            PageInfo::parse("https://a.b", Some(&title), None).expect_err("title").field,
            "page_title"
        );
        assert!(PageInfo::parse("https://a.b", Some(&"t".repeat(MAX_TITLE_CHARS)), None).is_ok());
        let referrer = "r".repeat(MAX_URL_CHARS + 1);
        assert_eq!(PageInfo::parse("https://a.b", None, Some(&referrer)).expect_err("ref").field, "referrer");
    }

    #[test]
    fn a_nul_in_any_page_field_is_refused_naming_it_though_other_controls_in_a_title_are_spaces() {
        let page = |url: &str, title: &str, referrer: &str| PageInfo::parse(url, Some(title), Some(referrer));
        assert_eq!(page("https://a.b/\0", "", "").map_err(|e| e.field), Err("page_url"));
        assert_eq!(page("https://a.b/", "T\0", "").map_err(|e| e.field), Err("page_title"));
        assert_eq!(page("https://a.b/", "", "https://c.d/\0").map_err(|e| e.field), Err("referrer"));
        assert_eq!(page("https://a.b/", "T\tU\u{7}", "").map(|p| p.title), Ok(Some("T U".to_string())));
    }

    #[test]
    fn an_optional_page_needs_its_url_when_anything_else_is_given() {
        assert_eq!(PageInfo::parse_optional(None, None, None), Ok(None));
        let error = PageInfo::parse_optional(None, Some("Title"), None).expect_err("no url");
        assert_eq!(error.field, "page_url");
        assert!(PageInfo::parse_optional(Some("https://a.b"), None, None).is_ok_and(|p| p.is_some()));
    }

    #[test]
    fn a_user_agent_is_cut_not_refused() {
        assert_eq!(user_agent(None), None);
        assert_eq!(user_agent(Some("  ")), None);
        assert_eq!(user_agent(Some("Mozilla/5.0\u{7}")).as_deref(), Some("Mozilla/5.0"));
        let long = "u".repeat(MAX_USER_AGENT_CHARS + 100);
        assert_eq!(user_agent(Some(&long)).map(|ua| ua.chars().count()), Some(MAX_USER_AGENT_CHARS));
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn any_page_fields_parse_or_are_an_error_naming_one(
            url in prop_oneof![".{0,40}", "(?i)https?://[^ ]{0,30}", "(?i)https?://.{0,4}"],
            title in prop::option::of(".{0,20}"),
            referrer in prop::option::of(".{0,20}"),
        ) {
            match PageInfo::parse(&url, title.as_deref(), referrer.as_deref()) {
                Ok(page) => {
                    prop_assert_eq!(page.url.as_str(), url.trim());
                    prop_assert!(!page.url.chars().any(|c| c.is_whitespace() || c.is_control()));
                    prop_assert!(page.title.as_deref().is_none_or(|t| !t.chars().any(char::is_control)));
                    // What was kept is accepted again unchanged.
                    let again = PageInfo::parse(&page.url, page.title.as_deref(), page.referrer.as_deref());
                    prop_assert_eq!(again, Ok(page.clone()));
                }
                Err(error) => prop_assert!(["page_url", "page_title", "referrer"].contains(&error.field), "{error:?}"),
            }
        }

        #[test]
        fn a_user_agent_is_cut_cleaned_and_never_empty(header in prop::option::of(".{0,600}")) {
            if let Some(kept) = user_agent(header.as_deref()) {
                prop_assert!(!kept.is_empty() && kept.chars().count() <= MAX_USER_AGENT_CHARS);
                prop_assert!(!kept.chars().any(char::is_control));
                prop_assert_eq!(kept.trim(), kept.as_str());
            }
        }
    }
}
