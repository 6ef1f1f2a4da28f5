/*
 * Switchboard widget frame, lazy module: rating a chat once it has ended (1–5 stars and a
 * comment). Loaded the first time a served chat ends (app.js); its strings are in lang-*.js. ES3.
 */
(function (SB) {
  SB.mods.rating = function (ctx) {
    var v = ctx.v, t = SB.t, el = v.el, score = 0, stars = [], n;
    var row = el('div', { 'class': 'sbw-stars', role: 'group', 'aria-label': t('rate') });
    for (n = 1; n <= 5; n++) {
      stars.push(row.appendChild(v.button('rating-star', '\u2605', { 'data-score': String(n), 'aria-label': t('stars', { n: n }), 'aria-pressed': 'false' })));
      stars[n - 1].onclick = pick(n);
    }
    var comment = v.field('rating-comment', t('comment'), 'textarea', { rows: '2', maxlength: '1000' });
    var error = el('p', { 'class': 'sbw-err', role: 'alert' });
    var submit = v.paint(el('button', { type: 'submit', 'class': 'sbw-main', 'data-sb': 'rating-submit' }, t('rate_send')));
    var form = el('form', { 'class': 'sbw-form', 'data-sb': 'rating' },
      [el('p', { 'class': 'sbw-lead' }, t('rate')), row].concat(comment, error, submit));
    var thanks = el('p', { 'class': 'sbw-done', 'data-sb': 'rating-thanks', role: 'status' }, t('thanks'));
    comment = comment[1];
    v.rating.appendChild(form);
    v.rating.appendChild(thanks);

    function pick(value) {
      return function () {
        score = value;
        for (var i = 0; i < stars.length; i++) {
          stars[i].className = i < value ? 'sbw-on' : '';
          stars[i].setAttribute('aria-pressed', i === value - 1 ? 'true' : 'false');
        }
      };
    }
    form.onsubmit = function (e) {
      SB.stop(e);
      var chat = ctx.chat(), body = { score: score };
      if (!chat) { return false; }
      if (!score) { v.text(error, t('pick')); return false; }
      if (/\S/.test(comment.value)) { body.comment = comment.value; }
      submit.disabled = true;
      ctx.L.request('POST', 'api/chats/' + encodeURIComponent(chat.id) + '/rating', body, function (status, data) {
        var code = data && data.error && data.error.code;
        submit.disabled = false;
        if (status === 201 || code === 'already_rated') { ctx.rated(chat.id); } else if (code === 'chat_not_rateable') { ctx.rated(chat.id, true); } else { v.text(error, ctx.errorText(data)); }
        ctx.render();
        if (form.style.display === 'none') { v.again.focus(); }
      });
      return false;
    };
    return {
      /** Shows the form, or the thanks once rated. */
      update: function (showForm, showThanks) { v.show(form, showForm); v.show(thanks, showThanks); },
      /** A new chat: no score, no comment, no error. */
      reset: function () { pick(0)(); comment.value = ''; v.text(error, ''); },
      focusTarget: function () { return form.style.display === 'none' ? null : stars[0]; }
    };
  };
}(window.SB));
