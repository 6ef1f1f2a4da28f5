// The admin pages' Pre-chat form tab: an admin picks a site, adds fields (a choice list with
// options among them), reorders and removes one, saves, and the widget's form route serves it; a
// bad field is refused by the server, said on the page, and stores nothing.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { PASSWORD, hook, shopWorld } = require('./harness');

test('the admin pages edit a site\'s pre-chat form', async () => {
  const w = await shopWorld({ agentOnline: false });
  try {
    for (const name of ['Acme', 'Other shop']) {
      const made = await w.server.api('POST', '/api/admin/sites', { name, origins: [w.site.origin] }, w.admin.token);
      assert.strictEqual(made.status, 201, JSON.stringify(made.body));
    }
    const sites = (await w.server.api('GET', '/api/admin/sites', undefined, w.admin.token)).body.sites;
    const acme = sites.find((s) => s.name === 'Acme').site_id;
    const publicForm = async (id) => (await w.server.api('GET', `/api/sites/${id}/widget`)).body.prechat_form;

    const page = await w.open();
    await page.goto(w.server.url('/admin/'));
    await page.fill(hook('login-employee-id'), 'ADM');
    await page.fill(hook('login-password'), PASSWORD);
    await page.click(hook('login-submit'));
    await page.click(hook('tab-prechat'));
    await page.locator(`${hook('prechat-site')} option`).nth(1).waitFor({ state: 'attached' });
    await page.selectOption(hook('prechat-site'), acme);
    await page.locator(hook('prechat-none')).waitFor();

    const field = (i) => page.locator(`${hook('prechat-field')}[data-index="${i}"]`);
    const add = async (type) => {
      await page.selectOption(hook('prechat-new-type'), type);
      await page.click(hook('prechat-add'));
    };
    await add('email');
    await field(0).locator(hook('prechat-field-required')).check();
    await add('text');
    await field(1).locator(hook('prechat-field-label')).fill('What can we do for <you>?');
    await field(1).locator(hook('prechat-field-required')).check();
    await add('phone');
    await add('choice');
    await field(3).locator(hook('prechat-field-name')).fill('topic');
    await field(3).locator(hook('prechat-field-label')).fill('Topic');
    await field(3).locator(hook('prechat-field-options')).fill('Billing\nOrders\n');
    // The question first, the phone removed.
    await field(1).locator(hook('prechat-field-up')).click();
    await field(2).locator(hook('prechat-field-remove')).click();

    // A bad key: the server says so, nothing is stored.
    await field(2).locator(hook('prechat-field-name')).fill('Topic!');
    await page.click(hook('prechat-save'));
    await page.locator(hook('prechat-error')).filter({ hasText: /fields\[2\]: name/ }).waitFor();
    assert.deepStrictEqual(await publicForm(acme), []);

    await field(2).locator(hook('prechat-field-name')).fill('topic');
    await page.click(hook('prechat-save'));
    await page.locator('#notice').filter({ hasText: /Saved the pre-chat form of "Acme"/ }).waitFor();
    const expected = [
      { name: 'question', type: 'text', label: 'What can we do for <you>?', required: true },
      { name: 'email', type: 'email', label: 'Email', required: true },
      { name: 'topic', type: 'choice', label: 'Topic', required: false, options: ['Billing', 'Orders'] },
    ];
    assert.deepStrictEqual(await publicForm(acme), expected);
    const other = sites.find((s) => s.name === 'Other shop').site_id;
    assert.deepStrictEqual(await publicForm(other), [], 'the other site is untouched');

    // Read back after a reload: the editor shows what is stored.
    await page.reload();
    await page.click(hook('tab-prechat'));
    await page.selectOption(hook('prechat-site'), acme);
    await field(0).waitFor();
    assert.strictEqual(await field(0).locator(hook('prechat-field-label')).inputValue(), 'What can we do for <you>?');
    assert.strictEqual(await field(2).locator(hook('prechat-field-options')).inputValue(), 'Billing\nOrders');
    assert.strictEqual(await page.locator(hook('prechat-field')).count(), 3);
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});
