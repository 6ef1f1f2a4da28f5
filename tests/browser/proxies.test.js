// The proxies of proxies.js do what the other tests rely on them for: squid cuts a held poll at
// its read_timeout and lets no WebSocket or Upgrade through, Chromium launched by
// launchBrowserThrough() really sends loopback traffic through squid, and the smallest nginx
// speaks HTTP/1.0 to its upstream with the Host rewritten.
//
// Needs Debian's squid and nginx (.ci/run installs them); without them the file is skipped with
// a note, unless SWITCHBOARD_REQUIRE_BROWSER=1 (CI) makes that a failure.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const { Server } = require('./harness');
const { launchBrowserThrough, startNginx, startSquid } = require('./proxies');

const missing = [process.env.SQUID_PATH || '/usr/sbin/squid', process.env.NGINX_PATH || '/usr/sbin/nginx']
  .filter((p) => !fs.existsSync(p));
if (missing.length && process.env.SWITCHBOARD_REQUIRE_BROWSER === '1') {
  throw new Error(`missing ${missing.join(', ')} (apt-get install squid nginx)`);
}
const skip = missing.length ? `needs ${missing.join(' and ')} (apt-get install squid nginx)` : false;

/**
 * A proxy's access log once it holds a line matching `pattern`: a proxy writes the line after
 * its answer has gone out, so the client may be done a moment before the line is there. Fails
 * after 5 s with the log.
 */
async function logged(proxy, pattern, what) {
  const until = Date.now() + 5000;
  for (;;) {
    const log = proxy.accessLog();
    if (pattern.test(log)) return log;
    if (Date.now() > until) assert.fail(`${what} is not in the proxy's log:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `method url` sent to the forward proxy `proxy` as a browser would (absolute URL). */
function viaProxy(proxy, method, url, headers = {}) {
  const started = Date.now();
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: proxy.port, method, path: url, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body, secs: (Date.now() - started) / 1000 }));
      res.on('error', (error) => resolve({ status: 0, error: error.message, secs: (Date.now() - started) / 1000 }));
    });
    req.on('error', (error) => resolve({ status: 0, error: error.message, secs: (Date.now() - started) / 1000 }));
    req.end();
  });
}

/** The status line of the answer to `head` sent raw to 127.0.0.1:`port`. */
function rawStatusLine(port, head) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(head));
    let data = '';
    socket.setTimeout(10000, () => socket.destroy(new Error('no answer within 10 s')));
    socket.on('data', (chunk) => {
      data += chunk;
      if (data.includes('\r\n')) {
        socket.destroy();
        resolve(data.slice(0, data.indexOf('\r\n')));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(data.split('\r\n')[0]));
  });
}

/**
 * A server that accepts every WebSocket handshake (101) and answers a plain request
 * `200 plain`; `upgrades` counts the handshakes it saw.
 */
async function upgradingServer() {
  const seen = { upgrades: 0, plain: [] };
  const server = http.createServer((req, res) => {
    seen.plain.push(req.url);
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>plain</title>plain');
  });
  const upgraded = new Set();
  server.on('upgrade', (req, socket) => {
    seen.upgrades += 1;
    upgraded.add(socket);
    socket.on('error', () => {});
    const accept = crypto.createHash('sha1')
      .update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    seen,
    port: server.address().port,
    close: () => new Promise((resolve) => {
      for (const socket of upgraded) socket.destroy(); // no longer the HTTP server's to close
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}

test('squid cuts an idle held poll at its read_timeout: 504, not the poll\'s 200', { skip }, async () => {
  const server = await Server.start();
  const squid = await startSquid({ readTimeoutSecs: 20 });
  try {
    const { status, body: visitor } = await server.api('POST', '/api/visitors', {});
    assert.strictEqual(status, 201);
    const poll = await viaProxy(squid, 'GET', server.url('/poll?timeout=25'), { Authorization: `Bearer ${visitor.token}` });
    console.log(`GET /poll?timeout=25 through squid (read_timeout 20 s): ${poll.status} after ${poll.secs} s`);
    assert.ok(poll.secs >= 18 && poll.secs <= 24, `ended after ${poll.secs} s, not at squid's 20 s`);
    assert.notStrictEqual(poll.status, 200, `the poll's own answer came through: ${poll.body}`);
    assert.strictEqual(poll.status, 504);
    assert.match(poll.headers['x-squid-error'] || '', /ERR_READ_TIMEOUT/);
    await logged(squid, /TCP_MISS\/504 \d+ GET http:\/\/127\.0\.0\.1:\d+\/poll\?/, 'the cut poll');
  } finally {
    await squid.stop();
    await squid.stop(); // twice is harmless
    await server.stop();
  }
});

