//! The sender over a real SQLite store, with a courier of the tests' own that panics on one row
//! and delivers the others.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

use super::{Courier, Delivering, Delivery, OutboxSender, SenderSettings};
use crate::domain::now_ms;
use crate::store::outbox::{self, state, OutboxRow};
use crate::store::{test_stores, StoreError};

/// Panics on the row called `boom`, takes every other.
struct Touchy {
    delivered: AtomicUsize,
}

impl Courier for Touchy {
    fn channel(&self) -> &'static str {
        "test"
    }

    fn deliver<'a>(&'a self, row: &'a OutboxRow) -> Delivering<'a> {
        Box::pin(async move {
            assert!(row.id != "boom", "a courier bug");
            self.delivered.fetch_add(1, Ordering::SeqCst);
            Delivery::Sent { status: Some(200) }
        })
    }
}

#[test]
fn a_courier_that_panics_fails_its_row_and_the_sender_goes_on() {
    test_stores::on_sqlite(|store| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let now = now_ms();
        let rows: Vec<OutboxRow> = ["boom", "fine-1", "fine-2"]
            .iter()
            .map(|id| OutboxRow::new(id.to_string(), "test", "t".into(), None, "{}".into(), now))
            .collect();
        store.run_blocking(|conn| outbox::enqueue(conn, &rows).map_err(StoreError::from)).expect("rows");
        let courier = Arc::new(Touchy { delivered: AtomicUsize::new(0) });
        let sender = OutboxSender::new(
            store.clone(),
            vec![courier.clone()],
            SenderSettings::default(),
            Arc::new(Notify::new()),
        );
        let claimed = runtime.block_on(sender.round()).expect("a round");
        assert_eq!(claimed, 3);
        assert_eq!(courier.delivered.load(Ordering::SeqCst), 2, "the rows after the panic were delivered");
        let find = |id: &str| {
            store
                .run_blocking(|conn| outbox::find(conn, id).map_err(StoreError::from))
                .expect("read")
                .expect("the row")
        };
        let boom = find("boom");
        assert_eq!(boom.state, state::PENDING, "the panicked row is tried again later");
        assert!(boom.next_at > now && boom.locked_until == 0, "after a backoff, unclaimed");
        assert!(boom.last_error.is_some());
        assert_eq!(find("fine-2").state, state::SENT);
    });
}
