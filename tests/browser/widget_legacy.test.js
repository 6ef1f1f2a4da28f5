// The widget in old browsers, simulated in Chromium before any script of the page or the frame
// runs (legacy.js): IE8-like, IE9-like, and a current browser without WebSocket, fetch, Promise
// and EventSource. Each runs a whole chat: start, both directions, end, rating (a lazy module,
// which IE8 loads through a script's readyState). IE8 also runs two tabs, whose storage events do
// not say which key changed. What the simulations cannot take away (flexbox, SVG) is checked on
// the page in a normal browser.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const {
  conversation, hook, openWidget, say, shopWorld, sleep, startChatFromWidget, transcript, waitForMessage, widget,
} = require('./harness');
const { simulation } = require('./legacy');

/** What a simulation noted the page did that the old browser would not allow, page and frame. */
async function misuse(page) {
  const noted = [await page.locator('html').getAttribute('data-legacy-misuse'),
    await widget(page).locator('html').getAttribute('data-legacy-misuse')];
  return noted.filter(Boolean);
}

/** What the simulation saw of itself once in force, on the page and in the widget's frame. */
async function probes(page) {
  // The simulation marks the root element at DOMContentLoaded when it ran before there was one:
  // wait for the mark itself, not only for the element.
  await page.locator('html[data-legacy-probe]').waitFor({ state: 'attached' });
  await widget(page).locator('html[data-legacy-probe]').waitFor({ state: 'attached' });
  return [await page.locator('html').getAttribute('data-legacy-probe'),
    await widget(page).locator('html').getAttribute('data-legacy-probe')];
}

/** A context where every page and frame is the simulated browser `name`. */
async function oldBrowser(w, name) {
  const context = await w.context();
  await context.addInitScript(simulation(name));
  return context;
}

/** Start, a message each way, end, rate: the chat as the visitor and the store see it. */
async function wholeChat(w, page) {
  const chat = await startChatFromWidget(page, w.site.url, w.agent.id);
  await say(chat, 'Is this tent waterproof?');
  const chatId = await w.agent.waitFor(() => w.agent.chats()[0], 'a chat');
  await w.agent.waitFor(() => w.agent.messages(chatId).includes('visitor: Is this tent waterproof?'), 'the question');
  await w.agent.send(chatId, 'a-1', 'Yes, 3000 mm.');
  await waitForMessage(chat, 'Yes, 3000 mm.');
  assert.deepStrictEqual(await conversation(chat), ['visitor: Is this tent waterproof?', 'agent: Yes, 3000 mm.']);
  await chat.locator(hook('end-chat')).click();
  await chat.locator(`${hook('chat-status')}[data-state="closed"]`).waitFor();
  await chat.locator(`${hook('rating-star')}[data-score="5"]`).click();
  await chat.locator(hook('rating-submit')).click();
  await chat.locator(hook('rating-thanks')).waitFor({ state: 'visible' });
  const stored = await transcript(w.server, w.admin.token, chatId);
  assert.deepStrictEqual(stored.filter((e) => e.type === 'message').map((e) => `${e.from}: ${e.body}`),
    ['visitor: Is this tent waterproof?', 'agent: Yes, 3000 mm.']);
  const { body } = await w.server.api('GET', '/api/admin/stats/agents', undefined, w.admin.token);
  const alice = (body.agents || []).find((a) => a.agent_id === w.agent.id) || {};
  assert.deepStrictEqual([alice.ratings >= 1, alice.average_score], [true, 5], `the rating is stored: ${JSON.stringify(body)}`);
  return chatId;
}

