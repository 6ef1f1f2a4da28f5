// First run and administration in the browser: a fresh server has no agent, the console's setup
// form creates the first admin, and the admin pages create an agent, change its capacity,
// disable it, show ratings per agent, and turn email to visitors off.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { Server, freePort, hook, launchBrowser, watchErrors } = require('./harness');

test('the first admin is created in the console, then manages agents in the admin pages', async () => {
  // Email on (towards a port nobody listens on: nothing here waits for a delivery).
  const smtpPort = await freePort();
  const server = await Server.start({
    settings: `[email]\nserver = "127.0.0.1"\nport = ${smtpPort}\ntls = "none"\nfrom = "help@example.com"\nteam = ["team@example.com"]`,
  });
  const browser = await launchBrowser();
  try {
    const errors = [];
    const console_ = await (await browser.newContext()).newPage();
    watchErrors(console_, errors);
    await console_.goto(server.url('/agent/'));
    await console_.fill(hook('setup-employee-id'), 'root');
    await console_.fill(hook('setup-name'), 'Ada');
    await console_.fill(hook('setup-password'), 'first admin password');
    await console_.click(hook('setup-submit'));
    await console_.waitForSelector(hook('me'));
    assert.deepStrictEqual((await server.api('GET', '/api/setup')).body, { needed: false });

    const admin = await (await browser.newContext()).newPage();
    watchErrors(admin, errors);
    await admin.goto(server.url('/admin/'));
    await admin.fill(hook('login-employee-id'), 'root');
    await admin.fill(hook('login-password'), 'first admin password');
    await admin.click(hook('login-submit'));
    await admin.click(hook('tab-agents'));
    await admin.fill(hook('new-employee-id'), 'E7');
    await admin.fill(hook('new-name'), 'Grace');
    await admin.fill(hook('new-password'), 'grace password');
    await admin.fill(hook('new-max-chats'), '2');
    await admin.click(hook('new-submit'));
    const row = admin.locator(`${hook('agent-row')}[data-employee-id="E7"]`);
    await row.waitFor();

    await row.locator(hook('agent-max-chats')).fill('6');
    await row.locator(hook('agent-save')).click();
    const login = await server.api('POST', '/api/agent/login', { employee_id: 'E7', password: 'grace password' });
    assert.strictEqual(login.status, 200);
    const until = Date.now() + 5000;
    let maxChats;
    while (Date.now() < until) {
      const { body } = await server.api('POST', '/api/agent/login', { employee_id: 'E7', password: 'grace password' });
      maxChats = body.max_chats;
      if (maxChats === 6) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.strictEqual(maxChats, 6, 'the new capacity is stored');

    await row.locator(hook('agent-disable')).click();
    await row.locator(hook('agent-enable')).waitFor();
    const refused = await server.api('POST', '/api/agent/login', { employee_id: 'E7', password: 'grace password' });
    assert.strictEqual(refused.status, 401, 'a disabled agent cannot log in');

    await admin.click(hook('tab-ratings'));
    await admin.locator(`${hook('rating-row')}`).first().waitFor();
    assert.ok(await admin.locator(hook('rating-row')).count() >= 2, 'a line per agent');

    await admin.click(hook('tab-announcements'));
    const visitorEmail = admin.locator(hook('visitor-email'));
    await visitorEmail.waitFor();
    assert.strictEqual(await visitorEmail.isChecked(), true, 'email to visitors starts on');
    await visitorEmail.uncheck();
    const adminToken = (await server.api('POST', '/api/agent/login', { employee_id: 'root', password: 'first admin password' })).body.token;
    const switchedUntil = Date.now() + 5000;
    let shown;
    while (Date.now() < switchedUntil) {
      shown = (await server.api('GET', '/api/admin/email', undefined, adminToken)).body;
      if (shown.visitor_email === false) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepStrictEqual(shown, { configured: true, visitor_email: false }, 'the switch is stored');
    assert.deepStrictEqual(errors, []);
  } finally {
    await browser.close();
    await server.stop();
  }
});
