// The widget where proxies stand in the way (proxies.js): a visitor behind an office squid that
// cuts any request silent for 20 s and lets no WebSocket through, and a server behind the
// smallest nginx a user would write (HTTP/1.0 upstream, Host rewritten, no X-Forwarded-*).
//
// Needs Debian's squid and nginx (.ci/run installs them); without them the file is skipped with
// a note, unless SWITCHBOARD_REQUIRE_BROWSER=1 (CI) makes that a failure.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const net = require('node:net');
const {
  ApiAgent, Server, conversation, customerSite, freePort, hook, launchBrowser, loginConsole, openWidget, say, sleep,
  startChatFromWidget, waitForMessage, watchErrors, widget,
} = require('./harness');
const { launchBrowserThrough, startNginx, startSquid } = require('./proxies');

const missing = [process.env.SQUID_PATH || '/usr/sbin/squid', process.env.NGINX_PATH || '/usr/sbin/nginx']
  .filter((p) => !fs.existsSync(p));
if (missing.length && process.env.SWITCHBOARD_REQUIRE_BROWSER === '1') {
  throw new Error(`missing ${missing.join(', ')} (apt-get install squid nginx)`);
}
const skip = missing.length ? `needs ${missing.join(' and ')} (apt-get install squid nginx)` : false;

/** How long after the agent's send a reply may take to show in the widget. */
const REPLY_WITHIN_MS = 1000;

/**
 * Counts, in the widget's frame, every time the "connection lost" bar is shown (a
 * MutationObserver, so a flash between two polls is seen too), as the frame root's
 * `data-banner-shown`.
 */
function watchBanner() {
  if (!/\/widget\/frame\.html/.test(location.pathname)) return;
  let shown = 0;
  let visible = false;
  const look = () => {
    const bar = document.querySelector('[data-sb="connection"]');
    const now = Boolean(bar) && bar.style.display !== 'none';
    if (now && !visible) {
      shown += 1;
      document.documentElement.setAttribute('data-banner-shown', String(shown));
    }
    visible = now;
  };
  document.addEventListener('DOMContentLoaded', () => {
    document.documentElement.setAttribute('data-banner-shown', '0');
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['style'] });
    look();
  });
}

/**
 * Counts, in the agent console, every time its connection line says "Reconnecting…"
 * (`data-state="retrying"`), as the root element's `data-retrying-shown`.
 */
function watchConsoleConnection() {
  if (!/\/agent\/?$/.test(location.pathname)) return;
  let shown = 0;
  document.addEventListener('DOMContentLoaded', () => {
    document.documentElement.setAttribute('data-retrying-shown', '0');
    const line = document.querySelector('[data-sb="connection"]');
    new MutationObserver(() => {
      if (line.getAttribute('data-state') === 'retrying') {
        shown += 1;
        document.documentElement.setAttribute('data-retrying-shown', String(shown));
      }
    }).observe(line, { attributes: true, attributeFilter: ['data-state'] });
  });
}

/** The polls a page makes (its frames' too): `{timeout, started, ended, status}` each. */
function recordPolls(page) {
  const polls = [];
  const of = new Map();
  page.on('request', (r) => {
    if (!r.url().includes('/poll?')) return;
    const entry = { timeout: Number(new URL(r.url()).searchParams.get('timeout')), started: Date.now(), ended: 0, status: null };
    of.set(r, entry);
    polls.push(entry);
  });
  page.on('response', (r) => { const e = of.get(r.request()); if (e) Object.assign(e, { ended: Date.now(), status: r.status() }); });
  page.on('requestfailed', (r) => { const e = of.get(r.request()); if (e) Object.assign(e, { ended: Date.now(), status: 0 }); });
  return polls;
}

/** The agent replies `body` and returns how long until the widget shows it, in ms. */
async function replyTime(agent, chatId, chat, id, body) {
  const sent = Date.now();
  await agent.send(chatId, id, body);
  await waitForMessage(chat, body, 30000);
  return Date.now() - sent;
}

/** What a page's polls show after the first one squid cut: `{firstCut, after, cutsAfter}`. */
function afterFirstCut(polls) {
  const firstCut = polls.find((p) => p.status === 504);
  const after = firstCut ? polls.filter((p) => p.started > firstCut.ended) : [];
  return { firstCut, after, cutsAfter: after.filter((p) => p.status === 504 || p.status === 0) };
}

