//! First run: while no agent exists at all, anyone who can reach the server may create the
//! first admin (the console shows the form), so `cargo run --release` needs no command line.
//! The check and the insert share one transaction under the queue lock, so two racing forms
//! cannot both win.

use super::agents::{AgentSpec, LoginOutcome};
use super::auth::issue_token;
use super::{ServiceError, Services};
use crate::domain::{PrincipalKind, Role};
use crate::store::agents;

impl Services {
    /// Whether the first admin still has to be created.
    pub async fn setup_needed(&self) -> Result<bool, ServiceError> {
        let count = self.store.run(|conn| agents::count(conn).map_err(ServiceError::from)).await?;
        Ok(count == 0)
    }

    /// Creates the first admin and logs it in; `SetupDone` once any agent exists.
    pub async fn set_up_first_admin(
        &self,
        employee_id: &str,
        name: &str,
        password: &str,
    ) -> Result<LoginOutcome, ServiceError> {
        let spec = AgentSpec {
            employee_id: employee_id.to_string(),
            name: name.to_string(),
            password: password.to_string(),
            max_chats: None,
            role: Role::Admin,
        };
        // Hashing is deliberately costly: refuse before it once setup is over, so this open
        // route cannot be used to make the server hash. The transaction below decides races.
        if !self.setup_needed().await? {
            return Err(ServiceError::SetupDone);
        }
        let agent = self.prepare_agent(spec).await?;
        let ttl = self.settings.auth.agent_token_ttl_hours;
        let token = self
            .store
            .write(move |conn| {
                super::queue::lock(conn)?;
                if agents::count(conn)? > 0 {
                    return Err(ServiceError::SetupDone);
                }
                let id = agent.insert(conn)?;
                let token = issue_token(conn, PrincipalKind::Agent, id.0, ttl)?;
                Ok((agent, token))
            })
            .await;
        let (agent, token) = token?;
        Ok(LoginOutcome {
            agent_id: agent.id,
            employee_id: agent.employee_id.as_str().to_string(),
            name: agent.name,
            role: agent.role.as_str().to_string(),
            max_chats: agent.max_chats,
            token,
        })
    }
}
