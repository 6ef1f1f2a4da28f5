/* Widget frame (ES3): the chat, and the frame's start. Each chat event shows once, placed by seq;
 * a message sent here meets its echo by client_msg_id. Other features are lazy modules. */
(function (SB, window, document) {
  var CHAT_EVENT = /^(message|chat\.(queued|assigned|invited|transferred|closed))$/;

  function app(L) {
    var t = SB.t, v = SB.view(), text = v.text, show = v.show, el = v.el;
    var opened = false, chat = null, noChat = 'choosing', ready = false, waiting = [];
    var seen = {}, mine = {}, closedIds = {}, starting = false, kept = false, offlineSent = false, agentsKnown = false, focusAny = false;
    var rateHidden = false, connUp = L.isUp(), sendDown = false, toldUnread = -1, built = {}, visitor = L.get('visitor');

    function now() { return new Date().getTime(); }
    function errorText(data) { return (data && data.error && data.error.message) || t('error'); }
    function errorCode(data) { return data && data.error && data.error.code; }
    function state() { return chat ? chat.status : L.get('signin') && !L.get('token') ? 'signin' : noChat; }
    function live() { return !!chat && (chat.status === 'open' || chat.status === 'queued'); }
    function agentName() { return (chat && chat.agent && chat.agent.name) || t('agent'); }
    function post(tail, body, cb) { L.request('POST', 'api/chats/' + encodeURIComponent(chat.id) + '/' + tail, body, cb); }
    function note(s) { text(v.chooseNote, s); }

    // What the lazy modules may use.
    var ctx = {
      v: v, L: L, errorText: errorText, post: post, agentName: agentName, live: live, scrollDown: scrollDown,
      render: function () { refresh(); },
      chat: function () { return chat; },
      offlineSent: function () { offlineSent = true; },
      start: function (id, answers) { start(id, answers); },
      back: function () { noChat = 'choosing'; loadAgents(); },
      rated: function (id, hide) { if (hide) { rateHidden = true; } else { L.set('rated', id); } }
    };
    /** The lazy module `name`, asked for when `wanted`; then(module) once there. */
    function part(name, wanted, then) {
      if (!built[name] && wanted) {
        SB.need(name, function (ok) {
          if (ok && !built[name]) { built[name] = SB.mods[name](ctx); refresh(); }
          if (ok && then) { then(built[name]); }
        });
      }
      return built[name];
    }
    function typing(what, arg) { if (built.typing) { built.typing[what](arg); } }

    // ---- the current chat
    function setChat(id, status) {
      wipe();
      chat = { id: id, status: status || 'open', agent: null, served: false, position: null, top: 0, low: 0, stateSeq: 0 };
      rateHidden = false;
      if (built.rating) { built.rating.reset(); }
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
      typing('hide');
    }
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
        if (ev.type === 'announcement' && isLive) { part('announce', true, function (m) { m.show(ev.body); }); }
        return;
      }
      if (!CHAT_EVENT.test(ev.type) || ev.seq == null) { typing('notice', ev); return; }
      var key = ev.chat_id + ':' + ev.seq;
      if (seen[key] || ((!chat || ev.chat_id !== chat.id) && !adopt(ev))) { return; }
      seen[key] = 1;
      if (ev.seq > chat.top) { chat.top = ev.seq; }
      while (seen[chat.id + ':' + (chat.low + 1)]) { chat.low++; } // seen 1..low, no gap
      if (ev.type === 'message') {
        addMessage(ev);
        if (ev.from !== 'visitor') {
          typing('hide');
          if (isLive && !seeing()) { SB.post('alert', t('new_msg', { n: unread() })); }
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
        if (fresh) { chat.status = 'closed'; typing('stop'); }
        addNote(ev.seq, t(ev.reason) === ev.reason ? t('visitor_left') : t(ev.reason));
      } else {
        chat.served = true;
        if (ev.type === 'chat.transferred') { who.name = ev.to && ev.to.name; }
        if (fresh) { chat.status = 'open'; chat.agent = ev.type === 'chat.transferred' ? ev.to : ev.agent; }
        addNote(ev.seq, t(ev.type === 'chat.assigned' ? 'joined' : ev.type === 'chat.invited' ? 'invited' : 'moved', who));
        if (ev.type === 'chat.invited' && isLive && fresh) { SB.post('open', 0); }
      }
      if (fresh) { save(); }
    }

    // ---- the log, in seq order; unsent messages at the end
    function place(li) {
      var kids = v.log.childNodes, before = null;
      if (li.parentNode) { v.log.removeChild(li); }
      for (var i = 0; li._seq != null && i < kids.length; i++) {
        if (kids[i]._seq == null || kids[i]._seq > li._seq) { before = kids[i]; break; }
      }
      v.log.insertBefore(li, before);
      show(v.greeting, false);
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
      var words = el('div', { 'class': 'sbw-text', 'data-sb': 'message-body' }, body);
      var li = el('li', { 'class': 'sbw-msg sbw-' + from, 'data-sb': 'message', 'data-from': from, 'data-client-msg-id': cmid || null }, [
        el('span', { 'class': from === 'visitor' ? 'sbw-sr' : 'sbw-who' }, from === 'visitor' ? t('you') : name || ''), words
      ]);
      li._from = from;
      if (from === 'visitor') {
        li._text = v.paint(words);
        if (cmid) { mine[cmid] = li; }
      }
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

    // ---- unread and read markers
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
    // eslint-disable-next-line compat/compat -- undefined (seen) where missing
    function hidden() { return document.hidden; }
    function seeing() { return opened && !hidden(); }
    function markRead() {
      if (!chat || !seeing() || chat.top <= readUpTo()) { return; }
      L.set('read', { c: chat.id, s: chat.top });
      if (chat.status !== 'closed') { post('read', { seq: chat.top }); }
    }
    function tellUnread() {
      var n = unread();
      if (n !== toldUnread) { toldUnread = n; SB.post('unread', n); }
    }

    // ---- drawing
    function render() {
      var s = state(), rated = !!chat && L.get('rated') === chat.id, off, rating;
      v.status.setAttribute('data-state', s);
      text(v.status, s === 'open' ? t('st_open', { name: agentName() }) : t('st_' + s));
      show(v.choose, s === 'choosing');
      if (built.prechat) { built.prechat.update(s === 'prechat'); }
      show(v.any, agentsKnown); // choosing needs the visitor's token: wait for the first list
      off = part('offline', s === 'offline');
      if (off) { off.update(s === 'offline' && !offlineSent, s === 'offline' && offlineSent); }
      rating = part('rating', s === 'closed' && chat.served && !rated && !rateHidden);
      if (rating) { rating.update(s === 'closed' && chat.served && !rated && !rateHidden, s === 'closed' && rated); }
      show(v.queue, s === 'queued');
      if (s === 'queued') {
        text(v.queue, t('queue', { n: chat.position || '\u2026' }));
        v.queue.setAttribute('data-position', chat.position == null ? '' : String(chat.position));
      }
      show(v.log, !!chat);
      show(v.greeting, !!SB.greeting && !v.log.firstChild);
      show(v.foot, live());
      show(v.end, live());
      show(v.again, s === 'closed');
      show(v.signin, s === 'signin');
      show(v.earlier, !live() && s !== 'signin' && !!(L.get('who') || {}).v);
      show(v.connection, !connUp || sendDown);
      show(v.memory, !L.lasting);
      part('typing', live());
      if (!live()) { typing('hide'); }
      if (built.earlier) { built.earlier.cover(); }
      v.layout();
    }
    function refresh() {
      render();
      markRead();
      tellUnread();
    }

    // ---- open and close (the loader shows and hides the frame)
    function openPanel(focus) {
      if (!opened) {
        opened = true;
        L.set('open', 1);
        if (!chat) { loadAgents(); }
      }
      refresh();
      scrollDown();
      if (focus) { focusFirst(); }
    }
    function closePanel(fromLoader) {
      if (!opened) { return; }
      opened = false;
      L.del('open');
      tellUnread();
      if (!fromLoader) { SB.post('close'); }
    }
    function focusFirst() {
      var s = state(), lazy = built[s === 'offline' ? 'offline' : 'rating'];
      var target = s === 'choosing' ? v.any : s === 'offline' || (s === 'closed' && lazy) ? lazy && lazy.focusTarget() :
        s === 'closed' ? v.again : v.input;
      focusAny = target === v.any && !agentsKnown; // focus it once the list is there
      try { (focusAny || !target ? v.minimize : target).focus(); } catch (e) {}
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
          if (!offlineSent && noChat !== 'prechat') { noChat = data.agents.length ? 'choosing' : 'offline'; }
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
    function start(agentId, answers) {
      if (starting || chat || !L.get('token')) { return; }
      if (SB.site && !answers) {
        noChat = 'prechat';
        if (!part('prechat', true, function (m) { m.ask(agentId); })) { render(); } else { built.prechat.ask(agentId); }
        return;
      }
      starting = true;
      kept = false;
      note(t('loading'));
      L.request('POST', 'api/chats', { agent_id: agentId, lang: SB.lang, prechat: answers }, function (status, data) {
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
        } else if (noChat === 'prechat' && built.prechat.fail(data)) {
          render();
        } else {
          if (noChat === 'prechat') { noChat = 'choosing'; }
          note(errorText(data));
          kept = true;
          if (errorCode(data) === 'chat_already_open') { L.replay(); } else if (status === 409) { loadAgents(); }
        }
      });
    }

    // ---- writing
    function typed() {
      v.input.style.height = 'auto';
      v.input.style.height = Math.min(Math.max(v.input.scrollHeight + 2, 44), 120) + 'px';
      v.layout();
      typing('typed');
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

    // ---- wiring (DOM0 handlers: old IE passes no event)
    v.minimize.onclick = function () { closePanel(false); };
    v.any.onclick = function () { start(null); };
    v.earlier.onclick = function () { part('earlier', true, function (m) { m.open(); }); };
    v.foot.onsubmit = function (e) { SB.stop(e); submit(); return false; };
    v.input.onkeyup = v.input.oninput = typed;
    v.input.onkeydown = function (e) {
      e = e || window.event;
      // Enter sends; not Shift+Enter, nor the Enter that ends an IME composition.
      if (e.keyCode === 13 && !e.shiftKey && !e.isComposing) {
        SB.stop(e);
        submit();
        return false;
      }
    };
    document.onkeydown = function (e) {
      e = e || window.event;
      if (opened && e.keyCode === 27) { SB.stop(e); closePanel(false); return false; }
    };
    v.end.onclick = function () {
      if (!live()) { return; }
      var id = chat.id;
      typing('stop');
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

    /** The chat's stored events after `from`; `done` after the first page. */
    function history(id, from, done, f) {
      L.request('GET', 'api/chats/' + encodeURIComponent(id) + '/messages?limit=200&after_seq=' + from, null, function (status, data, xhr) {
        var still = chat && chat.id === id;
        if (still && status === 200 && data && data.events) {
          for (var i = 0; i < data.events.length; i++) { apply(data.events[i], false); }
          refresh();
          if (data.next_after_seq != null) { history(id, data.next_after_seq, done); return; }
        } else if (still && data && status >= 400 && status < 500 && status !== 408 && status !== 429) {
          dropChat(); // not ours any more
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
    L.on('refused', function () { SB.post('refused'); });
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
        li._text.style.backgroundColor = '';
        text(li._state, t('failed', { msg: errorText(data) }));
      }
      render();
    });
    L.on('sendfail', function () { sendDown = true; render(); });
    L.on('token', function (token) {
      if (!token || L.get('visitor') !== visitor) { visitor = L.get('visitor'); dropChat(); noChat = 'choosing'; }
      if (opened && !chat) { loadAgents(); }
      render();
    });
    L.on('store', function (key) {
      if (key === 'outbox') { showOutbox(); } else if (key === 'read') { tellUnread(); } else if (key === 'rated' || key === 'signin') { render(); } else if (key === 'chat') {
        var s = L.get('chat');
        if (s && (!chat || s.id !== chat.id) && !closedIds[s.id]) { setChat(s.id, s.st); history(s.id, 0); }
        else if (!s && chat && chat.status === 'closed') { dropChat(); noChat = 'choosing'; if (opened) { loadAgents(); } }
        render();
      }
    });
    SB.on(document, 'visibilitychange', function () {
      if (hidden()) { return; }
      if (chat && ready && !L.isLeader()) { history(chat.id, chat.low); } // a frozen tab may have missed some
      refresh();
    });
    SB.on(window, 'focus', refresh);
    SB.on(window, 'resize', function () { v.layout(); });
    setInterval(function () { if (opened && !chat && noChat === 'choosing') { loadAgents(); } }, 20000);

    // ---- start: the running chat from the store, then listen
    function begin() {
      ready = true;
      if (chat && chat.status === 'closed' && now() - (chat.closedAt || 0) > 1800000) { dropChat(); }
      for (var i = 0; i < waiting.length; i++) { onEvents(waiting[i]); }
      waiting = [];
      showOutbox();
      L.start();
      refresh();
      if (L.get('open') && live()) { SB.post('open', 0); }
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
    return {
      open: function (focus) { openPanel(focus); },
      close: function () { closePanel(true); }
    };
  }

  // ---- the frame's start: the loader's init gives language, colour and page
  var L = null, chat = null, wantOpen = null;
  function page(q) {
    var info = {}, url = q.url || '';
    if (!/^https?:/i.test(url) || url.length > 2048) { return info; }
    info.page_url = url;
    info.page_title = (q.title || '').slice(0, 512);
    // Only another site's referrer is news.
    if (q.ref && q.ref.split('/')[2] !== url.split('/')[2]) { info.referrer = q.ref; }
    return info;
  }
  SB.hear('init', function (arg) {
    var q = SB.decode(arg);
    SB.color = /^(#[0-9a-f]{3,8}|[a-z]{3,20}|(rgb|hsl)a?\([0-9., %]+\))$/i.test(q.color || '') ? q.color : '#2b6cb0';
    // The site (data-site of the script tag) whose widget this is; '' when the tag names none.
    SB.site = /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/i.test(q.site || '') ? q.site.toLowerCase() : '';
    L = SB.link();
    L.identify(q.id);
    L.page(page(q), /^https?:/i.test(q.ref || '') ? q.ref : '');
    function start() {
      SB.useLang(q.lang, function () {
        chat = app(L);
        if (wantOpen !== null) { chat.open(wantOpen); }
      });
    }
    if (SB.site) { SB.need('site', function () { (SB.mods.site || start)(L, q, start); }); } else { start(); }
  });
  // The loader may show the frame before the chat is built.
  SB.hear('open', function (arg) { if (chat) { chat.open(arg === '1'); } else { wantOpen = arg === '1'; } });
  SB.hear('close', function () { if (chat) { chat.close(); } else { wantOpen = null; } });
  SB.hear('page', function (arg) { if (L) { var q = SB.decode(arg); L.page(page(q), ''); } });
  SB.hear('identity', function (arg) { if (L) { L.identify(SB.decode('i=' + arg).i); } });
  SB.ready();
}(window.SB, window, document));
