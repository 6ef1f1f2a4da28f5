// The widget runs on IE8+ and Android 4+: static checks of public/widget.js (the loader on the
// customer's page) and public/widget/ (the chat UI in the iframe /widget/frame.html). Browser
// list: public/widget/.browserslistrc, the one list, read here and handed to every tool. Each
// check has a self-test that feeds it known-bad input, so a tool that silently stopped working
// fails too. The checks themselves live in static_checks.js and take files or folders.
//
// 1. SYNTAX — acorn, ecmaVersion 3, sourceType script, allowReserved 'never'.
//    Plain ecmaVersion 3 refuses ES5+ syntax (let/const, arrows, classes, template strings,
//    default/rest/spread, destructuring, for-of, getters and setters in literals `({get x(){}})`)
//    and a trailing comma in an OBJECT literal `{a:1,}`, but it ACCEPTS reserved words as
//    property names (`a.class`, `a.default`, `{default: 1}`, `p.catch(f)`), which IE8's parser
//    refuses ("Expected identifier"): allowReserved 'never' refuses them, and also the ES3
//    future reserved words as names (`var int`, `a.static`, `var goto`). Write `a['class']`,
//    `{'default': 1}`. Added here: a second parse at ecmaVersion 5, for the strict-mode errors
//    a modern browser enforces in 'use strict' code (`with`, octal literals...), which ES3 mode
//    does not check; and a trailing comma before `]` (`[1,2,]` is valid ES3, but IE8 counts a
//    third, undefined element). Not seen: anything at run time (JScript's named-function-
//    expression leak, `'abc'[0]` in quirks mode). It also refuses regexp syntax newer than
//    ES3 (flags s/u/y, named groups, lookbehind).
//
// 2. APIs — ESLint (Node API, flat config given in full: overrideConfigFile true, so no config
//    file is looked for) with eslint-plugin-compat over the same files, plus ESLint's own
//    no-restricted-properties / no-restricted-globals for what compat cannot see. Probes for
//    this list:
//      compat/compat finds: fetch (also window.fetch), new Promise / Promise.resolve,
//        requestAnimationFrame, document.querySelector/querySelectorAll, document.hidden,
//        document.visibilityState, document.currentScript, document.createEvent,
//        document.getElementsByClassName, Object.keys/create/defineProperty, Array.isArray,
//        Date.now, new Date().toISOString, [].forEach / [].map / [].indexOf and 'a'.trim (only on
//        a literal), btoa/atob, new URL/Map/Set/WeakMap/WebSocket/EventSource/FormData/Blob/
//        CustomEvent/MutationObserver, Symbol, history.pushState, performance.now,
//        navigator.sendBeacon, navigator.language. One false positive, document.readyState
//        ("not in IE 8"; IE8 has it): it is declared in settings.polyfills, so it passes.
//      compat/compat misses: anything on a receiver it cannot name — window.addEventListener,
//        document.addEventListener, el.addEventListener, el.textContent, el.classList,
//        el.dataset, a.forEach (unknown array), Array.prototype.forEach.call, s.trim, f.bind,
//        getComputedStyle (bare or window.), window.matchMedia, e.preventDefault, e.target,
//        el.closest/matches/remove/append, console.log; xhr.withCredentials; postMessage with
//        an object (IE8 sends strings only); regexp flags (check 1 has those).
//        Rightly silent (IE8 has them): JSON.parse/stringify, XMLHttpRequest, XDomainRequest,
//        localStorage, sessionStorage, window/parent.postMessage, el.querySelector,
//        getBoundingClientRect, insertAdjacentHTML, attachEvent, encodeURIComponent.
//      Also: a finding is dropped when the file anywhere declares a var, function or object key
//        of the reported name (`{fetch: f}` hides every `fetch(...)`, `{document: 1}` hides
//        document.querySelector) — keep such names out of the widget.
//      So no-restricted-properties flags on ANY object: addEventListener, removeEventListener,
//        dispatchEvent, preventDefault, stopPropagation, textContent, classList, dataset,
//        getElementsByClassName, getComputedStyle, matchMedia, first/lastElementChild,
//        next/previousElementSibling, childElementCount, forEach, map, some, every, reduce,
//        reduceRight, trim, bind (the list: IE8_MISSING_PROPERTIES in static_checks.js); and
//        no-restricted-globals: bare addEventListener, removeEventListener, dispatchEvent,
//        getComputedStyle, matchMedia, and console (IE8 has it only while the F12 tools are
//        open). Still missed: indexOf/lastIndexOf on an unknown array (strings have them),
//        filter (el.style.filter is IE8's opacity), e.target (vs srcElement).
//
//    GUARDED FEATURE TESTS. eslint-plugin-compat's own "guard" support is only this: any use
//    with an `if` statement ANYWHERE among its ancestors is skipped — `if (open) { fetch(u) }` and
//    the else branch too — while `c ? fetch(u) : x` and `a && fetch(u)` are still reported. That
//    would hide most of the widget, so it is switched off (ignoreConditionalChecks) and every
//    use is checked. THE RULE FOR A USE THAT IS FEATURE-TESTED WITH A FALLBACK:
//      - the use, and a test that reads the member (`if (el.addEventListener)`,
//        `if (window.fetch)`), are findings like any other. Mark the line with a disable on
//        the line before it (or `// eslint-disable-line ...` at its end), naming the rule(s) of
//        the finding and saying what guards the use and what IE8 & co. run instead:
//          // eslint-disable-next-line no-restricted-properties -- tested here; IE8: attachEvent
//          if (el.addEventListener) { el.addEventListener(t, fn, false); } else { el.attachEvent('on' + t, fn); }
//        One comment covers every finding of the rules it names on that one line, so a test,
//        its use and the fallback written on one line take one comment. A test written
//        `'addEventListener' in el` or `typeof fetch == 'function'` is not a finding itself.
//        The tools do not check that the guard is there: the reason is for the reviewer;
//      - keep such uses in a few small helpers (one `on(el, type, fn)`), not spread around;
//      - nothing else is allowed: a disable without a `-- reason`, a file- or block-wide
//        `/* eslint-disable */`, `/* eslint rule: off */` or `/* global */` is a finding, and
//        so is a disable that no longer suppresses anything (reportUnusedDisableDirectives).
//
// 3. CSS — doiuse (a postcss plugin) with the same list over public/widget/*.css and over the
//    loader's launcher CSS (`var CSS = '...' + '...'` in public/widget.js, folded by acorn).
//    doiuse flags what caniuse says is missing OR partial for some listed browser: e.g.
//    border-radius, box-shadow, rgba()/hsl(), #rrggbbaa, opacity (IE8 partial), position:fixed
//    (Opera Mini; iOS 6-7 partial), vh/vw, rem, currentColor (so `fill: currentColor`), outline
//    (partial in every IE), -webkit-appearance, text-shadow, transitions, animations,
//    transforms, gradients, background-size, pointer-events, user-select, CSS variables,
//    grid, position:sticky, @media (IE8), @supports, @font-face, :not/:last-child/~/:disabled/
//    [^=] (css-sel3, IE8 partial), ::before (IE8 partial), svg backgrounds, object-fit,
//    logical properties, system-ui, word-wrap, resize, text-indent, letter-spacing (partial).
//    It matches by property name, so it also reports a newer form's "partial" on the CSS1/2
//    form: `overflow: hidden` (caniuse's partial is for two values and `clip`) and
//    `text-decoration: none` (MDN's "no IE" is for the several-value shorthand). These single-
//    keyword uses are dropped (NOT_THE_FEATURE in static_checks.js); `overflow: clip` and
//    `text-decoration: underline dotted` are still findings. Misses: outline-offset (no IE has
//    it), old flexbox (-webkit-box, -webkit-flex: 1, order, align-items alone, row-gap — the
//    flexbox ban below catches those), prefixed -webkit-border-radius, CSS built in JS
//    anywhere but the loader's `var CSS`.
//    doiuse's own comments: `/* doiuse-disable feature[,feature] */` switches a feature off
//    from there TO THE END OF THE FILE, even when written inside one rule (`/* doiuse-enable */`
//    back on); `/* doiuse-disable */` switches everything off, flexbox too; the `ignore` option
//    drops a feature everywhere. None of that keeps the reason at the use, so doiuse is shown
//    those comments neutralised and THE RULE FOR CSS FALLBACKS here is:
//      - a feature not fully supported (missing OR partial) in some listed browser is used
//        only under a comment that names it (the id in the finding's parentheses) and says
//        what the others get:
//          /* doiuse-disable border-radius, css-boxshadow -- square and flat in IE8 */
//        (`: reason` works as well as `-- reason`). Inside a declaration block it covers the
//        rest of that block; between rules, the one next rule or @-rule, all of it. So mark
//        each rule where the feature is used: the reason sits next to the use;
//      - a disable without a reason, a bare doiuse-disable, doiuse-enable, or a disable that
//        covers nothing (typo, misplaced, leftover) is a finding;
//      - flexbox (display:flex/-webkit-box/..., any flex-* or align-/justify-/order/gap
//        property) and calc() are never allowed, whatever a comment says.
//    In widget.js the comment may sit inside a string of CSS, or be a JS comment between the
//    string literals: that is folded in as a CSS comment where it stands, and costs the
//    launcher's stylesheet nothing.
//
// 4. THE IFRAME PAGE — public/widget/frame.html starts with `<!DOCTYPE html>` (else IE8 is in
//    quirks mode: no JSON, no localStorage) and has no inline code or style for the page's
//    strict CSP: every <script> has src= and no content, no on*= handlers, no javascript:
//    URLs, no style= attributes, no <style> element. Tags inside comments count (IE runs
//    conditional comments).
//
// 5. SIZES — gzip level 9 against BUDGETS below; every *.js, *.css, *.html in public/widget/
//    must be named in exactly one group, and every named file must exist (its own test).
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const checks = require('./static_checks');

