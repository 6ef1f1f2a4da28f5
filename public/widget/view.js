/* Switchboard widget: builds the panel's elements (text only through text nodes) and hands
 * back the ones the app drives. Every element tests need carries its data-sb hook. ES5. */
(function (W) {
  'use strict';
  var CLOSE_ICON = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M6.4 5 12 10.6 17.6 5 ' +
    '19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z"/></svg>';
  var SEND_ICON = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M3 20.5 21 12 3 3.5v6.6' +
    'L15 12 3 13.9z"/></svg>';

  /** el('button', {'data-sb': 'send'}, ['text', child]): attributes set as attributes, strings as text. */
  function el(tag, attrs, kids) {
    var node = document.createElement(tag);
    for (var name in attrs) {
      if (attrs.hasOwnProperty(name) && attrs[name] != null) {
        if (name === 'class') { node.className = attrs[name]; } else { node.setAttribute(name, attrs[name]); }
      }
    }
    kids = kids == null ? [] : [].concat(kids);
    for (var i = 0; i < kids.length; i++) {
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
  function field(hook, label, tag, attrs) {
    var id = 'sbw-' + hook;
    attrs.id = id;
    attrs['data-sb'] = hook;
    return [el('label', { 'for': id }, label), el(tag, attrs)];
  }

  W.parts.view = function () {
    var t = W.t, v = { el: el, button: button };
    var color = { style: 'background:' + W.color };

    v.status = el('div', { 'class': 'sbw-status', 'data-sb': 'chat-status', 'aria-live': 'polite' });
    v.end = button('end-chat', t('end'));
    v.minimize = button('minimize', null, { 'aria-label': t('minimize'), title: t('minimize') });
    v.minimize.innerHTML = CLOSE_ICON;
    var head = el('div', { 'class': 'sbw-head' }, [
      el('div', { 'class': 'sbw-titles' }, [el('div', { 'class': 'sbw-title', id: 'sbw-title' }, t('title')), v.status]),
      v.end, v.minimize
    ]);
    head.style.background = W.color;

    v.connection = el('div', { 'class': 'sbw-bar sbw-conn', 'data-sb': 'connection', role: 'status' }, t('connection'));
    v.annText = el('span');
    v.annClose = button('announcement-dismiss', null, { 'aria-label': t('dismiss') });
    v.annClose.innerHTML = CLOSE_ICON;
    v.announcement = el('div', { 'class': 'sbw-bar sbw-ann', 'data-sb': 'announcement', role: 'status' },
      [el('strong', { 'class': 'sbw-sr' }, t('announce')), v.annText, v.annClose]);
    v.announcement.style.display = 'none';

    // Choosing an agent.
    v.any = button('agent-any', t('any'), { 'class': 'sbw-pick' });
    v.agents = el('ul', { 'data-sb': 'agent-list', 'aria-label': t('agents') });
    v.chooseNote = el('p', { 'class': 'sbw-note', role: 'status' });
    v.choose = el('div', null, [el('p', { 'class': 'sbw-lead' }, t('choose')), v.any, v.agents, v.chooseNote]);

    // Nobody online: leave a message.
    v.offName = field('offline-name', t('name'), 'input', { type: 'text', maxlength: '64', autocomplete: 'name', required: 'required' });
    v.offEmail = field('offline-email', t('email'), 'input', { type: 'email', maxlength: '254', autocomplete: 'email', required: 'required' });
    v.offBody = field('offline-body', t('body'), 'textarea', { rows: '4', maxlength: '4000', required: 'required' });
    v.offError = el('p', { 'class': 'sbw-err', role: 'alert' });
    v.offSubmit = el('button', { type: 'submit', 'class': 'sbw-main', 'data-sb': 'offline-submit', style: color.style }, t('offline_send'));
    v.offline = el('form', { 'class': 'sbw-form', 'data-sb': 'offline-form', novalidate: 'novalidate' },
      [el('p', null, t('offline'))].concat(v.offName, v.offEmail, v.offBody, v.offError, v.offSubmit));
    v.offName = v.offName[1]; v.offEmail = v.offEmail[1]; v.offBody = v.offBody[1];
    v.offlineDone = el('p', { 'class': 'sbw-done', 'data-sb': 'offline-done', role: 'status' }, t('offline_done'));

    // The chat.
    v.queue = el('div', { 'class': 'sbw-queue', 'data-sb': 'queue-position', role: 'status' });
    v.log = el('ul', { 'class': 'sbw-log', 'data-sb': 'messages', role: 'log', 'aria-live': 'polite', 'aria-label': t('messages') });
    v.typing = el('div', { 'class': 'sbw-typing', 'data-sb': 'typing', 'aria-live': 'polite' });

    // After the chat.
    v.stars = [];
    var stars = el('div', { 'class': 'sbw-stars', role: 'group', 'aria-label': t('rate') });
    for (var n = 1; n <= 5; n++) {
      v.stars.push(stars.appendChild(button('rating-star', '\u2605', { 'data-score': String(n), 'aria-label': t('stars', { n: n }), 'aria-pressed': 'false' })));
    }
    v.comment = field('rating-comment', t('comment'), 'textarea', { rows: '2', maxlength: '1000' });
    v.rateError = el('p', { 'class': 'sbw-err', role: 'alert' });
    v.rateSubmit = el('button', { type: 'submit', 'class': 'sbw-main', 'data-sb': 'rating-submit', style: color.style }, t('rate_send'));
    v.rating = el('form', { 'class': 'sbw-form', 'data-sb': 'rating' },
      [el('p', { 'class': 'sbw-lead' }, t('rate')), stars].concat(v.comment, v.rateError, v.rateSubmit));
    v.comment = v.comment[1];
    v.thanks = el('p', { 'class': 'sbw-done', 'data-sb': 'rating-thanks', role: 'status' }, t('thanks'));
    v.again = button('new-chat', t('again'), { 'class': 'sbw-ghost' });

    v.body = el('div', { 'class': 'sbw-body' }, [v.choose, v.offline, v.offlineDone, v.queue, v.log, v.typing,
      v.rating, v.thanks, v.again]);

    v.input = el('textarea', { 'data-sb': 'input', rows: '1', maxlength: '4000', 'aria-label': t('input'), placeholder: t('input') });
    v.send = el('button', { type: 'submit', 'data-sb': 'send', 'aria-label': t('send'), title: t('send'), style: color.style });
    v.send.innerHTML = SEND_ICON;
    v.foot = el('form', { 'class': 'sbw-foot' }, [v.input, v.send]);

    v.panel = el('div', { 'class': 'sbw-panel', 'data-sb': 'panel', id: 'sbw-panel', role: 'dialog', 'aria-labelledby': 'sbw-title' },
      [head, v.connection, v.announcement, v.body, v.foot]);
    v.panel.style.display = 'none';
    W.root.appendChild(v.panel);
    W.root.setAttribute('lang', t.lang);
    W.launcher.setAttribute('aria-controls', 'sbw-panel');
    W.launcher.setAttribute('aria-label', t('open'));
    return v;
  };
  W.boot();
}(window.SwitchboardWidget));
