//! `append_all` does for a run of sends what `append` does for each: on SQLite one by one, on
//! PostgreSQL (when `SWITCHBOARD_TEST_POSTGRES_URL` is set) in one statement.

use diesel::Connection;
use uuid::Uuid;

use super::{append_all, Appended, MessageRow};
use crate::domain::{AgentId, ChatId, ChatStatus, Principal, Role, VisitorId};
use crate::store::agents::{self, NewAgent};
use crate::store::chats::{self, ChatRow};
use crate::store::feed;
use crate::store::visitors::{self, VisitorRow};
use crate::store::{test_stores, DbConn, Store, StoreError};

const NOW: i64 = 1_700_000_000_000;

/// Two chats served by one agent, and a closed one.
struct Scene {
    agent: Principal,
    visitor: Principal,
    other_visitor: Principal,
    chat: ChatId,
    other_chat: ChatId,
    closed_chat: ChatId,
}

fn set_the_scene(conn: &mut DbConn) -> Result<Scene, StoreError> {
    let agent = AgentId(Uuid::new_v4());
    let new_agent = NewAgent {
        id: agent,
        employee_id: "a1",
        name: "Ann",
        password_hash: "x",
        role: "agent",
        max_chats: 5,
        created_at: NOW,
    };
    agents::insert(conn, &new_agent)?;
    let mut chat_of = |status: ChatStatus| -> Result<(VisitorId, ChatId), StoreError> {
        let visitor = VisitorId(Uuid::new_v4());
        visitors::insert(
            conn,
            &VisitorRow { id: visitor, name: "Guest".into(), created_at: NOW, site_id: None },
        )?;
        let chat = ChatRow { agent_id: Some(agent), status, ..ChatRow::queued(visitor, NOW) };
        chats::insert(conn, &chat)?;
        Ok((visitor, chat.id))
    };
    let (visitor, chat) = chat_of(ChatStatus::Open)?;
    let (other_visitor, other_chat) = chat_of(ChatStatus::Open)?;
    let (_, closed_chat) = chat_of(ChatStatus::Closed)?;
    Ok(Scene {
        agent: Principal::Agent(agent, Role::Agent),
        visitor: Principal::Visitor(visitor),
        other_visitor: Principal::Visitor(other_visitor),
        chat,
        other_chat,
        closed_chat,
    })
}

fn send(member: Principal, chat_id: ChatId, client_msg_id: &str) -> (Principal, MessageRow) {
    let row = MessageRow {
        chat_id,
        seq: 0,
        kind: "message".into(),
        client_msg_id: Some(client_msg_id.into()),
        payload: format!("{{\"text\":\"{client_msg_id}\"}}"),
        created_at: NOW + 1,
    };
    (member, row)
}

/// What each send came to: the seq it was stored under, the seq of the message it repeats, or
/// refused.
fn outcomes(appended: &[Appended]) -> Vec<String> {
    appended
        .iter()
        .map(|appended| match appended {
            Appended::Stored(chat) => format!("stored {}", chat.last_seq),
            Appended::Duplicate(seq) => format!("repeat of {seq}"),
            Appended::Refused => "refused".to_string(),
        })
        .collect()
}

