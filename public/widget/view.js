/* Widget frame (ES3): the panel's elements, text only as text nodes, icons as characters or CSS
 * shapes (IE8 draws no SVG); the body placed between head and foot by layout(), not flexbox. */
(function (SB, document) {
  /** el('button', {'data-sb': 'send'}, ['text', child]) */
  function el(tag, attrs, kids) {
    var node = document.createElement(tag), name, i;
    for (name in attrs) {
      if (attrs.hasOwnProperty(name) && attrs[name] != null) {
        if (name === 'class') { node.className = attrs[name]; } else if (name === 'for') { node.htmlFor = attrs[name]; } else { node.setAttribute(name, attrs[name]); }
      }
    }
    kids = kids == null ? [] : [].concat(kids);
    for (i = 0; i < kids.length; i++) {
      if (kids[i] != null) { node.appendChild(typeof kids[i] === 'string' ? document.createTextNode(kids[i]) : kids[i]); }
    }
    return node;
  }
  function button(hook, label, attrs) {
    attrs = attrs || {};
    attrs.type = 'button';
    attrs['data-sb'] = hook;
    return el('button', attrs, label);
  }

  SB.view = function () {
    var t = SB.t, v = {
      el: el,
      button: button,
      field: function (hook, label, tag, attrs) {
        attrs.id = 'sbw-' + hook;
        attrs['data-sb'] = hook;
        return [el('label', { 'for': attrs.id }, label), el(tag, attrs)];
      },
      text: function (node, s) {
        while (node.firstChild) { node.removeChild(node.firstChild); }
        node.appendChild(document.createTextNode(s == null ? '' : String(s)));
      },
      show: function (node, on) { node.style.display = on ? '' : 'none'; },
      // CSSOM: the CSP allows no style attributes; old IE throws on a bad colour.
      paint: function (node) { try { node.style.backgroundColor = SB.color; } catch (e) {} return node; }
    };

    v.status = el('div', { 'class': 'sbw-status', 'data-sb': 'chat-status', 'aria-live': 'polite' });
    v.end = button('end-chat', t('end'));
    v.minimize = button('minimize', '\u2013', { 'aria-label': t('minimize'), title: t('minimize'), 'class': 'sbw-icon' });
    v.head = v.paint(el('div', { 'class': 'sbw-head' }, [el('div', { 'class': 'sbw-tools' }, [v.end, v.minimize]),
      el('div', { 'class': 'sbw-title', id: 'sbw-title', 'data-sb': 'title' }, t('title')), v.status]));
    v.connection = el('div', { 'class': 'sbw-bar sbw-conn', 'data-sb': 'connection', role: 'status' }, t('connection'));
    v.memory = el('div', { 'class': 'sbw-bar', 'data-sb': 'storage-note', role: 'status' }, t('memory'));
    v.bars = el('div', { 'class': 'sbw-bars' }, [v.connection, v.memory]);

    v.any = button('agent-any', t('any'), { 'class': 'sbw-pick' });
    v.agents = el('ul', { 'data-sb': 'agent-list', 'aria-label': t('agents') });
    v.chooseNote = el('p', { 'class': 'sbw-note', role: 'status' });
    v.choose = el('div', null, [el('p', { 'class': 'sbw-lead' }, t('choose')), v.any, v.agents, v.chooseNote]);
    v.queue = el('div', { 'class': 'sbw-queue', 'data-sb': 'queue-position', role: 'status' });
    v.greeting = el('p', { 'class': 'sbw-lead', 'data-sb': 'greeting' }, SB.greeting || '');
    v.log = el('ul', { 'class': 'sbw-log', 'data-sb': 'messages', role: 'log', 'aria-live': 'polite', 'aria-label': t('messages') });
    v.again = button('new-chat', t('again'), { 'class': 'sbw-ghost' });
    v.earlier = button('earlier', t('earlier'), { 'class': 'sbw-ghost' });
    v.signin = el('p', { 'class': 'sbw-lead', 'data-sb': 'signin', role: 'status' }, t('signin'));
    // The lazy modules fill these (offline form; typing; rating).
    v.offline = el('div');
    v.after = el('div');
    v.rating = el('div');
    v.body = el('div', { 'class': 'sbw-body' }, [v.signin, v.greeting, v.choose, v.offline, v.queue, v.log, v.after, v.rating, v.again, v.earlier]);

    v.input = el('textarea', { 'data-sb': 'input', rows: '1', maxlength: '4000', 'aria-label': t('input'), placeholder: t('input') });
    v.send = v.paint(el('button', { type: 'submit', 'data-sb': 'send', 'aria-label': t('send'), title: t('send') },
      el('span', { 'class': 'sbw-arrow' })));
    v.foot = el('form', { 'class': 'sbw-foot' }, [v.input, v.send]);
    document.body.appendChild(el('div', { 'class': 'sbw-panel', 'data-sb': 'panel', role: 'dialog', 'aria-labelledby': 'sbw-title', lang: SB.lang },
      [v.head, v.bars, v.body, v.foot]));

    v.layout = function () {
      v.bars.style.top = v.head.offsetHeight + 'px';
      v.body.style.top = v.head.offsetHeight + v.bars.offsetHeight + 'px';
      v.body.style.bottom = (v.foot.style.display === 'none' ? 0 : v.foot.offsetHeight) + 'px';
    };
    return v;
  };
}(window.SB, document));
