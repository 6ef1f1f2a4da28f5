/*
 * Switchboard widget: the chat itself — choosing an agent, queue, messages, typing, read
 * markers, rating, offline form, unread badge and title notice. ES5.
 * Every tab renders every chat event exactly once: events are de-duplicated by chat_id + seq,
 * placed by seq, and a message this browser sent is matched to its echo by client_msg_id.
 */
(function (W) {
  'use strict';
  var CHAT_EVENT = /^(message|chat\.(queued|assigned|invited|transferred|closed))$/;

  W.parts.app = function () {
    var t = W.t, L = W.link, v = W.parts.view(W), el = v.el;
    var opened = false, chat = null, noChat = 'choosing', ready = false, waiting = [];
    var seen = {}, mine = {}, closedIds = {}, starting = false, kept = false, offlineSent = false, agentsKnown = false, focusAny = false;
    var rateScore = 0, rateHidden = false, connUp = L.isUp(), sendDown = false;
    var typingTimer = null, typingStop = null, typingOn = false, typingSent = 0, blinkTimer = null, savedTitle = '';

    function text(node, s) { node.textContent = s == null ? '' : String(s); }
    function show(node, on) { node.style.display = on ? '' : 'none'; }
    function now() { return new Date().getTime(); }
    function errorText(data) { return (data && data.error && data.error.message) || t('error'); }
    function errorCode(data) { return data && data.error && data.error.code; }
    function state() { return chat ? chat.status : noChat; }
    function live() { return !!chat && (chat.status === 'open' || chat.status === 'queued'); }
    function agentName() { return (chat && chat.agent && chat.agent.name) || t('agent'); }
    function post(tail, body, cb) { L.request('POST', 'api/chats/' + encodeURIComponent(chat.id) + '/' + tail, body, cb); }
    function note(s) { text(v.chooseNote, s); }

    // ---- the current chat
    function setChat(id, status) {
      wipe();
      chat = { id: id, status: status || 'open', agent: null, served: false, position: null, top: 0, low: 0, stateSeq: 0 };
      rateScore = 0;
      rateHidden = false;
      text(v.rateError, '');
      v.comment.value = '';
      save();
    }
    function save() { if (chat) { L.set('chat', { id: chat.id, st: chat.status }); } }
    function dropChat() {
      wipe();
      chat = null;
      L.del('chat');
    }
    function wipe() {
      if (chat) { closedIds[chat.id] = 1; }
      while (v.log.firstChild) { v.log.removeChild(v.log.firstChild); }
      mine = {};
      hideTyping();
    }
    /** An event of another chat: it becomes the current one unless we are in a live chat. */
    function adopt(ev) {
      if (live() || closedIds[ev.chat_id]) { return false; }
      setChat(ev.chat_id, 'open');
      return true;
    }

    // ---- events
    function onEvents(list, isLive) {
      if (!ready) { waiting.push(list); return; }
      for (var i = 0; i < list.length; i++) { apply(list[i], isLive !== false); }
      refresh();
    }
    function apply(ev, isLive) {
      if (!ev || !ev.type) { return; }
      if (!ev.chat_id) {
        if (ev.type === 'announcement' && isLive) { text(v.annText, ev.body); show(v.announcement, true); }
        return;
      }
      if (!CHAT_EVENT.test(ev.type) || ev.seq == null) { notice(ev); return; }
      var key = ev.chat_id + ':' + ev.seq;
      if (seen[key] || ((!chat || ev.chat_id !== chat.id) && !adopt(ev))) { return; }
      seen[key] = 1;
      if (ev.seq > chat.top) { chat.top = ev.seq; }
      while (seen[chat.id + ':' + (chat.low + 1)]) { chat.low++; } // seen 1..low, no gap
      if (ev.type === 'message') {
        addMessage(ev);
        if (ev.from !== 'visitor') {
          hideTyping();
          if (isLive) { alertNew(); }
        }
        return;
      }
      var fresh = ev.seq > chat.stateSeq, who = { name: ev.agent && ev.agent.name };
      if (fresh) { chat.stateSeq = ev.seq; }
      if (ev.type === 'chat.queued') {
        if (fresh) { chat.status = 'queued'; chat.position = ev.position; }
      } else if (ev.type === 'chat.closed') {
        closedIds[chat.id] = 1;
        chat.closedAt = ev.at;
        if (fresh) { chat.status = 'closed'; hideTyping(); stopTyping(); }
        addNote(ev.seq, t(ev.reason) === ev.reason ? t('visitor_left') : t(ev.reason));
      } else {
        chat.served = true;
        if (ev.type === 'chat.transferred') { who.name = ev.to && ev.to.name; }
        if (fresh) { chat.status = 'open'; chat.agent = ev.type === 'chat.transferred' ? ev.to : ev.agent; }
        addNote(ev.seq, t(ev.type === 'chat.assigned' ? 'joined' : ev.type === 'chat.invited' ? 'invited' : 'moved', who));
        if (ev.type === 'chat.invited' && isLive && fresh) { openPanel(false); }
      }
      if (fresh) { save(); }
    }
    /** Typing and read notices: outside the chat's seq space, never de-duplicated by seq. */
    function notice(ev) {
      if (!chat || ev.chat_id !== chat.id || ev.from !== 'agent' || ev.type !== 'typing') { return; }
      if (ev.typing && chat.status !== 'closed') {
        text(v.typing, t('typing', { name: agentName() }));
        show(v.typing, true);
        clearTimeout(typingTimer);
        typingTimer = setTimeout(hideTyping, 6000); // its typing:false may be lost
        scrollDown();
      } else {
        hideTyping();
      }
    }
    function hideTyping() { clearTimeout(typingTimer); show(v.typing, false); }

    // ---- the log, in seq order; unsent messages at the end
    function place(li) {
      var kids = v.log.childNodes, before = null;
      if (li.parentNode) { v.log.removeChild(li); }
      for (var i = 0; li._seq != null && i < kids.length; i++) {
        if (kids[i]._seq == null || kids[i]._seq > li._seq) { before = kids[i]; break; }
      }
      v.log.insertBefore(li, before);
      scrollDown();
    }
    function scrollDown() { v.body.scrollTop = v.body.scrollHeight; }
    function setSeq(li, seq) {
      li._seq = seq;
      li.setAttribute('data-seq', String(seq));
      li.className = li.className.replace(' sbw-pending', '');
      if (li._state) { li.removeChild(li._state); li._state = null; }
      if (seq > chat.top) { chat.top = seq; }
      place(li);
    }
    function bubble(from, body, name, cmid) {
      var li = el('li', { 'class': 'sbw-msg sbw-' + from, 'data-sb': 'message', 'data-from': from, 'data-client-msg-id': cmid || null }, [
        el('span', { 'class': from === 'visitor' ? 'sbw-sr' : 'sbw-who' }, from === 'visitor' ? t('you') : name || ''),
        el('div', { 'class': 'sbw-text', 'data-sb': 'message-body' }, body)
      ]);
      li._from = from;
      if (cmid && from === 'visitor') { mine[cmid] = li; }
      return li;
    }
    function addMessage(ev) {
      var li = ev.client_msg_id && mine[ev.client_msg_id];
      if (!li) { li = bubble(ev.from, ev.body, ev.sender_name || (ev.from === 'agent' ? agentName() : ''), ev.client_msg_id); }
      setSeq(li, ev.seq);
    }
    function addNote(seq, words) {
      var li = el('li', { 'class': 'sbw-event' }, words);
      li._seq = seq;
      place(li);
    }
    function pending(entry) {
      if (!chat || entry.c !== chat.id || mine[entry.m]) { return; }
      var li = bubble('visitor', entry.b, null, entry.m);
      li.className += ' sbw-pending';
      li._state = li.appendChild(el('span', { 'class': 'sbw-state' }, t('sending')));
      place(li);
    }
    function showOutbox() {
      var box = L.outbox();
      for (var i = 0; i < box.length; i++) { pending(box[i]); }
    }

    // ---- unread, read markers, title notice
    function readUpTo() {
      var r = L.get('read');
      return chat && r && r.c === chat.id ? r.s : 0;
    }
    function unread() {
      var n = 0, upTo = readUpTo(), kids = v.log.childNodes;
      for (var i = 0; chat && i < kids.length; i++) {
        if (kids[i]._from && kids[i]._from !== 'visitor' && kids[i]._seq > upTo) { n++; }
      }
      return n;
    }
    function seeing() { return opened && !document.hidden; }
    function markRead() {
      if (!chat || !seeing() || chat.top <= readUpTo()) { return; }
      L.set('read', { c: chat.id, s: chat.top });
      if (chat.status !== 'closed') { post('read', { seq: chat.top }); }
    }
    function badge() {
      var n = unread();
      show(W.badge, n > 0 && !seeing());
      text(W.badge, n > 9 ? '9+' : n);
      W.launcher.setAttribute('aria-label', t(opened ? 'close' : 'open') + (n ? ' (' + n + ')' : ''));
      if (!n) { stopBlink(); }
    }
    function alertNew() {
      if (seeing() || blinkTimer) { return; }
      var on = false;
      savedTitle = document.title;
      function flip() {
        on = !on;
        document.title = on ? t('new_msg', { n: unread() || 1 }) : savedTitle;
      }
      flip();
      blinkTimer = setInterval(flip, 1000);
    }
    function stopBlink() {
      if (!blinkTimer) { return; }
      clearInterval(blinkTimer);
      blinkTimer = null;
      document.title = savedTitle;
    }

    // ---- drawing
    function render() {
      var s = state(), rated = !!chat && L.get('rated') === chat.id;
      v.status.setAttribute('data-state', s);
      text(v.status, s === 'open' ? t('st_open', { name: agentName() }) : t('st_' + s));
      show(v.choose, s === 'choosing');
      show(v.any, agentsKnown); // choosing needs the visitor's token: wait for the first list
      show(v.offline, s === 'offline' && !offlineSent);
      show(v.offlineDone, s === 'offline' && offlineSent);
      show(v.queue, s === 'queued');
      if (s === 'queued') {
        text(v.queue, t('queue', { n: chat.position || '…' }));
        v.queue.setAttribute('data-position', chat.position == null ? '' : String(chat.position));
      }
      show(v.log, !!chat);
      show(v.foot, live());
      show(v.end, live());
      show(v.rating, s === 'closed' && chat.served && !rated && !rateHidden);
      show(v.thanks, s === 'closed' && rated);
      show(v.again, s === 'closed');
      show(v.connection, !connUp || sendDown);
      if (!live()) { hideTyping(); }
    }
    function refresh() {
      render();
      markRead();
      badge();
    }

    // ---- open and close
    function openPanel(focus) {
      if (!opened) {
        opened = true;
        show(v.panel, true);
        W.root.className = 'sbw-' + W.position + ' sbw-open';
        W.launcher.setAttribute('aria-expanded', 'true');
        L.set('open', 1);
        if (!chat) { loadAgents(); }
      }
      refresh();
      stopBlink();
      scrollDown();
      if (focus) { focusFirst(); }
    }
    function closePanel() {
      if (!opened) { return; }
      opened = false;
      show(v.panel, false);
      W.root.className = 'sbw-' + W.position;
      W.launcher.setAttribute('aria-expanded', 'false');
      L.del('open');
      badge();
      W.launcher.focus();
    }
    function focusFirst() {
      var s = state(), target = s === 'choosing' ? v.any : s === 'offline' ? (offlineSent ? v.minimize : v.offName) :
        s === 'closed' ? (v.rating.style.display === 'none' ? v.again : v.stars[0]) : v.input;
      focusAny = target === v.any && !agentsKnown; // focus it once the list is there
      try { (focusAny ? v.minimize : target).focus(); } catch (e) { /* hidden */ }
    }

    // ---- choosing and starting
    function loadAgents() {
      if (chat || !L.get('token')) { note(t('loading')); return; }
      if (!v.agents.firstChild) { note(t('loading')); }
      L.request('GET', 'api/agents', null, function (status, data) {
        if (chat) { return; }
        if (status === 200 && data && data.agents) {
          if (!kept) { note(''); } // a refusal stays until the next try
          agentsKnown = true;
          if (!offlineSent) { noChat = data.agents.length ? 'choosing' : 'offline'; }
          listAgents(data.agents);
        } else {
          note(errorText(data));
        }
        render();
        if (focusAny && opened && state() === 'choosing') { focusAny = false; v.any.focus(); }
      });
    }
    function listAgents(agents) {
      while (v.agents.firstChild) { v.agents.removeChild(v.agents.firstChild); }
      for (var i = 0; i < agents.length; i++) {
        var a = agents[i];
        var b = v.button('agent-option', [a.name, a.available === false ? el('small', null, t('busy')) : null],
          { 'class': 'sbw-pick', 'data-agent-id': a.agent_id });
        b.onclick = (function (id) { return function () { start(id); }; }(a.agent_id));
        v.agents.appendChild(el('li', null, b));
      }
    }
    function start(agentId) {
      if (starting || chat || !L.get('token')) { return; }
      starting = true;
      kept = false;
      note(t('loading'));
      L.request('POST', 'api/chats', agentId ? { agent_id: agentId } : {}, function (status, data) {
        starting = false;
        if (status === 201 && data && data.chat_id) {
          note('');
          if (!chat || chat.id !== data.chat_id) { setChat(data.chat_id, data.status === 'queued' ? 'queued' : 'open'); }
          if (!chat.stateSeq) { // the poll has not told us more yet
            chat.agent = data.agent;
            chat.position = data.position;
            chat.served = !!data.agent;
            save();
          }
          refresh();
          focusFirst();
        } else if (errorCode(data) === 'no_agent_online') {
          note('');
          noChat = 'offline';
          render();
          focusFirst();
        } else {
          note(errorText(data));
          kept = true;
          // An open chat this page lost: poll it back from its start.
          if (errorCode(data) === 'chat_already_open') { L.replay(); } else if (status === 409) { loadAgents(); }
        }
      });
    }

    // ---- writing
    function postTyping(on) { if (chat) { post('typing', { typing: on }); } }
    function stopTyping() {
      clearTimeout(typingStop);
      if (typingOn) { typingOn = false; postTyping(false); }
    }
    function typed() {
      v.input.style.height = 'auto';
      v.input.style.height = Math.min(v.input.scrollHeight + 2, 120) + 'px';
      if (!live()) { return; }
      if (!/\S/.test(v.input.value)) { stopTyping(); return; }
      if (!typingOn || now() - typingSent > 4000) { typingOn = true; typingSent = now(); postTyping(true); }
      clearTimeout(typingStop);
      typingStop = setTimeout(stopTyping, 3000);
    }
    function submit() {
      var body = v.input.value;
      if (!/\S/.test(body) || !live()) { return; }
      v.input.value = '';
      typed();
      var entry = { c: chat.id, m: 'w' + L.rid(12) + '.' + now().toString(36), b: body };
      pending(entry);
      L.send(entry);
      v.input.focus();
    }

    // ---- wiring
    v.minimize.onclick = closePanel;
    v.any.onclick = function () { start(null); };
    v.annClose.onclick = function () { show(v.announcement, false); };
    v.foot.onsubmit = function (e) { e.preventDefault(); submit(); };
    v.input.oninput = typed;
    v.input.onkeydown = function (e) {
      // Enter sends, Shift+Enter is a newline; Enter that ends an IME composition (zh, ko) is not a send.
      if ((e.key === 'Enter' || e.keyCode === 13) && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        submit();
      }
    };
    W.root.addEventListener('keydown', function (e) {
      if (opened && (e.key === 'Escape' || e.key === 'Esc' || e.keyCode === 27)) { e.preventDefault(); closePanel(); }
    }, false);
    v.end.onclick = function () {
      if (!live()) { return; }
      var id = chat.id;
      stopTyping();
      post('close', {}, function (status, data) {
        if (!chat || chat.id !== id) { return; }
        if (status === 200 && data && data.seq > chat.stateSeq) {
          chat.stateSeq = data.seq;
          chat.status = 'closed';
          closedIds[id] = 1;
          save();
        } else if (status !== 200) {
          history(id, chat.low); // probably closed already: learn how
        }
        refresh();
        focusFirst();
      });
    };
    v.again.onclick = function () {
      dropChat();
      noChat = 'choosing';
      offlineSent = false;
      loadAgents();
      render();
      focusFirst();
    };
    for (var s = 0; s < v.stars.length; s++) {
      v.stars[s].onclick = (function (score) {
        return function () {
          rateScore = score;
          for (var i = 0; i < v.stars.length; i++) {
            v.stars[i].className = i < score ? 'sbw-on' : '';
            v.stars[i].setAttribute('aria-pressed', i === score - 1 ? 'true' : 'false');
          }
        };
      }(s + 1));
    }
    v.rating.onsubmit = function (e) {
      e.preventDefault();
      if (!chat) { return; }
      if (!rateScore) { text(v.rateError, t('pick')); return; }
      var id = chat.id, body = { score: rateScore };
      if (/\S/.test(v.comment.value)) { body.comment = v.comment.value; }
      v.rateSubmit.disabled = true;
      post('rating', body, function (status, data) {
        v.rateSubmit.disabled = false;
        var code = errorCode(data);
        if (status === 201 || code === 'already_rated') { L.set('rated', id); } else if (code === 'chat_not_rateable') { rateHidden = true; } else { text(v.rateError, errorText(data)); }
        render();
        if (v.rating.style.display === 'none') { v.again.focus(); }
      });
    };
    v.offline.onsubmit = function (e) {
      e.preventDefault();
      v.offSubmit.disabled = true;
      L.request('POST', 'api/offline-messages', { name: v.offName.value, email: v.offEmail.value, body: v.offBody.value }, function (status, data) {
        v.offSubmit.disabled = false;
        if (status === 201) { offlineSent = true; text(v.offError, ''); v.offBody.value = ''; } else { text(v.offError, errorText(data)); }
        render();
      });
    };

    /** The chat's stored events after `from`, page by page (the store is the truth). `done` runs
     *  after the first answer; a failed page is asked again until it comes, and fits in by seq. */
    function history(id, from, done, f) {
      L.request('GET', 'api/chats/' + encodeURIComponent(id) + '/messages?limit=200&after_seq=' + from, null, function (status, data, xhr) {
        var still = chat && chat.id === id;
        if (still && status === 200 && data && data.events) {
          for (var i = 0; i < data.events.length; i++) { apply(data.events[i], false); }
          refresh();
          if (data.next_after_seq != null) { history(id, data.next_after_seq, done); return; }
        } else if (still && status >= 400 && status < 500 && status !== 408 && status !== 429) {
          dropChat(); // not ours any more (new visitor) or gone
          render();
        } else if (still) {
          f = (f || 0) + 1;
          setTimeout(function () { history(id, from, null, f); }, L.backoff(f, xhr));
        }
        if (done) { done(); }
      });
    }

    L.on('events', onEvents);
    L.on('conn', function (ok) { connUp = ok; render(); });
    L.on('sent', function (entry, data) {
      sendDown = false;
      var li = mine[entry.m];
      if (li && li._seq == null && chat && entry.c === chat.id && data && data.seq) { setSeq(li, data.seq); }
      refresh();
    });
    L.on('failed', function (entry, data) {
      sendDown = false;
      var li = mine[entry.m];
      if (li && li._seq == null) {
        li.className = li.className.replace(' sbw-pending', '') + ' sbw-failed';
        text(li._state, t('failed', { msg: errorText(data) }));
      }
      render();
    });
    L.on('sendfail', function () { sendDown = true; render(); });
    L.on('token', function (token) {
      if (!token) { dropChat(); noChat = 'choosing'; }
      if (opened && !chat) { loadAgents(); }
      render();
    });
    L.on('store', function (key) {
      if (key === 'outbox') { showOutbox(); } else if (key === 'read') { badge(); } else if (key === 'rated') { render(); } else if (key === 'chat') {
        var s = L.get('chat');
        if (s && (!chat || s.id !== chat.id) && !closedIds[s.id]) { setChat(s.id, s.st); history(s.id, 0); }
        else if (!s && chat && chat.status === 'closed') { dropChat(); noChat = 'choosing'; if (opened) { loadAgents(); } }
        render();
      }
    });
    document.addEventListener('visibilitychange', function () {
      if (document.hidden) { return; }
      stopBlink();
      if (chat && ready && !L.isLeader()) { history(chat.id, chat.low); } // a frozen tab may have missed some
      refresh();
    }, false);
    window.addEventListener('focus', function () { stopBlink(); refresh(); }, false);
    setInterval(function () { if (opened && !chat && noChat === 'choosing') { loadAgents(); } }, 20000);

    // ---- start: rebuild the running chat from the store, then listen
    function begin() {
      ready = true;
      // A chat that ended long ago is not worth showing on a later visit.
      if (chat && chat.status === 'closed' && now() - (chat.closedAt || 0) > 1800000) { dropChat(); }
      for (var i = 0; i < waiting.length; i++) { onEvents(waiting[i]); }
      waiting = [];
      showOutbox();
      L.start();
      refresh();
      if (W.wantOpen) { openPanel(true); } else if (L.get('open') && live()) { openPanel(false); }
    }
    var stored = L.get('chat');
    if (stored && stored.id && L.get('token')) {
      setChat(stored.id, stored.st);
      render();
      history(stored.id, 0, begin);
    } else {
      L.del('chat');
      render();
      begin();
    }
    return { toggle: function () { if (opened) { closePanel(); } else { openPanel(true); } } };
  };
  W.boot();
}(window.SwitchboardWidget));
