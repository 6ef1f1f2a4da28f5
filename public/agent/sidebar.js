// The left column's live lists: the waiting queue, visitors on the site now (with Invite),
// and offline messages. Each refreshes on a timer without overlapping requests.

import { api } from './api.js';
import { fmtClock, fmtDateTime, h, safeHttpUrl } from './util.js';

/** Runs `load` every `everyMs`, never two at once; `soon()` asks for a refresh now. */
export class Refresher {
  constructor(load, everyMs) {
    this.load = load;
    this.everyMs = everyMs;
    this.timer = null;
    this.busy = false;
    this.again = false;
    this.running = false;
  }

  start() {
    this.running = true;
    this.run();
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
  }

  soon() {
    if (!this.running) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), 150);
  }

  async run() {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.busy = true;
    try {
      await this.load();
    } catch (_) { /* shown by the view; a 401 is handled globally */ }
    this.busy = false;
    if (!this.running) return;
    const wait = this.again ? 150 : this.everyMs;
    this.again = false;
    this.timer = setTimeout(() => this.run(), wait);
  }
}

/** A status line under a list: errors and empty states. */
function setLine(node, text, isError = false) {
  node.textContent = text || '';
  node.hidden = !text;
  node.classList.toggle('error', isError);
}

export class QueueView {
  constructor(root) {
    this.list = h('ol', { class: 'queue-list' });
    this.line = h('p', { class: 'muted' });
    this.count = root.closest('section').querySelector('.count');
    root.append(this.list, this.line);
    this.items = [];
    this.refresher = new Refresher(() => this.load(), 3000);
  }

  async load() {
    try {
      const answer = await api('GET', '/api/queue');
      this.items = answer.chats || [];
      this.render();
    } catch (error) {
      setLine(this.line, error.message, true);
      throw error;
    }
  }

  render() {
    this.list.replaceChildren(...this.items.map((chat) => h(
      'li',
      { class: 'queue-item', sb: 'queue-item', data: { chatId: chat.chat_id } },
      h('span', { class: 'pos', text: `#${chat.position}` }),
      h('span', { class: 'name', text: chat.visitor_name || 'Visitor' }),
      h('span', {
        class: 'wait', data: { since: String(chat.waiting_since) }, text: fmtClock(Date.now() - chat.waiting_since),
      }),
    )));
    setLine(this.line, this.items.length ? '' : 'Nobody is waiting.');
    this.count.textContent = String(this.items.length);
  }

  tick() {
    for (const node of this.list.querySelectorAll('.wait')) {
      node.textContent = fmtClock(Date.now() - Number(node.dataset.since));
    }
  }
}

export class VisitorsView {
  /** `opened(chatId)` is called after a successful invitation. */
  constructor(root, opened) {
    this.opened = opened;
    this.list = h('ul', { class: 'visitor-list' });
    this.line = h('p', { class: 'muted' });
    this.count = root.closest('section').querySelector('.count');
    root.append(this.list, this.line);
    this.rows = new Map();
    this.refresher = new Refresher(() => this.load(), 5000);
  }

  async load() {
    let visitors;
    try {
      visitors = (await api('GET', '/api/visitors/online')).visitors || [];
    } catch (error) {
      setLine(this.line, error.message, true);
      throw error;
    }
    const now = performance.now();
    const keep = new Set();
    // Rows are updated in place so focus on an Invite button survives a refresh.
    visitors.forEach((visitor, index) => {
      keep.add(visitor.visitor_id);
      let row = this.rows.get(visitor.visitor_id);
      if (!row) {
        row = this.makeRow(visitor.visitor_id);
        this.rows.set(visitor.visitor_id, row);
      }
      this.fillRow(row, visitor, now);
      if (this.list.children[index] !== row.el) this.list.insertBefore(row.el, this.list.children[index] || null);
    });
    for (const [id, row] of this.rows) {
      if (!keep.has(id)) {
        row.el.remove();
        this.rows.delete(id);
      }
    }
    setLine(this.line, visitors.length ? '' : 'No visitors on the site right now.');
    this.count.textContent = String(visitors.length);
  }

  makeRow(visitorId) {
    const row = {
      name: h('strong', { class: 'name' }),
      chatting: h('span', { class: 'pill', text: 'In chat', hidden: true }),
      time: h('span', { class: 'time', sb: 'visitor-time', title: 'Time on site' }),
      page: h('div', { class: 'page', sb: 'visitor-page' }),
      referrer: h('div', { class: 'referrer muted', sb: 'visitor-referrer' }),
      error: h('p', { class: 'row-error error', role: 'alert', hidden: true }),
      base: 0,
      at: 0,
    };
    row.invite = h('button', {
      type: 'button', class: 'small', sb: 'invite', text: 'Invite',
      onclick: () => this.invite(visitorId, row),
    });
    row.el = h(
      'li',
      { class: 'visitor-row', sb: 'visitor-row', data: { visitorId } },
      h('div', { class: 'visitor-head' }, row.name, row.chatting, row.time),
      row.page,
      row.referrer,
      h('div', { class: 'row-end' }, row.invite),
      row.error,
    );
    return row;
  }

