//! Anonymous visitors.

use rand::Rng;

use super::auth::issue_token;
use super::{ServiceError, Services};
use crate::domain::{now_ms, InvalidInput, PrincipalKind, VisitorId};
use crate::store::{visitors, write_transaction};

/// A visitor just created, with the token to hand out once.
#[derive(Debug, Clone)]
pub struct NewVisitor {
    /// The visitor's id.
    pub visitor_id: VisitorId,
    /// The name agents see.
    pub name: String,
    /// Bearer token.
    pub token: String,
}

/// A visitor's display name: given (1–64 characters, trimmed) or `Visitor NNNN`.
pub fn visitor_name(given: Option<&str>) -> Result<String, InvalidInput> {
    match given.map(str::trim) {
        None | Some("") => Ok(format!("Visitor {:04}", rand::thread_rng().gen_range(0..10_000))),
        Some(name) if name.chars().count() > 64 => {
            Err(InvalidInput::new("name", "must be at most 64 characters"))
        }
        Some(name) if name.chars().any(char::is_control) => {
            Err(InvalidInput::new("name", "must not hold control characters"))
        }
        Some(name) => Ok(name.to_string()),
    }
}

impl Services {
    /// Creates an anonymous visitor and its token.
    pub async fn create_visitor(&self, name: Option<&str>) -> Result<NewVisitor, ServiceError> {
        let name = visitor_name(name)?;
        let visitor_id = VisitorId::new();
        let ttl = self.settings.auth.visitor_token_ttl_hours;
        let row =
            visitors::VisitorRow { id: visitor_id.to_string(), name: name.clone(), created_at: now_ms() };
        let token = self
            .store
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    visitors::insert(conn, &row)?;
                    Ok::<_, ServiceError>(issue_token(conn, PrincipalKind::Visitor, visitor_id.0, ttl)?)
                })
            })
            .await?;
        Ok(NewVisitor { visitor_id, name, token })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_name_becomes_a_numbered_visitor() {
        let name = visitor_name(None).expect("default name");
        assert!(name.starts_with("Visitor "), "{name}");
    }

    #[test]
    fn a_long_or_control_name_is_refused() {
        assert!(visitor_name(Some(&"x".repeat(65))).is_err());
        assert!(visitor_name(Some("a\u{7}b")).is_err());
        assert_eq!(visitor_name(Some("  Ann ")), Ok("Ann".to_string()));
    }
}
