// The widget when things go wrong around it: its localStorage is full, the server is
// away longer than the presence lease, a tab with unsent messages is closed, a tab that leads
// is throttled, the history fails on reload, a send or a chat start is refused.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const {
  conversation, hook, openWidget, say, shopWorld, shownMessages, sleep, startChatFromWidget, tokenOf, transcript,
  waitForMessage, widget, widgetFrame,
} = require('./harness');

const world = (options) => shopWorld(options);

/** A second tab of the visitor: the panel follows the first tab's (open), or is opened here. */
async function secondTab(w, ctx) {
  const page = await w.open(ctx);
  await page.goto(w.site.url);
  await sleep(3000);
  if (!(await widget(page).locator(hook('panel')).isVisible())) await page.click(hook('launcher'));
  await widget(page).locator(hook('input')).waitFor();
  return page;
}

const isPoll = (server) => (request) => request.url().startsWith(server.url('/poll'));

/** Fills the localStorage it runs in until about `leave` characters are left; returns what is left. */
function fillStorage(leave) {
  localStorage.clear();
  let i = 0;
  for (let size = 1 << 20; size >= 1;) {
    try { localStorage.setItem(`fill${i++}`, 'x'.repeat(size)); } catch (e) { size = Math.floor(size / 2); }
  }
  const big = Object.keys(localStorage).find((k) => localStorage.getItem(k).length >= 4096);
  localStorage.removeItem(big);
  let lo = 0;
  let hi = 1 << 14;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    try { localStorage.setItem('pad', 'y'.repeat(mid)); lo = mid; } catch (e) { hi = mid - 1; }
  }
  localStorage.setItem('pad', 'y'.repeat(Math.max(0, lo - leave)));
  let free = 0;
  hi = 1 << 14;
  while (free < hi) {
    const mid = (free + hi + 1) >> 1;
    try { localStorage.setItem('zz', 'q'.repeat(mid)); localStorage.removeItem('zz'); free = mid; } catch (e) { hi = mid - 1; }
  }
  return free;
}

