//! Tokens: 32 random bytes shown once to the client; the store keeps their SHA-256 only.
//! Password hashes are `service::passwords`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::token_cache::TokenDigest;
use super::{ServiceError, Services};
use crate::domain::{now_ms, AgentId, Principal, PrincipalKind, Role, VisitorId};
use crate::store::{agents, tokens, DbConn, StoreError};

/// Length of a token: 32 bytes in unpadded URL-safe base64.
pub const TOKEN_CHARS: usize = 43;

/// A fresh bearer token ([`TOKEN_CHARS`] characters) and the hash the store keeps of it.
pub fn new_token() -> (String, String) {
    let token = loop {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        // One in 16.7 million would look like an integration key, which is never a token.
        if !super::integration_keys::is_integration_key(&token) {
            break token;
        }
    };
    let hash = hash_token(&token);
    (token, hash)
}

/// A token's SHA-256: the token cache's key.
pub fn token_digest(token: &str) -> TokenDigest {
    Sha256::digest(token.as_bytes()).into()
}

/// The store's name for a token: its SHA-256 in hex.
pub fn hash_token(token: &str) -> String {
    hex(&token_digest(token))
}

fn hex(digest: &TokenDigest) -> String {
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Stores a token for `kind`/`id` valid for `ttl_hours`; returns the token to hand out.
pub fn issue_token(
    conn: &mut DbConn,
    kind: PrincipalKind,
    id: uuid::Uuid,
    ttl_hours: u64,
) -> Result<String, StoreError> {
    let (token, token_hash) = new_token();
    let now = now_ms();
    let ttl_ms = i64::try_from(ttl_hours.saturating_mul(3_600_000)).unwrap_or(i64::MAX);
    tokens::insert(
        conn,
        &tokens::TokenRow {
            token_hash,
            principal_kind: kind.as_str().to_string(),
            principal_id: id.to_string(),
            created_at: now,
            expires_at: now.saturating_add(ttl_ms),
        },
    )?;
    Ok(token)
}

impl Services {
    /// Who holds `token`, or `Unauthorized`: from memory when it can answer (see
    /// `service::token_cache`), from the store otherwise.
    pub async fn authenticate(&self, token: Option<&str>) -> Result<Principal, ServiceError> {
        // An integration key is no session token, whatever the store holds (`integration_keys`).
        let token = token
            .filter(|t| !t.is_empty() && t.len() <= 128 && !super::integration_keys::is_integration_key(t))
            .ok_or(ServiceError::Unauthorized)?;
        let digest = token_digest(token);
        if let Some(principal) = self.tokens.get(&digest, now_ms()) {
            return Ok(principal);
        }
        let token_hash = hex(&digest);
        let (principal, expires_at) = self
            .store
            .run(move |conn| {
                let row =
                    tokens::find_live(conn, &token_hash, now_ms())?.ok_or(ServiceError::Unauthorized)?;
                let id = uuid::Uuid::parse_str(&row.principal_id).map_err(|_| ServiceError::Unauthorized)?;
                let principal = match row.principal_kind.as_str() {
                    "visitor" => Principal::Visitor(VisitorId(id)),
                    "agent" => {
                        let agent = agents::find(conn, AgentId(id))?.ok_or(ServiceError::Unauthorized)?;
                        if agent.disabled != 0 {
                            return Err(ServiceError::Unauthorized);
                        }
                        Principal::Agent(AgentId(id), Role::from_store(&agent.role))
                    }
                    _ => return Err(ServiceError::Unauthorized),
                };
                Ok((principal, row.expires_at))
            })
            .await?;
        self.tokens.remember(digest, principal, expires_at);
        Ok(principal)
    }

    /// Revokes `token` (logout).
    pub async fn revoke_token(&self, token: &str) -> Result<(), ServiceError> {
        let digest = token_digest(token);
        let token_hash = hex(&digest);
        self.store.write(move |conn| tokens::delete(conn, &token_hash).map_err(ServiceError::from)).await?;
        // A lookup that read the store just before the delete may still put it back; for an
        // agent token (the only kind that logs out) that lasts `agent_token_recheck_secs`.
        self.relay.forget_token(&digest);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_long_random_and_stored_only_as_its_hash() {
        let (token, hash) = new_token();
        let (other, _) = new_token();
        assert_eq!(token.len(), 43);
        assert_ne!(token, other);
        assert_eq!(hash, hash_token(&token));
        assert!(!hash.contains(&token));
    }
}
