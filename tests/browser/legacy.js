// Old browsers simulated in Chromium: init scripts that take away, before any page script runs and
// in every frame, what IE8, IE9 or a browser without the modern transports does not have, and
// give back what they have instead (attachEvent, window.event, a script's readyState, …).
// Playwright's locators run in their own isolated world, so the tests still read the page.
//
// What each removes is listed in the function; what it cannot take away (CSS flexbox, inline SVG
// drawing) the tests check on the page instead (no element laid out as flex, no <svg>).
'use strict';

/**
 * IE8 in standards mode: no addEventListener (attachEvent, handlers called with window.event and
 * `this` = window), DOM0 handlers called without an event argument, events without
 * preventDefault/stopPropagation/target/key, no `input` event, script elements without onload
 * (readyState + onreadystatechange instead), keyless storage events, postMessage of strings only,
 * no textContent, no ES5 library (Array extras, Object.keys, bind, trim, Date.now, …), none of
 * ES2015+, no getComputedStyle, getElementsByClassName, classList, dataset, document.hidden,
 * requestAnimationFrame, matchMedia, innerWidth/innerHeight, currentScript, console, and none of
 * WebSocket, fetch, Promise, EventSource, FormData, Blob, URL. JSON, localStorage,
 * sessionStorage, querySelector and same-origin XMLHttpRequest stay, as in IE8.
 * A removed API reads as undefined, as in IE8. `report()` lists what the page did that IE8 would
 * not allow (posting a non-string) and anything the simulation could not take away.
 */
