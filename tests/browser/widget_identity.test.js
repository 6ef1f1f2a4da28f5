// Verified identity in the widget: two browser contexts (a phone and a laptop) as one customer of
// a site, each with its own identity token signed the way the site's server would (HS256 with
// the site's secret, minted here with crypto.createHmac). The chat started on the first goes on
// on the second, every message once and in order on both; identify(null) on one (a logout)
// makes a new visitor there, and the old chat is no longer shown.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const http = require('node:http');
const { conversation, hook, openWidget, say, shopWorld, waitForMessage, widgetFrame } = require('./harness');

const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A JWT HS256 for `claims`, signed with `secret` as the site's server does. */
function sign(secret, claims) {
  const unsigned = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
  return `${unsigned}.${crypto.createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/** An identity of customer `sub`, issued `age` seconds ago. */
function identity(secret, siteId, sub, age = 0) {
  const now = Math.floor(Date.now() / 1000) - age;
  return sign(secret, { sub, name: 'Ann Lee', email: 'ann@example.com', aud: siteId, iat: now, exp: now + 600 });
}

/**
 * Puts the customer's shop back on its (allowlisted) port as a page whose script tag names the
 * site and carries the identity given in the query string (`?site=…&jwt=…`): the site's server,
 * with the signing done by the test.
 */
async function identityShop(w) {
  await w.site.close();
  const shop = http.createServer((req, res) => {
    const query = new URL(req.url, w.site.origin).searchParams;
    const attr = (name) => String(query.get(name) || '').replace(/[^A-Za-z0-9._-]/g, '');
    const tag = `<script src="${w.server.url('/widget.js')}" async data-site="${attr('site')}" data-identity="${attr('jwt')}"></script>`;
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme</title></head><body><h1>Acme</h1>${tag}</body></html>`);
  });
  await new Promise((resolve, reject) => { shop.once('error', reject); shop.listen(w.site.port, '127.0.0.1', resolve); });
  w.site.close = () => new Promise((resolve) => { shop.closeAllConnections(); shop.close(() => resolve()); });
}

/** Opens the shop on `page` as a visitor of site `siteId` with identity `jwt`. */
async function shopPage(page, w, siteId, jwt) {
  await page.goto(`${w.site.url}?site=${siteId}&jwt=${jwt}`);
}

const visitorOf = (page) => widgetFrame(page).evaluate(() => JSON.parse(localStorage.getItem('sb:visitor')));

