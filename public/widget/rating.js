/*
 * Switchboard widget frame, lazy module: rating a chat once it has ended (1–5 stars and a
 * comment), and asking for its transcript by email. Loaded the first time a served chat ends
 * (app.js); its strings are in lang-*.js. ES3.
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
    var mail = v.field('transcript-email', t('transcript_email'), 'input', { type: 'email', maxlength: '254', autocomplete: 'email' });
    var mailError = el('p', { 'class': 'sbw-err', role: 'alert' });
    var mailSubmit = v.paint(el('button', { type: 'submit', 'class': 'sbw-main', 'data-sb': 'transcript-submit' }, t('transcript_send')));
    var mailForm = el('form', { 'class': 'sbw-form', 'data-sb': 'transcript', novalidate: 'novalidate' }, mail.concat(mailError, mailSubmit));
    var mailed = el('p', { 'class': 'sbw-done', 'data-sb': 'transcript-done', role: 'status' }, t('transcript_done'));
    var sent = false;
    comment = comment[1]; mail = mail[1];
    v.rating.appendChild(form);
    v.rating.appendChild(thanks);
    v.rating.appendChild(mailForm);
    v.rating.appendChild(mailed);
    v.show(mailed, false);

    mailForm.onsubmit = function (e) {
      SB.stop(e);
      var chat = ctx.chat();
      if (!chat) { return false; }
      mailSubmit.disabled = true;
      ctx.L.request('POST', 'api/chats/' + encodeURIComponent(chat.id) + '/transcript/email', { email: mail.value, lang: SB.lang }, function (status, data) {
        mailSubmit.disabled = false;
        sent = status === 202;
        v.text(mailError, sent ? '' : ctx.errorText(data));
        v.show(mailForm, !sent); v.show(mailed, sent);
      });
      return false;
    };

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
      update: function (showForm, showThanks) {
        v.show(form, showForm); v.show(thanks, showThanks);
        v.show(mailForm, (showForm || showThanks) && !sent); v.show(mailed, (showForm || showThanks) && sent);
      },
      /** A new chat: no score, no comment, no error, no transcript asked for. */
      reset: function () { pick(0)(); comment.value = ''; v.text(error, ''); sent = false; mail.value = ''; v.text(mailError, ''); },
      focusTarget: function () { return form.style.display === 'none' ? null : stars[0]; }
    };
  };
}(window.SB));
