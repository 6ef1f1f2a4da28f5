//! The domain's values as column values, on both backends: the ids (`ChatId`, `AgentId`,
//! `VisitorId`, stored as hyphenated UUID text), `AgentStatus` (`online` / `away`) and
//! `ChatStatus` (`queued` / `open` / `closed`) bind as the very text the store has always held
//! and read back parsed. A query therefore takes the
//! kind of id its column holds, never a misspelt status, and no caller parses a row again; a
//! stored text that does not parse is an error of the read.

use std::io::Write;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;

use super::connection::MultiBackend;
use crate::domain::{AgentId, AgentStatus, ChatId, ChatStatus, SiteId, VisitorId};

/// A domain value kept in a `TEXT` column.
trait TextColumn: Sized {
    /// The text stored for it.
    fn text(&self) -> String;
    /// Reads the stored text back.
    fn read(text: &str) -> Result<Self, String>;
}

macro_rules! uuid_column {
    ($($ty:ident),*) => {$(
        impl TextColumn for $ty {
            fn text(&self) -> String {
                self.to_string()
            }
            fn read(text: &str) -> Result<Self, String> {
                uuid::Uuid::parse_str(text)
                    .map($ty)
                    .map_err(|_| format!("{} `{text}` is not a UUID", stringify!($ty)))
            }
        }
    )*};
}

uuid_column!(ChatId, AgentId, VisitorId, SiteId);

impl TextColumn for AgentStatus {
    fn text(&self) -> String {
        self.as_str().to_string()
    }
    fn read(text: &str) -> Result<Self, String> {
        AgentStatus::parse(text, "status").map_err(|e| format!("agent {e} (stored `{text}`)"))
    }
}

impl TextColumn for ChatStatus {
    fn text(&self) -> String {
        self.as_str().to_string()
    }
    /// As it always was read: anything unknown counts as ended.
    fn read(text: &str) -> Result<Self, String> {
        Ok(ChatStatus::from_store(text))
    }
}

macro_rules! text_column_sql {
    ($($ty:ty),*) => {$(
        impl ToSql<Text, Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                out.write_all(self.text().as_bytes())?;
                Ok(IsNull::No)
            }
        }

        impl ToSql<Text, Sqlite> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                out.set_value(self.text());
                Ok(IsNull::No)
            }
        }

        /// As diesel's own `MultiConnection` does for its types: the backend in use binds it.
        impl ToSql<Text, MultiBackend> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((Text, self));
                Ok(IsNull::No)
            }
        }

        impl<DB: Backend> FromSql<Text, DB> for $ty
        where
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                Ok(<$ty as TextColumn>::read(&String::from_sql(bytes)?)?)
            }
        }
    )*};
}

text_column_sql!(ChatId, AgentId, VisitorId, SiteId, AgentStatus, ChatStatus);

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::SqliteConnection;

    use super::super::schema::{agents as agents_table, chats as chats_table};
    use super::super::{agents, chats, migrate, DbConn};
    use crate::domain::{AgentId, AgentStatus, ChatId, ChatStatus, VisitorId};

    fn sqlite() -> DbConn {
        let mut conn = DbConn::Sqlite(SqliteConnection::establish(":memory:").expect("in-memory SQLite"));
        migrate::run(&mut conn).expect("migrations");
        conn
    }

    #[test]
    fn ids_and_statuses_are_stored_as_the_text_they_always_were_and_read_back_typed() {
        let mut conn = sqlite();
        let agent = AgentId::new();
        let new = agents::NewAgent {
            id: agent,
            employee_id: "E1",
            name: "Ann",
            password_hash: "x",
            role: "agent",
            max_chats: 2,
            created_at: 0,
        };
        agents::insert(&mut conn, &new).expect("insert agent");
        agents::set_status(&mut conn, agent, AgentStatus::Away).expect("set status");
        let raw: (String, String) = agents_table::table
            .select((agents_table::id, agents_table::status))
            .first(&mut conn)
            .expect("raw agent");
        assert_eq!(raw, (agent.0.hyphenated().to_string(), "away".to_string()));
        let row = agents::find(&mut conn, agent).expect("find").expect("the agent");
        assert_eq!((row.id, row.status), (agent, AgentStatus::Away));

        let (chat, visitor) = (ChatId::new(), VisitorId::new());
        diesel::sql_query(format!(
            "INSERT INTO visitors (id, name, created_at) VALUES ('{visitor}', 'V', 0)"
        ))
        .execute(&mut conn)
        .expect("insert visitor");
        let row = chats::ChatRow {
            id: chat,
            agent_id: Some(agent),
            status: ChatStatus::Open,
            ..chats::ChatRow::queued(visitor, 0)
        };
        chats::insert(&mut conn, &row).expect("insert chat");
        let raw: (String, String, Option<String>, String) = chats_table::table
            .select((chats_table::id, chats_table::visitor_id, chats_table::agent_id, chats_table::status))
            .first(&mut conn)
            .expect("raw chat");
        let text = (chat.to_string(), visitor.to_string(), Some(agent.to_string()), "open".to_string());
        assert_eq!(raw, text);
        let read = chats::find(&mut conn, chat).expect("find").expect("the chat");
        assert_eq!(
            (read.id, read.visitor_id, read.agent_id, read.status),
            (chat, visitor, Some(agent), ChatStatus::Open)
        );
    }

    #[test]
    fn a_stored_text_that_is_no_id_or_status_fails_the_read() {
        let mut conn = sqlite();
        diesel::sql_query(
            "INSERT INTO agents (id, employee_id, name, password_hash, role, status, max_chats, created_at) \
             VALUES ('not-a-uuid', 'E1', 'Ann', 'x', 'agent', 'online', 2, 0)",
        )
        .execute(&mut conn)
        .expect("insert");
        assert!(agents::list(&mut conn).is_err(), "a bad id");
        diesel::sql_query(format!("UPDATE agents SET id = '{}', status = 'busy'", AgentId::new()))
            .execute(&mut conn)
            .expect("update");
        assert!(agents::list(&mut conn).is_err(), "a bad status");
        diesel::sql_query("UPDATE agents SET status = 'online'").execute(&mut conn).expect("update");
        assert_eq!(agents::list(&mut conn).map(|rows| rows[0].status), Ok(AgentStatus::Online));
    }
}
