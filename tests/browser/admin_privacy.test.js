// The admin pages' Data tab: an admin finds a visitor by its id, downloads everything stored
// about it, erases it after typing its id (the button stays off until then), and sees each step
// in the audit log; the erased visitor's token is refused at once.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { PASSWORD, hook, request, shopWorld } = require('./harness');

test('the Data tab finds a visitor, downloads its data and erases it with a typed confirmation', async () => {
  const w = await shopWorld({ agentOnline: true });
  try {
    const made = await request('POST', w.server.url('/api/visitors'), { body: {} });
    assert.strictEqual(made.status, 201, JSON.stringify(made.body));
    const visitor = { id: made.body.visitor_id, token: made.body.token };
    const started = await request('POST', w.server.url('/api/chats'), { body: {}, token: visitor.token });
    assert.strictEqual(started.status, 201, JSON.stringify(started.body));

    const page = await w.open();
    await page.goto(w.server.url('/admin/'));
    await page.fill(hook('login-employee-id'), 'ADM');
    await page.fill(hook('login-password'), PASSWORD);
    await page.click(hook('login-submit'));
    await page.click(hook('tab-privacy'));

    // Nothing given: said next to the field.
    await page.click(hook('privacy-find'));
    await page.locator('#privacy-find [data-field-error="visitor_id"]').filter({ hasText: /visitor id/ }).waitFor();

    // Found: its facts, with its chat counted.
    await page.fill(hook('privacy-visitor-input'), visitor.id);
    await page.click(hook('privacy-find'));
    await page.locator(hook('privacy-visitor-id')).filter({ hasText: visitor.id }).waitFor();
    assert.match(await page.locator(hook('privacy-counts')).textContent(), /^1 chats, /);

    // The download is the export, as JSON.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(hook('privacy-download'))]);
    assert.strictEqual(download.suggestedFilename(), `visitor-${visitor.id}.json`);
    const stream = await download.createReadStream();
    let text = '';
    for await (const chunk of stream) text += chunk;
    const exported = JSON.parse(text);
    assert.strictEqual(exported.data.visitor.id, visitor.id);
    assert.strictEqual(exported.data.chats.length, 1);
    assert.ok(!text.includes(visitor.token), 'never a token');

    // The erase button waits for the typed id.
    const erase = page.locator(hook('privacy-erase'));
    assert.strictEqual(await erase.isDisabled(), true);
    await page.fill(hook('privacy-confirm'), visitor.id.slice(0, 8));
    assert.strictEqual(await erase.isDisabled(), true);
    assert.strictEqual((await request('GET', w.server.url('/poll?timeout=0'), { token: visitor.token })).status, 200);
    await page.fill(hook('privacy-confirm'), visitor.id);
    await erase.click();
    await page.locator('#notice').filter({ hasText: /erased/ }).waitFor();
    assert.strictEqual((await request('GET', w.server.url('/poll?timeout=0'), { token: visitor.token })).status, 401);

    // The audit log shows the look and the erase, newest first.
    await page.locator(`${hook('audit-row')}[data-action="visitor.erase"]`).waitFor();
    const actions = await page.locator(hook('audit-action')).allTextContents();
    assert.deepStrictEqual(actions, ['visitor.erase', 'visitor.export']);
    assert.deepStrictEqual(await page.locator(hook('audit-subject')).allTextContents(), [visitor.id, visitor.id]);
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});
