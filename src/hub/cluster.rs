//! What the hub does for the other nodes of a cluster: takes notices numbered by the broker,
//! forgets memory when the broker may have missed something, and names who polls here so their
//! presence leases can be renewed where every node sees them.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use uuid::Uuid;

use super::{Hub, Notice};
use crate::domain::{ChatId, PrincipalKind};

impl Hub {
    /// Gives a notice the broker numbered (`id` grows across the cluster) to a participant
    /// present on this node and wakes its polls.
    pub fn deliver_notice(
        &self,
        kind: PrincipalKind,
        participant_id: Uuid,
        id: i64,
        fields: &serde_json::Value,
    ) {
        if let Some(mut participant) = self.participants(kind).get_mut(&participant_id) {
            participant.mailbox.push(Notice::render(id, fields, crate::domain::now_ms()));
            participant.notify.notify_waiters();
        }
    }

    /// Gives a notice the broker numbered to every participant present on this node, and keeps
    /// it for [`Hub::catch_up_broadcasts`].
    pub fn deliver_notice_to_everyone(&self, id: i64, fields: &serde_json::Value) {
        let notice = Notice::render(id, fields, crate::domain::now_ms());
        if let Ok(mut recent) = self.recent_broadcasts.lock() {
            let ttl = self.settings.notice_ttl;
            recent.retain(|kept| kept.age() < ttl);
            recent.push_back(Arc::clone(&notice));
        }
        self.deliver_to_everyone(notice);
    }

    /// A participant arrived here (it was not present on this node) and was last seen polling
    /// somewhere in the cluster in time for the notices to everyone with an id up to
    /// `online_until` (Redis's clock, microseconds): it gets those this node kept and it may
    /// have missed, because its previous poll was answered on another node just before one
    /// went out and this node did not count it as present then.
    pub fn catch_up_broadcasts(&self, kind: PrincipalKind, participant_id: Uuid, online_until: i64) {
        let Ok(recent) = self.recent_broadcasts.lock() else { return };
        let missed: Vec<Arc<Notice>> =
            recent.iter().filter(|notice| notice.id <= online_until).cloned().collect();
        drop(recent);
        if missed.is_empty() {
            return;
        }
        if let Some(mut participant) = self.participants(kind).get_mut(&participant_id) {
            for notice in missed {
                participant.mailbox.insert(notice);
            }
            participant.notify.notify_waiters();
        }
    }

    /// Drops every chat from memory and marks every participant's chats as to be read again:
    /// events published while this node was not listening are in the store only. The epoch
    /// goes up first, so a store read that started before this cannot put older rows back.
    /// Held polls are not woken; each reads the store before it answers empty.
    pub fn forget_all(&self) {
        self.memory_epoch.fetch_add(1, Ordering::AcqRel);
        self.chats.clear();
        for map in [&self.visitors, &self.agents] {
            for mut participant in map.iter_mut() {
                participant.chats_loaded = false;
            }
        }
    }

    /// Forgets erased chats (`service::data_rights`): a closed one keeps only its last event,
    /// the `chat.closed` its agent's poll may not have read yet, until the sweeper drops it
    /// with the other closed chats; any other is dropped. The epoch goes up, so a store read
    /// taken before the erase cannot put them back.
    pub fn erase_chats(&self, chat_ids: &[ChatId]) {
        self.memory_epoch.fetch_add(1, Ordering::AcqRel);
        for chat_id in chat_ids {
            let closed = match self.chats.get_mut(chat_id) {
                Some(mut chat) if chat.closed_at().is_some() => {
                    chat.erase();
                    true
                }
                _ => false,
            };
            if !closed {
                self.chats.remove(chat_id);
            }
        }
    }

    /// Participants of `kind` holding a poll here now, or whose last poll here ended after
    /// `since`.
    pub fn polled_since(&self, kind: PrincipalKind, since: tokio::time::Instant) -> Vec<Uuid> {
        self.participants(kind)
            .iter()
            .filter(|entry| entry.polls_held > 0 || entry.last_seen.is_some_and(|seen| seen >= since))
            .map(|entry| *entry.key())
            .collect()
    }
}
