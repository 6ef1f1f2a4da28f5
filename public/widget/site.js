/* Widget frame, lazy module (loaded before the panel is drawn, only when the script tag names a
 * site with data-site): the site's look from api/sites/{site}/widget — its colour over the tag's,
 * its greeting (shown as text atop an empty chat), its language when the tag has no data-lang.
 * Without an answer the widget starts as the tag says. ES3. */
(function (SB) {
  SB.mods.site = function (L, q, done) {
    L.request('GET', 'api/sites/' + SB.site + '/widget', null, function (status, look) {
      if (status === 200 && look) {
        if (/^#[0-9a-f]{6}$/i.test(look.color || '')) { SB.color = look.color; }
        if (typeof look.greeting === 'string') { SB.greeting = look.greeting; }
        if (q.langset !== '1' && /^(en|zh|ko)$/.test(look.default_lang || '')) { q.lang = look.default_lang; }
        if (look.prechat_form) { SB.prechat = look.prechat_form; } // prechat.js asks it
      }
      done();
    }, 5000);
  };
}(window.SB));
