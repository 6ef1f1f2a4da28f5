//! Claims: a due row goes to one claimer at a time, comes back when its lease runs out, and
//! stays away once sent; on PostgreSQL two stores claiming at once never take the same row.

use std::collections::HashSet;

use super::{claim, enqueue, mark_failed, mark_sent, requeue, retry_at, state, OutboxRow};
use crate::config::StoreSettings;
use crate::store::{test_stores, Store, StoreError};

const NOW: i64 = 1_700_000_000_000;
const LEASE: i64 = 60_000;

fn rows(n: usize) -> Vec<OutboxRow> {
    (0..n)
        .map(|i| OutboxRow::new(format!("row-{i:04}"), "email", "team".into(), None, "{}".into(), NOW))
        .collect()
}

fn ids(rows: &[OutboxRow]) -> Vec<String> {
    rows.iter().map(|row| row.id.clone()).collect()
}

fn leases_and_states(store: &Store) {
    store
        .run_blocking(|conn| {
            assert_eq!(enqueue(conn, &rows(3))?, 3);
            assert_eq!(enqueue(conn, &rows(3))?, 0, "an id already stored is not owed twice");
            let webhook = OutboxRow::new("hook-1".into(), "webhook", "e1".into(), Some(7), "{}".into(), NOW);
            enqueue(conn, &[webhook])?;

            let first = claim(conn, &["email"], NOW, LEASE, 2)?;
            assert_eq!(ids(&first), ["row-0000", "row-0001"], "oldest due first, only the channel asked for");
            assert!(first.iter().all(|row| row.attempts == 1 && row.locked_until == NOW + LEASE));
            assert_eq!(
                ids(&claim(conn, &["email"], NOW, LEASE, 10)?),
                ["row-0002"],
                "claimed rows are not claimed again"
            );
            assert!(claim(conn, &["email"], NOW + 1, LEASE, 10)?.is_empty(), "until their lease runs out");

            mark_sent(conn, "row-0000", Some(250), NOW + 2)?;
            retry_at(conn, "row-0001", Some(451), "try later", NOW + 10_000)?;
            mark_failed(conn, "row-0002", Some(550), "no such user", NOW + 2)?;
            assert!(
                claim(conn, &["email"], NOW + 9_999, LEASE, 10)?.is_empty(),
                "a retry waits for its time"
            );
            let again = claim(conn, &["email"], NOW + 10_000, LEASE, 10)?;
            assert_eq!((ids(&again), again[0].attempts), (vec!["row-0001".to_string()], 2));
            // A sender that died holding a claim: the row comes back once the lease is over.
            let after_crash = claim(conn, &["email"], NOW + 10_000 + LEASE, LEASE, 10)?;
            assert_eq!((ids(&after_crash), after_crash[0].attempts), (vec!["row-0001".to_string()], 3));

            assert!(requeue(conn, "row-0000", NOW + 20_000)?, "a sent row can be sent again");
            assert!(!requeue(conn, "no-such-row", NOW)?);
            let resent = claim(conn, &["email", "webhook"], NOW + 20_000, LEASE, 10)?;
            assert_eq!(ids(&resent), ["hook-1", "row-0000"]);
            let failed = super::find(conn, "row-0002")?.ok_or(StoreError::Corrupt("row-0002".into()))?;
            assert_eq!(
                (failed.state.as_str(), failed.last_status, failed.done_at),
                (state::FAILED, Some(550), Some(NOW + 2))
            );
            Ok::<_, StoreError>(())
        })
        .expect("the outbox works");
}

#[test]
fn a_row_is_claimed_by_one_sender_until_its_lease_runs_out_on_sqlite() {
    test_stores::on_sqlite(leases_and_states);
}

#[test]
fn a_row_is_claimed_by_one_sender_until_its_lease_runs_out_on_postgresql() {
    test_stores::on_postgres(
        "a_row_is_claimed_by_one_sender_until_its_lease_runs_out_on_postgresql",
        leases_and_states,
    );
}

/// Two nodes' stores claim from one PostgreSQL outbox at the same moment, a few rows at a time,
/// many times over: every row is claimed once, by one of them.
#[test]
fn two_nodes_claiming_at_once_never_take_the_same_row() {
    test_stores::on_postgres_url("two_nodes_claiming_at_once_never_take_the_same_row", |url| {
        let open = || {
            Store::open(&StoreSettings { url: url.to_string(), ..StoreSettings::default() })
                .expect("store opens")
        };
        let (a, b) = (open(), open());
        a.run_blocking(|conn| enqueue(conn, &rows(400)).map_err(StoreError::from)).expect("rows");
        let barrier = std::sync::Barrier::new(2);
        let drain = |store: &Store| {
            barrier.wait();
            let mut mine = Vec::new();
            loop {
                let claimed = store
                    .run_blocking(|conn| claim(conn, &["email"], NOW, LEASE, 7).map_err(StoreError::from))
                    .expect("claim");
                if claimed.is_empty() {
                    return mine;
                }
                mine.extend(ids(&claimed));
            }
        };
        let (from_a, from_b) = std::thread::scope(|scope| {
            let a = scope.spawn(|| drain(&a));
            let b = scope.spawn(|| drain(&b));
            (a.join().expect("node a"), b.join().expect("node b"))
        });
        let all: HashSet<&String> = from_a.iter().chain(&from_b).collect();
        assert_eq!(
            from_a.len() + from_b.len(),
            400,
            "each row claimed once ({} + {})",
            from_a.len(),
            from_b.len()
        );
        assert_eq!(all.len(), 400);
        assert!(!from_a.is_empty() && !from_b.is_empty(), "both claimed: they really ran together");
    });
}
