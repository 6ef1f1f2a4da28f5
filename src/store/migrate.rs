//! Migrations are compiled into the binary and applied at start, one set per backend with the
//! same names.

use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::{DbConn, StoreOpenError};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Applies every pending migration for the connection's backend.
pub fn run(conn: &mut DbConn) -> Result<(), StoreOpenError> {
    let applied = match conn {
        DbConn::Sqlite(inner) => inner.run_pending_migrations(SQLITE).map(|v| v.len()),
        DbConn::Postgres(inner) => inner.run_pending_migrations(POSTGRES).map(|v| v.len()),
    }
    .map_err(|error| StoreOpenError::Migration(error.to_string()))?;
    if applied > 0 {
        log::info!("applied {applied} store migration(s)");
    }
    Ok(())
}
