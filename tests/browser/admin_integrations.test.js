// The admin pages' Integrations tab: an admin makes an integration key (shown once, never
// listed), the key reads the event feed, the admin revokes it (two clicks) and the feed refuses
// it at once; a bad name is said next to its field and makes nothing.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { PASSWORD, hook, request, shopWorld } = require('./harness');

/** `GET /api/events` with `key` as its bearer: status and body. */
function readFeed(server, key) {
  return request('GET', server.url('/api/events?timeout=0'), { token: key });
}

test('the admin pages make an integration key, show it once, and revoke it', async () => {
  const w = await shopWorld({ agentOnline: false });
  try {
    const page = await w.open();
    await page.goto(w.server.url('/admin/'));
    await page.fill(hook('login-employee-id'), 'ADM');
    await page.fill(hook('login-password'), PASSWORD);
    await page.click(hook('login-submit'));
    await page.click(hook('tab-integrations'));

    // A bad name: said next to the field, nothing made.
    const form = page.locator(hook('integration-create'));
    await form.locator(hook('new-integration-name')).fill('   ');
    await form.locator(hook('new-integration-submit')).click();
    await page.locator(`${hook('integration-create')} [data-field-error="name"]`).filter({ hasText: /name/ }).waitFor();
    assert.strictEqual((await w.server.api('GET', '/api/admin/integration-keys', undefined, w.admin.token)).body.keys.length, 0);

    // Made: the key is shown once, with its scope, and reads the feed.
    assert.strictEqual(await form.locator(hook('new-integration-scope')).isChecked(), true);
    await form.locator(hook('new-integration-name')).fill('CRM sync');
    await form.locator(hook('new-integration-submit')).click();
    const secretBox = page.locator(hook('integration-secret-box'));
    await secretBox.waitFor();
    const secret = await page.locator(hook('integration-secret')).inputValue();
    assert.match(secret, /^sbk_[A-Za-z0-9_-]{43}$/);
    const row = page.locator(`${hook('integration-row')}[data-name="CRM sync"]`);
    await row.waitFor();
    assert.strictEqual(await row.locator(hook('integration-prefix')).textContent(), secret.slice(0, 12) + '…');
    assert.strictEqual(await row.locator(hook('integration-status')).textContent(), 'Active');
    const rowText = await page.locator(hook('integrations')).textContent();
    assert.ok(!rowText.includes(secret.slice(12)), 'the list never shows the key');
    const listed = (await w.server.api('GET', '/api/admin/integration-keys', undefined, w.admin.token)).body.keys;
    assert.deepStrictEqual(listed.map((key) => [key.name, key.scopes]), [['CRM sync', ['events:read']]]);
    const read = await readFeed(w.server, secret);
    assert.strictEqual(read.status, 200, JSON.stringify(read.body));

    // Shown once: leaving the tab and coming back hides it.
    await page.click(hook('tab-agents'));
    await page.click(hook('tab-integrations'));
    await row.waitFor();
    assert.strictEqual(await secretBox.isHidden(), true);
    assert.strictEqual(await page.locator(hook('integration-secret')).inputValue(), '');

    // Revoked with two clicks: the first only arms the button.
    await row.locator(hook('integration-revoke')).click();
    assert.strictEqual((await readFeed(w.server, secret)).status, 200, 'one click revokes nothing');
    await row.locator(hook('integration-revoke')).click();
    await page.locator(`${hook('integration-row')}[data-name="CRM sync"][data-revoked="true"]`).waitFor();
    assert.match(await row.locator(hook('integration-status')).textContent(), /^Revoked /);
    assert.strictEqual(await row.locator(hook('integration-revoke')).count(), 0);
    const refused = await readFeed(w.server, secret);
    assert.strictEqual(refused.status, 401, JSON.stringify(refused.body));
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});