  fillRow(row, visitor, now) {
    row.name.textContent = visitor.name || 'Visitor';
    row.chatting.hidden = !visitor.in_chat;
    row.invite.setAttribute('aria-label', `Invite ${visitor.name || 'this visitor'} to chat`);
    row.base = visitor.on_site_ms || 0;
    row.at = now;
    row.time.textContent = fmtClock(row.base);
    const href = safeHttpUrl(visitor.page_url);
    const label = visitor.page_title || visitor.page_url || 'Page not reported';
    row.page.replaceChildren(href
      ? h('a', { href, target: '_blank', rel: 'noopener noreferrer', title: visitor.page_url, text: label })
      : h('span', { text: label }));
    row.referrer.textContent = visitor.referrer ? `From ${visitor.referrer}` : 'Direct visit';
    row.referrer.title = visitor.referrer || '';
  }

  async invite(visitorId, row) {
    row.invite.disabled = true;
    row.error.hidden = true;
    try {
      const answer = await api('POST', '/api/chats/invite', { visitor_id: visitorId });
      this.opened(answer.chat_id);
      this.refresher.soon();
    } catch (error) {
      row.error.textContent = error.message;
      row.error.hidden = false;
      clearTimeout(row.errorTimer);
      row.errorTimer = setTimeout(() => { row.error.hidden = true; }, 10000);
    } finally {
      row.invite.disabled = false;
    }
  }

  tick() {
    const now = performance.now();
    for (const row of this.rows.values()) row.time.textContent = fmtClock(row.base + (now - row.at));
  }
}

export class OfflineView {
  constructor(root) {
    this.list = h('ul', { class: 'offline-list' });
    this.line = h('p', { class: 'muted' });
    this.more = h('button', {
      type: 'button', class: 'ghost small', text: 'More', hidden: true, onclick: () => this.loadMore(),
    });
    this.count = root.closest('section').querySelector('.count');
    root.append(this.list, this.line, this.more);
    this.messages = [];
    this.drafts = new Map();
    this.refresher = new Refresher(() => this.load(), 60000);
  }

  async load() {
    try {
      const answer = await api('GET', '/api/offline-messages', undefined, { query: { limit: 20 } });
      this.messages = answer.messages || [];
      this.more.hidden = this.messages.length < 20;
      this.render();
    } catch (error) {
      setLine(this.line, error.message, true);
      throw error;
    }
  }

  async loadMore() {
    const oldest = this.messages[this.messages.length - 1];
    if (!oldest) return;
    try {
      const query = { limit: 20, before: oldest.created_at };
      const answer = await api('GET', '/api/offline-messages', undefined, { query });
      const page = answer.messages || [];
      this.messages = this.messages.concat(page);
      this.more.hidden = page.length < 20;
      this.render();
    } catch (error) {
      setLine(this.line, error.message, true);
    }
  }

  /** A box to answer `message`: stored with it and emailed to the visitor (when email is on). */
  answerForm(message) {
    // Drafts outlive the list's refresh, which draws every item anew.
    const text = h('textarea', {
      rows: 2, maxlength: 4000, 'aria-label': `Answer ${message.name}`, sb: 'offline-answer-text',
      oninput: () => this.drafts.set(message.id, text.value),
    });
    text.value = this.drafts.get(message.id) || '';
    const status = h('span', { class: 'muted' });
    const send = h('button', { type: 'submit', class: 'small', sb: 'offline-answer-send', text: 'Answer by email' });
    return h('form', {
      class: 'offline-answer-form',
      onsubmit: async (event) => {
        event.preventDefault();
        send.disabled = true;
        try {
          const answer = await api('POST', `/api/offline-messages/${encodeURIComponent(message.id)}/answer`, { body: text.value });
          Object.assign(message, { answer: text.value, answered_at: answer.answered_at });
          this.drafts.delete(message.id);
          this.render();
        } catch (error) {
          status.textContent = error.message;
          send.disabled = false;
        }
      },
    }, text, send, status);
  }

  render() {
    this.list.replaceChildren(...this.messages.map((message) => h(
      'li',
      { class: 'offline-item', data: { id: message.id } },
      h('div', { class: 'offline-head' },
        h('strong', { text: message.name }),
        ' ',
        h('a', { href: `mailto:${encodeURIComponent(message.email).replace(/%40/g, '@')}`, text: message.email }),
        h('time', { class: 'muted', text: fmtDateTime(message.created_at) })),
      h('p', { class: 'offline-body', text: message.body }),
      message.answer
        ? h('p', { class: 'offline-answer muted', sb: 'offline-answer', text: `Answered ${fmtDateTime(message.answered_at)}: ${message.answer}` })
        : this.answerForm(message),
    )));
    setLine(this.line, this.messages.length ? '' : 'No offline messages.');
    this.count.textContent = this.messages.length ? String(this.messages.length) : '0';
  }
}
