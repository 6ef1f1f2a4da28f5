// Exactly once, in order, from the visitor's side: two tabs share one held poll; a reload and a
// server crash (kill -9) mid-chat lose nothing and show nothing twice.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const {
  conversation, say, shopWorld, sleep, startChatFromWidget, tokenOf, transcript, waitForMessage,
  watchErrors, widget,
} = require('./harness');

const world = () => shopWorld();

/** Counts `/poll` requests each page sends (its widget frame's: the page sees its frames' requests). */
function countPolls(page, server) {
  const counter = { started: 0 };
  page.on('request', (request) => { if (request.url().startsWith(server.url('/poll'))) counter.started += 1; });
  return counter;
}

test('two tabs of one visitor hold one poll and both show every message once', async () => {
  const w = await world();
  try {
    const context = await w.browser.newContext();
    const first = await context.newPage();
    const errors = watchErrors(first, []);
    await startChatFromWidget(first, w.site.url, w.agent.id);
    const chatId = await w.agent.waitFor(() => w.agent.chats()[0], 'a chat');
    const second = await context.newPage();
    watchErrors(second, errors);
    await second.goto(w.site.url);
    await sleep(4000); // both tabs settle: one leads, the other follows

    const polls = [countPolls(first, w.server), countPolls(second, w.server)];
    const expected = [];
    for (let i = 1; i <= 5; i += 1) {
      await w.agent.send(chatId, `a-${i}`, `agent line ${i}`);
      expected.push(`agent: agent line ${i}`);
      await sleep(300);
    }
    await say(widget(second), 'sent from the second tab');
    expected.push('visitor: sent from the second tab');
    for (const page of [first, second]) {
      await waitForMessage(widget(page), 'sent from the second tab');
      await waitForMessage(widget(page), 'agent line 5');
    }
    await sleep(6000); // a full poll cycle more: nothing is shown twice late
    for (const page of [first, second]) {
      assert.deepStrictEqual(await conversation(widget(page)), expected, 'every message once, in order');
    }
    const pollers = polls.filter((p) => p.started > 0).length;
    console.log(`polls sent over the window: first tab ${polls[0].started}, second tab ${polls[1].started}`);
    assert.strictEqual(pollers, 1, 'exactly one tab polls');
    assert.deepStrictEqual(errors, []);
  } finally {
    await w.close();
  }
});

test('a reload mid-chat loses nothing and shows nothing twice', async () => {
  const w = await world();
  try {
    const page = await (await w.browser.newContext()).newPage();
    const errors = watchErrors(page, []);
    const chat = await startChatFromWidget(page, w.site.url, w.agent.id);
    const chatId = await w.agent.waitFor(() => w.agent.chats()[0], 'a chat');
    await say(chat, 'before the reload');
    await w.agent.waitFor(() => w.agent.messages(chatId).includes('visitor: before the reload'), 'the visitor message');
    await w.agent.send(chatId, 'a-1', 'agent before');
    await waitForMessage(chat, 'agent before');

    await page.reload();
    // Sent while the page is away: it must arrive after the reload, once.
    await w.agent.send(chatId, 'a-2', 'agent during the reload');
    await waitForMessage(chat, 'agent during the reload');
    await say(chat, 'after the reload');
    await w.agent.waitFor(() => w.agent.messages(chatId).includes('visitor: after the reload'), 'the visitor message');
    await w.agent.send(chatId, 'a-3', 'agent after');
    await waitForMessage(chat, 'agent after');
    await sleep(3000);
    assert.deepStrictEqual(await conversation(chat), [
      'visitor: before the reload', 'agent: agent before', 'agent: agent during the reload',
      'visitor: after the reload', 'agent: agent after',
    ]);
    assert.deepStrictEqual(errors, []);
  } finally {
    await w.close();
  }
});

test('a server crash mid-chat loses nothing and shows nothing twice', async () => {
  const w = await world();
  try {
    const page = await (await w.browser.newContext()).newPage();
    const errors = watchErrors(page, []);
    const chat = await startChatFromWidget(page, w.site.url, w.agent.id);
    const chatId = await w.agent.waitFor(() => w.agent.chats()[0], 'a chat');
    await say(chat, 'before the crash');
    await w.agent.waitFor(() => w.agent.messages(chatId).includes('visitor: before the crash'), 'the visitor message');
    await w.agent.send(chatId, 'a-1', 'agent before');
    await waitForMessage(chat, 'agent before');

    await w.server.crash();
    // Written while the server is down: the widget keeps it and retries with the same id.
    await say(chat, 'while the server is down');
    await sleep(1500);
    await w.server.launch();
    await w.agent.waitFor(() => w.agent.messages(chatId).includes('visitor: while the server is down'), 'the retried send');
    await w.agent.send(chatId, 'a-2', 'agent after the restart');
    await waitForMessage(chat, 'agent after the restart');
    await sleep(3000);
    const expected = ['visitor: before the crash', 'agent: agent before', 'visitor: while the server is down',
      'agent: agent after the restart'];
    assert.deepStrictEqual(await conversation(chat), expected);
    const admin = await tokenOf(w.server, 'ADM');
    const stored = (await transcript(w.server, admin.token, chatId)).filter((e) => e.type === 'message');
    assert.deepStrictEqual(stored.map((e) => `${e.from}: ${e.body}`), expected, 'stored once each');
    assert.deepStrictEqual(errors, []);
  } finally {
    await w.close();
  }
});
