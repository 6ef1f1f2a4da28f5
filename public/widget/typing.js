/* Widget frame, lazy module (loaded once a chat is live): "… is typing" from the agent, and the
 * visitor's own typing told to the agent (at most every 4 s; stopped after 3 s idle). ES3. */
(function (SB) {
  SB.mods.typing = function (ctx) {
    var v = ctx.v, shown = v.el('div', { 'class': 'sbw-typing', 'data-sb': 'typing', 'aria-live': 'polite' });
    var hideTimer = null, stopTimer = null, on = false, sentAt = 0;
    v.after.appendChild(shown);
    v.show(shown, false);
    function now() { return new Date().getTime(); }
    function hide() { clearTimeout(hideTimer); v.show(shown, false); }
    function tell(typing) { if (ctx.chat()) { ctx.post('typing', { typing: typing }); } }
    function stop() {
      clearTimeout(stopTimer);
      if (on) { on = false; tell(false); }
    }
    return {
      hide: hide,
      /** The visitor typed (or cleared) the input. */
      typed: function () {
        if (!ctx.live()) { return; }
        if (!/\S/.test(v.input.value)) { stop(); return; }
        if (!on || now() - sentAt > 4000) { on = true; sentAt = now(); tell(true); }
        clearTimeout(stopTimer);
        stopTimer = setTimeout(stop, 3000);
      },
      /** The chat ended or the visitor left it. */
      stop: function () { hide(); stop(); },
      /** A notice outside the seq space: the agent's typing. */
      notice: function (ev) {
        var chat = ctx.chat();
        if (!chat || ev.chat_id !== chat.id || ev.from !== 'agent' || ev.type !== 'typing') { return; }
        if (!ev.typing || chat.status === 'closed') { hide(); return; }
        v.text(shown, SB.t('typing', { name: ctx.agentName() }));
        v.show(shown, true);
        clearTimeout(hideTimer);
        hideTimer = setTimeout(hide, 6000); // its typing:false may be lost
        ctx.scrollDown();
      }
    };
  };
}(window.SB));