// The widget's storage is no longer the host page's but its frame's: the server's origin under the
// shop's site. The intent stays: that storage nearly full, the widget neither floods nor fails.
test('with the widget\'s localStorage nearly full the widget does not flood the server and still chats', async () => {
  const w = await world();
  try {
    // Room for a key or two (the leader's heartbeat fits, the token does not), then for none.
    for (const [round, leave] of [[0, 110], [1, 40]]) {
      const page = await w.open();
      let visitors = 0;
      let polls = 0;
      page.on('request', (r) => {
        if (r.url() === w.server.url('/api/visitors')) visitors += 1;
        if (isPoll(w.server)(r)) polls += 1;
      });
      // Keep the widget out while its storage fills: no loader, and the frame page (in the same
      // storage as the widget's frame: the server's origin in the shop's page) without its scripts.
      await page.route('**/widget.js', (r) => r.abort());
      await page.route('**/widget/*.js', (r) => r.abort());
      await page.goto(w.site.url);
      await page.evaluate((src) => new Promise((resolve) => {
        const frame = document.createElement('iframe');
        frame.onload = resolve;
        frame.src = src;
        document.body.appendChild(frame);
      }), w.server.url('/widget/frame.html'));
      const free = await widgetFrame(page).evaluate(fillStorage, leave);
      await page.unroute('**/widget.js');
      await page.unroute('**/widget/*.js');
      await page.reload();
      await sleep(5000);
      assert.ok(await widgetFrame(page).evaluate(() => localStorage.getItem('pad') !== null),
        'the widget\'s frame has the storage that was filled');
      console.log(`storage full (${free} characters left): POST /api/visitors x${visitors}, polls x${polls} in 5 s`);
      assert.ok(free < leave + 40, `storage left: ${free}`);
      assert.ok(visitors <= 2, `one visitor, not a storm: ${visitors} POST /api/visitors`);
      assert.ok(polls <= 4, `a held poll, not a storm: ${polls} polls`);

      // And the visitor can still chat, from memory.
      const chat = await openWidget(page);
      await chat.locator(`${hook('agent-option')}[data-agent-id="${w.agent.id}"]`).click();
      await chat.locator(`${hook('chat-status')}[data-state="open"]`).waitFor();
      const chatId = await w.agent.waitFor(() => w.agent.chats()[round], 'a chat');
      await say(chat, 'my storage is full');
      await w.agent.waitFor(() => w.agent.messages(chatId).includes('visitor: my storage is full'), 'the visitor message');
      await w.agent.send(chatId, `a-${round}`, 'No problem.');
      await waitForMessage(chat, 'No problem.');
      await sleep(2000);
      assert.deepStrictEqual(await conversation(chat), ['visitor: my storage is full', 'agent: No problem.']);
      assert.ok(visitors <= 2 && polls <= 12, `still calm: ${visitors} visitors, ${polls} polls`);
    }
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('after an outage longer than the lease the widget polls again within lease + grace and the chat survives', async () => {
  const LEASE = 3;
  const GRACE = 7;
  const w = await world({ settings: `[presence]\nlease_secs = ${LEASE}\ngrace_secs = ${GRACE}` });
  try {
    const page = await w.open();
    const chat = await startChatFromWidget(page, w.site.url, w.agent.id);
    const chatId = await w.agent.waitFor(() => w.agent.chats()[0], 'a chat');
    await say(chat, 'before the outage');
    await w.agent.waitFor(() => w.agent.messages(chatId).includes('visitor: before the outage'), 'the visitor message');

    const started = [];
    const failed = [];
    page.on('request', (r) => { if (isPoll(w.server)(r)) started.push(Date.now()); });
    page.on('requestfailed', (r) => { if (isPoll(w.server)(r)) failed.push(Date.now()); });
    await w.server.crash();
    const down = Date.now();
    // Down longer than lease + grace, and until the held poll and six retries have failed: a
    // backoff that grows past the lease has grown by then.
    while (!(Date.now() - down > (LEASE + GRACE) * 1000 && failed.length >= 7)) {
      assert.ok(Date.now() - down < 90000, `the widget retried ${failed.length} times in 90 s`);
      await sleep(50);
    }
    await w.server.launch();
    const back = Date.now();
    console.log(`server down ${((back - down) / 1000).toFixed(1)} s, ${failed.length} failed polls`);
    await w.agent.send(chatId, 'a-1', 'after the outage');
    await waitForMessage(chat, 'after the outage', (LEASE + GRACE) * 1000);
    const first = started.find((t) => t >= back);
    assert.ok(first && first - back < (LEASE + GRACE) * 1000, `polled again ${(first - back) / 1000} s after the restart`);

    await sleep((LEASE + GRACE + 2) * 1000); // a gone visitor's chat would be closed by now
    assert.strictEqual(await chat.locator(hook('chat-status')).getAttribute('data-state'), 'open');
    await say(chat, 'still here');
    await w.agent.waitFor(() => w.agent.messages(chatId).includes('visitor: still here'), 'the message after the outage');
    const admin = await tokenOf(w.server, 'ADM');
    const events = await transcript(w.server, admin.token, chatId);
    assert.deepStrictEqual(events.filter((e) => e.type === 'chat.closed'), [], 'the chat was not closed');
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('a message left unsent by a closed tab is sent by another tab, before a later one', async () => {
  const w = await world();
  try {
    const ctx = await w.context();
    const a = await w.open(ctx);
    await startChatFromWidget(a, w.site.url, w.agent.id);
    const chatId = await w.agent.waitFor(() => w.agent.chats()[0], 'a chat');
    const b = await secondTab(w, ctx);
    // No send gets through from either tab for now.
    let blocked = 0;
    for (const page of [a, b]) await page.route('**/send', (r) => { blocked += 1; return r.abort(); });
    await say(widget(a), 'first, typed in A');
    await sleep(1000);
    await say(widget(b), 'second, typed in B');
    await sleep(1000);
    assert.ok(blocked >= 1, 'a send was tried and held back');
    await a.close();
    await b.unroute('**/send');
    await w.agent.waitFor(() => w.agent.messages(chatId).length >= 2, 'both messages', 30000);
    await waitForMessage(widget(b), 'first, typed in A');
    await sleep(2000);
    assert.deepStrictEqual(w.agent.messages(chatId), ['visitor: first, typed in A', 'visitor: second, typed in B']);
    const shown = await shownMessages(widget(b));
    assert.deepStrictEqual(shown.map((m) => m.text), ['first, typed in A', 'second, typed in B']);
    assert.ok(shown.every((m) => m.seq), `both stored: ${JSON.stringify(shown)}`);
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('a throttled leader tab gives the poll up for good once another tab has taken it', async () => {
  const w = await world();
  try {
    const ctx = await w.context();
    const a = await w.open(ctx);
    // A long-hidden Chrome tab: its heartbeat runs once a minute (init scripts run in its frames
    // too, so in the widget's frame, whose heartbeat this is).
    await a.addInitScript(() => {
      const every = window.setInterval;
      window.setInterval = function (fn, ms) { return every.call(window, fn, ms === 2000 ? 60000 : ms); };
    });
    await startChatFromWidget(a, w.site.url, w.agent.id);
    const chatId = await w.agent.waitFor(() => w.agent.chats()[0], 'a chat');
    const b = await w.open(ctx);
    const t0 = Date.now();
    const polls = { a: [], b: [] };
    a.on('request', (r) => { if (isPoll(w.server)(r)) polls.a.push(Date.now() - t0); });
    b.on('request', (r) => { if (isPoll(w.server)(r)) polls.b.push(Date.now() - t0); });
    await b.goto(w.site.url);
    await sleep(12000); // B has taken the stale lease
    await w.agent.send(chatId, 'a-1', 'one');
    await sleep(8000);
    await w.agent.send(chatId, 'a-2', 'two');
    await sleep(3000);
    for (const page of [a, b]) {
      await waitForMessage(widget(page), 'two');
      assert.deepStrictEqual(await conversation(widget(page)), ['agent: one', 'agent: two']);
    }
    console.log(`polls started (ms): A ${polls.a.join(' ')}; B ${polls.b.join(' ')}`);
    assert.deepStrictEqual(polls.a.filter((t) => t > 14000), [], 'A polls no more once B leads');
    assert.ok(polls.b.some((t) => t > 14000), 'B polls');
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('when loading the history fails on reload, the earlier messages still come', async () => {
  const w = await world();
  try {
    const page = await w.open();
    const chat = await startChatFromWidget(page, w.site.url, w.agent.id);
    const chatId = await w.agent.waitFor(() => w.agent.chats()[0], 'a chat');
    await say(chat, 'visitor one');
    await w.agent.waitFor(() => w.agent.messages(chatId).includes('visitor: visitor one'), 'the visitor message');
    await w.agent.send(chatId, 'a-1', 'agent one');
    await waitForMessage(chat, 'agent one');
    let failing = 4;
    await page.route('**/messages?*', (r) => {
      if (failing <= 0) return r.continue();
      failing -= 1;
      return r.fulfill({
        status: 503,
        headers: { 'Retry-After': '2', 'Content-Type': 'application/json' },
        body: '{"error":{"code":"store_unavailable","message":"The store is unavailable."}}',
      });
    });
    await page.reload();
    await w.agent.send(chatId, 'a-2', 'agent two');
    await waitForMessage(chat, 'agent two');
    await waitForMessage(chat, 'agent one', 30000);
    await sleep(1000);
    assert.deepStrictEqual(await conversation(chat), ['visitor: visitor one', 'agent: agent one', 'agent: agent two']);
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('a message the server refuses is shown as not sent in every tab', async () => {
  const w = await world();
  try {
    const ctx = await w.context();
    const a = await w.open(ctx);
    await startChatFromWidget(a, w.site.url, w.agent.id);
    const b = await secondTab(w, ctx);
    const refusal = 'body is refused here';
    for (const page of [a, b]) {
      await page.route('**/send', (r) => r.fulfill({
        status: 400,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ error: { code: 'invalid_field', message: refusal, field: 'body' } }),
      }));
    }
    await say(widget(a), 'refused message');
    for (const page of [a, b]) {
      const item = widget(page).locator(hook('message')).filter({ hasText: 'refused message' });
      await item.filter({ hasText: refusal }).waitFor({ timeout: 10000 });
      assert.strictEqual(await item.getAttribute('data-seq'), null);
    }
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('an agent_full answer stays on screen', async () => {
  const w = await world({ maxChats: 1 });
  try {
    const first = await w.open();
    await startChatFromWidget(first, w.site.url, w.agent.id);
    // What the server says to a visitor who picks the full agent.
    const other = await w.server.api('POST', '/api/visitors', {});
    const refused = await w.server.api('POST', '/api/chats', { agent_id: w.agent.id }, other.body.token);
    assert.strictEqual(refused.status, 409);
    assert.strictEqual(refused.body.error.code, 'agent_full');

    const secondPage = await w.open();
    await secondPage.goto(w.site.url);
    const second = await openWidget(secondPage);
    const option = `${hook('agent-option')}[data-agent-id="${w.agent.id}"]`;
    await second.locator(option).click();
    const note = second.locator(hook('panel')).getByText(refused.body.error.message, { exact: true });
    await note.waitFor({ timeout: 5000 });
    await sleep(2500); // the agent list has been reloaded by now
    assert.ok(await note.isVisible(), 'the reason stays visible');
    assert.strictEqual(await second.locator(hook('chat-status')).getAttribute('data-state'), 'choosing');
    assert.ok(await second.locator(option).isVisible(), 'the agent list is still there');
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('a chat the widget lost track of comes back when starting answers chat_already_open', async () => {
  const w = await world();
  try {
    const page = await w.open();
    const chat = await startChatFromWidget(page, w.site.url, w.agent.id);
    const chatId = await w.agent.waitFor(() => w.agent.chats()[0], 'a chat');
    await say(chat, 'hello');
    // The store orders the chat; answer only once "hello" is in it, or "hi there" may come first.
    await w.agent.waitFor(() => w.agent.messages(chatId).includes('visitor: hello'), 'the visitor message');
    await w.agent.send(chatId, 'a-1', 'hi there');
    await waitForMessage(chat, 'hi there');
    // The widget lost the chat but kept the token and the cursor (say, a script cleared one key).
    // Its storage is its frame's now (the server's origin), keys prefixed `sb:`.
    const cleared = await widgetFrame(page).evaluate(() => ['sb:chat', 'sb:open'].filter((k) => {
      const had = localStorage.getItem(k) !== null;
      localStorage.removeItem(k);
      return had;
    }));
    assert.deepStrictEqual(cleared, ['sb:chat', 'sb:open'], 'the widget kept its chat under these keys');
    await page.reload();
    await page.click(hook('launcher'));
    await chat.locator(`${hook('agent-option')}[data-agent-id="${w.agent.id}"]`).click();
    await chat.locator(`${hook('chat-status')}[data-state="open"]`).waitFor({ timeout: 10000 });
    await waitForMessage(chat, 'hi there');
    await say(chat, 'back again');
    await w.agent.waitFor(() => w.agent.messages(chatId).includes('visitor: back again'), 'the message in the old chat');
    assert.deepStrictEqual(await conversation(chat), ['visitor: hello', 'agent: hi there', 'visitor: back again']);
    assert.deepStrictEqual(w.agent.chats(), [chatId], 'no second chat');
    assert.deepStrictEqual(w.errors, []);
  } finally {
    await w.close();
  }
});
