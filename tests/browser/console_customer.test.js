// The customer panel next to a chat in the console (issue 17 item 3): a verified and an
// unverified visitor look different (a "Verified" badge with a check mark, or an "Unverified"
// label), the site's name, the pages of this visit, earlier chats with their rating and a
// read-only transcript; markup in a visitor's name, a page title or a rating comment is text.
//
// The verified visitor is made by writing the identity columns in the store with sqlite3 (what
// the identity check writes), which is what the console's views read.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { ApiAgent, hook, loginConsole, shopWorld, tokenOf } = require('./harness');

const MARKUP = '<img src=x onerror=alert(1)>';

const pane = (chatId) => `${hook('chat')}[data-chat-id="${chatId}"]`;

async function ok(promise, status, what) {
  const answer = await promise;
  assert.strictEqual(answer.status, status, `${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

test('the console shows who the customer is: verified or not, pages, earlier chats', async () => {
  const w = await shopWorld({ agentOnline: false, moreAgents: [['E2', 'Bob']] });
  try {
    const { server } = w;
    const made = await ok(server.api('POST', '/api/admin/sites', { name: 'Outdoor <Shop>', origins: [w.site.origin || server.origin] }, w.admin.token), 201, 'site');
    const siteId = made.site.site_id;

    // Ann: verified customer of the site, who chatted with Bob before and rated it.
    const ann = await ok(server.api('POST', '/api/visitors', {
      name: 'Ann Walker', site_id: siteId, page_url: 'https://shop.example/tents', page_title: MARKUP,
    }), 201, 'ann');
    await ok(server.api('POST', '/api/visitors/page', { page_url: 'https://shop.example/tents/poles', page_title: 'Tent poles' }, ann.token), 200, 'page');
    const db = path.join(server.dir, 'switchboard.db');
    execFileSync('sqlite3', ['-cmd', '.timeout 5000', db,
      `UPDATE visitors SET verified = 1, customer_id = 'cust-77', email = 'ann@shop.example' WHERE id = '${ann.visitor_id}'`]);
    const bob = await ApiAgent.online(server, 'E2');
    const earlier = await ok(server.api('POST', '/api/chats', { agent_id: bob.id }, ann.token), 201, 'earlier chat');
    await ok(server.api('POST', '/send', { chat_id: earlier.chat_id, client_msg_id: 'e1', body: 'My tent pole broke last week' }, ann.token), 200, 'send');
    await ok(server.api('POST', `/api/chats/${earlier.chat_id}/close`, {}, ann.token), 200, 'close');
    await ok(server.api('POST', `/api/chats/${earlier.chat_id}/rating`, { score: 4, comment: `<b>${MARKUP}</b>` }, ann.token), 201, 'rating');
    await bob.stop();

    const consolePage = await w.open();
    await loginConsole(consolePage, server, 'E1');
    const alice = await tokenOf(server, 'E1');
    const now = await ok(server.api('POST', '/api/chats', { agent_id: alice.agent_id }, ann.token), 201, 'chat with alice');
    const annPane = consolePage.locator(pane(now.chat_id));
    const panel = annPane.locator(hook('customer'));
    await panel.locator(hook('customer-name')).getByText('Ann Walker', { exact: true }).waitFor();
    const badge = panel.locator(hook('customer-verified'));
    assert.strictEqual(await badge.getAttribute('data-verified'), 'true');
    assert.match(await badge.textContent(), /✓\s*Verified/);
    assert.ok(await badge.evaluate((node) => node.classList.contains('badge-verified')));
    assert.strictEqual(await panel.locator(hook('customer-email')).textContent(), 'Email: ann@shop.example');
    assert.strictEqual(await panel.locator(hook('customer-site')).textContent(), 'Site: Outdoor <Shop>');
    assert.strictEqual(await panel.locator('#customer-prechat-' + now.chat_id).count(), 1, 'a place for the pre-chat answers');

    // Pages of this visit, newest first; the title as typed.
    await panel.locator(hook('customer-page')).nth(1).waitFor();
    const pages = await panel.locator(hook('customer-page')).allTextContents();
    assert.strictEqual(pages.length, 2, pages.join('\n'));
    assert.ok(pages[0].startsWith('Tent poles'), pages[0]);
    assert.ok(pages[1].startsWith(MARKUP), pages[1]);

    // The earlier chat with its rating, and its transcript on demand.
    const chats = panel.locator(hook('customer-chat'));
    await chats.first().waitFor();
    assert.strictEqual(await chats.count(), 1, 'the open chat is not an earlier one');
    assert.strictEqual(await chats.first().getAttribute('data-chat-id'), earlier.chat_id);
    assert.match(await chats.first().locator(hook('customer-rating')).textContent(), /4\/5 — “<b><img src=x onerror=alert\(1\)><\/b>”/);
    assert.match(await chats.first().textContent(), /Bob/);
    await chats.first().locator(hook('customer-transcript-toggle')).click();
    const transcript = chats.first().locator(hook('customer-transcript'));
    await transcript.locator(hook('message-body')).getByText('My tent pole broke last week', { exact: true }).waitFor();
    assert.strictEqual(await transcript.locator('textarea, input').count(), 0, 'read-only');

    // Another visitor, anonymous, whose name is markup.
    const anon = await ok(server.api('POST', '/api/visitors', { name: MARKUP, page_url: 'https://shop.example/' }), 201, 'anon');
    const second = await ok(server.api('POST', '/api/chats', { agent_id: alice.agent_id }, anon.token), 201, 'anon chat');
    const anonPanel = consolePage.locator(`${pane(second.chat_id)} ${hook('customer')}`);
    await anonPanel.locator(hook('customer-name')).getByText(MARKUP, { exact: true }).waitFor();
    const anonBadge = anonPanel.locator(hook('customer-verified'));
    assert.strictEqual(await anonBadge.getAttribute('data-verified'), 'false');
    assert.strictEqual(await anonBadge.textContent(), 'Unverified');
    assert.strictEqual(await anonPanel.locator('.badge-verified').count(), 0, 'no verified badge');
    assert.ok(!/✓/.test(await anonPanel.locator('summary').textContent()), 'no check mark');
    assert.ok(await anonPanel.locator(hook('customer-email')).isHidden());
    assert.ok(await anonPanel.locator(hook('customer-site')).isHidden());
    await anonPanel.locator(hook('customer-chats')).getByText('No earlier chats.').waitFor();
    const style = (locator) => locator.evaluate((node) => {
      const s = getComputedStyle(node);
      return `${s.borderStyle}|${s.fontStyle}|${s.backgroundColor}`;
    });
    assert.notStrictEqual(await style(badge), await style(anonBadge), 'the two badges differ in more than words');
    assert.notStrictEqual((await style(badge)).split('|')[0], (await style(anonBadge)).split('|')[0], 'and in shape, not only in color');

    assert.strictEqual(await consolePage.locator(`${hook('customer')} img`).count(), 0, 'no element made from visitor text');
    assert.deepStrictEqual(w.errors, [], 'no script error, nothing the CSP blocked');
  } finally {
    await w.close();
  }
});
