// How chat events look, shared by the live chat panes and the transcript viewer.

import { CLOSE_REASONS, fmtTime, h } from './util.js';

/** A `message` entry with the hooks the widget uses too; the body is always text. */
export function messageNode(ev, { pending = false } = {}) {
  const from = ev.from || 'system';
  const who = from === 'visitor' ? ev.sender_name || 'Visitor' : from === 'agent' ? ev.sender_name || 'Agent' : '';
  const node = h(
    'div',
    {
      class: `msg msg-${from}`,
      sb: 'message',
      data: { from },
    },
    h(
      'div',
      { class: 'msg-meta' },
      who ? h('span', { class: 'msg-who', text: who }) : null,
      h('time', { class: 'msg-time', text: ev.at ? fmtTime(ev.at) : '' }),
      h('span', { class: 'msg-state', text: pending ? 'Sending…' : '' }),
    ),
    h('div', { class: 'msg-body', sb: 'message-body', text: ev.body || '' }),
  );
  if (ev.seq !== undefined && !pending) node.dataset.seq = String(ev.seq);
  if (ev.client_msg_id) node.dataset.clientMsgId = ev.client_msg_id;
  return node;
}

function agentName(ref) {
  return (ref && ref.name) || 'an agent';
}

/** One line for a chat event that is not a message (null for types not shown). */
export function eventText(ev) {
  switch (ev.type) {
    case 'chat.queued':
      return `Waiting in the queue (position ${ev.position})`;
    case 'chat.assigned':
      return `Assigned to ${agentName(ev.agent)}`;
    case 'chat.invited':
      return `${agentName(ev.agent)} invited the visitor`;
    case 'chat.transferred':
      return `Transferred from ${agentName(ev.from)} to ${agentName(ev.to)}`;
    case 'chat.closed':
      return CLOSE_REASONS[ev.reason] || 'Chat closed';
    default:
      return null;
  }
}

export function eventNode(ev) {
  const text = eventText(ev);
  if (text === null) return null;
  return h(
    'div',
    { class: `event event-${ev.type.replace('.', '-')}`, data: { eventType: ev.type } },
    h('span', { text }),
    ev.at ? h('time', { text: ` · ${fmtTime(ev.at)}` }) : null,
  );
}

/** The node for any stored chat event. */
export function entryNode(ev) {
  return ev.type === 'message' ? messageNode(ev) : eventNode(ev);
}