/** The size budgets, gzipped at level 9, in bytes. Every file in public/widget/ is named here
 * once: the loader alone on the customer's page, the core the iframe loads at once (one budget
 * for all of it), and the modules loaded later (each its own budget). */
const BUDGETS = {
  // +64 B (from 3072) and +640 B (from 16384) for verified identity: data-identity and
  // identify() in the loader; the identity a stored visitor was made for, and the sign-in state,
  // in the frame — needed before the first message, so not lazy. +128 B more (to 17152) for the
  // hooks that load the site's look (site.js) and the pre-chat form (prechat.js), and the
  // greeting's place in the panel: each module itself is lazy and budgeted below.
  loader: { 'widget.js': 3136 }, // public/widget.js
  core: {
    files: ['frame.html', 'frame.css', 'hold.js', 'bridge.js', 'link.js', 'view.js', 'app.js'],
    total: 17152,
  },
  // The visitor's language comes before the panel is drawn (one of the three); the rest when first used.
  lazy: {
    'lang-en.js': 2048, 'lang-zh.js': 2048, 'lang-ko.js': 2048,
    'offline.js': 2048, 'rating.js': 2048, 'typing.js': 1536, 'announce.js': 1024, 'earlier.js': 1536,
    'prechat.js': 2560,
    // The site's look (data-site only): fetched before the panel is drawn.
    'site.js': 1024,
  },
};

