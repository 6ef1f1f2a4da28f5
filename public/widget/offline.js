/*
 * Switchboard widget frame, lazy module: the offline form, shown when nobody is online. Loaded
 * the first time it is needed (app.js); its strings are in lang-*.js. ES3.
 */
(function (SB) {
  SB.mods.offline = function (ctx) {
    var v = ctx.v, t = SB.t, el = v.el;
    var name = v.field('offline-name', t('name'), 'input', { type: 'text', maxlength: '64', autocomplete: 'name' });
    var email = v.field('offline-email', t('email'), 'input', { type: 'email', maxlength: '254', autocomplete: 'email' });
    var body = v.field('offline-body', t('body'), 'textarea', { rows: '4', maxlength: '4000' });
    var error = el('p', { 'class': 'sbw-err', role: 'alert' });
    var submit = v.paint(el('button', { type: 'submit', 'class': 'sbw-main', 'data-sb': 'offline-submit' }, t('offline_send')));
    var form = el('form', { 'class': 'sbw-form', 'data-sb': 'offline-form', novalidate: 'novalidate' },
      [el('p', null, t('offline'))].concat(name, email, body, error, submit));
    var done = el('p', { 'class': 'sbw-done', 'data-sb': 'offline-done', role: 'status' }, t('offline_done'));
    name = name[1]; email = email[1]; body = body[1];
    v.offline.appendChild(form);
    v.offline.appendChild(done);

    form.onsubmit = function (e) {
      SB.stop(e);
      submit.disabled = true;
      ctx.L.request('POST', 'api/offline-messages', { name: name.value, email: email.value, body: body.value, lang: SB.lang }, function (status, data) {
        submit.disabled = false;
        if (status === 201) { ctx.offlineSent(); v.text(error, ''); body.value = ''; } else { v.text(error, ctx.errorText(data)); }
        ctx.render();
      });
      return false;
    };
    return {
      /** Shows the form, or the thanks once it was sent. */
      update: function (showForm, showDone) { v.show(form, showForm); v.show(done, showDone); },
      focusTarget: function () { return form.style.display === 'none' ? null : name; }
    };
  };
}(window.SB));
