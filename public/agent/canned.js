// Canned replies, kept by the server (GET /api/canned): the team's, which admins edit on the
// admin pages, and this agent's own, which only this agent sees and edits, in the
// `canned-editor` section. A pane's `canned` select inserts one at the caret; `/shortcut` then
// Tab in a reply expands it, the agent's own winning over a team one with the same shortcut.
//
// The console used to keep the replies in this browser's localStorage (LEGACY_KEY). At the
// first sign-in that finds them they go to the server as the agent's own, one request each
// (POST /api/canned/import, which adds nothing for a text the agent has already, so a second
// tab or a retry after a failure adds nothing twice), and only once all are in is the key
// removed.

import { api } from './api.js';
import { Refresher } from './sidebar.js';
import { h, store } from './util.js';

const LEGACY_KEY = 'sb.console.canned';
const SHORTCUT = /^[a-z0-9_-]{1,32}$/;
/** `/shortcut` right before the caret, at the start or after a space. */
const TYPED_SHORTCUT = /(^|\s)\/([a-z0-9_-]{1,32})$/;

/** The replies as last read: the team's, then this agent's own, each by shortcut. */
let replies = [];

export function cannedReplies() {
  return replies;
}

/** The reply `/shortcut` stands for: this agent's own first, else the team's. */
export function replyFor(shortcut) {
  return replies.find((r) => r.scope === 'personal' && r.shortcut === shortcut)
    || replies.find((r) => r.scope === 'team' && r.shortcut === shortcut)
    || null;
}

const short = (text, length) => (text.length > length ? `${text.slice(0, length - 1)}…` : text);

/** The `canned-editor` section: every reply, marked team or own; the agent's own editable. */
export class CannedEditor {
  /** `changed()` runs after every new list (the panes' selects follow it). */
  constructor(root, changed) {
    this.changed = changed;
    this.editing = null;
    this.list = h('ul', { class: 'canned-list', sb: 'canned-list' });
    this.line = h('p', { class: 'muted', hidden: true });
    this.error = h('p', { class: 'error', sb: 'canned-error', role: 'alert', hidden: true });
    this.shortcut = h('input', {
      id: 'canned-new-shortcut', sb: 'canned-new-shortcut', maxlength: 32, autocomplete: 'off',
      placeholder: 'refund', required: true,
    });
    this.text = h('textarea', { id: 'canned-new', sb: 'canned-new', rows: 2, required: true });
    this.submit = h('button', { type: 'submit', class: 'small', sb: 'canned-add', text: 'Add' });
    this.cancel = h('button', {
      type: 'button', class: 'ghost small', sb: 'canned-cancel', text: 'Cancel', hidden: true,
      onclick: () => this.stopEditing(),
    });
    this.form = h(
      'form',
      { class: 'canned-form', novalidate: true, onsubmit: (event) => { event.preventDefault(); this.save(); } },
      h('label', { for: 'canned-new-shortcut', text: 'Shortcut (type /shortcut then Tab in a reply)' }),
      this.shortcut,
      h('label', { for: 'canned-new', text: 'My canned reply' }),
      this.text,
      h('div', { class: 'row-end' }, this.cancel, this.submit),
    );
    root.append(this.list, this.line, this.error, this.form);
    this.refresher = new Refresher(() => this.load(), 60000);
  }

  /** At sign-in: imports what this browser kept, then reads the list (and every minute after). */
  async start() {
    await this.importLegacy();
    this.refresher.start();
  }

  stop() {
    this.refresher.stop();
    replies = [];
    this.stopEditing();
    this.list.replaceChildren();
    this.showError('');
    this.changed();
  }

  async importLegacy() {
    const legacy = store.get(LEGACY_KEY, null);
    if (legacy === null) return;
    const texts = Array.isArray(legacy) ? legacy.filter((item) => typeof item === 'string') : [];
    try {
      // One at a time, oldest first; each is skipped by the server if the agent has it already.
      for (const text of texts.filter((item) => item.trim())) {
        await api('POST', '/api/canned/import', { body: text });
      }
      store.remove(LEGACY_KEY);
    } catch (error) {
      // Kept for the next sign-in: nothing the agent had is lost.
      this.showError(`Your canned replies from this browser could not be saved: ${error.message}`);
    }
  }

  async load() {
    replies = (await api('GET', '/api/canned')).canned || [];
    this.render();
    this.changed();
  }

  render() {
    this.list.replaceChildren(...replies.map((reply) => this.row(reply)));
    this.line.textContent = replies.length ? '' : 'No canned replies yet.';
    this.line.hidden = replies.length > 0;
  }

