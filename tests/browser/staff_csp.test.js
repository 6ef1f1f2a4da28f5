// The console and admin pages under their strict Content-Security-Policy (src/http/pages.rs): the
// headers are there, the pages load without a single violation, and a violation would be caught
// by watchErrors (so the suite's other console and admin tests fail on any).
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { Server, hook, launchBrowser, watchErrors } = require('./harness');

test('the console and admin pages run under their CSP, and a violation fails the test', async () => {
  const server = await Server.start();
  const browser = await launchBrowser();
  try {
    for (const path of ['/agent/', '/admin/']) {
      const errors = [];
      const page = await (await browser.newContext()).newPage();
      watchErrors(page, errors);
      const response = await page.goto(server.url(path));
      const headers = response.headers();
      assert.match(headers['content-security-policy'], /script-src 'self';/, path);
      assert.match(headers['content-security-policy'], /frame-ancestors 'none'/, path);
      assert.strictEqual(headers['x-frame-options'], 'DENY', path);
      assert.strictEqual(headers['x-content-type-options'], 'nosniff', path);
      assert.strictEqual(headers['referrer-policy'], 'no-referrer', path);
      // The first-run form (console) or the login form (admin) is drawn by the page's scripts.
      await page.waitForSelector(path === '/agent/' ? hook('setup-employee-id') : hook('login-employee-id'));
      await page.waitForTimeout(300);
      assert.deepStrictEqual(errors, [], path);

      // The control: what an injected inline script or style attribute meets is reported.
      await page.evaluate(() => {
        const script = document.createElement('script');
        script.textContent = 'window.injected = true;';
        document.body.append(script);
        const div = document.createElement('div');
        div.innerHTML = '<img src="https://elsewhere.example/x.png">';
        document.body.append(div);
      });
      await page.waitForTimeout(300);
      assert.strictEqual(await page.evaluate(() => window.injected), undefined, `${path}: inline script blocked`);
      assert.ok(errors.some((e) => e.includes('script-src')), `${path}: ${errors.join('\n')}`);
      assert.ok(errors.some((e) => e.includes('img-src')), `${path}: ${errors.join('\n')}`);
    }
  } finally {
    await browser.close();
    await server.stop();
  }
});
