// Shared plumbing of the admin pages: the session token, calls to the API, DOM and text helpers.
// Every server-provided string goes into the page as text (textContent / text nodes), never as HTML.
(function () {
  'use strict';

  const Admin = (window.SBAdmin = window.SBAdmin || {});

  // Keys of our own, so the agent console's login on the same origin stays independent.
  const TOKEN_KEY = 'switchboard:admin:token';
  const ME_KEY = 'switchboard:admin:me';
  // Used when localStorage is unavailable (some private modes throw on access).
  const memory = {};

  function storageGet(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return key in memory ? memory[key] : null; }
  }
  function storageSet(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { memory[key] = value; }
  }
  function storageRemove(key) {
    try { window.localStorage.removeItem(key); } catch (e) { /* memory only */ }
    delete memory[key];
  }

  const session = {
    TOKEN_KEY: TOKEN_KEY,
    token() { return storageGet(TOKEN_KEY); },
    me() {
      try { return JSON.parse(storageGet(ME_KEY) || 'null'); } catch (e) { return null; }
    },
    save(token, me) {
      storageSet(TOKEN_KEY, token);
      storageSet(ME_KEY, JSON.stringify(me));
    },
    clear() {
      storageRemove(TOKEN_KEY);
      storageRemove(ME_KEY);
    },
  };

  /** An error answer of the API, or a network failure (status 0). */
  class ApiError extends Error {
    constructor(status, code, message, field) {
      super(message);
      this.status = status;
      this.code = code;
      this.field = field || null;
    }
  }

  // The page lives at /admin/, so '../api/...' reaches the API on whatever origin serves it.
  function apiUrl(path) {
    return '../' + path.replace(/^\//, '');
  }

  /**
   * Calls the API and resolves to the parsed JSON body (null for 204).
   * options.token overrides the session token (null: none); options.keepSession stops a 401
   * from ending the session (login, logout).
   */
  async function api(method, path, body, options) {
    const opts = options || {};
    const token = opts.token !== undefined ? opts.token : session.token();
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    const init = { method: method, headers: headers, cache: 'no-store' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(apiUrl(path), init);
    } catch (e) {
      throw new ApiError(0, 'network', 'Cannot reach the server. Check the connection and try again.');
    }
    if (response.status === 204) return null;
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (response.ok) return data;

    const detail = (data && data.error) || {};
    let message = detail.message || 'The server answered ' + response.status + '.';
    const retryAfter = response.headers.get('Retry-After');
    if (retryAfter && /^\d+$/.test(retryAfter)) message += ' Try again in ' + retryAfter + ' s.';
    const error = new ApiError(response.status, detail.code || 'http_' + response.status, message, detail.field);
    if (response.status === 401 && !opts.keepSession && Admin.onUnauthorized) Admin.onUnauthorized(error);
    throw error;
  }

  /** Makes an element: attrs may hold sb (data-sb), class, text, on<event>, data-*, others as attributes. */
  function el(tag, attrs) {
    const node = document.createElement(tag);
    const entries = Object.entries(attrs || {});
    for (const [key, value] of entries) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'sb') node.setAttribute('data-sb', value);
      else if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = String(value);
      else if (key.slice(0, 2) === 'on') node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    appendAll(node, Array.prototype.slice.call(arguments, 2));
    return node;
  }

  function appendAll(node, children) {
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      if (Array.isArray(child)) appendAll(node, child);
      else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }

  function $(selector, root) {
    return (root || document).querySelector(selector);
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  // The `error` banner holds the last error; it is cleared when the next action starts.
  function showError(error) {
    const box = $('#error');
    box.textContent = typeof error === 'string' ? error : error.message;
    box.hidden = false;
    hideNotice();
  }
  function clearError() {
    const box = $('#error');
    box.textContent = '';
    box.hidden = true;
  }

  let noticeTimer = null;
  function showNotice(text) {
    const box = $('#notice');
    box.textContent = text;
    box.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(hideNotice, 6000);
  }
  function hideNotice() {
    const box = $('#notice');
    box.hidden = true;
    box.textContent = '';
  }

  /** Clears the field messages inside container. */
  function clearFieldErrors(container) {
    for (const span of container.querySelectorAll('[data-field-error]')) span.textContent = '';
    for (const input of container.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  }

  /**
   * Shows an API error: next to its field when container has a slot for it, and always in the
   * `error` banner. aliases maps error codes that name no field (employee_id_taken) to a field.
   */
  function reportError(error, container, aliases) {
    if (error && error.status === 401 && error.code === 'unauthorized') return; // back at login
    const field = (error && error.field) || (aliases && error && aliases[error.code]) || null;
    if (container && field) {
      const slot = container.querySelector('[data-field-error="' + field + '"]');
      if (slot) {
        slot.textContent = error.message;
        const input = container.querySelector('[name="' + field + '"]');
        if (input) input.setAttribute('aria-invalid', 'true');
      }
    }
    showError(error);
  }

  /** Runs action with button disabled, so a double click sends one request. */
  async function busy(button, action) {
    if (button) button.disabled = true;
    try {
      return await action();
    } finally {
      if (button) button.disabled = false;
    }
  }

  function formatDateTime(ms) {
    if (ms === null || ms === undefined) return '—';
    return new Date(ms).toLocaleString();
  }

  function formatClock(ms) {
    if (ms === null || ms === undefined) return '';
    return new Date(ms).toLocaleTimeString();
  }

  const REASONS = {
    closed_by_visitor: 'closed by the visitor',
    closed_by_agent: 'closed by the agent',
    inactivity: 'closed after inactivity',
    visitor_left: 'the visitor left the site',
    visitor_banned: 'the visitor was banned',
    visitor_erased: "the visitor's data was erased",
  };
  function reasonText(reason) {
    if (!reason) return 'closed';
    return REASONS[reason] || String(reason).replace(/_/g, ' ');
  }

  function stars(score) {
    const n = Math.max(0, Math.min(5, Math.round(Number(score) || 0)));
    return '★★★★★'.slice(0, n) + '☆☆☆☆☆'.slice(0, 5 - n);
  }

  Admin.session = session;
  Admin.ApiError = ApiError;
  Admin.api = api;
  Admin.el = el;
  Admin.$ = $;
  Admin.clear = clear;
  Admin.showError = showError;
  Admin.clearError = clearError;
  Admin.showNotice = showNotice;
  Admin.hideNotice = hideNotice;
  Admin.clearFieldErrors = clearFieldErrors;
  Admin.reportError = reportError;
  Admin.busy = busy;
  Admin.formatDateTime = formatDateTime;
  Admin.formatClock = formatClock;
  Admin.reasonText = reasonText;
  Admin.stars = stars;
  Admin.tabs = Admin.tabs || {};
})();
