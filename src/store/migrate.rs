//! Migrations are compiled into the binary and applied at start, one set per backend with the
//! same names.

use diesel::sql_types::BigInt;
use diesel::RunQueryDsl;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::{DbConn, StoreOpenError};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// The PostgreSQL advisory lock nodes take around migrating, so that several nodes started at
/// once migrate one after the other (the later ones then find nothing pending).
const MIGRATION_LOCK: i64 = 0x5357_4d49_4752; // "SWMIGR"

/// Applies every pending migration for the connection's backend.
pub fn run(conn: &mut DbConn) -> Result<(), StoreOpenError> {
    let fail = |error: &dyn std::fmt::Display| StoreOpenError::Migration(error.to_string());
    let applied = match conn {
        DbConn::Sqlite(inner) => {
            inner.run_pending_migrations(SQLITE).map(|v| v.len()).map_err(|e| fail(&e))?
        }
        DbConn::Postgres(inner) => {
            diesel::sql_query("SELECT pg_advisory_lock($1)")
                .bind::<BigInt, _>(MIGRATION_LOCK)
                .execute(inner)
                .map_err(|e| fail(&e))?;
            let outcome = inner.run_pending_migrations(POSTGRES).map(|v| v.len());
            // A session lock outlives the transaction: it must be let go on every path.
            let unlocked = diesel::sql_query("SELECT pg_advisory_unlock($1)")
                .bind::<BigInt, _>(MIGRATION_LOCK)
                .execute(inner);
            let applied = outcome.map_err(|e| fail(&e))?;
            unlocked.map_err(|e| fail(&e))?;
            applied
        }
    };
    if applied > 0 {
        log::info!("applied {applied} store migration(s)");
    }
    Ok(())
}
