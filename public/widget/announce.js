/* Widget frame, lazy module (loaded with the first announcement): an admin's announcement as a
 * bar under the head, until dismissed. ES3. */
(function (SB) {
  SB.mods.announce = function (ctx) {
    var v = ctx.v, t = SB.t, words = v.el('span');
    var close = v.button('announcement-dismiss', '\u00d7', { 'aria-label': t('dismiss'), 'class': 'sbw-icon' });
    var bar = v.el('div', { 'class': 'sbw-bar sbw-ann', 'data-sb': 'announcement', role: 'status' },
      [close, v.el('strong', { 'class': 'sbw-sr' }, t('announce')), words]);
    v.bars.appendChild(bar);
    close.onclick = function () { v.show(bar, false); v.layout(); };
    return {
      show: function (body) {
        v.text(words, body);
        v.show(bar, true);
        v.layout();
      }
    };
  };
}(window.SB));
