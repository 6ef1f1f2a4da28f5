// The chat panes: one per chat, built from the chat's events (de-duplicated by seq), with
// sending (through the pane's Outbox). Its tools live beside it: typing (typing.js), read
// markers (readmarks.js), canned replies (canned.js), transfer and close (transfer.js) and
// banning the visitor (banform.js). A pane that is refused (403) asks the server whose chat it
// is now: the event that said so may never have reached this tab.

import { api } from './api.js';
import { BanForm } from './banform.js';
import { CannedPicker } from './canned.js';
import { CustomerPanel } from './customer.js';
import { Outbox } from './outbox.js';
import { showPrechat } from './prechat.js';
import { ReadMarks } from './readmarks.js';
import { entryNode, messageNode } from './render.js';
import { setOnlineAgents, TransferTools } from './transfer.js';
import { Typing } from './typing.js';
import { h, randomId } from './util.js';

/**
 * Set by the console: `me`, `notify(kind, info)`, `dismiss(pane)`, `changed()`,
 * `self(agent)`, `banned()` (a ban was made: the ban list refreshes).
 */
let ctx = null;
const panes = new Set();

const visibility = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    const pane = entry.target.paneRef;
    if (!pane) continue;
    pane.onScreen = entry.isIntersecting;
    pane.reads.maybeMarkRead();
  }
}, { threshold: 0.2 });

export function configureChats(context) {
  ctx = context;
}

/** Online agents for the transfer selects (GET /api/agents), excluding me. */
export async function refreshAgents() {
  try {
    const answer = await api('GET', '/api/agents');
    const agents = answer.agents || [];
    setOnlineAgents(agents.filter((agent) => agent.agent_id !== ctx.me.agent_id));
    const self = agents.find((agent) => agent.agent_id === ctx.me.agent_id);
    if (self) ctx.self(self); // an admin may have changed my capacity
  } catch (_) {
    return; // keep the last list; a 401 is handled globally
  }
  for (const pane of panes) pane.transfer.fill();
}

export function refreshCannedSelects() {
  for (const pane of panes) pane.canned.fill();
}

export function markReadEverywhere() {
  for (const pane of panes) pane.reads.maybeMarkRead();
}

export class ChatPane {
  constructor(chatId) {
    this.id = chatId;
    this.status = 'open';
    this.statusSeq = 0;
    this.seen = new Set();
    this.lastSeq = 0;
    this.onScreen = true;
    this.visitorName = 'Visitor';
    this.visitorId = null;
    /** client_msg_id → node of my messages not yet stored (as far as this page knows). */
    this.pending = new Map();
    /** client_msg_ids of the messages shown, to tell a saved send that already arrived. */
    this.clientIds = new Set();
    this.rechecking = false;
    this.outbox = new Outbox(chatId, {
      sent: (entry, seq) => this.sent(entry, seq),
      retrying: (entry) => { if (entry.node) entry.node.querySelector('.msg-state').textContent = 'Retrying…'; },
      failed: (entry, error) => this.failed(entry, error),
      alive: () => panes.has(this),
    });
    this.build();
    panes.add(this);
    visibility.observe(this.el);
  }

