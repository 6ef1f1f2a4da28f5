//! Verified visitor identity. A site's own server signs who its logged-in customer is — a JWT
//! with `sub` (its user id), `name`, `email`, `iat` and `exp` — with the site's secret, and the
//! page hands it to the widget, which sends it as `identity` when it makes the visitor.
//! [`check_identity`] accepts exactly one kind of token:
//!
//! - header `alg` HS256, keyed with the site secret's UTF-8 bytes (`alg: none`, HS384, HS512,
//!   RS256 and every other algorithm are refused before any key is used);
//! - `sub` present, 1–128 characters without control characters ([`CustomerId`]);
//! - `iat` and `exp` present (seconds); `exp` not past and `iat` not ahead of this server's
//!   clock by more than [`LEEWAY_SECS`] (clock skew between the site's server and this one);
//!   `exp` after `iat` and at most [`MAX_LIFETIME_SECS`] after it — an identity is meant to be
//!   signed per page view, not kept for days, so a leaked one is good for a day at most;
//! - `aud`, when present, this site's id (or a list holding it), so a token signed for
//!   another site — or with another site's secret — is refused; `nbf`, when present, passed;
//! - `name`, when present and not blank, a visitor name (`service::visitors::visitor_name`);
//!   `email`, when present and not blank, an [`Email`].
//!
//! Each refusal is `ServiceError::IdentityInvalid` with the check that failed, and nothing is
//! stored. A valid identity binds the visitor to that customer of that site: the ONE visitor
//! row of (site, `sub`), found or made (`Services::admit_customer`), so each of the
//! customer's devices gets a token of its own for the same visitor and the same chats.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::auth::issue_token;
use super::error::is_unique_violation;
use super::visitors::{page_view, visitor_name, NewVisitor};
use super::{ServiceError, Services};
use crate::domain::{now_ms, CustomerId, Email, PageInfo, PrincipalKind, SiteId, VisitorId};
use crate::store::page_views;
use crate::store::visitors::{self, CustomerRow, PageUpdate};
use crate::store::DbConn;

/// How far the site server's clock may be from this one's, in seconds: an `exp` this much past
/// and an `iat` this much ahead are still accepted.
pub const LEEWAY_SECS: u64 = 60;

/// Longest life of an identity token (`exp - iat`), in seconds: 24 hours.
pub const MAX_LIFETIME_SECS: i64 = 24 * 3600;

/// Longest identity token, in characters. A token with the largest `sub`, `name` and `email`
/// takes about 1,100; the rest is room for claims of the site's own.
pub const MAX_IDENTITY_CHARS: usize = 2048;

/// What a valid identity token says about the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The site's id for the customer (`sub`).
    pub customer_id: CustomerId,
    /// The name to show agents (`name`), if the token gives one.
    pub name: Option<String>,
    /// The customer's email address (`email`), if the token gives one.
    pub email: Option<Email>,
    /// When the site's server signed it (`iat`), epoch ms.
    pub issued_at_ms: i64,
}

fn invalid(reason: impl Into<String>) -> ServiceError {
    ServiceError::IdentityInvalid(reason.into())
}

/// The header's `alg`, read before anything else so that a token of another algorithm (or of
/// none) is refused by name; `None` when the header is not a JSON object with a text `alg`.
fn header_alg(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    let bytes = URL_SAFE_NO_PAD.decode(header).ok()?;
    let header: Value = serde_json::from_slice(&bytes).ok()?;
    header.get("alg")?.as_str().map(str::to_string)
}

/// A NumericDate claim in whole seconds (a fraction is dropped).
fn seconds(claims: &Map<String, Value>, name: &str) -> Result<i64, ServiceError> {
    let value = claims.get(name).ok_or_else(|| invalid(format!("the claim {name} is missing")))?;
    let seconds = value.as_i64().or_else(|| {
        // A site that divides Date.now() by 1000 sends a fraction.
        value.as_f64().filter(|s| s.is_finite() && s.abs() < 1e15).map(|s| s.floor() as i64)
    });
    seconds.ok_or_else(|| invalid(format!("the claim {name} must be a number of seconds")))
}

/// An optional text claim; blank counts as absent.
fn optional_text<'a>(claims: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, ServiceError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(invalid(format!("the claim {name} must be text"))),
    }
}

/// Why jsonwebtoken refused a token, as a sentence naming the check.
fn reason_of(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::InvalidSignature => {
            "the signature does not match this site's secret (altered, forged, or signed with another secret)"
                .into()
        }
        ErrorKind::ExpiredSignature => "the token has expired (exp)".into(),
        ErrorKind::InvalidAudience => "the token is meant for another site (aud is not this site_id)".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the claim {claim} is missing"),
        ErrorKind::InvalidClaimFormat(claim) => format!("the claim {claim} is malformed"),
        ErrorKind::InvalidAlgorithm
        | ErrorKind::MissingAlgorithm
        | ErrorKind::UnsupportedAlgorithm
        | ErrorKind::InvalidAlgorithmName => "only HS256 is accepted".into(),
        ErrorKind::Json(_) => "the header or the claims are not the JSON objects of a JWT".into(),
        _ => "it is not a JWT (header.payload.signature, each base64url)".into(),
    }
}

