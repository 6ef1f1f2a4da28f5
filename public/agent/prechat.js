// The visitor's answers to its site's pre-chat form, shown with the chat (label: value), from
// GET /api/chats/{id} `prechat`. Always text (textContent), never markup: the visitor wrote them.

import { h } from './util.js';

/**
 * Shows `detail.prechat` in the customer panel's `customer-prechat` element (customer.js), next to
 * who the visitor is; empty (hidden) when the site asked nothing.
 */
export function showPrechat(pane, detail) {
  const answers = detail && Array.isArray(detail.prechat) ? detail.prechat : [];
  if (!answers.length) {
    pane.customer.prechat.replaceChildren();
    return;
  }
  pane.customer.prechat.replaceChildren(h(
    'dl',
    { class: 'prechat', sb: 'prechat', 'aria-label': 'Pre-chat answers' },
    ...answers.flatMap((answer) => [
      h('dt', { text: String(answer.label ?? answer.name ?? '') }),
      h('dd', { sb: 'prechat-answer', data: { name: String(answer.name ?? '') }, text: String(answer.value ?? '') }),
    ]),
  ));
}
