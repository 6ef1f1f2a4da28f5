//! Agents: created by an admin (CLI for now), logging in with employee id and password, and
//! the list of agents a visitor may pick from.

use serde::Serialize;

use super::auth::issue_token;
use super::error::is_unique_violation;
use super::passwords::{hash_password, verify_password};
use super::{ServiceError, Services};
use crate::domain::{
    now_ms, refuse_nul, AgentId, AgentStatus, EmployeeId, InvalidInput, Principal, PrincipalKind, Role,
};
use crate::store::agents::{self, AgentRow, NewAgent};
use crate::store::tokens;
use crate::store::DbConn;

/// What an admin gives to create an agent.
#[derive(Debug, Clone)]
pub struct AgentSpec {
    /// Fixed login id.
    pub employee_id: String,
    /// Display name.
    pub name: String,
    /// Initial password.
    pub password: String,
    /// Most chats at once; `None` takes `chat.default_agent_max_chats`.
    pub max_chats: Option<i32>,
    /// Agent or admin.
    pub role: Role,
}

/// An agent as listed to admins.
#[derive(Debug, Clone, Serialize)]
pub struct AgentSummary {
    /// Id.
    pub agent_id: AgentId,
    /// Login id.
    pub employee_id: String,
    /// Display name.
    pub name: String,
    /// `agent` or `admin`.
    pub role: String,
    /// What the agent chose (being connected is `online` below).
    pub status: AgentStatus,
    /// Most chats at once.
    pub max_chats: i32,
    /// Chats held now.
    pub active_chats: i32,
    /// Whether the agent is disabled.
    pub disabled: bool,
    /// Whether the agent is present in this node's hub now (holding or recently holding a poll).
    pub online: bool,
}

/// What an admin changes of an agent; at least one field is set.
#[derive(Debug, Clone, Default)]
pub struct AgentUpdate {
    /// New display name.
    pub name: Option<String>,
    /// New capacity; raising it hands waiting chats to the agent at once.
    pub max_chats: Option<i32>,
}

/// An agent as offered to visitors.
#[derive(Debug, Clone, Serialize)]
pub struct AvailableAgent {
    /// Id.
    pub agent_id: AgentId,
    /// Display name.
    pub name: String,
    /// Chats held now.
    pub active_chats: i32,
    /// Most chats at once.
    pub max_chats: i32,
    /// Whether it can take one more chat now.
    pub available: bool,
}

/// A new agent whose fields are checked and whose password is hashed.
pub(crate) struct PreparedAgent {
    pub id: AgentId,
    pub employee_id: EmployeeId,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub max_chats: i32,
}

impl PreparedAgent {
    /// Inserts the agent; a taken employee id is `EmployeeIdTaken`.
    pub fn insert(&self, conn: &mut DbConn) -> Result<AgentId, ServiceError> {
        let row = NewAgent {
            id: self.id,
            employee_id: self.employee_id.as_str(),
            name: &self.name,
            password_hash: &self.password_hash,
            role: self.role.as_str(),
            max_chats: self.max_chats,
            created_at: now_ms(),
        };
        agents::insert(conn, &row).map_err(|e| {
            if is_unique_violation(&e) {
                ServiceError::EmployeeIdTaken
            } else {
                e.into()
            }
        })?;
        Ok(self.id)
    }
}

/// A successful login.
#[derive(Debug, Clone, Serialize)]
pub struct LoginOutcome {
    /// Id.
    pub agent_id: AgentId,
    /// Login id.
    pub employee_id: String,
    /// Display name.
    pub name: String,
    /// `agent` or `admin`.
    pub role: String,
    /// Most chats at once.
    pub max_chats: i32,
    /// Bearer token.
    pub token: String,
}