const REPO = path.resolve(__dirname, '..', '..');
const PUBLIC = path.join(REPO, 'public');
const LOADER = path.join(PUBLIC, 'widget.js');
const WIDGET = path.join(PUBLIC, 'widget');
const BROWSERSLISTRC = path.join(WIDGET, '.browserslistrc');

const inDir = (dir, ext) => (fs.existsSync(dir) ? fs.readdirSync(dir) : [])
  .filter((f) => f.endsWith(ext)).sort().map((f) => path.join(dir, f));
const scripts = () => [LOADER, ...inDir(WIDGET, '.js')];
const queries = () => checks.readBrowserQueries(BROWSERSLISTRC);
const rel = (f) => ({ ...f, file: path.relative(REPO, f.file) });

/** Prints the findings under a title and returns them as one message for the assertion. */
function show(title, findings, relative = rel) {
  const lines = findings.map((f) => checks.format(relative(f)));
  console.log(`${title}: ${findings.length ? `${findings.length} finding(s)\n  ${lines.join('\n  ')}` : 'nothing found'}`);
  return `${title}:\n  ${lines.join('\n  ')}`;
}

/** Fixture files in a fresh temp folder: { name: content } -> { path of name }. */
function fixtures(t, files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'widget-static-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const paths = {};
  for (const [name, content] of Object.entries(files)) {
    paths[name] = path.join(dir, name);
    fs.mkdirSync(path.dirname(paths[name]), { recursive: true });
    fs.writeFileSync(paths[name], content);
  }
  return { dir, paths };
}
const fixtureRel = (dir) => (f) => ({ ...f, file: path.relative(dir, f.file) || f.file });