test('one customer on two devices: the chat goes on on the second, every message once, in order; a logout is a new visitor', async () => {
  const w = await shopWorld();
  try {
    await identityShop(w);
    const { status, body: made } = await w.server.api('POST', '/api/admin/sites', { name: 'Acme', origins: [w.site.origin] }, w.admin.token);
    assert.strictEqual(status, 201, JSON.stringify(made));
    const siteId = made.site.site_id;

    const phone = await w.open();
    await shopPage(phone, w, siteId, identity(made.secret, siteId, 'u-1', 30));
    const onPhone = await openWidget(phone);
    await onPhone.locator(`${hook('agent-option')}[data-agent-id="${w.agent.id}"]`).click();
    await onPhone.locator(`${hook('chat-status')}[data-state="open"]`).waitFor();
    await say(onPhone, 'From my phone');
    const chatId = await w.agent.waitFor(() => w.agent.chats()[0], 'a chat');
    await w.agent.waitFor(() => w.agent.messages(chatId).includes('visitor: From my phone'), 'the first message');
    await w.agent.send(chatId, 'a-1', 'Hello Ann');
    await waitForMessage(onPhone, 'Hello Ann');

    // The laptop: the same customer, a token of its own, the same visitor and the open chat.
    const laptop = await w.open();
    await shopPage(laptop, w, siteId, identity(made.secret, siteId, 'u-1'));
    const onLaptop = await openWidget(laptop);
    await waitForMessage(onLaptop, 'Hello Ann');
    assert.strictEqual(await visitorOf(laptop), await visitorOf(phone), 'one visitor on both devices');
    await say(onLaptop, 'Now on my laptop');
    await w.agent.waitFor(() => w.agent.messages(chatId).includes('visitor: Now on my laptop'), 'the laptop message');
    await w.agent.send(chatId, 'a-2', 'Got it');
    await say(onPhone, 'Back on the phone');
    const expected = ['visitor: From my phone', 'agent: Hello Ann', 'visitor: Now on my laptop', 'agent: Got it', 'visitor: Back on the phone'];
    for (const [name, chat] of [['phone', onPhone], ['laptop', onLaptop]]) {
      await waitForMessage(chat, 'Back on the phone');
      await waitForMessage(chat, 'Got it');
      assert.deepStrictEqual(await conversation(chat), expected, `${name}: every message once, in order`);
    }

    // The laptop logs out without a reload: a new visitor, and the chat is gone from it.
    const before = await visitorOf(laptop);
    await laptop.evaluate(() => window.SwitchboardWidget.identify(null));
    await onLaptop.locator(`${hook('chat-status')}[data-state="choosing"]`).waitFor();
    const deadline = Date.now() + 15000;
    let after = await visitorOf(laptop);
    while ((!after || after === before) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      after = await visitorOf(laptop);
    }
    assert.ok(after && after !== before, `a new visitor after the logout (${before} → ${after})`);
    assert.deepStrictEqual(await conversation(onLaptop), [], 'the old chat is no longer shown');
    const { body: me } = await w.server.api('GET', '/api/visitors/me', undefined,
      await widgetFrame(laptop).evaluate(() => JSON.parse(localStorage.getItem('sb:token'))));
    assert.strictEqual(me.verified, false, 'the new visitor is anonymous');
    assert.strictEqual(await onLaptop.locator(hook('earlier')).isVisible(), false, 'no earlier conversations offered to an anonymous visitor');
    // The phone goes on untouched.
    await w.agent.send(chatId, 'a-3', 'Still here');
    await waitForMessage(onPhone, 'Still here');
    assert.deepStrictEqual(await conversation(onPhone), [...expected, 'agent: Still here']);

    // The chat ends; the phone's "Earlier conversations" lists it and shows its transcript as text.
    const closed = await w.server.api('POST', `/api/chats/${chatId}/close`, {}, w.agent.token);
    assert.strictEqual(closed.status, 200);
    await onPhone.locator(`${hook('chat-status')}[data-state="closed"]`).waitFor();
    await onPhone.locator(hook('earlier')).click();
    await onPhone.locator(`${hook('earlier-chat')}[data-chat-id="${chatId}"]`).click();
    const earlier = onPhone.locator(`${hook('earlier-list')} ${hook('message-body')}`);
    await earlier.filter({ hasText: 'Still here' }).waitFor();
    assert.deepStrictEqual(await earlier.allTextContents(),
      ['From my phone', 'Hello Ann', 'Now on my laptop', 'Got it', 'Back on the phone', 'Still here']);
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('a site that requires verified visitors asks to sign in, and a bad identity leaves an ordinary site anonymous', async () => {
  const w = await shopWorld();
  try {
    await identityShop(w);
    const strict = await w.server.api('POST', '/api/admin/sites',
      { name: 'Members', origins: [w.site.origin], require_verified: true }, w.admin.token);
    assert.strictEqual(strict.status, 201);
    const page = await w.open();
    await shopPage(page, w, strict.body.site.site_id, sign('sbs_not-the-secret', { sub: 'u-1', iat: 1, exp: 2 }));
    const chat = await openWidget(page);
    await chat.locator(hook('signin')).waitFor({ state: 'visible' });
    assert.strictEqual(await chat.locator(`${hook('chat-status')}[data-state="signin"]`).count(), 1);
    assert.strictEqual(await chat.locator(hook('agent-any')).isVisible(), false, 'no chat offered');
    // The page's login, without a reload: the customer chats.
    await page.evaluate((jwt) => window.SwitchboardWidget.identify(jwt),
      identity(strict.body.secret, strict.body.site.site_id, 'u-1'));
    await chat.locator(hook('agent-any')).waitFor({ state: 'visible' });
    assert.strictEqual(await chat.locator(hook('signin')).isVisible(), false);

    const open = await w.server.api('POST', '/api/admin/sites', { name: 'Shop', origins: [w.site.origin] }, w.admin.token);
    const other = await w.open();
    await shopPage(other, w, open.body.site.site_id, sign('sbs_not-the-secret', { sub: 'u-1', iat: 1, exp: 2 }));
    const anonymous = await openWidget(other);
    await anonymous.locator(hook('agent-any')).waitFor({ state: 'visible' });
    const token = await widgetFrame(other).evaluate(() => JSON.parse(localStorage.getItem('sb:token')));
    const { body: me } = await w.server.api('GET', '/api/visitors/me', undefined, token);
    assert.strictEqual(me.verified, false);
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});
