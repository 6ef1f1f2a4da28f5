//! Making the people of a run through the public API: the first admin (`POST /api/setup`, or
//! a login on a server that is already set up), agents (the admin API, then their own login),
//! and anonymous visitors.

use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use serde::Deserialize;
use serde_json::json;

use crate::client::{decode, Api, CallError};
use crate::report::Progress;
use crate::stats::Stats;

const SETUP_TIMEOUT: Duration = Duration::from_secs(60);

/// A logged-in agent.
#[derive(Debug, Clone)]
pub struct Agent {
    /// Its id (what a visitor names to choose it).
    pub agent_id: String,
    /// Its bearer token.
    pub token: String,
}

/// A visitor and its token.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// Its bearer token.
    pub token: String,
}

#[derive(Deserialize)]
struct LoginAnswer {
    agent_id: String,
    token: String,
}

#[derive(Deserialize)]
struct VisitorAnswer {
    token: String,
}

/// A token of an admin: the first admin of a fresh server, or a login of `employee_id`.
pub async fn admin_token(api: &Api, employee_id: &str, password: &str) -> Result<String, String> {
    let setup = json!({ "employee_id": employee_id, "name": "Load Admin", "password": password });
    match api.post(0, "/api/setup", None, &setup, SETUP_TIMEOUT).await {
        Ok(body) => {
            return decode::<LoginAnswer>(body.as_ref(), "setup answer")
                .map(|answer| answer.token)
                .map_err(|e| e.kind("POST /api/setup"))
        }
        Err(error) if error.code() == Some("setup_done") => {}
        Err(error) => return Err(error.kind("POST /api/setup")),
    }
    login(api, 0, employee_id, password).await.map(|agent| agent.token).map_err(|error| {
        format!(
            "{} — the server is already set up: pass --admin-employee-id and --admin-password of an admin",
            error.kind("POST /api/agent/login")
        )
    })
}

async fn login(api: &Api, slot: usize, employee_id: &str, password: &str) -> Result<Agent, CallError> {
    let body = json!({ "employee_id": employee_id, "password": password });
    let answer = api.post(slot, "/api/agent/login", None, &body, SETUP_TIMEOUT).await?;
    let answer = decode::<LoginAnswer>(answer.as_ref(), "login answer")?;
    Ok(Agent { agent_id: answer.agent_id, token: answer.token })
}

/// Creates `count` agents taking `max_chats` each and logs each in. Employee ids carry a run
/// tag so that runs against one server do not collide.
pub async fn agents(
    api: &Api,
    stats: &Stats,
    progress: &Progress,
    admin: &str,
    count: usize,
    max_chats: usize,
    concurrency: usize,
) -> Result<Vec<Agent>, String> {
    let run = format!("{:06x}", rand::random::<u32>() & 0xff_ffff);
    let password = "load-agent-password";
    progress.phase("creating and logging in agents", Some(count as u64));
    let results: Vec<Result<Agent, String>> = stream::iter(0..count)
        .map(|index| {
            let employee_id = format!("L{run}-{index}");
            async move {
                let body = json!({
                    "employee_id": employee_id,
                    "name": format!("Load agent {index}"),
                    "password": password,
                    "max_chats": max_chats,
                });
                let outcome =
                    match api.post(index, "/api/admin/agents", Some(admin), &body, SETUP_TIMEOUT).await {
                        Err(error) => Err(error.kind("POST /api/admin/agents")),
                        Ok(_) => login(api, index, &employee_id, password)
                            .await
                            .map_err(|error| error.kind("POST /api/agent/login")),
                    };
                progress.inc();
                outcome
            }
        })
        .buffered(concurrency.max(1))
        .collect()
        .await;
    collect(stats, results, "agents")
}

/// Creates `count` anonymous visitors.
pub async fn visitors(
    api: &Api,
    stats: &Stats,
    progress: &Progress,
    count: usize,
    concurrency: usize,
) -> Result<Vec<Visitor>, String> {
    progress.phase("creating visitors", Some(count as u64));
    let results: Vec<Result<Visitor, String>> = stream::iter(0..count)
        .map(|index| async move {
            let body = json!({ "name": format!("Load visitor {index}") });
            let outcome = api
                .post(index, "/api/visitors", None, &body, SETUP_TIMEOUT)
                .await
                .and_then(|body| decode::<VisitorAnswer>(body.as_ref(), "visitor answer"))
                .map(|answer| Visitor { token: answer.token })
                .map_err(|error| error.kind("POST /api/visitors"));
            progress.inc();
            outcome
        })
        .buffered(concurrency.max(1))
        .collect()
        .await;
    collect(stats, results, "visitors")
}

/// Keeps the successes; counts the failures as errors and fails when nothing succeeded.
fn collect<T>(stats: &Stats, results: Vec<Result<T, String>>, what: &str) -> Result<Vec<T>, String> {
    let wanted = results.len();
    let mut made = Vec::with_capacity(wanted);
    for result in results {
        match result {
            Ok(item) => made.push(item),
            Err(kind) => stats.error(kind),
        }
    }
    if made.is_empty() && wanted > 0 {
        return Err(format!("no {what} could be created (see the errors)"));
    }
    Ok(made)
}
