/* Widget frame, lazy module: "Earlier conversations" — a verified customer's ended chats from
 * any device (GET /api/visitors/me/chats), each transcript read-only, text never markup. ES3. */
(function (SB) {
  SB.mods.earlier = function (ctx) {
    var v = ctx.v, t = SB.t, el = v.el, L = ctx.L, shown = false, inChat = false;
    var back = v.button('earlier-back', t('back'), { 'class': 'sbw-ghost' });
    var list = el('ul', { 'class': 'sbw-log', 'data-sb': 'earlier-list' });
    var box = el('div', { 'data-sb': 'earlier' }, [el('p', { 'class': 'sbw-lead' }, t('earlier')), list, back]);
    v.body.appendChild(box);
    function clear() { while (list.firstChild) { list.removeChild(list.firstChild); } }
    function line(text, cls) { return list.appendChild(el('li', { 'class': cls || 'sbw-event' }, text)); }
    function day(ms) { return new Date(ms).toLocaleString(); }
    function chats() {
      inChat = false;
      clear();
      line(t('loading'));
      L.request('GET', 'api/visitors/me/chats?limit=50', null, function (status, data) {
        clear();
        var n = 0, i, c, b;
        for (i = 0; status === 200 && data && data.chats && i < data.chats.length; i++) {
          c = data.chats[i];
          if (c.status !== 'closed') { continue; }
          n++;
          b = v.button('earlier-chat', day(c.created_at) + (c.agent_name ? ' \u2013 ' + c.agent_name : ''), { 'class': 'sbw-pick', 'data-chat-id': c.chat_id });
          b.onclick = (function (c) { return function () { transcript(c, 0); }; }(c));
          list.appendChild(el('li', null, b));
        }
        if (!n) { line(status === 200 ? t('no_earlier') : ctx.errorText(data)); }
      });
    }
    function transcript(c, after) {
      if (!after) { inChat = true; clear(); line(day(c.created_at)); }
      L.request('GET', 'api/chats/' + encodeURIComponent(c.chat_id) + '/messages?limit=200&after_seq=' + after, null, function (status, data) {
        var i, e;
        for (i = 0; status === 200 && data && data.events && i < data.events.length; i++) {
          e = data.events[i];
          if (e.type !== 'message') { continue; }
          line([el('span', { 'class': 'sbw-who' }, e.from === 'visitor' ? t('you') : e.sender_name || c.agent_name || t('agent')),
            el('div', { 'class': 'sbw-text', 'data-sb': 'message-body' }, e.body)], 'sbw-msg sbw-' + e.from);
        }
        if (status !== 200) { line(ctx.errorText(data)); } else if (data.next_after_seq != null) { transcript(c, data.next_after_seq); }
      });
    }
    back.onclick = function () {
      if (inChat) { chats(); return; }
      shown = false;
      for (var i = 0; i < v.body.childNodes.length; i++) { v.show(v.body.childNodes[i], true); }
      ctx.render();
    };
    return {
      open: function () { shown = true; chats(); ctx.render(); },
      /** While shown, the view covers the rest of the panel's body. */
      cover: function () {
        var kids = v.body.childNodes, i;
        for (i = 0; i < kids.length; i++) { if (kids[i] === box || shown) { v.show(kids[i], kids[i] === box && shown); } }
      }
    };
  };
}(window.SB));
