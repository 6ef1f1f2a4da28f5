// A chat pane's unsent replies. They go out one at a time in the order typed: the server gives
// each message its seq when it stores it, so a message retried while later ones went ahead
// would reach the visitor out of order. Every retry repeats the same client_msg_id, which the
// server stores once. The queue is kept in this tab's sessionStorage, so a reload sends what
// was still pending (the textarea was already cleared) instead of losing it.

import { api, currentTab } from './api.js';
import { backoffDelay, sleep, tabStore } from './util.js';

const KEY = 'sb.console.outbox';
// Sends retry a little longer apart than polls; the agent sees "Retrying…" meanwhile.
const SEND_RETRY_CAP_MS = 10000;

function readAll() {
  const list = tabStore.get(KEY, []);
  return Array.isArray(list)
    ? list.filter((e) => e && typeof e.chat_id === 'string' && typeof e.client_msg_id === 'string'
      && typeof e.body === 'string')
    : [];
}

/** `{chat_id, client_msg_id, body}` saved for `chatId`, oldest first. */
export function savedFor(chatId) {
  return readAll().filter((entry) => entry.chat_id === chatId);
}

/** Forgets saved sends of chats that have no pane any more. */
export function pruneOutbox(chatIds) {
  const keep = new Set(chatIds);
  const all = readAll();
  const kept = all.filter((entry) => keep.has(entry.chat_id));
  if (kept.length !== all.length) tabStore.set(KEY, kept);
}

export function clearOutbox() {
  tabStore.remove(KEY);
}

/** Errors after which no message can go into this chat: the others are failed too. */
function chatRefuses(error) {
  return error.status === 403 || error.status === 404 || error.status === 409;
}

export class Outbox {
  /**
   * `events`: `sent(entry, seq)`, `retrying(entry)`, `failed(entry, error)`, `alive()` (false
   * once the pane is gone). An entry is `{chat_id, client_msg_id, body}` plus what the pane
   * attaches (its node).
   */
  constructor(chatId, events) {
    this.chatId = chatId;
    this.events = events;
    this.queue = [];
    this.busy = false;
    this.stopped = false;
    // Sends saved before a reload wait here until the pane knows which of them it already
    // shows (their echo may have been stored before the reload); nothing goes out meanwhile,
    // so a reply typed during the rebuild cannot overtake them.
    this.parked = savedFor(chatId);
  }

  /**
   * Queues the parked sends, oldest first and ahead of anything typed since, except those
   * `shown(clientMsgId)` says are already in the chat; `prepare(entry)` runs for each before
   * any goes out (the pane attaches its node).
   */
  unpark(shown, prepare) {
    const parked = this.parked || [];
    this.parked = null;
    const revived = parked.filter((entry) => !shown(entry.client_msg_id));
    revived.forEach(prepare);
    this.queue = revived.concat(this.queue);
    this.save();
    this.pump();
  }

  add(entry) {
    this.queue.push(entry);
    this.save();
    this.pump();
  }

  /** The message came back through the poll: stored, whatever its own request says. */
  delivered(clientMsgId) {
    const entry = this.queue.find((e) => e.client_msg_id === clientMsgId);
    if (!entry) return;
    this.remove(entry);
  }

  /** The pane is gone (dismissed, handed on, signed out): nothing more is sent or kept. */
  stop() {
    this.stopped = true;
    this.parked = null;
    this.queue = [];
    this.save();
  }

  remove(entry) {
    entry.done = true;
    this.queue = this.queue.filter((e) => e !== entry);
    this.save();
  }

  save() {
    const others = readAll().filter((e) => e.chat_id !== this.chatId);
    const mine = (this.parked || []).concat(this.queue).map(({ chat_id: chatId, client_msg_id: clientMsgId, body }) => (
      { chat_id: chatId, client_msg_id: clientMsgId, body }));
    tabStore.set(KEY, others.concat(mine));
  }

  async pump() {
    if (this.busy || this.parked) return;
    this.busy = true;
    try {
      while (!this.stopped && this.queue.length && this.events.alive()) {
        await this.deliver(this.queue[0]);
      }
    } finally {
      this.busy = false;
    }
  }

  /** POST /send until answered; network trouble, 429 and 5xx are retried with the same id. */
  async deliver(entry) {
    for (let attempt = 0; !entry.done && !this.stopped; attempt += 1) {
      try {
        const message = { chat_id: this.chatId, client_msg_id: entry.client_msg_id, body: entry.body };
        if (currentTab()) message.tab = currentTab(); // this tab's poll is not woken by its own message
        const answer = await api('POST', '/send', message);
        if (!entry.done) {
          this.remove(entry);
          this.events.sent(entry, answer.seq);
        }
        return;
      } catch (error) {
        if (entry.done || this.stopped) return;
        if (error.retryable && this.events.alive()) {
          this.events.retrying(entry);
          await sleep(backoffDelay(attempt, error.retryAfter, SEND_RETRY_CAP_MS));
          continue;
        }
        if (error.status === 401) {
          this.stopped = true; // the session is over: the console signs out
          return;
        }
        const failed = chatRefuses(error) ? this.queue.slice() : [entry];
        for (const each of failed) {
          this.remove(each);
          this.events.failed(each, error);
        }
        return;
      }
    }
  }
}
