//! A PostgreSQL database made for one run: created fresh on the server `--store` names and
//! dropped after it.

use diesel::{Connection, PgConnection, RunQueryDsl};

/// A fresh database on the PostgreSQL server of a `--store` URL.
pub struct Database {
    /// The `--store` URL, through which the database is made and dropped.
    maintenance_url: String,
    /// The database's name.
    pub name: String,
    /// The URL the servers are given: the `--store` URL's server and options, this database.
    pub url: String,
}

impl Database {
    /// Creates a fresh database on the server of `store` (a `postgres://` URL).
    pub fn create(store: &str) -> Result<Self, String> {
        if !store.starts_with("postgres://") && !store.starts_with("postgresql://") {
            return Err(format!("--store {store}: give `sqlite` or a postgres:// URL"));
        }
        let name = format!("switchboard_load_{}_{}", std::process::id(), rand::random::<u32>());
        let url = with_database(store, &name).ok_or(format!("--store {store}: not a postgres:// URL"))?;
        let mut conn = PgConnection::establish(store).map_err(|e| format!("PostgreSQL at {store}: {e}"))?;
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .map_err(|e| format!("CREATE DATABASE {name}: {e}"))?;
        Ok(Self { maintenance_url: store.to_string(), name, url })
    }

    fn drop_now(&self) -> Result<(), String> {
        let mut conn = PgConnection::establish(&self.maintenance_url).map_err(|e| e.to_string())?;
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
            .execute(&mut conn)
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Err(error) = self.drop_now() {
            eprintln!("switchboard-load: could not drop database {}: {error}", self.name);
        }
    }
}

/// `url` naming database `name` instead of its own, its query options (`sslmode=disable` …)
/// kept.
fn with_database(url: &str, name: &str) -> Option<String> {
    let (address, options) = match url.split_once('?') {
        Some((address, options)) => (address, Some(options)),
        None => (url, None),
    };
    let authority_start = address.find("://")? + 3;
    let server = match address[authority_start..].find('/') {
        Some(slash) => &address[..authority_start + slash],
        None => address,
    };
    Some(match options {
        Some(options) => format!("{server}/{name}?{options}"),
        None => format!("{server}/{name}"),
    })
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_is_swapped_and_the_options_kept() {
        assert_eq!(
            with_database(
                "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable&gssencmode=disable",
                "x"
            )
            .as_deref(),
            Some("postgres://postgres@127.0.0.1:5432/x?sslmode=disable&gssencmode=disable")
        );
        assert_eq!(with_database("postgres://u@h:1", "x").as_deref(), Some("postgres://u@h:1/x"));
        assert_eq!(with_database("postgres://u@h:1/db", "x").as_deref(), Some("postgres://u@h:1/x"));
        assert_eq!(with_database("nonsense", "x"), None);
    }
}
