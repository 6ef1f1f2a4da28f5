// The customer panel next to a chat: who the visitor is (name, email, a verified badge, the
// site), the pages of this visit, and the visitor's earlier chats with their ratings and a
// read-only transcript each (GET /api/visitors/{id}/profile, GET /api/chats/{id}/messages —
// which an agent serving the visitor may read). Every visitor-typed text is set as text.
// The chat's pre-chat answers are shown in its `customer-prechat` element (public/agent/prechat.js).

import { api } from './api.js';
import { entryNode } from './render.js';
import { CLOSE_REASONS, fmtDateTime, h, safeHttpUrl } from './util.js';

const MAX_TRANSCRIPT_PAGES = 20;

function stars(score) {
  return '★'.repeat(score) + '☆'.repeat(Math.max(0, 5 - score));
}

/** The badge: "✓ Verified" or "Unverified", told apart by words and shape, not color alone. */
export function verifiedBadge(verified) {
  return verified
    ? h('span', { class: 'badge badge-verified', sb: 'customer-verified', data: { verified: 'true' }, title: 'A signed identity from the site vouches for this visitor' },
      h('span', { class: 'badge-mark', 'aria-hidden': 'true', text: '✓' }), ' Verified')
    : h('span', { class: 'badge badge-unverified', sb: 'customer-verified', data: { verified: 'false' }, title: 'Anonymous: nothing vouches for the name given', text: 'Unverified' });
}

export class CustomerPanel {
  constructor(pane) {
    this.pane = pane;
    this.visitorId = null;
    this.token = 0;
    const id = pane.id;
    this.name = h('strong', { class: 'customer-name', sb: 'customer-name' });
    this.badgeSlot = h('span', { class: 'customer-badge' });
    this.email = h('p', { class: 'customer-line', sb: 'customer-email', hidden: true });
    this.site = h('p', { class: 'customer-line muted', sb: 'customer-site', hidden: true });
    this.customerId = h('p', { class: 'customer-line muted', sb: 'customer-id', hidden: true });
    this.prechat = h('div', { class: 'customer-prechat', id: `customer-prechat-${id}`, sb: 'customer-prechat' });
    this.pages = h('ol', { class: 'customer-pages', sb: 'customer-pages' });
    this.chats = h('ul', { class: 'customer-chats', sb: 'customer-chats' });
    this.status = h('p', { class: 'muted customer-status', role: 'status' });
    this.refreshButton = h('button', {
      type: 'button', class: 'ghost small', sb: 'customer-refresh', text: 'Refresh', onclick: () => this.load(),
    });
    this.el = h('details', { class: 'customer', sb: 'customer', open: true },
      h('summary', { class: 'customer-summary' }, 'Customer: ', this.name, ' ', this.badgeSlot),
      h('div', { class: 'customer-body' },
        this.email, this.customerId, this.site,
        this.prechat,
        h('h3', { class: 'customer-heading', text: 'Pages this visit' }), this.pages,
        h('h3', { class: 'customer-heading', text: 'Earlier chats' }), this.chats,
        this.status, this.refreshButton));
  }

  /** Who it is, from the chat's details (GET /api/chats/{id}: `visitor`). */
  showVisitor(visitor) {
    this.name.textContent = visitor.name || 'Visitor';
    this.badgeSlot.replaceChildren(verifiedBadge(visitor.verified === true));
    this.el.dataset.verified = visitor.verified === true ? 'true' : 'false';
    this.setLine(this.email, visitor.email ? `Email: ${visitor.email}` : '');
    this.setLine(this.customerId, visitor.customer_id ? `Customer id: ${visitor.customer_id}` : '');
    this.setLine(this.site, visitor.site ? `Site: ${visitor.site.name}` : '');
  }

  setLine(node, text) {
    node.textContent = text;
    node.hidden = !text;
  }

