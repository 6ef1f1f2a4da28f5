// The agent console when things go wrong: two tabs and a reload, a chat that comes back after
// the agent dismissed it, a network drop shorter than the presence lease, a send that fails
// once or is still pending at a reload, a chat taken away while the console was not listening,
// a replay longer than one poll answer, and notifiers that throw. Visitors are driven from Node
// over HTTP, like ApiAgent drives agents.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const {
  ApiAgent, Server, hook, launchBrowser, loginConsole, request, shownMessages, sleep, tokenOf, waitForMessage,
  watchErrors,
} = require('./harness');

/** A visitor speaking the API from Node: holds a poll (so it is on the site) and records events. */
class Visitor {
  constructor(server) {
    this.server = server;
    this.events = [];
    this.cursor = '';
    this.sent = 0;
  }

  static async online(server, name) {
    const visitor = new Visitor(server);
    const { status, body } = await server.api('POST', '/api/visitors', { name });
    if (status !== 201) throw new Error(`visitor: ${status} ${JSON.stringify(body)}`);
    visitor.id = body.visitor_id;
    visitor.token = body.token;
    visitor.running = true;
    visitor.loop = visitor.pollLoop();
    await waitUntil(() => visitor.polled, 'the visitor polls');
    return visitor;
  }

  async pollLoop() {
    while (this.running) {
      try {
        const q = `/poll?timeout=5&tab=node-visitor&cursor=${encodeURIComponent(this.cursor)}`;
        const { status, body } = await request('GET', this.server.url(q), { token: this.token });
        this.polled = true;
        if (status === 200) {
          this.cursor = body.cursor;
          this.events.push(...body.events);
        } else {
          await sleep(200);
        }
      } catch (_) {
        await sleep(200);
      }
    }
  }

  async stop() {
    this.running = false;
    await this.loop;
  }

  /** Starts a chat with `agentId`; resolves the chat id. */
  async chatWith(agentId) {
    const { status, body } = await this.server.api('POST', '/api/chats', { agent_id: agentId }, this.token);
    if (status !== 201) throw new Error(`chat: ${status} ${JSON.stringify(body)}`);
    this.chatId = body.chat_id;
    return this.chatId;
  }

  async say(text) {
    this.sent += 1;
    const body = { chat_id: this.chatId, client_msg_id: `v-${this.sent}`, body: text };
    const reply = await this.server.api('POST', '/send', body, this.token);
    if (reply.status !== 200) throw new Error(`send: ${reply.status} ${JSON.stringify(reply.body)}`);
  }

  /** Agent messages this visitor received, in the order they came. */
  fromAgent() {
    return this.events.filter((e) => e.type === 'message' && e.from === 'agent').map((e) => e.body);
  }
}

