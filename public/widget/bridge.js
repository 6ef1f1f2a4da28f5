/* Widget frame, first script (ES3): window.SB; messages with the loader, whose origin the first
 * "sb1:init" fixes (docs/frontend.md); events; strings; lazy modules. */
(function (window, document) {
  var SB = window.SB = { parentOrigin: '', mods: {}, strings: {} }, handlers = {}, loading = {};
  SB.base = String(window.location.href).replace(/widget\/frame\.html.*$/, '');

  SB.on = function (node, type, fn) {
    // eslint-disable-next-line no-restricted-properties -- tested; IE8: attachEvent
    if (node.addEventListener) { node.addEventListener(type, fn, false); } else { node.attachEvent('on' + type, fn); }
  };
  SB.stop = function (e) {
    e = e || window.event;
    // eslint-disable-next-line no-restricted-properties -- tested; IE8: returnValue
    if (e.preventDefault) { e.preventDefault(); } else { e.returnValue = false; }
  };
  /** "a=1&b=x%20y" → {a: '1', b: 'x y'} */
  SB.decode = function (text) {
    var out = {}, parts = String(text || '').split('&'), i, kv;
    for (i = 0; i < parts.length; i++) {
      kv = parts[i].split('=');
      try { out[kv[0]] = decodeURIComponent(kv[1] || ''); } catch (e) {}
    }
    return out;
  };
  SB.post = function (name, arg) {
    if (SB.parentOrigin) { window.parent.postMessage('sb1:' + name + ':' + (arg == null ? '' : arg), SB.parentOrigin); }
  };
  SB.hear = function (name, fn) { handlers[name] = fn; };
  /** Called last, with every handler in place: the loader answers with init. */
  SB.ready = function () {
    if (window.parent != window) { window.parent.postMessage('sb1:ready', '*'); }
  };

  /** t('queue', {n: 3}) */
  SB.t = function (key, vars) {
    return String(SB.strings[key] || key).replace(/\{(\w+)\}/g, function (all, name) {
      return vars && vars[name] != null ? String(vars[name]) : '';
    });
  };
  /** Loads the strings of `lang` (English if that fails), then done(). */
  SB.useLang = function (lang, done) {
    lang = /^(zh|ko)$/.test(lang) ? lang : 'en';
    SB.need('lang-' + lang, function (ok) {
      if (!ok && lang !== 'en') { SB.useLang('en', done); return; }
      SB.lang = lang;
      SB.strings = SB.mods['lang-' + lang] || {};
      done();
    });
  };

  /** Loads widget/NAME.js once (it fills SB.mods[NAME]), then done(ok). */
  SB.need = function (name, done) {
    if (SB.mods[name]) { done(true); return; }
    if (loading[name]) { loading[name].push(done); return; }
    var waiting = loading[name] = [done], s = document.createElement('script'), timer;
    function end() {
      clearTimeout(timer);
      s.onload = s.onreadystatechange = s.onerror = null;
      delete loading[name];
      for (var i = 0; i < waiting.length; i++) { waiting[i](!!SB.mods[name]); }
    }
    s.onload = s.onerror = end;
    s.onreadystatechange = function () { if (/loaded|complete/.test(s.readyState)) { end(); } }; // IE8
    timer = setTimeout(end, 10000);
    s.src = name + '.js';
    document.getElementsByTagName('head')[0].appendChild(s);
  };

  SB.on(window, 'message', function (e) {
    e = e || window.event;
    var m = typeof e.data === 'string' && /^sb1:([a-z]+):?([\s\S]*)$/.exec(e.data);
    if (!m || e.source != window.parent || (SB.parentOrigin ? e.origin !== SB.parentOrigin || m[1] === 'init' :
      m[1] !== 'init' || !/^https?:\/\/[^\/]+$/.test(e.origin))) { return; }
    SB.parentOrigin = e.origin;
    if (handlers[m[1]]) { handlers[m[1]](m[2]); }
  });
}(window, document));