test('the browser list: public/widget/.browserslistrc', () => {
  const list = queries();
  const browsers = checks.resolveBrowsers(list);
  console.log(`browser list: ${list.join(', ')}\n  resolves to ${browsers.length}: ${browsers.join(', ')}`);
  for (const must of ['ie 8', 'android 4', 'ios_saf 6.0-6.1']) assert.ok(browsers.includes(must), `${must} is in the list`);
});

// 1. Syntax ------------------------------------------------------------------------------------

test('self-test: the syntax check refuses what IE8 cannot parse', (t) => {
  const bad = {
    'let.js': 'let a = 1;',
    'arrow.js': '[1, 2].map(x => x);',
    'getter.js': 'var o = ({get x() { return 1; }});',
    'class-prop.js': 'a.class = 1;',
    'default-key.js': 'var o = {default: 1};',
    'catch-prop.js': 'p.then(f).catch(g);',
    'object-comma.js': 'var o = {a: 1,};',
    'array-comma.js': 'var a = [1, 2,];',
    'future-word.js': 'var int = 1;',
    'strict-with.js': '"use strict"; with (a) { b(); }',
  };
  const good = { 'es3.js': "var o = {'class': 1}; o['default'] = [1, 2]; a['catch'](f); var s = 'x'.charAt(0);" };
  const { dir, paths } = fixtures(t, { ...bad, ...good });
  const findings = checks.syntaxFindings(Object.values(paths));
  show('syntax self-test', findings, fixtureRel(dir));
  for (const name of Object.keys(bad)) {
    assert.ok(findings.some((f) => f.file === paths[name]), `${name} (${bad[name]}) is refused`);
  }
  assert.ok(!findings.some((f) => f.file === paths['es3.js']), 'plain ES3 passes');
});

test('syntax: every widget script parses as ES3 (IE8)', () => {
  const files = scripts();
  const findings = checks.syntaxFindings(files);
  const message = show(`syntax of ${files.map((f) => path.relative(PUBLIC, f)).join(', ')}`, findings);
  assert.strictEqual(findings.length, 0, message);
});

// 2. APIs --------------------------------------------------------------------------------------

