// Canned replies kept by the server: the console imports what this browser kept in
// localStorage (then forgets it), lists the team's and the agent's own (marked), inserts one from
// a pane's list, expands `/shortcut` + Tab (the agent's own winning over the team's), and edits
// the agent's own; the admin pages show and edit the team's, and never an agent's own.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const {
  PASSWORD, hook, loginConsole, say, shopWorld, startChatFromWidget, tokenOf, waitForMessage,
} = require('./harness');

const LEGACY_KEY = 'sb.console.canned';

/** The replies `token` may see, as `scope/shortcut=body`. */
async function listed(server, token) {
  const { status, body } = await server.api('GET', '/api/canned', undefined, token);
  assert.strictEqual(status, 200, JSON.stringify(body));
  return body.canned.map((r) => `${r.scope}/${r.shortcut}=${r.body}`);
}

/** The console's list entry of `shortcut` in `scope`. */
const item = (page, scope, shortcut) => page.locator(
  `${hook('canned-item')}[data-scope="${scope}"][data-shortcut="${shortcut}"]`,
);

test('the console imports, lists, inserts, expands and edits canned replies kept by the server', async () => {
  const w = await shopWorld({ agentOnline: false });
  try {
    for (const [shortcut, body] of [['refund', 'Your refund is on its way.'], ['hello', 'Hello from the team.']]) {
      const { status } = await w.server.api('POST', '/api/canned', { scope: 'team', shortcut, body }, w.admin.token);
      assert.strictEqual(status, 201);
    }

    // What this browser kept before the server did.
    const page = await w.open();
    await page.goto(w.server.url('/agent/'));
    await page.evaluate(([key]) => localStorage.setItem(key, JSON.stringify(['Old reply, kept in this browser', ' ', 'See you soon'])), [LEGACY_KEY]);
    await loginConsole(page, w.server, 'E1');
    const agent = await tokenOf(w.server, 'E1');

    await item(page, 'personal', 'old-reply').waitFor();
    assert.strictEqual(await page.evaluate(([key]) => localStorage.getItem(key), [LEGACY_KEY]), null, 'the old key is cleared');
    assert.deepStrictEqual(await listed(w.server, agent.token), [
      'team/hello=Hello from the team.', 'team/refund=Your refund is on its way.',
      'personal/old-reply=Old reply, kept in this browser', 'personal/see-you=See you soon',
    ]);
    assert.strictEqual(await item(page, 'team', 'refund').locator(hook('canned-scope')).textContent(), 'Team');
    assert.strictEqual(await item(page, 'personal', 'old-reply').locator(hook('canned-scope')).textContent(), 'Mine');
    assert.strictEqual(await item(page, 'team', 'refund').locator(hook('canned-edit')).count(), 0, 'team replies are read-only here');

    // The agent's own /hello, which shadows the team's.
    await page.fill(hook('canned-new-shortcut'), 'hello');
    await page.fill(hook('canned-new'), 'Hi, Alice here.');
    await page.click(hook('canned-add'));
    await item(page, 'personal', 'hello').waitFor();

    // A chat: the pane's list and the /shortcut + Tab expansion.
    const visitorPage = await w.open();
    const visitor = await startChatFromWidget(visitorPage, w.site.url, agent.agent_id);
    await say(visitor, 'I want my money back');
    const pane = page.locator(hook('chat')).first();
    await waitForMessage(pane, 'I want my money back');
    const input = pane.locator(hook('input'));
    await input.click();
    await input.pressSequentially('Sure. /refund');
    await input.press('Tab');
    assert.strictEqual(await input.inputValue(), 'Sure. Your refund is on its way.');
    await input.pressSequentially(' /hello');
    await input.press('Tab');
    assert.strictEqual(await input.inputValue(), 'Sure. Your refund is on its way. Hi, Alice here.', 'the own reply wins');
    await input.pressSequentially(' /nothing');
    await input.press('Tab');
    assert.strictEqual(await input.inputValue(), 'Sure. Your refund is on its way. Hi, Alice here. /nothing', 'no such shortcut: left as typed');
    assert.strictEqual(await input.evaluate((node) => node === document.activeElement), false, 'and Tab moves on');

    await input.fill('');
    const oldId = await item(page, 'personal', 'old-reply').getAttribute('data-canned-id');
    await pane.locator(hook('canned')).selectOption(oldId);
    assert.strictEqual(await input.inputValue(), 'Old reply, kept in this browser');
    await pane.locator(hook('send')).click();
    await waitForMessage(visitor, 'Old reply, kept in this browser');

    // Edit and remove the agent's own.
    await item(page, 'personal', 'old-reply').locator(hook('canned-edit')).click();
    await page.fill(hook('canned-new-shortcut'), 'thanks');
    await page.fill(hook('canned-new'), 'Thanks for waiting.');
    await page.click(hook('canned-add'));
    await item(page, 'personal', 'thanks').waitFor();
    await item(page, 'personal', 'hello').locator(hook('canned-remove')).click();
    await item(page, 'personal', 'hello').waitFor({ state: 'detached' });
    assert.deepStrictEqual(await listed(w.server, agent.token), [
      'team/hello=Hello from the team.', 'team/refund=Your refund is on its way.',
      'personal/see-you=See you soon', 'personal/thanks=Thanks for waiting.',
    ]);
    // Without its own /hello the team's expands.
    await input.fill('/hello');
    await input.press('Tab');
    assert.strictEqual(await input.inputValue(), 'Hello from the team.');

    // A reload imports nothing more.
    await page.reload();
    await item(page, 'personal', 'thanks').waitFor();
    assert.strictEqual((await listed(w.server, agent.token)).length, 4);
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('the admin pages show and edit the team canned replies, never an agent\'s own', async () => {
  const w = await shopWorld({ agentOnline: false });
  try {
    const agent = await tokenOf(w.server, 'E1');
    await w.server.api('POST', '/api/canned', { scope: 'personal', shortcut: 'secret', body: 'Mine only' }, agent.token);
    // The admin's own reply is the admin's console's business, not this page's.
    await w.server.api('POST', '/api/canned', { scope: 'personal', shortcut: 'admins-own', body: 'Ada here' }, w.admin.token);
    const page = await w.open();
    await page.goto(w.server.url('/admin/'));
    await page.fill(hook('login-employee-id'), 'ADM');
    await page.fill(hook('login-password'), PASSWORD);
    await page.click(hook('login-submit'));
    await page.click(hook('tab-canned'));

    const form = page.locator(hook('canned-create'));
    await form.locator(hook('new-canned-shortcut')).fill('refund');
    await form.locator(hook('new-canned-body')).fill('Your refund is on its way.');
    await form.locator(hook('new-canned-submit')).click();
    const row = page.locator(`${hook('canned-row')}[data-shortcut="refund"]`);
    await row.waitFor();
    assert.deepStrictEqual(await listed(w.server, agent.token), ['team/refund=Your refund is on its way.', 'personal/secret=Mine only']);
    assert.strictEqual(await page.locator(hook('canned-row')).count(), 1, 'only the team\'s');

    // A shortcut taken: said next to the field, nothing added.
    await form.locator(hook('new-canned-shortcut')).fill('refund');
    await form.locator(hook('new-canned-body')).fill('Again');
    await form.locator(hook('new-canned-submit')).click();
    await page.locator(`${hook('canned-create')} [data-field-error="shortcut"]`).filter({ hasText: /shortcut/ }).waitFor();
    assert.strictEqual(await page.locator(hook('canned-row')).count(), 1);

    // Edit in place, then delete.
    await row.locator(hook('canned-body')).fill('Refunded within 5 days.');
    await row.locator(hook('canned-shortcut')).fill('refunds');
    await row.locator(hook('canned-save')).click();
    const renamed = page.locator(`${hook('canned-row')}[data-shortcut="refunds"]`);
    await renamed.waitFor();
    assert.deepStrictEqual(await listed(w.server, agent.token), ['team/refunds=Refunded within 5 days.', 'personal/secret=Mine only']);
    await renamed.locator(hook('canned-delete')).click();
    await renamed.waitFor({ state: 'detached' });
    assert.deepStrictEqual(await listed(w.server, agent.token), ['personal/secret=Mine only']);
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});