test('squid lets no Upgrade through: a raw WebSocket handshake gets no 101', { skip }, async () => {
  const upstream = await upgradingServer();
  const squid = await startSquid();
  try {
    const handshake = (target) => [
      `GET ${target} HTTP/1.1`, `Host: 127.0.0.1:${upstream.port}`, 'Connection: Upgrade', 'Upgrade: websocket',
      'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', '', '',
    ].join('\r\n');
    // The upstream does switch when asked directly, so a non-101 below is squid's doing.
    assert.match(await rawStatusLine(upstream.port, handshake('/ws')), /^HTTP\/1\.1 101 /);
    assert.strictEqual(upstream.seen.upgrades, 1);

    const line = await rawStatusLine(squid.port, handshake(`http://127.0.0.1:${upstream.port}/ws`));
    console.log(`WebSocket handshake through squid: ${line}`);
    assert.doesNotMatch(line, / 101 /);
    assert.strictEqual(upstream.seen.upgrades, 1, 'squid passed the Upgrade on');
    await logged(squid, /GET http:\/\/127\.0\.0\.1:\d+\/ws /, 'the handshake');
  } finally {
    await squid.stop();
    await upstream.close();
  }
});

test('Chromium launched through squid sends page loads and XHRs to it, and gets no WebSocket', { skip }, async () => {
  const upstream = await upgradingServer();
  const squid = await startSquid();
  const browser = await launchBrowserThrough(squid);
  try {
    const page = await browser.newPage();
    const origin = `http://127.0.0.1:${upstream.port}`;
    await page.goto(`${origin}/page`);
    const xhr = await page.evaluate(() => new Promise((resolve) => {
      const x = new XMLHttpRequest();
      x.open('GET', '/xhr?token=secret');
      x.onloadend = () => resolve(x.status);
      x.send();
    }));
    assert.strictEqual(xhr, 200);
    await logged(squid, new RegExp(`TCP_MISS/200 \\d+ GET ${origin}/page `), 'the page load');
    // squid logs URLs without their query (strip_query_terms): tokens stay out of the log.
    const log = await logged(squid, new RegExp(`TCP_MISS/200 \\d+ GET ${origin}/xhr\\? `), 'the XHR');
    assert.doesNotMatch(log, /secret/);

    // Chromium asks a proxy for a ws:// tunnel with CONNECT, which squid allows to port 443 only.
    const ws = await page.evaluate((url) => new Promise((resolve) => {
      const socket = new WebSocket(url);
      socket.onopen = () => { socket.close(); resolve('open'); };
      socket.onclose = (event) => resolve(`closed ${event.code}`);
    }), `ws://127.0.0.1:${upstream.port}/ws`);
    console.log(`new WebSocket(ws://…) in a page through squid: ${ws}`);
    assert.strictEqual(ws, 'closed 1006');
    assert.strictEqual(upstream.seen.upgrades, 0);
    await logged(squid, new RegExp(`TCP_DENIED/403 \\d+ CONNECT 127\\.0\\.0\\.1:${upstream.port} `), 'the refused CONNECT');
  } finally {
    await browser.close();
    await squid.stop();
    await upstream.close();
  }
});

test('the smallest nginx forwards GET /healthz over HTTP/1.0 with Host set to its upstream', { skip }, async () => {
  const seen = [];
  const upstream = http.createServer((req, res) => {
    seen.push({ url: req.url, version: req.httpVersion, headers: req.headers });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"status":"ok"}');
  });
  await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const upstreamPort = upstream.address().port;
  const nginx = await startNginx({ upstreamPort });
  try {
    const { status, body } = await new Promise((resolve, reject) => {
      http.get(nginx.url('/healthz'), (res) => {
        let text = '';
        res.on('data', (chunk) => { text += chunk; });
        res.on('end', () => resolve({ status: res.statusCode, body: text }));
      }).on('error', reject);
    });
    assert.strictEqual(status, 200);
    assert.strictEqual(body, '{"status":"ok"}');
    assert.strictEqual(seen.length, 1);
    const [got] = seen;
    assert.strictEqual(got.url, '/healthz');
    assert.strictEqual(got.headers.host, `127.0.0.1:${upstreamPort}`, 'the browser asked for nginx\'s host');
    assert.strictEqual(got.version, '1.0');
    assert.strictEqual(got.headers['x-forwarded-for'], undefined);
    await logged(nginx, /"GET \/healthz HTTP\/1\.1" 200 /, 'the request');
  } finally {
    await nginx.stop();
    await nginx.stop();
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  }
});
