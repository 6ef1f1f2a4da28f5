// Canned replies: kept in this browser's localStorage, edited in the `canned-editor` section,
// inserted into a chat's reply from its pane's `canned` select.

import { h, store } from './util.js';

const KEY = 'sb.console.canned';
const DEFAULTS = [
  'Hello! Thanks for reaching out — how can I help you today?',
  'Let me check that for you, one moment please.',
  'Is there anything else I can help you with?',
];

export function cannedReplies() {
  const list = store.get(KEY, null);
  return Array.isArray(list) ? list.filter((item) => typeof item === 'string') : DEFAULTS.slice();
}

/** Fills `root` (the canned-editor section) and calls `changed()` after every edit. */
export function mountCannedEditor(root, changed) {
  const list = h('ul', { class: 'canned-list', sb: 'canned-list' });
  const text = h('textarea', { id: 'canned-new', sb: 'canned-new', rows: 2, maxlength: 2000 });
  const save = (replies) => {
    store.set(KEY, replies);
    render();
    changed();
  };
  const render = () => {
    const replies = cannedReplies();
    list.replaceChildren(...replies.map((reply, index) => h(
      'li',
      { class: 'canned-item', sb: 'canned-item' },
      h('span', { class: 'canned-text', text: reply }),
      h('button', {
        type: 'button', class: 'ghost small', sb: 'canned-remove', 'aria-label': `Remove “${reply.slice(0, 40)}”`,
        text: 'Remove',
        onclick: () => save(cannedReplies().filter((_, i) => i !== index)),
      }),
    )));
    if (!replies.length) list.append(h('li', { class: 'empty', text: 'No canned replies yet.' }));
  };
  const form = h(
    'form',
    {
      class: 'canned-form',
      onsubmit: (event) => {
        event.preventDefault();
        const reply = text.value.trim();
        if (!reply) return;
        save([...cannedReplies(), reply]);
        text.value = '';
        text.focus();
      },
    },
    h('label', { for: 'canned-new', text: 'New canned reply' }),
    text,
    h('div', { class: 'row-end' },
      h('button', {
        type: 'button', class: 'ghost small', text: 'Restore defaults', onclick: () => save(DEFAULTS.slice()),
      }),
      h('button', { type: 'submit', class: 'small', sb: 'canned-add', text: 'Add' })),
  );
  root.append(list, form);
  render();
}

/** A chat pane's `canned` select: the chosen reply goes into the pane's input at the caret. */
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
    const replies = cannedReplies();
    this.select.replaceChildren(
      h('option', { value: '', text: 'Canned reply…' }),
      ...replies.map((text, index) => h('option', {
        value: String(index),
        text: text.length > 60 ? `${text.slice(0, 57)}…` : text,
      })),
    );
  }

  insert() {
    const input = this.pane.input;
    const index = this.select.value;
    this.select.value = '';
    const text = index === '' ? null : cannedReplies()[Number(index)];
    if (!text) return;
    const { selectionStart: start, selectionEnd: end, value } = input;
    input.value = value.slice(0, start) + text + value.slice(end);
    input.focus();
    input.selectionStart = input.selectionEnd = start + text.length;
    this.pane.typing.typed();
  }
}
