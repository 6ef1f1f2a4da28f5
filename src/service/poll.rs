//! The long poll: everything a participant has not seen yet, across all its chats, or a wait
//! until there is something, the hold runs out, a newer poll of the tab takes over, or the
//! server stops.

use std::sync::Arc;
use std::time::Duration;

use super::{chat_meta, ServiceError, Services};
use crate::domain::{now_ms, Audience, ChatId, Cursor, EventRecord, Principal, PrincipalKind, TabId};
use crate::hub::{ChatView, Notice, QuietMark};
use crate::store::{chats, messages, StoreError};

/// What the client asked for.
#[derive(Debug, Clone)]
pub struct PollRequest {
    /// Where the client stands.
    pub cursor: Cursor,
    /// How long to wait for something to happen.
    pub hold: Duration,
    /// The tab asking, if it said.
    pub tab: Option<TabId>,
}

/// How the poll ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollStatus {
    /// Events are returned.
    Ok,
    /// Nothing happened during the hold.
    Timeout,
    /// A newer poll of the same tab took over.
    Superseded,
    /// The server is stopping.
    Shutdown,
}

impl PollStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PollStatus::Ok => "ok",
            PollStatus::Timeout => "timeout",
            PollStatus::Superseded => "superseded",
            PollStatus::Shutdown => "shutdown",
        }
    }
}

/// The answer to a poll.
#[derive(Debug)]
pub struct PollResponse {
    /// How it ended.
    pub status: PollStatus,
    /// The cursor to send next time.
    pub cursor: Cursor,
    /// The chat events, each chat's in seq order.
    pub events: Vec<Arc<EventRecord>>,
    /// The notices (typing, read markers, announcements), oldest first.
    pub notices: Vec<Arc<Notice>>,
}

/// Store reads a poll needs: chats memory cannot answer for.
struct StoreRead {
    chat_id: ChatId,
    retained: bool,
    seen: i64,
    last_seq: i64,
    closed: bool,
}

