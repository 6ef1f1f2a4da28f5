// What every browser test needs: a real Switchboard server (the binary cargo built, on its own
// SQLite file and port), agents made with its CLI, an agent that speaks the API from Node, a
// page of another origin that embeds the widget, and Chromium driven by playwright-core.
'use strict';

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const REPO = path.resolve(__dirname, '..', '..');
/** The front ends the servers serve: the repository's, or (to see a test fail without some
 * mechanism, on a changed copy) the folder SWITCHBOARD_PUBLIC_DIR names. */
const PUBLIC_DIR = process.env.SWITCHBOARD_PUBLIC_DIR || path.join(REPO, 'public');
const BIN = process.env.SWITCHBOARD_BIN || path.join(REPO, 'target', 'debug', 'switchboard');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** Screenshots and other artifacts (never committed). */
const ARTIFACTS = process.env.SWITCHBOARD_ARTIFACTS || path.join(os.tmpdir(), 'switchboard-browser-artifacts');
const PASSWORD = 'correct horse battery';

/** `[data-sb="name"]`: tests find elements by their hooks (docs/frontend.md), never by text. */
const hook = (name) => `[data-sb="${name}"]`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Ports this process has handed out: a port picked for a site that has not bound it yet must
 * not be picked again for a server (the OS would offer it twice). */
const givenPorts = new Set();

async function freePort() {
  for (;;) {
    const port = await probePort();
    if (!givenPorts.has(port)) {
      givenPorts.add(port);
      return port;
    }
  }
}