test('behind a squid that cuts idle requests at 20 s: replies within 1 s, no "connection lost", the hold learnt (widget and console)', { skip }, async () => {
  const squid = await startSquid({ readTimeoutSecs: 20 });
  const sitePort = await freePort();
  const server = await Server.start({ origins: [`http://127.0.0.1:${sitePort}`] });
  server.addAgent('E1', 'Alice');
  server.addAgent('E2', 'Bob');
  const agent = await ApiAgent.online(server, 'E1');
  const site = await customerSite(server, { port: sitePort });
  const browser = await launchBrowserThrough(squid);
  try {
    // An agent's console behind the same proxy, idle the whole time.
    const staff = await (await browser.newContext()).newPage();
    await staff.addInitScript(watchConsoleConnection);
    const errors = watchErrors(staff, []);
    const staffPolls = recordPolls(staff);
    await loginConsole(staff, server, 'E2');
    await staff.locator(`${hook('connection')}[data-state="connected"]`).waitFor();

    const context = await browser.newContext();
    await context.addInitScript(watchBanner);
    const page = await context.newPage();
    watchErrors(page, errors);
    const polls = recordPolls(page);
    const chat = await startChatFromWidget(page, site.url, agent.id);
    await say(chat, 'Hello through the office proxy');
    const chatId = await agent.waitFor(() => agent.chats()[0], 'a chat');
    await agent.waitFor(() => agent.messages(chatId).includes('visitor: Hello through the office proxy'), 'the message');
    const times = [await replyTime(agent, chatId, chat, 'a-0', 'Hello back')];
    assert.ok(squid.accessLog().includes('/poll'), 'the widget polls through squid');

    // The first idle poll asks for 25 s and squid cuts it at 20: answer right then, between polls.
    const firstCut = await waitUntil(() => polls.find((p) => p.status === 504), 'a poll cut by squid', 40000);
    times.push(await replyTime(agent, chatId, chat, 'a-1', 'Sent just after the cut'));
    const learnt = Date.now();
    // Then a while longer, a reply now and then: the widget holds what the path lets through.
    for (let i = 2; i <= 4; i += 1) {
      await sleep(7000 + Math.random() * 6000);
      times.push(await replyTime(agent, chatId, chat, `a-${i}`, `Reply ${i}`));
    }
    await sleep(16000); // a whole hold more with nothing to say
    times.push(await replyTime(agent, chatId, chat, 'a-5', 'Still there?'));

    const after = polls.filter((p) => p.started > firstCut.ended);
    const cutsAfter = after.filter((p) => p.status === 504 || p.status === 0);
    console.log(`first cut after ${((firstCut.ended - firstCut.started) / 1000).toFixed(1)} s of a ${firstCut.timeout} s hold; ` +
      `then ${after.length} polls asking ${[...new Set(after.map((p) => p.timeout))].join('/')} s, ${cutsAfter.length} cut in ` +
      `${((Date.now() - learnt) / 1000).toFixed(0)} s; reply times (ms) ${times.join(' ')}`);
    assert.strictEqual(firstCut.timeout, 25, 'the first hold asked is the longest');
    assert.ok(after.length >= 4 && after.every((p) => p.timeout <= 15), `the hold learnt is below squid's 20 s: ${JSON.stringify(after)}`);
    assert.deepStrictEqual(cutsAfter, [], 'no poll cut once the hold is learnt');
    assert.ok(times.every((t) => t < REPLY_WITHIN_MS), `every reply within ${REPLY_WITHIN_MS} ms: ${times}`);
    assert.strictEqual(await widget(page).locator('html').getAttribute('data-banner-shown'), '0', '"connection lost" never shown');

    const console_ = afterFirstCut(staffPolls);
    console.log(`console: first cut after ${console_.firstCut ? ((console_.firstCut.ended - console_.firstCut.started) / 1000).toFixed(1) : '-'} s; ` +
      `then ${console_.after.length} polls asking ${[...new Set(console_.after.map((p) => p.timeout))].join('/')} s, ${console_.cutsAfter.length} cut`);
    assert.ok(console_.firstCut && console_.firstCut.timeout === 25, `squid cut one of the console's 25 s polls: ${JSON.stringify(staffPolls)}`);
    assert.ok(console_.after.length >= 3 && console_.after.every((p) => p.timeout <= 15), `the console's hold learnt: ${JSON.stringify(console_.after)}`);
    assert.deepStrictEqual(console_.cutsAfter, [], 'no console poll cut once the hold is learnt');
    assert.strictEqual(await staff.locator('html').getAttribute('data-retrying-shown'), '0', '"Reconnecting…" never shown in the console');
    assert.deepStrictEqual(await conversation(chat), ['visitor: Hello through the office proxy', 'agent: Hello back',
      'agent: Sent just after the cut', 'agent: Reply 2', 'agent: Reply 3', 'agent: Reply 4', 'agent: Still there?']);
    assert.deepStrictEqual(errors, []);
  } finally {
    await browser.close();
    await agent.stop();
    await site.close();
    await server.stop();
    await squid.stop();
  }
});

