// The chat panes: one per chat, built from the chat's events (de-duplicated by seq), with
// sending (through the pane's Outbox), typing, read markers, canned replies, transfer,
// close and banning the visitor. A pane that is refused (403) asks the server whose chat it is now: the event that
// said so may never have reached this tab.

import { api } from './api.js';
import { Outbox } from './outbox.js';
import { entryNode, messageNode } from './render.js';
import { h, randomId } from './util.js';

const TYPING_REFRESH_MS = 2000;
const TYPING_IDLE_MS = 3000;
const VISITOR_TYPING_SHOWN_MS = 6000;

/**
 * Set by the console: `me`, `canned()`, `notify(kind, info)`, `dismiss(pane)`, `changed()`,
 * `self(agent)`, `banned()` (a ban was made: the ban list refreshes).
 */
let ctx = null;
let onlineAgents = [];
const panes = new Set();

const visibility = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    const pane = entry.target.paneRef;
    if (!pane) continue;
    pane.onScreen = entry.isIntersecting;
    pane.maybeMarkRead();
  }
}, { threshold: 0.2 });

export function configureChats(context) {
  ctx = context;
}

/** The agent is looking: the tab is visible and the window has focus. */
export function attentive() {
  return document.visibilityState === 'visible' && document.hasFocus();
}

/** The ban durations offered, in minutes ('' = until lifted). */
const BAN_DURATIONS = [
  ['60', '1 hour'], ['1440', '1 day'], ['10080', '7 days'], ['43200', '30 days'], ['', 'Until lifted'],
];

/** Online agents for the transfer selects (GET /api/agents), excluding me. */
export async function refreshAgents() {
  try {
    const answer = await api('GET', '/api/agents');
    const agents = answer.agents || [];
    onlineAgents = agents.filter((agent) => agent.agent_id !== ctx.me.agent_id);
    const self = agents.find((agent) => agent.agent_id === ctx.me.agent_id);
    if (self) ctx.self(self); // an admin may have changed my capacity
  } catch (_) {
    return; // keep the last list; a 401 is handled globally
  }
  for (const pane of panes) pane.fillTransfer();
}

export function refreshCannedSelects() {
  for (const pane of panes) pane.fillCanned();
}

export function markReadEverywhere() {
  for (const pane of panes) pane.maybeMarkRead();
}

