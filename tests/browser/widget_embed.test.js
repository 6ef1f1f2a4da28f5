// The widget embedded the way a customer's site does it: from the chat server's origin into a
// page of another origin. An allowlisted site chats; a site outside the list gets nothing done.
// (A browser without WebSocket, fetch, Promise or EventSource: widget_legacy.test.js.)
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
  const chat = await startChatFromWidget(page, w.site.url, w.agent.id);
  await say(chat, 'Do you ship to Busan?');
  const chatId = await w.agent.waitFor(() => w.agent.chats()[0], 'a chat');
  await w.agent.waitFor(() => w.agent.messages(chatId).includes('visitor: Do you ship to Busan?'), 'the visitor message');
  await w.agent.send(chatId, 'a-1', 'Yes, in 3 days.');
  await waitForMessage(chat, 'Yes, in 3 days.');
  const shown = (await shownMessages(chat)).filter((m) => m.from !== 'system').map((m) => `${m.from}: ${m.text}`);
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

// The premise changed with the iframe: the frame page's CSP (frame-ancestors: the allowlist and
// 'self') makes Chromium refuse to show the chat on a site outside the list, so the widget never
// gets as far as asking the API. Its intent stays: nothing is done for that site, no visitor, no
// chat, and the site is left without a launcher that could not work.
test('a site outside the allowlist is refused: no visitor, no chat', async () => {
  const w = await world();
  try {
    const page = await (await w.browser.newContext()).newPage();
    const tried = [];
    const frames = [];
    page.on('request', (request) => {
      if (request.url().startsWith(w.server.origin + '/api/')) tried.push(request.url());
      if (request.url().startsWith(w.server.url('/widget/frame.html'))) frames.push(request.url());
    });
    await page.goto(w.site.otherOriginUrl);
    await page.click(hook('launcher'));
    // The loader gives up on a frame that never said ready (3 s after its load event).
    await page.locator(hook('launcher')).waitFor({ state: 'detached', timeout: 15000 });
    await sleep(1000);
    assert.ok(frames.length >= 1, 'the widget did try to load its frame from the server');
    assert.deepStrictEqual(tried, [], 'no request reached the API from a refused site');
    assert.strictEqual(await page.locator(hook('frame')).count(), 0, 'the iframe is gone too');
    const { body } = await w.server.api('GET', '/api/visitors/online', undefined, w.admin.token);
    assert.deepStrictEqual(body.visitors, [], 'no visitor was created or seen');
  } finally {
    await w.close();
  }
});

// IE8-11 and old Android browsers ignore frame-ancestors: there the frame loads on any site, and
// the server's check of embed_origin is what refuses it (the header is taken away here).
test('where the frame is drawn on a refused site anyway, the server makes no visitor for it', async () => {
  const w = await world();
  try {
    const page = await (await w.browser.newContext()).newPage();
    await page.route('**/widget/frame.html*', async (route) => {
      const response = await route.fetch();
      const headers = { ...response.headers() };
      delete headers['content-security-policy'];
      await route.fulfill({ response, headers });
    });
    const creations = [];
    page.on('response', (r) => {
      if (r.url() === w.server.url('/api/visitors') && r.request().method() === 'POST') creations.push(r.status());
    });
    await page.goto(w.site.otherOriginUrl);
    await page.click(hook('launcher'));
    await page.locator(hook('launcher')).waitFor({ state: 'detached', timeout: 15000 });
    assert.deepStrictEqual(creations, [403], 'the frame asked for a visitor once and was refused');
    const { body } = await w.server.api('GET', '/api/visitors/online', undefined, w.admin.token);
    assert.deepStrictEqual(body.visitors, [], 'no visitor was created or seen');
    assert.strictEqual(await page.locator(hook('frame')).count(), 0, 'the iframe is gone');
  } finally {
    await w.close();
  }
});
