// A whole chat between a visitor page and the agent console, each in its own browser context:
// agent list, start, messages both ways, typing both ways, transfer to a second console, close,
// rating. And markup in a message stays text on both sides.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const {
  hook, loginConsole, openWidget, say, shopWorld, shownMessages, startChatFromWidget, tokenOf, waitForMessage,
} = require('./harness');

const MARKUP = '<img src=x onerror=alert(1)>';

const world = () => shopWorld({ agentOnline: false, moreAgents: [['E2', 'Bob']] });

/** The pane of `chatId` in a console. */
const pane = (chatId) => `${hook('chat')}[data-chat-id="${chatId}"]`;

test('visitor and console hold a whole chat: typing, transfer, close, rating', async () => {
  const w = await world();
  try {
    const alice = await w.open();
    const bob = await w.open();
    await loginConsole(alice, w.server, 'E1');
    await loginConsole(bob, w.server, 'E2');
    const aliceId = (await tokenOf(w.server, 'E1')).agent_id;
    const bobId = (await tokenOf(w.server, 'E2')).agent_id;

    const visitorPage = await w.open();
    await visitorPage.goto(w.site.url);
    const choosing = await openWidget(visitorPage);
    await choosing.locator(`${hook('agent-option')}[data-agent-id="${bobId}"]`).waitFor();
    assert.strictEqual(await choosing.locator(hook('agent-option')).count(), 2, 'both consoles are online');
    const visitor = await startChatFromWidget(visitorPage, w.site.url, aliceId);
    await say(visitor, 'My tent pole broke');

    const chat = alice.locator(hook('chat')).first();
    await chat.waitFor();
    const chatId = await chat.getAttribute('data-chat-id');
    await waitForMessage(alice.locator(pane(chatId)), 'My tent pole broke');

    // Typing, both ways.
    await visitor.locator(hook('input')).pressSequentially('Also', { delay: 50 });
    await alice.locator(`${pane(chatId)} ${hook('typing')}`).waitFor({ state: 'visible' });
    await alice.locator(`${pane(chatId)} ${hook('input')}`).pressSequentially('Sorry', { delay: 50 });
    await visitor.locator(hook('typing')).waitFor({ state: 'visible' });
    await alice.fill(`${pane(chatId)} ${hook('input')}`, '');

    await say(alice.locator(pane(chatId)), 'We will send a new pole today.');
    await waitForMessage(visitor, 'We will send a new pole today.');

    // Markup is text on both sides.
    await say(visitor, MARKUP);
    await waitForMessage(alice.locator(pane(chatId)), MARKUP);
    await say(alice.locator(pane(chatId)), MARKUP);
    await waitForMessage(visitor, MARKUP);
    for (const page of [visitor, alice]) {
      assert.strictEqual(await page.locator(`${hook('messages')} img`).count(), 0, 'no element made from a message');
    }

    // Transfer to Bob: his console gets the chat with its whole transcript; Alice's goes read-only.
    const target = alice.locator(`${pane(chatId)} ${hook('transfer-target')}`);
    await alice.locator(`${pane(chatId)} ${hook('transfer-target')} option[value="${bobId}"]`).waitFor({ state: 'attached' });
    await target.selectOption(bobId);
    await alice.click(`${pane(chatId)} ${hook('transfer')}`);
    await waitForMessage(bob.locator(pane(chatId)), 'My tent pole broke');
    assert.ok(await alice.locator(`${pane(chatId)} ${hook('input')}`).isDisabled(), 'the former agent can no longer write');
    await say(bob.locator(pane(chatId)), 'Bob here, the pole is on its way.');
    await waitForMessage(visitor, 'Bob here, the pole is on its way.');

    const fromVisitor = (await shownMessages(visitor)).filter((m) => m.from !== 'system').map((m) => `${m.from}: ${m.text}`);
    assert.deepStrictEqual(fromVisitor, [
      'visitor: My tent pole broke', 'agent: We will send a new pole today.', `visitor: ${MARKUP}`, `agent: ${MARKUP}`,
      'agent: Bob here, the pole is on its way.',
    ]);

    // Bob closes; the visitor rates.
    await bob.click(`${pane(chatId)} ${hook('close-chat')}`);
    await visitor.locator(`${hook('chat-status')}[data-state="closed"]`).waitFor();
    await visitor.locator(`${hook('rating-star')}[data-score="5"]`).click();
    await visitor.locator(hook('rating-comment')).fill('Fast and kind');
    await visitor.locator(hook('rating-submit')).click();
    await visitor.locator(hook('rating-thanks')).waitFor();

    const admin = await tokenOf(w.server, 'ADM');
    const { body } = await w.server.api('GET', '/api/admin/stats/agents', undefined, admin.token);
    const stats = Object.fromEntries(body.agents.map((a) => [a.employee_id, [a.ratings, a.average_score, a.chats_closed]]));
    assert.deepStrictEqual(stats.E2, [1, 5, 1], 'the rating went to Bob, who served the chat to its end');
    assert.deepStrictEqual(stats.E1, [0, null, 0]);
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});
