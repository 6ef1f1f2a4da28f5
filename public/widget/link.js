/*
 * Switchboard widget: storage, HTTP and the one polling tab. ES5, XMLHttpRequest only.
 * One tab (the leader, elected by a localStorage heartbeat) holds GET /poll, hands the answers
 * to the other tabs through localStorage and sends every tab's messages in order. Cursor, token
 * and unsent messages are stored, so a reload or a new leader goes on where the last stopped.
 * Bodies are text/plain JSON with a `token` field: no CORS preflight.
 */
(function (W) {
  'use strict';
  var HOLD = 25, STALE = 6000;

  W.parts.link = function () {
    var P = W.prefix, mem = {}, stuck = {}, ls = null, handlers = {};
    try { ls = window.localStorage; ls.setItem(P + 'probe', '1'); ls.removeItem(P + 'probe'); } catch (e) { ls = null; }

    function parse(s) { try { return s == null ? null : JSON.parse(s); } catch (e) { return null; } }
    // A key this tab failed to store (storage full) is read back from memory.
    function get(k) {
      if (!ls || stuck[k]) { return parse(mem[k]); }
      try { return parse(ls.getItem(P + k)); } catch (e) { return parse(mem[k]); }
    }
    function set(k, v) {
      mem[k] = JSON.stringify(v);
      try { if (ls) { ls.setItem(P + k, mem[k]); delete stuck[k]; } } catch (e) { stuck[k] = 1; }
    }
    function del(k) {
      delete mem[k];
      delete stuck[k];
      try { if (ls) { ls.removeItem(P + k); } } catch (e) {}
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
    /**
     * 0.25–0.5 s doubling up to 4–8 s, back well inside the presence lease; not before Retry-After.
     * A banned visitor (403 `banned`) asks again only once a minute: the ban may end.
     */
    function backoff(f, xhr) {
      var after = 0;
      try { if (xhr.status === 403 && /"code":"banned"/.test(xhr.responseText)) { return 60000; } } catch (e) {}
      try { after = parseInt(xhr.getResponseHeader('Retry-After'), 10) || 0; } catch (e) {}
      return Math.max(500 * Math.pow(2, Math.min(f - 1, 4)) * (0.5 + Math.random() / 2), after * 1000);
    }

    var tab = 't' + rid(15); // per browser tab, kept over reloads so a reloaded page's poll supersedes the old one
    try { tab = sessionStorage.getItem(P + 'tab') || tab; sessionStorage.setItem(P + 'tab', tab); } catch (e) {}

    /** cb(status, json, xhr); status 0: no answer. GETs carry the token in the query, POSTs in the body. */
    function request(method, path, body, cb, timeoutMs) {
      var xhr = new XMLHttpRequest(), done = false, timer = null;
      var token = get('token'), url = W.base + path, post = method !== 'GET';
      function abort() { try { xhr.abort(); } catch (e) {} }
      function finish(status) {
        if (done) { return; }
        done = true;
        clearTimeout(timer);
        if (status === 401 && token && token === get('token')) { forget(); }
        if (cb) { cb(status, parse(xhr.responseText), xhr); }
      }
      if (!post) {
        if (token) { url += (url.indexOf('?') < 0 ? '?' : '&') + 'token=' + encodeURIComponent(token); }
      } else if (token && path !== 'api/visitors') {
        body = body || {};
        body.token = token;
      }
      try {
        xhr.open(method, url, true);
        if (post) { xhr.setRequestHeader('Content-Type', 'text/plain;charset=UTF-8'); }
        xhr.onreadystatechange = function () { if (xhr.readyState === 4) { finish(xhr.status); } };
        xhr.send(post ? JSON.stringify(body || {}) : null);
      } catch (e) {
        setTimeout(function () { finish(0); }, 0);
      }
      timer = setTimeout(function () { abort(); finish(0); }, timeoutMs || 15000);
      return { abort: function () { done = true; clearTimeout(timer); abort(); } };
    }

    /** The token stopped working (401): start over as a new visitor. */
    function forget() {
      var box = outbox();
      for (var i = 0; i < box.length; i++) { del('o.' + box[i].m); }
      del('token'); del('visitor'); del('cursor'); del('chat');
      emit('token', null);
      if (leader) { stopPoll(); retryTimer = setTimeout(go, backoff(++pollFails)); }
    }

    // ---- where the visitor is
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
            go();
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

    // ---- leadership
    var me = rid(12), leader = false, restUntil = 0;
    /** Another tab holds a fresh lease. */
    function other() {
      var held = get('leader');
      return held && held.id !== me && now() - held.t <= STALE;
    }
    function tick() {
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
    /** Polls (as a new visitor if need be), sends what waits. */
    function go() {
      if (get('token')) { poll(); pump(); } else { ensureVisitor(); }
    }

    // ---- the poll
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
      pollReq = request('GET', 'poll?tab=' + encodeURIComponent(tab) + '&timeout=' + HOLD +
        (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''), null, function (status, data, xhr) {
        if (gen !== pollGen) { return; }
        pollReq = null;
        if (status === 200 && data && data.status && data.status !== 'shutdown') {
          if (data.status === 'superseded') {
            // Another page of this tab polls now: leave the poll to it for a while.
            restUntil = now() + 10000;
            if (!other()) { del('leader'); }
            resign();
            return;
          }
          pollFails = 0;
          connection(true);
          if (data.events && data.events.length) {
            // Hand the events on before storing the cursor: a crash in between repeats, never skips.
            set('ev', { n: rid(8), e: data.events });
            emit('events', data.events);
          }
          if (data.cursor != null) { set('cursor', data.cursor); }
          // A throttled (hidden) tab may answer after another took over.
          if (other()) { resign(); return; }
          set('leader', { id: me, t: now() });
          poll();
        } else {
          if (data && data.error && data.error.code === 'invalid_cursor') { del('cursor'); } else if (status !== 401) { connection(false); }
          retryTimer = setTimeout(poll, backoff(++pollFails, xhr));
        }
      }, (HOLD + 10) * 1000);
    }

    // ---- sending: by the leader, in order, one at a time, the same client_msg_id until answered.
    // Each message is a key of its own, written by its tab and removed by the sender: no shared list.
    var sending = false, sendFails = 0, sendTimer = null;
    /** Unsent messages {c: chat_id, m: client_msg_id, b: body, t: time}, oldest first. */
    function outbox() {
      var keys = {}, list = [], k, i;
      for (k in mem) { keys[k] = 1; }
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
        if (status === 200 || (status >= 400 && status < 500 && status !== 408 && status !== 429)) {
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

    // ---- other tabs
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
    }, false);
    /** Polls again from the start of the open chats (one this page lost), here or in the leader. */
    function replay() {
      del('cursor');
      if (leader) { poll(); } else { set('replay', now()); }
    }
    function leave() {
      if (leader && (get('leader') || {}).id === me) { del('leader'); }
    }
    window.addEventListener('pagehide', leave, false);
    window.addEventListener('beforeunload', leave, false);

    var started = false;
    return {
      get: get, set: set, del: del, rid: rid, on: on, request: request, send: send, outbox: outbox, backoff: backoff, replay: replay,
      isLeader: function () { return leader; },
      isUp: function () { return get('conn') !== 0; },
      /** Starts the heartbeat (and, when elected, the poll); reports this page. */
      start: function () {
        if (started) { return; }
        started = true;
        reportPage();
        tick();
        setInterval(tick, 2000);
      }
    };
  };
  W.boot();
}(window.SwitchboardWidget));
