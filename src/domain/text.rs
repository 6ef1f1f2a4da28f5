//! The one rule every text the server stores obeys, whatever its field and whatever the store:
//! it holds no NUL character (U+0000). PostgreSQL's `text` cannot hold one (`invalid byte
//! sequence for encoding "UTF8": 0x00`) while SQLite keeps it, so without this rule the same
//! request would be stored on one store and fail on the other; no client has a use for a NUL.
//! Every parser of a stored text field calls [`refuse_nul`] first, so a NUL anywhere is a
//! `400 invalid_field` naming the field, and nothing is stored.

use super::InvalidInput;

/// Refuses `text` when it holds a NUL character, naming `field`.
pub fn refuse_nul(text: &str, field: &'static str) -> Result<(), InvalidInput> {
    if text.contains('\0') {
        return Err(InvalidInput::new(field, "must not hold a NUL character (U+0000)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_anywhere_is_refused_naming_the_field() {
        for bad in ["\0", "a\0", "\0a", "a\0b"] {
            assert_eq!(refuse_nul(bad, "body").map_err(|e| e.field), Err("body"), "{bad:?}");
        }
    }

    #[test]
    fn any_other_text_passes_even_other_control_characters() {
        for good in ["", "hello", "a\tb\nc", "\u{1}\u{7f}", "你好 😀", "\\u0000", "%00"] {
            assert_eq!(refuse_nul(good, "body"), Ok(()), "{good:?}");
        }
    }
}
