/* Widget frame (ES3): storage, requests, and the one tab that polls and sends for all (elected by
 * a localStorage heartbeat; docs/frontend.md, "Tabs"). Without localStorage, all is in memory. */
(function (W) {
  var STALE = 6000;
  // Keys other tabs change (IE8's storage event does not say which).
  var SHARED = ['ev', 'leader', 'conn', 'token', 'fail', 'replay', 'chat', 'read', 'rated', 'open', 'hold', 'signin'];
  var B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

  W.link = function () {
    var P = 'sb:', mem = {}, stuck = {}, raw = {}, ls = null, handlers = {};
    try { ls = window.localStorage; ls.setItem(P + 'probe', '1'); ls.removeItem(P + 'probe'); } catch (e) { ls = null; }

    function parse(s) { try { return s == null ? null : JSON.parse(s); } catch (e) { return null; } }
    function read(k) {
      if (!ls || stuck[k]) { return mem[k]; }
      try { return ls.getItem(P + k); } catch (e) { return mem[k]; }
    }
    function get(k) { return parse(read(k)); }
    function set(k, v) {
      raw[k] = mem[k] = JSON.stringify(v);
      try { if (ls) { ls.setItem(P + k, mem[k]); delete stuck[k]; } } catch (e) { stuck[k] = 1; }
    }
    function del(k) {
      delete mem[k];
      delete stuck[k];
      delete raw[k];
      try { if (ls) { ls.removeItem(P + k); } } catch (e) {}
    }
    function rid(n) {
      var s = '';
      while (s.length < n) { s += Math.random().toString(36).slice(2); }
      return s.slice(0, n);
    }
    function on(name, fn) { (handlers[name] = handlers[name] || []).push(fn); }
    function emit(name, a, b) {
      var list = handlers[name] || [];
      for (var i = 0; i < list.length; i++) {
        try { list[i](a, b); } catch (e) { setTimeout(function () { throw e; }, 0); }
      }
    }
    // 0.25–0.5 s doubling up to 4–8 s (inside the presence lease), not before Retry-After.
    function backoff(f, xhr) {
      var after = 0;
      try { if (xhr.status === 403 && /"code":"banned"/.test(xhr.responseText)) { return 60000; } } catch (e) {}
      try { after = parseInt(xhr.getResponseHeader('Retry-After'), 10) || 0; } catch (e) {}
      return Math.max(500 * Math.pow(2, Math.min(f - 1, 4)) * (0.5 + Math.random() / 2), after * 1000);
    }

    var tab = 't' + rid(15); // kept over reloads: a reloaded page's poll supersedes the old one
    try { tab = sessionStorage.getItem(P + 'tab') || tab; sessionStorage.setItem(P + 'tab', tab); } catch (e) {}

    /** cb(status, json, xhr); status 0: no answer; json null: not ours (a proxy's error page). */
    function request(method, path, body, cb, timeoutMs) {
      var xhr = new XMLHttpRequest(), done = false, timer = null, token = get('token');
      function abort() { try { xhr.abort(); } catch (e) {} }
      function finish(status) {
        if (done) { return; }
        done = true;
        clearTimeout(timer);
        if (status === 401 && token && token === get('token')) { forget(); }
        if (cb) { cb(status, status ? parse(xhr.responseText) : null, xhr); }
      }
      try {
        xhr.open(method, W.base + path, true);
        if (token && path !== 'api/visitors') { xhr.setRequestHeader('Authorization', 'Bearer ' + token); }
        if (body) { xhr.setRequestHeader('Content-Type', 'application/json'); }
        xhr.onreadystatechange = function () {
          if (xhr.readyState === 4) { try { finish(xhr.status); } catch (e) { finish(0); } }
        };
        xhr.send(body ? JSON.stringify(body) : null);
      } catch (e) {
        setTimeout(function () { finish(0); }, 0);
      }
      timer = setTimeout(function () { abort(); finish(0); }, timeoutMs || 15000);
      return { abort: function () { done = true; clearTimeout(timer); abort(); } };
    }

    /** The token stopped working (401): a new visitor. */
    function forget() {
      var box = outbox();
      for (var i = 0; i < box.length; i++) { del('o.' + box[i].m); }
      del('token'); del('visitor'); del('cursor'); del('chat'); del('who');
      emit('token', null);
      if (leader) { stopPoll(); retryTimer = setTimeout(go, backoff(++pollFails)); }
    }

    // ---- identity: 'want' the page's JWT, 'who'.p the site and sub the visitor was made for
    function key(jwt) {
      var s = String(jwt).split('.')[1] || '', out = '', bits = 0, n = 0, i, c;
      for (i = 0; i < s.length; i++) {
        c = B64.indexOf(s.charAt(i));
        if (c >= 0) { bits = (bits << 6 | c) & 4095; n += 6; if (n >= 8) { out += String.fromCharCode(bits >> (n -= 8) & 255); } }
      }
      return jwt && W.site ? W.site + ' ' + (parse(out) || {}).sub : '';
    }
    function identify(jwt) {
      set('want', jwt || '');
      del('signin');
      emit('store', 'signin');
      if (get('token') && key(jwt) !== (get('who') || { p: '' }).p) { forget(); } else if (leader) { ensureVisitor(); }
    }

    // ---- where the visitor is (from the loader), which site embeds us (from the browser)
    var page = {}, firstRef = '', creating = false, createFails = 0, pageSent = false;
    function ensureVisitor() {
      if (get('token') || get('signin') || creating || !leader) { return; }
      creating = true;
      var jwt = get('want') || '', body = { embed_origin: W.parentOrigin }, k;
      if (W.site) { body.site_id = W.site; }
      if (jwt && W.site) { body.identity = jwt; }
      for (k in page) { if (page[k]) { body[k] = page[k]; } }
      if (firstRef && !body.referrer && body.page_url) { body.referrer = firstRef; }
      (function attempt() {
        request('POST', 'api/visitors', body, function (status, data, xhr) {
          var code = data && data.error && data.error.code;
          if (status === 201 && data && data.token) {
            creating = false;
            createFails = 0;
            pageSent = true;
            del('cursor');
            set('who', { p: key(jwt), v: !!data.verified });
            set('token', data.token);
            set('visitor', data.visitor_id);
            emit('token', data.token);
            go();
          } else if (code === 'origin_not_allowed') {
            emit('refused');
          } else if (code === 'verification_required') {
            creating = false;
            set('signin', 1);
            emit('store', 'signin');
          } else if (status === 401 && body.identity) {
            delete body.identity;
            attempt();
          } else if (status === 400 && body.page_url) {
            body = { embed_origin: W.parentOrigin, site_id: body.site_id, identity: body.identity }; // a page URL refused
            attempt();
          } else {
            lost();
            setTimeout(attempt, backoff(++createFails, xhr));
          }
        });
      }());
    }
    function reportPage() {
      if (pageSent || !get('token') || !page.page_url) { return; }
      pageSent = true;
      request('POST', 'api/visitors/page', page);
    }

    // ---- leadership
    var me = rid(12), leader = false, restUntil = 0;
    function now() { return new Date().getTime(); }
    function other() {
      var held = get('leader');
      return held && held.id !== me && now() - held.t <= STALE;
    }
    function tick() {
      scan();
      if (now() < restUntil) { return; }
      if (!other()) {
        set('leader', { id: me, t: now() });
        if (!leader) {
          // Two tabs may both have seen no leader: the one whose write stays wins.
          setTimeout(function () {
            if (!leader && (get('leader') || {}).id === me) { leader = true; go(); }
          }, 60 + Math.random() * 200);
        }
      } else if (leader) {
        resign();
      }
    }
    function resign() {
      leader = false;
      stopPoll();
    }
    function go() {
      if (get('token')) { poll(); pump(); } else { ensureVisitor(); }
    }

    // ---- the poll; "connection lost" after two misses in a row
    var hold = window.SwitchboardHold(get('hold'), function (state) { set('hold', state); });
    var pollReq = null, pollGen = 0, pollFails = 0, downs = 0, retryTimer = null, up = null;
    function stopPoll() {
      pollGen++;
      clearTimeout(retryTimer);
      if (pollReq) { pollReq.abort(); pollReq = null; }
    }
    function connection(ok) {
      if (ok === up) { return; }
      up = ok;
      set('conn', ok ? 1 : 0);
      emit('conn', ok);
    }
    function lost() { if (++downs >= 2) { connection(false); } }
    function poll() {
      stopPoll();
      if (!leader) { return; }
      if (!get('token')) { ensureVisitor(); return; }
      var gen = pollGen, cursor = get('cursor'), secs = hold.secs(), sent = now();
      pollReq = request('GET', 'poll?tab=' + encodeURIComponent(tab) + '&timeout=' + secs +
        (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''), null, function (status, data, xhr) {
        if (gen !== pollGen) { return; }
        pollReq = null;
        var held = now() - sent;
        if (status === 200 && data && data.status && data.status !== 'shutdown') {
          if (data.status === 'superseded') {
            restUntil = now() + 10000;
            if (!other()) { del('leader'); }
            resign();
            return;
          }
          pollFails = downs = 0;
          connection(true);
          hold.answered(held, !(data.events && data.events.length));
          if (data.events && data.events.length) {
            // Events before cursor: a crash in between repeats, never skips.
            set('ev', { n: rid(8), e: data.events });
            emit('events', data.events);
          }
          if (data.cursor != null) { set('cursor', data.cursor); }
          if (other()) { resign(); return; }
          set('leader', { id: me, t: now() });
          poll();
        } else if (!data && hold.failed(held) === 'cut') {
          poll();
        } else {
          if (data && data.error && data.error.code === 'invalid_cursor') { del('cursor'); } else if (status !== 401) { lost(); }
          retryTimer = setTimeout(poll, backoff(++pollFails, xhr));
        }
      }, (secs + 10) * 1000);
    }

    // ---- sending: in order, one at a time, the same client_msg_id until answered; each message
    // a key of its own, written by its tab, removed by the sender.
    var sending = false, sendFails = 0, sendTimer = null;
    /** Unsent {c: chat_id, m: client_msg_id, b: body, t: time}, oldest first. */
    function outbox() {
      var keys = {}, list = [], k, i;
      for (k in mem) { if (mem.hasOwnProperty(k)) { keys[k] = 1; } }
      try { for (i = 0; ls && i < ls.length; i++) { keys[String(ls.key(i)).slice(P.length)] = 1; } } catch (e) {}
      for (k in keys) { if (k.indexOf('o.') === 0 && (k = get(k))) { list.push(k); } }
      return list.sort(function (a, b) { return a.t - b.t || (a.m < b.m ? -1 : 1); });
    }
    function send(entry) {
      entry.t = now();
      set('o.' + entry.m, entry);
      pump();
    }
    function pump() {
      if (sending || !get('token')) { return; }
      var box = outbox(), e = null;
      // What this tab could not store only it can send.
      for (var i = 0; i < box.length && !e; i++) { if (leader || stuck['o.' + box[i].m]) { e = box[i]; } }
      if (!e) { return; }
      sending = true;
      request('POST', 'send', { chat_id: e.c, client_msg_id: e.m, body: e.b }, function (status, data, xhr) {
        sending = false;
        clearTimeout(sendTimer);
        if (status === 200 || (data && status >= 400 && status < 500 && status !== 408 && status !== 429)) {
          del('o.' + e.m);
          sendFails = 0;
          if (status === 200) { emit('sent', e, data); } else { set('fail', { e: e, d: data }); emit('failed', e, data); }
          pump();
        } else {
          emit('sendfail', e);
          sendTimer = setTimeout(pump, backoff(++sendFails, xhr));
        }
      });
    }

    // ---- other tabs' changes
    function changed(key, value) {
      if (key === 'ev') {
        if (value && value.e) { emit('events', value.e); }
      } else if (key === 'leader') {
        if (!value) { setTimeout(tick, Math.random() * 300); } // the leader left
      } else if (key === 'conn') {
        emit('conn', value !== 0);
      } else if (key === 'token') {
        if (value) { pageSent = false; reportPage(); emit('token', value); } else { emit('token', null); if (leader) { ensureVisitor(); } }
      } else if (key === 'fail') {
        if (value) { emit('failed', value.e, value.d); }
      } else if (key === 'replay') {
        if (leader) { replay(); }
      } else if (key.indexOf('o.') === 0) {
        if (value) { emit('store', 'outbox'); pump(); }
      } else {
        emit('store', key);
      }
    }
    function scan() {
      if (!ls) { return; }
      var keys = SHARED.slice(0), box = outbox(), i, k, v;
      for (i = 0; i < box.length; i++) { keys.push('o.' + box[i].m); }
      for (i = 0; i < keys.length; i++) {
        k = keys[i];
        v = read(k);
        if (v != raw[k]) { // null and undefined alike
          raw[k] = v;
          changed(k, parse(v));
        }
      }
    }
    W.on(window, 'storage', function (e) {
      e = e || window.event;
      if (!e.key) { scan(); return; }
      if (e.key.indexOf(P) !== 0) { return; }
      var key = e.key.slice(P.length);
      raw[key] = e.newValue;
      changed(key, parse(e.newValue));
    });
    /** Polls again from the start of the open chats, here or in the leader. */
    function replay() {
      del('cursor');
      if (leader) { poll(); } else { set('replay', now()); }
    }
    function leave() {
      if (leader && (get('leader') || {}).id === me) { del('leader'); }
    }
    W.on(window, 'pagehide', leave);
    W.on(window, 'beforeunload', leave);

    var started = false;
    return {
      get: get, set: set, del: del, rid: rid, on: on, request: request, send: send, outbox: outbox, backoff: backoff, replay: replay, identify: identify,
      lasting: !!ls,
      isLeader: function () { return leader; },
      isUp: function () { return get('conn') !== 0; },
      /** `ref` (any referrer) goes with a new visitor only. */
      page: function (info, ref) {
        page = info;
        firstRef = ref;
        pageSent = false;
        reportPage();
      },
      start: function () {
        if (started) { return; }
        started = true;
        for (var i = 0; i < SHARED.length; i++) { raw[SHARED[i]] = read(SHARED[i]); }
        tick();
        setInterval(tick, 2000);
      }
    };
  };
}(window.SB));