/// Checks an identity token signed for `site_id` with `secret`; see the module doc for the
/// rules. Every refusal is `IdentityInvalid` naming the check that failed.
pub fn check_identity(token: &str, site_id: SiteId, secret: &str) -> Result<Identity, ServiceError> {
    if token.chars().count() > MAX_IDENTITY_CHARS {
        return Err(invalid(format!("the token is longer than {MAX_IDENTITY_CHARS} characters")));
    }
    if token.split('.').count() != 3 {
        return Err(invalid("it is not a JWT (header.payload.signature, each base64url)"));
    }
    match header_alg(token) {
        None => return Err(invalid("the token's header names no algorithm (alg)")),
        Some(alg) if alg != "HS256" => {
            let shown: String = alg.chars().take(16).collect();
            return Err(invalid(format!("the token is signed with {shown:?}; only HS256 is accepted")));
        }
        Some(_) => {}
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "sub"]);
    validation.leeway = LEEWAY_SECS;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.set_audience(&[site_id.to_string()]);
    // Site secrets are never empty (`site_secrets::new_secret`); an empty one accepts nothing.
    let key =
        DecodingKey::from_secret(secret.as_bytes()).map_err(|_| invalid("the site has no signing secret"))?;
    let claims = decode::<Map<String, Value>>(token, &key, &validation)
        .map_err(|error| invalid(reason_of(error.kind())))?
        .claims;

    let issued_at = seconds(&claims, "iat")?;
    let expires_at = seconds(&claims, "exp")?;
    let now = now_ms() / 1000;
    let leeway = i64::try_from(LEEWAY_SECS).unwrap_or(i64::MAX);
    if issued_at > now.saturating_add(leeway) {
        return Err(invalid("the token is issued in the future (iat is ahead of this server's clock)"));
    }
    if expires_at <= issued_at {
        return Err(invalid("the token expires before it is issued (exp is not after iat)"));
    }
    if expires_at - issued_at > MAX_LIFETIME_SECS {
        return Err(invalid(format!(
            "the token lives longer than {} hours (exp - iat); sign one per page view",
            MAX_LIFETIME_SECS / 3600
        )));
    }
    let sub = match claims.get("sub") {
        Some(Value::String(sub)) => sub,
        _ => return Err(invalid("the claim sub must be text")),
    };
    let customer_id =
        CustomerId::parse(sub, "sub").map_err(|e| invalid(format!("the claim sub {}", e.reason)))?;
    let name = optional_text(&claims, "name")?
        .map(|name| visitor_name(Some(name)))
        .transpose()
        .map_err(|e| invalid(format!("the claim name {}", e.reason)))?;
    let email = optional_text(&claims, "email")?
        .map(Email::parse)
        .transpose()
        .map_err(|e| invalid(format!("the claim email {}", e.reason)))?;
    Ok(Identity { customer_id, name, email, issued_at_ms: issued_at.saturating_mul(1000) })
}

/// What the visitor row of a customer looked like before this identity, and after.
struct Bound {
    visitor: NewVisitor,
    /// The name changed: senders' names remembered on this node must be read again.
    renamed: bool,
}

