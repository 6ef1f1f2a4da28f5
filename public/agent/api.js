// Talking to the server: JSON requests with the agent's token, and the one long-poll loop.
// Paths are relative ("../api/…") so the console works under any host or path prefix.

import { backoffDelay, sleep } from './util.js';

const ROOT = new URL('../', document.baseURI);
const POLL_HOLD_SECS = 25;

let token = null;
let unauthorized = () => {};

export function setToken(value) {
  token = value;
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
  return new ApiError(
    response.status,
    (error && error.code) || `http_${response.status}`,
    (error && error.message) || `The server answered ${response.status}.`,
    error && error.field,
    retryAfterOf(response),
  );
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
 * `handlers`: `events(list, {fresh})` (fresh: the replay that answers a start without cursor),
 * `cursor(text)` to keep it, `state('connected' | 'retrying' | 'superseded')`, `reset()` when
 * the server refused the cursor. A 401 stops the loop (api() reports it through onUnauthorized).
 */
export class Poller {
  constructor({ tab, cursor, handlers }) {
    this.tab = tab;
    this.cursor = cursor || '';
    this.handlers = handlers;
    this.running = false;
    this.controller = null;
    this.failures = 0;
    // The first poll (and the first after an error) answers at once, so the console knows
    // it is connected and shows what is there without waiting for a hold to end.
    this.quick = true;
    // Without a cursor the first answer replays the open chats from their start.
    this.replaying = !this.cursor;
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

  async loop() {
    while (this.running) {
      const fresh = this.replaying;
      let answer;
      try {
        answer = await this.once();
      } catch (error) {
        if (!this.running) return;
        if (error.status === 401) {
          this.running = false; // api() has already reported the lost session
          return;
        }
        if (error.status === 400 && error.code === 'invalid_cursor') {
          // Start over from the open chats; panes de-duplicate what they already show.
          this.cursor = '';
          this.replaying = true;
          this.handlers.cursor('');
          this.handlers.reset();
          continue;
        }
        this.handlers.state('retrying', error);
        this.quick = true;
        await sleep(backoffDelay(this.failures++, error.retryAfter));
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
        await sleep(backoffDelay(this.failures++));
        continue;
      }
      this.failures = 0;
      this.quick = false;
      this.replaying = false;
      this.handlers.state('connected');
      if (typeof answer.cursor === 'string') {
        this.cursor = answer.cursor;
        this.handlers.cursor(answer.cursor);
      }
      if (answer.status === 'ok' && Array.isArray(answer.events) && answer.events.length) {
        try {
          this.handlers.events(answer.events, { fresh });
        } catch (err) {
          console.error('switchboard: handling poll events failed', err);
        }
      }
    }
  }

  /** One poll, aborted if the server has not answered by the hold plus 10 s. */
  async once() {
    this.controller = new AbortController();
    const timer = setTimeout(() => this.controller.abort(), (POLL_HOLD_SECS + 10) * 1000);
    try {
      return await api('GET', '/poll', undefined, {
        query: { cursor: this.cursor, tab: this.tab, timeout: this.quick ? 0 : POLL_HOLD_SECS },
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