  row(reply) {
    const mine = reply.scope === 'personal';
    const tools = reply.can_edit && mine
      ? h('span', { class: 'canned-tools' },
        h('button', {
          type: 'button', class: 'ghost small', sb: 'canned-edit', text: 'Edit',
          'aria-label': `Edit /${reply.shortcut}`, onclick: () => this.startEditing(reply),
        }),
        h('button', {
          type: 'button', class: 'ghost small', sb: 'canned-remove', text: 'Remove',
          'aria-label': `Remove /${reply.shortcut}`, onclick: (event) => this.remove(reply, event.currentTarget),
        }))
      : null;
    return h(
      'li',
      {
        class: 'canned-item', sb: 'canned-item',
        data: { cannedId: reply.canned_id, scope: reply.scope, shortcut: reply.shortcut },
      },
      h('span', { class: `pill canned-scope ${mine ? 'mine' : 'team'}`, sb: 'canned-scope', text: mine ? 'Mine' : 'Team' }),
      h('span', { class: 'canned-text' },
        h('strong', { class: 'canned-shortcut', sb: 'canned-shortcut', text: `/${reply.shortcut}` }),
        ' ',
        h('span', { sb: 'canned-body', text: reply.body })),
      tools,
    );
  }

  startEditing(reply) {
    this.editing = reply.canned_id;
    this.shortcut.value = reply.shortcut;
    this.text.value = reply.body;
    this.submit.textContent = 'Save';
    this.cancel.hidden = false;
    this.text.focus();
  }

  stopEditing() {
    this.editing = null;
    this.form.reset();
    this.submit.textContent = 'Add';
    this.cancel.hidden = true;
  }

  async save() {
    const shortcut = this.shortcut.value.trim().replace(/^\//, '');
    const body = this.text.value;
    if (!SHORTCUT.test(shortcut)) {
      this.showError('A shortcut is 1 to 32 of a-z, 0-9, _ and -.');
      this.shortcut.focus();
      return;
    }
    if (!body.trim()) {
      this.showError('Write the reply first.');
      this.text.focus();
      return;
    }
    this.submit.disabled = true;
    this.showError('');
    try {
      if (this.editing) {
        await api('POST', `/api/canned/${encodeURIComponent(this.editing)}`, { shortcut, body });
      } else {
        await api('POST', '/api/canned', { scope: 'personal', shortcut, body });
      }
      this.stopEditing();
      await this.load();
    } catch (error) {
      this.showError(error.message);
    } finally {
      this.submit.disabled = false;
    }
  }

  async remove(reply, button) {
    button.disabled = true;
    this.showError('');
    try {
      await api('POST', `/api/canned/${encodeURIComponent(reply.canned_id)}/delete`, {});
      if (this.editing === reply.canned_id) this.stopEditing();
    } catch (error) {
      this.showError(error.message);
      button.disabled = false;
    }
    this.refresher.soon();
  }

  showError(text) {
    this.error.textContent = text || '';
    this.error.hidden = !text;
  }
}

/**
 * A chat pane's canned replies: its `canned` select puts the chosen one into the pane's input at
 * the caret, and `expand()` turns a typed `/shortcut` into its reply.
 */
export class CannedPicker {
  /** `pane`: the ChatPane whose input this writes to. */
  constructor(pane) {
    this.pane = pane;
    this.select = h('select', {
      sb: 'canned', id: `canned-${pane.id}`, class: 'canned',
      onchange: () => this.insert(),
    });
  }

  fill() {
    const option = (reply) => h('option', {
      value: reply.canned_id, text: `/${reply.shortcut} — ${short(reply.body, 50)}`,
    });
    const group = (label, scope) => {
      const members = replies.filter((reply) => reply.scope === scope);
      return members.length ? h('optgroup', { label }, ...members.map(option)) : null;
    };
    this.select.replaceChildren(
      h('option', { value: '', text: replies.length ? 'Canned reply…' : 'No canned replies' }),
      group('Mine', 'personal'),
      group('Team', 'team'),
    );
  }

  insert() {
    const id = this.select.value;
    this.select.value = '';
    const reply = replies.find((r) => r.canned_id === id);
    if (!reply) return;
    const { selectionStart: start, selectionEnd: end } = this.pane.input;
    this.put(start, end, reply.body);
  }

  /** Tab in the input: expands `/shortcut` before the caret; false when there is none to expand. */
  expand() {
    const { selectionStart: start, selectionEnd: end, value } = this.pane.input;
    if (start !== end) return false;
    const typed = TYPED_SHORTCUT.exec(value.slice(0, start));
    const reply = typed && replyFor(typed[2]);
    if (!reply) return false;
    this.put(start - typed[2].length - 1, end, reply.body);
    return true;
  }

  /** Replaces the input's text from `start` to `end` with `text`, the caret after it. */
  put(start, end, text) {
    const input = this.pane.input;
    input.value = input.value.slice(0, start) + text + input.value.slice(end);
    input.focus();
    input.selectionStart = input.selectionEnd = start + text.length;
    this.pane.typing.typed();
  }
}