impl Services {
    /// Binds a visitor to the customer a valid identity names: finds the ONE visitor row of
    /// (site, `sub`) or makes it — two devices racing, on one node or several, end on one row:
    /// the loser's insert meets the unique index and reads the winner's row — and issues a
    /// new token for it (each device its own). A token older than the newest identity accepted
    /// for the customer is accepted only when it would change nothing; otherwise it is a replay
    /// after the customer's identity changed (`IdentityReplayed`). The newest identity's name
    /// (when it gives one) and email are the visitor's. A banned customer is refused like any
    /// banned visitor. `name` is the visitor name to use when neither the token nor an earlier
    /// identity gives one; `visited`, the page the widget loaded on, joins the visitor's page
    /// views.
    pub(crate) async fn admit_customer(
        &self,
        site_id: SiteId,
        identity: Identity,
        name: String,
        page: PageUpdate,
        visited: Option<PageInfo>,
    ) -> Result<NewVisitor, ServiceError> {
        let ttl = self.settings.auth.visitor_token_ttl_hours;
        let bans = Arc::clone(&self.bans);
        let bound = self
            .store
            .write(move |conn| {
                let now = now_ms();
                let row = match find_or_insert(conn, site_id, &identity, name, now)? {
                    Found::Inserted(row) => row,
                    Found::Existing(row) => {
                        if bans.visitor_banned(row.id.0, now) {
                            return Err(ServiceError::Banned);
                        }
                        row
                    }
                };
                let name = identity.name.clone().unwrap_or_else(|| row.name.clone());
                let email = identity.email.as_ref().map(|email| email.as_str().to_string());
                let newer = row.identity_at.is_none_or(|at| identity.issued_at_ms >= at);
                let changes = name != row.name || email != row.email;
                if newer && (changes || row.identity_at != Some(identity.issued_at_ms)) {
                    visitors::set_identity(conn, row.id, &name, email.as_deref(), identity.issued_at_ms)?;
                } else if !newer && changes {
                    return Err(ServiceError::IdentityReplayed);
                }
                visitors::set_page(conn, row.id, &page)?;
                if let Some(visited) = &visited {
                    page_views::insert(conn, &page_view(row.id, visited, now))?;
                }
                let token = issue_token(conn, PrincipalKind::Visitor, row.id.0, ttl)?;
                Ok(Bound {
                    renamed: name != row.name,
                    visitor: NewVisitor {
                        visitor_id: row.id,
                        name,
                        token,
                        verified: true,
                        customer_id: Some(identity.customer_id.as_str().to_string()),
                    },
                })
            })
            .await?;
        if bound.renamed {
            self.sender_names.forget(bound.visitor.visitor_id.0);
        }
        Ok(bound.visitor)
    }
}

/// The customer's visitor row, and whether this call made it.
enum Found {
    /// Made now, with this identity.
    Inserted(CustomerRow),
    /// There before (or made by a racing request that committed first).
    Existing(CustomerRow),
}

