use super::InvalidInput;

/// How many items one page of a list holds: 1 to `max`, `default` when not asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(i64);

impl PageLimit {
    /// The default page size.
    pub const DEFAULT: i64 = 50;
    /// The largest page a client may ask for.
    pub const MAX: i64 = 200;

    /// Parses the `limit` query parameter; absent or empty is [`PageLimit::DEFAULT`].
    pub fn parse(text: Option<&str>) -> Result<Self, InvalidInput> {
        let invalid =
            || InvalidInput::new("limit", format!("must be a whole number from 1 to {}", Self::MAX));
        match text {
            None | Some("") => Ok(Self(Self::DEFAULT)),
            Some(text) => {
                let value = text.trim().parse::<i64>().map_err(|_| invalid())?;
                if (1..=Self::MAX).contains(&value) {
                    Ok(Self(value))
                } else {
                    Err(invalid())
                }
            }
        }
    }

    /// The number of items.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// Parses an optional whole-number query parameter that must be 0 or more (a seq, an epoch
/// ms); `field` names it in the error. Absent or empty is `None`.
pub fn parse_non_negative(text: Option<&str>, field: &'static str) -> Result<Option<i64>, InvalidInput> {
    match text {
        None | Some("") => Ok(None),
        Some(text) => match text.trim().parse::<i64>() {
            Ok(value) if value >= 0 => Ok(Some(value)),
            _ => Err(InvalidInput::new(field, "must be a whole number, 0 or more")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_defaults_to_50_and_holds_1_to_200() {
        assert_eq!(PageLimit::parse(None).map(PageLimit::get), Ok(50));
        assert_eq!(PageLimit::parse(Some("")).map(PageLimit::get), Ok(50));
        assert_eq!(PageLimit::parse(Some("1")).map(PageLimit::get), Ok(1));
        assert_eq!(PageLimit::parse(Some("200")).map(PageLimit::get), Ok(200));
        for bad in ["0", "201", "-1", "2.5", "ten"] {
            assert_eq!(PageLimit::parse(Some(bad)).map_err(|e| e.field), Err("limit"), "{bad}");
        }
    }

    #[test]
    fn a_non_negative_value_names_its_field() {
        assert_eq!(parse_non_negative(None, "after_seq"), Ok(None));
        assert_eq!(parse_non_negative(Some("0"), "after_seq"), Ok(Some(0)));
        assert_eq!(parse_non_negative(Some("17"), "after_seq"), Ok(Some(17)));
        for bad in ["-1", "x", "1e3", "1.0"] {
            assert_eq!(parse_non_negative(Some(bad), "before").map_err(|e| e.field), Err("before"), "{bad}");
        }
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn a_limit_is_1_to_200_or_an_error_naming_it(text in prop_oneof![".{0,12}", any::<i64>().prop_map(|n| n.to_string())]) {
            match PageLimit::parse(Some(&text)) {
                Ok(limit) => {
                    prop_assert!((1..=PageLimit::MAX).contains(&limit.get()));
                    let expected = if text.is_empty() { PageLimit::DEFAULT } else { text.trim().parse().unwrap_or(-1) };
                    prop_assert_eq!(limit.get(), expected);
                }
                Err(error) => prop_assert_eq!(error.field, "limit"),
            }
        }

        #[test]
        fn a_non_negative_number_reads_back_and_nothing_else_does(value in any::<i64>(), pad in " {0,2}") {
            let text = format!("{pad}{value}{pad}");
            match parse_non_negative(Some(&text), "after") {
                Ok(read) => prop_assert_eq!(read, Some(value)),
                Err(error) => {
                    prop_assert_eq!(error.field, "after");
                    prop_assert!(value < 0);
                }
            }
        }
    }
}
