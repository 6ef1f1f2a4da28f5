// Talking to the server: JSON requests with the agent's token, and the one long-poll loop.
// Paths are relative ("../api/…") so the console works under any host or path prefix.

import { backoffDelay, sleep } from './util.js';

const ROOT = new URL('../', document.baseURI);
// The longest hold asked for; shorter ones are learnt from the path (../widget/hold.js).
const POLL_HOLD_SECS = 25;
const HOLD_KEY = 'switchboard.console.hold';
// Poll retries stay at most 4 s ±50 % apart: the server counts an agent gone 30 s (lease 10 s
// + grace 20 s) after its last poll and then requeues its chats, so a short network drop must
// be bridged well inside that. Retry-After still wins when the server asks for longer.
const POLL_RETRY_CAP_MS = 4000;
// Answers further apart than a hold plus this margin mean the page slept (or froze): notices
// of that time (a transfer, 30 s lifetime) may be gone, so the console re-checks its chats.
const GAP_MS = (POLL_HOLD_SECS + 15) * 1000;

let token = null;
let unauthorized = () => {};

export function setToken(value) {
  token = value;
}

let tab = null;

/** This tab's poll id: each send names it, so the tab's own held poll is not woken by the message. */
export function setTab(value) {
  tab = value;
}

/** The tab id set with `setTab`, or null. */
export function currentTab() {
  return tab;
}

/** Called once per 401 on an authenticated request: the token is gone. */
export function onUnauthorized(handler) {
  unauthorized = handler;
}

export class ApiError extends Error {
  constructor(status, code, message, field, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || null;
    this.retryAfter = retryAfter || 0;
  }

  /** Worth trying again later with the same request: no answer, 429 or 5xx. */
  get retryable() {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** The hold learnt on an earlier page of this console (null: none yet). */
function readHold() {
  try { return localStorage.getItem(HOLD_KEY); } catch (_) { return null; }
}

function retryAfterOf(response) {
  const value = Number(response.headers.get('Retry-After'));
  return Number.isFinite(value) && value > 0 ? value : 0;
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch (_) { /* a proxy's HTML page, or nothing */ }
  const error = body && body.error;
  const result = new ApiError(
    response.status,
    (error && error.code) || `http_${response.status}`,
    (error && error.message) || `The server answered ${response.status}.`,
    error && error.field,
    retryAfterOf(response),
  );
  // Our own error envelope: the server was reached (a proxy's page is not one).
  result.ours = Boolean(error && error.code);
  return result;
}

export function url(path, query) {
  const target = new URL(path.replace(/^\//, ''), ROOT);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') target.searchParams.set(key, value);
  }
  return target.href;
}

/**
 * `api('POST', '/api/chats/invite', {visitor_id})` → the parsed body (null for 204).
 * Throws ApiError; status 0 means the server could not be reached. `anonymous` requests
 * (login, setup) send no token and do not count a 401 as a lost session.
 */
export async function api(method, path, body, { query, signal, anonymous = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token && !anonymous) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(url(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      signal,
    });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'Cannot reach the server.');
  }
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401 && !anonymous) unauthorized(error);
    throw error;
  }
  if (response.status === 204) return null;
  try {
    return await response.json();
  } catch (_) {
    return null;
  }
}

/**
 * The single `GET /poll` loop of this tab, covering every chat and notice of the agent.
 * `handlers`:
 * - `events(list, {fresh})`: a batch to show. `fresh` marks the replay that answers a start
 *   without cursor; it is gathered over as many answers as it takes (`poll.max_events` caps
 *   each) and handed over whole, so no part of it passes for news.
 * - `cursor(text)`: keep it. Called after `events`, so a stored cursor never covers events the
 *   page had no chance to show; a reload at worst replays some, and panes drop repeats by seq.
 * - `state('connected' | 'retrying' | 'superseded')`, `reset()` when the server refused the cursor.
 * - `resync()`: after a gap (errors, a server restart, a long sleep of the machine, or
 *   `resync: true` at start) the server may have moved chats away without an event that reaches
 *   this cursor; the console asks about its open chats again.
 * A 401 stops the loop (api() reports it through onUnauthorized).
 */
