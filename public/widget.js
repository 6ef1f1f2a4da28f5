/*
 * Switchboard chat widget: the loader a site embeds with
 *   <script src="https://HOST/widget.js" async data-lang="en" data-position="right" data-color="#2b6cb0"></script>
 * It finds its server from its own src, draws the launcher and loads the chat UI
 * (widget/*.js from the same place). ES5 only, no dependencies.
 * The UI loads right after the page's load event even while the panel stays closed: a visitor
 * on the page must poll (presence) so that an agent's invitation can open the panel.
 */
(function (window, document) {
  'use strict';
  if (window.SwitchboardWidget) { return; } // embedded twice
  var SELF = /\/widget\.js([?#]|$)/;
  var script = document.currentScript;
  if (!script || !SELF.test(script.src || '')) {
    // Old browsers, or a tag manager injected us: the last script tag that looks like us.
    var tags = document.getElementsByTagName('script');
    for (var i = tags.length - 1; i >= 0 && !(script && SELF.test(script.src || '')); i--) { script = tags[i]; }
  }
  if (!script || !SELF.test(script.src || '')) { return; }
  var src = script.src;
  var origin = (/^https?:\/\/[^\/?#]+/i.exec(src) || [''])[0];
  if (!origin) { return; }
  function data(name) { return script.getAttribute('data-' + name) || ''; }

  var W = window.SwitchboardWidget = {
    base: src.replace(/[?#].*$/, '').replace(/widget\.js$/, ''),
    query: (/\?[^#]*/.exec(src) || [''])[0], // a site's ?v=2 cache-buster reaches the UI files too
    prefix: 'switchboard:' + origin + ':',
    lang: data('lang'),
    position: data('position') === 'left' ? 'left' : 'right',
    color: data('color') || '#2b6cb0',
    parts: {},
    wantOpen: false
  };
  var PARTS = ['i18n', 'style', 'link', 'view', 'app'];
  var loading = false, started = false;

  function stored(key) {
    try { return window.localStorage.getItem(W.prefix + key); } catch (e) { return null; }
  }

  // Every part file ends by calling boot(); the last one to arrive starts the UI.
  W.boot = function () {
    for (var i = 0; i < PARTS.length; i++) { if (!W.parts[PARTS[i]]) { return; } }
    if (started || !W.root) { return; }
    started = true;
    W.t = W.parts.i18n(W.lang);
    W.parts.style(W);
    W.link = W.parts.link(W);
    W.app = W.parts.app(W);
  };

  function load() {
    if (loading) { return; }
    loading = true;
    var head = document.getElementsByTagName('head')[0] || document.documentElement;
    for (var i = 0; i < PARTS.length; i++) {
      var s = document.createElement('script');
      s.src = W.base + 'widget/' + PARTS[i] + '.js' + W.query;
      s.async = false;
      s.charset = 'utf-8';
      s.onerror = function () { loading = false; }; // a later click tries again
      head.appendChild(s);
    }
  }

  var CSS =
    '#switchboard-widget .sbw-launcher{position:fixed;bottom:20px;right:20px;z-index:2147483000;' +
    'width:60px;height:60px;border-radius:50%;color:#fff;cursor:pointer;padding:0;margin:0;border:0;' +
    'box-shadow:0 4px 14px rgba(0,0,0,.3);display:block}' +
    '#switchboard-widget.sbw-left .sbw-launcher{right:auto;left:20px}' +
    '#switchboard-widget .sbw-launcher svg{width:28px;height:28px;display:block;margin:auto;fill:currentColor}' +
    '#switchboard-widget .sbw-badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;' +
    'padding:0 6px;border-radius:11px;background:#e53e3e;color:#fff;font:bold 12px/22px sans-serif;text-align:center}';

  function draw() {
    if (W.root || !document.body) { return; }
    var style = document.createElement('style');
    style.appendChild(document.createTextNode(CSS));
    (document.getElementsByTagName('head')[0] || document.body).appendChild(style);
    W.style = style; // the UI appends its rules here: one <style> in all

    var root = W.root = document.createElement('div');
    root.id = 'switchboard-widget';
    root.className = 'sbw-' + W.position;
    var button = W.launcher = document.createElement('button');
    button.type = 'button';
    button.className = 'sbw-launcher';
    button.setAttribute('data-sb', 'launcher');
    button.setAttribute('aria-expanded', 'false');
    button.setAttribute('aria-label', /^zh/i.test(W.lang) ? '打开聊天' : /^ko/i.test(W.lang) ? '채팅 열기' : 'Open chat');
    button.style.background = W.color;
    button.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M4 3h16a2 2 0 0 1 2 2v11' +
      'a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>';
    var badge = W.badge = document.createElement('span');
    badge.className = 'sbw-badge';
    badge.setAttribute('data-sb', 'badge');
    badge.style.display = 'none';
    button.appendChild(badge);
    button.onclick = function () {
      if (W.app) { W.app.toggle(); } else { W.wantOpen = true; load(); }
    };
    root.appendChild(button);
    document.body.appendChild(root);

    // A chat already running: load at once; otherwise right after the page has loaded.
    if (/"st":"(open|queued)"/.test(stored('chat') || '')) { load(); }
    else if (document.readyState === 'complete') { setTimeout(load, 0); }
    else { window.addEventListener('load', load, false); }
    W.boot();
  }

  if (document.body) { draw(); } else { document.addEventListener('DOMContentLoaded', draw, false); }
}(window, document));
