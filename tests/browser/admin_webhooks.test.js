// The Webhooks tab of the admin pages against a real receiver (a Node HTTP server here): an
// admin registers an endpoint, it keeps failing and is disabled with the reason shown, its
// delivery log shows the failed call with its answer code, and once enabled again "Send again"
// delivers that same event (same Webhook-Id), which the log then shows as sent.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const crypto = require('node:crypto');
const { PASSWORD, Server, hook, launchBrowser, sleep, watchErrors } = require('./harness');

/** A receiver on 127.0.0.1 that answers `status()` and records each call's id and signature check. */
async function receiver() {
  const calls = [];
  const state = { status: 500, secret: '' };
  const server = http.createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const ts = request.headers['webhook-timestamp'];
      const expected = 'v1=' + crypto.createHmac('sha256', state.secret).update(`${ts}.`).update(body).digest('hex');
      calls.push({ id: request.headers['webhook-id'], signed: expected === request.headers['webhook-signature'], status: state.status });
      response.writeHead(state.status).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { calls, state, url: `http://127.0.0.1:${server.address().port}/hook`, close: () => server.close() };
}

async function until(what, check, ms = 15000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('an admin registers a webhook, sees it disabled with the reason, enables it and sends a call again', async () => {
  const server = await Server.start({
    settings: '[webhooks]\nallow_private_targets = true\nfirst_retry_ms = 100\ndisable_after_failures = 2',
  });
  const hooked = await receiver();
  const browser = await launchBrowser();
  try {
    server.addAgent('root', 'Ada', { admin: true });
    const errors = [];
    const page = await (await browser.newContext()).newPage();
    watchErrors(page, errors);
    await page.goto(server.url('/admin/'));
    await page.fill(hook('login-employee-id'), 'root');
    await page.fill(hook('login-password'), PASSWORD);
    await page.click(hook('login-submit'));
    await page.click(hook('tab-webhooks'));

    // No event type picked: refused, naming the field.
    await page.fill(hook('new-webhook-url'), hooked.url);
    await page.click(hook('new-webhook-submit'));
    await page.locator('[data-field-error="events"]', { hasText: 'at least one' }).waitFor();
    await page.check(`${hook('new-webhook-event')}[value="offline_message"]`);
    await page.click(hook('new-webhook-submit'));
    const row = page.locator(`${hook('webhook-row')}[data-url="${hooked.url}"]`);
    await row.waitFor();
    assert.strictEqual(await row.locator(hook('webhook-events')).textContent(), 'offline_message');
    assert.strictEqual(await row.locator(hook('webhook-state')).textContent(), 'Enabled');
    await row.locator('summary').click();
    hooked.state.secret = await row.locator(hook('webhook-secret')).textContent();
    assert.match(hooked.state.secret, /^whsec_[0-9a-f]{64}$/);

    // An offline message: its call fails twice (500), and the endpoint is disabled.
    const visitor = await server.api('POST', '/api/visitors', {});
    const left = await server.api('POST', '/api/offline-messages',
      { name: 'Ana', email: 'ana@example.com', body: 'call me' }, visitor.body.token);
    assert.strictEqual(left.status, 201);
    await until('the endpoint disabled', async () => {
      await page.click(hook('webhooks-refresh'));
      await sleep(200);
      return (await row.locator(hook('webhook-state')).textContent()) === 'Disabled';
    });
    assert.match(await row.locator(hook('webhook-reason')).textContent(), /2 tries in a row failed.*500/);
    assert.strictEqual(hooked.calls.length, 2);
    assert.ok(hooked.calls.every((call) => call.signed), 'every call is signed with the shown secret');

    await row.locator(hook('webhook-deliveries')).click();
    const delivery = page.locator(`${hook('delivery-row')}[data-event-id="${hooked.calls[0].id}"]`);
    await until('the delivery marked failed', async () => {
      await row.locator(hook('webhook-deliveries')).click();
      await sleep(200);
      return (await delivery.getAttribute('data-state')) === 'failed';
    });
    assert.strictEqual(await delivery.locator(hook('delivery-status')).textContent(), '500');

    // Enabled again, the failed call is sent again: the same event id, taken this time.
    hooked.state.status = 200;
    await row.locator(hook('webhook-enable')).click();
    await row.locator(hook('webhook-disable')).waitFor();
    assert.strictEqual(await row.locator(hook('webhook-failures')).textContent(), '0');
    await delivery.locator(hook('delivery-resend')).click();
    await until('the call sent again', () => hooked.calls.some((call) => call.status === 200));
    assert.deepStrictEqual(hooked.calls.map((call) => call.id), Array(3).fill(hooked.calls[0].id));
    await until('the delivery marked sent', async () => {
      await row.locator(hook('webhook-deliveries')).click();
      await sleep(200);
      return (await delivery.getAttribute('data-state')) === 'sent';
    });
    assert.strictEqual(await delivery.locator(hook('delivery-status')).textContent(), '200');

    await row.locator(hook('webhook-delete')).click();
    await row.waitFor({ state: 'detached' });
    assert.deepStrictEqual((await server.api('GET', '/api/admin/webhooks', undefined,
      (await server.api('POST', '/api/agent/login', { employee_id: 'root', password: PASSWORD })).body.token)).body.webhooks, []);
    assert.deepStrictEqual(errors, []);
  } finally {
    await browser.close();
    hooked.close();
    await server.stop();
  }
});