export class ChatPane {
  constructor(chatId) {
    this.id = chatId;
    this.status = 'open';
    this.statusSeq = 0;
    this.seen = new Set();
    this.lastSeq = 0;
    this.readSent = 0;
    this.seenByVisitor = 0;
    this.unread = 0;
    this.onScreen = true;
    this.visitorName = 'Visitor';
    this.visitorId = null;
    this.typingOn = false;
    this.typingSentAt = 0;
    this.typingIdle = null;
    this.visitorTypingTimer = null;
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
    this.unreadBadge = h('span', { class: 'unread', hidden: true, 'aria-label': 'unread messages' });
    this.dismissButton = h('button', {
      type: 'button', class: 'ghost small', sb: 'dismiss-chat', hidden: true,
      text: 'Dismiss', onclick: () => ctx.dismiss(this),
    });
    this.log = h('div', {
      class: 'chat-log', sb: 'messages', role: 'log', 'aria-live': 'polite', 'aria-labelledby': `title-${id}`,
    });
    this.readMarker = h('div', { class: 'read-marker', sb: 'read-marker', text: 'Seen' });
    this.typing = h('div', {
      class: 'typing', sb: 'typing', hidden: true, 'aria-live': 'polite', text: 'Visitor is typing…',
    });
    this.note = h('p', { class: 'chat-note', role: 'status', hidden: true });
    this.error = h('p', { class: 'chat-error', sb: 'chat-error', role: 'alert', hidden: true });
    this.canned = h('select', {
      sb: 'canned', id: `canned-${id}`, class: 'canned',
      onchange: () => this.insertCanned(),
    });
    this.input = h('textarea', {
      sb: 'input', id: `input-${id}`, rows: 2, placeholder: 'Type a reply — Enter sends, Shift+Enter for a new line',
      oninput: () => this.onTyping(),
      onkeydown: (event) => this.onKey(event),
    });
    this.sendButton = h('button', { type: 'submit', class: 'primary', sb: 'send', text: 'Send' });
    this.transferTarget = h('select', {
      sb: 'transfer-target', id: `transfer-${id}`,
      onfocus: () => refreshAgents(),
      onmousedown: () => refreshAgents(),
    });
    this.transferButton = h('button', {
      type: 'button', sb: 'transfer', text: 'Transfer', onclick: () => this.transfer(),
    });
    this.closeButton = h('button', {
      type: 'button', class: 'danger', sb: 'close-chat', text: 'Close chat', onclick: () => this.close(),
    });
    this.banButton = h('button', {
      type: 'button', class: 'ghost', sb: 'ban-visitor', text: 'Ban visitor', 'aria-expanded': 'false',
      onclick: () => this.showBanForm(this.banForm.hidden),
    });
    this.buildBanForm();
    const form = h(
      'form',
      { class: 'composer', onsubmit: (event) => { event.preventDefault(); this.send(); } },
      h('label', { class: 'sr-only', for: `canned-${id}`, text: 'Insert a canned reply' }),
      this.canned,
      h('label', { class: 'sr-only', for: `input-${id}`, text: 'Reply' }),
      h('div', { class: 'composer-row' }, this.input, this.sendButton),
    );
    this.el = h(
      'article',
      { class: 'chat', sb: 'chat', data: { chatId: id, status: 'open' }, 'aria-labelledby': `title-${id}` },
      h('header', { class: 'chat-head' },
        h('div', { class: 'chat-head-text' },
          h('div', { class: 'chat-title-row' }, this.title, this.unreadBadge),
          this.subtitle),
        this.badge, this.dismissButton),
      this.log,
      this.typing,
      this.note,
      this.error,
      form,
      h('div', { class: 'chat-tools' },
        h('label', { for: `transfer-${id}`, class: 'sr-only', text: 'Transfer to' }),
        this.transferTarget, this.transferButton, this.closeButton, this.banButton),
      this.banForm,
    );
    this.el.paneRef = this;
    this.fillCanned();
    this.fillTransfer();
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
      this.typing.textContent = `${this.visitorName} is typing…`;
      if (detail.visitor_read_seq) this.setSeen(detail.visitor_read_seq);
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
   * caller marks the chat read after a batch (maybeMarkRead), not once per event.
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
      this.showTyping(false);
      if (live && !(attentive() && this.onScreen)) {
        this.unread += 1;
        this.showUnread();
      }
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
    const controls = [this.input, this.sendButton, this.canned, this.transferTarget, this.transferButton, this.closeButton];
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
      this.showTyping(false);
      this.stopTyping();
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

  // --- the visitor's side: typing and read notices ---

  showTyping(on) {
    clearTimeout(this.visitorTypingTimer);
    this.keepBottom(() => { this.typing.hidden = !on || this.readOnly; });
    if (on) this.visitorTypingTimer = setTimeout(() => this.showTyping(false), VISITOR_TYPING_SHOWN_MS);
  }

  /** The visitor has read up to `seq`: the "Seen" marker goes after that entry. */
  setSeen(seq) {
    if (seq <= this.seenByVisitor) return;
    this.seenByVisitor = seq;
    this.readMarker.dataset.seq = String(seq);
    this.readMarker.remove();
    this.insert(this.readMarker, seq + 0.5);
  }

  // --- my side: read markers, typing, sending ---

  maybeMarkRead() {
    if (this.readOnly || !this.onScreen || !attentive()) return;
    this.unread = 0;
    this.showUnread();
    if (this.lastSeq <= this.readSent) return;
    const seq = this.lastSeq;
    this.readSent = seq;
    api('POST', `/api/chats/${encodeURIComponent(this.id)}/read`, { seq }).catch((error) => {
      // Network trouble: try again on the next event or focus. A 4xx would only repeat.
      if (error.retryable && this.readSent === seq) this.readSent = 0;
      if (error.status === 403) this.recheck();
    });
  }

  showUnread() {
    this.unreadBadge.hidden = this.unread === 0;
    this.unreadBadge.textContent = String(this.unread);
  }

  onKey(event) {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.send();
    }
  }