impl From<AgentRow> for AgentSummary {
    fn from(row: AgentRow) -> Self {
        Self {
            agent_id: row.id,
            employee_id: row.employee_id,
            name: row.name,
            role: row.role,
            status: row.status,
            max_chats: row.max_chats,
            active_chats: row.active_chats,
            disabled: row.disabled != 0,
            online: false,
        }
    }
}

/// Longest password, in characters.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Longest agent name, in characters.
pub const MAX_AGENT_NAME_CHARS: usize = 64;

/// Checks a new password: 8–128 characters. Only its hash is stored, so it may hold any
/// character.
pub fn check_password(password: &str) -> Result<(), InvalidInput> {
    let length = password.chars().count();
    if !(8..=MAX_PASSWORD_CHARS).contains(&length) {
        return Err(InvalidInput::new("password", "must be 8–128 characters"));
    }
    Ok(())
}

/// An agent's display name: 1–64 characters once trimmed, no NUL.
pub fn agent_name(name: &str) -> Result<String, InvalidInput> {
    refuse_nul(name, "name")?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_AGENT_NAME_CHARS {
        return Err(InvalidInput::new("name", "must be 1–64 characters"));
    }
    Ok(name.to_string())
}

/// Checks a capacity: 1–100 chats.
pub fn check_max_chats(max_chats: i32) -> Result<(), InvalidInput> {
    if !(1..=100).contains(&max_chats) {
        return Err(InvalidInput::new("max_chats", "must be between 1 and 100"));
    }
    Ok(())
}

/// A hash checked when the employee id is unknown, so that a wrong id takes as long as a wrong
/// password and the answer does not reveal which ids exist.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password").unwrap_or_default())
}

impl Services {
    /// Hashes a password on the hashing threads (argon2 is deliberately slow and large).
    async fn hash_in_background(&self, password: String) -> Result<String, ServiceError> {
        self.on_hashing_thread(move || hash_password(&password)).await?
    }

