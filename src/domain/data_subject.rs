//! Whose data an admin exports or erases: a visitor by id, or a site's customer by the site and
//! the user id the site's server signed (one visitor per customer of a site).

use super::{refuse_nul, InvalidInput, SiteId, VisitorId};

/// A visitor, named one of two ways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSubject {
    /// By its id.
    Visitor(VisitorId),
    /// By the site and the customer's id there (the identity's `sub`).
    Customer {
        /// The site.
        site_id: SiteId,
        /// The site's user id.
        customer_id: String,
    },
}

impl DataSubject {
    /// Longest customer id, in characters (the identity's `sub`).
    pub const MAX_CUSTOMER_ID_CHARS: usize = 128;

    /// Parses the `site_id` and `customer_id` query parameters: both required.
    pub fn customer(site_id: Option<&str>, customer_id: Option<&str>) -> Result<Self, InvalidInput> {
        let site_id = match site_id {
            None | Some("") => return Err(InvalidInput::new("site_id", "is required")),
            Some(text) => SiteId::parse(text, "site_id")?,
        };
        let customer_id = match customer_id {
            None | Some("") => return Err(InvalidInput::new("customer_id", "is required")),
            Some(text) => text,
        };
        refuse_nul(customer_id, "customer_id")?;
        if customer_id.chars().count() > Self::MAX_CUSTOMER_ID_CHARS {
            return Err(InvalidInput::new(
                "customer_id",
                format!("must be 1 to {} characters", Self::MAX_CUSTOMER_ID_CHARS),
            ));
        }
        Ok(Self::Customer { site_id, customer_id: customer_id.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_needs_a_site_and_an_id_of_at_most_128_characters() {
        let site = uuid::Uuid::new_v4().to_string();
        assert!(DataSubject::customer(Some(&site), Some("u-1")).is_ok());
        assert_eq!(DataSubject::customer(None, Some("u-1")).map_err(|e| e.field), Err("site_id"));
        assert_eq!(DataSubject::customer(Some("nope"), Some("u-1")).map_err(|e| e.field), Err("site_id"));
        assert_eq!(DataSubject::customer(Some(&site), Some("")).map_err(|e| e.field), Err("customer_id"));
        let long = "x".repeat(129);
        assert_eq!(DataSubject::customer(Some(&site), Some(&long)).map_err(|e| e.field), Err("customer_id"));
        assert!(DataSubject::customer(Some(&site), Some(&"x".repeat(128))).is_ok());
    }
}
