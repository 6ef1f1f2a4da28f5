// The static checks of the widget (widget_static.test.js says what each one catches and misses,
// and the rules the widget's author follows). Every function takes its files or folder, so the
// self-tests can point it at fixtures in a temp folder; each returns findings, never throws for a
// problem in the checked files: { file, line, column, message }.
'use strict';

// browserslist warns on stderr when caniuse-lite is a few months old; the list is what it is.
process.env.BROWSERSLIST_IGNORE_OLD_DATA = '1';

const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const acorn = require('acorn');
const browserslist = require('browserslist');
const { agents } = require('caniuse-lite');
const postcss = require('postcss');
const doiuse = require('doiuse');
const { ESLint } = require('eslint');
const compat = require('eslint-plugin-compat');

const format = (f) => `${f.file}:${f.line}${f.column ? `:${f.column}` : ''} ${f.message}`;

// ---------------------------------------------------------------------------------------------
// The browser list

/** The queries of a .browserslistrc: its one default section, nothing else. The queries are
 * handed to every tool explicitly, so no BROWSERSLIST variable or stray config can change them. */
function readBrowserQueries(rcFile) {
  const config = browserslist.readConfig(rcFile);
  const sections = Object.keys(config);
  if (sections.length !== 1 || sections[0] !== 'defaults' || !config.defaults.length) {
    throw new Error(`${rcFile}: one plain list of queries expected, found sections ${sections.join(', ')}`);
  }
  return config.defaults;
}

const resolveBrowsers = (queries) => browserslist(queries);

// ---------------------------------------------------------------------------------------------
// 1. Syntax

/** acorn at ecmaVersion 3 with allowReserved 'never' (see the test file for why), plus a parse
 * at ecmaVersion 5 for the strict-mode errors a modern browser enforces in 'use strict' code,
 * plus a trailing comma before `]` (valid ES3, but IE8 counts one more element). */