  /** Reads the profile of `visitorId` (or the one shown) and shows it. */
  async load(visitorId) {
    if (visitorId) this.visitorId = visitorId;
    if (!this.visitorId) return;
    const token = ++this.token;
    this.status.textContent = 'Loading…';
    try {
      const profile = await api('GET', `/api/visitors/${encodeURIComponent(this.visitorId)}/profile`, undefined, {
        query: { limit: 20 },
      });
      if (token !== this.token) return;
      this.showVisitor(profile.visitor || {});
      this.showPages(profile.pages || []);
      this.showChats(profile.chats || []);
      this.status.textContent = '';
    } catch (error) {
      if (token !== this.token) return;
      this.status.textContent = error.status === 403 ? 'This customer\'s profile is not open to you.' : error.message;
    }
  }

  showPages(pages) {
    const items = pages.map((page) => {
      const href = safeHttpUrl(page.url);
      const label = page.title || page.url;
      return h('li', { class: 'customer-page', sb: 'customer-page' },
        href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer', text: label, title: page.url }) : h('span', { text: label }),
        h('time', { class: 'muted', text: ` · ${fmtDateTime(page.at)}` }));
    });
    this.pages.replaceChildren(...items);
    if (!items.length) this.pages.append(h('li', { class: 'muted', text: 'No page reported.' }));
  }

  showChats(chats) {
    const earlier = chats.filter((chat) => chat.chat_id !== this.pane.id);
    const items = earlier.map((chat) => this.chatItem(chat));
    this.chats.replaceChildren(...items);
    if (!items.length) this.chats.append(h('li', { class: 'muted', text: 'No earlier chats.' }));
  }

  chatItem(chat) {
    const rating = chat.score
      ? h('span', { class: 'customer-rating', sb: 'customer-rating', text: `${stars(chat.score)} ${chat.score}/5${chat.comment ? ` — “${chat.comment}”` : ''}` })
      : h('span', { class: 'customer-rating muted', sb: 'customer-rating', text: 'Not rated' });
    const log = h('div', { class: 'chat-log customer-transcript', sb: 'customer-transcript', role: 'log', hidden: true });
    const toggle = h('button', { type: 'button', class: 'ghost small', sb: 'customer-transcript-toggle', 'aria-expanded': 'false', text: 'Show transcript' });
    toggle.addEventListener('click', () => this.toggleTranscript(chat.chat_id, toggle, log));
    return h('li', { class: 'customer-chat', sb: 'customer-chat', data: { chatId: chat.chat_id } },
      h('div', { class: 'customer-chat-meta' },
        h('span', { text: fmtDateTime(chat.created_at) }),
        h('span', { class: 'muted', text: ` · ${chat.agent ? chat.agent.name : 'no agent'}` }),
        h('span', { class: 'muted', text: ` · ${chat.status === 'closed' ? (CLOSE_REASONS[chat.close_reason] || 'Closed') : chat.status}` })),
      rating, toggle, log);
  }

  async toggleTranscript(chatId, toggle, log) {
    const opening = log.hidden;
    log.hidden = !opening;
    toggle.setAttribute('aria-expanded', String(opening));
    toggle.textContent = opening ? 'Hide transcript' : 'Show transcript';
    if (!opening || log.dataset.loaded) return;
    log.replaceChildren(h('p', { class: 'muted', text: 'Loading…' }));
    const nodes = [];
    let after = 0;
    try {
      for (let page = 0; page < MAX_TRANSCRIPT_PAGES && after !== null; page += 1) {
        const answer = await api('GET', `/api/chats/${encodeURIComponent(chatId)}/messages`, undefined, {
          query: { after_seq: after, limit: 200 },
        });
        for (const ev of answer.events || []) {
          const node = entryNode(ev);
          if (node) nodes.push(node);
        }
        after = typeof answer.next_after_seq === 'number' ? answer.next_after_seq : null;
      }
      log.replaceChildren(...nodes);
      if (!nodes.length) log.append(h('p', { class: 'muted', text: 'No messages.' }));
      log.dataset.loaded = 'true';
    } catch (error) {
      log.replaceChildren(h('p', { class: 'error', text: error.message }));
    }
  }
}