test('behind the smallest nginx: the widget on another site and on /demo/ chats, the console logs in, a body-less POST is answered', { skip }, async () => {
  const sitePort = await freePort();
  const server = await Server.start({ origins: [`http://127.0.0.1:${sitePort}`] });
  server.addAgent('E1', 'Alice');
  server.addAgent('E2', 'Bob');
  const nginx = await startNginx({ upstreamPort: server.port });
  const agent = await ApiAgent.online(server, 'E1');
  // The shop embeds the widget from the address nginx serves it at.
  const site = await customerSite({ url: nginx.url }, { port: sitePort });
  const browser = await launchBrowser();
  try {
    const errors = [];
    const page = watchErrorsOn(await (await browser.newContext()).newPage(), errors);
    const chat = await startChatFromWidget(page, site.url, agent.id);
    await say(chat, 'Hello through nginx');
    const chatId = await agent.waitFor(() => agent.chats()[0], 'a chat');
    await agent.waitFor(() => agent.messages(chatId).includes('visitor: Hello through nginx'), 'the message');
    await agent.send(chatId, 'a-1', 'Hello back');
    await waitForMessage(chat, 'Hello back');

    // The server's own demo page through nginx: same origin as the frame, as the browser sees it.
    const demo = watchErrorsOn(await (await browser.newContext()).newPage(), errors);
    await demo.goto(nginx.url('/demo/'));
    const demoChat = await openWidget(demo);
    await demoChat.locator(`${hook('agent-option')}[data-agent-id="${agent.id}"]`).click();
    await demoChat.locator(`${hook('chat-status')}[data-state="open"]`).waitFor();

    // The console through nginx: its login and poll come from the proxy's origin, with Host rewritten.
    const staff = watchErrorsOn(await (await browser.newContext()).newPage(), errors);
    await loginConsole(staff, { url: nginx.url }, 'E2');
    await staff.locator(`${hook('connection')}[data-state="connected"]`).waitFor();

    // curl -X POST without a body: nginx forwards it as HTTP/1.0 with no Content-Length.
    const raw = await rawRequest(nginx.port, 'POST /api/visitors HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n');
    console.log(`body-less POST through nginx: ${raw.status} ${raw.body.slice(0, 120)}`);
    const answer = parseJson(raw.body);
    assert.ok(answer && (raw.status === 201 ? answer.token : answer.error && answer.error.code),
      `created, or refused with the error envelope: ${raw.status} ${JSON.stringify(raw.body)}`);
    assert.deepStrictEqual(errors, []);
  } finally {
    await browser.close();
    await agent.stop();
    await site.close();
    await nginx.stop();
    await server.stop();
  }
});

function watchErrorsOn(page, errors) {
  watchErrors(page, errors);
  return page;
}

async function waitUntil(check, what, timeoutMs) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function parseJson(text) {
  try { return JSON.parse(text); } catch (_) { return null; }
}

/** One raw HTTP exchange on 127.0.0.1:`port`: `{status, body}` of the answer. */
function rawRequest(port, text) {
  return new Promise((resolve, reject) => {
    // Written, not ended: nginx takes a half-closed client as gone. The answer closes it.
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(text));
    let data = '';
    socket.setEncoding('utf8');
    socket.setTimeout(10000, () => socket.destroy(new Error('no answer in 10 s')));
    socket.on('data', (chunk) => { data += chunk; });
    socket.on('error', reject);
    socket.on('close', () => {
      const [head, ...rest] = data.split('\r\n\r\n');
      resolve({ status: Number((/^HTTP\/1\.[01] (\d+)/.exec(head) || [])[1]), body: rest.join('\r\n\r\n') });
    });
  });
}
