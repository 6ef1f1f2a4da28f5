//! The `switchboard` command line: `serve`, `migrate`, `backup`,
//! `agent add|list|set-capacity|disable|enable`.

use std::io::BufRead;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::domain::Role;
use crate::hub::{Hub, HubSettings};
use crate::service::agents::AgentSpec;
use crate::service::{ServiceError, Services};
use crate::startup::Application;
use crate::store::Store;

/// Switchboard: customer-service live chat over plain HTTP long-polling.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// The config file; missing means all defaults. Keys can be overridden with
    /// `SWITCHBOARD_<SECTION>__<KEY>` environment variables.
    #[arg(long, short, global = true, env = "SWITCHBOARD_CONFIG", default_value = "config.toml")]
    pub config: PathBuf,
    /// What to do; `serve` when left out.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (migrates the store first).
    Serve,
    /// Apply pending store migrations and exit.
    Migrate,
    /// Copy the SQLite store to a new file while the server keeps running; the copy is checked
    /// with integrity_check. (PostgreSQL: use pg_dump.)
    Backup {
        /// The new file; never overwritten.
        destination: PathBuf,
    },
    /// Manage agents.
    #[command(subcommand)]
    Agent(AgentCommand),
}

/// `agent …` subcommands.
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Create an agent. The password comes from --password or, if absent, the first line of
    /// standard input.
    Add {
        /// Fixed login id, e.g. E1001.
        #[arg(long)]
        employee_id: String,
        /// Display name shown to visitors.
        #[arg(long)]
        name: String,
        /// Most chats at once (default: chat.default_agent_max_chats).
        #[arg(long)]
        max_chats: Option<i32>,
        /// Password (8–128 characters); prefer standard input, which stays out of shell history.
        #[arg(long)]
        password: Option<String>,
        /// Make the agent an admin.
        #[arg(long)]
        admin: bool,
    },
    /// List agents.
    List,
    /// Change an agent's capacity.
    SetCapacity {
        /// The agent's login id.
        employee_id: String,
        /// Most chats at once.
        max_chats: i32,
    },
    /// Disable an agent (it cannot log in or take chats; its tokens stop working).
    Disable {
        /// The agent's login id.
        employee_id: String,
    },
    /// Re-enable a disabled agent.
    Enable {
        /// The agent's login id.
        employee_id: String,
    },
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad settings.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The server could not start.
    #[error(transparent)]
    Startup(#[from] crate::startup::StartupError),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] crate::store::StoreOpenError),
    /// The backup was not made.
    #[error(transparent)]
    Backup(#[from] crate::store::backup::BackupError),
    /// A rule refused the command.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// Reading input or serving failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let settings = Settings::load(&cli.config)?;
    // Logging needs `[log] format`, so it starts once the settings are read; a config that
    // does not load is reported by the caller on standard error, before any log line.
    crate::logging::init(&settings.log);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Migrate => {
            open_store(&settings).await?;
            println!("store is up to date");
            Ok(())
        }
        Command::Backup { destination } => {
            let (url, busy) = (settings.store.url.clone(), settings.store.sqlite_busy_timeout_ms);
            let copy = destination.clone();
            tokio::task::spawn_blocking(move || crate::store::backup::backup_sqlite(&url, &copy, busy))
                .await
                .map_err(std::io::Error::other)??;
            println!("backed up to {} (integrity_check ok)", destination.display());
            Ok(())
        }
        Command::Agent(command) => agent(settings, command).await,
    }
}

async fn open_store(settings: &Settings) -> Result<Store, CliError> {
    let store_settings = settings.store.clone();
    tokio::task::spawn_blocking(move || Store::open(&store_settings))
        .await
        .map_err(std::io::Error::other)?
        .map_err(CliError::from)
}

async fn serve(settings: Settings) -> Result<(), CliError> {
    let app = Application::build(settings).await?;
    let shutdown = app.shutdown_handle();
    tokio::spawn(async move {
        wait_for_signal().await;
        log::info!("stopping: answering held polls");
        shutdown.shutdown().await;
    });
    app.run_until_stopped().await?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

async fn agent(settings: Settings, command: AgentCommand) -> Result<(), CliError> {
    let store = open_store(&settings).await?;
    // The CLI talks to the store directly; its hub is never polled.
    let hub = Hub::new(HubSettings {
        ring_capacity: 1,
        max_held_polls: 1,
        presence_lease: std::time::Duration::ZERO,
        presence_grace: std::time::Duration::ZERO,
        closed_chat_retention: std::time::Duration::ZERO,
        idle_retention: std::time::Duration::ZERO,
        notice_ttl: std::time::Duration::ZERO,
    });
    let tokens = std::sync::Arc::new(crate::service::token_cache::TokenCache::for_settings(&settings.auth));
    let services = Services::new(store, hub, tokens, crate::broker::Broker::Memory, settings)?;
    match command {
        AgentCommand::Add { employee_id, name, max_chats, password, admin } => {
            let password = match password {
                Some(password) => password,
                None => read_password_line()?,
            };
            let role = if admin { Role::Admin } else { Role::Agent };
            let spec = AgentSpec { employee_id: employee_id.clone(), name, password, max_chats, role };
            let id = services.create_agent(spec).await?;
            println!("created agent {employee_id} ({id})");
        }
        AgentCommand::List => {
            println!(
                "{:<12} {:<24} {:<6} {:>9} {:>6}  STATE",
                "EMPLOYEE", "NAME", "ROLE", "MAX_CHATS", "ACTIVE"
            );
            for agent in services.list_agents().await? {
                let state = if agent.disabled { "disabled" } else { "enabled" };
                println!(
                    "{:<12} {:<24} {:<6} {:>9} {:>6}  {state}",
                    agent.employee_id, agent.name, agent.role, agent.max_chats, agent.active_chats
                );
            }
        }
        AgentCommand::SetCapacity { employee_id, max_chats } => {
            services.set_agent_capacity(&employee_id, max_chats).await?;
            println!("agent {employee_id} now takes up to {max_chats} chats");
        }
        AgentCommand::Disable { employee_id } => {
            services.set_agent_disabled(&employee_id, true).await?;
            println!("agent {employee_id} disabled");
        }
        AgentCommand::Enable { employee_id } => {
            services.set_agent_disabled(&employee_id, false).await?;
            println!("agent {employee_id} enabled");
        }
    }
    Ok(())
}

fn read_password_line() -> Result<String, CliError> {
    eprintln!("password (one line on standard input):");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