async function probePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** One HTTP request; resolves `{status, body}` with the body parsed as JSON when it is. */
function request(method, url, { body, token, headers = {}, timeoutMs = 70000 } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? null : JSON.stringify(body);
    const all = { ...headers };
    if (data !== null) all['Content-Type'] = 'application/json';
    if (token) all.Authorization = `Bearer ${token}`;
    const req = http.request(url, { method, headers: all, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => {
        let parsed = text;
        try { parsed = text ? JSON.parse(text) : null; } catch (_) { /* not JSON */ }
        resolve({ status: res.statusCode, body: parsed, headers: res.headers });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    if (data !== null) req.write(data);
    req.end();
  });
}

/** A Switchboard server process on its own folder, port and SQLite file. */
class Server {
  constructor({ origins = [], settings = '' } = {}) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-browser-'));
    this.config = path.join(this.dir, 'config.toml');
    this.origins = origins;
    this.settings = settings;
    this.log = '';
  }

  static async start(options) {
    const server = new Server(options);
    server.port = await freePort();
    fs.writeFileSync(server.config, [
      '[server]',
      'host = "127.0.0.1"',
      `port = ${server.port}`,
      'workers = 2',
      `public_dir = ${JSON.stringify(PUBLIC_DIR)}`,
      '[store]',
      'url = "sqlite://switchboard.db"',
      '[cors]',
      `allowed_origins = ${JSON.stringify(server.origins)}`,
      server.settings,
      '',
    ].join('\n'));
    await server.launch();
    return server;
  }

  /**
   * A server already running at `baseUrl` (e.g. three nodes behind nginx: .ci/cluster-browser),
   * whose store the CLI reaches through the config file `config`. Never started or stopped here.
   */
  static attach(baseUrl, config) {
    if (!config) throw new Error(`a server at ${baseUrl} needs SWITCHBOARD_CONFIG (its store, for the CLI)`);
    return Object.assign(Object.create(Server.prototype), { base: baseUrl.replace(/\/+$/, ''), config, log: '' });
  }

  get origin() { return this.base || `http://127.0.0.1:${this.port}`; }

  url(p) { return this.origin + p; }

  /** Starts (or restarts) the process on the same port and store. */
  async launch() {
    this.process = spawn(BIN, ['--config', this.config, 'serve'], {
      // Every tab comes from loopback: the abuse limits (tests/api/abuse.rs) stay out of the way.
      env: {
        ...process.env,
        RUST_LOG: process.env.RUST_LOG || 'warn',
        SWITCHBOARD_LIMITS__EXEMPT: '["127.0.0.0/8", "::1"]',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk) => { this.log = (this.log + chunk).slice(-20000); };
    this.process.stdout.on('data', keep);
    this.process.stderr.on('data', keep);
    this.exited = new Promise((resolve) => this.process.on('exit', resolve));
    for (let i = 0; i < 200; i += 1) {
      try {
        const { status } = await request('GET', this.url('/healthz'), { timeoutMs: 1000 });
        if (status === 200) return;
      } catch (_) { /* not listening yet */ }
      if (this.process.exitCode !== null) break;
      await sleep(50);
    }
    throw new Error(`server did not start:\n${this.log}`);
  }

  /** `kill -9`: no goodbye to held polls, nothing flushed but what the store committed. */
  async crash() {
    this.process.kill('SIGKILL');
    await this.exited;
  }

  async stop() {
    if (this.base) return; // attached: not ours to stop
    if (this.process && this.process.exitCode === null && this.process.signalCode === null) {
      this.process.kill('SIGTERM');
      await this.exited;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  cli(args, input) {
    return execFileSync(BIN, ['--config', this.config, ...args], { input, encoding: 'utf8' });
  }

  /** Creates an agent with the CLI. */
  addAgent(employeeId, name, { admin = false, maxChats = 3 } = {}) {
    const args = ['agent', 'add', '--employee-id', employeeId, '--name', name, '--max-chats', String(maxChats),
      '--password', PASSWORD];
    if (admin) args.push('--admin');
    this.cli(args);
  }

  api(method, p, body, token) { return request(method, this.url(p), { body, token }); }
}

/**
 * An agent speaking the API from Node: logs in, keeps a poll held like the console would (so it
 * is online) and records every event it receives.
 */
class ApiAgent {
  constructor(server, employeeId) {
    this.server = server;
    this.employeeId = employeeId;
    this.events = [];
    this.cursor = '';
    this.running = false;
  }

  static async online(server, employeeId) {
    const agent = new ApiAgent(server, employeeId);
    const { status, body } = await server.api('POST', '/api/agent/login', { employee_id: employeeId, password: PASSWORD });
    if (status !== 200) throw new Error(`login ${employeeId}: ${status} ${JSON.stringify(body)}`);
    agent.id = body.agent_id;
    agent.token = body.token;
    agent.running = true;
    agent.loop = agent.pollLoop();
    await agent.waitFor(() => agent.polled);
    return agent;
  }

  async pollLoop() {
    while (this.running) {
      try {
        const q = `/poll?timeout=5&tab=node-agent&cursor=${encodeURIComponent(this.cursor)}`;
        const { status, body } = await this.server.api('GET', q, undefined, this.token);
        this.polled = true;
        if (status === 200) {
          this.cursor = body.cursor;
          this.events.push(...body.events);
        } else {
          await sleep(200);
        }
      } catch (_) {
        await sleep(200); // the server is restarting
      }
    }
  }

  async stop() {
    this.running = false;
    await this.loop;
  }

  /** Chat ids this agent was given, in order. */
  chats() {
    return [...new Set(this.events.filter((e) => e.type === 'chat.assigned' || e.type === 'chat.invited').map((e) => e.chat_id))];
  }

  async waitFor(check, what = 'condition', timeoutMs = 20000) {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const value = check();
      if (value) return value;
      await sleep(50);
    }
    throw new Error(`${this.employeeId}: timed out waiting for ${what}; events: ${JSON.stringify(this.events).slice(-2000)}`);
  }

  async send(chatId, clientMsgId, body) {
    const reply = await this.server.api('POST', '/send', { chat_id: chatId, client_msg_id: clientMsgId, body }, this.token);
    if (reply.status !== 200) throw new Error(`send: ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body.seq;
  }

  /** Messages of `chatId` this agent received, as `from: body`. */
  messages(chatId) {
    return this.events.filter((e) => e.chat_id === chatId && e.type === 'message').map((e) => `${e.from}: ${e.body}`);
  }
}

/** Every stored event of a chat, read back through the transcript API as an admin would. */
async function transcript(server, token, chatId) {
  const events = [];
  let after = 0;
  for (;;) {
    const { status, body } = await server.api('GET', `/api/chats/${chatId}/messages?after_seq=${after}&limit=200`, undefined, token);
    if (status !== 200) throw new Error(`transcript: ${status} ${JSON.stringify(body)}`);
    events.push(...body.events);
    if (body.next_after_seq === null) return events;
    after = body.next_after_seq;
  }
}

/** A customer's site on its own origin: serves one page embedding the widget from `server`. */
async function customerSite(server, { port, extraHead = '', scriptAttrs = '', inHead = false } = {}) {
  port = port || await freePort();
  // `<script async>` at the end of the body, or (`inHead`) a plain one in <head>, run before the
  // body exists, as IE8 runs every script.
  const tag = `<script src="${server.url('/widget.js')}"${inHead ? '' : ' async'} ${scriptAttrs}></script>`;
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme test shop</title>${extraHead}${inHead ? tag : ''}</head>
<body><h1>Acme test shop</h1><p>Boots, tents and stoves.</p>
${inHead ? '' : tag}</body></html>`;
  const site = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(page);
  });
  // The port was picked before the server started: another process may have taken it since.
  // Fail the test then (an unhandled 'error' would leave it hanging).
  await new Promise((resolve, reject) => {
    site.once('error', (error) => reject(new Error(`the shop cannot listen on ${port}: ${error.message}`)));
    site.listen(port, '127.0.0.1', resolve);
  });
  return {
    port,
    /** The page on the allowlisted origin. */
    url: `http://127.0.0.1:${port}/shop`,
    /** The same page on an origin the server does not allow. */
    otherOriginUrl: `http://localhost:${port}/shop`,
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => { site.closeAllConnections(); site.close(resolve); }),
  };
}

/**
 * A customer's shop and a chat server that allows its origin: agent E1 "Alice" (online through
 * the API unless `agentOnline` is false), any `moreAgents` ([employee id, name] pairs), admin
 * ADM (its login in `admin`), and Chromium. `open()` gives a page in a new context (or in the
 * context passed) whose script errors and dialogs are collected in `errors`.
 * With `baseUrl` the server is the one already running there (see `Server.attach`; the CLI
 * reads its store from SWITCHBOARD_CONFIG), its allowlist must name the shop on `sitePort`,
 * and the agents are added to its store, which must not have them yet.
 */
async function shopWorld({
  maxChats = 3, agentOnline = true, moreAgents = [], settings = '', scriptAttrs = '', inHead = false, baseUrl = '', sitePort = 0,
} = {}) {
  if (baseUrl && (settings || !sitePort)) throw new Error('a running server takes no settings and needs the sitePort it allows');
  sitePort = sitePort || await freePort();
  const server = baseUrl
    ? Server.attach(baseUrl, process.env.SWITCHBOARD_CONFIG)
    : await Server.start({ origins: [`http://127.0.0.1:${sitePort}`], settings });
  server.addAgent('E1', 'Alice', { maxChats });
  for (const [employeeId, name] of moreAgents) server.addAgent(employeeId, name);
  server.addAgent('ADM', 'Ada', { admin: true });
  const agent = agentOnline ? await ApiAgent.online(server, 'E1') : null;
  let site;
  try {
    site = await customerSite(server, { port: sitePort, scriptAttrs, inHead });
  } catch (error) {
    if (agent) await agent.stop();
    await server.stop();
    throw error;
  }
  const browser = await launchBrowser();
  const admin = await tokenOf(server, 'ADM');
  const errors = [];
  const context = (options = {}) => browser.newContext(options);
  const open = async (contextOrOptions) => {
    const ctx = contextOrOptions && typeof contextOrOptions.newPage === 'function'
      ? contextOrOptions : await context(contextOrOptions);
    const page = await ctx.newPage();
    watchErrors(page, errors);
    return page;
  };
  const close = async () => {
    await browser.close();
    if (agent) await agent.stop();
    await site.close();
    await server.stop();
  };
  return { server, agent, site, browser, admin, errors, context, open, close };
}

/** The chat messages a widget or console shows as `from: text`, system lines left out. */
async function conversation(scope) {
  return (await shownMessages(scope)).filter((m) => m.from !== 'system').map((m) => `${m.from}: ${m.text}`);
}

async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** What a page reports of a Content-Security-Policy violation, prefixed so it can be told apart. */
const CSP_VIOLATION = 'securitypolicyviolation:';

/**
 * Fails the test on any script error of the page, and on anything its Content-Security-Policy
 * blocked (the console and admin pages have a strict one, see src/http/pages.rs): Chromium's own
 * "Refused to …" console errors, and every `securitypolicyviolation` event, which an init script
 * (run by the browser, outside the page's CSP) reports on the console.
 */
function watchErrors(page, errors) {
  page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
  page.on('dialog', (dialog) => { errors.push(`unexpected dialog: ${dialog.message()}`); dialog.dismiss(); });
  page.on('console', (message) => {
    const text = message.text();
    const csp = text.startsWith(CSP_VIOLATION) || /Content Security Policy|Refused to (load|execute|apply|connect|frame)/i.test(text);
    if (csp) errors.push(`${page.url()}: CSP: ${text}`);
  });
  page.addInitScript((prefix) => {
    // A simulated old browser (legacy.js) may have taken addEventListener away first.
    const listen = (window.__legacy && window.__legacy.add) || EventTarget.prototype.addEventListener;
    listen.call(document, 'securitypolicyviolation', (event) => {
      console.error(`${prefix} ${event.violatedDirective} blocked ${event.blockedURI || 'inline'} in ${event.sourceFile}:${event.lineNumber}`);
    });
  }, CSP_VIOLATION).catch((error) => errors.push(`could not watch CSP violations: ${error.message}`));
  return errors;
}

/**
 * The messages a widget or console shows, in order, as `{from, seq, text}`. Read through
 * locators, which run in Playwright's own isolated world: the legacy test deletes `Promise`
 * from the page's world, and `page.evaluate` there would fail for the test's reasons, not the
 * widget's.
 */
async function shownMessages(scope) {
  const items = scope.locator(`${hook('messages')} ${hook('message')}`);
  const shown = [];
  for (let i = 0, n = await items.count(); i < n; i += 1) {
    const item = items.nth(i);
    const body = item.locator(hook('message-body'));
    shown.push({
      from: await item.getAttribute('data-from'),
      seq: await item.getAttribute('data-seq'),
      text: (await body.count()) ? await body.first().textContent() : await item.textContent(),
    });
  }
  return shown;
}

/** Waits until the widget/console in `scope` shows a message whose text is exactly `text`. */
async function waitForMessage(scope, text, timeout = 20000) {
  await scope.locator(`${hook('messages')} ${hook('message-body')}`).getByText(text, { exact: true }).first()
    .waitFor({ timeout });
}

/** Logs into the agent console in `page`. */
async function loginConsole(page, server, employeeId) {
  await page.goto(server.url('/agent/'));
  await page.fill(hook('login-employee-id'), employeeId);
  await page.fill(hook('login-password'), PASSWORD);
  await page.click(hook('login-submit'));
  await page.waitForSelector(hook('me'));
}

/**
 * The chat inside the widget's iframe on `page` (a FrameLocator: `.locator(hook(...))`). The
 * launcher and the unread badge are on the page itself; everything else is in here.
 */
function widget(page) {
  return page.frameLocator(hook('frame'));
}

/** The widget's frame of `page` as a Frame (for evaluate in the chat's own origin). */
function widgetFrame(page) {
  const frame = page.frames().find((f) => /\/widget\/frame\.html/.test(f.url()));
  if (!frame) throw new Error(`no widget frame on ${page.url()}`);
  return frame;
}

/** Clicks the launcher on `page` and waits for the panel; returns the chat (see `widget`). */
async function openWidget(page) {
  await page.click(hook('launcher'));
  const chat = widget(page);
  await chat.locator(hook('panel')).waitFor({ state: 'visible' });
  return chat;
}

/**
 * Opens the widget on `url` and starts a chat with the agent `agentId` ("any" for any agent);
 * returns the chat (see `widget`).
 */
async function startChatFromWidget(page, url, agentId) {
  await page.goto(url);
  const chat = await openWidget(page);
  if (agentId === 'any') {
    await chat.locator(hook('agent-any')).click();
  } else {
    await chat.locator(`${hook('agent-option')}[data-agent-id="${agentId}"]`).click();
  }
  await chat.locator(`${hook('chat-status')}[data-state="open"]`).waitFor();
  return chat;
}

/** Types `text` into the widget or console input of `scope` and sends it. */
async function say(scope, text) {
  await scope.locator(hook('input')).fill(text);
  await scope.locator(hook('send')).click();
}

/** A logged-in API token of an agent or admin (for checks; holds no poll). */
async function tokenOf(server, employeeId) {
  const { status, body } = await server.api('POST', '/api/agent/login', { employee_id: employeeId, password: PASSWORD });
  if (status !== 200) throw new Error(`login ${employeeId}: ${status}`);
  return body;
}

module.exports = {
  conversation, openWidget, shopWorld, say, startChatFromWidget, tokenOf, widget, widgetFrame,
  ARTIFACTS, PASSWORD, REPO, ApiAgent, Server, customerSite, freePort, hook, launchBrowser, loginConsole,
  request, shownMessages, sleep, transcript, waitForMessage, watchErrors,
};
