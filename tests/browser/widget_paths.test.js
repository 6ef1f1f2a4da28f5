// The widget's other paths: waiting in the queue with a visible position, the offline form when
// nobody is online, an agent's invitation opening the widget by itself, the language, and the
// unread badge and title notice.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const {
  freePort, hook, openWidget, say, shopWorld, startChatFromWidget, tokenOf, waitForMessage, widget,
} = require('./harness');

const world = (options = {}) => shopWorld({ maxChats: 1, ...options });

test('a visitor waits in the queue with its position and is served when a chat ends', async () => {
  const w = await world();
  try {
    const firstPage = await w.open();
    const first = await startChatFromWidget(firstPage, w.site.url, 'any');
    const secondPage = await w.open();
    await secondPage.goto(w.site.url);
    const second = await openWidget(secondPage);
    await second.locator(hook('agent-any')).click();
    const position = second.locator(hook('queue-position'));
    await position.waitFor({ state: 'visible' });
    assert.strictEqual(await position.getAttribute('data-position'), '1');
    assert.strictEqual(await second.locator(hook('chat-status')).getAttribute('data-state'), 'queued');
    await say(second, 'written while waiting');

    const firstChat = await w.agent.waitFor(() => w.agent.chats()[0], 'the first chat');
    await first.locator(hook('end-chat')).click();
    await first.locator(`${hook('chat-status')}[data-state="closed"]`).waitFor();
    await second.locator(`${hook('chat-status')}[data-state="open"]`).waitFor();
    const secondChat = await w.agent.waitFor(() => w.agent.chats()[1], 'the queued chat');
    assert.notStrictEqual(secondChat, firstChat);
    await w.agent.waitFor(() => w.agent.messages(secondChat).includes('visitor: written while waiting'),
      'the message written in the queue');
    await w.agent.send(secondChat, 'a-1', 'Thanks for waiting!');
    await waitForMessage(second, 'Thanks for waiting!');
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('with nobody online the widget offers the offline form and the message is stored', async () => {
  const w = await world({ agentOnline: false });
  try {
    const page = await w.open();
    await page.goto(w.site.url);
    const chat = await openWidget(page);
    await chat.locator(hook('offline-form')).waitFor({ state: 'visible' });
    await chat.locator(hook('offline-name')).fill('Mina');
    await chat.locator(hook('offline-email')).fill('mina@example.com');
    await chat.locator(hook('offline-body')).fill('Please call me about a bulk order.');
    await chat.locator(hook('offline-submit')).click();
    await chat.locator(hook('offline-done')).waitFor({ state: 'visible' });

    const alice = await tokenOf(w.server, 'E1');
    const { body } = await w.server.api('GET', '/api/offline-messages', undefined, alice.token);
    assert.deepStrictEqual(body.messages.map((m) => [m.name, m.email, m.body, m.lang]),
      [['Mina', 'mina@example.com', 'Please call me about a bulk order.', 'en']], 'stored with the widget language');
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('after a served chat the visitor asks for its transcript by email', async () => {
  // Email on, towards a port nobody listens on: the request is stored (202), sending waits.
  const smtpPort = await freePort();
  const w = await world({
    settings: `[email]\nserver = "127.0.0.1"\nport = ${smtpPort}\ntls = "none"\nfrom = "help@example.com"\nteam = ["team@example.com"]`,
  });
  try {
    const page = await w.open({ locale: 'ko-KR' });
    const chat = await startChatFromWidget(page, w.site.url, 'any');
    await say(chat, 'hello');
    const id = await w.agent.waitFor(() => w.agent.chats()[0], 'the chat');
    await w.agent.send(id, 'a-1', 'Hi!');
    await waitForMessage(chat, 'Hi!');
    await chat.locator(hook('end-chat')).click();
    await chat.locator(hook('transcript')).waitFor({ state: 'visible' });
    await chat.locator(hook('transcript-email')).fill('not an address');
    await chat.locator(hook('transcript-submit')).click();
    await chat.locator(`${hook('transcript')} [role="alert"]:not(:empty)`).waitFor();
    await chat.locator(hook('transcript-email')).fill('me@example.com');
    await chat.locator(hook('transcript-submit')).click();
    await chat.locator(hook('transcript-done')).waitFor({ state: 'visible' });
    assert.strictEqual(await chat.locator(hook('transcript-done')).textContent(), '채팅 기록을 이메일로 보냈습니다.');
    assert.ok(await chat.locator(hook('rating')).isVisible(), 'the rating form stays');
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test("an agent's invitation opens the widget by itself", async () => {
  const w = await world();
  try {
    const page = await w.open();
    await page.goto(w.site.url);
    // Without a click: the page alone makes the visitor present, so the agent can see it.
    let visitorId;
    const until = Date.now() + 15000;
    while (!visitorId && Date.now() < until) {
      const { body } = await w.server.api('GET', '/api/visitors/online', undefined, w.agent.token);
      visitorId = body.visitors.length ? body.visitors[0].visitor_id : undefined;
      if (!visitorId) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(visitorId, 'the visitor on the page is listed for agents');
    const chat = widget(page);
    // The panel lives in the widget's iframe, which the loader keeps hidden while it is closed.
    assert.strictEqual(await page.locator(hook('frame')).isVisible(), false, 'the chat frame starts hidden');
    assert.strictEqual(await chat.locator(hook('panel')).isVisible(), false, 'the panel starts closed');

    const invited = await w.server.api('POST', '/api/chats/invite', { visitor_id: visitorId }, w.agent.token);
    assert.strictEqual(invited.status, 201, JSON.stringify(invited.body));
    await page.locator(hook('frame')).waitFor({ state: 'visible' });
    await chat.locator(hook('panel')).waitFor({ state: 'visible' });
    await chat.locator(`${hook('chat-status')}[data-state="open"]`).waitFor();
    await w.agent.send(invited.body.chat_id, 'a-1', 'Hi! Can I help you find a tent?');
    await waitForMessage(chat, 'Hi! Can I help you find a tent?');
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('the widget speaks the browser language, and data-lang overrides it', async () => {
  const w = await world({ agentOnline: false });
  const korean = await world({ agentOnline: false, scriptAttrs: 'data-lang="ko"' });
  try {
    const title = async (page) => {
      const chat = await openWidget(page);
      return chat.locator(hook('title')).textContent();
    };
    const chinese = await w.open({ locale: 'zh-CN' });
    await chinese.goto(w.site.url);
    assert.strictEqual(await title(chinese), '在线客服', 'a Chinese browser gets Chinese');
    const english = await w.open({ locale: 'en-US' });
    await english.goto(w.site.url);
    assert.strictEqual(await title(english), 'Chat with us');
    const chosen = await korean.open({ locale: 'zh-CN' });
    await chosen.goto(korean.site.url);
    assert.strictEqual(await title(chosen), '상담 채팅', 'data-lang="ko" wins over the browser');
    assert.deepStrictEqual([...w.errors, ...korean.errors], []);
  } finally {
    await w.close();
    await korean.close();
  }
});

test('a message while the panel is closed shows an unread badge and a title notice', async () => {
  const w = await world();
  try {
    const page = await w.open();
    const chat = await startChatFromWidget(page, w.site.url, w.agent.id);
    const chatId = await w.agent.waitFor(() => w.agent.chats()[0], 'a chat');
    await chat.locator(hook('minimize')).click();
    await chat.locator(hook('panel')).waitFor({ state: 'hidden' });
    await w.agent.send(chatId, 'a-1', 'Are you still there?');
    const badge = page.locator(hook('badge'));
    await badge.waitFor({ state: 'visible' });
    assert.strictEqual((await badge.textContent()).trim(), '1');
    let titles = new Set();
    for (let i = 0; i < 30 && !titles.has('(1) New message'); i += 1) {
      titles.add(await page.title());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(titles.has('(1) New message'), `the title blinks: ${[...titles]}`);

    await page.click(hook('launcher'));
    await waitForMessage(chat, 'Are you still there?');
    await badge.waitFor({ state: 'hidden' });
    titles = new Set();
    for (let i = 0; i < 15; i += 1) {
      titles.add(await page.title());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepStrictEqual([...titles], ['Acme test shop'], 'the title is back once read');
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});
