// The admin pages' Sites tab: an admin registers a site (its secret shown once, with the script
// tag to paste), edits it, rotates its secret (two clicks; the new one shown once) and deletes
// it. And the widget on a registered site's page: that site's origin admits it (no restart),
// its color and greeting show, the greeting's markup as text.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { PASSWORD, customerSite, hook, openWidget, shopWorld } = require('./harness');

async function loginAdmin(page, w) {
  await page.goto(w.server.url('/admin/'));
  await page.fill(hook('login-employee-id'), 'ADM');
  await page.fill(hook('login-password'), PASSWORD);
  await page.click(hook('login-submit'));
  await page.click(hook('tab-sites'));
}

async function listed(w) {
  return (await w.server.api('GET', '/api/admin/sites', undefined, w.admin.token)).body.sites;
}

test('the admin pages register a site, show its secret once, edit it, rotate and delete it', async () => {
  const w = await shopWorld({ agentOnline: false });
  try {
    const page = await w.open();
    await loginAdmin(page, w);
    const form = page.locator(hook('site-form'));

    // A bad origin: said next to its field, nothing made.
    await form.locator(hook('site-name')).fill('Shop');
    await form.locator(hook('site-origins')).fill('https://shop.example/path');
    await form.locator(hook('site-submit')).click();
    await page.locator(`${hook('site-form')} [data-field-error="origins"]`).filter({ hasText: /origin/ }).waitFor();
    assert.deepStrictEqual(await listed(w), []);

    await form.locator(hook('site-origins')).fill('https://shop.example');
    await form.locator(hook('site-color')).fill('#112233');
    await form.locator(hook('site-submit')).click();
    const box = page.locator(hook('site-secret-box'));
    await box.waitFor();
    assert.match(await box.textContent(), /shown once/);
    const secret = await page.locator(hook('site-secret')).inputValue();
    assert.match(secret, /^sbs_[A-Za-z0-9_-]{43}$/);
    const [site] = await listed(w);
    const row = page.locator(`${hook('site-row')}[data-site-id="${site.site_id}"]`);
    await row.waitFor();
    assert.strictEqual(await row.locator(hook('site-prefix')).textContent(), secret.slice(0, 10) + '…');
    assert.ok(!(await page.locator(hook('sites')).textContent()).includes(secret.slice(10)), 'the list never shows it');
    assert.strictEqual(await row.locator(hook('site-snippet')).textContent(),
      `<script src="${w.server.url('/widget.js').replace(/\/widget\.js$/, '')}/widget.js" data-site="${site.site_id}" async></script>`);

    // Shown once: leaving the tab and coming back hides it.
    await page.click(hook('tab-agents'));
    await page.click(hook('tab-sites'));
    await row.waitFor();
    assert.strictEqual(await box.isHidden(), true);
    assert.strictEqual(await page.locator(hook('site-secret')).inputValue(), '');

    // Edit: new origins and greeting; the blank color clears it.
    await row.locator(hook('site-edit')).click();
    assert.strictEqual(await form.locator(hook('site-color')).inputValue(), '#112233');
    await form.locator(hook('site-origins')).fill('https://shop.example https://m.shop.example');
    await form.locator(hook('site-greeting')).fill('Hello <b>there</b>');
    await form.locator(hook('site-color')).fill('');
    await form.locator(hook('site-submit')).click();
    await row.locator(hook('site-origins')).filter({ hasText: 'm.shop.example' }).waitFor();
    const [edited] = await listed(w);
    assert.deepStrictEqual([edited.origins, edited.greeting, edited.color],
      [['https://shop.example', 'https://m.shop.example'], 'Hello <b>there</b>', null]);

    // Rotate: two clicks; the new secret shown once, the prefix changes.
    await row.locator(hook('site-rotate')).click();
    assert.strictEqual((await listed(w))[0].secret_prefix, site.secret_prefix, 'one click rotates nothing');
    await row.locator(hook('site-rotate')).click();
    await box.waitFor();
    const rotated = await page.locator(hook('site-secret')).inputValue();
    assert.match(rotated, /^sbs_/);
    assert.notStrictEqual(rotated, secret);
    assert.strictEqual((await listed(w))[0].secret_prefix, rotated.slice(0, 10));

    // Delete: two clicks.
    await row.locator(hook('site-delete')).click();
    assert.strictEqual((await listed(w)).length, 1, 'one click deletes nothing');
    await row.locator(hook('site-delete')).click();
    await row.waitFor({ state: 'detached' });
    assert.deepStrictEqual(await listed(w), []);
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test("a registered site's page runs the widget with the site's color and greeting, markup as text", async () => {
  const w = await shopWorld({ agentOnline: false });
  let other;
  try {
    // A second shop, on an origin that only the site registered below allows.
    other = await customerSite(w.server, { scriptAttrs: 'data-color="#00ff00" data-site="SITE"' });
    await other.close();
    const made = await w.server.api('POST', '/api/admin/sites', {
      name: 'Other', origins: [other.origin], color: '#aa0000', greeting: 'Welcome <img src=x onerror="alert(1)"> friend',
    }, w.admin.token);
    assert.strictEqual(made.status, 201, JSON.stringify(made.body));
    other = await customerSite(w.server, { port: other.port, scriptAttrs: `data-color="#00ff00" data-site="${made.body.site.site_id}"` });
    const page = await w.open();
    await page.goto(other.url);
    const chat = await openWidget(page);
    const greeting = chat.locator(hook('greeting'));
    await greeting.waitFor({ state: 'visible' });
    assert.strictEqual(await greeting.textContent(), 'Welcome <img src=x onerror="alert(1)"> friend');
    assert.strictEqual(await greeting.locator('img').count(), 0, 'no markup made');
    const color = await chat.locator(hook('send')).evaluate((node) => getComputedStyle(node).backgroundColor);
    assert.strictEqual(color, 'rgb(170, 0, 0)', "the site's color over the tag's");
    assert.deepStrictEqual(w.errors, []);
  } finally {
    if (other) await other.close();
    await w.close();
  }
});
