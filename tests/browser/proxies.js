// Proxies between the browser and the server, as visitors and operators have them: a squid
// forward proxy like an office's (cuts a silent upstream read after `read_timeout`, refuses
// WebSocket), and the smallest nginx reverse proxy a user would write in front of one node
// (HTTP/1.0 to the upstream, Host rewritten, nginx's default timeouts and buffering). Each runs
// as a child process on its own temporary folder and free local port; see docs/deploy.md,
// "The smallest proxies that work".
'use strict';

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { freePort, sleep } = require('./harness');

const SQUID = process.env.SQUID_PATH || '/usr/sbin/squid';
const NGINX = process.env.NGINX_PATH || '/usr/sbin/nginx';
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function accepts(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(false));
  });
}

const readOr = (file, fallback = '') => {
  try { return fs.readFileSync(file, 'utf8'); } catch (_) { return fallback; }
};

/** The uid and gid of a system user, or null when there is none. */
function userIds(name) {
  const line = readOr('/etc/passwd').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) return null;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * Spawns `command args` (which must stay in the foreground), waits until `ready()` (by default:
 * `port` accepts connections), and returns `{process, exited, stop}`. Fails with `logs()` if the
 * process exits or is not ready within 10 s. `stop()` sends `signal` (SIGKILL after 5 s if it
 * is still running then), removes `dir`, and may be called again.
 */
