// Past chats: the history list (paged by closed_at) and the transcript viewer.

import { api } from './api.js';
import { entryNode } from './render.js';
import { CLOSE_REASONS, fmtDateTime, h } from './util.js';

const PAGE = 20;
const MAX_TRANSCRIPT_PAGES = 50;

function stars(score) {
  return `${'★'.repeat(score)}${'☆'.repeat(5 - score)}`;
}

export class HistoryView {
  constructor(root, transcript) {
    this.transcript = transcript;
    this.list = h('ul', { class: 'history-list' });
    this.line = h('p', { class: 'muted' });
    this.more = h('button', {
      type: 'button', class: 'ghost small', sb: 'history-more', text: 'More', hidden: true,
      onclick: () => this.loadMore(),
    });
    root.append(this.list, this.line, this.more);
    this.chats = [];
  }

  /** The first page again (after a chat closed, or at start). */
  async load() {
    try {
      const answer = await api('GET', '/api/chats/history', undefined, { query: { limit: PAGE } });
      this.chats = answer.chats || [];
      this.more.hidden = this.chats.length < PAGE;
      this.render();
    } catch (error) {
      this.showLine(error.message, true);
    }
  }

  async loadMore() {
    const oldest = this.chats[this.chats.length - 1];
    if (!oldest) return;
    this.more.disabled = true;
    try {
      const query = { limit: PAGE, before: oldest.closed_at, before_chat: oldest.chat_id };
      const answer = await api('GET', '/api/chats/history', undefined, { query });
      const page = answer.chats || [];
      const known = new Set(this.chats.map((chat) => chat.chat_id));
      this.chats = this.chats.concat(page.filter((chat) => !known.has(chat.chat_id)));
      this.more.hidden = page.length < PAGE;
      this.render();
    } catch (error) {
      this.showLine(error.message, true);
    } finally {
      this.more.disabled = false;
    }
  }

  showLine(text, isError) {
    this.line.textContent = text;
    this.line.hidden = !text;
    this.line.classList.toggle('error', !!isError);
  }

  render() {
    this.list.replaceChildren(...this.chats.map((chat) => h(
      'li',
      {},
      h(
        'button',
        {
          type: 'button', class: 'history-item', sb: 'history-item', data: { chatId: chat.chat_id },
          onclick: () => this.transcript.open(chat),
        },
        h('span', { class: 'history-top' },
          h('strong', { text: chat.visitor_name || 'Visitor' }),
          chat.score
            ? h('span', { class: 'stars', 'aria-label': `rated ${chat.score} of 5`, text: stars(chat.score) })
            : null),
        h('span', {
          class: 'muted',
          text: `${fmtDateTime(chat.closed_at)} · ${CLOSE_REASONS[chat.close_reason] || 'Closed'}`,
        }),
      ),
    )));
    this.showLine(this.chats.length ? '' : 'No past chats yet.');
  }
}

/** The `transcript` panel: one closed chat's events, all pages, and its rating. */
export class TranscriptView {
  constructor(root) {
    this.root = root;
    this.heading = h('h2', { id: 'transcript-title', text: 'Transcript' });
    this.meta = h('p', { class: 'muted' });
    this.rating = h('p', { class: 'rating', sb: 'transcript-rating' });
    this.log = h('div', {
      class: 'chat-log transcript-log', sb: 'messages', role: 'log', 'aria-labelledby': 'transcript-title',
    });
    this.closeButton = h('button', {
      type: 'button', class: 'ghost small', sb: 'transcript-close', text: 'Close', onclick: () => this.close(),
    });
    this.mailTo = h('input', { type: 'email', maxlength: 254, placeholder: 'visitor@example.com', 'aria-label': 'Email the transcript to', sb: 'transcript-email' });
    this.mailStatus = h('span', { class: 'muted', sb: 'transcript-email-status' });
    this.mailForm = h('form', {
      class: 'transcript-mail',
      onsubmit: (event) => { event.preventDefault(); this.mail(); },
    }, this.mailTo, h('button', { type: 'submit', class: 'ghost small', sb: 'transcript-email-send', text: 'Email transcript' }), this.mailStatus);
    root.append(
      h('header', { class: 'transcript-head' }, this.heading, this.closeButton),
      this.meta, this.rating, this.mailForm, this.log,
    );
    root.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.close();
    });
    this.token = 0;
  }

  async open(chat) {
    const token = ++this.token;
    this.opener = document.activeElement;
    this.root.hidden = false;
    this.root.dataset.chatId = chat.chat_id;
    this.heading.textContent = `Transcript — ${chat.visitor_name || 'Visitor'}`;
    this.meta.textContent = [
      chat.agent_name ? `Agent: ${chat.agent_name}` : null,
      chat.created_at ? `started ${fmtDateTime(chat.created_at)}` : null,
      chat.closed_at ? `closed ${fmtDateTime(chat.closed_at)}` : null,
      CLOSE_REASONS[chat.close_reason] || null,
    ].filter(Boolean).join(' · ');
    this.rating.textContent = chat.score
      ? `Rating: ${stars(chat.score)} ${chat.score}/5${chat.comment ? ` — “${chat.comment}”` : ''}`
      : 'Not rated.';
    this.mailStatus.textContent = '';
    this.log.replaceChildren(h('p', { class: 'muted', text: 'Loading…' }));
    this.closeButton.focus();
    const nodes = [];
    let after = 0;
    try {
      for (let page = 0; page < MAX_TRANSCRIPT_PAGES && after !== null; page += 1) {
        const answer = await api('GET', `/api/chats/${encodeURIComponent(chat.chat_id)}/messages`, undefined, {
          query: { after_seq: after, limit: 200 },
        });
        if (token !== this.token) return;
        for (const ev of answer.events || []) {
          const node = entryNode(ev);
          if (node) nodes.push(node);
        }
        after = answer.next_after_seq === undefined ? null : answer.next_after_seq;
      }
      this.log.replaceChildren(...nodes);
      if (!nodes.length) this.log.append(h('p', { class: 'muted', text: 'No messages.' }));
    } catch (error) {
      if (token === this.token) this.log.replaceChildren(h('p', { class: 'error', text: error.message }));
    }
  }

  /** Emails this chat's transcript to the address typed (the visitor's, say). */
  async mail() {
    const chatId = this.root.dataset.chatId;
    this.mailStatus.textContent = 'Sending…';
    try {
      await api('POST', `/api/chats/${encodeURIComponent(chatId)}/transcript/email`, { email: this.mailTo.value });
      this.mailStatus.textContent = `Sent to ${this.mailTo.value}.`;
    } catch (error) {
      this.mailStatus.textContent = error.message;
    }
  }

  close() {
    this.token += 1;
    this.root.hidden = true;
    if (this.opener && this.opener.isConnected) this.opener.focus();
  }
}