async function waitUntil(check, what, timeoutMs = 20000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const value = await check();
    if (value) return value;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function world({ settings = '' } = {}) {
  const server = await Server.start({ settings });
  server.addAgent('E1', 'Alice');
  server.addAgent('E2', 'Bob');
  const browser = await launchBrowser();
  const errors = [];
  const visitors = [];
  const agents = [];
  const alice = await tokenOf(server, 'E1');
  const visitor = async (name = 'Vera') => {
    const v = await Visitor.online(server, name);
    visitors.push(v);
    return v;
  };
  /** An agent polling from Node (so it is online), stopped with the world. */
  const online = async (employeeId) => {
    const agent = await ApiAgent.online(server, employeeId);
    agents.push(agent);
    return agent;
  };
  const bob = () => online('E2');
  const close = async () => {
    await browser.close();
    await Promise.all([...visitors, ...agents].map((each) => each.stop()));
    await server.stop();
  };
  return { server, browser, errors, alice, visitor, online, bob, close };
}

/** A console page of its own context (own storage), or of `context`. */
async function consolePage(w, { context, init } = {}) {
  const ctx = context || await w.browser.newContext();
  if (init) await ctx.addInitScript(init);
  const page = await ctx.newPage();
  watchErrors(page, w.errors);
  return page;
}

const pane = (chatId) => `${hook('chat')}[data-chat-id="${chatId}"]`;
const connected = `${hook('connection')}[data-state="connected"]`;

/** A pane's messages as `from: text`, system lines left out. */
async function paneLines(page, chatId) {
  return (await shownMessages(page.locator(pane(chatId))))
    .filter((m) => m.from !== 'system').map((m) => `${m.from}: ${m.text}`);
}

async function reply(page, chatId, text) {
  await page.fill(`${pane(chatId)} ${hook('input')}`, text);
  await page.press(`${pane(chatId)} ${hook('input')}`, 'Enter');
}

test('two console tabs: a reload of one keeps every message of its chats', async () => {
  const w = await world();
  try {
    const a = await consolePage(w);
    await loginConsole(a, w.server, 'E1');
    await a.waitForSelector(connected);
    // Tab B of the same browser resumes the session, then loses its poll (its network drops):
    // it still runs its timers but hears nothing of the chat below.
    const b = await a.context().newPage();
    watchErrors(b, w.errors);
    await b.route('**/poll?*', (route) => route.abort('internetdisconnected'));
    await b.goto(w.server.url('/agent/'));
    await b.waitForSelector(hook('me'));

    const v = await w.visitor('Petra');
    const chatId = await v.chatWith(w.alice.agent_id);
    for (const text of ['m1', 'm2', 'm3']) await v.say(text);
    await waitForMessage(a.locator(pane(chatId)), 'm3');
    // B does what a console does on its own: status changes, the 10 s agent refresh.
    await b.selectOption(hook('status'), 'away');
    await sleep(500);
    await b.selectOption(hook('status'), 'online');
    await sleep(1500);

    await a.reload();
    await a.waitForSelector(connected);
    await v.say('m4');
    await waitForMessage(a.locator(pane(chatId)), 'm4');
    await sleep(1500);
    assert.deepStrictEqual(await paneLines(a, chatId),
      ['visitor: m1', 'visitor: m2', 'visitor: m3', 'visitor: m4'], 'every message once after the reload');
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('a dismissed chat that is transferred back shows again with its history', async () => {
  const w = await world();
  try {
    const page = await consolePage(w);
    await loginConsole(page, w.server, 'E1');
    const bob = await w.bob();
    const v = await w.visitor('Olga');
    const chatId = await v.chatWith(w.alice.agent_id);
    await v.say('first question');
    await waitForMessage(page.locator(pane(chatId)), 'first question');
    await reply(page, chatId, 'first answer');
    await waitUntil(() => v.fromAgent().includes('first answer'), 'the first answer');

    await page.locator(`${pane(chatId)} ${hook('transfer-target')} option[value="${bob.id}"]`).waitFor({ state: 'attached' });
    await page.selectOption(`${pane(chatId)} ${hook('transfer-target')}`, bob.id);
    await page.click(`${pane(chatId)} ${hook('transfer')}`);
    await page.waitForSelector(`${pane(chatId)}[data-status="transferred"]`);
    await page.click(`${pane(chatId)} ${hook('dismiss-chat')}`);
    await page.waitForSelector(pane(chatId), { state: 'detached' });

    const back = await w.server.api('POST', `/api/chats/${chatId}/transfer`, { agent_id: w.alice.agent_id }, bob.token);
    assert.strictEqual(back.status, 200, JSON.stringify(back.body));
    await v.say('are you there, Alice?');
    await waitForMessage(page.locator(pane(chatId)), 'are you there, Alice?');
    await page.waitForSelector(`${pane(chatId)}[data-status="open"]`);
    const expected = ['visitor: first question', 'agent: first answer', 'visitor: are you there, Alice?'];
    await waitUntil(async () => (await paneLines(page, chatId)).length === 3, 'the whole history');
    assert.deepStrictEqual(await paneLines(page, chatId), expected, 'the pane has its history again');

    await page.reload();
    await page.waitForSelector(connected);
    await waitForMessage(page.locator(pane(chatId)), 'are you there, Alice?');
    assert.deepStrictEqual(await paneLines(page, chatId), expected, 'and keeps it after a reload');
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('a network drop of about 15 s does not cost the agent its chat', async () => {
  const w = await world();
  try {
    // A fixed jitter, so the old backoff's 0.5·2ⁿ s steps are exact: its retry after a 18 s
    // drop came only at 34 s, past the presence lease and grace (30 s).
    const page = await consolePage(w, { init: () => { Math.random = () => 0.6; } });
    await loginConsole(page, w.server, 'E1');
    await page.waitForSelector(connected);
    const v = await w.visitor('Sam');
    const chatId = await v.chatWith(w.alice.agent_id);
    await page.waitForSelector(pane(chatId));
    await sleep(1000);

    let blocked = true;
    await page.route('**/poll?*', (route) => (blocked ? route.abort('internetdisconnected') : route.continue()));
    await v.say('ending the held poll'); // the console's next poll meets the dead network
    const start = Date.now();
    await page.waitForSelector(`${hook('connection')}[data-state="retrying"]`);
    await sleep(18000);
    blocked = false;
    await page.waitForSelector(connected, { timeout: 40000 });
    // Past the lease and grace counted from the drop: a lost agent's chat is requeued by now.
    await sleep(Math.max(0, 33000 - (Date.now() - start)));

    const queued = v.events.filter((e) => e.type === 'chat.queued');
    assert.deepStrictEqual(queued, [], 'the visitor was never put back in the queue');
    const detail = await w.server.api('GET', `/api/chats/${chatId}`, undefined, w.alice.token);
    assert.strictEqual(detail.body.agent && detail.body.agent.agent_id, w.alice.agent_id, 'Alice keeps the chat');
    assert.strictEqual(await page.getAttribute(pane(chatId), 'data-status'), 'open');
    await reply(page, chatId, 'still here');
    await waitUntil(() => v.fromAgent().includes('still here'), 'the reply after the drop');
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('a first send that fails once does not reorder the messages typed after it', async () => {
  const w = await world();
  try {
    const page = await consolePage(w);
    await loginConsole(page, w.server, 'E1');
    const v = await w.visitor('Una');
    const chatId = await v.chatWith(w.alice.agent_id);
    await page.waitForSelector(pane(chatId));
    let first = true;
    await page.route('**/send', (route) => {
      if (!first) return route.continue();
      first = false;
      return route.abort('connectionreset');
    });
    for (const text of ['one', 'two', 'three']) await reply(page, chatId, text);
    await waitUntil(() => v.fromAgent().length === 3, 'three messages at the visitor');
    await sleep(1000);
    assert.deepStrictEqual(v.fromAgent(), ['one', 'two', 'three'], 'the visitor gets them in typed order');
    assert.deepStrictEqual(await paneLines(page, chatId), ['agent: one', 'agent: two', 'agent: three']);
    const seqs = (await shownMessages(page.locator(pane(chatId)))).map((m) => Number(m.seq));
    assert.deepStrictEqual(seqs, [...seqs].sort((x, y) => x - y), 'shown in seq order');
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('sends still pending at a reload are delivered after it, each once', async () => {
  const w = await world();
  try {
    const page = await consolePage(w);
    await loginConsole(page, w.server, 'E1');
    const v = await w.visitor('Rita');
    const chatId = await v.chatWith(w.alice.agent_id);
    await page.waitForSelector(pane(chatId));
    // "stored, answer lost" reaches the server but its answer never comes back; "not stored"
    // meets a busy server. Both are still pending when the agent reloads.
    let blocked = true;
    let attempts = 0;
    await page.route('**/send', async (route) => {
      if (!blocked) return route.continue();
      attempts += 1;
      if ((route.request().postData() || '').includes('answer lost')) {
        await route.fetch();
        return route.abort('connectionreset');
      }
      return route.fulfill({
        status: 503,
        headers: { 'Retry-After': '2', 'Content-Type': 'application/json' },
        body: JSON.stringify({ error: { code: 'store_busy', message: 'The store is busy.' } }),
      });
    });
    await reply(page, chatId, 'stored, answer lost');
    await reply(page, chatId, 'not stored');
    await waitUntil(() => attempts >= 2, 'the failed sends');
    await page.reload();
    blocked = false;
    await page.waitForSelector(connected);

    await waitUntil(() => v.fromAgent().includes('not stored'), 'the pending send after the reload');
    await sleep(3000);
    assert.deepStrictEqual(v.fromAgent(), ['stored, answer lost', 'not stored'], 'each delivered once, in order');
    assert.deepStrictEqual(await paneLines(page, chatId), ['agent: stored, answer lost', 'agent: not stored'],
      'each shown once');
    const shown = await shownMessages(page.locator(pane(chatId)));
    assert.ok(shown.every((m) => m.seq), 'both sent (with a seq)');
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('a chat handed on while the console was not listening becomes read-only at the next send', async () => {
  const w = await world();
  try {
    const page = await consolePage(w);
    await loginConsole(page, w.server, 'E1');
    const bob = await w.bob();
    const v = await w.visitor('Quinn');
    const chatId = await v.chatWith(w.alice.agent_id);
    await page.waitForSelector(pane(chatId));
    await sleep(500);
    // The console hears nothing while the chat moves on (here: Alice's other window hands it on).
    await page.route('**/poll?*', (route) => route.abort('internetdisconnected'));
    await v.say('end the held poll');
    await page.waitForSelector(`${hook('connection')}[data-state="retrying"]`);
    const moved = await w.server.api('POST', `/api/chats/${chatId}/transfer`, { agent_id: bob.id }, w.alice.token);
    assert.strictEqual(moved.status, 200, JSON.stringify(moved.body));

    await reply(page, chatId, 'hello?');
    await page.waitForSelector(`${pane(chatId)}[data-status="transferred"]`, { timeout: 10000 });
    assert.ok(await page.locator(`${pane(chatId)} ${hook('input')}`).isDisabled(), 'no longer writable');
    assert.ok(await page.locator(`${pane(chatId)} ${hook('dismiss-chat')}`).isVisible(), 'and dismissable');
    assert.deepStrictEqual(v.fromAgent(), []);
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

/** Records desktop notifications; the window never has focus. */
function fakeNotifications() {
  window.notes = [];
  class FakeNotification {
    constructor(title, options) { window.notes.push(`${title} | ${(options && options.body) || ''}`); }
    close() {}
  }
  FakeNotification.permission = 'granted';
  FakeNotification.requestPermission = async () => 'granted';
  window.Notification = FakeNotification;
  Document.prototype.hasFocus = () => false;
}

test('a fresh login replayed over several poll answers raises no alerts and skips closed chats', async () => {
  const w = await world({ settings: '[poll]\nmax_events = 3' });
  try {
    await w.online('E1'); // Alice is online before her console
    const open = await w.visitor('Olive');
    const openId = await open.chatWith(w.alice.agent_id);
    for (let i = 1; i <= 7; i += 1) await open.say(`old ${i}`);
    const done = await w.visitor('Clara');
    const doneId = await done.chatWith(w.alice.agent_id);
    for (const text of ['c1', 'c2', 'c3']) await done.say(text);
    assert.strictEqual((await w.server.api('POST', `/api/chats/${doneId}/close`, {}, done.token)).status, 200);

    const page = await consolePage(w, { init: fakeNotifications });
    await loginConsole(page, w.server, 'E1');
    await waitForMessage(page.locator(pane(openId)), 'old 7');
    await sleep(1500);
    assert.deepStrictEqual(await paneLines(page, openId), [1, 2, 3, 4, 5, 6, 7].map((i) => `visitor: old ${i}`));
    assert.strictEqual(await page.locator(pane(doneId)).count(), 0, 'a chat closed before login is history');
    assert.deepStrictEqual(await page.evaluate(() => window.notes), [], 'nothing new to announce');
    // The window has no focus, so any alert would make the title blink: it stays calm.
    const titles = new Set();
    for (let i = 0; i < 12; i += 1) {
      titles.add(await page.title());
      await sleep(200);
    }
    assert.deepStrictEqual([...titles], ['Switchboard'], 'no alert for the replay');

    await open.say('new one');
    await waitForMessage(page.locator(pane(openId)), 'new one');
    // The window has no focus: the title blinks. The page is visible: no desktop pop-up.
    await waitUntil(() => page.evaluate(() => document.title.includes('New message')), 'a blinking title');
    assert.deepStrictEqual(await page.evaluate(() => window.notes), [], 'no desktop notification while visible');
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('a chat transferred in that began as an invitation raises a new-chat alert', async () => {
  const w = await world();
  try {
    const page = await consolePage(w, {
      init: () => {
        window.notes = [];
        class FakeNotification {
          constructor(title) { window.notes.push(title); }
          close() {}
        }
        FakeNotification.permission = 'granted';
        window.Notification = FakeNotification;
        Object.defineProperty(document, 'visibilityState', { get: () => 'hidden' });
        Document.prototype.hasFocus = () => false;
      },
    });
    await loginConsole(page, w.server, 'E2');
    const bobId = (await tokenOf(w.server, 'E2')).agent_id;
    const keeper = await w.online('E1');
    const v = await w.visitor('Walt');
    const invited = await w.server.api('POST', '/api/chats/invite', { visitor_id: v.id }, keeper.token);
    assert.strictEqual(invited.status, 201, JSON.stringify(invited.body));
    const chatId = invited.body.chat_id;
    const moved = await w.server.api('POST', `/api/chats/${chatId}/transfer`, { agent_id: bobId }, keeper.token);
    assert.strictEqual(moved.status, 200, JSON.stringify(moved.body));
    await page.waitForSelector(pane(chatId));
    await waitUntil(() => page.evaluate(() => window.notes.includes('New chat')), 'a new-chat alert');
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('a notifier that throws does not drop the rest of a poll answer', async () => {
  const w = await world();
  try {
    const page = await consolePage(w, {
      init: () => {
        window.AudioContext = function AudioContext() { throw new Error('NotAllowedError: audio blocked'); };
        Document.prototype.hasFocus = () => false;
      },
    });
    await loginConsole(page, w.server, 'E1');
    await page.click(hook('enable-sound')).catch(() => {});
    w.errors.length = 0; // the click's own failure is not what this test is about
    const v = await w.visitor('Xena');
    const chatId = await v.chatWith(w.alice.agent_id);
    await page.waitForSelector(pane(chatId));
    await sleep(500);
    // Polls from now on leave 2 s late, so the two messages below come in one answer.
    await page.route('**/poll?*', async (route) => { await sleep(2000); await route.continue(); });
    await v.say('first'); // answers the poll held now
    await waitForMessage(page.locator(pane(chatId)), 'first', 10000);
    await v.say('second');
    await v.say('third');
    await waitForMessage(page.locator(pane(chatId)), 'third', 10000);
    assert.deepStrictEqual(await paneLines(page, chatId), ['visitor: first', 'visitor: second', 'visitor: third']);
  } finally {
    await w.close();
  }
});