test('self-test: the API check finds fetch, Promise, addEventListener, and keeps its disable rule', async (t) => {
  const { dir, paths } = fixtures(t, {
    'modern.js': "fetch('/x').then(f);\nvar p = new Promise(f);\nwindow.addEventListener('load', f, false);\n",
    'guarded.js': "// eslint-disable-next-line no-restricted-properties -- tested here; IE8: attachEvent\n"
      + "if (el.addEventListener) { el.addEventListener('click', f, false); } else { el.attachEvent('onclick', f); }\n"
      + "if ('addEventListener' in el) {\n  // eslint-disable-next-line no-restricted-properties -- guarded by 'in'; attachEvent below\n"
      + "  el.addEventListener('click', f, false);\n} else { el.attachEvent('onclick', f); }\n",
    'no-reason.js': "// eslint-disable-next-line compat/compat\nfetch('/x');\n",
    'file-wide.js': "/* eslint-disable */\nfetch('/x');\n",
    'unused.js': "// eslint-disable-next-line compat/compat -- nothing here any more\nvar a = 1;\n",
    'in-if.js': "if (open) { fetch('/x'); }\nvar k = Object.keys(o);\nif (document.readyState === 'complete') { go(); }\n",
    'es3.js': "var x = new XMLHttpRequest(); x.open('GET', '/x', true);\nvar o = JSON.parse(localStorage.getItem('k'));\nparent.postMessage('hi', '*');\n",
  });
  const findings = await checks.apiFindings(Object.values(paths), queries());
  show('API self-test', findings, fixtureRel(dir));
  const at = (name, line, pattern) => findings.some((f) => f.file === paths[name] && f.line === line && pattern.test(f.message));
  assert.ok(at('modern.js', 1, /^fetch .*IE 8.*compat\/compat/), 'fetch(...) is found');
  assert.ok(at('modern.js', 2, /^Promise .*IE 8.*compat\/compat/), 'new Promise(...) is found');
  assert.ok(at('modern.js', 3, /addEventListener.*no-restricted-properties/), 'window.addEventListener(...) is found');
  assert.ok(at('in-if.js', 1, /^fetch /), 'a use inside any if is still checked (ignoreConditionalChecks)');
  assert.ok(at('in-if.js', 2, /^Object\.keys\(\) .*IE 8/), 'ES5 built-ins are checked (lintAllEsApis)');
  assert.ok(!findings.some((f) => f.file === paths['in-if.js'] && f.line === 3), 'document.readyState passes (IE8 has it)');
  assert.ok(!findings.some((f) => f.file === paths['guarded.js']), 'a marked guarded use passes');
  assert.ok(at('no-reason.js', 1, /-- reason/), 'a disable without a reason is refused');
  assert.ok(at('file-wide.js', 1, /-- reason/), 'a file-wide eslint-disable is refused');
  assert.ok(at('unused.js', 1, /Unused eslint-disable/), 'a disable that suppresses nothing is refused');
  assert.ok(!findings.some((f) => f.file === paths['es3.js']), 'what IE8 has passes');
});

test('APIs: no widget script uses what a listed browser lacks (eslint-plugin-compat)', async () => {
  const findings = await checks.apiFindings(scripts(), queries());
  const message = show('APIs', findings);
  assert.strictEqual(findings.length, 0, message);
});

// 3. CSS ---------------------------------------------------------------------------------------

