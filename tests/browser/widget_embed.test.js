// The widget embedded the way a customer's site does it: from the chat server's origin into a
// page of another origin. An allowlisted site chats; a site outside the list gets nothing done.
// And the same chat in a browser without WebSocket, fetch, Promise or EventSource.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const {
  hook, say, shopWorld, shownMessages, sleep, startChatFromWidget, transcript, waitForMessage, watchErrors,
} = require('./harness');

/** A server allowing one customer site, an agent online through the API, and Chromium. */
const world = () => shopWorld();

/** A whole visitor flow against the API agent; returns the chat id. */
async function chatBothWays(page, w) {
  await startChatFromWidget(page, w.site.url, w.agent.id);
  await say(page, 'Do you ship to Busan?');
  const chatId = await w.agent.waitFor(() => w.agent.chats()[0], 'a chat');
  await w.agent.waitFor(() => w.agent.messages(chatId).includes('visitor: Do you ship to Busan?'), 'the visitor message');
  await w.agent.send(chatId, 'a-1', 'Yes, in 3 days.');
  await waitForMessage(page, 'Yes, in 3 days.');
  const shown = (await shownMessages(page)).filter((m) => m.from !== 'system').map((m) => `${m.from}: ${m.text}`);
  assert.deepStrictEqual(shown, ['visitor: Do you ship to Busan?', 'agent: Yes, in 3 days.']);
  return chatId;
}

test('an allowlisted site on another origin embeds the widget and chats', async () => {
  const w = await world();
  try {
    const page = await (await w.browser.newContext()).newPage();
    const errors = watchErrors(page, []);
    const chatId = await chatBothWays(page, w);
    const stored = (await transcript(w.server, w.admin.token, chatId)).filter((e) => e.type === 'message');
    assert.deepStrictEqual(stored.map((e) => e.body), ['Do you ship to Busan?', 'Yes, in 3 days.']);
    assert.deepStrictEqual(errors, []);
  } finally {
    await w.close();
  }
});

test('a site outside the allowlist is refused: no visitor, no chat', async () => {
  const w = await world();
  try {
    const page = await (await w.browser.newContext()).newPage();
    const tried = [];
    page.on('request', (request) => { if (request.url().startsWith(w.server.origin + '/api/')) tried.push(request.url()); });
    await page.goto(w.site.otherOriginUrl);
    await page.click(hook('launcher'));
    await page.waitForSelector(hook('connection'), { state: 'visible', timeout: 15000 });
    await sleep(1000);
    assert.ok(tried.length >= 1, 'the widget did try to reach the server');
    const { body } = await w.server.api('GET', '/api/visitors/online', undefined, w.admin.token);
    assert.deepStrictEqual(body.visitors, [], 'no visitor was created or seen');
    assert.strictEqual(await page.locator(hook('agent-option')).count(), 0, 'no agent list for a refused site');
  } finally {
    await w.close();
  }
});

test('a legacy browser without WebSocket, fetch, Promise and EventSource chats the same', async () => {
  const w = await world();
  try {
    const context = await w.browser.newContext();
    await context.addInitScript(() => {
      delete window.WebSocket;
      delete window.fetch;
      delete window.Promise;
      delete window.EventSource;
    });
    const page = await context.newPage();
    const errors = watchErrors(page, []);
    await page.goto(w.site.url);
    // Read back through a script element: page.evaluate itself needs the page's Promise.
    await page.addScriptTag({ content: `document.body.setAttribute('data-gone', [typeof WebSocket, typeof fetch,
      typeof Promise, typeof EventSource].join(','));` });
    assert.strictEqual(await page.locator('body').getAttribute('data-gone'), 'undefined,undefined,undefined,undefined');
    await chatBothWays(page, w);
    assert.deepStrictEqual(errors, []);
  } finally {
    await w.close();
  }
});
