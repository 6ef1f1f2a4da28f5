/*
 * Switchboard widget frame, lazy module: the site's pre-chat form, asked before the first message
 * when the page names a site (SB.site) whose admins set one: the look site.js read (SB.prechat),
 * else read here (GET api/sites/{site}/widget).
 * Checks required fields and formats here, as the server does again, then starts the chat with the
 * answers (app.js ctx.start). Labels, options and errors are text nodes only. ES3.
 */
(function (SB) {
  var PHONE = /^[0-9 +\-()]{5,32}$/, EMAIL = /^[^\s@]+@[^\s@]+$/;
  var MAX = { name: 64, email: 254, phone: 32, text: 1000, choice: 100 };

  function trim(s) { return String(s == null ? '' : s).replace(/^\s+|\s+$/g, ''); }

  SB.mods.prechat = function (ctx) {
    function shown() { ctx.render(); try { inputs[0].input.focus(); } catch (e) {} }
    var v = ctx.v, t = SB.t, el = v.el, fields = null, inputs = [], agentId = null;
    var error = el('p', { 'class': 'sbw-err', role: 'alert', 'data-sb': 'prechat-error' });
    var submit = v.paint(el('button', { type: 'submit', 'class': 'sbw-main', 'data-sb': 'prechat-submit' }, t('pc_start')));
    var back = v.button('prechat-back', t('pc_back'), { 'class': 'sbw-ghost' });
    var list = el('div');
    var form = el('form', { 'class': 'sbw-form', 'data-sb': 'prechat-form', novalidate: 'novalidate' },
      [el('p', null, t('pc_intro')), list, error, submit, back]);
    v.body.insertBefore(form, v.choose);
    v.show(form, false);

    /** The fields a visitor is asked: a verified one (SB.verified) is not asked name and email. */
    function asked(all) {
      var out = [], i;
      for (i = 0; i < all.length; i++) {
        if (!(SB.verified && (all[i].type === 'name' || all[i].type === 'email'))) { out.push(all[i]); }
      }
      return out;
    }
    function build() {
      var i, f, hook, box, input, j;
      while (list.firstChild) { list.removeChild(list.firstChild); }
      inputs = [];
      for (i = 0; i < fields.length; i++) {
        f = fields[i];
        hook = 'prechat-' + f.name;
        if (f.type === 'choice') {
          input = el('select', { id: 'sbw-' + hook, 'data-sb': hook });
          input.options[0] = new Option(t('pc_choose'), '');
          for (j = 0; j < f.options.length; j++) { input.options[j + 1] = new Option(f.options[j], f.options[j]); }
        } else {
          input = el(f.type === 'text' ? 'textarea' : 'input', {
            id: 'sbw-' + hook, 'data-sb': hook, maxlength: String(MAX[f.type]), rows: f.type === 'text' ? '3' : null,
            type: f.type === 'text' ? null : f.type === 'email' ? 'email' : f.type === 'phone' ? 'tel' : 'text',
            autocomplete: f.type === 'name' ? 'name' : f.type === 'email' ? 'email' : f.type === 'phone' ? 'tel' : null
          });
        }
        if (f.required) { input.setAttribute('aria-required', 'true'); }
        box = el('p', { 'class': 'sbw-err', role: 'alert', 'data-sb': hook + '-error' });
        list.appendChild(el('label', { 'for': 'sbw-' + hook }, f.required ? f.label : t('pc_optional', { label: f.label })));
        list.appendChild(input);
        list.appendChild(box);
        inputs.push({ f: f, input: input, box: box });
      }
    }
    function value(input) {
      return input.tagName.toLowerCase() === 'select' ? (input.selectedIndex > 0 ? input.options[input.selectedIndex].value : '') : input.value;
    }
    /** The reason `s` does not fit field `f`, or ''. */
    function problem(f, s) {
      var digits = s.replace(/[^0-9]/g, '').length;
      if (!s) { return f.required ? t('pc_required', { label: f.label }) : ''; }
      if (s.length > MAX[f.type]) { return t('pc_long', { label: f.label, n: MAX[f.type] }); }
      if (f.type === 'email' && (!EMAIL.test(s))) { return t('pc_email', { label: f.label }); }
      if (f.type === 'phone' && (!PHONE.test(s) || digits < 5)) { return t('pc_phone', { label: f.label }); }
      if (f.type !== 'text' && /[\n\r]/.test(s)) { return t('pc_long', { label: f.label, n: MAX[f.type] }); }
      return '';
    }
    function check() {
      var answers = {}, first = null, i, s, why;
      for (i = 0; i < inputs.length; i++) {
        s = trim(value(inputs[i].input));
        why = problem(inputs[i].f, s);
        v.text(inputs[i].box, why);
        if (why && !first) { first = inputs[i].input; }
        if (s) { answers[inputs[i].f.name] = s; }
      }
      if (first) { try { first.focus(); } catch (e) {} return null; }
      return answers;
    }

    form.onsubmit = function (e) {
      SB.stop(e);
      var answers = check();
      v.text(error, '');
      if (answers) { submit.disabled = true; ctx.start(agentId, answers); }
      return false;
    };
    back.onclick = function () { ctx.back(); ctx.render(); };

    return {
      /** Asks the form before a chat with `id` (null: any agent); no form: starts at once. */
      ask: function (id) {
        agentId = id;
        if (fields) { if (fields.length) { submit.disabled = false; shown(); } else { ctx.start(id, {}); } return; }
        function got(list) {
          fields = asked(list);
          build();
          if (fields.length) { shown(); } else { ctx.start(id, {}); }
        }
        if (SB.prechat) { got(SB.prechat); return; }
        ctx.L.request('GET', 'api/sites/' + encodeURIComponent(SB.site) + '/widget', null, function (status, data) {
          if (status === 200 && data && data.prechat_form) { got(data.prechat_form); return; }
          ctx.start(id, {}); // no form (or it could not be read: the server's answer says what is missing)
        });
      },
      /** A refused start: true (and says why next to the form) when the answers were at fault. */
      fail: function (data) {
        submit.disabled = false;
        var e = data && data.error, ours = !!e && e.field === 'prechat';
        if (ours) { v.text(error, e.message); }
        return ours;
      },
      update: function (on) { v.show(form, on && !!fields && fields.length > 0); },
      focusTarget: function () { return inputs.length ? inputs[0].input : null; }
    };
  };
}(window.SB));