export class Poller {
  constructor({ tab, cursor, handlers, resync = false }) {
    this.tab = tab;
    // A proxy that cuts idle requests early teaches a shorter hold; kept across reloads.
    this.hold = window.SwitchboardHold(readHold(), (state) => {
      try { localStorage.setItem(HOLD_KEY, state); } catch (_) { /* private mode: learnt again */ }
    });
    // Failures in a row that did not reach the server: "Reconnecting…" from the second.
    this.misses = 0;
    this.cursor = cursor || '';
    this.handlers = handlers;
    this.running = false;
    this.controller = null;
    this.failures = 0;
    // The first poll (and the first after an error) answers at once, so the console knows
    // it is connected and shows what is there without waiting for a hold to end.
    this.quick = true;
    // Without a cursor the first answers replay the open chats from their start.
    this.replaying = !this.cursor;
    this.replay = [];
    this.resyncDue = resync;
    this.lastAnswerAt = 0;
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.loop();
  }

  stop() {
    this.running = false;
    if (this.controller) this.controller.abort();
  }

  /** Waits before the next try after trouble, short enough to stay within the presence lease. */
  async retryLater(retryAfterSecs) {
    this.quick = true;
    this.resyncDue = true;
    await sleep(backoffDelay(this.failures++, retryAfterSecs, POLL_RETRY_CAP_MS));
  }

  async loop() {
    while (this.running) {
      let answer;
      const asked = this.quick ? 0 : this.hold.secs();
      const sent = Date.now();
      try {
        answer = await this.once(asked);
      } catch (error) {
        if (!this.running) return;
        // No answer of ours (no response, or a proxy's error page) while the poll was held: a
        // proxy cut it. Ask again at once for a shorter hold; nothing is wrong to show.
        if (!error.ours && asked && this.hold.failed(Date.now() - sent) === 'cut') continue;
        if (error.status === 401) {
          this.running = false; // api() has already reported the lost session
          return;
        }
        if (error.status === 400 && error.code === 'invalid_cursor') {
          // Start over from the open chats; panes de-duplicate what they already show.
          this.cursor = '';
          this.replaying = true;
          this.replay = [];
          this.handlers.cursor('');
          this.handlers.reset();
          continue;
        }
        if (error.ours || ++this.misses >= 2) this.handlers.state('retrying', error);
        await this.retryLater(error.retryAfter);
        continue;
      }
      if (!this.running) return;
      if (answer.status === 'superseded') {
        this.running = false;
        this.handlers.state('superseded');
        return;
      }
      if (answer.status === 'shutdown') {
        this.handlers.state('retrying');
        await this.retryLater(0);
        continue;
      }
      this.failures = 0;
      this.misses = 0;
      const now = Date.now();
      if (this.lastAnswerAt && now - this.lastAnswerAt > GAP_MS) this.resyncDue = true;
      this.lastAnswerAt = now;
      this.handlers.state('connected');
      const events = answer.status === 'ok' && Array.isArray(answer.events) ? answer.events : [];
      if (asked) this.hold.answered(now - sent, !events.length);
      if (typeof answer.cursor === 'string') this.cursor = answer.cursor;
      if (this.replaying) {
        this.replay.push(...events);
        if (events.length) continue; // more may follow: ask again at once
        this.replaying = false;
        this.deliver(this.replay, true);
        this.replay = [];
      } else {
        this.deliver(events, false);
      }
      this.quick = false;
      if (this.resyncDue) {
        this.resyncDue = false;
        this.handlers.resync();
      }
    }
  }

  deliver(events, fresh) {
    if (events.length) {
      try {
        this.handlers.events(events, { fresh });
      } catch (err) {
        console.error('switchboard: handling poll events failed', err);
      }
    }
    this.handlers.cursor(this.cursor);
  }

  /** One poll held up to `secs`, aborted if the server has not answered 10 s after that. */
  async once(secs) {
    this.controller = new AbortController();
    const timer = setTimeout(() => this.controller.abort(), (secs + 10) * 1000);
    try {
      return await api('GET', '/poll', undefined, {
        query: { cursor: this.cursor, tab: this.tab, timeout: secs },
        signal: this.controller.signal,
      });
    } catch (err) {
      if (err && err.name === 'AbortError') throw new ApiError(0, 'timeout', 'The poll took too long.');
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}