function ie8() {
  const add = EventTarget.prototype.addEventListener;
  const remove = EventTarget.prototype.removeEventListener;
  const defineProperty = Object.defineProperty;
  const getDescriptor = Object.getOwnPropertyDescriptor;
  const record = { misuse: [], add };
  defineProperty(window, '__legacy', { value: record });
  const gone = goner(record);

  // window.event: the event being handled, as IE8 shows it.
  let current;
  defineProperty(window, 'event', { configurable: true, get: () => current });
  function ieEvent(e) {
    const ev = {
      type: e.type, srcElement: e.target, keyCode: e.keyCode, shiftKey: e.shiftKey, ctrlKey: e.ctrlKey,
      altKey: e.altKey, clientX: e.clientX, clientY: e.clientY, returnValue: undefined, cancelBubble: false,
    };
    if (e.type === 'message') {
      if (typeof e.data !== 'string') report(record, 'postMessage of a non-string');
      ev.data = e.data;
      ev.origin = e.origin;
      ev.source = e.source;
    }
    // IE8's storage event says neither which key changed nor to what.
    return ev;
  }
  function call(fn, self, e, passEvent) {
    const ev = ieEvent(e);
    const saved = current;
    current = ev;
    try {
      const result = passEvent ? fn.call(self, ev) : fn.call(self);
      if (result === false || ev.returnValue === false) e.preventDefault();
      if (ev.cancelBubble) e.stopPropagation();
      return result;
    } finally {
      current = saved;
    }
  }
  const attached = new WeakMap();
  function attachEvent(name, fn) {
    const type = String(name).replace(/^on/, '');
    if (type === 'input' || type === 'DOMContentLoaded') return true; // never fires in IE8
    const wrapper = (e) => call(fn, window, e, true);
    if (!attached.has(fn)) attached.set(fn, wrapper);
    add.call(this, type, wrapper, false);
    return true;
  }
  function detachEvent(name, fn) {
    const wrapper = attached.get(fn);
    if (wrapper) remove.call(this, String(name).replace(/^on/, ''), wrapper, false);
  }
  for (const proto of [Window.prototype, Document.prototype, Element.prototype]) {
    defineProperty(proto, 'attachEvent', { configurable: true, value: attachEvent });
    defineProperty(proto, 'detachEvent', { configurable: true, value: detachEvent });
  }
  gone(EventTarget.prototype, ['addEventListener', 'removeEventListener', 'dispatchEvent']);

  // DOM0 handlers: called with no argument, the event in window.event.
  const DOM0 = ['onclick', 'onkeydown', 'onkeyup', 'onkeypress', 'onsubmit', 'onfocus', 'onblur', 'onchange',
    'onresize', 'onmessage', 'onstorage', 'onload', 'onerror', 'onmousedown', 'onmouseup'];
  // (Window is a global interface: its handler properties are on the window itself.)
  for (const proto of [HTMLElement.prototype, Document.prototype, window]) {
    for (const name of DOM0) {
      const own = getDescriptor(proto, name);
      if (!own || !own.set) continue;
      defineProperty(proto, name, {
        configurable: true,
        get() { return own.get.call(this); },
        set(fn) { own.set.call(this, typeof fn === 'function' ? function (e) { return call(fn, this, e, false); } : fn); },
      });
    }
    // No input event in IE8: a handler can be set, it never runs.
    if (getDescriptor(proto, 'oninput')) defineProperty(proto, 'oninput', { configurable: true, get: () => null, set() {} });
  }
  // Script elements: no onload; readyState and onreadystatechange instead.
  defineProperty(HTMLScriptElement.prototype, 'onload', { configurable: true, get: () => null, set() {} });
  defineProperty(HTMLScriptElement.prototype, 'onreadystatechange', {
    configurable: true,
    get() { return this.__ready || null; },
    set(fn) {
      this.__ready = fn;
      if (this.__readyHooked) return;
      this.__readyHooked = true;
      add.call(this, 'load', (e) => {
        this.readyState = 'loaded';
        if (typeof this.__ready === 'function') call(this.__ready, this, e, false);
      }, false);
    },
  });

  // Text: innerText only (setting textContent makes an expando that shows nothing).
  gone(Node.prototype, ['textContent']);

  // The ES5 library and everything later.
  gone(Array.prototype, ['indexOf', 'lastIndexOf', 'forEach', 'map', 'filter', 'some', 'every', 'reduce',
    'reduceRight', 'includes', 'find', 'findIndex', 'fill', 'flat', 'flatMap', 'keys', 'values', 'entries']);
  gone(Array, ['isArray', 'from', 'of']);
  gone(Object, ['keys', 'create', 'getPrototypeOf', 'freeze', 'assign', 'entries', 'values', 'getOwnPropertyNames']);
  gone(Function.prototype, ['bind']);
  gone(String.prototype, ['trim', 'trimStart', 'trimEnd', 'startsWith', 'endsWith', 'includes', 'repeat', 'padStart', 'padEnd']);
  gone(Date, ['now']);
  gone(Date.prototype, ['toISOString']);
  gone(window, ['Map', 'Set', 'WeakMap', 'WeakSet', 'Symbol', 'Proxy', 'Reflect', 'Promise', 'fetch', 'WebSocket',
    'EventSource', 'FormData', 'Blob', 'URL', 'URLSearchParams', 'getComputedStyle', 'requestAnimationFrame',
    'cancelAnimationFrame', 'matchMedia', 'atob', 'btoa', 'MutationObserver', 'IntersectionObserver', 'CustomEvent',
    'console', 'innerWidth', 'innerHeight', 'XDomainRequest', 'Uint8Array', 'ArrayBuffer']);
  gone(Document.prototype, ['getElementsByClassName', 'hidden', 'visibilityState', 'currentScript']);
  gone(Element.prototype, ['classList', 'closest', 'matches', 'remove', 'append', 'prepend', 'getElementsByClassName']);
  gone(HTMLElement.prototype, ['dataset']);
  probe([typeof window.addEventListener, typeof window.attachEvent, typeof document.createElement('p').textContent]);
}

/**
 * IE9: addEventListener and ES5 are there; cross-origin XMLHttpRequest is refused (XDomainRequest
 * instead, recorded when used), and none of: document.hidden, classList, dataset, FormData, Blob,
 * URL, atob/btoa, requestAnimationFrame, matchMedia, MutationObserver, typed arrays, currentScript,
 * console, ES2015+ (Promise, Map, Symbol, …), WebSocket, fetch, EventSource.
 */