async function runChild(name, command, args, {
  port, dir, logs, ready = () => accepts(port), signal = 'SIGTERM',
}) {
  let output = '';
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk) => { output = (output + chunk).slice(-20000); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let spawnError = null;
  child.on('error', (error) => { spawnError = error; });
  // 'exit', not 'close': a process it started (nginx's worker) may hold the pipes a little longer.
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const alive = () => child.exitCode === null && child.signalCode === null && !spawnError;
  // Should the tests end without stop() (a crash), the proxy does not outlive them.
  const orphaned = () => { if (alive()) child.kill(signal); };
  process.once('exit', orphaned);
  let stopping = null;
  const stop = () => {
    stopping = stopping || (async () => {
      process.removeListener('exit', orphaned);
      if (alive()) {
        child.kill(signal);
        const late = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(late);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  for (let i = 0; i < 100; i += 1) {
    if (!alive()) break;
    if (await ready()) return { process: child, exited, stop, output: () => output };
    await sleep(100);
  }
  const why = spawnError ? `${spawnError.message}\n` : '';
  const log = `${why}${output}\n${logs()}`;
  await stop();
  throw new Error(`${name} did not start on 127.0.0.1:${port}:\n${log}`);
}

/**
 * A private squid forward proxy on 127.0.0.1:`port`, configured like an office's: no cache, a
 * `read_timeout` of `readTimeoutSecs` (squid's default is 15 minutes; office proxies are often
 * set far lower), clients and targets on loopback only, CONNECT only to port 443, and no
 * protocol Upgrade (WebSocket) passed on. `accessLog()` is squid's access log so far (squid's
 * native format: time, elapsed ms, client, result/status, bytes, method, URL without its query,
 * …, hierarchy/peer, type), `cacheLog()` its diagnostics.
 */
async function startSquid({ readTimeoutSecs = 20 } = {}) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-squid-'));
  const file = (name) => path.join(dir, name);
  fs.writeFileSync(file('squid.conf'), `# A private squid for the browser tests (tests/browser/proxies.js).
http_port 127.0.0.1:${port}
visible_hostname switchboard-test-squid
pid_filename ${file('squid.pid')}
cache_log ${file('cache.log')}
access_log stdio:${file('access.log')} squid
cache_store_log none
logfile_rotate 0
coredump_dir ${dir}
netdb_filename none
# No ICMP helper process: squid stays one process, which stop() can simply kill.
pinger_enable off
# No caching at all: every request goes to the server.
cache deny all
cache_mem 0 MB
# An office proxy cuts an upstream read that stays silent this long (squid's own default is
# 15 minutes). A held poll is silent until its answer: squid answers the browser
# 504 (ERR_READ_TIMEOUT) instead.
read_timeout ${readTimeoutSecs} seconds
# Stop at once when told to (squid -k shutdown; stop() kills it anyway).
shutdown_lifetime 0 seconds

# Who may use this proxy, and for what. squid's documentation recommends
# "http_access deny to_localhost" (clients must not reach services on the proxy's own host),
# and its default config lets "localhost" clients go anywhere. Here the clients (Chromium, curl)
# and the servers (Switchboard, a test site, nginx) are all on loopback: loopback to loopback is
# exactly what is allowed, and nothing else.
acl test_clients src 127.0.0.0/8 ::1
acl test_servers dst 127.0.0.0/8 ::1
acl SSL_ports port 443
acl Safe_ports port 80 443 1025-65535
http_access deny !Safe_ports
# As in squid's default config: CONNECT (a tunnel) only to 443. Chromium sends a ws:// WebSocket
# through an HTTP proxy as CONNECT host:port, which this refuses (403).
http_access deny CONNECT !SSL_ports
http_access allow test_clients test_servers
http_access deny all

# No HTTP Upgrade. squid 5 passes on only the Upgrade offers some rule allows, so without any
# http_upgrade_request_protocols rule it already drops them all; stated here on purpose. The
# request then goes on as a plain GET without its Upgrade header, and the server never answers
# 101 Switching Protocols through this proxy. Protocol names are case-sensitive: browsers offer
# "websocket" (RFC 6455), which a "WebSocket" rule would not match.
http_upgrade_request_protocols websocket deny all
http_upgrade_request_protocols OTHER deny all
`);
  // Started as root, squid drops to cache_effective_user (Debian: proxy), which must be able to
  // write its logs and pid file here.
  if (process.getuid && process.getuid() === 0) {
    const proxy = userIds('proxy');
    if (proxy) {
      fs.chownSync(dir, proxy.uid, proxy.gid);
    } else {
      fs.chmodSync(dir, 0o777);
    }
  }
  try {
    execFileSync(SQUID, ['-k', 'parse', '-f', file('squid.conf')], { stdio: 'pipe' });
  } catch (error) {
    const log = `${error.stdout || ''}${error.stderr || ''}` || error.message;
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`squid (${SQUID}) rejects its config:\n${log}`);
  }
  // -N: no daemon, no kid processes (the child is squid itself); -d 1: errors also on stderr.
  const child = await runChild('squid', SQUID, ['-N', '-d', '1', '-f', file('squid.conf')], {
    port,
    dir,
    logs: () => readOr(file('cache.log')),
    // One process (-N, no pinger) with nothing to save: SIGTERM would make it linger ~2 s.
    signal: 'SIGKILL',
    // Its own word that it listens, rather than a probe connection, which squid would log as
    // an error line in the access log.
    ready: async () => readOr(file('cache.log')).includes(`Accepting HTTP Socket connections at `),
  });
  return {
    port,
    /** What Chromium or curl is given as the proxy. */
    url: `http://127.0.0.1:${port}`,
    readTimeoutSecs,
    accessLog: () => readOr(file('access.log')),
    cacheLog: () => readOr(file('cache.log')),
    stop: child.stop,
  };
}

/**
 * The smallest reverse proxy a user would write in front of a node on 127.0.0.1:`upstreamPort`:
 * `location / { proxy_pass http://127.0.0.1:<upstreamPort>; }` and nothing else in the server
 * block. So nginx's defaults apply: HTTP/1.0 to the upstream without keep-alive, Host set to
 * `127.0.0.1:<upstreamPort>` (the proxy_pass address), no X-Forwarded-* headers,
 * proxy_read_timeout 60 s, buffering on. Only the process's own paths (pid, logs, temp
 * folders) are private. `accessLog()` is nginx's access log in its default `combined` format.
 */
async function startNginx({ upstreamPort }) {
  if (!upstreamPort) throw new Error('startNginx needs the upstreamPort');
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-nginx-'));
  // nginx's workers drop root (to nobody) and must reach their temp folders in here.
  fs.chmodSync(dir, 0o755);
  const file = (name) => path.join(dir, name);
  fs.mkdirSync(file('tmp'));
  fs.writeFileSync(file('nginx.conf'), `daemon off;
worker_processes 1;
pid ${file('nginx.pid')};
error_log ${file('error.log')} warn;
events { worker_connections 256; }
http {
  client_body_temp_path ${file('tmp/body')};
  proxy_temp_path ${file('tmp/proxy')};
  fastcgi_temp_path ${file('tmp/fastcgi')};
  uwsgi_temp_path ${file('tmp/uwsgi')};
  scgi_temp_path ${file('tmp/scgi')};
  access_log ${file('access.log')};

  # What a user writes: nothing else.
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://127.0.0.1:${upstreamPort};
    }
  }
}
`);
  const args = ['-e', file('error.log'), '-p', dir, '-c', file('nginx.conf')];
  try {
    execFileSync(NGINX, ['-t', '-q', ...args], { stdio: 'pipe' });
  } catch (error) {
    const log = `${error.stdout || ''}${error.stderr || ''}${readOr(file('error.log'))}` || error.message;
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`nginx (${NGINX}) rejects its config:\n${log}`);
  }
  // SIGTERM: the master takes its worker down with it (SIGKILL would leave the worker running).
  const child = await runChild('nginx', NGINX, args, { port, dir, logs: () => readOr(file('error.log')) });
  const origin = `http://127.0.0.1:${port}`;
  return {
    port,
    origin,
    url: (p) => origin + p,
    accessLog: () => readOr(file('access.log')),
    errorLog: () => readOr(file('error.log')),
    stop: child.stop,
  };
}

/**
 * Chromium as launchBrowser() in harness.js starts it, with every request going through
 * `squid`: `--proxy-server` alone would not do, as Chromium never proxies loopback addresses
 * (127.0.0.1, localhost, [::1]) unless the bypass list subtracts them (`<-loopback>`).
 */
async function launchBrowserThrough(squid) {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
      `--proxy-server=http://127.0.0.1:${squid.port}`, '--proxy-bypass-list=<-loopback>'],
  });
}

module.exports = { launchBrowserThrough, startNginx, startSquid };