  build() {
    const id = this.id;
    this.title = h('h2', { class: 'chat-title', sb: 'chat-title', id: `title-${id}`, text: 'Visitor' });
    this.subtitle = h('p', { class: 'chat-sub' });
    this.badge = h('span', { class: 'chat-badge', text: 'Open' });
    this.reads = new ReadMarks(this);
    this.dismissButton = h('button', {
      type: 'button', class: 'ghost small', sb: 'dismiss-chat', hidden: true,
      text: 'Dismiss', onclick: () => ctx.dismiss(this),
    });
    this.log = h('div', {
      class: 'chat-log', sb: 'messages', role: 'log', 'aria-live': 'polite', 'aria-labelledby': `title-${id}`,
    });
    this.typing = new Typing(this);
    this.note = h('p', { class: 'chat-note', role: 'status', hidden: true });
    this.error = h('p', { class: 'chat-error', sb: 'chat-error', role: 'alert', hidden: true });
    this.canned = new CannedPicker(this);
    this.input = h('textarea', {
      sb: 'input', id: `input-${id}`, rows: 2, placeholder: 'Type a reply — Enter sends, Shift+Enter for a new line',
      oninput: () => this.typing.typed(),
      onkeydown: (event) => this.onKey(event),
    });
    this.sendButton = h('button', { type: 'submit', class: 'primary', sb: 'send', text: 'Send' });
    this.transfer = new TransferTools(this, refreshAgents);
    this.ban = new BanForm(this, () => ctx.banned());
    this.customer = new CustomerPanel(this);
    const form = h(
      'form',
      { class: 'composer', onsubmit: (event) => { event.preventDefault(); this.send(); } },
      h('label', { class: 'sr-only', for: `canned-${id}`, text: 'Insert a canned reply' }),
      this.canned.select,
      h('label', { class: 'sr-only', for: `input-${id}`, text: 'Reply' }),
      h('div', { class: 'composer-row' }, this.input, this.sendButton),
    );
    this.el = h(
      'article',
      { class: 'chat', sb: 'chat', data: { chatId: id, status: 'open' }, 'aria-labelledby': `title-${id}` },
      h('header', { class: 'chat-head' },
        h('div', { class: 'chat-head-text' },
          h('div', { class: 'chat-title-row' }, this.title, this.reads.unreadBadge),
          this.subtitle),
        this.badge, this.dismissButton),
      this.customer.el,
      this.log,
      this.typing.el,
      this.note,
      this.error,
      form,
      h('div', { class: 'chat-tools' },
        h('label', { for: `transfer-${id}`, class: 'sr-only', text: 'Transfer to' }),
        this.transfer.target, this.transfer.transferButton, this.transfer.closeButton, this.ban.button),
      this.ban.form,
    );
    this.el.paneRef = this;
    this.canned.fill();
    this.transfer.fill();
  }

  /** Header details from GET /api/chats/{id}: the visitor, their page, how far they read. */
  async loadDetail(known) {
    try {
      const detail = known || await api('GET', `/api/chats/${encodeURIComponent(this.id)}`);
      const visitor = detail.visitor || {};
      this.visitorName = visitor.name || 'Visitor';
      this.visitorId = visitor.visitor_id || this.visitorId;
      this.title.textContent = this.visitorName;
      this.subtitle.textContent = visitor.page_title || visitor.page_url || '';
      this.subtitle.title = visitor.page_url || '';
      this.typing.setName(this.visitorName);
      this.customer.showVisitor(visitor);
      if (this.visitorId && this.visitorId !== this.customer.visitorId) this.customer.load(this.visitorId);
      if (detail.visitor_read_seq) this.reads.setSeen(detail.visitor_read_seq);
      showPrechat(this, detail);
      if (!this.statusSeq && detail.status === 'closed') this.setStatus('closed', 0);
      return detail;
    } catch (error) {
      if (error.status === 403 || error.status === 404) return null;
      this.subtitle.textContent = error.message;
      return null;
    }
  }

  /** Every stored event of the chat (GET …/messages), shown as history: no alerts. */
  async loadHistory() {
    let after = 0;
    for (let page = 0; page < 50 && after !== null; page += 1) {
      const answer = await api('GET', `/api/chats/${encodeURIComponent(this.id)}/messages`, undefined, {
        query: { after_seq: after, limit: 200 },
      });
      for (const ev of answer.events || []) this.apply(ev, { live: false });
      after = typeof answer.next_after_seq === 'number' ? answer.next_after_seq : null;
    }
  }

