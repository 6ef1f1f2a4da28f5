// Banning from the console: the agent bans the visitor of an open chat (reason, duration,
// address); the visitor's widget sees the chat end for the ban, the console's pane closes and
// the ban shows in the sidebar list, where its maker lifts it.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const {
  hook, loginConsole, say, shopWorld, startChatFromWidget, tokenOf, waitForMessage, widgetFrame,
} = require('./harness');

/** The pane of `chatId` in a console. */
const pane = (chatId) => `${hook('chat')}[data-chat-id="${chatId}"]`;

test('the console bans the visitor of a chat: the widget sees the chat end, the ban is listed and lifted', async () => {
  const w = await shopWorld({ agentOnline: false });
  try {
    const console_ = await w.open();
    await loginConsole(console_, w.server, 'E1');
    const agentId = (await tokenOf(w.server, 'E1')).agent_id;

    const visitorPage = await w.open();
    const visitor = await startChatFromWidget(visitorPage, w.site.url, agentId);
    await say(visitor, 'You are all useless');
    const chat = console_.locator(hook('chat')).first();
    await chat.waitFor();
    const chatId = await chat.getAttribute('data-chat-id');
    const scope = console_.locator(pane(chatId));
    await waitForMessage(scope, 'You are all useless');

    // Ban, with a reason, for a day, with the address.
    await scope.locator(hook('ban-visitor')).click();
    await scope.locator(hook('ban-form')).waitFor({ state: 'visible' });
    await scope.locator(hook('ban-reason')).fill('Abusive language');
    await scope.locator(hook('ban-duration')).selectOption('1440');
    assert.ok(await scope.locator(hook('ban-include-ip')).isChecked(), 'the address is banned too unless unticked');
    await scope.locator(hook('ban-confirm')).click();

    // The visitor's widget: the chat ended, for the ban.
    await visitor.locator(`${hook('chat-status')}[data-state="closed"]`).waitFor();
    await widgetFrame(visitorPage).waitForFunction(
      (selector) => document.querySelector(selector).textContent.includes('You cannot start a new chat for now.'),
      hook('messages'),
    );
    // The console's pane: closed, for the ban, and the button says it is done.
    await console_.locator(`${pane(chatId)}[data-status="closed"]`).waitFor();
    await console_.waitForFunction(
      (selector) => document.querySelector(selector).textContent.includes('The visitor was banned'),
      `${pane(chatId)} ${hook('messages')}`,
    );
    assert.ok(await scope.locator(hook('ban-visitor')).isDisabled());

    // The sidebar lists it without the address; the server refuses the visitor.
    const row = console_.locator(hook('ban-row')).first();
    await row.waitFor();
    assert.strictEqual(await row.locator(hook('ban-address')).textContent(), 'with address');
    const { body } = await w.server.api('GET', '/api/bans', undefined, w.admin.token);
    assert.strictEqual(body.bans.length, 1);
    assert.strictEqual(body.bans[0].reason, 'Abusive language');
    assert.strictEqual(body.bans[0].ip, '127.0.0.1', 'the address the widget came from');
    const visitorId = body.bans[0].visitor_id;
    assert.strictEqual(await row.getAttribute('data-visitor-id'), visitorId);

    // Its maker lifts it from the list.
    await row.locator(hook('lift-ban')).click();
    await console_.locator(hook('ban-row')).waitFor({ state: 'detached' });
    const after = await w.server.api('GET', '/api/bans', undefined, w.admin.token);
    assert.deepStrictEqual(after.body.bans, []);
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});
