// widget.js is ECMAScript 5 and small: every file a visitor's browser runs must parse with
// acorn at ecmaVersion 5, and the gzipped sizes are printed against the budget of issue 4.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const acorn = require('acorn');
const { REPO } = require('./harness');

const LOADER = path.join(REPO, 'public', 'widget.js');
const APP_DIR = path.join(REPO, 'public', 'widget');
const LOADER_BUDGET = 4 * 1024;
const WHOLE_BUDGET = 20 * 1024;

const widgetFiles = () => [LOADER, ...fs.readdirSync(APP_DIR).filter((f) => f.endsWith('.js')).sort().map((f) => path.join(APP_DIR, f))];
const gzipped = (file) => zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;

test('every widget file parses as ECMAScript 5', () => {
  const files = widgetFiles();
  assert.ok(files.length >= 2, `the loader and the app: ${files}`);
  for (const file of files) {
    const source = fs.readFileSync(file, 'utf8');
    assert.doesNotThrow(() => acorn.parse(source, { ecmaVersion: 5, sourceType: 'script' }),
      `${path.relative(REPO, file)} is not ES5`);
  }
});

test('the ES5 check fails on ES2015 syntax', () => {
  // Guards the check above: acorn at ecmaVersion 5 must refuse what a legacy browser would.
  for (const snippet of ['let a = 1;', 'var f = () => 1;', 'var s = `x`;', 'class A {}']) {
    assert.throws(() => acorn.parse(snippet, { ecmaVersion: 5 }), snippet);
  }
});

test('gzipped sizes stay within the budget: loader 4 KB, whole widget 20 KB', () => {
  const sizes = widgetFiles().map((file) => [path.relative(REPO, file), gzipped(file)]);
  const loader = gzipped(LOADER);
  const whole = sizes.reduce((sum, [, size]) => sum + size, 0);
  for (const [file, size] of sizes) console.log(`widget size: ${file} ${size} B gzipped`);
  console.log(`widget size: loader ${loader} B of ${LOADER_BUDGET} B budget; whole ${whole} B of ${WHOLE_BUDGET} B budget`);
  assert.ok(loader <= LOADER_BUDGET, `loader ${loader} B > ${LOADER_BUDGET} B`);
  assert.ok(whole <= WHOLE_BUDGET, `whole widget ${whole} B > ${WHOLE_BUDGET} B`);
});
