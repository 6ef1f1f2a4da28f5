// The visitor's answers to its site's pre-chat form, shown with the chat (label: value), from
// GET /api/chats/{id} `prechat`. Always text (textContent), never markup: the visitor wrote them.

import { h } from './util.js';

/** Shows `detail.prechat` in the pane's header area (nothing when the site asked nothing). */
export function showPrechat(pane, detail) {
  const answers = detail && Array.isArray(detail.prechat) ? detail.prechat : [];
  const old = pane.el.querySelector('[data-sb="prechat"]');
  if (!answers.length) {
    if (old) old.remove();
    return;
  }
  const list = h(
    'dl',
    { class: 'prechat', sb: 'prechat', 'aria-label': 'Pre-chat answers' },
    ...answers.flatMap((answer) => [
      h('dt', { text: String(answer.label ?? answer.name ?? '') }),
      h('dd', { sb: 'prechat-answer', data: { name: String(answer.name ?? '') }, text: String(answer.value ?? '') }),
    ]),
  );
  if (old) old.replaceWith(list);
  else pane.el.querySelector('.chat-head').after(list);
}