test('IE8-like, the loader a plain <script> in <head>: a whole chat, and two tabs share one poll though storage events name no key', async () => {
  // IE8 ignores async: the loader runs before the body exists.
  const w = await shopWorld({ inHead: true });
  try {
    const context = await oldBrowser(w, 'ie8');
    const page = await w.open(context);
    await page.goto(w.site.url);
    assert.deepStrictEqual(await probes(page), ['undefined,function,undefined', 'undefined,function,undefined']);
    await wholeChat(w, page);
    assert.deepStrictEqual(await misuse(page), []);

    // A new chat, and a second tab: one of them polls, both show every message once.
    const chat = widget(page);
    await chat.locator(hook('new-chat')).click();
    await chat.locator(`${hook('agent-option')}[data-agent-id="${w.agent.id}"]`).click();
    await chat.locator(`${hook('chat-status')}[data-state="open"]`).waitFor();
    const chatId = await w.agent.waitFor(() => w.agent.chats()[1], 'the second chat');
    const second = await w.open(context);
    await second.goto(w.site.url);
    // The chat is running with the panel open: the new tab opens it by itself.
    const other = widget(second);
    await other.locator(hook('panel')).waitFor({ state: 'visible' });
    await other.locator(`${hook('chat-status')}[data-state="open"]`).waitFor();
    await sleep(3000); // the heartbeat settles who leads
    const polls = [0, 0];
    [page, second].forEach((p, i) => p.on('request', (r) => { if (r.url().includes('/poll?')) polls[i] += 1; }));
    await w.agent.send(chatId, 'a-2', 'Anything else?');
    await say(other, 'No, thanks!');
    for (const scope of [chat, other]) {
      await waitForMessage(scope, 'Anything else?');
      await waitForMessage(scope, 'No, thanks!');
    }
    await sleep(2500);
    for (const scope of [chat, other]) {
      assert.deepStrictEqual(await conversation(scope), ['agent: Anything else?', 'visitor: No, thanks!']);
    }
    console.log(`IE8-like: polls in the window, first tab ${polls[0]}, second tab ${polls[1]}`);
    assert.strictEqual(polls.filter((n) => n > 0).length, 1, `one tab polls: ${polls}`);
    assert.deepStrictEqual(await misuse(page), []);
    assert.deepStrictEqual(await misuse(second), []);
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('IE9-like: a whole chat without cross-origin XMLHttpRequest or XDomainRequest', async () => {
  const w = await shopWorld();
  try {
    const page = await w.open(await oldBrowser(w, 'ie9'));
    await page.goto(w.site.url);
    assert.deepStrictEqual(await probes(page), ['function,undefined,undefined', 'function,undefined,undefined']);
    await wholeChat(w, page);
    // Any cross-origin request or XDomainRequest would be listed here.
    assert.deepStrictEqual(await misuse(page), []);
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('without WebSocket, fetch, Promise and EventSource: a whole chat', async () => {
  const w = await shopWorld();
  try {
    const page = await w.open(await oldBrowser(w, 'noModernTransports'));
    await page.goto(w.site.url);
    await openWidget(page);
    assert.deepStrictEqual(await probes(page), ['undefined,undefined,undefined,undefined', 'undefined,undefined,undefined,undefined']);
    await wholeChat(w, page);
    assert.deepStrictEqual(await misuse(page), []);
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

/** Elements of `scope` laid out as flex or grid, and any <svg>: [tag, display] each. */
function flexOrSvg(scope) {
  return scope.evaluateAll((nodes) => nodes
    .map((n) => [n.tagName.toLowerCase(), getComputedStyle(n).display])
    .filter(([tag, display]) => tag === 'svg' || /flex|grid/.test(display)));
}

test('the panel and launcher lay out without flexbox, grid or SVG (IE8, IE9, Android 4.0-4.3)', async () => {
  const w = await shopWorld();
  const nobody = await shopWorld({ agentOnline: false });
  try {
    const seen = [];
    const check = async (page, state) => {
      seen.push(state);
      assert.deepStrictEqual(await flexOrSvg(widget(page).locator('body *')), [], `in the frame, ${state}`);
      assert.deepStrictEqual(await flexOrSvg(page.locator(`${hook('launcher')}, ${hook('launcher')} *, ${hook('frame')}`)), [],
        `on the page, ${state}`);
    };
    const page = await w.open();
    await page.goto(w.site.url);
    await check(page, 'closed');
    const chat = await openWidget(page);
    await chat.locator(hook('agent-option')).first().waitFor();
    await check(page, 'choosing');
    await chat.locator(hook('agent-any')).click();
    await chat.locator(`${hook('chat-status')}[data-state="open"]`).waitFor();
    await say(chat, 'Hello');
    const chatId = await w.agent.waitFor(() => w.agent.chats()[0], 'a chat');
    await w.agent.send(chatId, 'a-1', 'Hi!');
    await waitForMessage(chat, 'Hi!');
    await check(page, 'chatting');
    await chat.locator(hook('end-chat')).click();
    await chat.locator(hook('rating')).waitFor({ state: 'visible' });
    await check(page, 'rating');
    const offline = await nobody.open();
    await offline.goto(nobody.site.url);
    await (await openWidget(offline)).locator(hook('offline-form')).waitFor({ state: 'visible' });
    await check(offline, 'offline form');
    console.log(`no flex, grid or SVG: ${seen.join(', ')}`);
    assert.deepStrictEqual([...w.errors, ...nobody.errors], []);
  } finally {
    await w.close();
    await nobody.close();
  }
});

test('with storage blocked in the frame the visitor lives in memory, is told so, and chats', async () => {
  const w = await shopWorld();
  try {
    const context = await w.context();
    // As a browser that blocks third-party storage: the frame's localStorage throws.
    await context.addInitScript(() => {
      if (!/\/widget\/frame\.html/.test(location.pathname)) return;
      Object.defineProperty(window, 'localStorage', { get() { throw new DOMException('blocked', 'SecurityError'); } });
    });
    const page = await w.open(context);
    const chat = await startChatFromWidget(page, w.site.url, w.agent.id);
    await chat.locator(hook('storage-note')).waitFor({ state: 'visible' });
    await say(chat, 'No cookies here');
    const chatId = await w.agent.waitFor(() => w.agent.chats()[0], 'a chat');
    await w.agent.waitFor(() => w.agent.messages(chatId).includes('visitor: No cookies here'), 'the message');
    await w.agent.send(chatId, 'a-1', 'No problem.');
    await waitForMessage(chat, 'No problem.');
    assert.deepStrictEqual(await conversation(chat), ['visitor: No cookies here', 'agent: No problem.']);
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});
