// A chat pane's typing notices, both ways: mine go out while I type (refreshed, and "stopped"
// once idle), the visitor's show as "… is typing" for a while after each notice.

import { api } from './api.js';
import { h } from './util.js';

const TYPING_REFRESH_MS = 2000;
const TYPING_IDLE_MS = 3000;
const VISITOR_TYPING_SHOWN_MS = 6000;

export class Typing {
  /** `pane`: the ChatPane whose input this watches and whose log this line follows. */
  constructor(pane) {
    this.pane = pane;
    this.on = false;
    this.sentAt = 0;
    this.idle = null;
    this.visitorTimer = null;
    this.el = h('div', {
      class: 'typing', sb: 'typing', hidden: true, 'aria-live': 'polite', text: 'Visitor is typing…',
    });
  }

  /** The visitor's name, once the pane knows it. */
  setName(name) {
    this.el.textContent = `${name} is typing…`;
  }

  // --- the visitor's side ---

  show(on) {
    clearTimeout(this.visitorTimer);
    this.pane.keepBottom(() => { this.el.hidden = !on || this.pane.readOnly; });
    if (on) this.visitorTimer = setTimeout(() => this.show(false), VISITOR_TYPING_SHOWN_MS);
  }

  // --- my side ---

  /** The input changed. */
  typed() {
    if (this.pane.readOnly) return;
    if (!this.pane.input.value.trim()) {
      this.stop();
      return;
    }
    const now = Date.now();
    if (!this.on || now - this.sentAt >= TYPING_REFRESH_MS) {
      this.on = true;
      this.sentAt = now;
      this.post(true);
    }
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.stop(), TYPING_IDLE_MS);
  }

  stop() {
    clearTimeout(this.idle);
    if (!this.on) return;
    this.on = false;
    if (!this.pane.readOnly) this.post(false);
  }

  post(typing) {
    api('POST', `/api/chats/${encodeURIComponent(this.pane.id)}/typing`, { typing }).catch((error) => {
      if (error.status === 403) this.pane.recheck(); // otherwise a lost typing notice does not matter
    });
  }

  dispose() {
    this.stop();
    clearTimeout(this.visitorTimer);
  }
}