function ie9() {
  const record = { misuse: [], add: EventTarget.prototype.addEventListener };
  Object.defineProperty(window, '__legacy', { value: record });
  const gone = goner(record);
  const open = XMLHttpRequest.prototype.open;
  const Url = URL;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    if (new Url(url, location.href).origin !== location.origin) {
      report(record, `cross-origin XMLHttpRequest to ${url}`);
      throw new Error('Access is denied.');
    }
    return open.call(this, method, url, ...rest);
  };
  const xhr = XMLHttpRequest;
  window.XDomainRequest = function XDomainRequest() {
    report(record, 'XDomainRequest');
    return new xhr();
  };
  gone(window, ['Map', 'Set', 'WeakMap', 'WeakSet', 'Symbol', 'Proxy', 'Reflect', 'Promise', 'fetch', 'WebSocket',
    'EventSource', 'FormData', 'Blob', 'URLSearchParams', 'requestAnimationFrame', 'cancelAnimationFrame', 'matchMedia',
    'atob', 'btoa', 'MutationObserver', 'IntersectionObserver', 'CustomEvent', 'console', 'Uint8Array', 'ArrayBuffer']);
  gone(Document.prototype, ['hidden', 'visibilityState', 'currentScript']);
  gone(Element.prototype, ['classList', 'closest', 'matches', 'remove', 'append', 'prepend']);
  gone(HTMLElement.prototype, ['dataset']);
  gone(Array.prototype, ['includes', 'find', 'findIndex', 'fill', 'flat', 'flatMap']);
  gone(Object, ['assign', 'entries', 'values']);
  gone(String.prototype, ['startsWith', 'endsWith', 'includes', 'repeat', 'padStart', 'padEnd']);
  probe([typeof window.XDomainRequest, typeof document.hidden, typeof window.Promise]);
}

/**
 * Notes what IE would not have allowed in `record.misuse`, and on the page as the root element's
 * `data-legacy-misuse` (JSON): tests read it through a locator, because page.evaluate needs the
 * page's own Promise and typed arrays, which the simulations take away.
 */
function report(record, what) {
  record.misuse.push(what);
  mark('data-legacy-misuse', JSON.stringify(record.misuse));
}

/** Sets an attribute of the root element, once there is one (init scripts may run before it). */
function mark(name, value) {
  const set = () => document.documentElement.setAttribute(name, value);
  if (document.documentElement) set();
  else window.__legacy.add.call(document, 'DOMContentLoaded', set);
}

/** What the simulation sees once in force (`typeof` of what it took or gave), as the root
 * element's `data-legacy-probe`: tests read it through a locator. */
function probe(types) {
  mark('data-legacy-probe', types.join());
}

/**
 * `gone(owner, names)` takes the properties away as the old browser lacks them: deleted, or where
 * something further up still has them, read as undefined.
 */
function goner(record) {
  const defineProperty = Object.defineProperty;
  return (owner, names) => {
    for (const name of names) {
      try { delete owner[name]; } catch (_) { /* not configurable: shadowed below */ }
      if (name in owner && owner[name] !== undefined) {
        try {
          defineProperty(owner, name, { configurable: true, get: () => undefined, set() {} });
        } catch (error) {
          report(record, `could not take away ${name}: ${error.message}`);
        }
      }
    }
  };
}

/** A current browser without the modern transports: no WebSocket, fetch, Promise or EventSource. */
function noModernTransports() {
  const record = { misuse: [], add: EventTarget.prototype.addEventListener };
  Object.defineProperty(window, '__legacy', { value: record });
  goner(record)(window, ['WebSocket', 'fetch', 'Promise', 'EventSource']);
  probe([typeof window.WebSocket, typeof window.fetch, typeof window.Promise, typeof window.EventSource]);
}

const SIMULATIONS = { ie8, ie9, noModernTransports };

/**
 * The init script (for `context.addInitScript`) of one simulation: 'ie8', 'ie9' or
 * 'noModernTransports'. Self-contained source, as it runs in the page, in every frame.
 */
function simulation(name) {
  if (!SIMULATIONS[name]) throw new Error(`no simulation ${name}`);
  return { content: `${report}\n${mark}\n${probe}\n${goner}\n(${SIMULATIONS[name]})();` };
}

module.exports = { simulation };