  onTyping() {
    if (this.readOnly) return;
    if (!this.input.value.trim()) {
      this.stopTyping();
      return;
    }
    const now = Date.now();
    if (!this.typingOn || now - this.typingSentAt >= TYPING_REFRESH_MS) {
      this.typingOn = true;
      this.typingSentAt = now;
      this.postTyping(true);
    }
    clearTimeout(this.typingIdle);
    this.typingIdle = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping() {
    clearTimeout(this.typingIdle);
    if (!this.typingOn) return;
    this.typingOn = false;
    if (!this.readOnly) this.postTyping(false);
  }

  postTyping(typing) {
    api('POST', `/api/chats/${encodeURIComponent(this.id)}/typing`, { typing }).catch((error) => {
      if (error.status === 403) this.recheck(); // otherwise a lost typing notice does not matter
    });
  }

  send() {
    const body = this.input.value;
    if (this.readOnly || !body.trim()) return;
    this.input.value = '';
    this.stopTyping();
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

  // --- canned replies, transfer, close ---

  fillCanned() {
    const replies = ctx ? ctx.canned() : [];
    this.canned.replaceChildren(
      h('option', { value: '', text: 'Canned reply…' }),
      ...replies.map((text, index) => h('option', {
        value: String(index),
        text: text.length > 60 ? `${text.slice(0, 57)}…` : text,
      })),
    );
  }

  insertCanned() {
    const index = this.canned.value;
    this.canned.value = '';
    const text = index === '' ? null : ctx.canned()[Number(index)];
    if (!text) return;
    const { selectionStart: start, selectionEnd: end, value } = this.input;
    this.input.value = value.slice(0, start) + text + value.slice(end);
    this.input.focus();
    this.input.selectionStart = this.input.selectionEnd = start + text.length;
    this.onTyping();
  }

  fillTransfer() {
    const chosen = this.transferTarget.value;
    this.transferTarget.replaceChildren(
      h('option', { value: '', text: 'Transfer to…' }),
      ...(onlineAgents.length ? [] : [h('option', { value: '-', disabled: true, text: 'No other agent is online' })]),
      ...onlineAgents.map((agent) => h('option', {
        value: agent.agent_id,
        text: `${agent.name} (${agent.active_chats}/${agent.max_chats})${agent.available ? '' : ' — full'}`,
      })),
    );
    if (onlineAgents.some((agent) => agent.agent_id === chosen)) this.transferTarget.value = chosen;
  }

  async transfer() {
    const target = this.transferTarget.value;
    if (!target) {
      this.flash('Choose an agent to transfer to.');
      return;
    }
    const agent = onlineAgents.find((a) => a.agent_id === target);
    this.transferButton.disabled = true;
    try {
      const answer = await api('POST', `/api/chats/${encodeURIComponent(this.id)}/transfer`, { agent_id: target });
      this.setStatus('transferred', answer && answer.seq ? answer.seq : this.lastSeq + 1, agent);
    } catch (error) {
      this.flash(error.message);
      refreshAgents();
      if (error.status === 403) this.recheck();
    } finally {
      this.transferButton.disabled = this.readOnly;
    }
  }

  async close() {
    this.closeButton.disabled = true;
    try {
      const answer = await api('POST', `/api/chats/${encodeURIComponent(this.id)}/close`, {});
      this.setStatus('closed', answer && answer.seq ? answer.seq : this.lastSeq + 1);
    } catch (error) {
      if (error.code === 'chat_closed') this.setStatus('closed', this.lastSeq + 1);
      else this.flash(error.message);
      if (error.status === 403) this.recheck();
    } finally {
      this.closeButton.disabled = this.readOnly;
    }
  }

  // --- banning the visitor ---

  /** The confirmation under the tools: reason, duration, whether the address goes too. */
  buildBanForm() {
    const id = this.id;
    this.banReason = h('input', {
      sb: 'ban-reason', id: `ban-reason-${id}`, maxlength: 500, autocomplete: 'off', placeholder: 'Reason (optional)',
    });
    this.banDuration = h('select', { sb: 'ban-duration', id: `ban-duration-${id}` },
      ...BAN_DURATIONS.map(([value, text]) => h('option', { value, text, selected: value === '1440' })));
    this.banIncludeIp = h('input', { type: 'checkbox', sb: 'ban-include-ip', id: `ban-ip-${id}`, checked: true });
    this.banConfirm = h('button', { type: 'submit', class: 'danger small', sb: 'ban-confirm', text: 'Ban' });
    this.banForm = h(
      'form',
      {
        class: 'ban-form', sb: 'ban-form', hidden: true, 'aria-label': 'Ban this visitor',
        onsubmit: (event) => { event.preventDefault(); this.ban(); },
        onkeydown: (event) => { if (event.key === 'Escape') this.showBanForm(false); },
      },
      h('p', { class: 'ban-warning', text: 'Ban this visitor? Their chat ends at once and they cannot chat again until the ban ends.' }),
      h('label', { for: `ban-reason-${id}`, class: 'sr-only', text: 'Reason' }),
      this.banReason,
      h('div', { class: 'ban-options' },
        h('label', { for: `ban-duration-${id}`, text: 'For' }),
        this.banDuration,
        h('label', { class: 'check', for: `ban-ip-${id}` }, this.banIncludeIp, ' and their address')),
      h('div', { class: 'row-end' },
        h('button', { type: 'button', class: 'ghost small', sb: 'ban-cancel', text: 'Cancel', onclick: () => this.showBanForm(false) }),
        this.banConfirm),
    );
  }

  showBanForm(open) {
    this.keepBottom(() => { this.banForm.hidden = !open; });
    this.banButton.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (open) this.banReason.focus();
  }

  async ban() {
    if (!this.visitorId) await this.loadDetail();
    if (!this.visitorId) {
      this.flash('This visitor cannot be banned from here right now.');
      return;
    }
    const minutes = this.banDuration.value;
    this.banConfirm.disabled = true;
    try {
      await api('POST', '/api/bans', {
        visitor_id: this.visitorId,
        include_ip: this.banIncludeIp.checked,
        reason: this.banReason.value,
        duration_mins: minutes ? Number(minutes) : null,
      });
      this.showBanForm(false);
      this.banButton.disabled = true;
      this.banButton.textContent = 'Banned';
      this.el.dataset.banned = 'true';
      ctx.banned();
      // The chat's end arrives by the poll; asking now closes the pane even if the poll lags.
      this.recheck();
    } catch (error) {
      this.flash(error.message);
    } finally {
      this.banConfirm.disabled = false;
    }
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
    this.stopTyping();
    clearTimeout(this.visitorTypingTimer);
    visibility.unobserve(this.el);
    panes.delete(this);
    this.el.remove();
  }
}