/// Finds the visitor row of (site, customer) or inserts it. The insert runs in a savepoint of
/// its own: when another node inserted the same customer first, the unique index
/// `visitors_customer` refuses it (PostgreSQL waits for that insert to commit), the savepoint
/// is rolled back, and the row that won is read.
fn find_or_insert(
    conn: &mut DbConn,
    site_id: SiteId,
    identity: &Identity,
    name: String,
    now: i64,
) -> Result<Found, ServiceError> {
    let customer_id = identity.customer_id.as_str();
    if let Some(row) = visitors::find_customer(conn, site_id, customer_id)? {
        return Ok(Found::Existing(row));
    }
    let row = CustomerRow {
        id: VisitorId::new(),
        name: identity.name.clone().unwrap_or(name),
        created_at: now,
        site_id: Some(site_id),
        customer_id: Some(customer_id.to_string()),
        email: identity.email.as_ref().map(|email| email.as_str().to_string()),
        verified: 1,
        identity_at: Some(identity.issued_at_ms),
    };
    let inserted = diesel::Connection::transaction::<_, diesel::result::Error, _>(conn, |conn| {
        visitors::insert_customer(conn, &row)
    });
    match inserted {
        Ok(()) => Ok(Found::Inserted(row)),
        Err(error) if is_unique_violation(&error) => visitors::find_customer(conn, site_id, customer_id)?
            .map(Found::Existing)
            .ok_or_else(|| ServiceError::Store(error.into())),
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    use super::*;

    const SECRET: &str = "sbs_the-site-secret";

    fn now() -> i64 {
        now_ms() / 1000
    }

    fn sign(claims: &Value, alg: Algorithm, secret: &str) -> String {
        let key = EncodingKey::from_secret(secret.as_bytes()).expect("a key");
        encode(&Header::new(alg), claims, &key).expect("signs")
    }

    fn good(site: SiteId) -> Value {
        json!({"sub": "u-1", "name": " Ann ", "email": "ann@example.com", "iat": now(), "exp": now() + 600,
               "aud": site.to_string()})
    }

    fn reason(result: Result<Identity, ServiceError>) -> String {
        match result {
            Err(ServiceError::IdentityInvalid(reason)) => reason,
            other => panic!("expected IdentityInvalid, got {other:?}"),
        }
    }

    #[test]
    fn a_token_signed_with_the_site_secret_gives_the_customer() {
        let site = SiteId::new();
        let identity =
            check_identity(&sign(&good(site), Algorithm::HS256, SECRET), site, SECRET).expect("valid");
        assert_eq!(identity.customer_id.as_str(), "u-1");
        assert_eq!(identity.name.as_deref(), Some("Ann"));
        assert_eq!(identity.email.map(|e| e.as_str().to_string()), Some("ann@example.com".into()));
        assert_eq!(identity.issued_at_ms / 1000, now());
        let mut bare = good(site);
        bare.as_object_mut().expect("object").retain(|k, _| ["sub", "iat", "exp"].contains(&k.as_str()));
        let identity = check_identity(&sign(&bare, Algorithm::HS256, SECRET), site, SECRET).expect("valid");
        assert_eq!((identity.name, identity.email), (None, None), "no aud, no name, no email: fine");
    }

    #[test]
    fn another_algorithm_or_none_is_refused_by_name() {
        let site = SiteId::new();
        for alg in [Algorithm::HS384, Algorithm::HS512] {
            let why = reason(check_identity(&sign(&good(site), alg, SECRET), site, SECRET));
            assert!(why.contains("only HS256"), "{why}");
        }
        let payload = URL_SAFE_NO_PAD.encode(good(site).to_string());
        for header in [r#"{"alg":"none","typ":"JWT"}"#, r#"{"alg":"RS256","typ":"JWT"}"#] {
            let token = format!("{}.{payload}.", URL_SAFE_NO_PAD.encode(header));
            let why = reason(check_identity(&token, site, SECRET));
            assert!(why.contains("only HS256"), "{header}: {why}");
        }
        let token = format!("{}.{payload}.", URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT"}"#));
        assert!(reason(check_identity(&token, site, SECRET)).contains("no algorithm"));
    }

    #[test]
    fn a_forged_or_altered_token_is_refused_for_its_signature() {
        let site = SiteId::new();
        let why =
            reason(check_identity(&sign(&good(site), Algorithm::HS256, "another secret"), site, SECRET));
        assert!(why.contains("signature"), "{why}");
        let token = sign(&good(site), Algorithm::HS256, SECRET);
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        let mut claims = good(site);
        claims["sub"] = json!("admin");
        parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
        assert!(reason(check_identity(&parts.join("."), site, SECRET)).contains("signature"));
        for junk in ["", "a.b", "a.b.c.d", "x.y.z"] {
            reason(check_identity(junk, site, SECRET));
        }
    }

    #[test]
    fn times_are_checked_with_a_minute_of_leeway_and_a_day_of_life() {
        let site = SiteId::new();
        let check = |changes: Value| {
            let mut claims = good(site);
            for (k, v) in changes.as_object().expect("object") {
                if v.is_null() {
                    claims.as_object_mut().expect("object").remove(k);
                } else {
                    claims[k] = v.clone();
                }
            }
            check_identity(&sign(&claims, Algorithm::HS256, SECRET), site, SECRET)
        };
        let n = now();
        assert!(reason(check(json!({"exp": n - 120, "iat": n - 600}))).contains("expired"));
        assert!(check(json!({"exp": n - 30, "iat": n - 600})).is_ok(), "within the leeway");
        assert!(reason(check(json!({"iat": n + 300, "exp": n + 900}))).contains("future"));
        assert!(check(json!({"iat": n + 30})).is_ok(), "within the leeway");
        assert!(reason(check(json!({"exp": null}))).contains("exp is missing"));
        assert!(reason(check(json!({"iat": null}))).contains("iat is missing"));
        assert!(reason(check(json!({"iat": "yesterday"}))).contains("iat must be a number"));
        assert!(reason(check(json!({"exp": n + 86_401, "iat": n}))).contains("longer than 24 hours"));
        assert!(check(json!({"exp": n + 86_400, "iat": n})).is_ok());
        assert!(reason(check(json!({"nbf": n + 600}))).contains("nbf"));
        assert!(check(json!({"iat": (n as f64) + 0.5})).is_ok(), "a fraction of a second is dropped");
    }

    #[test]
    fn the_claims_are_checked_by_the_rules_of_their_fields() {
        let site = SiteId::new();
        let check = |name: &str, value: Value| {
            let mut claims = good(site);
            claims[name] = value;
            check_identity(&sign(&claims, Algorithm::HS256, SECRET), site, SECRET)
        };
        assert!(reason(check("aud", json!(SiteId::new().to_string()))).contains("another site"));
        assert!(check("aud", json!([SiteId::new().to_string(), site.to_string()])).is_ok());
        assert!(reason(check("sub", json!(""))).contains("sub"));
        assert!(reason(check("sub", json!("x".repeat(129)))).contains("sub"));
        assert!(reason(check("sub", json!(42))).contains("sub"));
        assert!(reason(check("name", json!("x".repeat(65)))).contains("name"));
        assert!(reason(check("name", json!("a\nb"))).contains("name"));
        assert!(reason(check("email", json!("not an address"))).contains("email"));
        assert!(reason(check("email", json!(7))).contains("email"));
        assert_eq!(check("email", json!("  ")).expect("blank is absent").email, None);
        let long =
            format!("{}.", sign(&good(site), Algorithm::HS256, SECRET)) + &"x".repeat(MAX_IDENTITY_CHARS);
        assert!(reason(check_identity(&long, site, SECRET)).contains("longer"));
    }
}
