/* Switchboard chat widget loader (ES3): the launcher and the chat's iframe. See docs/frontend.md. */
(function (window, document) {
  if (window.SwitchboardWidget) { return; }
  // eslint-disable-next-line compat/compat -- else the last script tag like us
  var script = document.currentScript, tags = document.getElementsByTagName('script'), i = tags.length;
  function ours(tag) { return tag && /\/widget\.js([?#]|$)/.test(tag.src || ''); }
  while (!ours(script) && i) { script = tags[--i]; }
  if (!ours(script)) { return; }
  function data(name) { return script.getAttribute('data-' + name) || ''; }
  var src = script.src, side = data('position') === 'left' ? 'left' : 'right';
  var origin = ((/^https?:\/\/[^\/?#]+/i.exec(src) || [''])[0]).toLowerCase().replace(/:80$|:443$/, '');
  // eslint-disable-next-line compat/compat -- IE: userLanguage
  var lang = (/^(zh|ko)/i.exec(data('lang') || navigator.language || navigator.userLanguage || '') || ['en'])[0].toLowerCase();
  var LABELS = { en: ['Open chat', 'Close chat'], zh: ['打开聊天', '关闭聊天'], ko: ['채팅 열기', '채팅 닫기'] }[lang];
  var CSS =
    // doiuse-disable css-fixed -- iOS 6-7 scroll it with the page while zoomed
    '#sbw-launcher,#sbw-frame{position:fixed;margin:0;padding:0;border:0}' +
    '#sbw-launcher{bottom:20px;z-index:2147483000;width:60px;height:60px;cursor:pointer;color:#fff;' +
    'font:28px/60px Arial,sans-serif;text-align:center}' +
    '#sbw-launcher i{position:absolute;left:16px;top:18px;width:28px;height:19px;background:#fff}' +
    '#sbw-launcher b{position:absolute;left:21px;top:36px;width:0;height:0;border-style:solid;' +
    'border-width:7px 8px 0 0;border-color:#fff transparent transparent}' +
    '#sbw-launcher.sbw-open i,#sbw-launcher.sbw-open b,#sbw-launcher s{display:none}' +
    '#sbw-launcher.sbw-open s{display:block;text-decoration:none}' +
    '#sbw-badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;' +
    'background:#e53e3e;color:#fff;font:bold 12px/22px Arial,sans-serif}' +
    '#sbw-frame{bottom:92px;z-index:2147483001;width:370px;background:#fff}' +
    '#sbw-frame.sbw-full{top:0;left:0;width:100%;height:100%}' +
    // doiuse-disable css-mediaqueries, border-radius, css-boxshadow -- IE8: square and flat
    '@media screen{#sbw-launcher{border-radius:30px;box-shadow:0 4px 14px #888}#sbw-launcher i{border-radius:5px}' +
    '#sbw-badge{border-radius:11px}#sbw-frame{border-radius:14px;box-shadow:0 10px 40px #777}' +
    '#sbw-frame.sbw-full{border-radius:0}}';
  var launcher, badge, frame, ready, opened, wantOpen, unread = 0, blinker, alerted, title, href, identity = data('identity');

  function on(node, type, fn) {
    // eslint-disable-next-line no-restricted-properties -- tested; IE8: attachEvent
    if (node.addEventListener) { node.addEventListener(type, fn, false); } else { node.attachEvent('on' + type, fn); }
  }
  function enc(s) { return encodeURIComponent(String(s || '').slice(0, 2048)); }
  function post(name, arg) {
    if (ready) { frame.contentWindow.postMessage('sb1:' + name + ':' + arg, origin); }
  }
  function page() {
    href = String(window.location.href);
    return 'url=' + enc(href) + '&title=' + enc(document.title) + '&ref=' + enc(document.referrer);
  }
  function place() {
    var root = document.documentElement, h = window.innerHeight || root.clientHeight;
    var full = (window.innerWidth || root.clientWidth) < 520 || h < 460;
    frame.className = full ? 'sbw-full' : '';
    frame.style[side] = full ? '' : '20px';
    frame.style.height = full ? '' : Math.min(580, h - 112) + 'px';
    launcher.style.display = full && opened ? 'none' : '';
    launcher.className = opened ? 'sbw-open' : '';
    launcher.setAttribute('aria-expanded', !!opened);
    launcher.setAttribute('aria-label', LABELS[+!!opened]);
    badge.style.display = unread && !opened ? 'block' : 'none';
    badge.innerHTML = unread > 9 ? '9+' : unread;
  }
  function toggle(show, focus, fromFrame) {
    if (show && !ready) { wantOpen = 1; start(); return; }
    opened = show;
    frame.style.display = show ? 'block' : 'none';
    place();
    if (show) { blink(''); }
    if (show || !fromFrame) { post(show ? 'open' : 'close', focus ? 1 : 0); }
    if (focus) { try { (show ? frame.contentWindow : launcher).focus(); } catch (e) {} }
  }
  function blink(text) {
    if (text && !blinker) {
      title = document.title;
      blinker = setInterval(function () { document.title = document.title === alerted ? title : alerted; }, 1000);
    } else if (!text && blinker) {
      clearInterval(blinker);
      blinker = null;
      document.title = title;
    }
    alerted = text;
  }
  function heard(e) {
    e = e || window.event;
    var m = typeof e.data === 'string' && /^sb1:([a-z]+):?([\s\S]*)$/.exec(e.data), name = m && m[1];
    if (!m || !frame || e.source != frame.contentWindow || e.origin !== origin) { return; }
    if (name === 'ready') {
      ready = 1;
      post('init', 'lang=' + lang + '&langset=' + (data('lang') ? 1 : 0) + '&color=' + enc(launcher.style.backgroundColor) + '&site=' + enc(data('site')) + '&id=' + enc(identity) + '&' + page());
      if (wantOpen) { toggle(true, true); }
    } else if (name === 'open' || name === 'close') {
      toggle(name === 'open', m[2] === '1', true);
    } else if (name === 'unread') {
      unread = +m[2] || 0;
      place();
      if (!unread) { blink(''); }
    // eslint-disable-next-line compat/compat -- undefined (visible) where missing
    } else if (name === 'alert' && (!opened || document.hidden)) {
      blink(m[2]);
    } else if (name === 'refused') {
      refused();
    }
  }
  function refused() {
    if (launcher.parentNode) { launcher.parentNode.removeChild(launcher); }
    if (frame) { frame.parentNode.removeChild(frame); frame = null; }
  }
  function start() {
    if (frame || !launcher.parentNode) { return; }
    frame = document.createElement('iframe');
    frame.id = 'sbw-frame';
    frame.title = LABELS[0];
    frame.setAttribute('data-sb', 'frame');
    frame.setAttribute('frameBorder', '0');
    frame.style.display = 'none';
    // A frame refused by its CSP (frame-ancestors) loads an error page and never says ready.
    on(frame, 'load', function () { setTimeout(function () { if (!ready && frame) { refused(); } }, 3000); });
    frame.src = src.replace(/widget\.js([?#].*)?$/, 'widget/frame.html') + ((/\?[^#]*/.exec(src) || [''])[0]);
    document.body.appendChild(frame);
    place();
  }
  function draw() {
    if (launcher || !document.body) { return; }
    var style = document.body.appendChild(document.createElement('style'));
    if (style.styleSheet) { style.styleSheet.cssText = CSS; } else { style.appendChild(document.createTextNode(CSS)); }
    launcher = document.body.appendChild(document.createElement('button'));
    launcher.id = 'sbw-launcher';
    launcher.setAttribute('type', 'button');
    launcher.setAttribute('data-sb', 'launcher');
    launcher.style[side] = '20px';
    launcher.style.backgroundColor = '#2b6cb0';
    // The browser checks data-color: it ignores a bad one (old IE throws).
    try { launcher.style.backgroundColor = data('color') || '#2b6cb0'; } catch (e) {}
    launcher.innerHTML = '<i></i><b></b><s>&times;</s><span id="sbw-badge" data-sb="badge"></span>';
    badge = launcher.lastChild;
    launcher.onclick = function () { toggle(!opened, true); };
    on(window, 'resize', function () { if (frame) { place(); } });
    on(window, 'focus', function () { blink(''); });
    on(window, 'message', heard);
    setInterval(function () { if (ready && String(window.location.href) !== href) { post('page', page()); } }, 2000);
    if (document.readyState === 'complete') { start(); } else { on(window, 'load', start); }
  }

  window.SwitchboardWidget = {
    open: function () { if (launcher) { toggle(true, true); } },
    close: function () { if (opened) { toggle(false, true); } },
    identify: function (jwt) { identity = jwt || ''; post('identity', enc(identity)); }
  };
  if (document.body) { draw(); } else { on(document, 'readystatechange', draw); on(window, 'load', draw); }
}(window, document));
