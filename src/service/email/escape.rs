//! Text made safe for an HTML email part.

/// `text` with `&`, `<`, `>`, `"` and `'` replaced by their entities: safe as element content
/// and inside a quoted attribute.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` escaped, its line breaks kept as `<br>`.
pub fn escape_lines(text: &str) -> String {
    escape_html(text).replace("\r\n", "\n").replace('\n', "<br>\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_become_entities_and_the_rest_stays() {
        assert_eq!(
            escape_html(r#"<script>alert("x&y")</script> it's 名前"#),
            "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt; it&#39;s 名前"
        );
        assert_eq!(escape_html("&amp;"), "&amp;amp;", "an entity typed by a visitor shows as typed");
        assert_eq!(escape_lines("a<b\nc"), "a&lt;b<br>\nc");
    }
}
