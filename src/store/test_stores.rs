//! Scratch stores for the store's own tests: a SQLite file in a temporary folder, and a
//! database of its own on the test PostgreSQL when `SWITCHBOARD_TEST_POSTGRES_URL` is set
//! (dropped afterwards, whatever the test did).

use diesel::{Connection, PgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::config::StoreSettings;
use crate::store::Store;

/// Runs `check` on a fresh SQLite store.
pub fn on_sqlite(check: impl FnOnce(&Store)) {
    let folder = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", folder.path().join("scratch.db").display());
    check(&Store::open(&StoreSettings { url, ..StoreSettings::default() }).expect("store opens"));
}

/// Runs `check` with the URL of a fresh PostgreSQL database, or says loudly that test `name`
/// was skipped when no test PostgreSQL is configured.
pub fn on_postgres_url(name: &str, check: impl FnOnce(&str)) {
    let Ok(server) = std::env::var("SWITCHBOARD_TEST_POSTGRES_URL") else {
        eprintln!("SKIPPED: {name} (set SWITCHBOARD_TEST_POSTGRES_URL to run it)");
        return;
    };
    let database = format!("sb_unit_{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::establish(&server).expect("connect to the test PostgreSQL");
    diesel::sql_query(format!("CREATE DATABASE {database}")).execute(&mut admin).expect("create database");
    let (address, options) = server.split_once('?').unwrap_or((server.as_str(), ""));
    let base = address.rsplit_once('/').map_or(address, |(base, _)| base);
    let separator = if options.is_empty() { "" } else { "?" };
    let url = format!("{base}/{database}{separator}{options}");
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&url)));
    let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).execute(&mut admin);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Runs `check` on a fresh PostgreSQL store (see [`on_postgres_url`]).
pub fn on_postgres(name: &str, check: impl FnOnce(&Store)) {
    on_postgres_url(name, |url| {
        let settings = StoreSettings { url: url.to_string(), ..StoreSettings::default() };
        check(&Store::open(&settings).expect("store opens"));
    });
}