impl Services {
    /// Serves one `GET /poll`; see the module doc.
    pub async fn poll(
        &self,
        principal: &Principal,
        request: PollRequest,
    ) -> Result<PollResponse, ServiceError> {
        let guard = self.hub.begin_poll(principal, request.tab)?;
        if guard.arrived() {
            let (kind, id) = (principal.kind(), principal.uuid());
            if kind == PrincipalKind::Agent {
                // Online on every node before anything else: a visitor may pick this agent
                // through another node right after this poll starts.
                Box::pin(self.arrive(kind, id)).await?;
            } else {
                // A visitor's arrival is told to the cluster beside the poll, not before it:
                // behind a round-robin balancer nearly every poll arrives on a node anew, and
                // 100,000 visitors re-polling at once must not each wait for Redis (nor get a
                // 503 when it is slow). What the arrival brings (missed notices) wakes the poll.
                let services = self.clone();
                tokio::spawn(async move {
                    if let Err(error) = services.arrive(kind, id).await {
                        log::debug!("presence: a visitor's arrival was not recorded: {error}");
                    }
                });
            }
        }
        // The store reads and an agent's queue drain are boxed: a held poll's state is as large
        // as its largest step, and these are rare.
        if guard.arrived() && principal.kind() == PrincipalKind::Agent {
            // An agent that just came online takes waiting chats. Failing to drain now does not
            // fail the poll: the next close or arrival drains again.
            if let Err(error) = Box::pin(self.drain_queue()).await {
                log::warn!("queue drain on agent arrival failed: {error}");
            }
        }
        let deadline = tokio::time::Instant::now() + request.hold;
        // This tab's own messages (sent with its `tab`) do not answer it by themselves.
        let quiet = request.tab.map(|tab| QuietMark::of(principal.uuid(), tab));
        let unchanged = |status| PollResponse {
            status,
            cursor: request.cursor.clone(),
            events: Vec::new(),
            notices: Vec::new(),
        };
        loop {
            // Register for wake-ups before looking, so nothing published in between is missed.
            let notified = guard.notify().notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if guard.is_superseded() {
                return Ok(unchanged(PollStatus::Superseded));
            }
            if self.hub.is_shutting_down() {
                return Ok(unchanged(PollStatus::Shutdown));
            }
            if guard.needs_chat_load() {
                // The participant's first poll on this node, or memory was forgotten while this
                // poll was held (the broker may have missed something): its chats are read from
                // the store before anything is answered.
                Box::pin(self.load_chats(principal)).await?;
            }
            {
                // In a block of its own: what was gathered (a cursor copy, quiet events) is
                // dropped before the wait instead of being held with the poll.
                let (events, mut cursor, wakes) =
                    Box::pin(self.gather(principal, &request.cursor, quiet)).await?;
                let notices = self.hub.notices_after(principal, cursor.notices_seen());
                if let Some(last) = notices.last() {
                    cursor.advance_notices(last.id);
                }
                if wakes || !notices.is_empty() {
                    return Ok(PollResponse { status: PollStatus::Ok, cursor, events, notices });
                }
                if tokio::time::Instant::now() >= deadline {
                    // Quiet events, if any, go out now with the hold's end.
                    let status = if events.is_empty() { PollStatus::Timeout } else { PollStatus::Ok };
                    return Ok(PollResponse { status, cursor, events, notices });
                }
            }
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep_until(deadline) => {}
            }
        }
    }

    /// Reads the participant's chats (open, or closed within the retention) from the store into
    /// the hub: the first poll of a participant on this node.
    async fn load_chats(&self, principal: &Principal) -> Result<(), ServiceError> {
        let principal_id = *principal;
        let retention = i64::try_from(self.hub.closed_chat_retention().as_millis()).unwrap_or(i64::MAX);
        let closed_since = now_ms().saturating_sub(retention);
        let read_at = self.hub.memory_epoch();
        let rows = self
            .store
            .run(move |conn| {
                match principal_id {
                    Principal::Visitor(visitor) => chats::recent_for_visitor(conn, visitor, closed_since),
                    Principal::Agent(agent, _) => chats::recent_for_agent(conn, agent, closed_since),
                }
                .map_err(StoreError::from)
            })
            .await?;
        let metas = rows.iter().map(chat_meta).collect();
        self.hub.load_participant_chats(read_at, principal, metas);
        Ok(())
    }

    /// Everything after `cursor` (up to `poll.max_events`), from memory where it can answer and
    /// from the store where it cannot, the cursor that follows it, and whether one of the events
    /// is not quiet for the tab marked `quiet` (see `hub::quiet`).
    async fn gather(
        &self,
        principal: &Principal,
        cursor: &Cursor,
        quiet: Option<QuietMark>,
    ) -> Result<(Vec<Arc<EventRecord>>, Cursor, bool), ServiceError> {
        let max_events = self.settings.poll.max_events;
        let mut cursor = cursor.clone();
        let mut views = self.hub.collect(principal, &cursor, max_events, quiet);
        let unknown: Vec<ChatId> = views
            .iter()
            .filter_map(|view| match view {
                ChatView::Unknown(chat_id) => Some(*chat_id),
                _ => None,
            })
            .collect();
        if !unknown.is_empty() {
            let ids = unknown.clone();
            let read_at = self.hub.memory_epoch();
            let rows =
                self.store.run(move |conn| chats::find_many(conn, &ids).map_err(StoreError::from)).await?;
            let metas: Vec<_> = rows.iter().map(chat_meta).collect();
            for chat_id in &unknown {
                if !metas.iter().any(|meta| meta.chat_id == *chat_id) {
                    cursor.forget(*chat_id);
                }
            }
            self.hub.insert_chats(read_at, metas);
            views = self.hub.collect(principal, &cursor, max_events, quiet);
        }

        let mut events = Vec::new();
        let mut wakes = false;
        let mut reads = Vec::new();
        for view in views {
            match view {
                ChatView::Ready {
                    chat_id,
                    retained,
                    last_seq,
                    closed,
                    events: ready,
                    wakes: ready_wakes,
                    ..
                } => {
                    wakes |= ready_wakes;
                    if let Some(last) = ready.last() {
                        cursor.advance(chat_id, last.seq);
                    }
                    events.extend(ready);
                    settle(&mut cursor, chat_id, last_seq, closed, retained);
                }
                ChatView::InStore { chat_id, retained, seen, last_seq, closed } => {
                    reads.push(StoreRead { chat_id, retained, seen, last_seq, closed });
                }
                ChatView::NotMember(chat_id) => cursor.forget(chat_id),
                // Evicted between two looks; the next round loads it.
                ChatView::Unknown(_) => {}
            }
        }
        let budget = max_events.saturating_sub(events.len());
        if !reads.is_empty() && budget > 0 {
            let side = principal.kind();
            let wanted: Vec<(ChatId, i64)> = reads.iter().map(|r| (r.chat_id, r.seen)).collect();
            let fetched = self
                .store
                .run(move |conn| {
                    let mut left = budget;
                    let mut out = Vec::new();
                    for (chat_id, seen) in wanted {
                        if left == 0 {
                            break;
                        }
                        let limit = i64::try_from(left).unwrap_or(i64::MAX);
                        let rows = messages::after(conn, chat_id, seen, limit)?;
                        left -= rows.len();
                        let events =
                            rows.into_iter().map(|row| row.into_event()).collect::<Result<Vec<_>, _>>()?;
                        out.push((chat_id, events));
                    }
                    Ok::<_, StoreError>(out)
                })
                .await?;
            for (chat_id, stored) in fetched {
                for event in &stored {
                    cursor.advance(chat_id, event.seq);
                    let record = EventRecord::from(event);
                    if side == PrincipalKind::Agent || record.audience == Audience::Both {
                        // Memory forgot which of these were quiet: each one answers.
                        wakes = true;
                        events.push(Arc::new(record));
                    }
                }
                if let Some(read) = reads.iter().find(|read| read.chat_id == chat_id) {
                    settle(&mut cursor, chat_id, read.last_seq, read.closed, read.retained);
                }
            }
        }
        Ok((events, cursor, wakes))
    }
}

/// A closed chat the client has seen to its end leaves the cursor once it has also left the
/// participant's set (see `Hub::collect` for why not sooner); an open one stays.
fn settle(cursor: &mut Cursor, chat_id: ChatId, last_seq: i64, closed: bool, retained: bool) {
    if closed && !retained && cursor.seen(chat_id) >= last_seq {
        cursor.forget(chat_id);
    }
}