function syntaxFindings(files) {
  const findings = [];
  for (const file of files) {
    const source = fs.readFileSync(file, 'utf8');
    const tokens = [];
    const parse = (options) => {
      try {
        acorn.parse(source, { sourceType: 'script', locations: true, ...options });
        return true;
      } catch (error) {
        const { line, column } = error.loc || {};
        findings.push({ file, line, column: column + 1, message: `${options.label}: ${error.message.replace(/ \(\d+:\d+\)$/, '')}` });
        return false;
      }
    };
    const es3 = parse({ ecmaVersion: 3, allowReserved: 'never', onToken: tokens, label: 'not ES3 (IE8)' });
    if (es3) parse({ ecmaVersion: 5, label: 'strict-mode error (modern browsers)' });
    for (let i = 1; es3 && i < tokens.length; i++) {
      if (tokens[i].type.label === ']' && tokens[i - 1].type.label === ',') {
        const { line, column } = tokens[i - 1].loc.start;
        findings.push({ file, line, column: column + 1, message: 'trailing comma in an array literal: IE8 counts one more element' });
      }
    }
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------
// 2. APIs

/** Members missing in IE8 (most also in Android 4.0 or iOS 6) that eslint-plugin-compat cannot
 * see: it only knows a receiver by its written global name (`document.x`, `Promise.x`,
 * `[].x`), never `el.x` or `window.x` for an instance method of EventTarget or Element. Flagged
 * on any object by ESLint's own no-restricted-properties; names a string also has (indexOf,
 * slice...) are left out, and so is filter (el.style.filter is IE8's own opacity). */
const IE8_MISSING_PROPERTIES = {
  addEventListener: 'IE8 has attachEvent only (IE9+)',
  removeEventListener: 'IE8 has detachEvent only (IE9+)',
  dispatchEvent: 'IE8 has fireEvent only (IE9+)',
  preventDefault: 'IE8 events have returnValue = false instead (IE9+)',
  stopPropagation: 'IE8 events have cancelBubble = true instead (IE9+)',
  textContent: 'IE8 sets a plain expando: use innerText/nodeValue or createTextNode (IE9+)',
  classList: 'IE10+, iOS 6 lacks it too: use className',
  dataset: 'IE11+: use getAttribute(\'data-...\')',
  getElementsByClassName: 'IE9+',
  getComputedStyle: 'IE9+ (IE8 has currentStyle)',
  matchMedia: 'IE10+',
  firstElementChild: 'IE9+', lastElementChild: 'IE9+', nextElementSibling: 'IE9+',
  previousElementSibling: 'IE9+', childElementCount: 'IE9+',
  forEach: 'ES5 array method, IE9+', map: 'ES5 array method, IE9+', some: 'ES5 array method, IE9+', every: 'ES5 array method, IE9+', reduce: 'ES5 array method, IE9+',
  reduceRight: 'ES5 array method, IE9+',
  trim: 'ES5 String.prototype.trim, IE9+', bind: 'ES5 Function.prototype.bind, IE9+',
};
/** Bare globals in the same case (compat misses a bare `addEventListener(...)`), and console,
 * which IE8 has only while its developer tools are open (a call otherwise throws). */
const IE8_MISSING_GLOBALS = {
  addEventListener: IE8_MISSING_PROPERTIES.addEventListener,
  removeEventListener: IE8_MISSING_PROPERTIES.removeEventListener,
  dispatchEvent: IE8_MISSING_PROPERTIES.dispatchEvent,
  getComputedStyle: IE8_MISSING_PROPERTIES.getComputedStyle,
  matchMedia: IE8_MISSING_PROPERTIES.matchMedia,
  console: 'IE8 has console only while its developer tools are open; a call throws otherwise',
};
const DISABLEABLE_RULES = ['compat/compat', 'no-restricted-properties', 'no-restricted-globals'];

function eslintFor(queries) {
  return new ESLint({
    cwd: path.parse(process.cwd()).root, // files anywhere (fixtures in a temp folder too)
    overrideConfigFile: true, // no eslint.config.* is looked for
    overrideConfig: [{
      files: ['**/*.js'],
      languageOptions: { ecmaVersion: 'latest', sourceType: 'script' }, // syntax is check 1's job
      linterOptions: { reportUnusedDisableDirectives: 'error' },
      plugins: { compat },
      rules: {
        'compat/compat': 'error',
        'no-restricted-properties': ['error', ...Object.entries(IE8_MISSING_PROPERTIES)
          .map(([property, message]) => ({ property, message }))],
        'no-restricted-globals': ['error', ...Object.entries(IE8_MISSING_GLOBALS)
          .map(([name, message]) => ({ name, message }))],
      },
      settings: {
        browsers: queries,
        lintAllEsApis: true, // Object.keys, [].forEach, Date.now...: not only the DOM
        ignoreConditionalChecks: true, // else anything inside any `if` is skipped (see the test)
        // Wrong in the data it uses: "not supported in IE 8", but IE8 has document.readyState.
        polyfills: ['document.readyState'],
      },
    }],
  });
}

/** Disable comments the widget may use: line-scoped, naming the rule, with a reason. */
function directiveFindings(file, source) {
  const comments = [];
  try {
    acorn.parse(source, { ecmaVersion: 'latest', sourceType: 'script', locations: true, onComment: comments });
  } catch (error) {
    return []; // ESLint reports the parse error
  }
  const findings = [];
  const allowed = /^eslint-disable-(next-)?line\s+([\w/@-]+(?:\s*,\s*[\w/@-]+)*)\s+--\s*\S/;
  for (const comment of comments) {
    const text = comment.value.trim();
    if (!/^(eslint|globals?\s|exported\s)/.test(text)) continue;
    const match = allowed.exec(text);
    const rules = match ? match[2].split(',').map((r) => r.trim()) : [];
    if (!match || !rules.every((rule) => DISABLEABLE_RULES.includes(rule))) {
      findings.push({
        file, line: comment.loc.start.line, column: comment.loc.start.column + 1,
        message: `only "eslint-disable-next-line ${DISABLEABLE_RULES.join('|')} -- reason" (or -line) is allowed: ${JSON.stringify(text.slice(0, 80))}`,
      });
    }
  }
  return findings;
}

async function apiFindings(files, queries) {
  const results = await eslintFor(queries).lintFiles(files);
  const findings = [];
  for (const result of results) {
    for (const m of result.messages) {
      findings.push({ file: result.filePath, line: m.line, column: m.column, message: `${m.message}${m.ruleId ? ` (${m.ruleId})` : ''}` });
    }
    findings.push(...directiveFindings(result.filePath, fs.readFileSync(result.filePath, 'utf8')));
  }
  const linted = new Set(results.map((r) => r.filePath));
  for (const file of files) {
    if (!linted.has(path.resolve(file))) findings.push({ file, line: 0, message: 'not linted (ESLint ignored it)' });
  }
  return findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

// ---------------------------------------------------------------------------------------------
// 3. CSS

/** Features the layout must never depend on, whatever a comment says. doiuse's own flexbox
 * feature misses the old syntax (-webkit-box) and the flex properties without `display`. */
const BANNED_PROPERTY = /^(-(webkit|moz|ms)-)?(flex(-[a-z]+)*|box-(flex|flex-group|orient|pack|align|direction|ordinal-group|lines)|align-(items|self|content)|justify-(content|items|self)|place-[a-z]+|order|(row-|column-)?gap)$/i;
const BANNED_DISPLAY = /(^|\s)(-(webkit|moz|ms)-)?(inline-)?(flex|flexbox|box)(\s|$)/i;
const BANNED_DOIUSE = new Set(['flexbox', 'flexbox-gap', 'calc', 'justify-content-space-evenly']);

/** doiuse matches a feature by property name, so it reports caniuse's "partial" marks of a newer
 * form on the old form too. Only these uses, which every browser has had since CSS1/CSS2, are
 * not findings (everything else of the feature still is): */
const NOT_THE_FEATURE = {
  // caniuse's partial marks are for the two-value shorthand and the `clip` value
  'css-overflow': (node) => node.type === 'decl' && /^(visible|hidden|scroll|auto)$/i.test(node.value.trim()),
  // MDN's "no IE" is for the several-value shorthand (line, style, colour)
  'mdn-text-decoration-shorthand': (node) => node.type === 'decl' && /^(none|underline|overline|line-through)$/i.test(node.value.trim()),
};

/** "IE 8, Safari on iOS 6.0-6.1…13.3 (24 versions)" from doiuse's { browser: { version } }. */
function browsersText(data) {
  return Object.entries(data || {}).map(([browser, versions]) => {
    const list = Object.keys(versions).sort((a, b) => parseFloat(a) - parseFloat(b));
    const name = agents[browser] ? agents[browser].browser : browser;
    return `${name} ${list.length > 3 ? `${list[0]}…${list[list.length - 1]} (${list.length} versions)` : list.join(', ')}`;
  }).join('; ');
}

function bannedUse(node) {
  if (node.type === 'decl') {
    if (/calc\(/i.test(node.value)) return 'calc() is never allowed: IE8 and Android 4.0-4.3 lack it and the layout must not depend on it';
    if (BANNED_PROPERTY.test(node.prop) || (node.prop.toLowerCase() === 'display' && BANNED_DISPLAY.test(node.value))) {
      return `flexbox (${node.prop}: ${node.value}) is never allowed: IE8-9 lack it and the layout must not depend on it`;
    }
  }
  if (node.type === 'atrule' && /calc\(|flex/i.test(node.params)) {
    return `@${node.name} ${node.params}: flexbox and calc() are never allowed, not even behind a query`;
  }
  return null;
}

/** `doiuse-disable FEATURE[, FEATURE] -- reason` (or `: reason`). */
const DISABLE_COMMENT = /^doiuse-disable\s+([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)(?:\s+--|\s*:)\s*(\S[\s\S]*)$/i;

/** Findings in one stylesheet. `where(node)` gives the file and line to report for a node. */
async function stylesheetFindings(css, from, queries, where) {
  const findings = [];
  const report = (node, message) => findings.push({ ...where(node), message });
  let root;
  try {
    root = postcss.parse(css, { from });
  } catch (error) {
    return [{ ...where({ source: { start: { line: error.line, column: error.column, offset: 0 } } }), message: `CSS does not parse: ${error.reason}` }];
  }
  // doiuse's own comments switch a feature off from there to the end of the file; ours cover
  // less (inside a declaration block: the rest of that block; elsewhere: the next rule or
  // @-rule), so doiuse is shown them neutralised and the covering is decided here.
  const disables = new Map();
  root.walkComments((comment) => {
    const text = comment.text.trim();
    if (!/^doiuse-/i.test(text)) return;
    const match = DISABLE_COMMENT.exec(text);
    if (match) {
      const features = match[1].split(',').map((f) => f.trim().toLowerCase());
      for (const feature of features.filter((f) => BANNED_DOIUSE.has(f))) {
        report(comment, `doiuse-disable ${feature}: flexbox and calc() cannot be disabled, the layout must do without them`);
      }
      disables.set(comment, { features: features.filter((f) => !BANNED_DOIUSE.has(f)), used: new Set() });
    } else {
      report(comment, `only "/* doiuse-disable FEATURE[, FEATURE] -- reason */" (or ": reason") is allowed: ${JSON.stringify(text.slice(0, 80))}`);
    }
    comment.text = `(checked) ${comment.text}`;
  });
  const covering = (node, feature) => {
    for (let n = node; n && n.type !== 'root'; n = n.parent) {
      const inBlock = n.parent && n.parent.type === 'rule'; // any comment before it in the block
      for (let c = n.prev(); c && (inBlock || c.type === 'comment'); c = c.prev()) {
        const disable = disables.get(c);
        if (disable && disable.features.includes(feature)) return disable;
      }
    }
    return null;
  };
  const banned = new Set();
  root.walk((node) => {
    const why = bannedUse(node);
    if (why) { banned.add(node); report(node, why); }
  });
  const usages = [];
  await postcss([doiuse({ browsers: queries, onFeatureUsage: (u) => usages.push(u) })]).process(root, { from });
  for (const { feature, usage, featureData } of usages) {
    if (banned.has(usage)) continue;
    if (NOT_THE_FEATURE[feature] && NOT_THE_FEATURE[feature](usage)) continue;
    const text = [featureData.missingData && `missing in ${browsersText(featureData.missingData)}`,
      featureData.partialData && `partial in ${browsersText(featureData.partialData)}`].filter(Boolean).join('; ');
    if (BANNED_DOIUSE.has(feature)) {
      report(usage, `${featureData.title} is never allowed (${feature}): ${text}`);
      continue;
    }
    const disable = covering(usage, feature);
    if (disable) { disable.used.add(feature); continue; }
    const what = usage.type === 'decl' ? `${usage.prop}: ${usage.value}` : usage.type === 'rule' ? usage.selector : `@${usage.name} ${usage.params}`;
    report(usage, `${what}: ${featureData.title} ${text} — do without, or mark it with /* doiuse-disable ${feature} -- what the others get */ before it in its rule (${feature})`);
  }
  for (const [comment, disable] of disables) {
    for (const feature of disable.features) {
      if (disable.used.has(feature)) continue;
      report(comment, `doiuse-disable ${feature} covers nothing: what follows in its block (or the next rule) does not use it for this browser list (typo, misplaced, or a leftover)`);
    }
  }
  return findings.sort((a, b) => a.line - b.line || (a.column || 0) - (b.column || 0));
}

const offsetToLine = (text, offset) => text.slice(0, offset).split('\n').length;

async function cssFileFindings(files, queries) {
  const findings = [];
  for (const file of files) {
    const css = fs.readFileSync(file, 'utf8');
    findings.push(...await stylesheetFindings(css, file, queries, (node) => ({
      file, line: node.source.start.line, column: node.source.start.column,
    })));
  }
  return findings;
}

function walkAst(node, visit) {
  if (!node || typeof node.type !== 'string') return;
  visit(node);
  for (const key of Object.keys(node)) {
    const value = node[key];
    if (Array.isArray(value)) value.forEach((child) => walkAst(child, visit));
    else if (value && typeof value === 'object' && key !== 'loc') walkAst(value, visit);
  }
}

/** The loader's CSS: the string literals joined with `+` in `var CSS = ...`, with the JS comments
 * between them kept as CSS comments (so a doiuse-disable can sit in the JS and cost nothing in the
 * stylesheet). Returns { css, line(offset) } or throws with the reason. */
function loaderCss(file) {
  const source = fs.readFileSync(file, 'utf8');
  const comments = [];
  const ast = acorn.parse(source, { ecmaVersion: 'latest', sourceType: 'script', locations: true, onComment: comments });
  const declarators = [];
  walkAst(ast, (node) => {
    if (node.type === 'VariableDeclarator' && node.id.type === 'Identifier' && node.id.name === 'CSS') declarators.push(node);
  });
  const fail = (line, message) => { throw Object.assign(new Error(message), { line }); };
  if (declarators.length !== 1) fail(0, `expected one \`var CSS = '...' + '...'\` (the launcher's CSS), found ${declarators.length}`);
  const init = declarators[0].init;
  const literals = [];
  const fold = (node) => {
    if (node && node.type === 'Literal' && typeof node.value === 'string') literals.push(node);
    else if (node && node.type === 'BinaryExpression' && node.operator === '+') { fold(node.left); fold(node.right); }
    else fail((node || declarators[0]).loc.start.line, `var CSS must be only string literals joined with + (found ${node ? node.type : 'no value'})`);
  };
  fold(init);
  // From the `=` on: a comment before the first literal counts too.
  const pieces = [...literals, ...comments.filter((c) => c.start > declarators[0].id.end && c.end < init.end)]
    .sort((a, b) => a.start - b.start);
  let css = '';
  const spans = [];
  for (const piece of pieces) {
    const text = piece.type === 'Literal' ? piece.value : `/*${piece.value.replace(/\*\//g, '* /')}*/`;
    spans.push({ start: css.length, end: css.length + text.length, line: piece.loc.start.line });
    css += text;
  }
  const line = (offset) => (spans.find((s) => offset >= s.start && offset < s.end) || spans[spans.length - 1] || { line: 0 }).line;
  return { css, line };
}

async function loaderCssFindings(file, queries) {
  let extracted;
  try {
    extracted = loaderCss(file);
  } catch (error) {
    return [{ file, line: error.line || (error.loc && error.loc.line) || 0, message: error.message }];
  }
  return stylesheetFindings(extracted.css, `${file} (CSS)`, queries, (node) => ({
    file: `${file} (var CSS)`, line: extracted.line(node.source.start.offset),
  }));
}

// ---------------------------------------------------------------------------------------------
// 4. The iframe page

const TAG = /<([a-zA-Z][^\s/>]*)((?:\s+[^\s=/>]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*\/?>/g;
const ATTRIBUTE = /([^\s=/>]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?/g;

/** The doctype, and no inline code or style. Comments are not skipped: IE runs what is inside
 * its conditional comments, so a tag there counts. */
function frameFindings(file) {
  if (!fs.existsSync(file)) return [{ file, line: 0, message: 'missing' }];
  const html = fs.readFileSync(file, 'utf8');
  const findings = [];
  const at = (offset, message) => findings.push({ file, line: offsetToLine(html, offset), message });
  if (!/^<!DOCTYPE html>/i.test(html)) {
    at(0, 'must start with <!DOCTYPE html> (nothing before it, not even a comment or a BOM): IE8 is in quirks mode otherwise, without JSON or localStorage');
  }
  for (const tag of html.matchAll(TAG)) {
    const name = tag[1].toLowerCase();
    const attributes = new Map([...tag[2].matchAll(ATTRIBUTE)].map((a) => [a[1].toLowerCase(), (a[2] || '').replace(/^["']|["']$/g, '')]));
    for (const [attribute, value] of attributes) {
      if (attribute === 'style') at(tag.index, `<${name} style="...">: no inline style attributes (the CSP allows stylesheet files only)`);
      if (/^on/.test(attribute)) at(tag.index, `<${name} ${attribute}=...>: no inline event handlers (the CSP allows script files only)`);
      if (/^\s*javascript:/i.test(value)) at(tag.index, `<${name} ${attribute}="javascript:...">: no javascript: URLs`);
    }
    if (name === 'style') at(tag.index, '<style>: no inline CSS (the CSP allows stylesheet files only): put it in frame.css');
    if (name === 'script') {
      const end = html.slice(tag.index + tag[0].length).search(/<\/script\s*>/i);
      const content = end < 0 ? '' : html.slice(tag.index + tag[0].length, tag.index + tag[0].length + end);
      if (!attributes.has('src')) at(tag.index, '<script> without src: no inline scripts (the CSP allows script files only)');
      else if (content.trim()) at(tag.index, '<script src> with content: no inline scripts');
    }
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------
// 5. Sizes

const gzippedSize = (file) => zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;

/** Sizes against `budgets` = { loader: {file: bytes} (paths under publicDir), core: {files, total},
 * lazy: {file: bytes} } (names in widgetDir). Returns the rows to print, the problems, and the
 * budgeted files that do not exist (kept apart: a renamed file shows up there). */
function budgetReport(publicDir, widgetDir, budgets) {
  const rows = [];
  const problems = [];
  const missing = [];
  const measure = (group, dir, name, budget) => {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) { missing.push(path.join(path.basename(dir), name)); rows.push({ group, name, bytes: null, budget }); return 0; }
    const bytes = gzippedSize(file);
    rows.push({ group, name, bytes, budget });
    if (budget != null && bytes > budget) problems.push(`${name}: ${bytes} B gzipped > its budget of ${budget} B`);
    return bytes;
  };
  const group = (label, dir, entries, total) => {
    const sum = entries.reduce((s, [name, budget]) => s + measure(label, dir, name, budget), 0);
    const limit = total != null ? total : entries.reduce((s, [, budget]) => s + budget, 0);
    rows.push({ group: label, name: `total ${label}`, bytes: sum, budget: limit, total: true });
    if (total != null && sum > total) problems.push(`${label}: ${sum} B gzipped in all > the group's budget of ${total} B`);
  };
  group('loader', publicDir, Object.entries(budgets.loader));
  group('core', widgetDir, budgets.core.files.map((name) => [name, null]), budgets.core.total);
  group('lazy', widgetDir, Object.entries(budgets.lazy));

  const named = [...budgets.core.files, ...Object.keys(budgets.lazy)];
  for (const name of new Set(named)) {
    if (named.filter((n) => n === name).length > 1) problems.push(`${name} is named in more than one place of the budget table`);
  }
  const present = fs.existsSync(widgetDir) ? fs.readdirSync(widgetDir).filter((f) => /\.(js|css|html)$/.test(f)).sort() : [];
  for (const name of present) {
    if (!named.includes(name)) problems.push(`${path.basename(widgetDir)}/${name} is in no budget group: add it to core or lazy in the budget table of widget_static.test.js`);
  }
  return { rows, problems, missing };
}

function budgetTable(rows) {
  const lines = [['file', 'gzip B', 'budget B'], ...rows.map((r) => [
    r.total ? `= ${r.name}` : `  ${r.group}/${r.name}`,
    r.bytes == null ? 'missing' : String(r.bytes),
    r.budget == null ? '' : String(r.budget),
  ])];
  const width = [0, 1, 2].map((i) => Math.max(...lines.map((l) => l[i].length)));
  return lines.map((l) => `${l[0].padEnd(width[0])}  ${l[1].padStart(width[1])}  ${l[2].padStart(width[2])}`).join('\n');
}

module.exports = {
  format, readBrowserQueries, resolveBrowsers,
  syntaxFindings,
  apiFindings, IE8_MISSING_PROPERTIES, IE8_MISSING_GLOBALS,
  cssFileFindings, loaderCss, loaderCssFindings,
  frameFindings,
  budgetReport, budgetTable, gzippedSize,
};
