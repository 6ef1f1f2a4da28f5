/*
 * Switchboard widget: storage, HTTP and the one polling tab. ES5, XMLHttpRequest only.
 * One tab per browser (the leader, elected through a localStorage heartbeat) holds GET /poll and
 * hands every answer to the other tabs by writing it to localStorage (they read it in `storage`).
 * The cursor, the token and the unsent messages live in localStorage, so a reload or a new
 * leader carries on where the last one stopped. Bodies are text/plain JSON with a `token`
 * field: no CORS preflight.
 */
(function (W) {
  'use strict';
  var HOLD = 25, ABORT_MS = (HOLD + 10) * 1000, BEAT_MS = 2000, STALE_MS = 6000;

  W.parts.link = function () {
    var P = W.prefix, memory = {}, ls = null, handlers = {};
    try { ls = window.localStorage; ls.setItem(P + 'probe', '1'); ls.removeItem(P + 'probe'); } catch (e) { ls = null; }

    function parse(text) { try { return text == null ? null : JSON.parse(text); } catch (e) { return null; } }
    function get(key) {
      if (!ls) { return parse(memory[key]); }
      try { return parse(ls.getItem(P + key)); } catch (e) { return null; }
    }
    function set(key, value) {
      memory[key] = JSON.stringify(value);
      try { if (ls) { ls.setItem(P + key, memory[key]); } } catch (e) { /* full or blocked: memory only */ }
    }
    function del(key) {
      delete memory[key];
      try { if (ls) { ls.removeItem(P + key); } } catch (e) { /* blocked */ }
    }
    function rid(n) {
      var s = '';
      while (s.length < n) { s += Math.random().toString(36).slice(2); }
      return s.slice(0, n);
    }
    function now() { return new Date().getTime(); }
    function on(name, fn) { (handlers[name] = handlers[name] || []).push(fn); }
    function emit(name, a, b) {
      var list = handlers[name] || [];
      for (var i = 0; i < list.length; i++) {
        // A fault in the UI must not stop the poll loop: report it later, go on now.
        try { list[i](a, b); } catch (e) { setTimeout(function () { throw e; }, 0); }
      }
    }
    /** Exponential backoff from 0.5 s to 30 s, ±50 % jitter; never sooner than Retry-After. */
    function backoff(failures, xhr) {
      var ms = Math.min(30000, 500 * Math.pow(2, Math.min(failures - 1, 6))) * (0.5 + Math.random());
      var after = 0;
      try { after = parseInt(xhr && xhr.getResponseHeader('Retry-After'), 10) || 0; } catch (e) { after = 0; }
      return Math.max(ms, after * 1000);
    }

    var tab = null; // per browser tab, kept over reloads so a reloaded page's poll supersedes the old one
    try {
      tab = window.sessionStorage.getItem(P + 'tab');
      if (!tab) { tab = 't' + rid(15); window.sessionStorage.setItem(P + 'tab', tab); }
    } catch (e) { tab = 't' + rid(15); }

    /**
     * One request to the server. cb(status, json, xhr); status 0 means no answer (network,
     * abort, timeout). GETs carry the token in the query, POSTs in the body.
     */
    function request(method, path, body, cb, timeoutMs) {
      var xhr = new XMLHttpRequest(), done = false, timer = null;
      var token = get('token'), url = W.base + path;
      function finish(status) {
        if (done) { return; }
        done = true;
        clearTimeout(timer);
        var data = parse(xhr.responseText);
        if (status === 401 && token && token === get('token')) { forget(); }
        if (cb) { cb(status, data, xhr); }
      }
      if (method === 'GET') {
        if (token) { url += (url.indexOf('?') < 0 ? '?' : '&') + 'token=' + encodeURIComponent(token); }
      } else if (token && path !== 'api/visitors') {
        body = body || {};
        body.token = token;
      }
      try {
        xhr.open(method, url, true);
        if (method !== 'GET') { xhr.setRequestHeader('Content-Type', 'text/plain;charset=UTF-8'); }
        xhr.onreadystatechange = function () { if (xhr.readyState === 4) { finish(xhr.status); } };
        xhr.send(method === 'GET' ? null : JSON.stringify(body || {}));
      } catch (e) {
        setTimeout(function () { finish(0); }, 0);
      }
      timer = setTimeout(function () {
        try { xhr.abort(); } catch (e) { /* already gone */ }
        finish(0);
      }, timeoutMs || 15000);
      return { abort: function () { done = true; clearTimeout(timer); try { xhr.abort(); } catch (e) { /* gone */ } } };
    }

    /** The token stopped working (401): start over as a new visitor. */
    function forget() {
      del('token'); del('visitor'); del('cursor'); del('chat'); del('outbox');
      outbox = [];
      emit('token', null);
      if (leader) { setTimeout(ensureVisitor, 0); }
    }

    // ---- where the visitor is ---------------------------------------------------------
    function page(first) {
      var info = {}, href = String(window.location.href);
      if (!/^https?:/i.test(href) || href.length > 2048) { return info; }
      info.page_url = href;
      if (document.title) { info.page_title = String(document.title).slice(0, 512); }
      var ref = String(document.referrer || '');
      // Later pages keep the referrer the visitor first came from, unless it is a new outside one.
      if (ref && ref.length <= 2048 && (first || ref.split('/')[2] !== window.location.host)) { info.referrer = ref; }
      return info;
    }

    var creating = false, createFails = 0, pageSent = false;
    function ensureVisitor() {
      if (get('token') || creating || !leader) { return; }
      creating = true;
      var body = page(true);
      (function attempt() {
        request('POST', 'api/visitors', body, function (status, data, xhr) {
          if (status === 201 && data && data.token) {
            creating = false;
            createFails = 0;
            pageSent = true;
            del('cursor');
            set('token', data.token);
            set('visitor', data.visitor_id);
            emit('token', data.token);
            poll();
          } else if (status === 400 && body.page_url) {
            body = {}; // a page the server will not take (odd URL): come in without it
            attempt();
          } else {
            connection(false); // unreachable, or this site is not on the server's allowlist
            setTimeout(attempt, backoff(++createFails, xhr));
          }
        });
      }());
    }
    function reportPage() {
      if (pageSent || !get('token')) { return; }
      pageSent = true;
      var info = page(false);
      if (info.page_url) { request('POST', 'api/visitors/page', info); }
    }

    // ---- leadership -------------------------------------------------------------------
    var me = rid(12), leader = false, restUntil = 0;
    function tick() {
      var t = now(), held = get('leader');
      if (t < restUntil) { return; }
      if (!held || held.id === me || t - held.t > STALE_MS) {
        set('leader', { id: me, t: t });
        if (!leader) {
          // Two tabs may both have seen no leader: the one whose write stays wins.
          setTimeout(function () {
            var check = get('leader');
            if (!leader && check && check.id === me) { leader = true; emit('lead', true); go(); }
          }, 60 + Math.random() * 200);
        }
      } else if (leader) {
        resign();
      }
    }
    function resign() {
      leader = false;
      stopPoll();
      emit('lead', false);
    }
    function go() {
      if (get('token')) { poll(); } else { ensureVisitor(); }
    }

    // ---- the poll ---------------------------------------------------------------------
    var pollReq = null, pollGen = 0, pollFails = 0, retryTimer = null, up = null;
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
    function poll() {
      stopPoll();
      if (!leader) { return; }
      if (!get('token')) { ensureVisitor(); return; }
      var gen = pollGen, cursor = get('cursor');
      var path = 'poll?tab=' + encodeURIComponent(tab) + '&timeout=' + HOLD +
        (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
      pollReq = request('GET', path, null, function (status, data, xhr) {
        if (gen !== pollGen) { return; }
        pollReq = null;
        var code = data && data.error && data.error.code;
        if (status === 200 && data && data.status && data.status !== 'shutdown') {
          if (data.status === 'superseded') {
            // Another page of this tab polls now: leave the poll to it for a while.
            restUntil = now() + 10000;
            if ((get('leader') || {}).id === me) { del('leader'); }
            resign();
            return;
          }
          pollFails = 0;
          connection(true);
          set('leader', { id: me, t: now() });
          if (data.events && data.events.length) {
            // Hand the events on before storing the cursor: a crash in between repeats, never skips.
            set('ev', { n: rid(8), e: data.events });
            emit('events', data.events);
          }
          if (data.cursor != null) { set('cursor', data.cursor); }
          poll();
        } else if (status === 401) {
          go(); // request() has forgotten the token
        } else if (code === 'invalid_cursor') {
          del('cursor');
          poll();
        } else {
          connection(false);
          retryTimer = setTimeout(poll, backoff(++pollFails, xhr));
        }
      }, ABORT_MS);
    }

    // ---- sending: one message at a time, in order, the same client_msg_id until answered -----
    var outbox = [], sending = false, sendFails = 0;
    function unbox(id) {
      var stored = get('outbox') || [], kept = [];
      for (var i = 0; i < stored.length; i++) { if (stored[i].m !== id) { kept.push(stored[i]); } }
      set('outbox', kept);
    }
    function has(id) {
      for (var i = 0; i < outbox.length; i++) { if (outbox[i].m === id) { return true; } }
      return false;
    }
    /** entry: {c: chat_id, m: client_msg_id, b: body}. Kept in localStorage until answered. */
    function send(entry) {
      var stored = get('outbox') || [];
      stored.push(entry);
      set('outbox', stored);
      outbox.push(entry);
      pump();
    }
    /** Takes over the messages a closed or reloaded page left unsent. */
    function adopt() {
      var stored = get('outbox') || [];
      for (var i = 0; i < stored.length; i++) { if (!has(stored[i].m)) { outbox.push(stored[i]); } }
      pump();
    }
    function pump() {
      if (sending || !outbox.length || !get('token')) { return; }
      var entry = outbox[0];
      sending = true;
      request('POST', 'send', { chat_id: entry.c, client_msg_id: entry.m, body: entry.b }, function (status, data, xhr) {
        sending = false;
        if (status === 200 || (status >= 400 && status < 500 && status !== 408 && status !== 429)) {
          outbox.shift();
          unbox(entry.m);
          sendFails = 0;
          emit(status === 200 ? 'sent' : 'failed', entry, data);
          pump();
        } else {
          emit('sendfail', entry);
          setTimeout(pump, backoff(++sendFails, xhr));
        }
      });
    }

    // ---- other tabs -------------------------------------------------------------------
    window.addEventListener('storage', function (e) {
      if (!e.key || e.key.indexOf(P) !== 0) { return; }
      var key = e.key.slice(P.length), value = parse(e.newValue);
      if (key === 'ev') {
        if (value && value.e) { emit('events', value.e); }
      } else if (key === 'leader') {
        if (!value) { setTimeout(tick, Math.random() * 300); } // the leader left: take over now
      } else if (key === 'conn') {
        emit('conn', value !== 0);
      } else if (key === 'token') {
        if (value) { pageSent = false; reportPage(); emit('token', value); } else { outbox = []; emit('token', null); if (leader) { ensureVisitor(); } }
      } else {
        emit('store', key);
      }
    }, false);
    function leave() {
      if (leader && (get('leader') || {}).id === me) { del('leader'); }
    }
    window.addEventListener('pagehide', leave, false);
    window.addEventListener('beforeunload', leave, false);

    var started = false;
    return {
      get: get, set: set, del: del, rid: rid, on: on, request: request, send: send, adopt: adopt,
      isLeader: function () { return leader; },
      isUp: function () { return get('conn') !== 0; },
      /** Starts the heartbeat (and, when elected, the poll); reports this page. */
      start: function () {
        if (started) { return; }
        started = true;
        reportPage();
        tick();
        setInterval(tick, BEAT_MS);
      }
    };
  };
  W.boot();
}(window.SwitchboardWidget));
