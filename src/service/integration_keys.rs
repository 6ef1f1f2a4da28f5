//! Integration keys: what outside systems (a CRM, a data warehouse) present to read the event
//! feed. Admins create, list and revoke them.
//!
//! Rules:
//! - a key is `sbk_` and 43 random characters (32 bytes); it is shown once, when it is made, and
//!   the store keeps only its SHA-256, like tokens. The prefix keeps keys and tokens apart: a key
//!   is never taken as an agent's or visitor's token (`authenticate` refuses it before looking),
//!   and a token is never taken as a key;
//! - a key grants its scopes only (`domain::Scope`); a scope this server does not know is
//!   refused when the key is made;
//! - every request with a key reads the store, so a revoked key is refused at once on every
//!   node (integrations are few; their requests are long polls);
//! - a revoked key stays listed (with `revoked_at`); revoking it again changes nothing.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::Serialize;
use uuid::Uuid;

use super::auth::hash_token;
use super::{require_admin, ServiceError, Services};
use crate::domain::{now_ms, AgentId, KeyName, Principal, Scope, Scopes};
use crate::store::agents;
use crate::store::integration_keys::{self, IntegrationKeyRow};
use crate::store::DbConn;

/// What every integration key starts with.
pub const KEY_PREFIX: &str = "sbk_";

/// How many of a key's first characters are kept to tell keys apart (`sbk_` and 8 more).
const SHOWN_PREFIX_CHARS: usize = 12;

/// A key's last use is written at most this often (ms): a busy reader does not make a write per
/// request.
const TOUCH_EVERY_MS: i64 = 60_000;

/// An integration key as the admin pages show it; never the key itself.
#[derive(Debug, Clone, Serialize)]
pub struct IntegrationKeyView {
    /// Its id.
    pub key_id: String,
    /// What the admin called it.
    pub name: String,
    /// The key's first characters (`sbk_AbCdEfGh`), to tell keys apart.
    pub prefix: String,
    /// What it may do.
    pub scopes: Vec<&'static str>,
    /// The admin who made it.
    pub created_by: AgentId,
    /// That admin's name, if the agent still exists.
    pub created_by_name: Option<String>,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms of its last use (to the minute), `None` if never used.
    pub last_used_at: Option<i64>,
    /// Epoch ms of its revocation, `None` while it works.
    pub revoked_at: Option<i64>,
}

/// The integration behind a key that was just checked.
#[derive(Debug, Clone)]
pub struct Integration {
    /// The key's id.
    pub key_id: String,
    /// What it may do.
    pub scopes: Scopes,
}

/// A fresh key and the hash the store keeps of it.
fn new_key() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let key = format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash_token(&key);
    (key, hash)
}

/// Whether `token` is shaped like an integration key (so it is no session token).
pub fn is_integration_key(token: &str) -> bool {
    token.starts_with(KEY_PREFIX)
}

fn view(conn: &mut DbConn, row: IntegrationKeyRow) -> Result<IntegrationKeyView, ServiceError> {
    let created_by_name = agents::find(conn, row.created_by)?.map(|agent| agent.name);
    Ok(IntegrationKeyView {
        key_id: row.id,
        name: row.name,
        prefix: row.key_prefix,
        scopes: Scopes::from_store(&row.scopes).names().collect(),
        created_by: row.created_by,
        created_by_name,
        created_at: row.created_at,
        last_used_at: row.last_used_at,
        revoked_at: row.revoked_at,
    })
}

impl Services {
    /// Every integration key, revoked ones too, newest first (admins only).
    pub async fn integration_keys(
        &self,
        principal: &Principal,
    ) -> Result<Vec<IntegrationKeyView>, ServiceError> {
        require_admin(principal)?;
        self.store
            .run(move |conn| {
                let rows = integration_keys::all(conn)?;
                rows.into_iter().map(|row| view(conn, row)).collect()
            })
            .await
    }

    /// Makes a key (admins only): the key as listed, and the key itself, which is shown this
    /// once and never again.
    pub async fn create_integration_key(
        &self,
        principal: &Principal,
        name: KeyName,
        scopes: Scopes,
    ) -> Result<(IntegrationKeyView, String), ServiceError> {
        let admin = require_admin(principal)?;
        let (key, key_hash) = new_key();
        let row = IntegrationKeyRow {
            id: Uuid::new_v4().to_string(),
            name: name.as_str().to_string(),
            key_hash,
            key_prefix: key.chars().take(SHOWN_PREFIX_CHARS).collect(),
            scopes: scopes.to_store(),
            created_by: admin,
            created_at: now_ms(),
            last_used_at: None,
            revoked_at: None,
        };
        let view = self
            .store
            .write(move |conn| {
                integration_keys::insert(conn, &row)?;
                view(conn, row)
            })
            .await?;
        Ok((view, key))
    }

    /// Revokes a key (admins only): refused from now on, on every node. Revoking a revoked key
    /// changes nothing.
    pub async fn revoke_integration_key(
        &self,
        principal: &Principal,
        key_id: Uuid,
    ) -> Result<IntegrationKeyView, ServiceError> {
        require_admin(principal)?;
        self.store
            .write(move |conn| {
                let id = key_id.to_string();
                integration_keys::revoke(conn, &id, now_ms())?;
                let row = integration_keys::find(conn, &id)?.ok_or(ServiceError::IntegrationKeyNotFound)?;
                view(conn, row)
            })
            .await
    }

    /// The integration holding `key`, if the key is live and grants `scope`: 401 for no key, a
    /// session token, or an unknown or revoked key; 403 for a key without `scope`.
    pub async fn authenticate_integration(
        &self,
        key: Option<&str>,
        scope: Scope,
    ) -> Result<Integration, ServiceError> {
        let key = key
            .filter(|key| is_integration_key(key) && key.len() <= 128)
            .ok_or(ServiceError::Unauthorized)?;
        let key_hash = hash_token(key);
        let row = self
            .store
            .run(move |conn| integration_keys::find_live(conn, &key_hash).map_err(ServiceError::from))
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        let integration = Integration { key_id: row.id, scopes: Scopes::from_store(&row.scopes) };
        if !integration.scopes.grants(scope) {
            return Err(ServiceError::Forbidden("this integration key lacks the scope this needs"));
        }
        let now = now_ms();
        if row.last_used_at.is_none_or(|used| now.saturating_sub(used) >= TOUCH_EVERY_MS) {
            // Beside the request: a failed note of the last use must not fail the read.
            let store = self.store.clone();
            let id = integration.key_id.clone();
            tokio::spawn(async move {
                let touched = store
                    .write(move |conn| integration_keys::touch(conn, &id, now).map_err(ServiceError::from))
                    .await;
                if let Err(error) = touched {
                    log::debug!("integration key: its last use was not recorded: {error}");
                }
            });
        }
        Ok(integration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_has_its_prefix_is_long_and_random_and_stored_only_as_its_hash() {
        let (key, hash) = new_key();
        let (other, _) = new_key();
        assert!(is_integration_key(&key));
        assert_eq!(key.len(), KEY_PREFIX.len() + 43);
        assert_ne!(key, other);
        assert_eq!(hash, hash_token(&key));
        assert!(!hash.contains(&key[KEY_PREFIX.len()..]));
    }
}