test('self-test: the CSS check refuses flexbox and calc, and border-radius unless disabled right there', async (t) => {
  const css = {
    'flex.css': 'a{display:flex}',
    'flex-disabled.css': 'a{/* doiuse-disable flexbox -- no */display:flex}',
    'old-flex.css': 'a{display:-webkit-box;-webkit-box-flex:1}',
    'calc.css': 'a{width:calc(100% - 1px)}',
    'calc-disabled.css': 'a{/* doiuse-disable calc -- no */width:calc(100% - 1px)}',
    'radius.css': 'a{border-radius:4px}',
    'radius-disabled.css': 'a{/* doiuse-disable border-radius -- IE8 and Opera Mini get square corners */border-radius:4px}',
    'radius-rule.css': '/* doiuse-disable border-radius -- square corners in IE8 */\na{border-radius:4px}\nb{border-radius:2px}',
    'radius-block.css': 'a{color:#123;\n/* doiuse-disable border-radius: square in IE8 */\nborder-radius:4px;\nborder-top-left-radius:2px}\nb{border-radius:2px}',
    'no-reason.css': 'a{/* doiuse-disable border-radius */border-radius:4px}',
    'unused.css': 'a{/* doiuse-disable border-radius -- leftover */color:#123}',
    'plain.css': 'a{color:#123;background:#fff;border:1px solid #ccc;position:absolute;display:inline-block;'
      + 'overflow:hidden;overflow-y:auto;text-decoration:none}',
    'new-forms.css': 'a{overflow:clip}\nb{text-decoration:underline dotted red}',
  };
  const loader = {
    'widget.js': "var CSS = '#sb .l{color:#fff;' +\n  /* doiuse-disable border-radius -- square in IE8 */\n  'border-radius:50%}' +\n  '#sb .b{display:flex}';\n",
    'no-css.js': 'var STYLE = "a{}";\n',
    'not-literal.js': "var CSS = 'a{color:' + color + '}';\n",
  };
  const { dir, paths } = fixtures(t, { ...css, ...loader });
  const findings = await checks.cssFileFindings(Object.keys(css).map((n) => paths[n]), queries());
  for (const name of Object.keys(loader)) findings.push(...await checks.loaderCssFindings(paths[name], queries()));
  show('CSS self-test', findings, fixtureRel(dir));
  const of = (name) => findings.filter((f) => f.file.startsWith(paths[name]));
  for (const name of ['flex.css', 'flex-disabled.css', 'old-flex.css']) assert.ok(of(name).some((f) => /flexbox .*never allowed/.test(f.message)), `${name} is refused`);
  for (const name of ['calc.css', 'calc-disabled.css']) assert.ok(of(name).some((f) => /calc\(\) is never allowed/.test(f.message)), `${name} is refused`);
  assert.ok(of('radius.css').some((f) => /\(border-radius\)$/.test(f.message)), 'border-radius without a comment is refused');
  assert.deepStrictEqual(of('radius-disabled.css'), [], 'border-radius with its disable comment passes');
  assert.deepStrictEqual(of('radius-rule.css').map((f) => f.line), [3], 'a comment before a rule covers that rule only');
  assert.deepStrictEqual(of('radius-block.css').map((f) => f.line), [5], 'a comment in a block covers the rest of that block only');
  assert.ok(of('flex-disabled.css').some((f) => /cannot be disabled/.test(f.message)), 'a disable of flexbox is itself refused');
  assert.ok(of('no-reason.css').some((f) => /-- reason/.test(f.message)), 'a disable without a reason is refused');
  assert.ok(of('unused.css').some((f) => /covers nothing/.test(f.message)), 'a disable that covers nothing is refused');
  assert.deepStrictEqual(of('plain.css'), [], 'CSS2 passes');
  assert.deepStrictEqual([...new Set(of('new-forms.css').map((f) => f.line))], [1, 2], 'overflow: clip and the text-decoration shorthand are found');
  assert.deepStrictEqual(of('widget.js').map((f) => [f.line, /flexbox/.test(f.message)]), [[4, true]],
    'the loader\'s CSS: the JS comment covers border-radius, display:flex is found on its JS line');
  assert.ok(of('no-css.js').some((f) => /expected one `var CSS/.test(f.message)), 'a loader without CSS is refused');
  assert.ok(of('not-literal.js').some((f) => f.line === 1 && /only string literals/.test(f.message)), 'CSS built from a variable is refused');
});

test('CSS: public/widget/*.css and the loader\'s CSS use only what the list supports', async () => {
  const files = inDir(WIDGET, '.css');
  const findings = [
    ...await checks.loaderCssFindings(LOADER, queries()),
    ...await checks.cssFileFindings(files, queries()),
  ];
  const message = show(`CSS of widget.js (var CSS), ${files.map((f) => path.relative(PUBLIC, f)).join(', ') || 'no *.css'}`, findings);
  assert.strictEqual(findings.length, 0, message);
});

// 4. The iframe page ---------------------------------------------------------------------------

test('self-test: the frame page check refuses quirks mode and inline code or style', (t) => {
  const { dir, paths } = fixtures(t, {
    'good.html': '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><link rel="stylesheet" href="frame.css">\n'
      + '<script src="hold.js"></script></head><body><div id="x" class="a"></div><script src="app.js"></script></body></html>\n',
    'quirks.html': '<!-- hi -->\n<!DOCTYPE html><html></html>',
    'inline.html': '<!DOCTYPE html>\n<script>var a = 1;</script>\n<div style="color:red" onclick="f()"></div>\n<style>a{}</style>\n'
      + '<a href="javascript:void 0">x</a>\n<!--[if lt IE 9]><script src="x.js">y()</script><![endif]-->\n',
  });
  const findings = Object.values(paths).flatMap((file) => checks.frameFindings(file));
  findings.push(...checks.frameFindings(path.join(dir, 'absent.html')));
  show('frame page self-test', findings, fixtureRel(dir));
  const of = (name) => findings.filter((f) => f.file === paths[name]);
  assert.deepStrictEqual(of('good.html'), [], 'a page of files passes');
  assert.ok(of('quirks.html').some((f) => /DOCTYPE/.test(f.message)), 'a page not starting with the doctype is refused');
  assert.deepStrictEqual(of('inline.html').map((f) => f.line), [2, 3, 3, 4, 5, 6], 'inline script, style=, onclick=, <style>, javascript:, script content');
  assert.ok(findings.some((f) => /absent\.html$/.test(f.file) && /missing/.test(f.message)), 'a missing page is refused');
});

test('frame page: public/widget/frame.html is standards mode with no inline code or style', () => {
  const findings = checks.frameFindings(path.join(WIDGET, 'frame.html'));
  const message = show('frame.html', findings);
  assert.strictEqual(findings.length, 0, message);
});

// 5. Sizes -------------------------------------------------------------------------------------

test('self-test: the size check refuses an unbudgeted file, a file over budget and a missing file', (t) => {
  const noise = (n) => Array.from({ length: n }, (_, i) => ((i * 7919) % 65521).toString(36)).join(' ');
  const { dir } = fixtures(t, {
    'widget.js': noise(3000), 'widget/frame.html': '<!DOCTYPE html>', 'widget/a.js': 'var a;', 'widget/extra.js': 'var b;',
  });
  const report = checks.budgetReport(dir, path.join(dir, 'widget'), {
    loader: { 'widget.js': 1024 }, core: { files: ['frame.html', 'a.js', 'gone.js'], total: 16384 }, lazy: { 'a.js': 100 },
  });
  console.log(`size self-test:\n${checks.budgetTable(report.rows)}\n  ${[...report.problems, ...report.missing.map((m) => `missing: ${m}`)].join('\n  ')}`);
  assert.ok(report.problems.some((p) => /^widget\.js: \d+ B gzipped > its budget of 1024 B/.test(p)), 'over budget');
  assert.ok(report.problems.some((p) => /widget\/extra\.js is in no budget group/.test(p)), 'unbudgeted file');
  assert.ok(report.problems.some((p) => /a\.js is named in more than one place/.test(p)), 'a file in two groups');
  assert.deepStrictEqual(report.missing, ['widget/gone.js'], 'missing file');
});

test('sizes: gzipped widget within budget, every widget file in one budget group', () => {
  const report = checks.budgetReport(PUBLIC, WIDGET, BUDGETS);
  console.log(`widget sizes (gzip -9):\n${checks.budgetTable(report.rows)}`);
  if (report.problems.length) console.log(`  ${report.problems.join('\n  ')}`);
  assert.deepStrictEqual(report.problems, []);
});

test('sizes: every file of the budget table exists (a renamed file shows here)', () => {
  const { missing } = checks.budgetReport(PUBLIC, WIDGET, BUDGETS);
  if (missing.length) console.log(`budgeted but missing: ${missing.join(', ')}`);
  assert.deepStrictEqual(missing, [], `files named in BUDGETS of widget_static.test.js but missing from public/: ${missing.join(', ')} — rename them there too`);
});