  /**
   * Whose chat is this now? Asked after a refusal and after the poll reconnects: a chat
   * requeued while this agent was away, or handed on while this tab slept, sends this agent
   * no event at all. A chat that is no longer mine becomes read-only and dismissable.
   */
  async recheck() {
    if (this.status === 'closed' || this.rechecking || !panes.has(this)) return;
    this.rechecking = true;
    try {
      const detail = await api('GET', `/api/chats/${encodeURIComponent(this.id)}`);
      const seq = Math.max(Number(detail.last_seq) || 0, this.statusSeq);
      if (detail.status === 'closed') {
        this.setStatus('closed', seq);
      } else if (!detail.agent || detail.agent.agent_id !== ctx.me.agent_id) {
        this.setStatus(detail.status === 'queued' ? 'queued' : 'transferred', seq, detail.agent);
      }
    } catch (error) {
      // An agent may no longer read a chat that left it; an admin still may (answered above).
      if (error.status === 403 || error.status === 404) {
        this.setStatus('transferred', Math.max(this.statusSeq, this.lastSeq));
      }
    } finally {
      this.rechecking = false;
    }
  }

  /**
   * Applies one stored chat event (or the transfer notice); false when already shown. The
   * caller marks the chat read after a batch (reads.maybeMarkRead), not once per event.
   */
  apply(ev, { live = false } = {}) {
    if (typeof ev.seq !== 'number' || this.seen.has(ev.seq)) return false;
    this.seen.add(ev.seq);
    this.lastSeq = Math.max(this.lastSeq, ev.seq);
    const me = ctx.me.agent_id;
    if (ev.type === 'message') {
      this.showMessage(ev, live);
    } else {
      const node = entryNode(ev);
      if (node) this.insert(node, ev.seq);
    }
    switch (ev.type) {
      case 'chat.assigned':
      case 'chat.invited':
        this.setStatus(ev.agent && ev.agent.agent_id === me ? 'open' : 'transferred', ev.seq, ev.agent);
        break;
      case 'chat.transferred':
        this.setStatus(ev.to && ev.to.agent_id === me ? 'open' : 'transferred', ev.seq, ev.to);
        break;
      case 'chat.queued':
        this.setStatus('queued', ev.seq);
        break;
      case 'chat.closed':
        this.setStatus('closed', ev.seq);
        break;
      default:
    }
    return true;
  }

  showMessage(ev, live) {
    if (ev.client_msg_id) this.clientIds.add(ev.client_msg_id);
    const mine = ev.client_msg_id && this.pending.get(ev.client_msg_id);
    if (mine) {
      // The echo of my own send: it is stored, whatever its request still says.
      this.pending.delete(ev.client_msg_id);
      this.outbox.delivered(ev.client_msg_id);
      this.settle(mine, ev.seq);
      return;
    }
    this.insert(messageNode(ev), ev.seq);
    if (ev.from === 'visitor') {
      this.typing.show(false);
      if (live) this.reads.arrived();
      if (live) ctx.notify('message', { title: `${this.visitorName} wrote`, body: ev.body, tag: this.id });
    }
  }

  /** Runs `change` and, if the log was scrolled to its end, keeps it there. */
  keepBottom(change) {
    const stick = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    change();
    if (stick) this.log.scrollTop = this.log.scrollHeight;
  }

  /** Puts a node in seq order; unsent messages stay at the bottom. */
  insert(node, order) {
    this.keepBottom(() => this.place(node, order));
  }

  place(node, order) {
    node.dataset.order = String(order);
    let after = null;
    for (let child = this.log.lastElementChild; child; child = child.previousElementSibling) {
      if (child.dataset.order !== undefined && Number(child.dataset.order) <= order) {
        after = child;
        break;
      }
    }
    this.log.insertBefore(node, after ? after.nextSibling : this.log.firstChild);
  }