    /// Runs `work` on a password hashing thread; `HashingBusy` when its queue is full.
    async fn on_hashing_thread<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        // A job that did not finish (a panic in the hasher) is refused as busy, never let in.
        self.hashing.run(work).await.map_err(|_| ServiceError::HashingBusy)
    }

    /// Creates an agent.
    pub async fn create_agent(&self, spec: AgentSpec) -> Result<AgentId, ServiceError> {
        let agent = self.prepare_agent(spec).await?;
        self.store.write(move |conn| agent.insert(conn)).await
    }

    /// Checks a new agent's fields and hashes its password, ready to insert.
    pub(crate) async fn prepare_agent(&self, spec: AgentSpec) -> Result<PreparedAgent, ServiceError> {
        let employee_id = EmployeeId::parse(&spec.employee_id)?;
        let name = agent_name(&spec.name)?;
        check_password(&spec.password)?;
        let max_chats = spec.max_chats.unwrap_or(self.settings.chat.default_agent_max_chats);
        check_max_chats(max_chats)?;
        let password_hash = self.hash_in_background(spec.password).await?;
        Ok(PreparedAgent { id: AgentId::new(), employee_id, name, password_hash, role: spec.role, max_chats })
    }

    /// Every agent, with whether it is online now (on any node).
    pub async fn list_agents(&self) -> Result<Vec<AgentSummary>, ServiceError> {
        let rows = self.store.run(|conn| agents::list(conn).map_err(ServiceError::from)).await?;
        let present = self.present_agents().await?;
        Ok(rows.into_iter().map(|row| summary(row, &present)).collect())
    }

    /// One agent by login id, with whether it is online now (on any node).
    pub async fn find_agent(&self, employee_id: &str) -> Result<AgentSummary, ServiceError> {
        let employee_id = EmployeeId::parse(employee_id)?;
        let row = self
            .store
            .run(move |conn| {
                agents::find_by_employee_id(conn, employee_id.as_str()).map_err(ServiceError::from)
            })
            .await?;
        let row = row.ok_or(ServiceError::AgentNotFound)?;
        Ok(summary(row, &self.present_agents().await?))
    }

    /// Sets an agent's `max_chats`; see [`Services::update_agent`].
    pub async fn set_agent_capacity(&self, employee_id: &str, max_chats: i32) -> Result<(), ServiceError> {
        let update = AgentUpdate { max_chats: Some(max_chats), ..AgentUpdate::default() };
        self.update_agent(employee_id, update).await.map(drop)
    }

    /// Changes an agent's name and/or capacity and answers the agent as it is after. A new
    /// capacity is set under the queue lock and the queue drained in the same transaction, so
    /// raising it hands waiting chats to the agent at once (when it is present on this node).
    pub async fn update_agent(
        &self,
        employee_id: &str,
        update: AgentUpdate,
    ) -> Result<AgentSummary, ServiceError> {
        let employee_id = EmployeeId::parse(employee_id)?;
        let name = update.name.as_deref().map(agent_name).transpose()?;
        if let Some(max_chats) = update.max_chats {
            check_max_chats(max_chats)?;
        }
        if name.is_none() && update.max_chats.is_none() {
            return Err(InvalidInput::new("max_chats", "is required when `name` is not given").into());
        }
        let changes = agents::AgentChanges { name, max_chats: update.max_chats };
        let present = self.present_agents().await?;
        let row = self
            .write_chat(move |conn| {
                let capacity_changed = changes.max_chats.is_some();
                if capacity_changed {
                    // Lock order (see `queue`): the queue lock before any agent row.
                    super::queue::lock(conn)?;
                }
                if !agents::update(conn, employee_id.as_str(), &changes)? {
                    return Err(ServiceError::AgentNotFound);
                }
                let assigned =
                    if capacity_changed { super::queue::drain_locked(conn, &present)? } else { Vec::new() };
                let row = agents::find_by_employee_id(conn, employee_id.as_str())?
                    .ok_or(ServiceError::AgentNotFound)?;
                Ok((row, assigned))
            })
            .await?;
        // A new name shows in this node's next message of the agent at once.
        self.sender_names.forget(row.id.0);
        Ok(summary(row, &self.present_agents().await?))
    }

    /// Sets a new password and revokes every token the agent holds, in one transaction.
    pub async fn reset_agent_password(&self, employee_id: &str, password: &str) -> Result<(), ServiceError> {
        let employee_id = EmployeeId::parse(employee_id)?;
        check_password(password)?;
        let password_hash = self.hash_in_background(password.to_string()).await?;
        let id = self
            .store
            .write(move |conn| {
                let id = agents::set_password_hash(conn, employee_id.as_str(), &password_hash)?
                    .ok_or(ServiceError::AgentNotFound)?;
                tokens::delete_for_principal(conn, id.0)?;
                Ok::<_, ServiceError>(id)
            })
            .await?;
        self.forget_tokens_of(id);
        Ok(())
    }

    /// Drops an agent's tokens from the token cache after a change the store already holds.
    fn forget_tokens_of(&self, agent_id: AgentId) {
        self.relay.forget_holder(agent_id.0);
    }

    /// Disables (or re-enables) an agent; a disabled agent's tokens stop working at once.
    pub async fn set_agent_disabled(&self, employee_id: &str, disabled: bool) -> Result<(), ServiceError> {
        let employee_id = EmployeeId::parse(employee_id)?;
        let id = self
            .store
            .write(move |conn| {
                if !agents::set_disabled(conn, employee_id.as_str(), disabled)? {
                    return Err(ServiceError::AgentNotFound);
                }
                let row = agents::find_by_employee_id(conn, employee_id.as_str())?;
                Ok(row.ok_or(ServiceError::AgentNotFound)?.id)
            })
            .await?;
        self.forget_tokens_of(id);
        Ok(())
    }

    /// Checks employee id and password and issues a token. Unknown id and wrong password give
    /// the same answer after the same work.
    pub async fn login(&self, employee_id: &str, password: &str) -> Result<LoginOutcome, ServiceError> {
        // A malformed id cannot exist: it too is checked against the decoy, so that no answer
        // and no timing tells one kind of unknown id from another, or from a wrong password.
        let row = match EmployeeId::parse(employee_id) {
            Ok(employee_id) => {
                self.store
                    .run(move |conn| {
                        agents::find_by_employee_id(conn, employee_id.as_str()).map_err(ServiceError::from)
                    })
                    .await?
            }
            Err(_) => None,
        };
        let password = password.to_string();
        let stored_hash = row.as_ref().map(|r| r.password_hash.clone());
        let matches = self
            .on_hashing_thread(move || {
                // Made by the first login of any kind, so that it is not the first unknown id
                // that pays for hashing the decoy.
                let decoy = decoy_hash();
                verify_password(&password, stored_hash.as_deref().unwrap_or(decoy))
            })
            .await?;
        let agent = match row {
            Some(agent) if matches && agent.disabled == 0 => agent,
            _ => return Err(ServiceError::InvalidCredentials),
        };
        let ttl = self.settings.auth.agent_token_ttl_hours;
        let agent_id = agent.id;
        let token = self
            .store
            .write(move |conn| {
                Ok::<_, ServiceError>(issue_token(conn, PrincipalKind::Agent, agent_id.0, ttl)?)
            })
            .await?;
        Ok(LoginOutcome {
            agent_id: agent.id,
            employee_id: agent.employee_id,
            name: agent.name,
            role: agent.role,
            max_chats: agent.max_chats,
            token,
        })
    }

    /// Agents a visitor may pick now: present (polling), status `online`, not disabled.
    pub async fn available_agents(&self) -> Result<Vec<AvailableAgent>, ServiceError> {
        let present = self.present_agents().await?;
        if present.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self
            .store
            .run(move |conn| agents::find_enabled(conn, &present).map_err(ServiceError::from))
            .await?;
        Ok(rows
            .into_iter()
            // Present (`present` above) and enabled (`find_enabled`); away agents are not listed.
            .filter(|row| super::capacity::can_take_chats(row, true))
            .map(|row| AvailableAgent {
                available: row.active_chats < row.max_chats,
                agent_id: row.id,
                name: row.name,
                active_chats: row.active_chats,
                max_chats: row.max_chats,
            })
            .collect())
    }

    /// An agent switches between `online` and `away`. Away agents keep their chats but get no
    /// new ones; coming back online hands them waiting chats.
    pub async fn set_agent_status(&self, principal: &Principal, status: &str) -> Result<(), ServiceError> {
        let Principal::Agent(agent_id, _) = *principal else {
            return Err(ServiceError::Forbidden("only agents have a status"));
        };
        let status = AgentStatus::parse(status, "status")?;
        let present = self.present_agents().await?;
        self.write_chat(move |conn| {
            super::queue::lock(conn)?;
            agents::set_status(conn, agent_id, status)?;
            let assigned = if status == AgentStatus::Online {
                super::queue::drain_locked(conn, &present)?
            } else {
                Vec::new()
            };
            Ok(((), assigned))
        })
        .await
    }
}

/// An agent as listed, with `online` from `present`.
fn summary(row: AgentRow, present: &[AgentId]) -> AgentSummary {
    let online = present.contains(&row.id);
    AgentSummary { online, ..AgentSummary::from(row) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_name_is_trimmed_1_to_64_characters_without_a_nul() {
        assert_eq!(agent_name("  Alice "), Ok("Alice".to_string()));
        assert!(agent_name(&"名".repeat(MAX_AGENT_NAME_CHARS)).is_ok());
        for bad in ["", "   ", "Al\0ice"] {
            assert_eq!(agent_name(bad).map_err(|e| e.field), Err("name"), "{bad:?}");
        }
        assert!(agent_name(&"x".repeat(MAX_AGENT_NAME_CHARS + 1)).is_err());
    }
}
