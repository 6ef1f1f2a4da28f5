// The Transcripts tab: every closed chat, most recently closed first, paged with "More";
// a click shows the chat's whole transcript (paged through next_after_seq) and its rating.
(function () {
  'use strict';

  const Admin = window.SBAdmin;
  const { api, el, $ } = Admin;
  const PAGE_SIZE = 25;
  const TRANSCRIPT_PAGE = 200;

  const chats = new Map(); // chat_id → history entry
  let last = null; // the last chat of the list: where the next page starts
  let selectedId = null;
  // Bumped on every list reload / transcript open, so a slow answer for an older request is dropped.
  let listGeneration = 0;
  let transcriptGeneration = 0;

  async function loadPage(reset) {
    const generation = reset ? ++listGeneration : listGeneration;
    let path = 'api/chats/history?limit=' + PAGE_SIZE;
    if (!reset && last !== null) {
      path += '&before=' + encodeURIComponent(last.closed_at) + '&before_chat=' + encodeURIComponent(last.chat_id);
    }
    const more = $('#transcripts-more');
    more.disabled = true;
    try {
      const data = await api('GET', path);
      if (generation !== listGeneration) return;
      if (reset) {
        chats.clear();
        Admin.clear($('#transcripts'));
        last = null;
      }
      const page = data.chats || [];
      for (const chat of page) addItem(chat);
      more.hidden = page.length < PAGE_SIZE;
      $('#transcripts-empty').hidden = chats.size > 0;
    } catch (error) {
      Admin.reportError(error);
    } finally {
      more.disabled = false;
    }
  }

  function addItem(chat) {
    if (chats.has(chat.chat_id)) return;
    chats.set(chat.chat_id, chat);
    // Pages come in (closed_at, chat_id) descending order, so the newest addition is the last.
    if (chat.closed_at !== null) last = chat;
    const rating = chat.score === null || chat.score === undefined
      ? el('span', { class: 'muted', text: 'not rated' })
      : el('span', { class: 'stars', title: chat.score + ' of 5', text: Admin.stars(chat.score) });
    const button = el('button', {
      type: 'button', class: 'history-item', sb: 'history-item', 'data-chat-id': chat.chat_id,
      'aria-pressed': chat.chat_id === selectedId ? 'true' : 'false',
      onclick: () => open(chat.chat_id),
    },
      el('span', { class: 'history-line' },
        el('strong', { text: chat.visitor_name || 'Visitor' }), ' → ',
        el('span', { text: chat.agent_name || 'no agent' })),
      el('span', { class: 'history-line muted' },
        Admin.formatDateTime(chat.closed_at), ' · ', Admin.reasonText(chat.close_reason), ' · ', rating));
    $('#transcripts').appendChild(el('li', null, button));
  }

  function markSelected() {
    for (const item of document.querySelectorAll('#transcripts [data-sb="history-item"]')) {
      item.setAttribute('aria-pressed', item.getAttribute('data-chat-id') === selectedId ? 'true' : 'false');
    }
  }

  async function open(chatId) {
    Admin.clearError();
    selectedId = chatId;
    markSelected();
    const generation = ++transcriptGeneration;
    const chat = chats.get(chatId) || { chat_id: chatId };
    const panel = $('#transcript');
    panel.setAttribute('data-chat-id', chatId);
    panel.setAttribute('aria-busy', 'true');
    Admin.clear(panel);
    const log = el('ol', { class: 'log', sb: 'messages' });
    const status = el('p', { class: 'muted', text: 'Loading…' });
    panel.append(header(chat), ratingBlock(chat), log, status);

    let afterSeq = 0;
    try {
      for (;;) {
        const data = await api('GET', 'api/chats/' + encodeURIComponent(chatId) +
          '/messages?after_seq=' + afterSeq + '&limit=' + TRANSCRIPT_PAGE);
        if (generation !== transcriptGeneration) return;
        for (const event of data.events || []) log.appendChild(line(event, chat));
        const next = data.next_after_seq;
        // A next page that does not move forward would loop for ever: stop instead.
        if (next === null || next === undefined || next <= afterSeq) break;
        afterSeq = next;
      }
      status.remove();
      if (!log.firstChild) panel.insertBefore(el('p', { class: 'muted', text: 'This chat has no events.' }), log);
    } catch (error) {
      if (generation !== transcriptGeneration) return;
      status.textContent = 'Could not load the transcript: ' + error.message;
      Admin.reportError(error);
    } finally {
      if (generation === transcriptGeneration) panel.removeAttribute('aria-busy');
    }
  }

  function header(chat) {
    return el('header', { class: 'transcript-head' },
      el('h3', null, el('span', { text: chat.visitor_name || 'Visitor' }), ' ↔ ',
        el('span', { text: chat.agent_name || 'no agent' })),
      el('p', { class: 'muted' },
        'Started ', Admin.formatDateTime(chat.created_at), ' · ended ', Admin.formatDateTime(chat.closed_at),
        ' (', Admin.reasonText(chat.close_reason), ')'),
      el('p', { class: 'muted mono small', text: 'Chat ' + chat.chat_id }));
  }

  function ratingBlock(chat) {
    if (chat.score === null || chat.score === undefined) {
      return el('p', { class: 'rating muted', sb: 'transcript-rating', 'data-score': '' }, 'Not rated.');
    }
    return el('p', { class: 'rating', sb: 'transcript-rating', 'data-score': chat.score },
      'Rating: ', el('span', { class: 'stars', text: Admin.stars(chat.score) }), ' ' + chat.score + '/5',
      chat.comment ? el('q', { class: 'comment', text: chat.comment }) : null);
  }

  function agentName(agent) {
    return (agent && agent.name) || 'an agent';
  }

  // What a stored event says, for the muted lines of system events.
  function eventText(event) {
    switch (event.type) {
      case 'chat.queued': return 'Waiting in the queue (position ' + event.position + ')';
      case 'chat.assigned': return 'Assigned to ' + agentName(event.agent);
      case 'chat.invited': return agentName(event.agent) + ' invited the visitor';
      case 'chat.transferred': return 'Transferred from ' + agentName(event.from) + ' to ' + agentName(event.to);
      case 'chat.closed': return 'Chat ended: ' + Admin.reasonText(event.reason);
      default: return String(event.type || 'event');
    }
  }

  function line(event, chat) {
    const known = typeof event.at === 'number';
    const time = el('time', { datetime: known ? new Date(event.at).toISOString() : null, title: known ? Admin.formatDateTime(event.at) : null },
      known ? Admin.formatClock(event.at) : '');
    if (event.type === 'message' && event.from !== 'system') {
      const who = event.sender_name || (event.from === 'visitor' ? chat.visitor_name || 'Visitor' : 'Agent');
      return el('li', { class: 'message from-' + event.from, sb: 'message', 'data-from': event.from, 'data-seq': event.seq },
        el('div', { class: 'meta' }, el('strong', { class: 'who', text: who }), ' ', time),
        el('div', { class: 'body', sb: 'message-body', text: event.body }));
    }
    const isMessage = event.type === 'message';
    return el('li', {
      class: 'event muted', sb: isMessage ? 'message' : 'event', 'data-from': isMessage ? 'system' : null,
      'data-type': event.type, 'data-seq': event.seq,
    }, time, ' ', el('span', { sb: isMessage ? 'message-body' : null, text: isMessage ? event.body : eventText(event) }));
  }

  $('#transcripts-more').addEventListener('click', () => {
    Admin.clearError();
    loadPage(false);
  });
  $('#transcripts-refresh').addEventListener('click', () => {
    Admin.clearError();
    loadPage(true);
  });

  Admin.tabs.transcripts = {
    // Reloaded on every visit: chats close all the time, and a stale first page misleads.
    show() {
      loadPage(true);
    },
  };
})();