  setStatus(status, seq, agent) {
    if (seq < this.statusSeq) return;
    this.statusSeq = seq;
    this.status = status;
    this.el.dataset.status = status;
    const labels = { open: 'Open', closed: 'Closed', transferred: 'Moved', queued: 'In queue' };
    this.badge.textContent = labels[status] || status;
    const readOnly = status !== 'open';
    const controls = [this.input, this.sendButton, this.canned.select, ...this.transfer.controls];
    for (const control of controls) control.disabled = readOnly;
    this.dismissButton.hidden = !readOnly;
    const notes = {
      closed: 'This chat has ended. It stays here until you dismiss it.',
      transferred: `This chat moved to ${(agent && agent.name) || 'another agent'}; you can no longer write in it.`,
      queued: 'This chat went back to the queue.',
    };
    this.keepBottom(() => {
      this.note.hidden = !readOnly;
      this.note.textContent = notes[status] || '';
    });
    if (readOnly) {
      this.typing.show(false);
      this.typing.stop();
    }
    ctx.changed();
  }

  get readOnly() {
    return this.status !== 'open';
  }

  /** The newest seq this pane knows of (an event shown, or the seq of its last status). */
  get knownSeq() {
    return Math.max(this.lastSeq, this.statusSeq);
  }

  // --- sending ---

  onKey(event) {
    const plain = !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey && !event.isComposing;
    if (event.key === 'Tab' && plain && this.canned.expand()) {
      event.preventDefault(); // `/shortcut` became its reply; otherwise Tab moves on as usual
      return;
    }
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.send();
    }
  }

  send() {
    const body = this.input.value;
    if (this.readOnly || !body.trim()) return;
    this.input.value = '';
    this.typing.stop();
    const entry = { chat_id: this.id, client_msg_id: randomId('a'), body };
    this.showPending(entry);
    this.log.scrollTop = this.log.scrollHeight;
    this.input.focus();
    this.outbox.add(entry);
  }

  /** An unsent message at the bottom of the log, until the server gives it its seq. */
  showPending(entry) {
    const node = messageNode(
      { from: 'agent', body: entry.body, client_msg_id: entry.client_msg_id, sender_name: ctx.me.name, at: Date.now() },
      { pending: true },
    );
    node.dataset.state = 'pending';
    entry.node = node;
    this.pending.set(entry.client_msg_id, node);
    this.log.append(node);
  }

  /** After a reload: sends still pending before it go out again (see Outbox), once each. */
  restoreSends() {
    let revived = 0;
    this.outbox.unpark((clientMsgId) => this.clientIds.has(clientMsgId), (entry) => {
      this.showPending(entry);
      revived += 1;
    });
    // Unsent messages stay in the order they go out: the revived ones were typed first.
    for (const entry of this.outbox.queue) if (entry.node) this.log.append(entry.node);
    if (revived) this.log.scrollTop = this.log.scrollHeight;
  }

  sent(entry, seq) {
    const node = entry.node;
    if (!node || this.pending.get(entry.client_msg_id) !== node) return; // its echo settled it already
    this.pending.delete(entry.client_msg_id);
    this.clientIds.add(entry.client_msg_id);
    if (this.seen.has(seq)) {
      node.remove(); // shown already (from the history): never twice
      return;
    }
    // The echo may still be on its way through /poll; this seq is the same message.
    this.seen.add(seq);
    this.lastSeq = Math.max(this.lastSeq, seq);
    this.settle(node, seq);
  }

  failed(entry, error) {
    this.pending.delete(entry.client_msg_id);
    if (entry.node) {
      entry.node.dataset.state = 'failed';
      entry.node.querySelector('.msg-state').textContent = `Not sent: ${error.message}`;
    }
    if (error.status === 403 || error.status === 404 || error.status === 409) this.recheck();
  }

  settle(node, seq) {
    node.dataset.seq = String(seq);
    node.dataset.state = 'sent';
    node.querySelector('.msg-state').textContent = '';
    node.remove();
    this.insert(node, seq);
  }

  /** A short error under the messages. */
  flash(text) {
    this.error.textContent = text;
    this.keepBottom(() => { this.error.hidden = false; });
    clearTimeout(this.flashTimer);
    this.flashTimer = setTimeout(() => { this.error.hidden = true; }, 8000);
  }

  dispose() {
    this.outbox.stop();
    this.typing.dispose();
    visibility.unobserve(this.el);
    panes.delete(this);
    this.el.remove();
  }
}
