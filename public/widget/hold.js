/* The poll hold the path to the server lets through (docs/frontend.md, "Holds"): widget frame and
 * agent console, ES3. A poll cut while held asks again at once for less; longer is retried slowly. */
(function (window) {
  var STEPS = [25, 15, 8, 4], CUT_AFTER_MS = 2500; // sooner than this is a refusal, not a cut

  window.SwitchboardHold = function (saved, keep) {
    var level = 0, good = 0, patience = 4, probing = false, m = /^(\d)\.(\d+)$/.exec(saved || '');
    if (m) { level = Math.min(+m[1], 3); patience = Math.min(Math.max(+m[2], 4), 64); }
    function state() { return level + '.' + patience; }
    return {
      secs: function () { return STEPS[level]; },
      /** `ranOut`: answered with nothing at the end of the hold. */
      answered: function (heldMs, ranOut) {
        if (!ranOut || heldMs < STEPS[level] * 1000 - 1500) { return; }
        probing = false;
        if (level && ++good >= patience) {
          good = 0;
          level--;
          probing = true;
          if (keep) { keep(state()); }
        }
      },
      /** No answer from the server: 'cut' (ask again now, for less) or 'down'. */
      failed: function (heldMs) {
        if (heldMs < CUT_AFTER_MS || heldMs >= STEPS[level] * 1000) { return 'down'; }
        good = 0;
        if (probing) { patience = Math.min(patience * 2, 64); }
        probing = false;
        level = Math.min(level + 1, 3);
        if (keep) { keep(state()); }
        return 'cut';
      },
      state: state
    };
  };
}(window));
