// Small helpers shared by the console's modules: DOM building, storage, time formats, ids.

/**
 * Builds an element. `attrs`: `class`, `sb` (the data-sb test hook), `data` (dataset),
 * `text` (textContent), `on<event>` listeners, anything else as an attribute (true = present,
 * false/null = absent). Children: nodes or strings (always text, never HTML).
 */
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'sb') node.dataset.sb = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'data') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function sb(hook, root = document) {
  return root.querySelector(`[data-sb="${hook}"]`);
}

/** JSON over a Web Storage area, without throwing (private mode, full quota, disabled storage). */
function jsonStorage(area) {
  return {
    get(key, fallback = null) {
      try {
        const text = area().getItem(key);
        return text === null ? fallback : JSON.parse(text);
      } catch (_) {
        return fallback;
      }
    },
    set(key, value) {
      try {
        area().setItem(key, JSON.stringify(value));
      } catch (_) { /* storage full or disabled: the console still works for this page */ }
    },
    remove(key) {
      try {
        area().removeItem(key);
      } catch (_) { /* see above */ }
    },
  };
}

/** Shared by every tab of this browser (localStorage): the session, status, settings. */
export const store = jsonStorage(() => localStorage);

/**
 * This tab's own (sessionStorage): it survives a reload of the tab but no other tab sees it, so
 * what one tab writes can never stand for what another tab has shown.
 */
export const tabStore = jsonStorage(() => sessionStorage);

/** An id of the characters the server accepts for tab and client message ids. */
export function randomId(prefix) {
  const bytes = new Uint8Array(9);
  crypto.getRandomValues(bytes);
  const rand = Array.from(bytes, (b) => b.toString(36).padStart(2, '0')).join('');
  return `${prefix}-${Date.now().toString(36)}-${rand}`;
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Exponential backoff from 0.5 s up to `capMs` (30 s by default) with ±50 % jitter; never
 * sooner than Retry-After.
 */
export function backoffDelay(attempt, retryAfterSecs, capMs = 30000) {
  const base = Math.min(capMs, 500 * 2 ** Math.min(attempt, 10));
  const delay = base * (0.5 + Math.random());
  return Math.max(delay, (retryAfterSecs || 0) * 1000);
}

/** "0:42", "12:05", "1:02:03". */
export function fmtClock(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

export function fmtTime(epochMs) {
  return new Date(epochMs).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function fmtDateTime(epochMs) {
  const date = new Date(epochMs);
  const today = new Date();
  const sameDay = date.toDateString() === today.toDateString();
  return sameDay
    ? fmtTime(epochMs)
    : date.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** The URL if it is http(s), else null: only such URLs become links. */
export function safeHttpUrl(text) {
  if (!text) return null;
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch (_) {
    return null;
  }
}

export const CLOSE_REASONS = {
  closed_by_visitor: 'The visitor ended the chat',
  closed_by_agent: 'Closed by the agent',
  inactivity: 'Closed after inactivity',
  visitor_left: 'The visitor left the site',
  visitor_banned: 'The visitor was banned',
  visitor_erased: "The visitor's data was erased",
};