/// The triggers wrote the feed: every chat start and stored message once, numbered without
/// gaps, each chat's messages in seq order; what was rolled back took no position.
fn check_the_feed(conn: &mut DbConn, scene: &Scene) -> Result<(), StoreError> {
    let feed = feed::after(conn, 0, 100)?;
    let positions: Vec<i64> = feed.iter().map(|row| row.pos).collect();
    assert_eq!(positions, (1..=9).collect::<Vec<i64>>(), "3 chat starts and 6 messages, numbered 1 to 9");
    assert_eq!(feed.iter().filter(|row| row.kind == "chat.started").count(), 3);
    let seqs: Vec<i64> = feed
        .iter()
        .filter(|row| row.chat_id == Some(scene.chat) && row.kind == "message")
        .filter_map(|row| row.seq)
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4], "a chat's messages in the feed in seq order");
    assert!(
        feed.iter().filter(|row| row.kind == "message").all(|row| row.payload.is_some()),
        "messages carry their payload"
    );
    let rolled_back = conn.transaction::<(), StoreError, _>(|conn| {
        append_all(conn, &mut [send(scene.visitor, scene.chat, "m8")])?;
        Err(StoreError::Busy)
    });
    assert!(rolled_back.is_err());
    // A write rolled back to its savepoint inside a transaction that commits (as the writer
    // does with a failed write of its batch) leaves only the others' events.
    conn.transaction::<(), StoreError, _>(|conn| {
        append_all(conn, &mut [send(scene.visitor, scene.chat, "m9")])?;
        let in_savepoint = conn.transaction::<(), StoreError, _>(|conn| {
            append_all(conn, &mut [send(scene.agent, scene.other_chat, "m10")])?;
            Err(StoreError::Busy)
        });
        assert!(in_savepoint.is_err());
        Ok(())
    })?;
    let last = feed::after(conn, 9, 100)?;
    assert_eq!(
        last.iter().map(|row| (row.pos, row.seq)).collect::<Vec<_>>(),
        [(10, Some(5))],
        "no position lost to the rollback"
    );
    assert_eq!(feed::head(conn)?, 10);
    Ok(())
}

fn check(store: &Store) {
    store
        .run_blocking(|conn| {
            let scene = set_the_scene(conn)?;
            let (first, second) = conn.transaction::<_, StoreError, _>(|conn| {
                let mut first = vec![send(scene.visitor, scene.chat, "m1")];
                let first = append_all(conn, &mut first)?;
                let mut second = vec![
                    send(scene.visitor, scene.chat, "m2"),
                    send(scene.other_visitor, scene.other_chat, "m1"),
                    send(scene.agent, scene.chat, "m3"),
                    send(scene.visitor, scene.chat, "m1"),
                    send(scene.visitor, scene.chat, "m4"),
                    send(scene.visitor, scene.chat, "m4"),
                    send(scene.other_visitor, scene.chat, "m5"),
                    send(scene.visitor, scene.closed_chat, "m6"),
                    send(scene.agent, scene.other_chat, "m7"),
                ];
                let appended = append_all(conn, &mut second)?;
                let seqs: Vec<i64> = second.iter().map(|(_, row)| row.seq).collect();
                Ok((outcomes(&first), (outcomes(&appended), seqs)))
            })?;
            assert_eq!(first, ["stored 1"]);
            let (second, seqs) = second;
            assert_eq!(
                second,
                [
                    "stored 2",
                    "stored 1",
                    "stored 3",
                    "repeat of 1",
                    "stored 4",
                    "repeat of 4",
                    "refused",
                    "refused",
                    "stored 2",
                ],
                "each send as `append` alone would have done it, in the batch's order"
            );
            assert_eq!(seqs, [2, 1, 3, 0, 4, 0, 0, 0, 2], "the rows stored say their seq");
            let chat = chats::find(conn, scene.chat)?.ok_or(StoreError::Corrupt("the chat".into()))?;
            assert_eq!(chat.last_seq, 4, "the chat's last seq moved past every message stored");
            assert_eq!(chat.last_activity_at, NOW + 1);
            assert_eq!(super::count_in_chat(conn, scene.chat)?, 4);
            assert_eq!(super::count_in_chat(conn, scene.other_chat)?, 2);
            assert_eq!(super::count_in_chat(conn, scene.closed_chat)?, 0);
            let stored: Vec<(i64, Option<String>)> = super::after(conn, scene.chat, 0, 10)?
                .into_iter()
                .map(|row| (row.seq, row.client_msg_id))
                .collect();
            let expected = [(1, "m1"), (2, "m2"), (3, "m3"), (4, "m4")];
            let expected: Vec<(i64, Option<String>)> =
                expected.iter().map(|(seq, id)| (*seq, Some(id.to_string()))).collect();
            assert_eq!(stored, expected);
            check_the_feed(conn, &scene)
        })
        .expect("the sends run");
}

#[test]
fn a_run_of_sends_on_sqlite_comes_to_what_each_would_alone() {
    test_stores::on_sqlite(check);
}

#[test]
fn a_run_of_sends_on_postgresql_comes_to_what_each_would_alone() {
    test_stores::on_postgres("a_run_of_sends_on_postgresql_comes_to_what_each_would_alone", check);
}
